// SPDX-License-Identifier: GPL-2.0
/*
 * check_index.c - pass 5: the chunk's link index.
 *
 * The link index is derived data: one entry per forward link an origin of
 * this chunk holds (per peer chunk) and one per continuation in this chunk.
 * Checks: the index tree verifies and holds exactly those entries.
 * Repairs: the index is rebuilt from the links pass 2 collected (after
 * pass 6 has made the allocation maps right, so the rebuild allocates
 * safely).
 * Hands on: c->links sorted by key, c->nexp of them expected; the index
 * for the cross pass.
 */
#include "check_int.h"

static u64 lkey(const struct ck_link *l)
{
	return ((u64)l->peer << 32) | l->local;
}

/* Shell sort by key; keep only links of inodes still in use. */
static void sort_links(struct ck *c)
{
	u32 n = 0, i, j, gap;

	for (i = 0; i < c->nlinks; i++) {
		u32 loc = c->links[i].local & ~CFS_LINK_XLOCAL;

		if (loc < c->ninodes && c->ino[loc].state == CI_INUSE &&
		    !(c->links[i].l.kind == CFS_LINK_ORPHAN &&
		      c->ino[loc].refs))
			c->links[n++] = c->links[i];
	}
	for (gap = n / 2; gap > 0; gap /= 2) {
		for (i = gap; i < n; i++) {
			struct ck_link t = c->links[i];

			for (j = i; j >= gap && lkey(&c->links[j - gap]) > lkey(&t);
			     j -= gap)
				c->links[j] = c->links[j - gap];
			c->links[j] = t;
		}
	}
	c->nexp = n;
}

struct xw {
	struct ck *c;
	u32 pos;
	int bad, mismatch;
};

static int xw_node(void *ctx, u32 blk, u32 blk2)
{
	(void)ctx;
	(void)blk;
	(void)blk2;
	return 0;
}

static void xw_bad(void *ctx, u32 blk, const char *why)
{
	struct xw *w = ctx;

	(void)blk;
	(void)why;
	w->bad = 1;
}

static void xw_dropped(void *ctx, u32 blk, u32 blk2)
{
	(void)ctx;
	(void)blk;
	(void)blk2;
}

static int xw_item(void *ctx, u64 key, const u8 *val, u32 len)
{
	struct xw *w = ctx;
	struct ck *c = w->c;

	if (w->pos >= c->nexp || key != lkey(&c->links[w->pos]) ||
	    len != sizeof(struct cfs_link) ||
	    cfs_memcmp(val, &c->links[w->pos].l, sizeof(struct cfs_link)))
		w->mismatch = 1;
	else
		w->pos++;
	return 0;
}

int check_index(struct ck *c)
{
	struct cfs_chunk_hdr *h = &c->ch->hdr;
	struct bt_walk_ops ops = { xw_node, xw_item, xw_bad, xw_dropped };
	struct xw w = { c, 0, 0, 0 };
	struct cfs_tree t;
	int err;

	sort_links(c);
	if (c->hdr_rebuilt)
		return 0; /* rebuilt with the header */
	link_tree(c->fs, c->ch, &t);
	c->index_root_ok = h->link_root >= h->data_start &&
			   h->link_root < chunk_data_end(c->ch) &&
			   (!c->fs->dup ||
			    (h->link_root2 >= h->data_start &&
			     h->link_root2 < chunk_data_end(c->ch) &&
			     h->link_root2 != h->link_root)) &&
			   !bt_root_read(&t);
	if (!c->index_root_ok) {
		w.bad = 1;
	} else {
		err = bt_walk(&t, &ops, &w, 0);
		if (err == -CFS_ENOMEM)
			return err;
		if (err)
			w.bad = 1;
	}
	if (w.pos != c->nexp || h->link_count != c->nexp)
		w.mismatch = 1;
	if (w.bad) {
		if (ck_problem(c, PR_INDEX_BAD, 0, cfs_abs(c->ch, h->link_root),
			       NULL))
			c->index_rebuild = 1;
	} else if (w.mismatch) {
		char d[64];

		ck_fmt(d, sizeof(d), "% entries, % expected", h->link_count,
		       c->nexp);
		if (ck_problem(c, PR_INDEX_WRONG, 0, 0, d))
			c->index_rebuild = 1;
	}
	return 0;
}

int check_index_rebuild(struct ck *c)
{
	struct cfs_chunk_hdr *h = &c->ch->hdr;
	struct cfs_tree t;
	struct cfs_bref r;
	u32 i;
	int err;

	if (!c->index_rebuild || !ck_fixing(c))
		return 0;
	/* a new empty root (the old tree's blocks were left unmarked by
	 * pass 6: free now, or the old root's, reused here) */
	if (c->index_root_ok)
		free_meta_pair(c->fs, c->ch, h->link_root,
			       c->fs->dup ? h->link_root2 : 0);
	err = bt_root_new(c->fs, c->ch, CFS_TREE_LINK, 0, &r);
	if (err) {
		ck_fix_failed(c, 0, err);
		return 0;
	}
	h->link_root = r.blk;
	h->link_root2 = r.blk2;
	h->link_gen = r.gen;
	c->ch->hdr_dirty = 1;
	link_tree(c->fs, c->ch, &t);
	for (i = 0; i < c->nexp; i++) {
		err = bt_insert(&t, lkey(&c->links[i]), &c->links[i].l,
				sizeof(struct cfs_link));
		if (err) {
			ck_fix_failed(c, 0, err);
			break;
		}
	}
	h->link_count = i;
	c->ch->hdr_dirty = 1;
	c->index_root_ok = 1;
	return 0;
}
