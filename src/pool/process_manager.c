/* SPDX-License-Identifier: MIT */
/* process_manager.c: the process pool's manager thread: it alone talks to the fork server and the
 * workers.
 *
 * Design notes.
 * - Loop: take submissions (splice the wfcq into a FIFO), read results from every worker, read
 *   the fork server's reports (spawned, exited), send batches, check timeouts; when a pass finds
 *   nothing to do it spins ~50 us (catching the next result or submit without a wake-up), then
 *   sleeps in epoll on the doorbell, the fork server's socket and every worker pipe's fd.
 * - Dispatch (which worker gets what, stealing) is process_dispatch.c's; the messages are
 *   process_wire.c's.
 * - A worker's death is reported by the fork server with its wait status. Its pipe is drained
 *   first (results sent before it died count), then the one task it had claimed fails (CF_EWORKER
 *   with the pid and signal; ETIMEDOUT if we killed it for task_timeout; ECANCELED on terminate),
 *   its unstarted tasks go back to the front of the FIFO, and a replacement is forked (unless
 *   terminating, broken, or closing with nothing left to run): at once, or after a backoff
 *   (10 ms doubling to 1 s) while workers keep dying before running or claiming anything; eight
 *   such deaths in a row break the pool. Dying before init_done is a failed initializer.
 * - A worker whose pipe ends (or turns corrupt) before its death is reported leaves the epoll
 *   set (it would be readable on every pass) and counts as dead after LOST_NS: the fork server
 *   may be stopped. A worker whose messages are corrupt is killed (process_wire.h).
 * - The fork server lost (its socket's end of file) takes its workers with it; it is started
 *   again from this thread, at once the first time, then with backoff; FS_TRIES losses in a row
 *   with no result between break the pool. Worker starts that fail (descriptors, processes) are
 *   retried with backoff too; at creation they fail the creation instead (`starting`).
 * - RUNNING: the manager marks a future RUNNING when it sees the worker's `started` word, on
 *   every idle pass (and every ~1 ms while a sent task has not been seen starting), so the state
 *   lags the worker by at most that; cancel never lags, it is decided on the shared entry.
 * - Ending: once closed, with no submit in flight and nothing queued or outstanding, each worker
 *   gets an EXIT message; when all are reaped, the fork server is stopped and reaped, and
 *   `finished` is published. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/futex.h"
#include "../ipc/bytering.h"
#include "../ipc/pipe_raw.h"
#include "remote.h"
#include "../common/doorbell.h"
#include "process_manager.h"

#define SPIN_NS   20000        /* keep looking this long after the last work before sleeping */
#define SPIN_SENT 250000       /* ... and this long after sending tasks, for their results */
#define POLL_MS   1            /* re-check unstarted sent tasks / unsent batches this often */
#define READ_MAX  64           /* results per worker per pass, for fairness */
#define LOST_NS   1000000000   /* a worker whose pipe closed, unreported this long, is dead */
#define SPAWN_TRIES 8          /* failed starts in a row, with no worker left, break the pool */
#define FRUITLESS_MAX 8        /* deaths in a row before running anything break the pool */
#define FS_TRIES  5            /* fork servers lost in a row, with no result between */
#define START_NS  10000000000  /* creation gives up on a fork server silent this long */

/* ---- completing futures ---- */

/* Completes a future the pool ran (or failed for a reason of its own), then drops the pool's
 * reference (intake.h). */
void cf__pm_finish(cf__process_pool *p, cf_future *f, int err, void *value, char *msg, size_t blen)
{
    cf__intake_finish(&p->in, f, CF_FINISHED, err, value, msg, blen);
}

/* Fails a future that never reached a worker (broken pool). */
void cf__pm_fail_unsent(cf__process_pool *p, cf_future *f, int err)
{
    char *msg = p->broken_msg ? strdup(p->broken_msg) : NULL;
    if (!cf_future_done(f))
        cf__pm_finish(p, f, err, NULL, msg, 0);
    else {
        free(msg);
        cf_future_unref(f);
    }
}

/* ---- workers ---- */

bool cf__pm_usable(cf__process_pool *p, cf__pworker *w)
{
    return w->state == W_LIVE && !w->exit_sent && w->kill_reason == 0 &&
           (p->max_tasks == 0 || w->items_sent < (size_t)p->max_tasks);
}

bool cf__pm_idle(cf__process_pool *p, cf__pworker *w)
{
    return cf__pm_usable(p, w) && w->nout == 0 && w->out.len == 0;
}

static void break_pool(cf__mgr *m, const char *fmt, const char *detail);

static void close_worker_pipe(cf__mgr *m, cf__pworker *w)
{
    if (!w->pipe)
        return;
    if (!w->pipe_eof)
        epoll_ctl(m->epfd, EPOLL_CTL_DEL, cf_pipe_fd(w->pipe), NULL);
    cf_pipe_close(w->pipe);
    w->pipe = NULL;
}

/* 10 ms, doubling per step after the first, up to 1 s. */
static int64_t backoff_ns(int steps)
{
    int64_t b = 10000000;
    while (steps-- > 1 && b < 1000000000)
        b *= 2;
    return b < 1000000000 ? b : 1000000000;
}

/* Worker idx could not be started (err): during creation that fails the creation; later the
 * start is retried with backoff, and the pool breaks only when no worker is left and
 * SPAWN_TRIES starts in a row have failed (an exhausted descriptor or process limit that does
 * not come back). */
static void spawn_failed(cf__mgr *m, int idx, int err)
{
    cf__process_pool *p = m->p;
    cf__pworker *w = &p->w[idx];
    close_worker_pipe(m, w);
    w->state = W_NONE;
    if (m->starting) {
        if (!m->start_err)
            m->start_err = err;
        return;
    }
    m->spawn_fails++;
    bool any = false;
    for (int i = 0; i < p->max_workers; i++)
        any |= p->w[i].state != W_NONE;
    if (!any && m->spawn_fails >= SPAWN_TRIES) {
        break_pool(m, "could not start a worker process: %s", cf_strerror(err));
        return;
    }
    w->respawn_ns = (int64_t)cf__mono_ns() + backoff_ns(m->spawn_fails);
}

static void spawn_worker(cf__mgr *m, int idx)
{
    cf__process_pool *p = m->p;
    cf__pworker *w = &p->w[idx];
    cf__pslot *s = &p->slots[idx];
    atomic_store(&s->started, 0);
    atomic_store(&s->passed, 0);
    atomic_store(&s->cancel_seq, 0);
    atomic_store(&s->init_done, 0);
    for (int i = 0; i < CF__PP_K; i++)
        atomic_store_explicit(&s->ent[i], 0, memory_order_relaxed);
    cf__wbuf out = { w->out.b, 0, w->out.cap };   /* the batch buffer outlives its workers */
    memset(w, 0, sizeof *w);
    w->out = out;
    w->next_seq = w->low_seq = 1;

    cf__pipe_raw raw;
    int err = p->fs.sock < 0 ? ECHILD : cf__pipe_new_raw(CF__PP_RING, &w->pipe, &raw);
    if (!err) {
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 2 + (uint32_t)idx };
        if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, cf_pipe_fd(w->pipe), &ev) < 0)
            err = errno;
        else if ((err = cf__fs_spawn(&p->fs, idx, &raw)))
            epoll_ctl(m->epfd, EPOLL_CTL_DEL, cf_pipe_fd(w->pipe), NULL);
        cf__pipe_raw_close(&raw);
        if (err) {
            cf_pipe_close(w->pipe);
            w->pipe = NULL;
        }
    }
    if (err) {
        spawn_failed(m, idx, err);
        return;
    }
    w->state = W_SPAWNING;
}

/* Work is left, or may still come: a dead worker is worth replacing. */
static bool work_left(cf__mgr *m)
{
    cf__process_pool *p = m->p;
    bool work = p->pend.count || !m->sealed || !cf__intake_empty(&p->in);
    for (int j = 0; j < p->max_workers; j++)
        work |= p->w[j].nout > 0;
    return work && !atomic_load(&p->terminating) && atomic_load(&p->in.closed) != CF_EBROKEN;
}

/* After worker idx died: a replacement now, or after a backoff while workers keep dying before
 * running anything (a crash loop must not fork thousands of processes a second). */
static void replace_worker(cf__mgr *m, int idx)
{
    if (!work_left(m))
        return;
    if (m->fruitless < 2 && !m->fs_restart_ns)
        spawn_worker(m, idx);
    else
        m->p->w[idx].respawn_ns = (int64_t)cf__mono_ns() + backoff_ns(m->fruitless - 1);
}

/* Drops resolved entries at the low end of a worker's window: results arrive in seq order, so
 * an entry below a result's seq that is still there was skipped (cancelled) or revoked. */
static void advance_low(cf__pworker *w, uint64_t upto)
{
    while (w->low_seq < upto && w->low_seq < w->next_seq) {
        cf_future **slot = &w->inf[w->low_seq % CF__PP_K];
        if (*slot) {
            if (!cf_future_done(*slot))
                break;                  /* not resolved: keep it (cannot happen below a result) */
            cf_future_unref(*slot);
            *slot = NULL;
            w->nout--;
        }
        w->low_seq++;
    }
}

/* Applies one result message from worker idx: false if the message is corrupt (the caller then
 * treats the worker as dead: process_wire.h). */
static bool handle_result(cf__mgr *m, int idx, const unsigned char *b, size_t len)
{
    cf__process_pool *p = m->p;
    cf__pworker *w = &p->w[idx];
    cf__wresult r;
    if (cf__wire_get_result(b, len, &r))
        return false;
    if (r.type == CF__PR_SKIPPED)
        return false;                   /* our workers never skip by message */
    char *msg = r.err && r.msglen ? strndup(r.msg, r.msglen) : NULL;
    if (r.type == CF__PR_INIT_FAILED) {
        if (w->results) {
            free(msg);
            return false;               /* only a worker that has run nothing can say so */
        }
        char detail[CF__WIRE_MSG_MAX + 200];
        snprintf(detail, sizeof detail, "%s (%s)", msg ? msg : cf_strerror(r.err), cf_strerror(r.err));
        free(msg);
        break_pool(m, "process initializer failed: %s", detail);
        return true;
    }
    w->results++;
    w->progress_ns = (int64_t)cf__mono_ns();
    m->fruitless = 0;
    m->fs_deaths = 0;
    uint64_t seq = r.seq;
    if (seq < w->low_seq || seq >= w->next_seq || !w->inf[seq % CF__PP_K]) {
        free(msg);
        return true;                    /* nothing of ours waits for it */
    }
    cf_future *f = w->inf[seq % CF__PP_K];
    if (!cf__wire_result_fits(&r, cf__remote_kind(f), cf__remote_items(f))) {
        free(msg);
        return false;
    }
    advance_low(w, seq);
    w->inf[seq % CF__PP_K] = NULL;
    w->nout--;
    advance_low(w, seq + 1);

    void *value;
    size_t blen;
    int err = cf__remote_outcome(f, &r, &msg, &value, &blen);
    cf__pm_finish(p, f, err, value, msg, blen);
    return true;
}

void cf__pm_kill_corrupt(cf__pworker *w)
{
    if (w->pid > 0 && !w->kill_reason) {
        kill(w->pid, SIGKILL);
        w->kill_reason = EPROTO;
    }
}

/* Worker w's pipe ended (its peer is gone) or broke: it leaves the epoll set, which would
 * otherwise report it readable on every pass, and the worker counts as dead when the fork
 * server says so, or after LOST_NS (check_workers). */
static void pipe_gone(cf__mgr *m, cf__pworker *w)
{
    if (w->pipe_eof || !w->pipe)
        return;
    epoll_ctl(m->epfd, EPOLL_CTL_DEL, cf_pipe_fd(w->pipe), NULL);
    w->pipe_eof = true;
    w->eof_ns = (int64_t)cf__mono_ns();
}

/* Reads what worker idx sent; false if nothing was there. */
/* Receives and applies one message from worker idx, without waiting: cf_pipe_recv's result
 * (0: one was applied; EPIPE: the worker's end is gone and nothing is left). */
static int read_one(cf__mgr *m, int idx)
{
    cf__pworker *w = &m->p->w[idx];
    void *msg;
    size_t len;
    int r = cf_pipe_recv(w->pipe, &msg, &len, 0);
    if (r == ENOMEM && w->pid > 0 && !w->kill_reason) {
        kill(w->pid, SIGKILL);           /* a result is lost: fail its task like a crash */
        w->kill_reason = ENOMEM;
    }
    if (r == EPROTO)
        cf__pm_kill_corrupt(w);
    if (r == EPROTO || r == EPIPE)
        pipe_gone(m, w);
    if (r == 0) {
        if (!handle_result(m, idx, msg, len))
            cf__pm_kill_corrupt(w);
        free(msg);
    }
    return r;
}

static bool read_results(cf__mgr *m, int idx)
{
    cf__pworker *w = &m->p->w[idx];
    bool any = false;
    for (int n = 0; w->pipe && n < READ_MAX && cf__pipe_readable(w->pipe); n++) {
        if (read_one(m, idx))
            break;
        any = true;
    }
    return any;
}

/* What became of a worker, for the task it ran and for the pool's message. */
static char *death_text(cf__process_pool *p, cf__pworker *w, int status)
{
    if (w->kill_reason == ETIMEDOUT)
        return cf__remote_text("task ran longer than task_timeout (%g s): worker %d killed",
                           p->task_timeout, (int)w->pid);
    if (w->kill_reason == ECANCELED)
        return cf__remote_text("worker %d terminated (cf_executor_terminate)", (int)w->pid);
    if (w->kill_reason == CF_EBROKEN)
        return p->broken_msg ? strdup(p->broken_msg) : NULL;
    if (w->kill_reason == EPROTO)
        return cf__remote_text("worker %d killed: it wrote corrupt data on its pipe (the task "
                           "scribbled over memory?)", (int)w->pid);
    if (w->kill_reason == ECHILD)
        return cf__remote_text("worker %d lost with the pool's fork server (killed from outside?)",
                           (int)w->pid);
    if (w->kill_reason == ESRCH)
        return cf__remote_text("worker %d lost: its pipe closed and its exit was not reported in "
                           "time (fork server stopped?)", (int)w->pid);
    if (WIFSIGNALED(status)) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
        const char *d = sigdescr_np(WTERMSIG(status));   /* static text, unlike strsignal */
#else
        const char *d = NULL;
#endif
        return cf__remote_text("worker %d killed by signal %d (%s)", (int)w->pid, WTERMSIG(status),
                           d ? d : "unknown signal");
    }
    return cf__remote_text("worker %d exited with status %d", (int)w->pid,
                       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* Worker idx is gone (reported by the fork server with its wait status, or found lost): its
 * results are drained, the task it claimed fails, its unstarted tasks go back to the front of
 * the FIFO. The caller decides about a replacement. */
static void worker_died(cf__mgr *m, int idx, int status)
{
    cf__process_pool *p = m->p;
    cf__pworker *w = &p->w[idx];
    cf__pslot *s = &p->slots[idx];
    bool claimed = false;
    while (w->pipe && cf__pipe_readable(w->pipe) && read_results(m, idx))
        ;
    close_worker_pipe(m, w);
    w->out.len = w->out_off = 0;
    if (w->state == W_LIVE)
        atomic_fetch_sub(&p->live, 1);

    /* Newest first, so that pushing each to the front keeps submission order. */
    for (uint64_t seq = w->next_seq; seq-- > w->low_seq;) {
        cf_future *f = w->inf[seq % CF__PP_K];
        if (!f)
            continue;
        w->inf[seq % CF__PP_K] = NULL;
        w->nout--;
        if (atomic_load(&s->ent[seq % CF__PP_K]) == cf__ent(seq, ENT_STARTED)) {
            int err = w->kill_reason == ETIMEDOUT || w->kill_reason == ECANCELED ||
                      w->kill_reason == CF_EBROKEN ? w->kill_reason : CF_EWORKER;
            cf__pm_finish(p, f, err, NULL, death_text(p, w, status), 0);
            claimed = true;
            continue;
        }
        bool back = cf__pm_take_back(p, f);
        if (!back || !cf__pm_pend_push(p, f, true)) {
            if (back)                    /* no memory to queue it again: fail, never lose */
                cf__pm_finish(p, f, ENOMEM, NULL, cf__remote_text("could not re-queue a task of a dead worker"), 0);
            else
                cf_future_unref(f);      /* cancelled meanwhile */
        }
    }
    atomic_store(&s->started, 0);
    bool init_died = p->initializer && !atomic_load(&s->init_done) && !w->kill_reason &&
                     !m->killed_all;
    m->fruitless = claimed || w->results ? 0 : m->fruitless + 1;
    bool crash_loop = !init_died && m->fruitless >= FRUITLESS_MAX && !m->killed_all;
    char *why = init_died || crash_loop ? death_text(p, w, status) : NULL;
    w->state = W_NONE;
    w->pid = 0;
    if (init_died)              /* dying in the initializer is failing it, whatever the way */
        break_pool(m, "process initializer failed: %s", why ? why : "worker died");
    else if (crash_loop)
        break_pool(m, "workers keep dying before running a task (last: %s)",
                   why ? why : "unknown");
    free(why);
}

/* ---- pool-wide transitions ---- */

static void kill_all(cf__mgr *m, int reason)
{
    cf__process_pool *p = m->p;
    for (int i = 0; i < p->max_workers; i++) {
        cf__pworker *w = &p->w[i];
        if (w->state == W_LIVE && w->pid > 0) {
            kill(w->pid, SIGKILL);
            if (!w->kill_reason)
                w->kill_reason = reason;
        }
    }
    m->killed_all = true;
}

static void cancel_everything(cf__mgr *m)
{
    cf__process_pool *p = m->p;
    while (p->pend.count) {
        cf_future *f = cf__pm_pend_peek(p);
        cf__pm_pend_pop(p);
        cf_future_cancel(f);
        cf_future_unref(f);
    }
    for (int i = 0; i < p->max_workers; i++) {
        cf__pworker *w = &p->w[i];
        for (uint64_t seq = w->low_seq; seq < w->next_seq; seq++) {
            cf_future *f = w->inf[seq % CF__PP_K];
            if (f)
                cf_future_cancel(f);     /* revokes a queued one; flags the running one */
        }
        uint64_t st = atomic_load(&p->slots[i].started);
        if (st)
            atomic_store(&p->slots[i].cancel_seq, st);
    }
}

static void break_pool(cf__mgr *m, const char *fmt, const char *detail)
{
    cf__process_pool *p = m->p;
    if (atomic_load(&p->in.closed) == CF_EBROKEN)
        return;
    free(p->broken_msg);
    p->broken_msg = cf__remote_text(fmt, detail);
    cf__intake_break(&p->in);               /* publishes broken_msg; wakes blocked submitters */
    while (p->pend.count) {
        cf_future *f = cf__pm_pend_peek(p);
        cf__pm_pend_pop(p);
        cf__pm_fail_unsent(p, f, CF_EBROKEN);
    }
    for (int i = 0; i < p->max_workers; i++) {
        cf__pworker *w = &p->w[i];
        for (uint64_t seq = w->low_seq; seq < w->next_seq; seq++) {
            cf_future *f = w->inf[seq % CF__PP_K];
            if (f && cf__pm_take_back(p, f)) {
                w->inf[seq % CF__PP_K] = NULL;
                w->nout--;
                cf__pm_fail_unsent(p, f, CF_EBROKEN);
            }
        }
    }
    kill_all(m, CF_EBROKEN);
}

/* ---- fork server reports ---- */

/* epoll reported worker idx's pipe, and no message came of it: its peer may be gone. */
static void check_eof(cf__mgr *m, int idx)
{
    cf__pworker *w = &m->p->w[idx];
    if (w->state == W_LIVE && w->pipe && !w->pipe_eof && !cf__pipe_readable(w->pipe))
        read_one(m, idx);                /* EPIPE there takes it out of the epoll set */
}

/* The fork server is gone (killed from outside): its workers died with it (PR_SET_PDEATHSIG).
 * Each fails only the task it had claimed; the rest go back to the FIFO, and a new server and
 * new workers are started (at once the first time, then with backoff; FS_TRIES losses in a row
 * with no result between break the pool). */
static void server_lost(cf__mgr *m)
{
    cf__process_pool *p = m->p;
    epoll_ctl(m->epfd, EPOLL_CTL_DEL, p->fs.sock, NULL);
    cf__fs_stop(&p->fs);                 /* closes our end, reaps it */
    for (int i = 0; i < p->max_workers; i++) {
        cf__pworker *w = &p->w[i];
        if (w->state == W_LIVE) {
            if (!w->kill_reason)
                w->kill_reason = ECHILD;
            worker_died(m, i, 0);
        } else if (w->state == W_SPAWNING) {
            close_worker_pipe(m, w);     /* its request died with the server */
            w->state = W_NONE;
        }
        w->respawn_ns = 0;               /* all are started with the new server */
    }
    if (m->starting) {
        if (!m->start_err)
            m->start_err = ECHILD;
        return;
    }
    if (++m->fs_deaths >= FS_TRIES) {
        break_pool(m, "the process pool's fork server keeps dying%s", "");
        return;
    }
    m->fs_restart_ns = (int64_t)cf__mono_ns() + (m->fs_deaths > 1 ? backoff_ns(m->fs_deaths - 1) : 0);
}

/* Starts a new fork server from this thread (the thread it dies with), and workers with it. */
static void server_restart(cf__mgr *m)
{
    cf__process_pool *p = m->p;
    m->fs_restart_ns = 0;
    if (!work_left(m))
        return;
    int err = cf__fs_start(&p->fs, p->name, cf__pp_worker_main, p);
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 1 };
    if (!err && epoll_ctl(m->epfd, EPOLL_CTL_ADD, p->fs.sock, &ev) < 0) {
        err = errno;
        cf__fs_stop(&p->fs);
    }
    if (err) {
        if (++m->fs_deaths >= FS_TRIES)
            break_pool(m, "could not restart the process pool's fork server: %s",
                       cf_strerror(err));
        else
            m->fs_restart_ns = (int64_t)cf__mono_ns() + backoff_ns(m->fs_deaths);
        return;
    }
    for (int i = 0; i < p->max_workers; i++)
        if (p->w[i].state == W_NONE)
            spawn_worker(m, i);
}

static bool read_fs(cf__mgr *m)
{
    cf__process_pool *p = m->p;
    bool any = false;
    cf__fs_msg msg;
    int r = EAGAIN;
    while (p->fs.sock >= 0 && (r = cf__fs_read(&p->fs, &msg)) == 0) {
        any = true;
        if (msg.idx < 0 || msg.idx >= p->max_workers)
            msg.idx = 0;
        cf__pworker *w = &p->w[msg.idx];
        if (msg.type == CF__FS_SPAWNED && w->state == W_SPAWNING) {
            w->pid = msg.pid;
            w->state = W_LIVE;
            w->progress_ns = (int64_t)cf__mono_ns();
            m->spawn_fails = 0;
            atomic_fetch_add(&p->live, 1);
            if (m->killed_all) {
                kill(w->pid, SIGKILL);
                w->kill_reason = atomic_load(&p->terminating) ? ECANCELED : CF_EBROKEN;
            }
        } else if (msg.type == CF__FS_SPAWN_FAILED && w->state == W_SPAWNING) {
            spawn_failed(m, msg.idx, msg.status);
        } else if (msg.type == CF__FS_EXITED) {
            for (int i = 0; i < p->max_workers; i++)
                if (p->w[i].state == W_LIVE && p->w[i].pid == msg.pid) {
                    worker_died(m, i, msg.status);
                    replace_worker(m, i);
                    break;
                }
        }
    }
    if (r == EPIPE && atomic_load(&p->in.closed) != CF_EBROKEN)
        server_lost(m);
    return any;
}

/* ---- timeouts, RUNNING marks, cancel propagation ---- */

static void soonest(int64_t *next, int64_t ms)
{
    if (ms < 0)
        ms = 0;
    if (*next < 0 || ms < *next)
        *next = ms;
}

static int64_t ms_until(int64_t at, int64_t now) { return at <= now ? 0 : (at - now) / 1000000 + 1; }

/* Timers that start things: a fork server to restart, replacements whose backoff ran out. */
static void check_restarts(cf__mgr *m, int64_t now, int64_t *next, bool *changed)
{
    cf__process_pool *p = m->p;
    if (m->fs_restart_ns) {
        if (now >= m->fs_restart_ns) {
            server_restart(m);
            *changed = true;
        } else {
            soonest(next, ms_until(m->fs_restart_ns, now));
        }
        return;                          /* no server: no worker can start */
    }
    for (int i = 0; i < p->max_workers; i++) {
        cf__pworker *w = &p->w[i];
        if (w->state != W_NONE || !w->respawn_ns)
            continue;
        if (now < w->respawn_ns) {
            soonest(next, ms_until(w->respawn_ns, now));
            continue;
        }
        w->respawn_ns = 0;
        if (work_left(m)) {
            spawn_worker(m, i);
            *changed = true;
        }
    }
}

/* Returns the epoll timeout in ms (-1: none needed). *changed: it dropped skipped entries or
 * started something, which may have changed what to do: the caller must look again first. */
static int check_workers(cf__mgr *m, int64_t now, bool *changed)
{
    cf__process_pool *p = m->p;
    /* Told only once cancel_everything has revoked the queues: a running task told earlier
     * could end while its worker's next task is still QUEUED, and that one would start. */
    bool cancel_all = m->cancelled_all;
    int64_t next = -1;
    bool someone_idle = false;
    check_restarts(m, now, &next, changed);
    for (int i = 0; i < p->max_workers; i++)
        someone_idle |= cf__pm_idle(p, &p->w[i]);
    for (int i = 0; i < p->max_workers; i++) {
        cf__pworker *w = &p->w[i];
        cf__pslot *s = &p->slots[i];
        if (w->state != W_LIVE)
            continue;
        if (w->pipe_eof) {
            /* Gone by its pipe, not reported: the fork server may be stopped. Past LOST_NS it
             * counts as dead, so that its task fails instead of waiting for the server. */
            if (now - w->eof_ns >= LOST_NS) {
                if (!w->kill_reason)
                    w->kill_reason = ESRCH;
                worker_died(m, i, 0);
                replace_worker(m, i);
                *changed = true;
            } else {
                soonest(&next, ms_until(w->eof_ns + LOST_NS, now));
            }
            continue;
        }
        if (w->out.len)
            soonest(&next, POLL_MS);     /* a batch waits for room in the ring */
        /* Entries the worker skipped (cancelled) send no result: drop them as it passes them. */
        size_t before = w->nout;
        advance_low(w, atomic_load(&s->passed) + 1);
        *changed |= w->nout != before;
        uint64_t st = atomic_load(&s->started);
        cf_future *f = st && st >= w->low_seq && st < w->next_seq ? w->inf[st % CF__PP_K] : NULL;
        if (f && st != w->marked) {
            cf__intake_mark_running(&p->in, f);
            w->marked = st;
            w->progress_ns = now;
        }
        if (f && (cancel_all || atomic_load_explicit(&f->cancel_requested, memory_order_relaxed)))
            atomic_store(&s->cancel_seq, st);
        /* A sent task not seen starting: look again soon. One queued behind a running task
         * starts after that one's result, which wakes us anyway. */
        if (w->nout && !f)
            soonest(&next, POLL_MS);
        if (someone_idle && w->nout >= (f ? 2u : 1u))   /* when its queue is worth stealing */
            soonest(&next, ms_until((f ? atomic_load(&s->start_ns) : w->progress_ns) + CF__PP_STEAL_NS, now));
        if (f && p->task_timeout > 0 && !w->kill_reason) {
            /* In double: a task_timeout of years must not overflow into the past. */
            double ran = (double)(now - atomic_load(&s->start_ns)) * 1e-9;
            if (ran >= p->task_timeout) {
                kill(w->pid, SIGKILL);
                w->kill_reason = ETIMEDOUT;
            } else {
                soonest(&next, (int64_t)((p->task_timeout - ran) * 1e3) + 1);
            }
        }
    }
    return next > 1000000 ? 1000000 : (int)next;
}

/* ---- the loop ---- */

static bool all_idle(cf__process_pool *p)
{
    if (p->pend.count || !cf__intake_empty(&p->in))
        return false;
    for (int i = 0; i < p->max_workers; i++)
        if (p->w[i].nout || p->w[i].out.len)
            return false;
    return true;
}

static bool any_readable(cf__process_pool *p)
{
    for (int i = 0; i < p->max_workers; i++)
        if (p->w[i].pipe && cf__pipe_readable(p->w[i].pipe))
            return true;
    return false;
}

static void send_exit(cf__pworker *w)
{
    cf__ptask t = { .kind = CF__PT_EXIT };
    if (!w->pipe || cf_pipe_send(w->pipe, &t, sizeof t, 0) == 0)
        w->exit_sent = true;
}

static void run(cf__mgr *m)
{
    cf__process_pool *p = m->p;
    int64_t idle_since = (int64_t)cf__mono_ns(), sent_at = 0;
    for (;;) {
        int64_t now = (int64_t)cf__mono_ns();
        bool busy = cf__pm_intake(m);
        for (int i = 0; i < p->max_workers; i++)
            if (p->w[i].state != W_NONE)
                busy |= read_results(m, i);
        busy |= read_fs(m);
        if (atomic_load(&p->cancel_futures) && !m->cancelled_all && m->sealed) {
            m->cancelled_all = true;
            cancel_everything(m);
            if (atomic_load(&p->terminating))
                kill_all(m, ECANCELED);
        }
        if (cf__pm_dispatch(m, now)) {
            busy = true;
            sent_at = now;
        }

        bool closing = m->sealed && all_idle(p);
        if (closing) {
            bool any = false;
            for (int i = 0; i < p->max_workers; i++) {
                cf__pworker *w = &p->w[i];
                if (w->state == W_LIVE && !w->exit_sent && !w->kill_reason)
                    send_exit(w);
                any |= w->state != W_NONE;
            }
            if (!any)
                return;
        }
        if (busy) {
            idle_since = now;
            continue;
        }
        bool changed = false;
        int timeout = check_workers(m, now, &changed);
        if (changed)
            continue;
        /* A result comes back ~one wake-up (~20 us) after its task was sent: spinning that long
         * saves the next wake-up, ours. */
        bool waiting = false;
        for (int i = 0; i < p->max_workers && !waiting; i++)
            waiting = p->w[i].nout > 0;
        if (!closing && (now - idle_since < SPIN_NS || (waiting && now - sent_at < SPIN_SENT))) {
            /* Yield, do not just pause: whoever we just woke (a worker, a waiter) is often
             * queued on this very CPU (the scheduler's wake-affine placement), and a pure spin
             * would make it wait for us. */
            sched_yield();
            continue;
        }
        cf__bell_sleeping(&p->in.mgr_sleeping);
        if (cf__intake_empty(&p->in) && !any_readable(p)) {
            struct epoll_event ev[8];
            int ms = timeout < 0 ? -1 : timeout;
            if (closing && (ms < 0 || ms > 10))
                ms = 10;                 /* exits are reported by the fork server: poll it */
            int n = epoll_wait(m->epfd, ev, 8, ms);
            for (int i = 0; i < n; i++)
                if (ev[i].data.u32 >= 2 && (int)ev[i].data.u32 - 2 < p->max_workers)
                    check_eof(m, (int)ev[i].data.u32 - 2);
        }
        cf__bell_awake(&p->in.mgr_sleeping, p->in.doorbell);
        idle_since = (int64_t)cf__mono_ns();
    }
}

void *cf__pp_manager_main(void *arg)
{
    cf__process_pool *p = arg;
    cf__mgr m = { .p = p, .epfd = -1 };
    p->mgr_self = pthread_self();
    char name[16];
    snprintf(name, sizeof name, "%.11s-mgr", p->name);
    pthread_setname_np(pthread_self(), name);

    int err = cf__fs_start(&p->fs, p->name, cf__pp_worker_main, p);
    if (!err && (m.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        err = errno;
    if (!err) {
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 0 };
        if (epoll_ctl(m.epfd, EPOLL_CTL_ADD, p->in.doorbell, &ev) < 0)
            err = errno;
        ev.data.u32 = 1;
        if (!err && epoll_ctl(m.epfd, EPOLL_CTL_ADD, p->fs.sock, &ev) < 0)
            err = errno;
    }
    if (err) {
        cf__fs_stop(&p->fs);
        if (m.epfd >= 0)
            close(m.epfd);
        p->startup_err = err;
        cf__latch_set(&p->started_up, 2);
        cf__pp_finish(p);
        return NULL;
    }
    /* Creation returns once every first worker is forked, or fails with the reason one could
     * not be (EMFILE, EAGAIN...): a pool never starts with fewer workers than asked. */
    m.starting = true;
    for (int i = 0; i < p->max_workers && !m.start_err; i++)
        spawn_worker(&m, i);
    int64_t give_up = (int64_t)cf__mono_ns() + START_NS;
    for (;;) {
        bool spawning = false;
        for (int i = 0; i < p->max_workers; i++)
            spawning |= p->w[i].state == W_SPAWNING;
        if (!spawning || m.start_err || p->fs.sock < 0)
            break;
        if ((int64_t)cf__mono_ns() > give_up) {
            m.start_err = EAGAIN;        /* the fork server does not answer */
            break;
        }
        struct pollfd pf = { .fd = p->fs.sock, .events = POLLIN };
        poll(&pf, 1, 100);
        read_fs(&m);
    }
    m.starting = false;
    if (m.start_err) {
        for (int i = 0; i < p->max_workers; i++)
            close_worker_pipe(&m, &p->w[i]);
        cf__fs_stop(&p->fs);             /* the server kills and reaps what it forked */
        close(m.epfd);
        p->startup_err = m.start_err;
        cf__latch_set(&p->started_up, 2);
        cf__pp_finish(p);
        return NULL;
    }
    cf__latch_set(&p->started_up, 1);

    run(&m);

    for (int i = 0; i < p->max_workers; i++)
        close_worker_pipe(&m, &p->w[i]);
    cf__fs_stop(&p->fs);
    close(m.epfd);
    cf__pp_finish(p);
    return NULL;
}
