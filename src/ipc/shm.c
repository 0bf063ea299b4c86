/* SPDX-License-Identifier: MIT */
/* shm.c: memfd-backed shared memory. The memfd is closed once the mappings exist; the memory
 * lives as long as one mapping does, in any process, and goes with the last one: nothing is left
 * in /dev/shm, nothing to unlink after a crash. */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shm.h"

int cf__shm_create(size_t len, const char *name)
{
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (ftruncate(fd, (off_t)len) < 0) {
        int e = errno;
        close(fd);
        errno = e == EFBIG || e == EINVAL ? ENOMEM : e;
        return -1;
    }
    return fd;
}

void *cf__shm_map(int fd, size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

void cf__shm_unmap(void *p, size_t len)
{
    if (p)
        munmap(p, len);
}
