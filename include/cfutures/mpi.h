/* SPDX-License-Identifier: MIT */
/** @file
 * The MPI executor: the futures API across the ranks of an MPI job (library libcfutures_mpi,
 * pkg-config cfutures-mpi, CMake target cfutures::mpi; built only where Open MPI or another MPI
 * is found). mpi4py.futures' MPICommExecutor is the model: the program is SPMD, every rank calls
 * cf_mpi_pool_new, rank 0 gets an executor and the others serve its tasks inside the call.
 *
 * What crosses ranks: a task's function as (its loaded object, its offset there), so the same
 * program on every rank resolves it whatever the address-space layout (PIE, ASLR, shared
 * libraries); its argument and result as on process pools: a machine word, which means nothing
 * in another process unless it is a number, or bytes (cf_submit_bytes), copied both ways. The
 * program's build ID is compared at creation: ranks running different builds are refused.
 *
 * Threads: the root's executor is driven by one thread of its own, which alone calls MPI while
 * the executor lives. Under MPI_THREAD_SERIALIZED the rest of the program must then not call
 * MPI on the root until cf_executor_free returns; under MPI_THREAD_MULTIPLE it may. Workers run
 * tasks on the thread that called cf_mpi_pool_new, one task at a time per rank.
 *
 * Dispatch: tasks go to the rank with the fewest out, several ahead of need (a window that grows
 * while tasks are short, to 64, and shrinks to 2 when they are long), each rank's share as one
 * message; results come back as they finish, batched when they finish together. A task sent to
 * a rank is RUNNING (as concurrent.futures marks a task that reached its call queue):
 * cf_future_cancel then returns false and the rank is told: a task it has not started is
 * skipped (the future ends CANCELLED), a running one sees cf_task_cancelled(). Tasks still on
 * the root are PENDING and cancel at once.
 *
 * Failures: a task that fails (cf_task_fail) fails its future with its code and message. A rank
 * that dies takes the job with it: Open MPI without ULFM aborts every rank, and mpirun exits
 * nonzero. MPI cannot kill a rank's running task, so task_timeout and max_tasks_per_child are
 * refused, and cf_executor_terminate cancels what has not started, tells the running tasks, and
 * waits for them. */
#ifndef CFUTURES_MPI_H
#define CFUTURES_MPI_H

#include <mpi.h>

#include "executor.h"

#ifdef __cplusplus
extern "C" {
#endif

/** mpi4py.futures' MPICommExecutor in C: collective over comm, every rank calls it (after
 * MPI_Init_thread with MPI_THREAD_MULTIPLE or MPI_THREAD_SERIALIZED). On rank 0 (the root) it
 * returns an executor whose tasks run on the other ranks; cf_submit, cf_submit_bytes, cf_map,
 * cf_wait, cf_as_completed, cancel, cf_task_fail, cf_executor_stats/shutdown/free work as on a
 * process pool (cf_submit_full without a result destructor, as there). On every other rank it
 * serves tasks inside the call and returns NULL with errno 0 once the root frees the executor
 * (which the root must do before MPI_Finalize: the other ranks are inside this call until then).
 * max_workers 0: every rank but the root; N: ranks 1..N serve (at most size - 1), the rest wait
 * in the call. The initializer runs once on each serving rank (its argument as a word): a
 * cf_task_fail there breaks the executor (submits fail with CF_EBROKEN and its message).
 * task_timeout and max_tasks_per_child are EINVAL here. opts are read on the root only (other
 * ranks may pass NULL); bad opts make every rank return NULL with errno EINVAL (the call is
 * collective whatever happens). The communicator is duplicated, so the program's own messages
 * on comm never meet the executor's. NULL + errno: EINVAL (comm of one rank or an
 * intercommunicator, bad opts, MPI not initialized or not threaded enough, ranks running
 * different builds of the program), ENOMEM, or CF_EBROKEN (an MPI call failed). */
CF_EXTERN cf_executor *cf_mpi_pool_new(MPI_Comm comm, const cf_pool_opts *opts);

#ifdef __cplusplus
}
#endif

#endif
