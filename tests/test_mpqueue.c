/* SPDX-License-Identifier: MIT */
/* test_mpqueue.c: cf_mpqueue across processes: sizes, bounds, timeouts, close semantics,
 * N producer x M consumer processes moving tagged messages exactly once, and processes killed
 * with SIGKILL in the middle of put and get: the queue neither deadlocks nor delivers a torn or
 * duplicated message. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

START_TEST(sizes_bounds_and_timeouts)
{
    int maps0 = count_maps("cf_mpqueue");
    cf_mpqueue *q = cf_mpqueue_new(64);
    ck_assert_int_eq(count_maps("cf_mpqueue"), maps0 + 1);
    ck_assert_ptr_nonnull(q);
    void *m;
    size_t n = 7;
    ck_assert_int_eq(cf_mpqueue_get(q, &m, &n, 0), EAGAIN);
    ck_assert_int_eq(cf_mpqueue_get(q, &m, &n, 0.02), ETIMEDOUT);
    ck_assert_int_eq(cf_mpqueue_put(q, "x", 65, 0), EMSGSIZE);
    char full[64];
    memset(full, 'a', sizeof full);
    ck_assert_int_eq(cf_mpqueue_put(q, full, 64, 0), 0);          /* exactly capacity fits */
    ck_assert_int_eq(cf_mpqueue_put(q, NULL, 0, 0), EAGAIN);
    ck_assert_int_eq(cf_mpqueue_put(q, NULL, 0, 0.02), ETIMEDOUT);
    ck_assert_int_eq(cf_mpqueue_get(q, &m, &n, 0), 0);
    ck_assert_uint_eq(n, 64);
    ck_assert_int_eq(memcmp(m, full, 64), 0);
    free(m);
    ck_assert_int_eq(cf_mpqueue_put(q, NULL, 0, 0), 0);           /* zero-length */
    ck_assert_int_eq(cf_mpqueue_get(q, &m, &n, 0), 0);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(n, 0);
    free(m);
    ck_assert_int_eq(cf_mpqueue_put(NULL, "x", 1, 0), EINVAL);
    ck_assert_int_eq(cf_mpqueue_put(q, NULL, 1, 0), EINVAL);
    ck_assert_int_eq(cf_mpqueue_put(q, "x", 1, NAN), EINVAL);
    ck_assert_int_eq(cf_mpqueue_get(NULL, &m, &n, 0), EINVAL);
    cf_mpqueue_close(NULL);
    cf_mpqueue_free(NULL);
    cf_mpqueue_free(q);
    /* What pipe.h says a message costs: capacity 48 holds three 8-byte messages, not six. */
    q = cf_mpqueue_new(48);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(cf_mpqueue_put(q, "12345678", 8, 0), 0);
    ck_assert_int_eq(cf_mpqueue_put(q, "12345678", 8, 0), EAGAIN);
    cf_mpqueue_free(q);
    ck_assert_int_eq(count_maps("cf_mpqueue"), maps0);     /* no mapping left behind */
}
END_TEST

START_TEST(close_reaches_every_process)
{
    cf_mpqueue *q = cf_mpqueue_new(0);
    ck_assert_int_eq(cf_mpqueue_put(q, "one", 3, 0), 0);
    ck_assert_int_eq(cf_mpqueue_put(q, "two", 3, 0), 0);
    pid_t pid = fork();
    if (pid == 0) {
        cf_mpqueue_close(q);           /* closed by another process */
        cf_mpqueue_free(q);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    ck_assert_int_eq(cf_mpqueue_put(q, "three", 5, 0), EPIPE);
    void *m;
    size_t n;
    ck_assert_int_eq(cf_mpqueue_get(q, &m, &n, 0), 0);              /* drains what is left */
    ck_assert(n == 3 && memcmp(m, "one", 3) == 0);
    free(m);
    ck_assert_int_eq(cf_mpqueue_get(q, &m, &n, CF_FOREVER), 0);
    free(m);
    ck_assert_int_eq(cf_mpqueue_get(q, &m, &n, CF_FOREVER), EPIPE);  /* never blocks */
    cf_mpqueue_free(q);
}
END_TEST

START_TEST(close_wakes_blocked_getters)
{
    cf_mpqueue *q = cf_mpqueue_new(0);
    pid_t pids[3];
    for (int i = 0; i < 3; i++)
        if ((pids[i] = fork()) == 0)
            _exit(cf_mpqueue_get(q, NULL, NULL, 30) == EPIPE ? 0 : 1);
    sleep_ms(50);
    cf_mpqueue_close(q);
    for (int i = 0; i < 3; i++) {
        int st;
        ck_assert_int_eq(waitpid(pids[i], &st, 0), pids[i]);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    cf_mpqueue_free(q);
}
END_TEST

/* P producer processes put tagged messages (tag + filler of tag-dependent length); C consumer
 * processes get them and report each tag on a result queue; the parent checks exactly once. */
START_TEST(producers_and_consumers_across_processes)
{
    enum { P = 4, C = 3 };
    long per = cf_scaled(20000);
    cf_mpqueue *q = cf_mpqueue_new(4096), *res = cf_mpqueue_new(1 << 16);
    pid_t pids[P + C];
    for (int i = 0; i < P + C; i++) {
        if ((pids[i] = fork()) == 0) {
            if (i < P) {
                for (long s = 0; s < per; s++) {
                    long tag = i * per + s;
                    unsigned char m[64];
                    size_t len = sizeof tag + (size_t)(tag % 50);
                    memcpy(m, &tag, sizeof tag);
                    memset(m + sizeof tag, (int)(tag & 0xff), len - sizeof tag);
                    if (cf_mpqueue_put(q, m, len, 30))
                        _exit(2);
                }
                _exit(0);
            }
            for (;;) {
                void *m;
                size_t len;
                int r = cf_mpqueue_get(q, &m, &len, 30);
                if (r == EPIPE)
                    _exit(0);
                if (r)
                    _exit(3);
                long tag;
                memcpy(&tag, m, sizeof tag);
                if (len != sizeof tag + (size_t)(tag % 50))
                    _exit(4);
                for (size_t k = sizeof tag; k < len; k++)
                    if (((unsigned char *)m)[k] != (unsigned char)(tag & 0xff))
                        _exit(5);
                free(m);
                if (cf_mpqueue_put(res, &tag, sizeof tag, 30))
                    _exit(6);
            }
        }
    }
    unsigned char *seen = calloc((size_t)(P * per), 1);
    for (long got = 0; got < P * per; got++) {
        void *m;
        size_t len;
        HOT_ASSERT(cf_mpqueue_get(res, &m, &len, 60) == 0);
        long tag;
        memcpy(&tag, m, sizeof tag);
        free(m);
        HOT_ASSERT(tag >= 0 && tag < P * per && !seen[tag]);    /* exactly once */
        seen[tag] = 1;
    }
    for (int i = 0; i < P; i++) {
        int st;
        waitpid(pids[i], &st, 0);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    cf_mpqueue_close(q);
    for (int i = P; i < P + C; i++) {
        int st;
        waitpid(pids[i], &st, 0);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    ck_assert_int_eq(cf_mpqueue_get(res, NULL, NULL, 0), EAGAIN);   /* nothing duplicated */
    free(seen);
    cf_mpqueue_free(q);
    cf_mpqueue_free(res);
}
END_TEST

/* Processes killed in the middle of put and get, over and over: afterwards the queue still
 * works (the robust lock recovers) and every message in it is whole. */
START_TEST(killed_mid_put_and_mid_get)
{
    cf_mpqueue *q = cf_mpqueue_new(1 << 14);
    uint32_t seed = 5;
    int runs = (int)cf_scaled(100);
    for (int run = 0; run < runs; run++) {
        pid_t pid = fork();
        if (pid == 0) {
            uint32_t s = (uint32_t)run + 1;
            for (long k = 0;; k++) {
                unsigned char m[2048];
                size_t len = 8 + rnd(&s) % (sizeof m - 8);
                memcpy(m, &len, 8);
                memset(m + 8, (int)(len & 0xff), len - 8);
                if (run % 2 == 0) {
                    if (cf_mpqueue_put(q, m, len, 0) == EAGAIN)
                        cf_mpqueue_get(q, NULL, NULL, 0);      /* make room: puts keep going */
                } else {
                    void *x;
                    if (cf_mpqueue_get(q, &x, NULL, 0) == 0)
                        free(x);
                    else
                        cf_mpqueue_put(q, m, len, 0);
                }
            }
        }
        sleep_ms((double)(rnd(&seed) % 2000) / 1000.0);
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        /* Every message left is whole, and the queue takes new ones. */
        ck_assert_int_eq(cf_mpqueue_put(q, "ok", 2, 5) == 0 || cf_mpqueue_get(q, NULL, NULL, 5) == 0, 1);
    }
    void *m;
    size_t len;
    int r;
    while ((r = cf_mpqueue_get(q, &m, &len, 0)) == 0) {
        if (len == 2) {
            HOT_ASSERT(memcmp(m, "ok", 2) == 0);
        } else {
            size_t inner;
            memcpy(&inner, m, 8);
            HOT_ASSERT(inner == len);
            for (size_t k = 8; k < len; k++)
                HOT_ASSERT(((unsigned char *)m)[k] == (unsigned char)(len & 0xff));
        }
        free(m);
    }
    ck_assert_int_eq(r, EAGAIN);
    cf_mpqueue_free(q);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("mpqueue");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, sizes_bounds_and_timeouts);
    tcase_add_test(tc, close_reaches_every_process);
    tcase_add_test(tc, close_wakes_blocked_getters);
    tcase_add_test(tc, producers_and_consumers_across_processes);
    tcase_add_test(tc, killed_mid_put_and_mid_get);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
