// SPDX-License-Identifier: GPL-2.0
/*
 * check_inode.c - pass 2: inodes and their trees.
 *
 * Checks: every inode table block verifies; every in-use inode has possible
 * fields (type, flags, sizes, a continuation's back link); every node of its
 * extent, directory and xattr trees verifies and belongs to it; every extent
 * lies inside the chunk's data area; no block is claimed twice; a file
 * continuation has no forward links; the block count matches.
 * Repairs: an unreadable inode table block is reinitialised (its inodes are
 * lost), an impossible inode is cleared, a bad node or extent is cut, a
 * second claim on a block is removed, the block count is corrected.
 * Hands on: c->ino[] (state, type, blocks), c->links (the forward links the
 * origins hold and the back links the continuations hold: the expected link
 * index), c->max_gen.
 */
#include "check_int.h"

#define LBLK_LIMIT (CFS_MAX_FILE_BYTES >> 10)

struct iw {
	struct ck *c;
	struct cfs_inode *ip;
	u64 nodes, data;
	int xattr_bad;
	int fix;
};

static int iw_node(void *ctx, u32 blk, u32 blk2)
{
	struct iw *w = ctx;

	if (ck_test(w->c, blk) || (blk2 && ck_test(w->c, blk2))) {
		int fix = ck_problem(w->c, PR_BLOCK_DUP, w->ip->ino,
				     cfs_abs(w->c->ch, ck_test(w->c, blk) ?
					     blk : blk2), "tree node");

		return fix ? -1 : 0;
	}
	ck_mark(w->c, blk);
	w->nodes++;
	if (blk2) {
		ck_mark(w->c, blk2);
		w->nodes++;
	}
	return 0;
}

static void iw_bad(void *ctx, u32 blk, const char *why)
{
	struct iw *w = ctx;

	ck_problem(w->c, PR_TREE_NODE, w->ip->ino, cfs_abs(w->c->ch, blk), why);
}

static void iw_dropped(void *ctx, u32 blk, u32 blk2)
{
	struct iw *w = ctx;

	(void)blk;
	w->nodes -= CFS_MIN(w->nodes, blk2 ? 2u : 1u);
}

static int iw_extent(void *ctx, u64 key, const u8 *val, u32 len)
{
	struct iw *w = ctx;
	struct ck *c = w->c;
	u32 i;

	if (len == sizeof(struct cfs_dext)) {
		struct cfs_dext d;
		u32 n;

		cfs_memcpy(&d, val, sizeof(d));
		n = d.len & ~CFS_EXT_UNWRITTEN;
		if (!n || d.pblk < c->ch->hdr.data_start ||
		    (u64)d.pblk + n > chunk_data_end(c->ch) ||
		    key + n > LBLK_LIMIT)
			return ck_problem(c, PR_EXTENT_BAD, w->ip->ino,
					  cfs_abs(c->ch, d.pblk), "data extent");
		for (i = 0; i < n; i++)
			if (ck_test(c, d.pblk + i))
				return ck_problem(c, PR_BLOCK_DUP, w->ip->ino,
						  cfs_abs(c->ch, d.pblk + i),
						  "data block");
		for (i = 0; i < n; i++)
			ck_mark(c, d.pblk + i);
		w->data += n;
		return 0;
	}
	if (len == sizeof(struct cfs_cext) && !(w->ip->d.flags & CFS_IF_CONT)) {
		struct cfs_cext e;
		struct cfs_link l;
		int r;

		cfs_memcpy(&e, val, sizeof(e));
		if (e.chunk >= c->fs->nchunks || e.chunk == c->k || !e.len ||
		    !e.ino || key + e.len > LBLK_LIMIT)
			return ck_problem(c, PR_EXTENT_BAD, w->ip->ino, 0,
					  "continuation extent");
		l = (struct cfs_link){ CFS_LINK_FWD_FILE, e.ino, e.gen,
				       w->ip->d.gen };
		r = ck_add_link(c, e.chunk, w->ip->local, &l);
		if (r < 0)
			return r;
		if (r)
			return ck_problem(c, PR_EXTENT_BAD, w->ip->ino, 0,
					  "a second continuation in one chunk");
		return 0;
	}
	return ck_problem(c, PR_EXTENT_BAD, w->ip->ino, 0,
			  "malformed extent item");
}

static int iw_dir(void *ctx, u64 key, const u8 *val, u32 len)
{
	struct iw *w = ctx;
	struct ck *c = w->c;
	struct cfs_dcont dc;
	struct cfs_link l;
	int r;

	if (key < CFS_DKEY_CONT)
		return 0; /* entries: pass 3 */
	if (w->ip->d.flags & CFS_IF_CONT || len != sizeof(dc))
		return ck_problem(c, PR_DIR_FWD_BAD, w->ip->ino, 0, NULL);
	cfs_memcpy(&dc, val, sizeof(dc));
	if (dc.chunk != (u32)key || (key >> 32) != (CFS_DKEY_CONT >> 32) ||
	    dc.chunk >= c->fs->nchunks || dc.chunk == c->k || !dc.ino)
		return ck_problem(c, PR_DIR_FWD_BAD, w->ip->ino, 0, NULL);
	l = (struct cfs_link){ CFS_LINK_FWD_DIR, dc.ino, dc.gen, w->ip->d.gen };
	r = ck_add_link(c, dc.chunk, w->ip->local, &l);
	if (r < 0)
		return r;
	if (r)
		return ck_problem(c, PR_DIR_FWD_BAD, w->ip->ino, 0,
				  "a second continuation in one chunk");
	return 0;
}

/* XCONT: a forward link to an xattr continuation (FORMAT.md 10.3.2). */
static int iw_xcont(struct iw *w, u64 key, const u8 *val, u32 len)
{
	struct ck *c = w->c;
	struct cfs_dcont dc;
	struct cfs_link l;
	int r;

	if (!c->fs->xcont || (w->ip->d.flags & CFS_IF_CONT) ||
	    len != sizeof(dc)) {
		w->xattr_bad = 1;
		return 0;
	}
	cfs_memcpy(&dc, val, sizeof(dc));
	if (dc.chunk != (u32)key || (key >> 32) != (CFS_XKEY_CONT >> 32) ||
	    dc.chunk >= c->fs->nchunks || dc.chunk == c->k || !dc.ino) {
		w->xattr_bad = 1;
		return 0;
	}
	l = (struct cfs_link){ CFS_LINK_FWD_XATTR, dc.ino, dc.gen,
			       w->ip->d.gen };
	r = ck_add_link(c, dc.chunk, w->ip->local | CFS_LINK_XLOCAL, &l);
	if (r > 0)
		w->xattr_bad = 1;
	return r < 0 ? r : 0;
}

static int iw_xattr(void *ctx, u64 key, const u8 *val, u32 len)
{
	struct iw *w = ctx;
	u32 off = 0;

	if (key >= CFS_XKEY_CONT)
		return iw_xcont(w, key, val, len);
	if (key & 0xff)
		return 0; /* a part of a large value */
	while (off < len) {
		struct cfs_xattr x;

		if (off + sizeof(x) > len) {
			w->xattr_bad = 1;
			return 0;
		}
		cfs_memcpy(&x, val + off, sizeof(x));
		if (!x.namelen || off + sizeof(x) + x.namelen + x.ilen > len ||
		    x.vlen > CFS_XATTR_MAX_VALUE ||
		    ((x.flags & CFS_XATTR_EXT) ? x.ilen != 0 : x.ilen != x.vlen)) {
			w->xattr_bad = 1;
			return 0;
		}
		off += (u32)sizeof(x) + x.namelen + x.ilen;
	}
	return 0;
}

/* An impossible inode?  Returns a reason or NULL. */
static const char *inode_invalid(struct ck *c, const struct cfs_dinode *d)
{
	u32 t = d->mode & CFS_S_IFMT;

	if (t != CFS_S_IFREG && t != CFS_S_IFDIR && t != CFS_S_IFLNK &&
	    t != CFS_S_IFCHR && t != CFS_S_IFBLK && t != CFS_S_IFIFO &&
	    t != CFS_S_IFSOCK)
		return "unknown file type";
	if (d->flags & ~(CFS_IF_CONT | CFS_IF_INLINE_LINK | CFS_IF_XCONT))
		return "unknown flags";
	if ((d->flags & CFS_IF_XCONT) &&
	    (!c->fs->xcont || !(d->flags & CFS_IF_CONT) || t != CFS_S_IFREG))
		return "bad xattr continuation flags";
	if ((d->flags & CFS_IF_INLINE_LINK) &&
	    (t != CFS_S_IFLNK || !d->size || d->size > c->fs->iroot_size))
		return "bad inline symlink";
	if (t == CFS_S_IFLNK && !(d->flags & CFS_IF_INLINE_LINK) &&
	    (d->size <= c->fs->iroot_size || d->size > CFS_SYMLINK_MAX))
		return "bad symlink size";
	if (d->size > CFS_MAX_FILE_BYTES)
		return "size beyond the maximum";
	if (d->xattr_root && (d->xattr_root < c->ch->hdr.data_start ||
			      d->xattr_root >= chunk_data_end(c->ch)))
		return "xattr root outside the data area";
	return NULL;
}

static const char *cont_invalid(struct ck *c, const struct cfs_dinode *d)
{
	u32 t = d->mode & CFS_S_IFMT;

	if (!(d->flags & CFS_IF_CONT))
		return NULL;
	if (t != CFS_S_IFREG && t != CFS_S_IFDIR)
		return "continuation of a special file";
	if (d->back_chunk >= c->fs->nchunks || d->back_chunk == c->k ||
	    !d->back_ino)
		return "back link to an impossible place";
	return NULL;
}

static void walk_tree(struct ck *c, struct iw *w, u32 type,
		      int (*item)(void *, u64, const u8 *, u32))
{
	struct bt_walk_ops ops = { iw_node, item, iw_bad, iw_dropped };
	struct cfs_tree t;
	int err;

	tree_of_inode(c->fs, w->ip, type, &t);
	err = bt_walk(&t, &ops, w, w->fix);
	if ((err == -CFS_EUCLEAN || err == -CFS_EIO) && type == CFS_TREE_XATTR) {
		w->xattr_bad = 1; /* its root block: the caller drops the tree */
	} else if (err == -CFS_EUCLEAN || err == -CFS_EIO) {
		/* the inline root itself is unusable */
		if (ck_problem(c, PR_TREE_NODE, w->ip->ino, 0, "inline root")) {
			bt_init_node(w->ip->d.root, c->fs->iroot_size);
			inode_write(c->fs, w->ip);
		}
	}
}

static void walk_xattr(struct ck *c, struct iw *w)
{
	struct cfs_inode *ip = w->ip;
	u32 blk = ip->d.xattr_root, blk2;
	struct cfs_tree t;
	u64 nodes_before;
	u32 links_before;
	int bad = 0;

	if (!blk)
		return;
	tree_of_inode(c->fs, ip, CFS_TREE_XATTR, &t);
	blk2 = t.root_blk2;
	bad = ck_test(c, blk) || (blk2 && ck_test(c, blk2)) ||
	      (c->fs->dup && (blk2 < c->ch->hdr.data_start ||
			      blk2 >= chunk_data_end(c->ch) || blk2 == blk)) ||
	      bt_root_read(&t);
	nodes_before = w->nodes;
	links_before = c->nlinks;

	if (!bad) {
		ck_mark(c, blk);
		w->nodes++;
		if (blk2) {
			ck_mark(c, blk2);
			w->nodes++;
		}
		w->xattr_bad = 0;
		walk_tree(c, w, CFS_TREE_XATTR, iw_xattr);
		bad = w->xattr_bad;
	}
	if (bad && ck_problem(c, PR_XATTR_BAD, ip->ino, cfs_abs(c->ch, blk),
			      NULL)) {
		/* the tree's blocks become unreferenced: pass 6 frees them */
		ip->d.xattr_root = 0;
		if (c->fs->metagen) {
			cfs_dtail(&ip->d)->xattr_root2 = 0;
			cfs_dtail(&ip->d)->xattr_gen = 0;
		}
		inode_write(c->fs, ip);
		w->nodes = nodes_before;
		/* its forward links to xattr continuations went with it
		 * (their orphans are for their chunks' checks) */
		c->nlinks = links_before;
	}
}

static int check_one(struct ck *c, u32 local, struct cfs_dinode *di,
		     struct cfs_buf *b)
{
	struct ck_ino *ci = &c->ino[local];
	const char *why = inode_invalid(c, di);
	u32 code = PR_INODE_BAD;
	struct cfs_inode *ip;
	struct iw w;
	u64 local_blocks;
	int err;

	if (!why) {
		why = cont_invalid(c, di);
		code = PR_CONT_BAD;
	}
	if (why) {
		c->inodes_lost = 1;
		if (ck_problem(c, code, ck_ino(c, local), b->blkno, why)) {
			cfs_memset(di, 0, sizeof(*di));
			buf_dirty(c->fs, b);
		}
		ci->state = CI_CLEARED;
		return 0;
	}
	ci->state = CI_INUSE;
	ci->ft = (u8)mode_to_ft(di->mode);
	ci->cont = !!(di->flags & CFS_IF_CONT);
	if (di->gen > c->max_gen)
		c->max_gen = di->gen;
	err = inode_get(c->fs, ck_ino(c, local), &ip);
	if (err)
		return err == -CFS_ENOMEM ? err : 0;
	cfs_memset(&w, 0, sizeof(w));
	w.c = c;
	w.ip = ip;
	w.fix = ck_fixing(c) && c->mode == CFS_CHECK_FIXALL;
	if (CFS_ISREG(ip->d.mode) ||
	    (CFS_ISLNK(ip->d.mode) && !(ip->d.flags & CFS_IF_INLINE_LINK)))
		walk_tree(c, &w, CFS_TREE_EXTENT, iw_extent);
	else if (CFS_ISDIR(ip->d.mode))
		walk_tree(c, &w, CFS_TREE_DIR, iw_dir);
	walk_xattr(c, &w);
	local_blocks = w.nodes + w.data;
	ci->local_blocks = local_blocks;
	ci->data_blocks = w.data;
	if (ci->cont) {
		struct cfs_link l = { (ip->d.flags & CFS_IF_XCONT) ?
				      CFS_LINK_BACK_XATTR :
				      CFS_ISDIR(ip->d.mode) ? CFS_LINK_BACK_DIR :
				      CFS_LINK_BACK_FILE, ip->d.back_ino,
				      ip->d.back_gen, ip->d.gen };

		err = ck_add_link(c, ip->d.back_chunk, local, &l);
		if (err < 0) {
			inode_put(c->fs, ip);
			return err;
		}
	} else if (!ip->d.nlink) {
		/* unlinked while in use: on the chunk's orphan list (pass 5
		 * drops this expectation if names are found for it) */
		struct cfs_link l = { CFS_LINK_ORPHAN, 0, 0, ip->d.gen };

		err = ck_add_link(c, CFS_ORPHAN_PEER, local, &l);
		if (err < 0) {
			inode_put(c->fs, ip);
			return err;
		}
	}
	/* Block count: an origin with continuations also counts their data
	 * blocks; that is checked where the continuations are read. */
	if (!ip->d.nconts && ip->d.blocks != local_blocks) {
		char d[64];

		ck_fmt(d, sizeof(d), "% recorded, % found", ip->d.blocks,
		       local_blocks);
		if (ck_problem(c, PR_INODE_BLOCKS, ip->ino, 0, d)) {
			ip->d.blocks = local_blocks;
			inode_write(c->fs, ip);
		}
	}
	inode_put(c->fs, ip);
	return 0;
}

int check_inodes(struct ck *c)
{
	struct cfs_chunk_hdr *h = &c->ch->hdr;
	u32 ipb = ck_ipb(c), blk, i;
	int err;

	ck_mark_meta(c);
	for (blk = 0; blk < h->itable_blocks; blk++) {
		struct cfs_buf *b;

		if (blk >= h->itable_init)
			break;
		err = ck_itable(c, blk, &b);
		if (err == -CFS_ENOMEM)
			return err;
		if (err) {
			c->inodes_lost = 1;
			if (ck_problem(c, PR_ITABLE_BLOCK, 0,
				       cfs_abs(c->ch, h->itable_start + blk),
				       NULL) &&
			    !buf_new(c->fs, c->ch, h->itable_start + blk,
				     CFS_MAGIC_ITABLE, &b)) {
				buf_put(c->fs, b); /* all its inodes free */
			} else {
				for (i = 0; i < ipb; i++)
					if (blk * ipb + i < c->ninodes)
						c->ino[blk * ipb + i].state =
							CI_UNKNOWN;
			}
			continue;
		}
		for (i = 0; i < ipb; i++) {
			u32 local = blk * ipb + i;
			struct cfs_dinode *di = (struct cfs_dinode *)
				(b->data + sizeof(struct cfs_bhdr)) + i;

			if (!local || local >= c->ninodes || !di->mode)
				continue;
			c->res->inodes++;
			err = check_one(c, local, di, b);
			if (err) {
				buf_put(c->fs, b);
				return err;
			}
			if (c->ino[local].state == CI_INUSE) {
				if (c->ino[local].cont)
					c->res->conts++;
				else if (c->ino[local].ft == CFS_FT_DIR)
					c->res->dirs++;
				else
					c->res->files++;
			}
		}
		buf_put(c->fs, b);
	}
	if (h->next_gen <= c->max_gen) {
		if (ck_problem(c, PR_HDR_GEN, 0, 0, NULL)) {
			h->next_gen = c->max_gen + 1;
			c->ch->hdr_dirty = 1;
		}
	}
	return 0;
}
