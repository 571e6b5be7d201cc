// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl.c - the ioctls of a mounted chunkfs (fs/chunkfs_ioctl.h), on any
 * file or directory of the mount, with the same numbers and structures as
 * the FUSE mount: CHUNKFS_IOC_SCRUB (CAP_SYS_ADMIN; repair needs a
 * read-write mount), CHUNKFS_IOC_HEALTH and CHUNKFS_IOC_EVENTS (anyone
 * who can open a file of the mount), CHUNKFS_IOC_CHUNK_FILES and
 * CHUNKFS_IOC_PATH (CAP_SYS_ADMIN: they name files of every directory).
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/ioctl.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "cfs_k.h"

long cfs_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct super_block *sb = file_inode(file)->i_sb;
	struct cfs_fs *fs = CFS_SB(sb)->fs;
	void __user *uarg = (void __user *)arg;
	size_t size = _IOC_SIZE(cmd);
	void *buf;
	int err;

	switch (cmd) {
	case CHUNKFS_IOC_SCRUB:
	case CHUNKFS_IOC_HEALTH:
	case CHUNKFS_IOC_EVENTS:
	case CHUNKFS_IOC_JOURNAL:
		break;
	case CHUNKFS_IOC_CHUNK_FILES:
	case CHUNKFS_IOC_PATH:
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		break;
	default:
		return -ENOTTY;
	}
	buf = memdup_user(uarg, size);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	switch (cmd) {
	case CHUNKFS_IOC_SCRUB: {
		struct chunkfs_scrub *s = buf;

		if (!capable(CAP_SYS_ADMIN)) {
			err = -EPERM;
			break;
		}
		if ((s->flags & CHUNKFS_SCRUB_REPAIR) && sb_rdonly(sb)) {
			err = -EROFS;
			break;
		}
		err = cfs_scrub(fs, s);
		break;
	}
	case CHUNKFS_IOC_HEALTH: { /* (the library checks the arguments) */
		struct chunkfs_health *h = buf;

		err = cfs_health(fs, h);
		if (!err && sb_rdonly(sb))
			h->flags |= CHUNKFS_HEALTH_RDONLY;
		break;
	}
	case CHUNKFS_IOC_CHUNK_FILES:
		err = cfs_chunk_files(fs, buf);
		break;
	case CHUNKFS_IOC_PATH:
		err = cfs_path_name(fs, buf);
		break;
	case CHUNKFS_IOC_JOURNAL:
		err = cfs_journal_info(fs, buf);
		break;
	default: /* CHUNKFS_IOC_EVENTS */
		err = cfs_events(fs, buf);
		break;
	}
	if (!err && copy_to_user(uarg, buf, size))
		err = -EFAULT;
	kfree(buf);
	return cfs_kerr(err);
}
