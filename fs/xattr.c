// SPDX-License-Identifier: GPL-2.0
/*
 * xattr.c - extended attributes: a B+tree per inode rooted in a block of
 * the inode's chunk (xattr_root), keyed by a hash of the name; an item holds
 * the cfs_xattr records whose names share the hash.  Values up to 64 KiB:
 * one too large for the item goes into the following keys (CFS_XATTR_EXT).
 *
 * XCONT (FORMAT.md 10.3.2): when the inode's chunk has no room left for a
 * value (after data made way, file_make_meta_room), the xattr goes into an
 * xattr continuation: a continuation inode (CFS_IF_CONT | CFS_IF_XCONT) in
 * another chunk whose own xattr tree holds it, joined like any continuation
 * by a two-ended, indexed link (forward: a CFS_XKEY_CONT | chunk item in the
 * origin's xattr tree and a FWD_XATTR index entry; back: the continuation's
 * back link and a BACK_XATTR entry).  A name lives in exactly one place.
 */
#include "internal.h"

#define XA_HDR ((u32)sizeof(struct cfs_xattr))

static u64 xattr_key(const char *name, u32 len)
{
	return (cfs_fnv1a(0xcbf29ce484222325ULL, name, len) >> 9) << 8;
}

static int xattr_tree(struct cfs_fs *fs, struct cfs_inode *ip, int create,
		      struct cfs_tree *t)
{
	if (!ip->d.xattr_root) {
		struct cfs_bref r;
		int err;

		if (!create)
			return -CFS_ENODATA;
		err = bt_root_new(fs, ip->ch, CFS_TREE_XATTR, ip->local, &r);
		if (err)
			return err;
		ip->d.xattr_root = r.blk;
		if (fs->metagen) {
			cfs_dtail(&ip->d)->xattr_root2 = r.blk2;
			cfs_dtail(&ip->d)->xattr_gen = r.gen;
		}
		ip->d.blocks += r.blk2 ? 2 : 1;
		err = inode_write(fs, ip);
		if (err)
			return err;
	}
	tree_of_inode(fs, ip, CFS_TREE_XATTR, t);
	return 0;
}

/* Offset of the record named name in buf, -ENODATA, or -EIO if corrupt. */
static int xa_find(const u8 *buf, u32 blen, const char *name, u32 len,
		   u32 *rsize)
{
	u32 off = 0;

	while (off + XA_HDR <= blen) {
		const struct cfs_xattr *x = (const void *)(buf + off);
		u32 sz = XA_HDR + x->namelen + x->ilen;

		if (off + sz > blen)
			return -CFS_EIO;
		if (x->namelen == len && !cfs_memcmp(x->data, name, len)) {
			*rsize = sz;
			return (int)off;
		}
		off += sz;
	}
	return -CFS_ENODATA;
}

static int name_check(const char *name, u32 *len)
{
	*len = cfs_strnlen(name, CFS_NAME_MAX + 1);
	if (!*len)
		return -CFS_EINVAL;
	if (*len > CFS_NAME_MAX)
		return -CFS_ERANGE;
	return 0;
}

struct xa_ctx {
	struct cfs_tree t;
	u64 key;
	u32 max;             /* largest item */
	u8 *buf;             /* the hash item */
	u32 blen;
	int off;             /* record offset, or -ENODATA */
	u32 rsize;
};

/* Load the hash item of name and find its record. */
static int xa_load(struct cfs_fs *fs, struct cfs_inode *ip, const char *name,
		   u32 len, int create, struct xa_ctx *x)
{
	int err = xattr_tree(fs, ip, create, &x->t);

	x->buf = NULL;
	if (err)
		return err;
	x->max = bt_max_item(&x->t);
	x->buf = host_alloc(x->max + XA_HDR + CFS_NAME_MAX + 16);
	if (!x->buf)
		return -CFS_ENOMEM;
	x->key = xattr_key(name, len);
	x->off = -CFS_ENODATA;
	err = bt_lookup(&x->t, x->key, x->buf, x->max, &x->blen);
	if (err == -CFS_ENOENT) {
		x->blen = 0;
		return 0;
	}
	if (err)
		return err;
	x->blen = CFS_MIN(x->blen, x->max);
	x->off = xa_find(x->buf, x->blen, name, len, &x->rsize);
	if (x->off == -CFS_EIO) {
		chunk_mark_suspect(fs, ip->ch, "bad xattr item");
		return -CFS_EIO;
	}
	return 0;
}

static u32 ext_parts(const struct xa_ctx *x, u32 vlen)
{
	return (vlen + x->max - 1) / x->max;
}

/* Remove the record at x->off (and its value parts) from x->buf. */
static int xa_cut(struct xa_ctx *x)
{
	struct cfs_xattr *r = (struct cfs_xattr *)(x->buf + x->off);
	u32 i;
	int err;

	if (r->flags & CFS_XATTR_EXT) {
		for (i = 1; i <= ext_parts(x, r->vlen); i++) {
			err = bt_delete(&x->t, x->key + i);
			if (err && err != -CFS_ENOENT)
				return err;
		}
	}
	cfs_memmove(x->buf + x->off, x->buf + x->off + x->rsize,
		    x->blen - x->off - x->rsize);
	x->blen -= x->rsize;
	return 0;
}

static int xa_store_item(struct xa_ctx *x, int existed)
{
	if (!x->blen)
		return existed ? bt_delete(&x->t, x->key) : 0;
	if (existed)
		return bt_update(&x->t, x->key, x->buf, x->blen);
	return bt_insert(&x->t, x->key, x->buf, x->blen);
}

/* Room the value may take, as cfs_setxattr makes it: its parts and their
 * share of tree nodes, each with its second copy. */
#define XC_META_ROOM 8
static u32 xc_need(const struct cfs_fs *fs, u32 size)
{
	return 2 * ((size + fs->bs - 1) >> fs->bshift) + XC_META_ROOM;
}

/* Set name in ip's own tree (flags: CFS_XATTR_CREATE, _REPLACE). */
static int one_set(struct cfs_fs *fs, struct cfs_inode *ip, const char *name,
		   u32 len, const void *value, u32 size, u32 flags)
{
	struct xa_ctx x;
	struct cfs_xattr *r;
	u32 i, ext;
	int err, existed;

	err = xa_load(fs, ip, name, len, !(flags & CFS_XATTR_REPLACE), &x);
	if (err)
		goto out;
	existed = x.blen > 0;
	if (x.off >= 0 && (flags & CFS_XATTR_CREATE)) {
		err = -CFS_EEXIST;
		goto out;
	}
	if (x.off < 0 && (flags & CFS_XATTR_REPLACE)) {
		err = -CFS_ENODATA;
		goto out;
	}
	/* A value in parts (new or old) changes several items: the old
	 * parts go before the new ones go in, under the same keys, so a
	 * failure between them would lose the old value (or mix the two).
	 * Room for all of it first, before anything changes. */
	if ((x.blen + XA_HDR + len + size > x.max ||
	     (x.off >= 0 && (((struct cfs_xattr *)(x.buf + x.off))->flags &
			     CFS_XATTR_EXT))) &&
	    ip->ch->hdr.free_blocks < xc_need(fs, size)) {
		err = -CFS_ENOSPC;
		goto out;
	}
	if (x.off >= 0) {
		err = xa_cut(&x);
		if (err)
			goto out;
	}
	ext = x.blen + XA_HDR + len + size > x.max;
	if (x.blen + XA_HDR + len > x.max) {
		err = -CFS_ENOSPC;
		goto out;
	}
	if (ext) {
		/* the parts' keys must be free (another name's parts?) */
		for (i = 1; i <= ext_parts(&x, size); i++) {
			if (!bt_lookup(&x.t, x.key + i, NULL, 0, NULL)) {
				err = -CFS_ENOSPC;
				goto out;
			}
		}
		for (i = 0; i < ext_parts(&x, size); i++) {
			u32 n = CFS_MIN(x.max, size - i * x.max);

			err = bt_insert(&x.t, x.key + i + 1,
					(const u8 *)value + i * x.max, n);
			if (err)
				goto out;
		}
	}
	r = (struct cfs_xattr *)(x.buf + x.blen);
	r->namelen = (u8)len;
	r->flags = ext ? CFS_XATTR_EXT : 0;
	r->ilen = ext ? 0 : (u16)size;
	r->vlen = size;
	cfs_memcpy(r->data, name, len);
	if (!ext && size)
		cfs_memcpy(r->data + len, value, size);
	x.blen += XA_HDR + len + r->ilen;
	err = xa_store_item(&x, existed);
out:
	host_free(x.buf);
	return err;
}

static s64 one_get(struct cfs_fs *fs, struct cfs_inode *ip, const char *name,
		   u32 len, void *value, u32 size)
{
	const struct cfs_xattr *r;
	struct xa_ctx x;
	u32 i, got;
	s64 ret;
	int err;

	err = xa_load(fs, ip, name, len, 0, &x);
	if (!err && x.off < 0)
		err = x.off;
	if (err) {
		host_free(x.buf);
		return err;
	}
	r = (const void *)(x.buf + x.off);
	ret = r->vlen;
	if (size && size < r->vlen) {
		ret = -CFS_ERANGE;
	} else if (size && !(r->flags & CFS_XATTR_EXT)) {
		cfs_memcpy(value, r->data + r->namelen, CFS_MIN(r->ilen, r->vlen));
	} else if (size) {
		for (i = 0; i < ext_parts(&x, r->vlen); i++) {
			u32 want = CFS_MIN(x.max, r->vlen - i * x.max);

			err = bt_lookup(&x.t, x.key + i + 1,
					(u8 *)value + i * x.max, want, &got);
			if (!err && got != want)
				err = -CFS_EIO;
			if (err) {
				chunk_mark_suspect(fs, ip->ch, "xattr value part");
				ret = -CFS_EIO;
				break;
			}
		}
	}
	host_free(x.buf);
	return ret;
}

/* List the names of ip's own tree after the *total bytes already listed. */
static int one_list(struct cfs_fs *fs, struct cfs_inode *ip, char *list,
		    u32 size, u64 *total_io)
{
	struct cfs_tree t;
	u64 k = 0, total = *total_io;
	u32 blen, max;
	u8 *buf;
	int err;

	err = xattr_tree(fs, ip, 0, &t);
	if (err == -CFS_ENODATA)
		return 0;
	if (err)
		return err;
	max = bt_max_item(&t);
	buf = host_alloc(max);
	if (!buf)
		return -CFS_ENOMEM;
	for (;;) {
		u32 off = 0;

		err = bt_find_ge(&t, k, &k, buf, max, &blen);
		if (err == -CFS_ENOENT || (!err && k >= CFS_XKEY_CONT)) {
			err = 0; /* (forward links to xattr continuations) */
			break;
		}
		if (err)
			break;
		if (k & 0xff) { /* a value part */
			k++;
			continue;
		}
		blen = CFS_MIN(blen, max);
		while (off + XA_HDR <= blen) {
			const struct cfs_xattr *r = (const void *)(buf + off);

			if (off + XA_HDR + r->namelen + r->ilen > blen)
				break;
			if (fs->noacl &&
			    acl_kind_n((const char *)r->data, r->namelen)) {
				/* ACLs off: their names are not there */
				off += XA_HDR + r->namelen + r->ilen;
				continue;
			}
			if (size) {
				if (total + r->namelen + 1 > size) {
					host_free(buf);
					return -CFS_ERANGE;
				}
				cfs_memcpy(list + total, r->data, r->namelen);
				list[total + r->namelen] = 0;
			}
			total += r->namelen + 1u;
			off += XA_HDR + r->namelen + r->ilen;
		}
		k++;
	}
	host_free(buf);
	*total_io = total;
	return err;
}

static int one_remove(struct cfs_fs *fs, struct cfs_inode *ip,
		      const char *name, u32 len)
{
	struct xa_ctx x;
	int err;

	err = xa_load(fs, ip, name, len, 0, &x);
	if (!err && x.off < 0)
		err = x.off;
	if (!err)
		err = xa_cut(&x);
	if (!err)
		err = xa_store_item(&x, 1);
	host_free(x.buf);
	return err;
}

/* ---- xattr continuations (XCONT) ---- */

/* The origin's own chunk keeps half its metadata reserve (what
 * file_make_meta_room leaves for tree splits and forward links). */
static int home_room(const struct cfs_chunk *ch, u32 need)
{
	return ch->hdr.free_blocks >= chunk_meta_reserve(ch) / 2 + need;
}

/* Another chunk gives room above its whole reserve (it is not the chunk
 * that has to hold this inode's metadata). */
static int cont_room(const struct cfs_chunk *ch, u32 need)
{
	return chunk_usable(ch) &&
	       ch->hdr.free_blocks >= chunk_meta_reserve(ch) + need;
}

/* The first forward link of ip to an xattr continuation in a chunk >=
 * from: 0, -ENOENT (none) or an error. */
static int xc_next(struct cfs_fs *fs, struct cfs_inode *ip, u32 from,
		   struct cfs_dcont *dc)
{
	struct cfs_tree t;
	u64 k;
	u32 len;
	int err;

	if (!fs->xcont || (ip->d.flags & CFS_IF_CONT) || !ip->d.xattr_root)
		return -CFS_ENOENT;
	tree_of_inode(fs, ip, CFS_TREE_XATTR, &t);
	err = bt_find_ge(&t, CFS_XKEY_CONT | from, &k, dc, sizeof(*dc), &len);
	if (err)
		return err;
	if (len != sizeof(*dc) || dc->chunk != (u32)k ||
	    dc->chunk >= fs->nchunks || dc->chunk == ip->ch->index) {
		chunk_mark_suspect(fs, ip->ch, "bad xattr continuation link");
		return -CFS_EIO;
	}
	return 0;
}

/* The xattr continuation the forward link dc names, checked against its
 * back link (both ends must agree). */
static int xc_get(struct cfs_fs *fs, struct cfs_inode *ip,
		  const struct cfs_dcont *dc, struct cfs_inode **out)
{
	struct cfs_inode *c;
	int err = inode_get(fs, CFS_MKINO(dc->chunk, dc->ino), &c);

	if (err)
		return err == -CFS_ENOENT ? -CFS_EIO : err;
	if ((c->d.flags & (CFS_IF_CONT | CFS_IF_XCONT)) !=
	    (CFS_IF_CONT | CFS_IF_XCONT) || c->d.back_chunk != ip->ch->index ||
	    c->d.back_ino != ip->local || c->d.back_gen != ip->d.gen ||
	    c->d.gen != dc->gen) {
		chunk_mark_suspect(fs, c->ch, "xattr continuation disagrees "
				   "with its forward link");
		inode_put(fs, c);
		return -CFS_EIO;
	}
	*out = c;
	return 0;
}

/* Whether name is in ip's own tree: 1, 0 or an error. */
static int one_has(struct cfs_fs *fs, struct cfs_inode *ip, const char *name,
		   u32 len)
{
	struct xa_ctx x;
	int err = xa_load(fs, ip, name, len, 0, &x);

	host_free(x.buf);
	if (err == -CFS_ENODATA)
		return 0;
	return err ? err : x.off >= 0;
}

/* ip's own tree holds no xattr (and no forward link). */
static int one_empty(struct cfs_fs *fs, struct cfs_inode *ip)
{
	struct cfs_tree t;
	u64 k;

	if (!ip->d.xattr_root)
		return 1;
	tree_of_inode(fs, ip, CFS_TREE_XATTR, &t);
	return bt_find_ge(&t, 0, &k, NULL, 0, NULL) == -CFS_ENOENT;
}

/* Where name lives: *owner = ip, one of its xattr continuations (a
 * reference the caller puts), or NULL. */
static int xa_where(struct cfs_fs *fs, struct cfs_inode *ip, const char *name,
		    u32 len, struct cfs_inode **owner)
{
	struct cfs_dcont dc;
	struct cfs_inode *c;
	u32 from;
	int err, r, bad = 0;

	*owner = NULL;
	r = one_has(fs, ip, name, len);
	if (r) {
		if (r > 0)
			*owner = ip;
		return r < 0 ? r : 0;
	}
	for (from = 0; !(err = xc_next(fs, ip, from, &dc)); from = dc.chunk + 1) {
		err = xc_get(fs, ip, &dc, &c);
		if (err) {
			bad = err; /* (the others may still hold it) */
			continue;
		}
		r = one_has(fs, c, name, len);
		if (r > 0) {
			*owner = c;
			return 0;
		}
		inode_put(fs, c);
		if (r < 0)
			bad = r;
	}
	if (err != -CFS_ENOENT)
		return err;
	return bad;
}

/* The inode holding an existing xattr name (getxattr, removexattr): ip,
 * or one of its xattr continuations, which the caller puts. */
static int xa_owner(struct cfs_fs *fs, struct cfs_inode *ip, const char *name,
		    u32 *len, struct cfs_inode **owner)
{
	int err = name_check(name, len);

	if (err)
		return err == -CFS_ERANGE ? -CFS_ENODATA : err;
	err = xa_where(fs, ip, name, *len, owner);
	if (!err && !*owner)
		err = -CFS_ENODATA;
	return err;
}

/* A new xattr continuation of ip in chunk to: the continuation with its
 * back link, its index entry, then the forward link's index entry and
 * item (an orphan continuation, if a crash comes between, is what the
 * check of its chunk removes). */
static int xc_new(struct cfs_fs *fs, struct cfs_inode *ip,
		  struct cfs_chunk *to, struct cfs_inode **out)
{
	struct cfs_dcont dc;
	struct cfs_link l;
	struct cfs_inode *c;
	struct cfs_tree t;
	int err;

	err = cont_alloc(fs, ip, to, CFS_S_IFREG, CFS_IF_CONT | CFS_IF_XCONT,
			 &c);
	if (err)
		return err;
	l = (struct cfs_link){ CFS_LINK_BACK_XATTR, ip->local, ip->d.gen,
			       c->d.gen };
	err = link_add(fs, to, ip->ch->index, c->local, &l);
	if (err)
		goto undo_inode;
	l = (struct cfs_link){ CFS_LINK_FWD_XATTR, c->local, c->d.gen,
			       ip->d.gen };
	err = link_add(fs, ip->ch, to->index, ip->local | CFS_LINK_XLOCAL, &l);
	if (err)
		goto undo_back;
	dc = (struct cfs_dcont){ to->index, c->local, c->d.gen, 0 };
	err = xattr_tree(fs, ip, 1, &t);
	if (!err)
		err = bt_insert(&t, CFS_XKEY_CONT | to->index, &dc, sizeof(dc));
	if (err)
		goto undo_fwd;
	*out = c;
	return 0;
undo_fwd:
	link_del(fs, ip->ch, to->index, ip->local | CFS_LINK_XLOCAL);
undo_back:
	link_del(fs, to, ip->ch->index, c->local);
undo_inode:
	cont_discard(fs, c);
	return err;
}

/* Cut the link to xattr continuation c (forward end first) and free c with
 * its tree; puts c. */
static int xc_drop(struct cfs_fs *fs, struct cfs_inode *ip,
		   struct cfs_inode *c)
{
	struct cfs_tree t;
	int err = 0, e;

	tree_of_inode(fs, ip, CFS_TREE_XATTR, &t);
	e = bt_delete(&t, CFS_XKEY_CONT | c->ch->index);
	if (e && e != -CFS_ENOENT)
		err = e;
	e = link_del(fs, ip->ch, c->ch->index, ip->local | CFS_LINK_XLOCAL);
	if (e && e != -CFS_ENOENT && !err)
		err = e;
	e = link_del(fs, c->ch, ip->ch->index, c->local);
	if (e && e != -CFS_ENOENT && !err)
		err = e;
	/* now an ordinary unlinked inode: freed with its tree */
	c->d.flags = 0;
	c->d.nlink = 0;
	e = inode_free(fs, c);
	if (!e)
		c->d.mode = 0;
	inode_put(fs, c);
	return err ? err : e;
}

/* A continuation with room for need more blocks: an existing one, or a
 * new one in the chunk with the most free blocks; NULL if none. */
static struct cfs_inode *xc_pick(struct cfs_fs *fs, struct cfs_inode *ip,
				 u32 need)
{
	struct cfs_dcont dc;
	struct cfs_inode *c;
	struct cfs_chunk *to;
	struct cfs_tree t;
	u32 from;

	for (from = 0; !xc_next(fs, ip, from, &dc); from = dc.chunk + 1) {
		if (xc_get(fs, ip, &dc, &c))
			continue;
		if (cont_room(c->ch, need))
			return c;
		inode_put(fs, c);
	}
	to = chunk_most_free(fs, ip->ch, 2);
	if (!to || !cont_room(to, need))
		return NULL;
	/* (the most free chunk holds one already: it has no room) */
	link_tree(fs, ip->ch, &t);
	if (bt_lookup(&t, ((u64)to->index << 32) | ip->local | CFS_LINK_XLOCAL,
		      NULL, 0, NULL) != -CFS_ENOENT)
		return NULL;
	return xc_new(fs, ip, to, &c) ? NULL : c;
}

/* Free every xattr continuation of origin ip (its eviction). */
static int xc_free_all(struct cfs_fs *fs, struct cfs_inode *ip)
{
	struct cfs_dcont dc;
	struct cfs_inode *c;
	int err;

	while (!(err = xc_next(fs, ip, 0, &dc))) {
		err = xc_get(fs, ip, &dc, &c);
		if (!err) {
			err = xc_drop(fs, ip, c);
		} else {
			/* a continuation that does not answer: the link
			 * goes, the check of its chunk frees the orphan */
			struct cfs_tree t;

			tree_of_inode(fs, ip, CFS_TREE_XATTR, &t);
			err = bt_delete(&t, CFS_XKEY_CONT | dc.chunk);
			link_del(fs, ip->ch, dc.chunk,
				 ip->local | CFS_LINK_XLOCAL);
		}
		if (err)
			return err;
	}
	return err == -CFS_ENOENT ? 0 : err;
}

/* ---- the operations ---- */

int xattr_set(struct cfs_fs *fs, struct cfs_inode *ip, const char *name,
	      const void *value, u32 size, u32 flags)
{
	struct cfs_inode *owner, *target;
	u32 len, need;
	int err, e;

	err = name_check(name, &len);
	if (err)
		return err;
	if (size > CFS_XATTR_MAX_VALUE)
		return -CFS_E2BIG;
	if (!fs->xcont || (ip->d.flags & CFS_IF_CONT))
		return one_set(fs, ip, name, len, value, size, flags);
	err = xa_where(fs, ip, name, len, &owner);
	if (err)
		return err;
	if (owner && (flags & CFS_XATTR_CREATE))
		err = -CFS_EEXIST;
	else if (!owner && (flags & CFS_XATTR_REPLACE))
		err = -CFS_ENODATA;
	if (err)
		goto out;
	need = xc_need(fs, size);
	if (owner && owner != ip && cont_room(owner->ch, need))
		target = owner;
	else if (home_room(ip->ch, need))
		target = ip;
	else
		target = xc_pick(fs, ip, need);
	if (!target)
		target = ip; /* no room anywhere: the home tries */
	/* the new value first, then the old one goes: a failure keeps it */
	err = one_set(fs, target, name, len, value, size, 0);
	if (target != ip && (e = inode_write(fs, target)) && !err)
		err = e; /* (its block count) */
	if (!err && owner && owner != target) {
		err = one_remove(fs, owner, name, len);
		if (owner != ip && (e = inode_write(fs, owner)) && !err)
			err = e;
	}
	if (owner && owner != ip && owner != target) {
		e = one_empty(fs, owner) ? xc_drop(fs, ip, owner) : 0;
		if (!e)
			owner = NULL; /* (dropped and put) */
		if (e && !err)
			err = e;
	}
	if (target != ip && target != owner) {
		if (err && one_empty(fs, target))
			xc_drop(fs, ip, target);
		else
			inode_put(fs, target);
	}
out:
	if (owner && owner != ip)
		inode_put(fs, owner);
	return err;
}

s64 xattr_get(struct cfs_fs *fs, struct cfs_inode *ip, const char *name,
	      void *value, u32 size)
{
	struct cfs_inode *owner;
	u32 len;
	s64 ret;
	int err;

	err = xa_owner(fs, ip, name, &len, &owner);
	if (err)
		return err;
	ret = one_get(fs, owner, name, len, value, size);
	if (owner != ip)
		inode_put(fs, owner);
	return ret;
}

s64 xattr_list(struct cfs_fs *fs, struct cfs_inode *ip, char *list, u32 size)
{
	struct cfs_dcont dc;
	struct cfs_inode *c;
	u64 total = 0;
	u32 from;
	int err;

	err = one_list(fs, ip, list, size, &total);
	for (from = 0; !err && !(err = xc_next(fs, ip, from, &dc));
	     from = dc.chunk + 1) {
		err = xc_get(fs, ip, &dc, &c);
		if (err)
			break;
		err = one_list(fs, c, list, size, &total);
		inode_put(fs, c);
	}
	if (err == -CFS_ENOENT)
		err = 0;
	return err ? err : (s64)total;
}

int xattr_remove(struct cfs_fs *fs, struct cfs_inode *ip, const char *name)
{
	struct cfs_inode *owner;
	u32 len;
	int err;

	err = xa_owner(fs, ip, name, &len, &owner);
	if (err)
		return err;
	err = one_remove(fs, owner, name, len);
	if (owner != ip) {
		int e = inode_write(fs, owner); /* (its block count) */

		if (e && !err)
			err = e;
		/* the last spilled xattr there: the continuation goes */
		if (!err && one_empty(fs, owner))
			err = xc_drop(fs, ip, owner);
		else
			inode_put(fs, owner);
	}
	return err;
}

int xattr_free_all(struct cfs_fs *fs, struct cfs_inode *ip)
{
	struct cfs_tree t;
	int err;

	err = xc_free_all(fs, ip);
	if (err)
		return err;
	if (!ip->d.xattr_root)
		return 0;
	tree_of_inode(fs, ip, CFS_TREE_XATTR, &t);
	err = bt_destroy(&t);
	if (err)
		return err;
	free_meta_pair(fs, ip->ch, ip->d.xattr_root, t.root_blk2);
	ip->d.blocks -= CFS_MIN(ip->d.blocks, t.root_blk2 ? 2u : 1u);
	ip->d.xattr_root = 0;
	if (fs->metagen) {
		cfs_dtail(&ip->d)->xattr_root2 = 0;
		cfs_dtail(&ip->d)->xattr_gen = 0;
	}
	return inode_write(fs, ip);
}
