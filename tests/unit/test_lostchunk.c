// SPDX-License-Identifier: GPL-2.0
/*
 * test_lostchunk.c - a lost chunk costs only what was in it (format v2,
 * issue 14).
 *
 * A tree with directories spread over chunks (their entries in several
 * chunks), hard links across directories, files larger than a chunk and a
 * filler that pushes new inodes out of their directories' chunks.  For
 * several chunks K (0 with the root, the chunk of a directory whose
 * entries live in several chunks, the chunk of a big file's continuation,
 * a chunk of ordinary files): every block of K zeroed, then ONE round of
 * `fsck -y --chunk K` with the peers its cross pass names; then:
 *   - `fsck -fn` finds nothing;
 *   - every file whose inode was outside K is at its original path(s) with
 *     its mode and owner, and its content unless its data had a part in K;
 *   - every directory is at its path (those whose home was in K recreated
 *     under their old names);
 *   - the blast radius the repair reports (lost files, files and
 *     directories that lost a part, recreated directories) is exactly the
 *     set of files with any part in K computed before the damage (inode in
 *     K, or a continuation in K), each reported with one of its paths.
 * It prints the figures the issue asks for: files outside K moved to
 * lost+found (target 0) and rounds to clean (target 1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/check.h"
#include "../../fs/internal.h"
#include "../lib/chunkimg.h"
#include "../lib/membdev.h"
#include "../lib/tap.h"

#define BS 4096u
#define CB 1024u
#define DEV (64u << 20)
#define MAXF 2048
#define PL 256

static struct cfs_cred cr = { .uid = 0, .gid = 0 };

struct ent {
	char path[PL];
	u64 ino;
	u32 mode, uid, gid;
	u64 size;
	u32 crc;
	u32 parts[16];        /* chunks: the inode's, then continuations' */
	u32 nparts;
};
static struct ent ents[MAXF];
static u32 nents;

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

	CHECK(!err, "mknod %s: %d", name, err);
	if (err)
		return 0;
	cfs_forget(fs, a.ino, 1);
	return a.ino;
}

static void file(struct cfs_fs *fs, u64 dir, const char *name, u64 size,
		 u8 *buf)
{
	u64 ino = mk(fs, dir, name, CFS_S_IFREG | 0640);

	if (!ino)
		return;
	fill(buf, size, (u32)ino);
	CHECK_EQ(cfs_write(fs, ino, 0, size, buf), size);
}

static void build(struct membdev *m)
{
	struct cfs_mkfs_opts o;
	struct cfs_fs *fs;
	struct cfs_attr a;
	const char *why;
	u8 *buf = malloc(6 << 20);
	char name[64];
	u64 a_dir, b_dir, c_dir, spread, f;
	u32 i;

	memset(&o, 0, sizeof(o));
	o.chunk_bytes = 4 << 20;
	o.inode_ratio = 4096;
	memcpy(o.uuid, "lost-chunk-uuid1", 16);
	CHECK_OK(cfs_mkfs(&m->bdev, &o));
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	a_dir = mk(fs, CFS_ROOT_INO, "a", CFS_S_IFDIR | 0750);
	for (i = 0; i < 60; i++) {
		snprintf(name, sizeof(name), "file-%u", i);
		file(fs, a_dir, name, 100 + i * 501, buf);
	}
	b_dir = mk(fs, a_dir, "b", CFS_S_IFDIR | 0755);
	c_dir = mk(fs, b_dir, "c", CFS_S_IFDIR | 0700);
	file(fs, c_dir, "deep", 7777, buf);
	/* a file larger than a chunk: continuations */
	file(fs, CFS_ROOT_INO, "big", (5u << 20) + 123, buf);
	/* a directory whose entries live in several chunks: its chunk
	 * filled, so new files go elsewhere */
	spread = mk(fs, CFS_ROOT_INO, "spread", CFS_S_IFDIR | 0755);
	file(fs, spread, "filler", 3300u << 10, buf);
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "s-%u", i);
		file(fs, spread, name, 3000 + i * 97, buf);
		if (i % 40 == 0) {
			snprintf(name, sizeof(name), "sub-%u", i);
			f = mk(fs, spread, name, CFS_S_IFDIR | 0755);
			file(fs, f, "inner", 4000, buf);
		}
	}
	/* hard links across directories */
	CHECK_OK(cfs_lookup(fs, a_dir, "file-3", 6, &a));
	cfs_forget(fs, a.ino, 1);
	CHECK_OK(cfs_link(fs, a.ino, spread, "link-to-a3", 10, &a));
	cfs_forget(fs, a.ino, 1);
	CHECK_OK(cfs_lookup(fs, spread, "s-150", 5, &a));
	cfs_forget(fs, a.ino, 1);
	CHECK_OK(cfs_link(fs, a.ino, c_dir, "link-to-s150", 12, &a));
	cfs_forget(fs, a.ino, 1);
	CHECK_OK(cfs_symlink(fs, b_dir, "sym", 3, "../file-1", 9, &cr, &a));
	cfs_forget(fs, a.ino, 1);
	CHECK_OK(cfs_unmount(fs));
	free(buf);
}

/* ---- the truth: every name, with what it must be ---- */

static u32 content_crc(struct cfs_fs *fs, u64 ino, u64 size, int *err)
{
	static u8 b[1 << 20];
	u64 off = 0;
	u32 crc = 0;

	*err = 0;
	while (off < size) {
		s64 n = cfs_read(fs, ino, off, sizeof(b), b);

		if (n <= 0) {
			*err = 1;
			return 0;
		}
		crc = host_crc32(crc, b, (u64)n);
		off += (u64)n;
	}
	return crc;
}

static void walk(struct cfs_fs *fs, u64 dir, const char *path)
{
	struct ci_dir_page *l = malloc(sizeof(*l));
	u64 cookie = 0;
	int n;
	u32 i;

	while ((n = ci_dir_page(fs, dir, &cookie, l)) > 0) {
		for (i = 0; i < l->n && nents < MAXF; i++) {
			struct ent *e = &ents[nents++];
			struct cfs_attr a;
			struct cfs_ino_links li;
			int err;
			u32 j;

			snprintf(e->path, PL, "%s/%s", path, l->name[i]);
			e->ino = l->ino[i];
			CHECK_OK(cfs_getattr(fs, e->ino, &a));
			e->mode = a.mode;
			e->uid = a.uid;
			e->gid = a.gid;
			e->size = a.size;
			e->crc = (a.mode & CFS_S_IFMT) == CFS_S_IFREG ?
				 content_crc(fs, e->ino, a.size, &err) : 0;
			e->parts[0] = (u32)(e->ino >> 32);
			e->nparts = 1;
			memset(&li, 0, sizeof(li));
			if (!cfs_inode_links(fs, e->ino, &li))
				for (j = 0; j < li.nconts && e->nparts < 16; j++)
					e->parts[e->nparts++] = li.chunks[j];
			if ((a.mode & CFS_S_IFMT) == CFS_S_IFDIR)
				walk(fs, e->ino, e->path);
		}
		if (n < CI_DIR_PAGE)
			break;
	}
	free(l);
}

static int has_part(const struct ent *e, u32 k)
{
	u32 i;

	for (i = 0; i < e->nparts; i++)
		if (e->parts[i] == k)
			return 1;
	return 0;
}

/* ---- the repair and its report ---- */

struct blast {
	u64 ino[MAXF];
	char path[MAXF][PL];
	u32 n;
	u32 lf_moves;         /* inodes moved to lost+found */
	u32 cont_moves;       /* continuations of lost files kept there */
	u32 left;             /* problems not fixed */
};

static void report(void *ctx, const struct cfs_problem_report *r)
{
	struct blast *b = ctx;
	const struct cfs_problem_desc *d = cfs_problem(r->code);

	if (getenv("LOST_VERBOSE"))
		printf("#   chunk %u ino %llx %s: %s [%s]%s\n", r->chunk,
		       (unsigned long long)r->ino, r->path ? r->path : "-",
		       d ? d->name : "?",
		       r->detail ? r->detail : "",
		       r->fixed ? "" : " NOT FIXED");
	if (!r->fixed && r->code != CFS_PROBLEM_COPY_BAD)
		b->left++;
	/* a file or directory of its own (its inode outside the lost chunk)
	 * moved to lost+found; a continuation whose origin was lost keeps
	 * its data there, which is no name lost */
	if (d && !strcmp(d->name, "orphan"))
		b->lf_moves++;
	if (d && !strcmp(d->name, "cont_orphan"))
		b->cont_moves++;
	if (d && (!strcmp(d->name, "lost_file") ||
		  !strcmp(d->name, "lost_data") ||
		  !strcmp(d->name, "dir_part_lost") ||
		  !strcmp(d->name, "resurrected")) && b->n < MAXF) {
		u32 i;

		for (i = 0; i < b->n; i++)
			if (b->ino[i] == r->ino)
				return;
		b->ino[b->n] = r->ino;
		snprintf(b->path[b->n], PL, "%s", r->path ? r->path : "");
		b->n++;
	}
}

static u32 one_round(struct membdev *m, u32 k, struct blast *b)
{
	struct cfs_fs *fs;
	struct cfs_check_result r;
	const char *why;
	u32 queue[128], nq = 0, q, j, found = 0;

	CHECK_OK(cfs_mount_check(&m->bdev, 0, &fs, &why));
	CHECK_OK(cfs_check_super(fs, CFS_CHECK_FIXALL, report, b, &r));
	queue[nq++] = k;
	for (q = 0; q < nq; q++) {
		CHECK_OK(cfs_check_chunk(fs, queue[q], CFS_CHECK_FIXALL, report,
					 b, &r));
		found += r.found;
		for (j = 0; j < r.nrecheck && nq < 128; j++) {
			u32 x, dup = 0;

			for (x = 0; x < nq; x++)
				dup |= queue[x] == r.recheck[j];
			if (!dup)
				queue[nq++] = r.recheck[j];
		}
	}
	CHECK_OK(cfs_unmount(fs));
	return found;
}

static u32 fsck_fn(struct membdev *m)
{
	struct cfs_fs *fs;
	struct cfs_check_result r;
	const char *why;
	u32 k, found = 0;
	struct blast *b = calloc(1, sizeof(*b));

	if (cfs_mount_check(&m->bdev, CFS_MOUNT_RDONLY, &fs, &why))
		return 1000;
	for (k = 0; k < cfs_nchunks(fs); k++) {
		if (cfs_check_chunk(fs, k, CFS_CHECK_NOFIX,
				    getenv("LOST_VERBOSE") ? report : NULL, b,
				    &r))
			found += 1000;
		found += r.found;
	}
	cfs_unmount(fs);
	free(b);
	return found;
}

static u64 lookup_path(struct cfs_fs *fs, const char *path)
{
	char w[PL], *s, *save = NULL;
	u64 cur = CFS_ROOT_INO;

	snprintf(w, sizeof(w), "%s", path);
	for (s = strtok_r(w, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		struct cfs_attr a;

		if (cfs_lookup(fs, cur, s, strlen(s), &a))
			return 0;
		cfs_forget(fs, a.ino, 1);
		cur = a.ino;
	}
	return cur;
}

static u32 lf_outside, rounds_total, trials;

/* Chunk k lost: all its blocks zeroed (the last chunk may be shorter:
 * placement may put a directory there, issue 16's best fit prefers the
 * chunk with the fewest free blocks). */
static void lose_chunk(struct membdev *m, u32 k)
{
	u64 first = (u64)2 + (u64)k * CB, n = CFS_MIN((u64)CB, DEV / BS - first);

	memset(m->mem + first * BS, 0, n * BS);
}

/* Before any repair: with chunk K (a part of /spread, not its home) lost,
 * a lookup still finds every name of /spread held in its other parts,
 * also those in parts after K's (a part that cannot be read hides nothing
 * else); a name that may be in K's part gives EIO, not ENOENT. */
static void lookup_past_lost_part(struct membdev *m, const u8 *snap)
{
	const struct ent *sp = NULL;
	struct cfs_fs *fs;
	struct cfs_attr a;
	const char *why;
	u64 dir;
	u32 i, k = ~0u, found = 0, later = 0, eio = 0, bad = 0;

	for (i = 0; i < nents; i++)
		if (!strcmp(ents[i].path, "/spread"))
			sp = &ents[i];
	if (!sp || sp->nparts < 3) {
		CHECK(0, "/spread has %u parts, want 3 or more",
		      sp ? sp->nparts : 0);
		return;
	}
	/* the continuation of the lowest chunk but 0 (which holds the root:
	 * no mount without it): parts are read in chunk order, so names in
	 * the parts after it are behind it */
	for (i = 1; i < sp->nparts; i++)
		if (sp->parts[i] < k && sp->parts[i] &&
		    sp->parts[i] != sp->parts[0])
			k = sp->parts[i];
	if (k == ~0u) {
		CHECK(0, "/spread has no continuation outside chunk 0");
		return;
	}
	memcpy(m->mem, snap, DEV);
	lose_chunk(m, k);
	if (cfs_mount(&m->bdev, 0, &fs, &why)) {
		CHECK(0, "mount with chunk %u lost: %s", k, why);
		return;
	}
	dir = lookup_path(fs, "/spread");
	CHECK(dir == sp->ino, "/spread found with chunk %u lost", k);
	for (i = 0; dir && i < nents; i++) {
		const struct ent *e = &ents[i];
		const char *name = e->path + strlen("/spread/");
		u32 ck = (u32)(e->ino >> 32);
		int err;

		if (strncmp(e->path, "/spread/", 8) || strchr(name, '/'))
			continue;
		err = cfs_lookup(fs, dir, name, strlen(name), &a);
		if (!err)
			cfs_forget(fs, a.ino, 1);
		if (ck == k) {
			eio += err == -CFS_EIO;
			bad += err != -CFS_EIO;
			continue;
		}
		if (!err && a.ino == e->ino) {
			found++;
			later += ck > k;
		} else {
			bad++;
			printf("# %s: error %d with chunk %u lost\n", e->path,
			       err, k);
		}
	}
	if (dir) {
		int err = cfs_lookup(fs, dir, "no-such-name", 12, &a);

		CHECK(err == -CFS_EIO, "a name in no readable part: error %d, "
		      "want EIO (it may be in chunk %u)", err, k);
	}
	printf("# /spread with its part in chunk %u lost: %u names found "
	       "(%u in parts after it), %u EIO for names in it, %u wrong\n",
	       k, found, later, eio, bad);
	CHECK(!bad && found && later, "lookups past a lost part: %u found, "
	      "%u after it, %u wrong", found, later, bad);
	cfs_unmount(fs);
}

static void trial(struct membdev *m, const u8 *snap, u32 k, const char *what)
{
	struct blast *b = calloc(1, sizeof(*b));
	struct cfs_fs *fs;
	const char *why;
	u32 i, j, found, missing = 0, wrong = 0, extra = 0, notrep = 0;

	memcpy(m->mem, snap, DEV);
	lose_chunk(m, k);
	found = one_round(m, k, b);
	if (getenv("LOST_VERBOSE")) {
		struct cfs_fs *f2;
		struct cfs_ino_links li;
		u32 x;

		if (!cfs_mount_check(&m->bdev, CFS_MOUNT_RDONLY, &f2, &why)) {
			if (!cfs_inode_links(f2, 2, &li)) {
				printf("# lost+found: %u conts:", li.nconts);
				for (x = 0; x < li.nconts && x < 64; x++)
					printf(" %u", li.chunks[x]);
				printf("\n");
			}
			cfs_unmount(f2);
		}
	}
	CHECK(found > 0, "%s: the loss of chunk %u was found", what, k);
	CHECK(!b->left, "%s: %u problems left unfixed", what, b->left);
	i = fsck_fn(m);
	CHECK(!i, "%s: fsck -fn after one round: %u problems", what, i);
	rounds_total += i ? 2 : 1;
	trials++;
	if (cfs_mount(&m->bdev, 0, &fs, &why)) {
		CHECK(0, "%s: the filesystem does not mount: %s", what, why);
		free(b);
		return;
	}
	for (i = 0; i < nents; i++) {
		const struct ent *e = &ents[i];
		u64 ino = lookup_path(fs, e->path);
		int isdir = (e->mode & CFS_S_IFMT) == CFS_S_IFDIR;
		struct cfs_attr a;

		if ((u32)(e->ino >> 32) == k && !isdir)
			continue; /* lost with its chunk */
		if (!ino) {
			missing++;
			if (missing < 5)
				printf("# %s: %s is gone\n", what, e->path);
			continue;
		}
		if (ino != e->ino || cfs_getattr(fs, ino, &a)) {
			wrong++;
			continue;
		}
		if (isdir && (u32)(e->ino >> 32) == k)
			continue; /* recreated: its mode and owner come from
				   * the backup, checked below */
		if (a.mode != e->mode || a.uid != e->uid || a.gid != e->gid) {
			wrong++;
			printf("# %s: %s mode %o uid %u, was %o %u\n", what,
			       e->path, a.mode, a.uid, e->mode, e->uid);
		} else if ((e->mode & CFS_S_IFMT) == CFS_S_IFREG &&
			   !has_part(e, k)) {
			int err;

			if (content_crc(fs, ino, e->size, &err) != e->crc ||
			    err) {
				wrong++;
				printf("# %s: %s content differs\n", what,
				       e->path);
			}
		}
	}
	/* recreated directories: their mode and owner from the backup */
	for (i = 0; i < nents; i++) {
		const struct ent *e = &ents[i];
		struct cfs_attr a;
		u64 ino;

		if ((e->mode & CFS_S_IFMT) != CFS_S_IFDIR ||
		    (u32)(e->ino >> 32) != k)
			continue;
		ino = lookup_path(fs, e->path);
		if (ino && !cfs_getattr(fs, ino, &a) &&
		    (a.mode != e->mode || a.uid != e->uid)) {
			wrong++;
			printf("# %s: recreated %s mode %o, was %o\n", what,
			       e->path, a.mode, e->mode);
		}
	}
	CHECK_OK(cfs_unmount(fs));
	CHECK(!missing && !wrong, "%s (chunk %u): %u names outside K gone, %u "
	      "wrong", what, k, missing, wrong);
	/* the blast radius: the files with any part in K, no more, no less */
	for (i = 0; i < nents; i++) {
		const struct ent *e = &ents[i];
		int rep = 0;

		if (!has_part(e, k))
			continue;
		for (j = 0; j < b->n; j++)
			if (b->ino[j] == e->ino) {
				u32 x;

				rep = 1;
				/* its path is one of the file's names */
				for (x = 0; x < nents; x++)
					if (ents[x].ino == e->ino &&
					    !strcmp(ents[x].path, b->path[j]))
						break;
				if (x == nents) {
					rep = 2;
					printf("# %s: reported %s as %s\n", what,
					       e->path, b->path[j]);
				}
			}
		if (rep != 1) {
			notrep++;
			if (notrep < 5 && !rep)
				printf("# %s: %s (part in %u) not in the blast "
				       "radius\n", what, e->path, k);
		}
	}
	for (j = 0; j < b->n; j++) {
		for (i = 0; i < nents; i++)
			if (ents[i].ino == b->ino[j] && has_part(&ents[i], k))
				break;
		if (i == nents && b->ino[j] != CFS_ROOT_INO) {
			extra++;
			printf("# %s: %s in the blast radius, no part in %u\n",
			       what, b->path[j], k);
		}
	}
	CHECK(!notrep && !extra, "%s: blast radius: %u files missing or "
	      "misnamed, %u extra", what, notrep, extra);
	lf_outside += b->lf_moves;
	printf("# %s: chunk %u lost: %u reported in the blast radius, %u moved "
	       "to lost+found (and %u parts of lost files kept there)\n",
	       what, k, b->n, b->lf_moves, b->cont_moves);
	free(b);
}

int main(void)
{
	struct membdev *m = membdev_new(DEV);
	u8 *snap = malloc(DEV);
	struct cfs_fs *fs;
	const char *why;
	u32 i, k_spread = 0, k_bigcont = 0, k_a = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	build(m);
	memcpy(snap, m->mem, DEV);
	CHECK_OK(cfs_mount(&m->bdev, CFS_MOUNT_RDONLY, &fs, &why));
	walk(fs, CFS_ROOT_INO, "");
	/* the root itself: a part in every chunk (its continuations) */
	snprintf(ents[nents].path, PL, "/");
	ents[nents].ino = CFS_ROOT_INO;
	ents[nents].mode = CFS_S_IFDIR | 0755;
	{
		struct cfs_ino_links li;
		u32 j;

		ents[nents].parts[0] = 0;
		ents[nents].nparts = 1;
		if (!cfs_inode_links(fs, CFS_ROOT_INO, &li))
			for (j = 0; j < li.nconts && j < 15; j++)
				ents[nents].parts[ents[nents].nparts++] =
					li.chunks[j];
	}
	nents++;
	cfs_unmount(fs);
	for (i = 0; i < nents; i++) {
		if (!strcmp(ents[i].path, "/spread"))
			k_spread = (u32)(ents[i].ino >> 32);
		if (!strcmp(ents[i].path, "/big") && ents[i].nparts > 1)
			k_bigcont = ents[i].parts[1];
		if (!strcmp(ents[i].path, "/a"))
			k_a = (u32)(ents[i].ino >> 32);
	}
	printf("# %u names; /spread in chunk %u, /big continues in %u, /a in "
	       "%u\n", nents, k_spread, k_bigcont, k_a);
	lookup_past_lost_part(m, snap);
	trial(m, snap, 0, "chunk 0 (the root)");
	trial(m, snap, k_spread, "the chunk of a spread directory");
	if (k_bigcont != k_spread)
		trial(m, snap, k_bigcont, "a big file's continuation chunk");
	for (i = 1; i < 4; i++) {
		u32 k = (k_a + i) % 16;

		if (k && k != k_spread && k != k_bigcont)
			trial(m, snap, k, "another chunk");
	}
	printf("# %u trials: files outside K moved to lost+found %u (target "
	       "0), rounds to clean %.2f (target 1)\n", trials, lf_outside,
	       trials ? (double)rounds_total / trials : 0);
	membdev_free(m);
	free(snap);
	if (tap_fail) {
		printf("test_lostchunk: %d checks failed\n", tap_fail);
		return 1;
	}
	printf("test_lostchunk: all checks passed\n");
	return 0;
}
