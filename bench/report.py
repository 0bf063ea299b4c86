#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""report.py: turns bench TSV rows (stdin) into a markdown table with cfutures' advantage over
each peer measured in the same run: throughput ratio cfutures/peer, latency ratio peer/cfutures
(so > 1 always means cfutures is better; for costs such as wake-ups/s, peer/cfutures too). A row
with an eighth column (bench.c's figure_pair: repetitions interleaved) gives the median of the
per-repetition ratios instead, marked "(pairs)". Writes the table to stdout."""
import sys
from collections import OrderedDict


def fmt(v, unit):
    if unit == "wakeups/s":
        return f"{v:.1f} {unit}"
    if unit == "us":
        return f"{v:.2f} us" if v < 1 else f"{v:.1f} us"
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= div:
            return f"{v / div:.2f} {suffix}{unit}"
    return f"{v:.0f} {unit}"


LOWER_IS_BETTER = ("us", "wakeups/s")   # latencies and costs: the peer's / cfutures'

rows = OrderedDict()
pair = {}   # (fig, impl): the median of per-repetition ratios cfutures/impl, when interleaved
for line in sys.stdin:
    parts = line.rstrip("\n").split("\t")
    if len(parts) not in (7, 8):
        continue
    fig, impl, med, lo, hi, unit, reps = parts[:7]
    rows.setdefault(fig, []).append((impl, float(med), float(lo), float(hi), unit, int(reps)))
    if len(parts) == 8:
        pair[(fig, impl)] = float(parts[7])

print("| figure | implementation | median | min - max | cfutures advantage |")
print("|---|---|---|---|---|")
for fig, impls in rows.items():
    cf = next((r for r in impls if r[0] == "cfutures"), None)
    for impl, med, lo, hi, unit, reps in impls:
        if cf is None or impl == "cfutures":
            ratio = ""
        elif (fig, impl) in pair and pair[(fig, impl)] > 0:
            r = pair[(fig, impl)]
            ratio = f"{(1 / r if unit in LOWER_IS_BETTER else r):.2f}x (pairs)"
        elif unit in LOWER_IS_BETTER and cf[1] == 0:
            ratio = "cfutures: none"
        elif unit in LOWER_IS_BETTER:
            ratio = f"{med / cf[1]:.2f}x"
        else:
            ratio = f"{cf[1] / med:.2f}x"
        print(f"| {fig} | {impl} | {fmt(med, unit)} | {fmt(lo, unit)} - {fmt(hi, unit)} | {ratio} |")
