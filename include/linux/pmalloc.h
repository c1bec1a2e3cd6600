/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pmalloc: pools of memory that can be made read-only once their contents
 * have been written.  See Documentation/core-api/pmalloc.rst.
 */
#ifndef _LINUX_PMALLOC_H
#define _LINUX_PMALLOC_H

#include <linux/overflow.h>
#include <linux/string.h>
#include <linux/types.h>

struct pmalloc_pool;

/*
 * Passed as @align_order to pmalloc_create_pool() to get the alignment
 * kmalloc() guarantees, ARCH_KMALLOC_MINALIGN.
 */
#define PMALLOC_ALIGN_DEFAULT	(-1)

/**
 * enum pmalloc_range - where a range of addresses lies, for is_pmalloc_object()
 * @PMALLOC_OUTSIDE: in no pmalloc area
 * @PMALLOC_WRITABLE: inside one area that is not protected yet
 * @PMALLOC_PROTECTED: inside one protected area
 * @PMALLOC_STRADDLES: across the first or last byte of an area
 */
enum pmalloc_range {
	PMALLOC_OUTSIDE,
	PMALLOC_WRITABLE,
	PMALLOC_PROTECTED,
	PMALLOC_STRADDLES,
};

#ifdef CONFIG_PMALLOC

struct pmalloc_pool *pmalloc_create_pool(size_t refill, short align_order);
void *pmalloc(struct pmalloc_pool *pool, size_t size);
int pmalloc_protect_pool(struct pmalloc_pool *pool);
void pmalloc_destroy_pool(struct pmalloc_pool *pool);
enum pmalloc_range is_pmalloc_object(const void *ptr, unsigned long n);
struct pmalloc_pool *pmalloc_create_wr_pool(size_t refill, short align_order);
int pmalloc_wr_memcpy(void *dst, const void *src, size_t n);
int pmalloc_wr_memset(void *dst, int c, size_t n);
int pmalloc_wr_ptr_release(void *dst, const void *ptr);

#else /* !CONFIG_PMALLOC */

#include <linux/align.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include <asm/barrier.h>

/*
 * Without CONFIG_PMALLOC a pool still hands out memory, so that callers need
 * no #ifdef, but nothing is ever made read-only: pmalloc_protect_pool()
 * succeeds and changes nothing.  The objects are plain kmalloc() blocks,
 * chained so that pmalloc_destroy_pool() can free them; @refill is ignored.
 */
struct pmalloc_pool {
	struct mutex lock;		/* serialises changes to @blocks */
	struct pmalloc_block *blocks;
	size_t align;
};

struct pmalloc_block {
	struct pmalloc_block *next;
	u8 data[];
};

static inline struct pmalloc_pool *
pmalloc_create_pool(size_t refill, short align_order)
{
	struct pmalloc_pool *pool;

	if (align_order < PMALLOC_ALIGN_DEFAULT || align_order > PAGE_SHIFT)
		return NULL;
	might_sleep();
	pool = kzalloc(sizeof(*pool), GFP_KERNEL);
	if (!pool)
		return NULL;
	mutex_init(&pool->lock);
	pool->align = align_order < 0 ? ARCH_KMALLOC_MINALIGN :
					 1UL << align_order;
	return pool;
}

static inline void *pmalloc(struct pmalloc_pool *pool, size_t size)
{
	struct pmalloc_block *block;
	size_t total;

	might_sleep();
	if (!pool || !size)
		return NULL;
	total = size_add(size_add(sizeof(*block), size), pool->align - 1);
	block = kmalloc(total, GFP_KERNEL | __GFP_NOWARN);
	if (!block)
		return NULL;
	mutex_lock(&pool->lock);
	block->next = pool->blocks;
	pool->blocks = block;
	mutex_unlock(&pool->lock);
	return PTR_ALIGN((void *)block->data, pool->align);
}

static inline int pmalloc_protect_pool(struct pmalloc_pool *pool)
{
	return pool ? 0 : -EINVAL;
}

static inline void pmalloc_destroy_pool(struct pmalloc_pool *pool)
{
	struct pmalloc_block *block;

	might_sleep();
	if (!pool)
		return;
	while ((block = pool->blocks)) {
		pool->blocks = block->next;
		kfree(block);
	}
	kfree(pool);
}

/* Without protection no memory is pmalloc's: nothing for usercopy to check. */
static inline enum pmalloc_range is_pmalloc_object(const void *ptr,
						   unsigned long n)
{
	return PMALLOC_OUTSIDE;
}

/*
 * Nothing is protected, so write-rare writes go straight to memory.  Without
 * areas to look @dst up in, only a NULL @dst, a zero length and a misaligned
 * pointer slot are refused.
 */
static inline struct pmalloc_pool *
pmalloc_create_wr_pool(size_t refill, short align_order)
{
	return pmalloc_create_pool(refill, align_order);
}

static inline int pmalloc_wr_memcpy(void *dst, const void *src, size_t n)
{
	might_sleep();
	if (!dst || !n)
		return -EINVAL;
	memcpy(dst, src, n);
	return 0;
}

static inline int pmalloc_wr_memset(void *dst, int c, size_t n)
{
	might_sleep();
	if (!dst || !n)
		return -EINVAL;
	memset(dst, c, n);
	return 0;
}

static inline int pmalloc_wr_ptr_release(void *dst, const void *ptr)
{
	might_sleep();
	if (!dst || !IS_ALIGNED((unsigned long)dst, sizeof(ptr)))
		return -EINVAL;
	/* Orders the caller's earlier stores before the pointer's. */
	smp_store_release((const void **)dst, ptr);
	return 0;
}

#endif /* CONFIG_PMALLOC */

/**
 * pmalloc_wr_assign() - Assign a value to a scalar in a write-rare pool.
 * @dst: the scalar, an lvalue inside an object of a write-rare pool
 * @val: the value to give it
 *
 * As pmalloc_wr_memcpy() of @val, converted to the type of @dst.  The
 * bytes are not written by one store: lockless readers may see the value
 * half changed.
 *
 * Context: Process context; may sleep.
 * Return: as pmalloc_wr_memcpy().
 */
#define pmalloc_wr_assign(dst, val)					\
({									\
	typeof(dst) __pmalloc_val = (val);				\
									\
	pmalloc_wr_memcpy((void *)&(dst), &__pmalloc_val,		\
			  sizeof(__pmalloc_val));			\
})

/**
 * pmalloc_wr_rcu_assign_pointer() - Publish a pointer for RCU readers.
 * @p: the __rcu pointer to set, an lvalue inside an object of a write-rare
 *	pool
 * @v: the value to give it
 *
 * The rcu_assign_pointer() of write-rare pools: @p is written by a single
 * store, ordered after every earlier store of the caller, so a reader in
 * rcu_dereference() sees either the old pointer or the new one, and the
 * new one only with the data it points to.  The caller frees the old
 * object only after a grace period, as with any RCU update.
 *
 * Context: Process context; may sleep.
 * Return: as pmalloc_wr_ptr_release().
 */
#define pmalloc_wr_rcu_assign_pointer(p, v)				\
({									\
	typeof(v) __pmalloc_v = (v);					\
	typeof(p) __pmalloc_ptr =					\
		(typeof(*__pmalloc_v) __force __rcu *)__pmalloc_v;	\
									\
	pmalloc_wr_ptr_release((void *)&(p),				\
			       (__force const void *)__pmalloc_ptr);	\
})

/**
 * pzalloc() - Allocate zeroed memory from a pool.
 * @pool: the pool to allocate from
 * @size: the number of bytes wanted
 *
 * As pmalloc(), with the memory cleared.
 *
 * Context: Process context; may sleep.
 * Return: the zeroed object, or NULL under the same conditions as pmalloc().
 */
static inline void *pzalloc(struct pmalloc_pool *pool, size_t size)
{
	void *p = pmalloc(pool, size);

	if (p)
		memset(p, 0, size);
	return p;
}

/**
 * pmalloc_array() - Allocate an array from a pool.
 * @pool: the pool to allocate from
 * @n: the number of elements
 * @size: the size of one element
 *
 * Context: Process context; may sleep.
 * Return: room for @n elements of @size bytes, or NULL if @n * @size
 * overflows or under the same conditions as pmalloc().
 */
static inline void *pmalloc_array(struct pmalloc_pool *pool, size_t n,
				  size_t size)
{
	size_t bytes;

	if (check_mul_overflow(n, size, &bytes))
		return NULL;
	return pmalloc(pool, bytes);
}

/**
 * pcalloc() - Allocate a zeroed array from a pool.
 * @pool: the pool to allocate from
 * @n: the number of elements
 * @size: the size of one element
 *
 * Context: Process context; may sleep.
 * Return: room for @n zeroed elements of @size bytes, or NULL if
 * @n * @size overflows or under the same conditions as pmalloc().
 */
static inline void *pcalloc(struct pmalloc_pool *pool, size_t n, size_t size)
{
	size_t bytes;

	if (check_mul_overflow(n, size, &bytes))
		return NULL;
	return pzalloc(pool, bytes);
}

/**
 * pstrdup() - Copy a string into a pool.
 * @pool: the pool to allocate from
 * @s: the NUL-terminated string to copy
 *
 * Context: Process context; may sleep.
 * Return: the copy, with its NUL, or NULL if @s is NULL or under the same
 * conditions as pmalloc().
 */
static inline char *pstrdup(struct pmalloc_pool *pool, const char *s)
{
	size_t len;
	char *p;

	if (!s)
		return NULL;
	len = strlen(s) + 1;
	p = pmalloc(pool, len);
	if (p)
		memcpy(p, s, len);
	return p;
}

#endif /* _LINUX_PMALLOC_H */
