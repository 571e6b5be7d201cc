// SPDX-License-Identifier: GPL-2.0
/*
 * test_scrub.c - the online half of the checker (issue 5) on the memory
 * device: a chunk damaged under the mounted filesystem is found and
 * repaired by cfs_scrub while the filesystem stays mounted, files in other
 * chunks are untouched and stay writable, and an offline check afterwards
 * is clean; a read through a damaged block gives EIO for that object only,
 * with events (rate-limited), a suspect chunk in the health report, and the
 * errors= policies (remount-ro, repair); free-space threshold events; the
 * event ring reports what it lost.
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
#define CB 1024u              /* 4 MiB chunks */
#define DEV (40u << 20)
#define NAMES 120

static struct cfs_cred cr = { .uid = 0, .gid = 0 };
static struct membdev *dev;

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

static u8 pattern(u64 ino, u64 i)
{
	return (u8)(ino * 31 + i * 7 + (i >> 12));
}

static void put(struct cfs_fs *fs, u64 ino, u64 size)
{
	u8 *b = malloc(size);
	u64 i;

	for (i = 0; i < size; i++)
		b[i] = pattern(ino, i);
	CHECK_EQ(cfs_write(fs, ino, 0, size, b), size);
	free(b);
}

static int verify(struct cfs_fs *fs, u64 ino, u64 size)
{
	u8 *b = malloc(size ? size : 1);
	s64 r = cfs_read(fs, ino, 0, size, b);
	u64 i;
	int ok = r == (s64)size;

	for (i = 0; ok && i < size; i++)
		ok = b[i] == pattern(ino, i);
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

static void dbg_report(void *ctx, const struct cfs_problem_report *r)
{
	const struct cfs_problem_desc *d = cfs_problem(r->code);

	(void)ctx;
	printf("#   chunk %u ino %llx blk %llu: %s (%s)\n", r->chunk,
	       (unsigned long long)r->ino, (unsigned long long)r->blk,
	       d ? d->name : "?", r->detail ? r->detail : "");
}

static u32 offline_problems(void)
{
	return ci_offline_problems(dev, getenv("SCRUB_DEBUG") ? dbg_report :
				   NULL);
}

/* The newest event with this code, or NULL. */
static struct chunkfs_events evs;
static const struct chunkfs_event *find_event(struct cfs_fs *fs, u32 code,
					      u32 chunk)
{
	static struct chunkfs_event found;
	u64 after = 0;
	int have = 0;
	u32 i;

	/* the newest such event, through every page of the stream */
	do {
		memset(&evs, 0, sizeof(evs));
		evs.after = after;
		CHECK_OK(cfs_events(fs, &evs));
		for (i = 0; i < evs.count; i++) {
			after = evs.e[i].seq;
			if (evs.e[i].code == code && evs.e[i].chunk == chunk) {
				found = evs.e[i];
				have = 1;
			}
		}
	} while (evs.count);
	return have ? &found : NULL;
}

static u32 health_state(struct cfs_fs *fs, u32 k)
{
	static struct chunkfs_health h;

	memset(&h, 0, sizeof(h));
	h.first = k;
	CHECK_OK(cfs_health(fs, &h));
	CHECK(h.count >= 1 && h.c[0].chunk == k, "health of chunk %u", k);
	return h.count ? h.c[0].state : 0;
}

int main(void)
{
	struct cfs_mkfs_opts o;
	struct cfs_fs *fs;
	const char *why;
	struct chunkfs_scrub s;
	struct cfs_attr a;
	u64 dirs[4], files[4][8], big;

	(void)big;
	u32 k, i, blkno;
	char name[32];

	setvbuf(stdout, NULL, _IOLBF, 0);
	dev = membdev_new(DEV);
	memset(&o, 0, sizeof(o));
	o.chunk_bytes = 4 << 20;
	/* damage here is to a block's only copy (-m single): what is
	 * tested is the repair; healing from a second copy is test_heal's */
	o.no_features = CFS_MKFS_NO_DUP;
	memcpy(o.uuid, "scrub-test-uuid1", 16);
	CHECK_OK(cfs_mkfs(&dev->bdev, &o));
	CHECK_OK(cfs_mount(&dev->bdev, 0, &fs, &why));
	/* a directory per chunk: each filled up with a large file, so the
	 * next one starts in another chunk */
	for (k = 0; k < 4; k++) {
		snprintf(name, sizeof(name), "d%u", k);
		dirs[k] = mk(fs, CFS_ROOT_INO, name, CFS_S_IFDIR | 0755);
		for (i = 0; i < 8; i++) {
			snprintf(name, sizeof(name), "f%u", i);
			files[k][i] = mk(fs, dirs[k], name, CFS_S_IFREG | 0644);
			put(fs, files[k][i], 1000 + i * 3000);
		}
		/* enough names for the directory's tree to have leaf blocks */
		for (i = 0; i < NAMES; i++) {
			snprintf(name, sizeof(name), "entry-with-a-long-name-%u", i);
			mk(fs, dirs[k], name, CFS_S_IFREG | 0644);
		}
		big = mk(fs, dirs[k], "filler", CFS_S_IFREG | 0644);
		put(fs, big, 4000u << 10);
	}
	for (k = 1; k < 4; k++)
		printf("# d%u in chunk %u\n", k, (u32)(dirs[k] >> 32));
	CHECK((dirs[1] >> 32) != (dirs[2] >> 32) &&
	      (dirs[2] >> 32) != (dirs[3] >> 32) &&
	      (dirs[1] >> 32) != (dirs[3] >> 32), "directories in 3 chunks");
	CHECK_OK(cfs_sync(fs));

	/* ---- 1. damage under the mount, found and repaired by a scrub ---- */
	k = (u32)(dirs[2] >> 32);
	blkno = tree_block(k, (u32)dirs[2], CFS_TREE_DIR);
	CHECK(blkno != 0, "a directory leaf of d2 in chunk %u", k);
	if (!blkno)
		return 1;
	memset(blk(k, blkno) + 200, 0x6b, 300); /* cached: not seen yet */
	memset(&s, 0, sizeof(s));
	s.chunk = k;
	CHECK_OK(cfs_scrub(fs, &s));  /* check only */
	CHECK(s.found > 0, "check-only scrub of chunk %u found %u", k, s.found);
	CHECK_EQ(s.fixed, 0);
	CHECK_EQ(health_state(fs, k), CFS_CHUNK_SUSPECT);
	CHECK(find_event(fs, CHUNKFS_E_PROBLEMS, k) != NULL,
	      "a 'problems found' event");
	memset(&s, 0, sizeof(s));
	s.chunk = k;
	s.flags = CHUNKFS_SCRUB_REPAIR;
	CHECK_OK(cfs_scrub(fs, &s));
	printf("# scrub --repair of chunk %u: %u found, %u fixed, %llu blocks "
	       "read, %llu us\n", k, s.found, s.fixed,
	       (unsigned long long)s.blocks_read,
	       (unsigned long long)s.duration_ns / 1000);
	CHECK(s.found > 0 && s.fixed == s.found, "repaired: %u of %u", s.fixed,
	      s.found);
	CHECK_EQ(s.state, CFS_CHUNK_CLEAN);
	CHECK_EQ(health_state(fs, k), CFS_CHUNK_CLEAN);
	CHECK(find_event(fs, CHUNKFS_E_REPAIRED, k) != NULL, "a 'repaired' event");
	{	/* each problem repaired has its event, saying what it was */
		const struct chunkfs_event *pe =
			find_event(fs, CHUNKFS_E_PROBLEM, k);

		CHECK(pe && pe->problem && cfs_problem(pe->problem) &&
		      strstr(pe->msg, cfs_problem(pe->problem)->name) &&
		      strstr(pe->msg, "-- fixed"),
		      "a problem event naming what was repaired (%s)",
		      pe ? pe->msg : "none");
		pe = find_event(fs, CHUNKFS_E_REPAIRED, k);
		CHECK(pe && strstr(pe->msg, "fixed: ") &&
		      strlen(strstr(pe->msg, "fixed: ")) > 8,
		      "the repaired event names the problems (%s)",
		      pe ? pe->msg : "none");
	}
	/* a second scrub finds nothing, and checks without the filesystem
	 * lock (operations go on): it holds the lock only to record it */
	memset(&s, 0, sizeof(s));
	s.chunk = k;
	CHECK_OK(cfs_scrub(fs, &s));
	CHECK_EQ(s.found, 0);
	if (s.found && getenv("SCRUB_DEBUG")) {
		cfs_sync(fs);
		offline_problems();
	}
	printf("# clean scrub of chunk %u: %llu us, of which %llu us holding "
	       "the lock, %llu blocks read\n", k,
	       (unsigned long long)s.duration_ns / 1000,
	       (unsigned long long)s.locked_ns / 1000,
	       (unsigned long long)s.blocks_read);
	CHECK(s.blocks_read > 0 && s.locked_ns * 4 < s.duration_ns,
	      "a clean chunk is checked outside the lock (%llu of %llu ns)",
	      (unsigned long long)s.locked_ns,
	      (unsigned long long)s.duration_ns);
	CHECK(find_event(fs, CHUNKFS_E_SCRUBBED, k) != NULL, "a 'clean' event");
	{
		static struct chunkfs_health h;

		/* a check-only scrub that finds nothing records the check;
		 * with data checksums the chunk counts as verified only when
		 * its data was read too (CHUNKFS_SCRUB_DATA) */
		fs->chunks[k]->hdr.verified_time = 0;
		fs->chunks[k]->hdr.data_verified_time = 0;
		memset(&s, 0, sizeof(s));
		s.chunk = k;
		CHECK_OK(cfs_scrub(fs, &s));
		memset(&h, 0, sizeof(h));
		h.first = k;
		CHECK_OK(cfs_health(fs, &h));
		CHECK(h.c[0].verified_time == 0 &&
		      fs->chunks[k]->hdr.verified_time > 0,
		      "metadata verified, the data not read: not verified "
		      "(time %lld)", (long long)h.c[0].verified_time);
		memset(&s, 0, sizeof(s));
		s.chunk = k;
		s.flags = CHUNKFS_SCRUB_DATA;
		CHECK_OK(cfs_scrub(fs, &s));
		CHECK(s.blocks_read > 0 && s.data_bad == 0 && s.found == 0,
		      "data scrub: %llu blocks read, %u bad",
		      (unsigned long long)s.blocks_read, s.data_bad);
		memset(&h, 0, sizeof(h));
		h.first = k;
		CHECK_OK(cfs_health(fs, &h));
		CHECK(h.c[0].verified_time > 0 && h.c[0].state == CFS_CHUNK_CLEAN,
		      "verified by a check-only scrub with data (time %lld, "
		      "state %u)", (long long)h.c[0].verified_time,
		      h.c[0].state);
	}
	/* damage to an inode the cache holds (its crc kept valid: only the
	 * checker's inode checks can see it) is found too */
	{
		const struct cfs_chunk_hdr *h = (const void *)blk(k, 0);
		u32 loc = (u32)files[2][1], ipb = (BS - 64) / 256;
		u8 *b = blk(k, h->itable_start + loc / ipb);
		struct cfs_dinode *di = (void *)(b + 64 + (loc % ipb) * 256);

		struct cfs_inode *pin = NULL;

		/* keep it cached: a reference, as an open file has */
		CHECK_OK(inode_get(fs, files[2][1], &pin));
		di->mode = 0170777; /* no such file type */
		*(u32 *)b = host_crc32(0, b + 4, BS - 4);
		memset(&s, 0, sizeof(s));
		s.chunk = k;
		s.flags = CHUNKFS_SCRUB_REPAIR;
		CHECK_OK(cfs_scrub(fs, &s));
		CHECK(s.found > 0 && s.fixed == s.found,
		      "a damaged cached inode: %u found, %u fixed", s.found,
		      s.fixed);
		if (pin)
			inode_put(fs, pin);
		/* whatever the repair did with it, dropping the last reference
		 * must not free it a second time */
		CHECK_EQ(health_state(fs, k), CFS_CHUNK_CLEAN);
		CHECK(find_event(fs, CHUNKFS_E_SUSPECT, k) == NULL,
		      "no suspect event after the repair");
		{
			struct cfs_attr at;
			int r = cfs_getattr(fs, files[2][1], &at);

			printf("# the repaired inode: getattr %d, mode %o\n", r,
			       r ? 0 : at.mode);
		}
	}
	/* the other chunks' files are intact and writable */
	for (i = 0; i < 8; i++) {
		CHECK(verify(fs, files[1][i], 1000 + i * 3000), "d1/f%u", i);
		CHECK(verify(fs, files[3][i], 1000 + i * 3000), "d3/f%u", i);
	}
	{
		u64 n = mk(fs, dirs[1], "after-scrub", CFS_S_IFREG | 0644);

		put(fs, n, 50000);
		CHECK(verify(fs, n, 50000), "written after the scrub");
	}
	memset(&s, 0, sizeof(s));
	s.chunk = 12345;
	CHECK_EQ(cfs_scrub(fs, &s), -CFS_EINVAL);
	memset(&s, 0, sizeof(s));
	s.flags = 0x80; /* unknown */
	CHECK_EQ(cfs_scrub(fs, &s), -CFS_EINVAL);
	{
		static struct chunkfs_health h;

		memset(&h, 0xff, sizeof(h));
		h.first = cfs_nchunks(fs) + 1;
		CHECK_EQ(cfs_health(fs, &h), -CFS_EINVAL);
		h.first = 0;
		CHECK_OK(cfs_health(fs, &h));
		/* (10 chunks: fewer than an answer holds) */
		CHECK(h.count == cfs_nchunks(fs) &&
		      h.count < CHUNKFS_HEALTH_MAX && h.c[h.count].chunk == 0 &&
		      h.c[h.count].nblocks == 0,
		      "health fills the whole structure (count %u)", h.count);
	}
	CHECK_OK(cfs_unmount(fs));
	CHECK_EQ(offline_problems(), 0);

	/* ---- 2. a read through a damaged block: EIO for that object ---- */
	CHECK_OK(cfs_mount(&dev->bdev, 0, &fs, &why));
	k = (u32)(dirs[3] >> 32);
	blkno = tree_block(k, (u32)dirs[3], CFS_TREE_DIR);
	CHECK(blkno != 0, "a directory leaf of d3");
	if (!blkno)
		return 1;
	memset(blk(k, blkno) + 100, 0, 64);
	{
		int eio = 0, ok = 0;

		for (i = 0; i < NAMES; i++) {
			int r;

			snprintf(name, sizeof(name), "entry-with-a-long-name-%u", i);
			r = cfs_lookup(fs, dirs[3], name, strlen(name), &a);
			if (!r) {
				ok++;
				cfs_forget(fs, a.ino, 1);
			} else if (r == -CFS_EIO || r == -CFS_EUCLEAN) {
				eio++;
			}
		}
		printf("# lookups in d3 through a damaged leaf: %d EIO, %d "
		       "found\n", eio, ok);
		CHECK(eio > 1, "lookups through the damaged leaf fail");
	}
	{
		const struct chunkfs_event *e = find_event(fs, CHUNKFS_E_CHECKSUM,
							   k);

		CHECK(e != NULL, "a checksum event");
		CHECK(e && e->count > 1, "repeats folded into one event (count "
		      "%u)", e ? e->count : 0);
		CHECK(find_event(fs, CHUNKFS_E_SUSPECT, k) != NULL,
		      "a 'suspect' event");
	}
	CHECK_EQ(health_state(fs, k), CFS_CHUNK_SUSPECT);
	/* everything else works */
	for (i = 0; i < 8; i++)
		CHECK(verify(fs, files[1][i], 1000 + i * 3000), "d1/f%u", i);
	mk(fs, dirs[1], "while-suspect", CFS_S_IFREG | 0644);
	/* errors=repair: the pending chunk is scrubbed by the front end */
	cfs_set_errors_policy(fs, CHUNKFS_ERRORS_REPAIR);
	memset(blk(k, blkno) + 100, 0, 1); /* (already suspect: re-mark) */
	fs->chunks[k]->hdr.state = CFS_CHUNK_CLEAN;
	snprintf(name, sizeof(name), "entry-with-a-long-name-%u", 7);
	for (i = 0; i < NAMES; i++) {
		snprintf(name, sizeof(name), "entry-with-a-long-name-%u", i);
		if (cfs_lookup(fs, dirs[3], name, strlen(name), &a) == 0)
			cfs_forget(fs, a.ino, 1);
	}
	CHECK_EQ(cfs_repair_pending(fs), k);
	memset(&s, 0, sizeof(s));
	s.chunk = k;
	s.flags = CHUNKFS_SCRUB_REPAIR;
	CHECK_OK(cfs_scrub(fs, &s));
	CHECK(s.fixed > 0 && s.fixed == s.found, "errors=repair: %u of %u",
	      s.fixed, s.found);
	CHECK_EQ(cfs_repair_pending(fs), CHUNKFS_NO_CHUNK);
	CHECK_EQ(health_state(fs, k), CFS_CHUNK_CLEAN);
	CHECK_OK(cfs_unmount(fs));
	CHECK_EQ(offline_problems(), 0);

	/* ---- 3. errors=remount-ro ---- */
	CHECK_OK(cfs_mount(&dev->bdev, 0, &fs, &why));
	cfs_set_errors_policy(fs, CHUNKFS_ERRORS_REMOUNT_RO);
	k = (u32)(dirs[1] >> 32);
	blkno = tree_block(k, (u32)dirs[1], CFS_TREE_DIR);
	CHECK(blkno != 0, "a directory leaf of d1");
	if (!blkno)
		return 1;
	memset(blk(k, blkno) + 100, 0, 64);
	for (i = 0; i < NAMES; i++) {
		snprintf(name, sizeof(name), "entry-with-a-long-name-%u", i);
		if (cfs_lookup(fs, dirs[1], name, strlen(name), &a) == 0)
			cfs_forget(fs, a.ino, 1);
	}
	CHECK(find_event(fs, CHUNKFS_E_READONLY, k) != NULL,
	      "a 'read-only now' event");
	CHECK_EQ(cfs_mknod(fs, dirs[2], "no", 2, CFS_S_IFREG | 0644, 0, &cr,
			   &a), -CFS_EROFS);
	CHECK(verify(fs, files[2][3], 1000 + 3 * 3000), "reads still work");
	cfs_unmount(fs);
	/* repaired offline, as fsck would */
	{
		struct cfs_fs *cfs;
		struct cfs_check_result r;

		CHECK_OK(cfs_mount_check(&dev->bdev, 0, &cfs, &why));
		CHECK_OK(cfs_check_chunk(cfs, k, CFS_CHECK_FIXALL, NULL, NULL,
					 &r));
		CHECK(r.found > 0, "fsck found the d1 damage");
		cfs_unmount(cfs);
	}
	CHECK_EQ(offline_problems(), 0);

	/* ---- 4. free-space threshold events, and the ring ---- */
	CHECK_OK(cfs_mount(&dev->bdev, 0, &fs, &why));
	cfs_set_free_warn(fs, 40);
	{
		u64 f = mk(fs, dirs[1], "space", CFS_S_IFREG | 0644);

		put(fs, f, 16u << 20);
		CHECK_OK(cfs_sync(fs));
		CHECK(find_event(fs, CHUNKFS_E_FREE_LOW, CHUNKFS_NO_CHUNK) != NULL,
		      "a 'free space low' event");
		CHECK_OK(cfs_unlink(fs, dirs[1], "space", 5));
		CHECK_OK(cfs_sync(fs));
		CHECK(find_event(fs, CHUNKFS_E_FREE_OK, CHUNKFS_NO_CHUNK) != NULL,
		      "a 'free space back above' event");
	}
	for (i = 0; i < 300; i++) { /* more than the ring holds */
		memset(&s, 0, sizeof(s));
		s.chunk = i % 2;
		CHECK_OK(cfs_scrub(fs, &s));
	}
	memset(&evs, 0, sizeof(evs));
	evs.after = 0;
	CHECK_OK(cfs_events(fs, &evs));
	printf("# events: last %llu, %u returned, %u lost\n",
	       (unsigned long long)evs.last, evs.count, evs.lost);
	CHECK(evs.lost > 0 && evs.count == CHUNKFS_EVENTS_MAX,
	      "the ring reports lost events (%u lost, %u returned)", evs.lost,
	      evs.count);
	for (i = 1; i < evs.count; i++)
		CHECK(evs.e[i - 1].seq < evs.e[i].seq, "events in order");
	/* 300 routine "scrubbed: clean" events pushed none of the others
	 * out: they have a ring of their own */
	CHECK(find_event(fs, CHUNKFS_E_FREE_LOW, CHUNKFS_NO_CHUNK) != NULL,
	      "the threshold event outlives 300 'scrubbed: clean' events");
	CHECK_OK(cfs_unmount(fs));
	CHECK_EQ(offline_problems(), 0);
	membdev_free(dev);
	if (tap_fail) {
		printf("FAIL test_scrub: %d checks failed\n", tap_fail);
		return 1;
	}
	printf("ok test_scrub\n");
	return 0;
}
