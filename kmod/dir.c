// SPDX-License-Identifier: GPL-2.0
/*
 * dir.c - directories: lookup, readdir, and the namespace operations
 * (create, mknod, mkdir, symlink, link, unlink, rmdir, rename).
 *
 * cfs_readdir calls its callback with the filesystem lock held, and
 * dir_emit copies to user memory, which may fault on a page of a chunkfs
 * file mapped by the caller (whose read takes the same lock).  So entries
 * are collected into a kernel buffer under the lock and emitted after it,
 * as the FUSE front end does.  f_pos is the library's cookie: the entry
 * to resume after.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>
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

/* ---- namespace changes ----
 * Each is one library call; a new inode comes back with one lookup
 * reference, which its VFS inode owns.  Afterwards the VFS inodes that
 * changed are refreshed from the library (times, link counts, sizes). */

static int cfs_cred_in_group(const struct cfs_cred *cr, u32 gid)
{
	return in_group_p(make_kgid(&init_user_ns, gid));
}

/* The caller.  The VFS has applied the set-id rules and the umask (or
 * posix_acl_create did) already: the library's own are no-ops here. */
static struct cfs_cred *cfs_cur_cred(struct cfs_cred *cr)
{
	memset(cr, 0, sizeof(*cr));
	cr->uid = from_kuid(&init_user_ns, current_fsuid());
	cr->gid = from_kgid(&init_user_ns, current_fsgid());
	cr->in_group = cfs_cred_in_group;
	if (ns_capable_noaudit(&init_user_ns, CAP_FSETID))
		cr->flags |= CFS_CRED_FSETID;
	return cr;
}

/* The new inode `a` under dentry, with the ACLs it was made with cached
 * (NULL: it has none); dir refreshed. */
static int cfs_instantiate(struct inode *dir, struct dentry *dentry,
			   const struct cfs_attr *a, struct posix_acl *acl,
			   struct posix_acl *dacl)
{
	struct inode *inode = cfs_iget(dir->i_sb, a, 1);

	if (IS_ERR(inode))
		return PTR_ERR(inode);
	if (IS_POSIXACL(dir) && !S_ISLNK(inode->i_mode)) {
		set_cached_acl(inode, ACL_TYPE_ACCESS, acl);
		set_cached_acl(inode, ACL_TYPE_DEFAULT, dacl);
	}
	d_instantiate(dentry, inode);
	cfs_refresh(dir);
	return 0;
}

/* posix_acl_create: the mode and the ACLs of a new inode in dir (the
 * parent's default ACL, else the umask), given to the library in the
 * xattr format to store with the inode in one operation. */
static int cfs_create_acls(struct inode *dir, umode_t *mode,
			   struct cfs_cred *cr, struct posix_acl **acl,
			   struct posix_acl **dacl)
{
	size_t size;
	void *v;
	int err;

	*acl = *dacl = NULL;
	err = posix_acl_create(dir, mode, dacl, acl);
	if (err)
		return err;
	if (*acl) {
		v = cfs_acl_value(*acl, &size);
		if (IS_ERR(v))
			goto fail;
		cr->acl_access = v;
		cr->acl_access_len = (u32)size;
	}
	if (*dacl) {
		v = cfs_acl_value(*dacl, &size);
		if (IS_ERR(v))
			goto fail;
		cr->acl_default = v;
		cr->acl_default_len = (u32)size;
	}
	return 0;
fail:
	kfree(cr->acl_access);
	cr->acl_access = NULL;
	posix_acl_release(*acl);
	posix_acl_release(*dacl);
	*acl = *dacl = NULL;
	return PTR_ERR(v);
}

static int cfs_vfs_mknod(struct user_namespace *mnt_userns, struct inode *dir,
			 struct dentry *dentry, umode_t mode, dev_t rdev)
{
	struct posix_acl *acl, *dacl;
	struct cfs_cred cr;
	struct cfs_attr a;
	int err;

	if (dentry->d_name.len > CFS_NAME_MAX)
		return -ENAMETOOLONG;
	cfs_cur_cred(&cr);
	err = cfs_create_acls(dir, &mode, &cr, &acl, &dacl);
	if (err)
		return err;
	err = cfs_mknod(CFS_FS(dir), dir->i_ino, dentry->d_name.name,
			dentry->d_name.len, mode, new_encode_dev(rdev), &cr,
			&a);
	kfree(cr.acl_access);
	kfree(cr.acl_default);
	if (!err)
		err = cfs_instantiate(dir, dentry, &a, acl, dacl);
	else
		err = cfs_kerr(err);
	posix_acl_release(acl);
	posix_acl_release(dacl);
	return err;
}

static int cfs_vfs_create(struct user_namespace *mnt_userns, struct inode *dir,
			  struct dentry *dentry, umode_t mode, bool excl)
{
	return cfs_vfs_mknod(mnt_userns, dir, dentry, S_IFREG | (mode & 07777),
			     0);
}

static int cfs_vfs_mkdir(struct user_namespace *mnt_userns, struct inode *dir,
			 struct dentry *dentry, umode_t mode)
{
	return cfs_vfs_mknod(mnt_userns, dir, dentry, S_IFDIR | (mode & 07777),
			     0);
}

static int cfs_vfs_symlink(struct user_namespace *mnt_userns,
			   struct inode *dir, struct dentry *dentry,
			   const char *target)
{
	size_t tlen = strlen(target);
	struct cfs_cred cr;
	struct cfs_attr a;
	int err;

	if (dentry->d_name.len > CFS_NAME_MAX || tlen > CFS_SYMLINK_MAX)
		return -ENAMETOOLONG;
	err = cfs_symlink(CFS_FS(dir), dir->i_ino, dentry->d_name.name,
			  dentry->d_name.len, target, (u32)tlen,
			  cfs_cur_cred(&cr), &a);
	if (err)
		return cfs_kerr(err);
	return cfs_instantiate(dir, dentry, &a, NULL, NULL);
}

static int cfs_vfs_link(struct dentry *old, struct inode *dir,
			struct dentry *dentry)
{
	struct inode *inode = d_inode(old), *got;
	struct cfs_attr a;
	int err;

	if (dentry->d_name.len > CFS_NAME_MAX)
		return -ENAMETOOLONG;
	err = cfs_link(CFS_FS(dir), inode->i_ino, dir->i_ino,
		       dentry->d_name.name, dentry->d_name.len, &a);
	if (err)
		return cfs_kerr(err);
	got = cfs_iget(dir->i_sb, &a, 1); /* the same inode, counted */
	if (IS_ERR(got))
		return PTR_ERR(got);
	cfs_fill_inode(got, &a);
	d_instantiate(dentry, got);
	cfs_refresh(dir);
	return 0;
}

/* After a name went away: the inode's link count (it may live on, open,
 * with none), the directory's times. */
static void cfs_after_remove(struct inode *dir, struct inode *inode, int isdir)
{
	if (isdir)
		clear_nlink(inode);
	else if (cfs_refresh(inode))
		drop_nlink(inode);
	inode->i_ctime = current_time(inode);
	cfs_refresh(dir);
}

static int cfs_remove(struct inode *dir, struct dentry *dentry, int isdir)
{
	int err = (isdir ? cfs_rmdir : cfs_unlink)(CFS_FS(dir), dir->i_ino,
						  dentry->d_name.name,
						  dentry->d_name.len);

	if (err)
		return cfs_kerr(err);
	cfs_after_remove(dir, d_inode(dentry), isdir);
	return 0;
}

static int cfs_vfs_unlink(struct inode *dir, struct dentry *dentry)
{
	return cfs_remove(dir, dentry, 0);
}

static int cfs_vfs_rmdir(struct inode *dir, struct dentry *dentry)
{
	return cfs_remove(dir, dentry, 1);
}

/* rename with RENAME_NOREPLACE or RENAME_EXCHANGE (the library's flags are
 * Linux's); RENAME_WHITEOUT is refused with EINVAL (no whiteouts here). */
static int cfs_vfs_rename(struct user_namespace *mnt_userns,
			  struct inode *odir, struct dentry *od,
			  struct inode *ndir, struct dentry *nd,
			  unsigned int flags)
{
	struct inode *src = d_inode(od), *dst = d_inode(nd);
	int err;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if (nd->d_name.len > CFS_NAME_MAX)
		return -ENAMETOOLONG;
	err = cfs_rename(CFS_FS(odir), odir->i_ino, od->d_name.name,
			 od->d_name.len, ndir->i_ino, nd->d_name.name,
			 nd->d_name.len, flags);
	if (err)
		return cfs_kerr(err);
	cfs_refresh(src);
	if (dst) {
		if (flags & RENAME_EXCHANGE)
			cfs_refresh(dst);
		else
			cfs_after_remove(ndir, dst, S_ISDIR(dst->i_mode));
	}
	cfs_refresh(odir);
	if (ndir != odir)
		cfs_refresh(ndir);
	return 0;
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
	.create = cfs_vfs_create,
	.mknod = cfs_vfs_mknod,
	.mkdir = cfs_vfs_mkdir,
	.symlink = cfs_vfs_symlink,
	.link = cfs_vfs_link,
	.unlink = cfs_vfs_unlink,
	.rmdir = cfs_vfs_rmdir,
	.rename = cfs_vfs_rename,
	.setattr = cfs_vfs_setattr,
	.getattr = cfs_vfs_getattr,
	.listxattr = cfs_vfs_listxattr,
	.get_acl = cfs_vfs_get_acl,
	.set_acl = cfs_vfs_set_acl,
	.update_time = cfs_update_time,
};

const struct file_operations cfs_dir_fops = {
	.llseek = cfs_dir_llseek,
	.read = generic_read_dir,
	.iterate_shared = cfs_iterate,
	.fsync = cfs_vfs_fsync,
	.unlocked_ioctl = cfs_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};
