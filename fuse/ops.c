// SPDX-License-Identifier: GPL-2.0
/*
 * ops.c - the FUSE low-level operations of chunkfs-fuse.
 *
 * Every operation is a thin translation onto the inode-level library API
 * (fs/chunkfs.h).  FUSE inode numbers are chunkfs inode numbers (the root is
 * 1 in both), so no table is kept here: the library counts the "lookup"
 * references FUSE hands out and takes back with forget.
 *
 * The library returns negative Linux errno values; they are replied as is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "cfuse.h"
#include "../fs/chunkfs.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif
#ifndef SEEK_DATA
#define SEEK_DATA 3
#define SEEK_HOLE 4
#endif

/* Single writer: the kernel sees every change, so short caching is safe. */
#define CF_TIMEOUT 1.0

/* Bounce buffer for copy_file_range. */
#define CF_COPY_CHUNK (1u << 20)

static inline struct cfuse *CF(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static inline struct cfs_fs *FS(fuse_req_t req)
{
	return CF(req)->fs;
}

static void reply_err(fuse_req_t req, s64 ret)
{
	/* ret is a negative errno from the library (or 0). */
	int e = ret < 0 ? (int)-ret : 0;

	if (ret < 0 && (e <= 0 || e > 4095))
		e = EIO;
	/* corrupt metadata (the library's EUCLEAN): EIO for the object, as
	 * a failed read; the chunk is suspect and an event says why */
	if (e == EUCLEAN)
		e = EIO;
	fuse_reply_err(req, e);
}

static void attr_to_stat(const struct cfs_attr *a, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = (ino_t)a->ino;
	st->st_mode = (mode_t)a->mode;
	st->st_nlink = (nlink_t)a->nlink;
	st->st_uid = (uid_t)a->uid;
	st->st_gid = (gid_t)a->gid;
	st->st_rdev = (dev_t)a->rdev;
	st->st_size = (off_t)a->size;
	st->st_blocks = (blkcnt_t)a->blocks512;
	st->st_blksize = (blksize_t)a->blksize;
	st->st_atim.tv_sec = (time_t)a->atime;
	st->st_atim.tv_nsec = (long)a->atime_ns;
	st->st_mtim.tv_sec = (time_t)a->mtime;
	st->st_mtim.tv_nsec = (long)a->mtime_ns;
	st->st_ctim.tv_sec = (time_t)a->ctime;
	st->st_ctim.tv_nsec = (long)a->ctime_ns;
}

static void fill_entry(struct fuse_entry_param *e, const struct cfs_attr *a)
{
	memset(e, 0, sizeof(*e));
	e->ino = (fuse_ino_t)a->ino;
	/* the generation goes into file handles; the kernel's root has 0 */
	e->generation = a->ino == CFS_ROOT_INO ? 0 : a->gen;
	attr_to_stat(a, &e->attr);
	e->attr_timeout = CF_TIMEOUT;
	e->entry_timeout = CF_TIMEOUT;
}

/* Replies with an entry that carries one lookup reference; if the reply
 * does not reach the kernel (interrupted request), the reference is given
 * back so the library's count stays right. */
static void reply_entry(fuse_req_t req, const struct cfs_attr *a)
{
	struct fuse_entry_param e;

	fill_entry(&e, a);
	if (fuse_reply_entry(req, &e) != 0)
		cfs_forget(FS(req), a->ino, 1);
}

/* Name-taking operations refuse names over 255 bytes (NAME_MAX). */
static int name_len(fuse_req_t req, const char *name, u32 *len)
{
	size_t n = strlen(name);

	if (n > CFS_NAME_MAX) {
		fuse_reply_err(req, ENAMETOOLONG);
		return -1;
	}
	*len = (u32)n;
	return 0;
}

/* -o sync: after a namespace change make the directory durable.  The change
 * itself has happened, so a failure here is only logged. */
static void sync_dir(fuse_req_t req, u64 dir)
{
	int r;

	if (!CF(req)->sync)
		return;
	r = cfs_fsync(FS(req), dir, 0);
	if (r < 0)
		cfuse_log(CFS_LOG_ERR, "sync of directory %llu failed: %s",
			  (unsigned long long)dir, strerror(-r));
}

static int in_groups(fuse_req_t req, gid_t gid)
{
	gid_t small[64], *list = small;
	int n, i, found = 0;

	n = fuse_req_getgroups(req, 64, small);
	if (n > 64) {
		list = malloc((size_t)n * sizeof(*list));
		if (!list)
			return 0;
		n = fuse_req_getgroups(req, n, list);
	}
	for (i = 0; i < n && i < 65536; i++) {
		if (list[i] == gid) {
			found = 1;
			break;
		}
	}
	if (list != small)
		free(list);
	return found;
}

static int req_in_group(const struct cfs_cred *cr, u32 gid)
{
	return in_groups((fuse_req_t)cr->priv, (gid_t)gid);
}

/*
 * The caller of a request, for the library's set-id and ACL rules.  FUSE
 * passes no capabilities: uid 0 stands for CAP_FSETID.  The supplementary
 * groups are read (from /proc) only when a rule needs them.  With
 * FUSE_CAP_DONT_MASK the kernel leaves the umask to us: the library
 * applies the parent's default ACL or the umask (posix_acl_create).
 */
static const struct cfs_cred *req_cred(fuse_req_t req, struct cfs_cred *cr)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	memset(cr, 0, sizeof(*cr));
	cr->uid = (u32)ctx->uid;
	cr->gid = (u32)ctx->gid;
	cr->in_group = req_in_group;
	cr->priv = req;
	if (ctx->uid == 0)
		cr->flags |= CFS_CRED_FSETID;
	if (CF(req)->acl)
		cr->flags |= CFS_CRED_ACL_INHERIT;
	if (CF(req)->dont_mask)
		cr->umask = (u32)ctx->umask & 0777;
	return cr;
}

static int cf_ro(struct cfuse *cf)
{
	return __atomic_load_n(&cf->ro, __ATOMIC_RELAXED) ||
	       __atomic_load_n(&cf->ro_now, __ATOMIC_RELAXED);
}

/* ---- access times ----
 * The kernel's FUSE client keeps no access time (its inodes are
 * S_NOATIME): the daemon sets it after the reads and listings that reach
 * it, as the mount's mode says (relatime by default, strictatime,
 * noatime; nodiratime), lazily (the next commit writes it).  Reads the
 * page cache serves do not reach it, so an open whose reads are due to
 * change the access time drops the file's cached pages (keep_cache 0):
 * its first read comes here. */

static u32 atime_mode(struct cfuse *cf, int isdir, int flags)
{
	if (cf_ro(cf) || (flags & O_NOATIME) ||
	    (isdir && __atomic_load_n(&cf->nodiratime, __ATOMIC_RELAXED)))
		return CFS_ATIME_NONE;
	return __atomic_load_n(&cf->atime, __ATOMIC_RELAXED);
}

static void touch_atime(fuse_req_t req, fuse_ino_t ino, int isdir, int flags)
{
	u32 mode = atime_mode(CF(req), isdir, flags);
	int r;

	if (mode == CFS_ATIME_NONE)
		return;
	/* (the access itself went well: a failure is only logged) */
	r = cfs_touch_atime(FS(req), ino, mode);
	if (r < 0 && r != -EROFS)
		cfuse_log(CFS_LOG_DEBUG, "atime of %llu: %s",
			  (unsigned long long)ino, strerror(-r));
}

/* Will a read through this open change the access time? */
static int atime_due(fuse_req_t req, fuse_ino_t ino, int flags)
{
	u32 mode = atime_mode(CF(req), 0, flags);
	struct timespec now;
	struct cfs_attr a;

	if (mode == CFS_ATIME_NONE || cfs_getattr(FS(req), ino, &a) < 0)
		return 0;
	clock_gettime(CLOCK_REALTIME, &now);
	return cfs_atime_due(&a, mode, now.tv_sec, (u32)now.tv_nsec);
}

/* ---- the hidden control directory (health.c) ----
 * /.chunkfs is answered by lookup, never listed, and cannot be created,
 * removed or renamed; nothing can be made inside it. */

static int is_ctl_name(fuse_ino_t parent, const char *name)
{
	return parent == CFS_ROOT_INO && strcmp(name, CFUSE_CTL_NAME) == 0;
}

/* A namespace change naming `name` in `parent`: refused (replied) for the
 * control directory, in it or of it.  Returns nonzero when replied. */
static int ctl_refuse(fuse_req_t req, fuse_ino_t parent, const char *name,
		      int err)
{
	if (CFUSE_IS_CTL(parent) || is_ctl_name(parent, name)) {
		fuse_reply_err(req, CFUSE_IS_CTL(parent) ? EPERM : err);
		return 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct cfuse *cf = userdata;

	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
	/* The kernel keeps doing some things: page cache writes go straight
	 * through (no writeback cache), O_TRUNC arrives as a setattr. */
	/* File handles (open_by_handle_at, NFS) of inodes the kernel no
	 * longer caches: it looks up "." of the node id, ".." of a
	 * directory's, and compares the generation. */
	if (conn->capable & FUSE_CAP_EXPORT_SUPPORT)
		conn->want |= FUSE_CAP_EXPORT_SUPPORT;
	/* The kernel keeps doing the things we do not: page cache writes go
	 * straight through (no writeback cache), O_TRUNC arrives as a
	 * setattr. */
	conn->want &= ~(unsigned)(FUSE_CAP_WRITEBACK_CACHE |
				  FUSE_CAP_ATOMIC_O_TRUNC |
				  FUSE_CAP_HANDLE_KILLPRIV |
				  FUSE_CAP_DONT_MASK |
				  FUSE_CAP_POSIX_ACL);
	/* The set-id bits a write, truncate, fallocate or chown clears are
	 * ours to clear (the kernel's own rule for FUSE keeps S_ISGID on a
	 * file that is not group-executable even when the writer is not in
	 * its group; Linux 6.x clears it then): op_write, op_setattr. */
	if (conn->capable & FUSE_CAP_HANDLE_KILLPRIV)
		conn->want |= FUSE_CAP_HANDLE_KILLPRIV;
	/* POSIX ACLs: the kernel checks permissions against the ACL xattrs
	 * (which implies default_permissions); the library keeps them and
	 * the mode in step and applies default ACLs at create, which needs
	 * the mode before the umask (DONT_MASK: the umask comes with it). */
	if (cf->acl && !(conn->capable & FUSE_CAP_POSIX_ACL)) {
		cfuse_log(CFS_LOG_WARN, "the kernel has no POSIX ACLs for "
			  "FUSE: mounted as with -o noacl");
		cf->acl = 0;
		cfs_set_acl(cf->fs, 0);
	}
	if (cf->acl) {
		conn->want |= FUSE_CAP_POSIX_ACL;
		if (conn->capable & FUSE_CAP_DONT_MASK) {
			conn->want |= FUSE_CAP_DONT_MASK;
			cf->dont_mask = 1;
		}
	}
	/* Direct I/O is synchronous in the kernel, so that the kernel drops
	 * the page cache of the range once each direct write is done (its
	 * asynchronous completion does not: a buffered read after an
	 * io_submit'ed O_DIRECT write could return what a read during the
	 * write put in the cache). */
	conn->want &= ~(unsigned)FUSE_CAP_ASYNC_DIO;
	conn->max_write = 1u << 20; /* libfuse caps it to its buffer size */
	conn->time_gran = 1;
	if (cf->debug)
		cfuse_log(CFS_LOG_DEBUG, "init: want 0x%x max_write %u",
			  conn->want, conn->max_write);
}

static void op_destroy(void *userdata)
{
	struct cfuse *cf = userdata;

	/* The kernel sends FUSE_DESTROY at the unmount of a fuseblk mount
	 * and waits for the reply: write everything and release the image
	 * now, so that umount returns with the image free.  (Otherwise
	 * libfuse calls this after the loop, when main has done it.) */
	if (cf->teardown)
		cf->teardown(cf);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct cfs_attr a;
	u32 len;
	int r;

	if (is_ctl_name(parent, name) || parent == CFUSE_CTL_DIR) {
		struct fuse_entry_param e;

		if (parent != CFUSE_CTL_DIR) {
			cfuse_ctl_entry(CF(req), CFUSE_CTL_DIR, &e);
		} else if (!strcmp(name, "events")) {
			cfuse_ctl_entry(CF(req), CFUSE_CTL_EVENTS, &e);
		} else if (!strcmp(name, ".")) {
			cfuse_ctl_entry(CF(req), CFUSE_CTL_DIR, &e);
		} else if (!strcmp(name, "..")) {
			r = cfs_lookup(FS(req), CFS_ROOT_INO, ".", 1, &a);
			if (r < 0)
				return reply_err(req, r);
			return reply_entry(req, &a);
		} else {
			memset(&e, 0, sizeof(e));
			e.entry_timeout = CF_TIMEOUT;
		}
		fuse_reply_entry(req, &e);
		return;
	}
	if (name_len(req, name, &len))
		return;
	if (CFUSE_IS_CTL(parent)) /* "." of the events file, by handle */
		return reply_err(req, !strcmp(name, ".") ? -ESTALE : -ENOTDIR);
	/* "." of a node id the kernel no longer caches (a file handle:
	 * any inode, the kernel compares the generation) */
	if (!strcmp(name, "."))
		r = cfs_iget_any(FS(req), parent, &a);
	else
		r = cfs_lookup(FS(req), parent, name, len, &a);
	if (r == -ENOENT) {
		/* negative entry: the kernel may cache the absence */
		struct fuse_entry_param e;

		memset(&e, 0, sizeof(e));
		e.ino = 0;
		e.entry_timeout = CF_TIMEOUT;
		fuse_reply_entry(req, &e);
		return;
	}
	if (r < 0)
		return reply_err(req, r);
	reply_entry(req, &a);
}

/* Forgets are sent without waiting for an answer, and one may still be
 * running when FUSE_DESTROY tears the library down: under down_lock,
 * and nothing once it is gone. */
static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct cfuse *cf = CF(req);

	pthread_rwlock_rdlock(&cf->down_lock);
	if (cf->fs && !CFUSE_IS_CTL(ino))
		cfs_forget(cf->fs, ino, nlookup);
	pthread_rwlock_unlock(&cf->down_lock);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	struct cfuse *cf = CF(req);
	size_t i;

	pthread_rwlock_rdlock(&cf->down_lock);
	for (i = 0; i < count && cf->fs; i++)
		if (!CFUSE_IS_CTL(forgets[i].ino))
			cfs_forget(cf->fs, forgets[i].ino,
				   forgets[i].nlookup);
	pthread_rwlock_unlock(&cf->down_lock);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct cfs_attr a;
	struct stat st;
	int r;

	(void)fi;
	if (CFUSE_IS_CTL(ino)) {
		cfuse_ctl_attr(CF(req), ino, &st);
		fuse_reply_attr(req, &st, CF_TIMEOUT);
		return;
	}
	r = cfs_getattr(FS(req), ino, &a);
	if (r < 0)
		return reply_err(req, r);
	attr_to_stat(&a, &st);
	fuse_reply_attr(req, &st, CF_TIMEOUT);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	struct cfs_setattr sa;
	struct cfs_cred cr;
	struct cfs_attr a;
	struct timespec now;
	struct stat st;
	int r;

	(void)fi;
	if (CFUSE_IS_CTL(ino))
		return reply_err(req, -EPERM);
	memset(&sa, 0, sizeof(sa));
	clock_gettime(CLOCK_REALTIME, &now);
	if (to_set & FUSE_SET_ATTR_MODE) {
		sa.valid |= CFS_SET_MODE;
		sa.mode = (u32)attr->st_mode;
	}
	if (to_set & FUSE_SET_ATTR_UID) {
		sa.valid |= CFS_SET_UID;
		sa.uid = (u32)attr->st_uid;
	}
	if (to_set & FUSE_SET_ATTR_GID) {
		sa.valid |= CFS_SET_GID;
		sa.gid = (u32)attr->st_gid;
	}
	if (to_set & FUSE_SET_ATTR_SIZE) {
		if (attr->st_size < 0)
			return reply_err(req, -EINVAL);
		sa.valid |= CFS_SET_SIZE;
		sa.size = (u64)attr->st_size;
	}
	/* For "now" both the flag and the current time are passed, so the
	 * library may use either. */
	if (to_set & FUSE_SET_ATTR_ATIME_NOW) {
		sa.valid |= CFS_SET_ATIME | CFS_SET_ATIME_NOW;
		sa.atime = now.tv_sec;
		sa.atime_ns = (u32)now.tv_nsec;
	} else if (to_set & FUSE_SET_ATTR_ATIME) {
		sa.valid |= CFS_SET_ATIME;
		sa.atime = attr->st_atim.tv_sec;
		sa.atime_ns = (u32)attr->st_atim.tv_nsec;
	}
	if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
		sa.valid |= CFS_SET_MTIME | CFS_SET_MTIME_NOW;
		sa.mtime = now.tv_sec;
		sa.mtime_ns = (u32)now.tv_nsec;
	} else if (to_set & FUSE_SET_ATTR_MTIME) {
		sa.valid |= CFS_SET_MTIME;
		sa.mtime = attr->st_mtim.tv_sec;
		sa.mtime_ns = (u32)attr->st_mtim.tv_nsec;
	}
	if (to_set & FUSE_SET_ATTR_CTIME) {
		sa.valid |= CFS_SET_CTIME;
		sa.ctime = attr->st_ctim.tv_sec;
		sa.ctime_ns = (u32)attr->st_ctim.tv_nsec;
	}
	/* FUSE_CAP_HANDLE_KILLPRIV: a truncate (O_TRUNC too) or a chown
	 * clears set-id bits as the caller's rights say */
	sa.cr = req_cred(req, &cr);
	if (sa.valid & CFS_SET_SIZE)
		sa.valid |= CFS_SET_KILL_SUIDGID;
	if (sa.valid & (CFS_SET_UID | CFS_SET_GID))
		sa.valid |= CFS_SET_KILL_CHOWN;
	r = cfs_setattr(FS(req), ino, &sa, &a);
	if (r < 0)
		return reply_err(req, r);
	if (CF(req)->sync && (sa.valid & CFS_SET_SIZE)) {
		r = cfs_fsync(FS(req), ino, 0);
		if (r < 0)
			return reply_err(req, r);
	}
	attr_to_stat(&a, &st);
	fuse_reply_attr(req, &st, CF_TIMEOUT);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char buf[CFS_SYMLINK_MAX + 1];
	int r;

	if (CFUSE_IS_CTL(ino))
		return reply_err(req, -EINVAL);
	memset(buf, 0, sizeof(buf));
	r = cfs_readlink(FS(req), ino, buf, sizeof(buf));
	if (r < 0)
		return reply_err(req, r);
	touch_atime(req, ino, 0, 0);
	/* The library returns the length; terminate it ourselves. */
	if (r > 0 && r < (int)sizeof(buf))
		buf[r] = 0;
	buf[sizeof(buf) - 1] = 0;
	fuse_reply_readlink(req, buf);
}

static void do_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	struct cfs_cred cr;
	struct cfs_attr a;
	u32 len;
	int r;

	if (ctl_refuse(req, parent, name, EEXIST) || name_len(req, name, &len))
		return;
	/* The umask or the parent's default ACL: the library's (req_cred) */
	r = cfs_mknod(FS(req), parent, name, len, (u32)mode, (u32)rdev,
		      req_cred(req, &cr), &a);
	if (r < 0)
		return reply_err(req, r);
	sync_dir(req, parent);
	reply_entry(req, &a);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	switch (mode & S_IFMT) {
	case 0: /* mknod(2): a zero type means a regular file */
		mode |= S_IFREG;
		break;
	case S_IFREG:
	case S_IFIFO:
	case S_IFSOCK:
	case S_IFCHR:
	case S_IFBLK:
		break;
	default:
		return reply_err(req, -EINVAL);
	}
	if (!S_ISCHR(mode) && !S_ISBLK(mode))
		rdev = 0;
	do_mknod(req, parent, name, mode, rdev);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	do_mknod(req, parent, name, S_IFDIR | (mode & 07777), 0);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	u32 len;
	int r;

	if (ctl_refuse(req, parent, name, EPERM) || name_len(req, name, &len))
		return;
	r = cfs_unlink(FS(req), parent, name, len);
	if (r == 0)
		sync_dir(req, parent);
	reply_err(req, r);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	u32 len;
	int r;

	if (ctl_refuse(req, parent, name, EPERM) || name_len(req, name, &len))
		return;
	r = cfs_rmdir(FS(req), parent, name, len);
	if (r == 0)
		sync_dir(req, parent);
	reply_err(req, r);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	struct cfs_cred cr;
	struct cfs_attr a;
	size_t tlen = strlen(link);
	u32 len;
	int r;

	if (ctl_refuse(req, parent, name, EEXIST) || name_len(req, name, &len))
		return;
	if (tlen > CFS_SYMLINK_MAX)
		return reply_err(req, -ENAMETOOLONG);
	r = cfs_symlink(FS(req), parent, name, len, link, (u32)tlen,
			req_cred(req, &cr), &a);
	if (r < 0)
		return reply_err(req, r);
	sync_dir(req, parent);
	reply_entry(req, &a);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	u32 len, nlen, cflags = 0;
	int r;

	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return reply_err(req, -EINVAL);
	if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE))
		return reply_err(req, -EINVAL);
	if (flags & RENAME_NOREPLACE)
		cflags |= CFS_RENAME_NOREPLACE;
	if (flags & RENAME_EXCHANGE)
		cflags |= CFS_RENAME_EXCHANGE;
	if (ctl_refuse(req, parent, name, EPERM) ||
	    ctl_refuse(req, newparent, newname, EPERM))
		return;
	if (name_len(req, name, &len) || name_len(req, newname, &nlen))
		return;
	r = cfs_rename(FS(req), parent, name, len, newparent, newname, nlen,
		       cflags);
	if (r == 0) {
		sync_dir(req, parent);
		if (newparent != parent)
			sync_dir(req, newparent);
	}
	reply_err(req, r);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	struct cfs_attr a;
	u32 len;
	int r;

	if (CFUSE_IS_CTL(ino))
		return reply_err(req, -EPERM);
	if (ctl_refuse(req, newparent, newname, EEXIST) ||
	    name_len(req, newname, &len))
		return;
	r = cfs_link(FS(req), ino, newparent, newname, len, &a);
	if (r < 0)
		return reply_err(req, r);
	sync_dir(req, newparent);
	reply_entry(req, &a);
}

/* Files use the page cache (mmap works) and keep it across opens: every
 * change to the image goes through this mount (the image is locked), so
 * the kernel's cached pages are never stale.  But an open whose reads
 * are due to change the access time starts with the cache dropped, so
 * that they reach the daemon (see touch_atime). */
static void set_open_flags(fuse_req_t req, fuse_ino_t ino,
			   struct fuse_file_info *fi)
{
	fi->direct_io = 0;
	fi->keep_cache = !atime_due(req, ino, fi->flags);
	fi->fh = 0;
}

static int trunc_on_open(fuse_req_t req, fuse_ino_t ino, int flags)
{
	struct cfs_setattr sa;
	struct cfs_cred cr;
	struct cfs_attr a;

	/* FUSE_CAP_ATOMIC_O_TRUNC is off, so the kernel truncates with a
	 * setattr; this is only for a kernel that passes O_TRUNC anyway. */
	if (!(flags & O_TRUNC) || (flags & O_ACCMODE) == O_RDONLY)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.valid = CFS_SET_SIZE | CFS_SET_MTIME_NOW | CFS_SET_MTIME |
		   CFS_SET_KILL_SUIDGID;
	sa.cr = req_cred(req, &cr);
	{
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		sa.mtime = now.tv_sec;
		sa.mtime_ns = (u32)now.tv_nsec;
	}
	return cfs_setattr(FS(req), ino, &sa, &a);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int r;

	if (ino == CFUSE_CTL_EVENTS)
		return cfuse_events_open(req, fi);
	if (CFUSE_IS_CTL(ino))
		return reply_err(req, -EISDIR);
	r = trunc_on_open(req, ino, fi->flags);

	if (r < 0)
		return reply_err(req, r);
	set_open_flags(req, ino, fi);
	fuse_reply_open(req, fi);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	struct cfs_cred cr;
	struct cfs_attr a;
	u32 len;
	int r;

	if (CFUSE_IS_CTL(parent))
		return reply_err(req, -EPERM);
	if (is_ctl_name(parent, name)) {
		if (fi->flags & O_EXCL)
			return reply_err(req, -EEXIST);
		/* open(O_CREAT) of the existing control directory */
		return reply_err(req, -EISDIR);
	}
	if (name_len(req, name, &len))
		return;
	r = cfs_mknod(FS(req), parent, name, len, S_IFREG | (mode & 07777), 0,
		      req_cred(req, &cr), &a);
	if (r == -EEXIST && !(fi->flags & O_EXCL)) {
		/* Raced with another creator: open the existing file. */
		r = cfs_lookup(FS(req), parent, name, len, &a);
		if (r == 0 && !S_ISREG(a.mode)) {
			cfs_forget(FS(req), a.ino, 1);
			r = S_ISDIR(a.mode) ? -EISDIR : -EEXIST;
		} else if (r == 0) {
			r = trunc_on_open(req, a.ino, fi->flags);
			if (r == 0)
				r = cfs_getattr(FS(req), a.ino, &a);
			if (r < 0)
				cfs_forget(FS(req), a.ino, 1);
		}
	} else if (r == 0) {
		sync_dir(req, parent);
	}
	if (r < 0)
		return reply_err(req, r);
	set_open_flags(req, a.ino, fi);
	fill_entry(&e, &a);
	if (fuse_reply_create(req, &e, fi) != 0)
		cfs_forget(FS(req), a.ino, 1);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	char *buf;
	s64 n;

	if (ino == CFUSE_CTL_EVENTS)
		return cfuse_events_read(req, size, fi);
	if (off < 0)
		return reply_err(req, -EINVAL);
	buf = malloc(size ? size : 1);
	if (!buf)
		return reply_err(req, -ENOMEM);
	/* A short read means end of file to FUSE (the kernel trims its idea
	 * of the size), and the library returns what it read before an
	 * error: go on until the end of the file or the error, and reply
	 * the error then (EIO through a damaged block). */
	n = 0;
	while ((size_t)n < size) {
		s64 m = cfs_read(FS(req), ino, (u64)off + (u64)n,
				 size - (size_t)n, buf + n);

		if (m < 0) {
			n = m;
			break;
		}
		if (m == 0)
			break;
		n += m;
	}
	if (n < 0) {
		reply_err(req, n);
	} else {
		/* before the reply: the kernel asks for the attributes
		 * again after a read (fuse_invalidate_atime) */
		touch_atime(req, ino, 0, fi->flags);
		fuse_reply_buf(req, buf, (size_t)n);
	}
	free(buf);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	struct cfs_cred cr;
	s64 n;

	if (CFUSE_IS_CTL(ino))
		return reply_err(req, -EBADF);
	if (off < 0)
		return reply_err(req, -EINVAL);
	/* FUSE_CAP_HANDLE_KILLPRIV: a write(2) clears set-id bits (not the
	 * write-back of a shared mapping, as on ext4) */
	if (!fi->writepage) {
		int r = cfs_kill_suidgid(FS(req), ino, req_cred(req, &cr),
					 NULL);

		if (r < 0)
			return reply_err(req, r);
	}
	n = cfs_write(FS(req), ino, (u64)off, size, buf);
	if (n < 0)
		return reply_err(req, n);
	if (CF(req)->sync) {
		int r = cfs_fsync(FS(req), ino, 0);

		if (r < 0)
			return reply_err(req, r);
	}
	fuse_reply_write(req, (size_t)n);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	/* Writes reach the library synchronously; close needs nothing. */
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	if (ino == CFUSE_CTL_EVENTS)
		cfuse_events_release(CF(req), fi);
	fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	(void)fi;
	if (CFUSE_IS_CTL(ino))
		return reply_err(req, 0);
	reply_err(req, cfs_fsync(FS(req), ino, datasync));
}

static void op_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		    struct fuse_pollhandle *ph)
{
	if (ino == CFUSE_CTL_EVENTS)
		return cfuse_events_poll(req, fi, ph);
	/* ordinary files and directories are always ready */
	if (ph)
		fuse_pollhandle_destroy(ph);
	fuse_reply_poll(req, POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct cfs_attr a;
	int r;

	if (CFUSE_IS_CTL(ino)) {
		if (ino != CFUSE_CTL_DIR)
			return reply_err(req, -ENOTDIR);
		fi->fh = 0;
		fi->cache_readdir = 0;
		fi->keep_cache = 0;
		fuse_reply_open(req, fi);
		return;
	}
	r = cfs_getattr(FS(req), ino, &a);
	if (r < 0)
		return reply_err(req, r);
	if (!S_ISDIR(a.mode))
		return reply_err(req, -ENOTDIR);
	fi->fh = 0;
	fi->cache_readdir = 0;
	fi->keep_cache = 0;
	fuse_reply_open(req, fi);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			struct fuse_file_info *fi)
{
	(void)fi;
	if (CFUSE_IS_CTL(ino))
		return reply_err(req, 0);
	reply_err(req, cfs_fsync(FS(req), ino, datasync));
}

/* ---- readdir ----
 * cfs_readdir's callback runs with the filesystem lock held, so it only
 * fills memory here; readdirplus does its lookups after cfs_readdir is
 * done. */

static mode_t ft_to_mode(u32 type)
{
	switch (type) {
	case CFS_FT_REG:
		return S_IFREG;
	case CFS_FT_DIR:
		return S_IFDIR;
	case CFS_FT_CHR:
		return S_IFCHR;
	case CFS_FT_BLK:
		return S_IFBLK;
	case CFS_FT_FIFO:
		return S_IFIFO;
	case CFS_FT_SOCK:
		return S_IFSOCK;
	case CFS_FT_LNK:
		return S_IFLNK;
	default:
		return 0; /* DT_UNKNOWN */
	}
}

struct rd_ent {
	u64 ino, cookie;
	u32 type, len;
	char name[CFS_NAME_MAX + 1];
};

struct rd_ctx {
	fuse_req_t req;
	char *buf;
	size_t size, pos;
	/* readdirplus: the entries collected, and how much room they need */
	struct rd_ent *ents;
	size_t n, cap;
	int err;
	int root; /* listing the root: hide a name the control dir shadows */
};

static int rd_hidden(const struct rd_ctx *r, const char *name, u32 len)
{
	return r->root && len == sizeof(CFUSE_CTL_NAME) - 1 &&
	       !memcmp(name, CFUSE_CTL_NAME, len);
}

static int rd_fill(void *c, const char *name, u32 len, u64 ino, u32 type,
		   u64 next_cookie)
{
	struct rd_ctx *r = c;
	char nm[CFS_NAME_MAX + 1];
	struct stat st;
	size_t need;

	if (len > CFS_NAME_MAX) {
		r->err = -EUCLEAN;
		return 1;
	}
	if (rd_hidden(r, name, len))
		return 0;
	memcpy(nm, name, len);
	nm[len] = 0;
	memset(&st, 0, sizeof(st));
	st.st_ino = (ino_t)ino;
	st.st_mode = ft_to_mode(type);
	need = fuse_add_direntry(r->req, NULL, 0, nm, NULL, 0);
	if (r->pos + need > r->size)
		return 1;
	fuse_add_direntry(r->req, r->buf + r->pos, r->size - r->pos, nm, &st,
			  (off_t)next_cookie);
	r->pos += need;
	return 0;
}

static int rd_collect(void *c, const char *name, u32 len, u64 ino, u32 type,
		      u64 next_cookie)
{
	struct rd_ctx *r = c;
	struct rd_ent *e;
	size_t need;

	if (len > CFS_NAME_MAX) {
		r->err = -EUCLEAN;
		return 1;
	}
	if (rd_hidden(r, name, len))
		return 0;
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 32;
		struct rd_ent *ne = realloc(r->ents, ncap * sizeof(*ne));

		if (!ne) {
			r->err = -ENOMEM;
			return 1;
		}
		r->ents = ne;
		r->cap = ncap;
	}
	e = &r->ents[r->n];
	memcpy(e->name, name, len);
	e->name[len] = 0;
	need = fuse_add_direntry_plus(r->req, NULL, 0, e->name, NULL, 0);
	if (r->pos + need > r->size)
		return 1;
	r->pos += need;
	e->ino = ino;
	e->cookie = next_cookie;
	e->type = type;
	e->len = len;
	r->n++;
	return 0;
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       int plus)
{
	struct rd_ctx r;
	u64 *refs = NULL;
	size_t i, nrefs = 0;
	int ret;

	if (CFUSE_IS_CTL(ino))
		return cfuse_ctl_readdir(req, ino, size, off, plus);
	memset(&r, 0, sizeof(r));
	r.req = req;
	r.root = ino == CFS_ROOT_INO;
	r.size = size;
	r.buf = malloc(size ? size : 1);
	if (!r.buf)
		return reply_err(req, -ENOMEM);
	ret = cfs_readdir(FS(req), ino, (u64)off, plus ? rd_collect : rd_fill,
			  &r);
	if (ret == 0 && r.err)
		ret = r.err;
	if (ret >= 0)
		touch_atime(req, ino, 1, 0);
	if (!plus) {
		if (ret < 0 && r.pos == 0)
			reply_err(req, ret);
		else
			fuse_reply_buf(req, r.buf, r.pos);
		free(r.buf);
		return;
	}

	/* readdirplus: look each entry up (this takes the lookup reference
	 * the kernel expects for every entry except "." and ".."). */
	if (ret < 0 && r.n == 0)
		goto out_err;
	refs = calloc(r.n ? r.n : 1, sizeof(*refs));
	if (!refs) {
		ret = -ENOMEM;
		goto out_err;
	}
	r.pos = 0;
	for (i = 0; i < r.n; i++) {
		struct rd_ent *e = &r.ents[i];
		struct fuse_entry_param ep;
		struct cfs_attr a;
		size_t need;
		/* "." and "..", and a name that cannot be looked up: no
		 * attributes and no lookup reference */
		int noref = (e->len == 1 && e->name[0] == '.') ||
			    (e->len == 2 && e->name[0] == '.' &&
			     e->name[1] == '.');

		if (noref) {
			memset(&ep, 0, sizeof(ep));
			ep.ino = 0; /* no attributes, no reference */
			ep.attr.st_ino = (ino_t)e->ino;
			ep.attr.st_mode = S_IFDIR;
		} else {
			int lr = cfs_lookup(FS(req), ino, e->name, e->len, &a);

			if (lr == -ENOENT)
				continue; /* removed since: skip it */
			if (lr < 0) {
				/* A name whose inode cannot be read (EIO):
				 * list it without attributes or reference,
				 * as readdir would; the kernel's own lookup
				 * of it fails alone, the other entries are
				 * still listed (ls -l). */
				noref = 1;
				memset(&ep, 0, sizeof(ep));
				ep.attr.st_ino = (ino_t)e->ino;
				ep.attr.st_mode = ft_to_mode(e->type);
			} else {
				fill_entry(&ep, &a);
			}
		}
		need = fuse_add_direntry_plus(req, r.buf + r.pos,
					      r.size - r.pos, e->name, &ep,
					      (off_t)e->cookie);
		if (r.pos + need > r.size) {
			if (!noref)
				cfs_forget(FS(req), a.ino, 1);
			break;
		}
		r.pos += need;
		if (!noref)
			refs[nrefs++] = a.ino;
	}
	if (fuse_reply_buf(req, r.buf, r.pos) != 0) {
		for (i = 0; i < nrefs; i++)
			cfs_forget(FS(req), refs[i], 1);
	}
	free(refs);
	free(r.ents);
	free(r.buf);
	return;
out_err:
	free(refs);
	free(r.ents);
	free(r.buf);
	reply_err(req, ret);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, 0);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, 1);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct cfs_statfs s;
	struct statvfs sv;
	int r;

	(void)ino;
	r = cfs_statfs(FS(req), &s);
	if (r < 0)
		return reply_err(req, r);
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = s.bsize;
	sv.f_frsize = s.bsize;
	sv.f_blocks = (fsblkcnt_t)s.blocks;
	sv.f_bfree = (fsblkcnt_t)s.bfree;
	sv.f_bavail = (fsblkcnt_t)s.bavail;
	sv.f_files = (fsfilcnt_t)s.files;
	sv.f_ffree = (fsfilcnt_t)s.ffree;
	sv.f_favail = (fsfilcnt_t)s.ffree;
	sv.f_namemax = s.namemax ? s.namemax : CFS_NAME_MAX;
	{
		unsigned long id = 0;
		int i;

		for (i = 0; i < 16; i++)
			id ^= (unsigned long)s.uuid[i] << ((i % 8) * 8);
		sv.f_fsid = id;
	}
	if (cf_ro(CF(req)))
		sv.f_flag |= ST_RDONLY;
	fuse_reply_statfs(req, &sv);
}

/* ---- xattrs ---- */

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	u32 cflags;

	if (CFUSE_IS_CTL(ino))
		return reply_err(req, -EPERM);
	if (flags & ~(XATTR_CREATE | XATTR_REPLACE))
		return reply_err(req, -EINVAL);
	cflags = (u32)flags;
	if (size > UINT32_MAX)
		return reply_err(req, -E2BIG);
	/* An access ACL set by a caller neither in the file's group nor
	 * privileged clears S_ISGID (posix_acl_update_mode; the kernel
	 * would say so with FUSE_SETXATTR_ACL_KILL_SGID, which libfuse 3.14
	 * does not pass on). */
	if (CF(req)->acl && !strcmp(name, "system.posix_acl_access") &&
	    fuse_req_ctx(req)->uid != 0) {
		struct cfs_attr a;

		if (cfs_getattr(FS(req), ino, &a) == 0 &&
		    (a.mode & S_ISGID) && a.gid != fuse_req_ctx(req)->gid &&
		    !in_groups(req, (gid_t)a.gid))
			cflags |= CFS_XATTR_ACL_KILL_SGID;
	}
	reply_err(req, cfs_setxattr(FS(req), ino, name, value, (u32)size,
				    cflags));
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	char *buf;
	s64 n;

	if (CFUSE_IS_CTL(ino))
		return reply_err(req, -ENODATA);
	if (size == 0) {
		n = cfs_getxattr(FS(req), ino, name, NULL, 0);
		if (n < 0)
			return reply_err(req, n);
		fuse_reply_xattr(req, (size_t)n);
		return;
	}
	if (size > UINT32_MAX)
		size = UINT32_MAX;
	buf = malloc(size);
	if (!buf)
		return reply_err(req, -ENOMEM);
	n = cfs_getxattr(FS(req), ino, name, buf, (u32)size);
	if (n < 0)
		reply_err(req, n);
	else if ((u64)n > size)
		reply_err(req, -ERANGE);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	char *buf;
	s64 n;

	if (CFUSE_IS_CTL(ino)) {
		if (size == 0)
			fuse_reply_xattr(req, 0);
		else
			fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size == 0) {
		n = cfs_listxattr(FS(req), ino, NULL, 0);
		if (n < 0)
			return reply_err(req, n);
		fuse_reply_xattr(req, (size_t)n);
		return;
	}
	if (size > UINT32_MAX)
		size = UINT32_MAX;
	buf = malloc(size);
	if (!buf)
		return reply_err(req, -ENOMEM);
	n = cfs_listxattr(FS(req), ino, buf, (u32)size);
	if (n < 0)
		reply_err(req, n);
	else if ((u64)n > size)
		reply_err(req, -ERANGE);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	if (CFUSE_IS_CTL(ino))
		return reply_err(req, -EPERM);
	reply_err(req, cfs_removexattr(FS(req), ino, name));
}

/* ---- access: only asked when -o default_permissions is not given ---- */

static void op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct cfs_attr a;
	u32 bits;
	int r;

	if (CFUSE_IS_CTL(ino)) /* read (and search the directory): anyone */
		return reply_err(req, (mask & W_OK) || ((mask & X_OK) &&
				  ino != CFUSE_CTL_DIR) ? -EACCES : 0);
	r = cfs_getattr(FS(req), ino, &a);
	if (r < 0)
		return reply_err(req, r);
	if (mask == F_OK)
		return reply_err(req, 0);
	if ((mask & W_OK) && cf_ro(CF(req)) &&
	    (S_ISREG(a.mode) || S_ISDIR(a.mode) || S_ISLNK(a.mode)))
		return reply_err(req, -EROFS);
	if (ctx->uid == 0) {
		/* root: anything, but execute needs some x bit (not for
		 * searching a directory) */
		if ((mask & X_OK) && !S_ISDIR(a.mode) && !(a.mode & 0111))
			return reply_err(req, -EACCES);
		return reply_err(req, 0);
	}
	if (ctx->uid == a.uid)
		bits = (a.mode >> 6) & 7;
	else if (ctx->gid == a.gid || in_groups(req, (gid_t)a.gid))
		bits = (a.mode >> 3) & 7;
	else
		bits = a.mode & 7;
	if (((u32)mask & 7 & ~bits) != 0)
		return reply_err(req, -EACCES);
	reply_err(req, 0);
}

/* ---- fallocate, lseek, copy_file_range ---- */

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode,
			 off_t offset, off_t length, struct fuse_file_info *fi)
{
	struct cfs_cred cr;
	int r;

	(void)fi;
	if (CFUSE_IS_CTL(ino))
		return reply_err(req, -EBADF);
	if (offset < 0 || length <= 0)
		return reply_err(req, -EINVAL);
	/* file_modified: set-id bits as a write */
	r = cfs_kill_suidgid(FS(req), ino, req_cred(req, &cr), NULL);
	if (r == 0)
		r = cfs_fallocate(FS(req), ino, (u32)mode, (u64)offset,
				  (u64)length);
	if (r == 0 && CF(req)->sync)
		r = cfs_fsync(FS(req), ino, 0);
	reply_err(req, r);
}

static void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		     struct fuse_file_info *fi)
{
	s64 r;

	(void)fi;
	if (CFUSE_IS_CTL(ino))
		return reply_err(req, -ESPIPE);
	if (whence != SEEK_DATA && whence != SEEK_HOLE)
		return reply_err(req, -EINVAL);
	if (off < 0)
		return reply_err(req, -ENXIO);
	r = cfs_lseek(FS(req), ino, (u64)off,
		      whence == SEEK_DATA ? CFS_SEEK_DATA : CFS_SEEK_HOLE);
	if (r < 0)
		return reply_err(req, r);
	fuse_reply_lseek(req, (off_t)r);
}

static void op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in,
			       off_t off_in, struct fuse_file_info *fi_in,
			       fuse_ino_t ino_out, off_t off_out,
			       struct fuse_file_info *fi_out, size_t len,
			       int flags)
{
	size_t bufsz = len < CF_COPY_CHUNK ? len : CF_COPY_CHUNK;
	struct cfs_cred cr;
	u64 copied = 0;
	char *buf;
	s64 err = 0;

	(void)fi_in;
	(void)fi_out;
	if (flags)
		return reply_err(req, -EINVAL);
	if (CFUSE_IS_CTL(ino_in) || CFUSE_IS_CTL(ino_out))
		return reply_err(req, -EOPNOTSUPP);
	if (off_in < 0 || off_out < 0)
		return reply_err(req, -EINVAL);
	if (len == 0)
		return (void)fuse_reply_write(req, 0);
	/* file_modified(file_out): set-id bits as a write */
	err = cfs_kill_suidgid(FS(req), ino_out, req_cred(req, &cr), NULL);
	if (err < 0)
		return reply_err(req, err);
	buf = malloc(bufsz);
	if (!buf)
		return reply_err(req, -ENOMEM);
	while (copied < len) {
		u64 want = CFS_MIN((u64)bufsz, (u64)len - copied);
		s64 n, w;

		n = cfs_read(FS(req), ino_in, (u64)off_in + copied, want, buf);
		if (n < 0) {
			err = n;
			break;
		}
		if (n == 0)
			break; /* end of the source */
		w = cfs_write(FS(req), ino_out, (u64)off_out + copied,
			      (u64)n, buf);
		if (w < 0) {
			err = w;
			break;
		}
		copied += (u64)w;
		if (w < n)
			break;
	}
	free(buf);
	if (copied && CF(req)->sync) {
		int r = cfs_fsync(FS(req), ino_out, 0);

		if (r < 0)
			return reply_err(req, r);
	}
	if (copied == 0 && err < 0)
		return reply_err(req, err);
	fuse_reply_write(req, (size_t)copied);
}

/* ---- the health ioctls (chunkfs_ioctl.h), on any file or directory ----
 * Restricted ioctls: the kernel copies _IOC_SIZE(cmd) bytes in and out.
 * Scrubbing, and listing a chunk's files or naming an inode (names from
 * every directory), need uid 0 (the FUSE request carries no
 * capabilities); health, events and journal activity are for anyone who
 * can open a file of the mount. */

static void op_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd,
		     void *arg, struct fuse_file_info *fi, unsigned flags,
		     const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
	size_t size = _IOC_SIZE(cmd);
	void *buf;
	int r;

	(void)ino;
	(void)arg;
	(void)fi;
	if (flags & FUSE_IOCTL_UNRESTRICTED)
		return reply_err(req, -ENOTTY);
	switch (cmd) {
	case CHUNKFS_IOC_SCRUB:
	case CHUNKFS_IOC_HEALTH:
	case CHUNKFS_IOC_EVENTS:
	case CHUNKFS_IOC_JOURNAL:
	case CFUSE_IOC_REMOUNT:
		break;
	case CHUNKFS_IOC_CHUNK_FILES:
	case CHUNKFS_IOC_PATH:
		if (fuse_req_ctx(req)->uid != 0)
			return reply_err(req, -EPERM);
		break;
	default:
		return reply_err(req, -ENOTTY);
	}
	if (in_bufsz < size || out_bufsz < size || !in_buf)
		return reply_err(req, -EINVAL);
	buf = malloc(size);
	if (!buf)
		return reply_err(req, -ENOMEM);
	memcpy(buf, in_buf, size);
	switch (cmd) {
	case CHUNKFS_IOC_SCRUB: {
		struct chunkfs_scrub *s = buf;

		if (fuse_req_ctx(req)->uid != 0) {
			r = -EPERM;
			break;
		}
		if ((s->flags & CHUNKFS_SCRUB_REPAIR) && cf_ro(CF(req))) {
			r = -EROFS;
			break;
		}
		r = cfs_scrub(FS(req), s);
		/* the caller sees the repaired state once this returns */
		if (r == 0 && (s->flags & CHUNKFS_SCRUB_REPAIR))
			cfuse_inval_wait(CF(req));
		break;
	}
	case CFUSE_IOC_REMOUNT: {
		struct cfuse_remount *rm = buf;

		rm->msg[0] = 0;
		rm->msg[sizeof(rm->msg) - 1] = 0;
		if (fuse_req_ctx(req)->uid != 0)
			r = -EPERM;
		else if (!CF(req)->remount)
			r = -ENOTTY;
		else
			r = CF(req)->remount(CF(req), rm);
		rm->result = r;
		r = 0;
		break;
	}
	case CHUNKFS_IOC_HEALTH: /* (the library checks the arguments) */
		r = cfs_health(FS(req), buf);
		break;
	case CHUNKFS_IOC_CHUNK_FILES:
		r = cfs_chunk_files(FS(req), buf);
		break;
	case CHUNKFS_IOC_PATH:
		r = cfs_path_name(FS(req), buf);
		break;
	case CHUNKFS_IOC_JOURNAL:
		r = cfs_journal_info(FS(req), buf);
		break;
	default: /* CHUNKFS_IOC_EVENTS */
		r = cfs_events(FS(req), buf);
		break;
	}
	if (r < 0)
		reply_err(req, r);
	else
		fuse_reply_ioctl(req, 0, buf, size);
	free(buf);
}

const struct fuse_lowlevel_ops cfuse_ops = {
	.init = op_init,
	.destroy = op_destroy,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.create = op_create,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.fsyncdir = op_fsyncdir,
	.statfs = op_statfs,
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
	.access = op_access,
	.fallocate = op_fallocate,
	.lseek = op_lseek,
	.copy_file_range = op_copy_file_range,
	.ioctl = op_ioctl,
	.poll = op_poll,
};
