/* SPDX-License-Identifier: MIT */
/* demo_files.c: walking a directory tree and counting a file like wc(1), for the demo. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo.h"

static file_list *collecting;   /* nftw has no user pointer */

static int on_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type != FTW_F)
        return 0;
    file_list *l = collecting;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        char **p = realloc(l->paths, cap * sizeof *p);
        if (!p)
            return ENOMEM;
        l->paths = p;
        l->cap = cap;
    }
    if (!(l->paths[l->n] = strdup(path)))
        return ENOMEM;
    l->n++;
    return 0;
}

int files_collect(const char *root, file_list *out)
{
    memset(out, 0, sizeof *out);
    collecting = out;
    int r = nftw(root, on_entry, 64, FTW_PHYS);
    collecting = NULL;
    if (r == -1)
        return errno;
    return r;
}

void files_free(file_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->paths[i]);
    free(l->paths);
    memset(l, 0, sizeof *l);
}

int wc_file(const char *path, wc_counts *out)
{
    static bool space[256];
    space[' '] = space['\t'] = space['\n'] = space['\v'] = space['\f'] = space['\r'] = true;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return errno;
    unsigned char buf[64 * 1024];
    wc_counts c = { 0, 0, 0 };
    bool in_word = false;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0) {
            int e = errno;
            if (e == EINTR)
                continue;
            close(fd);
            return e;
        }
        if (n == 0)
            break;
        c.bytes += (unsigned long long)n;
        for (ssize_t i = 0; i < n; i++) {
            unsigned char ch = buf[i];
            c.lines += ch == '\n';
            bool sp = space[ch];
            c.words += !sp && !in_word;
            in_word = !sp;
        }
    }
    close(fd);
    *out = c;
    return 0;
}
