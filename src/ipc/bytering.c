/* SPDX-License-Identifier: MIT */
/* bytering.c: wrapping copies in and out of a shared byte ring. The offset comes from the
 * caller's private size, so whatever the other process wrote, every copy stays inside data[]. */
#include <string.h>

#include "bytering.h"

void cf__bring_init(cf__bring *r, uint64_t size)
{
    atomic_init(&r->tail, 0);
    atomic_init(&r->head, 0);
    atomic_init(&r->writer_waiting, 0);
    atomic_init(&r->reader_waiting, 0);
    atomic_init(&r->fd_mode, 0);
    atomic_init(&r->broken, 0);
    r->size = size;
}

void cf__bring_put(cf__bring *r, uint64_t size, uint64_t pos, const void *src, size_t n)
{
    uint64_t off = pos % size, first = size - off < n ? size - off : n;
    memcpy(r->data + off, src, first);
    if (n > first)
        memcpy(r->data, (const unsigned char *)src + first, n - first);
}

void cf__bring_get(const cf__bring *r, uint64_t size, uint64_t pos, void *dst, size_t n)
{
    uint64_t off = pos % size, first = size - off < n ? size - off : n;
    memcpy(dst, r->data + off, first);
    if (n > first)
        memcpy((unsigned char *)dst + first, r->data, n - first);
}
