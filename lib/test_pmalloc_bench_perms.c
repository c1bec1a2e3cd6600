// SPDX-License-Identifier: GPL-2.0-only
/*
 * The built-in part of test_pmalloc_bench: the one case the module cannot
 * run itself, because set_memory_ro() and set_memory_rw() are not exported.
 *
 * It times what an owner of read-only data would do to change it without a
 * write-rare pool: make the page writable, write, make it read-only again.
 * The page is a one-page vmalloc area allocated here, marked
 * VM_FLUSH_RESET_PERMS so that vfree() makes it and its direct-map alias
 * writable again before the pages go back.  No other memory is ever made
 * writable, and the caller chooses neither the page nor the permissions, so
 * the export is no way to unprotect anything.
 */

#include <linux/export.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/set_memory.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "test_pmalloc_bench.h"

/**
 * test_pmalloc_bench_rw_round_trips() - Time writes to a page that is
 *	read-only between them.
 * @src: the bytes to write
 * @n: how many bytes, from 1 to PAGE_SIZE
 * @reps: how many writes to time
 * @ns: set to the time the @reps writes took, in nanoseconds
 *
 * Allocates a page with vmalloc() and makes it read-only with
 * set_memory_ro().  Then, @reps times: set_memory_rw(), a memcpy() of @n
 * bytes from @src to the start of the page, set_memory_ro().  On x86, and
 * on arm64 booted with rodata=full, each call changes the direct-map alias
 * of the page too and flushes the TLB of every CPU.  The page is checked
 * and freed before the call returns.
 *
 * Context: Process context; may sleep.
 * Return: 0 on success; -EINVAL if @n is 0 or over PAGE_SIZE, or @reps is
 * 0; -ENOMEM; the error of set_memory_ro() or set_memory_rw(); -EIO if the
 * page did not hold @src at the end.  @ns is set only on success.
 */
int test_pmalloc_bench_rw_round_trips(const void *src, size_t n,
				      unsigned int reps, u64 *ns)
{
	unsigned long addr;
	unsigned int i;
	void *page;
	int ret;
	u64 t0;

	if (!n || n > PAGE_SIZE || !reps)
		return -EINVAL;
	page = vmalloc(PAGE_SIZE);
	if (!page)
		return -ENOMEM;
	addr = (unsigned long)page;
	set_vm_flush_reset_perms(page);
	ret = set_memory_ro(addr, 1);
	if (ret)
		goto out_free;

	t0 = ktime_get_ns();
	for (i = 0; i < reps; i++) {
		ret = set_memory_rw(addr, 1);
		if (ret)
			goto out_free;
		memcpy(page, src, n);
		ret = set_memory_ro(addr, 1);
		if (ret)
			goto out_free;
	}
	t0 = ktime_get_ns() - t0;

	if (memcmp(page, src, n))
		ret = -EIO;
	else
		*ns = t0;
out_free:
	vfree(page);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(test_pmalloc_bench_rw_round_trips, PMALLOC_BENCH);
