/* SPDX-License-Identifier: MIT */
/* test_loop.c: coroutines and the event loop: every function and error path, FIFO and timer
 * order, awaiting futures completed by coroutines, threads and processes, cancellation in each
 * kind of await (and its once-only delivery), gather, fds, stop, teardown, 100,000 sleeping
 * coroutines, stack overflow onto the guard page and past the canary, and a stress of threads
 * completing and cancelling while coroutines await. */
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>

#include "testutil.h"

static bool sanitized(void)
{
    const char *s = getenv("CF_SANITIZED");
    return s && *s == '1';
}

/* ThreadSanitizer gives every coroutine (fiber) a thread's bookkeeping, a megabyte of trace
 * each from a bounded region: its runs keep a few thousand coroutines alive at once. */
static bool tsan(void)
{
    const char *s = getenv("CF_SANITIZER");
    return s && strstr(s, "thread");
}

/* ---- basics ---- */

static void *answer(void *arg)
{
    ck_assert_ptr_eq(cf_loop_current(), arg);
    ck_assert_int_eq(cf_yield(), 0);
    ck_assert_int_eq(cf_sleep(0.001), 0);
    ck_assert_ptr_eq(cf_loop_current(), arg);
    return (void *)42;
}

START_TEST(spawn_and_run_until_complete)
{
    cf_loop *loop = cf_loop_new();
    ck_assert_ptr_nonnull(loop);
    ck_assert_ptr_null(cf_loop_current());
    cf_future *f = cf_loop_spawn(loop, answer, loop);
    ck_assert_int_eq(cf_future_state(f), CF_PENDING);     /* nothing runs before the loop does */
    void *v = NULL;
    ck_assert_int_eq(cf_loop_run_until_complete(loop, f, &v), 0);
    ck_assert_ptr_eq(v, (void *)42);
    ck_assert_int_eq(cf_future_state(f), CF_FINISHED);
    /* Again, on a done future: returns at once with its result. */
    ck_assert_int_eq(cf_loop_run_until_complete(loop, f, &v), 0);
    cf_future_unref(f);
    /* A loop with nothing to run returns at once. */
    ck_assert_int_eq(cf_loop_run(loop), 0);
    double t0 = cf_loop_time(loop), t1 = cf_loop_time(NULL);
    ck_assert(t1 >= t0 && t0 > 0);
    ck_assert(fabs(t0 - now_s()) < 1.0);   /* the same clock as CLOCK_MONOTONIC */
    cf_loop_free(loop);
}
END_TEST

START_TEST(bad_input_and_outside_coroutines)
{
    errno = 0;
    ck_assert_ptr_null(cf_loop_spawn(NULL, answer, NULL));
    ck_assert_int_eq(errno, EINVAL);
    cf_loop *loop = cf_loop_new();
    errno = 0;
    ck_assert_ptr_null(cf_loop_spawn(loop, NULL, NULL));
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(cf_loop_run(NULL), EINVAL);
    ck_assert_int_eq(cf_loop_run_until_complete(NULL, NULL, NULL), EINVAL);
    ck_assert_int_eq(cf_loop_run_until_complete(loop, NULL, NULL), EINVAL);
    ck_assert_int_eq(cf_await(NULL, 0, NULL), EINVAL);
    ck_assert_int_eq(cf_sleep(NAN), EINVAL);
    ck_assert_int_eq(cf_await_fd(-1, POLLIN, 0), EBADF);
    ck_assert_int_eq(cf_await_fd(0, 0, 0), EINVAL);
    ck_assert_int_eq(cf_await_fd(0, POLLIN | 0x4000, 0), EINVAL);
    ck_assert_int_eq(cf_await_fd(0, POLLIN, NAN), EINVAL);
    ck_assert_int_eq(cf_gather(NULL, 1, 0, NULL), EINVAL);
    cf_future *nul[1] = { NULL };
    ck_assert_int_eq(cf_gather(nul, 1, 0, NULL), EINVAL);
    ck_assert_int_eq(cf_gather(NULL, 0, 0, NULL), 0);
    cf_loop_stop(NULL);
    cf_loop_free(NULL);

    /* Outside coroutines everything blocks the thread, as the synchronous calls do. */
    ck_assert_ptr_null(cf_loop_current());
    ck_assert_int_eq(cf_yield(), 0);
    double t = now_s();
    ck_assert_int_eq(cf_sleep(0.02), 0);
    ck_assert(now_s() - t >= 0.02);
    ck_assert_int_eq(cf_sleep(-1), 0);          /* like asyncio.sleep(negative): no wait */
    cf_future *f = cf_future_new();
    ck_assert_int_eq(cf_await(f, 0, NULL), ETIMEDOUT);
    ck_assert_int_eq(cf_await(f, 0.01, NULL), ETIMEDOUT);
    void *vals[2] = { (void *)1, (void *)1 };
    cf_future *two[2] = { f, f };
    ck_assert_int_eq(cf_gather(two, 2, 0.01, vals), ETIMEDOUT);
    ck_assert_ptr_null(vals[0]);
    cf_future_set_result(f, (void *)5);
    ck_assert_int_eq(cf_gather(two, 2, -1, vals), 0);
    ck_assert_ptr_eq(vals[1], (void *)5);
    void *v = NULL;
    ck_assert_int_eq(cf_await(f, -1, &v), 0);
    ck_assert_ptr_eq(v, (void *)5);
    cf_future_unref(f);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(cf_await_fd(p[0], POLLIN, 0.01), ETIMEDOUT);
    ck_assert_int_eq(cf_await_fd(p[1], POLLOUT, 0), 0);
    close(p[0]);
    close(p[1]);
    ck_assert_int_eq(cf_await_fd(p[0], POLLIN, 0), EBADF);
    cf_loop_free(loop);
}
END_TEST

typedef struct nest {
    cf_loop  *loop, *other;
    cf_future *self;
} nest;

static void *try_nested(void *arg)
{
    nest *n = arg;
    ck_assert_int_eq(cf_loop_run(n->loop), EBUSY);
    ck_assert_int_eq(cf_loop_run(n->other), EBUSY);
    ck_assert_int_eq(cf_loop_run_until_complete(n->other, n->self, NULL), EBUSY);
    cf_loop_free(n->loop);    /* refused: it is running (a no-op, not a crash) */
    return NULL;
}

static void *run_from_thread(void *arg)
{
    return (void *)(intptr_t)cf_loop_run(arg);
}

static void *sleep_a_bit(void *arg)
{
    (void)arg;
    cf_sleep(0.05);
    return NULL;
}

START_TEST(run_is_not_reentrant)
{
    nest n = { cf_loop_new(), cf_loop_new(), NULL };
    n.self = cf_loop_spawn(n.loop, try_nested, &n);
    ck_assert_int_eq(cf_loop_run_until_complete(n.loop, n.self, NULL), 0);
    cf_future_unref(n.self);
    /* From another thread while it runs. */
    cf_future *f = cf_loop_spawn(n.loop, sleep_a_bit, NULL);
    cf_future *g = cf_future_new();
    pthread_t t;
    pthread_create(&t, NULL, run_from_thread, n.loop);
    WAIT_UNTIL(cf_future_state(f) == CF_RUNNING, 10);
    ck_assert_int_eq(cf_loop_run_until_complete(n.loop, g, NULL), EBUSY);
    void *r;
    pthread_join(t, &r);
    ck_assert_int_eq((int)(intptr_t)r, 0);
    ck_assert_int_eq(cf_future_state(f), CF_FINISHED);
    cf_future_unref(f);
    cf_future_unref(g);
    cf_loop_free(n.loop);
    cf_loop_free(n.other);
}
END_TEST

/* ---- ordering ---- */

typedef struct order {
    int  log[1000];
    int  n;
} order;

typedef struct order_arg {
    order *o;
    int    id;
    double sleep, deadline;
} order_arg;

static void *log_twice(void *arg)
{
    order_arg *a = arg;
    a->o->log[a->o->n++] = a->id;
    ck_assert_int_eq(cf_yield(), 0);
    a->o->log[a->o->n++] = a->id;
    return NULL;
}

START_TEST(ready_coroutines_run_in_fifo_order)
{
    cf_loop *loop = cf_loop_new();
    static order o;
    static order_arg args[100];
    o.n = 0;
    for (int i = 0; i < 100; i++) {
        args[i] = (order_arg){ &o, i, 0, 0 };
        cf_future_unref(cf_loop_spawn(loop, log_twice, &args[i]));
    }
    ck_assert_int_eq(cf_loop_run(loop), 0);
    ck_assert_int_eq(o.n, 200);
    for (int i = 0; i < 200; i++)
        ck_assert_int_eq(o.log[i], i % 100);
    cf_loop_free(loop);
}
END_TEST

static void *log_after_sleep(void *arg)
{
    order_arg *a = arg;
    a->deadline = cf_loop_time(cf_loop_current()) + a->sleep;
    ck_assert_int_eq(cf_sleep(a->sleep), 0);
    ck_assert(cf_loop_time(NULL) >= a->deadline);   /* never early */
    a->o->log[a->o->n++] = a->id;
    return NULL;
}

START_TEST(timers_fire_in_deadline_order)
{
    cf_loop *loop = cf_loop_new();
    static order o;
    static order_arg args[300];
    o.n = 0;
    uint32_t seed = 7;
    for (int i = 0; i < 300; i++) {
        args[i] = (order_arg){ &o, i, 0.003 * (double)(rnd(&seed) % 30) + 0.001, 0 };
        cf_future_unref(cf_loop_spawn(loop, log_after_sleep, &args[i]));
    }
    double t = now_s(), longest = 0;
    for (int i = 0; i < 300; i++)
        longest = args[i].sleep > longest ? args[i].sleep : longest;
    ck_assert_int_eq(cf_loop_run(loop), 0);
    ck_assert(now_s() - t >= longest);
    ck_assert_int_eq(o.n, 300);
    for (int i = 1; i < 300; i++) {
        order_arg *a = &args[o.log[i - 1]], *b = &args[o.log[i]];
        /* The deadline was read a moment before cf_sleep read it: allow for that moment (even
         * with a preemption in it; distinct sleeps differ by 3 ms). */
        ck_assert_msg(a->deadline <= b->deadline + 0.002, "%d (due %.6f) woke before %d (due %.6f)",
                      a->id, a->deadline, b->id, b->deadline);
    }
    cf_loop_free(loop);
}
END_TEST

/* ---- awaiting futures ---- */

typedef struct pair {
    cf_future *f;
    int        r;
    void      *v;
} pair;

static void *await_it(void *arg)
{
    pair *p = arg;
    p->r = cf_await(p->f, -1, &p->v);
    return p->v;
}

static void *set_later(void *arg)
{
    pair *p = arg;
    cf_sleep(0.01);
    ck_assert_int_eq(cf_future_set_result(p->f, (void *)99), 0);
    return NULL;
}

START_TEST(await_a_future_set_by_another_coroutine)
{
    cf_loop *loop = cf_loop_new();
    pair p = { cf_future_new(), -1, NULL };
    cf_future *a = cf_loop_spawn(loop, await_it, &p);
    cf_future *b = cf_loop_spawn(loop, set_later, &p);
    void *v;
    ck_assert_int_eq(cf_loop_run_until_complete(loop, a, &v), 0);
    ck_assert_int_eq(p.r, 0);
    ck_assert_ptr_eq(v, (void *)99);
    ck_assert_int_eq(cf_loop_run_until_complete(loop, b, NULL), 0);
    /* run_until_complete on a plain future that a coroutine completes. */
    pair q = { cf_future_new(), -1, NULL };
    cf_future_unref(cf_loop_spawn(loop, set_later, &q));
    ck_assert_int_eq(cf_loop_run_until_complete(loop, q.f, &v), 0);
    ck_assert_ptr_eq(v, (void *)99);
    cf_future_unref(a);
    cf_future_unref(b);
    cf_future_unref(p.f);
    cf_future_unref(q.f);
    cf_loop_free(loop);
}
END_TEST

static void *await_index(void *arg)
{
    pair *p = arg;
    void *v = NULL;
    p->r = cf_await(p->f, 30, &v);
    p->v = v;
    return v;
}

static void *complete_randomly(void *arg)
{
    pair *ps = arg;
    uint32_t seed = (uint32_t)(uintptr_t)pthread_self();
    for (int i = 0; i < 200; i++) {
        if (rnd(&seed) % 8 == 0)
            sleep_ms(0.2);
        if (i % 2 == 0)
            cf_future_set_result(ps[i].f, (void *)(intptr_t)(i + 1));
    }
    return NULL;
}

static void *complete_odd(void *arg)
{
    pair *ps = arg;
    for (int i = 199; i >= 0; i--)
        if (i % 2 == 1)
            cf_future_set_result(ps[i].f, (void *)(intptr_t)(i + 1));
    return NULL;
}

START_TEST(await_futures_completed_by_threads)
{
    cf_loop *loop = cf_loop_new();
    static pair ps[200];
    cf_future *cos[200];
    for (int i = 0; i < 200; i++) {
        ps[i] = (pair){ cf_future_new(), -1, NULL };
        cos[i] = cf_loop_spawn(loop, await_index, &ps[i]);
    }
    pthread_t t1, t2;
    pthread_create(&t1, NULL, complete_randomly, ps);
    pthread_create(&t2, NULL, complete_odd, ps);
    ck_assert_int_eq(cf_loop_run(loop), 0);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    for (int i = 0; i < 200; i++) {
        ck_assert_int_eq(ps[i].r, 0);
        ck_assert_ptr_eq(ps[i].v, (void *)(intptr_t)(i + 1));
        void *v;
        ck_assert_int_eq(cf_future_result(cos[i], 0, &v), 0);
        ck_assert_ptr_eq(v, (void *)(intptr_t)(i + 1));
        cf_future_unref(cos[i]);
        cf_future_unref(ps[i].f);
    }
    cf_loop_free(loop);
}
END_TEST

static void *cf_future_set_result_task(void *f)   /* a pool task that completes f */
{
    cf_future_set_result(f, (void *)1);
    return NULL;
}

static void *square(void *arg)
{
    intptr_t x = (intptr_t)arg;
    return (void *)(x * x);
}

typedef struct pools {
    cf_executor *procs, *threads;
    int          n;
    atomic_int   ticks;
    bool         done;
} pools;

static void *ticker(void *arg)
{
    pools *p = arg;
    while (!p->done) {
        cf_sleep(0.001);
        atomic_fetch_add(&p->ticks, 1);
    }
    return NULL;
}

static void *await_pools(void *arg)
{
    pools *p = arg;
    int n = p->n;
    cf_future **fs = malloc(2 * (size_t)n * sizeof *fs);
    void **vals = malloc(2 * (size_t)n * sizeof *vals);
    ck_assert(fs && vals);
    for (int i = 0; i < n; i++) {
        fs[i] = cf_submit(p->procs, square, (void *)(intptr_t)i);
        fs[n + i] = cf_submit(p->threads, square, (void *)(intptr_t)i);
        ck_assert(fs[i] && fs[n + i]);
    }
    /* Half awaited one by one, the rest gathered: both suspend, the ticker keeps ticking. */
    for (int i = 0; i < n; i += 2) {
        void *v;
        ck_assert_int_eq(cf_await(fs[i], 60, &v), 0);
        ck_assert_ptr_eq(v, (void *)(intptr_t)(i * i));
        ck_assert_int_eq(cf_await(fs[n + i], 60, &v), 0);
        ck_assert_ptr_eq(v, (void *)(intptr_t)(i * i));
    }
    ck_assert_int_eq(cf_gather(fs, 2 * (size_t)n, 60, vals), 0);
    for (int i = 0; i < 2 * n; i++) {
        ck_assert_ptr_eq(vals[i], (void *)(intptr_t)((i % n) * (i % n)));
        cf_future_unref(fs[i]);
    }
    free(fs);
    free(vals);
    p->done = true;
    return NULL;
}

START_TEST(a_coroutine_awaits_1000_process_and_1000_thread_futures)
{
    cf_pool_opts po = { .max_workers = 2 };
    pools p = { cf_process_pool_new(&po), cf_thread_pool_new(&po), 1000, 0, false };
    ck_assert(p.procs && p.threads);
    cf_loop *loop = cf_loop_new();
    cf_future *t = cf_loop_spawn(loop, ticker, &p);
    cf_future *m = cf_loop_spawn(loop, await_pools, &p);
    ck_assert_int_eq(cf_loop_run_until_complete(loop, m, NULL), 0);
    ck_assert_int_eq(cf_loop_run_until_complete(loop, t, NULL), 0);
    ck_assert_int_gt(atomic_load(&p.ticks), 0);
    cf_future_unref(t);
    cf_future_unref(m);
    cf_loop_free(loop);
    cf_executor_free(p.procs);
    cf_executor_free(p.threads);
}
END_TEST

/* cf_future_result, cf_wait, cf_as_completed_next and cf_gather suspend in a coroutine: the
 * future they wait for is completed by a sibling coroutine, which could never run if they blocked
 * the thread (they would time out instead). */
typedef struct sib {
    cf_future *f[3];
} sib;

static void *set_three_later(void *arg)
{
    sib *s = arg;
    for (int i = 0; i < 3; i++) {
        cf_sleep(0.005);
        cf_future_set_result(s->f[i], (void *)(intptr_t)(i + 10));
    }
    return NULL;
}

static void *sync_calls_suspend(void *arg)
{
    sib *s = arg;
    void *v;
    ck_assert_int_eq(cf_future_result(s->f[0], 10, &v), 0);
    ck_assert_ptr_eq(v, (void *)10);
    ck_assert_int_eq(cf_wait(&s->f[1], 1, 10, CF_FIRST_COMPLETED), 0);
    ck_assert(cf_future_done(s->f[1]));
    cf_as_completed *it = cf_as_completed_new(&s->f[2], 1);
    cf_future *out = NULL;
    ck_assert_int_eq(cf_as_completed_next(it, 10, &out), 0);
    ck_assert_ptr_eq(out, s->f[2]);
    ck_assert_int_eq(cf_as_completed_next(it, 10, &out), ENOENT);
    cf_as_completed_free(it);
    void *vals[3];
    ck_assert_int_eq(cf_gather(s->f, 3, 0, vals), 0);
    ck_assert_ptr_eq(vals[2], (void *)12);
    ck_assert_int_eq(cf_wait(s->f, 3, 0, CF_ALL_COMPLETED), 0);
    return NULL;
}

START_TEST(synchronous_waits_suspend_inside_coroutines)
{
    sib s = { { cf_future_new(), cf_future_new(), cf_future_new() } };
    cf_loop *loop = cf_loop_new();
    cf_future *a = cf_loop_spawn(loop, sync_calls_suspend, &s);
    cf_future_unref(cf_loop_spawn(loop, set_three_later, &s));
    ck_assert_int_eq(cf_loop_run_until_complete(loop, a, NULL), 0);
    ck_assert_int_eq(cf_loop_run(loop), 0);
    cf_future_unref(a);
    for (int i = 0; i < 3; i++)
        cf_future_unref(s.f[i]);
    cf_loop_free(loop);
}
END_TEST

typedef struct timeouts_pair {
    cf_future *f;          /* awaited with timeouts, then for real */
    cf_future *timed_out;  /* set once both timeouts happened: only then is f completed */
} timeouts_pair;

static void *await_with_timeouts(void *arg)
{
    timeouts_pair *tp = arg;
    cf_future *f = tp->f;
    void *v = (void *)1;
    ck_assert_int_eq(cf_await(f, 0, &v), ETIMEDOUT);
    ck_assert_int_eq(cf_await(f, 0.01, &v), ETIMEDOUT);
    cf_future_set_result(tp->timed_out, NULL);
    ck_assert_ptr_eq(v, (void *)1);
    ck_assert_int_eq(cf_future_state(f), CF_PENDING);     /* a timeout cancels nothing */
    ck_assert(!cf_task_cancelled());
    ck_assert_int_eq(cf_await(f, 10, &v), 0);             /* and the future is still awaitable */
    ck_assert_ptr_eq(v, (void *)3);
    return NULL;
}

static void *set_after_timeouts(void *arg)
{
    timeouts_pair *tp = arg;
    cf_await(tp->timed_out, -1, NULL);
    cf_future_set_result(tp->f, (void *)3);
    return NULL;
}

START_TEST(await_timeouts_cancel_nothing)
{
    cf_loop *loop = cf_loop_new();
    timeouts_pair tp = { cf_future_new(), cf_future_new() };
    cf_future_unref(cf_loop_spawn(loop, await_with_timeouts, &tp));
    cf_future_unref(cf_loop_spawn(loop, set_after_timeouts, &tp));
    ck_assert_int_eq(cf_loop_run(loop), 0);
    cf_future_unref(tp.f);
    cf_future_unref(tp.timed_out);
    cf_loop_free(loop);
}
END_TEST

static void *failing(void *arg)
{
    (void)arg;
    cf_sleep(0.001);
    cf_task_fail(EIO, "disk %d is gone", 3);
    return (void *)1;
}

START_TEST(task_fail_in_a_coroutine)
{
    cf_loop *loop = cf_loop_new();
    cf_future *f = cf_loop_spawn(loop, failing, NULL);
    ck_assert_int_eq(cf_loop_run_until_complete(loop, f, NULL), EIO);
    const char *msg;
    ck_assert_int_eq(cf_future_error(f, 0, &msg), EIO);
    ck_assert_str_eq(msg, "disk 3 is gone");
    cf_future_unref(f);
    cf_loop_free(loop);
}
END_TEST

/* ---- gather ---- */

static void *gather_mixed(void *arg)
{
    cf_future **fs = arg;
    void *vals[4] = { (void *)7, (void *)7, (void *)7, (void *)7 };
    ck_assert_int_eq(cf_gather(fs, 4, 10, vals), EIO);      /* the first error in order */
    ck_assert_ptr_eq(vals[0], (void *)1);
    ck_assert_ptr_null(vals[1]);
    ck_assert_ptr_null(vals[2]);
    ck_assert_ptr_null(vals[3]);
    ck_assert_int_eq(cf_gather(fs + 2, 2, 10, vals), ECANCELED);
    ck_assert(!cf_task_cancelled());
    cf_future *pending = cf_future_new();
    cf_future *two[2] = { fs[0], pending };
    ck_assert_int_eq(cf_gather(two, 2, 0.01, vals), ETIMEDOUT);
    ck_assert_ptr_eq(vals[0], (void *)1);
    ck_assert_ptr_null(vals[1]);
    ck_assert_int_eq(cf_future_state(pending), CF_PENDING);
    cf_future_unref(pending);
    return NULL;
}

static void *fail_later(void *arg)
{
    cf_sleep(0.005);
    cf_future_set_error(arg, EIO, "late");
    return NULL;
}

START_TEST(gather_returns_values_and_the_first_error_in_order)
{
    cf_future *fs[4] = { cf_future_new(), cf_future_new(), cf_future_new(), cf_future_new() };
    cf_future_set_result(fs[0], (void *)1);
    cf_future_cancel(fs[2]);
    cf_future_set_error(fs[3], ENOENT, NULL);
    cf_loop *loop = cf_loop_new();
    cf_future *g = cf_loop_spawn(loop, gather_mixed, fs);
    cf_future_unref(cf_loop_spawn(loop, fail_later, fs[1]));
    ck_assert_int_eq(cf_loop_run_until_complete(loop, g, NULL), 0);
    ck_assert_int_eq(cf_loop_run(loop), 0);
    cf_future_unref(g);
    for (int i = 0; i < 4; i++)
        cf_future_unref(fs[i]);
    cf_loop_free(loop);
}
END_TEST

/* ---- fds ---- */

typedef struct fdt {
    int p[2];
    int got[2];
} fdt;

typedef struct fd_reader {
    fdt *t;
    int  slot;
} fd_reader;

static void *read_when_ready(void *arg)
{
    fd_reader *r = arg;
    ck_assert_int_eq(cf_await_fd(r->t->p[0], POLLIN, 10), 0);
    char c;
    ssize_t n = read(r->t->p[0], &c, 1);
    r->t->got[r->slot] = n == 1 ? c : -1;
    return NULL;
}

static void *write_later(void *arg)
{
    fdt *t = arg;
    ck_assert_int_eq(cf_await_fd(t->p[1], POLLOUT, 10), 0);   /* a pipe with room: at once */
    ck_assert_int_eq(cf_await_fd(t->p[0], POLLIN, 0.01), ETIMEDOUT);
    ck_assert_int_eq(cf_await_fd(t->p[0], POLLIN, 0), ETIMEDOUT);
    ck_assert_int_eq(write(t->p[1], "ab", 2), 2);
    return NULL;
}

static void *fd_edges(void *arg)
{
    (void)arg;
    char path[] = "/tmp/cf_loop_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    ck_assert_int_eq(cf_await_fd(fd, POLLIN, 1), 0);   /* regular files are always ready */
    close(fd);
    ck_assert_int_eq(cf_await_fd(fd, POLLIN, 1), EBADF);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    close(p[1]);
    ck_assert_int_eq(cf_await_fd(p[0], POLLIN, 10), 0);   /* hang-up counts as ready */
    close(p[0]);
    return NULL;
}

START_TEST(await_fd_readiness_timeouts_and_edges)
{
    fdt t = { .got = { 0, 0 } };
    ck_assert_int_eq(pipe(t.p), 0);
    cf_loop *loop = cf_loop_new();
    fd_reader r0 = { &t, 0 }, r1 = { &t, 1 };
    int fds = count_fds();
    /* Two coroutines wait on one fd at once. */
    cf_future_unref(cf_loop_spawn(loop, read_when_ready, &r0));
    cf_future_unref(cf_loop_spawn(loop, read_when_ready, &r1));
    cf_future_unref(cf_loop_spawn(loop, write_later, &t));
    cf_future_unref(cf_loop_spawn(loop, fd_edges, NULL));
    ck_assert_int_eq(cf_loop_run(loop), 0);
    ck_assert((t.got[0] == 'a' && t.got[1] == 'b') || (t.got[0] == 'b' && t.got[1] == 'a'));
    ck_assert_int_eq(count_fds(), fds);   /* the duplicate descriptor was closed */
    close(t.p[0]);
    close(t.p[1]);
    cf_loop_free(loop);
}
END_TEST

/* A cf_pipe from another process, received by a coroutine without blocking the loop: try with
 * timeout 0, and on EAGAIN await the pipe's fd. A ticker shows the loop keeps running. */
typedef struct pipe_rx {
    cf_pipe *end;
    int      got;
    bool     in_order, done;
    int      ticks;
} pipe_rx;

static void *receive_all(void *arg)
{
    pipe_rx *rx = arg;
    int fd = cf_pipe_fd(rx->end);
    rx->in_order = true;
    for (;;) {
        void *msg;
        size_t len;
        int r = cf_pipe_recv(rx->end, &msg, &len, 0);
        if (r == EAGAIN) {
            ck_assert_int_eq(cf_await_fd(fd, POLLIN, 30), 0);
            continue;
        }
        if (r == EPIPE)
            break;                      /* the child is done and gone */
        ck_assert_int_eq(r, 0);
        int v;
        ck_assert_uint_eq(len, sizeof v);
        memcpy(&v, msg, sizeof v);
        free(msg);
        rx->in_order &= v == rx->got;
        rx->got++;
    }
    rx->done = true;
    return NULL;
}

static void *tick_until_done(void *arg)
{
    pipe_rx *rx = arg;
    while (!rx->done) {
        cf_sleep(0.001);
        rx->ticks++;
    }
    return NULL;
}

START_TEST(a_coroutine_receives_from_a_pipe_without_blocking_the_loop)
{
    cf_pipe *a, *b;
    ck_assert_int_eq(cf_pipe_new(0, &a, &b), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        cf_pipe_close(a);
        uint32_t seed = 99;
        for (int i = 0; i < 200; i++) {
            if (rnd(&seed) % 8 == 0)
                sleep_ms(1);
            if (cf_pipe_send(b, &i, sizeof i, 10) != 0)
                _exit(1);
        }
        cf_pipe_close(b);
        _exit(0);
    }
    cf_pipe_close(b);
    pipe_rx rx = { .end = a };
    cf_loop *loop = cf_loop_new();
    cf_future_unref(cf_loop_spawn(loop, receive_all, &rx));
    cf_future_unref(cf_loop_spawn(loop, tick_until_done, &rx));
    ck_assert_int_eq(cf_loop_run(loop), 0);
    REAP_OK(pid);
    ck_assert_int_eq(rx.got, 200);
    ck_assert(rx.in_order);
    ck_assert_int_gt(rx.ticks, 0);
    cf_loop_free(loop);
    cf_pipe_close(a);
}
END_TEST

/* cf_queue and cf_mpqueue calls that would block suspend the coroutine instead (the peer
 * operation wakes it): a producer and a consumer coroutine on one loop, through a queue smaller than what
 * passes, cannot deadlock; join, timeouts and cancellation behave as documented. */
typedef struct qpc {
    cf_queue   *q;
    int         n, got, sum_ok;
    cf_mpqueue *mq;
} qpc;

static void *q_producer(void *arg)
{
    qpc *p = arg;
    for (intptr_t i = 1; i <= p->n; i++)
        ck_assert_int_eq(cf_queue_put(p->q, (void *)i, 30), 0);
    ck_assert_int_eq(cf_queue_join(p->q, 30), 0);   /* until the consumer marked all done */
    cf_queue_shutdown(p->q, false);
    return NULL;
}

static void *q_consumer(void *arg)
{
    qpc *p = arg;
    void *item;
    int r;
    intptr_t expect = 1;
    while ((r = cf_queue_get(p->q, 30, &item)) == 0) {
        p->sum_ok += (intptr_t)item == expect++;
        p->got++;
        if (p->got % 7 == 0)
            cf_yield();
        ck_assert_int_eq(cf_queue_task_done(p->q), 0);
    }
    ck_assert_int_eq(r, EPIPE);   /* shut down and drained */
    return NULL;
}

static void *q_edges(void *arg)
{
    (void)arg;
    cf_queue *q = cf_queue_new(1);
    void *item;
    ck_assert_int_eq(cf_queue_get(q, 0, &item), EAGAIN);
    ck_assert_int_eq(cf_queue_get(q, 0.01, &item), ETIMEDOUT);
    ck_assert_int_eq(cf_queue_put(q, (void *)1, 0.01), 0);
    ck_assert_int_eq(cf_queue_put(q, (void *)2, 0.01), ETIMEDOUT);
    ck_assert_int_eq(cf_queue_join(q, 0.01), ETIMEDOUT);
    cf_queue_free(q);
    return NULL;
}

START_TEST(queue_calls_suspend_coroutines_instead_of_blocking_the_loop)
{
    qpc p = { .q = cf_queue_new(4), .n = 2000 };
    cf_loop *loop = cf_loop_new();
    cf_future *c = cf_loop_spawn(loop, q_consumer, &p);   /* first: it waits on an empty queue */
    cf_future *pr = cf_loop_spawn(loop, q_producer, &p);
    cf_future *e = cf_loop_spawn(loop, q_edges, NULL);
    ck_assert_int_eq(cf_loop_run(loop), 0);
    ck_assert_int_eq(cf_future_result(c, 0, NULL), 0);
    ck_assert_int_eq(cf_future_result(pr, 0, NULL), 0);
    ck_assert_int_eq(cf_future_result(e, 0, NULL), 0);
    ck_assert_int_eq(p.got, 2000);
    ck_assert_int_eq(p.sum_ok, 2000);
    cf_future_unref(c);
    cf_future_unref(pr);
    cf_future_unref(e);
    cf_queue_free(p.q);
    cf_loop_free(loop);
}
END_TEST

/* An idle coroutine waiting forever costs its loop no wake-ups: the loop thread's voluntary
 * context switches over the wait are the one sleep and the one wake, not one per nap. */
typedef struct idle_ctx {
    cf_queue   *q;
    cf_mpqueue *mq;
    long        switches;
    atomic_int  waiting;
} idle_ctx;

static long my_switches(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return ru.ru_nvcsw;
}

static void *idle_getter(void *arg)
{
    idle_ctx *c = arg;
    long before = my_switches();
    atomic_store(&c->waiting, 1);
    void *item;
    size_t len;
    int r = c->q ? cf_queue_get(c->q, CF_FOREVER, &item) : cf_mpqueue_get(c->mq, &item, &len, CF_FOREVER);
    ck_assert_int_eq(r, 0);
    c->switches = my_switches() - before;
    if (c->mq)
        free(item);
    return NULL;
}

static void *run_idle_loop(void *arg)
{
    cf_loop *loop = cf_loop_new();
    cf_future *f = cf_loop_spawn(loop, idle_getter, arg);
    ck_assert_int_eq(cf_loop_run_until_complete(loop, f, NULL), 0);
    cf_future_unref(f);
    cf_loop_free(loop);
    return NULL;
}

START_TEST(idle_waiting_coroutine_does_not_wake_its_loop)
{
    idle_ctx c = { .q = cf_queue_new(0) };
    pthread_t t;
    pthread_create(&t, NULL, run_idle_loop, &c);
    WAIT_UNTIL(atomic_load(&c.waiting), 5);
    sleep_ms(200);                       /* naps of up to 1 ms would be 200 wake-ups here */
    ck_assert_int_eq(cf_queue_put(c.q, (void *)1, 0), 0);
    pthread_join(t, NULL);
    ck_assert_int_le(c.switches, 3);
    cf_queue_free(c.q);

    /* The same across processes: the put comes from a forked child, through the doorbell. */
    idle_ctx m = { .mq = cf_mpqueue_new(0) };
    pid_t pid = fork();
    if (pid == 0) {
        sleep_ms(200);
        _exit(cf_mpqueue_put(m.mq, "x", 1, 5) == 0 ? 0 : 1);
    }
    run_idle_loop(&m);
    REAP_OK(pid);
    ck_assert_int_le(m.switches, 3);
    cf_mpqueue_free(m.mq);
}
END_TEST

/* Every call that waits suspends the coroutine: a sibling keeps ticking while it waits for a
 * max_pending slot, an executor's shutdown and free (thread and process pools), and cf_pipe
 * calls with a timeout. */
typedef struct sib_ctx {
    atomic_long ticks;
    atomic_bool stop;
} sib_ctx;

static sib_ctx sibs;

static void *sibling_ticks(void *arg)
{
    (void)arg;
    while (!atomic_load(&sibs.stop)) {
        atomic_fetch_add(&sibs.ticks, 1);
        cf_sleep(0.001);
    }
    return NULL;
}

static void *slow_task(void *arg)
{
    sleep_ms(100);
    return arg;
}

#define TICKS_DURING(call)                                                                         \
    do {                                                                                           \
        long before_ = atomic_load(&sibs.ticks);                                                    \
        call;                                                                                      \
        ck_assert_msg(atomic_load(&sibs.ticks) - before_ >= 3, "the loop stood still in " #call);   \
    } while (0)

static void *every_wait(void *arg)
{
    (void)arg;
    cf_future *s = cf_loop_spawn(cf_loop_current(), sibling_ticks, NULL);
    cf_yield();
    /* A max_pending slot: one running, one pending, the third submit waits ~100 ms. */
    cf_pool_opts o = { .max_workers = 1, .max_pending = 1 };
    cf_executor *tp = cf_thread_pool_new(&o);
    cf_future *a = cf_submit(tp, slow_task, NULL);
    WAIT_UNTIL(cf_future_state(a) == CF_RUNNING, 5);   /* (a thread wait: set-up only) */
    cf_future *b = cf_submit(tp, slow_task, NULL), *c = NULL;
    TICKS_DURING(c = cf_submit(tp, slow_task, NULL));
    ck_assert_ptr_nonnull(c);
    TICKS_DURING(cf_executor_shutdown(tp, true, false));
    ck_assert(cf_future_done(c));
    cf_executor_free(tp);
    cf_future_unref(a);
    cf_future_unref(b);
    cf_future_unref(c);
    /* A thread pool freed while a task runs. */
    tp = cf_thread_pool_new(NULL);
    a = cf_submit(tp, slow_task, NULL);
    TICKS_DURING(cf_executor_free(tp));
    ck_assert(cf_future_done(a));
    cf_future_unref(a);
    /* A process pool freed while a task runs. */
    cf_executor *pp = cf_process_pool_new(&(cf_pool_opts){ .max_workers = 1 });
    ck_assert_ptr_nonnull(pp);
    a = cf_submit(pp, slow_task, NULL);
    ck_assert_int_eq(cf_await(a, 30, NULL), 0);
    a = (cf_future_unref(a), cf_submit(pp, slow_task, NULL));
    TICKS_DURING(cf_executor_free(pp));
    ck_assert(cf_future_done(a));
    cf_future_unref(a);
    /* cf_pipe with a timeout, nothing coming; and a send into a full ring. */
    cf_pipe *x, *y;
    ck_assert_int_eq(cf_pipe_new(4096, &x, &y), 0);
    void *m;
    TICKS_DURING(ck_assert_int_eq(cf_pipe_recv(y, &m, NULL, 0.05), ETIMEDOUT));
    static char big[1024];
    while (cf_pipe_send(x, big, sizeof big, 0) == 0)
        ;
    TICKS_DURING(ck_assert_int_eq(cf_pipe_send(x, big, sizeof big, 0.05), ETIMEDOUT));
    cf_pipe_close(x);
    cf_pipe_close(y);
    atomic_store(&sibs.stop, true);
    cf_await(s, -1, NULL);
    cf_future_unref(s);
    return NULL;
}

START_TEST(every_waiting_call_suspends_the_coroutine)
{
    cf_loop *loop = cf_loop_new();
    cf_future *f = cf_loop_spawn(loop, every_wait, NULL);
    ck_assert_int_eq(cf_loop_run_until_complete(loop, f, NULL), 0);
    cf_future_unref(f);
    cf_loop_free(loop);
}
END_TEST

static void *mq_consumer(void *arg)
{
    qpc *p = arg;
    void *msg;
    size_t len;
    int r;
    while ((r = cf_mpqueue_get(p->mq, &msg, &len, 30)) == 0) {
        int v;
        memcpy(&v, msg, sizeof v);
        free(msg);
        p->sum_ok += v == p->got;
        p->got++;
    }
    ck_assert_int_eq(r, EPIPE);
    return NULL;
}

static void *tick_until_cancelled(void *arg)
{
    int *n = arg;
    while (cf_sleep(0.001) == 0)
        (*n)++;
    return NULL;
}

START_TEST(mpqueue_calls_suspend_coroutines)
{
    qpc p = { .mq = cf_mpqueue_new(256) };   /* small: the child often waits for room */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        for (int i = 0; i < 500; i++)
            if (cf_mpqueue_put(p.mq, &i, sizeof i, 10) != 0)
                _exit(1);
        cf_mpqueue_close(p.mq);
        _exit(0);
    }
    cf_loop *loop = cf_loop_new();
    int ticks = 0;
    cf_future *c = cf_loop_spawn(loop, mq_consumer, &p);
    cf_future *t = cf_loop_spawn(loop, tick_until_cancelled, &ticks);
    ck_assert_int_eq(cf_loop_run_until_complete(loop, c, NULL), 0);
    REAP_OK(pid);
    ck_assert_int_eq(p.got, 500);
    ck_assert_int_eq(p.sum_ok, 500);
    ck_assert(cf_future_cancel(t));
    ck_assert_int_eq(cf_loop_run(loop), 0);   /* (how often it ticked depends on the child) */
    cf_future_unref(c);
    cf_future_unref(t);
    cf_mpqueue_free(p.mq);
    cf_loop_free(loop);
}
END_TEST

/* ---- cancellation ---- */

enum { K_SLEEP, K_AWAIT, K_FD, K_GATHER, K_WAIT, K_AS_COMPLETED, K_RESULT, K_QUEUE, K_KINDS };

typedef struct victim {
    int        kind;
    cf_future *target;     /* never completed while the victim waits */
    int        fd;
    int        r, second;
    bool       told;
    cf_future *self;
    bool       cancel_ret;
} victim;

static int await_kind(victim *v)
{
    switch (v->kind) {
    case K_SLEEP: return cf_sleep(100);
    case K_AWAIT: return cf_await(v->target, 100, NULL);
    case K_FD: return cf_await_fd(v->fd, POLLIN, 100);
    case K_GATHER: return cf_gather(&v->target, 1, 100, NULL);
    case K_WAIT: return cf_wait(&v->target, 1, 100, CF_FIRST_COMPLETED);
    case K_AS_COMPLETED: {
        cf_as_completed *it = cf_as_completed_new(&v->target, 1);
        int r = cf_as_completed_next(it, 100, NULL);
        cf_as_completed_free(it);
        return r;
    }
    case K_QUEUE: {
        cf_queue *q = cf_queue_new(0);
        void *item;
        int r = cf_queue_get(q, 100, &item);
        cf_queue_free(q);
        return r;
    }
    default: return cf_future_result(v->target, 100, NULL);
    }
}

static void *victim_main(void *arg)
{
    victim *v = arg;
    v->r = await_kind(v);
    v->told = cf_task_cancelled();
    v->second = cf_sleep(0.001);      /* delivered once: the next await is not interrupted */
    return (void *)1;                 /* dropped: the future ends CANCELLED */
}

static void *canceller(void *arg)
{
    victim *v = arg;
    cf_sleep(0.01);
    ck_assert_int_eq(cf_future_state(v->self), CF_RUNNING);
    v->cancel_ret = cf_future_cancel(v->self);
    ck_assert_int_eq(cf_future_state(v->self), CF_RUNNING);   /* until it returns */
    return NULL;
}

START_TEST(cancel_while_suspended_in_each_kind_of_await)
{
    for (int kind = 0; kind < K_KINDS; kind++) {
        int p[2];
        ck_assert_int_eq(pipe(p), 0);
        victim v = { .kind = kind, .target = cf_future_new(), .fd = p[0], .r = -1, .second = -1 };
        cf_loop *loop = cf_loop_new();
        v.self = cf_loop_spawn(loop, victim_main, &v);
        cf_future_unref(cf_loop_spawn(loop, canceller, &v));
        ck_assert_int_eq(cf_loop_run(loop), 0);
        ck_assert_msg(v.cancel_ret, "kind %d", kind);
        ck_assert_msg(v.r == ECANCELED, "kind %d: await returned %d", kind, v.r);
        ck_assert_msg(v.told, "kind %d", kind);
        ck_assert_int_eq(v.second, 0);
        ck_assert_int_eq(cf_future_state(v.self), CF_CANCELLED);
        ck_assert_int_eq(cf_future_result(v.self, 0, NULL), ECANCELED);
        ck_assert_int_eq(cf_future_state(v.target), CF_PENDING);   /* not spread */
        ck_assert(!cf_future_cancel(v.self) || cf_future_state(v.self) == CF_CANCELLED);
        cf_future_unref(v.self);
        cf_future_unref(v.target);
        close(p[0]);
        close(p[1]);
        cf_loop_free(loop);
    }
}
END_TEST

static void *never_runs(void *arg)
{
    *(bool *)arg = true;
    return NULL;
}

START_TEST(cancel_before_start_means_it_never_runs)
{
    cf_loop *loop = cf_loop_new();
    bool ran = false;
    cf_future *f = cf_loop_spawn(loop, never_runs, &ran);
    ck_assert(cf_future_cancel(f));
    ck_assert_int_eq(cf_future_state(f), CF_CANCELLED);
    ck_assert_int_eq(cf_loop_run(loop), 0);
    ck_assert(!ran);
    ck_assert_int_eq(cf_await(f, 0, NULL), ECANCELED);
    cf_future_unref(f);
    cf_loop_free(loop);
}
END_TEST

typedef struct selfc {
    cf_future *self;
    int        r1, r2, r3;
    bool       told;
} selfc;

static void *cancel_myself(void *arg)
{
    selfc *s = arg;
    ck_assert(!cf_task_cancelled());
    ck_assert(cf_future_cancel(s->self));   /* running: accepted */
    s->told = cf_task_cancelled();
    s->r1 = cf_yield();                     /* the next await gets it */
    s->r2 = cf_yield();
    cf_future *done = cf_future_new();
    cf_future_set_result(done, NULL);
    ck_assert(cf_future_cancel(s->self));   /* again: delivered again, even on a done future */
    s->r3 = cf_await(done, 0, NULL);
    cf_future_unref(done);
    return (void *)5;
}

START_TEST(cancel_while_running_hits_the_next_await_once)
{
    cf_loop *loop = cf_loop_new();
    selfc s = { .r1 = -1 };
    s.self = cf_loop_spawn(loop, cancel_myself, &s);
    ck_assert_int_eq(cf_loop_run_until_complete(loop, s.self, NULL), ECANCELED);
    ck_assert(s.told);
    ck_assert_int_eq(s.r1, ECANCELED);
    ck_assert_int_eq(s.r2, 0);
    ck_assert_int_eq(s.r3, ECANCELED);
    ck_assert_int_eq(cf_future_state(s.self), CF_CANCELLED);
    ck_assert(cf_future_cancel(s.self));    /* an already CANCELLED future says true */
    cf_future_unref(s.self);
    cf_loop_free(loop);
}
END_TEST

typedef struct outer_inner {
    cf_future *inner, *outer;
    cf_future *gate;      /* the inner coroutine waits for it: no race with the cancel's timer */
    int        r;
    bool       told;
} outer_inner;

static void *inner_main(void *arg)
{
    outer_inner *o = arg;
    cf_await(o->gate, -1, NULL);
    return (void *)8;
}

static void *outer_main(void *arg)
{
    outer_inner *o = arg;
    o->r = cf_await(o->inner, -1, NULL);
    o->told = cf_task_cancelled();
    return NULL;
}

static void *await_cancelled_future(void *arg)
{
    outer_inner *o = arg;
    o->r = cf_await(o->inner, -1, NULL);
    o->told = cf_task_cancelled();
    return (void *)7;
}

static void *cancel_inner_later(void *arg)
{
    outer_inner *o = arg;
    cf_sleep(0.005);
    ck_assert(cf_future_cancel(o->inner));
    return NULL;
}

static void *cancel_outer_later(void *arg)
{
    outer_inner *o = arg;
    cf_sleep(0.005);
    ck_assert(cf_future_cancel(o->outer));
    cf_future_set_result(o->gate, NULL);   /* only now may inner finish */
    return NULL;
}

START_TEST(own_cancellation_is_told_apart_and_does_not_spread)
{
    cf_loop *loop = cf_loop_new();
    /* The outer coroutine is cancelled while awaiting the inner one: inner finishes normally. */
    outer_inner o = { .gate = cf_future_new() };
    o.inner = cf_loop_spawn(loop, inner_main, &o);
    o.outer = cf_loop_spawn(loop, outer_main, &o);
    cf_future_unref(cf_loop_spawn(loop, cancel_outer_later, &o));
    ck_assert_int_eq(cf_loop_run(loop), 0);
    ck_assert_int_eq(o.r, ECANCELED);
    ck_assert(o.told);
    ck_assert_int_eq(cf_future_state(o.outer), CF_CANCELLED);
    void *v;
    ck_assert_int_eq(cf_future_result(o.inner, 0, &v), 0);
    ck_assert_ptr_eq(v, (void *)8);
    cf_future_unref(o.inner);
    cf_future_unref(o.outer);
    cf_future_unref(o.gate);
    /* The awaited coroutine is cancelled: the awaiter sees ECANCELED, not its own, and finishes. */
    outer_inner q = { .gate = cf_future_new() };   /* never set: inner is cancelled waiting */
    q.inner = cf_loop_spawn(loop, inner_main, &q);
    q.outer = cf_loop_spawn(loop, await_cancelled_future, &q);
    cf_future_unref(cf_loop_spawn(loop, cancel_inner_later, &q));
    ck_assert_int_eq(cf_loop_run(loop), 0);
    ck_assert_int_eq(q.r, ECANCELED);
    ck_assert(!q.told);
    ck_assert_int_eq(cf_future_result(q.outer, 0, &v), 0);
    ck_assert_ptr_eq(v, (void *)7);
    ck_assert_int_eq(cf_future_state(q.inner), CF_CANCELLED);
    ck_assert(!cf_future_cancel(q.outer));    /* FINISHED: too late */
    cf_future_unref(q.inner);
    cf_future_unref(q.outer);
    cf_future_unref(q.gate);
    cf_loop_free(loop);
}
END_TEST

/* ---- stop, spawn from threads, teardown, threads in turn ---- */

static void *stopper(void *arg)
{
    cf_loop_stop(arg);
    return NULL;
}

static void *stop_from_thread(void *arg)
{
    sleep_ms(20);
    cf_loop_stop(arg);
    return NULL;
}

static void *long_sleep(void *arg)
{
    int *r = arg;
    *r = cf_sleep(1000);
    return NULL;
}

START_TEST(stop_makes_run_return_eintr)
{
    cf_loop *loop = cf_loop_new();
    int r = -1;
    cf_future *sleeper = cf_loop_spawn(loop, long_sleep, &r);
    cf_future_unref(cf_loop_spawn(loop, stopper, loop));
    ck_assert_int_eq(cf_loop_run(loop), EINTR);
    ck_assert_int_eq(cf_future_state(sleeper), CF_RUNNING);
    /* From another thread, while the loop sleeps in epoll. */
    pthread_t t;
    pthread_create(&t, NULL, stop_from_thread, loop);
    ck_assert_int_eq(cf_loop_run_until_complete(loop, sleeper, NULL), EINTR);
    pthread_join(t, NULL);
    /* Said before run: the next run stops after one pass. */
    cf_loop_stop(loop);
    ck_assert_int_eq(cf_loop_run(loop), EINTR);
    /* free cancels the sleeper, which sees ECANCELED and returns. */
    cf_loop_free(loop);
    ck_assert_int_eq(r, ECANCELED);
    ck_assert_int_eq(cf_future_state(sleeper), CF_CANCELLED);
    cf_future_unref(sleeper);
}
END_TEST

typedef struct spawner {
    cf_loop   *loop;
    cf_future *fs[1000];
    cf_future *gate;
} spawner;

static void *spawn_from_thread(void *arg)
{
    spawner *s = arg;
    for (int i = 0; i < 1000; i++) {
        s->fs[i] = cf_loop_spawn(s->loop, square, (void *)(intptr_t)i);
        if (i % 100 == 0)
            sleep_ms(0.5);
    }
    cf_future_set_result(s->gate, NULL);
    return NULL;
}

START_TEST(spawn_from_another_thread_while_running)
{
    static spawner s;
    s.loop = cf_loop_new();
    s.gate = cf_future_new();
    pthread_t t;
    pthread_create(&t, NULL, spawn_from_thread, &s);
    ck_assert_int_eq(cf_loop_run_until_complete(s.loop, s.gate, NULL), 0);
    pthread_join(t, NULL);
    ck_assert_int_eq(cf_loop_run(s.loop), 0);
    for (int i = 0; i < 1000; i++) {
        void *v;
        ck_assert_int_eq(cf_future_result(s.fs[i], 0, &v), 0);
        ck_assert_ptr_eq(v, (void *)(intptr_t)(i * i));
        cf_future_unref(s.fs[i]);
    }
    cf_future_unref(s.gate);
    cf_loop_free(s.loop);
}
END_TEST

static atomic_int saw_cancel;

static void *sleep_forever_then_count(void *arg)
{
    (void)arg;
    if (cf_sleep(1e6) == ECANCELED && cf_task_cancelled())
        atomic_fetch_add(&saw_cancel, 1);
    return NULL;
}

START_TEST(free_cancels_what_is_left)
{
    cf_loop *loop = cf_loop_new();
    atomic_store(&saw_cancel, 0);
    cf_future *fs[20];
    for (int i = 0; i < 10; i++)
        fs[i] = cf_loop_spawn(loop, sleep_forever_then_count, NULL);
    cf_loop_stop(loop);
    ck_assert_int_eq(cf_loop_run(loop), EINTR);     /* the first ten are now suspended */
    for (int i = 10; i < 20; i++)                   /* ten more never start */
        fs[i] = cf_loop_spawn(loop, sleep_forever_then_count, NULL);
    cf_loop_free(loop);
    ck_assert_int_eq(atomic_load(&saw_cancel), 10);
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(cf_future_state(fs[i]), CF_CANCELLED);
        cf_future_unref(fs[i]);
    }
}
END_TEST

static void *tick_three_times(void *arg)
{
    int *n = arg;
    for (int i = 0; i < 3; i++) {
        cf_sleep(0.002);
        (*n)++;
        cf_loop_stop(cf_loop_current());
    }
    return NULL;
}

static void *run_once_here(void *arg)
{
    return (void *)(intptr_t)cf_loop_run(arg);
}

START_TEST(a_loop_may_be_run_by_different_threads_in_turn)
{
    cf_loop *loop = cf_loop_new();
    int n = 0;
    cf_future *f = cf_loop_spawn(loop, tick_three_times, &n);
    ck_assert_int_eq(cf_loop_run(loop), EINTR);
    ck_assert_int_eq(n, 1);
    pthread_t t;
    pthread_create(&t, NULL, run_once_here, loop);
    void *r;
    pthread_join(t, &r);
    ck_assert_int_eq((int)(intptr_t)r, EINTR);
    ck_assert_int_eq(n, 2);
    /* The third tick stops the loop too, but f is done by then: that is success. */
    ck_assert_int_eq(cf_loop_run_until_complete(loop, f, NULL), 0);
    ck_assert_int_eq(n, 3);
    cf_future_unref(f);
    cf_loop_free(loop);
}
END_TEST

/* A done-callback runs in the thread that completed the future (here a pool worker); spawning a
 * coroutine from it is asyncio's call_soon_threadsafe: the work hops onto the loop's thread. */
typedef struct hop {
    cf_loop   *loop;
    pthread_t  loop_thread;
    cf_future *spawned;
    bool       on_loop_thread, in_worker;
} hop;

static void *on_loop(void *arg)
{
    hop *h = arg;
    h->on_loop_thread = pthread_equal(pthread_self(), h->loop_thread) && cf_loop_current() == h->loop;
    return (void *)11;
}

static void hop_callback(cf_future *f, void *arg)
{
    (void)f;
    hop *h = arg;
    h->in_worker = !pthread_equal(pthread_self(), h->loop_thread);
    h->spawned = cf_loop_spawn(h->loop, on_loop, h);
}

static void *submit_and_hop(void *arg)
{
    hop *h = arg;
    cf_executor *pool = cf_thread_pool_new(NULL);
    cf_future *f = cf_future_new();
    ck_assert_int_eq(cf_future_add_done_callback(f, hop_callback, h), 0);
    /* A pool worker completes f inside its task: the callback runs there, before the task ends,
     * so awaiting the task orders h->spawned before us. */
    cf_future *setter = cf_submit(pool, cf_future_set_result_task, f);
    ck_assert_int_eq(cf_await(setter, 10, NULL), 0);
    ck_assert_ptr_nonnull(h->spawned);
    void *v;
    ck_assert_int_eq(cf_await(h->spawned, 10, &v), 0);
    ck_assert_ptr_eq(v, (void *)11);
    cf_future_unref(h->spawned);
    cf_future_unref(setter);
    cf_future_unref(f);
    cf_executor_free(pool);
    return NULL;
}

START_TEST(callbacks_hop_onto_the_loop_thread_by_spawning)
{
    hop h = { .loop = cf_loop_new(), .loop_thread = pthread_self() };
    cf_future *f = cf_loop_spawn(h.loop, submit_and_hop, &h);
    ck_assert_int_eq(cf_loop_run_until_complete(h.loop, f, NULL), 0);
    ck_assert(h.in_worker);
    ck_assert(h.on_loop_thread);
    cf_future_unref(f);
    cf_loop_free(h.loop);
}
END_TEST

/* ---- scale and stacks ---- */

static void *use_stack(void *arg)
{
    size_t n = (size_t)arg;
    char *p = __builtin_alloca(n);
    memset(p, 1, n);
    __asm__ volatile("" : : "r"(p) : "memory");
    cf_yield();                          /* and survive a switch with it */
    return (void *)(uintptr_t)p[n - 1];
}

START_TEST(stack_size_is_set_before_the_first_coroutine)
{
    cf_loop *loop = cf_loop_new();
    ck_assert_int_eq(cf_loop_set_stack_size(NULL, 1 << 20), EINVAL);
    ck_assert_int_eq(cf_loop_set_stack_size(loop, 1000), EINVAL);
    ck_assert_int_eq(cf_loop_set_stack_size(loop, (size_t)2 << 30), EINVAL);
    ck_assert_int_eq(cf_loop_set_stack_size(loop, (4 << 20) + 1), 0);   /* rounded up to pages */
    /* 3 MiB of locals: far past the default 256 KiB. */
    cf_future *f = cf_loop_spawn(loop, use_stack, (void *)(size_t)(3 << 20));
    cf_future *g = cf_loop_spawn(loop, use_stack, (void *)(size_t)(3 << 20));
    void *v;
    ck_assert_int_eq(cf_loop_run_until_complete(loop, f, &v), 0);
    ck_assert_ptr_eq(v, (void *)1);
    ck_assert_int_eq(cf_loop_run_until_complete(loop, g, &v), 0);
    ck_assert_int_eq(cf_loop_set_stack_size(loop, 1 << 20), EBUSY);   /* stacks exist now */
    cf_future_unref(f);
    cf_future_unref(g);
    cf_loop_free(loop);
}
END_TEST

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static long max_map_count(void)
{
    long n = 65530;   /* the kernel's default */
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        if (fscanf(f, "%ld", &n) != 1)
            n = 65530;
        fclose(f);
    }
    return n;
}

static int map_count(void)
{
    return count_maps("");
}

typedef struct many {
    long  n;
    long  rss_peak;
    int   maps_peak;
    bool  stop;
    long  woke, finished;
} many;

/* Sleeps in 50 ms naps until told to stop: all of them stay suspended at once. */
static void *sleep_until_stopped(void *arg)
{
    many *m = arg;
    while (!m->stop) {
        ck_assert_int_eq(cf_sleep(0.05), 0);
        m->woke++;
    }
    m->finished++;
    return NULL;
}

static void *measure(void *arg)
{
    many *m = arg;
    /* Spawned last: it starts once every sleeper has, and each naps at least once meanwhile. */
    while (m->woke < m->n)
        cf_sleep(0.01);
    m->rss_peak = rss_kib();
    m->maps_peak = map_count();
    m->stop = true;
    return NULL;
}

START_TEST(a_hundred_thousand_sleeping_coroutines)
{
    many m = { .n = tsan() ? 2000 : cf_scaled(100000) };
    cf_loop *loop = cf_loop_new();
    long rss0 = rss_kib();
    int maps0 = map_count();
    cf_future *fs[8];
    for (long i = 0; i < m.n; i++) {
        cf_future *f = cf_loop_spawn(loop, sleep_until_stopped, &m);
        ck_assert_ptr_nonnull(f);
        if (i < 8)
            fs[i] = f;
        else
            cf_future_unref(f);
    }
    cf_future_unref(cf_loop_spawn(loop, measure, &m));
    double t = now_s();
    ck_assert_int_eq(cf_loop_run(loop), 0);
    double took = now_s() - t;
    ck_assert_int_eq(m.finished, m.n);
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(cf_future_state(fs[i]), CF_FINISHED);
        cf_future_unref(fs[i]);
    }
    long per = (m.rss_peak - rss0) * 1024 / m.n;
    long max_maps = max_map_count();
    fprintf(stderr, "%ld sleeping coroutines: %ld KiB resident (%ld bytes each), %d mappings "
                    "(%d before, max %ld), %.2f s\n",
            m.n, m.rss_peak - rss0, per, m.maps_peak, maps0, max_maps, took);
    ck_assert_int_lt(m.maps_peak, max_maps);
    if (!sanitized())
        ck_assert_int_lt(per, 16 * 1024);   /* lazily committed: a few pages each, not 256 KiB */
    cf_loop_free(loop);
    if (!sanitized())   /* (the sanitizers map memory of their own as they go) */
        ck_assert_int_le(map_count(), maps0 + 8);   /* the pools' stacks are gone with the loop */
}
END_TEST

static volatile char sink;
#define CF_STACK_DIG (260 * 1024)   /* a little more than a whole stack (256 KiB) */

static int recurse(int depth)
{
    volatile char frame[512];
    frame[0] = (char)depth;
    sink = frame[0];
    if (sink == 0x7f && depth < 0)   /* never: keeps the compiler from calling it infinite */
        return 0;
    return recurse(depth + 1) + frame[511];
}

static void *overflow(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)recurse(0);
}

static void assert_crashed(pid_t pid, int sig)
{
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    if (sanitized()) {
        /* The sanitizers catch the signal, report, and exit non-zero (or re-raise). */
        ck_assert(!(WIFEXITED(st) && WEXITSTATUS(st) == 0));
        return;
    }
    ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == sig, "status %#x", st);
}

START_TEST(stack_overflow_hits_the_guard_page)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct rlimit no_core = { 0, 0 };
        setrlimit(RLIMIT_CORE, &no_core);
        cf_loop *loop = cf_loop_new();
        cf_future_unref(cf_loop_spawn(loop, overflow, NULL));
        cf_loop_run(loop);
        _exit(0);   /* not reached */
    }
    assert_crashed(pid, SIGSEGV);
}
END_TEST

static void *dig_then_yield(void *arg)
{
    (void)arg;
    /* Past the bottom of an unguarded stack by a bounded amount, then back: no fault, but the
     * canary below the stack is overwritten, and the switch out notices. */
    char *big = __builtin_alloca(CF_STACK_DIG);
    memset(big, 0x5a, CF_STACK_DIG);
    __asm__ volatile("" : : "r"(big) : "memory");   /* all of it is "used": no store is dropped */
    cf_yield();
    return NULL;
}

START_TEST(overflow_of_an_unguarded_stack_is_caught_by_the_canary)
{
    if (tsan())
        return;   /* it needs max_map_count / 4 coroutines at once: see tsan() */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct rlimit no_core = { 0, 0 };
        setrlimit(RLIMIT_CORE, &no_core);
        /* Use up the guarded budget (max_map_count / 4) with sleepers, so the next stack comes
         * from an unguarded arena. */
        long max_maps = max_map_count();
        cf_loop *loop = cf_loop_new();
        many m = { 0 };
        m.n = max_maps / 4 + 1;
        for (long i = 0; i < m.n; i++)
            cf_future_unref(cf_loop_spawn(loop, sleep_until_stopped, &m));
        cf_future_unref(cf_loop_spawn(loop, measure, &m));
        cf_future_unref(cf_loop_spawn(loop, dig_then_yield, NULL));
        cf_loop_run(loop);
        _exit(0);
    }
    assert_crashed(pid, SIGABRT);
}
END_TEST

/* ---- stress: threads complete and cancel while coroutines await ---- */

#define STRESS_N 2000

typedef struct stress {
    cf_future  *awaited[STRESS_N];
    cf_future  *cos[STRESS_N];
    atomic_bool cancelled_ok[STRESS_N];
    atomic_bool go;
    atomic_int  attempts;      /* cancels tried: the completer waits for a few first */
} stress;

typedef struct stress_arg {
    stress *s;
    int     i;
} stress_arg;

static void *stress_await(void *arg)
{
    stress_arg *a = arg;
    stress *s = a->s;
    void *v = NULL;
    int r = cf_await(s->awaited[a->i], 60, &v);
    if (r == 0)
        HOT_ASSERT(v == (void *)(intptr_t)(a->i + 1));
    else
        HOT_ASSERT(r == ECANCELED && cf_task_cancelled());
    if (a->i % 3 == 0)
        cf_yield();
    return (void *)(intptr_t)(a->i + 1);
}

static void *stress_completer(void *arg)
{
    stress *s = arg;
    uint32_t seed = (uint32_t)(uintptr_t)&seed;
    while (!atomic_load(&s->go))
        ;
    /* Some cancels land before any completion, so that `cancelled > 0` below does not depend
     * on how the scheduler shares two CPUs among four threads. */
    while (atomic_load(&s->attempts) < 16)
        sched_yield();
    for (int i = 0; i < STRESS_N; i++) {
        cf_future_set_result(s->awaited[i], (void *)(intptr_t)(i + 1));
        if (rnd(&seed) % 64 == 0)
            sched_yield();
    }
    return NULL;
}

static void *stress_canceller(void *arg)
{
    stress *s = arg;
    uint32_t seed = (uint32_t)(uintptr_t)&seed ^ 0x1234;
    while (!atomic_load(&s->go))
        ;
    for (int k = 0; k < STRESS_N / 2; k++) {
        int i = (int)(rnd(&seed) % STRESS_N);
        if (cf_future_cancel(s->cos[i]))
            atomic_store(&s->cancelled_ok[i], true);
        atomic_fetch_add(&s->attempts, 1);
        if (rnd(&seed) % 32 == 0)
            sleep_ms(0.05);
    }
    return NULL;
}

START_TEST(threads_complete_and_cancel_while_coroutines_await)
{
    static stress s;
    static stress_arg args[STRESS_N];
    int rounds = (int)cf_scaled(8);
    for (int round = 0; round < rounds; round++) {
        memset(&s, 0, sizeof s);
        cf_loop *loop = cf_loop_new();
        for (int i = 0; i < STRESS_N; i++) {
            s.awaited[i] = cf_future_new();
            args[i] = (stress_arg){ &s, i };
            s.cos[i] = cf_loop_spawn(loop, stress_await, &args[i]);
        }
        pthread_t t[3];
        pthread_create(&t[0], NULL, stress_completer, &s);
        pthread_create(&t[1], NULL, stress_canceller, &s);
        pthread_create(&t[2], NULL, stress_canceller, &s);
        atomic_store(&s.go, true);
        ck_assert_int_eq(cf_loop_run(loop), 0);
        for (int i = 0; i < 3; i++)
            pthread_join(t[i], NULL);
        /* Conservation: cancel said true exactly for the coroutines that ended CANCELLED. */
        int cancelled = 0;
        for (int i = 0; i < STRESS_N; i++) {
            cf_state st = cf_future_state(s.cos[i]);
            HOT_ASSERT(st == CF_FINISHED || st == CF_CANCELLED);
            if (atomic_load(&s.cancelled_ok[i])) {
                HOT_ASSERT(st == CF_CANCELLED);
                cancelled++;
            } else {
                void *v;
                HOT_ASSERT(st == CF_FINISHED);
                HOT_ASSERT(cf_future_result(s.cos[i], 0, &v) == 0 && v == (void *)(intptr_t)(i + 1));
            }
            cf_future_unref(s.cos[i]);
            cf_future_unref(s.awaited[i]);
        }
        ck_assert_int_gt(cancelled, 0);
        cf_loop_free(loop);
    }
}
END_TEST

/* Two loops on two threads, each coroutine awaiting a coroutine of the other loop: every wake-up
 * crosses threads (the remote list and the eventfd), in both directions at once, with random
 * yields and sleeps in between. */
#define CROSS_N 300

typedef struct cross {
    cf_loop   *loop[2];
    cf_future *fs[2][CROSS_N];
    atomic_int spawned;
    cf_future *all_spawned;
} cross;

typedef struct cross_arg {
    cross *c;
    int    side, i;
} cross_arg;

static cross_arg cross_args[2][CROSS_N];

static void *cross_coro(void *arg)
{
    cross_arg *a = arg;
    cross *c = a->c;
    uint32_t seed = (uint32_t)(a->side * CROSS_N + a->i + 1);
    /* Wait until the other side's futures all exist (published by the main thread). */
    HOT_ASSERT(cf_await(c->all_spawned, 60, NULL) == 0);
    if (rnd(&seed) % 4 == 0)
        cf_sleep(0.0001 * (rnd(&seed) % 10));
    if (rnd(&seed) % 2 == 0)
        cf_yield();
    int peer = a->i == 0 ? -1 : (int)(rnd(&seed) % (uint32_t)a->i);   /* an earlier one: no cycle */
    intptr_t sum = a->i;
    if (peer >= 0) {
        void *v = NULL;
        HOT_ASSERT(cf_await(c->fs[!a->side][peer], 60, &v) == 0);
        HOT_ASSERT((intptr_t)v >= peer);
        sum += 1;
    }
    return (void *)sum;
}

static void *run_side(void *arg)
{
    return (void *)(intptr_t)cf_loop_run(arg);
}

START_TEST(two_loops_on_two_threads_await_each_other)
{
    int rounds = (int)cf_scaled(8);
    for (int round = 0; round < rounds; round++) {
        static cross c;
        memset(&c, 0, sizeof c);
        c.all_spawned = cf_future_new();
        for (int side = 0; side < 2; side++) {
            c.loop[side] = cf_loop_new();
            for (int i = 0; i < CROSS_N; i++) {
                cross_args[side][i] = (cross_arg){ &c, side, i };
                c.fs[side][i] = cf_loop_spawn(c.loop[side], cross_coro, &cross_args[side][i]);
            }
        }
        pthread_t t[2];
        for (int side = 0; side < 2; side++)
            pthread_create(&t[side], NULL, run_side, c.loop[side]);
        cf_future_set_result(c.all_spawned, NULL);   /* from a third thread: both loops wake */
        for (int side = 0; side < 2; side++) {
            void *r;
            pthread_join(t[side], &r);
            ck_assert_int_eq((int)(intptr_t)r, 0);
        }
        for (int side = 0; side < 2; side++) {
            for (int i = 0; i < CROSS_N; i++) {
                void *v;
                HOT_ASSERT(cf_future_result(c.fs[side][i], 0, &v) == 0);
                HOT_ASSERT((intptr_t)v == i + (i > 0));
                cf_future_unref(c.fs[side][i]);
            }
            cf_loop_free(c.loop[side]);
        }
        cf_future_unref(c.all_spawned);
    }
}
END_TEST

/* cf_loop_stop from a coroutine that keeps yielding: the run ends after the coroutines ready
 * at the stop, not a pass budget (64 runs) later. */
static _Atomic int yield_steps;
static void *yield_and_stop(void *arg)
{
    cf_loop *loop = arg;
    for (int i = 1; i <= 1000; i++) {
        atomic_store(&yield_steps, i);
        if (i == 10)
            cf_loop_stop(loop);
        cf_yield();
    }
    return NULL;
}

START_TEST(stop_ends_after_the_ready_ones)
{
    cf_loop *loop = cf_loop_new();
    cf_future *f = cf_loop_spawn(loop, yield_and_stop, loop);
    ck_assert_int_eq(cf_loop_run(loop), EINTR);
    ck_assert_int_le(atomic_load(&yield_steps), 11);   /* asyncio: the step that stopped, or one more */
    cf_loop_free(loop);                                 /* cancels the rest */
    cf_future_unref(f);
}
END_TEST

/* A stop said to a loop with nothing to run is spent by the next run, not the one after. */
static void *nap(void *arg) { cf_sleep(0.01); return arg; }

START_TEST(stop_on_an_idle_loop_is_spent)
{
    cf_loop *loop = cf_loop_new();
    cf_loop_stop(loop);
    ck_assert_int_eq(cf_loop_run(loop), 0);            /* nothing to run */
    cf_future *f = cf_loop_spawn(loop, nap, (void *)7);
    void *v = NULL;
    ck_assert_int_eq(cf_loop_run_until_complete(loop, f, &v), 0);
    ck_assert_ptr_eq(v, (void *)7);
    cf_future_unref(f);
    cf_loop_free(loop);
}
END_TEST

/* A coroutine that awaits its own future fails at once with EDEADLK, whatever the timeout. */
static cf_future *_Atomic self_future;
static void *await_self(void *arg)
{
    (void)arg;
    while (!atomic_load(&self_future))
        cf_yield();
    cf_future *me = atomic_load(&self_future);
    void *v;
    int a = cf_await(me, CF_FOREVER, &v), b = cf_future_result(me, 1, &v), c = cf_gather(&me, 1, CF_FOREVER, NULL);
    return (void *)(intptr_t)(a == EDEADLK && b == EDEADLK && c == EDEADLK);
}

START_TEST(awaiting_its_own_future_is_edeadlk)
{
    cf_loop *loop = cf_loop_new();
    cf_future *f = cf_loop_spawn(loop, await_self, NULL);
    atomic_store(&self_future, f);
    void *ok = NULL;
    ck_assert_int_eq(cf_loop_run_until_complete(loop, f, &ok), 0);
    ck_assert_ptr_eq(ok, (void *)1);
    cf_future_unref(f);
    cf_loop_free(loop);
}
END_TEST

/* A coroutine's future is its own: set_result and set_error from outside are refused. */
static void *until_told(void *arg)
{
    while (!atomic_load((_Atomic int *)arg))
        cf_sleep(0.001);
    return (void *)5;
}

START_TEST(outsiders_cannot_complete_a_coroutine)
{
    cf_loop *loop = cf_loop_new();
    _Atomic int go = 0;
    cf_future *f = cf_loop_spawn(loop, until_told, &go);
    ck_assert_int_eq(cf_future_set_result(f, (void *)1), EPERM);
    ck_assert_int_eq(cf_future_set_error(f, EIO, "no"), EPERM);
    atomic_store(&go, 1);
    void *v;
    ck_assert_int_eq(cf_loop_run_until_complete(loop, f, &v), 0);
    ck_assert_ptr_eq(v, (void *)5);                    /* the coroutine's own result */
    cf_future_unref(f);
    cf_loop_free(loop);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("loop");
    TCase *tc = tcase_create("loop");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, spawn_and_run_until_complete);
    tcase_add_test(tc, bad_input_and_outside_coroutines);
    tcase_add_test(tc, run_is_not_reentrant);
    tcase_add_test(tc, ready_coroutines_run_in_fifo_order);
    tcase_add_test(tc, timers_fire_in_deadline_order);
    tcase_add_test(tc, await_a_future_set_by_another_coroutine);
    tcase_add_test(tc, await_futures_completed_by_threads);
    tcase_add_test(tc, a_coroutine_awaits_1000_process_and_1000_thread_futures);
    tcase_add_test(tc, synchronous_waits_suspend_inside_coroutines);
    tcase_add_test(tc, await_timeouts_cancel_nothing);
    tcase_add_test(tc, task_fail_in_a_coroutine);
    tcase_add_test(tc, gather_returns_values_and_the_first_error_in_order);
    tcase_add_test(tc, await_fd_readiness_timeouts_and_edges);
    tcase_add_test(tc, a_coroutine_receives_from_a_pipe_without_blocking_the_loop);
    tcase_add_test(tc, queue_calls_suspend_coroutines_instead_of_blocking_the_loop);
    tcase_add_test(tc, mpqueue_calls_suspend_coroutines);
    tcase_add_test(tc, cancel_while_suspended_in_each_kind_of_await);
    tcase_add_test(tc, cancel_before_start_means_it_never_runs);
    tcase_add_test(tc, cancel_while_running_hits_the_next_await_once);
    tcase_add_test(tc, own_cancellation_is_told_apart_and_does_not_spread);
    tcase_add_test(tc, stop_makes_run_return_eintr);
    tcase_add_test(tc, spawn_from_another_thread_while_running);
    tcase_add_test(tc, callbacks_hop_onto_the_loop_thread_by_spawning);
    tcase_add_test(tc, free_cancels_what_is_left);
    tcase_add_test(tc, a_loop_may_be_run_by_different_threads_in_turn);
    tcase_add_test(tc, stack_size_is_set_before_the_first_coroutine);
    tcase_add_test(tc, a_hundred_thousand_sleeping_coroutines);
    tcase_add_test(tc, stack_overflow_hits_the_guard_page);
    tcase_add_test(tc, overflow_of_an_unguarded_stack_is_caught_by_the_canary);
    tcase_add_test(tc, threads_complete_and_cancel_while_coroutines_await);
    tcase_add_test(tc, two_loops_on_two_threads_await_each_other);
    tcase_add_test(tc, stop_ends_after_the_ready_ones);
    tcase_add_test(tc, stop_on_an_idle_loop_is_spent);
    tcase_add_test(tc, awaiting_its_own_future_is_edeadlk);
    tcase_add_test(tc, outsiders_cannot_complete_a_coroutine);
    tcase_add_test(tc, idle_waiting_coroutine_does_not_wake_its_loop);
    tcase_add_test(tc, every_waiting_call_suspends_the_coroutine);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
