// SPDX-License-Identifier: GPL-2.0-only
/*
 * pmalloc sample: lines written from user space, then made read-only.
 *
 * This plays the part of a subsystem that loads a policy at run time.  It
 * creates a pool and two debugfs files:
 *
 * /sys/kernel/debug/pmalloc_sample/lines
 *	Each write stores one or more lines, separated by newlines, in the
 *	pool.  Lines are not joined across writes.  When a writer closes the
 *	file, the pool is protected and no more lines are accepted.  Reading
 *	the file prints the stored lines.  A write that fails stores nothing:
 *
 *	-EINVAL	the write is empty, or holds an empty line or a NUL byte
 *	-E2BIG	a line is longer than PMALLOC_SAMPLE_LINE_MAX bytes, not
 *		counting its newline (so is a write longer than any valid one)
 *	-ENOSPC	the lines would not fit in the table
 *	-EPERM	a writer has closed the file, so the pool is protected
 *		already (F_SEAL_WRITE on a memfd fails writes the same way)
 *
 * /sys/kernel/debug/pmalloc_sample/poke
 *	Writing the index of a stored line makes the kernel try to change the
 *	case of the line's first byte, as a stray or malicious kernel write
 *	would.  While the pool is writable the change lands.  Once it is
 *	protected the store faults, the line keeps its bytes, and the write
 *	fails with -EFAULT.  Each attempt is reported in the kernel log.
 *
 * The table of pointers to the lines is allocated from the pool as well,
 * so protecting the pool locks the table along with the strings.  The
 * pointers to the pool and to the table are __ro_after_init.  The line
 * count and the end-of-load flag live in ordinary writable memory, as does
 * the pool's own record; Documentation/core-api/pmalloc.rst explains why
 * pmalloc cannot cover those.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kstrtox.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pmalloc.h>
#include <linux/printk.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#define PMALLOC_SAMPLE_LINE_MAX		256
#define PMALLOC_SAMPLE_MAX_LINES	32
#define PMALLOC_SAMPLE_WRITE_MAX	\
	(PMALLOC_SAMPLE_MAX_LINES * (PMALLOC_SAMPLE_LINE_MAX + 1))

static struct pmalloc_pool *pmalloc_sample_pool __ro_after_init;
static char **pmalloc_sample_lines __ro_after_init;
static struct dentry *pmalloc_sample_dir __ro_after_init;

/* Serialises writers, readers and pokers, and the end of the load. */
static DEFINE_MUTEX(pmalloc_sample_lock);
static unsigned int pmalloc_sample_nr_lines;
static bool pmalloc_sample_sealed;

/*
 * Split @buf, @len bytes followed by a NUL, into lines in place and count
 * them in @nr.  Nothing is stored here, so bad input leaves the pool alone.
 */
static int pmalloc_sample_split(char *buf, size_t len, unsigned int *nr)
{
	char *line, *end;

	if (memchr(buf, '\0', len))
		return -EINVAL;
	if (buf[len - 1] == '\n')
		buf[len - 1] = '\0';

	*nr = 0;
	for (line = buf; ; line = end + 1) {
		end = strchrnul(line, '\n');
		if (end == line)
			return -EINVAL;
		if (end - line > PMALLOC_SAMPLE_LINE_MAX)
			return -E2BIG;
		(*nr)++;
		if (!*end)
			return 0;
		*end = '\0';
	}
}

/*
 * Copy @nr NUL-separated lines from @buf into the pool.  The count moves
 * only once every copy is made, so a failure stores no line; copies that
 * were made stay in the pool, unused, until it is destroyed.
 */
static int pmalloc_sample_store(const char *buf, unsigned int nr)
{
	unsigned int first = pmalloc_sample_nr_lines;
	unsigned int i;
	char *line;

	for (i = 0; i < nr; i++) {
		line = pstrdup(pmalloc_sample_pool, buf);
		if (!line)
			return -ENOMEM;
		pmalloc_sample_lines[first + i] = line;
		buf += strlen(buf) + 1;
	}

	pmalloc_sample_nr_lines += nr;
	return 0;
}

static int pmalloc_sample_add(const char __user *ubuf, size_t count)
{
	unsigned int nr;
	char *buf;
	int ret;

	lockdep_assert_held(&pmalloc_sample_lock);
	if (pmalloc_sample_sealed)
		return -EPERM;
	if (!count)
		return -EINVAL;
	if (count > PMALLOC_SAMPLE_WRITE_MAX)
		return -E2BIG;

	buf = memdup_user_nul(ubuf, count);
	if (IS_ERR(buf))
		return PTR_ERR(buf);

	ret = pmalloc_sample_split(buf, count, &nr);
	if (!ret && nr > PMALLOC_SAMPLE_MAX_LINES - pmalloc_sample_nr_lines)
		ret = -ENOSPC;
	if (!ret)
		ret = pmalloc_sample_store(buf, nr);

	kfree(buf);
	return ret;
}

static ssize_t pmalloc_sample_lines_write(struct file *file,
					  const char __user *ubuf,
					  size_t count, loff_t *ppos)
{
	int ret;

	mutex_lock(&pmalloc_sample_lock);
	ret = pmalloc_sample_add(ubuf, count);
	mutex_unlock(&pmalloc_sample_lock);
	return ret ? ret : count;
}

static int pmalloc_sample_lines_show(struct seq_file *m, void *v)
{
	unsigned int i;

	mutex_lock(&pmalloc_sample_lock);
	for (i = 0; i < pmalloc_sample_nr_lines; i++) {
		seq_puts(m, pmalloc_sample_lines[i]);
		seq_putc(m, '\n');
	}
	mutex_unlock(&pmalloc_sample_lock);
	return 0;
}

static int pmalloc_sample_lines_open(struct inode *inode, struct file *file)
{
	return single_open(file, pmalloc_sample_lines_show, NULL);
}

/*
 * The first writer to close ends the load for good, even if protection
 * fails: a failed pmalloc_protect_pool() may have locked some areas, the
 * table among them, so no more lines may be written.  Later closes retry
 * the protection, which does nothing once it has succeeded.
 */
static void pmalloc_sample_seal(void)
{
	int ret;

	mutex_lock(&pmalloc_sample_lock);
	ret = pmalloc_protect_pool(pmalloc_sample_pool);
	if (ret)
		pr_err_ratelimited("pool not protected: %d\n", ret);
	else if (!pmalloc_sample_sealed)
		pr_info("pool protected, holding %u lines\n",
			pmalloc_sample_nr_lines);
	pmalloc_sample_sealed = true;
	mutex_unlock(&pmalloc_sample_lock);
}

/* Closing a writer ends the load, like committing a policy file. */
static int pmalloc_sample_lines_release(struct inode *inode,
					struct file *file)
{
	if (file->f_mode & FMODE_WRITE)
		pmalloc_sample_seal();
	return single_release(inode, file);
}

static const struct file_operations pmalloc_sample_lines_fops = {
	.owner		= THIS_MODULE,
	.open		= pmalloc_sample_lines_open,
	.read		= seq_read,
	.write		= pmalloc_sample_lines_write,
	.llseek		= seq_lseek,
	.release	= pmalloc_sample_lines_release,
};

/**
 * pmalloc_sample_try_store() - Store one byte unless the store faults.
 * @dst: where to store
 * @val: the byte to store
 *
 * This is the one-byte case of copy_to_kernel_nofault(), which is not
 * exported to modules: a fault on @dst is caught through the exception
 * table and reported instead of oopsing.
 *
 * Context: Any context.
 * Return: 0 if the byte was stored, -EFAULT if the store faulted.
 */
static int pmalloc_sample_try_store(char *dst, char val)
{
	pagefault_disable();
	__put_kernel_nofault(dst, &val, u8, err_fault);
	pagefault_enable();
	return 0;

err_fault:
	pagefault_enable();
	return -EFAULT;
}

static int pmalloc_sample_poke(unsigned int idx)
{
	char *line, old;
	int ret;

	lockdep_assert_held(&pmalloc_sample_lock);
	if (idx >= pmalloc_sample_nr_lines)
		return -EINVAL;

	line = pmalloc_sample_lines[idx];
	old = READ_ONCE(line[0]);
	/* Flipping the case bit always changes the byte, so a store shows. */
	ret = pmalloc_sample_try_store(line, old ^ 0x20);
	/* The store is asm the compiler cannot see into: load the byte again. */
	if (!ret)
		pr_info_ratelimited("poke line %u: kernel write landed, pool writable\n",
				    idx);
	else if (READ_ONCE(line[0]) == old)
		pr_info_ratelimited("poke line %u: kernel write refused (%d), line unchanged\n",
				    idx, ret);
	else
		pr_err_ratelimited("poke line %u: store faulted (%d) but the line changed\n",
				   idx, ret);
	return ret;
}

static ssize_t pmalloc_sample_poke_write(struct file *file,
					 const char __user *ubuf,
					 size_t count, loff_t *ppos)
{
	unsigned int idx;
	int ret;

	ret = kstrtouint_from_user(ubuf, count, 10, &idx);
	if (ret)
		return ret;

	mutex_lock(&pmalloc_sample_lock);
	ret = pmalloc_sample_poke(idx);
	mutex_unlock(&pmalloc_sample_lock);
	return ret ? ret : count;
}

static const struct file_operations pmalloc_sample_poke_fops = {
	.owner		= THIS_MODULE,
	.open		= simple_open,
	.write		= pmalloc_sample_poke_write,
	.llseek		= noop_llseek,
};

/*
 * Not __init, and kept out of the init function: /proc/vmallocinfo names
 * the pool's areas after the function that created the pool, and a
 * module's init code and its symbols are gone once loading finishes.
 */
static noinline int pmalloc_sample_create_pool(void)
{
	pmalloc_sample_pool = pmalloc_create_pool(0, PMALLOC_ALIGN_DEFAULT);
	if (!pmalloc_sample_pool)
		return -ENOMEM;

	pmalloc_sample_lines = pcalloc(pmalloc_sample_pool,
				       PMALLOC_SAMPLE_MAX_LINES,
				       sizeof(*pmalloc_sample_lines));
	if (!pmalloc_sample_lines) {
		pmalloc_destroy_pool(pmalloc_sample_pool);
		return -ENOMEM;
	}
	return 0;
}

static int __init pmalloc_sample_init(void)
{
	int ret;

	ret = pmalloc_sample_create_pool();
	if (ret)
		return ret;

	/* Without its files the sample has nothing to show: fail the load. */
	pmalloc_sample_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	if (IS_ERR(pmalloc_sample_dir)) {
		pmalloc_destroy_pool(pmalloc_sample_pool);
		return PTR_ERR(pmalloc_sample_dir);
	}
	debugfs_create_file("lines", 0600, pmalloc_sample_dir, NULL,
			    &pmalloc_sample_lines_fops);
	debugfs_create_file("poke", 0200, pmalloc_sample_dir, NULL,
			    &pmalloc_sample_poke_fops);
	return 0;
}
module_init(pmalloc_sample_init);

static void __exit pmalloc_sample_exit(void)
{
	/* debugfs waits for running file operations before it returns. */
	debugfs_remove(pmalloc_sample_dir);
	pmalloc_destroy_pool(pmalloc_sample_pool);
}
module_exit(pmalloc_sample_exit);

MODULE_DESCRIPTION("pmalloc sample: lines from user space in a protected pool");
MODULE_LICENSE("GPL");
