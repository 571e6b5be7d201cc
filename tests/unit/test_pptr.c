// SPDX-License-Identifier: GPL-2.0
/*
 * test_pptr.c - parent pointers (format v2, issue 14).
 *
 * 1. A random namespace workload on small chunks (create, mkdir, symlink,
 *    hard links across directories and chunks, unlink, rmdir, rename and
 *    rename-exchange across chunks, chmod and chown of directories),
 *    checked against a model: after every round every name's path comes
 *    back from cfs_path() (climbing parent pointers, never walking the
 *    namespace) and `fsck -fn` finds nothing (entries and parent pointers
 *    agree both ways, and the name backup in the next chunk matches).
 * 2. Entries removed from a directory leaf behind the filesystem's back
 *    (the records stay): fsck -y gives the names back from the parent
 *    pointers; every file is at its path again.
 * 3. A directory leaf lost with both its copies: the same.
 * 4. A chunk's parent pointer tree destroyed (both copies of the root):
 *    rebuilt from the entries; the name backup it holds for the chunk
 *    before: rebuilt from that chunk's records.
 * 5. A parent pointer record changed behind the filesystem's back: fsck
 *    rewrites it from the entry.
 * 6. Many names in one chunk (parent pointer and backup trees of many
 *    leaves): every file renamed into another directory (its record moved
 *    to a new key, in the leaf or, at a leaf's edge, through the tree
 *    functions), then half of them unlinked: paths from the parent
 *    pointers right and fsck -fn clean after each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fs/check.h"
#include "../../fs/internal.h"
#include "../lib/membdev.h"
#include "../lib/tap.h"

#define BS 4096u
#define CB 1024u
#define DEV (64u << 20)
#define DEBUG_ENOSPC 0
#define MAXN 3000

static struct cfs_cred cr = { .uid = 0, .gid = 0 };
static u32 rs = 1;

static u32 rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 17;
	rs ^= rs << 5;
	return rs;
}

/* ---- the model: names (path -> inode) ---- */
#define PL 256
struct name {
	char path[PL];
	u64 ino;
	int dir;
};
static struct name names[MAXN];
static u32 nnames;

/* dst (PL bytes) = a followed by b, cut to fit */
static void cat2(char *dst, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > PL - 1)
		la = PL - 1;
	if (lb > PL - 1 - la)
		lb = PL - 1 - la;
	memmove(dst + la, b, lb); /* (b may overlap dst's tail) */
	memmove(dst, a, la);
	dst[la + lb] = 0;
}

static int find_name(const char *path)
{
	u32 i;

	for (i = 0; i < nnames; i++)
		if (!strcmp(names[i].path, path))
			return (int)i;
	return -1;
}

static void del_name(u32 i)
{
	names[i] = names[--nnames];
}

static u64 path_dir_ino(const char *path)
{
	char parent[PL];
	char *slash;
	int i;

	cat2(parent, path, "");
	slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return CFS_ROOT_INO;
	*slash = 0;
	i = find_name(parent);
	return i < 0 ? 0 : names[i].ino;
}

static const char *base(const char *path)
{
	return strrchr(path, '/') + 1;
}

static u32 pick_dir(void)
{
	u32 i, n = 0, want;

	for (i = 0; i < nnames; i++)
		n += names[i].dir;
	if (!n)
		return MAXN;
	want = rnd() % (n + 1);
	if (want == n)
		return MAXN; /* the root */
	for (i = 0; i < nnames; i++)
		if (names[i].dir && !want--)
			return i;
	return MAXN;
}

static void dir_path(u32 d, char *out, u32 size)
{
	snprintf(out, size, "%s", d == MAXN ? "" : names[d].path);
}

static int has_children(const char *path)
{
	u32 i, n = (u32)strlen(path);

	for (i = 0; i < nnames; i++)
		if (!strncmp(names[i].path, path, n) && names[i].path[n] == '/')
			return 1;
	return 0;
}

static int is_under(const char *a, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(a, dir, n) && (a[n] == '/' || !a[n]);
}

/* ---- the workload ---- */

static void op(struct cfs_fs *fs, u32 i)
{
	char dp[PL], path[PL], name[32];
	struct cfs_attr a;
	u32 d = pick_dir(), what = rnd() % 100;
	u64 dino;
	int err, j;

	dir_path(d, dp, sizeof(dp));
	dino = d == MAXN ? CFS_ROOT_INO : names[d].ino;
	snprintf(name, sizeof(name), "n%u-%u", i, rnd() % 1000);
	cat2(path, dp, "/");
	cat2(path, path, name);
	if (strlen(path) > 150 || nnames >= MAXN - 2)
		what = 60; /* an unlink */
	if (what < 30) {                          /* create a file */
		err = cfs_mknod(fs, dino, name, strlen(name),
				CFS_S_IFREG | 0644, 0, &cr, &a);
		CHECK_OK(err);
		if (!err) {
			cfs_forget(fs, a.ino, 1);
			cat2(names[nnames].path, path, "");
			names[nnames].ino = a.ino;
			names[nnames++].dir = 0;
		}
	} else if (what < 42) {                   /* mkdir */
		err = cfs_mknod(fs, dino, name, strlen(name),
				CFS_S_IFDIR | 0755, 0, &cr, &a);
		CHECK_OK(err);
		if (!err) {
			cfs_forget(fs, a.ino, 1);
			cat2(names[nnames].path, path, "");
			names[nnames].ino = a.ino;
			names[nnames++].dir = 1;
		}
	} else if (what < 47) {                   /* symlink */
		err = cfs_symlink(fs, dino, name, strlen(name), "target", 6,
				  &cr, &a);
		CHECK_OK(err);
		if (!err) {
			cfs_forget(fs, a.ino, 1);
			cat2(names[nnames].path, path, "");
			names[nnames].ino = a.ino;
			names[nnames++].dir = 0;
		}
	} else if (what < 57 && nnames) {         /* hard link */
		j = (int)(rnd() % nnames);
		if (names[j].dir)
			return;
		err = cfs_link(fs, names[j].ino, dino, name, strlen(name), &a);
		CHECK_OK(err);
		if (!err) {
			cfs_forget(fs, a.ino, 1);
			cat2(names[nnames].path, path, "");
			names[nnames].ino = names[j].ino;
			names[nnames++].dir = 0;
		}
	} else if (what < 72 && nnames) {         /* unlink / rmdir */
		j = (int)(rnd() % nnames);
		if (names[j].dir) {
			if (has_children(names[j].path))
				return;
			err = cfs_rmdir(fs, path_dir_ino(names[j].path),
					base(names[j].path),
					strlen(base(names[j].path)));
		} else {
			err = cfs_unlink(fs, path_dir_ino(names[j].path),
					 base(names[j].path),
					 strlen(base(names[j].path)));
		}
		CHECK_OK(err);
		if (!err)
			del_name((u32)j);
	} else if (what < 92 && nnames) {         /* rename (maybe exchange) */
		u32 n, flags = 0;
		char old[PL];
		int k = -1;

		j = (int)(rnd() % nnames);
		if (names[j].dir && is_under(dp, names[j].path))
			return; /* into itself */
		if (rnd() % 4 == 0 && nnames > 1) {
			k = (int)(rnd() % nnames);
			if (k == j || names[j].dir != names[k].dir ||
			    is_under(names[k].path, names[j].path) ||
			    is_under(names[j].path, names[k].path))
				return;
			flags = 2; /* RENAME_EXCHANGE */
			cat2(path, names[k].path, "");
		}
		cat2(old, names[j].path, "");
		err = cfs_rename(fs, path_dir_ino(old), base(old),
				 strlen(base(old)), path_dir_ino(path),
				 base(path), strlen(base(path)), flags);
		CHECK(!err, "rename %s -> %s (%u): %d", old, path, flags, err);
		if (err == -CFS_ENOSPC && DEBUG_ENOSPC) {
			struct cfs_chunk_info ci;
			u32 c;

			for (c = 0; c < cfs_nchunks(fs); c++) {
				cfs_chunk_info(fs, c, &ci);
				printf("#  chunk %u: free blocks %u inodes %u\n",
				       c, ci.free_blocks, ci.free_inodes);
			}
			exit(1);
		}
		if (err)
			return;
		if (k >= 0) {
			u64 t = names[j].ino;

			names[j].ino = names[k].ino;
			names[k].ino = t;
		}
		if (!names[j].dir) {
			if (k < 0)
				cat2(names[j].path, path, "");
			return;
		}
		if (k >= 0) { /* two directories traded places: their
			       * subtrees follow them */
			char tmp[] = "\001swap";

			for (n = 0; n < nnames; n++) {
				char rest[PL];

				if (n == (u32)j || n == (u32)k)
					continue;
				if (is_under(names[n].path, old)) {
					snprintf(rest, sizeof(rest), "%s%s", tmp,
						 names[n].path + strlen(old));
					cat2(names[n].path, rest, "");
				}
			}
			for (n = 0; n < nnames; n++) {
				char rest[PL];

				if (n == (u32)j || n == (u32)k)
					continue;
				if (is_under(names[n].path, path)) {
					snprintf(rest, sizeof(rest), "%s%s", old,
						 names[n].path + strlen(path));
					cat2(names[n].path, rest, "");
				}
			}
			for (n = 0; n < nnames; n++) {
				char rest[PL];

				if (!strncmp(names[n].path, tmp, strlen(tmp))) {
					snprintf(rest, sizeof(rest), "%s%s", path,
						 names[n].path + strlen(tmp));
					cat2(names[n].path, rest, "");
				}
			}
			return;
		}
		for (n = 0; n < nnames; n++) {
			char rest[PL];

			if (n != (u32)j && is_under(names[n].path, old)) {
				snprintf(rest, sizeof(rest), "%s%s", path,
					 names[n].path + strlen(old));
				cat2(names[n].path, rest, "");
			}
		}
		cat2(names[j].path, path, "");
	} else if (nnames) {                      /* chmod / chown a dir */
		struct cfs_setattr sa;

		j = (int)(rnd() % nnames);
		memset(&sa, 0, sizeof(sa));
		sa.valid = CFS_SET_MODE | CFS_SET_UID;
		sa.mode = 0700 | (rnd() % 077);
		sa.uid = rnd() % 5;
		CHECK_OK(cfs_setattr(fs, names[j].ino, &sa, &a));
	}
}

static u32 fsck_all(struct membdev *m, u32 mode, u32 *fixed, int verbose)
{
	struct cfs_fs *fs;
	struct cfs_check_result r;
	const char *why;
	u32 k, found = 0, q, nq, queue[64];

	*fixed = 0;
	if (cfs_mount_check(&m->bdev, mode == CFS_CHECK_NOFIX ?
			    CFS_MOUNT_RDONLY : 0, &fs, &why))
		return 1000;
	for (k = 0; k < cfs_nchunks(fs); k++) {
		nq = 0;
		queue[nq++] = k;
		for (q = 0; q < nq; q++) {
			u32 j;

			if (cfs_check_chunk(fs, queue[q], mode, NULL, NULL, &r))
				found += 1000;
			found += r.found;
			*fixed += r.fixed;
			if (verbose && r.found)
				printf("#   chunk %u: %u problems\n", queue[q],
				       r.found);
			for (j = 0; j < r.nrecheck && nq < 64; j++)
				queue[nq++] = r.recheck[j];
		}
	}
	cfs_unmount(fs);
	return found;
}

static const char *pname = "fsck";
static void show(void *ctx, const struct cfs_problem_report *r)
{
	const struct cfs_problem_desc *d = cfs_problem(r->code);

	(void)ctx;
	printf("#   %s: chunk %u ino %llx: %s [%s]%s\n", pname, r->chunk,
	       (unsigned long long)r->ino, d ? d->name : "?",
	       r->detail ? r->detail : "", r->fixed ? " fixed" : "");
}

/* fsck -y --chunk k, and the peers its cross pass names */
static void fsck_chunk(struct membdev *m, u32 k, u32 *found, u32 *codes,
		       u32 ncodes)
{
	struct cfs_fs *fs;
	struct cfs_check_result r;
	const char *why;
	u32 queue[64], nq = 0, q, j;

	*found = 0;
	(void)codes;
	(void)ncodes;
	CHECK_OK(cfs_mount_check(&m->bdev, 0, &fs, &why));
	queue[nq++] = k;
	for (q = 0; q < nq; q++) {
		CHECK_OK(cfs_check_chunk(fs, queue[q], CFS_CHECK_FIXALL,
					 getenv("PPTR_VERBOSE") ? show : NULL,
					 NULL, &r));
		*found += r.found;
		for (j = 0; j < r.nrecheck && nq < 64; j++)
			queue[nq++] = r.recheck[j];
	}
	CHECK_OK(cfs_unmount(fs));
}

/* Every name of the model is found at its path, and cfs_path() of every
 * single-named inode gives that path. */
static void verify(struct membdev *m, const char *what)
{
	struct cfs_fs *fs;
	const char *why;
	char p[400];
	u32 i, bad = 0, badpath = 0;

	CHECK_OK(cfs_mount(&m->bdev, CFS_MOUNT_RDONLY, &fs, &why));
	for (i = 0; i < nnames; i++) {
		struct cfs_attr a;
		char walk[PL], *s, *save = NULL;
		u64 cur = CFS_ROOT_INO;
		u32 j, links = 0;
		int err = 0, n;

		cat2(walk, names[i].path, "");
		for (s = strtok_r(walk, "/", &save); s && !err;
		     s = strtok_r(NULL, "/", &save)) {
			err = cfs_lookup(fs, cur, s, strlen(s), &a);
			if (!err) {
				cfs_forget(fs, a.ino, 1);
				cur = a.ino;
			}
		}
		if (err || cur != names[i].ino) {
			bad++;
			if (bad < 4)
				printf("# %s: %s not found (%d)\n", what,
				       names[i].path, err);
			continue;
		}
		for (j = 0; j < nnames; j++)
			links += names[j].ino == names[i].ino;
		n = cfs_path(fs, names[i].ino, p, sizeof(p));
		if (n < 0) {
			badpath++;
		} else if (links == 1 && strcmp(p, names[i].path)) {
			badpath++;
			if (badpath < 4)
				printf("# %s: cfs_path %s, want %s\n", what, p,
				       names[i].path);
		} else if (links > 1) {
			/* one of its names */
			for (j = 0; j < nnames; j++)
				if (names[j].ino == names[i].ino &&
				    !strcmp(p, names[j].path))
					break;
			badpath += j == nnames;
		}
	}
	CHECK(!bad, "%s: %u of %u names not at their path", what, bad, nnames);
	CHECK(!badpath, "%s: %u wrong paths from the parent pointers", what,
	      badpath);
	CHECK_OK(cfs_unmount(fs));
}

static u8 *blkp(struct membdev *m, u32 k, u32 l)
{
	return m->mem + ((u64)2 + (u64)k * CB + l) * BS;
}

static struct cfs_chunk_hdr *hdr(struct membdev *m, u32 k)
{
	return (struct cfs_chunk_hdr *)blkp(m, k, 0);
}

static void reseal(u8 *b)
{
	((struct cfs_bhdr *)b)->crc = host_crc32(0, b + 4, BS - 4);
}

/* The directory with the most entries in chunk k's inodes: one whose
 * tree has a leaf block. */
static int leaf_of_dir(struct membdev *m, u64 dir, u32 *k, u32 *blk, u32 *blk2)
{
	struct cfs_fs *fs;
	struct cfs_inode *ip;
	const char *why;
	u32 l;
	int ok = 0;

	CHECK_OK(cfs_mount(&m->bdev, CFS_MOUNT_RDONLY, &fs, &why));
	host_mutex_lock(fs->lock);
	if (!inode_get(fs, dir, &ip)) {
		const struct cfs_node_hdr *n =
			(const struct cfs_node_hdr *)ip->d.root;

		if (n->level) {
			/* the first child of the inline root */
			const u8 *kp = ip->d.root + sizeof(*n);

			memcpy(&l, kp + 8, 4);
			*blk = l;
			memcpy(blk2, kp + 12, 4);
			*k = (u32)(dir >> 32);
			ok = 1;
		}
		inode_put(fs, ip);
	}
	host_mutex_unlock(fs->lock);
	cfs_unmount(fs);
	return ok;
}

/* ---- 6. renames and unlinks in trees of many leaves ---- */

/* The paths of files first, first + step, ... (of n) from cfs_path. */
static void paths_right(struct cfs_fs *fs, const u64 *ino, u32 n,
			const char *dir, u32 first, u32 step)
{
	char want[64], got[PL];
	u32 i, bad = 0;

	for (i = first; i < n; i += step) {
		snprintf(want, sizeof(want), "%s/g%u-%u", dir, i, i * 7 % 100);
		if (cfs_path(fs, ino[i], got, sizeof(got)) < 0 ||
		    strcmp(got, want))
			bad++;
	}
	CHECK(!bad, "%u paths from parent pointers wrong", bad);
}

static void many_names(void)
{
	enum { N = 2500 };
	struct membdev *m = membdev_new(DEV);
	struct cfs_mkfs_opts o;
	struct cfs_fs *fs;
	struct cfs_attr a;
	const char *why;
	static u64 ino[N];
	u64 da, db;
	char on[32], nn[32];
	u32 i, j, fixed, found;

	memset(&o, 0, sizeof(o));
	o.chunk_bytes = 16 << 20; /* (4 chunks: a backup in the next one) */
	CHECK_OK(cfs_mkfs(&m->bdev, &o));
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	CHECK_OK(cfs_mknod(fs, CFS_ROOT_INO, "a", 1, CFS_S_IFDIR | 0755, 0,
			   &cr, &a));
	cfs_forget(fs, a.ino, 1);
	da = a.ino;
	CHECK_OK(cfs_mknod(fs, CFS_ROOT_INO, "b", 1, CFS_S_IFDIR | 0755, 0,
			   &cr, &a));
	cfs_forget(fs, a.ino, 1);
	db = a.ino;
	for (i = 0; i < N && !tap_fail; i++) {
		snprintf(on, sizeof(on), "f%u", i);
		CHECK_OK(cfs_mknod(fs, da, on, strlen(on), CFS_S_IFREG | 0644,
				   0, &cr, &a));
		cfs_forget(fs, a.ino, 1);
		ino[i] = a.ino;
	}
	/* names of other lengths and of the same (the record rewritten
	 * where it is) */
	for (i = 0; i < N && !tap_fail; i++) {
		snprintf(on, sizeof(on), "f%u", i);
		snprintf(nn, sizeof(nn), "g%u-%u", i, i * 7 % 100);
		CHECK_OK(cfs_rename(fs, da, on, strlen(on), db, nn, strlen(nn),
				    0));
	}
	paths_right(fs, ino, N, "/b", 0, 1);
	CHECK_OK(cfs_unmount(fs));
	found = fsck_all(m, CFS_CHECK_NOFIX, &fixed, 1);
	CHECK(!found, "after the renames fsck -fn found %u problems", found);
	/* half, then the rest (leaves emptied: freed by bt_delete) */
	for (j = 0; j < 2; j++) {
		CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
		for (i = j; i < N && !tap_fail; i += 2) {
			snprintf(nn, sizeof(nn), "g%u-%u", i, i * 7 % 100);
			CHECK_OK(cfs_unlink(fs, db, nn, strlen(nn)));
		}
		if (!j)
			paths_right(fs, ino, N, "/b", 1, 2);
		CHECK_OK(cfs_unmount(fs));
		found = fsck_all(m, CFS_CHECK_NOFIX, &fixed, 1);
		CHECK(!found, "after unlink round %u fsck -fn found %u "
		      "problems", j, found);
	}
	printf("# %u files renamed in trees of many leaves, unlinked in two "
	       "halves: paths right, fsck clean\n", N);
	membdev_free(m);
}

int main(int argc, char **argv)
{
	struct membdev *m = membdev_new(DEV);
	struct cfs_mkfs_opts o;
	struct cfs_fs *fs;
	const char *why;
	u8 *snap = malloc(DEV);
	u32 round, i, fixed, found, rounds = argc > 1 ? (u32)atoi(argv[1]) : 6;
	u64 big;

	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&o, 0, sizeof(o));
	o.chunk_bytes = 4 << 20;
	o.inode_ratio = 4096; /* (a chunk's inodes last: the names spread) */
	memcpy(o.uuid, "pptr-test-uuid-1", 16);
	CHECK_OK(cfs_mkfs(&m->bdev, &o));
	/* ---- 1. the workload ---- */
	for (round = 0; round < rounds; round++) {
		CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
		for (i = 0; i < 400; i++)
			op(fs, round * 1000 + i);
		CHECK_OK(cfs_unmount(fs));
		found = fsck_all(m, CFS_CHECK_NOFIX, &fixed, 1);
		CHECK(!found, "round %u: fsck -fn found %u problems", round,
		      found);
		verify(m, "workload");
	}
	printf("# workload: %u names after %u rounds, fsck clean, paths from "
	       "parent pointers\n", nnames, rounds);
	/* a big directory: a directory tree with leaf blocks */
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	{
		struct cfs_attr a;
		char name[64];

		CHECK_OK(cfs_mknod(fs, CFS_ROOT_INO, "bigdir", 6,
				   CFS_S_IFDIR | 0755, 0, &cr, &a));
		cfs_forget(fs, a.ino, 1);
		big = a.ino;
		cat2(names[nnames].path, "/bigdir", "");
		names[nnames].ino = big;
		names[nnames++].dir = 1;
		for (i = 0; i < 300; i++) {
			snprintf(name, sizeof(name), "an-entry-with-a-name-%u",
				 i);
			CHECK_OK(cfs_mknod(fs, big, name, strlen(name),
					   CFS_S_IFREG | 0644, 0, &cr, &a));
			cfs_forget(fs, a.ino, 1);
			cat2(names[nnames].path, "/bigdir/", name);
			names[nnames].ino = a.ino;
			names[nnames++].dir = 0;
		}
	}
	CHECK_OK(cfs_unmount(fs));
	memcpy(snap, m->mem, DEV);

	/* ---- 2, 3. a directory leaf lost (both copies) ---- */
	{
		u32 k, blk, blk2;

		CHECK(leaf_of_dir(m, big, &k, &blk, &blk2),
		      "bigdir has leaf blocks");
		memset(blkp(m, k, blk), 0, BS);
		if (blk2)
			memset(blkp(m, k, blk2), 0, BS);
		fsck_chunk(m, k, &found, NULL, 0);
		CHECK(found > 0, "the lost leaf was found");
		found = fsck_all(m, CFS_CHECK_NOFIX, &fixed, 1);
		CHECK(!found, "after the repair fsck -fn found %u", found);
		verify(m, "leaf lost");
		printf("# a directory leaf lost with both copies: every name "
		       "given back from the parent pointers\n");
	}
	/* ---- 4. the parent pointer tree of a chunk destroyed ---- */
	memcpy(m->mem, snap, DEV);
	{
		u32 k = (u32)(big >> 32);
		struct cfs_chunk_hdr *h = hdr(m, k);

		memset(blkp(m, k, h->pptr_root), 0, BS);
		memset(blkp(m, k, h->pptr_root2), 0, BS);
		memset(blkp(m, k, h->nbak_root), 0, BS);
		memset(blkp(m, k, h->nbak_root2), 0, BS);
		fsck_chunk(m, k, &found, NULL, 0);
		CHECK(found > 0, "the lost trees were found");
		found = fsck_all(m, CFS_CHECK_NOFIX, &fixed, 1);
		CHECK(!found, "after rebuilding fsck -fn found %u", found);
		verify(m, "trees rebuilt");
		printf("# parent pointer tree and name backup of chunk %u "
		       "rebuilt\n", k);
	}
	/* ---- 5. a record changed behind the filesystem's back ---- */
	memcpy(m->mem, snap, DEV);
	{
		u32 k = (u32)(big >> 32);
		struct cfs_chunk_hdr *h = hdr(m, k);
		u8 *b = blkp(m, k, h->pptr_root);
		const struct cfs_node_hdr *n = (const void *)(b + 64);
		u32 done = 0;

		if (!n->level && n->nitems) {
			struct cfs_item it;

			memcpy(&it, b + 64 + 8, sizeof(it));
			/* the first record's parent generation */
			b[64 + it.off + 8] ^= 0x5a;
			reseal(b);
			memcpy(blkp(m, k, h->pptr_root2), b, BS);
			((struct cfs_bhdr *)blkp(m, k, h->pptr_root2))->blkno =
				2 + (u64)k * CB + h->pptr_root2;
			reseal(blkp(m, k, h->pptr_root2));
			done = 1;
		}
		if (done) {
			found = fsck_all(m, CFS_CHECK_NOFIX, &fixed, 0);
			CHECK(found > 0, "a wrong record is found");
			fsck_chunk(m, k, &found, NULL, 0);
			found = fsck_all(m, CFS_CHECK_NOFIX, &fixed, 1);
			CHECK(!found, "after rewriting fsck -fn found %u",
			      found);
			printf("# a wrong parent pointer rewritten from its "
			       "entry\n");
		} else {
			printf("# (the parent pointer root of chunk %u is not a "
			       "leaf: case 5 skipped)\n", k);
		}
	}
	membdev_free(m);
	free(snap);
	/* ---- 6. ---- */
	many_names();
	if (tap_fail) {
		printf("test_pptr: %d checks failed\n", tap_fail);
		return 1;
	}
	printf("test_pptr: all checks passed\n");
	return 0;
}
