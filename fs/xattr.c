// SPDX-License-Identifier: GPL-2.0
/*
 * xattr.c - extended attributes: a B+tree per inode rooted in a block of
 * the inode's chunk (xattr_root), keyed by a hash of the name; an item holds
 * the cfs_xattr records whose names share the hash.  Values up to 64 KiB:
 * one too large for the item goes into the following keys (CFS_XATTR_EXT).
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

int xattr_set(struct cfs_fs *fs, struct cfs_inode *ip, const char *name,
	      const void *value, u32 size, u32 flags)
{
	struct xa_ctx x;
	struct cfs_xattr *r;
	u32 len, i, ext;
	int err, existed;

	err = name_check(name, &len);
	if (err)
		return err;
	if (size > CFS_XATTR_MAX_VALUE)
		return -CFS_E2BIG;
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

s64 xattr_get(struct cfs_fs *fs, struct cfs_inode *ip, const char *name,
	      void *value, u32 size)
{
	const struct cfs_xattr *r;
	struct xa_ctx x;
	u32 len, i, got;
	s64 ret;
	int err;

	err = name_check(name, &len);
	if (err)
		return err == -CFS_ERANGE ? -CFS_ENODATA : err;
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

s64 xattr_list(struct cfs_fs *fs, struct cfs_inode *ip, char *list, u32 size)
{
	struct cfs_tree t;
	u64 k = 0, total = 0;
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
		if (err == -CFS_ENOENT) {
			err = 0;
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
	return err ? err : (s64)total;
}

int xattr_remove(struct cfs_fs *fs, struct cfs_inode *ip, const char *name)
{
	struct xa_ctx x;
	u32 len;
	int err;

	err = name_check(name, &len);
	if (err)
		return err == -CFS_ERANGE ? -CFS_ENODATA : err;
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

int xattr_free_all(struct cfs_fs *fs, struct cfs_inode *ip)
{
	struct cfs_tree t;
	int err;

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
