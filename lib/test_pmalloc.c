// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for pmalloc, the protectable memory pools.
 *
 * A protected object is only ever judged by writes the MMU refuses: the
 * cases try copy_to_kernel_nofault() on every page of it, through its
 * vmalloc address and through the direct map's alias, and then check that
 * the bytes are the ones written before protection.
 *
 * copy_to_kernel_nofault(), find_vm_area() and vmalloc_nr_pages() are not
 * exported, so the cases that need them skip when the suite is a module.
 */

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pmalloc.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait_bit.h>

#include <kunit/test.h>
#include <trace/events/printk.h>

#define PMALLOC_TEST_BUILTIN	(!IS_MODULE(CONFIG_PMALLOC_KUNIT_TEST))

#if PMALLOC_TEST_BUILTIN
static long pmalloc_test_write(void *dst, const void *src, size_t len)
{
	return copy_to_kernel_nofault(dst, src, len);
}

static struct vm_struct *pmalloc_test_find_area(const void *addr)
{
	return find_vm_area(addr);
}

static unsigned long pmalloc_test_vmalloc_pages(void)
{
	return vmalloc_nr_pages();
}

static bool pmalloc_test_huge_area(const void *addr)
{
	return is_vm_area_hugepages(addr);
}
#else
static long pmalloc_test_write(void *dst, const void *src, size_t len)
{
	return -EOPNOTSUPP;
}

static struct vm_struct *pmalloc_test_find_area(const void *addr)
{
	return NULL;
}

static unsigned long pmalloc_test_vmalloc_pages(void)
{
	return 0;
}

static bool pmalloc_test_huge_area(const void *addr)
{
	return false;
}
#endif

static void pmalloc_test_need_builtin(struct kunit *test)
{
	if (!PMALLOC_TEST_BUILTIN)
		kunit_skip(test, "needs the suite built in: some helpers are not exported");
}

/*
 * Lines printed by one task, counted through the console tracepoint.  The
 * probe runs in the context of whoever calls printk(), so lines from other
 * tasks never count against the task under watch.
 */
static struct {
	struct task_struct *task;
	atomic_t lines;
	bool registered;
} pmalloc_test_console;

static void pmalloc_test_probe_console(void *ignore, const char *buf,
				       size_t len)
{
	if (READ_ONCE(pmalloc_test_console.task) == current)
		atomic_inc(&pmalloc_test_console.lines);
}

KUNIT_DEFINE_ACTION_WRAPPER(pmalloc_test_destroy, pmalloc_destroy_pool,
			    struct pmalloc_pool *);
KUNIT_DEFINE_ACTION_WRAPPER(pmalloc_test_put_page, put_page, struct page *);
KUNIT_DEFINE_ACTION_WRAPPER(pmalloc_test_vfree, vfree, const void *);

/* A pool that is destroyed when the case ends, however it ends. */
static struct pmalloc_pool *pmalloc_test_pool(struct kunit *test,
					      size_t refill, short align_order)
{
	struct pmalloc_pool *pool = pmalloc_create_pool(refill, align_order);

	KUNIT_ASSERT_NOT_NULL(test, pool);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							pmalloc_test_destroy,
							pool), 0);
	return pool;
}

/*
 * Protect @pool, skipping where this kernel refuses to protect at all (see
 * protect_locks_direct_map_or_refuses() for the refusal itself).
 */
static int pmalloc_test_try_protect(struct kunit *test,
				    struct pmalloc_pool *pool)
{
	int ret = pmalloc_protect_pool(pool);

	if (ret == -EOPNOTSUPP)
		kunit_skip(test,
			   "protection refused (-EOPNOTSUPP): this kernel would leave the direct map writable");
	return ret;
}

static void pmalloc_test_protect(struct kunit *test, struct pmalloc_pool *pool)
{
	KUNIT_ASSERT_EQ(test, pmalloc_test_try_protect(test, pool), 0);
}

struct pmalloc_test_obj {
	u8 *p;
	size_t size;
	unsigned int seed;
};

/* Byte @i of the pattern numbered @seed; neighbours and objects differ. */
static u8 pmalloc_test_byte(unsigned int seed, size_t i)
{
	return seed * 131 + i * 7 + (i >> 8) * 13 + 1;
}

static void pmalloc_test_fill(const struct pmalloc_test_obj *obj)
{
	size_t i;

	for (i = 0; i < obj->size; i++)
		obj->p[i] = pmalloc_test_byte(obj->seed, i);
}

/* Whether @len bytes at @p match @obj's pattern from offset @off on. */
static bool pmalloc_test_match(const struct pmalloc_test_obj *obj,
			       const u8 *p, size_t off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pmalloc_test_byte(obj->seed, off + i))
			return false;
	return true;
}

/* The start of the page after @addr's, or the end of @obj if sooner. */
static u8 *pmalloc_test_next_page(const struct pmalloc_test_obj *obj, u8 *addr)
{
	u8 *next = PTR_ALIGN(addr + 1, PAGE_SIZE);
	u8 *end = obj->p + obj->size;

	return next < end ? next : end;
}

/*
 * The direct map's alias of vmalloc address @addr.  A highmem page has no
 * alias, so there is nothing to check on it: the checks below pass over
 * it, and the cases about the alias itself count such pages first.
 */
static u8 *pmalloc_test_alias(struct kunit *test, const u8 *addr)
{
	struct page *page = vmalloc_to_page(addr);
	u8 *base;

	KUNIT_ASSERT_NOT_NULL(test, page);
	base = page_address(page);
	KUNIT_EXPECT_TRUE(test, base || IS_ENABLED(CONFIG_HIGHMEM));
	return base ? base + offset_in_page(addr) : NULL;
}

/* Pages of @obj that have a direct-map alias; *@pages counts them all. */
static unsigned int
pmalloc_test_aliased_pages(const struct pmalloc_test_obj *obj,
			   unsigned int *pages)
{
	unsigned int aliased = 0;
	struct page *page;
	u8 *addr;

	for (addr = obj->p; addr < obj->p + obj->size;
	     addr = pmalloc_test_next_page(obj, addr)) {
		page = vmalloc_to_page(addr);
		(*pages)++;
		aliased += page && page_address(page);
	}
	return aliased;
}

/*
 * A case about the alias proves nothing on highmem pages, so it skips
 * when none of the @n objects has a page in lowmem, and says how many it
 * could check otherwise.
 */
static void pmalloc_test_need_alias(struct kunit *test,
				    const struct pmalloc_test_obj *objs,
				    unsigned int n)
{
	unsigned int i, pages = 0, aliased = 0;

	for (i = 0; i < n; i++)
		aliased += pmalloc_test_aliased_pages(&objs[i], &pages);
	if (!aliased)
		kunit_skip(test, "all %u pages are highmem: no direct-map alias to test",
			   pages);
	if (aliased < pages)
		kunit_info(test, "%u of %u pages are highmem, with no alias; checking the other %u\n",
			   pages - aliased, pages, aliased);
}

/*
 * Try to flip every bit of the byte at @addr and return what
 * copy_to_kernel_nofault() said.  A write let through changes the byte, so
 * the pattern checks see it even if the return value lied.
 */
static long pmalloc_test_flip(u8 *addr)
{
	u8 val = ~READ_ONCE(*addr);

	return pmalloc_test_write(addr, &val, 1);
}

/* The mappings of an object that a check goes through. */
#define PMALLOC_TEST_VMAP	BIT(0)	/* its vmalloc address */
#define PMALLOC_TEST_ALIAS	BIT(1)	/* the direct map's alias */
#define PMALLOC_TEST_BOTH	(PMALLOC_TEST_VMAP | PMALLOC_TEST_ALIAS)

/* Every page of @obj must refuse a write through the mappings in @maps. */
static void pmalloc_test_expect_locked_via(struct kunit *test,
					   const struct pmalloc_test_obj *obj,
					   unsigned int maps)
{
	u8 *addr, *alias;

	for (addr = obj->p; addr < obj->p + obj->size;
	     addr = pmalloc_test_next_page(obj, addr)) {
		if (maps & PMALLOC_TEST_VMAP)
			KUNIT_EXPECT_EQ_MSG(test, pmalloc_test_flip(addr),
					    -EFAULT,
					    "object %u took a write at offset %td",
					    obj->seed, addr - obj->p);
		alias = pmalloc_test_alias(test, addr);
		if (alias && (maps & PMALLOC_TEST_ALIAS))
			KUNIT_EXPECT_EQ_MSG(test, pmalloc_test_flip(alias),
					    -EFAULT,
					    "object %u took a write at offset %td through the direct map",
					    obj->seed, addr - obj->p);
	}
}

static void pmalloc_test_expect_locked(struct kunit *test,
				       const struct pmalloc_test_obj *obj)
{
	pmalloc_test_expect_locked_via(test, obj, PMALLOC_TEST_BOTH);
}

/*
 * Every page of @obj must take a write through both of its mappings, seen
 * through the vmalloc address; the byte is put back afterwards.
 */
static void pmalloc_test_expect_writable(struct kunit *test,
					 const struct pmalloc_test_obj *obj)
{
	u8 *addr, *alias;
	u8 old;

	for (addr = obj->p; addr < obj->p + obj->size;
	     addr = pmalloc_test_next_page(obj, addr)) {
		old = *addr;
		KUNIT_EXPECT_EQ(test, pmalloc_test_flip(addr), 0);
		KUNIT_EXPECT_EQ(test, *addr, (u8)~old);
		*addr = old;

		alias = pmalloc_test_alias(test, addr);
		if (!alias)
			continue;
		KUNIT_EXPECT_EQ(test, pmalloc_test_flip(alias), 0);
		KUNIT_EXPECT_EQ(test, *addr, (u8)~old);
		*addr = old;
	}
}

/* @obj must hold its pattern, read through both mappings. */
static void pmalloc_test_expect_intact(struct kunit *test,
				       const struct pmalloc_test_obj *obj)
{
	u8 *addr, *next, *alias;

	KUNIT_EXPECT_TRUE_MSG(test, pmalloc_test_match(obj, obj->p, 0,
						       obj->size),
			      "object %u of %zu bytes changed",
			      obj->seed, obj->size);

	for (addr = obj->p; addr < obj->p + obj->size; addr = next) {
		next = pmalloc_test_next_page(obj, addr);
		alias = pmalloc_test_alias(test, addr);
		if (alias)
			KUNIT_EXPECT_TRUE_MSG(test,
					      pmalloc_test_match(obj, alias,
								 addr - obj->p,
								 next - addr),
					      "object %u changed at offset %td in the direct map",
					      obj->seed, addr - obj->p);
	}
}

static bool pmalloc_test_overlap(const struct pmalloc_test_obj *a,
				 const struct pmalloc_test_obj *b)
{
	return a->p < b->p + b->size && b->p < a->p + a->size;
}

static bool pmalloc_test_share_page(const struct pmalloc_test_obj *a,
				    const struct pmalloc_test_obj *b)
{
	unsigned long a_first = (unsigned long)a->p & PAGE_MASK;
	unsigned long a_last = ((unsigned long)a->p + a->size - 1) & PAGE_MASK;
	unsigned long b_first = (unsigned long)b->p & PAGE_MASK;
	unsigned long b_last = ((unsigned long)b->p + b->size - 1) & PAGE_MASK;

	return a_first <= b_last && b_first <= a_last;
}

/* No two of the @n objects may share a byte. */
static void pmalloc_test_expect_disjoint(struct kunit *test,
					 const struct pmalloc_test_obj *objs,
					 unsigned int n)
{
	unsigned int i, j;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			KUNIT_EXPECT_FALSE_MSG(test,
					       pmalloc_test_overlap(&objs[i],
								    &objs[j]),
					       "objects %u and %u overlap",
					       objs[i].seed, objs[j].seed);
}

/*
 * Sizes that spread over several one-page areas: small objects packed
 * together, objects of one page and more, and a small one that fits in
 * an older area's tail.
 */
static const size_t pmalloc_test_mixed_sizes[] = {
	1, 24, 100, PAGE_SIZE - 100, PAGE_SIZE, 7, 2 * PAGE_SIZE + 3,
	3 * PAGE_SIZE,
};

#define PMALLOC_TEST_NR_MIXED	ARRAY_SIZE(pmalloc_test_mixed_sizes)

/* Allocate and fill one object of each mixed size, seeds from @seed up. */
static struct pmalloc_test_obj *
pmalloc_test_alloc_mixed(struct kunit *test, struct pmalloc_pool *pool,
			 unsigned int seed)
{
	struct pmalloc_test_obj *objs;
	unsigned int i;

	objs = kunit_kcalloc(test, PMALLOC_TEST_NR_MIXED, sizeof(*objs),
			     GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, objs);

	for (i = 0; i < PMALLOC_TEST_NR_MIXED; i++) {
		objs[i].size = pmalloc_test_mixed_sizes[i];
		objs[i].seed = seed + i;
		objs[i].p = pmalloc(pool, objs[i].size);
		KUNIT_ASSERT_NOT_NULL(test, objs[i].p);
		pmalloc_test_fill(&objs[i]);
	}
	return objs;
}

static void create_rejects_out_of_range_orders(struct kunit *test)
{
	static const short orders[] = {
		PAGE_SHIFT + 1, PAGE_SHIFT + 8, SHRT_MAX, -2, -PAGE_SHIFT,
		SHRT_MIN,
	};
	struct pmalloc_pool *pool;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(orders); i++) {
		pool = pmalloc_create_pool(0, orders[i]);
		KUNIT_EXPECT_NULL_MSG(test, pool, "order %d accepted",
				      orders[i]);
		pmalloc_destroy_pool(pool);
	}
}

static void create_rejects_refill_that_wraps(struct kunit *test)
{
	static const size_t refills[] = {
		SIZE_MAX, SIZE_MAX - PAGE_SIZE + 2,
	};
	struct pmalloc_pool *pool;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(refills); i++) {
		pool = pmalloc_create_pool(refills[i], PMALLOC_ALIGN_DEFAULT);
		KUNIT_EXPECT_NULL_MSG(test, pool, "refill %zu accepted",
				      refills[i]);
		pmalloc_destroy_pool(pool);
	}
}

/*
 * Orders 0 to PAGE_SHIFT.  PAGE_SHIFT differs between architectures, so
 * the values are made as they are handed out rather than listed.
 */
static short pmalloc_test_orders[PAGE_SHIFT + 1];

static const void *pmalloc_test_order_gen_params(const void *prev,
						 char *desc)
{
	short *order = prev ? (short *)prev + 1 : pmalloc_test_orders;

	if (order > &pmalloc_test_orders[PAGE_SHIFT])
		return NULL;
	*order = order - pmalloc_test_orders;
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "order %d, %lu bytes", *order,
		 1UL << *order);
	return order;
}

static void align_order_aligns_every_object(struct kunit *test)
{
	static const size_t sizes[] = {
		1, 3, 17, 61, 255, 1021, PAGE_SIZE + 3,
	};
	const short *order = test->param_value;
	unsigned long align = 1UL << *order;
	struct pmalloc_test_obj objs[2 * ARRAY_SIZE(sizes)];
	struct pmalloc_pool *pool;
	unsigned long misalign;
	unsigned int i;

	pool = pmalloc_test_pool(test, 0, *order);
	for (i = 0; i < ARRAY_SIZE(objs); i++) {
		objs[i].size = sizes[i % ARRAY_SIZE(sizes)];
		objs[i].seed = i;
		objs[i].p = pmalloc(pool, objs[i].size);
		KUNIT_ASSERT_NOT_NULL(test, objs[i].p);
		misalign = (unsigned long)objs[i].p & (align - 1);
		KUNIT_EXPECT_EQ_MSG(test, misalign, 0UL,
				    "object %u of %zu bytes", i, objs[i].size);
		pmalloc_test_fill(&objs[i]);
	}

	for (i = 0; i < ARRAY_SIZE(objs); i++)
		KUNIT_EXPECT_TRUE(test, pmalloc_test_match(&objs[i], objs[i].p,
							   0, objs[i].size));
	pmalloc_test_expect_disjoint(test, objs, ARRAY_SIZE(objs));
}

static void default_align_is_kmalloc_minalign(struct kunit *test)
{
	struct pmalloc_pool *pool;
	u8 *a, *b, *c, *after_a, *after_b;

	pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	a = pmalloc(pool, 1);
	b = pmalloc(pool, 3);
	c = pmalloc(pool, 1);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_ASSERT_NOT_NULL(test, c);

	KUNIT_EXPECT_TRUE(test, IS_ALIGNED((unsigned long)a,
					   ARCH_KMALLOC_MINALIGN));
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED((unsigned long)b,
					   ARCH_KMALLOC_MINALIGN));
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED((unsigned long)c,
					   ARCH_KMALLOC_MINALIGN));
	/* Packed at that alignment, not at some larger one. */
	after_a = PTR_ALIGN(a + 1, ARCH_KMALLOC_MINALIGN);
	after_b = PTR_ALIGN(b + 3, ARCH_KMALLOC_MINALIGN);
	KUNIT_EXPECT_PTR_EQ(test, b, after_a);
	KUNIT_EXPECT_PTR_EQ(test, c, after_b);
}

static const size_t pmalloc_test_sizes[] = {
	1, 2, 3, 7, 8, 9, 63, 64, 65, 255, 1000, PAGE_SIZE - 1, PAGE_SIZE,
	PAGE_SIZE + 1, 2 * PAGE_SIZE + 7, 5 * PAGE_SIZE,
};

static void pmalloc_test_size_desc(const size_t *size, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%zu bytes", *size);
}

KUNIT_ARRAY_PARAM(pmalloc_test_size, pmalloc_test_sizes,
		  pmalloc_test_size_desc);

static void object_holds_its_whole_size(struct kunit *test)
{
	const size_t *size = test->param_value;
	struct pmalloc_test_obj objs[4];
	struct pmalloc_pool *pool;
	unsigned int i;

	pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	for (i = 0; i < ARRAY_SIZE(objs); i++) {
		objs[i].size = *size;
		objs[i].seed = i;
		objs[i].p = pmalloc(pool, *size);
		KUNIT_ASSERT_NOT_NULL(test, objs[i].p);
		KUNIT_EXPECT_TRUE(test, IS_ALIGNED((unsigned long)objs[i].p,
						   ARCH_KMALLOC_MINALIGN));
		KUNIT_EXPECT_TRUE(test, is_vmalloc_addr(objs[i].p));
		pmalloc_test_fill(&objs[i]);
	}

	for (i = 0; i < ARRAY_SIZE(objs); i++)
		KUNIT_EXPECT_TRUE(test, pmalloc_test_match(&objs[i], objs[i].p,
							   0, objs[i].size));
	pmalloc_test_expect_disjoint(test, objs, ARRAY_SIZE(objs));
}

/* Bytes in the vmalloc area holding @p; 0 if it is not one. */
static size_t pmalloc_test_area_size(struct kunit *test, const void *p)
{
	struct vm_struct *vm = pmalloc_test_find_area(p);

	KUNIT_EXPECT_NOT_NULL(test, vm);
	return vm ? get_vm_area_size(vm) : 0;
}

static void refill_sets_minimum_area_size(struct kunit *test)
{
	struct pmalloc_pool *one, *two, *five;
	u8 *a, *b, *big;

	pmalloc_test_need_builtin(test);

	one = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	two = pmalloc_test_pool(test, PAGE_SIZE + 1, PMALLOC_ALIGN_DEFAULT);
	five = pmalloc_test_pool(test, 5 * PAGE_SIZE, PMALLOC_ALIGN_DEFAULT);

	a = pmalloc(one, 1);
	big = pmalloc(one, 3 * PAGE_SIZE + 1);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, big);
	KUNIT_EXPECT_EQ(test, pmalloc_test_area_size(test, a), PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, pmalloc_test_area_size(test, big),
			4 * PAGE_SIZE);

	a = pmalloc(two, 1);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_EXPECT_EQ(test, pmalloc_test_area_size(test, a), 2 * PAGE_SIZE);

	/* Two objects of two pages each share one area of five. */
	a = pmalloc(five, 2 * PAGE_SIZE);
	b = pmalloc(five, 2 * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_EQ(test, pmalloc_test_area_size(test, a), 5 * PAGE_SIZE);
	KUNIT_EXPECT_PTR_EQ(test, pmalloc_test_find_area(a),
			    pmalloc_test_find_area(b));
}

static void areas_are_tagged_and_page_mapped(struct kunit *test)
{
	struct pmalloc_pool *pool;
	struct vm_struct *vm;
	u8 *p;

	pmalloc_test_need_builtin(test);

	/* Large enough that vmalloc could have used huge pages for it. */
	pool = pmalloc_test_pool(test, SZ_4M, PMALLOC_ALIGN_DEFAULT);
	p = pmalloc(pool, 1);
	KUNIT_ASSERT_NOT_NULL(test, p);
	vm = pmalloc_test_find_area(p);
	KUNIT_ASSERT_NOT_NULL(test, vm);

	KUNIT_EXPECT_TRUE(test, vm->flags & VM_PMALLOC);
	KUNIT_EXPECT_TRUE(test, vm->flags & VM_FLUSH_RESET_PERMS);
	KUNIT_EXPECT_FALSE(test, vm->flags & VM_ALLOW_HUGE_VMAP);
	KUNIT_EXPECT_FALSE(test, pmalloc_test_huge_area(p));
	KUNIT_EXPECT_EQ(test, vm->nr_pages, SZ_4M >> PAGE_SHIFT);
}

/*
 * There is no free, so the bytes a call hands out have never been used,
 * and fresh vmalloc pages are often zero already: a zeroing call that
 * cleared nothing, or a copy that left its NUL out, would pass.  So the
 * rest of the first object's page is dirtied before the call under test
 * carves from it.  That page holds nothing but this pool's objects, which
 * is what makes writing past the object safe.
 */
static u8 *pmalloc_test_dirty_rest_of_page(struct kunit *test,
					   struct pmalloc_pool *pool,
					   size_t *room)
{
	u8 *first = pmalloc(pool, 1);

	KUNIT_ASSERT_NOT_NULL(test, first);
	*room = PAGE_SIZE - offset_in_page(first);
	memset(first, 0xa5, *room);
	return first;
}

static void pmalloc_test_expect_zeroed(struct kunit *test, const u8 *first,
				       size_t room, const u8 *z, size_t size)
{
	/* Unless it was carved from the dirtied bytes it proves nothing. */
	KUNIT_ASSERT_TRUE(test, z > first && z + size <= first + room);
	KUNIT_EXPECT_NULL(test, memchr_inv(z, 0, size));
	/* Zeroing stops at the object's end. */
	KUNIT_EXPECT_NULL(test, memchr_inv(z + size, 0xa5,
					   first + room - (z + size)));
}

static void pzalloc_zeroes_dirtied_memory(struct kunit *test)
{
	struct pmalloc_pool *pool;
	size_t room;
	u8 *first, *z;

	pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	first = pmalloc_test_dirty_rest_of_page(test, pool, &room);
	z = pzalloc(pool, 200);
	KUNIT_ASSERT_NOT_NULL(test, z);
	pmalloc_test_expect_zeroed(test, first, room, z, 200);
}

static void pcalloc_zeroes_dirtied_memory(struct kunit *test)
{
	struct pmalloc_pool *pool;
	size_t room;
	u8 *first;
	u64 *z;

	pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	first = pmalloc_test_dirty_rest_of_page(test, pool, &room);
	z = pcalloc(pool, 25, sizeof(*z));
	KUNIT_ASSERT_NOT_NULL(test, z);
	pmalloc_test_expect_zeroed(test, first, room, (u8 *)z,
				   25 * sizeof(*z));
}

/*
 * A pool left as it was serves the next object right after @prev, in the
 * area it came from; a refused call that added or used up an area would
 * move it.
 */
static void pmalloc_test_expect_next_after(struct kunit *test,
					   struct pmalloc_pool *pool,
					   const u8 *prev, size_t prev_size)
{
	const u8 *want = PTR_ALIGN(prev + prev_size, ARCH_KMALLOC_MINALIGN);
	u8 *next = pmalloc(pool, 1);

	KUNIT_ASSERT_NOT_NULL(test, next);
	KUNIT_EXPECT_PTR_EQ(test, next, want);
}

/* More than the machine has: vmalloc itself must refuse, quietly. */
static size_t pmalloc_test_twice_ram(void)
{
	return size_mul(totalram_pages(), 2 * PAGE_SIZE);
}

/* Number of calls with absurd sizes that returned an object. */
static unsigned int pmalloc_test_absurd_calls(struct pmalloc_pool *pool)
{
	const size_t sizes[] = {
		0, SIZE_MAX, SIZE_MAX - PAGE_SIZE + 2, SIZE_MAX - PAGE_SIZE + 1,
		SIZE_MAX / 2 + 1, pmalloc_test_twice_ram(),
	};
	unsigned int i, bad = 0;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		bad += !!pmalloc(pool, sizes[i]);
		bad += !!pzalloc(pool, sizes[i]);
		bad += !!pmalloc_array(pool, 1, sizes[i]);
		bad += !!pcalloc(pool, 1, sizes[i]);
	}
	return bad;
}

static void absurd_sizes_return_null_pool_unchanged(struct kunit *test)
{
	struct pmalloc_pool *pool;
	u8 *prev;

	pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	prev = pmalloc(pool, 24);
	KUNIT_ASSERT_NOT_NULL(test, prev);

	KUNIT_EXPECT_EQ(test, pmalloc_test_absurd_calls(pool), 0);
	pmalloc_test_expect_next_after(test, pool, prev, 24);
}

static unsigned int pmalloc_test_overflow_calls(struct pmalloc_pool *pool)
{
	static const size_t pairs[][2] = {
		{ SIZE_MAX / 2 + 1, 2 }, { 2, SIZE_MAX / 2 + 1 },
		{ SIZE_MAX, SIZE_MAX }, { SIZE_MAX / PAGE_SIZE + 1, PAGE_SIZE },
		{ 1UL << (BITS_PER_LONG / 2), 1UL << (BITS_PER_LONG / 2) },
		{ SIZE_MAX / 8, 8 }, { 0, 8 }, { 8, 0 },
	};
	unsigned int i, bad = 0;

	for (i = 0; i < ARRAY_SIZE(pairs); i++) {
		bad += !!pmalloc_array(pool, pairs[i][0], pairs[i][1]);
		bad += !!pcalloc(pool, pairs[i][0], pairs[i][1]);
	}
	return bad;
}

static void array_overflow_returns_null_pool_unchanged(struct kunit *test)
{
	struct pmalloc_pool *pool;
	u8 *prev;

	pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	prev = pmalloc_array(pool, 3, 5);
	KUNIT_ASSERT_NOT_NULL(test, prev);

	KUNIT_EXPECT_EQ(test, pmalloc_test_overflow_calls(pool), 0);
	pmalloc_test_expect_next_after(test, pool, prev, 15);
}

static unsigned int pmalloc_test_null_pool_calls(void)
{
	unsigned int bad = 0;

	bad += !!pmalloc(NULL, 8);
	bad += !!pzalloc(NULL, 8);
	bad += !!pmalloc_array(NULL, 2, 8);
	bad += !!pcalloc(NULL, 2, 8);
	bad += !!pstrdup(NULL, "pmalloc");
	bad += pmalloc_protect_pool(NULL) != -EINVAL;
	pmalloc_destroy_pool(NULL);
	return bad;
}

static void null_pool_is_refused_by_every_call(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, pmalloc_test_null_pool_calls(), 0);
}

/*
 * A refused call must not print: no WARN splat, no vmalloc allocation
 * failure report.  The case prints one line of its own inside the watch,
 * so a watch that sees nothing fails as well.  It runs first in the suite
 * because both kinds of report are printed once, or rate-limited: after
 * another case had set one off, this one would miss it.
 */
static void refused_calls_print_nothing(struct kunit *test)
{
	struct pmalloc_pool *pool;
	unsigned int bad;

	if (!pmalloc_test_console.registered)
		kunit_skip(test, "needs CONFIG_TRACEPOINTS to watch the console");

	pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	KUNIT_ASSERT_NOT_NULL(test, pmalloc(pool, 1));

	atomic_set(&pmalloc_test_console.lines, 0);
	WRITE_ONCE(pmalloc_test_console.task, current);
	kunit_info(test, "refused calls follow; nothing more may be printed\n");
	bad = pmalloc_test_absurd_calls(pool);
	bad += pmalloc_test_overflow_calls(pool);
	bad += pmalloc_test_null_pool_calls();
	bad += !!pstrdup(pool, NULL);
	WRITE_ONCE(pmalloc_test_console.task, NULL);

	KUNIT_EXPECT_EQ(test, bad, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&pmalloc_test_console.lines), 1);
}

static void pstrdup_copies_string_longer_than_page(struct kunit *test)
{
	size_t len = 3 * PAGE_SIZE + 100;
	struct pmalloc_pool *pool;
	char *s, *copy;
	size_t i;

	s = kunit_kmalloc(test, len + 1, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	for (i = 0; i < len; i++)
		s[i] = 'a' + i % 23 + i / PAGE_SIZE;
	s[len] = '\0';

	pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	copy = pstrdup(pool, s);
	KUNIT_ASSERT_NOT_NULL(test, copy);
	KUNIT_EXPECT_TRUE(test, is_vmalloc_addr(copy));
	KUNIT_EXPECT_EQ(test, strlen(copy), len);
	KUNIT_EXPECT_EQ(test, memcmp(copy, s, len + 1), 0);
}

/* The NUL is copied, not found: the copy lands on dirtied bytes. */
static void pstrdup_copies_the_nul(struct kunit *test)
{
	static const char s[] = "protected";
	struct pmalloc_pool *pool;
	size_t room;
	u8 *first;
	char *copy;

	pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	first = pmalloc_test_dirty_rest_of_page(test, pool, &room);
	copy = pstrdup(pool, s);
	KUNIT_ASSERT_NOT_NULL(test, copy);
	KUNIT_ASSERT_TRUE(test, (u8 *)copy > first);
	KUNIT_ASSERT_TRUE(test, (u8 *)copy + sizeof(s) <= first + room);
	KUNIT_EXPECT_EQ(test, memcmp(copy, s, sizeof(s)), 0);

	copy = pstrdup(pool, "");
	KUNIT_ASSERT_NOT_NULL(test, copy);
	KUNIT_ASSERT_TRUE(test, (u8 *)copy < first + room);
	KUNIT_EXPECT_EQ(test, copy[0], '\0');
}

static void pstrdup_of_null_returns_null(struct kunit *test)
{
	struct pmalloc_pool *pool;
	u8 *prev;

	pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	prev = pmalloc(pool, 40);
	KUNIT_ASSERT_NOT_NULL(test, prev);

	KUNIT_EXPECT_NULL(test, pstrdup(pool, NULL));
	pmalloc_test_expect_next_after(test, pool, prev, 40);
}

/*
 * Objects over several areas, protected, must refuse writes to every page
 * through the mappings in @maps and keep their bytes, as read through both.
 */
static void pmalloc_test_expect_protected_via(struct kunit *test,
					      unsigned int maps)
{
	struct pmalloc_test_obj *objs;
	struct pmalloc_pool *pool;
	unsigned int i;

	pmalloc_test_need_builtin(test);

	pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	objs = pmalloc_test_alloc_mixed(test, pool, 0);
	if (maps & PMALLOC_TEST_ALIAS)
		pmalloc_test_need_alias(test, objs, PMALLOC_TEST_NR_MIXED);
	pmalloc_test_protect(test, pool);

	for (i = 0; i < PMALLOC_TEST_NR_MIXED; i++) {
		pmalloc_test_expect_locked_via(test, &objs[i], maps);
		pmalloc_test_expect_intact(test, &objs[i]);
	}
}

static void protect_refuses_writes_through_vmalloc_address(struct kunit *test)
{
	pmalloc_test_expect_protected_via(test, PMALLOC_TEST_VMAP);
}

static void protect_refuses_writes_through_direct_map(struct kunit *test)
{
	pmalloc_test_expect_protected_via(test, PMALLOC_TEST_ALIAS);
}

/* The space given up at protect is read-only too: the whole area is. */
static void protect_locks_whole_area(struct kunit *test)
{
	struct pmalloc_test_obj area = { };
	struct pmalloc_pool *pool;
	struct vm_struct *vm;
	u8 *p;

	pmalloc_test_need_builtin(test);

	pool = pmalloc_test_pool(test, SZ_4M, PMALLOC_ALIGN_DEFAULT);
	p = pmalloc(pool, 1);
	KUNIT_ASSERT_NOT_NULL(test, p);
	vm = pmalloc_test_find_area(p);
	KUNIT_ASSERT_NOT_NULL(test, vm);
	pmalloc_test_protect(test, pool);

	area.p = vm->addr;
	area.size = get_vm_area_size(vm);
	pmalloc_test_expect_locked(test, &area);
}

/*
 * Objects from before and after a protect, for the iteration cases.  The
 * later ones are small enough to fit in the space the protect gave up.
 */
struct pmalloc_test_rounds {
	struct pmalloc_pool *pool;
	struct pmalloc_test_obj *before;
	struct pmalloc_test_obj after[4];
};

static void pmalloc_test_two_rounds(struct kunit *test,
				    struct pmalloc_test_rounds *r)
{
	static const size_t sizes[] = { 1, 24, 100, PAGE_SIZE };
	unsigned int i;

	r->pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	r->before = pmalloc_test_alloc_mixed(test, r->pool, 0);
	pmalloc_test_protect(test, r->pool);

	for (i = 0; i < ARRAY_SIZE(r->after); i++) {
		r->after[i].size = sizes[i];
		r->after[i].seed = PMALLOC_TEST_NR_MIXED + i;
		r->after[i].p = pmalloc(r->pool, sizes[i]);
		KUNIT_ASSERT_NOT_NULL(test, r->after[i].p);
		pmalloc_test_fill(&r->after[i]);
	}
}

static void objects_after_protect_get_fresh_pages(struct kunit *test)
{
	const struct pmalloc_test_obj *new, *old;
	struct pmalloc_test_rounds r;
	unsigned int i, j;
	bool shared;

	pmalloc_test_two_rounds(test, &r);
	for (i = 0; i < ARRAY_SIZE(r.after); i++) {
		new = &r.after[i];
		for (j = 0; j < PMALLOC_TEST_NR_MIXED; j++) {
			old = &r.before[j];
			shared = pmalloc_test_share_page(new, old);
			KUNIT_EXPECT_FALSE_MSG(test, shared,
					       "new object %u shares a page with protected object %u",
					       new->seed, old->seed);
		}
	}
}

static void objects_after_protect_are_writable(struct kunit *test)
{
	struct pmalloc_test_rounds r;
	unsigned int i;

	pmalloc_test_need_builtin(test);

	pmalloc_test_two_rounds(test, &r);
	for (i = 0; i < ARRAY_SIZE(r.after); i++) {
		pmalloc_test_expect_writable(test, &r.after[i]);
		pmalloc_test_expect_intact(test, &r.after[i]);
	}
	for (i = 0; i < PMALLOC_TEST_NR_MIXED; i++)
		pmalloc_test_expect_locked(test, &r.before[i]);
}

static void next_protect_locks_new_objects(struct kunit *test)
{
	struct pmalloc_test_rounds r;
	unsigned int i;

	pmalloc_test_need_builtin(test);

	pmalloc_test_two_rounds(test, &r);
	pmalloc_test_protect(test, r.pool);
	for (i = 0; i < ARRAY_SIZE(r.after); i++) {
		pmalloc_test_expect_locked(test, &r.after[i]);
		pmalloc_test_expect_intact(test, &r.after[i]);
	}
	for (i = 0; i < PMALLOC_TEST_NR_MIXED; i++) {
		pmalloc_test_expect_locked(test, &r.before[i]);
		pmalloc_test_expect_intact(test, &r.before[i]);
	}
}

static void protect_empty_pool_succeeds(struct kunit *test)
{
	struct pmalloc_test_obj obj = { .size = 100 };
	struct pmalloc_pool *pool;

	pmalloc_test_need_builtin(test);

	pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	KUNIT_EXPECT_EQ(test, pmalloc_test_try_protect(test, pool), 0);

	/* The pool still works, and the next protect still locks. */
	obj.p = pmalloc(pool, obj.size);
	KUNIT_ASSERT_NOT_NULL(test, obj.p);
	pmalloc_test_fill(&obj);
	pmalloc_test_expect_writable(test, &obj);
	pmalloc_test_protect(test, pool);
	pmalloc_test_expect_locked(test, &obj);
	pmalloc_test_expect_intact(test, &obj);
}

static void protect_twice_succeeds(struct kunit *test)
{
	struct pmalloc_test_obj *objs;
	struct pmalloc_pool *pool;
	unsigned int i;

	pmalloc_test_need_builtin(test);

	pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	objs = pmalloc_test_alloc_mixed(test, pool, 0);
	pmalloc_test_protect(test, pool);
	KUNIT_EXPECT_EQ(test, pmalloc_protect_pool(pool), 0);

	for (i = 0; i < PMALLOC_TEST_NR_MIXED; i++) {
		pmalloc_test_expect_locked(test, &objs[i]);
		pmalloc_test_expect_intact(test, &objs[i]);
	}
}

/*
 * What holds on every kernel: pmalloc_protect_pool() succeeds only if both
 * mappings then refuse writes.  Where the direct map would stay writable,
 * it fails with -EOPNOTSUPP and leaves the pool as it was: writable
 * through both mappings, serving the next object right after the last
 * one, and refusing again on the next call.
 */
static void protect_locks_direct_map_or_refuses(struct kunit *test)
{
	struct pmalloc_test_obj obj = { .size = PAGE_SIZE + 100 };
	struct pmalloc_pool *pool;
	int ret;

	pmalloc_test_need_builtin(test);

	pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	obj.p = pmalloc(pool, obj.size);
	KUNIT_ASSERT_NOT_NULL(test, obj.p);
	pmalloc_test_fill(&obj);
	pmalloc_test_need_alias(test, &obj, 1);

	ret = pmalloc_protect_pool(pool);
	if (!ret) {
		kunit_info(test, "protect succeeded: both mappings must refuse writes\n");
		pmalloc_test_expect_locked(test, &obj);
		pmalloc_test_expect_intact(test, &obj);
		KUNIT_EXPECT_EQ(test, is_pmalloc_object(obj.p, obj.size),
				PMALLOC_PROTECTED);
		return;
	}

	kunit_info(test, "protect refused with %d: the pool must be as it was\n",
		   ret);
	KUNIT_EXPECT_EQ(test, ret, -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, is_pmalloc_object(obj.p, obj.size),
			PMALLOC_WRITABLE);
	pmalloc_test_expect_writable(test, &obj);
	pmalloc_test_expect_intact(test, &obj);
	KUNIT_EXPECT_EQ(test, pmalloc_protect_pool(pool), -EOPNOTSUPP);
	pmalloc_test_expect_next_after(test, pool, obj.p, obj.size);
}

/*
 * is_pmalloc_object() looks at addresses only, so the cases below may name
 * bytes that must never be touched: the guard page vmalloc leaves after
 * an area, and whatever lies before it.
 */
static enum pmalloc_range pmalloc_test_range(unsigned long addr,
					     unsigned long n)
{
	return is_pmalloc_object((const void *)addr, n);
}

/* The bytes, from @start up to but not including @end, of one area. */
struct pmalloc_test_span {
	unsigned long start;
	unsigned long end;
};

static struct pmalloc_test_span pmalloc_test_span_of(struct kunit *test,
						     const void *p)
{
	struct vm_struct *vm = pmalloc_test_find_area(p);
	struct pmalloc_test_span span;

	KUNIT_ASSERT_NOT_NULL(test, vm);
	span.start = (unsigned long)vm->addr;
	span.end = span.start + get_vm_area_size(vm);
	return span;
}

static void range_outside_areas_is_outside(struct kunit *test)
{
	struct pmalloc_pool *pool;
	u8 stack[16] = { };
	u8 *heap, *vmem;

	/* A live area, for a careless lookup to mistake the others for. */
	pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	KUNIT_ASSERT_NOT_NULL(test, pmalloc(pool, 100));

	heap = kunit_kmalloc(test, 64, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, heap);
	vmem = vmalloc(2 * PAGE_SIZE);
	KUNIT_ASSERT_NOT_NULL(test, vmem);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							pmalloc_test_vfree,
							vmem), 0);

	KUNIT_EXPECT_EQ(test, is_pmalloc_object(heap, 64), PMALLOC_OUTSIDE);
	/* With CONFIG_VMAP_STACK this is a vmalloc address as well. */
	KUNIT_EXPECT_EQ(test, is_pmalloc_object(stack, sizeof(stack)),
			PMALLOC_OUTSIDE);
	KUNIT_EXPECT_EQ(test, is_pmalloc_object(vmem, 2 * PAGE_SIZE),
			PMALLOC_OUTSIDE);
}

static void range_inside_area_follows_protect_and_destroy(struct kunit *test)
{
	struct pmalloc_pool *pool;
	u8 *old, *new;

	pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	old = pmalloc(pool, 100);
	KUNIT_ASSERT_NOT_NULL(test, old);
	KUNIT_EXPECT_EQ(test, is_pmalloc_object(old, 100), PMALLOC_WRITABLE);
	KUNIT_EXPECT_EQ(test, is_pmalloc_object(old + 99, 1), PMALLOC_WRITABLE);

	pmalloc_test_protect(test, pool);
	KUNIT_EXPECT_EQ(test, is_pmalloc_object(old, 100), PMALLOC_PROTECTED);
	KUNIT_EXPECT_EQ(test, is_pmalloc_object(old + 99, 1), PMALLOC_PROTECTED);

	/* A later object is in a fresh area, writable until the next protect. */
	new = pmalloc(pool, 100);
	KUNIT_ASSERT_NOT_NULL(test, new);
	KUNIT_EXPECT_EQ(test, is_pmalloc_object(new, 100), PMALLOC_WRITABLE);
	KUNIT_EXPECT_EQ(test, is_pmalloc_object(old, 100), PMALLOC_PROTECTED);
	pmalloc_test_protect(test, pool);
	KUNIT_EXPECT_EQ(test, is_pmalloc_object(new, 100), PMALLOC_PROTECTED);

	/* Only the addresses are looked up: the memory is gone. */
	kunit_release_action(test, pmalloc_test_destroy, pool);
	KUNIT_EXPECT_EQ(test, is_pmalloc_object(old, 100), PMALLOC_OUTSIDE);
	KUNIT_EXPECT_EQ(test, is_pmalloc_object(new, 100), PMALLOC_OUTSIDE);
}

/* Ranges that end at the last byte of @p's area all lie @inside it. */
static void pmalloc_test_expect_inside(struct kunit *test, const u8 *p,
				       enum pmalloc_range inside)
{
	struct pmalloc_test_span a = pmalloc_test_span_of(test, p);
	unsigned long obj = (unsigned long)p;

	KUNIT_EXPECT_EQ(test, pmalloc_test_range(a.start, a.end - a.start),
			inside);
	KUNIT_EXPECT_EQ(test, pmalloc_test_range(obj, a.end - obj), inside);
	KUNIT_EXPECT_EQ(test, pmalloc_test_range(a.end - 8, 8), inside);
	KUNIT_EXPECT_EQ(test, pmalloc_test_range(a.end - 1, 1), inside);
}

static void range_to_last_byte_is_inside(struct kunit *test)
{
	struct pmalloc_pool *pool;
	u8 *p;

	pmalloc_test_need_builtin(test);

	pool = pmalloc_test_pool(test, 2 * PAGE_SIZE, PMALLOC_ALIGN_DEFAULT);
	p = pmalloc(pool, 100);
	KUNIT_ASSERT_NOT_NULL(test, p);
	pmalloc_test_expect_inside(test, p, PMALLOC_WRITABLE);
	pmalloc_test_protect(test, pool);
	pmalloc_test_expect_inside(test, p, PMALLOC_PROTECTED);
}

/*
 * One byte more at either end of @p's area straddles its edge, and that
 * byte alone is in no area: after an area comes its own guard page, and
 * before it the guard page of another vmalloc area, or nothing.
 */
static void pmalloc_test_expect_edges(struct kunit *test, const u8 *p)
{
	struct pmalloc_test_span a = pmalloc_test_span_of(test, p);
	unsigned long size = a.end - a.start;

	KUNIT_EXPECT_EQ(test, pmalloc_test_range(a.end - 1, 2),
			PMALLOC_STRADDLES);
	KUNIT_EXPECT_EQ(test, pmalloc_test_range(a.start, size + 1),
			PMALLOC_STRADDLES);
	KUNIT_EXPECT_EQ(test, pmalloc_test_range(a.start - 1, 2),
			PMALLOC_STRADDLES);
	KUNIT_EXPECT_EQ(test, pmalloc_test_range(a.start - 1, size + 1),
			PMALLOC_STRADDLES);
	KUNIT_EXPECT_EQ(test, pmalloc_test_range(a.start - 1, size + 2),
			PMALLOC_STRADDLES);
	KUNIT_EXPECT_EQ(test, pmalloc_test_range(a.end, 1), PMALLOC_OUTSIDE);
	KUNIT_EXPECT_EQ(test, pmalloc_test_range(a.start - 1, 1),
			PMALLOC_OUTSIDE);
}

static void range_past_either_edge_straddles(struct kunit *test)
{
	struct pmalloc_pool *pool;
	u8 *p;

	pmalloc_test_need_builtin(test);

	pool = pmalloc_test_pool(test, 2 * PAGE_SIZE, PMALLOC_ALIGN_DEFAULT);
	p = pmalloc(pool, 100);
	KUNIT_ASSERT_NOT_NULL(test, p);
	pmalloc_test_expect_edges(test, p);
	pmalloc_test_protect(test, pool);
	pmalloc_test_expect_edges(test, p);
}

/* As documented, an empty range is looked up as the byte it starts at. */
static void empty_range_is_taken_as_one_byte(struct kunit *test)
{
	struct pmalloc_test_span a;
	struct pmalloc_pool *pool;
	u8 *p, *heap;

	pmalloc_test_need_builtin(test);

	heap = kunit_kmalloc(test, 8, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, heap);
	pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	p = pmalloc(pool, 100);
	KUNIT_ASSERT_NOT_NULL(test, p);
	a = pmalloc_test_span_of(test, p);

	KUNIT_EXPECT_EQ(test, is_pmalloc_object(heap, 0), PMALLOC_OUTSIDE);
	KUNIT_EXPECT_EQ(test, is_pmalloc_object(p, 0), PMALLOC_WRITABLE);
	KUNIT_EXPECT_EQ(test, pmalloc_test_range(a.end - 1, 0),
			PMALLOC_WRITABLE);
	KUNIT_EXPECT_EQ(test, pmalloc_test_range(a.end, 0), PMALLOC_OUTSIDE);
	KUNIT_EXPECT_EQ(test, pmalloc_test_range(a.start - 1, 0),
			PMALLOC_OUTSIDE);
	pmalloc_test_protect(test, pool);
	KUNIT_EXPECT_EQ(test, is_pmalloc_object(p, 0), PMALLOC_PROTECTED);
}

/*
 * A range whose end wraps past ULONG_MAX covers the rest of the address
 * space, so it straddles the area it starts in, even when the wrapped end
 * lands back inside that area.
 */
static void range_wrapping_past_ulong_max_straddles(struct kunit *test)
{
	struct pmalloc_pool *pool;
	unsigned long to_top;
	u8 *p, *q;

	pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	p = pmalloc(pool, 100);
	q = pmalloc(pool, 100);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_NOT_NULL(test, q);
	/* q + ULONG_MAX - 1 wraps to q - 2, which this area holds as well. */
	KUNIT_ASSERT_EQ(test, is_pmalloc_object(q - 2, 3), PMALLOC_WRITABLE);

	KUNIT_EXPECT_EQ(test, is_pmalloc_object(q, ULONG_MAX),
			PMALLOC_STRADDLES);
	/* From q to the last address, then one byte more: the end wraps. */
	to_top = ULONG_MAX - (unsigned long)q + 1;
	KUNIT_EXPECT_EQ(test, is_pmalloc_object(q, to_top), PMALLOC_STRADDLES);
	KUNIT_EXPECT_EQ(test, is_pmalloc_object(q, to_top + 1),
			PMALLOC_STRADDLES);

	pmalloc_test_protect(test, pool);
	KUNIT_EXPECT_EQ(test, is_pmalloc_object(q, ULONG_MAX),
			PMALLOC_STRADDLES);
}

/*
 * Destroy hands the pages back to the page allocator, after which anyone
 * may own them and writing to them would be a bug.  Taking a reference on
 * each page first keeps it from being freed: vfree() only drops its own
 * reference, yet still resets the direct map, so the pages stay ours to
 * write until the references are put when the case ends.
 */
static void destroy_restores_direct_map(struct kunit *test)
{
	struct pmalloc_test_obj obj = { .size = 2 * PAGE_SIZE + 1 };
	struct page *pages[3];
	struct pmalloc_pool *pool;
	unsigned int i;
	u8 *alias, old;

	pmalloc_test_need_builtin(test);

	pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	obj.p = pmalloc(pool, obj.size);
	KUNIT_ASSERT_NOT_NULL(test, obj.p);
	pmalloc_test_fill(&obj);
	pmalloc_test_need_alias(test, &obj, 1);

	for (i = 0; i < ARRAY_SIZE(pages); i++) {
		pages[i] = vmalloc_to_page(obj.p + i * PAGE_SIZE);
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
		get_page(pages[i]);
		KUNIT_ASSERT_EQ(test,
				kunit_add_action_or_reset(test,
							  pmalloc_test_put_page,
							  pages[i]), 0);
	}

	pmalloc_test_protect(test, pool);
	pmalloc_test_expect_locked(test, &obj);
	kunit_release_action(test, pmalloc_test_destroy, pool);

	for (i = 0; i < ARRAY_SIZE(pages); i++) {
		alias = page_address(pages[i]);
		if (!alias)
			continue;
		old = READ_ONCE(*alias);
		KUNIT_EXPECT_EQ_MSG(test, pmalloc_test_flip(alias), 0,
				    "page %u still read-only after destroy", i);
		KUNIT_EXPECT_EQ(test, *alias, (u8)~old);
	}
}

#define PMALLOC_TEST_CYCLES	1000

/*
 * Pages in vmalloc use, net of what the pools took, after @cycles pool
 * lifetimes; *@peak is the most pages seen in use above the start.
 */
static long pmalloc_test_cycles(struct kunit *test, unsigned int cycles,
				long *peak)
{
	unsigned long start = pmalloc_test_vmalloc_pages();
	struct pmalloc_pool *pool;
	unsigned int i, bad = 0;
	long used;

	for (i = 0; i < cycles; i++) {
		pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
		bad += !pmalloc(pool, 100);
		bad += !pmalloc(pool, 2 * PAGE_SIZE);
		used = pmalloc_test_vmalloc_pages() - start;
		*peak = max(*peak, used);
		pmalloc_test_protect(test, pool);
		kunit_release_action(test, pmalloc_test_destroy, pool);
	}
	KUNIT_EXPECT_EQ(test, bad, 0);
	return pmalloc_test_vmalloc_pages() - start;
}

/*
 * vfree() drops the vmalloc page count before it returns, so the count is
 * back at its start once the pools are gone.  It is global, though, and
 * other tasks may vmalloc meanwhile (a new kthread's stack, say): a leak
 * shows in every attempt, such noise in few.
 */
static void pool_cycles_do_not_leak(struct kunit *test)
{
	long leaked = 0, peak = 0;
	unsigned int attempt;

	pmalloc_test_need_builtin(test);

	for (attempt = 0; attempt < 3; attempt++) {
		leaked = pmalloc_test_cycles(test, PMALLOC_TEST_CYCLES, &peak);
		if (!leaked)
			break;
	}
	/* Unless the count saw the pools' pages, it proves nothing. */
	KUNIT_EXPECT_GE(test, peak, 3);
	KUNIT_EXPECT_EQ(test, leaked, 0);
}

#define PMALLOC_TEST_THREADS		2
#define PMALLOC_TEST_THREAD_OBJS	256

struct pmalloc_test_worker {
	struct pmalloc_pool *pool;
	struct completion *start;
	struct completion done;
	unsigned int id;
	unsigned int failed;
	struct pmalloc_test_obj objs[PMALLOC_TEST_THREAD_OBJS];
};

static int pmalloc_test_worker_fn(void *data)
{
	struct pmalloc_test_worker *w = data;
	struct pmalloc_test_obj *obj;
	unsigned int i;

	wait_for_completion(w->start);
	for (i = 0; i < PMALLOC_TEST_THREAD_OBJS; i++) {
		obj = &w->objs[i];
		obj->seed = w->id * PMALLOC_TEST_THREAD_OBJS + i;
		obj->size = 1 + (i * 53 + w->id * 17) % 300;
		if (i % 32 == 31)
			obj->size += PAGE_SIZE + i;
		obj->p = pmalloc(w->pool, obj->size);
		if (!obj->p) {
			w->failed++;
			continue;
		}
		pmalloc_test_fill(obj);
	}
	kthread_complete_and_exit(&w->done, 0);
}

static void two_threads_share_a_pool(struct kunit *test)
{
	const unsigned int total = PMALLOC_TEST_THREADS *
				   PMALLOC_TEST_THREAD_OBJS;
	struct pmalloc_test_worker *workers;
	struct pmalloc_test_obj *all;
	struct task_struct *task;
	struct pmalloc_pool *pool;
	struct completion start;
	unsigned int i, j, n = 0, started;

	pmalloc_test_need_builtin(test);

	workers = kunit_kcalloc(test, PMALLOC_TEST_THREADS, sizeof(*workers),
				GFP_KERNEL);
	all = kunit_kcalloc(test, total, sizeof(*all), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, workers);
	KUNIT_ASSERT_NOT_NULL(test, all);
	pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);

	init_completion(&start);
	for (started = 0; started < PMALLOC_TEST_THREADS; started++) {
		workers[started].pool = pool;
		workers[started].start = &start;
		workers[started].id = started;
		init_completion(&workers[started].done);
		task = kthread_run(pmalloc_test_worker_fn, &workers[started],
				   "pmalloc_test/%u", started);
		if (IS_ERR(task))
			break;
	}
	/* Release them together; whoever started must finish before checks. */
	complete_all(&start);
	for (i = 0; i < started; i++)
		wait_for_completion(&workers[i].done);
	KUNIT_ASSERT_EQ(test, started, PMALLOC_TEST_THREADS);

	for (i = 0; i < PMALLOC_TEST_THREADS; i++) {
		KUNIT_EXPECT_EQ(test, workers[i].failed, 0);
		for (j = 0; j < PMALLOC_TEST_THREAD_OBJS; j++)
			if (workers[i].objs[j].p)
				all[n++] = workers[i].objs[j];
	}
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_TRUE_MSG(test, pmalloc_test_match(&all[i],
							       all[i].p, 0,
							       all[i].size),
				      "object %u corrupted", all[i].seed);
	pmalloc_test_expect_disjoint(test, all, n);

	pmalloc_test_protect(test, pool);
	for (i = 0; i < n; i += 17) {
		pmalloc_test_expect_locked(test, &all[i]);
		pmalloc_test_expect_intact(test, &all[i]);
	}
}

#define PMALLOC_TEST_RACERS		3
#define PMALLOC_TEST_RACER_OBJS		1024
#define PMALLOC_TEST_RACE_PROTECTS	20
#define PMALLOC_TEST_RACE_BATCH		16

/*
 * Allocators racing a protector.  The protector counts the protect calls
 * it has begun and those that have returned; an allocator reads the second
 * count before each pmalloc() and the first after looking up the object.
 * Allocators go in batches, each after one more protect has returned, so
 * that the objects spread over all the protects.
 */
struct pmalloc_test_race {
	struct pmalloc_pool *pool;
	struct completion start;
	atomic_t begun;
	atomic_t returned;
	bool stop;
	int err;
};

struct pmalloc_test_racer {
	struct pmalloc_test_race *race;
	struct completion done;
	unsigned int id;
	unsigned int nr;
	unsigned int failed;	/* pmalloc() returned NULL */
	unsigned int bad;	/* misaligned, or not inside one area */
	unsigned int late;	/* carved from an area already protected */
	int first, last;	/* fewest and most protects returned before */
	u8 *pattern;		/* what each object is filled with */
	struct pmalloc_test_obj objs[PMALLOC_TEST_RACER_OBJS];
	bool filled[PMALLOC_TEST_RACER_OBJS];
};

static int pmalloc_test_racer_fn(void *data)
{
	struct pmalloc_test_racer *w = data;
	struct pmalloc_test_race *race = w->race;
	struct pmalloc_test_obj *obj;
	enum pmalloc_range range;
	int before, after, seen = 0;
	size_t j;

	wait_for_completion(&race->start);
	for (w->nr = 0; w->nr < PMALLOC_TEST_RACER_OBJS; w->nr++) {
		if (w->nr % PMALLOC_TEST_RACE_BATCH == 0) {
			/* After the last protect, one batch stays writable. */
			if (READ_ONCE(race->stop))
				break;
			wait_var_event(&race->returned,
				       atomic_read(&race->returned) != seen ||
				       READ_ONCE(race->stop));
			seen = atomic_read(&race->returned);
		}
		obj = &w->objs[w->nr];
		obj->seed = w->id * PMALLOC_TEST_RACER_OBJS + w->nr;
		obj->size = 1 + (w->nr * 37 + w->id * 11) % 120;
		if (w->nr % 64 == 63)
			obj->size += PAGE_SIZE;

		before = atomic_read_acquire(&race->returned);
		obj->p = pmalloc(race->pool, obj->size);
		if (!obj->p) {
			w->failed++;
			continue;
		}
		range = is_pmalloc_object(obj->p, obj->size);
		/* Pairs with the barrier between begun and protect. */
		smp_rmb();
		after = atomic_read(&race->begun);
		if ((range != PMALLOC_WRITABLE && range != PMALLOC_PROTECTED) ||
		    !IS_ALIGNED((unsigned long)obj->p, ARCH_KMALLOC_MINALIGN))
			w->bad++;
		/*
		 * Protected already, though no protect call began between
		 * the one that returned last before pmalloc() and the
		 * lookup: the object came from an area protected before it
		 * was asked for.
		 */
		if (range == PMALLOC_PROTECTED && after == before)
			w->late++;
		w->first = min(w->first, before);
		w->last = max(w->last, before);

		/* The area may be made read-only under the fill. */
		for (j = 0; j < obj->size; j++)
			w->pattern[j] = pmalloc_test_byte(obj->seed, j);
		w->filled[w->nr] = !pmalloc_test_write(obj->p, w->pattern,
						       obj->size);
		cond_resched();
	}
	kthread_complete_and_exit(&w->done, 0);
}

static int pmalloc_test_cmp_obj(const void *a, const void *b)
{
	const struct pmalloc_test_obj *x = a, *y = b;

	return x->p < y->p ? -1 : x->p > y->p;
}

/*
 * Three threads allocate objects of mostly small sizes, so that nearly
 * every call takes the lockless path, while this one protects the pool
 * over and over; they allocate one batch more once it has stopped.  Every
 * object must be aligned, inside one area, never taken from an area
 * protected before it was asked for, distinct from the others, hold what
 * was written to it if the write went through, and in the end refuse
 * writes if its area is protected and take them if not.
 */
static void allocation_races_protect(struct kunit *test)
{
	const unsigned int total = PMALLOC_TEST_RACERS * PMALLOC_TEST_RACER_OBJS;
	unsigned int i, j, n = 0, started, protects = 0;
	unsigned int locked = 0, writable = 0, refused = 0;
	int first = INT_MAX, last = 0;
	struct pmalloc_test_racer *racers;
	struct pmalloc_test_race *race;
	struct pmalloc_test_obj *all;
	enum pmalloc_range range;
	struct task_struct *task;
	bool *filled;

	pmalloc_test_need_builtin(test);

	race = kunit_kzalloc(test, sizeof(*race), GFP_KERNEL);
	racers = kunit_kcalloc(test, PMALLOC_TEST_RACERS, sizeof(*racers),
			       GFP_KERNEL);
	all = kunit_kcalloc(test, total, sizeof(*all), GFP_KERNEL);
	filled = kunit_kcalloc(test, total, sizeof(*filled), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, race);
	KUNIT_ASSERT_NOT_NULL(test, racers);
	KUNIT_ASSERT_NOT_NULL(test, all);
	KUNIT_ASSERT_NOT_NULL(test, filled);

	race->pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	KUNIT_ASSERT_NOT_NULL(test, pmalloc(race->pool, 1));
	pmalloc_test_protect(test, race->pool);

	init_completion(&race->start);
	for (i = 0; i < PMALLOC_TEST_RACERS; i++) {
		racers[i].race = race;
		racers[i].id = i;
		racers[i].first = INT_MAX;
		racers[i].pattern = kunit_kmalloc(test, 2 * PAGE_SIZE,
						  GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, racers[i].pattern);
		init_completion(&racers[i].done);
	}
	for (started = 0; started < PMALLOC_TEST_RACERS; started++) {
		task = kthread_run(pmalloc_test_racer_fn, &racers[started],
				   "pmalloc_test_race/%u", started);
		if (IS_ERR(task))
			break;
	}
	complete_all(&race->start);
	for (; protects < PMALLOC_TEST_RACE_PROTECTS; protects++) {
		atomic_inc(&race->begun);
		/* Pairs with the racers' smp_rmb(). */
		smp_mb__after_atomic();
		race->err = pmalloc_protect_pool(race->pool);
		/* Fully ordered, as wake_up_var() needs. */
		atomic_inc_return(&race->returned);
		wake_up_var(&race->returned);
		if (race->err)
			break;
		schedule_timeout_uninterruptible(1);
	}
	WRITE_ONCE(race->stop, true);
	/* The racers' wait must see stop once woken. */
	smp_mb();
	wake_up_var(&race->returned);
	for (i = 0; i < started; i++)
		wait_for_completion(&racers[i].done);
	KUNIT_ASSERT_EQ(test, started, PMALLOC_TEST_RACERS);
	KUNIT_EXPECT_EQ(test, race->err, 0);

	for (i = 0; i < PMALLOC_TEST_RACERS; i++) {
		KUNIT_EXPECT_EQ(test, racers[i].failed, 0);
		KUNIT_EXPECT_EQ(test, racers[i].bad, 0);
		KUNIT_EXPECT_EQ(test, racers[i].late, 0);
		first = min(first, racers[i].first);
		last = max(last, racers[i].last);
		for (j = 0; j < racers[i].nr; j++) {
			if (!racers[i].objs[j].p)
				continue;
			filled[n] = racers[i].filled[j];
			all[n++] = racers[i].objs[j];
		}
	}

	for (i = 0; i < n; i++) {
		range = is_pmalloc_object(all[i].p, all[i].size);
		if (filled[i])
			KUNIT_EXPECT_TRUE_MSG(test,
					      pmalloc_test_match(&all[i],
								 all[i].p, 0,
								 all[i].size),
					      "object %u changed", all[i].seed);
		else
			refused++;
		if (range == PMALLOC_PROTECTED) {
			locked++;
			pmalloc_test_expect_locked(test, &all[i]);
		} else {
			writable++;
			KUNIT_EXPECT_EQ(test, range, PMALLOC_WRITABLE);
			/* A write refused once is refused for good. */
			KUNIT_EXPECT_TRUE_MSG(test, filled[i],
					      "object %u refused a write, yet is writable",
					      all[i].seed);
			pmalloc_test_expect_writable(test, &all[i]);
		}
	}

	sort(all, n, sizeof(*all), pmalloc_test_cmp_obj, NULL);
	for (i = 1; i < n; i++)
		KUNIT_EXPECT_FALSE_MSG(test, pmalloc_test_overlap(&all[i - 1],
								  &all[i]),
				       "objects %u and %u overlap",
				       all[i - 1].seed, all[i].seed);

	kunit_info(test, "%u objects between protects %d and %d of %u: %u protected, %u writable, %u writes refused\n",
		   n, first, last, protects, locked, writable, refused);
	/* Unless protects landed among the allocations, this proves little. */
	KUNIT_EXPECT_EQ(test, protects, PMALLOC_TEST_RACE_PROTECTS);
	KUNIT_EXPECT_GT(test, last, first);
	KUNIT_EXPECT_GT(test, locked, 0);
	KUNIT_EXPECT_GT(test, writable, 0);
}

/* A write-rare pool that is destroyed when the case ends. */
static struct pmalloc_pool *pmalloc_test_wr_pool(struct kunit *test,
						 size_t refill)
{
	struct pmalloc_pool *pool;

	pool = pmalloc_create_wr_pool(refill, PMALLOC_ALIGN_DEFAULT);
	KUNIT_ASSERT_NOT_NULL(test, pool);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							pmalloc_test_destroy,
							pool), 0);
	return pool;
}

/*
 * Write-rare writes to protected memory need a second mapping of the page
 * for the writing CPU, which pmalloc has on x86 and on arm64 (there only
 * with CONFIG_EXECMEM, as mm/pmalloc.c explains); elsewhere they must fail
 * with -EOPNOTSUPP and change nothing.  Check that on the protected byte
 * at @p, then skip the case, whose claims cannot be tested there.
 */
static void pmalloc_test_need_wr(struct kunit *test, u8 *p)
{
	u8 byte = *p;

	if (IS_ENABLED(CONFIG_X86) ||
	    (IS_ENABLED(CONFIG_ARM64) && IS_ENABLED(CONFIG_EXECMEM)))
		return;
	KUNIT_ASSERT_EQ(test, pmalloc_wr_memcpy(p, &byte, 1), -EOPNOTSUPP);
	KUNIT_ASSERT_EQ(test, *p, byte);
	kunit_skip(test,
		   "write-rare refused (-EOPNOTSUPP): no write mapping on this architecture");
}

/* An object of @size bytes from @pool, filled with the pattern @seed. */
static struct pmalloc_test_obj pmalloc_test_new_obj(struct kunit *test,
						    struct pmalloc_pool *pool,
						    size_t size,
						    unsigned int seed)
{
	struct pmalloc_test_obj obj = { .size = size, .seed = seed };

	obj.p = pmalloc(pool, size);
	KUNIT_ASSERT_NOT_NULL(test, obj.p);
	pmalloc_test_fill(&obj);
	return obj;
}

/* The @size bytes at @p must be those at @want, through both mappings. */
static void pmalloc_test_expect_bytes(struct kunit *test, const u8 *p,
				      const u8 *want, size_t size)
{
	size_t off, len;
	u8 *alias;

	KUNIT_EXPECT_TRUE_MSG(test, !memcmp(p, want, size),
			      "%zu bytes differ", size);
	for (off = 0; off < size; off += len) {
		len = min(size - off, PAGE_SIZE - offset_in_page(p + off));
		alias = pmalloc_test_alias(test, p + off);
		if (alias)
			KUNIT_EXPECT_TRUE_MSG(test, !memcmp(alias, want + off, len),
					      "offset %zu differs in the direct map",
					      off);
	}
}

/* A write-rare update of @len bytes at @off into a three-page object. */
struct pmalloc_test_wr_range {
	size_t off;
	size_t len;
	const char *what;
};

static const struct pmalloc_test_wr_range pmalloc_test_wr_ranges[] = {
	{ 0, 1, "1 byte" },
	{ 8, 8, "8 bytes" },
	{ 64, 64, "64 bytes" },
	{ 0, SZ_4K, "4096 bytes" },
	{ PAGE_SIZE - 32, 64, "64 bytes across a page boundary" },
	{ 100, SZ_4K, "4096 bytes from offset 100" },
	{ PAGE_SIZE / 2, 2 * PAGE_SIZE, "two pages across two boundaries" },
	/* Unaligned starts and ends, which arm64 writes as merged words. */
	{ 1, 2, "2 bytes inside one word" },
	{ 3, 6, "6 bytes from offset 3" },
	{ PAGE_SIZE - 2, 5, "5 bytes from 2 before a page boundary" },
	{ 5, 1023, "1023 bytes from offset 5" },
};

static void pmalloc_test_wr_range_desc(const struct pmalloc_test_wr_range *r,
				       char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", r->what);
}

KUNIT_ARRAY_PARAM(pmalloc_test_wr_range, pmalloc_test_wr_ranges,
		  pmalloc_test_wr_range_desc);

/*
 * Update part of a protected object, copying a pattern in or, with
 * @fill, setting every byte to one value.  The range must change, the rest
 * keep its bytes, and all of it stay read-only through both mappings.
 */
static void pmalloc_test_wr_update(struct kunit *test, bool fill)
{
	const struct pmalloc_test_wr_range *r = test->param_value;
	struct pmalloc_test_obj obj, src;
	struct pmalloc_pool *pool;
	u8 *want;
	int ret;

	pmalloc_test_need_builtin(test);
	KUNIT_ASSERT_LE(test, r->off + r->len, 3 * PAGE_SIZE);

	pool = pmalloc_test_wr_pool(test, 3 * PAGE_SIZE);
	obj = pmalloc_test_new_obj(test, pool, 3 * PAGE_SIZE, 1);
	pmalloc_test_protect(test, pool);
	pmalloc_test_need_wr(test, obj.p);

	src.size = r->len;
	src.seed = 2;
	src.p = kunit_kmalloc(test, r->len, GFP_KERNEL);
	want = kunit_kmalloc(test, obj.size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, src.p);
	KUNIT_ASSERT_NOT_NULL(test, want);
	pmalloc_test_fill(&src);
	memcpy(want, obj.p, obj.size);
	if (fill)
		memset(want + r->off, 0xa5, r->len);
	else
		memcpy(want + r->off, src.p, r->len);
	KUNIT_ASSERT_NE(test, memcmp(want + r->off, obj.p + r->off, r->len), 0);

	if (fill)
		ret = pmalloc_wr_memset(obj.p + r->off, 0xa5, r->len);
	else
		ret = pmalloc_wr_memcpy(obj.p + r->off, src.p, r->len);
	KUNIT_EXPECT_EQ(test, ret, 0);
	pmalloc_test_expect_bytes(test, obj.p, want, obj.size);

	pmalloc_test_expect_locked(test, &obj);
	pmalloc_test_expect_bytes(test, obj.p, want, obj.size);
}

static void wr_memcpy_updates_protected_object(struct kunit *test)
{
	pmalloc_test_wr_update(test, false);
}

static void wr_memset_updates_protected_object(struct kunit *test)
{
	pmalloc_test_wr_update(test, true);
}

/* Before protect, the write lands in place and the pages stay writable. */
static void wr_before_protect_writes_in_place(struct kunit *test)
{
	struct pmalloc_test_obj obj, next;
	struct pmalloc_pool *pool;

	pmalloc_test_need_builtin(test);

	pool = pmalloc_test_wr_pool(test, 0);
	obj = pmalloc_test_new_obj(test, pool, 200, 1);
	next = obj;
	next.seed = 2;
	next.p = kunit_kmalloc(test, next.size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, next.p);
	pmalloc_test_fill(&next);

	KUNIT_EXPECT_EQ(test, pmalloc_wr_memcpy(obj.p, next.p, obj.size), 0);
	obj.seed = 2;
	pmalloc_test_expect_intact(test, &obj);
	pmalloc_test_expect_writable(test, &obj);
}

/* Scalars of several sizes, assigned after protect. */
struct pmalloc_test_scalars {
	u8 byte;
	u16 half;
	u32 word;
	u64 quad;
	unsigned long ulong;
};

static void wr_assign_sets_scalars(struct kunit *test)
{
	struct pmalloc_test_obj obj = { .size = sizeof(struct pmalloc_test_scalars) };
	struct pmalloc_test_scalars *s;
	struct pmalloc_pool *pool;

	pmalloc_test_need_builtin(test);

	pool = pmalloc_test_wr_pool(test, 0);
	s = pzalloc(pool, sizeof(*s));
	KUNIT_ASSERT_NOT_NULL(test, s);
	pmalloc_test_protect(test, pool);
	pmalloc_test_need_wr(test, (u8 *)s);

	KUNIT_EXPECT_EQ(test, pmalloc_wr_assign(s->byte, 0x5a), 0);
	KUNIT_EXPECT_EQ(test, pmalloc_wr_assign(s->half, 0xbeef), 0);
	KUNIT_EXPECT_EQ(test, pmalloc_wr_assign(s->word, 0xdeadbeef), 0);
	KUNIT_EXPECT_EQ(test, pmalloc_wr_assign(s->quad, 0x0123456789abcdefULL), 0);
	KUNIT_EXPECT_EQ(test, pmalloc_wr_assign(s->ulong, ULONG_MAX), 0);
	KUNIT_EXPECT_EQ(test, s->byte, 0x5a);
	KUNIT_EXPECT_EQ(test, s->half, 0xbeef);
	KUNIT_EXPECT_EQ(test, s->word, 0xdeadbeef);
	KUNIT_EXPECT_EQ(test, s->quad, 0x0123456789abcdefULL);
	KUNIT_EXPECT_EQ(test, s->ulong, ULONG_MAX);

	obj.p = (u8 *)s;
	pmalloc_test_expect_locked(test, &obj);
}

/*
 * Try every write-rare call on the @n bytes at @dst, each of which must be
 * refused with @err; return how many were not.
 */
static unsigned int pmalloc_test_wr_refused(u8 *dst, size_t n, int err)
{
	static const u8 src[16];
	unsigned int bad = 0;

	bad += pmalloc_wr_memcpy(dst, src, n) != err;
	bad += pmalloc_wr_memset(dst, 0, n) != err;
	if (n == sizeof(void *))
		bad += pmalloc_wr_ptr_release(dst, NULL) != err;
	return bad;
}

static void wr_plain_pool_is_refused(struct kunit *test)
{
	struct pmalloc_test_obj open, locked;
	struct pmalloc_pool *pool;
	u64 *slot;

	pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	locked = pmalloc_test_new_obj(test, pool, 64, 1);
	pmalloc_test_protect(test, pool);
	open = pmalloc_test_new_obj(test, pool, 64, 2);

	KUNIT_EXPECT_EQ(test, pmalloc_test_wr_refused(locked.p, 8, -EPERM), 0);
	KUNIT_EXPECT_EQ(test, pmalloc_test_wr_refused(open.p, 8, -EPERM), 0);
	slot = (u64 *)locked.p;
	KUNIT_EXPECT_EQ(test, pmalloc_wr_assign(*slot, 0), -EPERM);
	pmalloc_test_expect_intact(test, &locked);
	pmalloc_test_expect_intact(test, &open);
}

static void wr_non_pmalloc_address_is_refused(struct kunit *test)
{
	struct pmalloc_test_obj heap = { .size = 64, .seed = 1 };
	struct pmalloc_test_obj vmem = { .size = 64, .seed = 2 };
	struct pmalloc_test_obj stack = { .size = 16, .seed = 3 };
	u8 on_stack[16];

	heap.p = kunit_kmalloc(test, heap.size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, heap.p);
	vmem.p = vmalloc(vmem.size);
	KUNIT_ASSERT_NOT_NULL(test, vmem.p);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, pmalloc_test_vfree,
							vmem.p), 0);
	stack.p = on_stack;
	pmalloc_test_fill(&heap);
	pmalloc_test_fill(&vmem);
	pmalloc_test_fill(&stack);

	KUNIT_EXPECT_EQ(test, pmalloc_test_wr_refused(heap.p, 8, -EINVAL), 0);
	KUNIT_EXPECT_EQ(test, pmalloc_test_wr_refused(vmem.p, 8, -EINVAL), 0);
	KUNIT_EXPECT_EQ(test, pmalloc_test_wr_refused(stack.p, 8, -EINVAL), 0);
	KUNIT_EXPECT_EQ(test, pmalloc_test_wr_refused(NULL, 8, -EINVAL), 0);
	KUNIT_EXPECT_TRUE(test, pmalloc_test_match(&heap, heap.p, 0, heap.size));
	KUNIT_EXPECT_TRUE(test, pmalloc_test_match(&vmem, vmem.p, 0, vmem.size));
	KUNIT_EXPECT_TRUE(test, pmalloc_test_match(&stack, stack.p, 0,
						   stack.size));
}

/* A range that covers either edge of the area is refused, in full. */
static void wr_range_straddling_area_edge_is_refused(struct kunit *test)
{
	struct pmalloc_test_obj obj;
	struct pmalloc_pool *pool;
	u8 *end;

	pool = pmalloc_test_wr_pool(test, PAGE_SIZE);
	obj = pmalloc_test_new_obj(test, pool, PAGE_SIZE, 1);
	KUNIT_ASSERT_TRUE(test, PAGE_ALIGNED(obj.p));
	pmalloc_test_protect(test, pool);
	end = obj.p + obj.size;

	KUNIT_EXPECT_EQ(test, pmalloc_test_wr_refused(end - 4, 8, -EINVAL), 0);
	KUNIT_EXPECT_EQ(test, pmalloc_test_wr_refused(end - 1, 2, -EINVAL), 0);
	KUNIT_EXPECT_EQ(test, pmalloc_test_wr_refused(obj.p - 4, 8, -EINVAL), 0);
	KUNIT_EXPECT_EQ(test, pmalloc_test_wr_refused(obj.p - 1, 2, -EINVAL), 0);
	KUNIT_EXPECT_EQ(test, pmalloc_test_wr_refused(obj.p, obj.size + 1,
						      -EINVAL), 0);
	pmalloc_test_expect_intact(test, &obj);
}

static void wr_zero_length_is_refused(struct kunit *test)
{
	struct pmalloc_test_obj obj;
	struct pmalloc_pool *pool;

	pool = pmalloc_test_wr_pool(test, 0);
	obj = pmalloc_test_new_obj(test, pool, 64, 1);
	KUNIT_EXPECT_EQ(test, pmalloc_test_wr_refused(obj.p, 0, -EINVAL), 0);
	pmalloc_test_protect(test, pool);
	KUNIT_EXPECT_EQ(test, pmalloc_test_wr_refused(obj.p, 0, -EINVAL), 0);
	pmalloc_test_expect_intact(test, &obj);
}

static void wr_misaligned_pointer_is_refused(struct kunit *test)
{
	struct pmalloc_test_obj obj;
	struct pmalloc_pool *pool;
	unsigned int i;

	pool = pmalloc_test_wr_pool(test, 0);
	obj = pmalloc_test_new_obj(test, pool, 64, 1);
	pmalloc_test_protect(test, pool);
	for (i = 1; i < sizeof(void *); i++)
		KUNIT_EXPECT_EQ_MSG(test,
				    pmalloc_wr_ptr_release(obj.p + i, obj.p),
				    -EINVAL, "slot misaligned by %u", i);
	pmalloc_test_expect_intact(test, &obj);
}

/*
 * Refused write-rare calls print nothing either.  The case prints one line
 * of its own inside the watch, so a watch that sees nothing fails as well.
 */
static void wr_refused_calls_print_nothing(struct kunit *test)
{
	struct pmalloc_test_obj plain, wr;
	struct pmalloc_pool *pool;
	unsigned int bad;
	u8 on_stack[8];

	if (!pmalloc_test_console.registered)
		kunit_skip(test, "needs CONFIG_TRACEPOINTS to watch the console");

	pool = pmalloc_test_pool(test, 0, PMALLOC_ALIGN_DEFAULT);
	plain = pmalloc_test_new_obj(test, pool, 64, 1);
	pool = pmalloc_test_wr_pool(test, PAGE_SIZE);
	wr = pmalloc_test_new_obj(test, pool, PAGE_SIZE, 2);
	pmalloc_test_protect(test, pool);

	atomic_set(&pmalloc_test_console.lines, 0);
	WRITE_ONCE(pmalloc_test_console.task, current);
	kunit_info(test, "refused write-rare calls follow; nothing more may be printed\n");
	bad = pmalloc_test_wr_refused(plain.p, 8, -EPERM);
	bad += pmalloc_test_wr_refused(on_stack, 8, -EINVAL);
	bad += pmalloc_test_wr_refused(wr.p + wr.size - 4, 8, -EINVAL);
	bad += pmalloc_test_wr_refused(wr.p, 0, -EINVAL);
	bad += pmalloc_wr_ptr_release(wr.p + 1, NULL) != -EINVAL;
	WRITE_ONCE(pmalloc_test_console.task, NULL);

	KUNIT_EXPECT_EQ(test, bad, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&pmalloc_test_console.lines), 1);
}

/* What the RCU case publishes: objects that know their own address. */
struct pmalloc_test_node {
	const struct pmalloc_test_node *self;
	unsigned long check;
};

#define PMALLOC_TEST_NODE_CHECK	0x9e3779b9UL	/* fits a 32-bit long */
#define PMALLOC_TEST_PUBLISHES	2000

struct pmalloc_test_rcu {
	struct pmalloc_test_node __rcu **slot;
	struct pmalloc_test_node *nodes[2];
	struct completion started;
	struct completion reader_done;
	struct completion writer_done;
	atomic_long_t reads;
	bool stop;
	unsigned int published;
	int err;
	unsigned long torn;
	unsigned long bad_node;
	unsigned int seen;	/* bit 0: NULL, bits 1 and 2: the nodes */
};

static int pmalloc_test_reader_fn(void *data)
{
	struct pmalloc_test_rcu *r = data;
	const struct pmalloc_test_node *node;
	unsigned int i;

	complete(&r->started);
	while (!READ_ONCE(r->stop)) {
		rcu_read_lock();
		node = rcu_dereference(*r->slot);
		if (!node) {
			r->seen |= BIT(0);
		} else if (node == r->nodes[0] || node == r->nodes[1]) {
			i = node == r->nodes[1];
			r->seen |= BIT(1 + i);
			if (READ_ONCE(node->self) != node ||
			    READ_ONCE(node->check) != PMALLOC_TEST_NODE_CHECK)
				r->bad_node++;
		} else {
			r->torn++;
		}
		rcu_read_unlock();
		atomic_long_inc(&r->reads);
		cond_resched();
	}
	kthread_complete_and_exit(&r->reader_done, 0);
}

static int pmalloc_test_writer_fn(void *data)
{
	struct pmalloc_test_rcu *r = data;
	struct pmalloc_test_node *next;
	unsigned long timeout;
	unsigned int i;
	long reads;

	wait_for_completion(&r->started);
	for (i = 0; i < PMALLOC_TEST_PUBLISHES; i++) {
		next = i % 2 ? NULL : r->nodes[i / 2 % 2];
		r->err = pmalloc_wr_rcu_assign_pointer(*r->slot, next);
		if (r->err)
			break;
		/* Give the reader time to see each value, briefly. */
		reads = atomic_long_read(&r->reads);
		timeout = jiffies + msecs_to_jiffies(10);
		while (atomic_long_read(&r->reads) < reads + 2 &&
		       time_before(jiffies, timeout))
			cond_resched();
	}
	r->published = i;
	WRITE_ONCE(r->stop, true);
	kthread_complete_and_exit(&r->writer_done, 0);
}

/*
 * A reader thread follows a pointer in protected memory while a writer
 * thread, on another CPU, switches it between two nodes and NULL, which
 * differs from both in every byte: a store made in pieces would show as
 * a value that is none of them.  A tear is caught only if a read lands in
 * the middle of a store, so a pass is evidence, not proof.
 */
static void wr_rcu_pointer_is_never_seen_torn(struct kunit *test)
{
	struct pmalloc_test_node __rcu **slot;
	struct pmalloc_test_obj obj = { .size = sizeof(*slot) };
	struct task_struct *reader, *writer;
	struct pmalloc_test_node *node;
	struct pmalloc_test_rcu *r;
	struct pmalloc_pool *pool;
	unsigned int i, cpu;

	pmalloc_test_need_builtin(test);
	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two CPUs to read while the other writes");

	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);
	pool = pmalloc_test_wr_pool(test, 0);
	slot = pzalloc(pool, sizeof(*slot));
	KUNIT_ASSERT_NOT_NULL(test, slot);
	for (i = 0; i < 2; i++) {
		node = pmalloc(pool, sizeof(*node));
		KUNIT_ASSERT_NOT_NULL(test, node);
		node->self = node;
		node->check = PMALLOC_TEST_NODE_CHECK;
		r->nodes[i] = node;
	}
	pmalloc_test_protect(test, pool);
	pmalloc_test_need_wr(test, (u8 *)slot);

	r->slot = slot;
	init_completion(&r->started);
	init_completion(&r->reader_done);
	init_completion(&r->writer_done);
	reader = kthread_create(pmalloc_test_reader_fn, r, "pmalloc_test_rd");
	writer = kthread_create(pmalloc_test_writer_fn, r, "pmalloc_test_wr");
	if (IS_ERR(reader) || IS_ERR(writer)) {
		if (!IS_ERR(reader))
			kthread_stop(reader);
		if (!IS_ERR(writer))
			kthread_stop(writer);
		KUNIT_FAIL(test, "could not create the reader and the writer");
		return;
	}
	/* On two different CPUs, so that they really run at the same time. */
	cpu = cpumask_first(cpu_online_mask);
	kthread_bind(reader, cpu);
	kthread_bind(writer, cpumask_next(cpu, cpu_online_mask));
	wake_up_process(reader);
	wake_up_process(writer);
	wait_for_completion(&r->writer_done);
	wait_for_completion(&r->reader_done);

	KUNIT_EXPECT_EQ(test, r->err, 0);
	KUNIT_EXPECT_EQ(test, r->published, PMALLOC_TEST_PUBLISHES);
	KUNIT_EXPECT_EQ(test, r->torn, 0);
	KUNIT_EXPECT_EQ(test, r->bad_node, 0);
	KUNIT_EXPECT_EQ_MSG(test, r->seen, 7U,
			    "the reader saw only some values (mask %x) in %ld reads",
			    r->seen, atomic_long_read(&r->reads));
	KUNIT_EXPECT_NULL(test, rcu_access_pointer(*slot));

	obj.p = (u8 *)slot;
	pmalloc_test_expect_locked(test, &obj);
}

static int pmalloc_test_suite_init(struct kunit_suite *suite)
{
	pmalloc_test_console.registered =
		!register_trace_console(pmalloc_test_probe_console, NULL);
	return 0;
}

static void pmalloc_test_suite_exit(struct kunit_suite *suite)
{
	if (!pmalloc_test_console.registered)
		return;
	unregister_trace_console(pmalloc_test_probe_console, NULL);
	tracepoint_synchronize_unregister();
}

static struct kunit_case pmalloc_test_cases[] = {
	KUNIT_CASE(refused_calls_print_nothing),
	KUNIT_CASE(create_rejects_out_of_range_orders),
	KUNIT_CASE(create_rejects_refill_that_wraps),
	KUNIT_CASE_PARAM(align_order_aligns_every_object,
			 pmalloc_test_order_gen_params),
	KUNIT_CASE(default_align_is_kmalloc_minalign),
	KUNIT_CASE_PARAM(object_holds_its_whole_size,
			 pmalloc_test_size_gen_params),
	KUNIT_CASE(refill_sets_minimum_area_size),
	KUNIT_CASE(areas_are_tagged_and_page_mapped),
	KUNIT_CASE(pzalloc_zeroes_dirtied_memory),
	KUNIT_CASE(pcalloc_zeroes_dirtied_memory),
	KUNIT_CASE(absurd_sizes_return_null_pool_unchanged),
	KUNIT_CASE(array_overflow_returns_null_pool_unchanged),
	KUNIT_CASE(null_pool_is_refused_by_every_call),
	KUNIT_CASE(pstrdup_copies_string_longer_than_page),
	KUNIT_CASE(pstrdup_copies_the_nul),
	KUNIT_CASE(pstrdup_of_null_returns_null),
	KUNIT_CASE(protect_refuses_writes_through_vmalloc_address),
	KUNIT_CASE(protect_refuses_writes_through_direct_map),
	KUNIT_CASE(protect_locks_whole_area),
	KUNIT_CASE(objects_after_protect_get_fresh_pages),
	KUNIT_CASE(objects_after_protect_are_writable),
	KUNIT_CASE(next_protect_locks_new_objects),
	KUNIT_CASE(protect_empty_pool_succeeds),
	KUNIT_CASE(protect_twice_succeeds),
	KUNIT_CASE(protect_locks_direct_map_or_refuses),
	KUNIT_CASE(range_outside_areas_is_outside),
	KUNIT_CASE(range_inside_area_follows_protect_and_destroy),
	KUNIT_CASE(range_to_last_byte_is_inside),
	KUNIT_CASE(range_past_either_edge_straddles),
	KUNIT_CASE(empty_range_is_taken_as_one_byte),
	KUNIT_CASE(range_wrapping_past_ulong_max_straddles),
	KUNIT_CASE(destroy_restores_direct_map),
	KUNIT_CASE_SLOW(pool_cycles_do_not_leak),
	KUNIT_CASE(two_threads_share_a_pool),
	KUNIT_CASE(allocation_races_protect),
	KUNIT_CASE_PARAM(wr_memcpy_updates_protected_object,
			 pmalloc_test_wr_range_gen_params),
	KUNIT_CASE_PARAM(wr_memset_updates_protected_object,
			 pmalloc_test_wr_range_gen_params),
	KUNIT_CASE(wr_before_protect_writes_in_place),
	KUNIT_CASE(wr_assign_sets_scalars),
	KUNIT_CASE(wr_plain_pool_is_refused),
	KUNIT_CASE(wr_non_pmalloc_address_is_refused),
	KUNIT_CASE(wr_range_straddling_area_edge_is_refused),
	KUNIT_CASE(wr_zero_length_is_refused),
	KUNIT_CASE(wr_misaligned_pointer_is_refused),
	KUNIT_CASE(wr_refused_calls_print_nothing),
	KUNIT_CASE(wr_rcu_pointer_is_never_seen_torn),
	{}
};

static struct kunit_suite pmalloc_test_suite = {
	.name = "pmalloc",
	.test_cases = pmalloc_test_cases,
	.suite_init = pmalloc_test_suite_init,
	.suite_exit = pmalloc_test_suite_exit,
};

kunit_test_suites(&pmalloc_test_suite);

MODULE_DESCRIPTION("KUnit tests for protectable memory pools (pmalloc)");
MODULE_LICENSE("GPL");
