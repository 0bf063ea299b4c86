#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""py_peers.py: Python's concurrent.futures ThreadPoolExecutor and ProcessPoolExecutor,
multiprocessing.Pool, asyncio and threading on the figures cf_bench measures. cf_bench starts it
once (--serve) and asks for one repetition of a peer at a time, between its own repetitions, so
Python's rows are interleaved with cfutures' like the C peers. Python is 100-1000x slower per
task, so some figures run fewer tasks than the C ones (the row names say how many) and report
the rate, which does not depend on it."""
import asyncio
import threading
import sys
import time
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

N = 100_000


def triv(x):
    return x


def tasks_per_second(executor=ThreadPoolExecutor, n=N):
    """n trivial submits, then every result, on 2 workers of the given executor class."""
    with executor(max_workers=2) as ex:
        ex.submit(triv, 0).result()
        t0 = time.perf_counter()
        fs = [ex.submit(triv, i) for i in range(n)]
        total = sum(f.result() for f in fs)
        t = time.perf_counter() - t0
    assert total == n * (n - 1) // 2
    return n / t


def latency_samples(executor=ThreadPoolExecutor, n=500):
    out = []
    with executor(max_workers=2) as ex:
        ex.submit(triv, 0).result()
        for i in range(n):
            time.sleep(0.0003)
            t0 = time.perf_counter()
            assert ex.submit(triv, i).result() == i
            out.append((time.perf_counter() - t0) * 1e6)
    out.sort()
    return out


def proc_map(n=1_000_000, pool=False):
    # Warmed up like the C figure: one untimed map of the same size first.
    if pool:
        with multiprocessing.Pool(2) as p:
            p.map(triv, range(n), chunksize=256)
            t0 = time.perf_counter()
            total = sum(p.map(triv, range(n), chunksize=256))
            t = time.perf_counter() - t0
    else:
        with ProcessPoolExecutor(max_workers=2) as ex:
            list(ex.map(triv, range(n), chunksize=256))
            t0 = time.perf_counter()
            total = sum(ex.map(triv, range(n), chunksize=256))
            t = time.perf_counter() - t0
    assert total == n * (n - 1) // 2
    return n / t


def is_prime(n):
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    d = 3
    while d * d <= n:
        if n % d == 0:
            return False
        d += 2
    return True


def count_range(r):
    return sum(1 for n in range(r[0], r[1]) if is_prime(n))


def proc_primes(n=1_000_000, chunks=64):
    ranges = [(n * i // chunks, n * (i + 1) // chunks) for i in range(chunks)]
    with ProcessPoolExecutor(max_workers=2) as ex:
        t0 = time.perf_counter()
        total = sum(ex.map(count_range, ranges))
        t = time.perf_counter() - t0
    assert total == 78498
    return n / t


def asyncio_switches(n=200_000):
    # Two tasks handing over with sleep(0), asyncio's yield; n switches in all.
    left = [n]

    async def yielder():
        while left[0] > 0:
            left[0] -= 1
            await asyncio.sleep(0)

    async def main():
        await asyncio.gather(yielder(), yielder())

    t0 = time.perf_counter()
    asyncio.run(main())
    return n / (time.perf_counter() - t0)


def asyncio_spawns(n=1_000_000):
    async def trivial(i):
        return i

    async def main():
        tasks = [asyncio.create_task(trivial(i)) for i in range(n)]
        return await asyncio.gather(*tasks)

    t0 = time.perf_counter()
    vals = asyncio.run(main())
    t = time.perf_counter() - t0
    assert vals[-1] == n - 1
    return n / t


def asyncio_executor_latency(n=500):
    # A coroutine awaiting ThreadPoolExecutor work (run_in_executor), idle before each sample.
    async def main():
        loop = asyncio.get_running_loop()
        samples = []
        with ThreadPoolExecutor(2) as ex:
            for i in range(n):
                await asyncio.sleep(0.0003)
                t0 = time.perf_counter()
                v = await loop.run_in_executor(ex, triv, i)
                samples.append((time.perf_counter() - t0) * 1e6)
                assert v == i
        return sorted(samples)

    return asyncio.run(main())


def asyncio_queue_round_trip(n=20_000):
    # Two tasks ping-ponging through two asyncio.Queue: microseconds per round trip.
    async def main():
        a, b = asyncio.Queue(16), asyncio.Queue(16)

        async def ping():
            for i in range(n):
                await a.put(i)
                assert await b.get() == i

        async def pong():
            for _ in range(n):
                await b.put(await a.get())

        t0 = time.perf_counter()
        await asyncio.gather(pong(), ping())
        return time.perf_counter() - t0
    return asyncio.run(main()) / n * 1e6


def threading_event_round_trip(n=20_000):
    # Two threads ping-ponging through two threading.Event: microseconds per round trip.
    ea, eb = threading.Event(), threading.Event()

    def ponger():
        for _ in range(n):
            ea.wait()
            ea.clear()
            eb.set()

    t = threading.Thread(target=ponger)
    t.start()
    t0 = time.perf_counter()
    for _ in range(n):
        ea.set()
        eb.wait()
        eb.clear()
    dt = time.perf_counter() - t0
    t.join()
    return dt / n * 1e6


def asyncio_lock_hand_offs(holders=100, holds=200):
    # 100 tasks taking an asyncio.Lock and holding it across a yield: hand-offs per second.
    async def main():
        lock = asyncio.Lock()

        async def holder():
            for _ in range(holds):
                async with lock:
                    await asyncio.sleep(0)

        t0 = time.perf_counter()
        await asyncio.gather(*(holder() for _ in range(holders)))
        return time.perf_counter() - t0
    return holders * holds / asyncio.run(main())


# The peers by the key cf_bench asks for (bench/peers.c, py_* functions).
PEERS = {
    "pool_tasks": tasks_per_second,
    "pool_p50": lambda: latency_samples()[250],
    "pool_p99": lambda: latency_samples()[494],
    "proc_tasks": lambda: tasks_per_second(ProcessPoolExecutor, 20_000),
    "proc_map": proc_map,
    "mp_map": lambda: proc_map(pool=True),
    "proc_p50": lambda: latency_samples(ProcessPoolExecutor)[250],
    "proc_p99": lambda: latency_samples(ProcessPoolExecutor)[494],
    "asyncio_switches": asyncio_switches,
    "asyncio_spawns": asyncio_spawns,
    "asyncio_exec_p50": lambda: asyncio_executor_latency()[250],
    "asyncio_exec_p99": lambda: asyncio_executor_latency()[494],
    "asyncio_queue_rt": asyncio_queue_round_trip,
    "threading_event_rt": threading_event_round_trip,
    "asyncio_lock": asyncio_lock_hand_offs,
    "proc_primes": proc_primes,
}


if __name__ == "__main__":
    # --serve: one repetition per key read from stdin, its figure on stdout, so that cf_bench
    # interleaves these with its own repetitions.
    if sys.argv[1:] != ["--serve"]:
        sys.exit("usage: py_peers.py --serve (cf_bench runs it; see bench/peers.c)")
    for line in sys.stdin:
        print(f"{PEERS[line.strip()]():.6g}", flush=True)
