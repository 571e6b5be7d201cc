// SPDX-License-Identifier: GPL-2.0
/*
 * inode.c - chunkfs inodes in the VFS: instantiation from a cfs_attr,
 * getattr, symlinks, special files and xattrs.
 *
 * Each VFS inode remembers how many cfs_lookup references it holds
 * (nlookup); evicting it gives them back with cfs_forget, as the FUSE
 * kernel module's FORGET does.  Inode numbers are the library's 64-bit
 * (chunk << 32 | local), which fits i_ino on 64-bit hosts.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/exportfs.h>
#include <linux/fs.h>
#include <linux/pagemap.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>
#include <linux/slab.h>
#include <linux/xattr.h>

#include "cfs_k.h"

static void cfs_set_ops(struct inode *inode, u32 rdev)
{
	switch (inode->i_mode & S_IFMT) {
	case S_IFREG:
		inode->i_op = &cfs_file_iops;
		inode->i_fop = &cfs_file_fops;
		inode->i_mapping->a_ops = &cfs_aops;
		break;
	case S_IFDIR:
		inode->i_op = &cfs_dir_iops;
		inode->i_fop = &cfs_dir_fops;
		break;
	case S_IFLNK:
		inode->i_op = &cfs_symlink_iops;
		inode_nohighmem(inode);
		break;
	default:
		inode->i_op = &cfs_special_iops;
		/* the device number travels in the userspace encoding
		 * (new_encode_dev), as FUSE's st_rdev does */
		init_special_inode(inode, inode->i_mode, new_decode_dev(rdev));
		break;
	}
}

/* Attributes from the library into the VFS inode (not the type's ops). */
void cfs_fill_inode(struct inode *inode, const struct cfs_attr *a)
{
	inode->i_mode = a->mode;
	i_uid_write(inode, a->uid);
	i_gid_write(inode, a->gid);
	set_nlink(inode, a->nlink);
	i_size_write(inode, a->size);
	inode->i_blocks = a->blocks512;
	inode->i_atime.tv_sec = a->atime;
	inode->i_atime.tv_nsec = a->atime_ns;
	inode->i_mtime.tv_sec = a->mtime;
	inode->i_mtime.tv_nsec = a->mtime_ns;
	inode->i_ctime.tv_sec = a->ctime;
	inode->i_ctime.tv_nsec = a->ctime_ns;
	inode->i_generation = a->gen;
	CFS_I(inode)->btime.tv_sec = a->btime;
	CFS_I(inode)->btime.tv_nsec = a->btime_ns;
}

/* The VFS inode from the library's current attributes (after an
 * operation that changed them: times, link count, blocks, size). */
int cfs_refresh(struct inode *inode)
{
	struct cfs_attr a;
	int err = cfs_getattr(CFS_FS(inode), inode->i_ino, &a);

	if (!err)
		cfs_fill_inode(inode, &a);
	return cfs_kerr(err);
}

/*
 * setattr: the kernel's permission checks, then the library.  A size
 * change keeps the page cache right: when shrinking, the new size is set
 * and the pages beyond it dropped first (waiting for any writeback of
 * them), so no write-back extends the file again after the library cut
 * it; page faults are held off by the invalidate lock meanwhile.
 */
int cfs_vfs_setattr(struct user_namespace *mnt_userns, struct dentry *dentry,
		    struct iattr *attr)
{
	struct inode *inode = d_inode(dentry);
	unsigned int v = attr->ia_valid;
	struct cfs_setattr sa = { 0 };
	struct cfs_attr a;
	loff_t old_size = i_size_read(inode);
	int size_change, err;

	err = setattr_prepare(mnt_userns, dentry, attr);
	if (err)
		return err;
	if (v & ATTR_MODE) {
		umode_t mode = attr->ia_mode;
		kgid_t gid = (v & ATTR_GID) ? attr->ia_gid : inode->i_gid;

		/* as setattr_copy: setgid only for a member of the group */
		if (!in_group_p(gid) &&
		    !capable_wrt_inode_uidgid(mnt_userns, inode, CAP_FSETID))
			mode &= ~S_ISGID;
		sa.valid |= CFS_SET_MODE;
		sa.mode = mode;
	}
	if (v & ATTR_UID) {
		sa.valid |= CFS_SET_UID;
		sa.uid = from_kuid(&init_user_ns, attr->ia_uid);
	}
	if (v & ATTR_GID) {
		sa.valid |= CFS_SET_GID;
		sa.gid = from_kgid(&init_user_ns, attr->ia_gid);
	}
	if (v & ATTR_ATIME) {
		sa.valid |= CFS_SET_ATIME;
		sa.atime = attr->ia_atime.tv_sec;
		sa.atime_ns = attr->ia_atime.tv_nsec;
	}
	if (v & ATTR_MTIME) {
		sa.valid |= CFS_SET_MTIME;
		sa.mtime = attr->ia_mtime.tv_sec;
		sa.mtime_ns = attr->ia_mtime.tv_nsec;
	}
	if (v & ATTR_CTIME) {
		sa.valid |= CFS_SET_CTIME;
		sa.ctime = attr->ia_ctime.tv_sec;
		sa.ctime_ns = attr->ia_ctime.tv_nsec;
	}
	size_change = (v & ATTR_SIZE) && attr->ia_size != old_size;
	if (size_change) {
		if (!S_ISREG(inode->i_mode))
			return -EINVAL;
		sa.valid |= CFS_SET_SIZE;
		sa.size = attr->ia_size;
		inode_dio_wait(inode);
		filemap_invalidate_lock(inode->i_mapping);
		if (attr->ia_size < old_size) {
			i_size_write(inode, attr->ia_size);
			truncate_pagecache(inode, attr->ia_size);
		}
	}
	err = sa.valid ? cfs_setattr(CFS_FS(inode), inode->i_ino, &sa, &a) : 0;
	if (size_change) {
		if (!err && attr->ia_size > old_size)
			truncate_setsize(inode, attr->ia_size);
		if (err && attr->ia_size < old_size)
			cfs_refresh(inode); /* the size the library kept */
		filemap_invalidate_unlock(inode->i_mapping);
	}
	if (err)
		return cfs_kerr(err);
	if (sa.valid)
		cfs_fill_inode(inode, &a);
	/* the library changed the access ACL with the mode, in the same
	 * operation (posix_acl_chmod's work): the cached one is stale */
	if (v & ATTR_MODE)
		forget_cached_acl(inode, ACL_TYPE_ACCESS);
	return 0;
}

/*
 * The VFS inode of a->ino.  counted: the caller holds one cfs_lookup
 * reference, which the inode now owns (given back at eviction).  On
 * failure that reference is given back here.
 */
struct inode *cfs_iget(struct super_block *sb, const struct cfs_attr *a,
		       int counted)
{
	struct inode *inode = iget_locked(sb, (unsigned long)a->ino);

	if (!inode) {
		if (counted)
			cfs_forget(CFS_SB(sb)->fs, a->ino, 1);
		return ERR_PTR(-ENOMEM);
	}
	if (counted)
		atomic64_inc(&CFS_I(inode)->nlookup);
	if (!(inode->i_state & I_NEW))
		return inode;
	cfs_fill_inode(inode, a);
	cfs_set_ops(inode, a->rdev);
	unlock_new_inode(inode);
	return inode;
}

int cfs_vfs_getattr(struct user_namespace *mnt_userns, const struct path *path,
		    struct kstat *stat, u32 request_mask,
		    unsigned int query_flags)
{
	struct inode *inode = d_inode(path->dentry);

	generic_fillattr(mnt_userns, inode, stat);
	stat->blksize = inode->i_sb->s_blocksize;
	stat->btime = CFS_I(inode)->btime;
	stat->result_mask |= STATX_BTIME;
	return 0;
}

/*
 * Access times: the VFS decides when (the mount's relatime, strictatime
 * or noatime, O_NOATIME), the library keeps the new one for its next
 * commit (lazily: no commit of its own).  The other times are the
 * library's own, set by the operations that change them; the VFS's copy
 * of them is what it was.
 */
int cfs_update_time(struct inode *inode, struct timespec64 *time, int flags)
{
	if (flags & S_ATIME) {
		int err = cfs_set_atime(CFS_FS(inode), inode->i_ino,
					time->tv_sec, (u32)time->tv_nsec);

		/* (read-only after errors=remount-ro: nothing to keep) */
		if (err < 0 && err != -EROFS)
			return cfs_kerr(err);
		inode->i_atime = *time;
		flags &= ~S_ATIME;
	}
	return flags ? generic_update_time(inode, time, flags) : 0;
}

/* ---- symlinks ---- */
static const char *cfs_get_link(struct dentry *dentry, struct inode *inode,
				struct delayed_call *done)
{
	char *buf;
	int n;

	if (!dentry)
		return ERR_PTR(-ECHILD);
	buf = kmalloc(CFS_SYMLINK_MAX + 1, GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	n = cfs_readlink(CFS_FS(inode), inode->i_ino, buf, CFS_SYMLINK_MAX);
	if (n < 0) {
		kfree(buf);
		return ERR_PTR(cfs_kerr(n));
	}
	buf[n] = 0;
	set_delayed_call(done, kfree_link, buf);
	return buf;
}

/* ---- xattrs: the library keeps full names ("user.x"), as FUSE passes
 * them; one handler takes every name. ---- */
static int cfs_xattr_get(const struct xattr_handler *h, struct dentry *dentry,
			 struct inode *inode, const char *name, void *buf,
			 size_t size)
{
	s64 r;

	if (size > U32_MAX)
		size = U32_MAX;
	r = cfs_getxattr(CFS_FS(inode), inode->i_ino, name, buf, (u32)size);
	return r < 0 ? cfs_kerr((int)r) : (int)r;
}

/* set and remove (value NULL); the flags are Linux's XATTR_CREATE and
 * XATTR_REPLACE, the library's too */
static int cfs_xattr_set(const struct xattr_handler *h,
			 struct user_namespace *mnt_userns,
			 struct dentry *dentry, struct inode *inode,
			 const char *name, const void *value, size_t size,
			 int flags)
{
	int err;

	if (size > U32_MAX)
		return -E2BIG;
	if (value)
		err = cfs_setxattr(CFS_FS(inode), inode->i_ino, name, value,
				   (u32)size, (u32)flags);
	else
		err = cfs_removexattr(CFS_FS(inode), inode->i_ino, name);
	if (err)
		return cfs_kerr(err);
	return cfs_refresh(inode); /* ctime */
}

static const struct xattr_handler cfs_xattr_any = {
	.prefix = "",
	.get = cfs_xattr_get,
	.set = cfs_xattr_set,
};

/* The VFS's handlers for system.posix_acl_access and _default come
 * first: they check and convert the value and call get_acl / set_acl
 * below (EOPNOTSUPP without SB_POSIXACL, -o noacl). */
const struct xattr_handler *cfs_xattr_handlers[] = {
	&posix_acl_access_xattr_handler,
	&posix_acl_default_xattr_handler,
	&cfs_xattr_any,
	NULL,
};

/* ---- POSIX ACLs ----
 * The VFS does the permission checks (generic_permission with the ACLs
 * of get_acl, cached in the inode) and the inheritance at create
 * (posix_acl_create, dir.c); the library stores the xattrs in the
 * kernel's posix_acl_xattr format and keeps the mode in step with the
 * access ACL in the same operation (fs/acl.c). */
#define CFS_ACL_MAX 4096 /* the library's largest ACL value */

static const char *cfs_acl_name(int type)
{
	return type == ACL_TYPE_ACCESS ? XATTR_NAME_POSIX_ACL_ACCESS :
	       XATTR_NAME_POSIX_ACL_DEFAULT;
}

struct posix_acl *cfs_vfs_get_acl(struct inode *inode, int type, bool rcu)
{
	struct posix_acl *acl;
	void *value;
	s64 n;

	if (rcu)
		return ERR_PTR(-ECHILD);
	if (type != ACL_TYPE_ACCESS && type != ACL_TYPE_DEFAULT)
		return ERR_PTR(-EINVAL);
	value = kmalloc(CFS_ACL_MAX, GFP_KERNEL);
	if (!value)
		return ERR_PTR(-ENOMEM);
	n = cfs_getxattr(CFS_FS(inode), inode->i_ino, cfs_acl_name(type),
			 value, CFS_ACL_MAX);
	if (n > 0)
		acl = posix_acl_from_xattr(&init_user_ns, value, n);
	else if (n == 0 || n == -ENODATA || n == -EOPNOTSUPP)
		acl = NULL;
	else if (n == -ERANGE)
		acl = ERR_PTR(-EIO); /* larger than any ACL the library keeps */
	else
		acl = ERR_PTR(cfs_kerr((int)n));
	kfree(value);
	return acl;
}

/* The posix_acl in the posix_acl_xattr format, kmalloc'ed: *size bytes. */
void *cfs_acl_value(const struct posix_acl *acl, size_t *size)
{
	void *value;
	int n;

	*size = posix_acl_xattr_size(acl->a_count);
	if (*size > CFS_ACL_MAX)
		return ERR_PTR(-E2BIG);
	value = kmalloc(*size, GFP_KERNEL);
	if (!value)
		return ERR_PTR(-ENOMEM);
	n = posix_acl_to_xattr(&init_user_ns, acl, value, *size);
	if (n < 0) {
		kfree(value);
		return ERR_PTR(n);
	}
	return value;
}

/*
 * set_acl (inode locked): posix_acl_update_mode says what the mode
 * becomes, S_ISGID included, and whether the ACL is kept; the library
 * stores it (or removes it) and sets that mode in one operation, by the
 * same rules (fs/acl.c), told only about S_ISGID.
 */
int cfs_vfs_set_acl(struct user_namespace *mnt_userns, struct inode *inode,
		    struct posix_acl *acl, int type)
{
	struct posix_acl *keep = acl;
	const char *name = cfs_acl_name(type);
	u32 flags = 0;
	void *value;
	size_t size;
	int err;

	if (type == ACL_TYPE_ACCESS && acl) {
		umode_t mode;

		err = posix_acl_update_mode(mnt_userns, inode, &mode, &keep);
		if (err)
			return err;
		if ((inode->i_mode & S_ISGID) && !(mode & S_ISGID))
			flags |= CFS_XATTR_ACL_KILL_SGID;
	}
	if (acl) {
		value = cfs_acl_value(acl, &size);
		if (IS_ERR(value))
			return PTR_ERR(value);
		err = cfs_setxattr(CFS_FS(inode), inode->i_ino, name, value,
				   (u32)size, flags);
		kfree(value);
	} else {
		err = cfs_removexattr(CFS_FS(inode), inode->i_ino, name);
	}
	if (err)
		return cfs_kerr(err);
	set_cached_acl(inode, type, keep);
	return cfs_refresh(inode); /* mode, ctime */
}

ssize_t cfs_vfs_listxattr(struct dentry *dentry, char *list, size_t size)
{
	struct inode *inode = d_inode(dentry);
	s64 r;

	if (size > U32_MAX)
		size = U32_MAX;
	r = cfs_listxattr(CFS_FS(inode), inode->i_ino, list, (u32)size);
	return r < 0 ? cfs_kerr((int)r) : (ssize_t)r;
}

const struct inode_operations cfs_file_iops = {
	.setattr = cfs_vfs_setattr,
	.getattr = cfs_vfs_getattr,
	.listxattr = cfs_vfs_listxattr,
	.get_acl = cfs_vfs_get_acl,
	.set_acl = cfs_vfs_set_acl,
	.update_time = cfs_update_time,
};

const struct inode_operations cfs_symlink_iops = {
	.setattr = cfs_vfs_setattr,
	.get_link = cfs_get_link,
	.getattr = cfs_vfs_getattr,
	.listxattr = cfs_vfs_listxattr,
	.update_time = cfs_update_time,
};

const struct inode_operations cfs_special_iops = {
	.setattr = cfs_vfs_setattr,
	.getattr = cfs_vfs_getattr,
	.listxattr = cfs_vfs_listxattr,
	.get_acl = cfs_vfs_get_acl,
	.set_acl = cfs_vfs_set_acl,
	.update_time = cfs_update_time,
};

/* ---- file handles (open_by_handle_at, an NFS export) ----
 * A handle is the 64-bit inode number and the generation (the layout
 * later kernels call FILEID_INO64_GEN), followed by the parent's for a
 * connectable one (FILEID_INO64_GEN_PARENT).  An inode the VFS does not
 * cache is read from disk by the library (cfs_iget_gen), which gives
 * ESTALE for a number that names no live, named inode of that
 * generation; a directory's parent is its "..", from disk as well.  So a
 * handle resolves after drop_caches and after a remount, as ext4's, and
 * fanotify's FAN_FS_ERROR (which reports handles) works too. */
#define CFS_FILEID_INO64_GEN 0x81
#define CFS_FILEID_INO64_GEN_PARENT 0x82

static int cfs_encode_fh(struct inode *inode, __u32 *fh, int *max_len,
			 struct inode *parent)
{
	int len = parent ? 6 : 3;

	if (*max_len < len) {
		*max_len = len;
		return FILEID_INVALID;
	}
	fh[0] = (u32)inode->i_ino;
	fh[1] = (u32)((u64)inode->i_ino >> 32);
	fh[2] = inode->i_generation;
	if (parent) {
		fh[3] = (u32)parent->i_ino;
		fh[4] = (u32)((u64)parent->i_ino >> 32);
		fh[5] = parent->i_generation;
	}
	*max_len = len;
	return parent ? CFS_FILEID_INO64_GEN_PARENT : CFS_FILEID_INO64_GEN;
}

/* The inode of (ino, gen): the VFS's if it caches it, else the
 * library's from disk. */
static struct inode *cfs_fh_inode(struct super_block *sb, u64 ino, u32 gen)
{
	struct inode *inode = ilookup(sb, (unsigned long)ino);
	struct cfs_attr a;
	int err;

	if (inode) {
		if (inode->i_generation == gen)
			return inode;
		iput(inode);
		return ERR_PTR(-ESTALE);
	}
	err = cfs_iget_gen(CFS_SB(sb)->fs, ino, gen, &a);
	if (err)
		return ERR_PTR(err == -ENOENT ? -ESTALE : cfs_kerr(err));
	return cfs_iget(sb, &a, 1);
}

static struct dentry *cfs_fh_to_dentry(struct super_block *sb, struct fid *fid,
				       int len, int type)
{
	if ((type != CFS_FILEID_INO64_GEN &&
	     type != CFS_FILEID_INO64_GEN_PARENT) || len < 3)
		return NULL;
	return d_obtain_alias(cfs_fh_inode(sb, fid->raw[0] |
					   (u64)fid->raw[1] << 32,
					   fid->raw[2]));
}

static struct dentry *cfs_fh_to_parent(struct super_block *sb, struct fid *fid,
				       int len, int type)
{
	if (type != CFS_FILEID_INO64_GEN_PARENT || len < 6)
		return NULL;
	return d_obtain_alias(cfs_fh_inode(sb, fid->raw[3] |
					   (u64)fid->raw[4] << 32,
					   fid->raw[5]));
}

static struct dentry *cfs_get_parent(struct dentry *child)
{
	struct inode *dir = d_inode(child);
	struct cfs_attr a;
	int err;

	err = cfs_lookup(CFS_FS(dir), dir->i_ino, "..", 2, &a);
	if (err)
		return ERR_PTR(cfs_kerr(err));
	return d_obtain_alias(cfs_iget(dir->i_sb, &a, 1));
}

const struct export_operations cfs_export_ops = {
	.encode_fh = cfs_encode_fh,
	.fh_to_dentry = cfs_fh_to_dentry,
	.fh_to_parent = cfs_fh_to_parent,
	.get_parent = cfs_get_parent,
};
