// SPDX-License-Identifier: GPL-2.0
/*
 * check_alloc.c - pass 6: allocation maps and free counts.
 *
 * Recomputes, after the repairs of passes 2-4, which blocks are in use (the
 * chunk's own metadata, every tree node, data extent and xattr root of
 * every inode in use, the link index unless it is to be rebuilt) and which
 * inodes; compares with the block and inode bitmaps and the header's free
 * counts.
 * Repairs: bitmap blocks are rewritten, free counts corrected.
 * Hands on: maps that later repairs (index rebuild, lost+found) can
 * allocate from safely.
 */
#include "check_int.h"

struct aw {
	struct ck *c;
};

static int aw_node(void *ctx, u32 blk, u32 blk2)
{
	struct aw *w = ctx;

	ck_mark(w->c, blk);
	if (blk2)
		ck_mark(w->c, blk2);
	return 0;
}

static int aw_item_ext(void *ctx, u64 key, const u8 *val, u32 len)
{
	struct aw *w = ctx;
	struct cfs_dext d;
	u32 i, n;

	(void)key;
	if (len != sizeof(d))
		return 0;
	cfs_memcpy(&d, val, sizeof(d));
	n = d.len & ~CFS_EXT_UNWRITTEN;
	for (i = 0; i < n && d.pblk + i < w->c->nblocks; i++)
		ck_mark(w->c, d.pblk + i);
	return 0;
}

static int aw_item_none(void *ctx, u64 key, const u8 *val, u32 len)
{
	(void)ctx;
	(void)key;
	(void)val;
	(void)len;
	return 0;
}

static void aw_bad(void *ctx, u32 blk, const char *why)
{
	(void)ctx;
	(void)blk;
	(void)why;
}

static void aw_dropped(void *ctx, u32 blk, u32 blk2)
{
	(void)ctx;
	(void)blk;
	(void)blk2;
}

static void mark_tree(struct ck *c, struct cfs_tree *t,
		      int (*item)(void *, u64, const u8 *, u32))
{
	struct bt_walk_ops ops = { aw_node, item, aw_bad, aw_dropped };
	struct aw w = { c };

	bt_walk(t, &ops, &w, 0);
}

static int mark_all(struct ck *c)
{
	struct cfs_chunk_hdr *h = &c->ch->hdr;
	u32 ipb = CFS_PAYLOAD(c->fs) / CFS_INODE_SIZE, i, ibi = 0;
	struct cfs_buf *ib = NULL;
	struct cfs_tree t;

	cfs_memset(c->used, 0, c->nblocks / 8 + 1);
	ck_mark_meta(c);
	if (c->index_root_ok) {
		ck_mark(c, h->link_root);
		if (c->fs->dup)
			ck_mark(c, h->link_root2);
		if (!c->index_rebuild) {
			link_tree(c->fs, c->ch, &t);
			mark_tree(c, &t, aw_item_none);
		}
	}
	/* the parent pointer tree and the name backup held here */
	if (c->fs->pptr && h->pptr_root && !c->pptr_rebuild) {
		ck_mark(c, h->pptr_root);
		ck_mark(c, h->pptr_root2);
		pptr_tree(c->fs, c->ch, &t);
		mark_tree(c, &t, aw_item_none);
	}
	if (c->fs->pptr && h->nbak_root && !c->nbak_rebuild) {
		ck_mark(c, h->nbak_root);
		ck_mark(c, h->nbak_root2);
		nbak_tree(c->fs, c->ch, &t);
		mark_tree(c, &t, aw_item_none);
	}
	/* The trees are only read here: each inode is taken from its inode
	 * table block (where inode_write() puts every change at once) into a
	 * stack copy, not through the inode cache (an allocation, a hash
	 * insert and a free per inode). */
	for (i = 1; i < c->ninodes; i++) {
		struct cfs_inode tmp, *ip = &tmp;
		const struct cfs_dinode *di;
		u32 bi = i / ipb;

		if (c->ino[i].state != CI_INUSE || bi >= h->itable_init)
			continue;
		if (!ib || bi != ibi) {
			buf_put(c->fs, ib);
			ib = NULL;
			if (buf_read(c->fs, c->ch, h->itable_start + bi,
				     CFS_MAGIC_ITABLE, &ib)) {
				ib = NULL;
				continue;
			}
			ibi = bi;
		}
		di = (const struct cfs_dinode *)(ib->data +
						 sizeof(struct cfs_bhdr)) + i % ipb;
		if (!di->mode)
			continue;
		cfs_memset(&tmp, 0, sizeof(tmp));
		tmp.ino = ck_ino(c, i);
		tmp.ch = c->ch;
		tmp.local = i;
		tmp.refs = 1;
		tmp.d = *di;
		if (CFS_ISREG(ip->d.mode) || (CFS_ISLNK(ip->d.mode) &&
					      !(ip->d.flags & CFS_IF_INLINE_LINK))) {
			tree_of_inode(c->fs, ip, CFS_TREE_EXTENT, &t);
			mark_tree(c, &t, aw_item_ext);
		} else if (CFS_ISDIR(ip->d.mode)) {
			tree_of_inode(c->fs, ip, CFS_TREE_DIR, &t);
			mark_tree(c, &t, aw_item_none);
		}
		if (ip->d.xattr_root && ip->d.xattr_root < c->nblocks) {
			ck_mark(c, ip->d.xattr_root);
			tree_of_inode(c->fs, ip, CFS_TREE_XATTR, &t);
			if (t.root_blk2 && t.root_blk2 < c->nblocks)
				ck_mark(c, t.root_blk2);
			mark_tree(c, &t, aw_item_none);
		}
	}
	buf_put(c->fs, ib);
	return 0;
}

/* Compare one bitmap (blocks or inodes) with what is expected; fix per the
 * mode.  expect(c, bit) gives the wanted bit (or -1: keep the disk's). */
static u32 bits8(u32 v)
{
	v = v - ((v >> 1) & 0x55);
	v = (v & 0x33) + ((v >> 2) & 0x33);
	return (v + (v >> 4)) & 0x0f;
}

/* wantmap, if not NULL, is what expect() returns as a bitmap (with the same
 * bit numbering): whole bytes that agree with it are taken 8 bits at a
 * time instead of one call per bit. */
static int check_map(struct ck *c, u32 start, u32 nblk, u32 magic, u32 nbits,
		     int (*expect)(struct ck *, u32), const u8 *wantmap,
		     u32 code, u32 *used_out)
{
	u32 bpb = CFS_PAYLOAD(c->fs) * 8, bi, diffs = 0, used = 0;
	int decided = 0, fix = 0;

	for (bi = 0; bi < nblk; bi++) {
		struct cfs_buf *b;
		u8 *bits;
		u32 i;
		int dirty = 0;

		if (buf_read(c->fs, c->ch, start + bi, magic, &b)) {
			if (!ck_problem(c, PR_BITMAP_BLOCK, 0,
					cfs_abs(c->ch, start + bi), NULL) ||
			    buf_new(c->fs, c->ch, start + bi, magic, &b)) {
				/* count what we expect, to get the counts */
				for (i = 0; i < bpb; i++) {
					u32 bit = bi * bpb + i;

					if (bit < nbits && expect(c, bit) == 1)
						used++;
				}
				continue;
			}
			/* a fresh block: every bit below is a difference we
			 * fix without reporting again */
			dirty = 1;
		}
		bits = b->data + sizeof(struct cfs_bhdr);
		for (i = 0; i < bpb; i++) {
			u32 bit = bi * bpb + i;
			int want, have;

			/* bpb is a multiple of 8: bit % 8 == i % 8 */
			if (wantmap && !(i % 8) && bit + 8 <= nbits &&
			    bits[i / 8] == wantmap[bit / 8]) {
				used += bits8(bits[i / 8]);
				i += 7;
				continue;
			}
			want = bit >= nbits ? 1 : expect(c, bit);
			have = !!(bits[i / 8] & (1u << (i % 8)));

			if (want < 0)
				want = have;
			if (want && bit < nbits)
				used++;
			if (want == have)
				continue;
			if (!dirty) {
				diffs++;
				if (!decided) {
					decided = 1;
					fix = ck_problem(c, code, 0,
							 cfs_abs(c->ch, start + bi),
							 NULL);
				}
				if (!fix)
					continue;
			}
			if (want)
				bits[i / 8] |= (u8)(1u << (i % 8));
			else
				bits[i / 8] &= (u8)~(1u << (i % 8));
			dirty = 1;
		}
		if (dirty)
			buf_dirty(c->fs, b);
		buf_put(c->fs, b);
	}
	*used_out = used;
	return 0;
}

static int want_block(struct ck *c, u32 b)
{
	return ck_test(c, b);
}

static int want_inode(struct ck *c, u32 i)
{
	if (!i)
		return 1;
	if (c->ino[i].state == CI_UNKNOWN)
		return -1;
	return c->ino[i].state == CI_INUSE;
}

int check_alloc(struct ck *c)
{
	struct cfs_chunk_hdr *h = &c->ch->hdr;
	u32 bused, iused;
	int err = mark_all(c);

	if (err)
		return err;
	check_map(c, h->bbmap_start, h->bbmap_blocks, CFS_MAGIC_BBMAP,
		  c->nblocks, want_block, c->used, PR_BBMAP, &bused);
	check_map(c, h->ibmap_start, h->ibmap_blocks, CFS_MAGIC_IBMAP,
		  c->ninodes, want_inode, NULL, PR_IBMAP, &iused);
	c->res->blocks_used = bused;
	if (h->free_blocks != c->nblocks - bused ||
	    h->free_inodes != c->ninodes - iused) {
		char d[80];

		if (h->free_blocks != c->nblocks - bused)
			ck_fmt(d, sizeof(d), "free blocks % (recorded %)",
			       c->nblocks - bused, h->free_blocks);
		else
			ck_fmt(d, sizeof(d), "free inodes % (recorded %)",
			       c->ninodes - iused, h->free_inodes);
		if (ck_problem(c, PR_FREE_COUNTS, 0, 0, d)) {
			h->free_blocks = c->nblocks - bused;
			h->free_inodes = c->ninodes - iused;
			c->ch->hdr_dirty = 1;
		}
	}
	return 0;
}
