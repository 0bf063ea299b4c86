/* SPDX-License-Identifier: MIT */
/* bytering.h (internal): a byte ring in shared memory carrying framed records, for one producer
 * and one consumer at a time (cf_pipe: one direction; cf_mpqueue: under its lock).
 * Positions are free-running 64-bit byte counts: used = tail - head, never wraps in practice.
 * A record is a 16-byte header and its payload, padded to 8 bytes; both may wrap around the end
 * of the data area. The producer publishes `tail` (release) after writing a whole record, the
 * consumer publishes `head` after reading one, so neither ever sees half a record.
 *
 * Trust: the ring lives in memory another process can write, so nothing read from it is used
 * unchecked (the kernel's copy_from_user discipline). Each side keeps its own copy of the ring
 * size and of the position it owns (the producer its tail, the consumer its head), passes the
 * size to every copy, and reads only the other side's position from the ring, which it checks
 * with cf__bring_span before use. `size` and `broken` in the ring are informative only. */
#ifndef CF__BYTERING_H
#define CF__BYTERING_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CF__REC_HDR 16u

enum { CF__REC_FIRST = 1, CF__REC_LAST = 2, CF__REC_ABORT = 4 };

typedef struct cf__rec {
    uint32_t flags;
    uint32_t chunk;       /* payload bytes in this record */
    uint64_t total;       /* the whole message's length (meaningful on FIRST) */
} cf__rec;

typedef struct cf__bring {
    alignas(64) _Atomic uint64_t tail;
    alignas(64) _Atomic uint64_t head;
    alignas(64) _Atomic uint32_t writer_waiting;   /* the producer sleeps for space */
    _Atomic uint32_t reader_waiting;                /* the consumer sleeps for data */
    _Atomic uint32_t fd_mode;                       /* cf_pipe: someone polls the "data" fd */
    _Atomic uint32_t broken;                        /* an end found the ring corrupt */
    uint64_t size;                                  /* data bytes, a multiple of 8 (as created) */
    alignas(64) unsigned char data[];
} cf__bring;

/* n rounded up to 8; n must be below 2^63 (callers bound lengths before padding them). */
static inline uint64_t cf__pad8(uint64_t n) { return (n + 7) & ~(uint64_t)7; }
static inline uint64_t cf__rec_size(uint64_t chunk) { return CF__REC_HDR + cf__pad8(chunk); }

/* Bytes of shared memory for a ring with `size` data bytes. */
static inline size_t cf__bring_bytes(uint64_t size) { return sizeof(cf__bring) + size; }

void cf__bring_init(cf__bring *r, uint64_t size);
/* Copies n bytes (n <= size) to/from ring position pos (wrapping); size is the caller's own
 * copy of the ring size, never the one in shared memory. */
void cf__bring_put(cf__bring *r, uint64_t size, uint64_t pos, const void *src, size_t n);
void cf__bring_get(const cf__bring *r, uint64_t size, uint64_t pos, void *dst, size_t n);
/* The bytes between head and tail, checked: true with *used set if 0 <= tail - head <= size and
 * the distance is a multiple of 8 (records are padded), false if the positions are impossible. */
static inline bool cf__bring_span(uint64_t head, uint64_t tail, uint64_t size, uint64_t *used)
{
    uint64_t u = tail - head;
    if (u > size || (u & 7))
        return false;
    *used = u;
    return true;
}

#endif
