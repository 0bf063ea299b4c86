/* SPDX-License-Identifier: MIT */
/* pipe.c: messages between two processes through shared memory. The parent makes a cf_pipe,
 * forks, and sends lines; the child upper-cases each one and sends it back; each side closes the
 * end it does not use, as with pipe(2). A message is delivered whole or not at all, and a peer
 * that dies shows as EPIPE, never a hang. */
#include <cfutures.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int child(cf_pipe *p)
{
    void *msg;
    size_t len;
    while (cf_pipe_recv(p, &msg, &len, CF_FOREVER) == 0) {   /* EPIPE: the parent closed */
        char *s = (char *)msg;
        for (size_t i = 0; i < len; i++)
            if (s[i] >= 'a' && s[i] <= 'z')
                s[i] = (char)(s[i] - 32);
        cf_pipe_send(p, s, len, CF_FOREVER);
        free(msg);
    }
    cf_pipe_close(p);
    return 0;
}

int main(void)
{
    cf_pipe *mine, *theirs;
    int err = cf_pipe_new(0, &mine, &theirs);   /* 0: 1 MiB of ring each way */
    if (err) {
        printf("cf_pipe_new: %s\n", cf_strerror(err));
        return 1;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        cf_pipe_close(mine);
        _exit(child(theirs));
    }
    cf_pipe_close(theirs);
    const char *lines[] = { "hello", "from the parent", "over shared memory" };
    for (int i = 0; i < 3; i++) {
        cf_pipe_send(mine, lines[i], strlen(lines[i]), CF_FOREVER);
        void *reply;
        size_t len;
        if (cf_pipe_recv(mine, &reply, &len, 5.0) == 0) {
            printf("%s -> %.*s\n", lines[i], (int)len, (const char *)reply);
            free(reply);
        }
    }
    cf_pipe_close(mine);   /* the child's recv returns EPIPE, and it exits */
    int status;
    waitpid(pid, &status, 0);
    printf("child exited with status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 0;
}
