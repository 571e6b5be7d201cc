// SPDX-License-Identifier: GPL-2.0
/*
 * host_kernel.c - fs/host.h for the Linux kernel: block I/O through the
 * block device's page cache, kvmalloc, struct mutex, crc32_le, ktime and
 * printk.  Images are byte-identical to the userspace host's.
 */
#include <linux/blkdev.h>
#include <linux/buffer_head.h>
#include <linux/crc32.h>
#include <linux/xxhash.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/printk.h>
#include <linux/ratelimit.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

#include "cfs_k.h"

/* ---- block device ----
 * Byte-addressed reads and writes go through the block device's own page
 * cache (read_mapping_page; a write of a whole page does not read it
 * first); a write dirties the cached page, and flush
 * writes back every dirty page of the device, waits for it, then flushes
 * the device's volatile cache: what the library's commit order needs
 * ("make every completed write durable"). */

static int kbd_range_ok(struct cfs_bdev *dev, u64 off, u64 len)
{
	return off <= dev->size && len <= dev->size - off;
}

/* A read that misses the cache starts the kernel's readahead of the
 * device over the pages it spans (and, as the kernel judges, beyond):
 * one I/O for a run of file data instead of one a page, and a few
 * neighbours of a metadata block.  A page carrying the readahead marker
 * starts the next window (kbd_rw), so a sequential stream keeps I/O in
 * flight ahead of the reader. */
static struct file_ra_state *kbd_ra(struct cfs_kbdev *kb, u64 len)
{
	return len > PAGE_SIZE ? &kb->ra : &kb->ra_meta;
}

static void kbd_readahead(struct cfs_kbdev *kb, struct address_space *m,
			  u64 off, u64 len)
{
	pgoff_t first = off >> PAGE_SHIFT, last = (off + len - 1) >> PAGE_SHIFT;
	struct page *pg = find_get_page(m, first);

	if (pg) {
		put_page(pg);
		return;
	}
	page_cache_sync_readahead(m, kbd_ra(kb, len), NULL, first,
				  last - first + 1);
}

/* One page at a time through the device's page cache; a write dirties the
 * cached page under its lock. */
static int kbd_rw(struct cfs_bdev *dev, u64 off, u8 *buf, u64 len, int write)
{
	struct cfs_kbdev *kb = dev->priv;
	struct address_space *m = kb->bdev->bd_inode->i_mapping;
	struct file_ra_state *ra = kbd_ra(kb, len);

	if (write && dev->readonly)
		return -EROFS;
	if (!kbd_range_ok(dev, off, len))
		return -EIO;
	if (!write && len)
		kbd_readahead(kb, m, off, len);
	while (len) {
		size_t po = offset_in_page(off);
		size_t n = min_t(u64, len, PAGE_SIZE - po);
		struct page *pg;
		void *k;

		if (write && n == PAGE_SIZE) {
			/* a whole page: no need to read what it replaces */
			pg = find_or_create_page(m, off >> PAGE_SHIFT,
						 mapping_gfp_constraint(m, ~__GFP_FS));
			if (!pg)
				return -ENOMEM;
			wait_for_stable_page(pg);
		} else {
			pg = read_mapping_page(m, off >> PAGE_SHIFT, NULL);
			if (IS_ERR(pg))
				return -EIO;
			if (!write && PageReadahead(pg)) /* the window's marker */
				page_cache_async_readahead(m, ra, NULL,
							   page_folio(pg),
							   off >> PAGE_SHIFT,
							   DIV_ROUND_UP(po + len, PAGE_SIZE));
			if (write)
				lock_page(pg);
		}
		k = kmap_local_page(pg);
		if (write)
			memcpy(k + po, buf, n);
		else
			memcpy(buf, k + po, n);
		kunmap_local(k);
		if (write && n == PAGE_SIZE && page_has_buffers(pg)) {
			/* the block device's buffers: all of them written */
			struct buffer_head *bh, *head;

			bh = head = page_buffers(pg);
			do {
				set_buffer_uptodate(bh);
				bh = bh->b_this_page;
			} while (bh != head);
		}
		if (write) {
			SetPageUptodate(pg);
			set_page_dirty(pg);
			unlock_page(pg);
		}
		put_page(pg);
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

static int kbd_read(struct cfs_bdev *dev, u64 off, void *buf, u64 len)
{
	return kbd_rw(dev, off, buf, len, 0);
}

static int kbd_write(struct cfs_bdev *dev, u64 off, const void *buf, u64 len)
{
	return kbd_rw(dev, off, (u8 *)buf, len, 1);
}

static int kbd_flush(struct cfs_bdev *dev)
{
	struct cfs_kbdev *kb = dev->priv;
	int err;

	if (dev->readonly)
		return 0;
	err = sync_blockdev(kb->bdev);
	if (!err)
		err = blkdev_issue_flush(kb->bdev);
	return err ? -EIO : 0;
}

static const struct cfs_bdev_ops kbd_ops = {
	.read = kbd_read,
	.write = kbd_write,
	.flush = kbd_flush,
};

void cfs_kbdev_init(struct cfs_kbdev *kb, struct block_device *bdev,
		    int readonly)
{
	kb->bdev = bdev;
	file_ra_state_init(&kb->ra, bdev->bd_inode->i_mapping);
	file_ra_state_init(&kb->ra_meta, bdev->bd_inode->i_mapping);
	/* file data: a window of up to 2 MiB ahead of the reader (the
	 * library copies out of the device's cache: the I/O must be there
	 * before it) */
	kb->ra.ra_pages = max_t(unsigned int, kb->ra.ra_pages,
				SZ_2M >> PAGE_SHIFT);
	kb->dev.ops = &kbd_ops;
	kb->dev.size = bdev_nr_bytes(bdev);
	kb->dev.readonly = readonly;
	kb->dev.priv = kb;
}

/* ---- memory ----
 * Zeroed; large blocks from vmalloc.  The library allocates under its own
 * lock, possibly on a writeback path, so no allocation may recurse into
 * filesystem reclaim.  A size no kernel allocator takes (a hostile image's
 * geometry) fails quietly: the library reports ENOMEM. */
static atomic_long_t cfs_nalloc; /* the library's allocations not freed */

void *host_alloc(u64 size)
{
	unsigned int nofs;
	void *p;

	if (size > INT_MAX)
		return NULL;
	nofs = memalloc_nofs_save();
	p = kvzalloc(size ? size : 1, GFP_KERNEL | __GFP_NOWARN);
	memalloc_nofs_restore(nofs);
	if (p)
		atomic_long_inc(&cfs_nalloc);
	return p;
}

void host_free(void *p)
{
	if (p)
		atomic_long_dec(&cfs_nalloc);
	kvfree(p);
}

/* At module unload: every mount is gone, so the library must have freed
 * all it allocated; the VM tests look for this line. */
void cfs_check_leaks(void)
{
	long n = atomic_long_read(&cfs_nalloc);

	if (n)
		pr_err("chunkfs: %ld allocations leaked\n", n);
}

/* ---- locks ----
 * While the library holds its lock, no allocation may enter filesystem
 * reclaim: the inode shrinker evicts chunkfs inodes, and eviction calls
 * the library (cfs_forget), which would wait for this very lock.  So the
 * lock is also a memalloc_nofs scope, saved in the mutex by its holder. */
struct host_mutex {
	struct mutex m;
	unsigned int nofs;
};

struct host_mutex *host_mutex_new(void)
{
	struct host_mutex *m = kmalloc(sizeof(*m), GFP_NOFS);

	if (m)
		mutex_init(&m->m);
	return m;
}

void host_mutex_free(struct host_mutex *m)
{
	if (!m)
		return;
	mutex_destroy(&m->m);
	kfree(m);
}

void host_mutex_lock(struct host_mutex *m)
{
	unsigned int nofs = memalloc_nofs_save();

	mutex_lock(&m->m);
	m->nofs = nofs;
}

void host_mutex_unlock(struct host_mutex *m)
{
	unsigned int nofs = m->nofs;

	mutex_unlock(&m->m);
	memalloc_nofs_restore(nofs);
}

/* ---- time ---- */
void host_now(s64 *sec, u32 *nsec)
{
	struct timespec64 ts;

	ktime_get_real_ts64(&ts);
	*sec = ts.tv_sec;
	*nsec = (u32)ts.tv_nsec;
}

/* ---- crc32 ----
 * zlib's crc32(crc, buf, len) is the reflected CRC-32 (polynomial
 * 0xedb88320) with the register preset to ~crc and the result inverted:
 * ~crc32_le(~crc, buf, len).  crc32_le takes a size_t length, so very long
 * buffers are fed in pieces as the userspace host does. */
u32 host_crc32(u32 crc, const void *buf, u64 len)
{
	const u8 *p = buf;

	crc = ~crc;
	while (len) {
		size_t n = min_t(u64, len, 1u << 30);

		crc = crc32_le(crc, p, n);
		p += n;
		len -= n;
	}
	return ~crc;
}

/* ---- xxHash64: lib/xxhash.c's xxh64(), the same function as
 * libxxhash's XXH64 (the data checksums move between the module and the
 * userspace programs). ---- */
u64 host_xxh64(const void *buf, u64 len, u64 seed)
{
	return xxh64(buf, (size_t)len, seed);
}

/* one block after another: no vector registers in the kernel here */
void host_xxh64_blocks(const void *buf, u64 bs, u64 n, u32 *out)
{
	const u8 *b = buf;
	u64 i;

	for (i = 0; i < n; i++)
		out[i] = (u32)xxh64(b + i * bs, (size_t)bs, 0);
}

/* ---- helper threads: none in the module (the library then hashes in
 * the calling thread; the kernel's own writeback and readahead already
 * overlap its I/O). ---- */
struct host_job *host_job_new(void)
{
	return NULL;
}

void host_job_free(struct host_job *j)
{
}

void host_job_start(struct host_job *j, void (*fn)(void *arg), void *arg)
{
	fn(arg); /* unreachable: no job is ever made */
}

void host_job_wait(struct host_job *j)
{
}

/* ---- logging ----
 * The library's levels are syslog's, as the kernel's are.  Rate-limited:
 * a damaged image read in a loop must not flood the log (the event ring
 * folds repeats too). */
static DEFINE_RATELIMIT_STATE(cfs_log_rs, 5 * HZ, 100);

void host_log(int level, const char *fmt, ...)
{
	struct va_format vaf;
	va_list ap;

	if (level < 0 || level > 7)
		level = CFS_LOG_ERR;
	if (!__ratelimit(&cfs_log_rs))
		return;
	va_start(ap, fmt);
	vaf.fmt = fmt;
	vaf.va = &ap;
	printk("%c%cchunkfs: %pV\n", KERN_SOH_ASCII, '0' + level, &vaf);
	va_end(ap);
}
