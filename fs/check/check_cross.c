// SPDX-License-Identifier: GPL-2.0
/*
 * check_cross.c - pass 8: the cross pass.
 *
 * For every link of chunk K (the index, now right) it reads the other end,
 * named by the link, and nothing else of the peer chunk: a forward link's
 * continuation must carry the matching back link and generation; a
 * continuation's origin must exist, be of the same type and hold the
 * matching forward link; the peer's index entry must mirror ours.  Then
 * every other chunk's index is asked (one range lookup each, no inodes)
 * for entries naming K that K does not know.
 * Repairs: a forward link to a missing continuation is cut back (the
 * file's range becomes a hole, or the file is truncated if the range was
 * its end; a directory loses that part, whose names the peer's check
 * reattaches); an orphan continuation holding data moves to lost+found.K as
 * a file or directory of its own, an empty one is freed; the peer's index
 * entries into K are corrected (the only writes outside K, with the root's
 * forward link when lost+found.K is made).
 * Also checks what needs both ends: a file continuation's count of
 * extents naming it, a directory's link count over its continuations.
 */
#include "check_int.h"

static u64 lkey(u32 peer, u32 local)
{
	return ((u64)peer << 32) | local;
}

/* Make the peer's index entry `key` equal to `want` (or absent if NULL). */
static void fix_peer_entry(struct ck *c, struct cfs_chunk *pc, u64 key,
			   const struct cfs_link *want)
{
	struct cfs_tree t;
	struct cfs_link have;
	u32 len;
	int err, exists;

	link_tree(c->fs, pc, &t);
	err = bt_lookup(&t, key, &have, sizeof(have), &len);
	exists = !err;
	if (err && err != -CFS_ENOENT)
		return;
	if (want && exists && len == sizeof(have) &&
	    !cfs_memcmp(&have, want, sizeof(have)))
		return;
	if (!want && !exists)
		return;
	if (!ck_problem(c, PR_PEER_INDEX, 0, 0, NULL))
		return;
	if (!want) {
		/* an origin in the peer still points into this chunk, or a
		 * continuation in the peer lost its origin here: only the
		 * peer's own check may cut or reattach it */
		ck_problem(c, PR_PEER_CHECK, CFS_MKINO(pc->index, (u32)key), 0,
			   NULL);
		ck_recheck(c, pc->index);
	}
	if (!want) {
		err = bt_delete(&t, key);
		if (!err && pc->hdr.link_count)
			pc->hdr.link_count--;
	} else if (exists) {
		err = bt_update(&t, key, want, sizeof(*want));
	} else {
		err = bt_insert(&t, key, want, sizeof(*want));
		if (!err)
			pc->hdr.link_count++;
	}
	pc->hdr_dirty = 1;
	if (err)
		ck_fix_failed(c, 0, err);
}

/* A forward link of origin `local` was cut: the peer's back entry for it
 * goes too, unless the peer's inode (ct, NULL when gone) is still a
 * continuation of that origin (then the peer's own check decides). */
static void drop_stale_back(struct ck *c, struct cfs_chunk *pc,
			    const struct cfs_inode *ct, u32 local,
			    const struct cfs_link *l)
{
	if (!ct || !(ct->d.flags & CFS_IF_CONT) ||
	    ct->d.back_chunk != c->k || ct->d.back_ino != local)
		fix_peer_entry(c, pc, lkey(c->k, l->peer_ino), NULL);
}

static void del_own_entry(struct ck *c, u32 peer, u32 local)
{
	struct cfs_tree t;

	link_tree(c->fs, c->ch, &t);
	if (!bt_delete(&t, lkey(peer, local)) && c->ch->hdr.link_count) {
		c->ch->hdr.link_count--;
		c->ch->hdr_dirty = 1;
	}
}

/* The inode `local` of this chunk and the other end of its link (peer,
 * peer_ino), NULL if that is free: 1; or 0 (the link cannot be judged:
 * unreadable) or -ENOMEM, nothing held. */
static int link_ends(struct ck *c, u32 local, u32 peer, u32 peer_ino,
		     struct cfs_inode **mine, struct cfs_inode **other)
{
	int err = inode_get(c->fs, ck_ino(c, local), mine);

	if (err)
		return err == -CFS_ENOMEM ? err : 0;
	err = inode_get(c->fs, CFS_MKINO(peer, peer_ino), other);
	if (err && err != -CFS_ENOENT) {
		inode_put(c->fs, *mine);
		return err == -CFS_ENOMEM ? err : 0;
	}
	if (err)
		*other = NULL;
	return 1;
}

/* Count the cfs_cext items of origin naming (chunk, ino, gen); *last_end
 * gets the end of the file's last extent of any kind. */
static int count_cexts(struct cfs_fs *fs, struct cfs_inode *o, u32 chunk,
		       u32 ino, u32 gen, u64 *first, u64 *last_end,
		       u64 *other_end, int del)
{
	union { struct cfs_dext d; struct cfs_cext e; } v;
	struct cfs_tree t;
	u64 k = 0;
	u32 len;
	int n = 0, err;

	*first = ~0ULL;
	*last_end = 0;
	*other_end = 0;
	tree_of_inode(fs, o, CFS_TREE_EXTENT, &t);
	for (;;) {
		u64 end;

		err = bt_find_ge(&t, k, &k, &v, sizeof(v), &len);
		if (err == -CFS_ENOENT)
			break;
		if (err)
			return err;
		end = k + (len == sizeof(v.e) ? v.e.len :
			   (v.d.len & ~CFS_EXT_UNWRITTEN));
		if (end > *last_end)
			*last_end = end;
		if (len == sizeof(v.e) && v.e.chunk == chunk && v.e.ino == ino &&
		    v.e.gen == gen) {
			n++;
			if (k < *first)
				*first = k;
			if (del) {
				err = bt_delete(&t, k);
				if (err)
					return err;
			}
		} else if (end > *other_end) {
			*other_end = end;
		}
		k++;
	}
	return n;
}

/* A forward link of origin `local` to (peer, l->peer_ino). */
static int cross_fwd(struct ck *c, u32 peer, u32 local,
		     const struct cfs_link *l)
{
	struct cfs_chunk *pc = chunk_get(c->fs, peer); /* loaded by the caller */
	struct cfs_inode *o, *ct = NULL;
	int dir = l->kind == CFS_LINK_FWD_DIR, ok = 0, err;

	err = inode_get(c->fs, ck_ino(c, local), &o);
	if (err)
		return err == -CFS_ENOMEM ? err : 0;
	err = inode_get(c->fs, CFS_MKINO(peer, l->peer_ino), &ct);
	if (err && err != -CFS_ENOENT) {
		c->ino[local].xbad = 1; /* unreadable: cannot judge */
		inode_put(c->fs, o);
		return err == -CFS_ENOMEM ? err : 0;
	}
	if (!err) {
		ok = (ct->d.flags & CFS_IF_CONT) && ct->d.back_chunk == c->k &&
		     ct->d.back_ino == local && ct->d.back_gen == o->d.gen &&
		     ct->d.gen == l->peer_gen &&
		     (ct->d.mode & CFS_S_IFMT) == (o->d.mode & CFS_S_IFMT);
	}
	if (ok) {
		struct cfs_link back = { dir ? CFS_LINK_BACK_DIR :
					 CFS_LINK_BACK_FILE, local, o->d.gen,
					 ct->d.gen };

		fix_peer_entry(c, pc, lkey(c->k, l->peer_ino), &back);
		if (dir)
			c->ino[local].xsub += ct->d.nlink;
	} else if (ck_problem(c, PR_FWD_BROKEN, o->ino, 0, dir ? "directory" :
			      "file")) {
		if (dir) {
			struct cfs_tree t;

			tree_of_inode(c->fs, o, CFS_TREE_DIR, &t);
			bt_delete(&t, CFS_DKEY_CONT | peer);
		} else {
			u64 first, last_end, other_end;
			int n = count_cexts(c->fs, o, peer, l->peer_ino,
					    l->peer_gen, &first, &last_end,
					    &other_end, 1);

			/* the lost range was the file's end: truncate there */
			if (n > 0 && other_end <= first &&
			    o->d.size > (first << c->fs->bshift))
				o->d.size = first << c->fs->bshift;
		}
		if (o->d.nconts)
			o->d.nconts--;
		if (!o->d.nconts && !dir)
			o->d.blocks = c->ino[local].local_blocks;
		inode_write(c->fs, o);
		del_own_entry(c, peer, local);
		drop_stale_back(c, pc, ct, local, l);
	}
	if (ct)
		inode_put(c->fs, ct);
	inode_put(c->fs, o);
	return 0;
}

/* Make an orphan continuation an ordinary inode in lost+found, or free it. */
static void orphan_cont(struct ck *c, struct cfs_inode *ct, u32 peer,
			const struct cfs_link *l)
{
	int dir = CFS_ISDIR(ct->d.mode), data;
	struct cfs_tree t;
	u64 k;

	if (dir) {
		tree_of_inode(c->fs, ct, CFS_TREE_DIR, &t);
		data = !bt_find_ge(&t, 0, &k, NULL, 0, NULL);
	} else {
		data = c->ino[ct->local].data_blocks > 0;
	}
	ct->d.flags &= (u16)~CFS_IF_CONT;
	ct->d.back_chunk = ct->d.back_ino = ct->d.back_gen = 0;
	c->ino[ct->local].cont = 0; /* (a file or directory of its own now:
				     * named, and parent-pointed, below) */
	if (!data) {
		ct->d.nlink = 0;
		inode_free(c->fs, ct);
		return;
	}
	if (dir) {
		ct->d.nlink = 2 + c->ino[ct->local].subdirs;
	} else {
		union { struct cfs_dext d; struct cfs_cext e; } v;
		u32 len;

		tree_of_inode(c->fs, ct, CFS_TREE_EXTENT, &t);
		if (!bt_find_le(&t, ~0ULL >> 1, &k, &v, sizeof(v), &len) &&
		    len == sizeof(v.d))
			ct->d.size = (k + (v.d.len & ~CFS_EXT_UNWRITTEN))
				     << c->fs->bshift;
	}
	inode_write(c->fs, ct);
	if (ck_reattach(c, ct, "cont-of-%-%", peer, l->peer_ino))
		ck_fix_failed(c, ct->ino, -CFS_ENOSPC);
}

/* Does origin o hold a forward link to continuation ct of this chunk?
 * Returns the number of links naming it (extents for a file, 1 for a
 * directory), 0 if none. */
static int fwd_names(struct ck *c, struct cfs_inode *o, struct cfs_inode *ct,
		     u32 gen)
{
	u64 first, last_end, other_end;

	if (CFS_ISDIR(o->d.mode)) {
		struct cfs_dcont dc;
		struct cfs_tree t;

		tree_of_inode(c->fs, o, CFS_TREE_DIR, &t);
		return !bt_lookup(&t, CFS_DKEY_CONT | c->k, &dc, sizeof(dc),
				  NULL) && dc.chunk == c->k &&
		       dc.ino == ct->local && dc.gen == gen;
	}
	{
		int n = count_cexts(c->fs, o, c->k, ct->local, gen, &first,
				    &last_end, &other_end, 0);

		return n > 0 ? n : 0;
	}
}

/* The generation the origin's forward link gives this continuation, when
 * it names this inode number but another generation (a damaged gen
 * field); 0 if none. */
static u32 fwd_gen(struct ck *c, struct cfs_inode *o, struct cfs_inode *ct)
{
	if (CFS_ISDIR(o->d.mode)) {
		struct cfs_dcont dc;
		struct cfs_tree t;

		tree_of_inode(c->fs, o, CFS_TREE_DIR, &t);
		if (!bt_lookup(&t, CFS_DKEY_CONT | c->k, &dc, sizeof(dc), NULL) &&
		    dc.chunk == c->k && dc.ino == ct->local)
			return dc.gen;
		return 0;
	}
	{
		union { struct cfs_dext d; struct cfs_cext e; } v;
		struct cfs_tree t;
		u64 k = 0;
		u32 len;

		tree_of_inode(c->fs, o, CFS_TREE_EXTENT, &t);
		while (!bt_find_ge(&t, k, &k, &v, sizeof(v), &len)) {
			if (len == sizeof(v.e) && v.e.chunk == c->k &&
			    v.e.ino == ct->local)
				return v.e.gen;
			k++;
		}
		return 0;
	}
}

/* /lost+found (chunk 0, local 2) was remade and lost its parts: link its
 * part in this chunk (which holds chunk-K) to the new /lost+found. */
static void readopt_lf(struct ck *c, struct cfs_inode *o, struct cfs_inode *ct,
		       struct cfs_chunk *pc)
{
	struct cfs_dcont dc = { c->k, ct->local, ct->d.gen, 0 };
	struct cfs_link fwd = { CFS_LINK_FWD_DIR, ct->local, ct->d.gen, o->d.gen };
	struct cfs_link back = { CFS_LINK_BACK_DIR, o->local, o->d.gen,
				 ct->d.gen };
	struct cfs_tree t;

	tree_of_inode(c->fs, o, CFS_TREE_DIR, &t);
	if (bt_insert(&t, CFS_DKEY_CONT | c->k, &dc, sizeof(dc)))
		return;
	ct->d.back_gen = o->d.gen;
	inode_write(c->fs, ct);
	del_own_entry(c, 0, ct->local);
	link_add(c->fs, c->ch, 0, ct->local, &back);
	fix_peer_entry(c, pc, lkey(c->k, o->local), &fwd);
	o->d.nconts++;
	o->d.nlink += ct->d.nlink;
	inode_write(c->fs, o);
}

/* The back link of continuation `local` to origin (peer, l->peer_ino). */
static int cross_back(struct ck *c, u32 peer, u32 local,
		      const struct cfs_link *l)
{
	struct cfs_chunk *pc = chunk_get(c->fs, peer); /* loaded by the caller */
	struct cfs_inode *ct, *o;
	int dir = l->kind == CFS_LINK_BACK_DIR, n = 0, err, basic = 0;

	err = link_ends(c, local, peer, l->peer_ino, &ct, &o);
	if (err <= 0)
		return err;
	if (o)
		basic = !(o->d.flags & CFS_IF_CONT) && o->d.nlink &&
			(o->d.mode & CFS_S_IFMT) == (ct->d.mode & CFS_S_IFMT);
	if (basic)
		n = fwd_names(c, o, ct, ct->d.gen);
	if (basic && !n && ct->d.back_ino == o->local) {
		/* the origin names this inode with another generation: the
		 * continuation's own gen field was damaged */
		u32 g = fwd_gen(c, o, ct);

		if (g && ck_problem(c, PR_BACK_FIXED, ct->ino, 0,
				    "generation restored from the forward link")) {
			ct->d.gen = g;
			inode_write(c->fs, ct);
			n = fwd_names(c, o, ct, g);
		}
	}
	if (n > 0 && ct->d.back_gen != o->d.gen) {
		/* the forward end names this continuation exactly: trust it */
		if (ck_problem(c, PR_BACK_FIXED, ct->ino, 0, NULL)) {
			/* our index entry follows below */
			ct->d.back_gen = o->d.gen;
			inode_write(c->fs, ct);
		}
	}
	if (n > 0) {
		struct cfs_link fwd = { dir ? CFS_LINK_FWD_DIR : CFS_LINK_FWD_FILE,
					local, ct->d.gen, o->d.gen };
		struct cfs_link back = { l->kind, o->local, o->d.gen, ct->d.gen };

		if (cfs_memcmp(&back, l, sizeof(back))) {
			/* our own entry follows the corrected inode */
			del_own_entry(c, peer, local);
			link_add(c->fs, c->ch, peer, local, &back);
		}

		fix_peer_entry(c, pc, lkey(c->k, l->peer_ino), &fwd);
		if (!dir && ct->d.nlink != (u32)n) {
			char d[64];

			ck_fmt(d, sizeof(d), "% recorded, % extents", ct->d.nlink,
			       (u64)n);
			if (ck_problem(c, PR_CONT_NLINK, ct->ino, 0, d)) {
				ct->d.nlink = (u32)n;
				inode_write(c->fs, ct);
			}
		}
	} else if (dir && basic && peer == 0 &&
		   l->peer_ino == CFS_LOST_FOUND_LOCAL) {
		struct cfs_dcont dc;
		struct cfs_tree t;

		tree_of_inode(c->fs, o, CFS_TREE_DIR, &t);
		if (bt_lookup(&t, CFS_DKEY_CONT | c->k, &dc, sizeof(dc), NULL) ==
		    -CFS_ENOENT &&
		    ck_problem(c, PR_CONT_ORPHAN, ct->ino, 0,
			       "/lost+found was remade: its part here re-adopted"))
			readopt_lf(c, o, ct, pc);
		else
			ck_unfixable(c, PR_LOST_FOUND, ct->ino,
				     "/lost+found's part here is detached");
	} else if (ck_problem(c, PR_CONT_ORPHAN, ct->ino, 0, dir ? "directory"
			      : "file")) {
		struct cfs_link pe;
		struct cfs_tree pt;
		u32 plen;

		del_own_entry(c, peer, local);
		/* the peer's entry, if it names this continuation */
		link_tree(c->fs, pc, &pt);
		if (!bt_lookup(&pt, lkey(c->k, l->peer_ino), &pe, sizeof(pe),
			       &plen) && plen == sizeof(pe) && pe.peer_ino == local)
			fix_peer_entry(c, pc, lkey(c->k, l->peer_ino), NULL);
		orphan_cont(c, ct, peer, l);
	}
	if (o)
		inode_put(c->fs, o);
	inode_put(c->fs, ct);
	return 0;
}

/* ---- xattr continuations (XCONT, FORMAT.md 10.3.2) ---- */

/* ct is the xattr continuation of origin (k, local, gen) with generation
 * cgen. */
static int xcont_agrees(const struct cfs_inode *ct, u32 k, u32 local, u32 gen,
			u32 cgen)
{
	return (ct->d.flags & (CFS_IF_CONT | CFS_IF_XCONT)) ==
	       (CFS_IF_CONT | CFS_IF_XCONT) && ct->d.back_chunk == k &&
	       ct->d.back_ino == local && ct->d.back_gen == gen &&
	       ct->d.gen == cgen;
}

/* The forward link of origin `local` to its xattr continuation in peer.
 * Repair when the continuation is missing or does not name the origin:
 * the link is cut (the xattrs there are lost; the report says so). */
static int cross_fwd_xattr(struct ck *c, u32 peer, u32 local,
			   const struct cfs_link *l)
{
	struct cfs_chunk *pc = chunk_get(c->fs, peer);
	struct cfs_inode *o, *ct = NULL;
	int ok = 0, err;

	err = link_ends(c, local, peer, l->peer_ino, &o, &ct);
	if (err <= 0)
		return err;
	if (ct)
		ok = xcont_agrees(ct, c->k, local, o->d.gen, l->peer_gen);
	if (ok) {
		struct cfs_link back = { CFS_LINK_BACK_XATTR, local, o->d.gen,
					 ct->d.gen };

		fix_peer_entry(c, pc, lkey(c->k, l->peer_ino), &back);
	} else if (ck_problem(c, PR_LOST_XATTR, o->ino, 0, NULL)) {
		struct cfs_tree t;

		if (o->d.xattr_root) {
			tree_of_inode(c->fs, o, CFS_TREE_XATTR, &t);
			bt_delete(&t, CFS_XKEY_CONT | peer);
			inode_write(c->fs, o);
		}
		del_own_entry(c, peer, local | CFS_LINK_XLOCAL);
		ck_recheck(c, peer); /* (its continuation is an orphan now) */
		drop_stale_back(c, pc, ct, local, l);
	}
	if (ct)
		inode_put(c->fs, ct);
	inode_put(c->fs, o);
	return 0;
}

/* The back link of xattr continuation `local` to its origin in peer.  The
 * origin's forward item is trusted (a damaged back link is rewritten from
 * it); a continuation no origin names is freed (its xattrs have no owner). */
static int cross_back_xattr(struct ck *c, u32 peer, u32 local,
			    const struct cfs_link *l)
{
	struct cfs_chunk *pc = chunk_get(c->fs, peer);
	struct cfs_inode *ct, *o;
	struct cfs_dcont dc;
	int named = 0, err;

	err = link_ends(c, local, peer, l->peer_ino, &ct, &o);
	if (err <= 0)
		return err;
	if (o && !(o->d.flags & CFS_IF_CONT) && o->d.xattr_root &&
	    ct->d.back_ino == o->local) {
		struct cfs_tree t;

		tree_of_inode(c->fs, o, CFS_TREE_XATTR, &t);
		named = !bt_lookup(&t, CFS_XKEY_CONT | c->k, &dc, sizeof(dc),
				   NULL) && dc.chunk == c->k && dc.ino == local;
	}
	if (named && dc.gen != ct->d.gen &&
	    ck_problem(c, PR_BACK_FIXED, ct->ino, 0,
		       "generation restored from the forward link")) {
		ct->d.gen = dc.gen;
		inode_write(c->fs, ct);
	}
	named = named && dc.gen == ct->d.gen;
	if (named && ct->d.back_gen != o->d.gen &&
	    ck_problem(c, PR_BACK_FIXED, ct->ino, 0, NULL)) {
		ct->d.back_gen = o->d.gen;
		inode_write(c->fs, ct);
	}
	if (named && ct->d.back_gen == o->d.gen) {
		struct cfs_link fwd = { CFS_LINK_FWD_XATTR, local, ct->d.gen,
					o->d.gen };
		struct cfs_link back = { CFS_LINK_BACK_XATTR, o->local,
					 o->d.gen, ct->d.gen };

		if (cfs_memcmp(&back, l, sizeof(back))) {
			del_own_entry(c, peer, local);
			link_add(c->fs, c->ch, peer, local, &back);
		}
		fix_peer_entry(c, pc, lkey(c->k, o->local | CFS_LINK_XLOCAL),
			       &fwd);
	} else if (ck_problem(c, PR_CONT_ORPHAN, ct->ino, 0, "xattrs")) {
		struct cfs_link pe;
		struct cfs_tree pt;
		u32 plen;

		del_own_entry(c, peer, local);
		link_tree(c->fs, pc, &pt);
		if (!bt_lookup(&pt, lkey(c->k, l->peer_ino | CFS_LINK_XLOCAL),
			       &pe, sizeof(pe), &plen) && plen == sizeof(pe) &&
		    pe.peer_ino == local)
			fix_peer_entry(c, pc,
				       lkey(c->k, l->peer_ino | CFS_LINK_XLOCAL),
				       NULL);
		/* nobody's xattrs: freed with its tree */
		ct->d.flags = 0;
		ct->d.nlink = 0;
		ct->d.back_chunk = ct->d.back_ino = ct->d.back_gen = 0;
		c->ino[local].cont = 0;
		if (!inode_free(c->fs, ct))
			c->ino[local].state = CI_FREE;
	}
	if (o)
		inode_put(c->fs, o);
	inode_put(c->fs, ct);
	return 0;
}

static const struct ck_link *find_link(struct ck *c, u32 peer, u32 local)
{
	u64 key = lkey(peer, local);
	u32 lo = 0, hi = c->nexp;

	while (lo < hi) {
		u32 mid = (lo + hi) / 2;
		u64 mk = lkey(c->links[mid].peer, c->links[mid].local);

		if (mk == key)
			return &c->links[mid];
		if (mk < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Entries of peer P's index naming K that K does not know. */
static void scan_peer(struct ck *c, u32 p)
{
	struct cfs_chunk *pc = chunk_get(c->fs, p);
	struct cfs_tree t;
	struct cfs_link l;
	u64 k = lkey(c->k, 0);
	u32 len;

	if (!pc || pc->hdr_bad == 3)
		return;
	link_tree(c->fs, pc, &t);
	while (!bt_find_ge(&t, k, &k, &l, sizeof(l), &len) &&
	       (k >> 32) == c->k) {
		u32 pl = (u32)k & ~CFS_LINK_XLOCAL;
		int xa = l.kind == CFS_LINK_FWD_XATTR ||
			 l.kind == CFS_LINK_BACK_XATTR;
		const struct ck_link *m =
			find_link(c, p, l.peer_ino |
				  (l.kind == CFS_LINK_BACK_XATTR ?
				   CFS_LINK_XLOCAL : 0));
		int fwd = l.kind == CFS_LINK_FWD_FILE || l.kind == CFS_LINK_FWD_DIR;
		int match = m && m->l.peer_ino == pl &&
			    (xa ? m->l.kind == (l.kind == CFS_LINK_FWD_XATTR ?
						CFS_LINK_BACK_XATTR :
						CFS_LINK_FWD_XATTR) :
			     (fwd && (m->l.kind == CFS_LINK_BACK_FILE ||
				      m->l.kind == CFS_LINK_BACK_DIR)) ||
			     (!fwd && (m->l.kind == CFS_LINK_FWD_FILE ||
				       m->l.kind == CFS_LINK_FWD_DIR)));

		c->res->peers++;
		if (!match)
			fix_peer_entry(c, pc, k, NULL);
		k++;
	}
}

/* After repairs (an index rebuild, a lost+found made with a root
 * continuation here) the on-disk index is the truth: reload it. */
static int reload_links(struct ck *c)
{
	struct cfs_tree t;
	struct cfs_link l;
	u64 k = 0;
	u32 len;
	int err;

	c->nlinks = 0;
	link_tree(c->fs, c->ch, &t);
	while (!(err = bt_find_ge(&t, k, &k, &l, sizeof(l), &len))) {
		if (len == sizeof(l)) {
			err = ck_add_link(c, (u32)(k >> 32), (u32)k, &l);
			if (err < 0)
				return err;
		}
		k++;
	}
	c->nexp = c->nlinks;
	return err == -CFS_ENOENT ? 0 : err;
}

int check_cross(struct ck *c)
{
	u32 i, p;
	int err;

	if (ck_fixing(c) && c->index_root_ok) {
		err = reload_links(c);
		if (err)
			return err;
	}

	for (i = 0; i < c->nexp; i++) {
		struct ck_link *L = &c->links[i];
		u32 loc = L->local & ~CFS_LINK_XLOCAL;

		struct cfs_chunk *pc = chunk_get(c->fs, L->peer);

		if (!pc || pc->hdr_bad == 3)
			continue;
		if (loc < c->ninodes && c->ino[loc].state != CI_INUSE)
			continue;
		if (L->l.kind == CFS_LINK_FWD_XATTR)
			err = cross_fwd_xattr(c, L->peer, loc, &L->l);
		else if (L->l.kind == CFS_LINK_BACK_XATTR)
			err = cross_back_xattr(c, L->peer, L->local, &L->l);
		else if (L->l.kind == CFS_LINK_FWD_FILE ||
			 L->l.kind == CFS_LINK_FWD_DIR)
			err = cross_fwd(c, L->peer, L->local, &L->l);
		else
			err = cross_back(c, L->peer, L->local, &L->l);
		if (err)
			return err;
	}
	/* directories with continuations: 2 + subdirectories everywhere */
	for (i = 1; i < c->ninodes; i++) {
		struct ck_ino *ci = &c->ino[i];
		struct cfs_inode *ip;
		u32 want = 2 + ci->subdirs + ci->xsub;

		if (ci->state != CI_INUSE || ci->cont || ci->ft != CFS_FT_DIR ||
		    !ci->has_fwd || ci->xbad)
			continue;
		if (inode_get(c->fs, ck_ino(c, i), &ip))
			continue;
		if (ip->d.nlink != want) {
			char d[64];

			ck_fmt(d, sizeof(d), "% recorded, % found", ip->d.nlink,
			       want);
			if (ck_problem(c, PR_DIR_NLINK, ip->ino, 0, d)) {
				ip->d.nlink = want;
				inode_write(c->fs, ip);
			}
		}
		inode_put(c->fs, ip);
	}
	/* Peers whose index names this chunk.  Links are recorded at both
	 * ends, so when this chunk's index was intact and agreed with its
	 * inodes, every such peer is one our index names: asking those is
	 * enough (a peer's own extra entries are for that peer's check to
	 * find), and T_cross stays proportional to the links.  When the
	 * index had to be rebuilt, entries may have been lost: ask every
	 * chunk (one range lookup each, no inodes). */
	if (c->index_rebuild || c->hdr_rebuilt || !c->index_root_ok) {
		for (p = 0; p < c->fs->nchunks; p++)
			if (p != c->k)
				scan_peer(c, p);
	} else {
		u32 last = CFS_NO_CHUNK;

		for (i = 0; i < c->nexp; i++) {   /* sorted by peer */
			p = c->links[i].peer;
			if (p != last && p != c->k && p < c->fs->nchunks)
				scan_peer(c, p);
			last = p;
		}
	}
	return 0;
}
