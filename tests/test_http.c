/* SPDX-License-Identifier: MIT */
/* test_http.c: examples/http_hello.c, started as a subprocess on a free port, driven by curl
 * (several URLs on one kept-alive connection) and by 50 client coroutines making keep-alive
 * requests at once, both routes and a 404; then stopped with SIGTERM through its signal handler
 * (exit status 0). */
#include <signal.h>
#include <sys/wait.h>

#include "synctest.h"

#ifndef CF_HTTP_HELLO
#error "CF_HTTP_HELLO: the example's path"
#endif

static char port[16];

static cf_subprocess *start_server(void)
{
    const char *argv[] = { CF_HTTP_HELLO, "0", NULL };
    cf_subprocess_opts o = { .stdout_mode = CF_STDIO_PIPE };
    cf_subprocess *p = cf_subprocess_spawn(argv, &o);
    ck_assert_ptr_nonnull(p);
    const char *line;
    size_t len;
    ck_assert_int_eq(cf_stream_readline(cf_subprocess_stdout(p), 30, &line, &len), 0);
    ck_assert(len > 13 && memcmp(line, "listening on ", 13) == 0);
    snprintf(port, sizeof port, "%.*s", (int)(len - 14), line + 13);
    return p;
}

/* One request on s; the body into body (NUL-terminated). 0 | an error. */
static int request(cf_stream *s, const char *path, char *body, size_t cap, int *code)
{
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    int r = cf_stream_write(s, req, (size_t)n, 30);
    if (r)
        return r;
    const char *line;
    size_t len, clen = 0;
    if ((r = cf_stream_readline(s, 30, &line, &len)))
        return r;
    if (len < 12 || sscanf(line, "HTTP/1.1 %d", code) != 1)
        return EPROTO;
    for (;;) {
        if ((r = cf_stream_readline(s, 30, &line, &len)))
            return r;
        if (len <= 2)
            break;
        if (strncasecmp(line, "Content-Length:", 15) == 0)
            clen = strtoul(line + 15, NULL, 10);
    }
    if (clen >= cap)
        return EMSGSIZE;
    if ((r = cf_stream_read_exactly(s, body, clen, 30)))
        return r;
    body[clen] = 0;
    return 0;
}

static atomic_int good;

static void *client(void *arg)
{
    intptr_t id = (intptr_t)arg;
    cf_stream *s;
    ck_assert_int_eq(cf_tcp_connect("127.0.0.1", port, 30, &s), 0);
    for (int i = 0; i < 10; i++) {
        char body[128];
        int code;
        if (i % 3 == 2) {
            char path[64];
            snprintf(path, sizeof path, "/primes?n=%d", 1000 + (int)id);
            ck_assert_int_eq(request(s, path, body, sizeof body, &code), 0);
            ck_assert_int_eq(code, 200);
            ck_assert(strstr(body, "primes below") != NULL);
        } else {
            ck_assert_int_eq(request(s, "/", body, sizeof body, &code), 0);
            ck_assert_int_eq(code, 200);
            ck_assert_str_eq(body, "Hello, World!\n");
        }
    }
    char body[64];
    int code;
    ck_assert_int_eq(request(s, "/nowhere", body, sizeof body, &code), 0);
    ck_assert_int_eq(code, 404);
    cf_stream_close(s);
    atomic_fetch_add(&good, 1);
    return NULL;
}

START_TEST(serves_curl_and_client_coroutines)
{
    cf_subprocess *srv = start_server();
    if (access("/usr/bin/curl", X_OK) == 0) {
        char u1[64], u2[64];
        snprintf(u1, sizeof u1, "http://127.0.0.1:%s/", port);
        snprintf(u2, sizeof u2, "http://127.0.0.1:%s/primes?n=100000", port);
        const char *argv[] = { "curl", "-s", "--max-time", "30", u1, u2, NULL };
        cf_subprocess_opts o = { .stdout_mode = CF_STDIO_PIPE };
        cf_subprocess *c = cf_subprocess_spawn(argv, &o);
        ck_assert_ptr_nonnull(c);
        cf_bytes out;
        int st;
        ck_assert_int_eq(cf_subprocess_communicate(c, NULL, 0, 60, &out, NULL, &st), 0);
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        const char *want = "Hello, World!\n9592 primes below 100000\n";
        ck_assert_uint_eq(out.len, strlen(want));
        ck_assert(memcmp(out.data, want, out.len) == 0);
        free(out.data);
        cf_subprocess_free(c);
    }
    atomic_store(&good, 0);
    cf_loop *loop = cf_loop_new();
    for (intptr_t i = 0; i < 50; i++)
        cf_future_unref(cf_loop_spawn(loop, client, (void *)i));
    ck_assert_int_eq(cf_loop_run(loop), 0);
    cf_loop_free(loop);
    ck_assert_int_eq(atomic_load(&good), 50);
    ck_assert_int_eq(cf_subprocess_kill(srv, SIGTERM), 0);   /* its handler stops the loop */
    int st;
    ck_assert_int_eq(cf_subprocess_wait(srv, 60, &st), 0);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
    cf_subprocess_free(srv);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("http");
    tcase_set_timeout(tc, 120);
    CF_ADD_TEST(tc, serves_curl_and_client_coroutines);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
