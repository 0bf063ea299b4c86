/* SPDX-License-Identifier: MIT */
/* testutil.h: helpers shared by the tests: suite running, a thread barrier, scaled sizes. */
#ifndef CF_TESTUTIL_H
#define CF_TESTUTIL_H

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cfutures.h>

/* Stress sizes shrink under sanitizers (set by CMake), which run 5-20x slower. */
static inline long cf_scaled(long n)
{
    const char *s = getenv("CF_SANITIZED");
    return (s && *s == '1') ? (n / 4 > 0 ? n / 4 : 1) : n;
}

static inline void sleep_ms(double ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)((ms - (double)(long)(ms / 1000) * 1000) * 1e6) };
    nanosleep(&ts, NULL);
}

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A tiny xorshift for randomized timing and choices, seeded per thread. */
static inline uint32_t rnd(uint32_t *s)
{
    uint32_t x = *s ? *s : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* Waits until the future-less condition `cond` holds, for up to `secs`; for test set-up only
 * (e.g. "the task has started"), never for asserting timing. */
#define WAIT_UNTIL(cond, secs)                                                                     \
    do {                                                                                           \
        double until_ = now_s() + (secs);                                                          \
        while (!(cond) && now_s() < until_)                                                        \
            sleep_ms(0.2);                                                                         \
    } while (0)

/* Items encode (producer, sequence), so a consumer can check exactly-once and per-producer order. */
#define TAG(p, s) ((void *)(((uintptr_t)(p) << 40) | (uintptr_t)(s) | ((uintptr_t)1 << 56)))
#define TAG_P(v) ((int)(((uintptr_t)(v) >> 40) & 0xffff))
#define TAG_S(v) ((long)((uintptr_t)(v) & ((1ul << 40) - 1)))

/* For hot loops: Check's ck_assert_* record every passing line through a pipe to the runner (a
 * syscall per assertion), which would dominate a stress test. This reports only failures. */
#define HOT_ASSERT(c)                                                                              \
    do {                                                                                           \
        if (!(c))                                                                                  \
            ck_abort_msg("%s:%d: assertion failed: %s", __FILE__, __LINE__, #c);                   \
    } while (0)

/* Process helpers for the IPC tests. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Waits for a child and asserts it exited with status 0. */
#define REAP_OK(pid)                                                                               \
    do {                                                                                           \
        int st_;                                                                                   \
        ck_assert_int_eq(waitpid((pid), &st_, 0), (pid));                                          \
        ck_assert(WIFEXITED(st_));                                                                 \
        ck_assert_int_eq(WEXITSTATUS(st_), 0);                                                     \
    } while (0)

/* Open descriptors of this process, and its mappings whose line names `what`: taken before and
 * after, they show leaks. */
static inline int count_fds(void)
{
    int n = 0;
    char path[64];
    for (int fd = 0; fd < 4096; fd++) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        n += access(path, F_OK) == 0;
    }
    return n;
}

static inline int count_maps(const char *what)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int n = 0;
    while (f && fgets(line, sizeof line, f))
        n += strstr(line, what) != NULL;
    if (f)
        fclose(f);
    return n;
}

/* tcase_add_test, unless CF_TEST_ONLY names another test: runs one test alone while working. */
#define CF_ADD_TEST(tc, t)                                                                         \
    do {                                                                                           \
        const char *only_ = getenv("CF_TEST_ONLY");                                                \
        if (!only_ || strcmp(only_, #t) == 0)                                                      \
            tcase_add_test((tc), t);                                                               \
    } while (0)

#define CF_RUN_SUITE(suite_fn)                                                                     \
    int main(void)                                                                                 \
    {                                                                                              \
        SRunner *sr = srunner_create(suite_fn());                                                  \
        srunner_run_all(sr, CK_NORMAL);                                                            \
        int failed = srunner_ntests_failed(sr);                                                    \
        srunner_free(sr);                                                                          \
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;                                               \
    }

#endif
