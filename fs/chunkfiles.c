// SPDX-License-Identifier: GPL-2.0
/*
 * chunkfiles.c - what losing a chunk would cost: the files that have a
 * part in it (CHUNKFS_IOC_CHUNK_FILES, `chunkfs paths --chunk K`).
 *
 * Everything of a file that lives in chunk K is found from K's own inode
 * table (invariants 1 and 4): an origin inode in K is the file itself,
 * with its attributes, xattrs and what its home holds (data, or a
 * directory's entries for the inodes of K); a continuation inode in K is
 * a part of a file or directory whose home is elsewhere, named by its
 * back link.  So the list costs a read of one chunk's inode table plus,
 * per continuation, its origin's inode (to check that the back link still
 * names a live file) - never a walk of the namespace.  It is exactly the
 * set the checker reports as the blast radius when chunk K is lost (a
 * lost file, lost data, a directory's lost entries, a directory
 * recreated): docs/DESIGN.md, "Healing".
 *
 * Nothing is written, and no inode enters the inode cache: the table's
 * buffers are read directly (inode_write keeps them current).
 */
#include "internal.h"

#define CF_SCAN 4096  /* inode slots one call looks at, at most */

/* The tree of type `type` rooted in raw inode d (ch, local), for reading
 * only: the inode is a copy on the caller's stack. */
static void raw_tree(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local,
		     struct cfs_inode *tmp, const struct cfs_dinode *d,
		     u32 type, struct cfs_tree *t)
{
	cfs_memset(tmp, 0, sizeof(*tmp));
	tmp->d = *d;
	tmp->ch = ch;
	tmp->local = local;
	tmp->ino = CFS_MKINO(ch->index, local);
	tree_of_inode(fs, tmp, type, t);
	t->ip = NULL; /* (never written) */
}

/* Does the home inode d hold file data in its own chunk (a data extent,
 * not only forward links to continuations)?  A tree that cannot be read
 * counts as data there (it is what the loss would cost). */
static int home_has_data(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local,
			 const struct cfs_dinode *d, u8 *buf)
{
	struct cfs_inode tmp;
	struct cfs_tree t;
	u64 key = 0, k;
	u32 len, n;

	if (CFS_ISLNK(d->mode) && (d->flags & CFS_IF_INLINE_LINK))
		return 0;
	if (!CFS_ISREG(d->mode) && !CFS_ISLNK(d->mode))
		return 0;
	raw_tree(fs, ch, local, &tmp, d, CFS_TREE_EXTENT, &t);
	for (n = 0; n < 1u << 20; n++) {
		int err = bt_find_ge(&t, key, &k, buf, bt_max_item(&t), &len);

		if (err)
			return err != -CFS_ENOENT;
		if (len == sizeof(struct cfs_dext))
			return 1;
		if (len != sizeof(struct cfs_cext))
			return 1;
		/* a forward link: the range is elsewhere; go on after it */
		k += ((struct cfs_cext *)buf)->len ?
		     ((struct cfs_cext *)buf)->len : 1;
		if (k <= key)
			return 0;
		key = k;
	}
	return 0;
}

/* Does directory part d (home or continuation) hold entries? */
static int dir_has_entries(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local,
			   const struct cfs_dinode *d, u8 *buf)
{
	struct cfs_inode tmp;
	struct cfs_tree t;
	u64 k;
	u32 len;
	int err;

	raw_tree(fs, ch, local, &tmp, d, CFS_TREE_DIR, &t);
	err = bt_find_ge(&t, 0, &k, buf, bt_max_item(&t), &len);
	if (err)
		return err != -CFS_ENOENT;
	return k < CFS_DKEY_CONT;
}

/* Inode d (ch, local), in use, as the file it is a part of. */
static void chunk_file(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local,
		      const struct cfs_dinode *d, struct chunkfs_chunk_file *f,
		      u8 *buf)
{
	cfs_memset(f, 0, sizeof(*f));
	f->mode = d->mode;
	if (!(d->flags & CFS_IF_CONT)) {
		f->ino = CFS_MKINO(ch->index, local);
		f->parts = CHUNKFS_PART_INODE;
		if (CFS_ISDIR(d->mode)) {
			if (dir_has_entries(fs, ch, local, d, buf))
				f->parts |= CHUNKFS_PART_ENTRIES;
		} else if (home_has_data(fs, ch, local, d, buf)) {
			f->parts |= CHUNKFS_PART_DATA;
		}
		return;
	}
	/* a continuation: its file, when the back link still names one */
	{
		struct cfs_chunk *oc = chunk_get(fs, d->back_chunk);
		struct cfs_dinode od;
		int err = -CFS_ENOENT;

		if (oc && oc != ch)
			err = inode_peek(fs, oc, d->back_ino, &od);

		f->parts = (d->flags & CFS_IF_XCONT) ? CHUNKFS_PART_XATTRS :
			   CFS_ISDIR(d->mode) ? CHUNKFS_PART_ENTRIES :
			   CHUNKFS_PART_DATA;
		if (!err && !(od.flags & CFS_IF_CONT) &&
		    od.gen == d->back_gen) {
			f->ino = CFS_MKINO(d->back_chunk, d->back_ino);
			f->mode = od.mode;
		} else if (err && err != -CFS_ENOENT && oc && oc != ch) {
			/* the origin cannot be read: trust the back link */
			f->ino = CFS_MKINO(d->back_chunk, d->back_ino);
		} else {
			f->ino = CFS_MKINO(ch->index, local);
			f->parts |= CHUNKFS_PART_ORPHAN;
		}
	}
}

int cfs_chunk_files(struct cfs_fs *fs, struct chunkfs_chunk_files *cf)
{
	u32 chunk = cf->chunk, ipb = CFS_PAYLOAD(fs) / CFS_INODE_SIZE;
	u64 cursor = cf->cursor;
	struct cfs_chunk *ch;
	u32 local, scanned = 0, end;
	u8 *buf;
	int err = 0;

	cfs_memset(cf, 0, sizeof(*cf)); /* (nothing of the caller's left) */
	cf->chunk = chunk;
	cf->nchunks = fs->nchunks;
	if (chunk >= fs->nchunks)
		return -CFS_EINVAL;
	buf = host_alloc(fs->bs);
	if (!buf)
		return -CFS_ENOMEM;
	host_mutex_lock(fs->lock);
	ch = chunk_get(fs, chunk);
	if (!ch || ch->hdr_bad == 3) {
		err = ch ? -CFS_EIO : -CFS_ENOMEM;
		goto out;
	}
	/* the initialised part of the table: nothing is allocated past it */
	end = ch->hdr.itable_init * ipb;
	if (end > ch->hdr.ninodes)
		end = ch->hdr.ninodes;
	local = cursor ? (cursor > end ? end : (u32)cursor) : 1;
	for (; local < end && scanned < CF_SCAN &&
	       cf->count < CHUNKFS_CHUNK_FILES_MAX; local++, scanned++) {
		struct cfs_dinode d;
		int r = inode_peek(fs, ch, local, &d);

		if (r == -CFS_ENOENT)
			continue;
		if (r == -CFS_ENOMEM) {
			err = r;
			break;
		}
		if (r) { /* the table block cannot be read: skip it */
			cf->flags |= CHUNKFS_CF_INCOMPLETE;
			local = (local / ipb + 1) * ipb - 1;
			continue;
		}
		chunk_file(fs, ch, local, &d, &cf->f[cf->count++], buf);
	}
	cf->cursor = local;
	if (local >= end)
		cf->flags |= CHUNKFS_CF_END;
out:
	host_mutex_unlock(fs->lock);
	host_free(buf);
	return err;
}
