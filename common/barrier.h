/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one way ivshm code touches memory another process or VM writes: loads
 * and stores that are single, untorn accesses, and the orderings between them,
 * as liburing's barrier.h and DPDK's rte_atomic do. Everything is a GCC
 * __atomic builtin underneath; nothing else in the tree spells one. Name the
 * order a barrier enforces in a comment where it is used ("data before the
 * index").
 */
#ifndef IVSHM_COMMON_BARRIER_H
#define IVSHM_COMMON_BARRIER_H

#include <stdbool.h>
#include <stdint.h>

/* One untorn load or store, no ordering: a value another side may change any time. */
#define ivshm_load_relaxed(p)      __atomic_load_n((p), __ATOMIC_RELAXED)
#define ivshm_store_relaxed(p, v)  __atomic_store_n((p), (v), __ATOMIC_RELAXED)

/* A load that later loads cannot pass: what the writer stored before its release is seen. */
#define ivshm_load_acquire(p)      __atomic_load_n((p), __ATOMIC_ACQUIRE)
/* A store that earlier loads and stores cannot pass. */
#define ivshm_store_release(p, v)  __atomic_store_n((p), (v), __ATOMIC_RELEASE)

/* Replace *p with v, return what it held (a word two sides hand back and forth). */
#define ivshm_exchange(p, v)       __atomic_exchange_n((p), (v), __ATOMIC_ACQ_REL)

/*
 * Compare-and-swap: *p becomes desired if it still holds *expected; otherwise
 * *expected receives what it holds. True when the swap happened.
 */
#define ivshm_cas(p, expected, desired) \
	__atomic_compare_exchange_n((p), (expected), (desired), false, __ATOMIC_ACQ_REL, \
				    __ATOMIC_ACQUIRE)

/* Earlier loads complete before later loads and stores. */
static inline void ivshm_fence_acquire(void)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
}

/* Earlier loads and stores complete before later stores. */
static inline void ivshm_fence_release(void)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

/*
 * Earlier stores are visible before later loads: the store-then-look pattern
 * of two sides that each announce, then check the other (a sleeper and its
 * waker). Only a full fence orders a store before a load.
 */
static inline void ivshm_fence_full(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

#endif /* IVSHM_COMMON_BARRIER_H */
