// SPDX-License-Identifier: GPL-2.0
/*
 * Writes to protected pmalloc memory.  Each crash type stores into an
 * object of a protected pool with a plain instruction, and succeeds by
 * being killed by a write-protection fault or a hardened usercopy report.
 *
 * The pool is created on first use and kept until lkdtm goes away, so
 * PMALLOC_CHECK can tell afterwards whether any of the writes landed.
 */
#include "lkdtm.h"

#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/mutex.h>
#include <linux/pmalloc.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#define PMALLOC_CANARY	0x5a17c0de5a17c0deULL

static DEFINE_MUTEX(lkdtm_pmalloc_lock);
static struct pmalloc_pool *lkdtm_pool;
static u64 *lkdtm_protected;
static struct pmalloc_pool *lkdtm_wr_pool;
static u64 *lkdtm_wr_protected;

/*
 * The protected object, created and protected on first use.  A kernel that
 * refuses to protect pools at all (see pmalloc_protect_pool()) makes every
 * test that needs it an expected failure rather than a failure.
 */
static u64 *lkdtm_pmalloc_target(void)
{
	struct pmalloc_pool *pool;
	u64 *p = NULL;
	int ret = -ENOMEM;

	mutex_lock(&lkdtm_pmalloc_lock);
	if (lkdtm_protected)
		goto out_unlock;

	pool = pmalloc_create_pool(0, PMALLOC_ALIGN_DEFAULT);
	if (!pool)
		goto out_unlock;
	p = pmalloc(pool, sizeof(*p));
	if (!p) {
		pmalloc_destroy_pool(pool);
		goto out_unlock;
	}
	*p = PMALLOC_CANARY;
	ret = pmalloc_protect_pool(pool);
	if (ret) {
		pmalloc_destroy_pool(pool);
		goto out_unlock;
	}
	lkdtm_pool = pool;
	lkdtm_protected = p;
out_unlock:
	p = lkdtm_protected;
	mutex_unlock(&lkdtm_pmalloc_lock);
	if (p)
		return p;
	if (ret == -EOPNOTSUPP)
		pr_err("XFAIL: pmalloc_protect_pool() refused (%d): this kernel cannot protect pools\n",
		       ret);
	else
		pr_err("FAIL: could not set up a protected pmalloc object (%d)\n",
		       ret);
	return NULL;
}

static void lkdtm_PMALLOC_WRITE_VMALLOC(void)
{
	u64 *p = lkdtm_pmalloc_target();

	if (!p)
		return;
	pr_info("attempting bad pmalloc write at %p\n", p);
	WRITE_ONCE(*p, 0);
	pr_err("FAIL: survived bad pmalloc write\n");
}

static void lkdtm_PMALLOC_WRITE_LINEAR(void)
{
	u64 *obj = lkdtm_pmalloc_target();
	u64 *p;

	if (!obj)
		return;
	p = page_address(vmalloc_to_page(obj)) + offset_in_page(obj);
	pr_info("attempting bad pmalloc write through the direct map at %p\n",
		p);
	WRITE_ONCE(*p, 0);
	pr_err("FAIL: survived bad pmalloc write through the direct map\n");
}

/*
 * Hardened usercopy checks only copies whose size the compiler cannot
 * see: a constant size is trusted to match the object it copies.  The
 * copies below hide theirs, or they would never reach the check they test.
 */
static size_t lkdtm_pmalloc_opaque(size_t size)
{
	OPTIMIZER_HIDE_VAR(size);
	return size;
}

/* Runs @fn on the protected object and a zeroed page of user memory. */
static void lkdtm_pmalloc_with_user_page(void (*fn)(u64 *obj,
						    void __user *buf))
{
	unsigned long user_addr;
	u64 *obj;

	obj = lkdtm_pmalloc_target();
	if (!obj)
		return;
	user_addr = vm_mmap(NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
			    MAP_ANONYMOUS | MAP_PRIVATE, 0);
	if (user_addr >= TASK_SIZE) {
		pr_warn("Failed to allocate user memory\n");
		return;
	}
	if (clear_user((void __user *)user_addr, PAGE_SIZE)) {
		pr_warn("Failed to clear user memory\n");
		goto out_unmap;
	}
	fn(obj, (void __user *)user_addr);
out_unmap:
	vm_munmap(user_addr, PAGE_SIZE);
}

static void lkdtm_pmalloc_copy_in(u64 *obj, void __user *buf)
{
	pr_info("attempting copy_from_user() into a protected pmalloc object at %p\n",
		obj);
	if (copy_from_user(obj, buf, lkdtm_pmalloc_opaque(sizeof(*obj))))
		pr_info("copy_from_user() into the protected object failed\n");
	pr_err("FAIL: hardened usercopy let a copy into protected pmalloc memory through\n");
}

static void lkdtm_PMALLOC_USERCOPY(void)
{
	lkdtm_pmalloc_with_user_page(lkdtm_pmalloc_copy_in);
}

static void lkdtm_pmalloc_copy_out(u64 *obj, void __user *buf)
{
	u64 copy;

	if (copy_to_user(buf, obj, lkdtm_pmalloc_opaque(sizeof(*obj))) ||
	    copy_from_user(&copy, buf, sizeof(copy))) {
		pr_err("FAIL: copy_to_user() from a protected pmalloc object failed\n");
		return;
	}
	if (copy != PMALLOC_CANARY) {
		pr_err("FAIL: copy_to_user() from a protected pmalloc object read %llx\n",
		       copy);
		return;
	}
	pr_info("ok: copy_to_user() from a protected pmalloc object works\n");
}

static void lkdtm_PMALLOC_USERCOPY_READ(void)
{
	lkdtm_pmalloc_with_user_page(lkdtm_pmalloc_copy_out);
}

/*
 * A copy out of a writable pool that starts inside an area and runs past
 * its last byte: hardened usercopy must refuse it before reading the guard.
 */
static void lkdtm_PMALLOC_USERCOPY_EDGE(void)
{
	struct pmalloc_pool *pool;
	unsigned long user_addr;
	char *p;

	pool = pmalloc_create_pool(PAGE_SIZE, 0);
	if (!pool) {
		pr_err("FAIL: could not create a pmalloc pool\n");
		return;
	}
	p = pmalloc(pool, PAGE_SIZE);
	if (!p) {
		pr_err("FAIL: could not allocate from a pmalloc pool\n");
		goto out_destroy;
	}
	user_addr = vm_mmap(NULL, 0, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
			    MAP_ANONYMOUS | MAP_PRIVATE, 0);
	if (user_addr >= TASK_SIZE) {
		pr_warn("Failed to allocate user memory\n");
		goto out_destroy;
	}
	pr_info("attempting copy_to_user() across the end of a pmalloc area at %p\n",
		p + PAGE_SIZE - 16);
	if (copy_to_user((void __user *)user_addr, p + PAGE_SIZE - 16,
			 lkdtm_pmalloc_opaque(32)))
		pr_info("copy_to_user() across the area edge failed\n");
	pr_err("FAIL: hardened usercopy let a copy across a pmalloc area edge through\n");
	vm_munmap(user_addr, 2 * PAGE_SIZE);
out_destroy:
	pmalloc_destroy_pool(pool);
}

/*
 * A protected object of a write-rare pool, given its value through
 * pmalloc_wr_memcpy() after protect, then stored to directly: write-rare
 * opens no other way in, so the store must fault as in a plain pool.
 */
static void lkdtm_PMALLOC_WR_WRITE(void)
{
	u64 canary = PMALLOC_CANARY;
	int protect = 0, write = 0;
	u64 *p = NULL;

	mutex_lock(&lkdtm_pmalloc_lock);
	if (!lkdtm_wr_pool) {
		lkdtm_wr_pool = pmalloc_create_wr_pool(0, PMALLOC_ALIGN_DEFAULT);
		lkdtm_wr_protected = pzalloc(lkdtm_wr_pool, sizeof(u64));
		protect = pmalloc_protect_pool(lkdtm_wr_pool);
		if (lkdtm_wr_protected && !protect)
			write = pmalloc_wr_memcpy(lkdtm_wr_protected, &canary,
						  sizeof(canary));
		if (!lkdtm_wr_protected || protect || write) {
			pmalloc_destroy_pool(lkdtm_wr_pool);
			lkdtm_wr_pool = NULL;
			lkdtm_wr_protected = NULL;
		}
	}
	p = lkdtm_wr_protected;
	mutex_unlock(&lkdtm_pmalloc_lock);
	/* Refusals the rst documents, as lkdtm_pmalloc_target() reports them. */
	if (protect == -EOPNOTSUPP) {
		pr_err("XFAIL: pmalloc_protect_pool() refused (%d): this kernel cannot protect pools\n",
		       protect);
		return;
	}
	if (write == -EOPNOTSUPP) {
		pr_err("XFAIL: pmalloc_wr_memcpy() refused (%d): this architecture has no write-rare path\n",
		       write);
		return;
	}
	if (!p || *p != PMALLOC_CANARY) {
		pr_err("FAIL: could not set up a write-rare pmalloc object\n");
		return;
	}

	pr_info("attempting bad write to a write-rare pmalloc object at %p\n", p);
	WRITE_ONCE(*p, 0);
	pr_err("FAIL: survived bad write to a write-rare pmalloc object\n");
}

/* Not a crash: reports whether any earlier write reached the object. */
static void lkdtm_PMALLOC_CHECK(void)
{
	u64 *p = lkdtm_pmalloc_target();

	if (!p)
		return;
	if (*p == PMALLOC_CANARY)
		pr_info("ok: protected pmalloc object unchanged\n");
	else
		pr_err("FAIL: protected pmalloc object changed to %llx\n", *p);
	if (lkdtm_wr_protected && *lkdtm_wr_protected != PMALLOC_CANARY)
		pr_err("FAIL: write-rare pmalloc object changed to %llx\n",
		       *lkdtm_wr_protected);
}

void __exit lkdtm_pmalloc_exit(void)
{
	pmalloc_destroy_pool(lkdtm_pool);
	pmalloc_destroy_pool(lkdtm_wr_pool);
}

static struct crashtype crashtypes[] = {
	CRASHTYPE(PMALLOC_WRITE_VMALLOC),
	CRASHTYPE(PMALLOC_WRITE_LINEAR),
	CRASHTYPE(PMALLOC_USERCOPY),
	CRASHTYPE(PMALLOC_USERCOPY_READ),
	CRASHTYPE(PMALLOC_USERCOPY_EDGE),
	CRASHTYPE(PMALLOC_WR_WRITE),
	CRASHTYPE(PMALLOC_CHECK),
};

struct crashtype_category pmalloc_crashtypes = {
	.crashtypes = crashtypes,
	.len	    = ARRAY_SIZE(crashtypes),
};
