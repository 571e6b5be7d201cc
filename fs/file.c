// SPDX-License-Identifier: GPL-2.0
/*
 * file.c - regular file data: the extent tree, continuations, read, write,
 * truncate, fallocate (all modes), SEEK_DATA/SEEK_HOLE and bmap.
 *
 * A file's extent tree maps logical blocks either to blocks of its own chunk
 * (cfs_dext) or to a continuation inode in another chunk (cfs_cext) whose
 * own extent tree maps the same logical blocks to blocks of that chunk.  A
 * file grows in its own chunk and continues into the chunk with the most
 * free space only when its chunk is full (placement policy).  A file
 * continuation's nlink field counts the cfs_cext items naming it; at zero
 * the continuation is removed.
 *
 * Block accounting: an inode's `blocks` counts the data and tree blocks in
 * its own chunk; an origin's also counts the data blocks of its
 * continuations, so st_blocks covers the whole file.
 */
#include "internal.h"

#define EXT_LEN(l) ((l) & ~CFS_EXT_UNWRITTEN)
#define EXT_MAXLEN 0x7fffffffu
#define LBLK_END (CFS_MAX_FILE_BYTES >> 10) /* above any logical block */

enum { M_HOLE, M_DATA, M_UNWRITTEN };

struct emap {
	int kind;
	struct cfs_chunk *ch;   /* where the blocks are (or would be) */
	u32 pblk;               /* local block (DATA / UNWRITTEN) */
	u64 count;              /* blocks of this kind from lblk */
	struct cfs_inode *cont; /* pinned continuation owning the range */
};

static void emap_rel(struct cfs_fs *fs, struct emap *m)
{
	if (m->cont)
		inode_put(fs, m->cont);
	m->cont = NULL;
}

static int ext_bad(struct cfs_fs *fs, struct cfs_chunk *ch, const char *why)
{
	chunk_mark_suspect(fs, ch, why);
	return -CFS_EIO;
}

static int dext_ok(const struct cfs_chunk *ch, const struct cfs_dext *d)
{
	u32 n = EXT_LEN(d->len);

	return n && d->pblk >= ch->hdr.data_start &&
	       (u64)d->pblk + n <= chunk_data_end(ch);
}

/* Map within one tree that holds only data extents. */
static int map_data(struct cfs_fs *fs, struct cfs_tree *t, u64 lblk,
		    u64 limit, struct emap *m)
{
	struct cfs_dext d;
	u64 k;
	u32 len;
	int err = bt_find_le(t, lblk, &k, &d, sizeof(d), &len);

	m->ch = t->ch;
	if (!err && len != sizeof(d))
		return ext_bad(fs, t->ch, "continuation extent in a continuation");
	if (!err && !dext_ok(t->ch, &d))
		return ext_bad(fs, t->ch, "extent outside the data area");
	if (!err && lblk < k + EXT_LEN(d.len)) {
		m->kind = (d.len & CFS_EXT_UNWRITTEN) ? M_UNWRITTEN : M_DATA;
		m->pblk = d.pblk + (u32)(lblk - k);
		m->count = CFS_MIN(k + EXT_LEN(d.len) - lblk, limit - lblk);
		return 0;
	}
	if (err && err != -CFS_ENOENT)
		return err;
	m->kind = M_HOLE;
	err = bt_find_ge(t, lblk, &k, NULL, 0, NULL);
	if (err && err != -CFS_ENOENT)
		return err;
	m->count = (err ? limit : CFS_MIN(k, limit)) - lblk;
	return 0;
}

static int cont_of(struct cfs_fs *fs, struct cfs_inode *ip,
		   const struct cfs_cext *c, struct cfs_inode **out)
{
	struct cfs_chunk *ch = chunk_get(fs, c->chunk);
	struct cfs_inode *ci;
	int err;

	if (!ch || ch == ip->ch || !c->len)
		return ext_bad(fs, ip->ch, "bad continuation extent");
	err = inode_get(fs, CFS_MKINO(c->chunk, c->ino), &ci);
	if (err)
		return err == -CFS_ENOENT ? ext_bad(fs, ch, "missing continuation")
					  : err;
	if (!(ci->d.flags & CFS_IF_CONT) || ci->d.back_chunk != ip->ch->index ||
	    ci->d.back_ino != ip->local || ci->d.back_gen != ip->d.gen ||
	    ci->d.gen != c->gen) {
		inode_put(fs, ci);
		return ext_bad(fs, ch, "continuation back link disagrees");
	}
	*out = ci;
	return 0;
}

static int file_map_raw(struct cfs_fs *fs, struct cfs_inode *ip, u64 lblk,
			struct emap *m);

/* Map logical block lblk of file ip.  Never returns an empty run: a
 * mapping that would (a zero-length extent, keys out of order) is
 * corruption, reported as EIO. */
static int file_map(struct cfs_fs *fs, struct cfs_inode *ip, u64 lblk,
		    struct emap *m)
{
	int err = file_map_raw(fs, ip, lblk, m);

	if (!err && !m->count) {
		emap_rel(fs, m);
		return ext_bad(fs, ip->ch, "empty extent mapping");
	}
	/* a key from a damaged tree may lie far beyond any file: keep
	 * count << block_shift from overflowing in the callers */
	if (!err && lblk < LBLK_END && m->count > LBLK_END - lblk)
		m->count = LBLK_END - lblk;
	return err;
}

static int file_map_raw(struct cfs_fs *fs, struct cfs_inode *ip, u64 lblk,
			struct emap *m)
{
	union { struct cfs_dext d; struct cfs_cext c; } v;
	struct cfs_tree t;
	u64 k;
	u32 len;
	int err;

	cfs_memset(m, 0, sizeof(*m));
	tree_of_inode(fs, ip, CFS_TREE_EXTENT, &t);
	err = bt_find_le(&t, lblk, &k, &v, sizeof(v), &len);
	if (!err && len == sizeof(struct cfs_cext) && lblk < k + v.c.len) {
		struct cfs_tree ct;

		err = cont_of(fs, ip, &v.c, &m->cont);
		if (err)
			return err;
		tree_of_inode(fs, m->cont, CFS_TREE_EXTENT, &ct);
		err = map_data(fs, &ct, lblk, k + v.c.len, m);
		if (err)
			emap_rel(fs, m);
		return err;
	}
	if (!err && len == sizeof(struct cfs_dext))
		return map_data(fs, &t, lblk, LBLK_END, m);
	if (!err && len != sizeof(struct cfs_cext))
		return ext_bad(fs, ip->ch, "bad extent item size");
	if (err && err != -CFS_ENOENT)
		return err;
	/* before the first extent or after a continuation range: a hole */
	m->kind = M_HOLE;
	m->ch = ip->ch;
	err = bt_find_ge(&t, lblk, &k, NULL, 0, NULL);
	if (err && err != -CFS_ENOENT)
		return err;
	m->count = (err ? LBLK_END : k) - lblk;
	return 0;
}

/* ---- extent editing ---- */

static int ext_add(struct cfs_tree *t, u64 lblk, u32 pblk, u32 n, u32 flags)
{
	struct cfs_dext d, nx;
	u64 k;
	u32 len;
	int err;

	if (lblk) {
		err = bt_find_le(t, lblk - 1, &k, &d, sizeof(d), &len);
		if (!err && len == sizeof(d) &&
		    k + EXT_LEN(d.len) == lblk &&
		    d.pblk + EXT_LEN(d.len) == pblk &&
		    (d.len & CFS_EXT_UNWRITTEN) == flags &&
		    (u64)EXT_LEN(d.len) + n <= EXT_MAXLEN) {
			d.len += n;
			/* merge the next one too if it now touches */
			if (!bt_lookup(t, lblk + n, &nx, sizeof(nx), &len) &&
			    len == sizeof(nx) && nx.pblk == pblk + n &&
			    (nx.len & CFS_EXT_UNWRITTEN) == flags &&
			    (u64)EXT_LEN(d.len) + EXT_LEN(nx.len) <= EXT_MAXLEN) {
				err = bt_delete(t, lblk + n);
				if (err)
					return err;
				d.len += EXT_LEN(nx.len);
			}
			return bt_update(t, k, &d, sizeof(d));
		}
	}
	d.pblk = pblk;
	d.len = n | flags;
	return bt_insert(t, lblk, &d, sizeof(d));
}

/* Map [lblk, lblk+n) of the origin's tree t to continuation c: the item
 * that ends at lblk grows, and the one that starts at lblk+n joins it, when
 * they name c (so refilling the holes of a range leaves one item). */
static int cext_add(struct cfs_fs *fs, struct cfs_tree *t, u64 lblk, u32 n,
		    struct cfs_inode *c)
{
	struct cfs_cext e, nx;
	u64 k;
	u32 len;
	int err;

	if (lblk && !bt_find_le(t, lblk - 1, &k, &e, sizeof(e), &len) &&
	    len == sizeof(e) && k + e.len == lblk && e.chunk == c->ch->index &&
	    e.ino == c->local && (u64)e.len + n <= EXT_MAXLEN) {
		e.len += n;
		err = bt_update(t, k, &e, sizeof(e));
	} else {
		k = lblk;
		e = (struct cfs_cext){ n, c->ch->index, c->local, c->d.gen };
		err = bt_insert(t, lblk, &e, sizeof(e));
		if (!err)
			c->d.nlink++;
	}
	if (!err && !bt_lookup(t, lblk + n, &nx, sizeof(nx), &len) &&
	    len == sizeof(nx) && nx.chunk == e.chunk && nx.ino == e.ino &&
	    nx.gen == e.gen && (u64)e.len + nx.len <= EXT_MAXLEN) {
		err = bt_delete(t, lblk + n);
		if (!err) {
			e.len += nx.len;
			err = bt_update(t, k, &e, sizeof(e));
		}
		if (!err && c->d.nlink > 1)
			c->d.nlink--;
	}
	if (!err)
		err = inode_write(fs, c);
	return err;
}

static void blocks_sub(struct cfs_inode *ip, u64 n)
{
	ip->d.blocks = ip->d.blocks > n ? ip->d.blocks - n : 0;
}

/* punch_tree's flags: free the blocks; commit between extents when a
 * chunk's changes fill half its journal (only where the caller's state is
 * whole between them: a truncate, a punch, the freeing of a file). */
#define PT_FREE 1
#define PT_SPLIT 2

static int punch_tree(struct cfs_fs *fs, struct cfs_inode *owner,
		      struct cfs_inode *origin, u64 start, u64 end, int do_free);

/* Between two rounds of a long operation on file ip (owner: the
 * continuation the round changed, or NULL): the inodes are written and,
 * when a chunk's changes fill half its journal, committed (journal.c,
 * journal_split).  A file with no name left is split only once it is on
 * its chunk's orphan list, so that a crash between rounds cannot leak it. */
static int file_split_now(struct cfs_fs *fs, struct cfs_inode *ip,
			  struct cfs_inode *owner, int now)
{
	int err;

	/* a continuation's tree may have grown a node in the round (its
	 * block count): written before it is let go */
	if (owner && owner != ip) {
		err = inode_write(fs, owner);
		if (err)
			return err;
	}
	if (!(fs->jbig || now) || !fs->journal || fs->rdonly)
		return 0;
	if (!ip->d.nlink && !ip->orphan)
		return 0;
	err = inode_write(fs, ip);
	if (!err && now)
		fs->jbig = 1;
	return err ? err : journal_split(fs);
}

static int file_split(struct cfs_fs *fs, struct cfs_inode *ip,
		      struct cfs_inode *owner)
{
	return file_split_now(fs, ip, owner, 0);
}

/* Remove one extent's overlap [a, b) and keep what lies outside. */
static int punch_one(struct cfs_fs *fs, struct cfs_tree *t,
		     struct cfs_inode *owner, struct cfs_inode *origin, u64 k,
		     void *val, u32 len, u64 a, u64 b, int do_free)
{
	int iscont = len == sizeof(struct cfs_cext);
	struct cfs_dext *d = val;
	struct cfs_cext *c = val;
	u64 elen = iscont ? c->len : EXT_LEN(d->len);
	u64 left = a - k, right = k + elen - b;
	struct cfs_inode *ci = NULL;
	u32 pfree = 0;
	int err = 0;

	if (iscont) {
		err = cont_of(fs, owner, c, &ci);
		if (err)
			return err;
		err = punch_tree(fs, ci, origin, a, b, do_free);
		if (err)
			goto out;
	} else if (do_free & PT_FREE) {
		if (!dext_ok(t->ch, d))
			return ext_bad(fs, t->ch, "extent outside the data area");
		pfree = d->pblk + (u32)left;
	}
	/* The part right of the hole first: the only edit that may need a
	 * new tree node.  When the chunk has no room for one (ENOSPC),
	 * nothing of this extent has changed yet: before, its left part was
	 * cut and its blocks freed first, and a failed insert lost the right
	 * part's mapping while its blocks stayed allocated (and, for a
	 * continuation range, the continuation kept extents no range named:
	 * a later edit there met them, EEXIST). */
	if (right) {
		union { struct cfs_dext d; struct cfs_cext c; } r;

		cfs_memcpy(&r, val, len);
		if (iscont) {
			r.c.len = (u32)right;
		} else {
			r.d.pblk += (u32)(b - k);
			r.d.len = (u32)right | (d->len & CFS_EXT_UNWRITTEN);
		}
		err = bt_insert(t, b, &r, len);
		if (err)
			goto out;
	}
	if (left) {
		if (iscont)
			c->len = (u32)left;
		else
			d->len = (u32)left | (d->len & CFS_EXT_UNWRITTEN);
		err = bt_update(t, k, val, len);
	} else {
		err = bt_delete(t, k);
	}
	if (err) {
		if (right)
			bt_delete(t, b);
		goto out;
	}
	if (pfree) {
		err = free_blocks(fs, t->ch, pfree, (u32)(b - a));
		if (err)
			goto out;
		blocks_sub(owner, b - a);
		if (origin != owner)
			blocks_sub(origin, b - a);
	}
	if (iscont) {
		if (left && right)
			ci->d.nlink++;
		else if (!left && !right && ci->d.nlink)
			ci->d.nlink--;
		if (!ci->d.nlink)
			err = cont_remove(fs, origin, ci);
		else
			err = inode_write(fs, ci);
	}
out:
	if (ci)
		inode_put(fs, ci);
	return err;
}

/* Unmap logical blocks [start, end) of owner's tree (freeing the blocks if
 * do_free).  origin is the file (== owner unless owner is a continuation). */
static int punch_tree(struct cfs_fs *fs, struct cfs_inode *owner,
		      struct cfs_inode *origin, u64 start, u64 end, int do_free)
{
	union { struct cfs_dext d; struct cfs_cext c; } v;
	struct cfs_tree t;
	u64 k, cur = start;
	u32 len;
	int err;

	tree_of_inode(fs, owner, CFS_TREE_EXTENT, &t);
	/* an extent starting before start may reach into the range */
	if (start) {
		err = bt_find_le(&t, start - 1, &k, &v, sizeof(v), &len);
		if (err && err != -CFS_ENOENT)
			return err;
		if (!err) {
			u64 elen = len == sizeof(v.c) ? v.c.len : EXT_LEN(v.d.len);

			if (len != sizeof(v.c) && len != sizeof(v.d))
				return ext_bad(fs, owner->ch, "bad extent size");
			if (k + elen > start) {
				err = punch_one(fs, &t, owner, origin, k, &v, len,
						start, CFS_MIN(k + elen, end),
						do_free);
				if (err)
					return err;
			}
		}
	}
	for (;;) {
		u64 elen;

		err = bt_find_ge(&t, cur, &k, &v, sizeof(v), &len);
		if (err == -CFS_ENOENT || (!err && k >= end))
			break;
		if (err)
			return err;
		if (len != sizeof(v.c) && len != sizeof(v.d))
			return ext_bad(fs, owner->ch, "bad extent size");
		elen = len == sizeof(v.c) ? v.c.len : EXT_LEN(v.d.len);
		if (!elen)
			return ext_bad(fs, owner->ch, "empty extent");
		err = punch_one(fs, &t, owner, origin, k, &v, len, k,
				CFS_MIN(k + elen, end), do_free);
		if (!err && (do_free & PT_SPLIT))
			err = file_split(fs, origin, owner);
		if (err)
			return err;
		cur = CFS_MIN(k + elen, end);
	}
	if (owner != origin)
		inode_write(fs, owner);
	return inode_write(fs, origin);
}

/* ---- allocation of a hole ---- */

/* Whether data may continue into ch: usable, with more free blocks than
 * its metadata reserve plus slack (twice the reserve while choosing; a
 * quarter of it, chunk_cont_room, as the last resort, so a write succeeds
 * while statfs's f_bavail says there is room). */
static int cont_room(const struct cfs_chunk *ch, int last_resort)
{
	u32 res = chunk_meta_reserve(ch);

	return chunk_usable(ch) &&
	       (last_resort ? chunk_cont_room(ch) : ch->hdr.free_blocks > res * 2);
}

/* The chunk of one of ip's continuations with the most free blocks (no new
 * inode is needed there), not full, or NULL. */
static struct cfs_chunk *cont_with_room(struct cfs_fs *fs, struct cfs_inode *ip,
					struct cfs_chunk *full, int last_resort)
{
	struct cfs_chunk *best = NULL;
	struct cfs_tree t;
	struct cfs_cext c;
	u64 k = 0;
	u32 len;

	tree_of_inode(fs, ip, CFS_TREE_EXTENT, &t);
	while (ip->d.nconts &&
	       !bt_find_ge(&t, k, &k, &c, sizeof(c), &len)) {
		struct cfs_chunk *ch = len == sizeof(c) ? chunk_get(fs, c.chunk)
							: NULL;

		if (ch && ch != ip->ch && ch != full &&
		    cont_room(ch, last_resort) &&
		    (!best || ch->hdr.free_blocks > best->hdr.free_blocks))
			best = ch;
		k++;
	}
	return best;
}

/* The chunk of the continuation extent of ip's tree that ends at lblk
 * (left) or starts at lblk (!left), if it may take data. */
static struct cfs_chunk *cont_next_to(struct cfs_fs *fs, struct cfs_tree *t,
				      u64 lblk, int left)
{
	struct cfs_chunk *ch;
	struct cfs_cext c;
	u64 k;
	u32 len;

	if (left ? !lblk || bt_find_le(t, lblk - 1, &k, &c, sizeof(c), &len) ||
		   len != sizeof(c) || k + c.len != lblk
		 : bt_lookup(t, lblk, &c, sizeof(c), &len) || len != sizeof(c))
		return NULL;
	ch = chunk_get(fs, c.chunk);
	return ch && cont_room(ch, 0) ? ch : NULL;
}

/* Where the blocks [lblk, end) of ip go when the chunk they would use
 * (full) has no room: the file's own chunk when the range was another
 * chunk's (inside a continuation extent); else the chunk of the
 * continuation next to the range (the extent then grows, no new item);
 * else a chunk where the file already continues (no new inode, no new
 * link); each of those first with twice its metadata reserve free, then
 * down to the last resort (cont_room); only then a new continuation, in
 * the chunk with the most free blocks.  So a file that fills holes, grows
 * or is rewritten in place keeps the few continuations it has, and a large
 * file written into a nearly full filesystem uses up the chunks it is in
 * before it opens another (issue 16: aged to 95% with 64 MiB chunks, the
 * most on one file 48 -> 35; it used to open a new chunk whenever its
 * chunks were below twice the reserve).  NULL: ENOSPC. */
static struct cfs_chunk *cont_target(struct cfs_fs *fs, struct cfs_inode *ip,
				     struct cfs_chunk *full, u64 lblk, u64 end)
{
	struct cfs_chunk *to;
	struct cfs_tree t;

	if (full != ip->ch && cont_room(ip->ch, 0))
		return ip->ch;
	tree_of_inode(fs, ip, CFS_TREE_EXTENT, &t);
	to = cont_next_to(fs, &t, lblk, 1);
	if (!to || to == full)
		to = cont_next_to(fs, &t, end, 0);
	if ((!to || to == full) && ip->cont_hint) {
		/* where the last range went: found without a walk over
		 * every extent of the file (cont_with_room) */
		to = chunk_get(fs, ip->cont_hint - 1);
		if (to && (to == full || to == ip->ch || !cont_room(to, 0)))
			to = NULL;
	}
	if (!to || to == full)
		to = cont_with_room(fs, ip, full, 0);
	if (!to && full != ip->ch && cont_room(ip->ch, 1))
		to = ip->ch;
	if (!to)
		to = cont_with_room(fs, ip, full, 1);
	if (!to) {
		to = chunk_most_free(fs, ip->ch, 2);
		if (to && (to == full || !cont_room(to, 1)))
			to = NULL;
	}
	return to;
}

/* Whether ip's chunk has the blocks two changes of its extent tree may
 * take: a range cut out of an extent (one item more) and its new extent or
 * continuation extent (one more), each splitting a leaf and its parents on
 * the way and a new root, both copies. */
static int tree_move_room(struct cfs_fs *fs, struct cfs_inode *ip)
{
	struct cfs_tree t;

	tree_of_inode(fs, ip, CFS_TREE_EXTENT, &t);
	return ip->ch->hdr.free_blocks >= 2 * (bt_height(&t) + 1) * 2;
}

/* Allocate up to want blocks for the hole at lblk described by m (which
 * file_map returned).  Adds the extent (written or unwritten).  Returns the
 * chunk and local block of the new run in m, count in *got.  cow: the
 * range is mapped (m, M_DATA) and is to be replaced by the new blocks
 * (copy on write, DATASUM): the old blocks are freed (pending until the
 * commit).  The blocks come from the chunk the range lives in (the file's,
 * or that of the continuation whose extent covers it); when that chunk is
 * full but blocks freed since the last commit would come back with a
 * commit, ENOSPC (the caller commits and tries again, nospc_retry set);
 * else (and on that second try) from another chunk (cont_target): the
 * range, cut out of the continuation extent that covered it, then names
 * that chunk's continuation, or the file's own chunk. */
static int alloc_hole(struct cfs_fs *fs, struct cfs_inode *ip, u64 lblk,
		      u64 want, u32 flags, struct emap *m, u32 *got, int cow)
{
	struct cfs_inode *owner = m->cont ? m->cont : ip;
	struct cfs_chunk *ch = owner->ch, *to;
	struct cfs_inode *c = NULL;
	struct cfs_tree t, ct;
	struct cfs_dext pd;
	u32 goal = 0, first, len, n;
	u64 k;
	int err;

	want = CFS_MIN(want, m->count);
	want = CFS_MIN(want, (u64)EXT_MAXLEN);
	tree_of_inode(fs, owner, CFS_TREE_EXTENT, &t);
	if (lblk && !bt_find_le(&t, lblk - 1, &k, &pd, sizeof(pd), &len) &&
	    len == sizeof(pd))
		goal = pd.pblk + EXT_LEN(pd.len);
	err = fs->meta_making == ch ? -CFS_ENOSPC :
	      alloc_blocks(fs, ch, goal, (u32)want, chunk_meta_reserve(ch), 1,
			   &first, &n);
	if (!err) {
		if (cow)
			err = punch_tree(fs, owner, ip, lblk, lblk + n, 1);
		if (!err)
			err = ext_add(&t, lblk, first, n, flags);
		if (err) {
			free_blocks(fs, ch, first, n);
			return err;
		}
		dsum_fresh_mark(fs, ch, first, n);
		owner->d.blocks += n;
		if (owner != ip) {
			ip->d.blocks += n;
			inode_write(fs, owner);
		}
		err = inode_write(fs, ip);
		m->ch = ch;
		m->pblk = first;
		*got = n;
		return err;
	}
	if (err != -CFS_ENOSPC)
		return err;
	if (ch->npfree && ch->hdr.free_blocks > chunk_meta_reserve(ch) &&
	    !fs->nospc_retry)
		return err; /* a commit gives blocks back here */

	/* the chunk is full: the range continues in another chunk.  When
	 * a copy on write moves the range, the origin's tree loses the old
	 * blocks first and names the new place after: the origin's chunk
	 * must have the blocks both tree changes may take, or the old
	 * blocks would be unmapped and the new ones not (data lost on
	 * ENOSPC; a hole of a continuation range that stays a hole loses
	 * nothing) */
	if (cow && !tree_move_room(fs, ip))
		return -CFS_ENOSPC;
	to = cont_target(fs, ip, ch, lblk, lblk + want);
	if (!to)
		return -CFS_ENOSPC;
	if (to != ip->ch) {
		err = cont_get(fs, ip, to, 1, &c);
		if (err)
			return err;
		tree_of_inode(fs, c, CFS_TREE_EXTENT, &ct);
	} else {
		tree_of_inode(fs, ip, CFS_TREE_EXTENT, &ct);
	}
	goal = 0;
	if (lblk && !bt_find_le(&ct, lblk - 1, &k, &pd, sizeof(pd), &len) &&
	    len == sizeof(pd))
		goal = pd.pblk + EXT_LEN(pd.len);
	err = alloc_blocks(fs, to, goal, (u32)want, chunk_meta_reserve(to), 1,
			   &first, &n);
	/* the range leaves the extent that maps it (freeing the blocks a
	 * copy replaces) or the continuation extent that covers it */
	if (!err && (cow || m->cont)) {
		err = punch_tree(fs, ip, ip, lblk, lblk + n, 1);
		if (err)
			free_blocks(fs, to, first, n);
	}
	tree_of_inode(fs, ip, CFS_TREE_EXTENT, &t); /* the origin's */
	if (!err && c) {
		err = cext_add(fs, &t, lblk, n, c);
		if (err)
			free_blocks(fs, to, first, n);
	}
	if (!err) {
		err = ext_add(c ? &ct : &t, lblk, first, n, flags);
		if (err)
			free_blocks(fs, to, first, n);
		/* the cext stays; it maps a hole now */
	}
	if (!err) {
		ip->d.blocks += n;
		if (c) {
			c->d.blocks += n;
			inode_write(fs, c);
		}
		err = inode_write(fs, ip);
		m->ch = to;
		m->pblk = first;
		*got = n;
		dsum_fresh_mark(fs, to, first, n);
		if (c)
			ip->cont_hint = to->index + 1;
	}
	if (c) {
		if (!c->d.nlink) /* nothing refers to it (error path) */
			cont_remove(fs, ip, c);
		inode_put(fs, c);
	}
	return err;
}

/* Mark [lblk, lblk+n) written in the tree owning the unwritten extent. */
static int convert_written(struct cfs_fs *fs, struct cfs_inode *ip,
			   struct emap *m, u64 lblk, u32 n)
{
	struct cfs_inode *owner = m->cont ? m->cont : ip;
	struct cfs_tree t;
	int err;

	err = punch_tree(fs, owner, ip, lblk, lblk + n, 0);
	if (err)
		return err;
	tree_of_inode(fs, owner, CFS_TREE_EXTENT, &t);
	return ext_add(&t, lblk, m->pblk, n, 0);
}

/* ---- data I/O ---- */

static int dev_write(struct cfs_fs *fs, struct cfs_chunk *ch, u32 pblk,
		     u64 boff, const void *buf, u64 len)
{
	u64 off = (cfs_abs(ch, pblk) << fs->bshift) + boff;

	if (!buf) {
		while (len) {
			u64 n = CFS_MIN(len, (u64)fs->bs);
			int err = fs->dev->ops->write(fs->dev, off, fs->zero, n);

			if (err)
				return err;
			off += n;
			len -= n;
		}
		return 0;
	}
	return fs->dev->ops->write(fs->dev, off, buf, len);
}

/* Write user data (or zeroes, buf NULL) into freshly mapped blocks
 * [lblk, lblk+n) at pblk, covering [pos, end) and zero-filling the rest. */
static int fill_new(struct cfs_fs *fs, struct cfs_chunk *ch, u32 pblk,
		    u64 lblk, u32 n, u64 pos, u64 end, const u8 *buf, u64 bpos)
{
	u64 s = lblk << fs->bshift, e = (lblk + n) << fs->bshift;
	u64 ds = CFS_MAX(s, pos), de = CFS_MIN(e, end);
	int err = 0;

	if (ds > s)
		err = dev_write(fs, ch, pblk, 0, NULL, ds - s);
	if (!err && de > ds)
		err = dev_write(fs, ch, pblk, ds - s,
				buf ? buf + (ds - bpos) : NULL, de - ds);
	if (!err && e > de)
		err = dev_write(fs, ch, pblk, de - s, NULL, e - de);
	return err;
}

/* ---- data checksums (DATASUM, FORMAT.md 16.6) ---- */

/* A mapped block of a checksummed file is copied on write unless no
 * committed written extent maps it (pnew); without the journal (mkfs -d,
 * the checker) it is rewritten in place.  An unwritten block is written
 * in place unless ZERO_RANGE made it unwritten since the last commit
 * while a committed written extent maps it (pzero). */
static int data_cow(struct cfs_fs *fs, struct cfs_chunk *ch, u32 pblk)
{
	return fs->journal && !dsum_fresh(ch, pblk);
}

static int unw_cow(struct cfs_fs *fs, struct cfs_chunk *ch, u32 pblk)
{
	return fs->journal && dsum_zeroed(ch, pblk);
}

/* Written blocks [pblk, pblk+n) of ch turned unwritten in place. */
static void data_zeroed(struct cfs_fs *fs, struct cfs_chunk *ch, u32 pblk,
			u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (data_cow(fs, ch, pblk + i))
			dsum_zeroed_mark(fs, ch, pblk + i);
}

static int data_read_err(struct cfs_fs *fs, struct cfs_chunk *ch)
{
	chunk_mark_suspect(fs, ch, "read error");
	return -CFS_EIO;
}

/* The content of mapped block pblk of ch (logical block lblk of ip) into
 * dst, verified against its checksum. */
static int read_old(struct cfs_fs *fs, struct cfs_inode *ip,
		    struct cfs_chunk *ch, u32 pblk, u64 lblk, u8 *dst)
{
	struct dsum_cur cur = { 0 };
	int err;

	if (fs->dev->ops->read(fs->dev, cfs_abs(ch, pblk) << fs->bshift, dst,
			       fs->bs))
		return data_read_err(fs, ch);
	err = dsum_verify(fs, &cur, ch, pblk, dst, ip->ino,
			  lblk << fs->bshift);
	dsum_done(fs, &cur);
	return err;
}

/* Write whole blocks [lblk, lblk+n) at pblk of ch and set their
 * checksums: [pos, end) from buf (zeroes when buf is NULL), the rest of
 * the first and the last block from fs->dbuf (first) and fs->dbuf + bs
 * (last) when have_head / have_tail (their former content, verified),
 * else zeroes. */
static int fill_sums(struct cfs_fs *fs, struct cfs_chunk *ch, u32 pblk,
		     u64 lblk, u32 n, u64 pos, u64 end, const u8 *buf,
		     u64 bpos, int have_head, int have_tail)
{
	u64 s = lblk << fs->bshift, e = (lblk + n) << fs->bshift;
	u64 ds = CFS_MAX(s, pos), de = CFS_MIN(e, end);
	int phead = ds > s || de < s + fs->bs, ptail = n > 1 && de < e;
	u32 f0 = phead ? 1 : 0, f1 = ptail ? n - 1 : n, i, zsum = 0;
	struct dsum_cur cur = { 0 };
	int err = 0;

	for (i = 0; i < 2 && !err; i++) {
		u32 bi = i ? n - 1 : 0;
		u64 bs0 = s + ((u64)bi << fs->bshift), be = bs0 + fs->bs;
		u64 a = CFS_MAX(ds, bs0), z = CFS_MIN(de, be);
		u8 *b = i ? fs->dbuf + fs->bs : fs->dbuf;

		if (i ? !ptail : !phead)
			continue;
		if (!(i ? have_tail : have_head))
			cfs_memset(b, 0, fs->bs);
		if (z > a && buf)
			cfs_memcpy(b + (a - bs0), buf + (a - bpos), z - a);
		else if (z > a)
			cfs_memset(b + (a - bs0), 0, z - a);
		err = dev_write(fs, ch, pblk + bi, 0, b, fs->bs);
		if (!err)
			err = dsum_set(fs, &cur, ch, pblk + bi,
				       dsum_block(fs, b));
	}
	if (!err && f1 > f0 && !buf) {
		err = dev_write(fs, ch, pblk + f0, 0, NULL,
				(u64)(f1 - f0) << fs->bshift);
		zsum = dsum_block(fs, fs->zero);
		for (i = f0; i < f1 && !err; i++)
			err = dsum_set(fs, &cur, ch, pblk + i, zsum);
	}
	/* whole blocks from buf: hashed (by the helper) while written */
	for (i = f0; buf && i < f1 && !err; ) {
		const u8 *p = buf + (s - bpos) + ((u64)i << fs->bshift);
		struct dsum_job *j = dsum_fs_job(fs);
		u32 w = CFS_MIN(f1 - i, DSUM_WIN), *sums, x;

		if (!j)
			return -CFS_ENOMEM;
		sums = j->sums;
		dsum_many_start(fs, j, p, w, sums);
		err = dev_write(fs, ch, pblk + i, 0, p, (u64)w << fs->bshift);
		dsum_many_wait(j);
		for (x = 0; x < w && !err; x++)
			err = dsum_set(fs, &cur, ch, pblk + i + x, sums[x]);
		i += w;
	}
	dsum_done(fs, &cur);
	return err;
}

/* Write [pos, end) into the mapped run of n blocks at m (logical lblk on):
 * in place, or (cow) into new blocks that replace them.  A partial first
 * or last block is read and verified first (an unwritten run: zeroes).
 * *got: blocks done. */
static int data_rewrite(struct cfs_fs *fs, struct cfs_inode *ip,
			struct emap *m, u64 lblk, u32 n, int cow, u64 pos,
			u64 end, const u8 *buf, u64 bpos, u32 *got)
{
	u64 s = lblk << fs->bshift, e = (lblk + n) << fs->bshift;
	int head = pos > s || end < s + fs->bs, tail = n > 1 && end < e;
	int err = 0;

	if (m->kind == M_UNWRITTEN) /* it reads as zeroes */
		head = tail = 0;

	if (head)
		err = read_old(fs, ip, m->ch, m->pblk, lblk, fs->dbuf);
	if (!err && tail)
		err = read_old(fs, ip, m->ch, m->pblk + n - 1, lblk + n - 1,
			       fs->dbuf + fs->bs);
	if (err)
		return err;
	*got = n;
	if (cow) {
		err = alloc_hole(fs, ip, lblk, n, 0, m, got, 1);
		if (err)
			return err;
		if (*got < n) {
			tail = 0;
			end = CFS_MIN(end, (lblk + *got) << fs->bshift);
		}
	}
	return fill_sums(fs, m->ch, m->pblk, lblk, *got, pos, end, buf, bpos,
			 head, tail);
}

/* Read [boff, boff+bytes) of the mapped run at m (logical block lblk on)
 * into out, verifying every block whole; a partial block goes through
 * fs->dbuf.  *good: the bytes before the first bad block (-CFS_EIO; the
 * bad block's bytes in out are zeroed). */
static int read_sums(struct cfs_fs *fs, struct cfs_inode *ip, struct emap *m,
		     u64 lblk, u64 boff, u8 *out, u64 bytes, u64 *good)
{
	struct dsum_cur cur = { 0 };
	struct dsum_job *sj = dsum_fs_job(fs); /* NULL: hashed one by one */
	u64 done = 0, i = 0;
	int err = 0;

	while (done < bytes && !err) {
		u64 o = i ? 0 : boff, want = CFS_MIN(bytes - done, fs->bs - o);
		u32 pb = m->pblk + (u32)i;

		if (!o && want == fs->bs) {
			u64 nf = (bytes - done) >> fs->bshift, j;

			if (fs->dev->ops->read(fs->dev, cfs_abs(m->ch, pb) <<
					       fs->bshift, out + done,
					       nf << fs->bshift)) {
				err = data_read_err(fs, m->ch);
				break;
			}
			for (j = 0; j < nf && !err; j++) {
				u8 *p = out + done;
				u32 *sums = sj ? sj->sums : NULL;

				/* a window's sums at a time, by the helper
				 * and this thread together */
				if (sj && !(j % DSUM_WIN))
					dsum_many(fs, sj, p, (u32)CFS_MIN(nf - j,
						  (u64)DSUM_WIN), sums);
				err = dsum_verify_sum(fs, &cur, m->ch,
						      pb + (u32)j, sj ?
						      sums[j % DSUM_WIN] :
						      dsum_block(fs, p),
						      ip->ino, (lblk + i + j)
						      << fs->bshift);
				if (err)
					cfs_memset(p, 0, fs->bs);
				else
					done += fs->bs;
			}
			i += nf;
			continue;
		}
		if (fs->dev->ops->read(fs->dev, cfs_abs(m->ch, pb) << fs->bshift,
				       fs->dbuf, fs->bs)) {
			err = data_read_err(fs, m->ch);
			break;
		}
		err = dsum_verify(fs, &cur, m->ch, pb, fs->dbuf, ip->ino,
				  (lblk + i) << fs->bshift);
		if (!err) {
			cfs_memcpy(out + done, fs->dbuf + o, want);
			done += want;
		}
		i++;
	}
	dsum_done(fs, &cur);
	*good = done;
	return err;
}

/* Write [pos, pos+len) of file ip from buf (zeroes when buf is NULL);
 * allocate when `alloc`, else skip holes.  Does not change the size. */
static int file_write_range_done(struct cfs_fs *fs, struct cfs_inode *ip,
				 u64 pos, u64 len, const u8 *buf, int alloc,
				 u64 *done)
{
	u64 end = pos + len, bpos = pos;
	int err = 0, sums = dsum_file(fs, ip);

	chunk_mark_dirty(fs, ip->ch);
	while (pos < end) {
		u64 lblk = pos >> fs->bshift, boff = pos & (fs->bs - 1);
		u64 nblk = ((end - 1) >> fs->bshift) - lblk + 1, next;
		struct emap m;
		u32 got = 0;

		err = file_map(fs, ip, lblk, &m);
		if (err)
			break;
		if (m.kind == M_DATA && sums) {
			u32 n = (u32)CFS_MIN(CFS_MIN(m.count, nblk),
					     (u64)EXT_MAXLEN);
			int cow = data_cow(fs, m.ch, m.pblk);

			while (got + 1 < n &&
			       data_cow(fs, m.ch, m.pblk + got + 1) == cow)
				got++;
			n = got + 1;
			chunk_mark_dirty(fs, m.ch);
			next = CFS_MIN(end, (lblk + n) << fs->bshift);
			err = data_rewrite(fs, ip, &m, lblk, n, cow, pos, next,
					   buf, bpos, &got);
			if (!err)
				next = CFS_MIN(next, (lblk + got) << fs->bshift);
		} else if (m.kind == M_DATA) {
			u64 n = CFS_MIN(m.count, nblk);

			next = CFS_MIN(end, pos + (n << fs->bshift) - boff);
			chunk_mark_dirty(fs, m.ch);
			err = dev_write(fs, m.ch, m.pblk, boff,
					buf ? buf + (pos - bpos) : NULL,
					next - pos);
		} else if (m.kind == M_UNWRITTEN && sums &&
			   unw_cow(fs, m.ch, m.pblk)) {
			u32 n = (u32)CFS_MIN(CFS_MIN(m.count, nblk),
					     (u64)EXT_MAXLEN);

			while (got + 1 < n && unw_cow(fs, m.ch, m.pblk + got + 1))
				got++;
			n = got + 1;
			chunk_mark_dirty(fs, m.ch);
			next = CFS_MIN(end, (lblk + n) << fs->bshift);
			err = data_rewrite(fs, ip, &m, lblk, n, 1, pos, next,
					   buf, bpos, &got);
			if (!err)
				next = CFS_MIN(next, (lblk + got) << fs->bshift);
		} else if (m.kind == M_UNWRITTEN) {
			u32 n = (u32)CFS_MIN(m.count, nblk);

			if (sums) /* up to a block that must be copied */
				while (got + 1 < n &&
				       !unw_cow(fs, m.ch, m.pblk + got + 1))
					got++;
			if (sums)
				n = got + 1;

			next = CFS_MIN(end, (lblk + n) << fs->bshift);
			chunk_mark_dirty(fs, m.ch);
			if (sums)
				err = fill_sums(fs, m.ch, m.pblk, lblk, n, pos, end,
						buf, bpos, 0, 0);
			else
				err = fill_new(fs, m.ch, m.pblk, lblk, n, pos,
					       end, buf, bpos);
			if (!err)
				err = convert_written(fs, ip, &m, lblk, n);
			if (!err) /* no committed written extent maps them */
				dsum_fresh_mark(fs, m.ch, m.pblk, n);
		} else if (!alloc) {
			next = CFS_MIN(end, (lblk + CFS_MIN(m.count, nblk))
				       << fs->bshift);
		} else {
			err = alloc_hole(fs, ip, lblk, nblk, 0, &m, &got, 0);
			next = CFS_MIN(end, (lblk + got) << fs->bshift);
			if (!err && sums)
				err = fill_sums(fs, m.ch, m.pblk, lblk, got,
						pos, end, buf, bpos, 0, 0);
			else if (!err)
				err = fill_new(fs, m.ch, m.pblk, lblk, got, pos,
					       end, buf, bpos);
		}
		if (!err)
			err = file_split(fs, ip, m.cont);
		emap_rel(fs, &m);
		if (err)
			break;
		pos = next;
	}
	*done = pos - bpos;
	return err;
}

static int file_write_range(struct cfs_fs *fs, struct cfs_inode *ip, u64 pos,
			    u64 len, const u8 *buf, int alloc)
{
	u64 done;

	return file_write_range_done(fs, ip, pos, len, buf, alloc, &done);
}

/* The bytes past EOF in the last block are not kept zero when a file
 * shrinks (zeroing them in place before the smaller size is committed
 * would change the file a crash leaves at its old size); the file's growth
 * zeroes them instead, before the new size can make them visible. */
static int zero_past_eof(struct cfs_fs *fs, struct cfs_inode *ip, u64 new_end)
{
	u64 size = ip->d.size, tail = size & (fs->bs - 1);

	if (!tail || new_end <= size)
		return 0;
	return file_write_range(fs, ip, size,
				CFS_MIN(fs->bs - tail, new_end - size), NULL,
				0);
}

s64 file_write(struct cfs_fs *fs, struct cfs_inode *ip, u64 off, u64 len,
	       const void *buf)
{
	u64 done;
	int err;

	if (!len)
		return 0;
	if (off >= CFS_MAX_FILE_BYTES)
		return -CFS_EFBIG;
	if (len > CFS_MAX_FILE_BYTES - off)
		len = CFS_MAX_FILE_BYTES - off;
	err = zero_past_eof(fs, ip, off + len);
	if (err)
		return err;
	err = file_write_range_done(fs, ip, off, len, buf, 1, &done);
	if (err) {
		/* a short write when some of it landed (ENOSPC midway) */
		if (!done || err != -CFS_ENOSPC)
			return err;
		len = done;
	}
	if (off + len > ip->d.size)
		ip->d.size = off + len;
	inode_touch(ip, 0, 1, 1);
	err = inode_write(fs, ip);
	return err ? err : (s64)len;
}

/* Plans a read of whole blocks of a file with checksums: 0 and *p, or 1
 * when the read is not one for a plan (no checksums, a partial first
 * block, a last block the buffer cannot take whole, too many pieces, an
 * error: the read under the lock handles all of them). */
int file_read_plan(struct cfs_fs *fs, struct cfs_inode *ip, u64 off, u64 len,
		   struct rplan *p)
{
	struct dsum_cur cur = { 0 };
	u64 pos = off, end, rend;
	int ret = 0;

	if (!dsum_file(fs, ip) || (off & (fs->bs - 1)) || off >= ip->d.size)
		return 1;
	end = CFS_MIN(ip->d.size, off + len);
	rend = ((end + fs->bs - 1) >> fs->bshift) << fs->bshift;
	if (rend - off > len || (rend - off) >> fs->bshift > RPLAN_BLKS)
		return 1;
	p->nseg = p->nsum = 0;
	p->bytes = end - off;
	while (pos < rend && !ret) {
		u64 lblk = pos >> fs->bshift, n, j;
		struct emap m;

		if (p->nseg == RPLAN_SEGS || file_map(fs, ip, lblk, &m)) {
			ret = 1;
			break;
		}
		n = CFS_MIN((rend - pos) >> fs->bshift, m.count);
		p->seg[p->nseg].at = pos - off;
		p->seg[p->nseg].nblk = (u32)n;
		p->seg[p->nseg].dev = ~0ULL;
		if (m.kind == M_DATA) {
			p->seg[p->nseg].dev = cfs_abs(m.ch, m.pblk) << fs->bshift;
			for (j = 0; j < n && !ret; j++)
				if (dsum_get(fs, &cur, m.ch, m.pblk + (u32)j,
					     &p->sums[p->nsum++]))
					ret = 1;
		}
		emap_rel(fs, &m);
		p->nseg++;
		pos += n << fs->bshift;
	}
	dsum_done(fs, &cur);
	return ret;
}

/* Does a plan, without the lock: 0 when every block read matched the
 * checksum it had when planned, else 1 (the read is to be done again
 * under the lock). */
int file_read_planned(struct cfs_fs *fs, const struct rplan *p, u8 *buf)
{
	u32 s, k = 0, j, n, got[16];

	for (s = 0; s < p->nseg; s++) {
		u8 *out = buf + p->seg[s].at;
		u64 bytes = (u64)p->seg[s].nblk << fs->bshift;

		if (p->seg[s].dev == ~0ULL) {
			cfs_memset(out, 0, bytes);
			continue;
		}
		if (fs->dev->ops->read(fs->dev, p->seg[s].dev, out, bytes))
			return 1;
		for (j = 0; j < p->seg[s].nblk; j += n, k += n) {
			n = CFS_MIN(p->seg[s].nblk - j, 16u);
			dsum_blocks(fs, out + ((u64)j << fs->bshift), n, got);
			if (cfs_memcmp(got, p->sums + k, n * sizeof(u32)))
				return 1;
		}
	}
	return 0;
}

s64 file_read(struct cfs_fs *fs, struct cfs_inode *ip, u64 off, u64 len,
	      void *buf)
{
	u64 pos = off, end;
	u8 *out = buf;
	int err = 0;

	if (off >= ip->d.size)
		return 0;
	end = CFS_MIN(ip->d.size, off + len);
	while (pos < end) {
		u64 lblk = pos >> fs->bshift, boff = pos & (fs->bs - 1);
		u64 bytes;
		struct emap m;

		err = file_map(fs, ip, lblk, &m);
		if (err)
			break;
		bytes = CFS_MIN(end - pos, (m.count << fs->bshift) - boff);
		if (m.kind == M_DATA && dsum_file(fs, ip)) {
			u64 good;

			err = read_sums(fs, ip, &m, lblk, boff, out + (pos - off),
					bytes, &good);
			if (err)
				bytes = good;
		} else if (m.kind == M_DATA) {
			err = fs->dev->ops->read(fs->dev,
				(cfs_abs(m.ch, m.pblk) << fs->bshift) + boff,
				out + (pos - off), bytes);
			if (err) {
				chunk_mark_suspect(fs, m.ch, "read error");
				err = -CFS_EIO;
			}
		} else {
			cfs_memset(out + (pos - off), 0, bytes);
		}
		emap_rel(fs, &m);
		if (err) {
			if (m.kind == M_DATA && dsum_file(fs, ip))
				pos += bytes; /* the good bytes before */
			break;
		}
		pos += bytes;
	}
	if (err && pos == off)
		return err;
	return (s64)(pos - off);
}

int file_truncate(struct cfs_fs *fs, struct cfs_inode *ip, u64 size)
{
	u64 keep = (size + fs->bs - 1) >> fs->bshift;
	int err;

	if (size > CFS_MAX_FILE_BYTES)
		return -CFS_EFBIG;
	if (size < ip->d.size) {
		u64 tail = size & (fs->bs - 1);
		u8 *part = NULL;

		if (fs->journal && tail) {
			/* The block of the new EOF moves to a new block:
			 * the committed state (the old size) keeps the old
			 * one untouched, so a later write into this block
			 * cannot change what a crash before the commit
			 * leaves (journal.c, freed blocks). */
			s64 r;

			part = host_alloc(fs->bs);
			if (!part)
				return -CFS_ENOMEM;
			r = file_read(fs, ip, size - tail, tail, part);
			if (r != (s64)tail && (r != -CFS_EIO ||
					       !dsum_file(fs, ip))) {
				host_free(part);
				return r < 0 ? (int)r : -CFS_EIO;
			}
			if (r != (s64)tail) {
				/* the block does not match its checksum: it
				 * stays where it is (and reads EIO), the
				 * truncate goes on */
				host_free(part);
				part = NULL;
			} else {
				keep--;
			}
		}
		if (part) {
			/* only a written block moves, and only where its chunk
			 * has room to spare (blocks freed since the last
			 * commit do not count): a full chunk keeps it in place
			 * rather than fail the truncate with ENOSPC */
			struct emap m;

			err = file_map(fs, ip, (size - tail) >> fs->bshift, &m);
			if (err) {
				host_free(part);
				return err;
			}
			/* nor where the file's own chunk lacks the room
			 * of the tree changes that name the new block when
			 * it goes to another chunk (alloc_hole): the block
			 * is a hole by then, and ENOSPC would lose it */
			if (m.kind != M_DATA ||
			    m.ch->hdr.free_blocks <= chunk_meta_reserve(m.ch) +
			    m.ch->npfree + 2 || !tree_move_room(fs, ip))
				keep++;
			emap_rel(fs, &m);
		}
		/* the new last block first (one round), then the new size,
		 * then the blocks past it (rounds, committed between them
		 * when they fill a journal: a crash between leaves the new
		 * size with blocks past EOF, as fallocate KEEP_SIZE does) */
		if (part && keep == (size - tail) >> fs->bshift) {
			err = punch_tree(fs, ip, ip, keep, keep + 1, PT_FREE);
			if (!err) {
				/* the block is a hole now: its new block may
				 * not wait for a commit (ENOSPC here would
				 * lose it), so it continues elsewhere if it
				 * must (nospc_retry) */
				int retry = fs->nospc_retry;

				fs->nospc_retry = 1;
				err = file_write_range(fs, ip, size - tail,
						       tail, part, 1);
				fs->nospc_retry = retry;
			}
			keep++;
		} else {
			err = 0;
		}
		host_free(part);
		if (!err) {
			ip->d.size = size;
			err = inode_write(fs, ip);
		}
		if (!err)
			err = punch_tree(fs, ip, ip, keep, LBLK_END,
					 PT_FREE | PT_SPLIT);
		if (err)
			return err;
		/* without the journal, the bytes past the new EOF stay as
		 * they are until the file grows again (zero_past_eof) */
	} else {
		err = zero_past_eof(fs, ip, size);
		if (err)
			return err;
	}
	ip->d.size = size;
	return inode_write(fs, ip);
}

int file_free_all(struct cfs_fs *fs, struct cfs_inode *ip)
{
	struct cfs_tree t;
	int err = punch_tree(fs, ip, ip, 0, LBLK_END, PT_FREE | PT_SPLIT);

	if (err)
		return err;
	tree_of_inode(fs, ip, CFS_TREE_EXTENT, &t);
	return bt_destroy(&t);
}

/* ---- shifting (COLLAPSE_RANGE / INSERT_RANGE) ----
 * In rounds (issue 16): each moves a slice of the keys past the point,
 * at most SHIFT_ROUND extents (the file's and its continuations'), by
 * the shift, and leaves the file whole between rounds (file_split): a
 * collapse moves its slices first to last, down into the range it
 * punched; an insert last to first, up into the range the slices above
 * vacated.  A slice ends between two extents; a continuation range with
 * more extents than a round is cut at one of them (split_at). */
#define SHIFT_ROUND 32

struct shift_ent {
	u64 key;
	u32 len;
	u8 val[16];
};

static u64 shift_elen(const struct shift_ent *x)
{
	return x->len == sizeof(struct cfs_cext) ?
	       ((const struct cfs_cext *)x->val)->len :
	       EXT_LEN(((const struct cfs_dext *)x->val)->len);
}

/* The entry of owner's tree next to key: the first at or after it (up),
 * else the last at or before it. */
static int shift_next(struct cfs_fs *fs, struct cfs_inode *owner, u64 key,
		      int up, struct shift_ent *x)
{
	struct cfs_tree t;
	int err;

	tree_of_inode(fs, owner, CFS_TREE_EXTENT, &t);
	err = up ? bt_find_ge(&t, key, &x->key, x->val, sizeof(x->val),
			      &x->len) :
		   bt_find_le(&t, key, &x->key, x->val, sizeof(x->val),
			      &x->len);
	if (!err && x->len != sizeof(struct cfs_dext) &&
	    x->len != sizeof(struct cfs_cext))
		err = ext_bad(fs, owner->ch, "bad extent size");
	return err;
}

/* Split the extent of owner's tree that straddles lblk, if any. */
static int split_at(struct cfs_fs *fs, struct cfs_inode *owner, u64 lblk)
{
	union { struct cfs_dext d; struct cfs_cext c; } v;
	struct cfs_tree t;
	u64 k, elen;
	u32 len;
	int err;

	tree_of_inode(fs, owner, CFS_TREE_EXTENT, &t);
	err = bt_find_le(&t, lblk, &k, &v, sizeof(v), &len);
	if (err == -CFS_ENOENT)
		return 0;
	if (err)
		return err;
	elen = len == sizeof(v.c) ? v.c.len : EXT_LEN(v.d.len);
	if (k == lblk || k + elen <= lblk)
		return 0;
	if (len == sizeof(v.c)) {
		struct cfs_inode *ci;

		err = cont_of(fs, owner, &v.c, &ci);
		if (err)
			return err;
		err = split_at(fs, ci, lblk);
		if (!err) {
			v.c.len = (u32)(lblk - k);
			err = bt_update(&t, k, &v, len);
		}
		if (!err) {
			v.c.len = (u32)(k + elen - lblk);
			err = bt_insert(&t, lblk, &v, len);
		}
		if (!err) {
			ci->d.nlink++;
			err = inode_write(fs, ci);
		}
		inode_put(fs, ci);
		return err;
	}
	{
		u32 fl = v.d.len & CFS_EXT_UNWRITTEN;

		v.d.len = (u32)(lblk - k) | fl;
		err = bt_update(&t, k, &v, len);
		if (err)
			return err;
		v.d.pblk += (u32)(lblk - k);
		v.d.len = (u32)(k + elen - lblk) | fl;
		return bt_insert(&t, lblk, &v, len);
	}
}

/* Move every key in [lo, hi) of owner's tree by delta (signed) blocks, and
 * the same keys of the continuations those extents name. */
static int shift_slice(struct cfs_fs *fs, struct cfs_inode *owner, u64 lo,
		       u64 hi, s64 delta)
{
	struct shift_ent *e = NULL;
	u64 n = 0, cap = 0, k = lo, i;
	struct cfs_tree t;
	int err = 0;

	for (;;) {
		struct shift_ent x;

		err = shift_next(fs, owner, k, 1, &x);
		if (err == -CFS_ENOENT || (!err && x.key >= hi)) {
			err = 0;
			break;
		}
		if (err)
			goto out;
		if (n == cap) {
			struct shift_ent *ne;

			cap = cap ? cap * 2 : 64;
			ne = host_alloc(cap * sizeof(*ne));
			if (!ne) {
				err = -CFS_ENOMEM;
				goto out;
			}
			if (e)
				cfs_memcpy(ne, e, n * sizeof(*ne));
			host_free(e);
			e = ne;
		}
		e[n++] = x;
		k = x.key + 1;
	}
	/* the continuations' keys in the slice first, each continuation
	 * once (its extent may run on past the end of one of its ranges into
	 * the next: its key decides where it moves); its tree may grow a
	 * node: written before it is let go */
	for (i = 0; i < n; i++) {
		struct cfs_cext *c = (struct cfs_cext *)e[i].val;
		struct cfs_inode *ci;
		u64 j;
		int seen = 0;

		if (e[i].len != sizeof(*c))
			continue;
		for (j = 0; j < i; j++)
			if (e[j].len == sizeof(*c) &&
			    ((struct cfs_cext *)e[j].val)->chunk == c->chunk)
				seen = 1;
		if (seen)
			continue;
		err = cont_of(fs, owner, c, &ci);
		if (err)
			goto out;
		err = shift_slice(fs, ci, lo, hi, delta);
		if (!err)
			err = inode_write(fs, ci);
		inode_put(fs, ci);
		if (err)
			goto out;
	}
	tree_of_inode(fs, owner, CFS_TREE_EXTENT, &t);
	for (i = 0; i < n; i++) {
		err = bt_delete(&t, e[i].key);
		if (err)
			goto out;
	}
	for (i = 0; i < n; i++) {
		err = bt_insert(&t, (u64)((s64)e[i].key + delta), e[i].val,
				e[i].len);
		if (err)
			goto out;
	}
out:
	host_free(e);
	return err;
}

/* A slice's weight: 1 for an extent; for a continuation range, its
 * continuation's extents in it.  When a range [lo, hi) alone weighs more
 * than room, *cut gets the key of one of its extents where a slice of
 * weight room ends (up: [lo, cut); else [cut, hi)); else *cut = 0. */
static int shift_weigh(struct cfs_fs *fs, struct cfs_inode *owner,
		       const struct shift_ent *x, int up, u32 room, u32 *w,
		       u64 *cut)
{
	u64 lo = x->key, hi = x->key + shift_elen(x), k;
	struct cfs_inode *ci;
	struct shift_ent y;
	int err;

	*w = 1;
	*cut = 0;
	if (x->len != sizeof(struct cfs_cext))
		return 0;
	err = cont_of(fs, owner, (const struct cfs_cext *)x->val, &ci);
	if (err)
		return err;
	*w = 0;
	k = up ? lo : hi - 1;
	for (;;) {
		err = shift_next(fs, ci, k, up, &y);
		if (err == -CFS_ENOENT || (!err && (y.key < lo || y.key >= hi))) {
			err = 0;
			break;
		}
		if (err)
			break;
		if (up && *w == room) {
			*cut = y.key;       /* [lo, y.key) weighs room */
			break;
		}
		++*w;
		if (!up && *w == room && y.key > lo) {
			/* [y.key, hi) weighs room: more below? */
			struct shift_ent z;

			err = y.key ? shift_next(fs, ci, y.key - 1, 0, &z) :
				      -CFS_ENOENT;
			if (!err && z.key >= lo)
				*cut = y.key;
			if (err == -CFS_ENOENT)
				err = 0;
			break;
		}
		if (!up && !y.key)
			break;
		k = up ? y.key + 1 : y.key - 1;
	}
	if (*w == 0)
		*w = 1;
	inode_put(fs, ci);
	return err;
}

/* Move every key >= from of ip's tree (and its continuations') by delta,
 * in rounds. */
static int shift_file(struct cfs_fs *fs, struct cfs_inode *ip, u64 from,
		      s64 delta)
{
	int up = delta < 0, err = 0;
	u64 cur = up ? from : ~0ULL;   /* the moved part's edge */

	for (;;) {
		u64 lo = cur, hi = cur, k = cur;
		u32 weight = 0;

		for (;;) {
			struct shift_ent x;
			u64 cut;
			u32 w;

			if ((!up && k == from) || weight >= SHIFT_ROUND)
				break;
			err = shift_next(fs, ip, up ? k : k - 1, up, &x);
			if (err == -CFS_ENOENT || (!err && x.key < from)) {
				err = 0;
				break;
			}
			if (!err)
				err = shift_weigh(fs, ip, &x, up,
						  SHIFT_ROUND - weight, &w,
						  &cut);
			if (err)
				return err;
			if (weight + w > SHIFT_ROUND && weight)
				break;
			if (cut) {
				/* a continuation range heavier than a
				 * round: cut it there */
				err = split_at(fs, ip, cut);
				if (err)
					return err;
				if (up)
					hi = cut;
				else
					lo = cut;
				weight = SHIFT_ROUND;
				break;
			}
			weight += w;
			if (up)
				k = hi = x.key + shift_elen(&x);
			else
				k = lo = x.key;
		}
		if (!weight)
			return 0;
		err = shift_slice(fs, ip, lo, hi, delta);
		if (!err)
			err = file_split(fs, ip, NULL);
		if (err)
			return err;
		cur = up ? hi : lo;
	}
}

/* ---- fallocate ---- */

/* Unwritten blocks for the holes of [first, last) (fallocate); with zero
 * (ZERO_RANGE) the written blocks there become unwritten too, where they
 * are: no new space, nothing written. */
static int unwritten_range(struct cfs_fs *fs, struct cfs_inode *ip, u64 first,
			   u64 last, int zero)
{
	u64 lblk = first;
	int err = 0;

	while (lblk < last) {
		struct emap m;
		u32 got;
		u64 n;

		err = file_map(fs, ip, lblk, &m);
		if (err)
			break;
		n = CFS_MIN(m.count, last - lblk);
		if (m.kind == M_DATA && zero) {
			struct cfs_inode *owner = m.cont ? m.cont : ip;
			struct cfs_tree t;

			n = CFS_MIN(n, (u64)EXT_MAXLEN);
			err = punch_tree(fs, owner, ip, lblk, lblk + n, 0);
			if (!err) {
				tree_of_inode(fs, owner, CFS_TREE_EXTENT, &t);
				err = ext_add(&t, lblk, m.pblk, (u32)n,
					      CFS_EXT_UNWRITTEN);
			}
			if (!err && dsum_file(fs, ip))
				data_zeroed(fs, m.ch, m.pblk, (u32)n);
			lblk += n;
		} else if (m.kind != M_HOLE) {
			lblk += n;
		} else {
			err = alloc_hole(fs, ip, lblk, n, CFS_EXT_UNWRITTEN,
					 &m, &got, 0);
			/* the chunk is full but blocks punched since the last
			 * commit come back with it: commit (the rounds so far
			 * are whole) and allocate again */
			if (err == -CFS_ENOSPC && fs->npfree) {
				u64 pf = fs->npfree;

				err = file_split_now(fs, ip, m.cont, 1);
				if (!err && fs->npfree < pf)
					err = alloc_hole(fs, ip, lblk, n,
							 CFS_EXT_UNWRITTEN,
							 &m, &got, 0);
				else if (!err)
					err = -CFS_ENOSPC;
			}
			lblk += got;
		}
		if (!err)
			err = file_split(fs, ip, m.cont);
		emap_rel(fs, &m);
		if (err)
			break;
	}
	return err;
}

/* Zero [off, end) without allocating: holes stay holes. */
static int zero_partial(struct cfs_fs *fs, struct cfs_inode *ip, u64 off,
			u64 end)
{
	if (end <= off)
		return 0;
	return file_write_range(fs, ip, off, end - off, NULL, 0);
}

int file_fallocate(struct cfs_fs *fs, struct cfs_inode *ip, u32 mode, u64 off,
		   u64 len)
{
	u64 end = off + len, bmask = fs->bs - 1;
	u64 first = (off + bmask) >> fs->bshift, last = end >> fs->bshift;
	int keep = mode & CFS_FALLOC_KEEP_SIZE;
	int err = 0;

	if (!len || end < off)
		return -CFS_EINVAL;
	if (end > CFS_MAX_FILE_BYTES)
		return -CFS_EFBIG;
	chunk_mark_dirty(fs, ip->ch);
	switch (mode & ~CFS_FALLOC_KEEP_SIZE) {
	case 0:
		err = unwritten_range(fs, ip, off >> fs->bshift,
				      (end + bmask) >> fs->bshift, 0);
		break;
	case CFS_FALLOC_PUNCH_HOLE:
		if (!keep)
			return -CFS_EOPNOTSUPP;
		if (first > last) { /* inside one block */
			err = zero_partial(fs, ip, off, end);
			break;
		}
		err = zero_partial(fs, ip, off, first << fs->bshift);
		if (!err)
			err = zero_partial(fs, ip, last << fs->bshift, end);
		if (!err && last > first)
			err = punch_tree(fs, ip, ip, first, last,
					 PT_FREE | PT_SPLIT);
		break;
	case CFS_FALLOC_ZERO_RANGE:
		if (first > last) {
			err = file_write_range(fs, ip, off, len, NULL, 1);
			break;
		}
		err = file_write_range(fs, ip, off, (first << fs->bshift) - off,
				       NULL, 1);
		if (!err && end > (last << fs->bshift))
			err = file_write_range(fs, ip, last << fs->bshift,
					       end - (last << fs->bshift), NULL, 1);
		if (!err && last > first)
			err = unwritten_range(fs, ip, first, last, 1);
		break;
	case CFS_FALLOC_COLLAPSE_RANGE:
		if (keep)
			return -CFS_EINVAL;
		if ((off | len) & bmask)
			return -CFS_EINVAL;
		if (end >= ip->d.size)
			return -CFS_EINVAL;
		err = punch_tree(fs, ip, ip, first, last, PT_FREE | PT_SPLIT);
		if (!err)
			err = shift_file(fs, ip, last, -(s64)(last - first));
		if (!err) {
			ip->d.size -= len;
			keep = 1;
		}
		break;
	case CFS_FALLOC_INSERT_RANGE:
		if (keep)
			return -CFS_EINVAL;
		if ((off | len) & bmask)
			return -CFS_EINVAL;
		if (off >= ip->d.size)
			return -CFS_EINVAL;
		if (ip->d.size + len > CFS_MAX_FILE_BYTES)
			return -CFS_EFBIG;
		/* the size first: no extent lies past it between rounds */
		err = split_at(fs, ip, first);
		if (!err) {
			ip->d.size += len;
			keep = 1;
			err = shift_file(fs, ip, first, (s64)(last - first));
		}
		break;
	default:
		return -CFS_EOPNOTSUPP;
	}
	if (err)
		return err;
	if (!keep && end > ip->d.size) {
		err = zero_past_eof(fs, ip, end);
		if (err)
			return err;
		ip->d.size = end;
	}
	inode_touch(ip, 0, 1, 1);
	return inode_write(fs, ip);
}

s64 file_lseek(struct cfs_fs *fs, struct cfs_inode *ip, u64 off, int whence)
{
	u64 pos = off;

	if (off >= ip->d.size)
		return -CFS_ENXIO;
	while (pos < ip->d.size) {
		u64 lblk = pos >> fs->bshift;
		struct emap m;
		int err = file_map(fs, ip, lblk, &m);

		if (err)
			return err;
		emap_rel(fs, &m);
		if ((m.kind == M_DATA) == (whence == CFS_SEEK_DATA))
			return (s64)pos;
		pos = (lblk + m.count) << fs->bshift;
	}
	if (whence == CFS_SEEK_HOLE)
		return (s64)ip->d.size;
	return -CFS_ENXIO;
}

int file_bmap(struct cfs_fs *fs, struct cfs_inode *ip, u64 lblk, u64 *pblk,
	      u64 *count)
{
	struct emap m;
	int err = file_map(fs, ip, lblk, &m);

	if (err)
		return err;
	*pblk = m.kind == M_DATA ? cfs_abs(m.ch, m.pblk) : 0;
	*count = m.count;
	emap_rel(fs, &m);
	return 0;
}

/* Continuations of a file: count, chunks and blocks.  Each continuation
 * counts once, however many of the file's ranges name it. */
int file_links(struct cfs_fs *fs, struct cfs_inode *ip,
	       struct cfs_ino_links *out)
{
	u8 *seen = host_alloc(fs->nchunks / 8 + 1);
	struct cfs_tree t;
	struct cfs_cext c;
	u64 k = 0;
	u32 len;
	int err;

	if (!seen)
		return -CFS_ENOMEM;
	cfs_memset(seen, 0, fs->nchunks / 8 + 1);
	tree_of_inode(fs, ip, CFS_TREE_EXTENT, &t);
	for (;;) {
		struct cfs_inode *ci;
		struct cfs_tree ct;
		u64 nb;

		err = bt_find_ge(&t, k, &k, &c, sizeof(c), &len);
		if (err) {
			if (err == -CFS_ENOENT)
				err = 0;
			break;
		}
		k++;
		if (len != sizeof(c) || c.chunk >= fs->nchunks ||
		    (seen[c.chunk / 8] & (1u << (c.chunk % 8))))
			continue;
		seen[c.chunk / 8] |= (u8)(1u << (c.chunk % 8));
		if (out->nconts < 64)
			out->chunks[out->nconts] = c.chunk;
		out->nconts++;
		if (!cont_of(fs, ip, &c, &ci)) {
			out->cont_blocks += ci->d.blocks;
			tree_of_inode(fs, ci, CFS_TREE_EXTENT, &ct);
			if (!bt_count_blocks(&ct, &nb))
				out->cont_tree_blocks += nb;
			inode_put(fs, ci);
		}
	}
	host_free(seen);
	return err;
}

/* ---- room for metadata in a full chunk (issue 16, point 3) ----
 *
 * An inode's xattrs, a directory continuation that a hard link or a rename
 * puts in the inode's chunk, the forward link of a new directory
 * continuation: metadata that must live in one given chunk.  When file data
 * filled that chunk, the metadata reserve is all there is; once that is
 * used up the operation would get ENOSPC while other chunks have room.
 * Instead, data makes way: the last data extent (up to 1 MiB) of a regular
 * file whose home is that chunk moves into a continuation in another chunk
 * (the copy on write path of alloc_hole, told to leave this chunk alone),
 * and its blocks are free for the metadata at once (metadata may reuse
 * blocks freed since the last commit: journal.c).  Nothing new on disk: a
 * continuation like any other.  Before the operation changes anything, so
 * each move is whole. */

#define MOVE_MAX 256 /* blocks moved at a time */
#define MOVE_MIN 16  /* smaller extents stay */

/* Move [lblk, lblk + n) of ip (data of its own chunk) to another chunk. */
static int move_range(struct cfs_fs *fs, struct cfs_inode *ip, u64 lblk,
		      u32 n)
{
	struct cfs_chunk *from = ip->ch, *saved = fs->meta_making;
	int retry = fs->nospc_retry, unw;
	u64 pos = lblk << fs->bshift, end;
	struct emap m;
	u8 *buf = NULL;
	u32 got = 0;
	int err;

	err = file_map(fs, ip, lblk, &m);
	if (err)
		return err;
	if (m.cont || m.ch != from || (m.kind != M_DATA &&
				       m.kind != M_UNWRITTEN)) {
		emap_rel(fs, &m);
		return -CFS_ENOSPC;
	}
	unw = m.kind == M_UNWRITTEN;
	n = (u32)CFS_MIN((u64)n, m.count);
	end = pos + ((u64)n << fs->bshift);
	if (!unw) {
		/* what the file holds there, verified (a block that does not
		 * match its checksum is not moved: it would be made good) */
		s64 r;

		buf = host_alloc((u64)n << fs->bshift); /* zeroed */
		if (!buf) {
			emap_rel(fs, &m);
			return -CFS_ENOMEM;
		}
		r = pos < ip->d.size ?
		    file_read(fs, ip, pos, CFS_MIN(end, ip->d.size) - pos, buf)
		    : 0;
		if (r < 0 || (u64)r != CFS_MIN(end, CFS_MAX(ip->d.size, pos)) -
		    pos) {
			host_free(buf);
			emap_rel(fs, &m);
			return r < 0 ? (int)r : -CFS_EIO;
		}
	}
	fs->meta_making = from;
	fs->nospc_retry = 1;
	err = alloc_hole(fs, ip, lblk, n, unw ? CFS_EXT_UNWRITTEN : 0, &m,
			 &got, 1);
	fs->meta_making = saved;
	fs->nospc_retry = retry;
	if (!err && !unw) {
		end = pos + ((u64)got << fs->bshift);
		chunk_mark_dirty(fs, m.ch);
		if (dsum_file(fs, ip))
			err = fill_sums(fs, m.ch, m.pblk, lblk, got, pos, end,
					buf, pos, 0, 0);
		else
			err = fill_new(fs, m.ch, m.pblk, lblk, got, pos, end,
				       buf, pos);
	}
	if (!err)
		err = file_split(fs, ip, m.cont);
	emap_rel(fs, &m);
	host_free(buf);
	return err;
}

/* Move some data of a regular file whose home is ch out of ch: 0 when
 * something moved, -CFS_ENOSPC when there is nothing to move. */
static int move_some(struct cfs_fs *fs, struct cfs_chunk *ch)
{
	u32 local;

	for (local = 1; local < ch->hdr.ninodes; local++) {
		union { struct cfs_dext d; struct cfs_cext c; } v;
		struct cfs_inode *ip;
		struct cfs_dinode d;
		struct cfs_tree t;
		u64 k = LBLK_END;
		u32 len, look = 0;
		int err;

		if (inode_peek(fs, ch, local, &d) || !CFS_ISREG(d.mode) ||
		    (d.flags & CFS_IF_CONT) || !d.nlink ||
		    d.blocks <= d.nconts)
			continue;
		if (inode_get(fs, CFS_MKINO(ch->index, local), &ip))
			continue;
		tree_of_inode(fs, ip, CFS_TREE_EXTENT, &t);
		err = -CFS_ENOSPC;
		/* its last extent of this chunk of MOVE_MIN blocks or more
		 * (among its last 64 items), less its first block: small
		 * files stay whole, and every file keeps data at home */
		while (look++ < 64 &&
		       !bt_find_le(&t, k, &k, &v, sizeof(v), &len)) {
			if (len == sizeof(v.d) && EXT_LEN(v.d.len) >= MOVE_MIN) {
				u32 n = CFS_MIN(EXT_LEN(v.d.len) - 1, MOVE_MAX);

				err = move_range(fs, ip, k + EXT_LEN(v.d.len) - n,
						 n);
				break;
			}
			if (!k)
				break;
			k--;
		}
		inode_put(fs, ip);
		if (!err)
			return 0;
	}
	return -CFS_ENOSPC;
}

int file_make_meta_room(struct cfs_fs *fs, struct cfs_chunk *ch, u32 need)
{
	/* half the reserve stays for what no one makes room for (a tree
	 * node a write splits): below that, data makes way */
	u32 want = chunk_meta_reserve(ch) / 2 + need, tries = 0;

	if (fs->rdonly || fs->meta_making)
		return 0;
	while (ch->hdr.free_blocks < want && tries++ < 64)
		if (move_some(fs, ch))
			break; /* nothing left to move: the operation tries */
	return 0;
}
