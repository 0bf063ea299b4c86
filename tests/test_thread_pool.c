/* SPDX-License-Identifier: MIT */
/* test_thread_pool.c: the thread pool: submit, lazy workers, names, initializer (and its failure),
 * max_pending backpressure, cancellation of pending and running tasks, shutdown in all its forms,
 * stats, task failure, and calls made from the pool's own tasks and callbacks. */
#include <math.h>
#include <string.h>

#include "testutil.h"

/* A gate tasks can block on, opened by the test. */
typedef struct gate { pthread_mutex_t mu; pthread_cond_t cv; bool open; _Atomic int waiting; } gate;
#define GATE_INIT { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0 }

static void gate_pass(gate *g)
{
    atomic_fetch_add(&g->waiting, 1);
    pthread_mutex_lock(&g->mu);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void gate_open(gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = true;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void *blocker(void *arg)
{
    gate_pass(arg);
    return (void *)1;
}

static void *identity(void *arg) { return arg; }

static size_t stat_of(cf_executor *ex, int which)
{
    cf_pool_stats st;
    ck_assert_int_eq(cf_executor_stats(ex, &st), 0);
    switch (which) {
    case 0: return st.pending;
    case 1: return st.running;
    case 2: return st.completed;
    case 3: return st.failed;
    case 4: return st.cancelled;
    default: return (size_t)st.workers;
    }
}
enum { PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, WORKERS };

START_TEST(submit_and_result_with_defaults)
{
    cf_executor *ex = cf_thread_pool_new(NULL);
    ck_assert_ptr_nonnull(ex);
    ck_assert_int_eq(stat_of(ex, WORKERS), 0);    /* lazy: nothing started yet */
    cf_future *f = cf_submit(ex, identity, (void *)123);
    ck_assert_ptr_nonnull(f);
    void *v;
    ck_assert_int_eq(cf_future_result(f, CF_FOREVER, &v), 0);
    ck_assert_ptr_eq(v, (void *)123);
    ck_assert_int_eq(cf_future_state(f), CF_FINISHED);
    cf_future_unref(f);
    ck_assert_int_eq(stat_of(ex, COMPLETED), 1);
    cf_executor_free(ex);
    cf_executor_free(NULL);
}
END_TEST

START_TEST(bad_arguments)
{
    errno = 0;
    ck_assert_ptr_null(cf_thread_pool_new(&(cf_pool_opts){ .max_workers = -1 }));
    ck_assert_int_eq(errno, EINVAL);
    cf_pool_opts garbage = CF_POOL_OPTS_INIT;   /* the reserved tail must be zero */
    garbage.cf__reserved[7] = 1;
    errno = 0;
    ck_assert_ptr_null(cf_thread_pool_new(&garbage));
    ck_assert_int_eq(errno, EINVAL);
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 1 });
    errno = 0;
    ck_assert_ptr_null(cf_submit(NULL, identity, NULL));
    ck_assert_int_eq(errno, EINVAL);
    errno = 0;
    ck_assert_ptr_null(cf_submit(ex, NULL, NULL));
    ck_assert_int_eq(errno, EINVAL);
    errno = 0;
    ck_assert_ptr_null(cf_submit_timeout(ex, identity, NULL, NAN));
    ck_assert_int_eq(errno, EINVAL);
    cf_pool_stats st;
    ck_assert_int_eq(cf_executor_stats(NULL, &st), EINVAL);
    ck_assert_int_eq(cf_executor_stats(ex, NULL), EINVAL);
    cf_executor_shutdown(NULL, true, true);
    cf_executor_free(ex);
}
END_TEST

START_TEST(submit_after_shutdown_fails)
{
    cf_executor *ex = cf_thread_pool_new(NULL);
    cf_executor_shutdown(ex, true, false);
    cf_executor_shutdown(ex, true, true);         /* idempotent */
    errno = 0;
    ck_assert_ptr_null(cf_submit(ex, identity, NULL));
    ck_assert_int_eq(errno, ESHUTDOWN);
    cf_executor_free(ex);
}
END_TEST

START_TEST(workers_start_lazily_up_to_max)
{
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 8 });
    /* One task at a time: the idle worker is reused, no new thread per submit. */
    for (int i = 0; i < 16; i++) {
        cf_future *f = cf_submit(ex, identity, NULL);
        ck_assert_int_eq(cf_future_result(f, CF_FOREVER, NULL), 0);
        cf_future_unref(f);
        sleep_ms(2);
    }
    ck_assert_int_le(stat_of(ex, WORKERS), 2);
    cf_executor_free(ex);

    /* Many blocked tasks: exactly max_workers threads, never more. */
    ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 4 });
    gate g = GATE_INIT;
    cf_future *fs[10];
    for (int i = 0; i < 10; i++)
        fs[i] = cf_submit(ex, blocker, &g);
    WAIT_UNTIL(atomic_load(&g.waiting) == 4, 10);
    ck_assert_int_eq(atomic_load(&g.waiting), 4);
    ck_assert_int_eq(stat_of(ex, WORKERS), 4);
    ck_assert_int_eq(stat_of(ex, RUNNING), 4);
    ck_assert_int_eq(stat_of(ex, PENDING), 6);
    gate_open(&g);
    ck_assert_int_eq(cf_wait(fs, 10, CF_FOREVER, CF_ALL_COMPLETED), 0);
    ck_assert_int_eq(stat_of(ex, WORKERS), 4);
    for (int i = 0; i < 10; i++)
        cf_future_unref(fs[i]);
    cf_executor_free(ex);
}
END_TEST

static void *my_name(void *arg)
{
    (void)arg;
    char *name = calloc(1, 16);
    pthread_getname_np(pthread_self(), name, 16);
    return name;
}

START_TEST(workers_are_named)
{
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 1, .name = "io" });
    cf_future *f = cf_submit(ex, my_name, NULL);
    char *name;
    ck_assert_int_eq(cf_future_result(f, CF_FOREVER, (void **)&name), 0);
    ck_assert_str_eq(name, "io-1");
    free(name);
    cf_future_unref(f);
    cf_executor_free(ex);

    ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 1, .name = "a-very-long-pool-name" });
    f = cf_submit(ex, my_name, NULL);
    ck_assert_int_eq(cf_future_result(f, CF_FOREVER, (void **)&name), 0);
    ck_assert_str_eq(name, "a-very-long-p-1");   /* 15 bytes, the number kept */
    free(name);
    cf_future_unref(f);
    cf_executor_free(ex);

    ex = cf_thread_pool_new(NULL);
    f = cf_submit(ex, my_name, NULL);
    ck_assert_int_eq(cf_future_result(f, CF_FOREVER, (void **)&name), 0);
    ck_assert_str_eq(name, "cf-thread-1");
    free(name);
    cf_future_unref(f);
    cf_executor_free(ex);
}
END_TEST

static _Atomic int init_calls;
static _Thread_local bool initialized;

static void init_ok(void *arg)
{
    ck_assert_ptr_eq(arg, (void *)&init_calls);
    ck_assert(!initialized);         /* once per worker */
    initialized = true;
    atomic_fetch_add(&init_calls, 1);
}

static void *check_initialized(void *arg)
{
    gate_pass(arg);
    return (void *)(intptr_t)initialized;
}

START_TEST(initializer_runs_once_per_worker_first)
{
    atomic_store(&init_calls, 0);
    cf_executor *ex = cf_thread_pool_new(
        &(cf_pool_opts){ .max_workers = 3, .initializer = init_ok, .initarg = &init_calls });
    gate g = GATE_INIT;
    cf_future *fs[9];
    for (int i = 0; i < 9; i++)
        fs[i] = cf_submit(ex, check_initialized, &g);
    WAIT_UNTIL(atomic_load(&g.waiting) == 3, 10);
    gate_open(&g);
    for (int i = 0; i < 9; i++) {
        void *v;
        ck_assert_int_eq(cf_future_result(fs[i], CF_FOREVER, &v), 0);
        ck_assert_ptr_eq(v, (void *)1);
        cf_future_unref(fs[i]);
    }
    ck_assert_int_eq(atomic_load(&init_calls), 3);
    ck_assert_int_eq(stat_of(ex, WORKERS), 3);
    cf_executor_free(ex);
}
END_TEST

static void init_fail(void *arg)
{
    (void)arg;
    cf_task_fail(ENOENT, "no config at %s", "/etc/x");
}

START_TEST(failing_initializer_breaks_the_pool)
{
    cf_executor *ex = cf_thread_pool_new(
        &(cf_pool_opts){ .max_workers = 2, .initializer = init_fail });
    cf_future *fs[20];
    int n = 0;
    for (; n < 20; n++) {
        fs[n] = cf_submit(ex, identity, NULL);
        if (!fs[n]) {
            ck_assert_int_eq(errno, CF_EBROKEN);   /* the pool broke while we submitted */
            break;
        }
    }
    ck_assert_int_gt(n, 0);
    for (int i = 0; i < n; i++) {
        const char *msg;
        ck_assert_int_eq(cf_future_error(fs[i], CF_FOREVER, &msg), CF_EBROKEN);
        ck_assert_ptr_nonnull(strstr(msg, "no config at /etc/x"));
        cf_future_unref(fs[i]);
    }
    errno = 0;
    ck_assert_ptr_null(cf_submit(ex, identity, NULL));
    ck_assert_int_eq(errno, CF_EBROKEN);
    ck_assert_int_eq(stat_of(ex, FAILED), (size_t)n);
    ck_assert_int_eq(stat_of(ex, PENDING), 0);
    cf_executor_free(ex);
}
END_TEST

static void *fail_task(void *arg)
{
    cf_task_fail((int)(intptr_t)arg, "failed with %d", (int)(intptr_t)arg);
    return (void *)1;   /* ignored */
}

START_TEST(task_failure_and_stats)
{
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 2 });
    cf_future *ok = cf_submit(ex, identity, (void *)5);
    cf_future *bad = cf_submit(ex, fail_task, (void *)EPIPE);
    cf_future *zero = cf_submit(ex, fail_task, (void *)0);
    void *v = NULL;
    const char *msg;
    ck_assert_int_eq(cf_future_result(bad, CF_FOREVER, &v), EPIPE);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(cf_future_error(bad, 0, &msg), EPIPE);
    ck_assert_str_eq(msg, "failed with 32");
    ck_assert_int_eq(cf_future_error(zero, CF_FOREVER, NULL), EINVAL);   /* err 0 -> EINVAL */
    ck_assert_int_eq(cf_future_result(ok, CF_FOREVER, &v), 0);
    ck_assert_ptr_eq(v, (void *)5);
    ck_assert_int_eq(stat_of(ex, COMPLETED), 1);
    ck_assert_int_eq(stat_of(ex, FAILED), 2);
    ck_assert_int_eq(stat_of(ex, RUNNING), 0);
    ck_assert_int_eq(stat_of(ex, PENDING), 0);
    cf_future_unref(ok);
    cf_future_unref(bad);
    cf_future_unref(zero);
    cf_executor_free(ex);
}
END_TEST

static void *poll_cancel(void *arg)
{
    gate *g = arg;
    atomic_fetch_add(&g->waiting, 1);
    while (!cf_task_cancelled())
        sleep_ms(0.5);
    return (void *)2;
}

static _Atomic int ran_count;
static void *count_run(void *arg)
{
    atomic_fetch_add(&ran_count, 1);
    return arg;
}

/* A one-worker pool whose only worker runs poll_cancel (until cancellation is requested), so
 * that whatever is submitted next stays pending. */
static cf_executor *busy_pool(gate *g, cf_future **running)
{
    atomic_store(&ran_count, 0);
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 1 });
    *running = cf_submit(ex, poll_cancel, g);
    WAIT_UNTIL(atomic_load(&g->waiting) == 1, 10);
    ck_assert_int_eq(atomic_load(&g->waiting), 1);
    return ex;
}

START_TEST(cancel_pending_and_running)
{
    gate g = GATE_INIT;
    cf_future *running;
    cf_executor *ex = busy_pool(&g, &running);
    cf_future *pend = cf_submit(ex, count_run, NULL);
    ck_assert_int_eq(cf_future_state(running), CF_RUNNING);
    ck_assert_int_eq(cf_future_state(pend), CF_PENDING);
    ck_assert_int_eq(stat_of(ex, PENDING), 1);
    ck_assert(cf_future_cancel(pend));
    ck_assert_int_eq(cf_future_state(pend), CF_CANCELLED);
    ck_assert_int_eq(stat_of(ex, PENDING), 0);
    ck_assert_int_eq(stat_of(ex, CANCELLED), 1);
    ck_assert(!cf_future_cancel(running));          /* running: false, but recorded */
    void *v;
    ck_assert_int_eq(cf_future_result(running, CF_FOREVER, &v), 0);
    ck_assert_ptr_eq(v, (void *)2);                 /* the task saw cf_task_cancelled() */
    ck_assert_int_eq(cf_future_state(running), CF_FINISHED);
    cf_executor_free(ex);
    ck_assert_int_eq(atomic_load(&ran_count), 0);   /* the cancelled task never ran */
    cf_future_unref(running);
    cf_future_unref(pend);
}
END_TEST

START_TEST(shutdown_cancel_futures)
{
    gate g = GATE_INIT;
    cf_future *running;
    cf_executor *ex = busy_pool(&g, &running);
    cf_future *fs[10];
    for (int i = 0; i < 10; i++)
        fs[i] = cf_submit(ex, count_run, NULL);
    cf_executor_shutdown(ex, true, true);
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(cf_future_state(fs[i]), CF_CANCELLED);
        cf_future_unref(fs[i]);
    }
    void *v;
    ck_assert_int_eq(cf_future_result(running, 0, &v), 0);
    ck_assert_ptr_eq(v, (void *)2);                 /* flagged, stopped early */
    ck_assert_int_eq(atomic_load(&ran_count), 0);
    ck_assert_int_eq(stat_of(ex, CANCELLED), 10);
    ck_assert_int_eq(stat_of(ex, WORKERS), 0);
    cf_future_unref(running);
    cf_executor_free(ex);
}
END_TEST

static void *slow_identity(void *arg)
{
    sleep_ms(2);
    return arg;
}

START_TEST(shutdown_wait_runs_everything_queued)
{
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 2 });
    cf_future *fs[20];
    for (int i = 0; i < 20; i++)
        fs[i] = cf_submit(ex, slow_identity, (void *)(intptr_t)i);
    cf_executor_shutdown(ex, true, false);
    for (int i = 0; i < 20; i++) {
        void *v;
        ck_assert_int_eq(cf_future_result(fs[i], 0, &v), 0);
        ck_assert_ptr_eq(v, (void *)(intptr_t)i);
        cf_future_unref(fs[i]);
    }
    ck_assert_int_eq(stat_of(ex, WORKERS), 0);
    cf_executor_free(ex);
}
END_TEST

START_TEST(shutdown_nowait_then_futures_still_complete)
{
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 1 });
    gate g = GATE_INIT;
    cf_future *a = cf_submit(ex, blocker, &g);
    cf_future *b = cf_submit(ex, identity, (void *)4);
    cf_executor_shutdown(ex, false, false);         /* returns although a task is blocked */
    ck_assert(!cf_future_done(b));
    gate_open(&g);
    void *v;
    ck_assert_int_eq(cf_future_result(b, CF_FOREVER, &v), 0);
    ck_assert_ptr_eq(v, (void *)4);
    ck_assert_int_eq(cf_future_result(a, CF_FOREVER, NULL), 0);
    cf_future_unref(a);
    cf_future_unref(b);
    cf_executor_free(ex);
}
END_TEST

static cf_executor *self_pool;
static void *free_own_pool(void *arg)
{
    (void)arg;
    cf_executor_free(self_pool);      /* must not wait for this very task */
    return (void *)77;
}
static void *shutdown_own_pool(void *arg)
{
    (void)arg;
    cf_executor_shutdown(self_pool, true, false);
    return (void *)78;
}

START_TEST(free_and_shutdown_from_own_task)
{
    self_pool = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 2 });
    cf_future *other = cf_submit(self_pool, slow_identity, (void *)1);
    cf_future *f = cf_submit(self_pool, free_own_pool, NULL);
    void *v;
    ck_assert_int_eq(cf_future_result(f, 30, &v), 0);
    ck_assert_ptr_eq(v, (void *)77);
    ck_assert(cf_future_done(other));                /* free waited for the other task */
    cf_future_unref(f);
    cf_future_unref(other);

    self_pool = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 1 });
    f = cf_submit(self_pool, shutdown_own_pool, NULL);
    ck_assert_int_eq(cf_future_result(f, 30, &v), 0);
    ck_assert_ptr_eq(v, (void *)78);
    cf_future_unref(f);
    cf_executor_free(self_pool);
}
END_TEST

START_TEST(max_pending_blocks_submitters)
{
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 1, .max_pending = 2 });
    gate g = GATE_INIT;
    cf_future *b = cf_submit(ex, blocker, &g);
    WAIT_UNTIL(atomic_load(&g.waiting) == 1, 10);
    cf_future *p1 = cf_submit(ex, identity, NULL), *p2 = cf_submit(ex, identity, NULL);
    ck_assert_int_eq(stat_of(ex, PENDING), 2);
    errno = 0;
    ck_assert_ptr_null(cf_submit_timeout(ex, identity, NULL, 0));
    ck_assert_int_eq(errno, EAGAIN);
    errno = 0;
    ck_assert_ptr_null(cf_submit_timeout(ex, identity, NULL, 0.02));
    ck_assert_int_eq(errno, ETIMEDOUT);
    /* Cancelling a pending task frees its slot. */
    ck_assert(cf_future_cancel(p2));
    cf_future *p3 = cf_submit_timeout(ex, identity, NULL, 0);
    ck_assert_ptr_nonnull(p3);
    gate_open(&g);
    cf_future *p4 = cf_submit(ex, identity, (void *)9);   /* blocks until a slot frees */
    ck_assert_ptr_nonnull(p4);
    void *v;
    ck_assert_int_eq(cf_future_result(p4, CF_FOREVER, &v), 0);
    ck_assert_ptr_eq(v, (void *)9);
    cf_future *all[5] = { b, p1, p2, p3, p4 };
    ck_assert_int_eq(cf_wait(all, 5, CF_FOREVER, CF_ALL_COMPLETED), 0);
    for (int i = 0; i < 5; i++)
        cf_future_unref(all[i]);
    cf_executor_free(ex);
}
END_TEST

typedef struct nested { cf_executor *ex; int n; } nested;
static void *submit_many_from_worker(void *arg)
{
    nested *nd = arg;
    cf_future *fs[8];
    for (int i = 0; i < nd->n; i++) {
        fs[i] = cf_submit(nd->ex, identity, NULL);   /* never blocks on max_pending here */
        if (!fs[i])
            return NULL;
    }
    for (int i = 0; i < nd->n; i++)
        cf_future_unref(fs[i]);
    return (void *)1;
}

static _Atomic int cb_submits;
static void submit_from_callback(cf_future *f, void *arg)
{
    (void)f;
    cf_future *g = cf_submit(arg, identity, NULL);
    if (g)
        atomic_fetch_add(&cb_submits, 1);
    cf_future_unref(g);
}

START_TEST(own_workers_never_block_on_max_pending)
{
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 1, .max_pending = 1 });
    nested nd = { ex, 8 };
    cf_future *f = cf_submit(ex, submit_many_from_worker, &nd);
    void *v;
    ck_assert_int_eq(cf_future_result(f, 30, &v), 0);
    ck_assert_ptr_eq(v, (void *)1);
    /* A done-callback running in a worker may submit, too. */
    atomic_store(&cb_submits, 0);
    gate gt = GATE_INIT;
    cf_future *g = cf_submit(ex, blocker, &gt);
    WAIT_UNTIL(atomic_load(&gt.waiting) == 1, 10);
    cf_future *fill = cf_submit(ex, identity, NULL);          /* max_pending reached */
    ck_assert_int_eq(cf_future_add_done_callback(g, submit_from_callback, ex), 0);
    gate_open(&gt);                    /* g completes in the worker, which runs the callback */
    ck_assert_int_eq(cf_future_result(g, 30, NULL), 0);
    WAIT_UNTIL(atomic_load(&cb_submits) == 1, 30);   /* callbacks run after waiters wake */
    cf_executor_shutdown(ex, true, false);
    cf_future_unref(fill);
    ck_assert_int_eq(atomic_load(&cb_submits), 1);
    cf_future_unref(f);
    cf_future_unref(g);
    cf_executor_free(ex);
}
END_TEST

static void *blocked_submit(void *arg)
{
    cf_future *f = cf_submit(arg, identity, NULL);
    int err = errno;
    cf_future_unref(f);
    return f ? NULL : (void *)(intptr_t)err;
}

START_TEST(shutdown_wakes_blocked_submitters)
{
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 1, .max_pending = 1 });
    gate g = GATE_INIT;
    cf_future *b = cf_submit(ex, blocker, &g);
    WAIT_UNTIL(atomic_load(&g.waiting) == 1, 10);
    cf_future *p = cf_submit(ex, identity, NULL);
    pthread_t t;
    pthread_create(&t, NULL, blocked_submit, ex);
    sleep_ms(20);
    cf_executor_shutdown(ex, false, true);
    void *err;
    pthread_join(t, &err);
    ck_assert_ptr_eq(err, (void *)(intptr_t)ESHUTDOWN);
    gate_open(&g);
    ck_assert_int_eq(cf_future_state(p), CF_CANCELLED);
    cf_future_unref(b);
    cf_future_unref(p);
    cf_executor_free(ex);
}
END_TEST

/* Queued tasks never wait behind a running one while other workers idle: three tasks that can
 * only finish together (each waits at a barrier for the other two, with a timeout) finish, round
 * after round, with idle workers spinning or asleep at each submit. */
typedef struct barrier3 { _Atomic int arrived; int n; } barrier3;

static void *meet(void *arg)
{
    barrier3 *b = arg;
    atomic_fetch_add(&b->arrived, 1);
    double until = now_s() + 10;
    while (atomic_load(&b->arrived) < b->n && now_s() < until)
        sleep_ms(0.05);
    return (void *)(intptr_t)(atomic_load(&b->arrived) >= b->n);
}

START_TEST(queued_tasks_do_not_wait_behind_a_spinner)
{
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 4 });
    uint32_t seed = 3;
    for (int round = 0; round < (int)cf_scaled(200); round++) {
        barrier3 b = { 0, 3 };
        cf_future *f[3];
        for (int i = 0; i < 3; i++)
            f[i] = cf_submit(ex, meet, &b);
        for (int i = 0; i < 3; i++) {
            void *met = NULL;
            ck_assert_int_eq(cf_future_result(f[i], 30, &met), 0);
            ck_assert_msg(met == (void *)1, "round %d: the tasks did not run side by side", round);
            cf_future_unref(f[i]);
        }
        sleep_ms((double)(rnd(&seed) % 300) / 1000.0);   /* workers spinning, or asleep */
    }
    cf_executor_free(ex);
}
END_TEST

/* CPython's test_idle_thread_reuse: sequential submit + result on a default pool use one
 * thread, every time: the worker is idle again before the caller sees the result. */
START_TEST(idle_worker_is_reused)
{
    for (int run = 0; run < (int)cf_scaled(100); run++) {
        cf_executor *ex = cf_thread_pool_new(NULL);
        for (int i = 0; i < 3; i++) {
            cf_future *f = cf_submit(ex, identity, (void *)1);
            void *v;
            ck_assert_int_eq(cf_future_result(f, 30, &v), 0);
            cf_future_unref(f);
        }
        ck_assert_msg(stat_of(ex, 5) == 1, "run %d: %zu workers", run, stat_of(ex, 5));
        cf_executor_free(ex);
    }
}
END_TEST

/* The same over a long stream of sequential submits, each finding the worker spinning with its
 * token down: a submit that claimed the token only after its enqueue let the worker take the
 * task and its token back in between, and started a second thread (19 pools in 20 did, over
 * 20000 submits each, before submits claimed first). */
START_TEST(idle_worker_is_reused_over_a_stream)
{
    cf_executor *ex = cf_thread_pool_new(NULL);
    for (int i = 0; i < (int)cf_scaled(20000); i++) {
        cf_future *f = cf_submit(ex, identity, (void *)1);
        void *v;
        HOT_ASSERT(cf_future_result(f, 30, &v) == 0);
        cf_future_unref(f);
    }
    ck_assert_msg(stat_of(ex, 5) == 1, "%zu workers", stat_of(ex, 5));
    cf_executor_free(ex);
}
END_TEST

/* A pool's future is the pool's: set_result / set_error from outside are refused (EPERM), the
 * task still runs and its own result stands; cf_future_new's futures stay anyone's. */
START_TEST(outsiders_cannot_complete_a_pool_future)
{
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 1 });
    gate g = GATE_INIT;
    cf_future *busy = cf_submit(ex, blocker, &g);
    cf_future *queued = cf_submit(ex, identity, (void *)9);
    WAIT_UNTIL(atomic_load(&g.waiting) == 1, 10);
    ck_assert_int_eq(cf_future_set_result(busy, (void *)2), EPERM);     /* running */
    ck_assert_int_eq(cf_future_set_result(queued, (void *)2), EPERM);   /* pending */
    ck_assert_int_eq(cf_future_set_error(queued, EIO, NULL), EPERM);
    ck_assert(!cf_future_set_running(queued));                          /* nor started */
    ck_assert_int_eq(cf_future_state(queued), CF_PENDING);
    gate_open(&g);
    void *v;
    ck_assert_int_eq(cf_future_result(busy, 10, &v), 0);
    ck_assert_ptr_eq(v, (void *)1);
    ck_assert_int_eq(cf_future_result(queued, 10, &v), 0);
    ck_assert_ptr_eq(v, (void *)9);
    cf_future_unref(busy);
    cf_future_unref(queued);
    cf_future *mine = cf_future_new();
    ck_assert_int_eq(cf_future_set_result(mine, (void *)3), 0);
    cf_future_unref(mine);
    cf_executor_free(ex);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("thread_pool");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, submit_and_result_with_defaults);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, submit_after_shutdown_fails);
    tcase_add_test(tc, workers_start_lazily_up_to_max);
    tcase_add_test(tc, workers_are_named);
    tcase_add_test(tc, initializer_runs_once_per_worker_first);
    tcase_add_test(tc, failing_initializer_breaks_the_pool);
    tcase_add_test(tc, task_failure_and_stats);
    tcase_add_test(tc, cancel_pending_and_running);
    tcase_add_test(tc, shutdown_cancel_futures);
    tcase_add_test(tc, shutdown_wait_runs_everything_queued);
    tcase_add_test(tc, shutdown_nowait_then_futures_still_complete);
    tcase_add_test(tc, free_and_shutdown_from_own_task);
    tcase_add_test(tc, max_pending_blocks_submitters);
    tcase_add_test(tc, own_workers_never_block_on_max_pending);
    tcase_add_test(tc, shutdown_wakes_blocked_submitters);
    tcase_add_test(tc, queued_tasks_do_not_wait_behind_a_spinner);
    tcase_add_test(tc, idle_worker_is_reused);
    tcase_add_test(tc, idle_worker_is_reused_over_a_stream);
    tcase_add_test(tc, outsiders_cannot_complete_a_pool_future);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
