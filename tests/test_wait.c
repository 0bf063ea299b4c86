/* SPDX-License-Identifier: MIT */
/* test_wait.c: cf_wait in its three modes and the as_completed iterator: ordering, duplicates,
 * timeouts, bad input, freeing while pending, and completions racing the waiters. */
#include <math.h>
#include <string.h>

#include "testutil.h"

typedef struct later { cf_future *f; double ms; int err; } later;

static void *complete_after(void *arg)
{
    later *l = arg;
    sleep_ms(l->ms);
    if (l->err)
        cf_future_set_error(l->f, l->err, "later");
    else
        cf_future_set_result(l->f, (void *)1);
    return NULL;
}

static pthread_t spawn_later(later *l)
{
    pthread_t t;
    pthread_create(&t, NULL, complete_after, l);
    return t;
}

START_TEST(wait_bad_input)
{
    cf_future *f = cf_future_new();
    cf_future *fs[2] = { f, NULL };
    ck_assert_int_eq(cf_wait(NULL, 1, 0, CF_ALL_COMPLETED), EINVAL);
    ck_assert_int_eq(cf_wait(fs, 2, 0, CF_ALL_COMPLETED), EINVAL);
    ck_assert_int_eq(cf_wait(fs, 1, NAN, CF_ALL_COMPLETED), EINVAL);
    ck_assert_int_eq(cf_wait(fs, 1, 0, (cf_return_when)7), EINVAL);
    ck_assert_int_eq(cf_wait(NULL, 0, 0, CF_ALL_COMPLETED), 0);
    cf_future_unref(f);
}
END_TEST

START_TEST(wait_modes)
{
    cf_future *a = cf_future_new(), *b = cf_future_new(), *c = cf_future_new();
    cf_future *fs[3] = { a, b, c };
    for (int w = CF_FIRST_COMPLETED; w <= CF_ALL_COMPLETED; w++)
        ck_assert_int_eq(cf_wait(fs, 3, 0, w), ETIMEDOUT);
    cf_future_cancel(a);   /* cancelled counts as done, not as an exception */
    ck_assert_int_eq(cf_wait(fs, 3, 0, CF_FIRST_COMPLETED), 0);
    ck_assert_int_eq(cf_wait(fs, 3, 0, CF_FIRST_EXCEPTION), ETIMEDOUT);
    ck_assert_int_eq(cf_wait(fs, 3, 0.01, CF_ALL_COMPLETED), ETIMEDOUT);
    cf_future_set_error(b, EIO, NULL);
    ck_assert_int_eq(cf_wait(fs, 3, 0, CF_FIRST_EXCEPTION), 0);
    ck_assert_int_eq(cf_wait(fs, 3, 0, CF_ALL_COMPLETED), ETIMEDOUT);
    cf_future_set_result(c, NULL);
    for (int w = CF_FIRST_COMPLETED; w <= CF_ALL_COMPLETED; w++)
        ck_assert_int_eq(cf_wait(fs, 3, 0, w), 0);
    cf_future_unref(a);
    cf_future_unref(b);
    cf_future_unref(c);
}
END_TEST

START_TEST(wait_blocks_until_completion)
{
    cf_future *a = cf_future_new(), *b = cf_future_new();
    cf_future *fs[4] = { a, b, a, b };   /* duplicates are fine */
    later la = { a, 20, 0 }, lb = { b, 40, 0 };
    pthread_t ta = spawn_later(&la), tb = spawn_later(&lb);
    ck_assert_int_eq(cf_wait(fs, 4, CF_FOREVER, CF_FIRST_COMPLETED), 0);
    ck_assert(cf_future_done(a) || cf_future_done(b));
    ck_assert_int_eq(cf_wait(fs, 4, CF_FOREVER, CF_ALL_COMPLETED), 0);
    ck_assert(cf_future_done(a) && cf_future_done(b));
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    cf_future_unref(a);
    cf_future_unref(b);
}
END_TEST

START_TEST(first_exception_returns_on_error)
{
    cf_future *a = cf_future_new(), *b = cf_future_new();
    cf_future *fs[2] = { a, b };
    later lb = { b, 20, EPIPE };
    pthread_t tb = spawn_later(&lb);
    ck_assert_int_eq(cf_wait(fs, 2, CF_FOREVER, CF_FIRST_EXCEPTION), 0);
    ck_assert(cf_future_done(b));
    ck_assert(!cf_future_done(a));
    pthread_join(tb, NULL);
    cf_future_unref(a);
    cf_future_unref(b);
}
END_TEST

START_TEST(wait_many_futures)
{
    /* More than fit on the stack: the listener array is allocated. */
    enum { N = 100 };
    cf_future *fs[N];
    for (int i = 0; i < N; i++)
        fs[i] = cf_future_new();
    later l = { fs[N - 1], 10, 0 };
    pthread_t t = spawn_later(&l);
    ck_assert_int_eq(cf_wait(fs, N, CF_FOREVER, CF_FIRST_COMPLETED), 0);
    ck_assert(cf_future_done(fs[N - 1]));
    ck_assert_int_eq(cf_wait(fs, N, 0.01, CF_FIRST_EXCEPTION), ETIMEDOUT);
    pthread_join(t, NULL);
    for (int i = 0; i < N; i++)
        cf_future_unref(fs[i]);
}
END_TEST

START_TEST(as_completed_bad_input)
{
    errno = 0;
    ck_assert_ptr_null(cf_as_completed_new(NULL, 2));
    ck_assert_int_eq(errno, EINVAL);
    cf_future *fs[1] = { NULL };
    ck_assert_ptr_null(cf_as_completed_new(fs, 1));
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(cf_as_completed_next(NULL, 0, NULL), EINVAL);
    cf_as_completed_free(NULL);
    cf_as_completed *it = cf_as_completed_new(NULL, 0);
    ck_assert_ptr_nonnull(it);
    ck_assert_int_eq(cf_as_completed_next(it, CF_FOREVER, NULL), ENOENT);
    ck_assert_int_eq(cf_as_completed_next(it, NAN, NULL), EINVAL);
    cf_as_completed_free(it);
}
END_TEST

START_TEST(as_completed_yields_in_completion_order_once)
{
    cf_future *f[4];
    for (int i = 0; i < 4; i++)
        f[i] = cf_future_new();
    cf_future_set_result(f[2], NULL);            /* done before: yielded first */
    cf_future *in[6] = { f[0], f[1], f[2], f[3], f[1], f[2] };
    cf_as_completed *it = cf_as_completed_new(in, 6);
    for (int i = 0; i < 4; i++)
        cf_future_unref(f[i]);                   /* the iterator holds its own references */
    cf_future *out = NULL;
    ck_assert_int_eq(cf_as_completed_next(it, 0, &out), 0);
    ck_assert_ptr_eq(out, f[2]);
    ck_assert_int_eq(cf_as_completed_next(it, 0, &out), ETIMEDOUT);
    ck_assert_int_eq(cf_as_completed_next(it, 0.01, &out), ETIMEDOUT);
    cf_future_cancel(f[3]);
    later l0 = { f[0], 30, 0 };
    pthread_t t = spawn_later(&l0);
    ck_assert_int_eq(cf_as_completed_next(it, CF_FOREVER, &out), 0);
    ck_assert_ptr_eq(out, f[3]);
    ck_assert_int_eq(cf_as_completed_next(it, CF_FOREVER, &out), 0);
    ck_assert_ptr_eq(out, f[0]);
    pthread_join(t, NULL);
    cf_future_set_error(f[1], EIO, NULL);
    ck_assert_int_eq(cf_as_completed_next(it, CF_FOREVER, NULL), 0);   /* out may be NULL */
    ck_assert_int_eq(cf_as_completed_next(it, CF_FOREVER, &out), ENOENT);
    ck_assert_int_eq(cf_as_completed_next(it, 0, &out), ENOENT);
    cf_as_completed_free(it);
}
END_TEST

START_TEST(as_completed_free_while_pending)
{
    cf_future *f[3] = { cf_future_new(), cf_future_new(), cf_future_new() };
    cf_as_completed *it = cf_as_completed_new(f, 3);
    cf_future_set_result(f[1], NULL);
    ck_assert_int_eq(cf_as_completed_next(it, 0, NULL), 0);
    cf_as_completed_free(it);
    /* Completing afterwards must not touch the freed iterator (ASan would see it). */
    cf_future_set_result(f[0], NULL);
    cf_future_cancel(f[2]);
    for (int i = 0; i < 3; i++)
        cf_future_unref(f[i]);
}
END_TEST

/* Completions from many threads race the iterator and cf_wait: each future is yielded once. */
typedef struct storm { cf_future **fs; int n, start, step; } storm;

static void *complete_storm(void *arg)
{
    storm *s = arg;
    uint32_t seed = (uint32_t)s->start + 1;
    for (int i = s->start; i < s->n; i += s->step) {
        if (rnd(&seed) % 8 == 0)
            sleep_ms(0.05);
        if (i % 5 == 0)
            cf_future_cancel(s->fs[i]);
        else
            cf_future_set_result(s->fs[i], (void *)(intptr_t)i);
    }
    return NULL;
}

START_TEST(as_completed_and_wait_race_completions)
{
    int n = (int)cf_scaled(20000);
    cf_future **fs = malloc((size_t)n * sizeof *fs);
    char *seen = calloc((size_t)n, 1);
    for (int rounds = 0; rounds < 3; rounds++) {
        for (int i = 0; i < n; i++)
            fs[i] = cf_future_new();
        cf_as_completed *it = cf_as_completed_new(fs, (size_t)n);
        storm s[4];
        pthread_t t[4];
        for (int k = 0; k < 4; k++) {
            s[k] = (storm){ fs, n, k, 4 };
            pthread_create(&t[k], NULL, complete_storm, &s[k]);
        }
        ck_assert_int_eq(cf_wait(fs, (size_t)n, CF_FOREVER, CF_FIRST_COMPLETED), 0);
        int got = 0;
        cf_future *out;
        memset(seen, 0, (size_t)n);
        while (cf_as_completed_next(it, CF_FOREVER, &out) == 0) {
            HOT_ASSERT(cf_future_done(out));
            got++;
        }
        ck_assert_int_eq(got, n);
        ck_assert_int_eq(cf_wait(fs, (size_t)n, 0, CF_ALL_COMPLETED), 0);
        for (int k = 0; k < 4; k++)
            pthread_join(t[k], NULL);
        cf_as_completed_free(it);
        for (int i = 0; i < n; i++) {
            void *v;
            if (i % 5 == 0)
                HOT_ASSERT(cf_future_state(fs[i]) == CF_CANCELLED);
            else {
                HOT_ASSERT(cf_future_result(fs[i], 0, &v) == 0);
                HOT_ASSERT(v == (void *)(intptr_t)i);
            }
            cf_future_unref(fs[i]);
        }
    }
    free(seen);
    free(fs);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("wait");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, wait_bad_input);
    tcase_add_test(tc, wait_modes);
    tcase_add_test(tc, wait_blocks_until_completion);
    tcase_add_test(tc, first_exception_returns_on_error);
    tcase_add_test(tc, wait_many_futures);
    tcase_add_test(tc, as_completed_bad_input);
    tcase_add_test(tc, as_completed_yields_in_completion_order_once);
    tcase_add_test(tc, as_completed_free_while_pending);
    tcase_add_test(tc, as_completed_and_wait_race_completions);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
