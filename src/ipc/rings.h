/* SPDX-License-Identifier: MIT */
/* rings.h (internal): the shared rings behind a cf_pipe end and a cf_mpqueue, for the white-box
 * tests and fuzz targets that write into them what a hostile peer would. Nothing in the library
 * itself uses these. */
#ifndef CF__RINGS_H
#define CF__RINGS_H

#include <stdint.h>

#include "bytering.h"
#include "cfutures/pipe.h"

/* The ring this end receives on, the one it sends on, and their data size. */
void       cf__pipe_rings(cf_pipe *p, cf__bring **in, cf__bring **out, uint64_t *size);
/* The queue's ring and its data size. */
cf__bring *cf__mpqueue_ring(cf_mpqueue *q, uint64_t *size);

#endif
