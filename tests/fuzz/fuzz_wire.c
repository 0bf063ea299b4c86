/* SPDX-License-Identifier: MIT */
/* fuzz_wire.c: libFuzzer target for the process pool's messages (process_wire.h): the input is
 * decoded as a task batch (what a worker reads) and as a result (what the manager reads from a
 * worker, whose task may have scribbled on it), checked against every kind of task, and as an MPI
 * pool's results message (framed records, each a result). Every accepted length must lie inside
 * the input. Seeds: tools/fuzz_seeds. */
#include <stdlib.h>
#include <string.h>

#include "../../src/future/future.h"
#include "../../src/pool/process_wire.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t len);

/* Decodes m as one result and touches every byte the decoder says is there. */
static void check_result(const unsigned char *m, size_t len)
{
    cf__wresult r;
    if (cf__wire_get_result(m, len, &r) == 0) {
        volatile unsigned char sink = 0;
        if (r.msglen)
            sink ^= (unsigned char)r.msg[r.msglen - 1];
        for (uint32_t kind = 0; kind < 4; kind++)
            for (size_t count = 0; count < 8; count++)
                if (cf__wire_result_fits(&r, kind, count) && r.plen)
                    sink ^= r.payload[r.plen - 1];
        (void)sink;
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
    unsigned char *m = malloc(len ? len : 1);    /* its own allocation: ASan sees the edges */
    if (!m)
        return 0;
    memcpy(m, data, len);
    size_t off = 0;
    cf__ptask t;
    const unsigned char *pl;
    while (cf__wire_next_task(m, len, &off, &t, &pl) == 1) {
        size_t plen = t.kind == CF__KIND_BYTES ? (size_t)t.arg : t.kind == CF__KIND_CHUNK ? 8u * t.n : 0;
        volatile unsigned char sink = 0;
        for (size_t i = 0; i < plen; i += 61)
            sink ^= pl[i];                       /* the payload is readable, all of it */
        if (plen)
            sink ^= pl[plen - 1];
        (void)sink;
    }
    check_result(m, len);
    /* The same bytes as an MPI pool's results message: framed records, each a result. */
    off = 0;
    const unsigned char *rec;
    size_t rlen;
    while (cf__wire_next_record(m, len, &off, &rec, &rlen) == 1) {
        unsigned char *copy = malloc(rlen ? rlen : 1);   /* its own edges again */
        if (!copy)
            break;
        memcpy(copy, rec, rlen);
        check_result(copy, rlen);
        free(copy);
    }
    free(m);
    return 0;
}
