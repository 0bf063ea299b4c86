/* SPDX-License-Identifier: MIT */
/* test_embed.c: a cf_loop inside another program's main loop: cf_loop_run_once and cf_loop_fd
 * driven by a plain poll() loop (timers, ready coroutines, a wake-up from another thread), the fd
 * going quiet once the work is done, the errors; and, when GLib is there, inside a GMainLoop. */
#include <math.h>
#include <poll.h>

#include "synctest.h"

#ifdef CF_TEST_GLIB
#include <glib-unix.h>
#include <glib.h>
#endif

START_TEST(errors)
{
    ck_assert_int_eq(cf_loop_run_once(NULL, 0), EINVAL);
    errno = 0;
    ck_assert_int_eq(cf_loop_fd(NULL), -1);
    ck_assert_int_eq(errno, EINVAL);
    cf_loop *loop = cf_loop_new();
    ck_assert_int_eq(cf_loop_run_once(loop, NAN), EINVAL);
    double t0 = now_s();
    ck_assert_int_eq(cf_loop_run_once(loop, 5), 0);   /* nothing to do: at once */
    ck_assert(now_s() - t0 < 1);
    cf_loop_free(loop);
}
END_TEST

static void *run_once_inside(void *arg)
{
    return (void *)(intptr_t)cf_loop_run_once(arg, 0);
}

typedef struct work {
    cf_future *remote;      /* completed by another thread */
    atomic_int stage;
} work;

static void *sleeps_then_awaits(void *arg)
{
    work *w = arg;
    ck_assert_int_eq(cf_sleep(0.02), 0);                  /* a timer */
    atomic_store(&w->stage, 1);
    for (int i = 0; i < 3; i++)
        cf_yield();                                       /* ready coroutines */
    void *v;
    ck_assert_int_eq(cf_await(w->remote, 10, &v), 0);     /* a wake-up from another thread */
    atomic_store(&w->stage, 2);
    return v;
}

static void *completer(void *arg)
{
    work *w = arg;
    while (atomic_load(&w->stage) < 1)
        sleep_ms(1);
    sleep_ms(20);
    cf_future_set_result(w->remote, (void *)7);
    return NULL;
}

static bool readable(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, ms) == 1;
}

START_TEST(inside_a_poll_loop)
{
    cf_loop *loop = cf_loop_new();
    int fd = cf_loop_fd(loop);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(cf_loop_fd(loop), fd);               /* the same fd each time */
    ck_assert(!readable(fd, 0));                          /* nothing to do yet */
    work w = { .remote = cf_future_new() };
    cf_future *f = cf_loop_spawn(loop, sleeps_then_awaits, &w);
    /* EBUSY from a coroutine. */
    cf_future *g = cf_loop_spawn(loop, run_once_inside, loop);
    pthread_t t;
    pthread_create(&t, NULL, completer, &w);
    int wakeups = 0;
    double t0 = now_s();
    while (!cf_future_done(f) && now_s() - t0 < 10) {
        if (readable(fd, 2000)) {                          /* the host's own poll */
            wakeups++;
            ck_assert_int_eq(cf_loop_run_once(loop, 0), 0);
        }
    }
    pthread_join(t, NULL);
    ck_assert(cf_future_done(f));
    void *v;
    ck_assert_int_eq(cf_future_result(f, 0, &v), 0);
    ck_assert_int_eq((intptr_t)v, 7);
    ck_assert_int_eq(cf_future_result(g, 0, &v), 0);
    ck_assert_int_eq((intptr_t)v, EBUSY);
    ck_assert_int_lt(wakeups, 200);                       /* woken for work, not spinning */
    /* Quiet once the work is done: a few passes at most. */
    for (int i = 0; i < 3 && readable(fd, 0); i++)
        cf_loop_run_once(loop, 0);
    ck_assert(!readable(fd, 50));
    cf_future_unref(f);
    cf_future_unref(g);
    cf_future_unref(w.remote);
    cf_loop_free(loop);
}
END_TEST

START_TEST(run_once_waits_up_to_its_timeout)
{
    cf_loop *loop = cf_loop_new();
    work w = { .remote = cf_future_new() };
    cf_future *f = cf_loop_spawn(loop, sleeps_then_awaits, &w);
    ck_assert_int_eq(cf_loop_run_once(loop, 0), 0);       /* starts it: it sleeps */
    double t0 = now_s();
    ck_assert_int_eq(cf_loop_run_once(loop, 0.005), 0);   /* nothing due within 5 ms */
    ck_assert(now_s() - t0 < 0.5);
    while (atomic_load(&w.stage) < 1)
        ck_assert_int_eq(cf_loop_run_once(loop, 1), 0);   /* the timer wakes it */
    cf_future_set_result(w.remote, NULL);
    while (!cf_future_done(f))
        cf_loop_run_once(loop, 1);
    cf_future_unref(f);
    cf_future_unref(w.remote);
    cf_loop_free(loop);
}
END_TEST

#ifdef CF_TEST_GLIB
static gboolean on_fd(gint fd, GIOCondition cond, gpointer data)
{
    (void)fd, (void)cond;
    cf_loop_run_once(data, 0);
    return G_SOURCE_CONTINUE;
}

static gboolean check_done(gpointer data)
{
    void **d = data;
    if (cf_future_done(d[0])) {
        g_main_loop_quit(d[1]);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

START_TEST(inside_a_glib_main_loop)
{
    cf_loop *loop = cf_loop_new();
    work w = { .remote = cf_future_new() };
    cf_future *f = cf_loop_spawn(loop, sleeps_then_awaits, &w);
    pthread_t t;
    pthread_create(&t, NULL, completer, &w);
    GMainLoop *ml = g_main_loop_new(NULL, FALSE);
    guint src = g_unix_fd_add(cf_loop_fd(loop), G_IO_IN, on_fd, loop);
    void *d[2] = { f, ml };
    g_timeout_add(5, check_done, d);
    g_main_loop_run(ml);
    pthread_join(t, NULL);
    void *v;
    ck_assert_int_eq(cf_future_result(f, 0, &v), 0);
    ck_assert_int_eq((intptr_t)v, 7);
    g_source_remove(src);
    g_main_loop_unref(ml);
    cf_future_unref(f);
    cf_future_unref(w.remote);
    cf_loop_free(loop);
}
END_TEST
#endif

static Suite *suite(void)
{
    Suite *s = suite_create("embed");
    TCase *tc = tcase_create("embed");
    tcase_set_timeout(tc, 60);
    CF_ADD_TEST(tc, errors);
    CF_ADD_TEST(tc, inside_a_poll_loop);
    CF_ADD_TEST(tc, run_once_waits_up_to_its_timeout);
#ifdef CF_TEST_GLIB
    CF_ADD_TEST(tc, inside_a_glib_main_loop);
#endif
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
