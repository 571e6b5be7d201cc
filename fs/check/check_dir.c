// SPDX-License-Identifier: GPL-2.0
/*
 * check_dir.c - pass 3: directory entries.
 *
 * Checks, for every directory part (home or continuation) in the chunk:
 * every item parses; every name is non-empty without '/' or NUL; it is
 * stored under its own hash; it names an in-use, non-continuation inode of
 * this chunk (always local: invariant 4) with the right file type; a name
 * appears once, in its item and across the items of its hash (DIROVF: the
 * entry item and its overflow items); a directory has one name.
 * Repairs: bad entries are removed (their inodes, if any, become orphans for
 * pass 4), types corrected, misfiled entries moved to their hash.  Of two
 * entries with one name the later goes, unless only its inode's parent
 * pointer names it (PPTR): then the earlier goes.  The inode whose entry
 * went gets its own name back from its parent pointer (pass 3b), or goes to
 * lost+found (pass 7).
 * Hands on: c->ino[].refs (names per inode), .subdirs (subdirectories per
 * part) and .entry_part (the part naming each directory).
 */
#include "check_int.h"

struct upd {
	u64 key;
	u32 len;
	u8 *buf;
	struct upd *next;
};

struct rehash {
	u32 ino;
	u8 type;
	u8 namelen;
	char name[CFS_NAME_MAX];
	struct rehash *next;
};

struct dw {
	struct ck *c;
	struct cfs_inode *ip;
	struct upd *upds;
	struct rehash *moves;
	struct upd *ovf;      /* hashes with overflow items (key = hash;
			       * len 1: the repair emptied its entry item) */
	struct cfs_tree *t;
	u64 home;             /* the directory (its home inode) */
	/* DIROVF: the names kept so far in the items of the hash whose
	 * overflow items the walk is in (seen_hash), as dirents */
	u64 seen_hash;
	u8 *seen;
	u32 seenlen, seencap;
	u8 *scratch;          /* an item read aside (bs bytes) */
	int err;
};

/* Note a hash with overflow items, once (its own item must exist). */
static int ovf_note(struct dw *w, u64 hash)
{
	struct upd *u;

	for (u = w->ovf; u; u = u->next)
		if (u->key == hash)
			return 0;
	u = host_alloc(sizeof(*u));
	if (!u) {
		w->err = -CFS_ENOMEM;
		return 1;
	}
	cfs_memset(u, 0, sizeof(*u));
	u->key = hash;
	u->next = w->ovf;
	w->ovf = u;
	return 0;
}

/* Name de goes back under its hash (as type `type`) after the walk. */
static int queue_move(struct dw *w, const struct cfs_dirent *de, u8 type)
{
	struct rehash *m = host_alloc(sizeof(*m));

	if (!m)
		return -CFS_ENOMEM;
	m->ino = de->ino;
	m->type = type;
	m->namelen = de->namelen;
	cfs_memcpy(m->name, de->name, de->namelen);
	m->next = w->moves;
	w->moves = m;
	return 0;
}

/* An entry kept before (its inode's name count taken) goes again. */
static void unkeep(struct dw *w, u32 ino)
{
	struct ck_ino *t = &w->c->ino[ino];

	t->refs--;
	if (t->ft == CFS_FT_DIR && t->entry_part == w->ip->local) {
		t->entry_part = 0;
		w->c->ino[w->ip->local].subdirs--;
	}
}

/* Overflow items of a hash without its own item: lookups do not see
 * them.  Their names go back under the hash (as misfiled ones do). */
static int ovf_orphans(struct dw *w, struct cfs_tree *t)
{
	u32 max = bt_max_item(t), len, off;
	u8 *buf = host_alloc(max);
	struct upd *u;
	u64 k;
	int err = 0;

	if (!buf)
		return -CFS_ENOMEM;
	for (u = w->ovf; u && !err; u = u->next) {
		if (bt_lookup(t, u->key, NULL, 0, NULL) != -CFS_ENOENT)
			continue;
		if (!u->len && /* (len 1: emptied by drop_earlier) */
		    !ck_problem(w->c, PR_DIRENT_HASH, w->ip->ino, 0,
				"overflow items without their hash's item"))
			continue;
		while (!err && !bt_find_ge(t, CFS_DKEY_OVF | u->key << 8, &k,
					   buf, max, &len) &&
		       k <= (CFS_DKEY_OVF | u->key << 8 | 0xff)) {
			for (off = 0; off + sizeof(struct cfs_dirent) <= len;) {
				struct cfs_dirent *de = (void *)(buf + off);
				if (off + sizeof(*de) + de->namelen > len)
					break;
				err = queue_move(w, de, de->type);
				if (err)
					break;
				unkeep(w, de->ino);
				off += (u32)sizeof(*de) + de->namelen;
			}
			if (!err)
				err = bt_delete(t, k);
		}
	}
	host_free(buf);
	return err;
}

static int dw_node(void *ctx, u32 blk, u32 blk2)
{
	(void)ctx;
	(void)blk;
	(void)blk2;
	return 0;
}

static void dw_bad(void *ctx, u32 blk, const char *why)
{
	(void)ctx;
	(void)blk;
	(void)why; /* reported by pass 2 */
}

static void dw_dropped(void *ctx, u32 blk, u32 blk2)
{
	(void)ctx;
	(void)blk;
	(void)blk2;
}

static int name_ok(const char *n, u32 len)
{
	u32 i;

	for (i = 0; i < len; i++)
		if (n[i] == '/' || !n[i])
			return 0;
	return len > 0 && !(len == 1 && n[0] == '.') &&
	       !(len == 2 && n[0] == '.' && n[1] == '.');
}

/* The offset of the entry called name in buf, or -1. */
static int name_at(const u8 *buf, u32 len, const char *name, u32 nlen)
{
	u32 off = 0;

	while (off + sizeof(struct cfs_dirent) <= len) {
		const struct cfs_dirent *de = (const void *)(buf + off);

		if (off + sizeof(*de) + de->namelen > len)
			break;
		if (de->namelen == nlen && !cfs_memcmp(de->name, name, nlen))
			return (int)off;
		off += (u32)sizeof(*de) + de->namelen;
	}
	return -1;
}

/* Cut the entry at off (size sz) out of buf of *len bytes. */
static void cut_entry(u8 *buf, u32 *len, u32 off, u32 sz)
{
	cfs_memmove(buf + off, buf + off + sz, *len - off - sz);
	*len -= sz;
}

/* PPTR: inode `local` of this chunk has the parent pointer (this
 * directory, name).  0 when it has not, or it cannot be told. */
static int pptr_names(struct dw *w, u32 local, const char *name, u32 len)
{
	struct cfs_fs *fs = w->c->fs;
	struct cfs_tree t;
	u32 vlen;

	if (!fs->pptr || !w->c->ch->hdr.pptr_root || !w->scratch)
		return 0;
	pptr_tree(fs, w->c->ch, &t);
	if (bt_max_item(&t) > fs->bs ||
	    bt_lookup(&t, pptr_key(local, w->home, name, len), w->scratch,
		      fs->bs, &vlen) || vlen > fs->bs)
		return 0;
	return pptr_find(w->scratch, vlen, w->home, name, len) >= 0;
}

/* The pending update of item key, or NULL. */
static struct upd *upd_of(struct dw *w, u64 key)
{
	struct upd *u;

	for (u = w->upds; u; u = u->next)
		if (u->key == key)
			return u;
	return NULL;
}

/* The item key as the repair will leave it (its pending update, else the
 * tree's): into w->scratch, *len bytes; nonzero if there is none. */
static int item_now(struct dw *w, u64 key, u32 *len)
{
	struct upd *u = upd_of(w, key);
	u32 max = bt_max_item(w->t);

	if (u) {
		cfs_memcpy(w->scratch, u->buf, u->len);
		*len = u->len;
		return u->len == 0;
	}
	if (max > w->c->fs->bs || bt_lookup(w->t, key, w->scratch, max, len) ||
	    *len > max)
		return 1;
	return 0;
}

static int seen_add(struct dw *w, const u8 *ents, u32 len)
{
	if (w->seenlen + len > w->seencap) {
		u32 cap = (w->seenlen + len) * 2 + 256;
		u8 *n = host_alloc(cap);

		if (!n)
			return -CFS_ENOMEM;
		if (w->seen) {
			cfs_memcpy(n, w->seen, w->seenlen);
			host_free(w->seen);
		}
		w->seen = n;
		w->seencap = cap;
	}
	cfs_memcpy(w->seen + w->seenlen, ents, len);
	w->seenlen += len;
	return 0;
}

/* The first overflow item of hash h: what its entry item keeps is seen. */
static int seen_start(struct dw *w, u64 h)
{
	u32 len;

	w->seen_hash = h;
	w->seenlen = 0;
	if (!w->scratch || item_now(w, h, &len))
		return 0;
	return seen_add(w, w->scratch, len);
}

/* The earlier entry (name, inode ino) of hash h, in the entry item or an
 * overflow item before `before`, is removed (a pending update). */
static int drop_earlier(struct dw *w, u64 h, u64 before, u32 ino,
			const char *name, u32 nlen)
{
	u64 key = h, k;
	u32 len, sz = (u32)sizeof(struct cfs_dirent) + nlen;
	int off;

	for (;;) {
		if (!item_now(w, key, &len)) {
			off = name_at(w->scratch, len, name, nlen);
			if (off >= 0 &&
			    ((struct cfs_dirent *)(w->scratch + off))->ino == ino)
				break;
		}
		if (bt_find_ge(w->t, key == h ? CFS_DKEY_OVF | h << 8 | 1 :
			       key + 1, &k, NULL, 0, &len) || k >= before)
			return -CFS_ENOENT;
		key = k;
	}
	{
		struct upd *u = upd_of(w, key);

		if (!u) {
			u = host_alloc(sizeof(*u));
			if (!u)
				return -CFS_ENOMEM;
			u->buf = host_alloc(len + 1);
			if (!u->buf) {
				host_free(u);
				return -CFS_ENOMEM;
			}
			cfs_memcpy(u->buf, w->scratch, len);
			u->key = key;
			u->len = len;
			u->next = w->upds;
			w->upds = u;
		}
		cut_entry(u->buf, &u->len, (u32)off, sz);
		if (key == h && !u->len) {
			/* the entry item goes: its hash's overflow names go
			 * back under it, as part of this repair (no problem
			 * of their own) */
			for (u = w->ovf; u; u = u->next)
				if (u->key == h)
					u->len = 1;
		}
	}
	unkeep(w, ino);
	off = name_at(w->seen, w->seenlen, name, nlen);
	if (off >= 0)
		cut_entry(w->seen, &w->seenlen, (u32)off, sz);
	return 0;
}

#define DUP_OTHER "also in another item of its hash"
#define DUP_PPTR "the entry the parent pointer names kept"

/* A name that appears twice: 1 keeps the new entry de (the earlier one,
 * ino `other`, is to go: only de's inode has the parent pointer of the
 * name). */
static int dup_keep_new(struct dw *w, const struct cfs_dirent *de, u32 other)
{
	return other != de->ino && other < w->c->ninodes &&
	       w->c->ino[other].state == CI_INUSE &&
	       pptr_names(w, de->ino, de->name, de->namelen) &&
	       !pptr_names(w, other, de->name, de->namelen);
}

/* Decide about one entry of the item ikey (hash key); returns 1 to keep
 * it, 2 to keep it after an earlier entry of its item went (kept and
 * *klen changed: the entry is again at kept + *klen). */
static int entry_keep(struct dw *w, u64 key, u64 ikey, struct cfs_dirent *de,
		      u8 *kept, u32 *klen)
{
	struct ck *c = w->c;
	struct ck_ino *t;
	u64 dino = w->ip->ino;
	int off, ret = 1;

	if (!name_ok(de->name, de->namelen))
		return !ck_problem(c, PR_DIRENT_NAME, dino, 0, NULL);
	if (!de->ino || de->ino >= c->ninodes)
		return !ck_problem(c, PR_DIRENT_INO, dino, 0, "inode out of range");
	t = &c->ino[de->ino];
	if (t->state == CI_UNKNOWN)
		return 1; /* its inode table block is unreadable: leave it */
	if (t->state != CI_INUSE || t->cont) {
		char d[48];

		ck_fmt(d, sizeof(d), "names free inode %", de->ino, 0);
		return !ck_problem(c, PR_DIRENT_INO, dino, 0, d);
	}
	off = name_at(kept, *klen, de->name, de->namelen);
	if (off >= 0) {
		struct cfs_dirent *o = (struct cfs_dirent *)(kept + off);
		u32 osz = (u32)sizeof(*o) + o->namelen;
		u32 dsz = (u32)sizeof(*de) + de->namelen;

		if (dir_hash(c->fs, de->name, de->namelen) != key ||
		    !dup_keep_new(w, de, o->ino))
			return !ck_problem(c, PR_DIRENT_DUP, dino, 0, NULL);
		if (!ck_problem(c, PR_DIRENT_DUP, dino, 0, DUP_PPTR))
			return 1;
		/* the earlier entry goes; this one (after it) moves down */
		unkeep(w, o->ino);
		cfs_memmove(kept + off, kept + off + osz,
			    *klen + dsz - (u32)off - osz);
		*klen -= osz;
		de = (struct cfs_dirent *)(kept + *klen);
		ret = 2;
	} else if (ikey != key && w->seen_hash == key &&
		   (off = name_at(w->seen, w->seenlen, de->name,
				  de->namelen)) >= 0 &&
		   dir_hash(c->fs, de->name, de->namelen) == key) {
		/* DIROVF: the name is in an earlier item of its hash */
		u32 other = ((struct cfs_dirent *)(w->seen + off))->ino;
		int err;

		if (!dup_keep_new(w, de, other))
			return !ck_problem(c, PR_DIRENT_DUP, dino, 0, DUP_OTHER);
		if (!ck_problem(c, PR_DIRENT_DUP, dino, 0,
				DUP_OTHER "; " DUP_PPTR))
			return 1;
		err = drop_earlier(w, key, ikey, other, de->name, de->namelen);
		if (err == -CFS_ENOMEM) {
			w->err = err;
			return 1;
		}
		if (err)  /* (not found again: this one goes after all) */
			return 0;
	}
	if (dir_hash(c->fs, de->name, de->namelen) != key) {
		if (ck_problem(c, PR_DIRENT_HASH, dino, 0, NULL)) {
			int err = queue_move(w, de, t->ft);

			if (err)
				w->err = err;
			return err ? 1 : 0;
		}
	}
	if (t->ft == CFS_FT_DIR && t->entry_part)
		return !ck_problem(c, PR_DIR_MULTI, dino, 0, NULL);
	if (de->type != t->ft &&
	    ck_problem(c, PR_DIRENT_TYPE, dino, 0, NULL))
		de->type = t->ft;
	t->refs++;
	if (t->ft == CFS_FT_DIR) {
		t->entry_part = w->ip->local;
		c->ino[w->ip->local].subdirs++;
	}
	return ret;
}

static int dw_item(void *ctx, u64 key, const u8 *val, u32 len)
{
	struct dw *w = ctx;
	u64 hash = key;
	u32 off = 0, klen = 0;
	int changed = 0, r;
	u8 *kept;

	if (key >= CFS_DKEY_CONT)
		return 0;
	/* an overflow item (DIROVF): its names have the hash in its key;
	 * without the feature every name of it is misfiled */
	if (key >= CFS_DKEY_OVF) {
		u64 hm = (1ULL << CFS_HASH_BITS) - 1;

		hash = w->c->fs->dirovf && (key & 0xff) &&
		       !(key & ~(CFS_DKEY_OVF | hm << 8 | 0xff)) ?
		       (key >> 8) & hm : ~0ULL;
		if (hash != ~0ULL && ovf_note(w, hash))
			return 0;
		if (hash != ~0ULL && hash != w->seen_hash &&
		    seen_start(w, hash)) {
			w->err = -CFS_ENOMEM;
			return 0;
		}
	}
	kept = host_alloc(len + 1);
	if (!kept) {
		w->err = -CFS_ENOMEM;
		return 0;
	}
	while (off < len) {
		struct cfs_dirent *de = (struct cfs_dirent *)(kept + klen);
		u32 sz;

		if (off + sizeof(*de) > len ||
		    off + sizeof(*de) + ((const struct cfs_dirent *)(val + off))->namelen > len ||
		    !((const struct cfs_dirent *)(val + off))->namelen) {
			if (ck_problem(w->c, PR_DIR_ITEM, w->ip->ino, 0, NULL))
				changed = 1;
			else
				klen = len, cfs_memcpy(kept, val, len);
			break;
		}
		sz = (u32)sizeof(*de) + ((const struct cfs_dirent *)(val + off))->namelen;
		cfs_memcpy(de, val + off, sz);
		r = entry_keep(w, hash, key, de, kept, &klen);
		if (r) {
			de = (struct cfs_dirent *)(kept + klen);
			if (r == 2 || cfs_memcmp(de, val + off, sz))
				changed = 1;
			klen += sz;
		} else {
			changed = 1;
		}
		off += sz;
	}
	/* the names this overflow item keeps: seen by the next ones */
	if (key >= CFS_DKEY_OVF && hash != ~0ULL && !w->err &&
	    seen_add(w, kept, klen))
		w->err = -CFS_ENOMEM;
	if (changed) {
		struct upd *u = host_alloc(sizeof(*u));

		if (!u) {
			host_free(kept);
			w->err = -CFS_ENOMEM;
			return 0;
		}
		u->key = key;
		u->len = klen;
		u->buf = kept;
		u->next = w->upds;
		w->upds = u;
		return 0;
	}
	host_free(kept);
	return 0;
}

/* Put a misfiled entry under its own hash (in an overflow item if its
 * item is full, as dir_add). */
static int move_entry(struct dw *w, struct cfs_tree *t, struct rehash *m)
{
	struct ck *c = w->c;
	u8 *buf = host_alloc(bt_max_item(t) + sizeof(struct cfs_dirent) +
			     CFS_NAME_MAX);
	struct ck_ino *ti = &c->ino[m->ino];
	int err;

	if (!buf)
		return -CFS_ENOMEM;
	err = dir_item_put(c->fs, t, dir_hash(c->fs, m->name, m->namelen),
			   m->ino, m->type, m->name, m->namelen, buf);
	if (err == -CFS_EEXIST) {
		ck_problem(c, PR_DIRENT_DUP, w->ip->ino, 0, NULL);
		err = 0;
	} else if (!err) {
		ti->refs++;
		if (ti->ft == CFS_FT_DIR && !ti->entry_part) {
			ti->entry_part = w->ip->local;
			c->ino[w->ip->local].subdirs++;
		}
	}
	host_free(buf);
	return err;
}

static int check_part(struct ck *c, u32 local)
{
	struct bt_walk_ops ops = { dw_node, dw_item, dw_bad, dw_dropped };
	struct cfs_tree t;
	struct dw w;
	int err, changed;

	cfs_memset(&w, 0, sizeof(w));
	w.c = c;
	w.t = &t;
	w.seen_hash = ~0ULL;
	err = inode_get(c->fs, ck_ino(c, local), &w.ip);
	if (err)
		return err == -CFS_ENOMEM ? err : 0;
	w.home = w.ip->d.flags & CFS_IF_CONT ?
		 CFS_MKINO(w.ip->d.back_chunk, w.ip->d.back_ino) : w.ip->ino;
	tree_of_inode(c->fs, w.ip, CFS_TREE_DIR, &t);
	w.scratch = host_alloc(c->fs->bs);
	if (!w.scratch) {
		err = -CFS_ENOMEM;
		goto out;
	}
	err = bt_walk(&t, &ops, &w, 0);
	if (err == -CFS_ENOMEM || w.err == -CFS_ENOMEM) {
		err = -CFS_ENOMEM;
		goto out;
	}
	err = 0;
	changed = w.upds != NULL;
	while (w.upds) {
		struct upd *u = w.upds;
		int e;

		w.upds = u->next;
		e = u->len ? bt_update(&t, u->key, u->buf, u->len)
			   : bt_delete(&t, u->key);
		if (e && !err)
			err = e;
		host_free(u->buf);
		host_free(u);
	}
	if (w.ovf) {
		int e = ovf_orphans(&w, &t);

		if (e && !err)
			err = e;
	}
	changed |= w.moves != NULL;
	while (w.moves) {
		struct rehash *m = w.moves;
		int e;

		w.moves = m->next;
		e = move_entry(&w, &t, m);
		if (e && !err)
			err = e;
		host_free(m);
	}
	/* the tree may have grown or lost a node: its block count */
	if (changed && !c->fs->rdonly) {
		int e = inode_write(c->fs, w.ip);

		if (e && !err)
			err = e;
	}
	if (err && err != -CFS_ENOMEM) {
		ck_fix_failed(c, w.ip->ino, err);
		err = 0;
	}
out:
	while (w.ovf) {
		struct upd *u = w.ovf;

		w.ovf = u->next;
		host_free(u);
	}
	while (w.upds) {
		struct upd *u = w.upds;

		w.upds = u->next;
		host_free(u->buf);
		host_free(u);
	}
	while (w.moves) {
		struct rehash *m = w.moves;

		w.moves = m->next;
		host_free(m);
	}
	host_free(w.seen);
	host_free(w.scratch);
	inode_put(c->fs, w.ip);
	return err;
}

int check_dirs(struct ck *c)
{
	u32 i;
	int err;

	for (i = 1; i < c->ninodes; i++) {
		if (c->ino[i].state != CI_INUSE || c->ino[i].ft != CFS_FT_DIR)
			continue;
		err = check_part(c, i);
		if (err)
			return err;
	}
	return 0;
}
