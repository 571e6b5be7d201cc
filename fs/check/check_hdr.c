// SPDX-License-Identifier: GPL-2.0
/*
 * check_hdr.c - pass 1: the chunk header.
 *
 * Checks: both header copies verify (magic, uuid, chunk, block number,
 * crc) and agree with the geometry (the mount already compared them; it
 * left what it found in ch->hdr_bad) and with each other.
 * Repairs: a bad or stale copy is rewritten from the good one at the end of
 * the check; with both bad the header is rebuilt from the geometry: the
 * layout is recomputed, the initialised part of the inode table found by
 * reading it, and the link index, free counts and generation counter are
 * recomputed by later passes.
 * Hands on: c->hdr_rebuilt (pass 5 must rebuild the link index).
 */
#include "check_int.h"

/* The header copies verify but say different things (a torn update). */
static int copies_differ(struct ck *c)
{
	u8 *a = host_alloc(c->fs->bs), *b = host_alloc(c->fs->bs);
	u32 off = sizeof(struct cfs_bhdr);
	int diff = 0;

	if (!a || !b)
		goto out;
	if (c->fs->dev->ops->read(c->fs->dev, cfs_abs(c->ch, 0) << c->fs->bshift,
				  a, c->fs->bs) ||
	    c->fs->dev->ops->read(c->fs->dev,
				  cfs_abs(c->ch, c->nblocks - 1) << c->fs->bshift,
				  b, c->fs->bs))
		goto out;
	diff = cfs_memcmp(a + off, b + off, sizeof(struct cfs_chunk_hdr) - off);
out:
	host_free(a);
	host_free(b);
	return diff != 0;
}

/* Both header copies lost: the generations of the generation table's
 * blocks went with them.  Each block's is taken from the copy that
 * verifies (the newer when both do); a block with no good copy gets 0 and
 * its entries' blocks are judged by later passes (unreadable). */
static void gtab_gens_recover(struct ck *c)
{
	struct cfs_chunk *ch = c->ch;
	u8 *a = c->fs->scratch;
	const char *why;
	u32 i, copy;

	for (i = 0; ch->gtab_gen && i < ch->hdr.gtab_blocks; i++) {
		u32 best = 0, have = 0;

		for (copy = 0; copy < 2; copy++) {
			u32 l = copy ? chunk_mirror(ch, ch->hdr.gtab_start + i)
				     : ch->hdr.gtab_start + i;
			u64 abs = cfs_abs(ch, l);
			u32 g;

			if (!l || c->fs->dev->ops->read(c->fs->dev,
					abs << c->fs->bshift, a, c->fs->bs) ||
			    buf_verify(c->fs, a, abs, c->k, CFS_MAGIC_GTAB,
				       &why))
				continue;
			g = (u32)((struct cfs_bhdr *)a)->wgen;
			if (!have || (s32)(g - best) > 0)
				best = g;
			have = 1;
		}
		ch->gtab_gen[i] = best;
	}
}

/* The magic of positional block `local` (FORMAT.md 16.5). */
static u32 pos_magic(const struct cfs_chunk_hdr *h, u32 local)
{
	if (local < h->ibmap_start)
		return CFS_MAGIC_BBMAP;
	if (local < h->itable_start)
		return CFS_MAGIC_IBMAP;
	if (local < h->itable_start + h->itable_blocks)
		return CFS_MAGIC_ITABLE;
	return CFS_MAGIC_CSUM;
}

/* A generation table block lost with the headers (no copy verifies): made
 * again, each entry the generation of the newer copy of its block that
 * verifies (nothing says what it should be any more), 0 where none does
 * (the block is lost). */
static void gtab_rebuild(struct ck *c)
{
	struct cfs_chunk *ch = c->ch;
	const struct cfs_chunk_hdr *h = &ch->hdr;
	u32 gpb = CFS_PAYLOAD(c->fs) / 4, i, e;
	u8 *a = host_alloc(c->fs->bs);
	const char *why;

	if (!a)
		return;
	for (i = 0; i < h->gtab_blocks; i++) {
		struct cfs_buf *g;
		u32 *ent;

		if (ch->gtab_gen[i])
			continue;
		if (buf_new(c->fs, ch, h->gtab_start + i, CFS_MAGIC_GTAB, &g))
			continue;
		ent = (u32 *)(g->data + sizeof(struct cfs_bhdr));
		for (e = 0; e < gpb && 1 + i * gpb + e < h->gtab_start; e++) {
			u32 l = 1 + i * gpb + e, copy, best = 0, have = 0;

			for (copy = 0; copy < 2; copy++) {
				u32 x = copy ? chunk_mirror(ch, l) : l;
				u64 abs = cfs_abs(ch, x);
				u32 gen;

				if (!x || c->fs->dev->ops->read(c->fs->dev,
						abs << c->fs->bshift, a,
						c->fs->bs) ||
				    buf_verify(c->fs, a, abs, c->k,
					       pos_magic(h, l), &why))
					continue;
				gen = (u32)((struct cfs_bhdr *)a)->wgen;
				if (!have || (s32)(gen - best) > 0)
					best = gen;
				have = 1;
			}
			ent[e] = best;
		}
		buf_put(c->fs, g);
	}
	host_free(a);
}

/* A generation table block with no good copy (the header is fine): the
 * generations of the blocks it describes are lost, not the blocks. It is
 * made again from those blocks (gtab_rebuild), so the inode table and the
 * maps are read and judged as they are, never thrown away for want of
 * their generations.  Read-only (-n), the table made again stays in
 * memory: the check sees what the repair would. */
static void gtab_check(struct ck *c)
{
	struct cfs_chunk *ch = c->ch;
	u32 i, lost = 0;

	for (i = 0; ch->gtab_gen && i < ch->hdr.gtab_blocks; i++) {
		struct cfs_buf *g;

		if (!buf_read(c->fs, ch, ch->hdr.gtab_start + i,
			      CFS_MAGIC_GTAB, &g)) {
			buf_put(c->fs, g);
			continue;
		}
		ck_problem(c, PR_GTAB_BLOCK, 0,
			   cfs_abs(ch, ch->hdr.gtab_start + i), NULL);
		ch->gtab_gen[i] = 0;
		lost++;
	}
	if (lost)
		gtab_rebuild(c);
}

/* Highest inode table block that verifies, plus one. */
static u32 find_itable_init(struct ck *c)
{
	u32 b = c->ch->hdr.itable_blocks;
	const char *why;

	while (b > 0) {
		u64 abs = cfs_abs(c->ch, c->ch->hdr.itable_start + b - 1);

		if (!c->fs->dev->ops->read(c->fs->dev, abs << c->fs->bshift,
					   c->fs->scratch, c->fs->bs) &&
		    !buf_verify(c->fs, c->fs->scratch, abs, c->k,
				CFS_MAGIC_ITABLE, &why))
			break;
		b--;
	}
	return b;
}

int check_hdr(struct ck *c)
{
	struct cfs_chunk *ch = c->ch;

	if (ch->hdr_bad == 3) {
		c->hdr_rebuilt = 1;
		c->inodes_lost = 1;
		c->pptr_rebuild = c->nbak_rebuild = c->fs->pptr;
		c->index_rebuild = 1;
		if (c->fs->metagen) {
			gtab_gens_recover(c);
			if (ck_fixing(c))
				gtab_rebuild(c);
		}
		ch->hdr.itable_init = find_itable_init(c);
		ch->hdr.link_root = 0;
		ch->hdr.link_root2 = 0;
		ch->hdr.pptr_root = ch->hdr.pptr_root2 = 0;
		ch->hdr.nbak_root = ch->hdr.nbak_root2 = 0;
		ch->hdr.state = CFS_CHUNK_REPAIRING;
		if (ck_problem(c, PR_HDR_REBUILT, 0, cfs_abs(ch, 0), NULL))
			ch->hdr_dirty = 1;
		return 0;
	}
	if (ch->hdr_bad && c->fs->metagen) {
		/* format v2: a bad copy healed from the good one */
		struct cfs_problem_report r;

		c->res->corrected++;
		r.code = PR_COPY_BAD;
		r.chunk = c->k;
		r.ino = 0;
		r.blk = cfs_abs(ch, (ch->hdr_bad & 1) ? 0 : c->nblocks - 1);
		r.fixed = ck_fixing(c);
		r.detail = "damaged chunk header copy";
		r.path = NULL;
		if (c->fn)
			c->fn(c->ctx, &r);
		if (ck_fixing(c))
			ch->hdr_dirty = 1;
	} else if (ch->hdr_bad & 1) {
		if (ck_problem(c, PR_HDR_PRIMARY, 0, cfs_abs(ch, 0), NULL))
			ch->hdr_dirty = 1;
	} else if (ch->hdr_bad & 2) {
		if (ck_problem(c, PR_HDR_COPY, 0, cfs_abs(ch, c->nblocks - 1),
			       NULL))
			ch->hdr_dirty = 1;
	} else if (ch->replayed) {
		/* the journal's image of the header is the current one: the
		 * copies on disk are older until the replay's writes (or,
		 * read-only, the mount that replays) land; nothing wrong */
	} else if (ch->hdr_stale) {
		/* both copies good, one older (FORMAT.md 16.1): a corrected
		 * error, not a problem */
		struct cfs_problem_report r;

		c->res->corrected++;
		r.code = PR_COPY_BAD;
		r.chunk = c->k;
		r.ino = 0;
		r.blk = cfs_abs(ch, ch->hdr_stale == 1 ? 0 : c->nblocks - 1);
		r.fixed = ck_fixing(c);
		r.detail = "stale chunk header copy";
		r.path = NULL;
		if (c->fn)
			c->fn(c->ctx, &r);
		if (ck_fixing(c))
			ch->hdr_dirty = 1;
	} else if (copies_differ(c)) {
		if (ck_problem(c, PR_HDR_COPY, 0, cfs_abs(ch, c->nblocks - 1),
			       "copy differs from the primary"))
			ch->hdr_dirty = 1;
	}
	if (c->fs->metagen)
		gtab_check(c);
	return 0;
}
