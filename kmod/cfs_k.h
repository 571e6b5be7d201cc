/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cfs_k.h - shared declarations of the chunkfs kernel module (kmod/): the
 * kernel host of fs/host.h and the VFS glue over fs/chunkfs.h.
 */
#ifndef CFS_K_H
#define CFS_K_H

#include <linux/fs.h>
#include <linux/atomic.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "../fs/chunkfs.h"

/* The block device under a mount (host_kernel.c). */
struct cfs_kbdev {
	struct cfs_bdev dev;
	struct block_device *bdev;
	/* the device's readahead (hints: racy), one for runs of file data
	 * (reads of more than a page), one for metadata blocks, so that the
	 * blocks read between two batches of a file do not break its
	 * stream */
	struct file_ra_state ra, ra_meta;
};
void cfs_kbdev_init(struct cfs_kbdev *kb, struct block_device *bdev,
		    int readonly);
void cfs_check_leaks(void);

struct cfs_sb_info {
	struct cfs_fs *fs;
	struct cfs_kbdev kb;
	struct super_block *sb;
	unsigned int commit_secs;    /* commit=: periodic write-back, 0 off */
	u32 errors_policy;           /* errors=: CHUNKFS_ERRORS_* */
	u32 free_warn;               /* free_warn=: percent, 0 off */
	struct delayed_work commit_work;
	struct work_struct error_work;  /* fsnotify_sb_error, remount-ro */
	struct work_struct repair_work; /* errors=repair: scrub with repair */
	struct work_struct inval_work;  /* after a repair: drop stale caches */
	struct work_struct forget_work; /* lookup references from reclaim */
	struct llist_head forgets;      /* theirs, not yet given back */
	spinlock_t ev_lock;          /* the fields below */
	unsigned int ev_errors;      /* error events not yet notified */
	int ev_readonly;             /* the library went read-only */
	int ev_dead;                 /* unmounting: schedule no more work */
};

struct cfs_inode_info {
	atomic64_t nlookup;     /* cfs_lookup references this inode holds */
	struct timespec64 btime;
	struct inode vfs_inode;
};

static inline struct cfs_sb_info *CFS_SB(struct super_block *sb)
{
	return sb->s_fs_info;
}

static inline struct cfs_fs *CFS_FS(struct inode *inode)
{
	return CFS_SB(inode->i_sb)->fs;
}

static inline struct cfs_inode_info *CFS_I(struct inode *inode)
{
	return container_of(inode, struct cfs_inode_info, vfs_inode);
}

/* The library's errors at the VFS boundary: its EUCLEAN (damaged metadata)
 * is EIO to users, as in the FUSE mount. */
static inline int cfs_kerr(int err)
{
	return err == -EUCLEAN ? -EIO : err;
}

/* super.c */
void cfs_commit_arm(struct cfs_sb_info *sbi);

/* inode.c */
struct inode *cfs_iget(struct super_block *sb, const struct cfs_attr *a,
		       int counted);
void cfs_fill_inode(struct inode *inode, const struct cfs_attr *a);
int cfs_refresh(struct inode *inode);
int cfs_vfs_setattr(struct user_namespace *mnt_userns, struct dentry *dentry,
		    struct iattr *attr);
int cfs_vfs_getattr(struct user_namespace *mnt_userns, const struct path *path,
		    struct kstat *stat, u32 request_mask,
		    unsigned int query_flags);
ssize_t cfs_vfs_listxattr(struct dentry *dentry, char *list, size_t size);
struct posix_acl *cfs_vfs_get_acl(struct inode *inode, int type, bool rcu);
int cfs_vfs_set_acl(struct user_namespace *mnt_userns, struct inode *inode,
		    struct posix_acl *acl, int type);
void *cfs_acl_value(const struct posix_acl *acl, size_t *size);
int cfs_update_time(struct inode *inode, struct timespec64 *time, int flags);
extern const struct inode_operations cfs_file_iops, cfs_symlink_iops,
	cfs_special_iops;
extern const struct xattr_handler *cfs_xattr_handlers[];
extern const struct export_operations cfs_export_ops;

/* ioctl.c: the ioctls of chunkfs_ioctl.h on any file or directory */
long cfs_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* dir.c */
extern const struct inode_operations cfs_dir_iops;
extern const struct file_operations cfs_dir_fops;

/* file.c */
extern const struct file_operations cfs_file_fops;
int cfs_vfs_fsync(struct file *file, loff_t start, loff_t end, int datasync);
extern const struct address_space_operations cfs_aops;

#endif
