// SPDX-License-Identifier: GPL-2.0
/*
 * inode.c - the inode cache, inode allocation and freeing.
 *
 * An in-memory inode exists while the front end holds lookup references
 * (nlookup) or fs/ code pins it (refs).  Changes are copied into the inode
 * table buffer at once (inode_write), so dropping a cached inode never loses
 * anything.  An inode whose link count reached zero is freed when its last
 * reference goes (POSIX: an open, unlinked file lives until closed).
 */
#include "internal.h"

static u32 ihashfn(struct cfs_fs *fs, u64 ino)
{
	return (u32)((ino * 0x9e3779b97f4a7c15ULL) >> 40) & fs->ihash_mask;
}

static int itable_buf(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local,
		      struct cfs_buf **b, struct cfs_dinode **di)
{
	u32 ipb = CFS_PAYLOAD(fs) / CFS_INODE_SIZE, blk = local / ipb;
	int err;

	if (!local || local >= ch->hdr.ninodes)
		return -CFS_ENOENT;
	if (blk >= ch->hdr.itable_init)
		return -CFS_ENOENT;
	err = buf_read(fs, ch, ch->hdr.itable_start + blk, CFS_MAGIC_ITABLE, b);
	if (err)
		return err;
	*di = (struct cfs_dinode *)((*b)->data + sizeof(struct cfs_bhdr)) +
	      local % ipb;
	if (fs->shadow) /* what a scrub's private instance looked at */
		shadow_note_inode(fs->shadow, (*b)->blkno, local % ipb, *di);
	return 0;
}

int inode_peek(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local,
	       struct cfs_dinode *d)
{
	struct cfs_dinode *di;
	struct cfs_buf *b;
	int err;

	if (ch->hdr_bad == 3 && !fs->checking) /* no usable header */
		return -CFS_EIO;
	err = itable_buf(fs, ch, local, &b, &di);
	if (err)
		return err;
	*d = *di;
	buf_put(fs, b);
	return d->mode ? 0 : -CFS_ENOENT;
}

/* The online scrub repaired the inode's chunk: take the table's copy (an
 * inode the repair freed reads as unlinked and empty). */
void inode_reload(struct cfs_fs *fs, struct cfs_inode *ip)
{
	struct cfs_dinode *di;
	struct cfs_buf *b;

	if (itable_buf(fs, ip->ch, ip->local, &b, &di))
		return;
	if (di->mode && di->gen == ip->d.gen) {
		ip->d = *di;
	} else {
		/* the repair freed it: dead (mode 0), never freed again;
		 * inode_get refuses it, the cache drops it with its last
		 * reference */
		ip->d.mode = 0;
		ip->d.nlink = 0;
	}
	buf_put(fs, b);
}

int inode_get(struct cfs_fs *fs, u64 ino, struct cfs_inode **out)
{
	struct cfs_chunk *ch = chunk_get(fs, CFS_CHUNK_OF(ino));
	u32 h = ihashfn(fs, ino);
	struct cfs_inode *ip;
	struct cfs_dinode *di;
	struct cfs_buf *b;
	int err;

	if (!ch)
		return -CFS_ENOENT;
	for (ip = fs->ihash[h]; ip; ip = ip->hnext) {
		if (ip->ino == ino) {
			if (!ip->d.mode && !fs->checking)
				return -CFS_ESTALE; /* freed by a repair */
			ip->refs++;
			*out = ip;
			return 0;
		}
	}
	if (ch->hdr_bad == 3 && !fs->checking) /* no usable header */
		return -CFS_EIO;
	err = itable_buf(fs, ch, CFS_LOCAL(ino), &b, &di);
	if (err)
		return err == -CFS_EUCLEAN ? -CFS_EIO : err;
	if (!di->mode) {
		buf_put(fs, b);
		return -CFS_ENOENT;
	}
	ip = host_alloc(sizeof(*ip));
	if (!ip) {
		buf_put(fs, b);
		return -CFS_ENOMEM;
	}
	ip->d = *di;
	buf_put(fs, b);
	ip->ino = ino;
	ip->ch = ch;
	ip->local = CFS_LOCAL(ino);
	ip->refs = 1;
	ip->hnext = fs->ihash[h];
	fs->ihash[h] = ip;
	*out = ip;
	return 0;
}

int inode_write(struct cfs_fs *fs, struct cfs_inode *ip)
{
	struct cfs_dinode *di;
	struct cfs_buf *b;
	int err;

	if (fs->rdonly)
		return -CFS_EROFS;
	err = itable_buf(fs, ip->ch, ip->local, &b, &di);
	if (err)
		return err;
	*di = ip->d;
	buf_dirty(fs, b);
	buf_put(fs, b);
	return 0;
}

static void inode_unhash(struct cfs_fs *fs, struct cfs_inode *ip)
{
	struct cfs_inode **pp = &fs->ihash[ihashfn(fs, ip->ino)];

	while (*pp && *pp != ip)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = ip->hnext;
}

/* An inode whose last name went while it is still in use goes on its
 * chunk's orphan list (in the link index, with the change that unlinked
 * it), so that a crash before its last user goes leaves a listed orphan
 * that the next mount frees, not a leaked inode. */
/* Regular files up to this many blocks in their own chunk, and with no
 * continuation, are freed at once when their last name and user go: too
 * few extents to fill half a journal.  Bigger ones through the orphan
 * list (inode_evict_if_unused). */
#define CFS_FREE_NOW_BLOCKS 32

static void orphan_add(struct cfs_fs *fs, struct cfs_inode *ip)
{
	struct cfs_link l = { CFS_LINK_ORPHAN, 0, 0, ip->d.gen };

	if (!link_add(fs, ip->ch, CFS_ORPHAN_PEER, ip->local, &l))
		ip->orphan = 1;
}

int inode_evict_if_unused(struct cfs_fs *fs, struct cfs_inode *ip)
{
	if (ip->refs || ip->nlookup) {
		if (!ip->d.nlink && !ip->orphan && ip->d.mode && fs->journal &&
		    !(ip->d.flags & CFS_IF_CONT))
			orphan_add(fs, ip);
		return 0;
	}
	if (!ip->d.nlink && !(ip->d.flags & CFS_IF_CONT) && !fs->rdonly &&
	    ip->d.mode && !fs->checking && !ip->orphan && fs->journal &&
	    fs->orphans_on && CFS_ISREG(ip->d.mode) &&
	    (ip->d.nconts || ip->d.blocks > CFS_FREE_NOW_BLOCKS)) {
		/* A big file is freed in rounds committed between them
		 * (file.c, file_split), which the operation that dropped its
		 * last name may not be whole for: it goes on its chunk's
		 * orphan list now and is freed between operations
		 * (orphans_process, from fs_unlock). */
		orphan_add(fs, ip);
		if (ip->orphan) {
			orphans_queue(fs, ip->ch->index);
			inode_unhash(fs, ip);
			host_free(ip);
			return 1;
		}
	}
	if (!ip->d.nlink && !(ip->d.flags & CFS_IF_CONT) && !fs->rdonly &&
	    ip->d.mode && !fs->checking) {
		ip->refs = 1; /* pinned while freeing */
		inode_free(fs, ip);
		ip->refs = 0;
	}
	inode_unhash(fs, ip);
	host_free(ip);
	return 1;
}

void inode_put(struct cfs_fs *fs, struct cfs_inode *ip)
{
	if (!ip)
		return;
	if (ip->refs)
		ip->refs--;
	inode_evict_if_unused(fs, ip);
}

void inode_touch(struct cfs_inode *ip, int a, int m, int c)
{
	s64 sec;
	u32 ns;

	host_now(&sec, &ns);
	if (a) {
		ip->d.atime = sec;
		ip->d.atime_ns = ns;
	}
	if (m) {
		ip->d.mtime = sec;
		ip->d.mtime_ns = ns;
	}
	if (c) {
		ip->d.ctime = sec;
		ip->d.ctime_ns = ns;
	}
}

int inode_alloc(struct cfs_fs *fs, struct cfs_chunk *ch, u32 mode,
		struct cfs_inode **out)
{
	struct cfs_inode *ip;
	u32 local;
	int err;

	err = alloc_inode_nr(fs, ch, &local);
	if (err)
		return err;
	ip = host_alloc(sizeof(*ip));
	if (!ip) {
		free_inode_nr(fs, ch, local);
		return -CFS_ENOMEM;
	}
	ip->ino = CFS_MKINO(ch->index, local);
	ip->ch = ch;
	ip->local = local;
	ip->refs = 1;
	ip->d.mode = (u16)mode;
	ip->d.gen = ch->hdr.next_gen++;
	if (!ch->hdr.next_gen)
		ch->hdr.next_gen = 1;
	ch->hdr_dirty = 1;
	inode_touch(ip, 1, 1, 1);
	ip->d.btime = ip->d.mtime;
	ip->d.btime_ns = ip->d.mtime_ns;
	bt_init_node(ip->d.root, fs->iroot_size);
	err = inode_write(fs, ip);
	if (err) {
		free_inode_nr(fs, ch, local);
		host_free(ip);
		return err;
	}
	ip->hnext = fs->ihash[ihashfn(fs, ip->ino)];
	fs->ihash[ihashfn(fs, ip->ino)] = ip;
	*out = ip;
	return 0;
}

int inode_free(struct cfs_fs *fs, struct cfs_inode *ip)
{
	int err = 0, e;

	if (CFS_ISREG(ip->d.mode) || (CFS_ISLNK(ip->d.mode) &&
				       !(ip->d.flags & CFS_IF_INLINE_LINK)))
		err = file_free_all(fs, ip);
	else if (CFS_ISDIR(ip->d.mode))
		err = dir_free_all(fs, ip);
	e = xattr_free_all(fs, ip);
	if (e && !err)
		err = e;
	if (err) {
		/* keep the inode: freeing half of it would lose track of blocks */
		host_log(CFS_LOG_ERR, "inode %llu not freed: error %d",
			 (unsigned long long)ip->ino, err);
		return err;
	}
	if (ip->orphan) {
		link_del(fs, ip->ch, CFS_ORPHAN_PEER, ip->local);
		ip->orphan = 0;
	}
	cfs_memset(&ip->d, 0, sizeof(ip->d));
	e = inode_write(fs, ip);
	if (!e)
		e = free_inode_nr(fs, ip->ch, ip->local);
	return e;
}

void orphans_queue(struct cfs_fs *fs, u32 chunk)
{
	if (!fs->orphans_on)
		return;
	if (fs->norphan_q == fs->orphan_cap) {
		u32 ncap = fs->orphan_cap ? fs->orphan_cap * 2 : 16;
		u32 *q = host_alloc((u64)ncap * sizeof(*q));

		if (!q)
			return; /* (then freed by a later mount or by fsck) */
		if (fs->orphan_q)
			cfs_memcpy(q, fs->orphan_q,
				   (u64)fs->norphan_q * sizeof(*q));
		host_free(fs->orphan_q);
		fs->orphan_q = q;
		fs->orphan_cap = ncap;
	}
	fs->orphan_q[fs->norphan_q++] = chunk;
}

/* Free the orphans the queued chunks list: inodes unlinked while in use
 * when the filesystem last went down without unmounting.  Between
 * operations, under the lock (fs_unlock). */
void orphans_process(struct cfs_fs *fs)
{
	while (fs->norphan_q) {
		struct cfs_chunk *ch = fs->chunks[fs->orphan_q[--fs->norphan_q]];
		struct cfs_tree t;
		struct cfs_link l;
		u64 k = (u64)CFS_ORPHAN_PEER << 32;
		u32 len;

		if (!ch || ch->hdr_bad == 3)
			continue;
		link_tree(fs, ch, &t);
		while (!bt_find_ge(&t, k, &k, &l, sizeof(l), &len) &&
		       (k >> 32) == CFS_ORPHAN_PEER) {
			struct cfs_inode *ip = NULL;
			u32 local = (u32)k;

			if (inode_get(fs, CFS_MKINO(ch->index, local), &ip)) {
				link_del(fs, ch, CFS_ORPHAN_PEER, local);
			} else if (!ip->d.nlink && ip->d.gen == l.local_gen) {
				ip->orphan = 1; /* freed by its last put */
				inode_put(fs, ip);
			} else { /* stale entry: linked again, or reused */
				link_del(fs, ch, CFS_ORPHAN_PEER, local);
				inode_put(fs, ip);
			}
			k++;
		}
	}
}

u32 mode_to_ft(u32 mode)
{
	switch (mode & CFS_S_IFMT) {
	case CFS_S_IFREG: return CFS_FT_REG;
	case CFS_S_IFDIR: return CFS_FT_DIR;
	case CFS_S_IFCHR: return CFS_FT_CHR;
	case CFS_S_IFBLK: return CFS_FT_BLK;
	case CFS_S_IFIFO: return CFS_FT_FIFO;
	case CFS_S_IFSOCK: return CFS_FT_SOCK;
	case CFS_S_IFLNK: return CFS_FT_LNK;
	}
	return CFS_FT_UNKNOWN;
}

void inode_to_attr(struct cfs_fs *fs, const struct cfs_inode *ip,
		   struct cfs_attr *a)
{
	const struct cfs_dinode *d = &ip->d;

	cfs_memset(a, 0, sizeof(*a));
	a->ino = ip->ino;
	a->mode = d->mode;
	a->nlink = d->nlink;
	a->uid = d->uid;
	a->gid = d->gid;
	a->rdev = d->rdev;
	a->blksize = fs->bs;
	a->size = d->size;
	a->blocks512 = d->blocks << (fs->bshift - 9);
	a->atime = d->atime;
	a->mtime = d->mtime;
	a->ctime = d->ctime;
	a->btime = d->btime;
	a->atime_ns = d->atime_ns;
	a->mtime_ns = d->mtime_ns;
	a->ctime_ns = d->ctime_ns;
	a->btime_ns = d->btime_ns;
	a->gen = d->gen;
}

struct cfs_inode *inode_cached(struct cfs_fs *fs, u64 ino)
{
	struct cfs_inode *ip = fs->ihash[ihashfn(fs, ino)];

	while (ip && ip->ino != ino)
		ip = ip->hnext;
	return ip;
}
