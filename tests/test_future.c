/* SPDX-License-Identifier: MIT */
/* test_future.c: the future state machine, references, results and errors, done-callbacks,
 * cancellation, timeouts, bad input, cf_strerror/cf_errname, the version, and the task API
 * outside tasks. */
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

START_TEST(new_future_is_pending)
{
    cf_future *f = cf_future_new();
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(cf_future_state(f), CF_PENDING);
    ck_assert(!cf_future_done(f));
    ck_assert_ptr_eq(cf_future_ref(f), f);
    cf_future_unref(f);
    cf_future_unref(f);
    cf_future_unref(NULL);
    ck_assert_ptr_null(cf_future_ref(NULL));
}
END_TEST

START_TEST(set_result_then_read)
{
    cf_future *f = cf_future_new();
    ck_assert_int_eq(cf_future_set_result(f, (void *)42), 0);
    ck_assert_int_eq(cf_future_state(f), CF_FINISHED);
    ck_assert(cf_future_done(f));
    void *v = NULL;
    ck_assert_int_eq(cf_future_result(f, 0, &v), 0);
    ck_assert_ptr_eq(v, (void *)42);
    ck_assert_int_eq(cf_future_result(f, CF_FOREVER, NULL), 0);
    const char *msg = "untouched";
    ck_assert_int_eq(cf_future_error(f, 0, &msg), 0);
    ck_assert_ptr_null(msg);
    /* Done futures refuse a second completion, whatever kind. */
    ck_assert_int_eq(cf_future_set_result(f, (void *)1), EINVAL);
    ck_assert_int_eq(cf_future_set_error(f, EIO, "x"), EINVAL);
    ck_assert(!cf_future_cancel(f));
    ck_assert(!cf_future_set_running(f));
    ck_assert_int_eq(cf_future_result(f, 0, &v), 0);
    ck_assert_ptr_eq(v, (void *)42);
    cf_future_unref(f);
}
END_TEST

START_TEST(set_error_then_read)
{
    cf_future *f = cf_future_new();
    char buf[] = "disk on fire";
    ck_assert_int_eq(cf_future_set_error(f, EIO, buf), 0);
    buf[0] = 'X';   /* the message was copied */
    void *v = (void *)7;
    ck_assert_int_eq(cf_future_result(f, 0, &v), EIO);
    ck_assert_ptr_eq(v, (void *)7);   /* outputs untouched unless 0 is returned */
    const char *msg = NULL;
    ck_assert_int_eq(cf_future_error(f, 0, &msg), EIO);
    ck_assert_str_eq(msg, "disk on fire");
    ck_assert_int_eq(cf_future_error(f, 0, NULL), EIO);
    ck_assert_int_eq(cf_future_state(f), CF_FINISHED);
    cf_future_unref(f);

    /* Without a message the error text stands in. */
    f = cf_future_new();
    ck_assert_int_eq(cf_future_set_error(f, CF_EBROKEN, NULL), 0);
    ck_assert_int_eq(cf_future_error(f, 0, &msg), CF_EBROKEN);
    ck_assert_str_eq(msg, cf_strerror(CF_EBROKEN));
    cf_future_unref(f);
}
END_TEST

START_TEST(bad_arguments)
{
    cf_future *f = cf_future_new();
    ck_assert_int_eq(cf_future_set_error(f, 0, "zero is not an error"), EINVAL);
    ck_assert_int_eq(cf_future_state(f), CF_PENDING);
    ck_assert_int_eq(cf_future_result(f, NAN, NULL), EINVAL);
    ck_assert_int_eq(cf_future_error(f, NAN, NULL), EINVAL);
    ck_assert_int_eq(cf_future_add_done_callback(f, NULL, NULL), EINVAL);
    cf_future_unref(f);
    ck_assert_int_eq(cf_future_set_result(NULL, NULL), EINVAL);
    ck_assert_int_eq(cf_future_set_error(NULL, EIO, NULL), EINVAL);
    ck_assert_int_eq(cf_future_result(NULL, 0, NULL), EINVAL);
    ck_assert_int_eq(cf_future_error(NULL, 0, NULL), EINVAL);
    ck_assert_int_eq(cf_future_add_done_callback(NULL, NULL, NULL), EINVAL);
    ck_assert(!cf_future_cancel(NULL));
    ck_assert(!cf_future_set_running(NULL));
    ck_assert(!cf_future_done(NULL));
    ck_assert_int_eq(cf_future_state(NULL), CF_PENDING);
}
END_TEST

START_TEST(timeouts_are_honoured)
{
    cf_future *f = cf_future_new();
    void *v = (void *)5;
    ck_assert_int_eq(cf_future_result(f, 0, &v), ETIMEDOUT);
    ck_assert_ptr_eq(v, (void *)5);
    double t0 = now_s();
    ck_assert_int_eq(cf_future_result(f, 0.05, &v), ETIMEDOUT);
    ck_assert(now_s() - t0 >= 0.05);     /* a lower bound only: never assert an upper one */
    ck_assert_int_eq(cf_future_error(f, 0.01, NULL), ETIMEDOUT);
    ck_assert(!cf_future_done(f));       /* how a wait's ETIMEDOUT is told from a task's */
    cf_future_unref(f);
}
END_TEST

START_TEST(cancel_semantics)
{
    cf_future *f = cf_future_new();
    ck_assert(cf_future_cancel(f));
    ck_assert_int_eq(cf_future_state(f), CF_CANCELLED);
    ck_assert(cf_future_done(f));
    ck_assert(cf_future_cancel(f));     /* already cancelled: true, as in Python */
    ck_assert_int_eq(cf_future_result(f, CF_FOREVER, NULL), ECANCELED);
    ck_assert_int_eq(cf_future_error(f, CF_FOREVER, NULL), ECANCELED);
    ck_assert_int_eq(cf_future_set_result(f, NULL), EINVAL);
    ck_assert(!cf_future_set_running(f));
    cf_future_unref(f);

    /* RUNNING cannot be cancelled; the request does not change the outcome. */
    f = cf_future_new();
    ck_assert(cf_future_set_running(f));
    ck_assert_int_eq(cf_future_state(f), CF_RUNNING);
    ck_assert(!cf_future_set_running(f));
    ck_assert(!cf_future_cancel(f));
    ck_assert_int_eq(cf_future_state(f), CF_RUNNING);
    ck_assert_int_eq(cf_future_set_result(f, (void *)3), 0);
    void *v;
    ck_assert_int_eq(cf_future_result(f, 0, &v), 0);
    ck_assert_ptr_eq(v, (void *)3);
    cf_future_unref(f);
}
END_TEST

/* Callbacks */
typedef struct cblog { int n; int order[16]; pthread_t thread[16]; } cblog;


typedef struct cbarg { cblog *log; int id; } cbarg;

static void rec_cb(cf_future *f, void *arg)
{
    (void)f;
    cbarg *a = arg;
    a->log->order[a->log->n] = a->id;
    a->log->thread[a->log->n++] = pthread_self();
}

static void *complete_later(void *arg)
{
    sleep_ms(20);
    cf_future_set_result(arg, (void *)1);
    return NULL;
}

START_TEST(callbacks_in_order_in_completing_thread)
{
    cblog log = { 0 };
    cbarg a[5];
    cf_future *f = cf_future_new();
    for (int i = 0; i < 5; i++) {
        a[i] = (cbarg){ &log, i };
        ck_assert_int_eq(cf_future_add_done_callback(f, rec_cb, &a[i]), 0);
    }
    ck_assert_int_eq(log.n, 0);
    pthread_t t;
    pthread_create(&t, NULL, complete_later, f);
    ck_assert_int_eq(cf_future_result(f, CF_FOREVER, NULL), 0);
    pthread_join(t, NULL);
    ck_assert_int_eq(log.n, 5);
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(log.order[i], i);
        ck_assert(pthread_equal(log.thread[i], t));
    }
    /* Already done: runs at once, in the caller. */
    cbarg late = { &log, 9 };
    ck_assert_int_eq(cf_future_add_done_callback(f, rec_cb, &late), 0);
    ck_assert_int_eq(log.n, 6);
    ck_assert_int_eq(log.order[5], 9);
    ck_assert(pthread_equal(log.thread[5], pthread_self()));
    cf_future_unref(f);
}
END_TEST

static int reentrant_hits;
static void inner_cb(cf_future *f, void *arg)
{
    (void)f;
    (void)arg;
    reentrant_hits++;
}
static void reentrant_cb(cf_future *f, void *arg)
{
    (void)arg;
    reentrant_hits++;
    /* Adding a callback from a callback runs it at once (no deadlock) ... */
    ck_assert_int_eq(cf_future_add_done_callback(f, inner_cb, NULL), 0);
    /* ... and a callback may drop the last reference held by someone else. */
    cf_future_unref(f);
}

START_TEST(callbacks_may_reenter_and_drop_references)
{
    reentrant_hits = 0;
    cf_future *f = cf_future_new();
    cf_future_ref(f);      /* the reference the callback drops */
    ck_assert_int_eq(cf_future_add_done_callback(f, reentrant_cb, NULL), 0);
    ck_assert_int_eq(cf_future_set_result(f, NULL), 0);
    ck_assert_int_eq(reentrant_hits, 2);
    cf_future_unref(f);

    /* The callback drops the only reference: the completer keeps f alive meanwhile. */
    reentrant_hits = 0;
    f = cf_future_new();
    ck_assert_int_eq(cf_future_add_done_callback(f, reentrant_cb, NULL), 0);
    ck_assert_int_eq(cf_future_cancel(f), true);
    ck_assert_int_eq(reentrant_hits, 2);
}
END_TEST

static void count_cb(cf_future *f, void *arg)
{
    (void)f;
    atomic_fetch_add((_Atomic int *)arg, 1);
}

START_TEST(unrun_callbacks_are_freed_with_the_future)
{
    _Atomic int n = 0;
    cf_future *f = cf_future_new();
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(cf_future_add_done_callback(f, count_cb, &n), 0);
    cf_future_unref(f);    /* never done: callbacks never run, no leak (ASan checks) */
    ck_assert_int_eq(n, 0);
}
END_TEST

/* Many threads race to complete, cancel and add callbacks: exactly one completion wins, and every
 * callback runs exactly once. */
typedef struct race { cf_future *f; _Atomic int *cbs; _Atomic int *wins; pthread_barrier_t *b; int id; } race;

static void *racer(void *arg)
{
    race *r = arg;
    pthread_barrier_wait(r->b);
    for (int i = 0; i < 4; i++)
        cf_future_add_done_callback(r->f, count_cb, r->cbs);
    bool won = false;
    switch (r->id % 3) {
    case 0: won = cf_future_set_result(r->f, (void *)(intptr_t)r->id) == 0; break;
    case 1: won = cf_future_set_error(r->f, EIO, "racer") == 0; break;
    case 2: won = cf_future_cancel(r->f) && cf_future_state(r->f) == CF_CANCELLED; break;
    }
    if (won && r->id % 3 != 2)
        atomic_fetch_add(r->wins, 1);
    return NULL;
}

START_TEST(completion_races)
{
    enum { T = 6 };
    for (int round = 0; round < cf_scaled(300); round++) {
        _Atomic int cbs = 0, wins = 0;
        pthread_barrier_t b;
        pthread_barrier_init(&b, NULL, T);
        cf_future *f = cf_future_new();
        race r[T];
        pthread_t t[T];
        for (int i = 0; i < T; i++) {
            r[i] = (race){ f, &cbs, &wins, &b, i };
            pthread_create(&t[i], NULL, racer, &r[i]);
        }
        for (int i = 0; i < T; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&b);
        ck_assert(cf_future_done(f));
        ck_assert_int_eq(cbs, 4 * T);
        /* Exactly one completer: a cancelled future has no winning setter. */
        ck_assert_int_eq(wins, cf_future_state(f) == CF_CANCELLED ? 0 : 1);
        cf_future_unref(f);
    }
}
END_TEST

static void *waiter_thread(void *arg)
{
    void *v = NULL;
    int r = cf_future_result(arg, CF_FOREVER, &v);
    return (void *)(intptr_t)(r == 0 && v == (void *)99);
}

START_TEST(many_waiters_all_wake)
{
    for (int round = 0; round < cf_scaled(50); round++) {
        cf_future *f = cf_future_new();
        pthread_t t[8];
        for (int i = 0; i < 8; i++)
            pthread_create(&t[i], NULL, waiter_thread, f);
        if (round % 2)
            sleep_ms(1);
        cf_future_set_result(f, (void *)99);
        for (int i = 0; i < 8; i++) {
            void *ok;
            pthread_join(t[i], &ok);
            ck_assert_ptr_eq(ok, (void *)1);
        }
        cf_future_unref(f);
    }
}
END_TEST

START_TEST(task_api_outside_a_task)
{
    cf_task_fail(EIO, "ignored %d", 1);   /* does nothing, does not crash */
    ck_assert(!cf_task_cancelled());
}
END_TEST

START_TEST(strerror_knows_everything)
{
    ck_assert_str_eq(cf_strerror(0), "Success");
    ck_assert_ptr_nonnull(strstr(cf_strerror(CF_EBROKEN), "broken"));
    ck_assert_ptr_nonnull(strstr(cf_strerror(CF_EWORKER), "died"));
    ck_assert_str_eq(cf_strerror(ETIMEDOUT), "Connection timed out");
    ck_assert_str_eq(cf_strerror(123456), "Unknown error");
    ck_assert_str_eq(cf_strerror(-5), "Unknown error");
    ck_assert_int_eq(CF_EWORKER, CF_EBROKEN + 1);
}
END_TEST

START_TEST(errname_names_codes)
{
    ck_assert_str_eq(cf_errname(0), "0");
    ck_assert_str_eq(cf_errname(ETIMEDOUT), "ETIMEDOUT");
    ck_assert_str_eq(cf_errname(ECANCELED), "ECANCELED");
    ck_assert_str_eq(cf_errname(CF_EBROKEN), "CF_EBROKEN");
    ck_assert_str_eq(cf_errname(CF_EWORKER), "CF_EWORKER");
    ck_assert_str_eq(cf_errname(CF_EAI_BASE - EAI_NONAME), "EAI_NONAME");
    ck_assert_str_eq(cf_errname(CF_EAI_BASE + 1023), "EAI_UNKNOWN");
    ck_assert_str_eq(cf_errname(-5), "UNKNOWN");
    ck_assert_str_eq(cf_errname(123456), "UNKNOWN");
    ck_assert_str_eq(cf_errname(CF_EBROKEN + 7), "UNKNOWN");
    ck_assert_str_eq(cf_strerror(CF_EBROKEN + 7), "Unknown error");
}
END_TEST

START_TEST(version_agrees)
{
    ck_assert_uint_eq(cf_version(), CF_VERSION_HEX);
    ck_assert_str_eq(cf_version_string(), CF_VERSION_STRING);
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", CF_VERSION_MAJOR, CF_VERSION_MINOR, CF_VERSION_PATCH);
    ck_assert_str_eq(cf_version_string(), want);
    ck_assert(CF_VERSION_CHECK(CF_VERSION_MAJOR, CF_VERSION_MINOR, CF_VERSION_PATCH));
    ck_assert(CF_VERSION_CHECK(0, 0, 0));
    ck_assert(!CF_VERSION_CHECK(CF_VERSION_MAJOR + 1, 0, 0));
    ck_assert(!CF_VERSION_CHECK(CF_VERSION_MAJOR, CF_VERSION_MINOR, CF_VERSION_PATCH + 1));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("future");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, new_future_is_pending);
    tcase_add_test(tc, set_result_then_read);
    tcase_add_test(tc, set_error_then_read);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, timeouts_are_honoured);
    tcase_add_test(tc, cancel_semantics);
    tcase_add_test(tc, callbacks_in_order_in_completing_thread);
    tcase_add_test(tc, callbacks_may_reenter_and_drop_references);
    tcase_add_test(tc, unrun_callbacks_are_freed_with_the_future);
    tcase_add_test(tc, completion_races);
    tcase_add_test(tc, many_waiters_all_wake);
    tcase_add_test(tc, task_api_outside_a_task);
    tcase_add_test(tc, strerror_knows_everything);
    tcase_add_test(tc, errname_names_codes);
    tcase_add_test(tc, version_agrees);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
