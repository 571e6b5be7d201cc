// SPDX-License-Identifier: GPL-2.0
/*
 * test_btree.c - the B+tree against a model: random inserts, updates (of
 * changing size), deletes, exact and neighbour lookups and full iteration,
 * for an inline root and a block root, over several block sizes; then the
 * same with changes in place in a leaf (bt_leaf_*: insert, resize, delete,
 * a new key) among them, values of a few sizes (a removed value's place
 * taken by the lowest one), and the checker's walk of the tree (keys in
 * their nodes' ranges, no values overlapping) after every round.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/internal.h"
#include "../lib/membdev.h"
#include "../lib/tap.h"

#define NKEYS 4000

/* the model: which keys the tree has, their values' versions; buffers */
static u32 ver[NKEYS];
static u8 have[NKEYS];
static u8 v[4096], w[4096];

static u32 rs = 12345;
static u32 rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 17;
	rs ^= rs << 5;
	return rs;
}

static u32 vlen_of(u64 key, u32 ver, u32 max)
{
	return 1 + (u32)((key * 7 + ver * 13) % (max < 300 ? max : 300));
}

static void mkval(u8 *v, u64 key, u32 ver, u32 len)
{
	u32 i;

	for (i = 0; i < len; i++)
		v[i] = (u8)(key + ver + i);
}

/* A file system of block size bs and in it a fresh directory inode (its
 * inline root) or a fresh root block: the tree *t. */
static struct cfs_fs *setup(struct membdev *m, u32 bs, int inline_root,
			    struct cfs_inode **ipp, struct cfs_tree *tp)
{
	struct cfs_mkfs_opts o;
	struct cfs_fs *fs = NULL;
	struct cfs_inode *ip;
	struct cfs_tree t;
	const char *why;

	memset(&o, 0, sizeof(o));
	o.block_size = bs;
	o.chunk_bytes = bs == 65536 ? 64 << 20 : 16 << 20;
	CHECK_OK(cfs_mkfs(&m->bdev, &o));
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	if (!fs)
		exit(1);
	/* a fresh directory inode (inline root) or a fresh root block */
	CHECK_OK(inode_alloc(fs, chunk_get(fs, 0), CFS_S_IFDIR | 0755, &ip));
	ip->d.nlink = 2;
	tree_of_inode(fs, ip, inline_root ? CFS_TREE_DIR : CFS_TREE_LINK, &t);
	if (!inline_root) {
		struct cfs_buf *b;
		u32 blk;

		CHECK_OK(alloc_meta_block(fs, chunk_get(fs, 0), &blk));
		CHECK_OK(buf_new(fs, chunk_get(fs, 0), blk, CFS_MAGIC_BTREE, &b));
		((struct cfs_bhdr *)b->data)->tree = CFS_TREE_LINK;
		bt_init_node(b->data + sizeof(struct cfs_bhdr), CFS_PAYLOAD(fs));
		buf_put(fs, b);
		t.iroot = NULL;
		t.ip = NULL;
		t.owner = 0;
		t.root_blk = blk;
	}
	*ipp = ip;
	*tp = t;
	return fs;
}

static void run(u32 bs, int inline_root)
{
	struct membdev *m = membdev_new(bs == 65536 ? 96 << 20 : 32 << 20);
	struct cfs_fs *fs;
	struct cfs_inode *ip;
	struct cfs_tree t;
	u32 i, max;
	int op;

	fs = setup(m, bs, inline_root, &ip, &t);
	max = bt_max_item(&t);
	memset(have, 0, sizeof(have));
	for (op = 0; op < 30000 && !tap_fail; op++) {
		u64 key = rnd() % NKEYS;
		u32 r = rnd() % 10, len, got;
		u64 k;
		int err;

		if (r < 5) {
			ver[key]++;
			len = vlen_of(key, ver[key], max);
			mkval(v, key, ver[key], len);
			err = have[key] ? bt_update(&t, key * 3, v, len)
					: bt_insert(&t, key * 3, v, len);
			CHECK(!err, "op %d: insert/update %llu: %d", op,
			      (unsigned long long)key, err);
			have[key] = 1;
		} else if (r < 8) {
			err = bt_delete(&t, key * 3);
			CHECK_EQ(err, have[key] ? 0 : -CFS_ENOENT);
			have[key] = 0;
		} else {
			err = bt_find_ge(&t, key * 3 + 1, &k, w, sizeof(w), &got);
			{
				u64 j = key + 1;

				while (j < NKEYS && !have[j])
					j++;
				if (j == NKEYS)
					CHECK_EQ(err, -CFS_ENOENT);
				else {
					CHECK_OK(err);
					CHECK_EQ(k, j * 3);
				}
			}
			err = bt_find_le(&t, key * 3 + 1, &k, w, sizeof(w), &got);
			{
				s64 j = (s64)key;

				while (j >= 0 && !have[j])
					j--;
				if (j < 0)
					CHECK_EQ(err, -CFS_ENOENT);
				else {
					CHECK_OK(err);
					CHECK_EQ(k, (u64)j * 3);
				}
			}
		}
		if (op % 5000 == 4999 || op == 29999) {
			/* full check: exact lookups and iteration */
			u64 cur = 0, n = 0, want = 0;

			for (i = 0; i < NKEYS; i++) {
				if (!have[i])
					continue;
				want++;
				len = vlen_of(i, ver[i], max);
				mkval(v, i, ver[i], len);
				CHECK_OK(bt_lookup(&t, (u64)i * 3, w, sizeof(w), &got));
				CHECK_EQ(got, len);
				CHECK(!memcmp(v, w, len), "value of %u", i);
			}
			while (!bt_find_ge(&t, cur, &k, NULL, 0, NULL)) {
				CHECK(have[k / 3] && k % 3 == 0, "stray key %llu",
				      (unsigned long long)k);
				n++;
				cur = k + 1;
			}
			CHECK_EQ(n, want);
		}
	}
	/* delete all: the tree returns to an empty root, blocks freed */
	{
		u32 free_before = chunk_get(fs, 0)->hdr.free_blocks;
		u64 nb;

		for (i = 0; i < NKEYS; i++)
			if (have[i])
				CHECK_OK(bt_delete(&t, (u64)i * 3));
		CHECK_OK(bt_count_blocks(&t, &nb));
		CHECK_EQ(nb, inline_root ? 0 : 1);
		CHECK(chunk_get(fs, 0)->hdr.free_blocks > free_before ||
		      nb <= 1, "blocks not freed");
	}
	inode_put(fs, ip);
	CHECK_OK(cfs_unmount(fs));
	membdev_free(m);
}

/* ---- changes in place in a leaf ---- */

static int walk_bad;

static int w_node(void *ctx, u32 blk, u32 blk2)
{
	(void)ctx; (void)blk; (void)blk2;
	return 0;
}

static int w_item(void *ctx, u64 key, const u8 *val, u32 len)
{
	(void)ctx; (void)key; (void)val; (void)len;
	return 0;
}

static void w_bad(void *ctx, u32 blk, const char *why)
{
	(void)ctx;
	fprintf(stderr, "walk: block %u: %s\n", blk, why);
	walk_bad++;
}

static void w_dropped(void *ctx, u32 blk, u32 blk2)
{
	(void)ctx; (void)blk; (void)blk2;
}

static const struct bt_walk_ops wops = { w_node, w_item, w_bad, w_dropped };

static u32 small_len(u64 key, u32 ver)
{
	static const u32 lens[] = { 12, 12, 31, 31, 31, 40, 7 };

	return lens[(key + ver) % 7];
}

static void run_leaf(u32 bs, int inline_root)
{
	struct membdev *m = membdev_new(bs == 65536 ? 96 << 20 : 32 << 20);
	struct cfs_fs *fs;
	struct cfs_inode *ip;
	struct cfs_tree t;
	u32 i, inplace = 0, refused = 0;
	int op;

	fs = setup(m, bs, inline_root, &ip, &t);
	memset(have, 0, sizeof(have));
	memset(ver, 0, sizeof(ver));
	for (op = 0; op < 40000 && !tap_fail; op++) {
		u64 key = rnd() % NKEYS, nk;
		u32 r = rnd() % 10, len, got;
		struct bt_leaf l;
		u8 *val;
		int err;

		if (r < 7) { /* in place, or the tree functions if refused */
			/* 0 insert, 1 resize, 2 delete, 3 a new key */
			int kind = !have[key] ? 0 : r < 3 ? 1 : r < 5 ? 2 : 3;

			nk = key + 1 + rnd() % 3;
			if (kind == 3 && (nk >= NKEYS || have[nk]))
				continue;
			CHECK_OK(bt_leaf_get(&t, key * 3, &l));
			if (kind == 0) {
				len = small_len(key, ++ver[key]);
				err = bt_leaf_insert(&l, key * 3, len, &val);
				if (!err)
					mkval(val, key, ver[key], len);
			} else if (kind == 1) {
				u32 olen;

				CHECK_OK(bt_leaf_find(&l, key * 3, &val, &olen));
				mkval(v, key, ver[key], olen);
				len = small_len(key, ++ver[key]);
				err = bt_leaf_resize(&l, key * 3, len, &val);
				if (!err) { /* the first bytes kept */
					CHECK(!memcmp(v, val, len < olen ?
						      len : olen), "resize");
					mkval(val, key, ver[key], len);
				}
			} else if (kind == 2) {
				err = bt_leaf_delete(&l, key * 3);
			} else {
				err = bt_leaf_rekey(&l, key * 3, nk * 3);
				if (!err) { /* the value is rewritten as nk's */
					CHECK_OK(bt_leaf_find(&l, nk * 3, &val,
							      &got));
					ver[nk] = ver[key];
					mkval(val, nk, ver[nk], got);
					bt_leaf_mark(&l);
				}
			}
			CHECK(err == 0 || err == BT_LEAF_NO, "op %d: leaf %d",
			      op, err);
			CHECK_OK(bt_leaf_put(&l));
			if (err) { /* refused: the tree functions */
				refused++;
				len = small_len(key, ver[key]);
				mkval(v, key, ver[key], len);
				if (kind == 0)
					CHECK_OK(bt_insert(&t, key * 3, v, len));
				else if (kind == 1)
					CHECK_OK(bt_update(&t, key * 3, v, len));
				else if (kind == 2)
					CHECK_OK(bt_delete(&t, key * 3));
				else
					continue; /* (nk in another leaf) */
			} else {
				inplace++;
			}
			if (kind == 3) {
				have[nk] = 1;
				have[key] = 0;
			} else {
				have[key] = kind != 2;
			}
		} else {
			err = bt_delete(&t, key * 3);
			CHECK_EQ(err, have[key] ? 0 : -CFS_ENOENT);
			have[key] = 0;
		}
		if (op % 4000 == 3999) {
			u64 cur = 0, n = 0, want = 0, k;

			for (i = 0; i < NKEYS; i++) {
				if (!have[i])
					continue;
				want++;
				CHECK_OK(bt_lookup(&t, (u64)i * 3, w, sizeof(w),
						   &got));
				/* (a rekeyed value keeps its length) */
				mkval(v, i, ver[i], got);
				CHECK(!memcmp(v, w, got), "value of %u", i);
			}
			while (!bt_find_ge(&t, cur, &k, NULL, 0, NULL)) {
				CHECK(have[k / 3] && k % 3 == 0,
				      "stray key %llu", (unsigned long long)k);
				n++;
				cur = k + 1;
			}
			CHECK_EQ(n, want);
			walk_bad = 0;
			CHECK_OK(bt_walk(&t, &wops, NULL, 0));
			CHECK_EQ(walk_bad, 0);
		}
	}
	printf("  %u changes in place, %u refused\n", inplace, refused);
	CHECK(inplace > 10000, "changes in place: %u", inplace);
	CHECK(refused > 0 || inline_root, "none refused");
	for (i = 0; i < NKEYS; i++)
		if (have[i])
			CHECK_OK(bt_delete(&t, (u64)i * 3));
	inode_put(fs, ip);
	CHECK_OK(cfs_unmount(fs));
	membdev_free(m);
}

int main(void)
{
	u32 bss[] = { 1024, 4096, 65536 };
	unsigned i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < 3; i++) {
		printf("block size %u: inline root\n", bss[i]);
		run(bss[i], 1);
		printf("block size %u: block root\n", bss[i]);
		run(bss[i], 0);
		printf("block size %u: in place, inline root\n", bss[i]);
		run_leaf(bss[i], 1);
		printf("block size %u: in place, block root\n", bss[i]);
		run_leaf(bss[i], 0);
	}
	if (tap_fail) {
		printf("test_btree: %d checks failed\n", tap_fail);
		return 1;
	}
	printf("test_btree: all checks passed\n");
	return 0;
}
