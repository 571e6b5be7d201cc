// SPDX-License-Identifier: GPL-2.0
/*
 * test_heal.c - heal, don't discard (format v2, issue 12): damage to one
 * copy of any metadata block is healed from the other, by the mount's
 * reads and by the checker, and nothing is lost.
 *
 * A filesystem is built in memory with every kind of metadata block and
 * trees more than one level deep: a fragmented file (an extent tree with
 * internal nodes), a directory of 3000 names (a directory tree with
 * internal nodes), a file with large xattrs (an xattr tree with internal
 * nodes), small xattrs (one root block), files with continuations, hard
 * links, symlinks.  A first snapshot (S1) is taken, then the tree is
 * changed (appends, new names, renames, chmod, xattrs) and unmounted
 * (S2, the image every trial starts from).  The referenced metadata blocks
 * of S2 are collected through the format (chunk layout, inode tables,
 * every tree from its root), each with both copies and its kind.
 *
 * Each trial damages the first copy of one block in one of five ways: bit
 * flips, zeroed, stale (the same block from S1), misdirected (another
 * valid block of the same kind copied over it), swapped with another
 * metadata block.  Then, without fsck: the mount reads every file; each
 * must be at its path, byte-identical, with mode, owner, times and xattrs
 * as before; no lost+found has anything; a "corrected" event was emitted;
 * after the unmount `fsck -fn` finds no problem and no bad copy (the mount
 * healed it on disk).  The same damage, to either copy, is also given to
 * `fsck -y --chunk K` alone: no problem, a corrected copy, then clean.
 *
 * The same trials on a filesystem without second copies (-m single) must
 * detect every stale block (an error or a problem, never silently wrong
 * data): shown able to fail.  On v1 (no generations) a stale block can
 * pass unseen; its figure is printed.  The orphan list (kept in the link
 * index) is damaged in an image a crash left with an open unlinked file.
 *
 *   test_heal [TRIALS [SEED]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/check.h"
#include "../../fs/internal.h"
#include "../lib/membdev.h"
#include "../lib/tap.h"

#define BS 4096u
#define CB 1024u               /* 4 MiB chunks */
#define DEV (96u << 20)
#define MAXE 4096
#define MAXB 8192

static struct cfs_cred cr = { .uid = 0, .gid = 0 };
static u32 rs;

static u32 rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 17;
	rs ^= rs << 5;
	return rs;
}

/* ---- the model: every name and what it must read back as ---- */

struct ent {
	char path[160];
	u64 ino;
	struct cfs_attr a;
	u32 crc;              /* content (files), target (symlinks) */
	u32 xcrc;             /* the xattr names and values */
};
static struct ent model[MAXE];
static u32 nmodel;

static u32 content_crc(struct cfs_fs *fs, const struct cfs_attr *a, int *err)
{
	static u8 buf[1 << 20];
	u64 off = 0;
	u32 crc = 0;

	*err = 0;
	if ((a->mode & CFS_S_IFMT) == CFS_S_IFLNK) {
		int n = cfs_readlink(fs, a->ino, (char *)buf, sizeof(buf));

		if (n < 0)
			*err = n;
		return n < 0 ? 0 : host_crc32(0, buf, (u64)n);
	}
	if ((a->mode & CFS_S_IFMT) != CFS_S_IFREG)
		return 0;
	while (off < a->size) {
		s64 n = cfs_read(fs, a->ino, off, sizeof(buf), buf);

		if (n <= 0) {
			*err = n < 0 ? (int)n : -CFS_EIO;
			return 0;
		}
		crc = host_crc32(crc, buf, (u64)n);
		off += (u64)n;
	}
	return crc;
}

static u32 xattr_crc(struct cfs_fs *fs, u64 ino, int *err)
{
	static char list[8192];
	static u8 val[70000];
	s64 n = cfs_listxattr(fs, ino, list, sizeof(list)), i;
	u32 crc = 0;

	*err = 0;
	if (n < 0) {
		*err = (int)n;
		return 0;
	}
	for (i = 0; i < n; i += (s64)strlen(list + i) + 1) {
		s64 v = cfs_getxattr(fs, ino, list + i, val, sizeof(val));

		if (v < 0) {
			*err = (int)v;
			return 0;
		}
		crc = host_crc32(crc, list + i, strlen(list + i));
		crc = host_crc32(crc, val, (u64)v);
	}
	return crc;
}

struct walk {
	struct cfs_fs *fs;
	u64 ino;
	char path[160];
	struct ent *out;      /* record (NULL: compare with the model) */
	u32 n, errors, wrong, seen;
	u8 *found;            /* which model entries were seen */
};

struct dirent_list {
	char name[64][256];
	u64 ino[64];
	u32 n;
	u64 next;
};

static int collect(void *ctx, const char *name, u32 len, u64 ino, u32 type,
		   u64 next)
{
	struct dirent_list *l = ctx;

	(void)type;
	if (l->n == 64)
		return 1;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.')) {
		l->next = next;
		return 0;
	}
	memcpy(l->name[l->n], name, len);
	l->name[l->n][len] = 0;
	l->ino[l->n++] = ino;
	l->next = next;
	return 0;
}

static void walk_dir(struct walk *w, u64 dir, const char *path);

static void visit(struct walk *w, u64 ino, const char *path)
{
	struct cfs_attr a;
	struct ent e;
	int err, xerr;

	if (cfs_getattr(w->fs, ino, &a)) {
		w->errors++;
		return;
	}
	memset(&e, 0, sizeof(e));
	snprintf(e.path, sizeof(e.path), "%s", path);
	e.ino = ino;
	e.a = a;
	e.crc = content_crc(w->fs, &a, &err);
	e.xcrc = xattr_crc(w->fs, ino, &xerr);
	if (err || xerr)
		w->errors++;
	if (w->out) {
		if (w->n < MAXE)
			w->out[w->n++] = e;
	} else {
		u32 i;

		for (i = 0; i < nmodel; i++)
			if (!strcmp(model[i].path, path))
				break;
		if (i == nmodel) {
			w->wrong++; /* a name that was not there */
		} else {
			const struct cfs_attr *m = &model[i].a;

			w->found[i] = 1;
			w->seen++;
			if (!err && !xerr &&
			    (m->ino != a.ino || m->mode != a.mode ||
			     m->uid != a.uid || m->gid != a.gid ||
			     m->size != a.size || m->nlink != a.nlink ||
			     m->mtime != a.mtime || m->mtime_ns != a.mtime_ns ||
			     m->ctime != a.ctime || m->ctime_ns != a.ctime_ns ||
			     m->atime != a.atime || m->atime_ns != a.atime_ns ||
			     model[i].crc != e.crc || model[i].xcrc != e.xcrc))
				w->wrong++; /* silently different */
		}
	}
	if ((a.mode & CFS_S_IFMT) == CFS_S_IFDIR)
		walk_dir(w, ino, path);
}

static void walk_dir(struct walk *w, u64 dir, const char *path)
{
	struct dirent_list *l = malloc(sizeof(*l));
	u64 cookie = 0;
	char sub[160];
	u32 i;

	for (;;) {
		int err;

		l->n = 0;
		l->next = cookie;
		err = cfs_readdir(w->fs, dir, cookie, collect, l);
		if (err) {
			w->errors++;
			break;
		}
		for (i = 0; i < l->n; i++) {
			snprintf(sub, sizeof(sub), "%s/%s", path, l->name[i]);
			visit(w, l->ino[i], sub);
		}
		if (l->n < 64)
			break;
		cookie = l->next;
	}
	free(l);
}

/* Walk the whole tree: record it (out) or compare it with the model. */
static void walk_all(struct cfs_fs *fs, struct walk *w)
{
	w->fs = fs;
	w->n = w->errors = w->wrong = w->seen = 0;
	walk_dir(w, CFS_ROOT_INO, "");
}

/* ---- building the two snapshots ---- */

static u64 mk(struct cfs_fs *fs, u64 dir, const char *name, u32 mode)
{
	struct cfs_attr a;
	int err = cfs_mknod(fs, dir, name, strlen(name), mode, 0, &cr, &a);

	CHECK(!err, "mknod %s: %d", name, err);
	if (err)
		return 0;
	cfs_forget(fs, a.ino, 1);
	return a.ino;
}

static void fill(u8 *b, u64 n, u32 seed)
{
	u64 i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (u8)(seed >> 16);
	}
}

static u64 frag_ino, many_dir, xbig_ino;

static void build(struct membdev *m, u32 no_features, u8 *s1)
{
	struct cfs_mkfs_opts o;
	struct cfs_fs *fs;
	struct cfs_attr a;
	const char *why;
	u8 *buf = malloc(6 << 20);
	char name[64];
	u64 d, big, f;

	(void)name;
	u32 i;

	memset(&o, 0, sizeof(o));
	o.chunk_bytes = 4 << 20;
	o.no_features = no_features;
	memcpy(o.uuid, "heal-test-uuid-1", 16);
	CHECK_OK(cfs_mkfs(&m->bdev, &o));
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	fill(buf, 6 << 20, 7);
	/* a fragmented file: 1400 extents, an extent tree two levels deep */
	frag_ino = mk(fs, CFS_ROOT_INO, "frag", CFS_S_IFREG | 0640);
	for (i = 0; i < 1400; i++)
		CHECK_EQ(cfs_write(fs, frag_ino, (u64)i * 2 * BS, BS,
				   buf + i * 64), BS);
	/* a big file with continuations */
	big = mk(fs, CFS_ROOT_INO, "big", CFS_S_IFREG | 0644);
	CHECK_EQ(cfs_write(fs, big, 0, (5u << 20) + 777, buf), (5u << 20) + 777);
	/* a directory of 3000 names: a directory tree with internal nodes */
	many_dir = mk(fs, CFS_ROOT_INO, "many", CFS_S_IFDIR | 0755);
	for (i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "a-long-enough-name-%04u", i);
		f = mk(fs, many_dir, name, CFS_S_IFREG | 0600);
		if (i % 10 == 0)
			CHECK_EQ(cfs_write(fs, f, 0, 100 + i, buf + i),
				 100 + i);
		if (i % 250 == 0)
			CHECK_OK(cfs_setxattr(fs, f, "user.small", "v", 1, 0));
	}
	/* large xattrs: an xattr tree with internal nodes */
	xbig_ino = mk(fs, CFS_ROOT_INO, "xbig", CFS_S_IFREG | 0644);
	for (i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "user.big%u", i);
		CHECK_OK(cfs_setxattr(fs, xbig_ino, name, buf + i * 999,
				      20000, 0));
	}
	d = mk(fs, CFS_ROOT_INO, "d", CFS_S_IFDIR | 0700);
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "sub%u", i);
		f = mk(fs, d, name, CFS_S_IFDIR | 0755);
		snprintf(name, sizeof(name), "file%u", i);
		f = mk(fs, f, name, CFS_S_IFREG | 0644);
		CHECK_EQ(cfs_write(fs, f, 0, 5000 * (i + 1), buf + i),
			 5000 * (i + 1));
	}
	CHECK_OK(cfs_link(fs, big, d, "biglink", 7, &a));
	cfs_forget(fs, a.ino, 1);
	CHECK_OK(cfs_symlink(fs, d, "short", 5, "../big", 6, &cr, &a));
	cfs_forget(fs, a.ino, 1);
	memset(name, 'L', 60);
	CHECK_OK(cfs_symlink(fs, d, "long", 4, (char *)buf, 300, &cr, &a));
	cfs_forget(fs, a.ino, 1);
	CHECK_OK(cfs_unmount(fs));
	memcpy(s1, m->mem, DEV);   /* S1: the older versions */
	/* stage 2: change much of it */
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	CHECK_EQ(cfs_write(fs, big, 100, 5000, buf + 9), 5000);
	for (i = 0; i < 1400; i += 3)
		CHECK_EQ(cfs_write(fs, frag_ino, (u64)i * 2 * BS + 100, 50,
				   buf + 3 * i), 50);
	for (i = 0; i < 3000; i += 7) {
		char to[64];

		snprintf(name, sizeof(name), "a-long-enough-name-%04u", i);
		snprintf(to, sizeof(to), "renamed-%04u", i);
		CHECK_OK(cfs_rename(fs, many_dir, name, strlen(name), many_dir,
				    to, strlen(to), 0));
	}
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "late-%u", i);
		mk(fs, many_dir, name, CFS_S_IFREG | 0644);
	}
	{
		struct cfs_setattr sa;

		memset(&sa, 0, sizeof(sa));
		sa.valid = CFS_SET_MODE;
		sa.mode = 0600;
		CHECK_OK(cfs_setattr(fs, big, &sa, &a));
	}
	CHECK_OK(cfs_setxattr(fs, xbig_ino, "user.big3", buf + 5, 21000, 0));
	CHECK_OK(cfs_unmount(fs));
	free(buf);
}

/* ---- the referenced metadata blocks of the image ---- */

enum {
	K_ITABLE, K_EXT_LEAF, K_EXT_INT, K_DIR_LEAF, K_DIR_INT, K_XATTR_ROOT,
	K_XATTR_LEAF, K_LINK_ROOT, K_GTAB, K_CHUNK_HDR, K_BBMAP, K_IBMAP,
	K_NKINDS
};
static const char *kind_name[K_NKINDS] = {
	"inode table", "extent leaf", "extent internal node",
	"directory leaf", "directory internal node", "xattr root",
	"xattr leaf", "link index root", "generation table", "chunk header",
	"block bitmap", "inode bitmap",
};

struct mblk {
	u32 k, blk, blk2, kind;
};
static struct mblk blocks[MAXB];
static u32 nblocks_;

static void add_block(u32 k, u32 blk, u32 blk2, u32 kind)
{
	if (nblocks_ < MAXB)
		blocks[nblocks_++] = (struct mblk){ k, blk, blk2, kind };
}

struct cw {
	u32 k, tree;
};

static int cw_item(void *ctx, u64 key, const u8 *val, u32 len)
{
	(void)ctx;
	(void)key;
	(void)val;
	(void)len;
	return 0;
}

static void cw_bad(void *ctx, u32 blk, const char *why)
{
	(void)ctx;
	CHECK(0, "the undamaged image has a bad node %u: %s", blk, why);
}

static void cw_dropped(void *ctx, u32 blk, u32 blk2)
{
	(void)ctx;
	(void)blk;
	(void)blk2;
}

/* The level of a node, from the image itself. */
static u32 node_level(struct membdev *m, u32 k, u32 blk)
{
	const u8 *b = m->mem + ((u64)2 + (u64)k * CB + blk) * BS;

	return ((const struct cfs_node_hdr *)(b + 64))->level;
}

static struct membdev *cur;

static int cw_node_rec(void *ctx, u32 blk, u32 blk2)
{
	struct cw *w = ctx;
	u32 lvl = node_level(cur, w->k, blk), kind;

	if (w->tree == CFS_TREE_EXTENT)
		kind = lvl ? K_EXT_INT : K_EXT_LEAF;
	else if (w->tree == CFS_TREE_DIR)
		kind = lvl ? K_DIR_INT : K_DIR_LEAF;
	else if (w->tree == CFS_TREE_XATTR)
		kind = K_XATTR_LEAF;
	else
		return 0;
	add_block(w->k, blk, blk2, kind);
	return 0;
}

static void collect_blocks(struct membdev *m)
{
	struct cfs_fs *fs;
	const char *why;
	u32 k;

	cur = m;
	nblocks_ = 0;
	CHECK_OK(cfs_mount_check(&m->bdev, CFS_MOUNT_RDONLY, &fs, &why));
	host_mutex_lock(fs->lock);
	for (k = 0; k < fs->nchunks; k++) {
		struct cfs_chunk *ch = chunk_get(fs, k);
		struct cfs_chunk_hdr *h = &ch->hdr;
		u32 ipb = (BS - 64) / CFS_INODE_SIZE, i, b;
		struct bt_walk_ops ops = { cw_node_rec, cw_item, cw_bad,
					   cw_dropped };
		struct cw w = { k, 0 };
		struct cfs_tree t;

		for (b = 0; b < h->itable_init; b++)
			add_block(k, h->itable_start + b,
				  chunk_mirror(ch, h->itable_start + b),
				  K_ITABLE);
		for (b = 0; b < h->gtab_blocks; b++)
			add_block(k, h->gtab_start + b,
				  chunk_mirror(ch, h->gtab_start + b), K_GTAB);
		for (b = 0; b < h->bbmap_blocks; b++)
			add_block(k, h->bbmap_start + b,
				  chunk_mirror(ch, h->bbmap_start + b),
				  K_BBMAP);
		for (b = 0; b < h->ibmap_blocks; b++)
			add_block(k, h->ibmap_start + b,
				  chunk_mirror(ch, h->ibmap_start + b),
				  K_IBMAP);
		add_block(k, h->link_root, h->link_root2, K_LINK_ROOT);
		add_block(k, 0, h->nblocks - 1, K_CHUNK_HDR);
		for (i = 1; i < h->ninodes && i / ipb < h->itable_init; i++) {
			struct cfs_inode *ip;

			if (inode_get(fs, CFS_MKINO(k, i), &ip))
				continue;
			if (!ip->d.mode) {
				inode_put(fs, ip);
				continue;
			}
			if (CFS_ISREG(ip->d.mode) ||
			    (CFS_ISLNK(ip->d.mode) &&
			     !(ip->d.flags & CFS_IF_INLINE_LINK))) {
				w.tree = CFS_TREE_EXTENT;
				tree_of_inode(fs, ip, CFS_TREE_EXTENT, &t);
				bt_walk(&t, &ops, &w, 0);
			} else if (CFS_ISDIR(ip->d.mode)) {
				w.tree = CFS_TREE_DIR;
				tree_of_inode(fs, ip, CFS_TREE_DIR, &t);
				bt_walk(&t, &ops, &w, 0);
			}
			if (ip->d.xattr_root) {
				tree_of_inode(fs, ip, CFS_TREE_XATTR, &t);
				add_block(k, t.root_blk, t.root_blk2,
					  K_XATTR_ROOT);
				w.tree = CFS_TREE_XATTR;
				bt_walk(&t, &ops, &w, 0);
			}
			inode_put(fs, ip);
		}
	}
	host_mutex_unlock(fs->lock);
	CHECK_OK(cfs_unmount(fs));
}

/* ---- damage ---- */

enum { D_FLIP, D_ZERO, D_STALE, D_MISDIRECT, D_SWAP, D_NKINDS };
static const char *dmg_name[D_NKINDS] = {
	"bit flips", "zeroed", "stale", "misdirected", "swapped",
};

static u8 *blkp(struct membdev *m, u32 k, u32 l)
{
	return m->mem + ((u64)2 + (u64)k * CB + l) * BS;
}

/* Another referenced block of the same kind in another place (misdirected),
 * or another of the same chunk that every mount reads (swap: two writes
 * that went to each other's place; the mount must meet both to heal
 * both); its first copy. */
static const struct mblk *other_block(const struct mblk *b, int same_kind)
{
	u32 tries;

	for (tries = 0; tries < 4000; tries++) {
		const struct mblk *o = &blocks[rnd() % nblocks_];

		if (o == b || (o->k == b->k && o->blk == b->blk))
			continue;
		if (same_kind ? o->kind == b->kind :
		    o->k == b->k && o->kind != K_ITABLE &&
		    o->kind != K_BBMAP && o->kind != K_IBMAP &&
		    o->kind != K_GTAB)
			return o;
	}
	return NULL;
}

/* Damage copy `copy` (0 first, 1 second) of block b; 0 if this damage
 * does not apply to it (a stale version that does not exist). */
static int damage(struct membdev *m, const u8 *s1, const struct mblk *b,
		  int kind, int copy)
{
	u32 l = copy ? b->blk2 : b->blk;
	u8 *p = blkp(m, b->k, l);
	const u8 *old = s1 + (p - m->mem);
	const struct mblk *o;
	u32 i;

	if (!l)
		return 0;
	switch (kind) {
	case D_FLIP:
		for (i = 0; i < 4; i++)
			p[64 + rnd() % (BS - 64)] ^= (u8)(1u << (rnd() % 8));
		return 1;
	case D_ZERO:
		memset(p, 0, BS);
		return 1;
	case D_STALE:
		/* the same block, an older valid version of it */
		if (!memcmp(old, p, BS) ||
		    ((const struct cfs_bhdr *)old)->magic !=
		    ((const struct cfs_bhdr *)p)->magic ||
		    ((const struct cfs_bhdr *)old)->crc !=
		    host_crc32(0, old + 4, BS - 4))
			return 0;
		memcpy(p, old, BS);
		return 1;
	case D_MISDIRECT:
		o = other_block(b, 1);
		if (!o)
			return 0;
		memcpy(p, blkp(m, o->k, o->blk), BS);
		return 1;
	case D_SWAP: {
		u8 tmp[BS];

		o = other_block(b, 0);
		if (!o)
			return 0;
		memcpy(tmp, p, BS);
		memcpy(p, blkp(m, o->k, o->blk), BS);
		memcpy(blkp(m, o->k, o->blk), tmp, BS);
		return 1;
	}
	}
	return 0;
}

/* ---- checks ---- */

static u32 fsck_all(struct membdev *m, u32 *corrected)
{
	struct cfs_fs *fs;
	struct cfs_check_result r;
	const char *why;
	u32 k, found = 0;

	*corrected = 0;
	if (cfs_mount_check(&m->bdev, CFS_MOUNT_RDONLY, &fs, &why))
		return 1000;
	if (cfs_check_super(fs, CFS_CHECK_NOFIX, NULL, NULL, &r))
		found += 1000;
	found += r.found;
	*corrected += r.corrected;
	for (k = 0; k < cfs_nchunks(fs); k++) {
		if (cfs_check_chunk(fs, k, CFS_CHECK_NOFIX, NULL, NULL, &r))
			found += 1000;
		found += r.found;
		*corrected += r.corrected;
	}
	cfs_unmount(fs);
	return found;
}

/* fsck -y --chunk k and the peers its cross pass names */
static void fsck_chunk(struct membdev *m, u32 k, u32 *found, u32 *corrected)
{
	struct cfs_fs *fs;
	struct cfs_check_result r;
	const char *why;
	u32 queue[64], nq = 0, q, j;

	*found = *corrected = 0;
	if (cfs_mount_check(&m->bdev, 0, &fs, &why)) {
		*found = 1000;
		return;
	}
	queue[nq++] = k;
	for (q = 0; q < nq; q++) {
		if (cfs_check_chunk(fs, queue[q], CFS_CHECK_FIXALL, NULL, NULL,
				    &r))
			*found += 1000;
		*found += r.found;
		*corrected += r.corrected;
		for (j = 0; j < r.nrecheck && nq < 64; j++)
			queue[nq++] = r.recheck[j];
	}
	cfs_unmount(fs);
}

static int lost_found_empty(struct cfs_fs *fs)
{
	struct walk w;

	memset(&w, 0, sizeof(w));
	w.out = malloc(sizeof(struct ent) * MAXE);
	w.fs = fs;
	{
		struct cfs_attr a;

		if (cfs_lookup(fs, CFS_ROOT_INO, "lost+found", 10, &a)) {
			free(w.out);
			return 0;
		}
		walk_dir(&w, a.ino, "/lost+found");
		cfs_forget(fs, a.ino, 1);
	}
	free(w.out);
	/* only the chunk-K directories themselves */
	return w.n == cfs_nchunks(fs);
}

static u32 stat_named_events; /* corrected events naming a file */

/* A corrected event was made; one that names an inode (a tree node's
 * owner) names its file by path too (parent pointers: a file of the
 * model, or a directory of it), the path as the library finds it. */
static int saw_corrected(struct cfs_fs *fs)
{
	struct chunkfs_events ev;
	int seen = 0;
	u32 i;

	memset(&ev, 0, sizeof(ev));
	if (cfs_events(fs, &ev))
		return 0;
	for (i = 0; i < ev.count; i++) {
		char want[512];

		if (ev.e[i].code != CHUNKFS_E_CORRECTED)
			continue;
		seen = 1;
		if (!ev.e[i].ino)
			continue;
		CHECK(ev.e[i].path[0] == '/', "corrected event of inode %llx "
		      "names no path [%s]", (unsigned long long)ev.e[i].ino,
		      ev.e[i].msg);
		CHECK(cfs_path(fs, ev.e[i].ino, want, sizeof(want)) > 0 &&
		      !strcmp(want, ev.e[i].path), "corrected event: path %s, "
		      "the inode's is %s", ev.e[i].path, want);
		stat_named_events++;
	}
	return seen;
}

struct stats {
	u32 trials, healed, errors_seen, silent, found_by_fsck;
	u32 lost_files, total_files;
	u32 stale_trials, stale_silent;
};

/* The mount path: read everything, compare with the model. */
static void mount_trial(struct membdev *m, const struct mblk *b, int dmg,
			int dup, struct stats *st)
{
	struct cfs_fs *fs;
	const char *why;
	struct walk w;
	u32 found, corr;
	int err;

	memset(&w, 0, sizeof(w));
	w.found = calloc(nmodel, 1);
	err = cfs_mount(&m->bdev, 0, &fs, &why);
	if (err) {
		st->errors_seen++;
		CHECK(!dup, "%s %s: mount failed: %s", kind_name[b->kind],
		      dmg_name[dmg], why);
		free(w.found);
		return;
	}
	walk_all(fs, &w);
	st->trials++;
	st->total_files += nmodel;
	st->lost_files += nmodel - w.seen;
	if (w.wrong)
		st->silent++;
	if (dmg == D_STALE) {
		st->stale_trials++;
		st->stale_silent += !!w.wrong;
	}
	if (w.errors)
		st->errors_seen++;
	if (dup) {
		CHECK(!w.errors && !w.wrong && w.seen == nmodel,
		      "%s (chunk %u block %u), %s: %u errors, %u wrong, %u of "
		      "%u names", kind_name[b->kind], b->k, b->blk,
		      dmg_name[dmg], w.errors, w.wrong, w.seen, nmodel);
		CHECK(lost_found_empty(fs), "%s %s: lost+found not empty",
		      kind_name[b->kind], dmg_name[dmg]);
		CHECK(saw_corrected(fs), "%s (chunk %u block %u), %s: no "
		      "corrected event", kind_name[b->kind], b->k, b->blk,
		      dmg_name[dmg]);
	}
	cfs_unmount(fs);
	found = fsck_all(m, &corr);
	if (found)
		st->found_by_fsck++;
	if (dup) {
		CHECK(!found && !corr, "%s %s: fsck -fn after the mount: %u "
		      "problems, %u bad copies", kind_name[b->kind],
		      dmg_name[dmg], found, corr);
		st->healed++;
	}
	free(w.found);
}

/* The fsck path: fsck -y --chunk K alone heals it. */
static void fsck_trial(struct membdev *m, const struct mblk *b, int dmg)
{
	u32 found, corr, f2, c2;
	struct cfs_fs *fs;
	const char *why;
	struct walk w;

	fsck_chunk(m, b->k, &found, &corr);
	CHECK(!found && corr > 0, "fsck -y --chunk %u, %s %s: %u problems, %u "
	      "corrected", b->k, kind_name[b->kind], dmg_name[dmg], found,
	      corr);
	f2 = fsck_all(m, &c2);
	CHECK(!f2 && !c2, "%s %s: fsck -fn after fsck -y: %u problems, %u bad "
	      "copies", kind_name[b->kind], dmg_name[dmg], f2, c2);
	memset(&w, 0, sizeof(w));
	w.found = calloc(nmodel, 1);
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	walk_all(fs, &w);
	CHECK(!w.errors && !w.wrong && w.seen == nmodel, "%s %s after fsck: "
	      "%u errors, %u wrong, %u of %u", kind_name[b->kind],
	      dmg_name[dmg], w.errors, w.wrong, w.seen, nmodel);
	cfs_unmount(fs);
	free(w.found);
}

static const struct mblk *pick(u32 kind)
{
	u32 i, n = 0, want;

	for (i = 0; i < nblocks_; i++)
		n += blocks[i].kind == kind;
	if (!n)
		return NULL;
	want = rnd() % n;
	for (i = 0; i < nblocks_; i++)
		if (blocks[i].kind == kind && !want--)
			return &blocks[i];
	return NULL;
}

/* Kinds the mount's reads of every file reach (bitmaps are read when
 * something is allocated: the fsck path covers them). */
static int read_by_mount(u32 kind)
{
	return kind != K_BBMAP && kind != K_IBMAP;
}

static void run(u32 no_features, const char *name, u32 rounds)
{
	struct membdev *m = membdev_new(DEV);
	u8 *s1 = malloc(DEV), *s2 = malloc(DEV);
	int dup = !no_features;
	struct stats st;
	struct cfs_fs *fs;
	const char *why;
	struct walk w;
	u32 kind, r;
	int dmg;

	memset(&st, 0, sizeof(st));
	build(m, no_features, s1);
	memcpy(s2, m->mem, DEV);
	/* the model, from the undamaged image */
	memset(&w, 0, sizeof(w));
	w.out = model;
	CHECK_OK(cfs_mount(&m->bdev, CFS_MOUNT_RDONLY, &fs, &why));
	walk_all(fs, &w);
	nmodel = w.n;
	CHECK(!w.errors, "the undamaged image reads without error");
	cfs_unmount(fs);
	collect_blocks(m);
	printf("# %s: %u names, %u metadata blocks referenced\n", name, nmodel,
	       nblocks_);
	if (dup) {
		for (kind = 0; kind < K_NKINDS; kind++)
			CHECK(pick(kind) != NULL, "a block of kind %s",
			      kind_name[kind]);
	}
	for (r = 0; r < rounds; r++) {
		for (kind = 0; kind < K_NKINDS; kind++) {
			for (dmg = 0; dmg < D_NKINDS; dmg++) {
				const struct mblk *b = pick(kind);
				u32 tries;

				if (!b)
					continue;
				/* stale: a block that S1 held in an older
				 * version (try a few of the kind) */
				memcpy(m->mem, s2, DEV);
				for (tries = 0; tries < 20; tries++) {
					if (damage(m, s1, b, dmg, 0))
						break;
					b = pick(kind);
				}
				if (tries == 20)
					continue;
				if (read_by_mount(kind))
					mount_trial(m, b, dmg, dup, &st);
				if (!dup)
					continue;
				/* the same damage, given to fsck alone, to
				 * either copy */
				memcpy(m->mem, s2, DEV);
				if (damage(m, s1, b, dmg, (int)(rnd() % 2)))
					fsck_trial(m, b, dmg);
			}
		}
	}
	printf("# %s: %u mount trials: names at their path %.1f%%, trials "
	       "with an error seen %u, with files silently changed %u (of "
	       "them stale blocks: %u of %u trials)\n", name, st.trials,
	       st.total_files ?
	       100.0 * (st.total_files - st.lost_files) / st.total_files : 0,
	       st.errors_seen, st.silent, st.stale_silent, st.stale_trials);
	if (dup)
		CHECK(st.healed == st.trials && !st.silent && !st.errors_seen,
		      "%s: every damaged copy healed (%u of %u)", name,
		      st.healed, st.trials);
	else if (no_features == CFS_MKFS_NO_DUP)
		/* without copies the stale block cannot be healed, but it
		 * must not pass: never silently different data */
		CHECK(!st.silent, "%s: a damaged block passed unseen in %u "
		      "trials", name, st.silent);
	membdev_free(m);
	free(s1);
	free(s2);
}

/* The orphan list (entries of the link index): an open file unlinked,
 * then the power goes, in an image whose last commit did not name that
 * chunk (no replay rewrites its blocks).  The first copy of the chunk's
 * link index root is damaged; the mount reads the orphan list, heals the
 * block, frees the orphan; fsck -fn is clean. */
static void orphan_list(void)
{
	struct membdev *m = membdev_new(DEV);
	struct cfs_mkfs_opts o;
	struct cfs_fs *fs;
	struct cfs_attr a;
	const char *why;
	u8 *snap = malloc(DEV), *buf = calloc(1, 300000);
	struct cfs_chunk_hdr *h;
	u64 ino, d2;
	u32 k, found, corr;
	int r;

	memset(&o, 0, sizeof(o));
	o.chunk_bytes = 4 << 20;
	memcpy(o.uuid, "heal-orphan-uuid", 16);
	CHECK_OK(cfs_mkfs(&m->bdev, &o));
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	CHECK_OK(cfs_mknod(fs, CFS_ROOT_INO, "open", 4, CFS_S_IFREG | 0644, 0,
			   &cr, &a));
	ino = a.ino;  /* the lookup reference stays: the file is "open" */
	k = (u32)(ino >> 32);
	CHECK_EQ(cfs_write(fs, ino, 0, 300000, buf), 300000);
	CHECK_OK(cfs_unlink(fs, CFS_ROOT_INO, "open", 4));
	CHECK_OK(cfs_sync(fs));
	/* a last commit of another chunk only: the directory "far" placed
	 * by hand in the next chunk through its own continuation */
	CHECK_OK(cfs_mknod(fs, CFS_ROOT_INO, "other", 5, CFS_S_IFDIR | 0755, 0,
			   &cr, &a));
	d2 = a.ino;
	cfs_forget(fs, d2, 1);
	CHECK_OK(cfs_sync(fs));
	memcpy(snap, m->mem, DEV);     /* the power goes now */
	cfs_forget(fs, ino, 1);
	CHECK_OK(cfs_unmount(fs));
	memcpy(m->mem, snap, DEV);
	h = (struct cfs_chunk_hdr *)blkp(m, k, 0);
	memset(blkp(m, k, h->link_root) + 64, 0x77, 200);   /* first copy */
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	CHECK_OK(cfs_getattr(fs, CFS_ROOT_INO, &a)); /* an operation: frees */
	r = cfs_getattr(fs, ino, &a);
	CHECK(r == -CFS_ENOENT || r == -CFS_ESTALE, "the orphan is freed (%d)",
	      r);
	CHECK(saw_corrected(fs), "a corrected event for the orphan list's "
	      "block");
	CHECK_EQ(cfs_chunk_state(fs, k), CFS_CHUNK_DIRTY);
	CHECK_OK(cfs_unmount(fs));
	found = fsck_all(m, &corr);
	CHECK(!found && !corr, "orphan list: fsck -fn after the mount: %u "
	      "problems, %u bad copies", found, corr);
	printf("# orphan list in chunk %u: healed, the orphan freed\n", k);
	membdev_free(m);
	free(snap);
	free(buf);
}

/* The superblock: a stale primary (an older commit's) is not used. */
static void superblock(void)
{
	struct membdev *m = membdev_new(DEV);
	struct cfs_mkfs_opts o;
	struct cfs_fs *fs;
	struct cfs_attr a;
	const char *why;
	u8 old[BS];
	u32 found, corr;

	memset(&o, 0, sizeof(o));
	o.chunk_bytes = 4 << 20;
	memcpy(o.uuid, "heal-super-uuid1", 16);
	CHECK_OK(cfs_mkfs(&m->bdev, &o));
	memcpy(old, m->mem, BS);
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	CHECK_OK(cfs_mknod(fs, CFS_ROOT_INO, "f", 1, CFS_S_IFREG | 0644, 0,
			   &cr, &a));
	cfs_forget(fs, a.ino, 1);
	CHECK_OK(cfs_sync(fs));
	CHECK_OK(cfs_unmount(fs));
	memcpy(m->mem, old, BS);  /* the primary: as mkfs left it */
	found = fsck_all(m, &corr);
	CHECK(!found && corr == 1, "stale superblock: fsck -fn: %u problems, "
	      "%u bad copies (want 0, 1)", found, corr);
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	CHECK_OK(cfs_lookup(fs, CFS_ROOT_INO, "f", 1, &a));
	cfs_forget(fs, a.ino, 1);
	CHECK(saw_corrected(fs), "a corrected event for the superblock");
	CHECK_OK(cfs_unmount(fs));
	found = fsck_all(m, &corr);
	CHECK(!found && !corr, "superblock healed: %u problems, %u bad copies",
	      found, corr);
	membdev_free(m);
}

int main(int argc, char **argv)
{
	u32 rounds = argc > 1 ? (u32)atoi(argv[1]) : 1;

	rs = argc > 2 ? (u32)strtoul(argv[2], NULL, 0) : 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	run(0, "dup", rounds);
	/* the tree nodes of files among the damaged blocks: their events
	 * name the files */
	printf("# dup: %u corrected events named their file by path\n",
	       stat_named_events);
	CHECK(stat_named_events > 0, "no corrected event named a file");
	orphan_list();
	superblock();
	run(CFS_MKFS_NO_DUP, "single", 1);
	run(CFS_MKFS_V1, "v1", 1);
	if (tap_fail) {
		printf("test_heal: %d checks failed\n", tap_fail);
		return 1;
	}
	printf("test_heal: all checks passed\n");
	return 0;
}
