/* SPDX-License-Identifier: MIT */
/* http_hello.c: a small HTTP/1.1 server on the loop, one coroutine per connection, keep-alive.
 *
 *   GET /             "Hello, World!" from memory
 *   GET /primes?n=N   the primes below N, counted by a process pool while the coroutine awaits
 *                     the future (the loop serves other connections meanwhile)
 *
 * Usage: cf_http_hello [PORT]   (0 or none: a free port). It prints "listening on PORT" and
 * serves until SIGINT or SIGTERM, whose handler (a coroutine) stops the loop; cf_loop_free then
 * cancels the connections still open, which close. Try: curl http://127.0.0.1:PORT/primes?n=1000000,
 * or wrk -t2 -c64 -d10s http://127.0.0.1:PORT/. */
#include <cfutures.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "primes.h"

static cf_executor *pool;
static cf_loop *loop;

static const char HELLO[] = "Hello, World!\n";

static void *count_primes(void *arg)       /* runs in a worker process */
{
    return (void *)(uintptr_t)count_range(0, (uint32_t)(uintptr_t)arg);
}

static int respond(cf_stream *s, int code, const char *reason, const char *body, size_t len,
                   bool keep)
{
    char out[1024];                          /* head and body in one write: one syscall */
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n%s\r\n",
                     code, reason, len, keep ? "" : "Connection: close\r\n");
    if ((size_t)n + len <= sizeof out) {
        memcpy(out + n, body, len);
        return cf_stream_write(s, out, (size_t)n + len, 10);
    }
    int r = cf_stream_write(s, out, (size_t)n, 10);
    return r ? r : cf_stream_write(s, body, len, 10);
}

/* One request; false: close the connection. */
static bool serve_one(cf_stream *s)
{
    const char *line;
    size_t len;
    if (cf_stream_readline(s, 30, &line, &len) || len == 0)   /* idle 30 s, or the end */
        return false;
    char method[8] = "", path[256] = "";
    int minor = 1;
    char req[512];
    snprintf(req, sizeof req, "%.*s", (int)len, line);
    if (sscanf(req, "%7s %255s HTTP/1.%d", method, path, &minor) < 2) {
        respond(s, 400, "Bad Request", "bad request\n", 12, false);
        return false;
    }
    bool keep = minor >= 1;
    size_t body = 0;
    for (;;) {                                               /* headers */
        if (cf_stream_readline(s, 30, &line, &len) || len == 0)
            return false;
        if (len <= 2)
            break;
        if (strncasecmp(line, "Connection:", 11) == 0) {
            if (memmem(line, len, "close", 5))
                keep = false;
            else if (memmem(line, len, "eep-alive", 9))
                keep = true;                                 /* HTTP/1.0 asking for it */
        }
        else if (strncasecmp(line, "Content-Length:", 15) == 0)
            body = strtoul(line + 15, NULL, 10);
    }
    while (body > 0) {                                       /* a body we do not use */
        char buf[4096];
        ssize_t n = cf_stream_read(s, buf, body < sizeof buf ? body : sizeof buf, 30);
        if (n <= 0)
            return false;
        body -= (size_t)n;
    }
    int r;
    if (strcmp(path, "/") == 0) {
        r = respond(s, 200, "OK", HELLO, sizeof HELLO - 1, keep);
    } else if (strncmp(path, "/primes?n=", 10) == 0) {
        unsigned long n = strtoul(path + 10, NULL, 10);
        if (n > 50000000)
            n = 50000000;
        cf_future *f = cf_submit(pool, count_primes, (void *)(uintptr_t)n);
        void *v = NULL;
        int e = f ? cf_await(f, 60, &v) : errno;              /* the loop goes on meanwhile */
        cf_future_unref(f);
        char text[64];
        int tl = e ? snprintf(text, sizeof text, "error: %s\n", cf_strerror(e))
                   : snprintf(text, sizeof text, "%lu primes below %lu\n", (unsigned long)(uintptr_t)v, n);
        r = respond(s, e ? 500 : 200, e ? "Internal Server Error" : "OK", text, (size_t)tl, keep);
    } else {
        r = respond(s, 404, "Not Found", "not found\n", 10, keep);
    }
    return r == 0 && keep;
}

static void *connection(void *arg)
{
    cf_stream *s = arg;
    while (serve_one(s))
        ;
    cf_stream_close(s);
    return NULL;
}

static void *acceptor(void *arg)
{
    cf_listener *l = arg;
    for (;;) {
        cf_stream *s;
        int r = cf_listener_accept(l, -1, &s);
        if (r == ECANCELED)
            break;
        if (r)
            continue;                                        /* EMFILE: try the next one */
        cf_future *f = cf_loop_spawn(loop, connection, s);
        if (f)
            cf_future_unref(f);
        else
            cf_stream_close(s);
    }
    return NULL;
}

static void *on_stop(void *arg)
{
    (void)arg;
    cf_loop_stop(loop);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *port = argc > 1 ? argv[1] : "0";
    cf_pool_opts o = { .max_workers = 2 };
    if (!(pool = cf_process_pool_new(&o))) {   /* before any thread of ours: the fork server */
        perror("process pool");
        return 1;
    }
    cf_listener *l = cf_tcp_listen(NULL, port, 0);
    if (!l) {
        fprintf(stderr, "listen: %s\n", cf_strerror(errno));
        return 1;
    }
    loop = cf_loop_new();
    cf_loop_add_signal_handler(loop, SIGINT, on_stop, NULL);
    cf_loop_add_signal_handler(loop, SIGTERM, on_stop, NULL);
    printf("listening on %d\n", cf_listener_port(l));
    fflush(stdout);
    cf_future *a = cf_loop_spawn(loop, acceptor, l);
    int r = cf_loop_run(loop);                 /* EINTR once a handler stopped it */
    cf_future_unref(a);
    cf_loop_free(loop);                        /* cancels the acceptor and open connections */
    cf_listener_close(l);
    cf_executor_free(pool);
    return r == 0 || r == EINTR ? 0 : 1;
}
