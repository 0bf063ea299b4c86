/* SPDX-License-Identifier: MIT */
/* test_stream.c: cf_stream over socketpairs, pipes and regular files: reads from the buffer,
 * read_exactly, readline and read_until (at the limit, at the end, nothing taken on a timeout, a
 * poll or a cancel), writes queued past the high-water mark with the writer suspended while its
 * siblings run, drain and shutdown, EPIPE without SIGPIPE. */
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>

#include "synctest.h"

static void pair(cf_stream **a, cf_stream **b)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_ptr_nonnull(*a = cf_stream_new(sv[0]));
    ck_assert_ptr_nonnull(*b = cf_stream_new(sv[1]));
}

static void put(cf_stream *s, const char *text)
{
    ck_assert_int_eq(cf_stream_write(s, text, strlen(text), 5), 0);
}

START_TEST(errors)
{
    errno = 0;
    ck_assert_ptr_null(cf_stream_new(-1));
    ck_assert_int_eq(errno, EBADF);
    ck_assert_ptr_null(cf_stream_new(12345));
    ck_assert_int_eq(errno, EBADF);
    ck_assert_int_eq(cf_stream_fd(NULL), -1);
    ck_assert_int_eq(cf_stream_set_limit(NULL, 10), EINVAL);
    char buf[4];
    errno = 0;
    ck_assert_int_eq(cf_stream_read(NULL, buf, 4, 0), -1);
    ck_assert_int_eq(errno, EINVAL);
    cf_stream *a, *b;
    pair(&a, &b);
    ck_assert_int_eq(cf_stream_set_limit(a, 0), EINVAL);
    const void *d;
    size_t n;
    ck_assert_int_eq(cf_stream_read_until(a, "x", 0, 0, &d, &n), EINVAL);
    ck_assert_int_eq(cf_stream_read_exactly(a, buf, 4, NAN), EINVAL);
    ck_assert_int_eq(cf_stream_write(a, NULL, 3, 0), EINVAL);
    errno = 0;
    ck_assert_int_eq(cf_stream_read(a, buf, 4, 0), -1);    /* a poll with nothing there */
    ck_assert_int_eq(errno, EAGAIN);
    errno = 0;
    double t0 = now_s();
    ck_assert_int_eq(cf_stream_read(a, buf, 4, 0.01), -1);
    ck_assert_int_eq(errno, ETIMEDOUT);
    ck_assert(now_s() - t0 >= 0.009);
    ck_assert(fcntl(cf_stream_fd(a), F_GETFL) & O_NONBLOCK);
    ck_assert(fcntl(cf_stream_fd(a), F_GETFD) & FD_CLOEXEC);
    cf_stream_close(a);
    cf_stream_close(b);
    cf_stream_close(NULL);
}
END_TEST

START_TEST(lines_and_separators)
{
    cf_stream *a, *b;
    pair(&a, &b);
    put(a, "one\ntwo\nthree");
    const char *line;
    size_t len;
    ck_assert_int_eq(cf_stream_readline(b, 5, &line, &len), 0);
    ck_assert_uint_eq(len, 4);
    ck_assert(memcmp(line, "one\n", 4) == 0);
    put(b, "a write does not move the line");
    ck_assert(memcmp(line, "one\n", 4) == 0);
    ck_assert_int_eq(cf_stream_readline(b, 5, &line, &len), 0);
    ck_assert(len == 4 && memcmp(line, "two\n", 4) == 0);
    ck_assert_int_eq(cf_stream_readline(b, 0.01, &line, &len), ETIMEDOUT);   /* "three": no '\n' */
    ck_assert_int_eq(cf_stream_readline(b, 0, &line, &len), EAGAIN);
    put(a, " and more\r\n\r\nbody");
    const void *d;
    ck_assert_int_eq(cf_stream_read_until(b, "\r\n\r\n", 4, 5, &d, &len), 0);
    ck_assert_uint_eq(len, strlen("three and more\r\n\r\n"));    /* nothing was lost before */
    ck_assert(memcmp(d, "three and more\r\n\r\n", len) == 0);
    char buf[16];
    ck_assert_int_eq(cf_stream_read_exactly(b, buf, 8, 0.01), ETIMEDOUT); /* "body" is 4 */
    ck_assert_int_eq(cf_stream_read_exactly(b, buf, 2, 5), 0);
    ck_assert(memcmp(buf, "bo", 2) == 0);
    ck_assert_int_eq(cf_stream_shutdown(a, 5), 0);                 /* the end of the stream */
    ck_assert_int_eq(cf_stream_write(a, "x", 1, 0), EPIPE);         /* after shutdown */
    ck_assert_int_eq(cf_stream_read_until(b, "\n", 1, 5, &d, &len), ENODATA);
    ck_assert_int_eq(cf_stream_read_exactly(b, buf, 3, 5), ENODATA); /* nothing taken */
    ck_assert_int_eq(cf_stream_readline(b, 5, &line, &len), 0);    /* the rest */
    ck_assert(len == 2 && memcmp(line, "dy", 2) == 0);
    ck_assert_int_eq(cf_stream_readline(b, 5, &line, &len), 0);
    ck_assert_uint_eq(len, 0);                                      /* the end */
    ck_assert_int_eq(cf_stream_read(b, buf, sizeof buf, 5), 0);
    cf_stream_close(a);
    cf_stream_close(b);
}
END_TEST

START_TEST(limits)
{
    cf_stream *a, *b;
    pair(&a, &b);
    ck_assert_int_eq(cf_stream_set_limit(b, 8), 0);
    put(a, "1234567\n");                   /* 8 bytes, separator included: at the limit */
    const char *line;
    size_t len;
    ck_assert_int_eq(cf_stream_readline(b, 5, &line, &len), 0);
    ck_assert_uint_eq(len, 8);
    put(a, "12345678\n");                  /* 9: over it */
    ck_assert_int_eq(cf_stream_readline(b, 5, &line, &len), EMSGSIZE);
    char buf[16];
    ck_assert_int_eq(cf_stream_read_exactly(b, buf, 9, 5), 0);      /* nothing was taken */
    ck_assert(memcmp(buf, "12345678\n", 9) == 0);
    /* EMSGSIZE comes as soon as the limit is buffered, not at the timeout. */
    put(a, "abcdefgh");
    double t0 = now_s();
    ck_assert_int_eq(cf_stream_readline(b, 10, &line, &len), EMSGSIZE);
    ck_assert(now_s() - t0 < 5);
    /* A separator straddling the limit does not fit either. */
    cf_stream_close(a);
    cf_stream_close(b);
    pair(&a, &b);
    cf_stream_set_limit(b, 6);
    put(a, "abcde\r\n");
    const void *d;
    ck_assert_int_eq(cf_stream_read_until(b, "\r\n", 2, 5, &d, &len), EMSGSIZE);
    ck_assert_int_eq(cf_stream_set_limit(b, 7), 0);
    ck_assert_int_eq(cf_stream_read_until(b, "\r\n", 2, 5, &d, &len), 0);
    ck_assert_uint_eq(len, 7);
    cf_stream_close(a);
    cf_stream_close(b);
}
END_TEST

/* A coroutine cancelled in readline: ECANCELED, and the bytes stay for the next read. */
typedef struct cancel_ctx {
    cf_stream *a, *b;
    int        r;
} cancel_ctx;

static void *reads_a_line(void *p)
{
    cancel_ctx *c = p;
    const char *line;
    size_t len;
    c->r = cf_stream_readline(c->b, -1, &line, &len);
    return NULL;
}

static void *cancel_main(void *p)
{
    cancel_ctx *c = p;
    cf_future *f = cf_loop_spawn(cf_loop_current(), reads_a_line, c);
    put(c->a, "partial");
    for (int i = 0; i < 5; i++)
        cf_yield();
    cf_sleep(0.01);                       /* it read "partial" and waits for the rest */
    ck_assert(cf_future_cancel(f));
    cf_await(f, -1, NULL);
    ck_assert_int_eq(c->r, ECANCELED);
    put(c->a, " line\n");
    const char *line;
    size_t len;
    ck_assert_int_eq(cf_stream_readline(c->b, 5, &line, &len), 0);
    ck_assert(len == 13 && memcmp(line, "partial line\n", 13) == 0);
    cf_future_unref(f);
    return NULL;
}

START_TEST(cancelled_read_takes_nothing)
{
    cancel_ctx c;
    pair(&c.a, &c.b);
    run_coro(cancel_main, &c);
    cf_stream_close(c.a);
    cf_stream_close(c.b);
}
END_TEST

/* 16 MiB through a slow reader (another thread): the writer coroutine is suspended on the
 * high-water mark while a sibling keeps running, and every byte arrives in order. */
enum { BIG = 16 << 20 };

typedef struct big_ctx {
    cf_stream  *w, *r;
    atomic_long ticks;
    atomic_bool done;
    long        got;
    bool        ok;
} big_ctx;

static void *slow_reader(void *p)
{
    big_ctx *c = p;
    unsigned char buf[65536];
    c->ok = true;
    for (;;) {
        ssize_t n = cf_stream_read(c->r, buf, sizeof buf, 30);
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != (unsigned char)((c->got + i) * 7))
                c->ok = false;
        c->got += n;
        if ((c->got >> 16) % 16 == 0)
            sleep_ms(1);
    }
    return NULL;
}

static void *big_writer(void *p)
{
    big_ctx *c = p;
    unsigned char *chunk = malloc(1 << 20);
    for (long off = 0; off < BIG; off += 1 << 20) {
        for (long i = 0; i < (1 << 20); i++)
            chunk[i] = (unsigned char)((off + i) * 7);
        ck_assert_int_eq(cf_stream_write(c->w, chunk, 1 << 20, 30), 0);
    }
    free(chunk);
    ck_assert_int_eq(cf_stream_shutdown(c->w, 30), 0);
    atomic_store(&c->done, true);
    return NULL;
}

static void *big_ticker(void *p)
{
    big_ctx *c = p;
    while (!atomic_load(&c->done)) {
        atomic_fetch_add(&c->ticks, 1);
        cf_sleep(0.001);
    }
    return NULL;
}

START_TEST(sixteen_mib_through_a_slow_reader)
{
    big_ctx c = { 0 };
    pair(&c.w, &c.r);
    pthread_t t;
    pthread_create(&t, NULL, slow_reader, &c);
    cf_loop *loop = cf_loop_new();
    cf_future *w = cf_loop_spawn(loop, big_writer, &c), *k = cf_loop_spawn(loop, big_ticker, &c);
    ck_assert_int_eq(cf_loop_run(loop), 0);
    pthread_join(t, NULL);
    ck_assert_int_eq(c.got, BIG);
    ck_assert(c.ok);
    ck_assert_int_gt(atomic_load(&c.ticks), 5);      /* the sibling ran meanwhile */
    cf_future_unref(w);
    cf_future_unref(k);
    cf_loop_free(loop);
    cf_stream_close(c.w);
    cf_stream_close(c.r);
}
END_TEST

static volatile sig_atomic_t sigpipes;
static void on_sigpipe(int s) { (void)s; sigpipes++; }

START_TEST(epipe_never_sigpipe)
{
    struct sigaction sa = { .sa_handler = on_sigpipe }, old;
    sigaction(SIGPIPE, &sa, &old);
    cf_stream *a, *b;
    pair(&a, &b);
    cf_stream_close(b);
    int r = cf_stream_write(a, "x", 1, 5);
    if (r == 0)                                   /* the first may still be accepted */
        r = cf_stream_drain(a, 5);
    if (r == 0)
        r = cf_stream_write(a, "y", 1, 5);
    ck_assert_int_eq(r, EPIPE);
    ck_assert_int_eq(cf_stream_write(a, "z", 1, 5), EPIPE);     /* sticky */
    cf_stream_close(a);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    cf_stream *w = cf_stream_new(p[1]);
    close(p[0]);
    ck_assert_int_eq(cf_stream_write(w, "x", 1, 5), EPIPE);
    cf_stream_close(w);
    ck_assert_int_eq(sigpipes, 0);
    /* A SIGPIPE that was pending before stays pending, the one write raised is consumed. */
    sigset_t set, prev, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &prev);
    raise(SIGPIPE);
    ck_assert_int_eq(pipe(p), 0);
    w = cf_stream_new(p[1]);
    close(p[0]);
    ck_assert_int_eq(cf_stream_write(w, "x", 1, 5), EPIPE);
    sigpending(&pending);
    ck_assert(sigismember(&pending, SIGPIPE));
    pthread_sigmask(SIG_SETMASK, &prev, NULL);       /* delivered now: the one raised above */
    ck_assert_int_eq(sigpipes, 1);
    cf_stream_close(w);
    sigaction(SIGPIPE, &old, NULL);
}
END_TEST

START_TEST(pipes_queue_and_drain)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    cf_stream *r = cf_stream_new(p[0]), *w = cf_stream_new(p[1]);
    /* 200 KiB into a 64 KiB pipe with timeout 0: taken, queued over the mark: EAGAIN. */
    static char big[200 * 1024];
    memset(big, 'q', sizeof big);
    ck_assert_int_eq(cf_stream_write(w, big, sizeof big, 0), EAGAIN);
    ck_assert_int_eq(cf_stream_drain(w, 0), EAGAIN);
    ck_assert_int_eq(cf_stream_drain(w, 0.01), ETIMEDOUT);
    static char in[200 * 1024];
    ck_assert_int_eq(cf_stream_read_exactly(r, in, 1000, 5), 0);  /* room now */
    ck_assert_int_eq(cf_stream_shutdown(w, 0.01), ETIMEDOUT);     /* still not all out */
    size_t got = 1000;
    while (got < sizeof big) {
        ssize_t n = cf_stream_read(r, in, sizeof in, 5);
        ck_assert_int_gt(n, 0);
        got += (size_t)n;
        if (cf_stream_drain(w, 0) == 0)
            break;
    }
    ck_assert_int_eq(cf_stream_shutdown(w, 5), 0);
    ck_assert_int_eq(cf_stream_fd(w), -1);                        /* a pipe's end is closed */
    while (cf_stream_read(r, in, sizeof in, 5) > 0)
        ;
    cf_stream_close(w);
    cf_stream_close(r);
}
END_TEST

START_TEST(regular_file_never_waits)
{
    char path[] = "/tmp/cf_stream_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "first\nsecond\n", 13), 13);
    lseek(fd, 0, SEEK_SET);
    cf_stream *s = cf_stream_new(fd);
    const char *line;
    size_t len;
    ck_assert_int_eq(cf_stream_readline(s, 0, &line, &len), 0);
    ck_assert(len == 6 && memcmp(line, "first\n", 6) == 0);
    ck_assert_int_eq(cf_stream_readline(s, 0, &line, &len), 0);
    ck_assert_int_eq(cf_stream_readline(s, 0, &line, &len), 0);
    ck_assert_uint_eq(len, 0);
    cf_stream_close(s);
    unlink(path);
}
END_TEST

/* A stream registered with one loop's epoll moves on: to a thread, to a second loop while the
 * first is still alive (a one-shot wait there), to a new loop once the first is freed (its
 * registration went with it); and it is closed from another thread while its loop runs. */
typedef struct move_ctx {
    cf_stream *a, *b;
    char       want;
} move_ctx;

static void *read_one(void *p)
{
    move_ctx *c = p;
    char ch = 0;
    ck_assert_int_eq(cf_stream_read(c->b, &ch, 1, 10), 1);
    ck_assert_int_eq(ch, c->want);
    return NULL;
}

static void *send_later(void *p)
{
    move_ctx *c = p;
    sleep_ms(20);
    ck_assert_int_eq(cf_stream_write(c->a, &c->want, 1, 5), 0);
    return NULL;
}

static void read_on_loop(cf_loop *loop, move_ctx *c, char want)
{
    c->want = want;
    pthread_t t;
    pthread_create(&t, NULL, send_later, c);       /* it waits, then the byte comes */
    cf_future *f = cf_loop_spawn(loop, read_one, c);
    ck_assert_int_eq(cf_loop_run_until_complete(loop, f, NULL), 0);
    cf_future_unref(f);
    pthread_join(t, NULL);
}

typedef struct run_arg {
    cf_loop   *loop;
    cf_future *f;
} run_arg;

static void *run_until(void *p)
{
    run_arg *a = p;
    ck_assert_int_eq(cf_loop_run_until_complete(a->loop, a->f, NULL), 0);
    return NULL;
}

static void *idle_coro(void *p)
{
    cf_sleep(*(double *)p);
    return NULL;
}

START_TEST(a_stream_moves_between_loops_and_threads)
{
    move_ctx c;
    pair(&c.a, &c.b);
    cf_loop *one = cf_loop_new(), *two = cf_loop_new();
    read_on_loop(one, &c, 'x');                     /* registered with one */
    read_on_loop(two, &c, 'y');                     /* one is alive: a one-shot wait on two */
    c.want = 'z';
    pthread_t t;
    pthread_create(&t, NULL, send_later, &c);
    read_one(&c);                                   /* a plain thread: poll */
    pthread_join(t, NULL);
    cf_loop_free(one);                              /* detaches the stream */
    read_on_loop(two, &c, 'w');                     /* now registered with two */
    /* Closed from this thread while two runs (on another thread) and its peer writes. */
    double nap = 0.1;
    run_arg ra = { two, cf_loop_spawn(two, idle_coro, &nap) };
    pthread_t runner;
    pthread_create(&runner, NULL, run_until, &ra);
    sleep_ms(10);
    ck_assert_int_eq(cf_stream_write(c.a, "late", 4, 1), 0);   /* an edge for b's watch */
    cf_stream_close(c.b);                                       /* while two may deliver it */
    pthread_join(runner, NULL);
    cf_future_unref(ra.f);
    cf_loop_free(two);
    cf_stream_close(c.a);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("stream");
    TCase *tc = tcase_create("stream");
    tcase_set_timeout(tc, 60);
    CF_ADD_TEST(tc, errors);
    CF_ADD_TEST(tc, lines_and_separators);
    CF_ADD_TEST(tc, limits);
    CF_ADD_TEST(tc, cancelled_read_takes_nothing);
    CF_ADD_TEST(tc, sixteen_mib_through_a_slow_reader);
    CF_ADD_TEST(tc, epipe_never_sigpipe);
    CF_ADD_TEST(tc, pipes_queue_and_drain);
    CF_ADD_TEST(tc, regular_file_never_waits);
    CF_ADD_TEST(tc, a_stream_moves_between_loops_and_threads);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
