// SPDX-License-Identifier: GPL-2.0
/*
 * xattr.c - extended attributes: a B+tree per inode rooted in a block of
 * the inode's chunk (xattr_root), keyed by a hash of the name; an item holds
 * the cfs_xattr records whose names share the hash.  A value must fit in
 * one item (bt_max_item less the name): about 2000 bytes with 4 KiB blocks.
 */
#include "internal.h"

#define XA_HDR ((u32)sizeof(struct cfs_xattr))

static u64 xattr_hash(const char *name, u32 len)
{
	return cfs_fnv1a(0xcbf29ce484222325ULL, name, len) >> 1;
}

static int xattr_tree(struct cfs_fs *fs, struct cfs_inode *ip, int create,
		      struct cfs_tree *t)
{
	tree_of_inode(fs, ip, CFS_TREE_XATTR, t);
	if (!ip->d.xattr_root) {
		struct cfs_buf *b;
		struct cfs_bhdr *h;
		u32 blk;
		int err;

		if (!create)
			return -CFS_ENODATA;
		err = alloc_meta_block(fs, ip->ch, &blk);
		if (err)
			return err;
		err = buf_new(fs, ip->ch, blk, CFS_MAGIC_BTREE, &b);
		if (err) {
			free_blocks(fs, ip->ch, blk, 1);
			return err;
		}
		h = (struct cfs_bhdr *)b->data;
		h->tree = CFS_TREE_XATTR;
		h->owner_lo = ip->local;
		bt_init_node(b->data + sizeof(*h), CFS_PAYLOAD(fs));
		buf_put(fs, b);
		ip->d.xattr_root = blk;
		ip->d.blocks++;
		err = inode_write(fs, ip);
		if (err)
			return err;
		t->root_blk = blk;
	}
	return 0;
}

/* Offset of the record named name in buf, or -ENODATA. */
static int xa_find(const u8 *buf, u32 blen, const char *name, u32 len,
		   u32 *rsize)
{
	u32 off = 0;

	while (off + XA_HDR <= blen) {
		const struct cfs_xattr *x = (const void *)(buf + off);
		u32 sz = XA_HDR + x->namelen + x->vlen;

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

int xattr_set(struct cfs_fs *fs, struct cfs_inode *ip, const char *name,
	      const void *value, u32 size, u32 flags)
{
	struct cfs_tree t;
	struct cfs_xattr *x;
	u32 len, blen = 0, rsize = 0, max;
	u64 h;
	u8 *buf;
	int err, off = -CFS_ENODATA;

	err = name_check(name, &len);
	if (err)
		return err;
	if (size > 65536)
		return -CFS_E2BIG;
	err = xattr_tree(fs, ip, !(flags & CFS_XATTR_REPLACE), &t);
	if (err)
		return err;
	max = bt_max_item(&t);
	buf = host_alloc(max + XA_HDR + CFS_NAME_MAX + size);
	if (!buf)
		return -CFS_ENOMEM;
	h = xattr_hash(name, len);
	err = bt_lookup(&t, h, buf, max, &blen);
	if (!err) {
		blen = CFS_MIN(blen, max);
		off = xa_find(buf, blen, name, len, &rsize);
		if (off == -CFS_EIO) {
			err = off;
			goto out;
		}
	} else if (err != -CFS_ENOENT) {
		goto out;
	} else {
		blen = 0;
	}
	if (off >= 0 && (flags & CFS_XATTR_CREATE)) {
		err = -CFS_EEXIST;
		goto out;
	}
	if (off < 0 && (flags & CFS_XATTR_REPLACE)) {
		err = -CFS_ENODATA;
		goto out;
	}
	if (off >= 0) {
		cfs_memmove(buf + off, buf + off + rsize, blen - off - rsize);
		blen -= rsize;
	}
	if (blen + XA_HDR + len + size > max) {
		err = -CFS_ENOSPC;
		goto out;
	}
	x = (struct cfs_xattr *)(buf + blen);
	x->namelen = (u8)len;
	x->pad = 0;
	x->vlen = (u16)size;
	cfs_memcpy(x->data, name, len);
	if (size)
		cfs_memcpy(x->data + len, value, size);
	blen += XA_HDR + len + size;
	if (off >= 0 || err == 0)
		err = bt_update(&t, h, buf, blen);
	else
		err = bt_insert(&t, h, buf, blen);
	if (err == -CFS_ENOENT)
		err = bt_insert(&t, h, buf, blen);
out:
	host_free(buf);
	return err;
}

s64 xattr_get(struct cfs_fs *fs, struct cfs_inode *ip, const char *name,
	      void *value, u32 size)
{
	struct cfs_tree t;
	const struct cfs_xattr *x;
	u32 len, blen, rsize, max;
	u8 *buf;
	int err, off;
	s64 ret;

	err = name_check(name, &len);
	if (err)
		return err == -CFS_ERANGE ? -CFS_ENODATA : err;
	err = xattr_tree(fs, ip, 0, &t);
	if (err)
		return err;
	max = bt_max_item(&t);
	buf = host_alloc(max);
	if (!buf)
		return -CFS_ENOMEM;
	err = bt_lookup(&t, xattr_hash(name, len), buf, max, &blen);
	if (err) {
		host_free(buf);
		return err == -CFS_ENOENT ? -CFS_ENODATA : err;
	}
	off = xa_find(buf, CFS_MIN(blen, max), name, len, &rsize);
	if (off < 0) {
		host_free(buf);
		return off;
	}
	x = (const void *)(buf + off);
	ret = x->vlen;
	if (size) {
		if (size < x->vlen)
			ret = -CFS_ERANGE;
		else
			cfs_memcpy(value, x->data + x->namelen, x->vlen);
	}
	host_free(buf);
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
		blen = CFS_MIN(blen, max);
		while (off + XA_HDR <= blen) {
			const struct cfs_xattr *x = (const void *)(buf + off);

			if (off + XA_HDR + x->namelen + x->vlen > blen)
				break;
			if (size) {
				if (total + x->namelen + 1 > size) {
					host_free(buf);
					return -CFS_ERANGE;
				}
				cfs_memcpy(list + total, x->data, x->namelen);
				list[total + x->namelen] = 0;
			}
			total += x->namelen + 1u;
			off += XA_HDR + x->namelen + x->vlen;
		}
		k++;
	}
	host_free(buf);
	return err ? err : (s64)total;
}

int xattr_remove(struct cfs_fs *fs, struct cfs_inode *ip, const char *name)
{
	struct cfs_tree t;
	u32 len, blen, rsize, max;
	u64 h;
	u8 *buf;
	int err, off;

	err = name_check(name, &len);
	if (err)
		return err == -CFS_ERANGE ? -CFS_ENODATA : err;
	err = xattr_tree(fs, ip, 0, &t);
	if (err)
		return err;
	max = bt_max_item(&t);
	buf = host_alloc(max);
	if (!buf)
		return -CFS_ENOMEM;
	h = xattr_hash(name, len);
	err = bt_lookup(&t, h, buf, max, &blen);
	if (err) {
		host_free(buf);
		return err == -CFS_ENOENT ? -CFS_ENODATA : err;
	}
	blen = CFS_MIN(blen, max);
	off = xa_find(buf, blen, name, len, &rsize);
	if (off < 0) {
		host_free(buf);
		return off;
	}
	if (rsize == blen) {
		err = bt_delete(&t, h);
	} else {
		cfs_memmove(buf + off, buf + off + rsize, blen - off - rsize);
		err = bt_update(&t, h, buf, blen - rsize);
	}
	host_free(buf);
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
	err = free_blocks(fs, ip->ch, ip->d.xattr_root, 1);
	if (err)
		return err;
	ip->d.xattr_root = 0;
	if (ip->d.blocks)
		ip->d.blocks--;
	return inode_write(fs, ip);
}
