// SPDX-License-Identifier: GPL-2.0
/*
 * test_crash.c - power cut at every write (issue 4).
 *
 * A seeded workload (creates, appends, truncates, renames and hard links
 * across chunks, unlinks, atomic replace by rename, continuation growth and
 * removal, mkdir/rmdir, fsync and syncfs) runs on the memory device, which
 * records every write and flush.  Then, for every prefix N of the record
 * (or a seeded sample of them), the device is rebuilt as it would be if the
 * power had gone after write N, and:
 *   - the filesystem mounts (journal replay succeeds);
 *   - every file fsync'ed (or synced by syncfs) before the cut is there with
 *     the content it had then, or a content a later operation begun before
 *     the cut gave it;
 *   - every file found has a name and a content the workload gave it at
 *     some moment (nothing that was never written appears);
 *   - after unmounting, a check of every chunk (fsck -n) finds nothing.
 * Variants: "exact" (the first N writes landed), "lost" (the writes after
 * the last flush before N landed only in part, in any order: what a disk
 * with a volatile cache may do) and "torn" (like lost, and one of those
 * writes landed half).  A last part tears and misdirects single metadata
 * blocks of a clean image: detected on read, repaired by the chunk check.
 * The image has every format v2 feature (mkfs's defaults), so the checks
 * at every cut cover parent pointers and their backups too.
 *
 *   test_crash [PREFIXES [SEED [VARIANT]]]  (defaults 2000, 1, all)
 *   test_crash --dump FILE   writes two images of the workload for
 *       tests/tools/t_replay.sh: FILE, cut just after a commit point (the
 *       superblock names a group whose blocks are not yet in place: the
 *       journal must be replayed), and FILE.ref, cut where that commit's
 *       in-place writes are complete.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/check.h"
#include "../../fs/internal.h"
#include "../lib/membdev.h"
#include "../lib/tap.h"

#define BS 4096u
#define DEV (40u << 20)       /* 10 chunks of 4 MiB */
#define MAXP 512              /* paths */
#define MAXV 64               /* versions per path */
#define MAXI 512              /* inodes */

static struct cfs_cred cr = { .uid = 0, .gid = 0 };
static u32 rs;

/* the overwrites' own generator (op) */
static u32 ors = 0x9e3779b9u;

static u32 orng(void)
{
	ors ^= ors << 13;
	ors ^= ors >> 17;
	ors ^= ors << 5;
	return ors;
}

static u32 rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 17;
	rs ^= rs << 5;
	return rs;
}

/* ---- the model ----
 * A path's history: the contents it had, each with the record index at
 * which the operation that gave it began (absent: size = ABSENT). */
#define ABSENT (~0ULL)
struct version {
	unsigned long long start;  /* record length when the op began */
	u64 size;
	u32 crc;
};
struct path {
	char name[64];
	u32 nv;
	struct version v[MAXV];
	/* floor: index into v of the version made durable by an fsync or
	 * syncfs ending at record length `floor_at` (several may apply: the
	 * test keeps every one) */
	u32 nfloor;
	struct { unsigned long long at; u32 vi; } floor[MAXV];
};
static struct path paths[MAXP];
static u32 npaths;

struct inode {
	u64 ino;
	u64 size;
	u32 crc;      /* crc of the whole content */
	u32 seed;     /* content of byte i: gen(seed, i) */
	u32 npaths;
	u32 path[8];  /* indexes into paths[] */
	int dir;
};
static struct inode inodes[MAXI];
static u32 ninodes;

static struct membdev *dev;
static struct cfs_fs *fs;
static u8 *buf;

static unsigned long long now_ev(void)
{
	return dev->nlog;
}

static u8 gen(u32 seed, u64 i)
{
	u32 x = seed * 2654435761u + (u32)(i / 4096) * 40503u;

	x ^= (u32)i * 2246822519u;
	x ^= x >> 15;
	return (u8)(x * 2654435761u >> 24);
}

static u32 content_crc(u32 seed, u64 size)
{
	u32 crc = 0;
	u64 off = 0;

	while (off < size) {
		u64 n = CFS_MIN(size - off, (u64)(1 << 20)), i;

		for (i = 0; i < n; i++)
			buf[i] = gen(seed, off + i);
		crc = host_crc32(crc, buf, n);
		off += n;
	}
	return crc;
}

static u32 path_of(const char *name)
{
	u32 i;

	for (i = 0; i < npaths; i++)
		if (!strcmp(paths[i].name, name))
			return i;
	CHECK(npaths < MAXP, "too many paths");
	snprintf(paths[npaths].name, sizeof(paths[npaths].name), "%s", name);
	paths[npaths].nv = 0;
	return npaths++;
}

static void path_set(u32 p, u64 size, u32 crc, unsigned long long start)
{
	struct path *P = &paths[p];

	if (P->nv == MAXV) { /* keep the history bounded: drop the oldest */
		memmove(P->v, P->v + 1, (MAXV - 1) * sizeof(P->v[0]));
		P->nv--;
		for (u32 f = 0; f < P->nfloor; f++)
			P->floor[f].vi = P->floor[f].vi ? P->floor[f].vi - 1 : 0;
	}
	P->v[P->nv].start = start;
	P->v[P->nv].size = size;
	P->v[P->nv].crc = crc;
	P->nv++;
}

static void inode_changed(struct inode *I, unsigned long long start)
{
	u32 i;

	I->crc = content_crc(I->seed, I->size);
	for (i = 0; i < I->npaths; i++)
		path_set(I->path[i], I->size, I->crc, start);
}

static void floor_path(u32 p, unsigned long long at)
{
	struct path *P = &paths[p];

	if (!P->nv || P->nfloor == MAXV)
		return;
	P->floor[P->nfloor].at = at;
	P->floor[P->nfloor].vi = P->nv - 1;
	P->nfloor++;
}

/* ---- workload ---- */

static u64 dirs[16];
static u32 ndirs;
static char dirname_[16][16];

static int do_sync_all(void)
{
	int err = cfs_sync(fs);
	u32 p;

	if (!err)
		for (p = 0; p < npaths; p++)
			floor_path(p, now_ev());
	return err;
}

static struct inode *new_file(u32 d, const char *base, u64 size)
{
	char name[64];
	struct cfs_attr a;
	struct inode *I;
	unsigned long long start = now_ev();
	u64 off;

	if (ninodes >= MAXI)
		return NULL;
	snprintf(name, sizeof(name), "%s/%s", dirname_[d], base);
	if (cfs_mknod(fs, dirs[d], base, strlen(base), CFS_S_IFREG | 0644, 0,
		      &cr, &a))
		return NULL;
	cfs_forget(fs, a.ino, 1);
	I = &inodes[ninodes++];
	memset(I, 0, sizeof(*I));
	I->ino = a.ino;
	I->seed = rnd();
	I->path[I->npaths++] = path_of(name);
	I->size = 0;
	inode_changed(I, start); /* exists, empty */
	for (off = 0; off < size;) {
		u64 n = CFS_MIN(size - off, (u64)(1 << 20)), i;
		s64 w;

		for (i = 0; i < n; i++)
			buf[i] = gen(I->seed, off + i);
		w = cfs_write(fs, I->ino, off, n, buf);
		if (w <= 0)
			break;
		off += (u64)w;
	}
	/* the create and the write are two operations; the write may have
	 * stopped early (ENOSPC): the model takes what was written */
	I->size = off;
	inode_changed(I, start);
	return I;
}

static struct inode *pick_file(void)
{
	u32 tries;

	for (tries = 0; tries < 50 && ninodes; tries++) {
		struct inode *I = &inodes[rnd() % ninodes];

		if (I->npaths && !I->dir)
			return I;
	}
	return NULL;
}

static void split(u32 p, u32 *d, const char **base)
{
	const char *s = strchr(paths[p].name, '/');
	u32 i;

	*base = s + 1;
	for (i = 0; i < ndirs; i++)
		if (!strncmp(paths[p].name, dirname_[i], (size_t)(s - paths[p].name)) &&
		    strlen(dirname_[i]) == (size_t)(s - paths[p].name))
			*d = i;
}

static void remove_name(struct inode *I, u32 k, unsigned long long start)
{
	u32 p = I->path[k];

	path_set(p, ABSENT, 0, start);
	I->path[k] = I->path[--I->npaths];
}

static void op(u32 i)
{
	u32 what = rnd() % 100, d = rnd() % ndirs;
	unsigned long long start = now_ev();
	struct inode *I;
	char base[32];
	u32 pd;
	const char *pb;

	if (what < 22) {                          /* create a small file */
		snprintf(base, sizeof(base), "f%u", i);
		new_file(d, base, rnd() % 3 ? rnd() % 20000 : 0);
	} else if (what < 32) {                   /* overwrite, append */
		I = pick_file();
		if (I && I->size && orng() % 2) {
			/* the same bytes again (the content is a function of
			 * the offset): copied on write (data checksums), the
			 * content the model knows never changes.  Its own
			 * random numbers: the rest of the workload is as it
			 * was without it (t_replay's images) */
			u64 off = orng() % I->size, n = 1 + orng() % 20000, j;

			n = CFS_MIN(I->size - off, n); /* (a macro) */
			for (j = 0; j < n; j++)
				buf[j] = gen(I->seed, off + j);
			cfs_write(fs, I->ino, off, n, buf);
		}
		if (I) {
			u64 n = 1 + rnd() % 12000, j;
			s64 w;

			for (j = 0; j < n; j++)
				buf[j] = gen(I->seed, I->size + j);
			w = cfs_write(fs, I->ino, I->size, n, buf);
			if (w > 0) {
				I->size += (u64)w;
				inode_changed(I, start);
			}
		}
	} else if (what < 37) {                   /* grow into a continuation */
		I = pick_file();
		if (I) {
			u64 n = (2u << 20) + rnd() % (3u << 20), off = I->size;
			u64 end = off + n;

			while (off < end) {
				u64 m = CFS_MIN(end - off, (u64)(1 << 20)), j;
				s64 w;

				for (j = 0; j < m; j++)
					buf[j] = gen(I->seed, off + j);
				w = cfs_write(fs, I->ino, off, m, buf);
				if (w <= 0)
					break;
				off += (u64)w;
			}
			if (off != I->size) {
				I->size = off;
				inode_changed(I, start);
			}
		}
	} else if (what < 44) {                   /* truncate */
		I = pick_file();
		if (I) {
			struct cfs_setattr sa;
			struct cfs_attr a;

			memset(&sa, 0, sizeof(sa));
			sa.valid = CFS_SET_SIZE;
			sa.size = I->size ? rnd() % I->size : 0;
			if (!cfs_setattr(fs, I->ino, &sa, &a)) {
				I->size = sa.size;
				inode_changed(I, start);
			}
		}
	} else if (what < 56) {                   /* rename (maybe across) */
		I = pick_file();
		if (I && I->npaths) {
			u32 k = rnd() % I->npaths, p = I->path[k], nd = rnd() % ndirs;
			char nn[64];
			u32 np;

			split(p, &pd, &pb);
			snprintf(base, sizeof(base), "r%u", i);
			if (!cfs_rename(fs, dirs[pd], pb, strlen(pb), dirs[nd],
					base, strlen(base), 0)) {
				snprintf(nn, sizeof(nn), "%s/%s", dirname_[nd],
					 base);
				np = path_of(nn);
				remove_name(I, k, start);
				I->path[I->npaths++] = np;
				path_set(np, I->size, I->crc, start);
			}
		}
	} else if (what < 62) {                   /* atomic replace */
		I = pick_file();
		if (I && I->npaths == 1) {
			struct inode *T;
			u32 p = I->path[0];

			split(p, &pd, &pb);
			snprintf(base, sizeof(base), "tmp%u", i);
			T = new_file(pd, base, rnd() % 30000);
			if (T && !cfs_fsync(fs, T->ino, 0)) {
				floor_path(T->path[0], now_ev());
				start = now_ev();
				if (!cfs_rename(fs, dirs[pd], base, strlen(base),
						dirs[pd], pb, strlen(pb), 0)) {
					remove_name(T, 0, start);
					/* I loses its name (it had one) */
					I->npaths = 0;
					T->path[T->npaths++] = p;
					path_set(p, T->size, T->crc, start);
				}
			}
		}
	} else if (what < 68) {                   /* hard link */
		I = pick_file();
		if (I && I->npaths && I->npaths < 8) {
			u32 nd = rnd() % ndirs;
			struct cfs_attr a;
			char nn[64];

			snprintf(base, sizeof(base), "l%u", i);
			if (!cfs_link(fs, I->ino, dirs[nd], base, strlen(base),
				      &a)) {
				u32 np;

				cfs_forget(fs, a.ino, 1);
				snprintf(nn, sizeof(nn), "%s/%s", dirname_[nd],
					 base);
				np = path_of(nn);
				I->path[I->npaths++] = np;
				path_set(np, I->size, I->crc, start);
			}
		}
	} else if (what < 80) {                   /* unlink */
		I = pick_file();
		if (I && I->npaths) {
			u32 k = rnd() % I->npaths;

			split(I->path[k], &pd, &pb);
			if (!cfs_unlink(fs, dirs[pd], pb, strlen(pb)))
				remove_name(I, k, start);
		}
	} else if (what < 84) {                   /* mkdir + rmdir */
		struct cfs_attr a;

		snprintf(base, sizeof(base), "sd%u", i);
		if (!cfs_mknod(fs, dirs[d], base, strlen(base),
			       CFS_S_IFDIR | 0755, 0, &cr, &a)) {
			cfs_forget(fs, a.ino, 1);
			if (rnd() % 2)
				CHECK_OK(cfs_rmdir(fs, dirs[d], base,
						   strlen(base)));
		}
	} else if (what < 94) {                   /* fsync one file */
		I = pick_file();
		if (I && I->npaths && !cfs_fsync(fs, I->ino, rnd() % 2)) {
			u32 k;

			for (k = 0; k < I->npaths; k++)
				floor_path(I->path[k], now_ev());
		}
	} else {                                  /* syncfs */
		CHECK_OK(do_sync_all());
	}
}

/* ---- checking one crash state ---- */

struct walkctx {
	char names[256][64];
	u64 inos[256];
	u32 types[256];
	u32 n;
};

static int filldir(void *ctx, const char *name, u32 len, u64 ino, u32 type,
		   u64 next)
{
	struct walkctx *w = ctx;

	(void)next;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	if (w->n < 256 && len < 63) {
		memcpy(w->names[w->n], name, len);
		w->names[w->n][len] = 0;
		w->inos[w->n] = ino;
		w->types[w->n] = type;
		w->n++;
	}
	return 0;
}

static int file_crc(u64 ino, u64 size, u32 *crc)
{
	u64 off = 0;

	*crc = 0;
	while (off < size) {
		u64 n = CFS_MIN(size - off, (u64)(1 << 20));
		s64 r = cfs_read(fs, ino, off, n, buf);

		if (r != (s64)n)
			return -1;
		*crc = host_crc32(*crc, buf, n);
		off += n;
	}
	return 0;
}

static int allowed(const struct path *P, unsigned long long n,
		   unsigned long long durable, u64 size, u32 crc)
{
	u32 lo = 0, i, f;
	int any_floor = 0;

	for (f = 0; f < P->nfloor; f++)
		if (P->floor[f].at <= durable && P->floor[f].vi >= lo) {
			lo = P->floor[f].vi;
			any_floor = 1;
		}
	if (!any_floor && size == ABSENT)
		return 1; /* never made durable: may be absent */
	for (i = lo; i < P->nv; i++) {
		/* the durable version, then those of operations begun
		 * before the cut */
		if ((i > lo || !any_floor) && P->v[i].start >= n)
			break;
		if (P->v[i].size == size && (size == ABSENT || P->v[i].crc == crc))
			return 1;
	}
	return 0;
}

static u32 failures;

static void dump_path(const struct path *P)
{
	u32 i;

	for (i = 0; i < P->nv; i++)
		fprintf(stderr, "    version %u: from record %llu, size %lld "
			"crc %08x\n", i, P->v[i].start,
			(long long)P->v[i].size, P->v[i].crc);
	for (i = 0; i < P->nfloor; i++)
		fprintf(stderr, "    durable at %llu: version %u\n",
			P->floor[i].at, P->floor[i].vi);
}

static void verify(unsigned long long n, unsigned long long durable,
		   const char *variant)
{
	struct walkctx *w = calloc(1, sizeof(*w));
	u8 seen[MAXP];
	u32 d, i, p;

	memset(seen, 0, sizeof(seen));
	for (d = 0; d < ndirs; d++) {
		struct cfs_attr a;

		if (cfs_lookup(fs, CFS_ROOT_INO, dirname_[d],
			       strlen(dirname_[d]), &a)) {
			CHECK(0, "%s N=%llu: directory %s missing", variant, n,
			      dirname_[d]);
			failures++;
			continue;
		}
		cfs_forget(fs, a.ino, 1);
		w->n = 0;
		CHECK_OK(cfs_readdir(fs, a.ino, 0, filldir, w));
		for (i = 0; i < w->n; i++) {
			char full[80];
			struct cfs_attr fa;
			u32 crc;

			if (w->types[i] == CFS_FT_DIR)
				continue;
			snprintf(full, sizeof(full), "%s/%s", dirname_[d],
				 w->names[i]);
			for (p = 0; p < npaths; p++)
				if (!strcmp(paths[p].name, full))
					break;
			if (p == npaths) {
				CHECK(0, "%s N=%llu: %s appeared, never made",
				      variant, n, full);
				failures++;
				continue;
			}
			seen[p] = 1;
			if (cfs_getattr(fs, w->inos[i], &fa) ||
			    file_crc(w->inos[i], fa.size, &crc)) {
				CHECK(0, "%s N=%llu: %s unreadable", variant, n,
				      full);
				failures++;
				continue;
			}
			if (!allowed(&paths[p], n, durable, fa.size, crc)) {
				CHECK(0, "%s N=%llu: %s has size %llu crc %08x, "
				      "a content it never had then", variant,
				      n, full, (unsigned long long)fa.size, crc);
				dump_path(&paths[p]);
				failures++;
			}
		}
	}
	for (p = 0; p < npaths; p++) {
		if (seen[p])
			continue;
		if (!allowed(&paths[p], n, durable, ABSENT, 0)) {
			CHECK(0, "%s N=%llu: %s (fsync'ed) is missing", variant,
			      n, paths[p].name);
			failures++;
		}
	}
	free(w);
}

/* fsck -fn: the problems found; fsck_corrected gets the bad copies;
 * with data (fsck -fn --data) also every data block an extent maps is
 * compared with its checksum: fsck_data_bad gets those that differ */
static u32 fsck_corrected, fsck_data_bad;
static u64 fsck_data_read;

static u32 fsck_all_data(int data)
{
	struct cfs_fs *cfs;
	struct cfs_check_result r;
	const char *why;
	u32 k, found = 0;

	fsck_corrected = 0;
	fsck_data_bad = 0;
	if (cfs_mount_check(&dev->bdev, CFS_MOUNT_RDONLY, &cfs, &why))
		return 1000;
	for (k = 0; k < cfs_nchunks(cfs); k++) {
		if (cfs_check_chunk(cfs, k, CFS_CHECK_NOFIX |
				    (data ? CFS_CHECK_DATA : 0),
				    membdev_print_problem, NULL, &r))
			found += 1000;
		found += r.found;
		fsck_corrected += r.corrected;
		fsck_data_bad += r.data_bad;
		fsck_data_read += r.data_blocks_read;
	}
	cfs_unmount(cfs);
	return found;
}

static u32 fsck_all(void)
{
	return fsck_all_data(0);
}

/* The device holds the base plus record entries [0, applied). */
static unsigned long long applied;

static void advance(unsigned long long to)
{
	membdev_replay(dev, &applied, to);
}

/* Rebuild the device for a cut after record entry n (exclusive) and check
 * it.  mode 0: exact; 1: lost/reordered after the last flush; 2: also one
 * torn write.  Cuts come in increasing order. */
static void trial(unsigned long long n, int mode, const char *variant)
{
	unsigned long long lastf = 0, i, durable;
	struct md_event *log = dev->log;
	const char *why;
	u32 found;
	int err;

	for (i = n; i > 0; i--)
		if (!log[i - 1].data) {
			lastf = i;
			break;
		}
	durable = mode ? lastf : n;
	advance(mode ? lastf : n);
	dev->undoing = 1;
	if (mode) {
		unsigned long long cnt = n - lastf, k;
		unsigned long long *idx = malloc((cnt + 1) * sizeof(*idx));
		unsigned long long torn = cnt ? lastf + rnd() % cnt : 0;

		for (k = 0; k < cnt; k++)
			idx[k] = lastf + k;
		for (k = cnt; k > 1; k--) { /* shuffle: any order */
			unsigned long long j = rnd() % k, t = idx[k - 1];

			idx[k - 1] = idx[j];
			idx[j] = t;
		}
		for (k = 0; k < cnt; k++) {
			struct md_event *e = &log[idx[k]];

			if (!e->data || rnd() % 2)
				continue; /* lost */
			if (mode == 2 && idx[k] == torn)
				membdev_apply(dev, e->off, e->data, e->len / 2);
			else
				membdev_apply(dev, e->off, e->data, e->len);
		}
		free(idx);
	}
	/* fsck -n of the image as the cut left it (replaying in memory):
	 * nothing that needs only the replay is a problem (every other
	 * cut: the time it takes) */
	if (!(n % 2)) {
		/* ... and every block an extent maps matches its checksum
		 * (data checksums: ordered writes, copies on write) */
		found = fsck_all_data(1);
		if (found || fsck_data_bad) {
			CHECK(0, "%s N=%llu: fsck -n --data before the mount "
			      "found %u problems, %u data blocks that do not "
			      "match their checksums", variant, n, found,
			      fsck_data_bad);
			failures++;
		}
	}
	err = cfs_mount(&dev->bdev, 0, &fs, &why);
	if (err) {
		CHECK(0, "%s N=%llu: mount failed: %s (%d)", variant, n, why,
		      err);
		failures++;
	} else {
		verify(n, durable, variant);
		CHECK_OK(cfs_unmount(fs));
		found = fsck_all();
		if (found || fsck_corrected) {
			CHECK(0, "%s N=%llu: fsck -n found %u problems and %u "
			      "copies that disagree", variant, n, found,
			      fsck_corrected);
			failures++;
		}
	}
	membdev_undo(dev);
	dev->undoing = 0;
}

/* ---- torn and misdirected blocks on a clean image ---- */

/* Rounds 0 and 1 damage the first copy of the block only: the read heals
 * it from the second (no error, the chunk stays clean, a corrected event).
 * Rounds 2 and 3 damage both copies: the read fails cleanly, the chunk is
 * suspect and the check repairs it. */
static void torn_and_misdirected(u8 *base)
{
	struct cfs_fs *cfs;
	struct cfs_check_result r;
	const char *why;
	struct cfs_chunk_hdr *h;
	u64 a, b, a2, b2;
	int round;

	for (round = 0; round < 4; round++) {
		int both = round >= 2, torn = !(round % 2);
		const char *what = torn ? "torn" : "misdirected";

		memcpy(dev->mem, base, DEV);
		h = (struct cfs_chunk_hdr *)(dev->mem +
					     (u64)(CFS_FIRST_CHUNK_BLOCK +
						   1024) * BS);
		CHECK(h->mirror_start != 0, "the image has second copies");
		/* chunk 1: its inode table's first block (and its copy) */
		a = CFS_FIRST_CHUNK_BLOCK + 1024 + h->itable_start;
		b = CFS_FIRST_CHUNK_BLOCK + 1024 + h->bbmap_start;
		a2 = CFS_FIRST_CHUNK_BLOCK + 1024 + h->mirror_start +
		     h->itable_start - 1;
		b2 = CFS_FIRST_CHUNK_BLOCK + 1024 + h->mirror_start +
		     h->bbmap_start - 1;
		if (torn) { /* the second half of a newer version */
			memset(dev->mem + a * BS + BS / 2, 0x5a, BS / 2);
			if (both)
				memset(dev->mem + a2 * BS + BS / 2, 0x5a,
				       BS / 2);
		} else {    /* misdirected: the bitmap's block landed here */
			memcpy(dev->mem + a * BS, dev->mem + b * BS, BS);
			if (both)
				memcpy(dev->mem + a2 * BS, dev->mem + b2 * BS,
				       BS);
		}
		CHECK_OK(cfs_mount(&dev->bdev, 0, &fs, &why));
		if (!both) {
			struct cfs_attr at;
			struct chunkfs_events ev;
			u32 i, seen = 0;

			CHECK_OK(cfs_getattr(fs, CFS_MKINO(1, 1), &at));
			CHECK_EQ(cfs_chunk_state(fs, 1), CFS_CHUNK_CLEAN);
			memset(&ev, 0, sizeof(ev));
			CHECK_OK(cfs_events(fs, &ev));
			for (i = 0; i < ev.count; i++)
				seen |= ev.e[i].code == CHUNKFS_E_CORRECTED &&
					ev.e[i].chunk == 1;
			CHECK(seen, "a corrected event for the %s copy", what);
			CHECK_OK(cfs_unmount(fs));
			/* healed on disk: both copies are good again */
			CHECK(!memcmp(dev->mem + a * BS + 40,
				      dev->mem + a2 * BS + 40, BS - 40),
			      "the %s copy was rewritten", what);
			CHECK_EQ(fsck_all(), 0);
			continue;
		}
		{
			/* reading an inode of that block fails, cleanly */
			struct cfs_attr at;
			int e = cfs_getattr(fs, CFS_MKINO(1, 1), &at);

			CHECK(e == -CFS_EUCLEAN || e == -CFS_EIO,
			      "read of a %s block gave %d", what, e);
			CHECK_EQ(cfs_chunk_state(fs, 1), CFS_CHUNK_SUSPECT);
		}
		CHECK_OK(cfs_unmount(fs));
		/* fsck -y --chunk 1 (and the peers its cross pass names) */
		CHECK_OK(cfs_mount_check(&dev->bdev, 0, &cfs, &why));
		{
			u32 queue[64], nq = 0, q, j;

			queue[nq++] = 1;
			for (q = 0; q < nq; q++) {
				CHECK_OK(cfs_check_chunk(cfs, queue[q],
							 CFS_CHECK_FIXALL,
							 NULL, NULL, &r));
				if (q == 0)
					CHECK(r.found > 0, "the check found "
					      "the %s block", what);
				for (j = 0; j < r.nrecheck && nq < 64; j++)
					queue[nq++] = r.recheck[j];
			}
		}
		CHECK_OK(cfs_unmount(cfs));
		CHECK_EQ(fsck_all(), 0);
	}
}

/* A file unlinked while in use, then a crash: the orphan is listed, fsck
 * -n finds nothing wrong, the next mount frees it (its space comes back),
 * and the filesystem is clean again. */
static void orphan_after_crash(void)
{
	struct membdev *d = membdev_new(DEV);
	struct cfs_mkfs_opts o;
	struct cfs_statfs st0, st1;
	struct cfs_attr a;
	struct cfs_fs *f;
	struct membdev *save = dev;
	const char *why;
	u8 *snap = malloc(DEV);
	u64 ino, dino;
	int r;

	memset(&o, 0, sizeof(o));
	o.chunk_bytes = 4 << 20;
	memcpy(o.uuid, "orphan-test-uuid", 16);
	CHECK_OK(cfs_mkfs(&d->bdev, &o));
	CHECK_OK(cfs_mount(&d->bdev, 0, &f, &why));
	CHECK_OK(cfs_statfs(f, &st0));
	CHECK_OK(cfs_mknod(f, CFS_ROOT_INO, "dir", 3, CFS_S_IFDIR | 0755, 0,
			   &cr, &a));
	dino = a.ino; /* (its lookup reference kept: a cwd, rmdir'ed below) */
	CHECK_OK(cfs_mknod(f, CFS_ROOT_INO, "open", 4, CFS_S_IFREG | 0644, 0,
			   &cr, &a));
	ino = a.ino;  /* the lookup reference stays: the file is "open" */
	memset(buf, 0x5c, 300000);
	CHECK_EQ(cfs_write(f, ino, 0, 300000, buf), 300000);
	CHECK_OK(cfs_unlink(f, CFS_ROOT_INO, "open", 4));
	CHECK_OK(cfs_rmdir(f, CFS_ROOT_INO, "dir", 3));
	CHECK_EQ(cfs_read(f, ino, 0, 10, buf), 10); /* still readable */
	CHECK_OK(cfs_sync(f));
	memcpy(snap, d->mem, DEV);     /* the power goes now */
	cfs_forget(f, ino, 1);
	cfs_forget(f, dino, 1);
	CHECK_OK(cfs_unmount(f));
	memcpy(d->mem, snap, DEV);
	dev = d;                        /* (fsck_all checks `dev`) */
	CHECK_EQ(fsck_all(), 0);
	CHECK_OK(cfs_mount(&d->bdev, 0, &f, &why));
	CHECK_OK(cfs_getattr(f, CFS_ROOT_INO, &a)); /* an operation: frees */
	r = cfs_getattr(f, ino, &a);
	CHECK(r == -CFS_ENOENT || r == -CFS_ESTALE, "the orphan is freed (%d)",
	      r);
	r = cfs_getattr(f, dino, &a);
	CHECK(r == -CFS_ENOENT || r == -CFS_ESTALE, "the orphan dir is freed "
	      "(%d)", r);
	CHECK_OK(cfs_statfs(f, &st1));
	CHECK_EQ(st1.bfree, st0.bfree);
	CHECK_EQ(st1.ffree, st0.ffree);
	CHECK_OK(cfs_unmount(f));
	CHECK_EQ(fsck_all(), 0);
	printf("# orphan after a crash: listed, fsck clean, freed by the next "
	       "mount\n");
	dev = save;
	membdev_free(d);
	free(snap);
}

/* The images for t_replay.sh: see the top comment. */
static int dump(const u8 *base, const char *file)
{
	struct md_event *log = dev->log;
	unsigned long long i, cut_a = 0, cut_b = 0, best = 0;
	char ref[4096];
	FILE *f;

	for (i = 0; i + 1 < dev->nlog; i++) {
		unsigned long long j, n = 0;

		/* the superblock copy: the commit point's second write */
		if (!log[i].data || log[i].off != BS || log[i].len != BS ||
		    log[i + 1].data)
			continue;
		/* then a flush, then the in-place writes up to a flush */
		for (j = i + 2; j < dev->nlog && log[j].data; j++)
			n++;
		if (j < dev->nlog && n >= best) {
			best = n;
			cut_a = i + 2;
			cut_b = j;
		}
	}
	if (best < 3) {
		fprintf(stderr, "no commit with in-place writes found\n");
		return 1;
	}
	snprintf(ref, sizeof(ref), "%s.ref", file);
	memcpy(dev->mem, base, DEV);
	for (i = 0; i < cut_b; i++) {
		if (i == cut_a) {
			f = fopen(file, "wb");
			if (!f || fwrite(dev->mem, 1, DEV, f) != DEV || fclose(f))
				return 1;
		}
		if (log[i].data)
			memcpy(dev->mem + log[i].off, log[i].data, log[i].len);
	}
	f = fopen(ref, "wb");
	if (!f || fwrite(dev->mem, 1, DEV, f) != DEV || fclose(f))
		return 1;
	printf("# %s: cut after record %llu (a commit point, %llu in-place "
	       "writes to come); %s: after record %llu\n", file, cut_a, best,
	       ref, cut_b);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dumpfile = argc > 2 && !strcmp(argv[1], "--dump") ?
			       argv[2] : NULL;
	unsigned long long nsample = argc > 1 && !dumpfile ?
				     strtoull(argv[1], NULL, 0) : 2000;
	u32 seed = argc > 2 && !dumpfile ? (u32)strtoul(argv[2], NULL, 0) : 1;
	int only = argc > 3 && !dumpfile ? atoi(argv[3]) : -1;
	struct cfs_mkfs_opts o;
	const char *why;
	u8 *base;
	unsigned long long total, i, k;
	u32 nops = 160;
	int mode;

	rs = seed * 2654435761u + 1;
	buf = malloc(1 << 20);
	dev = membdev_new(DEV);
	base = malloc(DEV);
	memset(&o, 0, sizeof(o));
	o.chunk_bytes = 4 << 20;
	memcpy(o.uuid, "crash-test-uuid1", 16);
	CHECK_OK(cfs_mkfs(&dev->bdev, &o));
	CHECK_OK(cfs_mount(&dev->bdev, 0, &fs, &why));
	/* format v2 whole: the checks at every cut cover the parent pointers
	 * and name backups every rename, link and unlink writes (issue 14) */
	CHECK(fs->metagen && fs->dup && fs->pptr, "mkfs's defaults: metagen "
	      "%d dup %d pptr %d", fs->metagen, fs->dup, fs->pptr);
	/* the base: chunk 0 nearly full, so directories spread over chunks */
	ndirs = 0;
	{
		struct inode *F;
		u32 d;

		dirs[0] = CFS_ROOT_INO;
		strcpy(dirname_[0], "");
		for (d = 0; d < 6; d++) {
			struct cfs_attr a;

			snprintf(dirname_[d], sizeof(dirname_[d]), "d%u", d);
			CHECK_OK(cfs_mknod(fs, CFS_ROOT_INO, dirname_[d],
					   strlen(dirname_[d]),
					   CFS_S_IFDIR | 0755, 0, &cr, &a));
			cfs_forget(fs, a.ino, 1);
			dirs[d] = a.ino;
			ndirs++;
			if (d == 0) {
				F = new_file(0, "filler", 3400u << 10);
				CHECK(F && F->size == (3400u << 10), "filler");
			}
		}
		for (d = 0; d < ndirs; d++)
			printf("# %s in chunk %u\n", dirname_[d],
			       (u32)(dirs[d] >> 32));
	}
	for (i = 0; i < 12; i++) {
		char b[16];

		snprintf(b, sizeof(b), "base%llu", i);
		new_file(rnd() % ndirs, b, rnd() % 40000);
	}
	CHECK_OK(cfs_unmount(fs));
	/* everything in the base is durable */
	for (i = 0; i < npaths; i++) {
		paths[i].v[paths[i].nv - 1].start = 0;
		floor_path((u32)i, 0);
	}
	memcpy(base, dev->mem, DEV);

	/* the workload, recorded */
	dev->recording = 1;
	CHECK_OK(cfs_mount(&dev->bdev, 0, &fs, &why));
	for (i = 0; i < nops; i++)
		op((u32)i);
	{
		u64 ov = fs->jstat.overflows, commits = fs->jstat.commits;

		CHECK_OK(cfs_unmount(fs));
		CHECK_EQ(ov, 0);
		printf("# workload: %u operations, %llu commits, %llu writes "
		       "and flushes recorded, %u paths\n", nops,
		       (unsigned long long)commits,
		       (unsigned long long)dev->nlog, npaths);
	}
	for (i = 0; i < npaths; i++)
		floor_path((u32)i, dev->nlog);
	dev->recording = 0;
	total = dev->nlog;
	if (dumpfile) {
		int r = dump(base, dumpfile);

		membdev_free(dev);
		free(base);
		free(buf);
		return r || tap_fail;
	}

	/* prefixes: all of them if few enough, else a seeded sample
	 * (stratified: one random cut in each of `want` equal slices) */
	for (mode = 0; mode < 3; mode++) {
		static const char *names[] = { "exact", "lost", "torn" };
		unsigned long long want = mode ? nsample / 2 : nsample, done = 0;
		u32 before = failures;

		if (only >= 0 && only != mode)
			continue;
		if (want > total + 1)
			want = total + 1;
		memcpy(dev->mem, base, DEV);
		applied = 0;
		for (k = 0; k < want; k++) {
			unsigned long long lo = (total + 1) * k / want;
			unsigned long long hi = (total + 1) * (k + 1) / want;
			unsigned long long n = lo + rnd() % (hi - lo);

			trial(n, mode, names[mode]);
			done++;
			if (failures - before > 5)
				break;
		}
		printf("# %s: %llu crash points of %llu, %u failed\n",
		       names[mode], done, total + 1, failures - before);
	}
	printf("# data blocks verified against their checksums after the "
	       "cuts: %llu\n", (unsigned long long)fsck_data_read);
	CHECK(fsck_data_read > 10000, "data verified: %llu blocks",
	      (unsigned long long)fsck_data_read);
	torn_and_misdirected(base);
	orphan_after_crash();
	membdev_free(dev);
	free(base);
	free(buf);
	if (tap_fail)
		printf("FAIL test_crash: %d checks failed\n", tap_fail);
	else
		printf("ok test_crash\n");
	return tap_fail ? 1 : 0;
}
