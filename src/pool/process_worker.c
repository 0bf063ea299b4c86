/* SPDX-License-Identifier: MIT */
/* process_worker.c: a process pool's worker process, forked by the fork server.
 *
 * Design notes.
 * - The worker receives batches of tasks on its cf_pipe and runs them in order. Before running
 *   task `seq` it claims the task's shared entry (QUEUED -> STARTED); losing that CAS means the
 *   parent cancelled the task or took it back, and the worker skips it (process_pool.h).
 * - Each result is sent the moment its task ends, so a worker killed later never takes a finished
 *   result with it. The parent reads them in the pool's manager thread.
 * - The worker never returns into the program: it ends with fflush(NULL) and _exit, so atexit
 *   handlers and destructors of the parent's copy do not run twice.
 * - It dies with the fork server (PR_SET_PDEATHSIG, set by the server) and ends when its pipe
 *   reports the parent end gone (EPIPE). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "../future/task.h"
#include "process_pool.h"
#include "remote.h"

static _Noreturn void leave(int code)
{
    fflush(NULL);
    _exit(code);
}

static void send_result(cf_pipe *pipe, cf__wbuf *o)
{
    if (cf_pipe_send(pipe, o->b, o->len, CF_FOREVER) != 0)
        leave(0);                       /* the parent is gone */
    o->len = 0;
}

static void run_task(cf__pslot *slot, const cf__ptask *t, const unsigned char *payload, cf__wbuf *o)
{
    if (cf__remote_run(o, t, payload, &slot->cancel_seq, NULL, NULL))
        leave(121);                     /* the parent fails the task: "exited with status 121" */
}

static void run_initializer(cf__process_pool *p, cf_pipe *pipe)
{
    char *msg;
    int err = cf__remote_init(p->initializer, p->initarg, &msg);
    if (!err)
        return;
    cf__wbuf o = { 0 };
    if (cf__wire_put_result(&o, 0, CF__PR_INIT_FAILED, err, msg, 0, NULL, 0))
        leave(121);                     /* dying before init_done: a failed initializer */
    send_result(pipe, &o);
    leave(0);
}

void cf__pp_worker_main(void *vp, int idx, const cf__pipe_raw *raw)
{
    cf__process_pool *p = vp;          /* our copy of the pool as it was when the server forked */
    cf__pslot *slot = &p->slots[idx];
    /* This copy has no manager thread: a task that submits to it must fail, not hang. */
    atomic_store(&p->in.closed, EPERM);
    char name[16], suffix[13];
    int slen = snprintf(suffix, sizeof suffix, "-%d", idx + 1);
    snprintf(name, sizeof name, "%.*s%s", 15 - slen, p->name, suffix);
    prctl(PR_SET_NAME, name);

    cf_pipe *pipe;
    if (cf__pipe_adopt(raw, &pipe) != 0)
        leave(120);
    cf__pipe_raw copy = *raw;
    cf__pipe_raw_close(&copy);
    if (p->in.doorbell >= 0)
        close(p->in.doorbell);

    if (p->initializer)
        run_initializer(p, pipe);
    atomic_store(&slot->init_done, 1);  /* dying before this counts as a failed initializer */

    cf__wbuf o = { 0 };
    uint64_t ran = 0;
    for (;;) {
        /* No spinning of our own beyond cf_pipe_recv's few microseconds: on a machine with few
         * CPUs the manager that must read our result is often queued on our CPU (the
         * scheduler places a wakee beside its waker), and every microsecond we spin, it waits.
         * Measured: a 20 us spin here made an idle round trip 2.5x slower. */
        void *msg;
        size_t len;
        int r = cf_pipe_recv(pipe, &msg, &len, CF_FOREVER);
        if (r == ENOMEM)
            leave(122);                 /* a batch was dropped: die, the parent re-sends it */
        if (r != 0)
            leave(0);                   /* EPIPE: the parent is gone or closed our pipe */
        size_t off = 0;
        bool stop = false;
        cf__ptask t;
        const unsigned char *payload;
        while ((r = cf__wire_next_task(msg, len, &off, &t, &payload)) == 1) {
            if (t.kind == CF__PT_EXIT) {
                stop = true;
                break;
            }
            if (t.kind == CF__PT_CANCEL) {
                r = EPROTO;             /* cancels travel through the shared entries here */
                break;
            }
            uint64_t q = cf__ent(t.seq, ENT_QUEUED);
            if (atomic_compare_exchange_strong(&slot->ent[t.seq % CF__PP_K], &q,
                                               cf__ent(t.seq, ENT_STARTED))) {
                atomic_store(&slot->start_ns, (int64_t)cf__mono_ns());
                atomic_store(&slot->started, t.seq);
                run_task(slot, &t, payload, &o);
                atomic_store(&slot->started, 0);
                atomic_store(&slot->passed, t.seq);
                /* What the task printed goes out before its result: a worker that dies later
                 * takes no finished task's output with it, and a pipe reader sees it now. */
                fflush(NULL);
                send_result(pipe, &o);
                ran += t.kind == CF__KIND_CHUNK ? t.n : 1;
                if (p->max_tasks && ran >= (uint64_t)p->max_tasks) {
                    stop = true;        /* the parent sent nothing past our quota */
                    break;
                }
            } else {
                atomic_store(&slot->passed, t.seq);
            }
        }
        free(msg);
        if (stop || r == EPROTO)
            break;                      /* EPROTO: not our parent's batch; leave */
    }
    free(o.b);
    cf_pipe_close(pipe);
    leave(0);
}
