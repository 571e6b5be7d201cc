// SPDX-License-Identifier: GPL-2.0
/*
 * check_heal.c - passes 2b and 2c: heal, don't discard (format v2).
 *
 * 2b (check_heal_links): a directory's forward link to its continuation
 * in another chunk (a CFS_DKEY_CONT item of its home tree) lost with a
 * tree node, while the chunk's link index still names the continuation
 * and the continuation's back link names the directory exactly: the
 * forward link is written again instead of the continuation (and every
 * name in it) going to lost+found.
 *
 * 2c (check_resurrect, PPTR): when inodes of the chunk were lost (both
 * copies of an inode table block, or the whole chunk), what the rest of
 * the filesystem knows of them brings back what can come back, at the old
 * inode numbers and generations, so every reference from outside is right
 * again without being rewritten: every other chunk's link index (one
 * range lookup each) names the continuations the chunk held of
 * directories elsewhere (recreated empty, their names come back from
 * their own parent pointers in pass 3b) and the directories whose homes
 * were here and that still have parts elsewhere; the name backup in the
 * next chunk names every inode the chunk held, with its name and parent,
 * and for a directory its mode and owner.  Directories are recreated
 * under their names (their parents first), their forward links to their
 * surviving continuations written again.  Files whose inodes were here are
 * gone: they are reported by path (the blast radius), as are the files
 * whose data had a part here and the directories that had a part here.
 * What a recreated directory's inode alone knew (its times) gets defaults.
 * Then the usual passes: names given back (3b), link counts, the link
 * index rebuilt from the inodes, maps, lost+found, the cross pass (whose
 * peers fsck checks next: a file's range that lived here is cut there).
 */
#include "check_int.h"

#define PP_HDR ((u32)sizeof(struct cfs_pptr))

/* ---- 2b: forward links written again ---- */

static int has_fwd_kind(const struct ck *c, u32 peer, u32 local, u32 kind)
{
	u32 i;

	for (i = 0; i < c->nlinks; i++)
		if (c->links[i].peer == peer && c->links[i].local == local &&
		    c->links[i].l.kind == kind)
			return 1;
	return 0;
}

static int has_fwd(const struct ck *c, u32 peer, u32 local)
{
	u32 i;

	for (i = 0; i < c->nlinks; i++)
		if (c->links[i].peer == peer && c->links[i].local == local &&
		    (c->links[i].l.kind == CFS_LINK_FWD_DIR ||
		     c->links[i].l.kind == CFS_LINK_FWD_FILE))
			return 1;
	return 0;
}

/* The continuation (peer, l->peer_ino) is a directory continuation whose
 * back link names (k, local, gen) and whose generation is l->peer_gen. */
static int cont_agrees(struct ck *c, u32 peer, const struct cfs_link *l,
		       u32 local, u32 gen)
{
	struct cfs_inode *ct;
	int ok;

	if (peer >= c->fs->nchunks || peer == c->k ||
	    inode_get(c->fs, CFS_MKINO(peer, l->peer_ino), &ct))
		return 0;
	ok = (ct->d.flags & CFS_IF_CONT) && CFS_ISDIR(ct->d.mode) &&
	     ct->d.back_chunk == c->k && ct->d.back_ino == local &&
	     ct->d.back_gen == gen && ct->d.gen == l->peer_gen;
	inode_put(c->fs, ct);
	return ok;
}

static int add_dcont(struct ck *c, struct cfs_inode *home, u32 peer, u32 ino,
		     u32 gen)
{
	struct cfs_dcont dc = { peer, ino, gen, 0 };
	struct cfs_link l = { CFS_LINK_FWD_DIR, ino, gen, home->d.gen };
	struct cfs_tree t;
	int err;

	tree_of_inode(c->fs, home, CFS_TREE_DIR, &t);
	err = bt_insert(&t, CFS_DKEY_CONT | peer, &dc, sizeof(dc));
	if (err == -CFS_EEXIST)
		err = bt_update(&t, CFS_DKEY_CONT | peer, &dc, sizeof(dc));
	if (!err)
		err = inode_write(c->fs, home);
	if (!err && ck_add_link(c, peer, home->local, &l) < 0)
		err = -CFS_ENOMEM;
	return err;
}

/* XCONT: an origin's forward item to its xattr continuation lost (a
 * damaged xattr tree leaf), while the index names the continuation and
 * the continuation names the origin exactly: the item is written again. */
static void heal_xattr_link(struct ck *c, u32 peer, u32 local,
			    const struct cfs_link *l)
{
	struct cfs_dcont dc = { peer, l->peer_ino, l->peer_gen, 0 };
	struct cfs_inode *home, *ct;
	struct cfs_tree t;
	int ok, err;

	if (!c->fs->xcont || local >= c->ninodes ||
	    c->ino[local].state != CI_INUSE || c->ino[local].cont ||
	    peer >= c->fs->nchunks || peer == c->k ||
	    has_fwd_kind(c, peer, local | CFS_LINK_XLOCAL, CFS_LINK_FWD_XATTR))
		return;
	if (inode_get(c->fs, ck_ino(c, local), &home))
		return;
	ok = home->d.xattr_root && home->d.gen == l->local_gen &&
	     !inode_get(c->fs, CFS_MKINO(peer, l->peer_ino), &ct);
	if (ok) {
		ok = (ct->d.flags & (CFS_IF_CONT | CFS_IF_XCONT)) ==
		     (CFS_IF_CONT | CFS_IF_XCONT) && ct->d.back_chunk == c->k &&
		     ct->d.back_ino == local && ct->d.back_gen == home->d.gen &&
		     ct->d.gen == l->peer_gen;
		inode_put(c->fs, ct);
	}
	if (ok && ck_problem(c, PR_FWD_RESTORED, home->ino, 0, "xattrs")) {
		tree_of_inode(c->fs, home, CFS_TREE_XATTR, &t);
		err = bt_insert(&t, CFS_XKEY_CONT | peer, &dc, sizeof(dc));
		if (err == -CFS_EEXIST)
			err = bt_update(&t, CFS_XKEY_CONT | peer, &dc,
					sizeof(dc));
		if (!err)
			err = inode_write(c->fs, home);
		if (!err && ck_add_link(c, peer, local | CFS_LINK_XLOCAL, l) < 0)
			err = -CFS_ENOMEM;
		if (err)
			ck_fix_failed(c, home->ino, err);
	}
	inode_put(c->fs, home);
}

int check_heal_links(struct ck *c)
{
	struct cfs_tree t;
	struct cfs_link l;
	u64 k = 0;
	u32 len;

	if (!c->fs->metagen || c->hdr_rebuilt || !ck_fixing(c))
		return 0;
	link_tree(c->fs, c->ch, &t);
	if (bt_root_read(&t))
		return 0; /* (pass 5 rebuilds it) */
	while (!bt_find_ge(&t, k, &k, &l, sizeof(l), &len)) {
		u32 peer = (u32)(k >> 32), local = (u32)k;
		struct cfs_inode *home;

		k++;
		if (len == sizeof(l) && l.kind == CFS_LINK_FWD_XATTR &&
		    (local & CFS_LINK_XLOCAL)) {
			heal_xattr_link(c, peer, local & ~CFS_LINK_XLOCAL, &l);
			if (k == 0)
				break;
			continue;
		}
		if (len != sizeof(l) || l.kind != CFS_LINK_FWD_DIR ||
		    peer == CFS_ORPHAN_PEER || local >= c->ninodes ||
		    c->ino[local].state != CI_INUSE ||
		    c->ino[local].ft != CFS_FT_DIR || c->ino[local].cont ||
		    has_fwd(c, peer, local))
			continue;
		if (inode_get(c->fs, ck_ino(c, local), &home))
			continue;
		if (home->d.gen == l.local_gen &&
		    cont_agrees(c, peer, &l, local, home->d.gen) &&
		    ck_problem(c, PR_FWD_RESTORED, home->ino, 0, NULL)) {
			int err = add_dcont(c, home, peer, l.peer_ino,
					    l.peer_gen);

			if (err)
				ck_fix_failed(c, home->ino, err);
			else
				c->ino[local].has_fwd = 1;
		}
		inode_put(c->fs, home);
		if (k == 0)
			break;
	}
	return 0;
}

/* ---- 2c: lost inodes brought back ---- */

struct plink {                /* an entry of a peer's index naming us */
	u32 peer, peer_local;
	struct cfs_link l;    /* l.peer_ino: the inode here */
};

struct rec {                  /* one of our records in the name backup */
	u32 local;
	struct cfs_pptr p;
	char name[CFS_NAME_MAX + 1];
};

struct rs {
	struct ck *c;
	struct plink *pl;
	u32 npl, cappl;
	struct rec *r;
	u32 nr, capr;
	u8 *made;             /* inodes recreated here (bitmap) */
	u8 *lost_here;        /* inodes lost when the pass began (bitmap) */
};

static int pl_add(struct rs *s, u32 peer, u32 peer_local,
		  const struct cfs_link *l)
{
	if (s->npl == s->cappl) {
		u32 cap = s->cappl ? s->cappl * 2 : 64;
		struct plink *v = host_alloc((u64)cap * sizeof(*v));

		if (!v)
			return -CFS_ENOMEM;
		if (s->pl)
			cfs_memcpy(v, s->pl, (u64)s->npl * sizeof(*v));
		host_free(s->pl);
		s->pl = v;
		s->cappl = cap;
	}
	s->pl[s->npl].peer = peer;
	s->pl[s->npl].peer_local = peer_local;
	s->pl[s->npl].l = *l;
	s->npl++;
	return 0;
}

static int rec_add(struct rs *s, u32 local, const struct cfs_pptr *p,
		   const char *name)
{
	if (s->nr == s->capr) {
		u32 cap = s->capr ? s->capr * 2 : 64;
		struct rec *v = host_alloc((u64)cap * sizeof(*v));

		if (!v)
			return -CFS_ENOMEM;
		if (s->r)
			cfs_memcpy(v, s->r, (u64)s->nr * sizeof(*v));
		host_free(s->r);
		s->r = v;
		s->capr = cap;
	}
	s->r[s->nr].local = local;
	s->r[s->nr].p = *p;
	cfs_memcpy(s->r[s->nr].name, name, p->namelen);
	s->r[s->nr].name[p->namelen] = 0;
	s->nr++;
	return 0;
}

/* Every other chunk's index entries naming this chunk. */
static int gather_links(struct rs *s)
{
	struct ck *c = s->c;
	u32 p;

	for (p = 0; p < c->fs->nchunks; p++) {
		struct cfs_chunk *pc;
		struct cfs_tree t;
		struct cfs_link l;
		u64 k = (u64)c->k << 32;
		u32 len;

		if (p == c->k)
			continue;
		pc = chunk_get(c->fs, p);
		if (!pc || pc->hdr_bad == 3)
			continue;
		link_tree(c->fs, pc, &t);
		while (!bt_find_ge(&t, k, &k, &l, sizeof(l), &len) &&
		       (k >> 32) == c->k) {
			c->res->peers++;
			if (len == sizeof(l) &&
			    pl_add(s, p, (u32)k & ~CFS_LINK_XLOCAL, &l))
				return -CFS_ENOMEM;
			k++;
		}
	}
	return 0;
}

/* Our records, from their backup in the next chunk. */
static int gather_records(struct rs *s)
{
	struct ck *c = s->c;
	struct cfs_chunk *bk = nbak_chunk(c->fs, c->k);
	struct cfs_tree t;
	u64 k = 0;
	u32 vlen;
	u8 *buf;
	int err;

	if (!bk || !bk->hdr.nbak_root)
		return 0;
	buf = host_alloc(c->fs->bs);
	if (!buf)
		return -CFS_ENOMEM;
	nbak_tree(c->fs, bk, &t);
	while (!(err = bt_find_ge(&t, k, &k, buf, bt_max_item(&t), &vlen))) {
		u32 off = 0;

		while (vlen <= bt_max_item(&t) && off + PP_HDR <= vlen) {
			struct cfs_pptr p;

			cfs_memcpy(&p, buf + off, PP_HDR);
			if (!p.namelen || off + PP_HDR + p.namelen > vlen)
				break;
			if (rec_add(s, (u32)(k >> 32), &p,
				    (const char *)buf + off + PP_HDR)) {
				host_free(buf);
				return -CFS_ENOMEM;
			}
			off += PP_HDR + p.namelen;
		}
		if (k == ~0ULL)
			break;
		k++;
	}
	host_free(buf);
	return err == -CFS_ENOENT ? 0 : 0; /* (a damaged backup: what was
					    * read is what can be known) */
}

static const struct rec *rec_of(const struct rs *s, u32 local)
{
	u32 i;

	for (i = 0; i < s->nr; i++)
		if (s->r[i].local == local)
			return &s->r[i];
	return NULL;
}

static int lost(const struct ck *c, u32 local)
{
	return local && local < c->ninodes &&
	       c->ino[local].state != CI_INUSE;
}

/* The directory part here of directory `parent`: its local, or 0. */
static u32 part_of(struct ck *c, u64 parent, u32 pgen)
{
	u32 i;

	if (CFS_CHUNK_OF(parent) == c->k) {
		u32 l = CFS_LOCAL(parent);

		return l < c->ninodes && c->ino[l].state == CI_INUSE &&
		       c->ino[l].ft == CFS_FT_DIR && !c->ino[l].cont ? l : 0;
	}
	for (i = 0; i < c->nlinks; i++) {
		const struct ck_link *k = &c->links[i];

		if (k->l.kind == CFS_LINK_BACK_DIR &&
		    k->peer == CFS_CHUNK_OF(parent) &&
		    k->l.peer_ino == CFS_LOCAL(parent) &&
		    (!pgen || k->l.peer_gen == pgen) &&
		    k->local < c->ninodes && c->ino[k->local].state == CI_INUSE)
			return k->local;
	}
	return 0;
}

/* The generation a lost directory here had: from a peer's back link
 * entry naming it (0: nothing outside knows it). */
static u32 known_gen(const struct rs *s, u32 local)
{
	u32 i;

	for (i = 0; i < s->npl; i++)
		if (s->pl[i].l.kind == CFS_LINK_BACK_DIR &&
		    s->pl[i].l.peer_ino == local)
			return s->pl[i].l.peer_gen;
	return 0;
}

static void report_path(struct ck *c, u32 code, u64 ino, const char *path)
{
	ck_problem_path(c, code, ino, 0, NULL, path);
}

/* The path of the record's name: its parent's path (climbing parent
 * pointers, ours from the backup) and the name. */
static void rec_path(struct ck *c, const struct rec *r, char *out, u32 size)
{
	int n = pptr_path(c->fs, r->p.parent, out, size);

	if (n < 0) {
		cfs_format(out, size, "?/%s", r->name);
		return;
	}
	cfs_format(out + n, size - (u32)n, "%s%s",
		   n == 1 ? "" : "/", r->name);
}

/* Recreate directory `local` (a home) from its record, its parent first;
 * depth bounds a loop of bad records. */
static int make_home(struct rs *s, u32 local, int depth)
{
	struct ck *c = s->c;
	const struct rec *r = rec_of(s, local);
	u32 gen = known_gen(s, local), mode = 0755, uid = 0, gid = 0;
	u32 part = 0;
	int err;

	if (!lost(c, local) || depth > 64)
		return 0;
	if (local != CFS_ROOT_LOCAL || c->k) {
		if (!r || !CFS_ISDIR(r->p.mode))
			return 0;
		mode = r->p.mode;
		uid = r->p.uid;
		gid = r->p.gid;
		/* its parent's part here, made first if it was lost too */
		if (CFS_CHUNK_OF(r->p.parent) == c->k)
			make_home(s, CFS_LOCAL(r->p.parent), depth + 1);
		part = part_of(c, r->p.parent, 0);
	}
	err = ck_make_dir(c, local, mode, part ? part : local, gen, uid, gid,
			  NULL);
	if (err)
		return err;
	s->made[local / 8] |= (u8)(1u << (local % 8));
	c->ino[local].refs = 0;       /* (pass 3 counts its entry) */
	c->ino[local].entry_part = 0;
	if (part) {
		struct cfs_inode *pi, *ip;

		if (!inode_get(c->fs, ck_ino(c, part), &pi)) {
			if (!inode_get(c->fs, ck_ino(c, local), &ip)) {
				/* (pass 3 counts the entry: refs, subdirs) */
				if (!dir_part_insert(c->fs, pi, r->name,
						     r->p.namelen, ip)) {
					ip->d.parent = part;
					inode_write(c->fs, ip);
				}
				inode_put(c->fs, ip);
			}
			inode_put(c->fs, pi);
		}
	}
	return 0;
}

static void resurrect(struct rs *s)
{
	struct ck *c = s->c;
	char path[512];
	u32 i;

	/* directory continuations of directories elsewhere (their back
	 * links from the peers' forward link entries) */
	for (i = 0; i < s->npl; i++) {
		const struct plink *p = &s->pl[i];
		u32 back[3] = { p->peer, p->peer_local, p->l.local_gen };

		if (p->l.kind != CFS_LINK_FWD_DIR || !lost(c, p->l.peer_ino))
			continue;
		if (ck_problem(c, PR_CONT_REMADE, ck_ino(c, p->l.peer_ino), 0,
			       NULL)) {
			struct cfs_link bl = { CFS_LINK_BACK_DIR,
					       p->peer_local, p->l.local_gen,
					       p->l.peer_gen };

			if (ck_make_dir(c, p->l.peer_ino, 0, 0, p->l.peer_gen,
					0, 0, back))
				continue;
			c->ino[p->l.peer_ino].refs = 0;
			c->ino[p->l.peer_ino].entry_part = 0;
			s->made[p->l.peer_ino / 8] |=
				(u8)(1u << (p->l.peer_ino % 8));
			ck_add_link(c, p->peer, p->l.peer_ino, &bl);
		}
	}
	/* directories whose homes were here: every one the backup names
	 * (parents first), and the root */
	if (c->k == 0 && lost(c, CFS_ROOT_LOCAL) &&
	    ck_problem_path(c, PR_RESURRECTED, CFS_ROOT_INO, 0, NULL, "/"))
		make_home(s, CFS_ROOT_LOCAL, 0);
	for (i = 0; i < s->nr; i++) {
		const struct rec *r = &s->r[i];

		if (!CFS_ISDIR(r->p.mode) || !lost(c, r->local))
			continue;
		rec_path(c, r, path, sizeof(path));
		if (ck_problem_path(c, PR_RESURRECTED, ck_ino(c, r->local), 0,
				    NULL, path))
			make_home(s, r->local, 0);
	}
	/* their forward links to the continuations that survive elsewhere */
	for (i = 0; i < s->npl; i++) {
		const struct plink *p = &s->pl[i];
		struct cfs_inode *home;
		u32 l = p->l.peer_ino;

		if (p->l.kind != CFS_LINK_BACK_DIR || l >= c->ninodes ||
		    !((s->made[l / 8] >> (l % 8)) & 1) ||
		    inode_get(c->fs, ck_ino(c, l), &home))
			continue;
		if (home->d.gen == p->l.peer_gen &&
		    !add_dcont(c, home, p->peer, p->peer_local,
			       p->l.local_gen)) {
			home->d.nconts++;
			inode_write(c->fs, home);
			c->ino[l].has_fwd = 1;
		}
		inode_put(c->fs, home);
	}
	/* the peers holding a link whose end here is gone: a forward link
	 * to cut, a continuation whose origin is lost to reattach; only
	 * their own checks may (fsck runs them next) */
	for (i = 0; i < s->npl; i++) {
		const struct plink *p = &s->pl[i];

		if (lost(c, p->l.peer_ino))
			ck_recheck(c, p->peer);
	}
	/* the blast radius: files whose inodes were here and are gone */
	for (i = 0; i < s->nr; i++) {
		const struct rec *r = &s->r[i];

		if (CFS_ISDIR(r->p.mode) || !lost(c, r->local))
			continue;
		rec_path(c, r, path, sizeof(path));
		report_path(c, PR_LOST_FILE, ck_ino(c, r->local), path);
	}
	/* ... and files and directories elsewhere that had a part here */
	for (i = 0; i < s->npl; i++) {
		const struct plink *p = &s->pl[i];
		u64 origin = CFS_MKINO(p->peer, p->peer_local);
		int n;

		if ((p->l.kind != CFS_LINK_FWD_FILE &&
		     p->l.kind != CFS_LINK_FWD_DIR &&
		     p->l.kind != CFS_LINK_FWD_XATTR) ||
		    !((s->lost_here[p->l.peer_ino / 8] >>
		       (p->l.peer_ino % 8)) & 1))
			continue;
		n = pptr_path(c->fs, origin, path, sizeof(path));
		if (n < 0)
			cfs_format(path, sizeof(path), "inode %llu",
				   (unsigned long long)origin);
		report_path(c, p->l.kind == CFS_LINK_FWD_FILE ? PR_LOST_DATA :
			    p->l.kind == CFS_LINK_FWD_XATTR ? PR_LOST_XATTR :
			    PR_DIR_PART_LOST, origin, path);
	}
}

int check_resurrect(struct ck *c)
{
	struct rs s;
	int err;

	if (!c->fs->pptr || !c->inodes_lost || !ck_fixing(c))
		return 0;
	cfs_memset(&s, 0, sizeof(s));
	s.c = c;
	s.made = host_alloc(c->ninodes / 8 + 1);
	s.lost_here = host_alloc(c->ninodes / 8 + 1);
	if (!s.made || !s.lost_here) {
		host_free(s.made);
		host_free(s.lost_here);
		return -CFS_ENOMEM;
	}
	{
		u32 i;

		for (i = 1; i < c->ninodes; i++)
			if (lost(c, i))
				s.lost_here[i / 8] |= (u8)(1u << (i % 8));
	}
	/* a chunk lost whole has no maps to allocate from: made now from
	 * what its inodes use (nothing much), as pass 6 will again */
	err = c->hdr_rebuilt ? check_alloc(c) : 0;
	if (!err)
		err = gather_links(&s);
	if (!err)
		err = gather_records(&s);
	if (!err)
		resurrect(&s);
	host_free(s.pl);
	host_free(s.r);
	host_free(s.made);
	host_free(s.lost_here);
	return err;
}
