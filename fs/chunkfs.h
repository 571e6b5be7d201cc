/* SPDX-License-Identifier: GPL-2.0 */
/*
 * chunkfs.h - the filesystem library's API, inode-level, the shape both the
 * FUSE low-level API and the kernel VFS want.  Every function returns 0 (or a
 * byte count) on success and a negative CFS_E* errno on failure.  All are
 * safe to call from several threads at once.
 *
 * Inode numbers are (chunk << 32) | local; the root directory is
 * CFS_ROOT_INO (1).  Functions that return a cfs_attr for a new or found
 * inode (lookup, mknod, mkdir, symlink, link, create) take one "lookup"
 * reference on it, which cfs_forget() drops; an unlinked inode is freed when
 * its last reference goes.
 */
#ifndef CFS_CHUNKFS_H
#define CFS_CHUNKFS_H

#include "host.h"
#include "format.h"
#include "chunkfs_ioctl.h"

struct cfs_fs;

struct cfs_attr {
	u64 ino;
	u32 mode, nlink, uid, gid, rdev;
	u32 blksize;
	u64 size;
	u64 blocks512;        /* allocated space in 512-byte units */
	s64 atime, mtime, ctime, btime;
	u32 atime_ns, mtime_ns, ctime_ns, btime_ns;
	u32 gen;
};

/* cfs_setattr: which fields to set */
#define CFS_SET_MODE 0x01
#define CFS_SET_UID 0x02
#define CFS_SET_GID 0x04
#define CFS_SET_SIZE 0x08
#define CFS_SET_ATIME 0x10
#define CFS_SET_MTIME 0x20
#define CFS_SET_ATIME_NOW 0x40
#define CFS_SET_MTIME_NOW 0x80
#define CFS_SET_CTIME 0x100
/* The set-id bits a truncate (KILL_SUIDGID) or a chown (KILL_CHOWN) by
 * sa->cr clears, as Linux 6.1 does for ext4 (setattr_should_drop_suidgid,
 * chown_common): for a front end whose kernel leaves that to it (FUSE with
 * FUSE_CAP_HANDLE_KILLPRIV).  The kernel module's VFS asks with a mode. */
#define CFS_SET_KILL_SUIDGID 0x200
#define CFS_SET_KILL_CHOWN 0x400
struct cfs_cred;
struct cfs_setattr {
	u32 valid;
	u32 mode, uid, gid;
	u64 size;
	s64 atime, mtime, ctime;
	u32 atime_ns, mtime_ns, ctime_ns;
	const struct cfs_cred *cr; /* the caller, for CFS_SET_KILL_* */
};

/*
 * The caller: the owner of new inodes (setgid directories are honoured),
 * and what the set-id and ACL rules ask of it.  A zeroed structure is
 * uid 0, gid 0, no umask, no ACL inheritance, not privileged.
 */
struct cfs_cred {
	u32 uid, gid;
	u32 umask;      /* cleared from a new inode's mode unless it inherits
			 * a default ACL (CFS_CRED_ACL_INHERIT) */
	u32 flags;      /* CFS_CRED_* */
	/* Is the caller in group gid (supplementary groups)?  NULL: only
	 * its gid counts.  priv is the front end's. */
	int (*in_group)(const struct cfs_cred *cr, u32 gid);
	void *priv;
	/* The new inode's ACLs, computed by the front end (the kernel
	 * module's posix_acl_create), in the posix_acl_xattr format, stored
	 * with it in the same operation; NULL: none.  The mode passed is
	 * final then (no umask, no inheritance). */
	const void *acl_access, *acl_default;
	u32 acl_access_len, acl_default_len;
};
/* CAP_FSETID: set-id bits survive writes by it (FUSE: uid 0) */
#define CFS_CRED_FSETID 0x1
/* The library applies the parent's default ACL to a new inode (masked by
 * the mode, no umask), else the umask (FUSE with FUSE_CAP_DONT_MASK) */
#define CFS_CRED_ACL_INHERIT 0x2

/* Mount flags */
#define CFS_MOUNT_RDONLY 0x1
#define CFS_MOUNT_SYNC 0x2       /* commit after every operation (-o sync) */
#define CFS_MOUNT_NOJOURNAL 0x4  /* bulk load (mkfs -d): metadata written in
				  * place at sync, not atomic; a crash means
				  * running mkfs again */
#define CFS_MOUNT_NOREPLAY 0x8   /* no journal replay: the disk is known to
				  * be current (the online scrub's private
				  * instance, after a commit) */

/* Rename flags (Linux values) */
#define CFS_RENAME_NOREPLACE 0x1
#define CFS_RENAME_EXCHANGE 0x2

/* Xattr flags (Linux values) */
#define CFS_XATTR_CREATE 0x1
#define CFS_XATTR_REPLACE 0x2
/* Setting system.posix_acl_access by a caller neither in the file's group
 * nor privileged: S_ISGID is cleared (posix_acl_update_mode) */
#define CFS_XATTR_ACL_KILL_SGID 0x100

/* Fallocate modes (Linux values) */
#define CFS_FALLOC_KEEP_SIZE 0x01
#define CFS_FALLOC_PUNCH_HOLE 0x02
#define CFS_FALLOC_COLLAPSE_RANGE 0x08
#define CFS_FALLOC_ZERO_RANGE 0x10
#define CFS_FALLOC_INSERT_RANGE 0x20

/* lseek */
#define CFS_SEEK_DATA 3
#define CFS_SEEK_HOLE 4

struct cfs_statfs {
	u32 bsize;
	u64 blocks, bfree, bavail;
	u64 files, ffree;
	u32 namemax;
	u8 uuid[16];
};

/* ---- format (mkfs) ---- */
struct cfs_mkfs_opts {
	u32 block_size;       /* 0: 4096 */
	u64 chunk_bytes;      /* 0: CFS_DEFAULT_CHUNK_BYTES (or smaller to fit) */
	u32 inode_ratio;      /* 0: 16384 bytes per inode */
	u32 reserve_pct;      /* 0: 10 */
	u8 uuid[16];          /* the caller makes it (libuuid in userspace) */
	char label[64];
	u32 root_uid, root_gid;
	s64 now_sec;          /* creation time */
	u32 no_features;      /* CFS_MKFS_NO_*: format v2 features left out
			       * (all of them: a v1 filesystem) */
	u32 dir_hash_bits;    /* tests only: 0, or directory hashes of 1..34
			       * bits (HASHBITS: names collide at will) */
};
#define CFS_MKFS_NO_METAGEN 0x1 /* and with it every v2 feature */
#define CFS_MKFS_NO_DUP 0x2     /* -m single */
#define CFS_MKFS_NO_DATASUM 0x4 /* -O ^datasum: file data not checksummed */
#define CFS_MKFS_NO_PPTR 0x8    /* -O ^pptr */
#define CFS_MKFS_NO_XCONT 0x10  /* -O ^xcont: xattrs never spill */
#define CFS_MKFS_NO_DIROVF 0x20 /* -O ^dirovf: a hash's names in one item */
#define CFS_MKFS_V1 0xff
/* Checks the options against the device; on error *why names the problem. */
int cfs_mkfs_check(const struct cfs_bdev *dev, const struct cfs_mkfs_opts *o,
		   struct cfs_geom *geom_out, const char **why);
int cfs_mkfs(struct cfs_bdev *dev, const struct cfs_mkfs_opts *o);

/* The superblock, read and verified without mounting (the primary, else
 * its copy; *blk says which): for probes (udev, mount helpers) and offline
 * tuning.  -EUCLEAN when neither copy is a chunkfs superblock. */
int cfs_read_super(struct cfs_bdev *dev, struct cfs_super *out, u64 *blk);

/* ---- mount ---- */
/* On failure *why (if not NULL) points to a static message. */
int cfs_mount(struct cfs_bdev *dev, u32 flags, struct cfs_fs **out,
	      const char **why);
int cfs_unmount(struct cfs_fs *fs);   /* writes everything, marks clean */
/* The same; *js gets the mount's journal activity, its last commit too. */
struct cfs_journal_stats;
int cfs_unmount_stats(struct cfs_fs *fs, struct cfs_journal_stats *js);
int cfs_sync(struct cfs_fs *fs);      /* syncfs */
/* Journal activity of this mount (docs/DESIGN.md, "Crash consistency"). */
struct cfs_journal_stats {
	u64 commits;          /* journal commits */
	u64 flushes;          /* device flushes they issued */
	u64 journal_writes;   /* blocks written to journals */
	u64 overflows;        /* chunks written in place (did not fit) */
	u64 replayed_chunks;  /* at mount */
	u64 replayed_blocks;
	u64 replay_failed;    /* chunks whose journal could not be replayed */
	u64 splits;           /* commits inside a long operation, between its
			       * rounds (journal_split) */
};
void cfs_journal_stats(struct cfs_fs *fs, struct cfs_journal_stats *out);

/* ---- online health (the ioctls of chunkfs_ioctl.h, same structures) ----
 * cfs_scrub: check (and repair) one chunk while mounted; cfs_health: the
 * chunks' states; cfs_events: the event ring.  They check their
 * arguments (-CFS_EINVAL: unknown scrub flags or chunk, a health `first`
 * beyond the chunks) and fill the whole structure, keeping only its input
 * fields: front ends pass the caller's structure as it came.
 * cfs_set_event_hook: fn is
 * called for each new event, with the filesystem lock held (it must not
 * call back into the filesystem).  errors= policy and free-space threshold
 * (percent of the data blocks; 0: none).  cfs_repair_pending: the next
 * chunk errors=repair wants scrubbed, or CHUNKFS_NO_CHUNK. */
int cfs_scrub(struct cfs_fs *fs, struct chunkfs_scrub *s);
int cfs_health(struct cfs_fs *fs, struct chunkfs_health *h);
int cfs_events(struct cfs_fs *fs, struct chunkfs_events *e);
/* CHUNKFS_IOC_JOURNAL: cfs_journal_stats in the ioctl's structure. */
int cfs_journal_info(struct cfs_fs *fs, struct chunkfs_journal *j);
void cfs_set_event_hook(struct cfs_fs *fs,
			void (*fn)(void *ctx, const struct chunkfs_event *e),
			void *ctx);
void cfs_set_errors_policy(struct cfs_fs *fs, u32 policy);
void cfs_set_free_warn(struct cfs_fs *fs, u32 percent);
u32 cfs_repair_pending(struct cfs_fs *fs);
/* The inodes a front end has looked up (nlookup > 0) whose attributes or
 * contents an online repair changed (or freed), for it to drop its caches
 * of them: up to max numbers into inos, taken off the list; returns how
 * many.  *lost is set when the list overflowed since the last call (the
 * front end should then drop what it can).  The repair's event
 * (CHUNKFS_E_REPAIRED) comes after the list is filled. */
u32 cfs_inval_take(struct cfs_fs *fs, u64 *inos, u32 max, int *lost);
/* A name an online repair removed from a directory the front end may
 * have cached (parent: the directory's inode number): one per call, into
 * name (room for CFS_NAME_MAX bytes, not terminated), taken off the list;
 * returns its length, or 0 when there is none. */
u32 cfs_inval_take_name(struct cfs_fs *fs, u64 *parent, char *name);
const struct cfs_geom *cfs_geometry(struct cfs_fs *fs);

/* Remount with flags CFS_MOUNT_RDONLY (and CFS_MOUNT_SYNC) as they are
 * to be.  To read-only: everything committed and the disk left as an
 * unmount leaves it (the chunks and the superblock CLEAN: fsck -n finds a
 * clean, current filesystem), then nothing more is written (-CFS_EROFS
 * to writers); an inode unlinked while in use stays on its chunk's
 * orphan list until the filesystem is read-write again.  To read-write:
 * dev->readonly must be 0 by then (the front end reopens the device); a
 * filesystem mounted read-only has its journals replayed in place, as a
 * read-write mount would.  Cached inodes and lookup references are kept
 * either way.  On failure *why (if not NULL) says why. */
int cfs_remount(struct cfs_fs *fs, u32 flags, const char **why);

/* ---- inode operations ---- */
int cfs_lookup(struct cfs_fs *fs, u64 dir, const char *name, u32 len,
	       struct cfs_attr *out);
/* A file handle's inode (open_by_handle_at, NFS): inode ino, read from
 * disk when it is not cached, with one lookup reference (as cfs_lookup)
 * if it is a live, named inode of generation gen; -CFS_ESTALE when the
 * number names no inode (never did, or it was freed), another generation
 * (the number was reused) or an inode with no name left.  cfs_iget_any
 * takes any generation (FUSE's lookup of "." by node id: the kernel
 * compares the generation itself).  A directory's parent is
 * cfs_lookup(dir, ".."), which reads it from disk as well. */
int cfs_iget_gen(struct cfs_fs *fs, u64 ino, u32 gen, struct cfs_attr *out);
int cfs_iget_any(struct cfs_fs *fs, u64 ino, struct cfs_attr *out);
void cfs_forget(struct cfs_fs *fs, u64 ino, u64 nlookup);
int cfs_getattr(struct cfs_fs *fs, u64 ino, struct cfs_attr *out);
int cfs_setattr(struct cfs_fs *fs, u64 ino, const struct cfs_setattr *sa,
		struct cfs_attr *out);
/* A write or fallocate by cr is about to change regular file ino: the
 * set-id bits Linux 6.1 clears then are cleared (S_ISUID; S_ISGID when
 * group-executable or cr is not in the file's group; nothing for
 * CFS_CRED_FSETID).  *killed (may be NULL): 1 when the mode changed. */
int cfs_kill_suidgid(struct cfs_fs *fs, u64 ino, const struct cfs_cred *cr,
		     int *killed);
/* mode carries the type: regular, dir, fifo, socket, chr, blk. */
int cfs_mknod(struct cfs_fs *fs, u64 dir, const char *name, u32 len, u32 mode,
	      u32 rdev, const struct cfs_cred *cr, struct cfs_attr *out);
int cfs_symlink(struct cfs_fs *fs, u64 dir, const char *name, u32 len,
		const char *target, u32 tlen, const struct cfs_cred *cr,
		struct cfs_attr *out);
int cfs_readlink(struct cfs_fs *fs, u64 ino, char *buf, u32 bufsize);
/* The path of an inode from its parent pointers (format v2, PPTR): its
 * length, or -ENOENT when no name is known. */
int cfs_path(struct cfs_fs *fs, u64 ino, char *out, u32 size);
/* The layout of chunk `index` of nblocks blocks (the positional blocks,
 * journal, data area, mirror region: FORMAT.md 6, 16.5) as its header
 * holds it; negative if the geometry allows none. */
int cfs_chunk_layout(const struct cfs_geom *g, u32 index, u32 nblocks,
		     struct cfs_chunk_hdr *h);
/* CHUNKFS_IOC_PATH: name `index` of an inode (every name of a hard-linked
 * file, one by one); -EOPNOTSUPP without parent pointers. */
int cfs_path_name(struct cfs_fs *fs, struct chunkfs_path *p);
/* CHUNKFS_IOC_CHUNK_FILES: the files with a part (inode, data, entries)
 * in a chunk, a batch per call from p->cursor on; nothing is written. */
int cfs_chunk_files(struct cfs_fs *fs, struct chunkfs_chunk_files *cf);
int cfs_link(struct cfs_fs *fs, u64 ino, u64 newdir, const char *name,
	     u32 len, struct cfs_attr *out);
int cfs_unlink(struct cfs_fs *fs, u64 dir, const char *name, u32 len);
int cfs_rmdir(struct cfs_fs *fs, u64 dir, const char *name, u32 len);
int cfs_rename(struct cfs_fs *fs, u64 odir, const char *oname, u32 olen,
	       u64 ndir, const char *nname, u32 nlen, u32 flags);

/* ---- access times ----
 * Reads do not change an access time in the library.  A front end whose
 * kernel keeps none (FUSE) calls cfs_touch_atime after a read or a
 * listing, with the mount's mode; one whose kernel decides (the VFS's
 * relatime, strictatime, noatime) sets it with cfs_set_atime.  Both mark
 * the inode for the next commit and never commit themselves, not even on
 * a CFS_MOUNT_SYNC mount: an access time is written lazily, as ext4's.
 * cfs_atime_due: does an access at now change a's atime under mode
 * (relatime: when atime is not newer than mtime or ctime, or a day old;
 * strictatime: always)?  cfs_touch_atime returns 1 when it did, 0 when
 * mode said no, -CFS_EROFS on a read-only mount. */
#define CFS_ATIME_NONE 0
#define CFS_ATIME_RELATIME 1
#define CFS_ATIME_STRICT 2
int cfs_atime_due(const struct cfs_attr *a, u32 mode, s64 now, u32 now_ns);
int cfs_touch_atime(struct cfs_fs *fs, u64 ino, u32 mode);
int cfs_set_atime(struct cfs_fs *fs, u64 ino, s64 sec, u32 ns);

/* ---- file data ---- */
/* A read that meets an error after some bytes returns those bytes (a
 * short count, as read(2)); the next read from there returns the error. */
s64 cfs_read(struct cfs_fs *fs, u64 ino, u64 off, u64 len, void *buf);
s64 cfs_write(struct cfs_fs *fs, u64 ino, u64 off, u64 len, const void *buf);
int cfs_fallocate(struct cfs_fs *fs, u64 ino, u32 mode, u64 off, u64 len);
int cfs_fsync(struct cfs_fs *fs, u64 ino, int datasync);
/* SEEK_DATA / SEEK_HOLE; returns the offset or -CFS_ENXIO */
s64 cfs_lseek(struct cfs_fs *fs, u64 ino, u64 off, int whence);
/* Maps logical block lblk of a regular file: *pblk absolute block (0 for a
 * hole), *count contiguous blocks from there. */
int cfs_bmap(struct cfs_fs *fs, u64 ino, u64 lblk, u64 *pblk, u64 *count);

/* ---- directories ----
 * cfs_readdir calls fn for each entry, "." and ".." first, starting after
 * cookie (0 = from the start); each call carries the cookie of the next
 * entry.  fn returns nonzero to stop (for instance when the reply buffer is
 * full); that entry is then not consumed. */
typedef int (*cfs_filldir_t)(void *ctx, const char *name, u32 len, u64 ino,
			     u32 type, u64 next_cookie);
int cfs_readdir(struct cfs_fs *fs, u64 dir, u64 cookie, cfs_filldir_t fn,
		void *ctx);

int cfs_statfs(struct cfs_fs *fs, struct cfs_statfs *out);

/* ---- xattrs ---- (get/list: size 0 asks for the size needed)
 * POSIX ACLs are the xattrs system.posix_acl_access and
 * system.posix_acl_default, in the kernel's posix_acl_xattr format
 * (version 2, entries of tag, perm, id; docs/FORMAT.md 10.3).  The
 * library keeps them and the mode in step, as ext4 does: a valid access
 * ACL sets the mode's permission bits (its equivalent mode) and is not
 * kept when the mode says it all; a chmod changes its owner, mask (or
 * group) and other entries; a default ACL is for directories only and
 * is inherited by new inodes (cfs_cred).  With ACLs off (cfs_set_acl)
 * both names are refused with -EOPNOTSUPP and not listed. */
int cfs_setxattr(struct cfs_fs *fs, u64 ino, const char *name,
		 const void *value, u32 size, u32 flags);
s64 cfs_getxattr(struct cfs_fs *fs, u64 ino, const char *name, void *value,
		 u32 size);
s64 cfs_listxattr(struct cfs_fs *fs, u64 ino, char *list, u32 size);
int cfs_removexattr(struct cfs_fs *fs, u64 ino, const char *name);
/* POSIX ACLs on (the default, as ext4's acl) or off (noacl). */
void cfs_set_acl(struct cfs_fs *fs, int on);
int cfs_acl_enabled(struct cfs_fs *fs);

/* ---- reports (tools/chunkfs stat) ---- */
struct cfs_chunk_info {
	u32 index, state;
	u32 nblocks, free_blocks;
	u32 ninodes, free_inodes;
	u32 links;            /* link index entries */
	u64 verified_gen;
	s64 verified_time;
	u64 data_errors;      /* DATASUM: data blocks found bad */
	u64 data_verified_gen; /* mount count when a scrub last read all
				* its data; 0: never */
	s64 data_verified_time;
};
int cfs_chunk_info(struct cfs_fs *fs, u32 chunk, struct cfs_chunk_info *out);

/* Continuations of one inode (a file or directory): how many continuation
 * inodes, in which chunks (the first 64), and the blocks they hold. */
struct cfs_ino_links {
	u32 nconts;
	u32 chunks[64];       /* first 64 continuation chunks */
	u64 cont_blocks;      /* blocks held in continuations */
	u64 cont_tree_blocks; /* of those, B+tree nodes of their own trees */
};
int cfs_inode_links(struct cfs_fs *fs, u64 ino, struct cfs_ino_links *out);
/* Blocks of a chunk's link index (its tree, root included). */
int cfs_link_index_blocks(struct cfs_fs *fs, u32 chunk, u64 *blocks);

#endif
