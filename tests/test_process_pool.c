/* SPDX-License-Identifier: MIT */
/* test_process_pool.c: the process pool: results across processes, bytes tasks, crashes and
 * SIGKILLs of workers (only the task a worker ran fails), task_timeout, max_tasks_per_child,
 * initializers, cancellation on both sides of the start, shutdown/terminate, and that nothing is
 * left behind: no process, zombie, descriptor or mapping, even when the parent is killed. */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "testutil.h"

/* Memory shared with the workers: created before the pools, so every fork inherits it. */
typedef struct shared {
    _Atomic int   pids[64];      /* recent worker pids, written by tasks */
    _Atomic long  ran;           /* tasks that ran to completion */
    _Atomic int   started;       /* a slow task has started */
    _Atomic int   touched;       /* a task that must never run ran */
    _Atomic int   inits;         /* initializer runs */
    _Atomic long  gather;        /* tasks at a barrier */
} shared;
static shared *sh;

static void setup(void)
{
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(sh, MAP_FAILED);
    memset(sh, 0, sizeof *sh);
}

static void teardown(void) { munmap(sh, sizeof *sh); }

static cf_executor *pool(int workers)
{
    cf_pool_opts o = { .max_workers = workers };
    cf_executor *ex = cf_process_pool_new(&o);
    ck_assert_ptr_nonnull(ex);
    return ex;
}

static void *square(void *a) { long x = (long)a; return (void *)(x * x); }
/* A worker holds a copy of the pool with no manager: submitting there must fail, not hang. */
static void *resubmit(void *ex)
{
    cf_future *f = cf_submit(ex, square, NULL);
    return (void *)(long)(f ? 0 : errno);
}
static void *my_pid(void *a) { (void)a; return (void *)(long)getpid(); }
static void *sleep_ms_task(void *a) { sleep_ms((double)(long)a); return a; }
static void *crash(void *a) { (void)a; abort(); }
static void *quit(void *a)
{
    if (cf_scaled(4) != 4)
        _exit((int)(long)a);   /* sanitized: skip LeakSanitizer's report of the parent's heap */
    exit((int)(long)a);
}
static void *fail_task(void *a) { cf_task_fail(EDOM, "bad input %ld", (long)a); return NULL; }
static void *touch(void *a) { atomic_store(&sh->touched, 1); return a; }
static void *until_cancelled(void *a)
{
    (void)a;
    atomic_store(&sh->started, 1);
    double until = now_s() + 30;
    while (!cf_task_cancelled() && now_s() < until)
        sleep_ms(1);
    return (void *)(long)cf_task_cancelled();
}

static void *get_result(cf_future *f, int want_err)
{
    void *v = NULL;
    ck_assert_int_eq(cf_future_result(f, 60, &v), want_err);
    return v;
}

START_TEST(results_come_from_other_processes)
{
    cf_executor *ex = pool(2);
    cf_future *f = cf_submit(ex, square, (void *)12);
    ck_assert_ptr_eq(get_result(f, 0), (void *)144);
    cf_future_unref(f);
    f = cf_submit(ex, my_pid, NULL);
    long pid = (long)get_result(f, 0);
    ck_assert_int_ne(pid, getpid());
    ck_assert_int_gt(pid, 0);
    char path[64], comm[32] = "";
    snprintf(path, sizeof path, "/proc/%ld/comm", pid);
    FILE *c = fopen(path, "r");
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(fgets(comm, sizeof comm, c));
    fclose(c);
    ck_assert(strncmp(comm, "cf-proc-", 8) == 0);
    cf_future_unref(f);
    f = cf_submit(ex, resubmit, ex);
    ck_assert_ptr_eq(get_result(f, 0), (void *)(long)EPERM);
    cf_future_unref(f);
    ck_assert_ptr_eq(cf_submit(NULL, square, NULL), NULL);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_ptr_eq(cf_submit(ex, NULL, NULL), NULL);
    cf_pool_opts bad = { .max_workers = -1 };
    ck_assert_ptr_eq(cf_process_pool_new(&bad), NULL);
    ck_assert_int_eq(errno, EINVAL);
    cf_pool_opts garbage = CF_POOL_OPTS_INIT;   /* the reserved tail must be zero */
    garbage.cf__reserved[0] = 1;
    errno = 0;
    ck_assert_ptr_eq(cf_process_pool_new(&garbage), NULL);
    ck_assert_int_eq(errno, EINVAL);
    cf_executor_free(ex);
}
END_TEST

START_TEST(many_tasks_wait_and_as_completed)
{
    cf_executor *ex = pool(2);
    long n = cf_scaled(20000);
    cf_future **fs = malloc((size_t)n * sizeof *fs);
    for (long i = 0; i < n; i++)
        ck_assert_ptr_nonnull(fs[i] = cf_submit(ex, square, (void *)i));
    ck_assert_int_eq(cf_wait(fs, (size_t)n, 60, CF_ALL_COMPLETED), 0);
    for (long i = 0; i < n; i++)
        HOT_ASSERT(cf_future_state(fs[i]) == CF_FINISHED && get_result(fs[i], 0) == (void *)(i * i));
    cf_as_completed *ac = cf_as_completed_new(fs, (size_t)n);
    ck_assert_ptr_nonnull(ac);
    cf_future *f;
    long seen = 0;
    while (cf_as_completed_next(ac, 60, &f) == 0)
        seen++;
    ck_assert_int_eq(seen, n);
    cf_as_completed_free(ac);
    for (long i = 0; i < n; i++)
        cf_future_unref(fs[i]);
    free(fs);
    cf_pool_stats st;
    ck_assert_int_eq(cf_executor_stats(ex, &st), 0);
    ck_assert_uint_eq(st.completed, (size_t)n);
    ck_assert_uint_eq(st.pending + st.running + st.failed + st.cancelled, 0);
    cf_executor_free(ex);
}
END_TEST

START_TEST(map_in_chunks)
{
    cf_executor *ex = pool(2);
    long n = 10007;
    void **args = malloc((size_t)n * sizeof *args), **res = calloc((size_t)n, sizeof *res);
    for (long i = 0; i < n; i++)
        args[i] = (void *)i;
    size_t sizes[] = { 1, 7, 256 };
    for (size_t k = 0; k < 3; k++) {
        memset(res, 0, (size_t)n * sizeof *res);
        ck_assert_int_eq(cf_map(ex, square, args, res, (size_t)n, sizes[k], 60), 0);
        for (long i = 0; i < n; i++)
            HOT_ASSERT(res[i] == (void *)(i * i));
    }
    /* A failing item: its error, and the items before it. */
    args[5000] = (void *)-1;
    memset(res, 0, (size_t)n * sizeof *res);
    ck_assert_int_eq(cf_map(ex, fail_task, args, res, 3, 2, 60), EDOM);
    cf_executor_free(ex);
    free(args);
    free(res);
}
END_TEST

static cf_bytes reverse(const void *a, size_t n)
{
    unsigned char *o = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        o[i] = ((const unsigned char *)a)[n - 1 - i];
    return (cf_bytes){ n ? o : (free(o), NULL), n };
}
static cf_bytes no_data(const void *a, size_t n) { (void)a; return (cf_bytes){ NULL, n }; }
static cf_bytes fails_bytes(const void *a, size_t n)
{
    (void)a;
    cf_task_fail(ERANGE, "too long: %zu", n);
    return (cf_bytes){ malloc(8), 8 };         /* freed by the pool */
}

static void bytes_on(cf_executor *ex)
{
    const void *d;
    size_t len;
    cf_future *f = cf_submit_bytes(ex, reverse, "hello", 5);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(cf_future_bytes(f, 60, &d, &len), 0);
    ck_assert_uint_eq(len, 5);
    ck_assert(memcmp(d, "olleh", 5) == 0);
    void *v;
    ck_assert_int_eq(cf_future_result(f, 0, &v), 0);
    ck_assert_ptr_eq(v, d);
    cf_future_unref(f);

    f = cf_submit_bytes(ex, no_data, NULL, 0);      /* {NULL, 0}: empty */
    ck_assert_int_eq(cf_future_bytes(f, 60, &d, &len), 0);
    ck_assert_uint_eq(len, 0);
    cf_future_unref(f);
    f = cf_submit_bytes(ex, no_data, "x", 1);       /* {NULL, 1}: ENOMEM */
    ck_assert_int_eq(cf_future_bytes(f, 60, &d, &len), ENOMEM);
    cf_future_unref(f);
    f = cf_submit_bytes(ex, fails_bytes, "abc", 3);
    const char *msg;
    ck_assert_int_eq(cf_future_error(f, 60, &msg), ERANGE);
    ck_assert_str_eq(msg, "too long: 3");
    cf_future_unref(f);

    /* 16 MiB both ways. */
    size_t big = (size_t)16 << 20;
    unsigned char *buf = malloc(big);
    for (size_t i = 0; i < big; i++)
        buf[i] = (unsigned char)(i * 7 + (i >> 12));
    f = cf_submit_bytes(ex, reverse, buf, big);
    ck_assert_int_eq(cf_future_bytes(f, 120, &d, &len), 0);
    ck_assert_uint_eq(len, big);
    const unsigned char *r = d;
    for (size_t i = 0; i < big; i++)
        HOT_ASSERT(r[i] == buf[big - 1 - i]);
    cf_future_unref(f);
    free(buf);

    f = cf_submit(ex, square, (void *)3);
    ck_assert_int_eq(cf_future_bytes(f, 60, &d, &len), EINVAL);   /* not a bytes task */
    cf_future_result(f, 60, NULL);
    cf_future_unref(f);
    ck_assert_ptr_eq(cf_submit_bytes(ex, reverse, NULL, 4), NULL);
    ck_assert_int_eq(errno, EINVAL);
}

START_TEST(bytes_tasks_on_both_pools)
{
    cf_executor *ex = pool(2);
    bytes_on(ex);
    cf_executor_free(ex);
    ex = cf_thread_pool_new(NULL);
    bytes_on(ex);
    cf_executor_free(ex);
}
END_TEST

START_TEST(task_failure_keeps_the_worker)
{
    cf_executor *ex = pool(1);
    cf_future *f = cf_submit(ex, my_pid, NULL);
    long pid = (long)get_result(f, 0);
    cf_future_unref(f);
    f = cf_submit(ex, fail_task, (void *)42);
    const char *msg;
    ck_assert_int_eq(cf_future_error(f, 60, &msg), EDOM);
    ck_assert_str_eq(msg, "bad input 42");
    cf_future_unref(f);
    f = cf_submit(ex, my_pid, NULL);
    ck_assert_int_eq((long)get_result(f, 0), pid);
    cf_future_unref(f);
    cf_executor_free(ex);
}
END_TEST

START_TEST(a_crash_fails_only_its_task)
{
    cf_executor *ex = pool(2);
    cf_future *before[50], *after[50];
    for (long i = 0; i < 50; i++)
        before[i] = cf_submit(ex, square, (void *)i);
    cf_future *c = cf_submit(ex, crash, NULL);
    cf_future *q = cf_submit(ex, quit, (void *)3);
    for (long i = 0; i < 50; i++)
        after[i] = cf_submit(ex, square, (void *)i);
    const char *msg;
    ck_assert_int_eq(cf_future_error(c, 60, &msg), CF_EWORKER);
    ck_assert_ptr_nonnull(strstr(msg, "killed by signal 6"));
    ck_assert_int_eq(cf_future_error(q, 60, &msg), CF_EWORKER);
    ck_assert_ptr_nonnull(strstr(msg, "exited with status 3"));
    for (long i = 0; i < 50; i++) {
        ck_assert_ptr_eq(get_result(before[i], 0), (void *)(i * i));
        ck_assert_ptr_eq(get_result(after[i], 0), (void *)(i * i));
        cf_future_unref(before[i]);
        cf_future_unref(after[i]);
    }
    cf_future_unref(c);
    cf_future_unref(q);
    cf_pool_stats st;
    cf_executor_stats(ex, &st);
    ck_assert_uint_eq(st.failed, 2);
    ck_assert_uint_eq(st.completed, 100);
    WAIT_UNTIL((cf_executor_stats(ex, &st), st.workers == 2), 30);
    ck_assert_int_eq(st.workers, 2);             /* replaced (the fork may still be under way) */
    cf_executor_free(ex);
}
END_TEST

/* Tasks note their pid; a killer thread SIGKILLs recent workers at random. */
static void *noted(void *a)
{
    long i = (long)a;
    atomic_store(&sh->pids[i % 64], getpid());
    if (i % 3 == 0)
        usleep((useconds_t)(i % 7) * 50);
    atomic_fetch_add(&sh->ran, 1);
    return (void *)(i * 2 + 1);
}

typedef struct killer { atomic_bool stop; int kills; } killer;

static void *killer_main(void *arg)
{
    killer *k = arg;
    uint32_t seed = 12345;
    while (!atomic_load(&k->stop)) {
        sleep_ms(2 + rnd(&seed) % 8);
        int pid = atomic_load(&sh->pids[rnd(&seed) % 64]);
        if (pid > 0 && kill(pid, SIGKILL) == 0)
            k->kills++;
    }
    return NULL;
}

START_TEST(random_sigkills_fail_exactly_the_killed_tasks)
{
    cf_executor *ex = pool(2);
    long n = cf_scaled(10000);
    cf_future **fs = malloc((size_t)n * sizeof *fs);
    killer k = { .kills = 0 };
    pthread_t t;
    pthread_create(&t, NULL, killer_main, &k);
    for (long i = 0; i < n; i++) {
        ck_assert_ptr_nonnull(fs[i] = cf_submit(ex, noted, (void *)i));
        if (i % 500 == 0)
            sleep_ms(1);                 /* let the killer find workers mid-stream */
    }
    long ok = 0, dead = 0;
    for (long i = 0; i < n; i++) {
        void *v;
        int e = cf_future_result(fs[i], 120, &v);
        if (e == 0) {
            HOT_ASSERT(v == (void *)(i * 2 + 1));
            ok++;
        } else {
            HOT_ASSERT(e == CF_EWORKER);
            const char *msg;
            cf_future_error(fs[i], 0, &msg);
            HOT_ASSERT(strstr(msg, "killed by signal 9") != NULL);
            dead++;
        }
        cf_future_unref(fs[i]);
    }
    atomic_store(&k.stop, true);
    pthread_join(t, NULL);
    ck_assert_int_eq(ok + dead, n);
    ck_assert_int_le(dead, k.kills);            /* a kill fails at most the task it interrupted */
    ck_assert_int_gt(ok, 0);
    cf_pool_stats st;
    cf_executor_stats(ex, &st);
    ck_assert_uint_eq(st.completed, (size_t)ok);
    ck_assert_uint_eq(st.failed, (size_t)dead);
    free(fs);
    cf_executor_free(ex);
}
END_TEST

START_TEST(task_timeout_kills_and_replaces)
{
    cf_pool_opts o = { .max_workers = 2, .task_timeout = 0.3 };
    cf_executor *ex = cf_process_pool_new(&o);
    cf_future *slow = cf_submit(ex, sleep_ms_task, (void *)20000);
    cf_future *fast[20];
    for (long i = 0; i < 20; i++)
        fast[i] = cf_submit(ex, sleep_ms_task, (void *)(i % 3));
    const char *msg;
    ck_assert_int_eq(cf_future_error(slow, 60, &msg), ETIMEDOUT);
    ck_assert_ptr_nonnull(strstr(msg, "task_timeout"));
    for (long i = 0; i < 20; i++) {
        ck_assert_ptr_eq(get_result(fast[i], 0), (void *)(i % 3));
        cf_future_unref(fast[i]);
    }
    cf_future_unref(slow);
    cf_future *f = cf_submit(ex, square, (void *)5);
    ck_assert_ptr_eq(get_result(f, 0), (void *)25);
    cf_future_unref(f);
    cf_executor_free(ex);
}
END_TEST

START_TEST(max_tasks_per_child_replaces_workers)
{
    cf_pool_opts o = { .max_workers = 2, .max_tasks_per_child = 3 };
    cf_executor *ex = cf_process_pool_new(&o);
    long pids[30];
    for (int i = 0; i < 30; i++) {
        cf_future *f = cf_submit(ex, my_pid, NULL);
        pids[i] = (long)get_result(f, 0);
        cf_future_unref(f);
    }
    for (int i = 0; i < 30; i++) {
        int same = 0;
        for (int j = 0; j < 30; j++)
            same += pids[j] == pids[i];
        ck_assert_int_le(same, 3);
    }
    /* Chunks count their items: a map of 20 items still completes. */
    void *args[20], *res[20];
    for (long i = 0; i < 20; i++)
        args[i] = (void *)i;
    ck_assert_int_eq(cf_map(ex, square, args, res, 20, 4, 60), 0);
    for (long i = 0; i < 20; i++)
        ck_assert_ptr_eq(res[i], (void *)(i * i));
    cf_executor_free(ex);
}
END_TEST

static long init_value;
static void init_ok(void *arg) { init_value = (long)arg; }
static void init_fails(void *arg) { (void)arg; cf_task_fail(EACCES, "no licence"); }
static void *read_init(void *a) { (void)a; return (void *)init_value; }

START_TEST(initializer_runs_in_each_worker_or_breaks_the_pool)
{
    cf_pool_opts o = { .max_workers = 2, .initializer = init_ok, .initarg = (void *)77 };
    cf_executor *ex = cf_process_pool_new(&o);
    cf_future *f = cf_submit(ex, read_init, NULL);
    ck_assert_ptr_eq(get_result(f, 0), (void *)77);
    ck_assert_int_eq(init_value, 0);              /* it ran in the worker, not here */
    cf_future_unref(f);
    cf_executor_free(ex);

    o.initializer = init_fails;
    ex = cf_process_pool_new(&o);
    ck_assert_ptr_nonnull(ex);
    f = cf_submit(ex, square, (void *)2);
    if (f) {
        const char *msg;
        ck_assert_int_eq(cf_future_error(f, 60, &msg), CF_EBROKEN);
        ck_assert_ptr_nonnull(strstr(msg, "no licence"));
        cf_future_unref(f);
    } else {
        ck_assert_int_eq(errno, CF_EBROKEN);
    }
    cf_future *g;
    WAIT_UNTIL(!(g = cf_submit(ex, square, NULL)) || (cf_future_unref(g), 0), 30);
    ck_assert_ptr_eq(cf_submit(ex, square, NULL), NULL);
    ck_assert_int_eq(errno, CF_EBROKEN);
    cf_executor_free(ex);
}
END_TEST

START_TEST(cancel_before_and_after_start)
{
    cf_executor *ex = pool(1);
    cf_future *run = cf_submit(ex, until_cancelled, NULL);
    WAIT_UNTIL(atomic_load(&sh->started), 30);
    cf_future *queued[10];
    for (int i = 0; i < 10; i++)
        queued[i] = cf_submit(ex, touch, NULL);
    WAIT_UNTIL(cf_future_state(run) == CF_RUNNING, 30);
    ck_assert_int_eq(cf_future_state(run), CF_RUNNING);
    for (int i = 0; i < 10; i++) {
        ck_assert(cf_future_cancel(queued[i]));           /* sent ahead or not: still cancellable */
        ck_assert_int_eq(cf_future_state(queued[i]), CF_CANCELLED);
    }
    ck_assert(!cf_future_cancel(run));                    /* running: asks, returns false */
    ck_assert_ptr_eq(get_result(run, 0), (void *)1);      /* it saw cf_task_cancelled() */
    cf_future *f = cf_submit(ex, square, (void *)9);
    ck_assert_ptr_eq(get_result(f, 0), (void *)81);
    ck_assert_int_eq(atomic_load(&sh->touched), 0);       /* no cancelled task ran */
    cf_future_unref(f);
    for (int i = 0; i < 10; i++)
        cf_future_unref(queued[i]);
    cf_future_unref(run);
    cf_pool_stats st;
    cf_executor_stats(ex, &st);
    ck_assert_uint_eq(st.cancelled, 10);
    cf_executor_free(ex);
}
END_TEST

START_TEST(shutdown_waits_or_cancels)
{
    cf_executor *ex = pool(2);
    cf_future *fs[40];
    for (long i = 0; i < 40; i++)
        fs[i] = cf_submit(ex, sleep_ms_task, (void *)(i % 4));
    cf_executor_shutdown(ex, true, false);
    for (long i = 0; i < 40; i++) {
        ck_assert_int_eq(cf_future_state(fs[i]), CF_FINISHED);
        cf_future_unref(fs[i]);
    }
    ck_assert_ptr_eq(cf_submit(ex, square, NULL), NULL);
    ck_assert_int_eq(errno, ESHUTDOWN);
    cf_executor_free(ex);

    ex = pool(1);
    cf_future *run = cf_submit(ex, until_cancelled, NULL);
    WAIT_UNTIL(atomic_load(&sh->started), 30);
    for (long i = 0; i < 40; i++)
        fs[i] = cf_submit(ex, touch, NULL);
    cf_executor_shutdown(ex, true, true);
    ck_assert_ptr_eq(get_result(run, 0), (void *)1);
    for (long i = 0; i < 40; i++) {
        ck_assert_int_eq(cf_future_state(fs[i]), CF_CANCELLED);
        cf_future_unref(fs[i]);
    }
    ck_assert_int_eq(atomic_load(&sh->touched), 0);
    cf_future_unref(run);
    cf_executor_free(ex);
}
END_TEST

static void shutdown_from_callback(cf_future *f, void *arg)
{
    (void)f;
    cf_executor_shutdown(arg, true, false);   /* in the pool's own thread: must not self-wait */
}

START_TEST(shutdown_from_a_done_callback)
{
    cf_executor *ex = pool(2);
    cf_future *fs[20];
    for (long i = 0; i < 20; i++)
        fs[i] = cf_submit(ex, sleep_ms_task, (void *)(i % 3));
    cf_future_add_done_callback(fs[0], shutdown_from_callback, ex);
    for (long i = 0; i < 20; i++) {
        ck_assert_int_eq(cf_future_result(fs[i], 60, NULL), 0);   /* queued work still runs */
        cf_future_unref(fs[i]);
    }
    cf_executor_free(ex);
}
END_TEST

static _Atomic(cf_executor *) freed_by_callback;
static void free_from_callback(cf_future *f, void *arg)
{
    (void)f;
    atomic_store(&freed_by_callback, arg);
    cf_executor_free(arg);        /* in the manager thread: released when it exits */
}

START_TEST(map_timeout_wait_modes_and_free_from_callback)
{
    cf_executor *ex = pool(2);
    void *args[8], *res[8];
    for (long i = 0; i < 8; i++)
        args[i] = (void *)400L;                       /* 0.4 s each */
    ck_assert_int_eq(cf_map(ex, sleep_ms_task, args, res, 8, 1, 0.05), ETIMEDOUT);
    cf_future *fs[3] = { cf_submit(ex, sleep_ms_task, (void *)1000L), cf_submit(ex, square, (void *)4),
                         cf_submit(ex, sleep_ms_task, (void *)1000L) };
    ck_assert_int_eq(cf_wait(fs, 3, 60, CF_FIRST_COMPLETED), 0);
    ck_assert(cf_future_done(fs[0]) || cf_future_done(fs[1]) || cf_future_done(fs[2]));
    cf_executor_shutdown(ex, false, true);            /* returns at once */
    for (int i = 0; i < 3; i++) {
        cf_future_cancel(fs[i]);
        cf_future_unref(fs[i]);
    }
    cf_executor_free(ex);

    ex = pool(1);
    cf_future *f = cf_submit(ex, square, (void *)6);
    ck_assert_int_eq(cf_future_add_done_callback(f, free_from_callback, ex), 0);
    ck_assert_ptr_eq(get_result(f, 0), (void *)36);
    WAIT_UNTIL(atomic_load(&freed_by_callback) == ex, 30);
    ck_assert_ptr_eq(atomic_load(&freed_by_callback), ex);
    cf_future_unref(f);
}
END_TEST

START_TEST(terminate_kills_running_and_cancels_pending)
{
    cf_executor *ex = pool(2);
    cf_future *run[2], *pend[20];
    long pids[2];
    for (int i = 0; i < 2; i++) {
        cf_future *f = cf_submit(ex, my_pid, NULL);
        pids[i] = (long)get_result(f, 0);
        cf_future_unref(f);
    }
    for (int i = 0; i < 2; i++)
        run[i] = cf_submit(ex, sleep_ms_task, (void *)60000);
    WAIT_UNTIL(cf_future_state(run[0]) == CF_RUNNING && cf_future_state(run[1]) == CF_RUNNING, 30);
    for (int i = 0; i < 20; i++)
        pend[i] = cf_submit(ex, touch, NULL);
    double t0 = now_s();
    cf_executor_terminate(ex);
    ck_assert(now_s() - t0 < 50);           /* not a timing bound: it did not wait 60 s */
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(cf_future_state(run[i]), CF_FINISHED);
        ck_assert_int_eq(cf_future_result(run[i], 0, NULL), ECANCELED);
        cf_future_unref(run[i]);
    }
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(cf_future_state(pend[i]), CF_CANCELLED);
        cf_future_unref(pend[i]);
    }
    ck_assert_int_eq(atomic_load(&sh->touched), 0);
    for (int i = 0; i < 2; i++)
        ck_assert(kill((pid_t)pids[i], 0) < 0 && errno == ESRCH);   /* killed and reaped */
    cf_pool_stats st;
    cf_executor_stats(ex, &st);
    ck_assert_uint_eq(st.failed, 2);
    ck_assert_uint_eq(st.cancelled, 20);
    ck_assert_ptr_eq(cf_submit(ex, square, NULL), NULL);
    cf_executor_free(ex);

    /* On a thread pool: pending cancelled, running flagged. */
    ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 1 });
    cf_future *r = cf_submit(ex, until_cancelled, NULL);
    WAIT_UNTIL(cf_future_state(r) == CF_RUNNING, 30);
    cf_future *p = cf_submit(ex, touch, NULL);
    cf_executor_terminate(ex);
    ck_assert_int_eq(cf_future_state(p), CF_CANCELLED);
    ck_assert_ptr_eq(get_result(r, 0), (void *)1);
    cf_future_unref(p);
    cf_future_unref(r);
    cf_executor_free(ex);
}
END_TEST

START_TEST(max_pending_bounds_submitters)
{
    cf_pool_opts o = { .max_workers = 1, .max_pending = 2 };
    cf_executor *ex = cf_process_pool_new(&o);
    cf_future *run = cf_submit(ex, until_cancelled, NULL);
    WAIT_UNTIL(cf_future_state(run) == CF_RUNNING, 30);
    cf_future *a = cf_submit(ex, square, (void *)1), *b = cf_submit(ex, square, (void *)2);
    ck_assert_ptr_eq(cf_submit_timeout(ex, square, NULL, 0), NULL);
    ck_assert_int_eq(errno, EAGAIN);
    ck_assert_ptr_eq(cf_submit_timeout(ex, square, NULL, 0.05), NULL);
    ck_assert_int_eq(errno, ETIMEDOUT);
    ck_assert(cf_future_cancel(a));                 /* frees a slot */
    cf_future *c = cf_submit_timeout(ex, square, (void *)3, 30);
    ck_assert_ptr_nonnull(c);
    cf_future_cancel(run);
    ck_assert_ptr_eq(get_result(b, 0), (void *)4);
    ck_assert_ptr_eq(get_result(c, 0), (void *)9);
    cf_future_unref(a);
    cf_future_unref(b);
    cf_future_unref(c);
    cf_future_unref(run);
    cf_executor_free(ex);
}
END_TEST

static int count_children(void)
{
    int n = 0;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        n++;
    return n;
}

START_TEST(nothing_left_behind)
{
    /* Warm up whatever the C library caches (thread stacks, ...), then measure. */
    cf_executor *ex = pool(2);
    cf_executor_free(ex);
    int fds = count_fds(), pipes = count_maps("cf_pipe"), zero = count_maps("/dev/zero");
    for (int round = 0; round < 3; round++) {
        ex = pool(2);
        cf_future *f = cf_submit(ex, crash, NULL);     /* a replacement, too */
        cf_future_result(f, 60, NULL);
        cf_future_unref(f);
        f = cf_submit_bytes(ex, reverse, "abc", 3);
        cf_future_result(f, 60, NULL);
        cf_future_unref(f);
        if (round == 1)
            cf_executor_terminate(ex);
        cf_executor_free(ex);
    }
    ck_assert_int_eq(count_fds(), fds);
    ck_assert_int_eq(count_maps("cf_pipe"), pipes);
    ck_assert_int_eq(count_maps("/dev/zero"), zero);
    ck_assert_int_eq(count_children(), 0);             /* no zombie: the pool reaped its own */
    ck_assert(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);
}
END_TEST

START_TEST(workers_die_with_the_parent)
{
    /* We become the reaper of orphans: the pool's processes are reparented to us when their
     * parent dies, so we can see them exit. */
    ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    int fd[2];
    ck_assert_int_eq(pipe(fd), 0);
    pid_t child = fork();
    if (child == 0) {
        close(fd[0]);
        cf_executor *ex = pool(2);
        for (int i = 0; i < 2; i++) {
            cf_future *f = cf_submit(ex, my_pid, NULL);
            long pid = 0;
            cf_future_result(f, 60, (void **)&pid);
            ssize_t w = write(fd[1], &pid, sizeof pid);
            (void)w;
        }
        pause();
        _exit(0);
    }
    close(fd[1]);
    long pid;
    ck_assert_int_eq(read(fd[0], &pid, sizeof pid), sizeof pid);
    close(fd[0]);
    ck_assert_int_eq(kill(child, SIGKILL), 0);
    /* Everything the child started must exit: reap until nothing is left (no hang: bounded). */
    double until = now_s() + 60;
    while (now_s() < until) {
        pid_t r = waitpid(-1, NULL, WNOHANG);
        if (r < 0 && errno == ECHILD)
            break;
        if (r == 0)
            sleep_ms(5);
    }
    ck_assert(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);
    ck_assert(kill((pid_t)pid, 0) < 0 && errno == ESRCH);
}
END_TEST

/* Replacements fork while other threads of the parent hammer malloc and stdio: the fork server
 * makes that safe (they are never forked from this process). */
typedef struct hammer { atomic_bool stop; long rounds; } hammer;
static void *hammer_main(void *arg)
{
    hammer *h = arg;
    FILE *null = fopen("/dev/null", "w");
    while (!atomic_load(&h->stop)) {
        void *p = malloc(64 + (size_t)(h->rounds % 4096));
        fprintf(null, "%p %ld\n", p, h->rounds);
        free(p);
        h->rounds++;
    }
    fclose(null);
    return NULL;
}

START_TEST(replacements_while_threads_hammer_malloc_and_stdio)
{
    /* The pool (and so its fork server) first: glibc's fork makes malloc and stdio safe in the
     * child even when threads use them, but the sanitizers' allocators are not covered by it.
     * Every worker of this test, replacements included, is forked while the threads run. */
    cf_executor *ex = pool(2);
    hammer h[4] = { 0 };
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hammer_main, &h[i]);
    for (int round = 0; round < cf_scaled(40); round++) {
        cf_future *c = cf_submit(ex, crash, NULL), *f = cf_submit(ex, square, (void *)(long)round);
        ck_assert_int_eq(cf_future_result(c, 60, NULL), CF_EWORKER);
        ck_assert_ptr_eq(get_result(f, 0), (void *)(long)(round * round));
        cf_future_unref(c);
        cf_future_unref(f);
    }
    cf_executor_free(ex);
    for (int i = 0; i < 4; i++) {
        atomic_store(&h[i].stop, true);
        pthread_join(t[i], NULL);
    }
}
END_TEST

/* ---- reliability: the pool heals, never hangs, never blocks on one worker ---- */

static void *my_ppid(void *a) { (void)a; return (void *)(long)getppid(); }
static void *long_task(void *a)
{
    atomic_fetch_add(&sh->started, 1);
    sleep_ms((double)(long)a);
    return a;
}

/* Worker pids of a pool with n workers: n tasks that each wait until all n have started (so
 * they run side by side, one per worker) and return their pid. */
static void *pid_at_barrier(void *a)
{
    long n = (long)a;
    atomic_fetch_add(&sh->gather, 1);
    double until = now_s() + 30;
    while (atomic_load(&sh->gather) < n && now_s() < until)
        sleep_ms(0.5);
    return (void *)(long)getpid();
}

static void worker_pids(cf_executor *ex, int n, pid_t *out)
{
    atomic_store(&sh->gather, 0);
    cf_future *fs[8];
    for (int i = 0; i < n; i++)
        fs[i] = cf_submit(ex, pid_at_barrier, (void *)(long)n);
    for (int i = 0; i < n; i++) {
        out[i] = (pid_t)(long)get_result(fs[i], 0);
        cf_future_unref(fs[i]);
    }
}

/* The fork server is SIGKILLed while two tasks run and four wait: the running ones fail with
 * CF_EWORKER, the waiting ones run on new workers from a new server, later submits work. */
START_TEST(fork_server_killed_heals)
{
    cf_executor *ex = pool(2);
    cf_future *f = cf_submit(ex, my_ppid, NULL);
    pid_t server = (pid_t)(long)get_result(f, 0);
    cf_future_unref(f);
    ck_assert_int_ne(server, getpid());
    cf_future *run[2], *wait[4];
    for (int i = 0; i < 2; i++)
        run[i] = cf_submit(ex, long_task, (void *)3000L);
    WAIT_UNTIL(atomic_load(&sh->started) == 2, 30);
    for (int i = 0; i < 4; i++)
        wait[i] = cf_submit(ex, square, (void *)(long)(i + 2));
    ck_assert_int_eq(kill(server, SIGKILL), 0);
    for (int i = 0; i < 2; i++) {
        const char *msg;
        ck_assert_int_eq(cf_future_error(run[i], 60, &msg), CF_EWORKER);
        ck_assert_ptr_nonnull(strstr(msg, "fork server"));
        cf_future_unref(run[i]);
    }
    for (int i = 0; i < 4; i++) {
        ck_assert_ptr_eq(get_result(wait[i], 0), (void *)(long)((i + 2) * (i + 2)));
        cf_future_unref(wait[i]);
    }
    f = cf_submit(ex, my_ppid, NULL);
    ck_assert_int_ne((pid_t)(long)get_result(f, 0), server);
    cf_future_unref(f);
    cf_pool_stats st;
    WAIT_UNTIL(cf_executor_stats(ex, &st) == 0 && st.workers == 2, 30);
    ck_assert_int_eq(st.workers, 2);
    ck_assert_uint_eq(st.failed, 2);
    cf_executor_free(ex);
}
END_TEST

static void crashing_init(void *a)
{
    (void)a;
    atomic_fetch_add(&sh->inits, 1);
    raise(cf_scaled(4) == 4 ? SIGSEGV : SIGKILL);  /* sanitizers turn SIGSEGV into an exit */
}

/* An initializer that crashes (not cf_task_fail) is a failed initializer: the pool breaks, the
 * task fails with CF_EBROKEN, free returns, and no fork storm happens on the way. */
START_TEST(initializer_crash_breaks_the_pool)
{
    cf_pool_opts o = { .max_workers = 2, .initializer = crashing_init };
    cf_executor *ex = cf_process_pool_new(&o);
    ck_assert_ptr_nonnull(ex);
    cf_future *f = cf_submit(ex, square, (void *)3);
    if (f) {
        const char *msg;
        ck_assert_int_eq(cf_future_error(f, 60, &msg), CF_EBROKEN);
        ck_assert_ptr_nonnull(strstr(msg, "initializer"));
        ck_assert_ptr_nonnull(strstr(msg, "killed by signal"));
        cf_future_unref(f);
    } else {
        ck_assert_int_eq(errno, CF_EBROKEN);
    }
    cf_executor_free(ex);
    ck_assert_int_le(atomic_load(&sh->inits), 4);
    ck_assert_ptr_null(strstr(cf_strerror(CF_EBROKEN), "initializer"));   /* the message says why */
}
END_TEST

/* Every new worker is killed as soon as it appears, before it can run anything: replacements
 * back off and the pool breaks after a few, instead of forking without end. */
static _Atomic int killer_stop, killed_count;
static void *newborn_killer(void *arg)
{
    pid_t server = (pid_t)(long)arg;
    char path[64], buf[512];
    pid_t last = 0;
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)server, (int)server);
    while (!atomic_load(&killer_stop)) {
        FILE *c = fopen(path, "r");
        size_t n = c ? fread(buf, 1, sizeof buf - 1, c) : 0;
        if (c)
            fclose(c);
        buf[n] = 0;
        for (char *t = strtok(buf, " \n"); t; t = strtok(NULL, " \n")) {
            pid_t pid = atoi(t);
            if (kill(pid, SIGKILL) == 0 && pid != last) {   /* a zombie takes kill too */
                atomic_fetch_add(&killed_count, 1);
                last = pid;
            }
        }
        sleep_ms(0.2);
    }
    return NULL;
}

START_TEST(crash_loop_backs_off_and_breaks)
{
    cf_executor *ex = pool(1);
    cf_future *f = cf_submit(ex, my_ppid, NULL);
    pid_t server = (pid_t)(long)get_result(f, 0);
    cf_future_unref(f);
    atomic_store(&killer_stop, 0);
    atomic_store(&killed_count, 0);
    pthread_t t;
    pthread_create(&t, NULL, newborn_killer, (void *)(long)server);
    f = cf_submit(ex, square, (void *)3);
    const char *msg;
    int err = cf_future_error(f, 60, &msg);
    atomic_store(&killer_stop, 1);
    pthread_join(t, NULL);
    /* Either a replacement slipped through and ran it, or the pool gave up on a crash loop. */
    /* (Or the task was claimed by a worker killed a moment later: CF_EWORKER.) */
    ck_assert_msg(err == 0 || err == CF_EWORKER || (err == CF_EBROKEN && strstr(msg, "keep dying")),
                  "err %d", err);
    cf_future_unref(f);
    ck_assert_int_le(atomic_load(&killed_count), 20);
    cf_executor_free(ex);
}
END_TEST

/* A worker stopped with SIGSTOP: tasks go to the other worker, a 16 MiB argument included, and
 * the pool never freezes behind it. */
static cf_bytes echo_len(const void *in, size_t len)
{
    (void)in;
    size_t *r = malloc(sizeof *r);
    *r = len;
    return (cf_bytes){ r, sizeof *r };
}

START_TEST(stopped_worker_does_not_hold_the_pool)
{
    cf_executor *ex = pool(2);
    pid_t w[2];
    worker_pids(ex, 2, w);
    ck_assert_int_ne(w[0], w[1]);
    ck_assert_int_eq(kill(w[0], SIGSTOP), 0);
    size_t big = 16u << 20;
    unsigned char *arg = calloc(1, big);
    cf_future *b = cf_submit_bytes(ex, echo_len, arg, big);
    free(arg);
    cf_future *s[20];
    for (int i = 0; i < 20; i++)
        s[i] = cf_submit(ex, square, (void *)(long)i);
    for (int i = 0; i < 20; i++) {
        ck_assert_ptr_eq(get_result(s[i], 0), (void *)(long)(i * i));
        cf_future_unref(s[i]);
    }
    const void *data;
    size_t len;
    ck_assert_int_eq(cf_future_bytes(b, 60, &data, &len), 0);
    ck_assert_uint_eq(*(const size_t *)data, big);
    cf_future_unref(b);
    kill(w[0], SIGCONT);
    cf_executor_free(ex);
}
END_TEST

/* task_timeout holds for a task whose worker is stopped while it runs. */
START_TEST(task_timeout_holds_for_a_stopped_worker)
{
    cf_pool_opts o = { .max_workers = 1, .task_timeout = 0.3 };
    cf_executor *ex = cf_process_pool_new(&o);
    cf_future *f = cf_submit(ex, my_pid, NULL);
    pid_t w = (pid_t)(long)get_result(f, 0);
    cf_future_unref(f);
    f = cf_submit(ex, long_task, (void *)20000L);
    WAIT_UNTIL(atomic_load(&sh->started) == 1, 30);
    kill(w, SIGSTOP);
    get_result(f, ETIMEDOUT);
    cf_future_unref(f);
    f = cf_submit(ex, square, (void *)5);
    ck_assert_ptr_eq(get_result(f, 0), (void *)25);
    cf_future_unref(f);
    cf_executor_free(ex);
}
END_TEST

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e-6;
}

/* The fork server is stopped and a busy worker killed: the manager does not spin while the death
 * goes unreported, the task fails once the worker counts as lost, and the pool goes on when the
 * server continues. */
START_TEST(stopped_server_and_killed_worker)
{
    cf_executor *ex = pool(1);
    cf_future *f = cf_submit(ex, my_ppid, NULL);
    pid_t server = (pid_t)(long)get_result(f, 0);
    cf_future_unref(f);
    f = cf_submit(ex, my_pid, NULL);
    pid_t w = (pid_t)(long)get_result(f, 0);
    cf_future_unref(f);
    f = cf_submit(ex, long_task, (void *)20000L);
    WAIT_UNTIL(atomic_load(&sh->started) == 1, 30);
    kill(server, SIGSTOP);
    double cpu0 = cpu_seconds(), t0 = now_s();
    kill(w, SIGKILL);
    const char *msg;
    ck_assert_int_eq(cf_future_error(f, 60, &msg), CF_EWORKER);
    double cpu = cpu_seconds() - cpu0, wall = now_s() - t0;
    /* Spinning would burn about a CPU for the whole wait (~1 s). */
    ck_assert_msg(cpu < wall / 2, "manager busy: %.3f s CPU in %.3f s", cpu, wall);
    cf_future_unref(f);
    kill(server, SIGCONT);
    f = cf_submit(ex, square, (void *)6);
    ck_assert_ptr_eq(get_result(f, 0), (void *)36);
    cf_future_unref(f);
    cf_executor_free(ex);
}
END_TEST

/* Under every descriptor budget, creation either fails with EMFILE or gives a pool with all
 * its workers whose tasks run; a budget exhausted while a worker is replaced only delays it. */
static int open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        n += fcntl(fd, F_GETFD) != -1;
    return n;
}

START_TEST(descriptor_limits)
{
    pid_t pid = fork();
    if (pid == 0) {
        int base = open_fds();
        int worked = 0, refused = 0;
        for (int extra = 0; extra <= 40; extra++) {
            /* Highest descriptor number counts, not how many: budget from the lowest free. */
            struct rlimit rl = { (rlim_t)(base + extra + 3), 1024 };
            setrlimit(RLIMIT_NOFILE, &rl);
            cf_pool_opts o = { .max_workers = 2 };
            cf_executor *ex = cf_process_pool_new(&o);
            if (!ex) {
                if (errno != EMFILE && errno != ENFILE)
                    _exit(10);
                refused++;
                continue;
            }
            cf_pool_stats st;
            cf_executor_stats(ex, &st);
            if (st.workers != 2)
                _exit(11);
            for (long i = 0; i < 4; i++) {
                cf_future *f = cf_submit(ex, square, (void *)i);
                void *v;
                if (!f || cf_future_result(f, 60, &v) || v != (void *)(i * i))
                    _exit(12);
                cf_future_unref(f);
            }
            cf_executor_free(ex);
            worked++;
        }
        if (!worked || !refused)
            _exit(13);
        /* A pool made with room, then the room used up while a worker is replaced. */
        struct rlimit rl = { 1024, 1024 };
        setrlimit(RLIMIT_NOFILE, &rl);
        cf_pool_opts o = { .max_workers = 1 };
        cf_executor *ex = cf_process_pool_new(&o);
        int hog[1024], nh = 0;
        while (nh < 1024 && (hog[nh] = open("/dev/null", O_RDONLY)) >= 0)
            nh++;
        cf_future *f = cf_submit(ex, quit, (void *)3);       /* the worker exits */
        void *v;
        if (cf_future_result(f, 60, &v) != CF_EWORKER)
            _exit(14);
        cf_future_unref(f);
        sleep_ms(50);                                        /* a replacement or two fail */
        while (nh > 0)
            close(hog[--nh]);
        f = cf_submit(ex, square, (void *)7);
        if (cf_future_result(f, 60, &v) || v != (void *)49)
            _exit(15);
        cf_future_unref(f);
        cf_executor_free(ex);
        _exit(0);
    }
    REAP_OK(pid);
}
END_TEST

/* Under every process budget (RLIMIT_NPROC, which binds only an unprivileged user: the child
 * becomes nobody), creation fails with EAGAIN or gives a pool with all its workers. (In some
 * sandboxes nobody shares its process count with others and every budget refuses: the test then
 * shows only the clean EAGAIN.) */
START_TEST(process_limits)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(65534) || setuid(65534))
            _exit(0);                   /* not root: nothing to test here */
        for (rlim_t n = 1; n <= 12; n++) {
            struct rlimit rl = { n, n };
            setrlimit(RLIMIT_NPROC, &rl);
            cf_pool_opts o = { .max_workers = 2 };
            cf_executor *ex = cf_process_pool_new(&o);
            if (!ex) {
                if (errno != EAGAIN)
                    _exit(20);
                continue;
            }
            cf_pool_stats st;
            cf_executor_stats(ex, &st);
            if (st.workers != 2)
                _exit(21);
            cf_future *f = cf_submit(ex, square, (void *)9);
            void *v;
            if (!f || cf_future_result(f, 60, &v) || v != (void *)81)
                _exit(22);
            cf_future_unref(f);
            cf_executor_free(ex);
        }
        _exit(0);
    }
    REAP_OK(pid);
}
END_TEST

/* task_timeout of INFINITY or 1e10 means none: tasks are not killed at once. */
START_TEST(huge_task_timeouts_mean_none)
{
    double tos[] = { INFINITY, 1e10, 1e300 };
    for (int i = 0; i < 3; i++) {
        cf_pool_opts o = { .max_workers = 1, .task_timeout = tos[i] };
        cf_executor *ex = cf_process_pool_new(&o);
        cf_future *f = cf_submit(ex, sleep_ms_task, (void *)50L);
        ck_assert_ptr_eq(get_result(f, 0), (void *)50L);
        cf_future_unref(f);
        cf_executor_free(ex);
    }
}
END_TEST

/* What a task prints reaches a pipe before its result does, and survives its worker's later
 * crash (stdio is flushed after each task). */
static void *print_task(void *a)
{
    printf("line %ld\n", (long)a);
    return a;
}

START_TEST(task_output_is_flushed)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    dup2(fds[1], STDOUT_FILENO);
    cf_executor *ex = pool(1);                /* its workers write to the pipe */
    dup2(saved, STDOUT_FILENO);
    close(saved);
    for (long i = 1; i <= 3; i++) {
        cf_future *f = cf_submit(ex, print_task, (void *)i);
        get_result(f, 0);
        cf_future_unref(f);
    }
    cf_future *f = cf_submit(ex, crash, NULL);
    get_result(f, CF_EWORKER);
    cf_future_unref(f);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    char buf[256] = "";
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    ck_assert_int_gt(n, 0);
    buf[n] = 0;
    ck_assert_str_eq(buf, "line 1\nline 2\nline 3\n");
    cf_executor_free(ex);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("process_pool");
    TCase *tc = tcase_create("process_pool");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    CF_ADD_TEST(tc, results_come_from_other_processes);
    CF_ADD_TEST(tc, many_tasks_wait_and_as_completed);
    CF_ADD_TEST(tc, map_in_chunks);
    CF_ADD_TEST(tc, bytes_tasks_on_both_pools);
    CF_ADD_TEST(tc, task_failure_keeps_the_worker);
    CF_ADD_TEST(tc, a_crash_fails_only_its_task);
    CF_ADD_TEST(tc, random_sigkills_fail_exactly_the_killed_tasks);
    CF_ADD_TEST(tc, task_timeout_kills_and_replaces);
    CF_ADD_TEST(tc, max_tasks_per_child_replaces_workers);
    CF_ADD_TEST(tc, initializer_runs_in_each_worker_or_breaks_the_pool);
    CF_ADD_TEST(tc, cancel_before_and_after_start);
    CF_ADD_TEST(tc, shutdown_waits_or_cancels);
    CF_ADD_TEST(tc, shutdown_from_a_done_callback);
    CF_ADD_TEST(tc, map_timeout_wait_modes_and_free_from_callback);
    CF_ADD_TEST(tc, terminate_kills_running_and_cancels_pending);
    CF_ADD_TEST(tc, max_pending_bounds_submitters);
    CF_ADD_TEST(tc, nothing_left_behind);
    CF_ADD_TEST(tc, workers_die_with_the_parent);
    CF_ADD_TEST(tc, replacements_while_threads_hammer_malloc_and_stdio);
    CF_ADD_TEST(tc, fork_server_killed_heals);
    CF_ADD_TEST(tc, initializer_crash_breaks_the_pool);
    CF_ADD_TEST(tc, crash_loop_backs_off_and_breaks);
    CF_ADD_TEST(tc, stopped_worker_does_not_hold_the_pool);
    CF_ADD_TEST(tc, task_timeout_holds_for_a_stopped_worker);
    CF_ADD_TEST(tc, stopped_server_and_killed_worker);
    CF_ADD_TEST(tc, descriptor_limits);
    CF_ADD_TEST(tc, process_limits);
    CF_ADD_TEST(tc, huge_task_timeouts_mean_none);
    CF_ADD_TEST(tc, task_output_is_flushed);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
