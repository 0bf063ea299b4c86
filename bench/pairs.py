# SPDX-License-Identifier: MIT
"""pairs.py: the TSV row of one implementation of a figure, as bench/figure.c prints it, for the
benchmark scripts that run their repetitions interleaved themselves (echo, HTTP, MPI): median,
min, max, unit, repetitions, and for a peer, an eighth column: the median over repetitions of
cfutures' value divided by the peer's in the same repetition (bench/report.py shows it as
"(pairs)" and inverts it for latencies)."""
import statistics


def row(fig, impl, xs, unit, cf=None):
    """xs: the implementation's values in repetition order; cf: cfutures' values in the same
    order (None for cfutures' own row)."""
    s = sorted(xs)
    out = f"{fig}\t{impl}\t{statistics.median(s):.6g}\t{s[0]:.6g}\t{s[-1]:.6g}\t{unit}\t{len(s)}"
    if cf is not None and len(cf) == len(xs) and all(x > 0 for x in xs):
        out += f"\t{statistics.median(c / x for c, x in zip(cf, xs)):.6g}"
    return out
