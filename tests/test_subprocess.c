/* SPDX-License-Identifier: MIT */
/* test_subprocess.c: cf_subprocess: spawn errors (ENOENT, EACCES, EINVAL), pipes as streams,
 * exit statuses and signals, wait's timeouts and its remembered status, communicate with 4 MiB
 * through cat in a coroutine and in a thread, stderr into stdout, /dev/null, envp's PATH, cwd,
 * 100 concurrent subprocesses, and no zombie left by free. */
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "synctest.h"

static cf_subprocess *spawn_piped(const char *const argv[], int in, int out, int err)
{
    cf_subprocess_opts o = { .stdin_mode = in, .stdout_mode = out, .stderr_mode = err };
    cf_subprocess *p = cf_subprocess_spawn(argv, &o);
    ck_assert_msg(p != NULL, "spawn %s: %s", argv[0], cf_strerror(errno));
    return p;
}

START_TEST(spawn_errors)
{
    errno = 0;
    ck_assert_ptr_null(cf_subprocess_spawn(NULL, NULL));
    ck_assert_int_eq(errno, EINVAL);
    const char *none[] = { NULL };
    ck_assert_ptr_null(cf_subprocess_spawn(none, NULL));
    const char *argv[] = { "true", NULL };
    cf_subprocess_opts bad = { .stdin_mode = CF_STDIO_STDOUT };   /* stderr only */
    errno = 0;
    ck_assert_ptr_null(cf_subprocess_spawn(argv, &bad));
    ck_assert_int_eq(errno, EINVAL);
    cf_subprocess_opts garbage = CF_SUBPROCESS_OPTS_INIT;   /* the reserved tail must be zero */
    garbage.cf__reserved[3] = 1;
    errno = 0;
    ck_assert_ptr_null(cf_subprocess_spawn(argv, &garbage));
    ck_assert_int_eq(errno, EINVAL);
    const char *missing[] = { "cf-no-such-program", NULL };
    errno = 0;
    ck_assert_ptr_null(cf_subprocess_spawn(missing, NULL));
    ck_assert_int_eq(errno, ENOENT);
    const char *missing_path[] = { "/nonexistent/cf-prog", NULL };
    errno = 0;
    ck_assert_ptr_null(cf_subprocess_spawn(missing_path, NULL));
    ck_assert_int_eq(errno, ENOENT);
    char path[] = "/tmp/cf_noexec_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    chmod(path, 0644);
    const char *noexec[] = { path, NULL };
    if (geteuid() != 0 || access(path, X_OK) != 0) {   /* root may exec anything marked +x only */
        errno = 0;
        ck_assert_ptr_null(cf_subprocess_spawn(noexec, NULL));
        ck_assert_int_eq(errno, EACCES);
    }
    unlink(path);
    ck_assert_int_eq(cf_subprocess_wait(NULL, 0, NULL), EINVAL);
    ck_assert_int_eq(cf_subprocess_kill(NULL, 9), EINVAL);
    ck_assert_int_eq(cf_subprocess_pid(NULL), -1);
    ck_assert_ptr_null(cf_subprocess_stdout(NULL));
    cf_subprocess_free(NULL);
}
END_TEST

START_TEST(statuses_signals_and_waits)
{
    const char *exit3[] = { "sh", "-c", "exit 3", NULL };
    cf_subprocess *p = cf_subprocess_spawn(exit3, NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_null(cf_subprocess_stdout(p));            /* inherited: no stream */
    int st;
    ck_assert_int_eq(cf_subprocess_wait(p, 10, &st), 0);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 3);
    st = 0;
    ck_assert_int_eq(cf_subprocess_wait(p, 0, &st), 0);      /* remembered */
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 3);
    ck_assert_int_eq(cf_subprocess_kill(p, SIGTERM), ESRCH); /* reaped */
    cf_subprocess_free(p);

    const char *term[] = { "sh", "-c", "kill -TERM $$", NULL };
    p = cf_subprocess_spawn(term, NULL);
    ck_assert_int_eq(cf_subprocess_wait(p, 10, &st), 0);
    ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
    cf_subprocess_free(p);

    const char *sleeper[] = { "sleep", "30", NULL };
    p = cf_subprocess_spawn(sleeper, NULL);
    ck_assert_int_eq(cf_subprocess_wait(p, 0, &st), EAGAIN);
    ck_assert_int_eq(cf_subprocess_wait(p, 0.05, &st), ETIMEDOUT);
    ck_assert_int_eq(cf_subprocess_kill(p, 0), 0);
    ck_assert_int_eq(cf_subprocess_kill(p, 99999), EINVAL);
    ck_assert_int_eq(cf_subprocess_kill(p, SIGKILL), 0);
    ck_assert_int_eq(cf_subprocess_wait(p, 10, &st), 0);
    ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    cf_subprocess_free(p);

    /* free kills and reaps a child still running: no zombie. */
    p = cf_subprocess_spawn(sleeper, NULL);
    pid_t pid = cf_subprocess_pid(p);
    cf_subprocess_free(p);
    ck_assert_int_eq(kill(pid, 0), -1);
    ck_assert_int_eq(errno, ESRCH);
}
END_TEST

START_TEST(pipes_as_streams)
{
    const char *both[] = { "sh", "-c", "echo out; echo err >&2; read x; echo got $x", NULL };
    cf_subprocess *p = spawn_piped(both, CF_STDIO_PIPE, CF_STDIO_PIPE, CF_STDIO_PIPE);
    const char *line;
    size_t len;
    ck_assert_int_eq(cf_stream_readline(cf_subprocess_stdout(p), 10, &line, &len), 0);
    ck_assert(len == 4 && memcmp(line, "out\n", 4) == 0);
    ck_assert_int_eq(cf_stream_readline(cf_subprocess_stderr(p), 10, &line, &len), 0);
    ck_assert(len == 4 && memcmp(line, "err\n", 4) == 0);
    ck_assert_int_eq(cf_stream_write(cf_subprocess_stdin(p), "it\n", 3, 10), 0);
    ck_assert_int_eq(cf_stream_readline(cf_subprocess_stdout(p), 10, &line, &len), 0);
    ck_assert(len == 7 && memcmp(line, "got it\n", 7) == 0);
    int st;
    ck_assert_int_eq(cf_subprocess_wait(p, 10, &st), 0);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    cf_subprocess_free(p);

    /* stderr into stdout; /dev/null in; envp's PATH; cwd. */
    cf_bytes out, err;
    p = spawn_piped(both, CF_STDIO_DEVNULL, CF_STDIO_PIPE, CF_STDIO_STDOUT);
    ck_assert_int_eq(cf_subprocess_communicate(p, NULL, 0, 10, &out, &err, &st), 0);
    ck_assert_uint_eq(out.len, strlen("out\nerr\ngot\n"));
    ck_assert(memcmp(out.data, "out\nerr\ngot\n", out.len) == 0);
    ck_assert_ptr_null(err.data);                           /* not piped */
    free(out.data);
    cf_subprocess_free(p);
    const char *pwd[] = { "pwd", NULL };
    const char *env[] = { "PATH=/bin:/usr/bin", "CF_X=1", NULL };
    cf_subprocess_opts o = { .envp = env, .cwd = "/tmp", .stdout_mode = CF_STDIO_PIPE };
    p = cf_subprocess_spawn(pwd, &o);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(cf_subprocess_communicate(p, NULL, 0, 10, &out, NULL, &st), 0);
    ck_assert(out.len == 5 && memcmp(out.data, "/tmp\n", 5) == 0);
    free(out.data);
    cf_subprocess_free(p);
    const char *noenv[] = { "CF_X=1", NULL };                /* no PATH there: ours is used */
    o.envp = noenv;
    p = cf_subprocess_spawn(pwd, &o);
    ck_assert_ptr_nonnull(p);
    cf_subprocess_free(p);
}
END_TEST

enum { FOUR_MIB = 4 << 20 };

static void *cat_round_trip(void *arg)
{
    (void)arg;
    unsigned char *in = malloc(FOUR_MIB);
    for (size_t i = 0; i < FOUR_MIB; i++)
        in[i] = (unsigned char)(i * 13 + (i >> 12));
    const char *cat[] = { "cat", NULL };
    cf_subprocess *p = spawn_piped(cat, CF_STDIO_PIPE, CF_STDIO_PIPE, CF_STDIO_PIPE);
    cf_bytes out, err;
    int st;
    ck_assert_int_eq(cf_subprocess_communicate(p, in, FOUR_MIB, 60, &out, &err, &st), 0);
    ck_assert_uint_eq(out.len, FOUR_MIB);
    ck_assert(memcmp(out.data, in, FOUR_MIB) == 0);
    ck_assert_uint_eq(err.len, 0);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    free(out.data);
    cf_subprocess_free(p);
    /* Input the child does not read is no error. */
    const char *truth[] = { "true", NULL };
    p = spawn_piped(truth, CF_STDIO_PIPE, CF_STDIO_PIPE, CF_STDIO_INHERIT);
    ck_assert_int_eq(cf_subprocess_communicate(p, in, FOUR_MIB, 60, &out, NULL, &st), 0);
    ck_assert_uint_eq(out.len, 0);
    cf_subprocess_free(p);
    free(in);
    return NULL;
}

START_TEST(communicate_four_mib_in_a_thread) { cat_round_trip(NULL); }
END_TEST

START_TEST(communicate_four_mib_in_a_coroutine) { run_coro(cat_round_trip, NULL); }
END_TEST

static atomic_int exits_ok;

static void *one_child(void *arg)
{
    intptr_t i = (intptr_t)arg;
    char code[16];
    snprintf(code, sizeof code, "exit %d", (int)(i % 7));
    const char *argv[] = { "sh", "-c", code, NULL };
    cf_subprocess *p = cf_subprocess_spawn(argv, NULL);
    ck_assert_ptr_nonnull(p);
    int st;
    ck_assert_int_eq(cf_subprocess_wait(p, 60, &st), 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == i % 7)
        atomic_fetch_add(&exits_ok, 1);
    cf_subprocess_free(p);
    return NULL;
}

START_TEST(a_hundred_concurrent_subprocesses)
{
    cf_loop *loop = cf_loop_new();
    for (intptr_t i = 0; i < 100; i++)
        cf_future_unref(cf_loop_spawn(loop, one_child, (void *)i));
    ck_assert_int_eq(cf_loop_run(loop), 0);
    cf_loop_free(loop);
    ck_assert_int_eq(atomic_load(&exits_ok), 100);
    ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);         /* no child left, not even a zombie */
    ck_assert_int_eq(errno, ECHILD);
}
END_TEST

/* free's wait is not cut by a cancel, and does not swallow it either: the coroutine's next wait
 * still gets ECANCELED. */
static atomic_int cancel_stage;

static void *frees_while_cancelled(void *arg)
{
    (void)arg;
    const char *sleeper[] = { "sleep", "30", NULL };
    cf_subprocess *p = cf_subprocess_spawn(sleeper, NULL);
    ck_assert_ptr_nonnull(p);
    atomic_store(&cancel_stage, 1);
    while (atomic_load(&cancel_stage) < 2)
        ;                                    /* busy, not waiting: the cancel stays pending */
    cf_subprocess_free(p);                   /* kills and reaps, cancel or not */
    return (void *)(intptr_t)cf_sleep(5);    /* the cancel, kept for this wait */
}

static void *cancel_it(void *arg)
{
    while (atomic_load(&cancel_stage) < 1)
        sleep_ms(1);
    cf_future_cancel(arg);
    atomic_store(&cancel_stage, 2);
    return NULL;
}

START_TEST(free_keeps_a_pending_cancel)
{
    atomic_store(&cancel_stage, 0);
    cf_loop *loop = cf_loop_new();
    cf_future *f = cf_loop_spawn(loop, frees_while_cancelled, NULL);
    pthread_t t;
    pthread_create(&t, NULL, cancel_it, f);
    double t0 = now_s();
    cf_loop_run(loop);
    pthread_join(t, NULL);
    ck_assert(now_s() - t0 < 4);             /* the sleep did not run its 5 s */
    ck_assert_int_eq(cf_future_state(f), CF_CANCELLED);
    cf_future_unref(f);
    cf_loop_free(loop);
    ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("subprocess");
    TCase *tc = tcase_create("subprocess");
    tcase_set_timeout(tc, 120);
    CF_ADD_TEST(tc, spawn_errors);
    CF_ADD_TEST(tc, statuses_signals_and_waits);
    CF_ADD_TEST(tc, pipes_as_streams);
    CF_ADD_TEST(tc, communicate_four_mib_in_a_thread);
    CF_ADD_TEST(tc, communicate_four_mib_in_a_coroutine);
    CF_ADD_TEST(tc, a_hundred_concurrent_subprocesses);
    CF_ADD_TEST(tc, free_keeps_a_pending_cancel);
    suite_add_tcase(s, tc);
    return s;
}

CF_RUN_SUITE(suite)
