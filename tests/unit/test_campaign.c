// SPDX-License-Identifier: GPL-2.0
/*
 * test_campaign.c - the randomized damage campaign.  A filesystem with
 * small chunks (continuations everywhere) is built once in memory; each
 * trial copies it, damages one random chunk with a random kind, repairs by
 * checking that chunk (and the peers its cross pass names), and then
 * requires: no crash or sanitizer report, a second check of every chunk
 * finds nothing, the filesystem mounts, and every file with no metadata in
 * the damaged chunk reads back byte-identical.  It reports how much of the
 * data touching the damaged chunk was recovered.
 *
 *   test_campaign [TRIALS [SEED]]    (defaults: 200 trials, seed 1)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/check.h"
#include "../../fs/internal.h"
#include "../lib/membdev.h"
#include "../lib/tap.h"

#define BS 4096u
#define CB 1024u            /* 4 MiB chunks */
#define DEV (72u << 20)
#define MAXF 2048

static struct cfs_cred cr = { .uid = 0, .gid = 0 };
static u32 rs;

static u32 rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 17;
	rs ^= rs << 5;
	return rs;
}

struct file {
	u64 ino;
	u64 size;
	u32 crc;
	u32 nchunks;
	u32 chunks[8];       /* inode chunk, then continuation chunks */
};
static struct file files[MAXF];
static u32 nfiles;

static void fill(u8 *b, u64 n, u32 seed)
{
	u64 i;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (u8)(seed >> 16);
	}
}

static u64 mk(struct cfs_fs *fs, u64 dir, const char *name, u32 mode)
{
	struct cfs_attr a;
	int err = cfs_mknod(fs, dir, name, strlen(name), mode, 0, &cr, &a);

	if (err)
		return 0;
	cfs_forget(fs, a.ino, 1);
	return a.ino;
}

static void add_file(struct cfs_fs *fs, u64 dir, const char *name, u64 size,
		     u8 *buf)
{
	u64 ino = mk(fs, dir, name, CFS_S_IFREG | 0644);

	CHECK(ino, "create %s", name);
	if (!ino || nfiles >= MAXF)
		return;
	fill(buf, size, (u32)(ino ^ size));
	CHECK_EQ(cfs_write(fs, ino, 0, size, buf), size);
	files[nfiles].ino = ino;
	files[nfiles].size = size;
	files[nfiles].crc = host_crc32(0, buf, size);
	nfiles++;
}

static struct membdev *build(void)
{
	struct membdev *m = membdev_new(DEV);
	struct cfs_mkfs_opts o;
	struct cfs_fs *fs;
	const char *why;
	u8 *buf = malloc(10 << 20);
	char name[32];
	u64 d1, sub, s;
	u32 i, j;

	memset(&o, 0, sizeof(o));
	o.chunk_bytes = 4 << 20;
	memcpy(o.uuid, "campaign-uuid-01", 16);
	CHECK_OK(cfs_mkfs(&m->bdev, &o));
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	add_file(fs, CFS_ROOT_INO, "big1", 9u << 20, buf);
	add_file(fs, CFS_ROOT_INO, "big2", (6u << 20) + 12345, buf);
	d1 = mk(fs, CFS_ROOT_INO, "d1", CFS_S_IFDIR | 0755);
	for (i = 0; i < 600; i++) {
		snprintf(name, sizeof(name), "f%u", i);
		add_file(fs, d1, name, 200 + (i * 37) % 9000, buf);
	}
	sub = mk(fs, d1, "sub", CFS_S_IFDIR | 0755);
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "s%u", i);
		s = mk(fs, sub, name, CFS_S_IFDIR | 0755);
		for (j = 0; j < 5; j++) {
			snprintf(name, sizeof(name), "g%u", j);
			add_file(fs, s, name, 1000 + j * 4000, buf);
		}
		if (i % 4 == 0) {
			struct cfs_attr a;

			snprintf(name, sizeof(name), "ln%u", i);
			CHECK_OK(cfs_symlink(fs, s, name, strlen(name),
					     "../../f1", 8, &cr, &a));
			cfs_forget(fs, a.ino, 1);
			CHECK_OK(cfs_setxattr(fs, files[i].ino, "user.x",
					      "value", 5, 0));
			snprintf(name, sizeof(name), "hl%u", i);
			CHECK_OK(cfs_link(fs, files[2 + i].ino, s, name,
					  strlen(name), &a));
			cfs_forget(fs, a.ino, 1);
		}
	}
	for (i = 0; i < nfiles; i++) {
		struct cfs_ino_links li;

		files[i].chunks[0] = (u32)(files[i].ino >> 32);
		files[i].nchunks = 1;
		CHECK_OK(cfs_inode_links(fs, files[i].ino, &li));
		for (j = 0; j < li.nconts && j < 7; j++)
			files[i].chunks[files[i].nchunks++] = li.chunks[j];
	}
	CHECK_OK(cfs_unmount(fs));
	free(buf);
	return m;
}

/* ---- damage ---- */

static u8 *blkp(struct membdev *m, u32 k, u32 local)
{
	return m->mem + ((u64)2 + (u64)k * CB + local) * BS;
}

static void reseal(u8 *b)
{
	((struct cfs_bhdr *)b)->crc = host_crc32(0, b + 4, BS - 4);
}

/* The chunk's layout from its header copy (the primary may be damaged). */
static struct cfs_chunk_hdr layout(struct membdev *m, u32 k)
{
	struct cfs_chunk_hdr h;

	memcpy(&h, blkp(m, k, CB - 1), sizeof(h));
	return h;
}

static int is_node(struct membdev *m, u32 k, u32 l, u32 tree)
{
	struct cfs_bhdr *h = (struct cfs_bhdr *)blkp(m, k, l);

	return h->magic == CFS_MAGIC_BTREE && h->chunk == k &&
	       (!tree || h->tree == tree) &&
	       h->crc == host_crc32(0, (u8 *)h + 4, BS - 4);
}

/* A random metadata block of chunk k (local number). */
static u32 meta_block(struct membdev *m, u32 k)
{
	struct cfs_chunk_hdr h = layout(m, k);
	u32 nodes[CB], n = 0, l;

	for (l = h.data_start; l < CB - 1; l++)
		if (is_node(m, k, l, 0))
			nodes[n++] = l;
	switch (rnd() % 4) {
	case 0:
		return rnd() % h.itable_start; /* header or a bitmap */
	case 1:
		if (h.itable_init)
			return h.itable_start + rnd() % h.itable_init;
		/* fall through */
	default:
		return n ? nodes[rnd() % n] : 0;
	}
}

static struct cfs_dinode *ino_at(struct membdev *m, u32 k, u32 l, u8 **blk)
{
	struct cfs_chunk_hdr h = layout(m, k);
	u32 ipb = (BS - 64) / 256;

	if (l / ipb >= h.itable_init)
		return NULL;
	*blk = blkp(m, k, h.itable_start + l / ipb);
	return (struct cfs_dinode *)(*blk + 64) + l % ipb;
}

/* A random in-use inode of chunk k, with flags `want` (0: any). */
static u32 pick_inode(struct membdev *m, u32 k, u32 want)
{
	struct cfs_chunk_hdr h = layout(m, k);
	u32 cand[4096], n = 0, l;
	u8 *b;

	for (l = 1; l < h.ninodes && n < 4096; l++) {
		struct cfs_dinode *d = ino_at(m, k, l, &b);

		if (d && d->mode && (!want || (d->flags & want)))
			cand[n++] = l;
	}
	return n ? cand[rnd() % n] : 0;
}

static const char *kinds[] = {
	"zero-block", "flip-bits", "header", "both-headers", "inode",
	"back-link", "continuation", "free-maps", "inode-table", "dir-entry",
};
#define NKINDS 10

/* Damage chunk k; returns 0 if the kind did not apply. */
static int damage(struct membdev *m, u32 k, u32 kind)
{
	struct cfs_chunk_hdr h = layout(m, k);
	u32 l, i;
	u8 *b;

	switch (kind) {
	case 0:
		memset(blkp(m, k, meta_block(m, k)), 0, BS);
		return 1;
	case 1:
		b = blkp(m, k, meta_block(m, k));
		for (i = 0; i < 1 + rnd() % 8; i++) {
			u32 bit = 64 * 8 + rnd() % ((BS - 64) * 8);

			b[bit / 8] ^= (u8)(1u << (bit % 8));
		}
		return 1;
	case 2:
		memset(blkp(m, k, 0), 0, BS);
		return 1;
	case 3:
		memset(blkp(m, k, 0), 0, BS);
		memset(blkp(m, k, CB - 1), 0, BS);
		return 1;
	case 4: {
		struct cfs_dinode *d;

		l = pick_inode(m, k, 0);
		if (!l || !(d = ino_at(m, k, l, &b)))
			return 0;
		for (i = 0; i < 16; i++)
			((u8 *)d)[rnd() % sizeof(*d)] = (u8)rnd();
		if (!d->mode)
			d->mode = 1;
		reseal(b);
		return 1;
	}
	case 5:
	case 6: {
		struct cfs_dinode *d;

		l = pick_inode(m, k, CFS_IF_CONT);
		if (!l || !(d = ino_at(m, k, l, &b)))
			return 0;
		if (kind == 5)
			d->back_gen += 1 + rnd() % 100;
		else
			memset(d, 0, sizeof(*d));
		reseal(b);
		return 1;
	}
	case 7:
		for (i = 0; i < 3; i++) {
			b = blkp(m, k, h.bbmap_start);
			b[64 + rnd() % (CB / 8)] ^= (u8)(1u << (rnd() % 8));
			reseal(b);
			b = blkp(m, k, h.ibmap_start);
			b[64 + rnd() % (h.ninodes / 8)] ^= (u8)(1u << (rnd() % 8));
			reseal(b);
		}
		return 1;
	case 8:
		for (i = 0; i < h.itable_init; i++)
			memset(blkp(m, k, h.itable_start + i), 0, BS);
		return h.itable_init > 0;
	case 9: {
		u32 nodes[CB], n = 0;

		for (l = h.data_start; l < CB - 1; l++)
			if (is_node(m, k, l, CFS_TREE_DIR) &&
			    !*(u8 *)(blkp(m, k, l) + 64 + 2) /* a leaf */)
				nodes[n++] = l;
		if (!n)
			return 0;
		b = blkp(m, k, nodes[rnd() % n]);
		{
			struct cfs_node_hdr *nh = (void *)(b + 64);
			struct cfs_item it;
			struct cfs_dirent *de;

			if (!nh->nitems)
				return 0;
			memcpy(&it, b + 64 + 8 + 12 * (rnd() % nh->nitems), 12);
			if (it.off + it.len > BS - 64 || it.len < 7)
				return 0;
			de = (struct cfs_dirent *)(b + 64 + it.off);
			de->ino ^= 1u + rnd() % 200;
		}
		reseal(b);
		return 1;
	}
	}
	return 0;
}

static int loud;

static void quiet(void *ctx, const struct cfs_problem_report *r)
{
	const struct cfs_problem_desc *d = cfs_problem(r->code);

	(void)ctx;
	if (loud)
		printf("    chunk %u ino %llx: %s [%s]%s\n", r->chunk,
		       (unsigned long long)r->ino, d ? d->name : "?",
		       r->detail ? r->detail : "", r->fixed ? " fixed" : "");
}

/* fsck -y --chunk k, then the peers its cross pass names. */
static void repair(struct membdev *m, u32 k)
{
	struct cfs_fs *fs;
	struct cfs_check_result r;
	const char *why;
	u32 queue[64], nq = 0, i, j;

	CHECK_OK(cfs_mount_check(&m->bdev, 0, &fs, &why));
	cfs_check_super(fs, CFS_CHECK_FIXALL, quiet, NULL, &r);
	queue[nq++] = k;
	for (i = 0; i < nq; i++) {
		CHECK_OK(cfs_check_chunk(fs, queue[i], CFS_CHECK_FIXALL, quiet,
					 NULL, &r));
		for (j = 0; j < r.nrecheck && nq < 64; j++)
			queue[nq++] = r.recheck[j];
	}
	CHECK_OK(cfs_unmount(fs));
}

static u32 check_clean(struct membdev *m)
{
	struct cfs_fs *fs;
	struct cfs_check_result r;
	const char *why;
	u32 k, found = 0;

	CHECK_OK(cfs_mount_check(&m->bdev, CFS_MOUNT_RDONLY, &fs, &why));
	for (k = 0; k < cfs_nchunks(fs); k++) {
		CHECK_OK(cfs_check_chunk(fs, k, CFS_CHECK_NOFIX, quiet, NULL, &r));
		found += r.found;
	}
	CHECK_OK(cfs_unmount(fs));
	return found;
}

static int touches(const struct file *f, u32 k)
{
	u32 i;

	for (i = 0; i < f->nchunks; i++)
		if (f->chunks[i] == k)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	u32 trials = argc > 1 ? (u32)atoi(argv[1]) : 200;
	u32 seed = argc > 2 ? (u32)atoi(argv[2]) : 1;
	struct membdev *base, *m;
	u64 lost_bytes = 0, touched_bytes = 0;
	u32 t, applied = 0, per_kind[NKINDS] = { 0 };
	u8 *buf = malloc(10 << 20);

	setvbuf(stdout, NULL, _IOLBF, 0);
	base = build();
	m = membdev_new(DEV);
	printf("campaign: %u files, %u trials, seed %u\n", nfiles, trials, seed);
	for (t = 0; t < trials && tap_fail < 5; t++) {
		u32 k, kind, i, found;
		int fails = tap_fail;
		struct cfs_fs *fs;
		const char *why;

		rs = seed * 2654435761u + t * 40503u + 1;
		rnd();
		memcpy(m->mem, base->mem, DEV);
		k = rnd() % ((DEV / BS - 2) / CB);
		kind = rnd() % NKINDS;
		if (getenv("CAMPAIGN_ONLY") &&
		    (u32)atoi(getenv("CAMPAIGN_ONLY")) != t)
			continue;
		if (!damage(m, k, kind))
			continue;
		applied++;
		per_kind[kind]++;
		loud = getenv("CAMPAIGN_VERBOSE") != NULL;
		repair(m, k);
		loud = 0;
		found = check_clean(m);
		if (found) {
			printf("  trial %u: %s on chunk %u; left after repair:\n",
			       t, kinds[kind], k);
			loud = 1;
			check_clean(m);
			loud = 0;
		}
		CHECK(found == 0, "trial %u (seed %u): %s on chunk %u: second "
		      "check found %u problems", t, seed, kinds[kind], k, found);
		if (cfs_mount(&m->bdev, 0, &fs, &why)) {
			CHECK(0, "trial %u: %s on chunk %u: does not mount: %s",
			      t, kinds[kind], k, why);
			continue;
		}
		for (i = 0; i < nfiles; i++) {
			const struct file *f = &files[i];
			s64 n = cfs_read(fs, f->ino, 0, f->size, buf);
			int same = n == (s64)f->size &&
				   host_crc32(0, buf, f->size) == f->crc;

			if (touches(f, k)) {
				touched_bytes += f->size;
				if (!same)
					lost_bytes += f->size;
				continue;
			}
			CHECK(same, "trial %u (seed %u): %s on chunk %u: file "
			      "%llx outside the chunk differs (read %lld)", t,
			      seed, kinds[kind], k, (unsigned long long)f->ino,
			      (long long)n);
		}
		CHECK_OK(cfs_unmount(fs));
		if (tap_fail != fails)
			printf("  replay: test_campaign %u %u (trial %u)\n",
			       t + 1, seed, t);
	}
	printf("campaign: %u damaging trials:", applied);
	for (t = 0; t < NKINDS; t++)
		printf(" %s %u", kinds[t], per_kind[t]);
	printf("\ncampaign: data of files touching the damaged chunk "
	       "recovered intact: %.1f%% (%llu of %llu bytes)\n",
	       touched_bytes ? 100.0 * (double)(touched_bytes - lost_bytes) /
	       (double)touched_bytes : 100.0,
	       (unsigned long long)(touched_bytes - lost_bytes),
	       (unsigned long long)touched_bytes);
	membdev_free(m);
	membdev_free(base);
	free(buf);
	if (tap_fail) {
		printf("test_campaign: %d checks failed\n", tap_fail);
		return 1;
	}
	printf("test_campaign: all checks passed\n");
	return 0;
}
