// SPDX-License-Identifier: GPL-2.0
/*
 * check_pptr.c - parent pointers and the name backup (format v2, PPTR).
 *
 * Pass 3b (check_pptr_restore), after the directory entries: the records
 * of the chunk's parent pointer tree are read and compared with the
 * entries of the chunk's directory parts (an entry lives with the inode it
 * names, so both sides are here).  A record whose entry is missing gives
 * the name back: the entry goes into the directory's part in this chunk
 * when that part is here (the home, or a continuation the link index
 * names) with the generation the record names, the inode is in use and the
 * name is free there.  So a directory leaf lost with both its copies loses
 * no name.  The structure of the tree, and of the name backup this chunk
 * holds for the chunk before it, is judged here too: an unreadable one is
 * rebuilt in pass 9 (pass 6 then does not count its old blocks as used).
 *
 * Pass 9 (check_pptr_sync), last: the parent pointer tree is made to say
 * exactly what the entries say (missing records added, stale ones and
 * those of free inodes dropped, a directory's mode and owner copied),
 * rebuilt whole when unreadable; the backup of this chunk's records in the
 * next chunk is compared with them and rewritten where it differs (entries
 * that describe this chunk, as the link index entries that point into it:
 * the one other thing a repair writes outside its chunk); and the backup
 * held here for the chunk before is rebuilt from that chunk's records when
 * it was unreadable.
 *
 * Memory: a record per name in the chunk (40 bytes and the name), bounded
 * by the chunk.
 */
#include "check_int.h"

#define PP_HDR ((u32)sizeof(struct cfs_pptr))

struct exp {                  /* a record the entries call for */
	u64 key;
	struct cfs_pptr p;
	u32 name_off;         /* in the name pool */
	u32 target;           /* the inode (local) */
	u8 seen;
};

struct pp {
	struct ck *c;
	struct exp *e;
	u32 n, cap;
	char *names;
	u32 nlen, ncap;
	int err;
	/* the tree walk */
	u64 *stale_key;       /* items to rewrite from the expected set */
	u32 nstale, capstale;
	int bad;              /* a node could not be read */
};

static int exp_cmp(const struct exp *a, const struct exp *b)
{
	return a->key < b->key ? -1 : a->key > b->key;
}

static void exp_sort(struct exp *v, u32 n)
{
	u32 gap, i, j;

	for (gap = n / 2; gap; gap /= 2)
		for (i = gap; i < n; i++) {
			struct exp t = v[i];

			for (j = i; j >= gap && exp_cmp(&t, &v[j - gap]) < 0;
			     j -= gap)
				v[j] = v[j - gap];
			v[j] = t;
		}
}

/* The first expected record with key k, or n. */
static u32 exp_find(const struct pp *pp, u64 k)
{
	u32 lo = 0, hi = pp->n;

	while (lo < hi) {
		u32 mid = (lo + hi) / 2;

		if (pp->e[mid].key < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const char *exp_name(const struct pp *pp, const struct exp *e)
{
	return pp->names + e->name_off;
}

static int exp_add(struct pp *pp, u32 target, const struct cfs_pptr *p,
		   const char *name)
{
	if (pp->n == pp->cap) {
		u32 cap = pp->cap ? pp->cap * 2 : 256;
		struct exp *v = host_alloc((u64)cap * sizeof(*v));

		if (!v)
			return -CFS_ENOMEM;
		if (pp->e)
			cfs_memcpy(v, pp->e, (u64)pp->n * sizeof(*v));
		host_free(pp->e);
		pp->e = v;
		pp->cap = cap;
	}
	if (pp->nlen + p->namelen + 1 > pp->ncap) {
		u32 cap = pp->ncap ? pp->ncap * 2 : 8192;
		char *v;

		while (cap < pp->nlen + p->namelen + 1)
			cap *= 2;
		v = host_alloc(cap);
		if (!v)
			return -CFS_ENOMEM;
		if (pp->names)
			cfs_memcpy(v, pp->names, pp->nlen);
		host_free(pp->names);
		pp->names = v;
		pp->ncap = cap;
	}
	pp->e[pp->n].key = pptr_key(target, p->parent, name, p->namelen);
	pp->e[pp->n].p = *p;
	pp->e[pp->n].name_off = pp->nlen;
	pp->e[pp->n].target = target;
	pp->e[pp->n].seen = 0;
	cfs_memcpy(pp->names + pp->nlen, name, p->namelen);
	pp->names[pp->nlen + p->namelen] = 0;
	pp->nlen += p->namelen + 1;
	pp->n++;
	return 0;
}

/* ---- the records the entries call for ---- */

struct ew {
	struct pp *pp;
	u64 home;             /* the part's directory (home inode number) */
	u32 hgen;
};

static int ew_node(void *ctx, u32 blk, u32 blk2)
{
	(void)ctx;
	(void)blk;
	(void)blk2;
	return 0;
}

static void ew_bad(void *ctx, u32 blk, const char *why)
{
	(void)ctx;
	(void)blk;
	(void)why;
}

static void ew_dropped(void *ctx, u32 blk, u32 blk2)
{
	(void)ctx;
	(void)blk;
	(void)blk2;
}

static int ew_item(void *ctx, u64 key, const u8 *val, u32 len)
{
	struct ew *w = ctx;
	struct ck *c = w->pp->c;
	u32 off = 0;

	if (key >= CFS_DKEY_CONT)
		return 0;
	while (off + sizeof(struct cfs_dirent) <= len) {
		const struct cfs_dirent *de = (const void *)(val + off);
		struct cfs_pptr p;
		u32 sz = (u32)sizeof(*de) + de->namelen;

		if (off + sz > len || !de->namelen)
			break; /* (pass 3 reported it) */
		off += sz;
		if (de->ino >= c->ninodes || c->ino[de->ino].state != CI_INUSE ||
		    c->ino[de->ino].cont)
			continue;
		cfs_memset(&p, 0, sizeof(p));
		p.parent = w->home;
		p.pgen = w->hgen;
		p.namelen = de->namelen;
		if (c->ino[de->ino].ft == CFS_FT_DIR) {
			struct cfs_inode *ip;

			if (!inode_get(c->fs, ck_ino(c, de->ino), &ip)) {
				p.mode = ip->d.mode;
				p.uid = ip->d.uid;
				p.gid = ip->d.gid;
				inode_put(c->fs, ip);
			}
		}
		if (exp_add(w->pp, de->ino, &p, de->name))
			return -CFS_ENOMEM;
	}
	return 0;
}

static int collect_expected(struct pp *pp)
{
	struct ck *c = pp->c;
	struct bt_walk_ops ops = { ew_node, ew_item, ew_bad, ew_dropped };
	u32 i;
	int err;

	pp->n = 0;
	pp->nlen = 0;
	for (i = 1; i < c->ninodes; i++) {
		struct cfs_inode *ip;
		struct cfs_tree t;
		struct ew w;

		if (c->ino[i].state != CI_INUSE || c->ino[i].ft != CFS_FT_DIR)
			continue;
		err = inode_get(c->fs, ck_ino(c, i), &ip);
		if (err == -CFS_ENOMEM)
			return err;
		if (err)
			continue;
		w.pp = pp;
		if (ip->d.flags & CFS_IF_CONT) {
			w.home = CFS_MKINO(ip->d.back_chunk, ip->d.back_ino);
			w.hgen = ip->d.back_gen;
		} else {
			w.home = ip->ino;
			w.hgen = ip->d.gen;
		}
		tree_of_inode(c->fs, ip, CFS_TREE_DIR, &t);
		err = bt_walk(&t, &ops, &w, 0);
		inode_put(c->fs, ip);
		if (err == -CFS_ENOMEM)
			return err;
	}
	exp_sort(pp->e, pp->n);
	/* one record per name: two parts of one directory here (a damaged
	 * continuation) can list a name twice */
	{
		u32 r, w = 0;

		for (r = 0; r < pp->n; r++) {
			u32 x;
			int dup = 0;

			for (x = w; x > 0 && pp->e[x - 1].key == pp->e[r].key;
			     x--)
				if (pp->e[x - 1].p.parent == pp->e[r].p.parent &&
				    pp->e[x - 1].p.namelen ==
				    pp->e[r].p.namelen &&
				    !cfs_memcmp(exp_name(pp, &pp->e[x - 1]),
						exp_name(pp, &pp->e[r]),
						pp->e[r].p.namelen))
					dup = 1;
			if (!dup)
				pp->e[w++] = pp->e[r];
		}
		pp->n = w;
	}
	return 0;
}

/* ---- reading the tree ---- */

struct rw {
	struct pp *pp;
	/* pass 3b: records without an entry, to restore */
	void (*orphan_rec)(struct pp *pp, u32 target,
			   const struct cfs_pptr *p, const char *name);
	int count_only;
};

static int rw_node(void *ctx, u32 blk, u32 blk2)
{
	(void)ctx;
	(void)blk;
	(void)blk2;
	return 0;
}

static void rw_bad(void *ctx, u32 blk, const char *why)
{
	struct rw *w = ctx;

	(void)blk;
	(void)why;
	w->pp->bad = 1;
}

static void rw_dropped(void *ctx, u32 blk, u32 blk2)
{
	(void)ctx;
	(void)blk;
	(void)blk2;
}

static void stale_add(struct pp *pp, u64 key)
{
	if (pp->nstale && pp->stale_key[pp->nstale - 1] == key)
		return;
	if (pp->nstale == pp->capstale) {
		u32 cap = pp->capstale ? pp->capstale * 2 : 64;
		u64 *v = host_alloc((u64)cap * sizeof(*v));

		if (!v) {
			pp->err = -CFS_ENOMEM;
			return;
		}
		if (pp->stale_key)
			cfs_memcpy(v, pp->stale_key, pp->nstale * sizeof(*v));
		host_free(pp->stale_key);
		pp->stale_key = v;
		pp->capstale = cap;
	}
	pp->stale_key[pp->nstale++] = key;
}

/* One item of the tree: its records, each matched with the expected
 * ones; an item that differs in anything is rewritten in pass 9. */
static int rw_item(void *ctx, u64 key, const u8 *val, u32 len)
{
	struct rw *w = ctx;
	struct pp *pp = w->pp;
	u32 off = 0, i0 = exp_find(pp, key), i, nrec = 0, nexp = 0;
	int differs = 0;

	while (off < len) {
		const struct cfs_pptr *p = (const void *)(val + off);
		const char *name = (const char *)(val + off + PP_HDR);
		int match = 0;

		if (off + PP_HDR > len || !p->namelen ||
		    off + PP_HDR + p->namelen > len) {
			differs = 1;
			break;
		}
		off += PP_HDR + p->namelen;
		nrec++;
		for (i = i0; i < pp->n && pp->e[i].key == key; i++) {
			struct exp *e = &pp->e[i];

			if (e->seen || e->p.parent != p->parent ||
			    e->p.namelen != p->namelen ||
			    cfs_memcmp(exp_name(pp, e), name, p->namelen))
				continue;
			match = 1;
			e->seen = 1;
			if (e->p.pgen != p->pgen || e->p.mode != p->mode ||
			    e->p.uid != p->uid || e->p.gid != p->gid)
				differs = 1;
			break;
		}
		if (!match) {
			differs = 1;
			if (w->orphan_rec && (u32)(key >> 32) < pp->c->ninodes)
				w->orphan_rec(pp, (u32)(key >> 32), p, name);
		}
	}
	for (i = i0; i < pp->n && pp->e[i].key == key; i++)
		nexp++;
	if (differs || nexp != nrec)
		stale_add(pp, key);
	return 0;
}

/* Walk tree t against the expected records: pp->bad when unreadable. */
static int read_tree(struct pp *pp, struct cfs_tree *t, struct rw *w)
{
	struct bt_walk_ops ops = { rw_node, rw_item, rw_bad, rw_dropped };
	int err;

	pp->bad = 0;
	pp->nstale = 0;
	if (!t->root_blk)
		return -CFS_ENOENT;
	err = bt_walk(t, &ops, w, 0);
	if (err == -CFS_ENOMEM || pp->err == -CFS_ENOMEM)
		return -CFS_ENOMEM;
	if (err)
		pp->bad = 1;
	return 0;
}

/* ---- pass 3b: names given back ---- */

/* The directory part in this chunk of directory `parent` (generation
 * pgen): the home, or the continuation the link index expectations name;
 * its local inode, or 0. */
static u32 part_here(struct ck *c, u64 parent, u32 pgen)
{
	u32 i;

	if (CFS_CHUNK_OF(parent) == c->k) {
		u32 l = CFS_LOCAL(parent);
		struct cfs_inode *ip;
		u32 ok = 0;

		if (l >= c->ninodes || c->ino[l].state != CI_INUSE ||
		    c->ino[l].ft != CFS_FT_DIR || c->ino[l].cont)
			return 0;
		if (!inode_get(c->fs, parent, &ip)) {
			ok = ip->d.gen == pgen && ip->d.nlink;
			inode_put(c->fs, ip);
		}
		return ok ? l : 0;
	}
	for (i = 0; i < c->nlinks; i++) {
		const struct ck_link *l = &c->links[i];

		if (l->l.kind == CFS_LINK_BACK_DIR &&
		    l->peer == CFS_CHUNK_OF(parent) &&
		    l->l.peer_ino == CFS_LOCAL(parent) &&
		    l->l.peer_gen == pgen && l->local < c->ninodes &&
		    c->ino[l->local].state == CI_INUSE)
			return l->local;
	}
	return 0;
}

static void restore_name(struct pp *pp, u32 target, const struct cfs_pptr *p,
			 const char *name)
{
	struct ck *c = pp->c;
	struct ck_ino *ci = &c->ino[target];
	struct cfs_inode *part = NULL, *ip = NULL;
	char d[CFS_NAME_MAX + 48];
	u32 pl, i;

	if (pp->err || ci->state != CI_INUSE || ci->cont)
		return;
	/* a name a directory could hold */
	for (i = 0; i < p->namelen; i++)
		if (name[i] == '/' || !name[i])
			return;
	if ((p->namelen == 1 && name[0] == '.') ||
	    (p->namelen == 2 && name[0] == '.' && name[1] == '.'))
		return;
	/* a directory has one name; a file no more than its link count:
	 * not more from a stale or damaged record */
	if (ci->ft == CFS_FT_DIR && ci->refs)
		return;
	if (ci->ft != CFS_FT_DIR) {
		struct cfs_inode *t;
		int room = 0;

		if (!inode_get(c->fs, ck_ino(c, target), &t)) {
			room = t->d.nlink > ci->refs;
			inode_put(c->fs, t);
		}
		if (!room)
			return;
	}
	pl = part_here(c, p->parent, p->pgen);
	if (!pl)
		return; /* (pass 9 drops the record; the inode, if nameless,
			 * goes to lost+found) */
	if (inode_get(c->fs, ck_ino(c, pl), &part))
		return;
	if (inode_get(c->fs, ck_ino(c, target), &ip)) {
		inode_put(c->fs, part);
		return;
	}
	{
		char nm[CFS_NAME_MAX + 1];

		cfs_memcpy(nm, name, p->namelen);
		nm[p->namelen] = 0;
		cfs_format(d, sizeof(d), "name '%s' restored from the "
			   "inode's parent pointer", nm);
	}
	/* the name free in that part (and not given back twice) */
	for (i = 0; i < c->nrestores; i++)
		if (c->restores[i].part == pl &&
		    c->restores[i].namelen == p->namelen &&
		    !cfs_memcmp(c->restores[i].name, name, p->namelen))
			goto out;
	if (!dir_part_has(c->fs, part, name, p->namelen) &&
	    ck_problem(c, PR_PPTR_NAME, ck_ino(c, target), 0, d)) {
		/* counted now (passes 4 and 5 see the name), written in
		 * pass 6b once the maps are right (it may allocate) */
		if (c->nrestores == c->caprestores) {
			u32 cap = c->caprestores ? c->caprestores * 2 : 16;
			struct ck_restore *v = host_alloc((u64)cap *
							  sizeof(*v));

			if (!v) {
				pp->err = -CFS_ENOMEM;
				goto out;
			}
			if (c->restores)
				cfs_memcpy(v, c->restores,
					   (u64)c->nrestores * sizeof(*v));
			host_free(c->restores);
			c->restores = v;
			c->caprestores = cap;
		}
		c->restores[c->nrestores].target = target;
		c->restores[c->nrestores].part = pl;
		c->restores[c->nrestores].namelen = p->namelen;
		cfs_memcpy(c->restores[c->nrestores].name, name, p->namelen);
		c->nrestores++;
		ci->refs++;
		if (ci->ft == CFS_FT_DIR) {
			c->ino[pl].subdirs++;
			ci->entry_part = pl;
		}
	}
out:
	inode_put(c->fs, ip);
	inode_put(c->fs, part);
}

/* Pass 6b: the names decided in pass 3b written into their parts. */
int check_pptr_apply(struct ck *c)
{
	u32 i;

	for (i = 0; i < c->nrestores; i++) {
		const struct ck_restore *r = &c->restores[i];
		struct cfs_inode *part, *ip;
		int err;

		if (inode_get(c->fs, ck_ino(c, r->part), &part))
			continue;
		if (inode_get(c->fs, ck_ino(c, r->target), &ip)) {
			inode_put(c->fs, part);
			continue;
		}
		err = dir_part_insert(c->fs, part, r->name, r->namelen, ip);
		if (err) {
			ck_fix_failed(c, ip->ino, err);
		} else if (CFS_ISDIR(ip->d.mode)) {
			ip->d.parent = r->part;
			inode_write(c->fs, ip);
		}
		inode_put(c->fs, ip);
		inode_put(c->fs, part);
	}
	return 0;
}

/* Is the backup held here for the chunk before readable?  (A chunk whose
 * header was rebuilt has lost the roots of both its trees.) */
static void judge_held_backup(struct ck *c, struct pp *pp)
{
	struct cfs_tree t;
	struct rw w;
	struct pp none;

	if (c->fs->nchunks < 2)
		return;
	if (!c->ch->hdr.nbak_root) {
		c->nbak_rebuild = 1;
		return;
	}
	cfs_memset(&none, 0, sizeof(none));
	none.c = c;
	cfs_memset(&w, 0, sizeof(w));
	w.pp = &none;
	nbak_tree(c->fs, c->ch, &t);
	if (bt_root_read(&t) || read_tree(&none, &t, &w) || none.bad)
		c->nbak_rebuild = 1;
	host_free(none.stale_key);
	(void)pp;
}

static void pp_free(struct pp *pp)
{
	host_free(pp->e);
	host_free(pp->names);
	host_free(pp->stale_key);
}

int check_pptr_restore(struct ck *c)
{
	struct pp pp;
	struct cfs_tree t;
	struct rw w;
	int err;

	if (!c->fs->pptr)
		return 0;
	cfs_memset(&pp, 0, sizeof(pp));
	pp.c = c;
	judge_held_backup(c, &pp);
	err = collect_expected(&pp);
	if (!err && !c->ch->hdr.pptr_root) {
		c->pptr_rebuild = 1;
	} else if (!err) {
		pptr_tree(c->fs, c->ch, &t);
		cfs_memset(&w, 0, sizeof(w));
		w.pp = &pp;
		w.orphan_rec = ck_fixing(c) ? restore_name : NULL;
		if (bt_root_read(&t))
			c->pptr_rebuild = 1;
		else
			err = read_tree(&pp, &t, &w);
		if (!err && pp.bad)
			c->pptr_rebuild = 1;
	}
	if (!err)
		err = pp.err;
	pp_free(&pp);
	return err == -CFS_ENOMEM ? err : 0;
}

/* ---- pass 9: the records made to say what the entries say ---- */

/* Rewrite item `key` of tree t (parent pointers or backup) from the
 * expected records. */
static int rewrite_item(struct pp *pp, struct cfs_tree *t, u64 key, u8 *buf)
{
	u32 i = exp_find(pp, key), len = 0, max = bt_max_item(t);
	int err;

	for (; i < pp->n && pp->e[i].key == key; i++) {
		const struct exp *e = &pp->e[i];

		if (len + PP_HDR + e->p.namelen > max)
			break; /* (cannot happen: names that share 32 bits of
				* hash and one inode) */
		cfs_memcpy(buf + len, &e->p, PP_HDR);
		cfs_memcpy(buf + len + PP_HDR, exp_name(pp, e), e->p.namelen);
		len += PP_HDR + e->p.namelen;
	}
	if (!len) {
		err = bt_delete(t, key);
		return err == -CFS_ENOENT ? 0 : err;
	}
	err = bt_update(t, key, buf, len);
	if (err == -CFS_ENOENT)
		err = bt_insert(t, key, buf, len);
	return err;
}

/* Make tree t hold exactly the expected records: the items the walk
 * found different, and the expected ones it did not see. */
static int sync_tree(struct pp *pp, struct cfs_tree *t, u8 *buf)
{
	u32 i;
	int err = 0;

	for (i = 0; !err && i < pp->nstale; i++)
		err = rewrite_item(pp, t, pp->stale_key[i], buf);
	for (i = 0; !err && i < pp->n; i++)
		if (!pp->e[i].seen && (!i || pp->e[i - 1].key != pp->e[i].key))
			err = rewrite_item(pp, t, pp->e[i].key, buf);
	return err;
}

/* A tree rebuilt whole: a new root, every expected record. */
static int rebuild_tree(struct pp *pp, struct cfs_chunk *ch, u32 type,
			struct cfs_tree *t, u8 *buf)
{
	struct cfs_bref r;
	u32 i;
	int err = bt_root_new(pp->c->fs, ch, type, 0, &r);

	if (err)
		return err;
	if (type == CFS_TREE_PPTR) {
		ch->hdr.pptr_root = r.blk;
		ch->hdr.pptr_root2 = r.blk2;
		ch->hdr.pptr_gen = r.gen;
		pptr_tree(pp->c->fs, ch, t);
	} else {
		ch->hdr.nbak_root = r.blk;
		ch->hdr.nbak_root2 = r.blk2;
		ch->hdr.nbak_gen = r.gen;
		nbak_tree(pp->c->fs, ch, t);
	}
	ch->hdr_dirty = 1;
	for (i = 0; !err && i < pp->n; i++)
		if (!i || pp->e[i - 1].key != pp->e[i].key)
			err = rewrite_item(pp, t, pp->e[i].key, buf);
	return err;
}

/* The backup held here for chunk p = k - 1, rebuilt from p's records. */
static int rebuild_held_backup(struct ck *c, u8 *buf)
{
	struct cfs_chunk *prev = chunk_get(c->fs, (c->k + c->fs->nchunks - 1) %
					   c->fs->nchunks);
	struct cfs_tree src, t;
	struct cfs_bref r;
	u64 k = 0;
	u32 vlen;
	int err;

	if (!ck_problem(c, PR_NBAK_HELD, 0, 0, NULL))
		return 0;
	err = bt_root_new(c->fs, c->ch, CFS_TREE_NBAK, 0, &r);
	if (err)
		return err;
	c->ch->hdr.nbak_root = r.blk;
	c->ch->hdr.nbak_root2 = r.blk2;
	c->ch->hdr.nbak_gen = r.gen;
	c->ch->hdr_dirty = 1;
	nbak_tree(c->fs, c->ch, &t);
	if (!prev || !prev->hdr.pptr_root)
		return 0; /* (its own check fills it) */
	pptr_tree(c->fs, prev, &src);
	while (!(err = bt_find_ge(&src, k, &k, buf, bt_max_item(&src),
				  &vlen))) {
		if (vlen <= bt_max_item(&t)) {
			err = bt_insert(&t, k, buf, vlen);
			if (err)
				return err;
		}
		if (k == ~0ULL)
			break;
		k++;
	}
	if (err && err != -CFS_ENOENT) {
		/* the chunk before cannot give its records: its check
		 * rewrites the backup */
		ck_recheck(c, prev->index);
	}
	return 0;
}

/* Compare the backup of this chunk's records (in the next chunk) with the
 * parent pointer tree, item by item, and rewrite what differs. */
static int sync_backup(struct ck *c, struct pp *pp, u8 *buf)
{
	struct cfs_chunk *bk = nbak_chunk(c->fs, c->k);
	struct cfs_tree t;
	struct rw w;
	int err, fix;

	if (!bk)
		return 0;
	if (!bk->hdr.nbak_root || bk->hdr.state == CFS_CHUNK_DAMAGED) {
		ck_recheck(c, bk->index); /* (its check makes the tree) */
		return 0;
	}
	nbak_tree(c->fs, bk, &t);
	cfs_memset(&w, 0, sizeof(w));
	w.pp = pp;
	pp->nstale = 0;
	{
		u32 i;

		for (i = 0; i < pp->n; i++)
			pp->e[i].seen = 0;
	}
	if (bt_root_read(&t)) {
		ck_recheck(c, bk->index); /* damage there: its own check */
		return 0;
	}
	err = read_tree(pp, &t, &w);
	if (err)
		return err;
	if (pp->bad) {
		ck_recheck(c, bk->index);
		return 0;
	}
	{
		u32 i, missing = 0;

		for (i = 0; i < pp->n; i++)
			missing += !pp->e[i].seen;
		if (!missing && !pp->nstale)
			return 0;
	}
	fix = ck_problem(c, PR_NBAK, 0, 0, NULL);
	return fix ? sync_tree(pp, &t, buf) : 0;
}

int check_pptr_sync(struct ck *c)
{
	struct pp pp;
	struct cfs_tree t;
	struct rw w;
	u8 *buf;
	int err;

	if (!c->fs->pptr)
		return 0;
	buf = host_alloc(c->fs->bs);
	if (!buf)
		return -CFS_ENOMEM;
	cfs_memset(&pp, 0, sizeof(pp));
	pp.c = c;
	err = collect_expected(&pp);
	if (err)
		goto out;
	if (c->pptr_rebuild) {
		if (ck_problem(c, PR_PPTR_TREE, 0, 0, NULL)) {
			err = rebuild_tree(&pp, c->ch, CFS_TREE_PPTR, &t, buf);
			if (err)
				ck_fix_failed(c, 0, err);
			err = 0;
		}
	} else {
		pptr_tree(c->fs, c->ch, &t);
		cfs_memset(&w, 0, sizeof(w));
		w.pp = &pp;
		err = read_tree(&pp, &t, &w);
		if (!err && (pp.nstale || pp.bad)) {
			u32 i, missing = 0;
			char d[64];

			for (i = 0; i < pp.n; i++)
				missing += !pp.e[i].seen;
			ck_fmt(d, sizeof(d), "% items wrong, % records missing",
			       pp.nstale, missing);
			if (ck_problem(c, PR_PPTR_WRONG, 0, 0, d)) {
				err = sync_tree(&pp, &t, buf);
				if (err)
					ck_fix_failed(c, 0, err);
				err = 0;
			}
		} else if (!err) {
			u32 i, missing = 0;

			for (i = 0; i < pp.n; i++)
				missing += !pp.e[i].seen;
			if (missing && ck_problem(c, PR_PPTR_WRONG, 0, 0,
						  "records missing")) {
				err = sync_tree(&pp, &t, buf);
				if (err)
					ck_fix_failed(c, 0, err);
				err = 0;
			}
		}
	}
	if (!err && c->nbak_rebuild)
		err = rebuild_held_backup(c, buf);
	if (!err)
		err = sync_backup(c, &pp, buf);
	if (err && err != -CFS_ENOMEM) {
		ck_fix_failed(c, 0, err);
		err = 0;
	}
out:
	pp_free(&pp);
	host_free(buf);
	return err;
}
