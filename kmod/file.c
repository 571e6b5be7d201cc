// SPDX-License-Identifier: GPL-2.0
/*
 * file.c - regular files through the page cache.
 *
 * Reads: a folio is filled by cfs_read (the library reads file data from
 * the device at the mapped blocks, holes as zeros); read(2), mmap and
 * splice are the kernel's generic ones over it.
 *
 * Writes go through to the library at once, as the FUSE mount's do: each
 * write(2) copies the user's data into a kernel buffer (no lock held, so a
 * fault on a page of a chunkfs mapping is fine), locks the page cache
 * pages it covers, calls cfs_write, copies the data into those pages and
 * unlocks them.  The library therefore always knows the file's size and
 * data (and reports ENOSPC to the writer, not to a later writeback); the
 * page cache keeps what was written for the readers.  Pages dirtied
 * through a shared mapping are written back by writepages with cfs_write;
 * the write fault that dirties one (page_mkwrite) first allocates the
 * blocks behind it where the file has a hole, so that a full filesystem
 * is a SIGBUS at that fault, not data lost at writeback.  Lock order:
 * inode lock, invalidate lock, page locks, the library's lock.
 *
 * O_DIRECT: data moves between the user's buffer and the library without
 * the file's page cache (written back and invalidated around it).
 */
#include <linux/fs.h>
#include <linux/falloc.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/vmalloc.h>
#include <linux/writeback.h>

#include "cfs_k.h"

/* Bytes moved per library call: the bounce buffer of one write or
 * direct read. */
#define CFS_IO_BATCH (64 * PAGE_SIZE)

static int cfs_read_folio(struct file *file, struct folio *folio)
{
	struct inode *inode = folio->mapping->host;
	u64 pos = folio_pos(folio);
	size_t len = folio_size(folio), done = 0;
	int err = 0;
	char *k;

	/* one page: the mapping does not ask for large folios */
	k = kmap_local_folio(folio, 0);
	while (done < len) {
		s64 n = cfs_read(CFS_FS(inode), inode->i_ino, pos + done,
				 len - done, k + done);

		if (n < 0) {
			err = cfs_kerr((int)n);
			break;
		}
		if (!n)
			break; /* end of file */
		done += n;
	}
	if (!err)
		memset(k + done, 0, len - done);
	kunmap_local(k);
	if (!err) {
		folio_mark_uptodate(folio);
	} else {
		folio_clear_uptodate(folio);
		folio_set_error(folio);
	}
	folio_unlock(folio);
	return err;
}

/*
 * Readahead: the whole batch with one cfs_read (so the library maps the
 * range once and the device reads it in one go), straight into the
 * batch's pages, mapped contiguously for it (vmap): one copy, from the
 * device's cache into the file's.  Pages not filled (no memory, an error)
 * are left to read_folio, which reports the error.
 */
static void cfs_readahead(struct readahead_control *rac)
{
	struct inode *inode = rac->mapping->host;
	loff_t pos = readahead_pos(rac);
	unsigned int nr = readahead_count(rac), got, i, nofs;
	size_t done = 0, len;
	struct page **pages;
	char *va = NULL;
	s64 n = -EIO;

	nofs = memalloc_nofs_save(); /* new folios of ours are locked */
	pages = kvmalloc_array(nr, sizeof(*pages), GFP_KERNEL | __GFP_NOWARN);
	memalloc_nofs_restore(nofs);
	if (!pages)
		return;
	got = __readahead_batch(rac, pages, nr);
	len = (size_t)got * PAGE_SIZE;
	if (got) {
		nofs = memalloc_nofs_save();
		va = vmap(pages, got, VM_MAP, PAGE_KERNEL);
		memalloc_nofs_restore(nofs);
	}
	if (va) {
		n = 0;
		while (done < len) {
			n = cfs_read(CFS_FS(inode), inode->i_ino, pos + done,
				     len - done, va + done);
			if (n <= 0)
				break;
			done += n;
		}
		if (n >= 0) /* all known: data, then EOF */
			memset(va + done, 0, len - done);
		vunmap(va);
	}
	for (i = 0; i < got; i++) {
		if (va && (n >= 0 || (size_t)(i + 1) * PAGE_SIZE <= done))
			SetPageUptodate(pages[i]);
		unlock_page(pages[i]);
		put_page(pages[i]);
	}
	kvfree(pages);
}

/* A page dirtied through a shared mapping: written with cfs_write, up to
 * the end of the file, while the page stays locked (so a write(2) of the
 * same range waits for it). */
static int cfs_writepage_cb(struct page *page, struct writeback_control *wbc,
			    void *data)
{
	struct inode *inode = page->mapping->host;
	loff_t size = i_size_read(inode), pos = page_offset(page);
	size_t len;
	int err = 0;
	s64 n;
	char *k;

	if (pos >= size) { /* beyond the end: truncated meanwhile */
		unlock_page(page);
		return 0;
	}
	len = min_t(loff_t, PAGE_SIZE, size - pos);
	set_page_writeback(page);
	k = kmap_local_page(page);
	n = cfs_write(CFS_FS(inode), inode->i_ino, pos, len, k);
	kunmap_local(k);
	if (n != (s64)len) {
		err = n < 0 ? cfs_kerr((int)n) : -ENOSPC;
		mapping_set_error(page->mapping, err);
	}
	end_page_writeback(page);
	unlock_page(page);
	return err;
}

static int cfs_writepages(struct address_space *mapping,
			  struct writeback_control *wbc)
{
	return write_cache_pages(mapping, wbc, cfs_writepage_cb, NULL);
}

const struct address_space_operations cfs_aops = {
	.read_folio = cfs_read_folio,
	.readahead = cfs_readahead,
	.writepages = cfs_writepages,
	.dirty_folio = filemap_dirty_folio,
	.direct_IO = noop_direct_IO, /* O_DIRECT is read_iter's/write_iter's */
	.migrate_folio = filemap_migrate_folio,
};

/*
 * A write fault on a page of a shared mapping: the blocks behind the
 * page's part of the file allocated (fallocate, keeping the size) unless
 * they all hold data already, so that its writeback finds them; no space
 * is SIGBUS now.  The page is then dirty, and locked for the caller.
 * Held off by the invalidate lock while a truncate or fallocate drops
 * pages; a page truncated meanwhile is faulted again (VM_FAULT_NOPAGE).
 */
static vm_fault_t cfs_page_mkwrite(struct vm_fault *vmf)
{
	struct folio *folio = page_folio(vmf->page);
	struct inode *inode = file_inode(vmf->vma->vm_file);
	struct cfs_fs *fs = CFS_FS(inode);
	vm_fault_t ret = VM_FAULT_LOCKED;
	loff_t pos, size;
	int err = 0;
	s64 hole;

	sb_start_pagefault(inode->i_sb);
	file_update_time(vmf->vma->vm_file);
	filemap_invalidate_lock_shared(inode->i_mapping);
	folio_lock(folio);
	size = i_size_read(inode);
	pos = folio_pos(folio);
	if (folio->mapping != inode->i_mapping || pos >= size) {
		folio_unlock(folio);
		ret = VM_FAULT_NOPAGE;
		goto out;
	}
	size = min_t(loff_t, folio_size(folio), size - pos);
	hole = cfs_lseek(fs, inode->i_ino, pos, CFS_SEEK_HOLE);
	if (hole < 0 || hole < pos + size) {
		struct cfs_attr a;

		err = cfs_kerr(cfs_fallocate(fs, inode->i_ino,
					     CFS_FALLOC_KEEP_SIZE, pos, size));
		if (!err && !cfs_getattr(fs, inode->i_ino, &a))
			inode->i_blocks = a.blocks512; /* only: no size race */
	}
	if (err) {
		folio_unlock(folio);
		ret = err == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
		goto out;
	}
	folio_mark_dirty(folio);
	folio_wait_stable(folio);
out:
	filemap_invalidate_unlock_shared(inode->i_mapping);
	sb_end_pagefault(inode->i_sb);
	return ret;
}

static const struct vm_operations_struct cfs_file_vm_ops = {
	.fault = filemap_fault,
	.map_pages = filemap_map_pages,
	.page_mkwrite = cfs_page_mkwrite,
};

static int cfs_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	file_accessed(file);
	vma->vm_ops = &cfs_file_vm_ops;
	return 0;
}

/* The kernel buffer of one write or direct read. */
static void *cfs_bounce(size_t count, size_t *size)
{
	*size = min_t(size_t, max_t(size_t, count, 1), CFS_IO_BATCH);
	return kvmalloc(*size, GFP_KERNEL);
}

/*
 * Copy buf (the file's bytes [pos, pos + len)) into the cached pages,
 * which the caller holds locked.  A page not yet read is filled only when
 * the rest of it is known: beyond the old end of the file (zeros).
 */
static void cfs_fill_pages(struct page **pages, unsigned int npages, loff_t pos,
			   size_t len, const char *buf, loff_t old_size)
{
	unsigned int i;

	for (i = 0; i < npages; i++) {
		struct page *pg = pages[i];
		loff_t ps = page_offset(pg), pe = ps + PAGE_SIZE;
		loff_t ws = max_t(loff_t, ps, pos);
		loff_t we = min_t(loff_t, pe, pos + (loff_t)len);
		char *k;

		if (we <= ws)
			continue; /* not reached: a short write */
		if (!PageUptodate(pg) &&
		    !((ws == ps || ps >= old_size) &&
		      (we == pe || we >= old_size)))
			continue; /* read from the library when needed */
		k = kmap_local_page(pg);
		if (!PageUptodate(pg)) {
			memset(k, 0, ws - ps);
			memset(k + (we - ps), 0, pe - we);
		}
		memcpy(k + (ws - ps), buf + (ws - pos), we - ws);
		kunmap_local(k);
		flush_dcache_page(pg);
		SetPageUptodate(pg);
	}
}

/* The locked cache pages of [pos, pos + len): their number, or -ENOMEM
 * (none held then). */
static int cfs_grab_pages(struct address_space *mapping, loff_t pos,
			  size_t len, struct page **pages)
{
	pgoff_t idx, first = pos >> PAGE_SHIFT, last = (pos + len - 1) >> PAGE_SHIFT;
	int np = 0;

	for (idx = first; idx <= last; idx++) {
		pages[np] = grab_cache_page_write_begin(mapping, idx);
		if (!pages[np]) {
			while (np--) {
				unlock_page(pages[np]);
				put_page(pages[np]);
			}
			return -ENOMEM;
		}
		np++;
	}
	return np;
}

/*
 * The writes of write_iter, a bounce buffer at a time: buffered (the
 * cache pages of each piece locked around cfs_write and filled after it)
 * or direct (the library only).
 */
static ssize_t cfs_write_pieces(struct kiocb *iocb, struct iov_iter *from,
				int direct)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	struct page *pages[CFS_IO_BATCH / PAGE_SIZE + 1]; /* unaligned */
	size_t bsize, total = 0;
	ssize_t err = 0;
	char *buf;

	buf = cfs_bounce(iov_iter_count(from), &bsize);
	if (!buf)
		return -ENOMEM;
	while (iov_iter_count(from)) {
		loff_t pos = iocb->ki_pos, old_size = i_size_read(inode);
		size_t got = copy_from_iter(buf, min(iov_iter_count(from), bsize),
					    from);
		int np = 0, i;
		s64 n;

		if (!got) {
			err = -EFAULT;
			break;
		}
		if (!direct)
			np = cfs_grab_pages(inode->i_mapping, pos, got, pages);
		n = np < 0 ? np : cfs_write(CFS_FS(inode), inode->i_ino, pos,
					    got, buf);
		if (n > 0) {
			if (!direct)
				cfs_fill_pages(pages, np, pos, n, buf, old_size);
			if (pos + n > i_size_read(inode))
				i_size_write(inode, pos + n);
		}
		for (i = 0; i < np; i++) {
			unlock_page(pages[i]);
			put_page(pages[i]);
		}
		if (n < 0) {
			iov_iter_revert(from, got);
			err = cfs_kerr((int)n);
			break;
		}
		iocb->ki_pos += n;
		total += n;
		if ((size_t)n < got) { /* the library ran out of space */
			iov_iter_revert(from, got - n);
			err = -ENOSPC;
			break;
		}
	}
	kvfree(buf);
	return total ? (ssize_t)total : err;
}

/* O_DIRECT write: the page cache written back before and dropped after,
 * as the kernel's own filemap-based direct writes do. */
static ssize_t cfs_direct_write(struct kiocb *iocb, struct iov_iter *from)
{
	struct address_space *mapping = iocb->ki_filp->f_mapping;
	loff_t pos = iocb->ki_pos, end = pos + iov_iter_count(from) - 1;
	ssize_t ret;

	ret = filemap_write_and_wait_range(mapping, pos, end);
	if (ret)
		return ret;
	ret = cfs_write_pieces(iocb, from, 1);
	invalidate_inode_pages2_range(mapping, pos >> PAGE_SHIFT,
				      end >> PAGE_SHIFT);
	return ret;
}

static ssize_t cfs_file_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	ssize_t ret;

	inode_lock(inode);
	ret = generic_write_checks(iocb, from);
	if (ret <= 0)
		goto out;
	ret = file_remove_privs(file);
	if (ret)
		goto out;
	if (iocb->ki_flags & IOCB_DIRECT)
		ret = cfs_direct_write(iocb, from);
	else
		ret = cfs_write_pieces(iocb, from, 0);
	if (ret > 0)
		cfs_refresh(inode); /* mtime, ctime and blocks as written */
out:
	inode_unlock(inode);
	if (ret > 0)
		ret = generic_write_sync(iocb, ret);
	return ret;
}

/* O_DIRECT read: from the library to the user's buffer, after the page
 * cache's dirty pages of the range were written. */
static ssize_t cfs_direct_read(struct kiocb *iocb, struct iov_iter *to)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	size_t bsize, total = 0;
	ssize_t err = 0;
	char *buf;

	if (!iov_iter_count(to))
		return 0;
	err = filemap_write_and_wait_range(inode->i_mapping, iocb->ki_pos,
					   iocb->ki_pos + iov_iter_count(to) - 1);
	if (err)
		return err;
	buf = cfs_bounce(iov_iter_count(to), &bsize);
	if (!buf)
		return -ENOMEM;
	while (iov_iter_count(to)) {
		s64 n = cfs_read(CFS_FS(inode), inode->i_ino, iocb->ki_pos,
				 min(bsize, iov_iter_count(to)), buf);
		size_t put;

		if (n < 0) {
			err = cfs_kerr((int)n);
			break;
		}
		if (!n)
			break;
		put = copy_to_iter(buf, n, to);
		iocb->ki_pos += put;
		total += put;
		if (put < (size_t)n) {
			err = -EFAULT;
			break;
		}
	}
	kvfree(buf);
	file_accessed(iocb->ki_filp);
	return total ? (ssize_t)total : err;
}

static ssize_t cfs_file_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	if (iocb->ki_flags & IOCB_DIRECT)
		return cfs_direct_read(iocb, to);
	return generic_file_read_iter(iocb, to);
}

/* fsync: pages dirtied through a mapping first, then the library's commit
 * (which makes the file's data and the names that reach it durable). */
int cfs_vfs_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	struct inode *inode = file_inode(file);
	int err;

	err = file_write_and_wait_range(file, start, end);
	if (err)
		return err;
	if (sb_rdonly(inode->i_sb))
		return 0;
	return cfs_kerr(cfs_fsync(CFS_FS(inode), inode->i_ino, datasync));
}

/* SEEK_DATA and SEEK_HOLE from the library's extent maps; the rest is the
 * kernel's. */
static loff_t cfs_file_llseek(struct file *file, loff_t off, int whence)
{
	struct inode *inode = file_inode(file);
	s64 r;

	if (whence != SEEK_DATA && whence != SEEK_HOLE)
		return generic_file_llseek(file, off, whence);
	if (off < 0)
		return -ENXIO;
	inode_lock_shared(inode);
	r = filemap_write_and_wait(inode->i_mapping);
	if (!r)
		r = cfs_lseek(CFS_FS(inode), inode->i_ino, off,
			      whence == SEEK_DATA ? CFS_SEEK_DATA :
			      CFS_SEEK_HOLE);
	inode_unlock_shared(inode);
	if (r < 0)
		return cfs_kerr((int)r);
	return vfs_setpos(file, r, inode->i_sb->s_maxbytes);
}

/*
 * fallocate: the library's modes (allocate, keep size, punch a hole, zero,
 * collapse and insert ranges).  The page cache of the range (to the end
 * of the file when data moves) is written back and dropped first, with
 * page faults held off by the invalidate lock.
 */
static long cfs_file_fallocate(struct file *file, int mode, loff_t off,
			       loff_t len)
{
	struct inode *inode = file_inode(file);
	struct address_space *mapping = inode->i_mapping;
	loff_t end;
	long err;

	if (off < 0 || len <= 0)
		return -EINVAL;
	inode_lock(inode);
	err = file_modified(file);
	if (err)
		goto out;
	filemap_invalidate_lock(mapping);
	end = (mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE)) ?
		LLONG_MAX : off + len - 1;
	if (mode & ~FALLOC_FL_KEEP_SIZE) {
		err = filemap_write_and_wait_range(mapping, off, end);
		if (!err)
			truncate_pagecache_range(inode, off, end);
	}
	if (!err)
		err = cfs_kerr(cfs_fallocate(CFS_FS(inode), inode->i_ino,
					     (u32)mode, off, len));
	if (!err) {
		struct cfs_attr a;

		if (!cfs_getattr(CFS_FS(inode), inode->i_ino, &a)) {
			if (a.size > i_size_read(inode))
				truncate_setsize(inode, a.size);
			cfs_fill_inode(inode, &a);
		}
	}
	filemap_invalidate_unlock(mapping);
out:
	inode_unlock(inode);
	return err;
}

const struct file_operations cfs_file_fops = {
	.llseek = cfs_file_llseek,
	.read_iter = cfs_file_read_iter,
	.write_iter = cfs_file_write_iter,
	.mmap = cfs_file_mmap,
	.splice_read = generic_file_splice_read,
	.splice_write = iter_file_splice_write,
	.fsync = cfs_vfs_fsync,
	.fallocate = cfs_file_fallocate,
	.unlocked_ioctl = cfs_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.open = generic_file_open,
};
