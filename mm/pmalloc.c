// SPDX-License-Identifier: GPL-2.0-only
/*
 * pmalloc: protectable memory pools.
 *
 * A pool hands out memory from areas of its own: runs of pages from the
 * vmalloc range that hold nothing but the pool's objects.  Because no other
 * data shares those pages, pmalloc_protect_pool() can make every area
 * read-only without taking anything writable down with it.  Objects cannot
 * be freed one by one; the memory goes back when the pool is destroyed.
 *
 * Each area is described by a record kept in ordinary kernel memory: its
 * bounds, the first free byte and whether it has been protected.  Writable
 * areas are kept apart from protected ones, newest first, so an allocation
 * only ever looks at areas it may still carve from and usually stops at the
 * first; it gives up after PMALLOC_SEARCH_AREAS of them, so its cost does
 * not grow with the pool.  Nothing is recorded per object.  A global maple
 * tree maps every area's address range to its record, so that
 * is_pmalloc_object() can tell hardened usercopy what a pointer is.
 *
 * Every entry point may sleep.  A mutex per pool serialises adding areas,
 * protection and the area lists, so one pool can be shared by several
 * threads; destroying a pool is the owner's job once nobody uses it.
 * Most allocations take no lock at all: they bump the first free byte of
 * the pool's newest area with one cmpxchg (see "The lockless fast path"
 * below, which says why that is safe).  Live pools are also on a global
 * list, for the debugfs listing (pmalloc/pools); its mutex is taken
 * before a pool's own, never after.
 */

#define pr_fmt(fmt) "pmalloc: " fmt

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/list.h>
#include <linux/maple_tree.h>
#include <linux/mm.h>
#include <linux/mmu_context.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/pmalloc.h>
#include <linux/printk.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/set_memory.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#ifdef CONFIG_X86
#include <asm/text-patching.h>
#endif
#ifdef CONFIG_ARM64
#include <asm/patching.h>
#endif

/*
 * An area's used word: the bytes handed out (the offset of the first free
 * one), with PMALLOC_AREA_CLOSED set once protection of the area has
 * begun.  No area is larger than LONG_MAX bytes, so the bit is never part
 * of an offset.
 */
#define PMALLOC_AREA_CLOSED	LONG_MIN

struct pmalloc_area {
	struct list_head node;		/* in one of the pool's lists */
	unsigned long start;		/* vmalloc address of the first page */
	size_t size;			/* bytes mapped, whole pages */
	atomic_long_t used;		/* first free byte, PMALLOC_AREA_CLOSED */
	bool protected;			/* read by lockless lookups */
	struct pmalloc_pool *pool;	/* the owner, for write-rare */
	struct rcu_head rcu;
};

/*
 * Every live area, keyed by its address range.  The tree takes its own
 * lock for updates; lookups run under RCU, so records are freed after a
 * grace period.
 */
static struct maple_tree pmalloc_areas =
	MTREE_INIT(pmalloc_areas, MT_FLAGS_USE_RCU);

struct pmalloc_pool {
	struct mutex lock;		/* serialises everything below */
	struct list_head writable;	/* areas still open, newest first */
	struct list_head protected;	/* read-only areas */
	struct pmalloc_area *newest;	/* read locklessly by pmalloc() */
	size_t refill;			/* minimum size of a new area */
	size_t align;			/* alignment of every object */
	const void *caller;		/* shown in /proc/vmallocinfo */
	bool wr;			/* write-rare: see pmalloc_wr() */
	struct list_head node;		/* in pmalloc_pools, under its lock */
};

/* Every live pool, for debugfs; pmalloc_pools_lock guards the list. */
static LIST_HEAD(pmalloc_pools);
static DEFINE_MUTEX(pmalloc_pools_lock);

/*
 * Test only: with CONFIG_PMALLOC_TEST_SKIP_PROTECT, booting with
 * pmalloc.test_skip_protect=1 makes protection skip set_memory_ro(), so
 * that the self-tests can show they fail when nothing is protected.
 */
static bool pmalloc_skip_protect __ro_after_init;
#ifdef CONFIG_PMALLOC_TEST_SKIP_PROTECT
module_param_named(test_skip_protect, pmalloc_skip_protect, bool, 0444);
MODULE_PARM_DESC(test_skip_protect, "Test only: never make pools read-only");
#endif

static int pmalloc_set_ro(struct pmalloc_area *area)
{
	if (IS_ENABLED(CONFIG_PMALLOC_TEST_SKIP_PROTECT) &&
	    pmalloc_skip_protect)
		return 0;
	return set_memory_ro(area->start, area->size >> PAGE_SHIFT);
}

/*
 * set_memory_ro() on a vmalloc address must also write-protect the direct
 * map's alias of each page, or the data stays writable through it.  Where
 * it does not, pmalloc refuses to protect rather than give a protection
 * with a hole in it.  This is all pmalloc knows about architectures:
 *
 * x86's change_page_attr() always follows the alias of a lowmem page
 * (highmem pages have none).  arm64 follows it only with rodata=full, its
 * default: the linear map is then mapped with pages, and
 * change_memory_common() changes the alias too.  With rodata=on or off the
 * linear map uses block mappings, which cannot be split while live, and
 * set_direct_map_invalid_noflush() quietly does nothing, so the alias
 * cannot be closed either.
 */
#if defined(CONFIG_X86)
#define PMALLOC_ALIAS_HINT	""
static bool pmalloc_alias_follows(void)
{
	return true;
}
#elif defined(CONFIG_ARM64)
#define PMALLOC_ALIAS_HINT	" unless booted with rodata=full"
static bool pmalloc_alias_follows(void)
{
	return rodata_full;
}
#else
#define PMALLOC_ALIAS_HINT	" on this architecture"
static bool pmalloc_alias_follows(void)
{
	return false;
}
#endif

/**
 * pmalloc_create_pool() - Create an empty pool.
 * @refill: the minimum size in bytes of each area the pool adds, rounded up
 *	to whole pages; 0 means one page
 * @align_order: log2 of the alignment of every object, from 0 to PAGE_SHIFT,
 *	or PMALLOC_ALIGN_DEFAULT for ARCH_KMALLOC_MINALIGN
 *
 * A larger @refill wastes less at the end of each area when objects are
 * large and saves vmalloc work when there are many; whatever is left in the
 * newest area when the pool is protected is given up.
 *
 * Context: Process context; may sleep.
 * Return: the new pool, or NULL if @align_order is out of range, @refill is
 * too large to round up, or memory is short.
 */
struct pmalloc_pool *pmalloc_create_pool(size_t refill, short align_order)
{
	struct pmalloc_pool *pool;

	might_sleep();
	if (align_order < PMALLOC_ALIGN_DEFAULT || align_order > PAGE_SHIFT)
		return NULL;
	if (refill > SIZE_MAX - PAGE_SIZE + 1)
		return NULL;

	pool = kzalloc(sizeof(*pool), GFP_KERNEL);
	if (!pool)
		return NULL;

	mutex_init(&pool->lock);
	INIT_LIST_HEAD(&pool->writable);
	INIT_LIST_HEAD(&pool->protected);
	pool->refill = refill ? PAGE_ALIGN(refill) : PAGE_SIZE;
	pool->align = align_order < 0 ? ARCH_KMALLOC_MINALIGN :
					 1UL << align_order;
	pool->caller = __builtin_return_address(0);

	mutex_lock(&pmalloc_pools_lock);
	list_add_tail(&pool->node, &pmalloc_pools);
	mutex_unlock(&pmalloc_pools_lock);
	return pool;
}
EXPORT_SYMBOL_GPL(pmalloc_create_pool);

/*
 * pmalloc() looks for room in at most this many writable areas, the newest.
 * Without a bound, a pool of many nearly full areas would have every
 * allocation that fits in none of them walk them all.  Older areas keep
 * their last bytes unused until protect gives them up anyway: by then small
 * requests have mostly filled them.
 */
#define PMALLOC_SEARCH_AREAS	8

/*
 * The lockless fast path.
 *
 * pmalloc() first tries the pool's newest area without the pool's mutex:
 * it reads pool->newest and claims bytes by moving the area's used word on
 * with a cmpxchg.  Only when that area is closed or has no room does it
 * take the mutex, in __pmalloc_slow(), which tries the eight newest
 * writable areas with the same cmpxchg and adds an area if none has room.
 * The areas are tried in the order the locked path alone used to try
 * them, newest first, so a pool uses its memory exactly as before.  Why
 * this is safe against each of the other entry points:
 *
 * - Concurrent pmalloc(): every change to an open area's word is a
 *   cmpxchg from the value its range was worked out from, so two callers
 *   cannot both claim bytes from one value; the loser works its range out
 *   again from the new one.  The word only grows, and never past the
 *   area's size, so the ranges handed out are disjoint and in the area.
 *
 * - pmalloc_protect_pool(): under the mutex, protect sets
 *   PMALLOC_AREA_CLOSED in an area's word, with an atomic OR and a full
 *   barrier, before set_memory_ro() changes any of the area's pages.  The
 *   updates of one word happen in one order.  A cmpxchg before the OR
 *   handed out bytes that this protect then covers, as if that pmalloc()
 *   had taken the mutex first.  A cmpxchg after it cannot succeed, since
 *   it expects a word without the bit; the value it then reads has the
 *   bit, and the caller goes elsewhere.  So no object is carved from an
 *   area once its protection has begun, and the word no longer changes,
 *   except that protect itself marks the area full if set_memory_ro()
 *   fails on it.  An object carved just before the OR may be made
 *   read-only while its caller still fills it; that was so with the mutex
 *   too, and is why callers finish their objects before they protect.
 *
 * - pool->newest is written only under the mutex: with release, once a
 *   new area's record, pages and maple tree entry are all in place, and
 *   with NULL when protect closes that area.  The fast path reads it with
 *   acquire, so it never sees an area half made.  A stale pointer does no
 *   harm: records are freed by destroy only, and a closed or full area
 *   just sends the caller to the slow path.  The word's cmpxchg itself
 *   needs no ordering, since it publishes nothing but the claim.
 *
 * - is_pmalloc_object(), and hardened usercopy through it, look areas up
 *   in the maple tree and read area->protected, neither of which the fast
 *   path touches; an object it returns lies in an area that was in the
 *   tree before it became the newest.
 *
 * - The debugfs listing reads the words under the pool's mutex, which
 *   keeps areas from being added or protected meanwhile but does not stop
 *   open areas from filling: "in_use" may lag behind allocations made
 *   while it is read.
 *
 * - Write-rare, pmalloc_wr(), chooses between a plain write and the
 *   private mapping by area->protected, under the pool's mutex.  Only
 *   protect changes that flag, under the same mutex, and the fast path
 *   only hands out bytes of areas that are not protected, so write-rare
 *   sees nothing new.
 *
 * - pmalloc_destroy_pool() frees the records and the pool.  As before, its
 *   caller makes sure nobody else uses the pool, so no fast path can still
 *   be looking at pool->newest.
 */

/*
 * Carve @size bytes from @area if it is not closed and they fit after
 * aligning; NULL if not.  The pool's mutex is not needed: see above.
 */
static void *pmalloc_carve(struct pmalloc_area *area, size_t size,
			   size_t align)
{
	long used = atomic_long_read(&area->used);
	size_t offset;

	do {
		if (used & PMALLOC_AREA_CLOSED)
			return NULL;
		offset = ALIGN((size_t)used, align);
		if (offset > area->size || size > area->size - offset)
			return NULL;
	} while (!atomic_long_try_cmpxchg_relaxed(&area->used, &used,
						  offset + size));
	return (void *)(area->start + offset);
}

/* Bytes handed out from @area, closed or not. */
static size_t pmalloc_area_used(struct pmalloc_area *area)
{
	return atomic_long_read(&area->used) & ~PMALLOC_AREA_CLOSED;
}

static struct pmalloc_area *pmalloc_add_area(struct pmalloc_pool *pool,
					     size_t size)
{
	struct pmalloc_area *area;
	size_t bytes;
	void *addr;

	lockdep_assert_held(&pool->lock);

	/*
	 * Refuse sizes that wrap when rounded up to pages, areas too large
	 * for set_memory_ro(), which counts pages in an int, and areas whose
	 * size would reach PMALLOC_AREA_CLOSED (on 32 bits, 2 GiB, more than
	 * the vmalloc range holds).
	 */
	if (size > SIZE_MAX - PAGE_SIZE + 1)
		return NULL;
	bytes = max(PAGE_ALIGN(size), pool->refill);
	if (bytes >> PAGE_SHIFT > INT_MAX || bytes > LONG_MAX)
		return NULL;

	area = kmalloc(sizeof(*area), GFP_KERNEL);
	if (!area)
		return NULL;

	/*
	 * Page-sized mappings only: permissions cannot be changed on part of
	 * a huge mapping.  VM_FLUSH_RESET_PERMS makes vfree() give the pages
	 * back writable in the direct map, with no stale TLB entries.
	 */
	addr = __vmalloc_node_range(bytes, PAGE_SIZE, VMALLOC_START,
				    VMALLOC_END, GFP_KERNEL | __GFP_NOWARN,
				    PAGE_KERNEL,
				    VM_FLUSH_RESET_PERMS | VM_PMALLOC,
				    NUMA_NO_NODE, pool->caller);
	if (!addr) {
		kfree(area);
		return NULL;
	}

	area->start = (unsigned long)addr;
	area->size = bytes;
	atomic_long_set(&area->used, 0);
	area->protected = false;
	area->pool = pool;
	if (mtree_store_range(&pmalloc_areas, area->start,
			      area->start + bytes - 1, area, GFP_KERNEL)) {
		vfree(addr);
		kfree(area);
		return NULL;
	}
	list_add(&area->node, &pool->writable);
	return area;
}

/* pmalloc() when the newest area cannot serve: under the pool's mutex. */
static void *__pmalloc_slow(struct pmalloc_pool *pool, size_t size)
{
	struct pmalloc_area *area;
	unsigned int tried = 0;
	void *p = NULL;

	mutex_lock(&pool->lock);
	list_for_each_entry(area, &pool->writable, node) {
		p = pmalloc_carve(area, size, pool->align);
		if (p)
			goto out_unlock;
		if (++tried == PMALLOC_SEARCH_AREAS)
			break;
	}

	area = pmalloc_add_area(pool, size);
	if (area) {
		/* Nobody can carve from it yet, so this takes the first bytes. */
		p = pmalloc_carve(area, size, pool->align);
		/* Pairs with the acquire in pmalloc(): the area is complete. */
		smp_store_release(&pool->newest, area);
	}
out_unlock:
	mutex_unlock(&pool->lock);
	return p;
}

/**
 * pmalloc() - Allocate memory from a pool.
 * @pool: the pool to allocate from
 * @size: the number of bytes wanted
 *
 * The object is aligned as the pool was created to align, is not zeroed,
 * and stays writable until the pool is protected.  It is taken from the
 * first of the pool's eight newest writable areas with room for it, or else
 * from a new area of at least the pool's refill size.  When the newest area
 * has room, the call takes no lock: it claims the bytes with one atomic
 * compare-and-exchange.  Otherwise it takes the pool's mutex.
 *
 * Context: Process context; may sleep.  Safe against concurrent calls on
 * the same pool, and against pmalloc_protect_pool(): an object returned
 * while the pool is being protected may or may not be protected by that
 * call.
 * Return: the object, or NULL if @pool is NULL, @size is 0 or larger than
 * the vmalloc range can hold, or memory is short.  A failed call leaves the
 * pool as it was.
 */
void *pmalloc(struct pmalloc_pool *pool, size_t size)
{
	struct pmalloc_area *area;
	void *p;

	might_sleep();
	if (!pool || !size)
		return NULL;

	/* Pairs with the release in __pmalloc_slow(); see the fast path. */
	area = smp_load_acquire(&pool->newest);
	if (area) {
		p = pmalloc_carve(area, size, pool->align);
		if (p)
			return p;
	}
	return __pmalloc_slow(pool, size);
}
EXPORT_SYMBOL_GPL(pmalloc);

/**
 * pmalloc_protect_pool() - Make every object of a pool read-only.
 * @pool: the pool to protect
 *
 * Each writable area becomes read-only through its vmalloc address and
 * through the direct map's alias of its pages.  Space left in those areas
 * is given up: later allocations go to new areas, which the next call
 * protects in turn.  Protecting an empty or already protected pool does
 * nothing and succeeds.
 *
 * Context: Process context; may sleep.
 * Return: 0 on success; -EINVAL if @pool is NULL; -EOPNOTSUPP if @pool has
 * writable areas and set_memory_ro() would leave their direct-map alias
 * writable on this kernel (arm64 booted without rodata=full, or an
 * architecture other than x86 and arm64), in which case the pool is left
 * as it was; or the error set_memory_ro() returned.  After that error, the
 * areas protected so far stay protected, the area that failed may be
 * partly read-only and takes no new objects, and the call may be repeated
 * to finish the job.
 */
int pmalloc_protect_pool(struct pmalloc_pool *pool)
{
	struct pmalloc_area *area, *tmp;
	int ret = 0;

	might_sleep();
	if (!pool)
		return -EINVAL;

	mutex_lock(&pool->lock);
	if (!list_empty(&pool->writable) && !pmalloc_alias_follows()) {
		ret = -EOPNOTSUPP;
		goto out_unlock;
	}
	list_for_each_entry_safe_reverse(area, tmp, &pool->writable, node) {
		/*
		 * Close the area before any of its pages changes: from here
		 * on no pmalloc() carves from it, locked or not (see the fast
		 * path, above pmalloc_carve()).
		 */
		atomic_long_or(PMALLOC_AREA_CLOSED, &area->used);
		/* Seen closed before set_memory_ro() changes a page. */
		smp_mb__after_atomic();
		if (pool->newest == area)
			WRITE_ONCE(pool->newest, NULL);

		ret = pmalloc_set_ro(area);
		if (ret) {
			/*
			 * Part of the area may be read-only already: it stays
			 * closed, counts as full, and is left for the retry.
			 */
			atomic_long_set(&area->used,
					PMALLOC_AREA_CLOSED | (long)area->size);
			break;
		}
		WRITE_ONCE(area->protected, true);
		list_move(&area->node, &pool->protected);
	}
out_unlock:
	mutex_unlock(&pool->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(pmalloc_protect_pool);

static void pmalloc_free_areas(struct list_head *areas)
{
	struct pmalloc_area *area, *tmp;

	list_for_each_entry_safe(area, tmp, areas, node) {
		mtree_erase(&pmalloc_areas, area->start);
		vfree((void *)area->start);
		kfree_rcu(area, rcu);
		cond_resched();
	}
}

/**
 * pmalloc_destroy_pool() - Free a pool and all its objects.
 * @pool: the pool to destroy, or NULL
 *
 * Every area goes back to the page allocator with its pages writable again
 * in the direct map.  The caller must make sure nobody uses the pool or any
 * of its objects any more.
 *
 * Context: Process context; may sleep.
 * Return: nothing.
 */
void pmalloc_destroy_pool(struct pmalloc_pool *pool)
{
	might_sleep();
	if (!pool)
		return;

	mutex_lock(&pmalloc_pools_lock);
	list_del(&pool->node);
	mutex_unlock(&pmalloc_pools_lock);
	pmalloc_free_areas(&pool->writable);
	pmalloc_free_areas(&pool->protected);
	mutex_destroy(&pool->lock);
	kfree(pool);
}
EXPORT_SYMBOL_GPL(pmalloc_destroy_pool);

/**
 * is_pmalloc_object() - Tell where a range of addresses lies among pools.
 * @ptr: the first byte of the range
 * @n: the length of the range in bytes; 0 is taken as 1
 *
 * Hardened usercopy asks this before copying to or from a vmalloc address.
 * Only the vmalloc addresses of areas count: the direct-map alias of a page
 * is guarded by its page table entry alone.  A range that runs past the end
 * of the address space straddles whatever it starts in.
 *
 * Context: Any context that may take rcu_read_lock().  The answer may be
 * stale by the time it is used unless the caller keeps the pool alive and
 * does not race with pmalloc_protect_pool().
 * Return: %PMALLOC_OUTSIDE if the range touches no area,
 * %PMALLOC_WRITABLE or %PMALLOC_PROTECTED if it lies inside one area,
 * not yet protected or protected, or %PMALLOC_STRADDLES if it covers the
 * edge of an area.
 */
enum pmalloc_range is_pmalloc_object(const void *ptr, unsigned long n)
{
	unsigned long first = (unsigned long)ptr;
	unsigned long last = first + max(n, 1UL) - 1;
	enum pmalloc_range ret = PMALLOC_OUTSIDE;
	struct pmalloc_area *area;
	unsigned long index = first;

	if (last < first)
		last = ULONG_MAX;

	rcu_read_lock();
	area = mt_find(&pmalloc_areas, &index, last);
	if (area) {
		if (first < area->start || last > area->start + area->size - 1)
			ret = PMALLOC_STRADDLES;
		else if (READ_ONCE(area->protected))
			ret = PMALLOC_PROTECTED;
		else
			ret = PMALLOC_WRITABLE;
	}
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_GPL(is_pmalloc_object);

/**
 * pmalloc_create_wr_pool() - Create an empty write-rare pool.
 * @refill: as for pmalloc_create_pool()
 * @align_order: as for pmalloc_create_pool()
 *
 * The pool works as one from pmalloc_create_pool(), except that its objects
 * may still be changed after it is protected, by pmalloc_wr_memcpy(),
 * pmalloc_wr_memset() and the helpers built on them, and only by those.
 *
 * Context: Process context; may sleep.
 * Return: the new pool, or NULL as for pmalloc_create_pool().
 */
struct pmalloc_pool *pmalloc_create_wr_pool(size_t refill, short align_order)
{
	struct pmalloc_pool *pool = pmalloc_create_pool(refill, align_order);

	if (pool) {
		pool->wr = true;
		pool->caller = __builtin_return_address(0);
	}
	return pool;
}
EXPORT_SYMBOL_GPL(pmalloc_create_wr_pool);

enum pmalloc_wr_op {
	PMALLOC_WR_COPY,	/* memcpy() from src */
	PMALLOC_WR_SET,		/* memset() with the byte at src */
	PMALLOC_WR_PTR,		/* one untorn pointer store, release */
};

#ifdef CONFIG_X86
/*
 * x86 writes through poking_mm: a temporary mm, loaded with interrupts off
 * on the writing CPU only, whose PTEs for the target pages are cleared and
 * flushed before text_poke_*() return.  They serialise on text_mutex.
 */
static bool pmalloc_arch_wr(enum pmalloc_wr_op op, void *dst, const void *src,
			    size_t n)
{
	switch (op) {
	case PMALLOC_WR_COPY:
		return text_poke_copy(dst, src, n);
	case PMALLOC_WR_SET:
		return text_poke_set(dst, *(const u8 *)src, n);
	case PMALLOC_WR_PTR:
		return text_poke_store_release(dst,
					       *(const unsigned long *)src);
	}
	return false;
}
#elif defined(CONFIG_ARM64) && defined(CONFIG_EXECMEM)
/*
 * arm64 writes through the FIX_TEXT_POKE0 fixmap slot: aarch64_insn_copy(),
 * aarch64_insn_set() and aarch64_insn_write_literal_u64() map one page
 * there at a time under patch_lock, with interrupts off, and clear the
 * slot before they return.  The slot is in the kernel's shared page
 * tables, so while a page is mapped there another CPU could reach it at
 * that address too; the rst says so.  Without CONFIG_EXECMEM they write
 * through the address they are given, and for read-only memory the bytes
 * would be lost without an error, so there is no writer then.
 *
 * The first two need a word-aligned destination, and aarch64_insn_set()
 * fills whole words.  Bytes before the first aligned address are merged
 * into the word that holds them, which is written back whole.  That word
 * lies in one page, so in one area of the pool whose mutex the caller
 * holds: no other write-rare call changes it meanwhile, and nothing else
 * can write it at all.
 */
static void pmalloc_arm64_wr(void *dst, const void *src, size_t n, bool fill)
{
	size_t head = (unsigned long)dst & (sizeof(u32) - 1);
	u8 c = *(const u8 *)src;
	u8 tail[sizeof(u32)];
	size_t len;
	u32 word;

	if (head) {
		void *at = dst - head;

		len = min(n, sizeof(word) - head);
		memcpy(&word, at, sizeof(word));
		if (fill)
			memset((u8 *)&word + head, c, len);
		else
			memcpy((u8 *)&word + head, src, len);
		aarch64_insn_copy(at, &word, sizeof(word));
		dst += len;
		if (!fill)
			src += len;
		n -= len;
	}
	if (!n)
		return;
	if (!fill) {
		aarch64_insn_copy(dst, (void *)src, n);
		return;
	}
	len = round_down(n, sizeof(u32));
	if (len)
		aarch64_insn_set(dst, 0x01010101U * c, len);
	if (n > len) {
		memset(tail, c, sizeof(tail));
		aarch64_insn_copy(dst + len, tail, n - len);
	}
}

static bool pmalloc_arch_wr(enum pmalloc_wr_op op, void *dst, const void *src,
			    size_t n)
{
	switch (op) {
	case PMALLOC_WR_COPY:
	case PMALLOC_WR_SET:
		pmalloc_arm64_wr(dst, src, n, op == PMALLOC_WR_SET);
		return true;
	case PMALLOC_WR_PTR:
		/*
		 * The literal writer moves its aligned u64 with
		 * copy_to_kernel_nofault(), one STR: a single-copy atomic
		 * store.  The barrier orders the caller's earlier loads and
		 * stores before it, as the release of smp_store_release().
		 */
		smp_mb();
		return !aarch64_insn_write_literal_u64(dst,
						       *(const u64 *)src);
	}
	return false;
}
#else
static bool pmalloc_arch_wr(enum pmalloc_wr_op op, void *dst, const void *src,
			    size_t n)
{
	return false;
}
#endif

/*
 * Write into a write-rare pool.  Memory not yet protected is written in
 * place; protected memory only through the architecture's private mapping,
 * never by making the pool writable in the shared page tables.  The pool's
 * lock keeps pmalloc_protect_pool() from changing the area's state under
 * the write.  An area whose protection failed part-way is not marked
 * protected but may hold read-only pages: a write there can oops, which
 * the rst states; the owner retries the protection or destroys the pool.
 */
static int pmalloc_wr(void *dst, const void *src, size_t n,
		      enum pmalloc_wr_op op)
{
	struct pmalloc_area *area;
	struct pmalloc_pool *pool;
	enum pmalloc_range range;
	int ret = 0;

	might_sleep();
	range = is_pmalloc_object(dst, n);
	if (!n || (range != PMALLOC_WRITABLE && range != PMALLOC_PROTECTED))
		return -EINVAL;
	area = mtree_load(&pmalloc_areas, (unsigned long)dst);
	if (!area)
		return -EINVAL;
	pool = area->pool;
	if (!pool->wr)
		return -EPERM;

	mutex_lock(&pool->lock);
	if (area->protected) {
		if (!pmalloc_arch_wr(op, dst, src, n))
			ret = -EOPNOTSUPP;
	} else if (op == PMALLOC_WR_COPY) {
		memcpy(dst, src, n);
	} else if (op == PMALLOC_WR_SET) {
		memset(dst, *(const u8 *)src, n);
	} else {
		/* Pairs with the reader's rcu_dereference() or acquire. */
		smp_store_release((void **)dst, *(void * const *)src);
	}
	mutex_unlock(&pool->lock);
	return ret;
}

/**
 * pmalloc_wr_memcpy() - Copy bytes into an object of a write-rare pool.
 * @dst: where to write, inside one area of a write-rare pool
 * @src: the bytes to copy
 * @n: how many bytes
 *
 * Works whether or not the pool has been protected, and leaves protected
 * memory protected: the bytes are written through a mapping that only the
 * calling CPU can see and that is gone before the call returns.  Writers
 * are serialised, so a write to protected memory costs a page-table
 * update and a local TLB flush for every two pages, under a global mutex.
 * Readers may see the bytes change in any order; for a pointer that
 * lockless readers follow, use pmalloc_wr_rcu_assign_pointer().  @src
 * must not overlap @dst, nor change during the call.
 *
 * Context: Process context; may sleep.  The caller keeps the pool alive.
 * Return: 0 on success; -EINVAL if @n is 0 or [@dst, @dst + @n) is not
 * inside one area of a pmalloc pool; -EPERM if the pool is not write-rare;
 * -EOPNOTSUPP if this architecture has no way to write protected memory.
 * Nothing is written unless 0 is returned.
 */
int pmalloc_wr_memcpy(void *dst, const void *src, size_t n)
{
	return pmalloc_wr(dst, src, n, PMALLOC_WR_COPY);
}
EXPORT_SYMBOL_GPL(pmalloc_wr_memcpy);

/**
 * pmalloc_wr_memset() - Fill bytes of an object of a write-rare pool.
 * @dst: where to write, inside one area of a write-rare pool
 * @c: the byte to fill with
 * @n: how many bytes
 *
 * As pmalloc_wr_memcpy(), with every byte set to @c.
 *
 * Context: Process context; may sleep.  The caller keeps the pool alive.
 * Return: as pmalloc_wr_memcpy().
 */
int pmalloc_wr_memset(void *dst, int c, size_t n)
{
	u8 byte = c;

	return pmalloc_wr(dst, &byte, n, PMALLOC_WR_SET);
}
EXPORT_SYMBOL_GPL(pmalloc_wr_memset);

/**
 * pmalloc_wr_ptr_release() - Store a pointer in a write-rare pool.
 * @dst: the pointer-sized, pointer-aligned slot to write
 * @ptr: the value to store
 *
 * The store is a single one, which a reader on another CPU sees either
 * whole or not at all, and it is ordered after every earlier store of the
 * calling CPU, as with smp_store_release().  pmalloc_wr_rcu_assign_pointer()
 * is the usual way to call it.
 *
 * Context: Process context; may sleep.  The caller keeps the pool alive.
 * Return: 0 on success; -EINVAL if @dst is not aligned to the size of a
 * pointer, or as pmalloc_wr_memcpy().
 */
int pmalloc_wr_ptr_release(void *dst, const void *ptr)
{
	if (!IS_ALIGNED((unsigned long)dst, sizeof(ptr)))
		return -EINVAL;
	return pmalloc_wr(dst, &ptr, sizeof(ptr), PMALLOC_WR_PTR);
}
EXPORT_SYMBOL_GPL(pmalloc_wr_ptr_release);

/*
 * debugfs pmalloc/pools: one line per live pool.  "in_use" counts the bytes
 * carved from its areas, alignment padding included; "given_up" the bytes
 * left unused in protected areas, which no later object can have.  The
 * mutex holds the lists still, but open areas may fill meanwhile.
 */
static void pmalloc_show_pool(struct seq_file *m, struct pmalloc_pool *pool)
{
	size_t areas = 0, pages = 0, used = 0, lost = 0;
	struct pmalloc_area *area;
	const char *state;

	mutex_lock(&pool->lock);
	list_for_each_entry(area, &pool->writable, node) {
		areas++;
		pages += area->size >> PAGE_SHIFT;
		used += pmalloc_area_used(area);
	}
	list_for_each_entry(area, &pool->protected, node) {
		areas++;
		pages += area->size >> PAGE_SHIFT;
		used += pmalloc_area_used(area);
		lost += area->size - pmalloc_area_used(area);
	}
	if (list_empty(&pool->protected))
		state = list_empty(&pool->writable) ? "empty" : "writable";
	else
		state = list_empty(&pool->writable) ? "protected" : "partly";
	mutex_unlock(&pool->lock);

	seq_printf(m, "%5zu %6zu %10zu %10zu %-9s %pS\n", areas, pages, used,
		   lost, state, pool->caller);
}

static int pmalloc_pools_show(struct seq_file *m, void *unused)
{
	struct pmalloc_pool *pool;

	seq_printf(m, "%5s %6s %10s %10s %-9s %s\n", "areas", "pages",
		   "in_use", "given_up", "state", "creator");
	mutex_lock(&pmalloc_pools_lock);
	list_for_each_entry(pool, &pmalloc_pools, node)
		pmalloc_show_pool(m, pool);
	mutex_unlock(&pmalloc_pools_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pmalloc_pools);

static int __init pmalloc_init(void)
{
	struct dentry *dir = debugfs_create_dir("pmalloc", NULL);

	debugfs_create_file("pools", 0400, dir, NULL, &pmalloc_pools_fops);

	if (!pmalloc_alias_follows())
		pr_warn("set_memory_ro() leaves the direct map writable%s: pools cannot be protected, pmalloc_protect_pool() fails with -EOPNOTSUPP\n",
			PMALLOC_ALIAS_HINT);
	if (pmalloc_skip_protect)
		pr_warn("test_skip_protect is set: pools are NOT made read-only\n");
	return 0;
}
late_initcall(pmalloc_init);
