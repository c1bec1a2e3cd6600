// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_pmalloc_bench: pmalloc measured against kmalloc, genalloc and vmalloc.
 *
 * Loading the module runs every case once, in the loading task, and prints
 * one line per case starting with "pmalloc_bench:"; the harness turns the
 * lines into a table.  The module then stays loaded, holding nothing;
 * unload it to run it again.  (Failing the load, as test_vmalloc does, would
 * make busybox's insmod retry with init_module() and run everything twice.)
 *
 * Times are meant to be compared with each other, not read on their own:
 * each is the median of @rounds rounds, and the allocators take turns
 * within a round.  Before each timed loop and each memory trace, what
 * earlier cases left pending is settled: lazily freed vmalloc areas are
 * purged and records waiting for an RCU grace period are freed.
 *
 * Memory is what the allocators really took from the system.  Slab pages
 * come from the node counters with every CPU's pending delta added in, so
 * they count pages, not the bytes ksize() admits to; pmalloc's areas are
 * measured with is_pmalloc_object(), which knows their bounds; genalloc's
 * chunks are pages this module adds one at a time.
 * Page tables of the vmalloc range are not counted for anyone.
 */

#define pr_fmt(fmt) "pmalloc_bench: " fmt

#include <linux/genalloc.h>
#include <linux/gfp.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/pmalloc.h>
#include <linux/prandom.h>
#include <linux/rcupdate.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>

#include "test_pmalloc_bench.h"

static unsigned int rounds = 7;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "Rounds of each timed case, the median is printed (default 7)");

static unsigned int nr_allocs = 1000;
module_param(nr_allocs, uint, 0444);
MODULE_PARM_DESC(nr_allocs, "Allocations timed per round (default 1000)");

static unsigned int nr_areas = 10000;
module_param(nr_areas, uint, 0444);
MODULE_PARM_DESC(nr_areas, "Areas already in the pool in the largest scaling case (default 10000)");

static unsigned int nr_random = 100000;
module_param(nr_random, uint, 0444);
MODULE_PARM_DESC(nr_random, "Objects in the random-size memory trace (default 100000)");

static unsigned int seed = 1;
module_param(seed, uint, 0444);
MODULE_PARM_DESC(seed, "Seed of the random traces (default 1)");

static unsigned int nr_updates = 1000;
module_param(nr_updates, uint, 0444);
MODULE_PARM_DESC(nr_updates, "Write-rare updates timed per round (default 1000)");

/* pmalloc's default alignment, and so the granule genalloc gets too. */
#define BENCH_ALIGN		ARCH_KMALLOC_MINALIGN

/*
 * The scaling case fills each area but BENCH_SLACK bytes, then times
 * BENCH_SCALING_SIZE-byte allocations, which fit in none of those areas.
 */
#define BENCH_SLACK		32
#define BENCH_SCALING_SIZE	64

static const size_t bench_sizes[] = { 8, 32, 64, 256, 1024, 4000 };

/*
 * The refill sizes pmalloc's allocation cost and memory are measured with:
 * the default of one page, and the larger areas a user with many small
 * objects would ask for, which pay one vmalloc call and one set of records
 * per 4 or 16 pages but may give up that much at each protect.
 */
static const size_t bench_refills[] = { 0, SZ_16K, SZ_64K };

/* vmalloc() is timed for these sizes and up: below, nobody would use it. */
#define BENCH_VMALLOC_MIN	1024

static u64 *bench_times;	/* one per round */
static void **bench_ptrs;	/* the objects of the round being timed */

/*
 * Finish what earlier cases left pending, so that no case pays for another:
 * purge lazily freed vmalloc areas and free what waits for RCU.
 */
static void bench_settle(void)
{
	vm_unmap_aliases();
	rcu_barrier();
	kvfree_rcu_barrier();
}

static int bench_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* The median of bench_times, per operation, in tenths of a nanosecond. */
static u64 bench_median(unsigned int ops)
{
	sort(bench_times, rounds, sizeof(*bench_times), bench_cmp_u64, NULL);
	return div_u64(bench_times[rounds / 2] * 10, ops);
}

/* Print tenths of a nanosecond as "12.3" into @buf. */
static const char *bench_ns(char *buf, size_t len, u64 tenths)
{
	snprintf(buf, len, "%llu.%llu", tenths / 10, tenths % 10);
	return buf;
}

/* Objects freed by bench_free_ptrs() are not part of the time. */
static void bench_free_ptrs(void (*free)(const void *))
{
	unsigned int i;

	for (i = 0; i < nr_allocs; i++)
		free(bench_ptrs[i]);
}

static bool bench_all_allocated(void)
{
	unsigned int i;

	for (i = 0; i < nr_allocs; i++)
		if (!bench_ptrs[i])
			return false;
	return true;
}

static int bench_kmalloc(size_t size, size_t refill, unsigned int round)
{
	unsigned int i;
	bool ok;
	u64 t0;

	bench_settle();
	t0 = ktime_get_ns();
	for (i = 0; i < nr_allocs; i++)
		bench_ptrs[i] = kmalloc(size, GFP_KERNEL);
	bench_times[round] = ktime_get_ns() - t0;

	ok = bench_all_allocated();
	bench_free_ptrs(kfree);
	return ok ? 0 : -ENOMEM;
}

static int bench_vmalloc(size_t size, size_t refill, unsigned int round)
{
	unsigned int i;
	bool ok;
	u64 t0;

	bench_settle();
	t0 = ktime_get_ns();
	for (i = 0; i < nr_allocs; i++)
		bench_ptrs[i] = vmalloc(size);
	bench_times[round] = ktime_get_ns() - t0;

	ok = bench_all_allocated();
	bench_free_ptrs(vfree);
	return ok ? 0 : -ENOMEM;
}

static int bench_pmalloc(size_t size, size_t refill, unsigned int round)
{
	struct pmalloc_pool *pool;
	unsigned int i;
	bool ok;
	u64 t0;

	pool = pmalloc_create_pool(refill, PMALLOC_ALIGN_DEFAULT);
	if (!pool)
		return -ENOMEM;

	bench_settle();
	t0 = ktime_get_ns();
	for (i = 0; i < nr_allocs; i++)
		bench_ptrs[i] = pmalloc(pool, size);
	bench_times[round] = ktime_get_ns() - t0;

	ok = bench_all_allocated();
	pmalloc_destroy_pool(pool);
	return ok ? 0 : -ENOMEM;
}

/* genalloc from one chunk that holds exactly what the round asks for. */
static int bench_genalloc(size_t size, size_t refill, unsigned int round)
{
	size_t bytes = (size_t)nr_allocs * ALIGN(size, BENCH_ALIGN);
	struct gen_pool *pool;
	unsigned int i;
	void *chunk;
	int ret = -ENOMEM;
	u64 t0;

	pool = gen_pool_create(ilog2(BENCH_ALIGN), NUMA_NO_NODE);
	if (!pool)
		return -ENOMEM;
	chunk = vmalloc(bytes);
	if (!chunk)
		goto out_destroy;
	if (gen_pool_add(pool, (unsigned long)chunk, bytes, NUMA_NO_NODE))
		goto out_vfree;

	bench_settle();
	t0 = ktime_get_ns();
	for (i = 0; i < nr_allocs; i++)
		bench_ptrs[i] = (void *)gen_pool_alloc(pool, size);
	bench_times[round] = ktime_get_ns() - t0;

	ret = 0;
	for (i = 0; i < nr_allocs; i++) {
		if (bench_ptrs[i])
			gen_pool_free(pool, (unsigned long)bench_ptrs[i], size);
		else
			ret = -ENOMEM;
	}
out_vfree:
	/* gen_pool_destroy() reads only the records, not the chunk. */
	vfree(chunk);
out_destroy:
	gen_pool_destroy(pool);
	return ret;
}

/*
 * Each of these is timed in every round, in this order: pmalloc with each
 * of bench_refills, then the others (vmalloc only for the large sizes).
 */
#define BENCH_NR_ALLOC		(ARRAY_SIZE(bench_refills) + 3)

static int bench_alloc_cost(void)
{
	int (*const other[])(size_t, size_t, unsigned int) = {
		bench_kmalloc, bench_genalloc, bench_vmalloc,
	};
	const unsigned int nr_refills = ARRAY_SIZE(bench_refills);
	char buf[BENCH_NR_ALLOC][24];
	u64 *times[BENCH_NR_ALLOC];
	unsigned int s, a, r;
	int ret = -ENOMEM;

	/* The line printed below names the three refill sizes. */
	BUILD_BUG_ON(ARRAY_SIZE(bench_refills) != 3);
	for (a = 0; a < BENCH_NR_ALLOC; a++)
		times[a] = kcalloc(rounds, sizeof(u64), GFP_KERNEL);

	for (s = 0; s < ARRAY_SIZE(bench_sizes); s++) {
		size_t size = bench_sizes[s];
		unsigned int nr = BENCH_NR_ALLOC;

		if (size < BENCH_VMALLOC_MIN)
			nr--;
		for (r = 0; r < rounds; r++) {
			for (a = 0; a < nr; a++) {
				if (!times[a])
					goto out_free;
				if (a < nr_refills)
					ret = bench_pmalloc(size, bench_refills[a], r);
				else
					ret = other[a - nr_refills](size, 0, r);
				if (ret)
					goto out_free;
				times[a][r] = bench_times[r];
			}
		}
		for (a = 0; a < BENCH_NR_ALLOC; a++) {
			if (a == nr) {
				strscpy(buf[a], "-");
				continue;
			}
			memcpy(bench_times, times[a], rounds * sizeof(u64));
			bench_ns(buf[a], sizeof(buf[a]), bench_median(nr_allocs));
		}
		pr_info("alloc size=%zu ns_per_alloc pmalloc=%s pmalloc_refill_%zu=%s pmalloc_refill_%zu=%s kmalloc=%s genalloc=%s vmalloc=%s\n",
			size, buf[0], bench_refills[1], buf[1], bench_refills[2],
			buf[2], buf[3], buf[4], buf[5]);
	}
	ret = 0;
out_free:
	for (a = 0; a < BENCH_NR_ALLOC; a++)
		kfree(times[a]);
	if (ret)
		pr_err("alloc: out of memory\n");
	return ret;
}

/*
 * A pool of @areas one-page areas, each filled to BENCH_SLACK bytes from its
 * end, protected or not.
 */
static struct pmalloc_pool *bench_full_pool(unsigned int areas, bool protect)
{
	struct pmalloc_pool *pool;
	unsigned int i;

	pool = pmalloc_create_pool(0, PMALLOC_ALIGN_DEFAULT);
	if (!pool)
		return NULL;
	for (i = 0; i < areas; i++)
		if (!pmalloc(pool, PAGE_SIZE - BENCH_SLACK))
			goto err_destroy;
	if (protect && pmalloc_protect_pool(pool))
		goto err_destroy;
	return pool;

err_destroy:
	pmalloc_destroy_pool(pool);
	return NULL;
}

static int bench_scaling_case(unsigned int areas, bool protect)
{
	struct pmalloc_pool *pool;
	unsigned int i, r;
	char buf[24];
	bool ok;
	u64 t0;

	for (r = 0; r < rounds; r++) {
		pool = bench_full_pool(areas, protect);
		if (!pool)
			return -ENOMEM;

		bench_settle();
		t0 = ktime_get_ns();
		for (i = 0; i < nr_allocs; i++)
			bench_ptrs[i] = pmalloc(pool, BENCH_SCALING_SIZE);
		bench_times[r] = ktime_get_ns() - t0;

		ok = bench_all_allocated();
		pmalloc_destroy_pool(pool);
		if (!ok)
			return -ENOMEM;
	}
	pr_info("scaling areas=%u state=%s size=%u ns_per_alloc pmalloc=%s\n",
		areas, protect ? "protected" : "writable", BENCH_SCALING_SIZE,
		bench_ns(buf, sizeof(buf), bench_median(nr_allocs)));
	return 0;
}

static int bench_scaling(void)
{
	int ret;

	ret = bench_scaling_case(1, false);
	if (!ret)
		ret = bench_scaling_case(100, false);
	if (!ret)
		ret = bench_scaling_case(nr_areas, false);
	if (!ret)
		ret = bench_scaling_case(nr_areas, true);
	if (ret)
		pr_err("scaling: out of memory\n");
	return ret;
}

/* Bytes of slab pages in use, every CPU's pending delta included. */
static u64 bench_slab_bytes(void)
{
	static const enum node_stat_item items[] = {
		NR_SLAB_RECLAIMABLE_B, NR_SLAB_UNRECLAIMABLE_B,
	};
	long pages = 0;
	unsigned int i;
	int nid, cpu;

	for_each_online_node(nid) {
		struct pglist_data *pgdat = NODE_DATA(nid);

		for (i = 0; i < ARRAY_SIZE(items); i++) {
			pages += atomic_long_read(&pgdat->vm_stat[items[i]]);
			for_each_online_cpu(cpu)
				pages += per_cpu_ptr(pgdat->per_cpu_nodestats,
						     cpu)->vm_node_stat_diff[items[i]];
		}
	}
	return (u64)max(pages, 0L) << PAGE_SHIFT;
}

/*
 * Empty kmalloc slabs go back to the page allocator before each trace, so
 * that the trace pays for the slabs it needs rather than reuse the ones an
 * earlier case left behind.  Partly used slabs stay and still absorb a few
 * objects for free.
 */
static void bench_shrink_kmalloc(void)
{
	unsigned int type, i;

	bench_settle();
	for (type = 0; type < NR_KMALLOC_TYPES; type++)
		for (i = 0; i < ARRAY_SIZE(kmalloc_caches[type]); i++)
			if (kmalloc_caches[type][i])
				kmem_cache_shrink(kmalloc_caches[type][i]);
}

/* An allocation trace: object sizes in the order they are requested. */
struct bench_trace {
	const char *name;
	unsigned int nr;
	u16 *sizes;
	u64 requested;
};

/* One pmalloc object, to find the areas after the trace. */
struct bench_obj {
	unsigned long addr;
	size_t size;
};

static struct bench_obj *bench_objs;	/* as many as the longest trace */

static int bench_cmp_obj(const void *a, const void *b)
{
	unsigned long x = ((const struct bench_obj *)a)->addr;
	unsigned long y = ((const struct bench_obj *)b)->addr;

	return x < y ? -1 : x > y;
}

static bool bench_in_area(unsigned long page)
{
	return is_pmalloc_object((void *)page, PAGE_SIZE) != PMALLOC_OUTSIDE;
}

/*
 * The pmalloc area around @addr.  vmalloc leaves a guard page after every
 * area, so neighbouring pages inside some area belong to the same one.
 */
static void bench_area_of(unsigned long addr, unsigned long *start,
			  unsigned long *end)
{
	*start = addr & PAGE_MASK;
	while (bench_in_area(*start - PAGE_SIZE))
		*start -= PAGE_SIZE;
	*end = (addr & PAGE_MASK) + PAGE_SIZE;
	while (bench_in_area(*end))
		*end += PAGE_SIZE;
}

/* What pmalloc took for a trace, and what of it went unused. */
struct bench_usage {
	u64 area_bytes;		/* pages of the areas the objects are in */
	u64 given_up;		/* bytes after the last object of each area */
	s64 records;		/* slab bytes: pool, areas, vmalloc, tree */
	unsigned int areas;
};

/* Sum up the areas holding bench_objs[0..nr), sorting bench_objs. */
static void bench_count_areas(unsigned int nr, struct bench_usage *u)
{
	unsigned long start = 0, end = 0, last = 0;
	unsigned int i;

	sort(bench_objs, nr, sizeof(*bench_objs), bench_cmp_obj, NULL);
	for (i = 0; i < nr; i++) {
		struct bench_obj *o = &bench_objs[i];

		if (o->addr >= end) {
			u->given_up += end - last;
			bench_area_of(o->addr, &start, &end);
			u->area_bytes += end - start;
			u->areas++;
		}
		last = o->addr + o->size;
	}
	u->given_up += end - last;
}

/*
 * Run @t through a pmalloc pool of refill size @refill and alignment order
 * @align_order, protecting it every @every objects.
 */
static int bench_pmalloc_trace(const struct bench_trace *t, size_t refill,
			       short align_order, unsigned int every,
			       struct bench_usage *u)
{
	struct pmalloc_pool *pool;
	unsigned int i;
	u64 slab0;
	int ret = -ENOMEM;

	memset(u, 0, sizeof(*u));
	bench_shrink_kmalloc();
	slab0 = bench_slab_bytes();
	pool = pmalloc_create_pool(refill, align_order);
	if (!pool)
		return -ENOMEM;

	for (i = 0; i < t->nr; i++) {
		void *p = pmalloc(pool, t->sizes[i]);

		if (!p)
			goto out_destroy;
		bench_objs[i].addr = (unsigned long)p;
		bench_objs[i].size = t->sizes[i];
		if (every && (i + 1) % every == 0) {
			ret = pmalloc_protect_pool(pool);
			if (ret)
				goto out_destroy;
		}
	}
	ret = pmalloc_protect_pool(pool);
	if (ret)
		goto out_destroy;
	u->records = (s64)(bench_slab_bytes() - slab0);
	bench_count_areas(t->nr, u);
out_destroy:
	pmalloc_destroy_pool(pool);
	return ret;
}

static int bench_kmalloc_trace(const struct bench_trace *t, s64 *consumed)
{
	unsigned int i;
	int ret = 0;
	u64 slab0;

	bench_shrink_kmalloc();
	slab0 = bench_slab_bytes();
	for (i = 0; i < t->nr; i++)
		bench_objs[i].addr = (unsigned long)kmalloc(t->sizes[i],
							    GFP_KERNEL);
	*consumed = (s64)(bench_slab_bytes() - slab0);

	for (i = 0; i < t->nr; i++) {
		if (!bench_objs[i].addr)
			ret = -ENOMEM;
		kfree((void *)bench_objs[i].addr);
	}
	return ret;
}

static void bench_free_chunk(struct gen_pool *pool,
			     struct gen_pool_chunk *chunk, void *data)
{
	free_page(chunk->start_addr);
}

/*
 * genalloc fed a page at a time, as pmalloc is, so that neither is charged
 * for memory the trace never asked for.
 */
static int bench_genalloc_trace(const struct bench_trace *t, s64 *consumed)
{
	struct gen_pool *pool;
	unsigned int i, chunks = 0;
	int ret = 0;
	u64 slab0;

	bench_shrink_kmalloc();
	slab0 = bench_slab_bytes();
	pool = gen_pool_create(ilog2(BENCH_ALIGN), NUMA_NO_NODE);
	if (!pool)
		return -ENOMEM;

	for (i = 0; i < t->nr; i++) {
		unsigned long addr = gen_pool_alloc(pool, t->sizes[i]);

		if (!addr) {
			unsigned long page = __get_free_page(GFP_KERNEL);

			if (!page || gen_pool_add(pool, page, PAGE_SIZE,
						  NUMA_NO_NODE)) {
				free_page(page);
				ret = -ENOMEM;
				break;
			}
			chunks++;
			addr = gen_pool_alloc(pool, t->sizes[i]);
		}
		bench_objs[i].addr = addr;
		if (!addr) {
			ret = -ENOMEM;
			break;
		}
	}
	*consumed = (s64)(bench_slab_bytes() - slab0) + (s64)chunks * PAGE_SIZE;

	while (i--)
		gen_pool_free(pool, bench_objs[i].addr, t->sizes[i]);
	gen_pool_for_each_chunk(pool, bench_free_chunk, NULL);
	gen_pool_destroy(pool);
	return ret;
}

static void bench_print_usage(const struct bench_trace *t, size_t refill,
			      short align_order, unsigned int every,
			      const struct bench_usage *u)
{
	char buf[12] = "once", align[12] = "default";

	if (every)
		snprintf(buf, sizeof(buf), "%u", every);
	if (align_order != PMALLOC_ALIGN_DEFAULT)
		snprintf(align, sizeof(align), "%d", align_order);
	pr_info("protect trace=%s refill=%zu align=%s every=%s areas=%u area_bytes=%llu records=%lld given_up=%llu\n",
		t->name, refill, align, buf, u->areas, u->area_bytes,
		u->records, u->given_up);
}

/*
 * The larger refill sizes are protected once and every 100 objects only:
 * protecting every 10 or every object would take a whole area each time,
 * up to 100,000 areas of 64 KiB, more than the guest has.
 */
#define BENCH_REFILL_EVERY	100

/* Run @t through pmalloc, print what it took, and return the error if any. */
static int bench_usage_case(const struct bench_trace *t, size_t refill,
			    short align_order, unsigned int every)
{
	struct bench_usage u;
	int ret;

	ret = bench_pmalloc_trace(t, refill, align_order, every, &u);
	if (!ret)
		bench_print_usage(t, refill, align_order, every, &u);
	return ret;
}

static int bench_memory_trace(const struct bench_trace *t)
{
	static const unsigned int every[] = { 1, 10, 100 };
	const short dflt = PMALLOC_ALIGN_DEFAULT;
	s64 kmalloc_bytes, genalloc_bytes;
	struct bench_usage u;
	unsigned int i;
	int ret;

	ret = bench_kmalloc_trace(t, &kmalloc_bytes);
	if (!ret)
		ret = bench_genalloc_trace(t, &genalloc_bytes);
	if (!ret)
		ret = bench_pmalloc_trace(t, 0, dflt, 0, &u);
	if (ret)
		return ret;
	pr_info("memory trace=%s objects=%u requested=%llu pmalloc=%lld kmalloc=%lld genalloc=%lld\n",
		t->name, t->nr, t->requested, (s64)u.area_bytes + u.records,
		kmalloc_bytes, genalloc_bytes);
	bench_print_usage(t, 0, dflt, 0, &u);

	for (i = 0; i < ARRAY_SIZE(every) && !ret; i++)
		ret = bench_usage_case(t, 0, dflt, every[i]);

	for (i = 1; i < ARRAY_SIZE(bench_refills) && !ret; i++) {
		ret = bench_usage_case(t, bench_refills[i], dflt, 0);
		if (!ret)
			ret = bench_usage_case(t, bench_refills[i], dflt,
					       BENCH_REFILL_EVERY);
	}

	/*
	 * Byte-aligned objects, protected once: what the trace costs when
	 * no object is rounded up to ARCH_KMALLOC_MINALIGN.
	 */
	for (i = 0; i < ARRAY_SIZE(bench_refills) && !ret; i++)
		ret = bench_usage_case(t, bench_refills[i], 0, 0);
	return ret;
}

/* Uniformly random sizes from 8 to 256 bytes. */
static void bench_trace_random(struct bench_trace *t, struct rnd_state *rnd)
{
	unsigned int i;

	for (i = 0; i < t->nr; i++)
		t->sizes[i] = 8 + prandom_u32_state(rnd) % 249;
}

/*
 * A loaded policy: rules of 24 to 96 bytes in steps of 8, as structures
 * come, each followed by the string it names, 6 to 40 bytes with its NUL.
 */
static void bench_trace_policy(struct bench_trace *t, struct rnd_state *rnd)
{
	unsigned int i;

	for (i = 0; i + 1 < t->nr; i += 2) {
		t->sizes[i] = 24 + 8 * (prandom_u32_state(rnd) % 10);
		t->sizes[i + 1] = 6 + prandom_u32_state(rnd) % 35;
	}
}

/*
 * LoadPin's trusted dm-verity root digests: a list head, a length and a
 * SHA-256 digest, struct_size() of them as LoadPin allocates each.
 */
static void bench_trace_loadpin(struct bench_trace *t, struct rnd_state *rnd)
{
	struct bench_digest {
		struct list_head node;
		unsigned int len;
		u8 data[];
	} *d;
	unsigned int i;

	for (i = 0; i < t->nr; i++)
		t->sizes[i] = struct_size(d, data, 32);
}

static int bench_memory(void)
{
	static const struct {
		const char *name;
		void (*fill)(struct bench_trace *t, struct rnd_state *rnd);
		unsigned int nr;
	} traces[] = {
		{ "random", bench_trace_random, 0 },
		{ "policy", bench_trace_policy, 10000 },
		{ "loadpin", bench_trace_loadpin, 1000 },
	};
	struct bench_trace t;
	struct rnd_state rnd;
	unsigned int i, j, max = nr_random;
	int ret = 0;

	for (i = 1; i < ARRAY_SIZE(traces); i++)
		max = max(max, traces[i].nr);
	t.sizes = kvmalloc_array(max, sizeof(*t.sizes), GFP_KERNEL);
	bench_objs = kvmalloc_array(max, sizeof(*bench_objs), GFP_KERNEL);
	if (!t.sizes || !bench_objs) {
		ret = -ENOMEM;
		goto out_free;
	}

	prandom_seed_state(&rnd, seed);
	for (i = 0; i < ARRAY_SIZE(traces) && !ret; i++) {
		t.name = traces[i].name;
		t.nr = traces[i].nr ?: nr_random;
		traces[i].fill(&t, &rnd);
		t.requested = 0;
		for (j = 0; j < t.nr; j++)
			t.requested += t.sizes[j];
		ret = bench_memory_trace(&t);
	}
out_free:
	kvfree(bench_objs);
	kvfree(t.sizes);
	if (ret)
		pr_err("memory: failed with %d\n", ret);
	return ret;
}

/*
 * The vm events a protect is charged with.  The TLB flush counters exist
 * only with CONFIG_DEBUG_TLBFLUSH, which only x86 offers, and the
 * direct-map split counters only on x86; elsewhere their column reads "-".
 */
#define BENCH_NO_EVENT		(-1)

static const struct {
	const char *name;
	int item;		/* an enum vm_event_item, or BENCH_NO_EVENT */
} bench_events[] = {
#ifdef CONFIG_DEBUG_TLBFLUSH
	{ "flush_all_calls", NR_TLB_REMOTE_FLUSH },
	{ "full_flushes", NR_TLB_REMOTE_FLUSH_RECEIVED },
	{ "local_flush_all", NR_TLB_LOCAL_FLUSH_ALL },
	{ "page_flushes", NR_TLB_LOCAL_FLUSH_ONE },
#else
	{ "flush_all_calls", BENCH_NO_EVENT },
	{ "full_flushes", BENCH_NO_EVENT },
	{ "local_flush_all", BENCH_NO_EVENT },
	{ "page_flushes", BENCH_NO_EVENT },
#endif
#ifdef CONFIG_X86
	{ "splits_2m", DIRECT_MAP_LEVEL2_SPLIT },
	{ "splits_1g", DIRECT_MAP_LEVEL3_SPLIT },
#else
	{ "splits_2m", BENCH_NO_EVENT },
	{ "splits_1g", BENCH_NO_EVENT },
#endif
};

static unsigned long bench_ev0[NR_VM_EVENT_ITEMS];
static unsigned long bench_ev1[NR_VM_EVENT_ITEMS];

/* A pool of @pages pages, in one area or in one area a page. */
static struct pmalloc_pool *bench_protect_pool(unsigned int pages, bool one)
{
	struct pmalloc_pool *pool;
	unsigned int i;

	pool = pmalloc_create_pool(one ? pages * PAGE_SIZE : 0,
				   PMALLOC_ALIGN_DEFAULT);
	if (!pool)
		return NULL;
	for (i = 0; i < (one ? 1 : pages); i++)
		if (!pmalloc(pool, one ? 1 : PAGE_SIZE))
			goto err_destroy;
	return pool;

err_destroy:
	pmalloc_destroy_pool(pool);
	return NULL;
}

static int bench_protect_case(unsigned int pages, bool one)
{
	u64 sum[ARRAY_SIZE(bench_events)] = { };
	char ev[ARRAY_SIZE(bench_events)][24];
	struct pmalloc_pool *pool;
	unsigned int r, e;
	char buf[24];
	int ret;
	u64 t0;

	for (r = 0; r < rounds; r++) {
		pool = bench_protect_pool(pages, one);
		if (!pool)
			return -ENOMEM;

		bench_settle();
		all_vm_events(bench_ev0);
		t0 = ktime_get_ns();
		ret = pmalloc_protect_pool(pool);
		bench_times[r] = ktime_get_ns() - t0;
		all_vm_events(bench_ev1);

		pmalloc_destroy_pool(pool);
		if (ret)
			return ret;
		for (e = 0; e < ARRAY_SIZE(bench_events); e++) {
			int item = bench_events[e].item;

			if (item != BENCH_NO_EVENT)
				sum[e] += bench_ev1[item] - bench_ev0[item];
		}
	}
	for (e = 0; e < ARRAY_SIZE(bench_events); e++) {
		if (bench_events[e].item == BENCH_NO_EVENT)
			snprintf(ev[e], sizeof(ev[e]), "%s=-",
				 bench_events[e].name);
		else
			snprintf(ev[e], sizeof(ev[e]), "%s=%llu",
				 bench_events[e].name, sum[e]);
	}
	/* The line printed below names every event. */
	BUILD_BUG_ON(ARRAY_SIZE(bench_events) != 6);
	pr_info("protect_cost pages=%u areas=%u rounds=%u ns_per_protect=%s %s %s %s %s %s %s\n",
		pages, one ? 1 : pages, rounds,
		bench_ns(buf, sizeof(buf), bench_median(1)),
		ev[0], ev[1], ev[2], ev[3], ev[4], ev[5]);
	return 0;
}

static int bench_protect(void)
{
	static const unsigned int pages[] = { 1, 16, 256 };
	unsigned int i;
	int ret = 0;

	for (i = 0; i < ARRAY_SIZE(pages) && !ret; i++) {
		ret = bench_protect_case(pages[i], true);
		if (!ret && pages[i] > 1)
			ret = bench_protect_case(pages[i], false);
	}
	if (ret)
		pr_err("protect: failed with %d\n", ret);
	return ret;
}

/*
 * Write-rare updates: pmalloc_wr_memcpy() into an object of a protected
 * write-rare pool, against a memcpy() into an object of a plain pool that
 * was never protected, and against what an owner could do without
 * write-rare: make the page writable, write, make it read-only again.
 * set_memory_rw() is not exported, so that round trip is timed by
 * test_pmalloc_bench_rw_round_trips(), built in, on a page of its own.
 */
static const size_t bench_wr_sizes[] = { 8, PAGE_SIZE };

/* Two patterns of a page each, taken in turn: every update changes bytes. */
static u8 *bench_wr_src[2];

static const u8 *bench_wr_pattern(unsigned int i)
{
	return bench_wr_src[i & 1];
}

/* An object of @n bytes, filled, from a new pool; protected if @wr. */
static void *bench_wr_object(size_t n, bool wr, struct pmalloc_pool **pool)
{
	void *obj;
	int ret;

	*pool = wr ? pmalloc_create_wr_pool(0, PMALLOC_ALIGN_DEFAULT) :
		     pmalloc_create_pool(0, PMALLOC_ALIGN_DEFAULT);
	obj = *pool ? pmalloc(*pool, n) : NULL;
	if (!obj) {
		pmalloc_destroy_pool(*pool);
		return ERR_PTR(-ENOMEM);
	}
	memcpy(obj, bench_wr_pattern(1), n);
	ret = wr ? pmalloc_protect_pool(*pool) : 0;
	if (ret) {
		pmalloc_destroy_pool(*pool);
		return ERR_PTR(ret);
	}
	return obj;
}

/* 0 if @obj holds the pattern the last of nr_updates updates wrote. */
static int bench_wr_check(const void *obj, size_t n)
{
	return memcmp(obj, bench_wr_pattern(nr_updates - 1), n) ? -EIO : 0;
}

static int bench_wr_memcpy(size_t n, unsigned int round)
{
	struct pmalloc_pool *pool;
	unsigned int i;
	void *obj;
	int ret;
	u64 t0;

	obj = bench_wr_object(n, false, &pool);
	if (IS_ERR(obj))
		return PTR_ERR(obj);

	bench_settle();
	t0 = ktime_get_ns();
	for (i = 0; i < nr_updates; i++) {
		memcpy(obj, bench_wr_pattern(i), n);
		/* Keep each copy: only the last one is ever read. */
		barrier();
	}
	bench_times[round] = ktime_get_ns() - t0;

	ret = bench_wr_check(obj, n);
	pmalloc_destroy_pool(pool);
	return ret;
}

static int bench_wr_update(size_t n, unsigned int round)
{
	struct pmalloc_pool *pool;
	unsigned int i;
	void *obj;
	int ret = 0;
	u64 t0;

	obj = bench_wr_object(n, true, &pool);
	if (IS_ERR(obj))
		return PTR_ERR(obj);

	bench_settle();
	t0 = ktime_get_ns();
	for (i = 0; i < nr_updates && !ret; i++)
		ret = pmalloc_wr_memcpy(obj, bench_wr_pattern(i), n);
	bench_times[round] = ktime_get_ns() - t0;

	if (!ret)
		ret = bench_wr_check(obj, n);
	pmalloc_destroy_pool(pool);
	return ret;
}

static int bench_wr_round_trip(size_t n, unsigned int round)
{
	bench_settle();
	return test_pmalloc_bench_rw_round_trips(bench_wr_pattern(0), n,
						 nr_updates,
						 &bench_times[round]);
}

#define BENCH_NR_WR	3

/*
 * Time the three ways in turn in each round.  A way the kernel refuses
 * with -EOPNOTSUPP (write-rare where the architecture cannot write
 * protected memory) is reported as such; any other error fails the case.
 */
static int bench_wr_size(size_t n, u64 *times[BENCH_NR_WR])
{
	int (*const way[BENCH_NR_WR])(size_t, unsigned int) = {
		bench_wr_memcpy, bench_wr_update, bench_wr_round_trip,
	};
	char buf[BENCH_NR_WR][24];
	int err[BENCH_NR_WR] = { };
	unsigned int r, a;

	for (r = 0; r < rounds; r++) {
		for (a = 0; a < BENCH_NR_WR; a++) {
			if (err[a])
				continue;
			err[a] = way[a](n, r);
			if (err[a] && err[a] != -EOPNOTSUPP)
				return err[a];
			times[a][r] = bench_times[r];
		}
	}
	for (a = 0; a < BENCH_NR_WR; a++) {
		if (err[a]) {
			strscpy(buf[a], "-");
			continue;
		}
		memcpy(bench_times, times[a], rounds * sizeof(u64));
		bench_ns(buf[a], sizeof(buf[a]), bench_median(nr_updates));
	}
	pr_info("wr size=%zu updates=%u ns_per_update memcpy=%s wr_memcpy=%s rw_round_trip=%s wr_error=%d rw_error=%d\n",
		n, nr_updates, buf[0], buf[1], buf[2], err[1], err[2]);
	return 0;
}

static int bench_wr(void)
{
	u64 *times[BENCH_NR_WR] = { };
	unsigned int i, a;
	int ret = -ENOMEM;

	for (i = 0; i < ARRAY_SIZE(bench_wr_src); i++) {
		bench_wr_src[i] = kmalloc(PAGE_SIZE, GFP_KERNEL);
		if (!bench_wr_src[i])
			goto out_free;
		memset(bench_wr_src[i], i ? 0xa5 : 0x5a, PAGE_SIZE);
	}
	for (a = 0; a < BENCH_NR_WR; a++) {
		times[a] = kcalloc(rounds, sizeof(u64), GFP_KERNEL);
		if (!times[a])
			goto out_free;
	}

	ret = 0;
	for (i = 0; i < ARRAY_SIZE(bench_wr_sizes) && !ret; i++)
		ret = bench_wr_size(bench_wr_sizes[i], times);
out_free:
	for (a = 0; a < BENCH_NR_WR; a++)
		kfree(times[a]);
	for (i = 0; i < ARRAY_SIZE(bench_wr_src); i++) {
		kfree(bench_wr_src[i]);
		bench_wr_src[i] = NULL;
	}
	if (ret)
		pr_err("wr: failed with %d\n", ret);
	return ret;
}

static int __init bench_init(void)
{
	int ret;

	if (!rounds || !nr_allocs || !nr_areas || !nr_random || !nr_updates) {
		pr_err("rounds, nr_allocs, nr_areas, nr_random and nr_updates must be at least 1\n");
		return -EINVAL;
	}
	bench_times = kcalloc(rounds, sizeof(*bench_times), GFP_KERNEL);
	bench_ptrs = kvcalloc(nr_allocs, sizeof(*bench_ptrs), GFP_KERNEL);
	if (!bench_times || !bench_ptrs) {
		ret = -ENOMEM;
		goto out_free;
	}

	BUILD_BUG_ON(ARRAY_SIZE(bench_refills) != 3);
	pr_info("start rounds=%u nr_allocs=%u nr_areas=%u nr_random=%u seed=%u nr_updates=%u refills=%zu,%zu,%zu\n",
		rounds, nr_allocs, nr_areas, nr_random, seed, nr_updates,
		bench_refills[0], bench_refills[1], bench_refills[2]);
	/* First, while the direct map has split the least. */
	ret = bench_protect();
	if (!ret)
		ret = bench_alloc_cost();
	if (!ret)
		ret = bench_scaling();
	if (!ret)
		ret = bench_memory();
	/* Last: the set_memory_*() round trips split the direct map. */
	if (!ret)
		ret = bench_wr();
	pr_info("done: %s\n", ret ? "failed" : "all cases ran");
out_free:
	kvfree(bench_ptrs);
	kfree(bench_times);
	return ret;
}
module_init(bench_init);

/* Everything was freed on loading: unloading only allows another run. */
static void __exit bench_exit(void)
{
}
module_exit(bench_exit);

MODULE_IMPORT_NS(PMALLOC_BENCH);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Benchmark of pmalloc against kmalloc, genalloc and vmalloc");
