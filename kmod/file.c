// SPDX-License-Identifier: GPL-2.0
/*
 * file.c - regular files through the page cache.  A folio is filled by
 * cfs_read (the library reads file data straight from the device at the
 * mapped blocks, holes as zeros); read(2), mmap and splice are the
 * kernel's generic ones over it.
 */
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>

#include "cfs_k.h"

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

const struct address_space_operations cfs_aops = {
	.read_folio = cfs_read_folio,
};

const struct file_operations cfs_file_fops = {
	.llseek = generic_file_llseek,
	.read_iter = generic_file_read_iter,
	.mmap = generic_file_readonly_mmap,
	.splice_read = generic_file_splice_read,
};
