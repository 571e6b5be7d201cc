// SPDX-License-Identifier: GPL-2.0
/*
 * check_dir.c - pass 3: directory entries.
 *
 * Checks, for every directory part (home or continuation) in the chunk:
 * every item parses; every name is non-empty without '/' or NUL; it is
 * stored under its own hash; it names an in-use, non-continuation inode of
 * this chunk (always local: invariant 4) with the right file type; a name
 * appears once; a directory has one name.
 * Repairs: bad entries are removed (their inodes, if any, become orphans for
 * pass 4), types corrected, misfiled entries moved to their hash.
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
	int err;
};

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

static int has_name(const u8 *buf, u32 len, const char *name, u32 nlen)
{
	u32 off = 0;

	while (off + sizeof(struct cfs_dirent) <= len) {
		const struct cfs_dirent *de = (const void *)(buf + off);

		if (de->namelen == nlen && !cfs_memcmp(de->name, name, nlen))
			return 1;
		off += (u32)sizeof(*de) + de->namelen;
	}
	return 0;
}

/* Decide about one entry; returns 1 to keep it. */
static int entry_keep(struct dw *w, u64 key, struct cfs_dirent *de,
		      const u8 *kept, u32 klen)
{
	struct ck *c = w->c;
	struct ck_ino *t;
	u64 dino = w->ip->ino;

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
	if (has_name(kept, klen, de->name, de->namelen))
		return !ck_problem(c, PR_DIRENT_DUP, dino, 0, NULL);
	if (dir_hash(c->fs, de->name, de->namelen) != key) {
		if (ck_problem(c, PR_DIRENT_HASH, dino, 0, NULL)) {
			struct rehash *m = host_alloc(sizeof(*m));

			if (!m) {
				w->err = -CFS_ENOMEM;
				return 1;
			}
			m->ino = de->ino;
			m->type = t->ft;
			m->namelen = de->namelen;
			cfs_memcpy(m->name, de->name, de->namelen);
			m->next = w->moves;
			w->moves = m;
			return 0;
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
	return 1;
}

static int dw_item(void *ctx, u64 key, const u8 *val, u32 len)
{
	struct dw *w = ctx;
	u32 off = 0, klen = 0;
	int changed = 0;
	u8 *kept;

	if (key >= CFS_DKEY_CONT)
		return 0;
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
		if (entry_keep(w, key, de, kept, klen)) {
			if (cfs_memcmp(de, val + off, sz))
				changed = 1;
			klen += sz;
		} else {
			changed = 1;
		}
		off += sz;
	}
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

/* Put a misfiled entry under its own hash. */
static int move_entry(struct dw *w, struct cfs_tree *t, struct rehash *m)
{
	struct ck *c = w->c;
	u64 key = dir_hash(c->fs, m->name, m->namelen);
	u32 max = bt_max_item(t), blen = 0;
	u8 *buf = host_alloc(max + sizeof(struct cfs_dirent) + CFS_NAME_MAX);
	struct cfs_dirent *de;
	struct ck_ino *ti = &c->ino[m->ino];
	int err;

	if (!buf)
		return -CFS_ENOMEM;
	err = bt_lookup(t, key, buf, max, &blen);
	if (err && err != -CFS_ENOENT)
		goto out;
	if (!err && has_name(buf, CFS_MIN(blen, max), m->name, m->namelen)) {
		ck_problem(c, PR_DIRENT_DUP, w->ip->ino, 0, NULL);
		err = 0;
		goto out;
	}
	if (!err)
		blen = CFS_MIN(blen, max);
	if (blen + sizeof(*de) + m->namelen > max) {
		err = -CFS_ENOSPC;
		goto out;
	}
	de = (struct cfs_dirent *)(buf + blen);
	de->ino = m->ino;
	de->type = m->type;
	de->namelen = m->namelen;
	cfs_memcpy(de->name, m->name, m->namelen);
	err = err ? bt_insert(t, key, buf, blen + (u32)sizeof(*de) + m->namelen)
		  : bt_update(t, key, buf, blen + (u32)sizeof(*de) + m->namelen);
	if (!err) {
		ti->refs++;
		if (ti->ft == CFS_FT_DIR && !ti->entry_part) {
			ti->entry_part = w->ip->local;
			c->ino[w->ip->local].subdirs++;
		}
	}
out:
	host_free(buf);
	return err;
}

static int check_part(struct ck *c, u32 local)
{
	struct bt_walk_ops ops = { dw_node, dw_item, dw_bad, dw_dropped };
	struct cfs_tree t;
	struct dw w;
	int err;

	cfs_memset(&w, 0, sizeof(w));
	w.c = c;
	err = inode_get(c->fs, ck_ino(c, local), &w.ip);
	if (err)
		return err == -CFS_ENOMEM ? err : 0;
	tree_of_inode(c->fs, w.ip, CFS_TREE_DIR, &t);
	err = bt_walk(&t, &ops, &w, 0);
	if (err == -CFS_ENOMEM || w.err == -CFS_ENOMEM) {
		err = -CFS_ENOMEM;
		goto out;
	}
	err = 0;
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
	while (w.moves) {
		struct rehash *m = w.moves;
		int e;

		w.moves = m->next;
		e = move_entry(&w, &t, m);
		if (e && !err)
			err = e;
		host_free(m);
	}
	if (err && err != -CFS_ENOMEM) {
		ck_fix_failed(c, w.ip->ino, err);
		err = 0;
	}
out:
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
