// SPDX-License-Identifier: GPL-2.0
/*
 * dir.c - directories: lookup and readdir.
 *
 * cfs_readdir calls its callback with the filesystem lock held, and
 * dir_emit copies to user memory, which may fault on a page of a chunkfs
 * file mapped by the caller (whose read takes the same lock).  So entries
 * are collected into a kernel buffer under the lock and emitted after it,
 * as the FUSE front end does.  f_pos is the library's cookie: the entry
 * to resume after.
 */
#include <linux/fs.h>
#include <linux/slab.h>

#include "cfs_k.h"

static struct dentry *cfs_vfs_lookup(struct inode *dir, struct dentry *dentry,
				     unsigned int flags)
{
	struct inode *inode = NULL;
	struct cfs_attr a;
	int err;

	if (dentry->d_name.len > CFS_NAME_MAX)
		return ERR_PTR(-ENAMETOOLONG);
	err = cfs_lookup(CFS_FS(dir), dir->i_ino, dentry->d_name.name,
			 dentry->d_name.len, &a);
	if (err && err != -ENOENT)
		return ERR_PTR(cfs_kerr(err));
	if (!err) {
		inode = cfs_iget(dir->i_sb, &a, 1);
		if (IS_ERR(inode))
			return ERR_CAST(inode);
	}
	return d_splice_alias(inode, dentry);
}

/* One collected entry; name follows, records 8-byte aligned. */
struct rd_rec {
	u64 ino, next;
	u32 type, len;
	char name[];
};

struct rd_buf {
	char *buf;
	size_t used, cap;
	int full;
};

#define RD_BUF_SIZE PAGE_SIZE

static int rd_collect(void *ctx, const char *name, u32 len, u64 ino, u32 type,
		      u64 next_cookie)
{
	struct rd_buf *b = ctx;
	size_t need = ALIGN(sizeof(struct rd_rec) + len, 8);
	struct rd_rec *r;

	if (len > CFS_NAME_MAX)
		return 0; /* cannot be: the library checks names; skip it */
	if (b->used + need > b->cap) {
		b->full = 1;
		return 1; /* not consumed: the next round starts with it */
	}
	r = (struct rd_rec *)(b->buf + b->used);
	r->ino = ino;
	r->next = next_cookie;
	r->type = type;
	r->len = len;
	memcpy(r->name, name, len);
	b->used += need;
	return 0;
}

static unsigned char cfs_dtype(u32 type)
{
	switch (type) {
	case CFS_FT_REG:
		return DT_REG;
	case CFS_FT_DIR:
		return DT_DIR;
	case CFS_FT_CHR:
		return DT_CHR;
	case CFS_FT_BLK:
		return DT_BLK;
	case CFS_FT_FIFO:
		return DT_FIFO;
	case CFS_FT_SOCK:
		return DT_SOCK;
	case CFS_FT_LNK:
		return DT_LNK;
	default:
		return DT_UNKNOWN;
	}
}

static int cfs_iterate(struct file *file, struct dir_context *ctx)
{
	struct inode *dir = file_inode(file);
	struct rd_buf b = { .cap = RD_BUF_SIZE };
	int err = 0;

	b.buf = kmalloc(RD_BUF_SIZE, GFP_KERNEL);
	if (!b.buf)
		return -ENOMEM;
	for (;;) {
		size_t off = 0;

		b.used = 0;
		b.full = 0;
		err = cfs_readdir(CFS_FS(dir), dir->i_ino, (u64)ctx->pos,
				  rd_collect, &b);
		if (err) {
			err = cfs_kerr(err);
			break;
		}
		while (off < b.used) {
			struct rd_rec *r = (struct rd_rec *)(b.buf + off);

			if (!dir_emit(ctx, r->name, r->len, r->ino,
				      cfs_dtype(r->type)))
				goto out;
			ctx->pos = (loff_t)r->next;
			off += ALIGN(sizeof(*r) + r->len, 8);
		}
		if (!b.full || !b.used)
			break;
	}
out:
	kfree(b.buf);
	return err;
}

/* Positions are cookies, not byte offsets: any value up to LLONG_MAX. */
static loff_t cfs_dir_llseek(struct file *file, loff_t off, int whence)
{
	return generic_file_llseek_size(file, off, whence, LLONG_MAX,
					LLONG_MAX);
}

const struct inode_operations cfs_dir_iops = {
	.lookup = cfs_vfs_lookup,
	.getattr = cfs_vfs_getattr,
	.listxattr = cfs_vfs_listxattr,
};

const struct file_operations cfs_dir_fops = {
	.llseek = cfs_dir_llseek,
	.read = generic_read_dir,
	.iterate_shared = cfs_iterate,
};
