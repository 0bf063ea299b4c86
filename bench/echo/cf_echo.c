/* SPDX-License-Identifier: MIT */
/* cf_echo.c: the echo server on cfutures: a coroutine per connection, cf_stream_read +
 * cf_stream_write, on one loop. Prints its port, then serves. */
#include <cfutures.h>
#include <stdio.h>

static cf_loop *loop;

static void *echo(void *arg)
{
    cf_stream *s = arg;
    char buf[65536];
    for (;;) {
        ssize_t n = cf_stream_read(s, buf, sizeof buf, -1);
        if (n <= 0 || cf_stream_write(s, buf, (size_t)n, -1))
            break;
    }
    cf_stream_close(s);
    return NULL;
}

static void *acceptor(void *arg)
{
    for (;;) {
        cf_stream *s;
        if (cf_listener_accept(arg, -1, &s) == 0)
            cf_future_unref(cf_loop_spawn(loop, echo, s));
    }
    return NULL;
}

int main(void)
{
    cf_listener *l = cf_tcp_listen("127.0.0.1", "0", 0);
    if (!l)
        return 1;
    printf("%d\n", cf_listener_port(l));
    fflush(stdout);
    loop = cf_loop_new();
    cf_future_unref(cf_loop_spawn(loop, acceptor, l));
    return cf_loop_run(loop);
}
