// SPDX-License-Identifier: GPL-2.0
/*
 * api.c - the inode-level operations of chunkfs.h: argument checks, POSIX
 * rules, locking, and calls into inode.c, dir.c, file.c and xattr.c.
 */
#include "internal.h"

#define CFS_LINK_MAX 65000

static void fs_lock(struct cfs_fs *fs)
{
	host_mutex_lock(fs->lock);
}

/* For an operation that changes inodes a and b (their chunks): it waits
 * while the online scrub computes a repair of one of those chunks. */
static void fs_lock_w(struct cfs_fs *fs, u64 a, u64 b)
{
	host_mutex_lock(fs->lock);
	fs->op_writes = 1;
	if (fs->frozen)
		scrub_wait_unfrozen(fs, a, b);
}

/* The end of every operation: a commit between operations when a chunk's
 * changes fill half its journal, the cache fills with dirty buffers, or
 * the mount is synchronous (journal.c). */
static void fs_unlock(struct cfs_fs *fs)
{
	if (fs->ro_pending)
		errors_apply(fs);
	if (fs->norphan_q && fs->journal)
		orphans_process(fs);
	if (journal_wants_commit(fs))
		journal_commit(fs, 0); /* (a failure is logged; the changes
					* stay dirty for the next commit) */
	fs->nospc_retry = 0;
	fs->op_writes = 0;
	host_mutex_unlock(fs->lock);
}

/* The end of an operation whose change waits for the next commit even
 * on a synchronous mount: an access time (as ext4's, written lazily). */
static void fs_unlock_lazy(struct cfs_fs *fs)
{
	fs->op_writes = 0;
	fs_unlock(fs);
}

/* Space freed since the last commit cannot take file data before the
 * commit (journal.c): when an allocation ran out for that reason, commit
 * (between operations: the operation so far is whole) and go on. */
static int retry_after_commit(struct cfs_fs *fs)
{
	if (!fs->journal || !fs->npfree || journal_commit(fs, 0))
		return 0;
	fs->nospc_retry = 1; /* a copy on write now continues elsewhere */
	return 1;
}

/* Blocks a name (an entry, its directory continuation, a forward link, a
 * parent pointer) may take in one chunk, both copies, nodes split. */
#define META_ROOM 8

/* The new name of ip in dir goes into dir's continuation in ip's chunk,
 * with a forward link in dir's: room there first (file.c). */
static void meta_room_for_name(struct cfs_fs *fs, struct cfs_inode *dir,
			       struct cfs_inode *ip)
{
	file_make_meta_room(fs, ip->ch, META_ROOM);
	if (dir->ch != ip->ch)
		file_make_meta_room(fs, dir->ch, META_ROOM);
}

static int name_check(const char *name, u32 len)
{
	u32 i;

	if (!len)
		return -CFS_ENOENT;
	if (len > CFS_NAME_MAX)
		return -CFS_ENAMETOOLONG;
	for (i = 0; i < len; i++)
		if (name[i] == '/' || !name[i])
			return -CFS_EINVAL;
	return 0;
}

static int is_dot(const char *name, u32 len)
{
	return (len == 1 && name[0] == '.') ||
	       (len == 2 && name[0] == '.' && name[1] == '.');
}

/* A live directory, pinned. */
static int get_dir(struct cfs_fs *fs, u64 ino, struct cfs_inode **out)
{
	int err = inode_get(fs, ino, out);

	if (err)
		return err;
	if ((*out)->d.flags & CFS_IF_CONT) {
		inode_put(fs, *out);
		return -CFS_ENOENT;
	}
	if (!CFS_ISDIR((*out)->d.mode)) {
		inode_put(fs, *out);
		return -CFS_ENOTDIR;
	}
	if (!(*out)->d.nlink) {
		inode_put(fs, *out);
		return -CFS_ENOENT;
	}
	return 0;
}

/* Any user-visible inode (not a continuation), pinned. */
static int get_ino(struct cfs_fs *fs, u64 ino, struct cfs_inode **out)
{
	int err = inode_get(fs, ino, out);

	if (!err && ((*out)->d.flags & CFS_IF_CONT)) {
		inode_put(fs, *out);
		return -CFS_ENOENT;
	}
	return err;
}

static void reply_attr(struct cfs_fs *fs, struct cfs_inode *ip,
		       struct cfs_attr *out)
{
	if (out)
		inode_to_attr(fs, ip, out);
	ip->nlookup++;
}

int cfs_lookup(struct cfs_fs *fs, u64 dir, const char *name, u32 len,
	       struct cfs_attr *out)
{
	struct cfs_inode *dp, *ip;
	u64 ino;
	u32 type;
	int err;

	if (len > CFS_NAME_MAX)
		return -CFS_ENAMETOOLONG;
	fs_lock(fs);
	err = get_dir(fs, dir, &dp);
	if (err)
		goto out;
	if (len == 1 && name[0] == '.')
		ino = dir;
	else if (len == 2 && name[0] == '.' && name[1] == '.')
		err = dir_parent(fs, dp, &ino);
	else
		err = name_check(name, len) ?: dir_find(fs, dp, name, len,
							 &ino, &type);
	inode_put(fs, dp);
	if (err)
		goto out;
	err = get_ino(fs, ino, &ip);
	if (err) {
		if (err == -CFS_ENOENT)
			err = -CFS_EIO; /* an entry naming a free inode */
		goto out;
	}
	reply_attr(fs, ip, out);
	inode_put(fs, ip);
out:
	fs_unlock(fs);
	return err;
}

/* A file handle's inode: any live, named inode a user can see, read
 * from disk when it is not cached; -CFS_ESTALE for anything else. */
static int iget_common(struct cfs_fs *fs, u64 ino, int check_gen, u32 gen,
		       struct cfs_attr *out)
{
	struct cfs_inode *ip;
	int err;

	fs_lock(fs);
	err = CFS_CHUNK_OF(ino) < fs->nchunks ? get_ino(fs, ino, &ip) :
						 -CFS_ENOENT;
	if (err == -CFS_ENOENT)
		err = -CFS_ESTALE; /* no such inode: freed, or never was */
	if (err)
		goto out;
	if (!ip->d.nlink || (check_gen && ip->d.gen != gen))
		err = -CFS_ESTALE; /* deleted, or its number reused */
	else
		reply_attr(fs, ip, out);
	inode_put(fs, ip);
out:
	fs_unlock(fs);
	return err;
}

int cfs_iget_gen(struct cfs_fs *fs, u64 ino, u32 gen, struct cfs_attr *out)
{
	return iget_common(fs, ino, 1, gen, out);
}

int cfs_iget_any(struct cfs_fs *fs, u64 ino, struct cfs_attr *out)
{
	return iget_common(fs, ino, 0, 0, out);
}

void cfs_forget(struct cfs_fs *fs, u64 ino, u64 nlookup)
{
	struct cfs_inode *ip;

	fs_lock(fs);
	fs->op_writes = 1; /* (it may free an unlinked inode) */
	ip = inode_cached(fs, ino);
	if (ip) {
		ip->nlookup = ip->nlookup > nlookup ? ip->nlookup - nlookup : 0;
		inode_evict_if_unused(fs, ip);
	}
	fs_unlock(fs);
}

int cfs_getattr(struct cfs_fs *fs, u64 ino, struct cfs_attr *out)
{
	struct cfs_inode *ip;
	int err;

	fs_lock(fs);
	err = get_ino(fs, ino, &ip);
	if (!err) {
		inode_to_attr(fs, ip, out);
		inode_put(fs, ip);
	}
	fs_unlock(fs);
	return err;
}

int cfs_setattr(struct cfs_fs *fs, u64 ino, const struct cfs_setattr *sa,
		struct cfs_attr *out)
{
	struct cfs_inode *ip;
	u32 ns, mode, kill = 0;
	int err, chmod = 0;
	s64 sec;

	fs_lock_w(fs, ino, ino);
	err = fs->rdonly ? -CFS_EROFS : get_ino(fs, ino, &ip);
	if (err)
		goto out;
	host_now(&sec, &ns);
	/* the set-id bits the caller's truncate or chown clears, judged on
	 * the inode as it is before */
	if (sa->cr && (sa->valid & CFS_SET_KILL_SUIDGID))
		kill |= setid_kill(ip, sa->cr, 0);
	if (sa->cr && (sa->valid & CFS_SET_KILL_CHOWN) &&
	    (sa->valid & (CFS_SET_UID | CFS_SET_GID)))
		kill |= setid_kill(ip, sa->cr, 1);
	mode = ip->d.mode;
	if (sa->valid & CFS_SET_MODE)
		mode = (mode & CFS_S_IFMT) | (sa->mode & 07777);
	mode &= ~kill;
	if (sa->valid & CFS_SET_SIZE) {
		if (CFS_ISDIR(ip->d.mode))
			err = -CFS_EISDIR;
		else if (!CFS_ISREG(ip->d.mode))
			err = -CFS_EINVAL;
		else if (sa->size > CFS_MAX_FILE_BYTES)
			err = -CFS_EFBIG;
		else if (sa->size != ip->d.size) {
			err = file_truncate(fs, ip, sa->size);
			if (err == -CFS_ENOSPC && retry_after_commit(fs))
				err = file_truncate(fs, ip, sa->size);
			ip->d.mtime = sec;
			ip->d.mtime_ns = ns;
		}
		if (err)
			goto put;
	}
	if (mode != ip->d.mode) {
		/* the access ACL follows a chmod (posix_acl_chmod), in the
		 * same operation */
		err = acl_chmod(fs, ip, mode);
		if (err)
			goto put;
		ip->d.mode = (u16)mode;
		chmod = 1;
	}
	if (sa->valid & CFS_SET_UID)
		ip->d.uid = sa->uid;
	if (sa->valid & CFS_SET_GID)
		ip->d.gid = sa->gid;
	if (sa->valid & CFS_SET_ATIME_NOW) {
		ip->d.atime = sec;
		ip->d.atime_ns = ns;
	} else if (sa->valid & CFS_SET_ATIME) {
		ip->d.atime = sa->atime;
		ip->d.atime_ns = sa->atime_ns;
	}
	if (sa->valid & CFS_SET_MTIME_NOW) {
		ip->d.mtime = sec;
		ip->d.mtime_ns = ns;
	} else if (sa->valid & CFS_SET_MTIME) {
		ip->d.mtime = sa->mtime;
		ip->d.mtime_ns = sa->mtime_ns;
	}
	if (sa->valid & CFS_SET_CTIME) {
		ip->d.ctime = sa->ctime;
		ip->d.ctime_ns = sa->ctime_ns;
	} else {
		ip->d.ctime = sec;
		ip->d.ctime_ns = ns;
	}
	err = inode_write(fs, ip);
	/* a directory's parent pointer carries its mode and owner */
	if (!err && (chmod || (sa->valid & (CFS_SET_UID | CFS_SET_GID))))
		err = pptr_set_attrs(fs, ip);
	if (!err && out)
		inode_to_attr(fs, ip, out);
put:
	inode_put(fs, ip);
out:
	fs_unlock(fs);
	return err;
}

int cfs_kill_suidgid(struct cfs_fs *fs, u64 ino, const struct cfs_cred *cr,
		     int *killed)
{
	struct cfs_inode *ip;
	u32 kill = 0;
	int err;

	fs_lock_w(fs, ino, ino);
	/* read-only: the write that follows gets EROFS */
	err = fs->rdonly ? 0 : get_ino(fs, ino, &ip);
	if (err || fs->rdonly)
		goto out;
	kill = setid_kill(ip, cr, 0);
	if (kill) {
		ip->d.mode = (u16)(ip->d.mode & ~kill);
		inode_touch(ip, 0, 0, 1);
		err = inode_write(fs, ip);
	}
	inode_put(fs, ip);
out:
	fs_unlock(fs);
	if (killed)
		*killed = !err && kill;
	return err;
}

/* ---- access times ---- */

int cfs_atime_due(const struct cfs_attr *a, u32 mode, s64 now, u32 now_ns)
{
	if (mode == CFS_ATIME_STRICT)
		return a->atime != now || a->atime_ns != now_ns;
	if (mode != CFS_ATIME_RELATIME)
		return 0;
	/* relatime: not newer than the last change, or a day old */
	if (a->mtime > a->atime ||
	    (a->mtime == a->atime && a->mtime_ns >= a->atime_ns))
		return 1;
	if (a->ctime > a->atime ||
	    (a->ctime == a->atime && a->ctime_ns >= a->atime_ns))
		return 1;
	return now - a->atime >= 24 * 3600;
}

/* Set the access time (sec, ns) or, with mode, now if mode says so. */
static int atime_common(struct cfs_fs *fs, u64 ino, u32 mode, s64 sec,
			u32 ns)
{
	struct cfs_inode *ip;
	struct cfs_attr a;
	int err;

	fs_lock_w(fs, ino, ino); /* a change: waits for a repair of its chunk */
	err = fs->rdonly ? -CFS_EROFS : get_ino(fs, ino, &ip);
	if (err)
		goto out;
	if (mode) {
		host_now(&sec, &ns);
		inode_to_attr(fs, ip, &a);
		if (!cfs_atime_due(&a, mode, sec, ns))
			goto put;
	}
	if (ip->d.atime != sec || ip->d.atime_ns != ns) {
		ip->d.atime = sec;
		ip->d.atime_ns = ns;
		err = inode_write(fs, ip);
		if (!err)
			err = 1;
	}
put:
	inode_put(fs, ip);
out:
	fs_unlock_lazy(fs);
	return err;
}

int cfs_touch_atime(struct cfs_fs *fs, u64 ino, u32 mode)
{
	if (mode != CFS_ATIME_RELATIME && mode != CFS_ATIME_STRICT)
		return 0;
	return atime_common(fs, ino, mode, 0, 0);
}

int cfs_set_atime(struct cfs_fs *fs, u64 ino, s64 sec, u32 ns)
{
	if (ns >= 1000000000u)
		return -CFS_EINVAL;
	return atime_common(fs, ino, 0, sec, ns);
}

/* Pick the chunk for a new inode: the parent's while it has room
 * (chunk_has_room); else a chunk where the parent already continues (no
 * new cross-chunk link); else, for a file, the fullest chunk with room for
 * a few tree nodes more (best fit: the roomy chunks stay for large files,
 * issue 16); else (and for a directory: a new subtree) the chunk with the
 * most free space. */
static struct cfs_chunk *place_inode(struct cfs_fs *fs, struct cfs_inode *dir,
				     u32 mode)
{
	struct cfs_chunk *ch;

	if (chunk_has_room(dir->ch))
		return dir->ch;
	ch = dir_cont_chunk_with_room(fs, dir);
	if (ch)
		return ch;
	/* an inode takes no data block, and its entry and tree nodes may
	 * use the metadata reserve: file data fills chunks down to that
	 * reserve (file.c, cont_target), a create must still succeed */
	ch = CFS_ISDIR(mode) ? NULL :
	     chunk_best_fit(fs, 2 * chunk_meta_reserve(dir->ch));
	if (!ch)
		ch = chunk_most_free(fs, NULL, 1);
	if (ch && ch->hdr.free_blocks >= chunk_meta_reserve(ch))
		return ch;
	return NULL;
}

static int new_inode(struct cfs_fs *fs, u64 dirino, const char *name, u32 len,
		     u32 mode, const struct cfs_cred *cr, struct cfs_inode **out)
{
	struct cfs_inode *dir, *ip;
	struct acl_new an = { 0 };
	struct cfs_chunk *ch;
	u64 ino;
	u32 type;
	int err;

	if (fs->rdonly)
		return -CFS_EROFS;
	err = name_check(name, len);
	if (err)
		return err;
	err = get_dir(fs, dirino, &dir);
	if (err)
		return err;
	if (is_dot(name, len)) {
		err = -CFS_EEXIST;
		goto out;
	}
	err = dir_find(fs, dir, name, len, &ino, &type);
	if (!err)
		err = -CFS_EEXIST;
	if (err != -CFS_ENOENT)
		goto out;
	if (CFS_ISDIR(mode) && dir->d.nlink >= CFS_LINK_MAX) {
		err = -CFS_EMLINK;
		goto out;
	}
	/* the mode: the set-id rules (mode_strip_sgid), then the parent's
	 * default ACL or the umask (posix_acl_create), before anything
	 * records it (the parent pointer carries a directory's) */
	mode &= ~setid_create(dir, mode, cr);
	err = acl_new_prepare(fs, dir, &mode, cr, &an);
	if (err)
		goto out;
	ch = place_inode(fs, dir, mode);
	if (!ch) {
		err = -CFS_ENOSPC;
		goto out;
	}
	err = inode_alloc(fs, ch, mode, &ip);
	if (err)
		goto out;
	ip->d.uid = cr->uid;
	ip->d.gid = cr->gid;
	if (dir->d.mode & CFS_S_ISGID) {
		ip->d.gid = dir->d.gid;
		if (CFS_ISDIR(mode))
			ip->d.mode |= CFS_S_ISGID;
	}
	ip->d.nlink = CFS_ISDIR(mode) ? 2 : 1;
	err = inode_write(fs, ip);
	if (!err)
		err = acl_new_store(fs, ip, &an);
	if (!err)
		err = dir_add(fs, dir, name, len, ip);
	if (err) {
		ip->d.nlink = 0;
		inode_put(fs, ip);
		goto out;
	}
	inode_touch(dir, 0, 1, 1);
	inode_write(fs, dir);
	*out = ip;
out:
	acl_new_free(&an);
	inode_put(fs, dir);
	return err;
}

int cfs_mknod(struct cfs_fs *fs, u64 dir, const char *name, u32 len, u32 mode,
	      u32 rdev, const struct cfs_cred *cr, struct cfs_attr *out)
{
	struct cfs_inode *ip;
	int err;

	switch (mode & CFS_S_IFMT) {
	case CFS_S_IFREG: case CFS_S_IFDIR: case CFS_S_IFIFO:
	case CFS_S_IFSOCK: case CFS_S_IFCHR: case CFS_S_IFBLK:
		break;
	case 0:
		mode |= CFS_S_IFREG;
		break;
	default:
		return -CFS_EINVAL;
	}
	fs_lock_w(fs, dir, dir);
	err = new_inode(fs, dir, name, len, mode, cr, &ip);
	if (!err) {
		if ((mode & CFS_S_IFMT) == CFS_S_IFCHR ||
		    (mode & CFS_S_IFMT) == CFS_S_IFBLK) {
			ip->d.rdev = rdev;
			err = inode_write(fs, ip);
		}
		reply_attr(fs, ip, out);
		inode_put(fs, ip);
	}
	fs_unlock(fs);
	return err;
}

int cfs_symlink(struct cfs_fs *fs, u64 dir, const char *name, u32 len,
		const char *target, u32 tlen, const struct cfs_cred *cr,
		struct cfs_attr *out)
{
	struct cfs_inode *ip;
	int err;

	if (!tlen)
		return -CFS_ENOENT;
	if (tlen > CFS_SYMLINK_MAX)
		return -CFS_ENAMETOOLONG;
	fs_lock_w(fs, dir, dir);
	err = new_inode(fs, dir, name, len, CFS_S_IFLNK | 0777, cr, &ip);
	if (err)
		goto out;
	if (tlen <= fs->iroot_size) {
		ip->d.flags |= CFS_IF_INLINE_LINK;
		cfs_memcpy(ip->d.root, target, tlen);
		ip->d.size = tlen;
		err = inode_write(fs, ip);
	} else {
		s64 n = file_write(fs, ip, 0, tlen, target);

		err = n < 0 ? (int)n : 0;
	}
	if (err) {
		/* undo: remove the name again */
		struct cfs_inode *dp;

		if (!get_dir(fs, dir, &dp)) {
			dir_remove(fs, dp, name, len, ip);
			inode_put(fs, dp);
		}
		ip->d.nlink = 0;
	} else {
		reply_attr(fs, ip, out);
	}
	inode_put(fs, ip);
out:
	fs_unlock(fs);
	return err;
}

int cfs_readlink(struct cfs_fs *fs, u64 ino, char *buf, u32 bufsize)
{
	struct cfs_inode *ip;
	int err;

	fs_lock(fs);
	err = get_ino(fs, ino, &ip);
	if (err)
		goto out;
	if (!CFS_ISLNK(ip->d.mode)) {
		err = -CFS_EINVAL;
	} else if (ip->d.flags & CFS_IF_INLINE_LINK) {
		u32 n = (u32)CFS_MIN(ip->d.size, (u64)fs->iroot_size);

		n = CFS_MIN(n, bufsize);
		cfs_memcpy(buf, ip->d.root, n);
		err = (int)n;
	} else {
		s64 n = file_read(fs, ip, 0, CFS_MIN((u64)bufsize, ip->d.size),
				  buf);

		err = (int)n;
	}
	inode_put(fs, ip);
out:
	fs_unlock(fs);
	return err;
}

int cfs_link(struct cfs_fs *fs, u64 ino, u64 newdir, const char *name,
	     u32 len, struct cfs_attr *out)
{
	struct cfs_inode *ip, *dir;
	u64 x;
	u32 type;
	int err;

	fs_lock_w(fs, ino, newdir);
	err = fs->rdonly ? -CFS_EROFS : name_check(name, len);
	if (err)
		goto out;
	err = get_ino(fs, ino, &ip);
	if (err)
		goto out;
	err = get_dir(fs, newdir, &dir);
	if (err)
		goto put_ip;
	if (CFS_ISDIR(ip->d.mode))
		err = -CFS_EPERM;
	else if (!ip->d.nlink)
		err = -CFS_ENOENT;
	else if (ip->d.nlink >= CFS_LINK_MAX)
		err = -CFS_EMLINK;
	else if (is_dot(name, len))
		err = -CFS_EEXIST;
	else {
		err = dir_find(fs, dir, name, len, &x, &type);
		if (!err)
			err = -CFS_EEXIST;
		if (err == -CFS_ENOENT)
			meta_room_for_name(fs, dir, ip);
		if (err == -CFS_ENOENT)
			err = dir_add(fs, dir, name, len, ip);
	}
	if (!err) {
		ip->d.nlink++;
		inode_touch(ip, 0, 0, 1);
		inode_touch(dir, 0, 1, 1);
		inode_write(fs, dir);
		err = inode_write(fs, ip);
		reply_attr(fs, ip, out);
	}
	inode_put(fs, dir);
put_ip:
	inode_put(fs, ip);
out:
	fs_unlock(fs);
	return err;
}

/* Find name in dir and pin its inode. */
static int find_child(struct cfs_fs *fs, struct cfs_inode *dir,
		      const char *name, u32 len, struct cfs_inode **out)
{
	u64 ino;
	u32 type;
	int err = dir_find(fs, dir, name, len, &ino, &type);

	if (err)
		return err;
	err = inode_get(fs, ino, out);
	return err == -CFS_ENOENT ? -CFS_EIO : err;
}

static int remove_common(struct cfs_fs *fs, u64 dirino, const char *name,
			 u32 len, int rmdir)
{
	struct cfs_inode *dir, *ip;
	int err;

	fs_lock_w(fs, dirino, dirino);
	err = fs->rdonly ? -CFS_EROFS : name_check(name, len);
	if (err)
		goto out;
	if (is_dot(name, len)) {
		err = rmdir ? (len == 1 ? -CFS_EINVAL : -CFS_ENOTEMPTY)
			    : -CFS_EISDIR;
		goto out;
	}
	err = get_dir(fs, dirino, &dir);
	if (err)
		goto out;
	err = find_child(fs, dir, name, len, &ip);
	if (err)
		goto put_dir;
	if (rmdir && !CFS_ISDIR(ip->d.mode))
		err = -CFS_ENOTDIR;
	else if (!rmdir && CFS_ISDIR(ip->d.mode))
		err = -CFS_EISDIR;
	else if (rmdir) {
		err = dir_is_empty(fs, ip);
		err = err == 1 ? 0 : err == 0 ? -CFS_ENOTEMPTY : err;
	}
	if (!err)
		err = dir_remove(fs, dir, name, len, ip);
	if (!err) {
		if (rmdir)
			ip->d.nlink = 0;
		else if (ip->d.nlink)
			ip->d.nlink--;
		inode_touch(ip, 0, 0, 1);
		inode_write(fs, ip);
		inode_touch(dir, 0, 1, 1);
		inode_write(fs, dir);
	}
	inode_put(fs, ip);
put_dir:
	inode_put(fs, dir);
out:
	fs_unlock(fs);
	return err;
}

int cfs_unlink(struct cfs_fs *fs, u64 dir, const char *name, u32 len)
{
	return remove_common(fs, dir, name, len, 0);
}

int cfs_rmdir(struct cfs_fs *fs, u64 dir, const char *name, u32 len)
{
	return remove_common(fs, dir, name, len, 1);
}

/* Is directory `anc` an ancestor of (or the same as) directory `ino`? */
static int is_ancestor(struct cfs_fs *fs, u64 anc, u64 ino)
{
	u32 guard = 0;

	while (guard++ < (1u << 20)) {
		struct cfs_inode *ip;
		u64 parent;
		int err;

		if (ino == anc)
			return 1;
		if (ino == CFS_ROOT_INO)
			return 0;
		err = inode_get(fs, ino, &ip);
		if (err)
			return err;
		err = dir_parent(fs, ip, &parent);
		inode_put(fs, ip);
		if (err)
			return err;
		ino = parent;
	}
	return -CFS_EIO;
}

static int rename_exchange(struct cfs_fs *fs, struct cfs_inode *od,
			   const char *on, u32 ol, struct cfs_inode *nd,
			   const char *nn, u32 nl, struct cfs_inode *src,
			   struct cfs_inode *dst)
{
	int err;

	err = dir_remove(fs, od, on, ol, src);
	if (err)
		return err;
	err = dir_remove(fs, nd, nn, nl, dst);
	if (err) {
		dir_add(fs, od, on, ol, src);
		return err;
	}
	err = dir_add(fs, nd, nn, nl, src);
	if (!err) {
		err = dir_add(fs, od, on, ol, dst);
		if (err) /* back as it was: src leaves its new name */
			dir_remove(fs, nd, nn, nl, src);
	}
	if (err) {
		/* both names back where they were (what removing them freed
		 * is there to take them again) */
		int e = dir_add(fs, nd, nn, nl, dst);

		if (!e)
			e = dir_add(fs, od, on, ol, src);
		if (e) {
			host_log(CFS_LOG_ERR, "rename exchange failed midway "
				 "(%d, %d)", err, e);
			chunk_mark_suspect(fs, od->ch,
					   "rename exchange failed midway");
		}
	}
	return err;
}

int cfs_rename(struct cfs_fs *fs, u64 odir, const char *oname, u32 olen,
	       u64 ndir, const char *nname, u32 nlen, u32 flags)
{
	struct cfs_inode *od = NULL, *nd = NULL, *src = NULL, *dst = NULL;
	int err;

	if (flags & ~(CFS_RENAME_NOREPLACE | CFS_RENAME_EXCHANGE))
		return -CFS_EINVAL;
	if ((flags & CFS_RENAME_NOREPLACE) && (flags & CFS_RENAME_EXCHANGE))
		return -CFS_EINVAL;
	fs_lock_w(fs, odir, ndir);
	err = fs->rdonly ? -CFS_EROFS : name_check(oname, olen);
	if (!err)
		err = name_check(nname, nlen);
	if (!err && (is_dot(oname, olen) || is_dot(nname, nlen)))
		err = -CFS_EBUSY;
	if (err)
		goto out;
	err = get_dir(fs, odir, &od);
	if (!err)
		err = get_dir(fs, ndir, &nd);
	if (!err)
		err = find_child(fs, od, oname, olen, &src);
	if (err)
		goto out;
	err = find_child(fs, nd, nname, nlen, &dst);
	if (err == -CFS_ENOENT) {
		dst = NULL;
		err = 0;
	}
	if (err)
		goto out;
	if ((flags & CFS_RENAME_EXCHANGE) && !dst) {
		err = -CFS_ENOENT;
		goto out;
	}
	if (dst && (flags & CFS_RENAME_NOREPLACE)) {
		err = -CFS_EEXIST;
		goto out;
	}
	if (dst == src) /* the same inode: nothing to do */
		goto out;
	/* a directory must not move below itself */
	if (CFS_ISDIR(src->d.mode) && odir != ndir &&
	    (!dst || !CFS_ISDIR(dst->d.mode)) &&
	    nd->d.nlink >= CFS_LINK_MAX) {
		err = -CFS_EMLINK;
		goto out;
	}
	if (CFS_ISDIR(src->d.mode) && odir != ndir) {
		err = is_ancestor(fs, src->ino, ndir);
		if (err) {
			err = err == 1 ? -CFS_EINVAL : err;
			goto out;
		}
	}
	meta_room_for_name(fs, nd, src);
	if (dst && (flags & CFS_RENAME_EXCHANGE))
		meta_room_for_name(fs, od, dst);
	if (dst && (flags & CFS_RENAME_EXCHANGE)) {
		if (CFS_ISDIR(dst->d.mode) && odir != ndir) {
			err = is_ancestor(fs, dst->ino, odir);
			if (err) {
				err = err == 1 ? -CFS_EINVAL : err;
				goto out;
			}
		}
		err = rename_exchange(fs, od, oname, olen, nd, nname, nlen,
				      src, dst);
		if (!err) {
			inode_touch(dst, 0, 0, 1);
			inode_write(fs, dst);
		}
		goto done;
	}
	if (dst) {
		if (CFS_ISDIR(src->d.mode) && !CFS_ISDIR(dst->d.mode)) {
			err = -CFS_ENOTDIR;
			goto out;
		}
		if (!CFS_ISDIR(src->d.mode) && CFS_ISDIR(dst->d.mode)) {
			err = -CFS_EISDIR;
			goto out;
		}
		if (CFS_ISDIR(dst->d.mode)) {
			err = dir_is_empty(fs, dst);
			err = err == 1 ? 0 : err == 0 ? -CFS_ENOTEMPTY : err;
			if (err)
				goto out;
		}
		err = dir_remove(fs, nd, nname, nlen, dst);
		if (err)
			goto out;
	}
	/* src's parent pointer record moves with its name (one change of
	 * each tree instead of an insert and a delete) */
	err = dir_add_from(fs, nd, nname, nlen, src, od, oname, olen);
	if (err) {
		if (dst)
			dir_add(fs, nd, nname, nlen, dst);
		goto out;
	}
	err = dir_remove_pp(fs, od, oname, olen, src, 0);
	if (err) {
		host_log(CFS_LOG_ERR, "rename: old name not removed (%d)", err);
		/* both names stay: the old one's record again */
		pptr_add(fs, od, oname, olen, src);
		goto out;
	}
	if (dst) {
		if (CFS_ISDIR(dst->d.mode))
			dst->d.nlink = 0;
		else if (dst->d.nlink)
			dst->d.nlink--;
		inode_touch(dst, 0, 0, 1);
		inode_write(fs, dst);
	}
done:
	if (!err) {
		inode_touch(src, 0, 0, 1);
		inode_write(fs, src);
		inode_touch(od, 0, 1, 1);
		inode_write(fs, od);
		inode_touch(nd, 0, 1, 1);
		inode_write(fs, nd);
	}
out:
	inode_put(fs, dst);
	inode_put(fs, src);
	inode_put(fs, nd);
	inode_put(fs, od);
	fs_unlock(fs);
	return err;
}

/* ---- file data ---- */

static int get_reg(struct cfs_fs *fs, u64 ino, struct cfs_inode **out,
		   int other_err)
{
	int err = get_ino(fs, ino, out);

	if (err)
		return err;
	if (!CFS_ISREG((*out)->d.mode)) {
		err = CFS_ISDIR((*out)->d.mode) ? -CFS_EISDIR : other_err;
		inode_put(fs, *out);
	}
	return err;
}

/* A read of a file with checksums, on a device that takes reads from
 * several threads at once (the image file), is planned under the lock and
 * read and verified without it: the FUSE daemon's threads then read and
 * hash side by side (DESIGN.md "Data checksums").  A read that is not one
 * for a plan goes on under the same hold of the lock; one whose blocks
 * changed since the plan (or are damaged) is read again under it. */
s64 cfs_read(struct cfs_fs *fs, u64 ino, u64 off, u64 len, void *buf)
{
	struct rplan *p = fs->dev->parallel_read && fs->datasum ?
			  host_alloc(sizeof(*p)) : NULL;
	struct cfs_inode *ip;
	s64 ret;

	fs_lock(fs);
	ret = get_reg(fs, ino, &ip, -CFS_EINVAL);
	if (!ret && p && !file_read_plan(fs, ip, off, len, p)) {
		inode_put(fs, ip);
		fs_unlock(fs);
		if (!file_read_planned(fs, p, buf)) {
			ret = (s64)p->bytes;
			host_free(p);
			return ret;
		}
		fs_lock(fs);
		ret = get_reg(fs, ino, &ip, -CFS_EINVAL);
	}
	if (!ret) {
		ret = file_read(fs, ip, off, len, buf);
		inode_put(fs, ip);
	}
	fs_unlock(fs);
	host_free(p);
	return ret;
}

s64 cfs_write(struct cfs_fs *fs, u64 ino, u64 off, u64 len, const void *buf)
{
	struct cfs_inode *ip;
	s64 ret;

	fs_lock_w(fs, ino, ino);
	ret = fs->rdonly ? -CFS_EROFS : get_reg(fs, ino, &ip, -CFS_EINVAL);
	if (!ret) {
		ret = file_write(fs, ip, off, len, buf);
		/* again while a commit gives back space and the write goes
		 * on (an overwrite copied on write frees its old blocks
		 * only at the commit: DATASUM) */
		while ((ret == -CFS_ENOSPC || (ret >= 0 && (u64)ret < len)) &&
		       retry_after_commit(fs)) {
			u64 done = ret > 0 ? (u64)ret : 0;
			s64 more = file_write(fs, ip, off + done, len - done,
					      (const u8 *)buf + done);

			if (more >= 0)
				ret = (s64)(done + (u64)more);
			else if (done)
				ret = (s64)done;
			else
				ret = more;
			if (more <= 0)
				break;
		}
		inode_put(fs, ip);
	}
	fs_unlock(fs);
	return ret;
}

int cfs_fallocate(struct cfs_fs *fs, u64 ino, u32 mode, u64 off, u64 len)
{
	struct cfs_inode *ip;
	int err;

	fs_lock_w(fs, ino, ino);
	err = fs->rdonly ? -CFS_EROFS : get_reg(fs, ino, &ip, -CFS_ENODEV);
	if (!err) {
		err = file_fallocate(fs, ip, mode, off, len);
		if (err == -CFS_ENOSPC && retry_after_commit(fs))
			err = file_fallocate(fs, ip, mode, off, len);
		inode_put(fs, ip);
	}
	fs_unlock(fs);
	return err;
}

int cfs_fsync(struct cfs_fs *fs, u64 ino, int datasync)
{
	(void)ino;
	(void)datasync;
	return cfs_sync(fs);
}

s64 cfs_lseek(struct cfs_fs *fs, u64 ino, u64 off, int whence)
{
	struct cfs_inode *ip;
	s64 ret;

	if (whence != CFS_SEEK_DATA && whence != CFS_SEEK_HOLE)
		return -CFS_EINVAL;
	fs_lock(fs);
	ret = get_reg(fs, ino, &ip, -CFS_EINVAL);
	if (!ret) {
		ret = file_lseek(fs, ip, off, whence);
		inode_put(fs, ip);
	}
	fs_unlock(fs);
	return ret;
}

int cfs_bmap(struct cfs_fs *fs, u64 ino, u64 lblk, u64 *pblk, u64 *count)
{
	struct cfs_inode *ip;
	int err;

	fs_lock(fs);
	err = get_ino(fs, ino, &ip);
	if (!err) {
		err = file_bmap(fs, ip, lblk, pblk, count);
		inode_put(fs, ip);
	}
	fs_unlock(fs);
	return err;
}

int cfs_readdir(struct cfs_fs *fs, u64 dir, u64 cookie, cfs_filldir_t fn,
		void *ctx)
{
	struct cfs_inode *dp;
	int err;

	fs_lock(fs);
	err = get_dir(fs, dir, &dp);
	if (!err) {
		err = cfs_readdir_locked(fs, dp, cookie, fn, ctx);
		inode_put(fs, dp);
	}
	fs_unlock(fs);
	return err;
}

/* ---- xattrs ---- */

int cfs_setxattr(struct cfs_fs *fs, u64 ino, const char *name,
		 const void *value, u32 size, u32 flags)
{
	struct cfs_inode *ip;
	struct cfs_dinode d;
	int kind = acl_kind(name), err;

	if (flags & ~(CFS_XATTR_CREATE | CFS_XATTR_REPLACE |
		      CFS_XATTR_ACL_KILL_SGID))
		return -CFS_EINVAL;
	fs_lock_w(fs, ino, ino);
	err = kind && fs->noacl ? -CFS_EOPNOTSUPP :
	      fs->rdonly ? -CFS_EROFS : get_ino(fs, ino, &ip);
	if (!err) {
		/* the value and its item's share of a tree node, each with
		 * its second copy (DUP) */
		file_make_meta_room(fs, ip->ch,
				    2 * ((size + fs->bs - 1) >> fs->bshift) +
				    META_ROOM);
		d = ip->d;
		/* an ACL's flags are ignored, as the kernel does */
		if (kind)
			err = acl_set(fs, ip, kind, value, size, flags);
		else
			err = xattr_set(fs, ip, name, value, size,
					flags & ~CFS_XATTR_ACL_KILL_SGID);
		if (!err) {
			inode_touch(ip, 0, 0, 1);
			err = inode_write(fs, ip);
		} else if (cfs_memcmp(&d, &ip->d, sizeof(d))) {
			/* a failure after the tree grew a node (its block
			 * count, its root) before the set got ENOSPC */
			inode_write(fs, ip);
		}
		inode_put(fs, ip);
	}
	fs_unlock(fs);
	return err;
}

s64 cfs_getxattr(struct cfs_fs *fs, u64 ino, const char *name, void *value,
		 u32 size)
{
	struct cfs_inode *ip;
	s64 ret;

	fs_lock(fs);
	ret = acl_kind(name) && fs->noacl ? -CFS_EOPNOTSUPP :
	      get_ino(fs, ino, &ip);
	if (!ret) {
		ret = xattr_get(fs, ip, name, value, size);
		inode_put(fs, ip);
	}
	fs_unlock(fs);
	return ret;
}

s64 cfs_listxattr(struct cfs_fs *fs, u64 ino, char *list, u32 size)
{
	struct cfs_inode *ip;
	s64 ret;

	fs_lock(fs);
	ret = get_ino(fs, ino, &ip);
	if (!ret) {
		ret = xattr_list(fs, ip, list, size);
		inode_put(fs, ip);
	}
	fs_unlock(fs);
	return ret;
}

int cfs_removexattr(struct cfs_fs *fs, u64 ino, const char *name)
{
	struct cfs_inode *ip;
	int kind = acl_kind(name), err;

	fs_lock_w(fs, ino, ino);
	err = kind && fs->noacl ? -CFS_EOPNOTSUPP :
	      fs->rdonly ? -CFS_EROFS : get_ino(fs, ino, &ip);
	if (!err) {
		err = kind ? acl_remove(fs, ip, kind) :
		      xattr_remove(fs, ip, name);
		if (!err) {
			inode_touch(ip, 0, 0, 1);
			err = inode_write(fs, ip);
		}
		inode_put(fs, ip);
	}
	fs_unlock(fs);
	return err;
}

void cfs_set_acl(struct cfs_fs *fs, int on)
{
	fs_lock(fs);
	fs->noacl = !on;
	host_mutex_unlock(fs->lock);
}

int cfs_acl_enabled(struct cfs_fs *fs)
{
	int on;

	fs_lock(fs);
	on = !fs->noacl;
	host_mutex_unlock(fs->lock);
	return on;
}

int cfs_inode_links(struct cfs_fs *fs, u64 ino, struct cfs_ino_links *out)
{
	struct cfs_inode *ip;
	int err;

	cfs_memset(out, 0, sizeof(*out));
	fs_lock(fs);
	err = get_ino(fs, ino, &ip);
	if (!err) {
		if (CFS_ISREG(ip->d.mode))
			err = file_links(fs, ip, out);
		else if (CFS_ISDIR(ip->d.mode))
			err = dir_links(fs, ip, out);
		inode_put(fs, ip);
	}
	fs_unlock(fs);
	return err;
}
