/* SPDX-License-Identifier: MIT */
/* figure.c: running a figure's implementations, interleaved. Consecutive figure() calls with
 * the same figure name form a group, run when the next name comes or figures_flush() is called:
 * one warm-up each, then repetition by repetition every implementation once (a, b, c, a, b,
 * c...), so that drift on a shared machine (another tenant, frequency, the page cache) hits all
 * of them alike. Each row gives the median, min and max; each peer's row of a group that has a
 * "cfutures" row adds an eighth column, the median over repetitions of cfutures' value divided
 * by the peer's in the same repetition, which bench/report.py prefers to the ratio of medians.
 * Callers flush before changing anything the pending functions read (a worker count, say). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

enum { GROUP_MAX = 8, REPS_MAX = 64 };

static struct {
    char   fig[256], unit[32];
    int    n;
    char   impl[GROUP_MAX][96];
    double (*fn[GROUP_MAX])(void);
    double median[GROUP_MAX];
} group;

const char *bench_filter = "";

void figures_flush(void)
{
    int n = group.n;
    if (!n)
        return;
    static double v[GROUP_MAX][REPS_MAX], sorted[REPS_MAX];
    for (int k = 0; k < n; k++)
        group.fn[k]();                   /* warm-up */
    for (int r = 0; r < reps; r++)
        for (int k = 0; k < n; k++)
            v[k][r] = group.fn[k]();
    int cf = -1;
    for (int k = 0; k < n; k++)
        if (!strcmp(group.impl[k], "cfutures"))
            cf = k;
    for (int k = 0; k < n; k++) {
        memcpy(sorted, v[k], (size_t)reps * sizeof *sorted);
        qsort(sorted, (size_t)reps, sizeof *sorted, cmp_double);
        group.median[k] = sorted[reps / 2];
        printf("%s\t%s\t%.6g\t%.6g\t%.6g\t%s\t%d", group.fig, group.impl[k], sorted[reps / 2],
               sorted[0], sorted[reps - 1], group.unit, reps);
        if (cf >= 0 && k != cf) {
            for (int r = 0; r < reps; r++)
                sorted[r] = v[k][r] > 0 ? v[cf][r] / v[k][r] : 0;
            qsort(sorted, (size_t)reps, sizeof *sorted, cmp_double);
            printf("\t%.6g", sorted[reps / 2]);
        }
        printf("\n");
    }
    fflush(stdout);
    group.n = 0;
}

void figure(const char *fig, const char *impl, const char *unit, double (*fn)(void))
{
    if (!strstr(fig, bench_filter))
        return;
    if (group.n && (strcmp(group.fig, fig) || strcmp(group.unit, unit) || group.n == GROUP_MAX))
        figures_flush();
    if (!group.n) {
        snprintf(group.fig, sizeof group.fig, "%s", fig);
        snprintf(group.unit, sizeof group.unit, "%s", unit);
    }
    snprintf(group.impl[group.n], sizeof group.impl[group.n], "%s", impl);
    group.fn[group.n++] = fn;
}

void figure_pair(const char *fig, const char *unit, const char *impl_a, double (*a)(void),
                 const char *impl_b, double (*b)(void), double *ma, double *mb)
{
    *ma = *mb = 0;
    figures_flush();
    figure(fig, impl_a, unit, a);
    figure(fig, impl_b, unit, b);
    if (group.n != 2)
        return;                          /* filtered out */
    figures_flush();
    *ma = group.median[0];
    *mb = group.median[1];
}
