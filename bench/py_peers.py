#!/usr/bin/env python3
"""py_peers.py: Python's concurrent.futures.ThreadPoolExecutor on the figures bench.c measures,
printed as the same TSV rows (figure, impl, median, min, max, unit, reps). Python is ~100x
slower per task, so it runs 100,000 tasks instead of 1,000,000 and reports the rate."""
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

REPS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
FILTER = sys.argv[2] if len(sys.argv) > 2 else ""
N = 100_000


def triv(x):
    return x


def tasks_per_second():
    with ThreadPoolExecutor(max_workers=2) as ex:
        t0 = time.perf_counter()
        fs = [ex.submit(triv, i) for i in range(N)]
        total = sum(f.result() for f in fs)
        t = time.perf_counter() - t0
    assert total == N * (N - 1) // 2
    return N / t


def latency_samples(n=500):
    out = []
    with ThreadPoolExecutor(max_workers=2) as ex:
        ex.submit(triv, 0).result()
        for i in range(n):
            time.sleep(0.0003)
            t0 = time.perf_counter()
            assert ex.submit(triv, i).result() == i
            out.append((time.perf_counter() - t0) * 1e6)
    out.sort()
    return out


def figure(fig, unit, fn):
    if FILTER not in fig:
        return
    fn()
    v = sorted(fn() for _ in range(REPS))
    print(f"{fig}\tPython ThreadPoolExecutor\t{statistics.median(v):.6g}\t{v[0]:.6g}\t{v[-1]:.6g}\t{unit}\t{REPS}")
    sys.stdout.flush()


figure("thread pool: 1M trivial tasks, submit then wait all, 2 workers", "tasks/s", tasks_per_second)
figure("thread pool: idle-pool submit->result latency p50", "us", lambda: latency_samples()[250])
figure("thread pool: idle-pool submit->result latency p99", "us", lambda: latency_samples()[494])
