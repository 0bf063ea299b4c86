/* SPDX-License-Identifier: MIT */
/* stream.h (internal): what the sockets need of a stream beyond the public calls. */
#ifndef CF__STREAM_H
#define CF__STREAM_H

#include <stdbool.h>

#include "cfutures/io.h"

/* A stream over fd, already non-blocking and close-on-exec (sock: a socket). NULL + ENOMEM. */
cf_stream *cf__stream_adopt(int fd, bool sock);

#endif
