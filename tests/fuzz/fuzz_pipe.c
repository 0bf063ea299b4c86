/* SPDX-License-Identifier: MIT */
/* fuzz_pipe.c: libFuzzer target for cf_pipe's record parser. The input is what a hostile peer
 * leaves in the shared memory: 8 bytes of incoming tail, 8 bytes of the head of the ring we send
 * on, then the incoming ring's data. The receiver must deliver messages or fail with EPROTO (or
 * ENOMEM), never read or write outside its buffers, never loop without end; a send over the
 * scribbled ring must not either. Seeds: tools/fuzz_seeds. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/ipc/rings.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t len);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
    cf_pipe *a, *b;
    if (cf_pipe_new(4096, &a, &b))
        return 0;
    cf__bring *in, *out;
    uint64_t size, tail = 0, head = 0;
    cf__pipe_rings(a, &in, &out, &size);
    if (len >= 16) {
        memcpy(&tail, data, 8);
        memcpy(&head, data + 8, 8);
        data += 16;
        len -= 16;
    }
    memcpy(in->data, data, len < size ? len : size);
    atomic_store(&in->tail, tail);
    for (int i = 0; i < 64; i++) {
        void *m;
        size_t n;
        int r = cf_pipe_recv(a, &m, &n, 0);
        if (r == 0)
            free(m);
        else if (r != ENOMEM)
            break;
    }
    atomic_store(&out->head, head);
    static unsigned char big[3000];
    cf_pipe_send(a, "x", 1, 0);
    cf_pipe_send(a, big, sizeof big, 0);
    cf_pipe_close(a);
    cf_pipe_close(b);
    return 0;
}
