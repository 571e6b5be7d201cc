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
#include <linux/fs.h>
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
	inode->i_size = a->size;
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

static const struct xattr_handler cfs_xattr_any = {
	.prefix = "",
	.get = cfs_xattr_get,
};

const struct xattr_handler *cfs_xattr_handlers[] = {
	&cfs_xattr_any,
	NULL,
};

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
	.getattr = cfs_vfs_getattr,
	.listxattr = cfs_vfs_listxattr,
};

const struct inode_operations cfs_symlink_iops = {
	.get_link = cfs_get_link,
	.getattr = cfs_vfs_getattr,
	.listxattr = cfs_vfs_listxattr,
};

const struct inode_operations cfs_special_iops = {
	.getattr = cfs_vfs_getattr,
	.listxattr = cfs_vfs_listxattr,
};
