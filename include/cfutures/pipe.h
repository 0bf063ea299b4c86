/* SPDX-License-Identifier: MIT */
/** @file
 * Message channels between processes over shared memory.
 *  - cf_pipe: a duplex channel between two processes (Python's multiprocessing.Pipe). Create it
 *    before fork(); afterwards each process keeps one end and closes the other with
 *    cf_pipe_close, exactly like pipe(2), so that a dying peer is seen as end of file.
 *  - cf_mpqueue: a multi-producer multi-consumer queue of byte messages usable by every process
 *    forked after it was created (Python's multiprocessing.Queue).
 * Messages are byte strings of any length (0 included); they arrive whole or not at all.
 * Handles are per process, like file descriptors. Every call may block only as long as its
 * timeout says; a peer that dies (exit, crash, SIGKILL) makes blocked calls return EPIPE.
 * Peers are not trusted: whatever another process writes into the shared memory (it can write
 * all of it), calls here never crash, overflow or hang past their timeout. State no honest peer
 * could have left (impossible positions, lengths or record headers) makes the call fail with
 * EPROTO, and the channel is then broken for every user: all later calls on it fail with EPROTO.
 * Concurrency: an end of a cf_pipe may be used by several threads (sends are serialized, and
 * receives) of one process: the process that keeps it after fork (each end remembers its own
 * position, so two processes sending or receiving on copies of one end would read to the other
 * as corrupt, EPROTO); a cf_mpqueue by any number of threads and processes. Fork while no thread of the
 * forking process is inside a call on the pipe or queue (a lock held at fork time would stay
 * held in the child). */
#ifndef CFUTURES_PIPE_H
#define CFUTURES_PIPE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One end of a duplex message pipe between processes (opaque): see cf_pipe_new. */
typedef struct cf_pipe cf_pipe;
/** Two connected ends; capacity is the ring size in bytes per direction (0: 1 MiB): one message
 * of up to capacity bytes goes in without waiting when the ring is empty; a larger one streams
 * through the ring in pieces, transparently. Several queued messages share the ring, each
 * costing a 16-byte header plus its length padded to 8 (plus a small fixed reserve per ring).
 * 0 | EINVAL (NULL outputs, capacity over 2 GiB) | ENOMEM | EMFILE/ENFILE (out of descriptors). */
CF_EXTERN int  cf_pipe_new(size_t capacity, cf_pipe **end0, cf_pipe **end1);
/** Sends len bytes (copied) to the other end, waiting up to timeout for ring space (a coroutine
 * suspends: its loop watches the ring's doorbell and the peer). Senders on one end take turns.
 * 0 | EAGAIN (timeout 0, no room, or another sender of this end busy) | ETIMEDOUT | ECANCELED
 * (the calling coroutine was cancelled) | EPIPE (the peer is gone) | EINVAL | EMSGSIZE (len over
 * PTRDIFF_MAX) | EPROTO (the channel is corrupt, see above).
 * All or nothing: on an error the receiver never sees any part of this message. */
CF_EXTERN int  cf_pipe_send(cf_pipe *p, const void *msg, size_t len, double timeout);
/** Receives the next message, waiting up to timeout (a coroutine suspends): *msg is malloc'd
 * (never NULL on success, even for 0 bytes), the caller frees it. Messages sent before the peer
 * died are still delivered. 0 | EAGAIN (timeout 0, none) | ETIMEDOUT | ECANCELED (the calling
 * coroutine was cancelled; the message stays for the next call) | EPIPE (peer gone, nothing
 * left) | ENOMEM (the message was dropped) | EINVAL | EPROTO (the channel is corrupt). Memory for
 * a message grows with the bytes that arrive, whatever length its header announces. */
CF_EXTERN int  cf_pipe_recv(cf_pipe *p, void **msg, size_t *len, double timeout);
/** A file descriptor that poll/epoll report readable when a message (or the start of one larger
 * than the ring) is waiting, or when the peer is gone; owned by the pipe. -1 for NULL.
 * Asking for it switches this end to exact readiness, which costs the sender a syscall per
 * message when the receiver keeps up: ask before handing the end to an event loop, not per call. */
CF_EXTERN int  cf_pipe_fd(const cf_pipe *p);
/** Releases this process's handle on this end (mapping and descriptors). NULL: no-op. */
CF_EXTERN void cf_pipe_close(cf_pipe *p);

/** A queue of byte messages shared by processes (opaque): see cf_mpqueue_new. */
typedef struct cf_mpqueue cf_mpqueue;
/** A queue of byte messages in capacity bytes of shared memory (0: 1 MiB): a message of up to
 * capacity bytes fits when the queue is empty; each message costs an 8-byte header plus its
 * length padded to 8 (capacity 48 holds three 8-byte messages). NULL + errno ENOMEM.
 * The queue's lock is a word naming its holder: a holder that dies (SIGKILL included) is taken
 * over by the next waiter within ~10 ms; one that is stopped (SIGSTOP) costs the others their
 * timeouts, never a hang past them. A put or get in flight when its process is killed either
 * happened whole or not at all. */
CF_EXTERN cf_mpqueue *cf_mpqueue_new(size_t capacity);
/** Adds a copy of msg, waiting up to timeout for room. A thread sleeps on a shared futex; a
 * coroutine suspends on the queue's doorbell (an eventfd inherited by forked processes), woken by
 * the get of any process. While another process holds the queue's lock (for a copy) a coroutine
 * naps (20 us doubling to 1 ms): a futex is nothing a loop can watch.
 * 0 | EAGAIN (timeout 0: full, or the lock held by another for ~10 ms) | ETIMEDOUT | ECANCELED
 * (the calling coroutine was cancelled) | EPIPE (closed) | EMSGSIZE (len > capacity) | EINVAL |
 * EPROTO (the queue is corrupt). */
CF_EXTERN int  cf_mpqueue_put(cf_mpqueue *q, const void *msg, size_t len, double timeout);
/** Takes the next message, waiting up to timeout as cf_mpqueue_put does (a coroutine suspends);
 * *msg malloc'd, caller frees. 0 | EAGAIN | ETIMEDOUT | ECANCELED | EPIPE (closed and drained) |
 * ENOMEM | EINVAL | EPROTO (the queue is corrupt). */
CF_EXTERN int  cf_mpqueue_get(cf_mpqueue *q, void **msg, size_t *len, double timeout);
/** For every process: later puts fail with EPIPE, gets drain what is left then fail with EPIPE.
 * Takes the queue's lock as long as it must (a coroutine naps while another process holds it). */
CF_EXTERN void cf_mpqueue_close(cf_mpqueue *q);
/** Releases this process's handle (its mapping). NULL: no-op. */
CF_EXTERN void cf_mpqueue_free(cf_mpqueue *q);

#ifdef __cplusplus
}
#endif
#endif
