/* SPDX-License-Identifier: MIT */
/* test_mpi.c: the MPI executor, run under mpirun (ctest: mpirun --oversubscribe -n 3). A plain
 * program, not Check: Check forks each case, and an MPI process must not fork into two ranks.
 * Every section is collective: each rank calls cf_mpi_pool_new, the root runs the section's
 * assertions, the others serve and must come back with NULL and errno 0. The root's failures
 * become the exit status (mpirun reports any rank's nonzero exit).
 *
 * argv[1] "single": MPI initialized with MPI_THREAD_SINGLE, where creation must say EINVAL on
 * every rank. "die": a task kills its rank; Open MPI (no ULFM) must then end the whole job, which
 * ctest checks by mpirun's exit status (nonzero, and not a timeout: nothing hangs).
 *
 * section_hostile has rank 2 play a worker by hand (the same collective setup) and answer its
 * first batch with garbage: the root must fail that rank's tasks with EPROTO, stop using it,
 * carry on with rank 1, and still release it at the end. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cfutures.h>
#include <cfutures/mpi.h>

#include "../src/mpi/mpi_pool.h"       /* the setup and tags, for a rank that lies */

static int world_rank, world_size, failures;

#define CHECK(c)                                                                                  \
    do {                                                                                          \
        if (!(c)) {                                                                               \
            fprintf(stderr, "rank %d: %s:%d: CHECK(%s) failed (errno %d)\n", world_rank, __FILE__, \
                    __LINE__, #c, errno);                                                         \
            failures++;                                                                           \
        }                                                                                         \
    } while (0)

static void pause_ms(double ms)
{
    struct timespec ts = { .tv_sec = (time_t)(ms / 1e3), .tv_nsec = (long)(fmod(ms, 1e3) * 1e6) };
    nanosleep(&ts, NULL);
}

/* ---- tasks (the same program on every rank: these run on the workers) ---- */

static void *my_rank(void *arg)
{
    pause_ms((double)(uintptr_t)arg);
    int r = -1;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return (void *)(intptr_t)r;
}

static void *triple_plus_one(void *arg) { return (void *)((uintptr_t)arg * 3 + 1); }

static void *fails_odd(void *arg)
{
    uintptr_t x = (uintptr_t)arg;
    if (x % 2)
        cf_task_fail(EDOM, "odd input %u", (unsigned)x);
    return (void *)x;
}

/* Runs up to 5 s, or until told it is cancelled: returns 1 if it was told. */
static void *until_cancelled(void *arg)
{
    (void)arg;
    for (int i = 0; i < 5000; i++) {
        if (cf_task_cancelled())
            return (void *)1;
        pause_ms(1);
    }
    return (void *)0;
}

static cf_bytes reverse(const void *arg, size_t len)
{
    unsigned char *out = malloc(len ? len : 1);
    if (!out)
        return (cf_bytes){ NULL, 1 };   /* ENOMEM by the contract */
    for (size_t i = 0; i < len; i++)
        out[i] = ((const unsigned char *)arg)[len - 1 - i];
    return (cf_bytes){ out, len };
}

static void *kill_my_rank(void *arg)
{
    (void)arg;
    raise(SIGKILL);
    return NULL;
}

static uintptr_t init_value;
static void set_init_value(void *arg) { init_value = (uintptr_t)arg; }
static void *get_init_value(void *arg) { (void)arg; return (void *)init_value; }
static void failing_init(void *arg) { (void)arg; cf_task_fail(EACCES, "init says no"); }

static atomic_int arg_frees;
static void count_free(void *p) { (void)p; atomic_fetch_add(&arg_frees, 1); }

/* ---- helpers ---- */

/* Every rank creates a pool; the root gets it, the others serve and must come back clean. */
static cf_executor *collective_pool(const cf_pool_opts *opts)
{
    errno = 12345;
    cf_executor *ex = cf_mpi_pool_new(MPI_COMM_WORLD, opts);
    if (world_rank != 0) {
        CHECK(ex == NULL && errno == 0);
        return NULL;
    }
    CHECK(ex != NULL);
    return ex;
}

static void check_conservation(cf_executor *ex, size_t submitted)
{
    cf_pool_stats st;
    CHECK(cf_executor_stats(ex, &st) == 0);
    CHECK(st.completed + st.failed + st.cancelled == submitted);
    CHECK(st.pending == 0 && st.running == 0);
}

/* ---- sections ---- */

static void section_submit(void)
{
    cf_executor *ex = collective_pool(NULL);
    if (!ex)
        return;
    cf_pool_stats st;
    CHECK(cf_executor_stats(ex, &st) == 0 && st.workers == world_size - 1);
    enum { N = 60 };
    cf_future *fs[N];
    for (int i = 0; i < N; i++)
        CHECK((fs[i] = cf_submit(ex, my_rank, (void *)(uintptr_t)2)) != NULL);
    int seen[64] = { 0 };
    for (int i = 0; i < N; i++) {
        void *v = NULL;
        CHECK(cf_future_result(fs[i], 30, &v) == 0);
        intptr_t r = (intptr_t)v;
        CHECK(r >= 1 && r < world_size);   /* never the root */
        if (r >= 0 && r < 64)
            seen[r]++;
        cf_future_unref(fs[i]);
    }
    for (int r = 1; r < world_size; r++)
        CHECK(seen[r] > 0);                /* every worker rank got some */
    /* Words, cf_wait and cf_as_completed. */
    for (int i = 0; i < N; i++)
        fs[i] = cf_submit(ex, triple_plus_one, (void *)(uintptr_t)i);
    CHECK(cf_wait(fs, N, 30, CF_ALL_COMPLETED) == 0);
    cf_as_completed *it = cf_as_completed_new(fs, N);
    CHECK(it != NULL);
    int got = 0;
    cf_future *f;
    while (it && cf_as_completed_next(it, 30, &f) == 0) {
        void *v;
        CHECK(cf_future_result(f, 0, &v) == 0);
        got++;
    }
    cf_as_completed_free(it);
    CHECK(got == N);
    for (int i = 0; i < N; i++) {
        void *v = NULL;
        CHECK(cf_future_result(fs[i], 0, &v) == 0 && (uintptr_t)v == (uintptr_t)i * 3 + 1);
        cf_future_unref(fs[i]);
    }
    /* cf_submit_full: arg_free runs; a result destructor cannot cross processes. */
    atomic_store(&arg_frees, 0);
    f = cf_submit_full(ex, triple_plus_one, (void *)7, count_free, NULL);
    void *v = NULL;
    CHECK(f && cf_future_result(f, 30, &v) == 0 && (uintptr_t)v == 22);
    CHECK(atomic_load(&arg_frees) == 1);
    cf_future_unref(f);
    errno = 0;
    CHECK(cf_submit_full(ex, triple_plus_one, NULL, NULL, count_free) == NULL && errno == EINVAL);
    /* A function in no loaded object's code fails its task, never the rank. */
    static int not_code;
    f = cf_submit(ex, (cf_fn)(void *)&not_code, NULL);
    CHECK(f && cf_future_result(f, 30, &v) == EINVAL);
    cf_future_unref(f);
    check_conservation(ex, 2 * N + 2);
    cf_executor_free(ex);
}

static void section_bytes(void)
{
    cf_executor *ex = collective_pool(NULL);
    if (!ex)
        return;
    size_t len = 4u << 20;
    unsigned char *in = malloc(len);
    for (size_t i = 0; i < len; i++)
        in[i] = (unsigned char)(i * 131 + (i >> 13));
    cf_future *fs[4];
    for (int i = 0; i < 4; i++)
        CHECK((fs[i] = cf_submit_bytes(ex, reverse, in, len)) != NULL);
    for (int i = 0; i < 4; i++) {
        const void *d = NULL;
        size_t n = 0;
        CHECK(cf_future_bytes(fs[i], 60, &d, &n) == 0 && n == len);
        bool same = d != NULL;
        for (size_t k = 0; same && k < len; k++)
            same = ((const unsigned char *)d)[k] == in[len - 1 - k];
        CHECK(same);
        cf_future_unref(fs[i]);
    }
    cf_future *e = cf_submit_bytes(ex, reverse, NULL, 0);
    const void *d;
    size_t n = 1;
    CHECK(e && cf_future_bytes(e, 30, &d, &n) == 0 && n == 0);
    cf_future_unref(e);
    free(in);
    cf_executor_free(ex);
}

static void section_map(void)
{
    cf_executor *ex = collective_pool(NULL);
    if (!ex)
        return;
    size_t n = 100000;
    void **args = malloc(n * sizeof *args), **res = malloc(n * sizeof *res);
    for (size_t i = 0; i < n; i++)
        args[i] = (void *)(uintptr_t)i;
    CHECK(cf_map(ex, triple_plus_one, args, res, n, 256, 60) == 0);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += (uintptr_t)res[i] != i * 3 + 1;
    CHECK(bad == 0);
    /* A failing item fails the map; the lazy iterator gives each item's outcome in order. */
    CHECK(cf_map(ex, fails_odd, args, res, 1000, 16, 60) == EDOM);
    cf_map_iter *it = cf_map_iter_new(ex, fails_odd, args, 200, 8);
    CHECK(it != NULL);
    for (size_t i = 0; it && i < 200; i++) {
        void *v = NULL;
        const char *msg = NULL;
        int r = cf_map_next(it, 30, &v, &msg);
        if (i % 2)
            CHECK(r == EDOM);
        else
            CHECK(r == 0 && (uintptr_t)v == i);
    }
    cf_map_iter_free(it);
    free(args);
    free(res);
    cf_executor_free(ex);
}

static void section_errors(void)
{
    cf_executor *ex = collective_pool(NULL);
    if (!ex)
        return;
    cf_future *f = cf_submit(ex, fails_odd, (void *)(uintptr_t)3);
    const char *msg = NULL;
    CHECK(f && cf_future_error(f, 30, &msg) == EDOM && msg && strstr(msg, "odd input 3"));
    void *v = NULL;
    CHECK(cf_future_result(f, 0, &v) == EDOM);
    cf_future_unref(f);
    f = cf_submit(ex, fails_odd, (void *)(uintptr_t)4);
    CHECK(f && cf_future_result(f, 30, &v) == 0 && (uintptr_t)v == 4);
    cf_future_unref(f);
    check_conservation(ex, 2);
    cf_executor_free(ex);
}

static void section_cancel(void)
{
    cf_executor *ex = collective_pool(NULL);
    if (!ex)
        return;
    int nw = world_size - 1;
    /* One long task per worker, then many queued behind them. */
    enum { Q = 200 };
    cf_future *lng[64], *q[Q];
    for (int i = 0; i < nw; i++)
        lng[i] = cf_submit(ex, until_cancelled, NULL);
    for (int i = 0; i < Q; i++)
        q[i] = cf_submit(ex, triple_plus_one, (void *)(uintptr_t)i);
    /* A sent task is RUNNING at once; give the ranks time to start the long ones. */
    pause_ms(100);
    size_t cancelled_now = 0;
    for (int i = Q - 1; i >= 0; i--)
        cancelled_now += cf_future_cancel(q[i]);
    CHECK(cancelled_now >= Q - 64 * (size_t)nw);   /* all but those already sent to a rank */
    for (int i = 0; i < nw; i++)
        CHECK(!cf_future_cancel(lng[i]));           /* running: only told */
    for (int i = 0; i < nw; i++) {
        /* Told while it ran (it returns 1), or skipped if its rank had not started it. */
        void *v = NULL;
        int rr = cf_future_result(lng[i], 30, &v);
        CHECK(cf_future_state(lng[i]) == CF_CANCELLED ? rr == ECANCELED : rr == 0 && (uintptr_t)v == 1);
        cf_future_unref(lng[i]);
    }
    size_t cancelled = 0, finished = 0;
    for (int i = 0; i < Q; i++) {
        CHECK(cf_wait(&q[i], 1, 30, CF_ALL_COMPLETED) == 0);
        cf_state s = cf_future_state(q[i]);
        CHECK(s == CF_CANCELLED || s == CF_FINISHED);
        cancelled += s == CF_CANCELLED;
        finished += s == CF_FINISHED;
        if (s == CF_FINISHED) {
            void *v = NULL;
            CHECK(cf_future_result(q[i], 0, &v) == 0 && (uintptr_t)v == (uintptr_t)i * 3 + 1);
        }
        cf_future_unref(q[i]);
    }
    /* Sent but not started: skipped on the rank, so at most the one each rank had begun ran. */
    CHECK(finished <= (size_t)nw);
    CHECK(cancelled + finished == Q);
    check_conservation(ex, (size_t)nw + Q);
    /* shutdown(cancel_futures): the queued ones are cancelled, the running ones told. */
    for (int i = 0; i < nw; i++)
        lng[i] = cf_submit(ex, until_cancelled, NULL);
    for (int i = 0; i < Q; i++)
        q[i] = cf_submit(ex, triple_plus_one, (void *)(uintptr_t)i);
    pause_ms(50);
    cf_executor_shutdown(ex, true, true);
    for (int i = 0; i < nw; i++) {
        CHECK(cf_future_done(lng[i]));
        cf_future_unref(lng[i]);
    }
    for (int i = 0; i < Q; i++) {
        CHECK(cf_future_done(q[i]));
        cf_future_unref(q[i]);
    }
    errno = 0;
    CHECK(cf_submit(ex, triple_plus_one, NULL) == NULL && errno == ESHUTDOWN);
    check_conservation(ex, 2 * ((size_t)nw + Q));
    cf_executor_free(ex);
}

static void section_options(void)
{
    /* max_workers 1: only rank 1 serves. */
    cf_pool_opts o = CF_POOL_OPTS_INIT;
    o.max_workers = 1;
    o.initializer = set_init_value;
    o.initarg = (void *)(uintptr_t)4242;
    o.max_pending = 8;
    cf_executor *ex = collective_pool(world_rank == 0 ? &o : NULL);
    if (ex) {
        cf_future *fs[40];
        for (int i = 0; i < 40; i++)
            fs[i] = cf_submit(ex, i % 2 ? my_rank : get_init_value, NULL);
        for (int i = 0; i < 40; i++) {
            void *v = NULL;
            CHECK(fs[i] && cf_future_result(fs[i], 30, &v) == 0);
            CHECK((uintptr_t)v == (i % 2 ? 1u : 4242u));
            cf_future_unref(fs[i]);
        }
        cf_pool_stats st;
        CHECK(cf_executor_stats(ex, &st) == 0 && st.workers == 1);
        cf_executor_free(ex);
    }
    /* A failing initializer breaks the pool, with its message. */
    o = (cf_pool_opts)CF_POOL_OPTS_INIT;
    o.initializer = failing_init;
    ex = collective_pool(&o);
    if (ex) {
        errno = 0;
        cf_future *f = cf_submit(ex, triple_plus_one, NULL);
        CHECK(f == NULL && errno == CF_EBROKEN);
        cf_executor_free(ex);
    }
    /* Bad options on the root: every rank says EINVAL. */
    cf_pool_opts bad[4];
    for (int i = 0; i < 4; i++)
        bad[i] = (cf_pool_opts)CF_POOL_OPTS_INIT;
    bad[0].task_timeout = 1;
    bad[1].max_tasks_per_child = 3;
    bad[2].max_workers = world_size;      /* more than there are ranks to serve */
    bad[3].cf__reserved[0] = 1;
    for (int i = 0; i < 4; i++) {
        errno = 0;
        cf_executor *e = cf_mpi_pool_new(MPI_COMM_WORLD, world_rank == 0 ? &bad[i] : NULL);
        CHECK(e == NULL && errno == EINVAL);
    }
    /* Communicators it cannot use. */
    errno = 0;
    CHECK(cf_mpi_pool_new(MPI_COMM_SELF, NULL) == NULL && errno == EINVAL);
    errno = 0;
    CHECK(cf_mpi_pool_new(MPI_COMM_NULL, NULL) == NULL && errno == EINVAL);
}

/* A coroutine on the root awaits MPI futures while its loop goes on. */
typedef struct coro_arg {
    cf_executor *ex;
    int          ticks;
} coro_arg;

static void *ticker(void *arg)
{
    coro_arg *a = arg;
    for (int i = 0; i < 10; i++) {
        a->ticks++;
        cf_sleep(0.001);
    }
    return NULL;
}

static void *awaiter(void *arg)
{
    coro_arg *a = arg;
    uintptr_t sum = 0;
    for (uintptr_t i = 0; i < 20; i++) {
        cf_future *f = cf_submit(a->ex, triple_plus_one, (void *)i);
        void *v = NULL;
        if (!f || cf_await(f, 30, &v) != 0)
            sum += 1000000;
        sum += (uintptr_t)v;
        cf_future_unref(f);
    }
    cf_future *slow = cf_submit(a->ex, my_rank, (void *)(uintptr_t)30);
    void *v = NULL;
    if (!slow || cf_await(slow, 30, &v) != 0 || (intptr_t)v < 1)
        sum += 1000000;
    cf_future_unref(slow);
    return (void *)sum;
}

static void section_coroutine(void)
{
    cf_executor *ex = collective_pool(NULL);
    if (!ex)
        return;
    cf_loop *loop = cf_loop_new();
    CHECK(loop != NULL);
    coro_arg a = { ex, 0 };
    cf_future *t = cf_loop_spawn(loop, ticker, &a);
    cf_future *w = cf_loop_spawn(loop, awaiter, &a);
    void *v = NULL;
    CHECK(cf_loop_run_until_complete(loop, w, &v) == 0);
    uintptr_t want = 0;
    for (uintptr_t i = 0; i < 20; i++)
        want += i * 3 + 1;
    CHECK((uintptr_t)v == want);
    CHECK(cf_loop_run_until_complete(loop, t, NULL) == 0 && a.ticks == 10);
    cf_future_unref(t);
    cf_future_unref(w);
    cf_loop_free(loop);
    cf_executor_free(ex);
}

/* Random mixes: failures, cancels and timing; nothing is lost. */
static void section_stress(void)
{
    cf_executor *ex = collective_pool(NULL);
    if (!ex)
        return;
    enum { N = 3000 };
    cf_future **fs = calloc(N, sizeof *fs);
    unsigned seed = 12345;
    size_t submitted = 0;
    for (int i = 0; i < N; i++) {
        unsigned r = (seed = seed * 1103515245 + 12345) >> 16;
        cf_fn fn = r % 3 == 0 ? fails_odd : r % 3 == 1 ? triple_plus_one : my_rank;
        void *arg = fn == my_rank ? (void *)(uintptr_t)(r % 7 == 0) : (void *)(uintptr_t)i;
        fs[i] = cf_submit(ex, fn, arg);
        submitted += fs[i] != NULL;
        if (r % 5 == 0 && i > 10)
            cf_future_cancel(fs[i - (int)(r % 10)]);
        if (r % 97 == 0)
            pause_ms(r % 3);
    }
    CHECK(cf_wait(fs, N, 120, CF_ALL_COMPLETED) == 0);
    size_t ok = 0, failed = 0, cancelled = 0;
    for (int i = 0; i < N; i++) {
        void *v;
        int e = cf_future_result(fs[i], 0, &v);
        if (cf_future_state(fs[i]) == CF_CANCELLED)
            cancelled++;
        else if (e)
            failed++;
        else
            ok++;
        cf_future_unref(fs[i]);
    }
    CHECK(ok + failed + cancelled == submitted && submitted == N);
    cf_pool_stats st;
    CHECK(cf_executor_stats(ex, &st) == 0 && st.completed == ok && st.failed == failed &&
          st.cancelled == cancelled);
    free(fs);
    cf_executor_terminate(ex);
    cf_executor_free(ex);
}

/* Rank 2's part in section_hostile: cf_mpi_pool_new's setup by hand, then a corrupt answer to
 * the first batch, then silence until EXIT. */
static void lying_rank(void)
{
    MPI_Comm dup;
    MPI_Comm_dup(MPI_COMM_WORLD, &dup);
    cf__mp_setup s;
    MPI_Bcast(&s, sizeof s, MPI_BYTE, 0, dup);
    int err = 0, agreed = 0;
    MPI_Allreduce(&err, &agreed, 1, MPI_INT, MPI_MAX, dup);
    struct { int err, rank; } mine = { 0, world_rank }, worst;
    MPI_Allreduce(&mine, &worst, 1, MPI_2INT, MPI_MAXLOC, dup);
    bool lied = false, exit_seen = false;
    while (!exit_seen) {
        MPI_Status st;
        int count = 0;
        MPI_Probe(0, CF__MP_TAG_TASKS, dup, &st);
        MPI_Get_count(&st, MPI_BYTE, &count);
        unsigned char *b = malloc((size_t)count + 1);
        MPI_Recv(b, count, MPI_BYTE, 0, CF__MP_TAG_TASKS, dup, MPI_STATUS_IGNORE);
        size_t off = 0;
        cf__ptask t;
        const unsigned char *payload;
        while (cf__wire_next_task(b, (size_t)count, &off, &t, &payload) == 1)
            exit_seen |= t.kind == CF__PT_EXIT;
        free(b);
        if (!lied) {
            /* A length that runs past the message. */
            uint64_t junk[4] = { 4096, 1, 2, 3 };
            MPI_Send(junk, sizeof junk, MPI_BYTE, 0, CF__MP_TAG_RESULTS, dup);
            lied = true;
        }
    }
    MPI_Comm_free(&dup);
}

static void section_hostile(void)
{
    if (world_size < 3)
        return;
    if (world_rank == 2) {
        lying_rank();
        return;
    }
    cf_executor *ex = collective_pool(NULL);
    if (!ex)
        return;
    enum { N = 40 };
    cf_future *fs[N];
    for (int i = 0; i < N; i++)
        fs[i] = cf_submit(ex, my_rank, NULL);
    size_t ok = 0, lost = 0;
    for (int i = 0; i < N; i++) {
        void *v = NULL;
        const char *msg = NULL;
        int e = cf_future_result(fs[i], 30, &v);
        if (e == 0) {
            CHECK((intptr_t)v == 1);       /* only the honest rank answers */
            ok++;
        } else {
            CHECK(e == EPROTO && cf_future_error(fs[i], 0, &msg) == EPROTO && msg &&
                  strstr(msg, "rank 2"));
            lost++;
        }
        cf_future_unref(fs[i]);
    }
    CHECK(ok + lost == N && lost >= 1 && ok >= 1);
    /* From now on rank 1 takes everything. */
    for (int i = 0; i < N; i++) {
        cf_future *f = cf_submit(ex, my_rank, NULL);
        void *v = NULL;
        CHECK(f && cf_future_result(f, 30, &v) == 0 && (intptr_t)v == 1);
        cf_future_unref(f);
    }
    check_conservation(ex, 2 * N);
    cf_executor_free(ex);                   /* releases rank 2 too */
}

int main(int argc, char **argv)
{
    bool single = argc > 1 && strcmp(argv[1], "single") == 0;
    bool die = argc > 1 && strcmp(argv[1], "die") == 0;
    int provided = 0;
    MPI_Init_thread(&argc, &argv, single ? MPI_THREAD_SINGLE : MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    if (die) {
        cf_executor *ex = collective_pool(NULL);
        if (ex) {
            cf_future *f = cf_submit(ex, kill_my_rank, NULL);
            void *v;
            cf_future_result(f, 120, &v);   /* mpirun ends this process first */
            fprintf(stderr, "test_mpi die: the job outlived its rank\n");
            return 3;
        }
        MPI_Finalize();
        return 0;
    }
    if (single || provided < MPI_THREAD_SERIALIZED) {
        errno = 0;
        CHECK(cf_mpi_pool_new(MPI_COMM_WORLD, NULL) == NULL && errno == EINVAL);
    } else {
        section_submit();
        section_bytes();
        section_map();
        section_errors();
        section_cancel();
        section_options();
        section_coroutine();
        section_stress();
        section_hostile();
    }
    /* Every rank's verdict, so that mpirun and ctest see one. */
    int mine = failures, all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (world_rank == 0)
        printf("test_mpi%s: %d ranks, %d failures\n", single ? " (single)" : "", world_size, all);
    MPI_Finalize();
    return all ? 1 : 0;
}
