/* SPDX-License-Identifier: MIT */
/* demo.h: the pieces the demo's modes share: the file list, the per-file counter, totals. */
#ifndef CF_DEMO_H
#define CF_DEMO_H

#include <stddef.h>
#include <stdint.h>

typedef struct wc_counts {
    unsigned long long lines, words, bytes;
} wc_counts;

typedef struct file_list {
    char  **paths;
    size_t  n, cap;
} file_list;

/* Every regular file under root (symlinks not followed). 0 | errno. */
int  files_collect(const char *root, file_list *out);
void files_free(file_list *l);
/* Counts like wc(1): lines, words (runs of non-space), bytes. 0 | errno. */
int  wc_file(const char *path, wc_counts *out);

/* The CPU-bound modes (demo_primes.c): 0, or 1 when something failed. */
int  demo_primes(uint32_t n, int workers);

#endif
