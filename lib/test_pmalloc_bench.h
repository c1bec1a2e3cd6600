/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the built-in part of test_pmalloc_bench offers the module: see
 * lib/test_pmalloc_bench_perms.c.
 */
#ifndef _LIB_TEST_PMALLOC_BENCH_H
#define _LIB_TEST_PMALLOC_BENCH_H

#include <linux/types.h>

int test_pmalloc_bench_rw_round_trips(const void *src, size_t n,
				      unsigned int reps, u64 *ns);

#endif /* _LIB_TEST_PMALLOC_BENCH_H */
