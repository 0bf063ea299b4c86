/* SPDX-License-Identifier: MIT */
/* test_map.c: cf_map: results in order for every chunk size, first error in argument order,
 * timeouts that cancel what has not started, and the promise that no task touches the caller's
 * arrays after cf_map returns (AddressSanitizer proves it: the arrays are freed at once). */
#include <math.h>
#include <string.h>

#include "testutil.h"

static void *square(void *arg)
{
    intptr_t x = (intptr_t)arg;
    return (void *)(x * x);
}

START_TEST(map_results_every_chunksize)
{
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 3 });
    enum { N = 1000 };
    void *args[N], *res[N];
    for (intptr_t i = 0; i < N; i++)
        args[i] = (void *)i;
    size_t sizes[] = { 0, 1, 2, 7, 256, N, N + 5 };
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        memset(res, 0, sizeof res);
        ck_assert_int_eq(cf_map(ex, square, args, res, N, sizes[k], CF_FOREVER), 0);
        for (intptr_t i = 0; i < N; i++)
            ck_assert_ptr_eq(res[i], (void *)(i * i));
    }
    ck_assert_int_eq(cf_map(ex, square, NULL, NULL, 0, 1, 0), 0);
    cf_executor_free(ex);
}
END_TEST

START_TEST(map_bad_input)
{
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 1 });
    void *a[1] = { 0 }, *r[1];
    ck_assert_int_eq(cf_map(NULL, square, a, r, 1, 1, 0), EINVAL);
    ck_assert_int_eq(cf_map(ex, NULL, a, r, 1, 1, 0), EINVAL);
    ck_assert_int_eq(cf_map(ex, square, NULL, r, 1, 1, 0), EINVAL);
    ck_assert_int_eq(cf_map(ex, square, a, NULL, 1, 1, 0), EINVAL);
    ck_assert_int_eq(cf_map(ex, square, a, r, 1, 1, NAN), EINVAL);
    cf_executor_shutdown(ex, true, false);
    ck_assert_int_eq(cf_map(ex, square, a, r, 1, 1, CF_FOREVER), ESHUTDOWN);
    cf_executor_free(ex);
}
END_TEST

static void *fail_on_multiples_of_7(void *arg)
{
    intptr_t x = (intptr_t)arg;
    if (x % 7 == 0 && x > 0) {
        sleep_ms(x == 14 ? 1 : 5);   /* the later failure finishes first */
        cf_task_fail(x == 7 ? EDOM : ERANGE, "bad %ld", (long)x);
    }
    return (void *)(x + 1000);
}

START_TEST(map_returns_first_error_in_argument_order)
{
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 4 });
    enum { N = 40 };
    void *args[N], *res[N];
    for (size_t cs = 1; cs <= 4; cs++) {
        for (intptr_t i = 0; i < N; i++) {
            args[i] = (void *)i;
            res[i] = (void *)-1;
        }
        ck_assert_int_eq(cf_map(ex, fail_on_multiples_of_7, args, res, N, cs, CF_FOREVER), EDOM);
        for (intptr_t i = 0; i < 7; i++)
            ck_assert_ptr_eq(res[i], (void *)(i + 1000));   /* before the error: written */
        for (intptr_t i = 7; i < N; i++)
            ck_assert(res[i] == (void *)-1 || res[i] == (void *)(i + 1000));
        ck_assert_ptr_eq(res[7], (void *)-1);                  /* the failing item: not */
    }
    cf_executor_free(ex);
}
END_TEST

static _Atomic int map_calls;
static _Atomic bool release_map;
static void *slow_item(void *arg)
{
    atomic_fetch_add(&map_calls, 1);
    while (!atomic_load(&release_map))
        sleep_ms(0.5);
    return arg;
}

START_TEST(map_timeout_cancels_and_never_touches_arrays)
{
    atomic_store(&map_calls, 0);
    atomic_store(&release_map, false);
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 2 });
    enum { N = 50 };
    void **args = malloc(N * sizeof *args), **res = malloc(N * sizeof *res);
    for (intptr_t i = 0; i < N; i++)
        args[i] = (void *)i;
    ck_assert_int_eq(cf_map(ex, slow_item, args, res, N, 3, 0.05), ETIMEDOUT);
    free(args);                  /* running chunks go on: they must not touch these */
    free(res);
    atomic_store(&release_map, true);
    cf_executor_free(ex);
    /* Two chunks were running; the cancel flag stops them after their current item. */
    ck_assert_int_le(atomic_load(&map_calls), 2);
    ck_assert_int_ge(atomic_load(&map_calls), 1);
}
END_TEST

static void broken_init(void *arg)
{
    (void)arg;
    cf_task_fail(EACCES, "no access");
}

START_TEST(map_on_a_broken_pool_frees_everything)
{
    /* Chunks failed by a broken pool never run: the job must still be freed (ASan: no leak). */
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 1, .initializer = broken_init });
    enum { N = 30 };
    void *args[N] = { 0 }, *res[N];
    int r = cf_map(ex, square, args, res, N, 2, CF_FOREVER);
    ck_assert_int_eq(r, CF_EBROKEN);
    cf_executor_free(ex);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("map");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, map_results_every_chunksize);
    tcase_add_test(tc, map_bad_input);
    tcase_add_test(tc, map_returns_first_error_in_argument_order);
    tcase_add_test(tc, map_timeout_cancels_and_never_touches_arrays);
    tcase_add_test(tc, map_on_a_broken_pool_frees_everything);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
