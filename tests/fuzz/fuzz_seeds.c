/* SPDX-License-Identifier: MIT */
/* fuzz_seeds.c: writes the fuzz targets' starting corpus: valid inputs made by the library
 * itself (a pipe's ring after real sends, a queue's ring after real puts, encoded task batches
 * and results), laid out as each target reads its input.
 * Usage: fuzz_seeds DIR (writes DIR/pipe, DIR/mpqueue, DIR/wire). */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../src/future/future.h"
#include "../../src/ipc/rings.h"
#include "../../src/pool/process_wire.h"

static void write_file(const char *dir, const char *sub, int n, const void *a, size_t alen,
                       const void *b, size_t blen)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/seed%02d", dir, sub, n);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fwrite(a, 1, alen, f);
    if (blen)
        fwrite(b, 1, blen, f);
    fclose(f);
}

static void pipe_seeds(const char *dir)
{
    size_t sizes[][3] = { { 0, 0, 0 }, { 5, 0, 0 }, { 8, 100, 3 }, { 3000, 0, 0 }, { 1000, 1000, 1000 } };
    for (int s = 0; s < 5; s++) {
        cf_pipe *a, *b;
        cf_pipe_new(4096, &a, &b);
        unsigned char msg[3000];
        memset(msg, 'a' + s, sizeof msg);
        for (int k = 0; k < 3; k++)
            if (sizes[s][k] || k == 0)
                cf_pipe_send(b, msg, sizes[s][k], 0);
        cf__bring *in, *out;
        uint64_t size;
        cf__pipe_rings(a, &in, &out, &size);
        uint64_t hdr[2] = { atomic_load(&in->tail), atomic_load(&out->head) };
        write_file(dir, "pipe", s, hdr, sizeof hdr, in->data, (size_t)size);
        cf_pipe_close(a);
        cf_pipe_close(b);
    }
}

static void mpqueue_seeds(const char *dir)
{
    for (int s = 0; s < 4; s++) {
        cf_mpqueue *q = cf_mpqueue_new(4096);
        unsigned char msg[1500];
        memset(msg, 'k' + s, sizeof msg);
        for (int k = 0; k <= s; k++)
            cf_mpqueue_put(q, msg, (size_t)(k * 37 + s * 500) % sizeof msg, 0);
        uint64_t size;
        cf__bring *r = cf__mpqueue_ring(q, &size);
        uint64_t hdr[2] = { atomic_load(&r->head), atomic_load(&r->tail) };
        write_file(dir, "mpqueue", s, hdr, sizeof hdr, r->data, (size_t)size);
        cf_mpqueue_free(q);
    }
}

static void wire_seeds(const char *dir)
{
    unsigned char batch[512];
    size_t len = 0;
    uint64_t words[3] = { 1, 2, 3 };
    cf__ptask call = { .seq = 1, .kind = CF__KIND_CALL, .fn = 1, .arg = 2 };
    cf__ptask bytes = { .seq = 2, .kind = CF__KIND_BYTES, .fn = 1, .arg = 5 };
    cf__ptask chunk = { .seq = 3, .kind = CF__KIND_CHUNK, .fn = 1, .n = 3 };
    cf__ptask ex = { .kind = CF__PT_EXIT };
    cf__wire_put_task(batch + len, &call, NULL, 0);
    len += cf__wire_task_size(0);
    cf__wire_put_task(batch + len, &bytes, "hello", 5);
    len += cf__wire_task_size(5);
    cf__wire_put_task(batch + len, &chunk, words, sizeof words);
    len += cf__wire_task_size(sizeof words);
    cf__wire_put_task(batch + len, &ex, NULL, 0);
    len += cf__wire_task_size(0);
    write_file(dir, "wire", 0, batch, len, NULL, 0);
    cf__wbuf o = { 0 };
    cf__wire_put_result(&o, 1, CF__PR_RESULT, 0, NULL, 42, NULL, 0);
    write_file(dir, "wire", 1, o.b, o.len, NULL, 0);
    o.len = 0;
    cf__wire_put_result(&o, 2, CF__PR_RESULT, EIO, "failed", 5, "bytes", 5);
    write_file(dir, "wire", 2, o.b, o.len, NULL, 0);
    o.len = 0;
    cf__wire_put_result(&o, 3, CF__PR_RESULT, 0, NULL, 3, words, sizeof words);
    write_file(dir, "wire", 3, o.b, o.len, NULL, 0);
    o.len = 0;
    cf__wire_put_result(&o, 0, CF__PR_INIT_FAILED, EINVAL, "bad init", 0, NULL, 0);
    write_file(dir, "wire", 4, o.b, o.len, NULL, 0);
    /* An MPI pool's results message: framed records (a result, a skipped task, a chunk's). */
    o.len = 0;
    for (int k = 0; k < 3; k++) {
        cf__wire_reserve(&o, sizeof(uint64_t));
        size_t at = o.len;
        o.len += sizeof(uint64_t);
        if (k == 0)
            cf__wire_put_result(&o, 4, CF__PR_RESULT, 0, NULL, 7, NULL, 0);
        else if (k == 1)
            cf__wire_put_result(&o, 5, CF__PR_SKIPPED, 0, NULL, 0, NULL, 0);
        else
            cf__wire_put_result(&o, 6, CF__PR_RESULT, 0, NULL, 3, words, sizeof words);
        uint64_t n = o.len - at - sizeof n;
        memcpy(o.b + at, &n, sizeof n);
    }
    write_file(dir, "wire", 5, o.b, o.len, NULL, 0);
    /* A batch with a cancel in it. */
    cf__ptask cancel = { .seq = 1, .kind = CF__PT_CANCEL };
    cf__wire_put_task(batch, &call, NULL, 0);
    cf__wire_put_task(batch + cf__wire_task_size(0), &cancel, NULL, 0);
    write_file(dir, "wire", 6, batch, 2 * cf__wire_task_size(0), NULL, 0);
    free(o.b);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    mkdir(argv[1], 0755);
    pipe_seeds(argv[1]);
    mpqueue_seeds(argv[1]);
    wire_seeds(argv[1]);
    return 0;
}
