// SPDX-License-Identifier: GPL-2.0
/*
 * test_fuzz.c - hostile images.  Each round takes a small filesystem with
 * continuations everywhere, corrupts it at random (bytes of random blocks,
 * metadata or not, with the block checksum sometimes resealed so the damage
 * is structural rather than a checksum error), then:
 *   - mounts it (a clean refusal is fine) and walks everything through the
 *     API: lookup, getattr, readdir, readlink, read, listxattr/getxattr,
 *     and a few writes, creates, renames and unlinks;
 *   - checks and repairs every chunk, and checks again.
 * Nothing may crash, hang or trip the sanitizers; after the repair the
 * second check must find nothing.
 *
 *   test_fuzz [ROUNDS [SEED]]     (defaults: 150 rounds, seed 1)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/check.h"
#include "../../fs/internal.h"
#include "../lib/membdev.h"
#include "../lib/tap.h"

#define BS 1024u
#define DEV (24u << 20)

static struct cfs_cred cr = { .uid = 0, .gid = 0 };
static u32 rs;

static u32 rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 17;
	rs ^= rs << 5;
	return rs;
}

static u64 mk(struct cfs_fs *fs, u64 dir, const char *name, u32 mode)
{
	struct cfs_attr a;

	if (cfs_mknod(fs, dir, name, strlen(name), mode, 0, &cr, &a))
		return 0;
	cfs_forget(fs, a.ino, 1);
	return a.ino;
}

static struct membdev *build(void)
{
	struct membdev *m = membdev_new(DEV);
	struct cfs_mkfs_opts o;
	struct cfs_fs *fs;
	const char *why;
	u8 *buf = calloc(1, 5 << 20);
	char name[32];
	u64 d, f, sub;
	int i;

	memset(&o, 0, sizeof(o));
	o.block_size = BS;     /* small blocks: more metadata blocks */
	o.chunk_bytes = 4 << 20;
	memcpy(o.uuid, "fuzz-uuid-000001", 16);
	CHECK_OK(cfs_mkfs(&m->bdev, &o));
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	for (i = 0; i < (5 << 20); i++)
		buf[i] = (u8)(i * 13);
	f = mk(fs, CFS_ROOT_INO, "big", CFS_S_IFREG | 0644);
	cfs_write(fs, f, 0, 5 << 20, buf);
	d = mk(fs, CFS_ROOT_INO, "dir", CFS_S_IFDIR | 0755);
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "file-%d", i);
		f = mk(fs, d, name, CFS_S_IFREG | 0644);
		cfs_write(fs, f, 0, 50 + i * 11, buf + i);
		if (i % 30 == 0)
			cfs_setxattr(fs, f, "user.attr", buf, 100 + i, 0);
	}
	sub = mk(fs, d, "sub", CFS_S_IFDIR | 0755);
	for (i = 0; i < 40; i++) {
		struct cfs_attr a;

		snprintf(name, sizeof(name), "l%d", i);
		cfs_symlink(fs, sub, name, strlen(name),
			    i % 2 ? "short" : (const char *)memset(buf, 'x', 300),
			    i % 2 ? 5 : 300, &cr, &a);
		cfs_forget(fs, a.ino, 1);
		snprintf(name, sizeof(name), "s%d", i);
		mk(fs, sub, name, CFS_S_IFDIR | 0700);
	}
	CHECK_OK(cfs_unmount(fs));
	free(buf);
	return m;
}

static u32 meta[DEV / BS], nmeta;

/* Remember the metadata blocks of the base image (any block whose header
 * carries a chunkfs magic). */
static void find_meta(struct membdev *m)
{
	u32 b;

	for (b = 0; b < DEV / BS; b++) {
		u32 magic = ((struct cfs_bhdr *)(m->mem + (u64)b * BS))->magic;

		if ((magic & 0xffff) == 0x4643) /* "CF" */
			meta[nmeta++] = b;
	}
}

static void corrupt(struct membdev *m)
{
	u32 nblk = DEV / BS, n = 1 + rnd() % 6, i;

	for (i = 0; i < n; i++) {
		u32 b = rnd() % 10 < 8 && nmeta ? meta[rnd() % nmeta]
					       : rnd() % nblk;
		u8 *p = m->mem + (u64)b * BS;
		u32 k, cnt = 1 + rnd() % 16;
		int reseal = rnd() % 2;

		for (k = 0; k < cnt; k++) {
			u32 off = reseal ? 64 + rnd() % (BS - 64) : rnd() % BS;

			switch (rnd() % 3) {
			case 0: p[off] ^= (u8)(1u << (rnd() % 8)); break;
			case 1: p[off] = (u8)rnd(); break;
			default: p[off] = (u8)(rnd() % 2 ? 0 : 0xff); break;
			}
		}
		if (reseal && ((struct cfs_bhdr *)p)->magic)
			((struct cfs_bhdr *)p)->crc = host_crc32(0, p + 4, BS - 4);
	}
}

struct names {
	int n;
	char name[64][256];
	u32 len[64];
	u64 ino[64];
	u64 next;
};

static int collect(void *ctx, const char *name, u32 len, u64 ino, u32 type,
		   u64 next)
{
	struct names *nm = ctx;

	(void)type;
	(void)next;
	if (nm->n >= 64)
		return 1;
	memcpy(nm->name[nm->n], name, len);
	nm->len[nm->n] = len;
	nm->ino[nm->n] = ino;
	nm->n++;
	nm->next = next;
	return 0;
}

static u8 rbuf[6 << 20];

/* Walk from dir, depth-limited, touching everything. */
static void walk(struct cfs_fs *fs, u64 dir, int depth)
{
	struct names *nm = malloc(sizeof(*nm));
	u64 cookie = 0;
	int i, pages = 0;

	while (pages++ < 64) {
		nm->n = 0;
		if (cfs_readdir(fs, dir, cookie, collect, nm) || !nm->n)
			break;
		cookie = nm->next;
		for (i = 0; i < nm->n; i++) {
			struct cfs_attr a;
			char list[512];

			if (nm->len[i] <= 2 && nm->name[i][0] == '.')
				continue;
			if (cfs_lookup(fs, dir, nm->name[i], nm->len[i], &a))
				continue;
			cfs_getxattr(fs, a.ino, "user.attr", list, sizeof(list));
			cfs_listxattr(fs, a.ino, list, sizeof(list));
			if (CFS_ISDIR(a.mode) && depth < 4)
				walk(fs, a.ino, depth + 1);
			else if (CFS_ISREG(a.mode))
				cfs_read(fs, a.ino, 0, sizeof(rbuf), rbuf);
			else if (CFS_ISLNK(a.mode))
				cfs_readlink(fs, a.ino, (char *)rbuf, 4096);
			cfs_lseek(fs, a.ino, 0, CFS_SEEK_DATA);
			cfs_forget(fs, a.ino, 1);
		}
	}
	free(nm);
}

static void use(struct membdev *m)
{
	struct cfs_fs *fs;
	const char *why;
	struct cfs_attr a;
	struct cfs_statfs st;
	u64 d;

	if (cfs_mount(&m->bdev, 0, &fs, &why))
		return; /* a clean refusal */
	cfs_statfs(fs, &st);
	walk(fs, CFS_ROOT_INO, 0);
	if (!cfs_lookup(fs, CFS_ROOT_INO, "dir", 3, &a)) {
		d = a.ino;
		if (!cfs_mknod(fs, d, "new", 3, CFS_S_IFREG | 0644, 0, &cr, &a)) {
			cfs_write(fs, a.ino, 100000, 5000, rbuf);
			cfs_fallocate(fs, a.ino, CFS_FALLOC_PUNCH_HOLE |
				      CFS_FALLOC_KEEP_SIZE, 0, 50000);
			cfs_forget(fs, a.ino, 1);
		}
		cfs_rename(fs, d, "file-3", 6, CFS_ROOT_INO, "moved", 5, 0);
		cfs_unlink(fs, d, "file-7", 6);
		cfs_rmdir(fs, d, "sub", 3);
		cfs_forget(fs, d, 1);
	}
	if (!cfs_lookup(fs, CFS_ROOT_INO, "big", 3, &a)) {
		struct cfs_setattr sa = { .valid = CFS_SET_SIZE, .size = 1 << 20 };

		cfs_write(fs, a.ino, 3 << 20, 4096, rbuf);
		cfs_setattr(fs, a.ino, &sa, NULL);
		cfs_forget(fs, a.ino, 1);
	}
	cfs_unmount(fs);
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

static u32 check(struct membdev *m, u32 mode)
{
	struct cfs_fs *fs;
	struct cfs_check_result r;
	const char *why;
	u32 k, found = 0, round;

	if (cfs_mount_check(&m->bdev, mode == CFS_CHECK_NOFIX ?
			    CFS_MOUNT_RDONLY : 0, &fs, &why))
		return ~0u;
	cfs_check_super(fs, mode, quiet, NULL, &r);
	/* repair: every chunk, then again for peers the cross pass named */
	for (round = 0; round < (mode == CFS_CHECK_NOFIX ? 1u : 3u); round++) {
		found = 0;
		for (k = 0; k < cfs_nchunks(fs); k++) {
			cfs_check_chunk(fs, k, mode, quiet, NULL, &r);
			found += r.found;
		}
		if (!found)
			break;
	}
	cfs_unmount(fs);
	return found;
}

int main(int argc, char **argv)
{
	u32 rounds = argc > 1 ? (u32)atoi(argv[1]) : 150;
	u32 seed = argc > 2 ? (u32)atoi(argv[2]) : 1, t, unmountable = 0;
	struct membdev *base = build(), *m = membdev_new(DEV);

	setvbuf(stdout, NULL, _IOLBF, 0);
	find_meta(base);
	for (t = 0; t < rounds && tap_fail < 5; t++) {
		u32 left;

		rs = seed * 2654435761u + t * 7919u + 17;
		rnd();
		if (getenv("FUZZ_ONLY") && (u32)atoi(getenv("FUZZ_ONLY")) != t)
			continue;
		memcpy(m->mem, base->mem, DEV);
		corrupt(m);
		loud = getenv("FUZZ_VERBOSE") != NULL;
		use(m);
		if (check(m, CFS_CHECK_FIXALL) == ~0u) {
			unmountable++;  /* no superblock found at all */
			continue;
		}
		loud = 0;
		left = check(m, CFS_CHECK_NOFIX);
		if (left) {
			loud = 1;
			check(m, CFS_CHECK_NOFIX);
			loud = 0;
		}
		CHECK(left == 0, "round %u (seed %u): %u problems after repair",
		      t, seed, left);
		use(m);
	}
	printf("fuzz: %u rounds, %u images with no superblock left\n", rounds,
	       unmountable);
	membdev_free(m);
	membdev_free(base);
	if (tap_fail) {
		printf("test_fuzz: %d checks failed\n", tap_fail);
		return 1;
	}
	printf("test_fuzz: all checks passed\n");
	return 0;
}
