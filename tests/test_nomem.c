/* SPDX-License-Identifier: MIT */
/* test_nomem.c: every allocation the library makes may fail. This program replaces malloc,
 * calloc, realloc and aligned_alloc (symbol interposition reaches into libcfutures) with versions
 * that fail the k-th call, for every k over each operation, and checks that each call either
 * succeeds or reports ENOMEM (or EAGAIN for a thread that could not start), never crashes, never
 * hangs, and loses no future. Not built under sanitizers, which own malloc themselves. */
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "testutil.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static _Atomic long countdown = -1;   /* -1: never fail; 0: fail this call and stay failing */
static _Atomic long failures;

static bool fail_now(void)
{
    long c = atomic_load(&countdown);
    while (c > 0 && !atomic_compare_exchange_weak(&countdown, &c, c - 1))
        ;
    if (c == 0) {
        atomic_fetch_add(&failures, 1);
        errno = ENOMEM;          /* as the real allocator does (glibc asserts on it) */
        return true;
    }
    return false;
}

CF_EXTERN void *malloc(size_t n) { return fail_now() ? NULL : __libc_malloc(n); }
CF_EXTERN void *calloc(size_t a, size_t b) { return fail_now() ? NULL : __libc_calloc(a, b); }
CF_EXTERN void *realloc(void *p, size_t n) { return fail_now() ? NULL : __libc_realloc(p, n); }
CF_EXTERN void *aligned_alloc(size_t a, size_t n) { return fail_now() ? NULL : __libc_memalign(a, n); }

static void inject(long k) { atomic_store(&countdown, k); }
static void stop(void) { atomic_store(&countdown, -1); }

static void *identity(void *arg) { return arg; }
static void noop_cb(cf_future *f, void *arg) { (void)f; (void)arg; }

START_TEST(futures_without_memory)
{
    for (long k = 0; k < 4; k++) {
        inject(k);
        errno = 0;
        cf_future *f = cf_future_new();
        int e = errno;
        stop();
        if (!f) {
            ck_assert_int_eq(e, ENOMEM);
            continue;
        }
        /* A second callback allocates; the first never does. */
        inject(0);
        int r1 = cf_future_add_done_callback(f, noop_cb, NULL);
        int r2 = cf_future_add_done_callback(f, noop_cb, NULL);
        int r3 = cf_future_set_error(f, EIO, "message copy may fail");
        stop();
        ck_assert_int_eq(r1, 0);
        ck_assert_int_eq(r2, ENOMEM);
        ck_assert_int_eq(r3, 0);     /* still fails the future, with the default text */
        const char *msg;
        ck_assert_int_eq(cf_future_error(f, 0, &msg), EIO);
        ck_assert_str_eq(msg, cf_strerror(EIO));
        cf_future_unref(f);
    }
}
END_TEST

START_TEST(waits_without_memory)
{
    enum { N = 100 };          /* more than cf_wait keeps on its stack */
    cf_future *fs[N];
    for (int i = 0; i < N; i++)
        fs[i] = cf_future_new();
    for (long k = 0; k < 4; k++) {
        inject(k);
        int r = cf_wait(fs, N, 0.001, CF_FIRST_COMPLETED);
        errno = 0;
        cf_as_completed *it = cf_as_completed_new(fs, N);
        int e = errno;
        stop();
        ck_assert(r == ENOMEM || r == ETIMEDOUT);
        if (!it)
            ck_assert_int_eq(e, ENOMEM);
        cf_as_completed_free(it);
    }
    for (int i = 0; i < N; i++)
        cf_future_unref(fs[i]);
}
END_TEST

START_TEST(pools_without_memory)
{
    /* For every k: create a pool, submit, map, with the k-th allocation failing. */
    int all_ok = 0, some_refused = 0;
    for (long k = 0; k < 60; k++) {
        inject(k);
        errno = 0;
        cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 2 });
        int e = errno;
        cf_future *fs[8];
        int errs[8];
        for (int i = 0; i < 8; i++) {
            fs[i] = ex ? cf_submit(ex, identity, (void *)(intptr_t)(i + 1)) : NULL;
            errs[i] = errno;
        }
        void *args[16], *res[16];
        for (int i = 0; i < 16; i++)
            args[i] = (void *)(intptr_t)i;
        int mr = ex ? cf_map(ex, identity, args, res, 16, 3, 10) : 0;
        stop();
        if (!ex) {
            ck_assert_int_eq(e, ENOMEM);
            continue;
        }
        ck_assert(mr == 0 || mr == ENOMEM || mr == EAGAIN);
        bool all = mr == 0;
        for (int i = 0; i < 8; i++)
            all = all && fs[i];
        all_ok += all;
        some_refused += !all;
        if (mr == 0)
            for (int i = 0; i < 16; i++)
                ck_assert_ptr_eq(res[i], args[i]);
        for (int i = 0; i < 8; i++) {
            if (!fs[i]) {
                ck_assert(errs[i] == ENOMEM || errs[i] == EAGAIN);
                continue;
            }
            void *v;
            int r = cf_future_result(fs[i], 30, &v);     /* nothing accepted is lost */
            ck_assert(r == 0 || r == EAGAIN);
            if (r == 0)
                ck_assert_ptr_eq(v, (void *)(intptr_t)(i + 1));
            cf_future_unref(fs[i]);
        }
        cf_executor_free(ex);
    }
    ck_assert_int_gt(atomic_load(&failures), 0);
    ck_assert_int_gt(all_ok, 0);         /* k ran past every allocation the calls make */
    ck_assert_int_gt(some_refused, 5);   /* and failed each of them on the way */
}
END_TEST

static atomic_int arg_frees;

static void count_free(void *p)
{
    (void)p;
    atomic_fetch_add(&arg_frees, 1);
}

START_TEST(ownership_without_memory)
{
    /* cf_submit_full allocates its job, cf_map_iter its ring: for every k, a refused call
     * leaves the argument the caller's (no destructor ran), and an iterator whose submits fail
     * reports each at its item's turn, in order, and still ends. */
    cf_executor *ex = cf_thread_pool_new(&(cf_pool_opts){ .max_workers = 2 });
    int all_ok = 0, refused = 0;
    for (long k = 0; k < 40; k++) {
        atomic_store(&arg_frees, 0);
        inject(k);
        errno = 0;
        cf_future *f = cf_submit_full(ex, identity, (void *)7, count_free, NULL);
        int e = errno;
        void *args[6] = { (void *)1, (void *)2, (void *)3, (void *)4, (void *)5, (void *)6 };
        cf_map_iter *it = cf_map_iter_new(ex, identity, args, 6, 2);
        int ie = errno;
        int outcomes[7], n = 0, r;
        void *v, *vals[7];
        while (it && n < 7 && (r = cf_map_next(it, 30, &v, NULL)) != ENOENT) {
            vals[n] = v;
            outcomes[n++] = r;
        }
        stop();   /* Check's assertions allocate: asserted from here on */
        for (int i = 0; i < n; i++) {
            ck_assert(outcomes[i] == 0 || outcomes[i] == ENOMEM || outcomes[i] == EAGAIN);
            if (outcomes[i] == 0)
                ck_assert_ptr_eq(vals[i], args[i]);
        }
        if (it)
            ck_assert_int_eq(n, 6);   /* every item had its turn */
        else
            ck_assert_int_eq(ie, ENOMEM);
        cf_map_iter_free(it);
        if (!f) {
            ck_assert(e == ENOMEM || e == EAGAIN);
            ck_assert_int_eq(atomic_load(&arg_frees), 0);
            refused++;
            continue;
        }
        ck_assert_int_eq(cf_future_result(f, 30, &v), 0);
        ck_assert_ptr_eq(v, (void *)7);
        ck_assert_int_eq(atomic_load(&arg_frees), 1);
        cf_future_unref(f);
        all_ok++;
    }
    cf_executor_free(ex);
    ck_assert_int_gt(all_ok, 0);
    ck_assert_int_gt(refused, 0);
}
END_TEST

START_TEST(queues_without_memory)
{
    for (long k = 0; k < 8; k++) {
        inject(k);
        errno = 0;
        cf_lfqueue *lf = cf_lfqueue_new();
        int e1 = errno;
        int pushed = 0, r = 0;
        while (lf && pushed < 600 && (r = cf_lfqueue_push(lf, (void *)1)) == 0)
            pushed++;
        errno = 0;
        cf_queue *q = cf_queue_new(0);      /* unbounded: grows, may fail to */
        int e2 = errno;
        int put = 0, r2 = 0;
        while (q && put < 100 && (r2 = cf_queue_put(q, (void *)2, 0)) == 0)
            put++;
        stop();
        if (!lf)
            ck_assert_int_eq(e1, ENOMEM);
        else {
            ck_assert(pushed == 600 || r == ENOMEM);
            void *v;
            for (int i = 0; i < pushed; i++)        /* what was pushed is all there */
                ck_assert_int_eq(cf_lfqueue_pop(lf, &v), 0);
            ck_assert_int_eq(cf_lfqueue_pop(lf, &v), EAGAIN);
            cf_lfqueue_free(lf);
        }
        if (!q)
            ck_assert_int_eq(e2, ENOMEM);
        else {
            ck_assert(put == 100 || r2 == ENOMEM);
            ck_assert_uint_eq(cf_queue_size(q), (size_t)put);
            cf_queue_free(q);
        }
    }
}
END_TEST

START_TEST(ipc_without_memory)
{
    for (long k = 0; k < 4; k++) {
        cf_pipe *a = NULL, *b = NULL;
        inject(k);
        int r = cf_pipe_new(4096, &a, &b);
        errno = 0;
        cf_mpqueue *q = cf_mpqueue_new(4096);
        int e = errno;
        stop();
        ck_assert(r == 0 || r == ENOMEM);
        ck_assert(q || e == ENOMEM);
        if (r == 0) {
            /* A message whose buffer cannot be allocated is dropped with ENOMEM; the next one
             * arrives whole. */
            ck_assert_int_eq(cf_pipe_send(a, "first", 5, 0), 0);
            ck_assert_int_eq(cf_pipe_send(a, "second", 6, 0), 0);
            void *m;
            size_t n;
            inject(0);
            int r1 = cf_pipe_recv(b, &m, &n, 0);
            stop();
            ck_assert_int_eq(r1, ENOMEM);
            ck_assert_int_eq(cf_pipe_recv(b, &m, &n, 0), 0);
            ck_assert(n == 6 && memcmp(m, "second", 6) == 0);
            free(m);
            cf_pipe_close(a);
            cf_pipe_close(b);
        }
        if (q) {
            ck_assert_int_eq(cf_mpqueue_put(q, "kept", 4, 0), 0);
            void *m;
            size_t n;
            inject(0);
            int r2 = cf_mpqueue_get(q, &m, &n, 0);
            stop();
            ck_assert_int_eq(r2, ENOMEM);           /* the message stays for another try */
            ck_assert_int_eq(cf_mpqueue_get(q, &m, &n, 0), 0);
            ck_assert(n == 4 && memcmp(m, "kept", 4) == 0);
            free(m);
            cf_mpqueue_free(q);
        }
    }
}
END_TEST

static int nm_bad;   /* the line of a failed check inside a coroutine (Check cannot allocate then) */
#define NM_CHECK(c) do { if (!(c) && !nm_bad) nm_bad = __LINE__; } while (0)

static void *nm_child(void *arg)
{
    (void)arg;
    NM_CHECK(cf_sleep(0.001) == 0);   /* awaits never allocate: timers are reserved at start */
    return NULL;
}

static void *nm_parent(void *arg)
{
    (void)arg;
    cf_loop *loop = cf_loop_current();
    cf_future *fs[4];
    int n = 0;
    for (int i = 0; i < 4; i++) {
        errno = 0;
        cf_future *f = cf_loop_spawn(loop, nm_child, NULL);
        if (!f) {
            NM_CHECK(errno == ENOMEM);
            continue;
        }
        fs[n++] = f;
    }
    void *v[4];
    int r = cf_gather(fs, (size_t)n, 10, v);
    /* ENOMEM: a child that could not get its stack (or timer room) failed with it. */
    NM_CHECK(r == 0 || r == ENOMEM);
    for (int i = 0; i < n; i++) {
        NM_CHECK(cf_future_done(fs[i]));
        cf_future_unref(fs[i]);
    }
    return NULL;
}

/* Coroutines: every spawn either fails with ENOMEM or its future ends; nothing hangs. */
START_TEST(loop_without_memory)
{
    for (long k = 0; k < 60; k++) {
        inject(k);
        errno = 0;
        cf_loop *loop = cf_loop_new();
        if (!loop) {
            int e = errno;
            stop();
            ck_assert_int_eq(e, ENOMEM);
            continue;
        }
        cf_future *f = cf_loop_spawn(loop, nm_parent, NULL);
        int r = f ? cf_loop_run_until_complete(loop, f, NULL) : 0;
        stop();   /* before asserting: Check allocates */
        ck_assert_msg(nm_bad == 0, "check at line %d failed (k = %ld)", nm_bad, k);
        ck_assert_msg(r == 0 || r == ENOMEM, "r = %d", r);
        ck_assert(!f || cf_future_done(f));
        cf_future_unref(f);
        cf_loop_free(loop);
    }
}
END_TEST

/* The synchronization objects, deadline scopes (past their inline two) and task groups. */
START_TEST(sync_without_memory)
{
    for (long k = 0; k < 12; k++) {
        inject(k);
        errno = 0;
        cf_lock *l = cf_lock_new();
        int el = errno;
        cf_event *e = cf_event_new();
        cf_semaphore *sem = cf_semaphore_new(1, 0);
        cf_condition *c = cf_condition_new(NULL);   /* two allocations: itself and its lock */
        cf_barrier *b = cf_barrier_new(1);
        int toks[6], ntok = 0, et = 0;
        for (int i = 0; i < 6; i++) {
            int t = cf_scope_enter(10);
            if (t < 0) {
                et = errno;
                break;
            }
            toks[ntok++] = t;
        }
        cf_task_group *g = cf_task_group_new();
        cf_future *f = cf_future_new();
        int ra = g && f ? cf_task_group_add(g, f) : 0;
        stop();
        ck_assert(l || el == ENOMEM);
        ck_assert(ntok == 6 || et == ENOMEM);
        ck_assert(ra == 0 || ra == ENOMEM);
        if (l) {
            ck_assert_int_eq(cf_lock_acquire(l, 0), 0);
            ck_assert_int_eq(cf_lock_release(l), 0);
        }
        if (c) {
            ck_assert_int_eq(cf_lock_acquire(cf_condition_lock(c), 0), 0);
            ck_assert_int_eq(cf_condition_wait(c, 0), ETIMEDOUT);
            ck_assert_int_eq(cf_lock_release(cf_condition_lock(c)), 0);
        }
        if (sem)
            ck_assert_int_eq(cf_semaphore_acquire(sem, 0), 0);
        if (b)
            ck_assert_int_eq(cf_barrier_wait(b, 0, NULL), 0);
        while (ntok > 0)
            ck_assert(!cf_scope_exit(toks[--ntok]));
        if (f)
            cf_future_set_result(f, NULL);
        if (g)
            ck_assert_int_eq(cf_task_group_wait(g, 0), 0);
        cf_task_group_free(g);
        cf_future_unref(f);
        cf_lock_free(l);
        cf_event_free(e);
        cf_semaphore_free(sem);
        cf_condition_free(c);
        cf_barrier_free(b);
    }
}
END_TEST

/* Streams, sockets and subprocesses under allocation failure: an error or success, never a crash
 * or a leaked child. */
START_TEST(io_without_memory)
{
    for (long k = 0; k < 12; k++) {
        int sv[2];
        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        inject(k);
        errno = 0;
        cf_stream *a = cf_stream_new(sv[0]);
        int ea = errno;
        cf_stream *b = a ? cf_stream_new(sv[1]) : NULL;
        int rw = a && b ? cf_stream_write(a, "line\n", 5, 1) : 0;
        const char *line;
        size_t len;
        int rl = a && b && rw == 0 ? cf_stream_readline(b, 1, &line, &len) : 0;
        const char *argv[] = { "true", NULL };
        cf_subprocess_opts o = { .stdout_mode = CF_STDIO_PIPE };
        cf_subprocess *p = cf_subprocess_spawn(argv, &o);
        int ep = errno;
        stop();
        ck_assert(a || ea == ENOMEM);
        ck_assert(rw == 0 || rw == ENOMEM);
        ck_assert(rl == 0 || rl == ENOMEM);
        ck_assert(p || ep == ENOMEM || ep == EAGAIN);
        int st;
        if (p)
            ck_assert_int_eq(cf_subprocess_wait(p, 10, &st), 0);
        cf_subprocess_free(p);
        if (a)
            cf_stream_close(a);
        else
            close(sv[0]);
        if (b)
            cf_stream_close(b);
        else
            close(sv[1]);
    }
    ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);   /* no child left behind */
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("nomem");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, futures_without_memory);
    tcase_add_test(tc, waits_without_memory);
    tcase_add_test(tc, pools_without_memory);
    tcase_add_test(tc, ownership_without_memory);
    tcase_add_test(tc, queues_without_memory);
    tcase_add_test(tc, ipc_without_memory);
    tcase_add_test(tc, loop_without_memory);
    tcase_add_test(tc, sync_without_memory);
    tcase_add_test(tc, io_without_memory);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
