/* SPDX-License-Identifier: MIT */
/* test_net.c: TCP (127.0.0.1 and ::1) and Unix-domain listeners and connections, name
 * resolution of localhost and numeric addresses only (no traffic leaves the machine), the error
 * codes (ECONNREFUSED, EADDRINUSE, ENAMETOOLONG, EMFILE on accept with the listener still
 * working, CF_EAI codes), and 200 client coroutines x 50 round trips against servers on the
 * same loop and on another thread's loop, every byte checked. */
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "synctest.h"

static char port_of(cf_listener *l, char *buf)
{
    snprintf(buf, 16, "%d", cf_listener_port(l));
    return 0;
}

START_TEST(errors_and_resolution)
{
    cf_stream *s;
    errno = 0;
    ck_assert_ptr_null(cf_tcp_listen(NULL, NULL, 0));
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(cf_tcp_connect("127.0.0.1", NULL, 1, &s), EINVAL);
    ck_assert_int_eq(cf_listener_accept(NULL, 0, &s), EINVAL);
    ck_assert_int_eq(cf_listener_port(NULL), -1);
    cf_listener_close(NULL);
    struct addrinfo *res;
    struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM };
    ck_assert_int_eq(cf_getaddrinfo("localhost", "80", &hints, 10, &res), 0);
    ck_assert_int_eq(res->ai_family, AF_INET);
    ck_assert_int_eq(ntohs(((struct sockaddr_in *)res->ai_addr)->sin_port), 80);
    freeaddrinfo(res);
    int r = cf_getaddrinfo("127.0.0.1", "no-such-service-here", &hints, 10, &res);
    ck_assert_int_gt(r, CF_EAI_BASE);
    ck_assert_str_eq(cf_strerror(r), gai_strerror(CF_EAI_BASE - r));
    ck_assert_int_eq(cf_getaddrinfo(NULL, NULL, NULL, 1, &res), EINVAL);
    r = cf_getaddrinfo("127.0.0.1", "80", &hints, 0, &res);      /* a poll: at once or EAGAIN */
    ck_assert(r == 0 || r == EAGAIN);
    if (r == 0)
        freeaddrinfo(res);
    /* ECONNREFUSED: a port that was just free. */
    cf_listener *l = cf_tcp_listen("127.0.0.1", "0", 0);
    ck_assert_ptr_nonnull(l);
    char port[16];
    port_of(l, port);
    /* EADDRINUSE: the same port while it listens. */
    errno = 0;
    ck_assert_ptr_null(cf_tcp_listen("127.0.0.1", port, 0));
    ck_assert_int_eq(errno, EADDRINUSE);
    cf_listener_close(l);
    ck_assert_int_eq(cf_tcp_connect("127.0.0.1", port, 5, &s), ECONNREFUSED);
    ck_assert_int_eq(cf_listener_accept(l = cf_tcp_listen("127.0.0.1", "0", 0), 0, &s), EAGAIN);
    ck_assert_int_eq(cf_listener_accept(l, 0.01, &s), ETIMEDOUT);
    cf_listener_close(l);
}
END_TEST

static void echo_once(cf_listener *l, const char *host)
{
    char port[16];
    port_of(l, port);
    cf_stream *c, *srv;
    ck_assert_int_eq(cf_tcp_connect(host, port, 5, &c), 0);
    ck_assert_int_eq(cf_listener_accept(l, 5, &srv), 0);
    ck_assert_int_eq(cf_stream_write(c, "ping\n", 5, 5), 0);
    const char *line;
    size_t len;
    ck_assert_int_eq(cf_stream_readline(srv, 5, &line, &len), 0);
    ck_assert(len == 5 && memcmp(line, "ping\n", 5) == 0);
    ck_assert_int_eq(cf_stream_write(srv, "pong\n", 5, 5), 0);
    ck_assert_int_eq(cf_stream_readline(c, 5, &line, &len), 0);
    ck_assert(len == 5 && memcmp(line, "pong\n", 5) == 0);
    cf_stream_close(c);
    char b;
    ck_assert_int_eq(cf_stream_read(srv, &b, 1, 5), 0);    /* the client is gone: the end */
    cf_stream_close(srv);
}

START_TEST(tcp_v4_v6_and_dual_stack)
{
    cf_listener *l = cf_tcp_listen("127.0.0.1", "0", 0);
    ck_assert_int_gt(cf_listener_port(l), 0);
    echo_once(l, "127.0.0.1");
    echo_once(l, "localhost");            /* tries each address: ::1 may refuse, 127.0.0.1 answers */
    cf_listener_close(l);
    l = cf_tcp_listen("::1", "0", 0);
    if (l) {                              /* a machine without IPv6 cannot */
        echo_once(l, "::1");
        cf_listener_close(l);
    }
    l = cf_tcp_listen(NULL, "0", 0);       /* every interface, both families */
    ck_assert_ptr_nonnull(l);
    echo_once(l, "127.0.0.1");
    cf_listener_close(l);
}
END_TEST

START_TEST(unix_sockets)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/cf_test_%d.sock", (int)getpid());
    unlink(path);
    cf_listener *l = cf_unix_listen(path, 0);
    ck_assert_ptr_nonnull(l);
    ck_assert_int_eq(cf_listener_port(l), -1);
    errno = 0;
    ck_assert_ptr_null(cf_unix_listen(path, 0));            /* it exists: never replaced */
    ck_assert_int_eq(errno, EADDRINUSE);
    cf_stream *c, *s;
    ck_assert_int_eq(cf_unix_connect(path, 5, &c), 0);
    ck_assert_int_eq(cf_listener_accept(l, 5, &s), 0);
    ck_assert_int_eq(cf_stream_write(c, "hi", 2, 5), 0);
    char buf[2];
    ck_assert_int_eq(cf_stream_read_exactly(s, buf, 2, 5), 0);
    cf_stream_close(c);
    cf_stream_close(s);
    cf_listener_close(l);
    ck_assert_int_ne(access(path, F_OK), 0);                 /* removed with the listener */
    ck_assert_int_eq(cf_unix_connect(path, 1, &c), ENOENT);
    char longpath[200];
    memset(longpath, 'x', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = 0;
    errno = 0;
    ck_assert_ptr_null(cf_unix_listen(longpath, 0));
    ck_assert_int_eq(errno, ENAMETOOLONG);
    ck_assert_int_eq(cf_unix_connect(longpath, 1, &c), ENAMETOOLONG);
    /* A file that is not ours stays. */
    FILE *f = fopen(path, "w");
    fclose(f);
    ck_assert_ptr_null(cf_unix_listen(path, 0));
    ck_assert_int_eq(access(path, F_OK), 0);
    unlink(path);
}
END_TEST

START_TEST(emfile_on_accept_keeps_the_listener)
{
    cf_listener *l = cf_tcp_listen("127.0.0.1", "0", 0);
    char port[16];
    port_of(l, port);
    pid_t pid = fork();
    if (pid == 0) {                        /* two plain clients, 300 ms apart */
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)),
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int a = socket(AF_INET, SOCK_STREAM, 0), b = socket(AF_INET, SOCK_STREAM, 0);
        int ok = connect(a, (struct sockaddr *)&sin, sizeof sin) == 0;
        sleep_ms(300);
        ok = ok && connect(b, (struct sockaddr *)&sin, sizeof sin) == 0;
        sleep_ms(300);
        _exit(ok ? 0 : 1);
    }
    /* Use up the descriptors. */
    struct rlimit old, low;
    getrlimit(RLIMIT_NOFILE, &old);
    int fds[4096], n = 0;
    low = old;
    low.rlim_cur = (rlim_t)count_fds() + 8;
    setrlimit(RLIMIT_NOFILE, &low);
    int fd;
    while (n < 4096 && (fd = dup(0)) >= 0)
        fds[n++] = fd;
    cf_stream *s;
    ck_assert_int_eq(cf_listener_accept(l, 5, &s), EMFILE);
    while (n > 0)
        close(fds[--n]);
    setrlimit(RLIMIT_NOFILE, &old);
    ck_assert_int_eq(cf_listener_accept(l, 30, &s), 0);     /* the second client: it works */
    cf_stream_close(s);
    REAP_OK(pid);
    cf_listener_close(l);
}
END_TEST

/* 200 client coroutines x 50 round trips against a server (a coroutine per connection). */
enum { CLIENTS = 200, TRIPS = 50, MSG = 100 };

typedef struct srv_ctx {
    cf_listener *l;
    int          conns;
    atomic_long  served;
} srv_ctx;

static void *serve_conn(void *p)
{
    cf_stream *s = p;
    char buf[MSG];
    for (;;) {
        int r = cf_stream_read_exactly(s, buf, MSG, 30);
        if (r)
            break;
        if (cf_stream_write(s, buf, MSG, 30))
            break;
    }
    cf_stream_close(s);
    return NULL;
}

static void *acceptor(void *p)
{
    srv_ctx *c = p;
    for (int i = 0; i < c->conns; i++) {
        cf_stream *s;
        ck_assert_int_eq(cf_listener_accept(c->l, 30, &s), 0);
        cf_future_unref(cf_loop_spawn(cf_loop_current(), serve_conn, s));
    }
    return NULL;
}

typedef struct client_arg {
    const char *port;
    int         id;
    atomic_long *ok;
} client_arg;

static void *client(void *p)
{
    client_arg *a = p;
    cf_stream *s;
    ck_assert_int_eq(cf_tcp_connect("127.0.0.1", a->port, 30, &s), 0);
    char out[MSG], in[MSG];
    for (int t = 0; t < TRIPS; t++) {
        for (int i = 0; i < MSG; i++)
            out[i] = (char)(a->id * 31 + t * 7 + i);
        ck_assert_int_eq(cf_stream_write(s, out, MSG, 30), 0);
        ck_assert_int_eq(cf_stream_read_exactly(s, in, MSG, 30), 0);
        ck_assert(memcmp(in, out, MSG) == 0);
        atomic_fetch_add(a->ok, 1);
    }
    cf_stream_close(s);
    return NULL;
}

static void *run_server_loop(void *p)
{
    srv_ctx *c = p;
    cf_loop *loop = cf_loop_new();
    cf_future *f = cf_loop_spawn(loop, acceptor, c);
    ck_assert_int_eq(cf_loop_run(loop), 0);
    cf_future_unref(f);
    cf_loop_free(loop);
    return NULL;
}

static void many_clients(bool same_loop)
{
    srv_ctx c = { .l = cf_tcp_listen("127.0.0.1", "0", 0), .conns = CLIENTS };
    char port[16];
    port_of(c.l, port);
    atomic_long ok = 0;
    pthread_t t;
    if (!same_loop)
        pthread_create(&t, NULL, run_server_loop, &c);
    cf_loop *loop = cf_loop_new();
    if (same_loop)
        cf_future_unref(cf_loop_spawn(loop, acceptor, &c));
    static client_arg args[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        args[i] = (client_arg){ port, i, &ok };
        cf_future_unref(cf_loop_spawn(loop, client, &args[i]));
    }
    ck_assert_int_eq(cf_loop_run(loop), 0);
    if (!same_loop)
        pthread_join(t, NULL);
    ck_assert_int_eq(atomic_load(&ok), (long)CLIENTS * TRIPS);
    cf_loop_free(loop);
    cf_listener_close(c.l);
}

START_TEST(clients_and_server_on_one_loop) { many_clients(true); }
END_TEST

START_TEST(clients_and_server_on_two_loops) { many_clients(false); }
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("net");
    tcase_set_timeout(tc, 60);
    CF_ADD_TEST(tc, errors_and_resolution);
    CF_ADD_TEST(tc, tcp_v4_v6_and_dual_stack);
    CF_ADD_TEST(tc, unix_sockets);
    CF_ADD_TEST(tc, emfile_on_accept_keeps_the_listener);
    CF_ADD_TEST(tc, clients_and_server_on_one_loop);
    CF_ADD_TEST(tc, clients_and_server_on_two_loops);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
