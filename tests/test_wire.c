/* SPDX-License-Identifier: MIT */
/* test_wire.c: the process pool's messages (src/pool/process_wire.c) without processes: every
 * kind of task and result round-trips, and every way a message can lie about its lengths decodes
 * as EPROTO instead of reading past its end. Linked statically: the wire is internal. */
#include <string.h>

#include "../src/future/future.h"
#include "../src/pool/process_wire.h"
#include "testutil.h"

START_TEST(task_batch_round_trip)
{
    unsigned char buf[1024];
    size_t len = 0;
    cf__ptask call = { .seq = 1, .kind = CF__KIND_CALL, .fn = 0x1234, .arg = 42 };
    cf__wire_put_task(buf + len, &call, NULL, 0);
    len += cf__wire_task_size(0);
    cf__ptask bytes = { .seq = 2, .kind = CF__KIND_BYTES, .fn = 0x5678, .arg = 5 };
    cf__wire_put_task(buf + len, &bytes, "hello", 5);
    len += cf__wire_task_size(5);
    uint64_t words[3] = { 7, 8, 9 };
    cf__ptask chunk = { .seq = 3, .kind = CF__KIND_CHUNK, .fn = 0x9abc, .n = 3 };
    cf__wire_put_task(buf + len, &chunk, words, sizeof words);
    len += cf__wire_task_size(sizeof words);
    cf__ptask ex = { .kind = CF__PT_EXIT };
    cf__wire_put_task(buf + len, &ex, NULL, 0);
    len += cf__wire_task_size(0);
    ck_assert_uint_eq(len % 8, 0);

    size_t off = 0;
    cf__ptask t;
    const unsigned char *pl;
    ck_assert_int_eq(cf__wire_next_task(buf, len, &off, &t, &pl), 1);
    ck_assert_uint_eq(t.seq, 1);
    ck_assert_uint_eq(t.arg, 42);
    ck_assert_int_eq(cf__wire_next_task(buf, len, &off, &t, &pl), 1);
    ck_assert_uint_eq(t.kind, CF__KIND_BYTES);
    ck_assert_int_eq(memcmp(pl, "hello", 5), 0);
    ck_assert_int_eq(pl[5] | pl[6] | pl[7], 0);          /* padding is zeroed */
    ck_assert_int_eq(cf__wire_next_task(buf, len, &off, &t, &pl), 1);
    ck_assert_uint_eq(t.n, 3);
    ck_assert_int_eq(memcmp(pl, words, sizeof words), 0);
    ck_assert_int_eq(cf__wire_next_task(buf, len, &off, &t, &pl), 1);
    ck_assert_uint_eq(t.kind, CF__PT_EXIT);
    ck_assert_int_eq(cf__wire_next_task(buf, len, &off, &t, &pl), 0);
}
END_TEST

START_TEST(task_batch_lies)
{
    unsigned char buf[256] = { 0 };
    size_t off;
    cf__ptask t;
    const unsigned char *pl;
    /* A batch shorter than a header. */
    off = 0;
    ck_assert_int_eq(cf__wire_next_task(buf, sizeof(cf__ptask) - 1, &off, &t, &pl), EPROTO);
    /* Unknown kind. */
    cf__ptask bad = { .kind = 77 };
    memcpy(buf, &bad, sizeof bad);
    off = 0;
    ck_assert_int_eq(cf__wire_next_task(buf, sizeof bad, &off, &t, &pl), EPROTO);
    /* BYTES whose length runs past the batch, and one that would wrap the offset. */
    uint64_t lens[] = { 9, 200, UINT64_MAX, UINT64_MAX - 6, (uint64_t)1 << 63 };
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        cf__ptask b = { .kind = CF__KIND_BYTES, .arg = lens[i] };
        memcpy(buf, &b, sizeof b);
        off = 0;
        ck_assert_int_eq(cf__wire_next_task(buf, sizeof b + 8, &off, &t, &pl), EPROTO);
    }
    /* CHUNK with more words than the batch holds. */
    cf__ptask c = { .kind = CF__KIND_CHUNK, .n = UINT32_MAX };
    memcpy(buf, &c, sizeof c);
    off = 0;
    ck_assert_int_eq(cf__wire_next_task(buf, sizeof buf, &off, &t, &pl), EPROTO);
    /* An offset past the end (a caller's bug or a lie upstream): refused, not read. */
    off = sizeof buf + 8;
    ck_assert_int_eq(cf__wire_next_task(buf, sizeof buf, &off, &t, &pl), EPROTO);
}
END_TEST

START_TEST(result_round_trip_and_fit)
{
    cf__wbuf o = { 0 };
    cf__wresult r;
    /* CALL */
    ck_assert_int_eq(cf__wire_put_result(&o, 5, CF__PR_RESULT, 0, NULL, 99, NULL, 0), 0);
    ck_assert_int_eq(cf__wire_get_result(o.b, o.len, &r), 0);
    ck_assert_uint_eq(r.seq, 5);
    ck_assert_uint_eq(r.value, 99);
    ck_assert(cf__wire_result_fits(&r, CF__KIND_CALL, 1));
    ck_assert(!cf__wire_result_fits(&r, 9, 1));
    /* BYTES with an error text */
    o.len = 0;
    ck_assert_int_eq(cf__wire_put_result(&o, 6, CF__PR_RESULT, EIO, "it broke", 3, "abc", 3), 0);
    ck_assert_int_eq(cf__wire_get_result(o.b, o.len, &r), 0);
    ck_assert_int_eq(r.err, EIO);
    ck_assert_uint_eq(r.msglen, 8);
    ck_assert_int_eq(memcmp(r.msg, "it broke", 8), 0);
    ck_assert_int_eq(memcmp(r.payload, "abc", 3), 0);
    ck_assert(cf__wire_result_fits(&r, CF__KIND_BYTES, 1));
    ck_assert(!cf__wire_result_fits(&r, CF__KIND_CALL, 1));     /* a CALL carries no payload */
    r.value = 9;
    ck_assert(!cf__wire_result_fits(&r, CF__KIND_BYTES, 1));    /* more than was carried */
    /* CHUNK: done words, at most the chunk's count */
    o.len = 0;
    uint64_t words[4] = { 1, 2, 3, 4 };
    ck_assert_int_eq(cf__wire_put_result(&o, 7, CF__PR_RESULT, 0, NULL, 4, words, sizeof words), 0);
    ck_assert_int_eq(cf__wire_get_result(o.b, o.len, &r), 0);
    ck_assert(cf__wire_result_fits(&r, CF__KIND_CHUNK, 4));
    ck_assert(!cf__wire_result_fits(&r, CF__KIND_CHUNK, 3));
    r.value = 3;
    ck_assert(!cf__wire_result_fits(&r, CF__KIND_CHUNK, 4));    /* words and count disagree */
    /* A long error text is cut, not refused. */
    o.len = 0;
    char longmsg[CF__WIRE_MSG_MAX + 500];
    memset(longmsg, 'x', sizeof longmsg - 1);
    longmsg[sizeof longmsg - 1] = 0;
    ck_assert_int_eq(cf__wire_put_result(&o, 8, CF__PR_RESULT, EIO, longmsg, 0, NULL, 0), 0);
    ck_assert_int_eq(cf__wire_get_result(o.b, o.len, &r), 0);
    ck_assert_uint_eq(r.msglen, CF__WIRE_MSG_MAX);
    free(o.b);
}
END_TEST

START_TEST(result_lies)
{
    unsigned char buf[128] = { 0 };
    cf__wresult r;
    cf__presult h = { .seq = 1, .type = CF__PR_RESULT };
    ck_assert_int_eq(cf__wire_get_result(buf, sizeof h - 1, &r), EPROTO);   /* short */
    h.type = 9;
    memcpy(buf, &h, sizeof h);
    ck_assert_int_eq(cf__wire_get_result(buf, sizeof h, &r), EPROTO);       /* unknown type */
    h.type = CF__PR_RESULT;
    h.err = -5;
    memcpy(buf, &h, sizeof h);
    ck_assert_int_eq(cf__wire_get_result(buf, sizeof h, &r), EPROTO);       /* negative error */
    h.err = EIO;
    uint32_t lens[] = { 200, CF__WIRE_MSG_MAX + 1, UINT32_MAX, UINT32_MAX - 3 };
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        h.msglen = lens[i];
        memcpy(buf, &h, sizeof h);
        ck_assert_int_eq(cf__wire_get_result(buf, sizeof buf, &r), EPROTO); /* text past the end */
    }
    h.msglen = 0;
    h.pad = 1;
    memcpy(buf, &h, sizeof h);
    ck_assert_int_eq(cf__wire_get_result(buf, sizeof h, &r), EPROTO);       /* not our padding */
}
END_TEST

/* Random bytes, and random mutations of valid messages: decoding ends in a result or EPROTO and
 * never reads past the message (ASan in CI). */
START_TEST(random_bytes_decode_safely)
{
    uint32_t s = 12345;
    for (int round = 0; round < (int)cf_scaled(20000); round++) {
        size_t len = rnd(&s) % 200;
        unsigned char *m = malloc(len + 1);
        for (size_t i = 0; i < len; i++)
            m[i] = (unsigned char)rnd(&s);
        if (len >= sizeof(cf__ptask) && rnd(&s) % 2)
            m[8] = (unsigned char)(rnd(&s) % 3);          /* a known kind, often */
        size_t off = 0;
        cf__ptask t;
        const unsigned char *pl;
        int r, n = 0;
        while ((r = cf__wire_next_task(m, len, &off, &t, &pl)) == 1) {
            HOT_ASSERT(off <= len && pl >= m && pl <= m + len);
            HOT_ASSERT(++n <= 200);
        }
        HOT_ASSERT(r == 0 || r == EPROTO);
        cf__wresult res;
        if (cf__wire_get_result(m, len, &res) == 0) {
            HOT_ASSERT(res.payload + res.plen == m + len);
            HOT_ASSERT((const unsigned char *)res.msg + res.msglen <= res.payload);
        }
        free(m);
    }
}
END_TEST

/* Framed records (an MPI pool's results message): each record's bytes as written, in order;
 * a length past the message, not a multiple of 8, or cut short is EPROTO. */
START_TEST(records_round_trip_and_lies)
{
    uint64_t m[8] = { 16, 1, 2, 8, 3, 0 };    /* a 16-byte record, an 8-byte one, an empty one */
    size_t off = 0, rlen;
    const unsigned char *rec;
    const unsigned char *b = (const unsigned char *)m;
    ck_assert_int_eq(cf__wire_next_record(b, 48, &off, &rec, &rlen), 1);
    ck_assert(rec == b + 8 && rlen == 16 && off == 24);
    ck_assert_int_eq(cf__wire_next_record(b, 48, &off, &rec, &rlen), 1);
    ck_assert(rec == b + 32 && rlen == 8 && off == 40);
    ck_assert_int_eq(cf__wire_next_record(b, 48, &off, &rec, &rlen), 1);
    ck_assert(rlen == 0 && off == 48);
    ck_assert_int_eq(cf__wire_next_record(b, 48, &off, &rec, &rlen), 0);
    /* 16 bytes follow each length: 9 and 12 fit but are not whole words, 24 and 2^64-8 do not. */
    uint64_t lies[][3] = { { 9, 0, 0 }, { 12, 0, 0 }, { 24, 0, 0 }, { UINT64_MAX - 7, 0, 0 } };
    for (size_t i = 0; i < sizeof lies / sizeof lies[0]; i++) {
        off = 0;
        ck_assert_int_eq(cf__wire_next_record((const unsigned char *)lies[i], 24, &off, &rec, &rlen),
                         EPROTO);
        ck_assert(off == 0);
    }
    off = 0;
    ck_assert_int_eq(cf__wire_next_record(b, 5, &off, &rec, &rlen), EPROTO);   /* a cut length */
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("wire");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, task_batch_round_trip);
    tcase_add_test(tc, task_batch_lies);
    tcase_add_test(tc, result_round_trip_and_fit);
    tcase_add_test(tc, result_lies);
    tcase_add_test(tc, random_bytes_decode_safely);
    tcase_add_test(tc, records_round_trip_and_lies);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
