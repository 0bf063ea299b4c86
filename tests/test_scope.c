/* SPDX-License-Identifier: MIT */
/* test_scope.c: deadline scopes around each kind of wait, in a thread and in a coroutine;
 * nesting (the earliest deadline wins; an inner exit is false when an outer deadline cut the
 * wait); polls inside a scope; tokens that are not open; scopes without a deadline; work that
 * never waits; coroutines spawned inside a scope. */
#include <poll.h>
#include <sys/socket.h>

#include "synctest.h"

/* Each waits "forever" on something that never comes; returns the wait's result. */
typedef struct never {
    cf_future    *f;
    cf_queue     *q;
    cf_lock      *l;        /* held by another thread */
    cf_event     *e;
    cf_semaphore *s;
    cf_condition *c;
    cf_barrier   *b;
    int           fds[2];
} never;

static int w_result(never *n) { return cf_future_result(n->f, -1, NULL); }
static int w_await(never *n) { return cf_await(n->f, -1, NULL); }
static int w_wait(never *n) { return cf_wait(&n->f, 1, -1, CF_FIRST_COMPLETED); }
static int w_gather(never *n) { return cf_gather(&n->f, 1, -1, NULL); }
static int w_as_completed(never *n)
{
    cf_as_completed *it = cf_as_completed_new(&n->f, 1);
    int r = cf_as_completed_next(it, -1, NULL);
    cf_as_completed_free(it);
    return r;
}
static int w_sleep(never *n) { (void)n; return cf_sleep(10); }
static int w_fd(never *n) { return cf_await_fd(n->fds[0], POLLIN, -1); }
static int w_queue(never *n) { void *v; return cf_queue_get(n->q, -1, &v); }
static int w_lock(never *n) { return cf_lock_acquire(n->l, -1); }
static int w_event(never *n) { return cf_event_wait(n->e, 10); }
static int w_semaphore(never *n) { return cf_semaphore_acquire(n->s, -1); }
static int w_barrier(never *n) { return cf_barrier_wait(n->b, -1, NULL); }
static int w_condition(never *n)
{
    cf_lock *l = cf_condition_lock(n->c);
    cf_lock_acquire(l, -1);
    int r = cf_condition_wait(n->c, -1);
    cf_lock_release(l);
    return r;
}

typedef int (*wait_fn)(never *n);
static const struct { const char *name; wait_fn fn; } kinds[] = {
    { "future_result", w_result }, { "await", w_await }, { "wait", w_wait },
    { "gather", w_gather }, { "as_completed", w_as_completed }, { "sleep", w_sleep },
    { "await_fd", w_fd }, { "queue_get", w_queue }, { "lock", w_lock }, { "event", w_event },
    { "semaphore", w_semaphore }, { "barrier", w_barrier }, { "condition", w_condition },
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

static void *hold(void *p)
{
    cf_lock *l = p;
    ck_assert_int_eq(cf_lock_acquire(l, -1), 0);
    return NULL;   /* and never releases: the lock is freed with the test */
}

static void never_init(never *n)
{
    n->f = cf_future_new();
    n->q = cf_queue_new(0);
    n->l = cf_lock_new();
    pthread_t t;
    pthread_create(&t, NULL, hold, n->l);
    pthread_join(t, NULL);
    n->e = cf_event_new();
    n->s = cf_semaphore_new(0, 0);
    n->c = cf_condition_new(NULL);
    n->b = cf_barrier_new(2);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, n->fds), 0);
}

static void never_free(never *n)
{
    cf_future_unref(n->f);
    cf_queue_free(n->q);
    cf_lock_free(n->l);
    cf_event_free(n->e);
    cf_semaphore_free(n->s);
    cf_condition_free(n->c);
    cf_barrier_free(n->b);
    close(n->fds[0]);
    close(n->fds[1]);
}

/* Every kind, under a 20 ms scope: ETIMEDOUT, soon, and the scope says it fired. */
static void *every_kind(void *p)
{
    never *n = p;
    for (size_t k = 0; k < NKINDS; k++) {
        if (kinds[k].fn == w_barrier)
            cf_barrier_reset(n->b);   /* the previous round broke it */
        double t0 = now_s();
        int t = cf_scope_enter(0.02);
        ck_assert_int_ge(t, 1);
        int r = kinds[k].fn(n);
        double took = now_s() - t0;
        ck_assert_msg(r == ETIMEDOUT, "%s: %d", kinds[k].name, r);
        ck_assert_msg(took >= 0.015 && took < 2, "%s: %.3f s", kinds[k].name, took);
        ck_assert(cf_scope_exit(t));
    }
    return NULL;
}

START_TEST(every_wait_in_a_thread)
{
    never n;
    never_init(&n);
    every_kind(&n);
    never_free(&n);
}
END_TEST

START_TEST(every_wait_in_a_coroutine)
{
    never n;
    never_init(&n);
    run_coro(every_kind, &n);
    never_free(&n);
}
END_TEST

static void *nesting(void *p)
{
    (void)p;
    cf_event *e = cf_event_new();
    /* The inner deadline is earlier: it fires, the outer does not. */
    int outer = cf_scope_enter(5);
    int inner = cf_scope_enter(0.01);
    ck_assert_int_ne(outer, inner);
    ck_assert_int_eq(cf_event_wait(e, -1), ETIMEDOUT);
    ck_assert(cf_scope_exit(inner));
    ck_assert_int_eq(cf_event_wait(e, 0.005), ETIMEDOUT);   /* its own timeout now */
    ck_assert(!cf_scope_exit(outer));
    /* The outer deadline is earlier: it cuts the wait, the inner exit says false. */
    outer = cf_scope_enter(0.01);
    inner = cf_scope_enter(5);
    ck_assert_int_eq(cf_event_wait(e, -1), ETIMEDOUT);
    ck_assert(!cf_scope_exit(inner));
    ck_assert(cf_scope_exit(outer));
    /* A shorter timeout than the scope's is kept. */
    outer = cf_scope_enter(5);
    double t0 = now_s();
    ck_assert_int_eq(cf_event_wait(e, 0.01), ETIMEDOUT);
    ck_assert(now_s() - t0 < 1);
    /* A poll in a live scope polls. */
    ck_assert_int_eq(cf_event_wait(e, 0), EAGAIN);
    ck_assert(!cf_scope_exit(outer));
    /* Leaving an outer scope leaves the inner ones; their tokens are then not open. */
    outer = cf_scope_enter(5);
    inner = cf_scope_enter(0.01);
    ck_assert(!cf_scope_exit(outer));
    ck_assert(!cf_scope_exit(inner));                       /* left with the outer one */
    ck_assert(!cf_scope_exit(12345678));
    ck_assert(!cf_scope_exit(0));
    ck_assert(!cf_scope_exit(-1));
    t0 = now_s();
    ck_assert_int_eq(cf_event_wait(e, 0.05), ETIMEDOUT);    /* no scope left over to cut it */
    ck_assert(now_s() - t0 >= 0.045);
    /* No deadline. */
    int t = cf_scope_enter(-1);
    ck_assert_int_ge(t, 1);
    ck_assert_int_eq(cf_event_wait(e, 0.005), ETIMEDOUT);
    ck_assert(!cf_scope_exit(t));
    errno = 0;
    ck_assert_int_eq(cf_scope_enter(NAN), -1);
    ck_assert_int_eq(errno, EINVAL);
    /* Deep nesting outgrows the inline stack. */
    int toks[40];
    for (int i = 0; i < 40; i++)
        toks[i] = cf_scope_enter(100 - i);
    ck_assert_int_eq(cf_event_wait(e, 0.001), ETIMEDOUT);
    for (int i = 39; i >= 0; i--)
        ck_assert(!cf_scope_exit(toks[i]));
    cf_event_free(e);
    return NULL;
}

START_TEST(nesting_and_tokens_in_a_thread) { nesting(NULL); }
END_TEST

START_TEST(nesting_and_tokens_in_a_coroutine) { run_coro(nesting, NULL); }
END_TEST

START_TEST(work_that_never_waits_is_not_interrupted)
{
    int t = cf_scope_enter(0.005);
    volatile unsigned long x = 0;
    double t0 = now_s();
    while (now_s() - t0 < 0.02)
        x++;                                     /* nothing to cut: it runs to its end */
    ck_assert(x > 0);
    cf_lock *l = cf_lock_new();
    ck_assert_int_eq(cf_lock_acquire(l, -1), 0); /* a wait that need not wait succeeds */
    ck_assert_int_eq(cf_lock_release(l), 0);
    cf_lock_free(l);
    ck_assert(cf_scope_exit(t));                 /* its deadline passed while it was open */
}
END_TEST

static void *child(void *p)
{
    return (void *)(intptr_t)cf_event_wait(p, 0.1);   /* not under the parent's scope */
}

static void *parent(void *p)
{
    cf_event *e = p;
    int t = cf_scope_enter(0.01);
    cf_future *f = cf_loop_spawn(cf_loop_current(), child, e);
    ck_assert_int_eq(cf_await(f, -1, NULL), ETIMEDOUT);   /* the parent's wait is cut */
    ck_assert(cf_scope_exit(t));
    void *v;
    double t0 = now_s();
    ck_assert_int_eq(cf_await(f, -1, &v), 0);
    ck_assert_int_eq((intptr_t)v, ETIMEDOUT);             /* the child waited its own 0.1 s */
    ck_assert(now_s() - t0 > 0.03);
    cf_future_unref(f);
    return NULL;
}

START_TEST(spawned_coroutine_is_not_under_the_scope)
{
    cf_event *e = cf_event_new();
    run_coro(parent, e);
    cf_event_free(e);
}
END_TEST

/* A scope in one coroutine does not touch its siblings or the thread. */
static void *scoped_sibling(void *p)
{
    int t = cf_scope_enter(0.01);
    int r = cf_event_wait(p, -1);
    cf_scope_exit(t);
    return (void *)(intptr_t)r;
}

static void *unscoped_sibling(void *p)
{
    return (void *)(intptr_t)cf_event_wait(p, 0.08);
}

START_TEST(scopes_belong_to_their_coroutine)
{
    cf_event *e = cf_event_new();
    cf_loop *loop = cf_loop_new();
    cf_future *a = cf_loop_spawn(loop, scoped_sibling, e), *b = cf_loop_spawn(loop, unscoped_sibling, e);
    double t0 = now_s();
    ck_assert_int_eq(cf_loop_run(loop), 0);
    void *va, *vb;
    cf_future_result(a, 0, &va);
    cf_future_result(b, 0, &vb);
    ck_assert_int_eq((intptr_t)va, ETIMEDOUT);
    ck_assert_int_eq((intptr_t)vb, ETIMEDOUT);
    ck_assert(now_s() - t0 >= 0.07);                /* b waited its own timeout */
    ck_assert(!cf_scope_exit(1));                    /* the thread has no scope open */
    cf_future_unref(a);
    cf_future_unref(b);
    cf_loop_free(loop);
    cf_event_free(e);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("scope");
    TCase *tc = tcase_create("scope");
    tcase_set_timeout(tc, 60);
    CF_ADD_TEST(tc, every_wait_in_a_thread);
    CF_ADD_TEST(tc, every_wait_in_a_coroutine);
    CF_ADD_TEST(tc, nesting_and_tokens_in_a_thread);
    CF_ADD_TEST(tc, nesting_and_tokens_in_a_coroutine);
    CF_ADD_TEST(tc, work_that_never_waits_is_not_interrupted);
    CF_ADD_TEST(tc, spawned_coroutine_is_not_under_the_scope);
    CF_ADD_TEST(tc, scopes_belong_to_their_coroutine);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
