/* SPDX-License-Identifier: MIT */
/* test_hostile.c: a peer process that writes whatever it likes into the memory it shares with us.
 * A child maps the same cf_pipe or cf_mpqueue region (inherited across fork) and scribbles over
 * it in each of the ways a buggy or hostile process could: random bytes, impossible positions,
 * lying record headers, a ring size of 0 or huge, a corrupt lock word, a lock held by a stopped
 * process. The parent keeps calling the API: it must never crash, overflow (run under ASan in
 * CI), hang past its timeout, or deliver a message the peer did not send whole; corrupt state
 * must read as EPROTO, and stay so. White-box: the test knows the ring layout (bytering.h). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../src/ipc/bytering.h"
#include "testutil.h"

#define CAP 4096u

/* The ring sizes cf_pipe_new and cf_mpqueue_new derive from a capacity (pipe.c, mpqueue.c). */
static uint64_t pipe_ring_size(uint64_t cap) { return cf__pad8(cap) + 16 * CF__REC_HDR; }
static uint64_t pipe_stride(uint64_t cap) { return (cf__bring_bytes(pipe_ring_size(cap)) + 63) & ~(uint64_t)63; }

/* The first mapping of this process whose name contains `what` (the test makes one object at a
 * time, and every mapping of it is the same memory). */
static unsigned char *find_map(const char *what)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    unsigned long lo = 0;
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, what) && sscanf(line, "%lx-", &lo) == 1)
            break;
    if (f)
        fclose(f);
    return (unsigned char *)lo;
}

/* dir 0 carries end0 -> end1, dir 1 end1 -> end0 (pipe.c). */
static cf__bring *pipe_ring(unsigned char *map, int dir)
{
    return (cf__bring *)(map + (dir ? pipe_stride(CAP) : 0));
}

/* What the peer writes, at a position of the ring (the library's own copy is not exported). */
static void put_rec(cf__bring *r, uint64_t pos, uint32_t flags, uint32_t chunk, uint64_t total)
{
    cf__rec h = { flags, chunk, total };
    for (size_t i = 0; i < sizeof h; i++)
        r->data[(pos + i) % pipe_ring_size(CAP)] = ((unsigned char *)&h)[i];
}

static void publish(cf__bring *r, uint64_t tail)
{
    atomic_store(&r->tail, tail);
}

/* Each variant corrupts the ring the parent receives on (dir 1) or sends on (dir 0); `scribble`
 * runs in the child. */
typedef struct variant {
    const char *name;
    void (*scribble)(unsigned char *map);
    bool        on_send;        /* the parent sees it when sending, not receiving */
    bool        maybe_valid;    /* random bytes: may happen to look like a message or nothing */
    int         expect;         /* what recv gives: EPROTO (corrupt), 0 (not corrupt from where
                                 * the receiver stands: a forged message), ETIMEDOUT */
} variant;

static uint32_t seed_g = 1;

static void v_random_data(unsigned char *map)
{
    cf__bring *r = pipe_ring(map, 1);
    for (uint64_t i = 0; i < pipe_ring_size(CAP); i++)
        r->data[i] = (unsigned char)rnd(&seed_g);
    publish(r, (rnd(&seed_g) % pipe_ring_size(CAP)) & ~7u);
}
static void v_random_all(unsigned char *map)
{
    for (uint64_t i = 0; i < 2 * pipe_stride(CAP); i++)
        map[i] = (unsigned char)rnd(&seed_g);
}
static void v_tail_past_end(unsigned char *map) { publish(pipe_ring(map, 1), pipe_ring_size(CAP) + 8); }
static void v_tail_behind(unsigned char *map) { publish(pipe_ring(map, 1), (uint64_t)-8); }
static void v_tail_unaligned(unsigned char *map)
{
    put_rec(pipe_ring(map, 1), 0, CF__REC_FIRST | CF__REC_LAST, 3, 3);
    publish(pipe_ring(map, 1), 19);
}
static void v_tail_huge(unsigned char *map) { publish(pipe_ring(map, 1), UINT64_MAX & ~7ull); }
/* The ring size in shared memory is informative: each end has its own. An empty message
 * follows, which must arrive as one. */
static void v_size_zero(unsigned char *map)
{
    pipe_ring(map, 1)->size = 0;
    pipe_ring(map, 0)->size = 0;
    put_rec(pipe_ring(map, 1), 0, CF__REC_FIRST | CF__REC_LAST, 0, 0);
    publish(pipe_ring(map, 1), 16);
}
static void v_size_huge(unsigned char *map)
{
    pipe_ring(map, 1)->size = UINT64_MAX;
    pipe_ring(map, 0)->size = UINT64_MAX;
    put_rec(pipe_ring(map, 1), 0, CF__REC_FIRST | CF__REC_LAST, 0, 0);
    publish(pipe_ring(map, 1), 16);
}
static void v_chunk_in_small_record(unsigned char *map)
{
    /* The heap overflow shape: a 4096-byte chunk in a record that publishes 8 payload bytes. */
    put_rec(pipe_ring(map, 1), 0, CF__REC_FIRST | CF__REC_LAST, 4096, 8);
    publish(pipe_ring(map, 1), 16 + 8);
}
static void v_chunk_over_total(unsigned char *map)
{
    put_rec(pipe_ring(map, 1), 0, CF__REC_FIRST, 64, 8);
    publish(pipe_ring(map, 1), 16 + 64);
}
static void v_first_last_short(unsigned char *map)
{
    put_rec(pipe_ring(map, 1), 0, CF__REC_FIRST | CF__REC_LAST, 8, 4096);
    publish(pipe_ring(map, 1), 16 + 8);
}
static void v_last_without_first(unsigned char *map)
{
    put_rec(pipe_ring(map, 1), 0, CF__REC_LAST, 8, 8);
    publish(pipe_ring(map, 1), 16 + 8);
}
static void v_overrun(unsigned char *map)
{
    cf__bring *r = pipe_ring(map, 1);
    put_rec(r, 0, CF__REC_FIRST, 8, 16);
    put_rec(r, 24, 0, 64, 16);          /* a continuation past the announced total */
    publish(r, 24 + 16 + 64);
}
static void v_unknown_flags(unsigned char *map)
{
    put_rec(pipe_ring(map, 1), 0, 0x80 | CF__REC_FIRST | CF__REC_LAST, 8, 8);
    publish(pipe_ring(map, 1), 16 + 8);
}
static void v_abort_with_payload(unsigned char *map)
{
    put_rec(pipe_ring(map, 1), 0, CF__REC_ABORT, 8, 0);
    publish(pipe_ring(map, 1), 16 + 8);
}
static void v_empty_middle_chunks(unsigned char *map)
{
    cf__bring *r = pipe_ring(map, 1);
    put_rec(r, 0, CF__REC_FIRST, 8, 1000);
    for (uint64_t pos = 24; pos + 16 <= pipe_ring_size(CAP); pos += 16)
        put_rec(r, pos, 0, 0, 0);
    publish(r, 24 + 16 * 10);
}
static void v_total_huge(unsigned char *map)
{
    /* A FIRST announcing an exabyte and nothing after it: the receiver waits for the rest (no
     * allocation of the announced size, which would fail with ENOMEM or take the memory). */
    put_rec(pipe_ring(map, 1), 0, CF__REC_FIRST, 8, (uint64_t)1 << 60);
    publish(pipe_ring(map, 1), 16 + 8);
}
static void v_total_past_ptrdiff(unsigned char *map)
{
    put_rec(pipe_ring(map, 1), 0, CF__REC_FIRST, 8, UINT64_MAX - 3);
    publish(pipe_ring(map, 1), 16 + 8);
}
static void v_our_head_scribbled(unsigned char *map)
{
    /* The head we own, as the peer sees it: we must not read it back. A real message follows. */
    cf__bring *r = pipe_ring(map, 1);
    atomic_store(&r->head, 12345);
    put_rec(r, 0, CF__REC_FIRST | CF__REC_LAST, 2, 2);
    memcpy(r->data + 16, "ok", 2);
    publish(r, 24);
}
static void v_peer_head_ahead(unsigned char *map)
{
    atomic_store(&pipe_ring(map, 0)->head, 4096);   /* consumed bytes we never sent */
}
static void v_peer_head_far_behind(unsigned char *map)
{
    atomic_store(&pipe_ring(map, 0)->head, (uint64_t)-(int64_t)(2 * pipe_ring_size(CAP)));
}

static const variant variants[] = {
    { "random data", v_random_data, false, true, EPROTO },
    { "random everything", v_random_all, false, true, EPROTO },
    { "tail past the end", v_tail_past_end, false, false, EPROTO },
    { "tail behind head", v_tail_behind, false, false, EPROTO },
    { "tail not a record boundary", v_tail_unaligned, false, false, EPROTO },
    { "tail huge", v_tail_huge, false, false, EPROTO },
    { "ring size 0", v_size_zero, false, false, 0 },
    { "ring size huge", v_size_huge, false, false, 0 },
    { "4096-byte chunk in an 8-byte record", v_chunk_in_small_record, false, false, EPROTO },
    { "chunk larger than the total", v_chunk_over_total, false, false, EPROTO },
    { "FIRST|LAST short of its total", v_first_last_short, false, false, EPROTO },
    { "LAST without FIRST", v_last_without_first, false, false, EPROTO },
    { "continuation past the total", v_overrun, false, false, EPROTO },
    { "unknown flags", v_unknown_flags, false, false, EPROTO },
    { "ABORT with a payload", v_abort_with_payload, false, false, EPROTO },
    { "empty middle chunks", v_empty_middle_chunks, false, false, EPROTO },
    { "total of an exabyte", v_total_huge, false, false, ETIMEDOUT },
    { "total past PTRDIFF_MAX", v_total_past_ptrdiff, false, false, EPROTO },
    { "our own head scribbled", v_our_head_scribbled, false, false, 0 },
    { "peer head ahead of our tail", v_peer_head_ahead, true, false, EPROTO },
    { "peer head a ring behind", v_peer_head_far_behind, true, false, EPROTO },
};

/* The child scribbles, tells the parent, and waits to be killed (staying alive, so the parent
 * sees corrupt state, not end of file). */
static pid_t scribbler(void (*fn)(unsigned char *), uint32_t seed, int ready[2])
{
    pid_t pid = fork();
    if (pid == 0) {
        seed_g = seed;
        unsigned char *map = find_map("cf_pipe");
        if (!map)
            _exit(3);
        fn(map);
        char c = 1;
        if (write(ready[1], &c, 1) != 1)
            _exit(4);
        for (;;)
            pause();
    }
    char c;
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    return pid;
}

START_TEST(pipe_survives_every_scribble)
{
    const variant *v = &variants[_i];
    int ready[2];
    ck_assert_int_eq(pipe(ready), 0);
    for (uint32_t round = 0; round < (v->maybe_valid ? 50u : 1u); round++) {
        cf_pipe *a, *b;
        ck_assert_int_eq(cf_pipe_new(CAP, &a, &b), 0);
        pid_t pid = scribbler(v->scribble, round * 7919 + 1, ready);
        void *m = NULL;
        size_t n = 0;
        int r;
        if (v->on_send) {
            char buf[512] = { 0 };
            r = 0;
            for (int i = 0; i < 64 && r == 0; i++)
                r = cf_pipe_send(a, buf, sizeof buf, 0.05);
            ck_assert_msg(r == EPROTO, "%s: send gave %d", v->name, r);
            ck_assert_int_eq(cf_pipe_recv(a, &m, &n, 0), EPROTO);
        } else if (v->scribble == v_our_head_scribbled) {
            r = cf_pipe_recv(a, &m, &n, 1);
            ck_assert_int_eq(r, 0);
            ck_assert_uint_eq(n, 2);
            ck_assert_int_eq(memcmp(m, "ok", 2), 0);
            free(m);
        } else if (v->expect == 0) {
            ck_assert_int_eq(cf_pipe_recv(a, &m, &n, 1), 0);      /* the forged empty message */
            ck_assert_uint_eq(n, 0);
            free(m);
            ck_assert_int_eq(cf_pipe_send(a, "ok", 2, 1), 0);     /* and the pipe works on */
            ck_assert_int_eq(cf_pipe_recv(b, &m, &n, 1), 0);
            free(m);
        } else if (v->expect == ETIMEDOUT) {
            ck_assert_int_eq(cf_pipe_recv(a, &m, &n, 0.05), ETIMEDOUT);
            ck_assert_int_eq(cf_pipe_recv(a, &m, &n, 0), EAGAIN);
        } else {
            for (int i = 0; i < 8; i++) {
                r = cf_pipe_recv(a, &m, &n, v->maybe_valid ? 0 : 0.05);
                if (r == 0)
                    free(m);
                if (r == EPROTO)
                    break;
                ck_assert_msg(v->maybe_valid && (r == 0 || r == EAGAIN || r == ENOMEM),
                              "%s: recv gave %d", v->name, r);
            }
            if (!v->maybe_valid)
                ck_assert_msg(r == EPROTO, "%s: recv gave %d", v->name, r);
            if (r == EPROTO) {
                /* Broken for good, at both ends. */
                ck_assert_int_eq(cf_pipe_recv(a, &m, &n, 0), EPROTO);
                ck_assert_int_eq(cf_pipe_send(a, "x", 1, 0), EPROTO);
                ck_assert_int_eq(cf_pipe_send(b, "x", 1, 0), EPROTO);
                ck_assert_int_eq(cf_pipe_recv(b, &m, &n, 0), EPROTO);
            }
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        cf_pipe_close(a);
        cf_pipe_close(b);
    }
    close(ready[0]);
    close(ready[1]);
}
END_TEST

/* While the parent streams both ways, the child keeps writing random bytes at random places of
 * both rings: every call returns one of its documented results, and every message delivered
 * before the first EPROTO that the child did not forge is intact. */
START_TEST(pipe_survives_scribbling_during_traffic)
{
    for (int round = 0; round < (int)cf_scaled(40); round++) {
        cf_pipe *a, *b;
        ck_assert_int_eq(cf_pipe_new(CAP, &a, &b), 0);
        pid_t pid = fork();
        if (pid == 0) {
            uint32_t s = (uint32_t)round * 131 + 5;
            unsigned char *map = find_map("cf_pipe");
            sleep_ms((double)(rnd(&s) % 20));
            for (int i = 0; i < 200; i++) {
                uint64_t off = rnd(&s) % (2 * pipe_stride(CAP));
                map[off] = (unsigned char)rnd(&s);
                if (rnd(&s) % 4 == 0)
                    sleep_ms(0.05);
            }
            for (;;)
                pause();
        }
        char out[3000];
        memset(out, 'q', sizeof out);
        uint32_t s = (uint32_t)round;
        for (int i = 0; i < 400; i++) {
            cf_pipe *from = i % 2 ? a : b, *to = i % 2 ? b : a;
            size_t len = rnd(&s) % sizeof out;
            int r = cf_pipe_send(from, out, len, 0.02);
            HOT_ASSERT(r == 0 || r == EPROTO || r == ETIMEDOUT);
            void *m;
            size_t n;
            r = cf_pipe_recv(to, &m, &n, 0.02);
            HOT_ASSERT(r == 0 || r == EPROTO || r == ETIMEDOUT || r == ENOMEM);
            if (r == 0)
                free(m);
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        cf_pipe_close(a);
        cf_pipe_close(b);
    }
}
END_TEST

/* cf_pipe_send with lengths that would wrap the record arithmetic: an error, not SIGSEGV. */
START_TEST(pipe_send_impossible_lengths)
{
    cf_pipe *a, *b;
    ck_assert_int_eq(cf_pipe_new(CAP, &a, &b), 0);
    char x = 0;
    ck_assert_int_eq(cf_pipe_send(a, &x, SIZE_MAX, 0), EMSGSIZE);
    ck_assert_int_eq(cf_pipe_send(a, &x, SIZE_MAX - 7, 0), EMSGSIZE);
    ck_assert_int_eq(cf_pipe_send(a, &x, (size_t)PTRDIFF_MAX + 1, 0), EMSGSIZE);
    ck_assert_int_eq(cf_pipe_send(a, "ok", 2, 0), 0);     /* the pipe is unharmed */
    void *m;
    size_t n;
    ck_assert_int_eq(cf_pipe_recv(b, &m, &n, 1), 0);
    ck_assert_uint_eq(n, 2);
    free(m);
    cf_pipe_close(a);
    cf_pipe_close(b);
}
END_TEST

/* ---- cf_mpqueue ---- */

/* mpqueue.c's shared header, as far as the test needs it: the lock word comes first, the ring
 * is the last member, aligned to 64. */
static cf__bring *mpq_ring(unsigned char *map, size_t cap)
{
    for (size_t off = 64; off < 4096; off += 64) {
        cf__bring *r = (cf__bring *)(map + off);
        if (r->size == 8 + cf__pad8(cap) && atomic_load(&r->tail) == 0 && atomic_load(&r->head) == 0)
            return r;
    }
    return NULL;
}

static _Atomic uint32_t *mpq_lock(unsigned char *map) { return (_Atomic uint32_t *)map; }

/* A process id that is not in use any more. */
static pid_t dead_pid(void)
{
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    return dead;
}

enum { MQ_TAIL_PAST, MQ_LEN_HUGE, MQ_LEN_OVER_USED, MQ_SIZE_ZERO, MQ_RANDOM, MQ_LOCK_DEAD,
       MQ_LOCK_RANDOM, MQ_NVARIANTS };

static void mq_scribble(int v, unsigned char *map, cf__bring *r, uint32_t seed)
{
    uint64_t len;
    switch (v) {
    case MQ_TAIL_PAST:
        atomic_store(&r->tail, r->size + 64);
        break;
    case MQ_LEN_HUGE:
        len = (uint64_t)1 << 60;
        memcpy(r->data, &len, 8);
        atomic_store(&r->tail, 16);
        break;
    case MQ_LEN_OVER_USED:
        len = 100;                      /* within capacity, past the bytes published */
        memcpy(r->data, &len, 8);
        atomic_store(&r->tail, 16);
        break;
    case MQ_SIZE_ZERO:
        r->size = 0;                    /* informative only: the queue must not care */
        break;
    case MQ_RANDOM:
        for (size_t i = 4; i < (size_t)(r->data - map) + 64; i++)
            map[i] = (unsigned char)rnd(&seed);
        break;
    case MQ_LOCK_DEAD:
        /* Held by a process that is gone (as if killed inside a put): taken over. */
        atomic_store(mpq_lock(map), (uint32_t)dead_pid() | 0x80000000u);
        break;
    case MQ_LOCK_RANDOM:
        atomic_store(mpq_lock(map), rnd(&seed));
        break;
    }
}

START_TEST(mpqueue_survives_every_scribble)
{
    bool random = _i == MQ_RANDOM || _i == MQ_LOCK_RANDOM;
    bool corrupt = _i == MQ_TAIL_PAST || _i == MQ_LEN_HUGE || _i == MQ_LEN_OVER_USED;
    for (uint32_t round = 0; round < (random ? 30u : 1u); round++) {
        cf_mpqueue *q = cf_mpqueue_new(128);
        ck_assert_ptr_nonnull(q);
        unsigned char *map = find_map("cf_mpqueue");
        cf__bring *r = mpq_ring(map, 128);
        ck_assert_ptr_nonnull(r);
        pid_t pid = fork();
        if (pid == 0) {
            mq_scribble(_i, map, r, round * 2654435761u + 1);
            _exit(0);
        }
        REAP_OK(pid);
        void *m = NULL;
        size_t n;
        /* A deadline always holds, and once corrupt state is seen it stays EPROTO. */
        int g = cf_mpqueue_get(q, &m, &n, 0.05);
        if (g == 0)
            free(m);
        int p = cf_mpqueue_put(q, "abc", 3, 0.05);
        if (corrupt) {
            ck_assert_msg(g == EPROTO, "variant %d: get gave %d", _i, g);
            ck_assert_int_eq(p, EPROTO);
        } else if (!random) {
            /* Not corrupt from where we stand: the queue works on. */
            ck_assert_msg(g == ETIMEDOUT, "variant %d: get gave %d", _i, g);
            ck_assert_int_eq(p, 0);
            ck_assert_int_eq(cf_mpqueue_get(q, &m, &n, 1), 0);
            ck_assert_uint_eq(n, 3);
            ck_assert_int_eq(memcmp(m, "abc", 3), 0);
            free(m);
        } else {
            ck_assert_msg(g == 0 || g == ETIMEDOUT || g == EPIPE || g == EPROTO, "get gave %d", g);
            ck_assert_msg(p == 0 || p == ETIMEDOUT || p == EPIPE || p == EPROTO, "put gave %d", p);
        }
        if (g == EPROTO) {
            ck_assert_int_eq(cf_mpqueue_get(q, &m, &n, 0), EPROTO);
            ck_assert_int_eq(cf_mpqueue_put(q, "x", 1, 0), EPROTO);
        }
        /* Restore a lock word that names a live stranger, so that close does not wait on it. */
        if (_i == MQ_LOCK_RANDOM && g == ETIMEDOUT && p == ETIMEDOUT)
            atomic_store(mpq_lock(map), 0);
        cf_mpqueue_close(q);
        cf_mpqueue_free(q);
    }
}
END_TEST

/* A lock left held by a dead process and CF_FOREVER: the call takes it over, never waits
 * forever. */
START_TEST(mpqueue_dead_holder_forever)
{
    cf_mpqueue *q = cf_mpqueue_new(128);
    unsigned char *map = find_map("cf_mpqueue");
    atomic_store(mpq_lock(map), (uint32_t)dead_pid());
    ck_assert_int_eq(cf_mpqueue_put(q, "x", 1, CF_FOREVER), 0);
    atomic_store(mpq_lock(map), (uint32_t)dead_pid() | 0x80000000u);
    void *m;
    size_t n;
    ck_assert_int_eq(cf_mpqueue_get(q, &m, &n, CF_FOREVER), 0);
    ck_assert_uint_eq(n, 1);
    free(m);
    cf_mpqueue_free(q);
}
END_TEST

/* A peer stopped while it holds the lock: other processes' calls end at their timeout, and work
 * again once it continues. */
START_TEST(mpqueue_lock_holder_stopped)
{
    cf_mpqueue *q = cf_mpqueue_new(128);
    unsigned char *map = find_map("cf_mpqueue");
    ck_assert_int_eq(cf_mpqueue_put(q, "hi", 2, 0), 0);
    pid_t pid = fork();
    if (pid == 0) {
        uint32_t free_word = 0;          /* take the lock as a put would, then stop */
        if (!atomic_compare_exchange_strong(mpq_lock(map), &free_word, (uint32_t)getpid()))
            _exit(5);
        raise(SIGSTOP);
        atomic_store(mpq_lock(map), 0);
        _exit(0);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, WUNTRACED), pid);
    ck_assert(WIFSTOPPED(st));
    void *m;
    size_t n;
    ck_assert_int_eq(cf_mpqueue_get(q, &m, &n, 0.1), ETIMEDOUT);
    ck_assert_int_eq(cf_mpqueue_put(q, "x", 1, 0.1), ETIMEDOUT);
    ck_assert_int_eq(cf_mpqueue_get(q, &m, &n, 0), EAGAIN);      /* a poll: busy */
    kill(pid, SIGCONT);
    REAP_OK(pid);
    ck_assert_int_eq(cf_mpqueue_get(q, &m, &n, 1), 0);
    ck_assert_uint_eq(n, 2);
    free(m);
    cf_mpqueue_free(q);
}
END_TEST

/* A putter killed at a random instant while a getter sleeps: a message that was committed is
 * always handed to the sleeper, never left in the queue while it sleeps on. */
typedef struct sleeper {
    cf_mpqueue *q;
    atomic_int  done, result;
} sleeper;

static void *sleepy_get(void *arg)
{
    sleeper *sl = arg;
    void *m;
    size_t n;
    int r = cf_mpqueue_get(sl->q, &m, &n, CF_FOREVER);
    if (r == 0)
        free(m);
    atomic_store(&sl->result, r);
    atomic_store(&sl->done, 1);
    return NULL;
}

START_TEST(mpqueue_waker_killed)
{
    uint32_t s = 99;
    int stranded = 0, delivered = 0;
    for (int run = 0; run < (int)cf_scaled(300); run++) {
        cf_mpqueue *q = cf_mpqueue_new(1024);
        cf__bring *r = mpq_ring(find_map("cf_mpqueue"), 1024);
        sleeper sl = { .q = q };
        pthread_t t;
        pthread_create(&t, NULL, sleepy_get, &sl);
        sleep_ms(0.3);                  /* let the getter go to sleep */
        pid_t pid = fork();
        if (pid == 0) {
            cf_mpqueue_put(q, "m", 1, 0);
            for (;;)
                pause();
        }
        sleep_ms((double)(rnd(&s) % 400) / 1000.0);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        /* Committed (tail moved) means the sleeper must get it. */
        if (atomic_load(&r->tail) != 0) {
            WAIT_UNTIL(atomic_load(&sl.done), 2);
            stranded += !atomic_load(&sl.done);
            delivered += atomic_load(&sl.done);
        }
        cf_mpqueue_close(q);            /* ends a getter that had nothing to get */
        pthread_join(t, NULL);
        cf_mpqueue_free(q);
    }
    ck_assert_int_eq(stranded, 0);
    ck_assert_int_gt(delivered, 0);     /* the test did exercise the committed case */
}
END_TEST

/* ---- a process pool task that scribbles over its own worker's pipe ---- */

enum { PT_OUT_TAIL, PT_FAKE_CHUNK, PT_IN_HEAD, PT_RANDOM, PT_TAIL_AND_WAKE, PT_NVARIANTS };

/* Writes 1 to every eventfd of this process: whoever polls one of them wakes up. */
static void ring_every_eventfd(void)
{
    char path[64], link[64];
    for (int fd = 0; fd < 1024; fd++) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n <= 0)
            continue;
        link[n] = 0;
        uint64_t one = 1;
        if (strstr(link, "eventfd") && write(fd, &one, sizeof one) < 0)
            continue;
    }
}
#define POOL_RING (1u << 20)            /* process_pool.h's CF__PP_RING */

static void *scribble_own_pipe(void *arg)
{
    int v = (int)(intptr_t)arg;
    unsigned char *map = find_map("cf_pipe");
    if (!map)
        return (void *)-1;
    uint64_t size = pipe_ring_size(POOL_RING), stride = (cf__bring_bytes(size) + 63) & ~(uint64_t)63;
    cf__bring *in = (cf__bring *)map, *out = (cf__bring *)(map + stride);   /* the worker is end 1 */
    cf__rec h = { CF__REC_FIRST | CF__REC_LAST, 4096, 4096 };
    uint32_t s = 7;
    switch (v) {
    case PT_OUT_TAIL:
        atomic_store(&out->tail, atomic_load(&out->tail) + 3 * size);
        break;
    case PT_FAKE_CHUNK:
        memcpy(out->data + atomic_load(&out->tail) % size, &h, sizeof h);
        atomic_store(&out->tail, atomic_load(&out->tail) + 24);
        break;
    case PT_IN_HEAD:
        atomic_store(&in->head, atomic_load(&in->tail) + 4096);
        break;
    case PT_RANDOM:
        for (uint64_t i = 0; i < 2 * stride; i += 1 + rnd(&s) % 64)
            map[i] = (unsigned char)rnd(&s);
        break;
    case PT_TAIL_AND_WAKE:
        /* Corrupt, and make sure the parent looks before our own result would mend the tail. */
        atomic_store(&out->tail, atomic_load(&out->tail) + 3 * size);
        ring_every_eventfd();
        sleep_ms(10000);
        break;
    }
    return arg;
}

START_TEST(pool_survives_task_scribbling_its_pipe)
{
    cf_pool_opts o = { .max_workers = 1 };
    cf_executor *ex = cf_process_pool_new(&o);
    ck_assert_ptr_nonnull(ex);
    cf_future *f = cf_submit(ex, scribble_own_pipe, (void *)(intptr_t)_i);
    const char *msg = NULL;
    int err = cf_future_error(f, 30, &msg);
    if (_i == PT_TAIL_AND_WAKE) {
        /* The parent read the corrupt ring: the worker was killed for it, its task failed. */
        ck_assert_msg(err == CF_EWORKER && msg && strstr(msg, "corrupt"), "error %d (%s)", err,
                      msg ? msg : "");
    } else {
        /* The worker's own next write mends what it scribbled on its outgoing positions (each
         * end keeps its position privately), unless the parent looked in between; a corrupt
         * incoming head is found by the parent's next send, which then kills the worker and
         * re-sends the task to its replacement. Either way: the task's own result or
         * CF_EWORKER, and the pool goes on. */
        ck_assert_msg(err == 0 || err == CF_EWORKER, "variant %d: error %d (%s)", _i, err, msg ? msg : "");
    }
    cf_future_unref(f);
    /* The pool works on, with a new worker. */
    for (long i = 0; i < 20; i++) {
        cf_future *g = cf_submit(ex, scribble_own_pipe, (void *)(intptr_t)99);   /* no-op variant */
        err = cf_future_error(g, 30, &msg);
        ck_assert_msg(err == 0 || (i == 0 && err == CF_EWORKER),
                      "variant %d, task %ld: error %d (%s)", _i, i, err, msg ? msg : "");
        cf_future_unref(g);
    }
    cf_executor_shutdown(ex, true, false);
    cf_executor_free(ex);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("hostile");
    TCase *tc = tcase_create("pipe");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, pipe_survives_every_scribble, 0, (int)(sizeof variants / sizeof *variants));
    tcase_add_test(tc, pipe_survives_scribbling_during_traffic);
    tcase_add_test(tc, pipe_send_impossible_lengths);
    suite_add_tcase(s, tc);
    tc = tcase_create("mpqueue");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, mpqueue_survives_every_scribble, 0, MQ_NVARIANTS);
    tcase_add_test(tc, mpqueue_dead_holder_forever);
    tcase_add_test(tc, mpqueue_lock_holder_stopped);
    tcase_add_test(tc, mpqueue_waker_killed);
    suite_add_tcase(s, tc);
    tc = tcase_create("process_pool");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, pool_survives_task_scribbling_its_pipe, 0, PT_NVARIANTS);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
