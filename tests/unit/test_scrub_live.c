// SPDX-License-Identifier: GPL-2.0
/*
 * test_scrub_live.c - the online repair while operations go on (issue 5):
 *
 *  1. While the repair of chunk K is being computed (held at a gate in its
 *     device reads), a write to a file of another chunk completes, and a
 *     write to a file of chunk K waits until the repair is in; the repair
 *     is computed on the private instance (not under the lock) and what
 *     the waiting write wrote is there afterwards.
 *  2. Rounds of damage injected into chunk K and repaired by scrubs while
 *     two threads keep writing and creating files, one in other chunks and
 *     one in chunk K itself: no operation ever fails, every repair fixes
 *     all it finds, every file verifies, and the filesystem is clean by
 *     an offline check after the unmount.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../fs/check.h"
#include "../../fs/internal.h"
#include "../lib/chunkimg.h"
#include "../lib/membdev.h"
#include "../lib/tap.h"

#define BS 4096u
#define CB 1024u              /* 4 MiB chunks */
#define DEV (40u << 20)
#define NAMES 120

static struct cfs_cred cr = { .uid = 0, .gid = 0 };
static struct membdev *dev;

/* ---- the gate: a device over the memory device whose reads of chunk
 * `gate_chunk` stop, while a repair is being computed (fs->frozen), until
 * the test opens it ---- */
static struct cfs_bdev gdev;
static struct cfs_fs *gfs;
static pthread_mutex_t gm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gc = PTHREAD_COND_INITIALIZER;
static int gate_armed, gate_reached;
static u32 gate_chunk;

static int g_read(struct cfs_bdev *d, u64 off, void *buf, u64 len)
{
	u64 blk = off / BS;

	(void)d;
	if (gate_armed && gfs && gfs->frozen == gate_chunk + 1 &&
	    blk >= CFS_FIRST_CHUNK_BLOCK + (u64)gate_chunk * CB &&
	    blk < CFS_FIRST_CHUNK_BLOCK + (u64)(gate_chunk + 1) * CB) {
		pthread_mutex_lock(&gm);
		gate_reached = 1;
		pthread_cond_broadcast(&gc);
		while (gate_armed)
			pthread_cond_wait(&gc, &gm);
		pthread_mutex_unlock(&gm);
	}
	return dev->bdev.ops->read(&dev->bdev, off, buf, len);
}

static int g_write(struct cfs_bdev *d, u64 off, const void *buf, u64 len)
{
	(void)d;
	return dev->bdev.ops->write(&dev->bdev, off, buf, len);
}

static int g_flush(struct cfs_bdev *d)
{
	(void)d;
	return dev->bdev.ops->flush(&dev->bdev);
}

static const struct cfs_bdev_ops g_ops = { g_read, g_write, g_flush };

static u64 mk(struct cfs_fs *fs, u64 dir, const char *name, u32 mode)
{
	struct cfs_attr a;
	int err = cfs_mknod(fs, dir, name, strlen(name), mode, 0, &cr, &a);

	CHECK(!err, "create %s: %d", name, err);
	if (err)
		return 0;
	cfs_forget(fs, a.ino, 1);
	return a.ino;
}

static u8 pattern(u64 ino, u64 i, u32 round)
{
	return (u8)(ino * 31 + i * 7 + (i >> 12) + round * 13);
}

static int put(struct cfs_fs *fs, u64 ino, u64 size, u32 round)
{
	u8 *b = malloc(size);
	u64 i;
	s64 r;

	for (i = 0; i < size; i++)
		b[i] = pattern(ino, i, round);
	r = cfs_write(fs, ino, 0, size, b);
	free(b);
	return r == (s64)size ? 0 : r < 0 ? (int)r : -CFS_EIO;
}

static int verify(struct cfs_fs *fs, u64 ino, u64 size, u32 round)
{
	u8 *b = malloc(size ? size : 1);
	s64 r = cfs_read(fs, ino, 0, size, b);
	u64 i;
	int ok = r == (s64)size;

	for (i = 0; ok && i < size; i++)
		ok = b[i] == pattern(ino, i, round);
	free(b);
	return ok;
}

static u8 *blk(u32 k, u32 local)
{
	return ci_blk(dev, BS, CB, k, local);
}

static u32 tree_block(u32 k, u32 owner, u32 tree)
{
	return ci_tree_block(dev, BS, CB, k, owner, tree);
}

static void report(void *ctx, const struct cfs_problem_report *r)
{
	const struct cfs_problem_desc *d = cfs_problem(r->code);

	(void)ctx;
	printf("# problem %s: chunk %u inode %llx block %llu %s\n",
	       d ? d->name : "?", r->chunk, (unsigned long long)r->ino,
	       (unsigned long long)r->blk, r->detail ? r->detail : "");
}

static u32 offline_problems(void)
{
	return ci_offline_problems(dev, report);
}

/* ---- threads ---- */
struct job {
	struct cfs_fs *fs;
	u64 ino;              /* part 1: the file to write */
	u64 dir;              /* part 2: where to create files */
	int done, err;
	u32 ops;
	volatile int *stop;
};

struct scrub_job {
	struct cfs_fs *fs;
	struct chunkfs_scrub s;
	int err, done;
};

static void *scrub_thread(void *arg)
{
	struct scrub_job *j = arg;

	j->err = cfs_scrub(j->fs, &j->s);
	__atomic_store_n(&j->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *write_one(void *arg)
{
	struct job *j = arg;

	j->err = put(j->fs, j->ino, 30000, 7);
	__atomic_store_n(&j->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Part 2: rewrite a file and create (and later verify) new ones in dir,
 * until told to stop; the first failure is kept. */
static void *writer(void *arg)
{
	struct job *j = arg;
	char name[32];
	u32 n = 0;

	while (!*j->stop && !j->err && n < 400) {
		struct cfs_attr a;
		int err;

		snprintf(name, sizeof(name), "w%u", n);
		err = cfs_mknod(j->fs, j->dir, name, strlen(name),
				CFS_S_IFREG | 0644, 0, &cr, &a);
		if (!err) {
			cfs_forget(j->fs, a.ino, 1);
			err = put(j->fs, a.ino, 2000 + (n % 7) * 1500, n);
		}
		if (!err)
			err = put(j->fs, j->ino, 9000, n);
		if (!err && !verify(j->fs, j->ino, 9000, n))
			err = -1000;
		if (err)
			j->err = err;
		n++;
		__atomic_add_fetch(&j->ops, 1, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

int main(void)
{
	struct cfs_mkfs_opts o;
	struct cfs_fs *fs;
	const char *why;
	struct chunkfs_scrub s;
	u64 dirs[4], files[4][4];
	u32 k, i, blkno, round;
	char name[32];

	setvbuf(stdout, NULL, _IOLBF, 0);
	dev = membdev_new(DEV);
	gdev = dev->bdev;
	gdev.ops = &g_ops;
	memset(&o, 0, sizeof(o));
	o.chunk_bytes = 4 << 20;
	/* the repairs here are of a block's only copy (-m single) */
	o.no_features = CFS_MKFS_NO_DUP;
	memcpy(o.uuid, "scrub-live-uuid1", 16);
	CHECK_OK(cfs_mkfs(&dev->bdev, &o));
	CHECK_OK(cfs_mount(&gdev, 0, &fs, &why));
	gfs = fs;
	/* a directory per chunk, each chunk then nearly filled */
	for (k = 0; k < 4; k++) {
		snprintf(name, sizeof(name), "d%u", k);
		dirs[k] = mk(fs, CFS_ROOT_INO, name, CFS_S_IFDIR | 0755);
		for (i = 0; i < 4; i++) {
			snprintf(name, sizeof(name), "f%u", i);
			files[k][i] = mk(fs, dirs[k], name, CFS_S_IFREG | 0644);
			CHECK_OK(put(fs, files[k][i], 1000 + i * 3000, 0));
		}
		for (i = 0; i < NAMES; i++) {
			snprintf(name, sizeof(name), "entry-with-a-long-name-%u", i);
			mk(fs, dirs[k], name, CFS_S_IFREG | 0644);
		}
		CHECK_OK(put(fs, mk(fs, dirs[k], "filler", CFS_S_IFREG | 0644),
			     4000u << 10, 0));
	}
	CHECK((dirs[1] >> 32) != (dirs[2] >> 32) &&
	      (dirs[2] >> 32) != (dirs[3] >> 32), "directories in 3 chunks");
	CHECK_OK(cfs_sync(fs));
	k = (u32)(dirs[2] >> 32);
	blkno = tree_block(k, (u32)dirs[2], CFS_TREE_DIR);
	CHECK(blkno != 0, "a directory leaf of d2 in chunk %u", k);
	if (!blkno)
		return 1;

	/* ---- 1. the gate: who waits for the repair ---- */
	{
		pthread_t ts, ta, tb;
		struct scrub_job sj;
		struct job a = { 0 }, b = { 0 };

		memset(&sj, 0, sizeof(sj));
		sj.fs = fs;
		memset(blk(k, blkno) + 200, 0x6b, 300);
		sj.s.chunk = k;
		sj.s.flags = CHUNKFS_SCRUB_REPAIR;
		gate_chunk = k;
		gate_reached = 0;
		gate_armed = 1;
		pthread_create(&ts, NULL, scrub_thread, &sj);
		pthread_mutex_lock(&gm);
		while (!gate_reached)
			pthread_cond_wait(&gc, &gm);
		pthread_mutex_unlock(&gm);
		/* the repair is being computed, chunk k frozen: */
		a.fs = b.fs = fs;
		a.ino = files[2][1];  /* in chunk k: waits */
		b.ino = files[1][1];  /* in another chunk: goes on */
		pthread_create(&ta, NULL, write_one, &a);
		pthread_create(&tb, NULL, write_one, &b);
		pthread_join(tb, NULL);
		CHECK_OK(b.err);
		usleep(100000);
		CHECK(!__atomic_load_n(&a.done, __ATOMIC_SEQ_CST),
		      "a write to chunk %u waits while its repair is computed",
		      k);
		CHECK(!__atomic_load_n(&sj.done, __ATOMIC_SEQ_CST),
		      "the scrub is held at the gate");
		pthread_mutex_lock(&gm);
		gate_armed = 0;
		pthread_cond_broadcast(&gc);
		pthread_mutex_unlock(&gm);
		pthread_join(ts, NULL);
		pthread_join(ta, NULL);
		CHECK_OK(sj.err);
		CHECK_OK(a.err);
		printf("# gated repair of chunk %u: %u found, %u fixed, %u "
		       "passes, flags %#x, %llu us locked\n", k, sj.s.found,
		       sj.s.fixed, sj.s.passes, sj.s.flags,
		       (unsigned long long)sj.s.locked_ns / 1000);
		CHECK(sj.s.found > 0 && sj.s.fixed == sj.s.found,
		      "repaired: %u of %u", sj.s.fixed, sj.s.found);
		CHECK(!(sj.s.flags & CHUNKFS_SCRUB_LOCKED) && sj.s.passes == 2,
		      "the repair was computed on the private instance (passes "
		      "%u, flags %#x)", sj.s.passes, sj.s.flags);
		CHECK(verify(fs, files[2][1], 30000, 7),
		      "the write that waited is there after the repair");
		CHECK(verify(fs, files[1][1], 30000, 7), "the other write");
		for (i = 0; i < 4; i++)
			if (i != 1)
				CHECK(verify(fs, files[2][i], 1000 + i * 3000, 0),
				      "d2/f%u after the repair", i);
	}
	/* a repairing scrub of a clean chunk records it as verified */
	{
		u32 c = (u32)(dirs[1] >> 32);

		fs->chunks[c]->hdr.verified_time = 0;
		memset(&s, 0, sizeof(s));
		s.chunk = c;
		s.flags = CHUNKFS_SCRUB_REPAIR;
		CHECK_OK(cfs_scrub(fs, &s));
		CHECK(s.found == 0 && s.passes == 1 &&
		      fs->chunks[c]->hdr.verified_time > 0 &&
		      fs->chunks[c]->hdr.state == CFS_CHUNK_CLEAN,
		      "clean chunk %u verified by a repairing scrub (found %u, "
		      "passes %u)", c, s.found, s.passes);
	}
	CHECK_OK(cfs_unmount(fs));
	CHECK_EQ(offline_problems(), 0);

	/* ---- 2. rounds of damage and repair under two writers ---- */
	CHECK_OK(cfs_mount(&gdev, 0, &fs, &why));
	gfs = fs;
	{
		pthread_t t1, t2;
		volatile int stop = 0;
		struct job w1 = { 0 }, w2 = { 0 };
		u32 private = 0, locked = 0, fixed = 0;

		w1.fs = w2.fs = fs;
		w1.stop = w2.stop = &stop;
		w1.dir = dirs[3];     /* other chunks */
		w1.ino = files[1][2];
		/* a file of chunk k itself, and new files in a directory
		 * made in d2 (not through its damaged leaf), wherever it is */
		w2.dir = mk(fs, dirs[2], "sub", CFS_S_IFDIR | 0755);
		printf("# d2/sub in chunk %u\n", (u32)(w2.dir >> 32));
		w2.ino = files[2][3];
		CHECK_EQ(w2.ino >> 32, k);
		pthread_create(&t1, NULL, writer, &w1);
		pthread_create(&t2, NULL, writer, &w2);
		for (round = 0; round < 12; round++) {
			/* each round while both writers are at work */
			u32 o1 = __atomic_load_n(&w1.ops, __ATOMIC_SEQ_CST);
			u32 o2 = __atomic_load_n(&w2.ops, __ATOMIC_SEQ_CST);

			while (!w1.err && !w2.err &&
			       ((__atomic_load_n(&w1.ops, __ATOMIC_SEQ_CST) == o1 &&
				 o1 < 400) ||
				(__atomic_load_n(&w2.ops, __ATOMIC_SEQ_CST) == o2 &&
				 o2 < 400)))
				usleep(500);
			/* the leaf of d2's first names (the writer's new names
			 * may move it: found again each round) */
			memset(&s, 0, sizeof(s));
			s.chunk = k;
			s.flags = CHUNKFS_SCRUB_REPAIR;
			host_mutex_lock(fs->lock);
			blkno = tree_block(k, (u32)dirs[2], CFS_TREE_DIR);
			if (blkno)
				memset(blk(k, blkno) + 200, 0x6b, 300);
			host_mutex_unlock(fs->lock);
			CHECK_OK(cfs_scrub(fs, &s));
			CHECK(s.fixed == s.found, "round %u: %u of %u fixed",
			      round, s.fixed, s.found);
			fixed += s.fixed;
			if (s.flags & CHUNKFS_SCRUB_LOCKED)
				locked++;
			else
				private++;
		}
		stop = 1;
		pthread_join(t1, NULL);
		pthread_join(t2, NULL);
		printf("# 12 rounds: %u problems fixed; %u scrubs computed "
		       "privately, %u under the lock; writers did %u and %u "
		       "rounds\n", fixed, private, locked, w1.ops, w2.ops);
		CHECK_OK(w1.err);
		CHECK_OK(w2.err);
		CHECK(fixed > 0, "damage was found and fixed");
		CHECK(w1.ops > 0 && w2.ops > 0, "both writers ran");
		for (i = 0; i < w1.ops && i < 400; i++) {
			struct cfs_attr at;

			snprintf(name, sizeof(name), "w%u", i);
			if (cfs_lookup(fs, dirs[3], name, strlen(name), &at)) {
				CHECK(0, "d3/%s is there", name);
				continue;
			}
			CHECK(verify(fs, at.ino, 2000 + (i % 7) * 1500, i),
			      "d3/%s content", name);
			cfs_forget(fs, at.ino, 1);
		}
	}
	CHECK_OK(cfs_unmount(fs));
	CHECK_EQ(offline_problems(), 0);
	membdev_free(dev);
	if (tap_fail) {
		printf("FAIL test_scrub_live: %d checks failed\n", tap_fail);
		return 1;
	}
	printf("ok test_scrub_live\n");
	return 0;
}
