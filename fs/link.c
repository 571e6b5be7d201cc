// SPDX-License-Identifier: GPL-2.0
/*
 * link.c - continuation inodes and each chunk's link index.
 *
 * A continuation holds the part of a file (a set of byte ranges) or of a
 * directory (the entries naming inodes of its chunk) that lives in another
 * chunk than the origin inode.  The link is stored at both ends (invariant
 * 2): forward in the origin (a cfs_cext extent for files, a CFS_DKEY_CONT
 * item for directories, both with chunk, inode and generation) and backward
 * in the continuation (back_chunk, back_ino, back_gen).  Both chunks' link
 * indexes record it, keyed by peer chunk (invariant 3).
 *
 * Order of writes when a continuation is made: the continuation with its
 * back link first, then the index entry in its chunk, then the forward link
 * and the index entry in the origin's chunk.  A crash in between leaves an
 * orphan continuation, which the check of its chunk removes.
 */
#include "internal.h"

/* The chunk's link index (and orphan list) as a tree. */
void link_tree(struct cfs_fs *fs, struct cfs_chunk *ch, struct cfs_tree *t)
{
	cfs_memset(t, 0, sizeof(*t));
	t->fs = fs;
	t->ch = ch;
	t->type = CFS_TREE_LINK;
	t->root_blk = ch->hdr.link_root;
	if (fs->metagen) {
		t->root_blk2 = ch->hdr.link_root2;
		t->root_gen = &ch->hdr.link_gen;
	}
}

int cfs_link_index_blocks(struct cfs_fs *fs, u32 chunk, u64 *blocks)
{
	struct cfs_chunk *ch;
	struct cfs_tree t;
	int err = -CFS_EINVAL;

	*blocks = 0;
	host_mutex_lock(fs->lock);
	ch = chunk_get(fs, chunk);
	if (ch) {
		link_tree(fs, ch, &t);
		err = bt_count_blocks(&t, blocks);
	}
	host_mutex_unlock(fs->lock);
	return err;
}

int link_add(struct cfs_fs *fs, struct cfs_chunk *ch, u32 peer, u32 local,
	     const struct cfs_link *l)
{
	struct cfs_tree t;
	int err;

	link_tree(fs, ch, &t);
	err = bt_insert(&t, ((u64)peer << 32) | local, l, sizeof(*l));
	if (!err) {
		ch->hdr.link_count++;
		ch->hdr_dirty = 1;
	}
	return err;
}

int link_del(struct cfs_fs *fs, struct cfs_chunk *ch, u32 peer, u32 local)
{
	struct cfs_tree t;
	int err;

	link_tree(fs, ch, &t);
	err = bt_delete(&t, ((u64)peer << 32) | local);
	if (!err && ch->hdr.link_count) {
		ch->hdr.link_count--;
		ch->hdr_dirty = 1;
	}
	return err;
}

/* Check a continuation against its origin (both ends must agree). */
static int cont_matches(const struct cfs_inode *origin,
			const struct cfs_inode *c)
{
	return (c->d.flags & CFS_IF_CONT) &&
	       c->d.back_chunk == origin->ch->index &&
	       c->d.back_ino == origin->local &&
	       c->d.back_gen == origin->d.gen &&
	       (c->d.mode & CFS_S_IFMT) == (origin->d.mode & CFS_S_IFMT);
}

int cont_alloc(struct cfs_fs *fs, struct cfs_inode *ip, struct cfs_chunk *to,
	       u32 mode, u16 flags, struct cfs_inode **out)
{
	struct cfs_inode *c;
	int err = inode_alloc(fs, to, mode, &c);

	if (err)
		return err;
	c->d.flags = flags;
	c->d.back_chunk = ip->ch->index;
	c->d.back_ino = ip->local;
	c->d.back_gen = ip->d.gen;
	c->d.uid = ip->d.uid;
	c->d.gid = ip->d.gid;
	err = inode_write(fs, c);
	if (err) {
		cont_discard(fs, c);
		return err;
	}
	*out = c;
	return 0;
}

void cont_discard(struct cfs_fs *fs, struct cfs_inode *c)
{
	c->d.flags = 0;
	c->d.nlink = 0;
	inode_put(fs, c); /* nlink 0, not a continuation: freed */
}

int cont_get(struct cfs_fs *fs, struct cfs_inode *ip, struct cfs_chunk *to,
	     int create, struct cfs_inode **out)
{
	int isdir = CFS_ISDIR(ip->d.mode);
	struct cfs_link l, back;
	struct cfs_inode *c;
	struct cfs_tree t;
	int err;

	link_tree(fs, ip->ch, &t);
	err = bt_lookup(&t, ((u64)to->index << 32) | ip->local, &l, sizeof(l),
			NULL);
	if (!err) {
		err = inode_get(fs, CFS_MKINO(to->index, l.peer_ino), &c);
		if (err)
			return err == -CFS_ENOENT ? -CFS_EIO : err;
		if (!cont_matches(ip, c) || c->d.gen != l.peer_gen) {
			inode_put(fs, c);
			chunk_mark_suspect(fs, to, "continuation disagrees "
					   "with its forward link");
			return -CFS_EIO;
		}
		*out = c;
		return 0;
	}
	if (err != -CFS_ENOENT || !create)
		return err;
	if (ip->ch == to)
		return -CFS_EINVAL;
	err = cont_alloc(fs, ip, to, ip->d.mode & CFS_S_IFMT, CFS_IF_CONT, &c);
	if (err)
		return err;
	back = (struct cfs_link){ isdir ? CFS_LINK_BACK_DIR : CFS_LINK_BACK_FILE,
				  ip->local, ip->d.gen, c->d.gen };
	err = link_add(fs, to, ip->ch->index, c->local, &back);
	if (err)
		goto undo_inode;
	l = (struct cfs_link){ isdir ? CFS_LINK_FWD_DIR : CFS_LINK_FWD_FILE,
			       c->local, c->d.gen, ip->d.gen };
	err = link_add(fs, ip->ch, to->index, ip->local, &l);
	if (err)
		goto undo_back;
	if (isdir) {
		struct cfs_dcont dc = { to->index, c->local, c->d.gen, 0 };
		struct cfs_tree dt;

		tree_of_inode(fs, ip, CFS_TREE_DIR, &dt);
		err = bt_insert(&dt, CFS_DKEY_CONT | to->index, &dc, sizeof(dc));
		if (err)
			goto undo_fwd;
	}
	ip->d.nconts++;
	err = inode_write(fs, ip);
	if (err)
		goto undo_fwd;
	*out = c;
	return 0;
undo_fwd:
	link_del(fs, ip->ch, to->index, ip->local);
undo_back:
	link_del(fs, to, ip->ch->index, c->local);
undo_inode:
	cont_discard(fs, c);
	return err;
}

int cont_remove(struct cfs_fs *fs, struct cfs_inode *origin,
		struct cfs_inode *c)
{
	int err = 0, e;

	if (CFS_ISDIR(origin->d.mode)) {
		struct cfs_tree dt;

		tree_of_inode(fs, origin, CFS_TREE_DIR, &dt);
		e = bt_delete(&dt, CFS_DKEY_CONT | c->ch->index);
		if (e && e != -CFS_ENOENT)
			err = e;
	}
	e = link_del(fs, origin->ch, c->ch->index, origin->local);
	if (e && e != -CFS_ENOENT && !err)
		err = e;
	if (origin->d.nconts)
		origin->d.nconts--;
	e = inode_write(fs, origin);
	if (e && !err)
		err = e;
	e = link_del(fs, c->ch, origin->ch->index, c->local);
	if (e && e != -CFS_ENOENT && !err)
		err = e;
	/* now an ordinary unlinked inode: freed with its contents */
	c->d.flags &= (u16)~CFS_IF_CONT;
	c->d.nlink = 0;
	e = inode_free(fs, c);
	if (!e)
		c->d.mode = 0;
	return err ? err : e;
}
