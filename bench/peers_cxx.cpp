// SPDX-License-Identifier: MIT
// peers_cxx.cpp: the C++ peers, built into cf_bench when found (bench/CMakeLists.txt):
// - oneTBB: a task_group running 1M trivial tasks (spawn them all, then wait), beside the thread
//   pool's submit-then-wait-all; parallel_for over 1M items with grain 256 (simple_partitioner:
//   chunks of at most 256, the same split as cf_map's chunksize), each item through a function
//   pointer as cf_map calls it, beside cf_map chunksize 256.
//   Both run in TBB's default arena: one thread per CPU, the caller among them.
// - Boost.Context: fcontext ping-pong (jump_fcontext, the switch Boost.Coroutine2 and
//   Boost.Fiber run on), beside cfutures' raw context switch and cf_yield.
// Each writes one result per item and checks them, as the cfutures rows do.
#include <cstdint>
#include <cstdlib>
#include <vector>

extern "C" {
#include "bench.h"
}

#ifdef CF_BENCH_TBB
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_group.h>

enum { TBB_TASKS = 1000000 };

extern "C" double tbb_task_group(void)
{
    std::vector<intptr_t> out(TBB_TASKS);
    double t0 = now();
    tbb::task_group g;
    for (intptr_t i = 0; i < TBB_TASKS; i++)
        g.run([&out, i] { out[i] = i; });
    g.wait();
    double t = now() - t0;
    intptr_t sum = 0;
    for (intptr_t v : out)
        sum += v;
    check(sum == (intptr_t)TBB_TASKS * (TBB_TASKS - 1) / 2, "task_group results");
    return TBB_TASKS / t;
}

static void *triv(void *a) { return a; }
// The item function as a C library receives it: a pointer it cannot inline (cf_map's fn).
static void *(*volatile map_fn)(void *) = triv;

extern "C" double tbb_parallel_for(void)
{
    std::vector<void *> args(TBB_TASKS), res(TBB_TASKS);
    for (intptr_t i = 0; i < TBB_TASKS; i++)
        args[i] = (void *)i;
    double t0 = now();
    tbb::parallel_for(tbb::blocked_range<size_t>(0, TBB_TASKS, 256),
                      [&](const tbb::blocked_range<size_t> &r) {
                          void *(*fn)(void *) = map_fn;
                          for (size_t i = r.begin(); i != r.end(); i++)
                              res[i] = fn(args[i]);
                      },
                      tbb::simple_partitioner());
    double t = now() - t0;
    for (intptr_t i = 0; i < TBB_TASKS; i++)
        check(res[i] == (void *)i, "parallel_for results");
    return TBB_TASKS / t;
}
#endif

#ifdef CF_BENCH_FCONTEXT
#include <boost/context/detail/fcontext.hpp>

namespace bctx = boost::context::detail;
enum { FC_ROUNDS = 4000000 };

static void fc_body(bctx::transfer_t t)
{
    for (;;)
        t = bctx::jump_fcontext(t.fctx, nullptr);   // back to the caller, and again
}

// Switches per second: one round is two switches (to the context and back), as cf's raw
// ping-pong counts them.
extern "C" double fcontext_switches(void)
{
    static char stack[64 * 1024] __attribute__((aligned(16)));
    bctx::fcontext_t ctx = bctx::make_fcontext(stack + sizeof stack, sizeof stack, fc_body);
    double t0 = now();
    for (long i = 0; i < FC_ROUNDS; i++)
        ctx = bctx::jump_fcontext(ctx, nullptr).fctx;
    double t = now() - t0;
    return 2.0 * FC_ROUNDS / t;
}
#endif
