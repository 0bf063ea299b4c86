/* SPDX-License-Identifier: MIT */
/* shm.h (internal): shared memory for IPC objects: a memfd, so that each handle maps the region
 * on its own and unmapping one handle never pulls the memory from under another handle of the
 * same process. */
#ifndef CF__SHM_H
#define CF__SHM_H

#include <stddef.h>

/* A sealed-size memfd of len bytes (zeroed). fd or -1 with errno. */
int   cf__shm_create(size_t len, const char *name);
/* A MAP_SHARED mapping of the memfd, or NULL with errno. */
void *cf__shm_map(int fd, size_t len);
void  cf__shm_unmap(void *p, size_t len);

#endif
