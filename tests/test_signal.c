/* SPDX-License-Identifier: MIT */
/* test_signal.c: signal handlers on loops: errors, a delivery spawning a coroutine whichever
 * thread the kernel picks (threads made before the handler included), a signal that came while
 * nobody ran the loop, two loops on two threads, removal and cf_loop_free restoring the
 * disposition there was before. */
#include <signal.h>

#include "synctest.h"

static cf_event *got;
static atomic_int handled;

static void *on_usr(void *arg)
{
    (void)arg;
    atomic_fetch_add(&handled, 1);
    ck_assert_ptr_nonnull(cf_loop_current());       /* a coroutine on the loop */
    cf_event_set(got);
    return NULL;
}

static void *wait_for_it(void *arg)
{
    return (void *)(intptr_t)cf_event_wait(got, arg ? *(double *)arg : 10);
}

static volatile sig_atomic_t old_handler_ran;
static void old_handler(int s) { (void)s; old_handler_ran = 1; }

START_TEST(errors_and_removal)
{
    cf_loop *loop = cf_loop_new();
    ck_assert_int_eq(cf_loop_add_signal_handler(NULL, SIGUSR1, on_usr, NULL), EINVAL);
    ck_assert_int_eq(cf_loop_add_signal_handler(loop, SIGUSR1, NULL, NULL), EINVAL);
    ck_assert_int_eq(cf_loop_add_signal_handler(loop, SIGKILL, on_usr, NULL), EINVAL);
    ck_assert_int_eq(cf_loop_add_signal_handler(loop, SIGSTOP, on_usr, NULL), EINVAL);
    ck_assert_int_eq(cf_loop_add_signal_handler(loop, 0, on_usr, NULL), EINVAL);
    ck_assert_int_eq(cf_loop_add_signal_handler(loop, 100000, on_usr, NULL), EINVAL);
    ck_assert_int_eq(cf_loop_remove_signal_handler(loop, SIGUSR1), ENOENT);
    ck_assert_int_eq(cf_loop_remove_signal_handler(NULL, SIGUSR1), EINVAL);
    /* The disposition before comes back on remove. */
    struct sigaction sa = { .sa_handler = old_handler }, now;
    sigaction(SIGUSR2, &sa, NULL);
    ck_assert_int_eq(cf_loop_add_signal_handler(loop, SIGUSR2, on_usr, NULL), 0);
    sigaction(SIGUSR2, NULL, &now);
    ck_assert(now.sa_handler != old_handler);
    ck_assert_int_eq(cf_loop_remove_signal_handler(loop, SIGUSR2), 0);
    sigaction(SIGUSR2, NULL, &now);
    ck_assert(now.sa_handler == old_handler);
    raise(SIGUSR2);
    ck_assert_int_eq(old_handler_ran, 1);
    /* cf_loop_free removes the loop's handlers. */
    ck_assert_int_eq(cf_loop_add_signal_handler(loop, SIGUSR2, on_usr, NULL), 0);
    cf_loop_free(loop);
    sigaction(SIGUSR2, NULL, &now);
    ck_assert(now.sa_handler == old_handler);
}
END_TEST

static void *sender(void *arg)
{
    atomic_int *go = arg;
    while (!atomic_load(go))
        sleep_ms(1);
    sleep_ms(20);
    kill(getpid(), SIGUSR1);        /* to the process: any thread may get it */
    return NULL;
}

START_TEST(delivery_spawns_a_coroutine)
{
    got = cf_event_new();
    atomic_store(&handled, 0);
    atomic_int go = 0;
    pthread_t t;
    pthread_create(&t, NULL, sender, &go);            /* made before the handler */
    cf_loop *loop = cf_loop_new();
    ck_assert_int_eq(cf_loop_add_signal_handler(loop, SIGUSR1, on_usr, NULL), 0);
    cf_future *w = cf_loop_spawn(loop, wait_for_it, NULL);
    atomic_store(&go, 1);
    void *v;
    ck_assert_int_eq(cf_loop_run_until_complete(loop, w, &v), 0);
    ck_assert_int_eq((intptr_t)v, 0);
    ck_assert_int_eq(atomic_load(&handled), 1);
    pthread_join(t, NULL);
    cf_future_unref(w);
    /* A signal that comes while nobody runs the loop: handled at its next run. */
    cf_event_clear(got);
    raise(SIGUSR1);
    w = cf_loop_spawn(loop, wait_for_it, NULL);
    ck_assert_int_eq(cf_loop_run_until_complete(loop, w, &v), 0);
    ck_assert_int_eq((intptr_t)v, 0);
    ck_assert_int_eq(atomic_load(&handled), 2);
    cf_future_unref(w);
    cf_loop_free(loop);
    cf_event_free(got);
}
END_TEST

/* Two loops on two threads, each with its own signal: each handler runs on its own loop. */
typedef struct two_ctx {
    cf_loop  *loop;
    cf_event *e;
    int       signo;
    atomic_int ran;
    cf_loop  *ran_on;
} two_ctx;

static void *two_handler(void *arg)
{
    two_ctx *c = arg;
    c->ran_on = cf_loop_current();
    atomic_fetch_add(&c->ran, 1);
    cf_event_set(c->e);
    return NULL;
}

static void *two_waiter(void *arg)
{
    two_ctx *c = arg;
    return (void *)(intptr_t)cf_event_wait(c->e, 10);
}

static void *two_thread(void *arg)
{
    two_ctx *c = arg;
    cf_future *w = cf_loop_spawn(c->loop, two_waiter, c);
    void *v;
    ck_assert_int_eq(cf_loop_run_until_complete(c->loop, w, &v), 0);
    ck_assert_int_eq((intptr_t)v, 0);
    cf_future_unref(w);
    return NULL;
}

START_TEST(two_loops_two_signals)
{
    two_ctx a = { .loop = cf_loop_new(), .e = cf_event_new(), .signo = SIGUSR1 };
    two_ctx b = { .loop = cf_loop_new(), .e = cf_event_new(), .signo = SIGUSR2 };
    ck_assert_int_eq(cf_loop_add_signal_handler(a.loop, SIGUSR1, two_handler, &a), 0);
    ck_assert_int_eq(cf_loop_add_signal_handler(b.loop, SIGUSR2, two_handler, &b), 0);
    pthread_t ta, tb;
    pthread_create(&ta, NULL, two_thread, &a);
    pthread_create(&tb, NULL, two_thread, &b);
    sleep_ms(30);
    kill(getpid(), SIGUSR2);
    kill(getpid(), SIGUSR1);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    ck_assert_int_eq(atomic_load(&a.ran), 1);
    ck_assert_int_eq(atomic_load(&b.ran), 1);
    ck_assert_ptr_eq(a.ran_on, a.loop);
    ck_assert_ptr_eq(b.ran_on, b.loop);
    cf_loop_free(a.loop);
    cf_loop_free(b.loop);
    cf_event_free(a.e);
    cf_event_free(b.e);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("signal");
    TCase *tc = tcase_create("signal");
    tcase_set_timeout(tc, 60);
    CF_ADD_TEST(tc, errors_and_removal);
    CF_ADD_TEST(tc, delivery_spawns_a_coroutine);
    CF_ADD_TEST(tc, two_loops_two_signals);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
