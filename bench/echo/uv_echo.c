/* SPDX-License-Identifier: MIT */
/* uv_echo.c: the echo server on libuv (Debian's libuv1), written the way libuv's own echo
 * examples are: uv_read_start with a per-connection buffer, uv_try_write first, uv_write for
 * what is left. Prints its port, then serves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

typedef struct conn {
    uv_tcp_t tcp;
    char     buf[65536];
} conn;

typedef struct wreq {
    uv_write_t req;
    uv_buf_t   buf;
} wreq;

static void on_close(uv_handle_t *h) { free(h); }

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)suggested;
    conn *c = (conn *)h;
    *b = uv_buf_init(c->buf, sizeof c->buf);
}

static void after_write(uv_write_t *r, int status)
{
    (void)status;
    wreq *w = (wreq *)r;
    free(w->buf.base);
    free(w);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    if (n < 0) {
        uv_close((uv_handle_t *)s, on_close);
        return;
    }
    if (n == 0)
        return;
    uv_buf_t out = uv_buf_init(b->base, (unsigned)n);
    int w = uv_try_write(s, &out, 1);
    if (w == n)
        return;
    if (w < 0)
        w = 0;
    wreq *r = malloc(sizeof *r);
    r->buf = uv_buf_init(malloc((size_t)(n - w)), (unsigned)(n - w));
    memcpy(r->buf.base, b->base + w, (size_t)(n - w));
    uv_write(&r->req, s, &r->buf, 1, after_write);
}

static void on_conn(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    conn *c = malloc(sizeof *c);
    uv_tcp_init(server->loop, &c->tcp);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) == 0) {
        uv_tcp_nodelay(&c->tcp, 1);
        uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
    } else {
        uv_close((uv_handle_t *)&c->tcp, on_close);
    }
}

int main(void)
{
    uv_loop_t *loop = uv_default_loop();
    uv_tcp_t server;
    uv_tcp_init(loop, &server);
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
    if (uv_listen((uv_stream_t *)&server, 128, on_conn))
        return 1;
    int len = sizeof addr;
    uv_tcp_getsockname(&server, (struct sockaddr *)&addr, &len);
    printf("%d\n", ntohs(addr.sin_port));
    fflush(stdout);
    return uv_run(loop, UV_RUN_DEFAULT);
}
