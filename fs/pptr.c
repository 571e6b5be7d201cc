// SPDX-License-Identifier: GPL-2.0
/*
 * pptr.c - parent pointers and the name backup (format v2, PPTR;
 * FORMAT.md 16.7).
 *
 * Every name of every inode is recorded twice more than in its directory:
 * in the parent pointer tree of the inode's own chunk (the parent
 * directory, its generation, the name; for a directory also its mode and
 * owner), and in the name backup tree of the next chunk, which holds a
 * copy of the records of the chunk before it.  dir_add() and
 * dir_remove() keep both in step with the entries, in the same
 * transaction; setattr keeps a directory's mode and owner.  So the
 * checker can verify entries and parent pointers against each other
 * inside one chunk and repair either from the other, a path is found by
 * climbing records instead of walking the namespace, and when a whole
 * chunk is lost its names (the paths of what it held, the directories to
 * put back) are still known from the backup.
 */
#include "internal.h"

#define PP_HDR ((u32)sizeof(struct cfs_pptr))

/* The parent pointer tree of chunk ch. */
void pptr_tree(struct cfs_fs *fs, struct cfs_chunk *ch, struct cfs_tree *t)
{
	cfs_memset(t, 0, sizeof(*t));
	t->fs = fs;
	t->ch = ch;
	t->type = CFS_TREE_PPTR;
	t->root_blk = ch->hdr.pptr_root;
	t->root_blk2 = ch->hdr.pptr_root2;
	t->root_gen = &ch->hdr.pptr_gen;
}

/* The name backup tree held by chunk ch (the records of the chunk before
 * it). */
void nbak_tree(struct cfs_fs *fs, struct cfs_chunk *ch, struct cfs_tree *t)
{
	cfs_memset(t, 0, sizeof(*t));
	t->fs = fs;
	t->ch = ch;
	t->type = CFS_TREE_NBAK;
	t->root_blk = ch->hdr.nbak_root;
	t->root_blk2 = ch->hdr.nbak_root2;
	t->root_gen = &ch->hdr.nbak_gen;
}

/* The chunk holding the backup of chunk k's records, or NULL (one chunk). */
struct cfs_chunk *nbak_chunk(struct cfs_fs *fs, u32 k)
{
	if (fs->nchunks < 2)
		return NULL;
	return chunk_get(fs, (k + 1) % fs->nchunks);
}

u64 pptr_key(u32 local, u64 parent, const char *name, u32 len)
{
	u64 h = cfs_fnv1a(0xcbf29ce484222325ULL, &parent, 8);

	h = cfs_fnv1a(h, name, len);
	return (u64)local << 32 | (u32)h;
}

/* The offset of the record (parent, name) in an item's value, or -1; -2
 * if the value is malformed. */
int pptr_find(const u8 *v, u32 vlen, u64 parent, const char *name, u32 len)
{
	u32 off = 0;

	while (off < vlen) {
		const struct cfs_pptr *p = (const void *)(v + off);
		u32 sz;

		if (off + PP_HDR > vlen)
			return -2;
		sz = PP_HDR + p->namelen;
		if (!p->namelen || off + sz > vlen)
			return -2;
		if (p->parent == parent && p->namelen == len &&
		    !cfs_memcmp(v + off + PP_HDR, name, len))
			return (int)off;
		off += sz;
	}
	return -1;
}

static void pptr_fill(struct cfs_pptr *p, struct cfs_inode *ip, u64 parent,
		      u32 pgen, u32 len)
{
	cfs_memset(p, 0, sizeof(*p));
	p->parent = parent;
	p->pgen = pgen;
	p->namelen = (u8)len;
	if (CFS_ISDIR(ip->d.mode)) {
		p->mode = ip->d.mode;
		p->uid = ip->d.uid;
		p->gid = ip->d.gid;
	}
}

/* ---- one record put or deleted: in the leaf, in place, when it can
 * (one descent of the tree, no copy); else through the tree functions
 * (a new item, a deleted one), with a block-sized copy of the item when
 * it holds other records too ---- */

#define PP_INSERT 2
#define PP_DELETE 3

/* A new item of one record. */
static int rec_insert(struct cfs_tree *t, u64 key, const struct cfs_pptr *p,
		      const char *name)
{
	u8 rec[sizeof(struct cfs_pptr) + 255];
	int err;

	cfs_memcpy(rec, p, PP_HDR);
	cfs_memcpy(rec + PP_HDR, name, p->namelen);
	err = bt_insert(t, key, rec, PP_HDR + p->namelen);
	return err == -CFS_E2BIG ? -CFS_ENOSPC : err;
}

/* Add (or replace) one record in tree t under its key. */
static int rec_put_copy(struct cfs_tree *t, u64 key, const struct cfs_pptr *p,
			const char *name)
{
	u32 max = bt_max_item(t), vlen = 0, sz = PP_HDR + p->namelen;
	u8 *buf = host_alloc(t->fs->bs);
	int err, off;

	if (!buf)
		return -CFS_ENOMEM;
	err = bt_lookup(t, key, buf, max, &vlen);
	if (err == -CFS_ENOENT) {
		cfs_memcpy(buf, p, PP_HDR);
		cfs_memcpy(buf + PP_HDR, name, p->namelen);
		err = bt_insert(t, key, buf, sz);
		goto out;
	}
	if (err)
		goto out;
	err = -CFS_EUCLEAN;
	if (vlen > max)
		goto out;
	off = pptr_find(buf, vlen, p->parent, name, p->namelen);
	if (off == -2)
		goto out;
	if (off >= 0) { /* the same name again: its fields replaced */
		cfs_memcpy(buf + off, p, PP_HDR);
		err = bt_update(t, key, buf, vlen);
		goto out;
	}
	err = -CFS_ENOSPC;
	if (vlen + sz > max)
		goto out;
	cfs_memcpy(buf + vlen, p, PP_HDR);
	cfs_memcpy(buf + vlen + PP_HDR, name, p->namelen);
	err = bt_update(t, key, buf, vlen + sz);
out:
	host_free(buf);
	return err == -CFS_E2BIG ? -CFS_ENOSPC : err;
}

/* ... in leaf l: 0, an error, or nothing done and BT_LEAF_NO
 * (rec_put_copy does it) or PP_INSERT (the key is free: rec_insert). */
static int leaf_rec_put(struct bt_leaf *l, u64 key, const struct cfs_pptr *p,
			const char *name)
{
	u32 max = bt_max_item(l->t), vlen = 0, sz = PP_HDR + p->namelen;
	u8 *v;
	int err = bt_leaf_find(l, key, &v, &vlen), off;

	if (err == -CFS_ENOENT) {
		err = bt_leaf_insert(l, key, sz, &v);
		if (err == BT_LEAF_NO) /* (no room: the key is free) */
			return PP_INSERT;
		vlen = 0;
	} else if (!err) {
		if (vlen > max)
			return -CFS_EUCLEAN;
		off = pptr_find(v, vlen, p->parent, name, p->namelen);
		if (off == -2)
			return -CFS_EUCLEAN;
		if (off >= 0) { /* the same name again: its fields replaced */
			cfs_memcpy(v + off, p, PP_HDR);
			bt_leaf_mark(l);
			return 0;
		}
		if (vlen + sz > max)
			return -CFS_ENOSPC;
		err = bt_leaf_resize(l, key, vlen + sz, &v);
	}
	if (err)
		return err == -CFS_E2BIG ? -CFS_ENOSPC : err;
	cfs_memcpy(v + vlen, p, PP_HDR);
	cfs_memcpy(v + vlen + PP_HDR, name, p->namelen);
	return 0;
}

static int rec_del_copy(struct cfs_tree *t, u64 key, u64 parent,
			const char *name, u32 len)
{
	u32 max = bt_max_item(t), vlen = 0, sz;
	u8 *buf = host_alloc(t->fs->bs);
	int err, off;

	if (!buf)
		return -CFS_ENOMEM;
	err = bt_lookup(t, key, buf, max, &vlen);
	if (err)
		goto out;
	err = -CFS_EUCLEAN;
	if (vlen > max)
		goto out;
	off = pptr_find(buf, vlen, parent, name, len);
	if (off < 0) {
		err = off == -2 ? -CFS_EUCLEAN : -CFS_ENOENT;
		goto out;
	}
	sz = PP_HDR + ((struct cfs_pptr *)(buf + off))->namelen;
	if (sz == vlen) {
		err = bt_delete(t, key);
		goto out;
	}
	cfs_memmove(buf + off, buf + off + sz, vlen - (u32)off - sz);
	err = bt_update(t, key, buf, vlen - sz);
out:
	host_free(buf);
	return err;
}

/* ... in leaf l: 0, an error, or nothing done and BT_LEAF_NO
 * (rec_del_copy does it) or PP_DELETE (the item goes: bt_delete). */
static int leaf_rec_del(struct bt_leaf *l, u64 key, u64 parent,
			const char *name, u32 len)
{
	u32 max = bt_max_item(l->t), vlen = 0, sz;
	u8 *v;
	int err = bt_leaf_find(l, key, &v, &vlen), off;

	if (err)
		return err;
	if (vlen > max)
		return -CFS_EUCLEAN;
	off = pptr_find(v, vlen, parent, name, len);
	if (off < 0)
		return off == -2 ? -CFS_EUCLEAN : -CFS_ENOENT;
	sz = PP_HDR + ((struct cfs_pptr *)(v + off))->namelen;
	if (sz == vlen) /* (the leaf's last item: bt_delete frees it) */
		return bt_leaf_delete(l, key) == BT_LEAF_NO ? PP_DELETE : 0;
	/* (a smaller item always fits: the resize cannot fail after this) */
	cfs_memmove(v + off, v + off + sz, vlen - (u32)off - sz);
	return bt_leaf_resize(l, key, vlen - sz, &v);
}

/* The tree of ch's parent pointers, or with backup its name backup. */
static void rec_tree(struct cfs_fs *fs, struct cfs_chunk *ch, int backup,
		     struct cfs_tree *t)
{
	if (backup)
		nbak_tree(fs, ch, t);
	else
		pptr_tree(fs, ch, t);
}

/* What the leaf left to the tree functions (leaf_rec_put's err). */
static int rec_put_rest(struct cfs_tree *t, int err, u64 key,
			const struct cfs_pptr *p, const char *name)
{
	if (err == BT_LEAF_NO)
		return rec_put_copy(t, key, p, name);
	if (err == PP_INSERT)
		return rec_insert(t, key, p, name);
	return err;
}

static int rec_del_rest(struct cfs_tree *t, int err, u64 key, u64 parent,
			const char *name, u32 len)
{
	if (err == BT_LEAF_NO)
		return rec_del_copy(t, key, parent, name, len);
	if (err == PP_DELETE)
		return bt_delete(t, key);
	return err;
}

/* The part in the leaf (l lives only in these frames, not under the tree
 * functions that may follow: noinline, for the kernel's stack): the
 * leaf's result, and in *e bt_leaf_put's. */
static __attribute__((__noinline__))
int put_in_leaf(struct cfs_tree *t, u64 key, const struct cfs_pptr *p,
		const char *name, int *e)
{
	struct bt_leaf l;
	int err = bt_leaf_get(t, key, &l);

	*e = 0;
	if (err)
		return err;
	err = leaf_rec_put(&l, key, p, name);
	*e = bt_leaf_put(&l);
	return err;
}

static __attribute__((__noinline__))
int del_in_leaf(struct cfs_tree *t, u64 key, u64 parent, const char *name,
		u32 len, int *e)
{
	struct bt_leaf l;
	int err = bt_leaf_get(t, key, &l);

	*e = 0;
	if (err)
		return err;
	err = leaf_rec_del(&l, key, parent, name, len);
	*e = bt_leaf_put(&l);
	return err;
}

int pptr_rec_put(struct cfs_fs *fs, struct cfs_chunk *ch, int backup, u64 key,
		 const struct cfs_pptr *p, const char *name)
{
	struct cfs_tree t;
	int err, e;

	rec_tree(fs, ch, backup, &t);
	err = put_in_leaf(&t, key, p, name, &e);
	err = rec_put_rest(&t, err, key, p, name);
	return err ? err : e;
}

int pptr_rec_del(struct cfs_fs *fs, struct cfs_chunk *ch, int backup, u64 key,
		 u64 parent, const char *name, u32 len)
{
	struct cfs_tree t;
	int err, e;

	rec_tree(fs, ch, backup, &t);
	err = del_in_leaf(&t, key, parent, name, len, &e);
	err = rec_del_rest(&t, err, key, parent, name, len);
	return err ? err : e;
}

/* A rename's part in the leaf of nkey: an error if nothing changed, else
 * 0 with each record's result in *put and *del (0 done, -CFS_ENOENT for
 * an old record missing, an error, or what is left to rec_put_rest and
 * rec_del_rest).  The old record goes first: its room may be what the new
 * one needs (leaves filled in key order are full). */
static __attribute__((__noinline__))
int move_in_leaf(struct cfs_tree *t, u64 okey, const struct cfs_pptr *op,
		 const char *oname, u64 nkey, const struct cfs_pptr *p,
		 const char *nname, int *put, int *del, int *e)
{
	struct bt_leaf l;
	u32 vlen = 0, olen = op->namelen;
	u8 *v;
	int err = bt_leaf_get(t, nkey, &l);

	*e = 0;
	if (err)
		return err;
	/* the old name the only record under its key, the new key free and
	 * the record as long as before: only the key and fields change */
	if (okey != nkey && p->namelen == olen &&
	    !bt_leaf_find(&l, okey, &v, &vlen) && vlen == PP_HDR + olen &&
	    !pptr_find(v, vlen, op->parent, oname, olen) &&
	    !bt_leaf_rekey(&l, okey, nkey)) {
		cfs_memcpy(v, p, PP_HDR);
		cfs_memcpy(v + PP_HDR, nname, olen);
		*put = 0;
		*del = 0;
	} else {
		*del = leaf_rec_del(&l, okey, op->parent, oname, olen);
		if (*del < 0 && *del != -CFS_ENOENT) {
			bt_leaf_put(&l);
			return *del;
		}
		*put = leaf_rec_put(&l, nkey, p, nname);
	}
	*e = bt_leaf_put(&l);
	return 0;
}

/* A name changed (a rename): the record op with oname under okey
 * becomes p with nname under nkey, in one leaf when both keys are there
 * (the usual case: an inode's keys are next to each other).  A missing
 * old record is no error (as in pptr_remove); on an error the records
 * are as they were (as far as they can be put back). */
static int rec_move(struct cfs_fs *fs, struct cfs_chunk *ch, int backup,
		    u64 okey, const struct cfs_pptr *op, const char *oname,
		    u64 nkey, const struct cfs_pptr *p, const char *nname)
{
	struct cfs_tree t;
	int put = BT_LEAF_NO, del = BT_LEAF_NO, e, err;

	rec_tree(fs, ch, backup, &t);
	err = move_in_leaf(&t, okey, op, oname, nkey, p, nname, &put, &del,
			   &e);
	if (err)
		return err;
	del = rec_del_rest(&t, del, okey, op->parent, oname, op->namelen);
	if (del && del != -CFS_ENOENT) {
		if (!put) /* (the new record goes again) */
			pptr_rec_del(fs, ch, backup, nkey, p->parent, nname,
				     p->namelen);
		return del;
	}
	put = rec_put_rest(&t, put, nkey, p, nname);
	if (put) {
		if (!del) /* (the old record back) */
			pptr_rec_put(fs, ch, backup, okey, op, oname);
		return put;
	}
	return e;
}

/* ip got the name (dir, name): record it in ip's chunk and its backup. */
int pptr_add(struct cfs_fs *fs, struct cfs_inode *dir, const char *name,
	     u32 len, struct cfs_inode *ip)
{
	struct cfs_chunk *bk;
	struct cfs_pptr p;
	u64 key;
	int err;

	if (!fs->pptr)
		return 0;
	pptr_fill(&p, ip, dir->ino, dir->d.gen, len);
	key = pptr_key(ip->local, dir->ino, name, len);
	err = pptr_rec_put(fs, ip->ch, 0, key, &p, name);
	if (err)
		return err;
	bk = nbak_chunk(fs, ip->ch->index);
	if (bk && bk->hdr.nbak_root) {
		err = pptr_rec_put(fs, bk, 1, key, &p, name);
		if (err) /* (the record stays without its backup: the check
			  * of ip's chunk rewrites the backup) */
			pptr_rec_del(fs, ip->ch, 0, key, dir->ino, name, len);
	}
	return err;
}

/* ip's name (odir, oname) became (dir, name) (a rename): its record
 * changes, in ip's chunk and in the backup.  On an error the records are
 * as they were (as far as they can be put back). */
int pptr_move(struct cfs_fs *fs, struct cfs_inode *odir, const char *oname,
	      u32 olen, struct cfs_inode *dir, const char *name, u32 len,
	      struct cfs_inode *ip)
{
	struct cfs_chunk *bk;
	struct cfs_pptr p, op;
	u64 key, okey;
	int err;

	if (!fs->pptr)
		return 0;
	pptr_fill(&p, ip, dir->ino, dir->d.gen, len);
	pptr_fill(&op, ip, odir->ino, odir->d.gen, olen);
	key = pptr_key(ip->local, dir->ino, name, len);
	okey = pptr_key(ip->local, odir->ino, oname, olen);
	err = rec_move(fs, ip->ch, 0, okey, &op, oname, key, &p, name);
	if (err)
		return err;
	bk = nbak_chunk(fs, ip->ch->index);
	if (bk && bk->hdr.nbak_root) {
		err = rec_move(fs, bk, 1, okey, &op, oname, key, &p, name);
		if (err) /* the old name's record back */
			rec_move(fs, ip->ch, 0, key, &p, name, okey, &op,
				 oname);
	}
	return err;
}

/* ip lost the name (dir, name).  A record already missing is no error
 * here (the check restores what is missing). */
int pptr_remove(struct cfs_fs *fs, struct cfs_inode *dir, const char *name,
		u32 len, struct cfs_inode *ip)
{
	struct cfs_chunk *bk;
	u64 key;
	int err;

	if (!fs->pptr)
		return 0;
	key = pptr_key(ip->local, dir->ino, name, len);
	err = pptr_rec_del(fs, ip->ch, 0, key, dir->ino, name, len);
	if (err && err != -CFS_ENOENT)
		return err;
	bk = nbak_chunk(fs, ip->ch->index);
	if (bk && bk->hdr.nbak_root) {
		err = pptr_rec_del(fs, bk, 1, key, dir->ino, name, len);
		if (err && err != -CFS_ENOENT)
			return err;
	}
	return 0;
}

/* The first record of inode (ch, local) in tree t: 0 with *p and name
 * (NUL-terminated, CFS_NAME_MAX + 1 bytes) filled, or -ENOENT. */
static int first_rec(struct cfs_tree *t, u32 local, struct cfs_pptr *p,
		     char *name, u8 *buf)
{
	u64 k;
	u32 vlen;
	int err = bt_find_ge(t, (u64)local << 32, &k, buf, bt_max_item(t),
			     &vlen);

	if (err)
		return err;
	if ((u32)(k >> 32) != local)
		return -CFS_ENOENT;
	if (vlen < PP_HDR || vlen > bt_max_item(t))
		return -CFS_EUCLEAN;
	cfs_memcpy(p, buf, PP_HDR);
	if (!p->namelen || PP_HDR + p->namelen > vlen)
		return -CFS_EUCLEAN;
	cfs_memcpy(name, buf + PP_HDR, p->namelen);
	name[p->namelen] = 0;
	return 0;
}

/* A directory's mode or owner changed: its record (both trees) follows. */
int pptr_set_attrs(struct cfs_fs *fs, struct cfs_inode *ip)
{
	char name[CFS_NAME_MAX + 1];
	struct cfs_chunk *bk;
	struct cfs_pptr p;
	struct cfs_tree t;
	u8 *buf;
	u64 key;
	int err;

	if (!fs->pptr || !CFS_ISDIR(ip->d.mode) || ip->ino == CFS_ROOT_INO)
		return 0;
	buf = host_alloc(fs->bs);
	if (!buf)
		return -CFS_ENOMEM;
	pptr_tree(fs, ip->ch, &t);
	err = first_rec(&t, ip->local, &p, name, buf);
	host_free(buf);
	if (err)
		return err == -CFS_ENOENT ? 0 : err;
	p.mode = ip->d.mode;
	p.uid = ip->d.uid;
	p.gid = ip->d.gid;
	key = pptr_key(ip->local, p.parent, name, p.namelen);
	err = pptr_rec_put(fs, ip->ch, 0, key, &p, name);
	bk = nbak_chunk(fs, ip->ch->index);
	if (!err && bk && bk->hdr.nbak_root)
		err = pptr_rec_put(fs, bk, 1, key, &p, name);
	return err;
}

/* Inode ino's first name: its parent directory and the name.  From the
 * parent pointer tree of its chunk or, with backup set, from the backup
 * in the next chunk (the chunk's own tree is lost). */
int pptr_name(struct cfs_fs *fs, u64 ino, int backup, u64 *parent,
	      char *name)
{
	struct cfs_chunk *ch = chunk_get(fs, CFS_CHUNK_OF(ino));
	struct cfs_pptr p;
	struct cfs_tree t;
	u8 *buf;
	int err;

	if (!ch)
		return -CFS_ENOENT;
	if (backup) {
		ch = nbak_chunk(fs, ch->index);
		if (!ch || !ch->hdr.nbak_root)
			return -CFS_ENOENT;
		nbak_tree(fs, ch, &t);
	} else {
		if (!ch->hdr.pptr_root)
			return -CFS_ENOENT;
		pptr_tree(fs, ch, &t);
	}
	buf = host_alloc(fs->bs);
	if (!buf)
		return -CFS_ENOMEM;
	err = first_rec(&t, CFS_LOCAL(ino), &p, name, buf);
	host_free(buf);
	if (!err)
		*parent = p.parent;
	return err;
}

/* The path of inode ino ("/" for the root), climbing parent pointers (the
 * backup where a chunk's own tree cannot be read).  Returns its length,
 * or a negative errno (-ENOENT: no name is known; -ENAMETOOLONG). */
int pptr_path(struct cfs_fs *fs, u64 ino, char *out, u32 size)
{
	char name[CFS_NAME_MAX + 1];
	u32 pos = size, depth;
	int err = 0;

	if (!fs->pptr || size < 2)
		return -CFS_ENOENT;
	out[--pos] = 0;
	for (depth = 0; ino != CFS_ROOT_INO; depth++) {
		u64 parent;
		u32 n;

		if (depth > 1024)
			return -CFS_ELOOP;
		err = pptr_name(fs, ino, 0, &parent, name);
		if (err && err != -CFS_ENOMEM)
			err = pptr_name(fs, ino, 1, &parent, name);
		if (err)
			return err;
		n = cfs_strnlen(name, CFS_NAME_MAX);
		if (pos < n + 1)
			return -CFS_ENAMETOOLONG;
		pos -= n;
		cfs_memcpy(out + pos, name, n);
		out[--pos] = '/';
		ino = parent;
	}
	if (pos == size - 1)
		out[--pos] = '/';
	cfs_memmove(out, out + pos, size - pos);
	return (int)(size - pos - 1);
}

/* ... of a file or of a continuation (its file's path: the inode's back
 * link names it): what an event about either names. */
int pptr_path_any(struct cfs_fs *fs, u64 ino, char *out, u32 size)
{
	struct cfs_inode *ip;
	u64 origin = 0;
	int n = pptr_path(fs, ino, out, size);

	if (n != -CFS_ENOENT || inode_get(fs, ino, &ip))
		return n;
	if (ip->d.flags & CFS_IF_CONT)
		origin = CFS_MKINO(ip->d.back_chunk, ip->d.back_ino);
	inode_put(fs, ip);
	return origin && origin != ino ? pptr_path(fs, origin, out, size) : n;
}

int cfs_path(struct cfs_fs *fs, u64 ino, char *out, u32 size)
{
	int n;

	host_mutex_lock(fs->lock);
	n = pptr_path_any(fs, ino, out, size);
	host_mutex_unlock(fs->lock);
	return n;
}

/* Record n (in key order) of inode `local` in tree t, and how many it has:
 * 0 with *p and name (NUL-terminated) filled; -ENOENT if n >= *count. */
static int nth_rec(struct cfs_tree *t, u32 local, u32 n, struct cfs_pptr *p,
		   char *name, u8 *buf, u32 *count)
{
	u64 key = (u64)local << 32, k;
	u32 vlen, max = bt_max_item(t), found = 0;
	int err;

	*count = 0;
	for (;;) {
		u32 off = 0;

		err = bt_find_ge(t, key, &k, buf, max, &vlen);
		if (err == -CFS_ENOENT || (!err && (u32)(k >> 32) != local))
			break;
		if (err)
			return err;
		if (vlen > max)
			return -CFS_EUCLEAN;
		while (off < vlen) {
			const struct cfs_pptr *r = (const void *)(buf + off);

			if (off + PP_HDR > vlen || !r->namelen ||
			    off + PP_HDR + r->namelen > vlen)
				return -CFS_EUCLEAN;
			if (*count == n) {
				cfs_memcpy(p, r, PP_HDR);
				cfs_memcpy(name, buf + off + PP_HDR, r->namelen);
				name[r->namelen] = 0;
				found = 1;
			}
			(*count)++;
			off += PP_HDR + r->namelen;
		}
		if ((u32)k == 0xffffffffu)
			break;
		key = k + 1;
	}
	return found ? 0 : -CFS_ENOENT;
}

/* Name n of inode ino: its parent and the name, and how many names it
 * has; from the inode's chunk, or the backup when that cannot be read. */
static int pptr_nth(struct cfs_fs *fs, u64 ino, u32 n, u64 *parent,
		    char *name, u32 *count)
{
	struct cfs_chunk *ch = chunk_get(fs, CFS_CHUNK_OF(ino)), *bk;
	struct cfs_pptr p;
	struct cfs_tree t;
	u8 *buf;
	int err = -CFS_ENOENT;

	*count = 0;
	if (!ch)
		return -CFS_ENOENT;
	buf = host_alloc(fs->bs);
	if (!buf)
		return -CFS_ENOMEM;
	if (ch->hdr.pptr_root && ch->hdr_bad != 3) {
		pptr_tree(fs, ch, &t);
		err = nth_rec(&t, CFS_LOCAL(ino), n, &p, name, buf, count);
	}
	bk = nbak_chunk(fs, ch->index);
	if (err && err != -CFS_ENOMEM && !*count && bk && bk->hdr.nbak_root) {
		nbak_tree(fs, bk, &t);
		err = nth_rec(&t, CFS_LOCAL(ino), n, &p, name, buf, count);
	}
	host_free(buf);
	if (!err)
		*parent = p.parent;
	return err;
}

int cfs_path_name(struct cfs_fs *fs, struct chunkfs_path *cp)
{
	char name[CFS_NAME_MAX + 1];
	u64 ino = cp->ino, parent = 0;
	u32 index = cp->index, count = 0, n;
	struct cfs_chunk *ch;
	struct cfs_dinode d;
	int err;

	cfs_memset(cp, 0, sizeof(*cp)); /* (nothing of the caller's left) */
	cp->ino = ino;
	cp->index = index;
	if (!fs->pptr)
		return -CFS_EOPNOTSUPP;
	host_mutex_lock(fs->lock);
	if (ino == CFS_ROOT_INO) {
		cp->count = 1;
		err = index ? -CFS_ENOENT : 0;
		if (!err) {
			cp->path[0] = '/';
			cp->len = 1;
			cp->parent = CFS_ROOT_INO;
		}
		goto out;
	}
	/* a continuation: its file's names (read without caching it) */
	ch = chunk_get(fs, CFS_CHUNK_OF(ino));
	if (ch && !inode_peek(fs, ch, CFS_LOCAL(ino), &d) &&
	    (d.flags & CFS_IF_CONT) && d.back_chunk != ch->index)
		ino = CFS_MKINO(d.back_chunk, d.back_ino);
	err = pptr_nth(fs, ino, index, &parent, name, &count);
	cp->count = count;
	if (err)
		goto out;
	err = pptr_path(fs, parent, cp->path, sizeof(cp->path));
	if (err < 0)
		goto out;
	n = cfs_strnlen(name, CFS_NAME_MAX);
	if ((u32)err + 1 + n + 1 > sizeof(cp->path)) {
		err = -CFS_ENAMETOOLONG;
		goto out;
	}
	if (err > 1) /* (the root's path is "/" already) */
		cp->path[err++] = '/';
	cfs_memcpy(cp->path + err, name, n);
	cp->len = (u32)err + n;
	cp->path[cp->len] = 0;
	cp->parent = parent;
	err = 0;
out:
	if (err) {
		cp->path[0] = 0;
		cp->len = 0;
	}
	host_mutex_unlock(fs->lock);
	return err;
}
