/* SPDX-License-Identifier: MIT */
/* fuzz_mpqueue.c: libFuzzer target for cf_mpqueue's records. The input is what a hostile process
 * leaves in the queue's shared memory: 8 bytes of head, 8 of tail, then the ring's data. get and
 * put must deliver, refuse (EAGAIN, EPIPE) or fail with EPROTO, never touch memory outside their
 * buffers. Seeds: tools/fuzz_seeds. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/ipc/rings.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t len);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
    cf_mpqueue *q = cf_mpqueue_new(4096);
    if (!q)
        return 0;
    uint64_t size, head = 0, tail = 0;
    cf__bring *r = cf__mpqueue_ring(q, &size);
    if (len >= 16) {
        memcpy(&head, data, 8);
        memcpy(&tail, data + 8, 8);
        data += 16;
        len -= 16;
    }
    memcpy(r->data, data, len < size ? len : size);
    atomic_store(&r->head, head);
    atomic_store(&r->tail, tail);
    for (int i = 0; i < 64; i++) {
        void *m;
        size_t n;
        int e = cf_mpqueue_get(q, &m, &n, 0);
        if (e == 0)
            free(m);
        else if (e != ENOMEM)
            break;
    }
    cf_mpqueue_put(q, "abc", 3, 0);
    cf_mpqueue_free(q);
    return 0;
}
