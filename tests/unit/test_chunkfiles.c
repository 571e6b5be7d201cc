// SPDX-License-Identifier: GPL-2.0
/*
 * test_chunkfiles.c - what losing a chunk would cost (issue 14):
 * cfs_chunk_files (CHUNKFS_IOC_CHUNK_FILES) and cfs_path_name
 * (CHUNKFS_IOC_PATH), on a memory device.
 *
 * 1. A tree with a chunk holding more files than one call returns (the
 *    cursor), hard links across directories and chunks, a file larger
 *    than a chunk, a directory with entries in several chunks: for every
 *    chunk the files listed, by calls from the cursor, are exactly those
 *    with any part there (inode, or a continuation, found here through
 *    cfs_inode_links from the origins: the other direction), with the
 *    right parts; every file's names from cfs_path_name are the names
 *    the namespace walk found (every name of a hard-linked file); the
 *    arguments are checked.
 * 2. A continuation whose file's generation moved on (a stale back
 *    link): listed as an orphan part under its own number.
 * 3. An inode table block unreadable (one copy: -m single): the chunk is
 *    listed without it, flagged incomplete.
 * 4. Without parent pointers (-O ^pptr): the files are listed, names are
 *    -EOPNOTSUPP.
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
#define CHUNK (16u << 20)
#define DEV (64u << 20)
#define MAXF 4096
#define PL 256

static struct cfs_cred cr = { .uid = 0, .gid = 0 };

struct ent {
	u64 ino, size;
	u32 mode;
	char names[4][PL];
	u32 nnames;
	u32 chunks[16];       /* the inode's, then the continuations' */
	u32 nchunks;
};
static struct ent ents[MAXF];
static u32 nents;

static struct ent *ent_of(u64 ino)
{
	u32 i;

	for (i = 0; i < nents; i++)
		if (ents[i].ino == ino)
			return &ents[i];
	return NULL;
}

static u64 mk(struct cfs_fs *fs, u64 dir, const char *name, u32 mode,
	      u64 size)
{
	static u8 buf[1 << 16];
	struct cfs_attr a;
	u64 off;
	int err = cfs_mknod(fs, dir, name, strlen(name), mode, 0, &cr, &a);

	CHECK(!err, "mknod %s: %d", name, err);
	if (err)
		return 0;
	cfs_forget(fs, a.ino, 1);
	memset(buf, (int)(a.ino & 0xff) | 1, sizeof(buf));
	for (off = 0; off < size; off += sizeof(buf))
		CHECK_EQ(cfs_write(fs, a.ino, off, CFS_MIN(sizeof(buf),
							    size - off), buf),
			 CFS_MIN(sizeof(buf), size - off));
	return a.ino;
}

static void link_(struct cfs_fs *fs, u64 ino, u64 dir, const char *name)
{
	struct cfs_attr a;

	CHECK_OK(cfs_link(fs, ino, dir, name, strlen(name), &a));
	cfs_forget(fs, a.ino, 1);
}

/* ---- the truth: walk the namespace ---- */
static void walk(struct cfs_fs *fs, u64 dir, const char *path)
{
	struct ci_dir_page *l = malloc(sizeof(*l));
	u64 cookie = 0;
	int n;
	u32 i;

	while ((n = ci_dir_page(fs, dir, &cookie, l)) > 0) {
		for (i = 0; i < l->n; i++) {
			struct ent *e = ent_of(l->ino[i]);
			struct cfs_ino_links li;
			struct cfs_attr a;
			u32 j;

			if (!e) {
				CHECK(nents < MAXF, "too many files");
				if (nents == MAXF)
					break;
				e = &ents[nents++];
				e->ino = l->ino[i];
				CHECK_OK(cfs_getattr(fs, e->ino, &a));
				e->mode = a.mode;
				e->size = a.size;
				e->chunks[0] = CFS_CHUNK_OF(e->ino);
				e->nchunks = 1;
				memset(&li, 0, sizeof(li));
				if (!cfs_inode_links(fs, e->ino, &li))
					for (j = 0; j < li.nconts &&
					     e->nchunks < 16; j++)
						e->chunks[e->nchunks++] =
							li.chunks[j];
			}
			if (e->nnames < 4)
				snprintf(e->names[e->nnames++], PL, "%s/%s",
					 path, l->name[i]);
			if (CFS_ISDIR(e->mode))
				walk(fs, e->ino, e->names[e->nnames - 1]);
		}
		if (n < CI_DIR_PAGE)
			break;
	}
	free(l);
}

static int in_chunk(const struct ent *e, u32 k)
{
	u32 i;

	for (i = 0; i < e->nchunks; i++)
		if (e->chunks[i] == k)
			return 1;
	return 0;
}

/* Every file of chunk k, by calls from the cursor; returns the calls. */
static u32 list_chunk(struct cfs_fs *fs, u32 k, struct chunkfs_chunk_file *out,
		      u32 max, u32 *n, u32 *flags)
{
	struct chunkfs_chunk_files *cf = malloc(sizeof(*cf));
	u32 calls = 0, i;
	u64 cursor = 0;

	*n = 0;
	*flags = 0;
	for (;;) {
		memset(cf, 0xa5, sizeof(*cf)); /* (nothing of ours is kept) */
		cf->chunk = k;
		cf->cursor = cursor;
		CHECK_OK(cfs_chunk_files(fs, cf));
		calls++;
		CHECK(cf->count <= CHUNKFS_CHUNK_FILES_MAX, "count %u", cf->count);
		for (i = 0; i < cf->count && *n < max; i++)
			out[(*n)++] = cf->f[i];
		*flags |= cf->flags;
		if ((cf->flags & CHUNKFS_CF_END) || calls > 1000)
			break;
		CHECK(cf->cursor > cursor, "the cursor moves on");
		cursor = cf->cursor;
	}
	free(cf);
	return calls;
}

static void check_names(struct cfs_fs *fs, const struct ent *e)
{
	struct chunkfs_path *p = malloc(sizeof(*p));
	u32 i, j, count = 0;

	for (i = 0; i < 8; i++) {
		memset(p, 0x5a, sizeof(*p));
		p->ino = e->ino;
		p->index = i;
		if (cfs_path_name(fs, p)) {
			CHECK(i && i == count, "%s: name %u of %u: %s", e->names[0],
			      i, count, p->path);
			break;
		}
		count = p->count;
		CHECK_EQ(p->len, strlen(p->path));
		for (j = 0; j < e->nnames; j++)
			if (!strcmp(p->path, e->names[j]))
				break;
		CHECK(j < e->nnames, "%s: a name %s the walk did not find",
		      e->names[0], p->path);
	}
	CHECK(count == e->nnames, "%s: %u names, the walk found %u",
	      e->names[0], count, e->nnames);
	free(p);
}

static void part_one(void)
{
	static struct chunkfs_chunk_file got[MAXF];
	struct membdev *m = membdev_new(DEV);
	struct chunkfs_chunk_files *cf = malloc(sizeof(*cf));
	struct chunkfs_path *p = malloc(sizeof(*p));
	struct cfs_mkfs_opts o;
	struct cfs_fs *fs;
	const char *why;
	u64 a, b, big, many, f;
	u32 i, k, n, flags, calls, maxcalls = 0, listed = 0;
	char name[32];

	memset(&o, 0, sizeof(o));
	o.chunk_bytes = CHUNK;
	o.inode_ratio = 4096;
	memcpy(o.uuid, "chunk-files-uuid", 16);
	CHECK_OK(cfs_mkfs(&m->bdev, &o));
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	a = mk(fs, CFS_ROOT_INO, "a", CFS_S_IFDIR | 0755, 0);
	b = mk(fs, a, "b", CFS_S_IFDIR | 0700, 0);
	/* more files in one chunk than one call returns */
	many = mk(fs, CFS_ROOT_INO, "many", CFS_S_IFDIR | 0755, 0);
	for (i = 0; i < 2600; i++) {
		snprintf(name, sizeof(name), "f%u", i);
		f = mk(fs, many, name, CFS_S_IFREG | 0644, i % 50 ? 0 : 3000);
		if (i % 500 == 7) {
			snprintf(name, sizeof(name), "hl%u", i);
			link_(fs, f, b, name);
		}
	}
	big = mk(fs, a, "big", CFS_S_IFREG | 0600, 20u << 20);
	link_(fs, big, CFS_ROOT_INO, "big-too");
	/* chunk 0 is full now: these go elsewhere, /many continues there */
	for (i = 0; i < 30; i++) {
		snprintf(name, sizeof(name), "g%u", i);
		f = mk(fs, many, name, CFS_S_IFREG | 0644, 5000);
		if (i % 10 == 3) {
			snprintf(name, sizeof(name), "hlg%u", i);
			link_(fs, f, b, name);
		}
	}
	{
		struct cfs_attr at;

		CHECK_OK(cfs_symlink(fs, b, "sym", 3, "../big", 6, &cr, &at));
		cfs_forget(fs, at.ino, 1);
	}
	CHECK_OK(cfs_sync(fs));

	walk(fs, CFS_ROOT_INO, "");
	ents[nents].ino = CFS_ROOT_INO; /* the root: "/" */
	ents[nents].mode = CFS_S_IFDIR | 0755;
	snprintf(ents[nents].names[0], PL, "/");
	ents[nents].nnames = 1;
	ents[nents].chunks[0] = 0;
	ents[nents].nchunks = 1;
	{
		struct cfs_ino_links li;

		if (!cfs_inode_links(fs, CFS_ROOT_INO, &li))
			for (i = 0; i < li.nconts && i < 15; i++)
				ents[nents].chunks[ents[nents].nchunks++] =
					li.chunks[i];
	}
	nents++;
	CHECK(ent_of(big)->nchunks > 1, "/a/big continues into other chunks");
	CHECK(ent_of(many)->nchunks > 1, "/many has entries in other chunks");

	for (k = 0; k < cfs_nchunks(fs); k++) {
		u32 want = 0;

		calls = list_chunk(fs, k, got, MAXF, &n, &flags);
		if (calls > maxcalls)
			maxcalls = calls;
		CHECK(!(flags & ~CHUNKFS_CF_END), "chunk %u flags %x", k, flags);
		for (i = 0; i < n; i++) {
			const struct ent *e = ent_of(got[i].ino);
			u32 parts = 0, j;

			CHECK(e != NULL, "chunk %u: inode %llx listed, no file", k,
			      (unsigned long long)got[i].ino);
			if (!e)
				continue;
			for (j = 0; j < i; j++)
				CHECK(got[j].ino != got[i].ino, "listed twice");
			CHECK(in_chunk(e, k), "chunk %u: %s listed, no part there",
			      k, e->names[0]);
			CHECK_EQ(got[i].mode, e->mode);
			if (CFS_CHUNK_OF(e->ino) == k)
				parts |= CHUNKFS_PART_INODE;
			else
				parts |= CFS_ISDIR(e->mode) ?
					 CHUNKFS_PART_ENTRIES : CHUNKFS_PART_DATA;
			CHECK((got[i].parts & ~(CHUNKFS_PART_DATA |
				CHUNKFS_PART_ENTRIES)) == (parts &
				CHUNKFS_PART_INODE) && (got[i].parts & parts) ==
			      parts, "chunk %u: %s parts %x, want %x", k,
			      e->names[0], got[i].parts, parts);
			/* a file with data in its home: an empty one has
			 * none */
			if (CFS_ISREG(e->mode) && CFS_CHUNK_OF(e->ino) == k)
				CHECK_EQ(!!(got[i].parts & CHUNKFS_PART_DATA),
					 e->size > 0);
		}
		for (i = 0; i < nents; i++)
			want += in_chunk(&ents[i], k);
		CHECK(n == want, "chunk %u: %u listed, %u files with a part", k,
		      n, want);
		listed += n;
	}
	printf("# %u files, %u (file, chunk) pairs listed; the fullest chunk "
	       "took %u calls\n", nents, listed, maxcalls);
	CHECK(maxcalls >= 3, "the cursor was used (%u calls)", maxcalls);
	for (i = 0; i < nents; i++)
		check_names(fs, &ents[i]);
	/* a continuation's names are its file's */
	{
		struct cfs_inode *ip, *ct;
		struct cfs_ino_links li;
		u64 cino = 0;

		CHECK_OK(cfs_inode_links(fs, big, &li));
		host_mutex_lock(fs->lock);
		if (!inode_get(fs, big, &ip)) {
			if (!cont_get(fs, ip, chunk_get(fs, li.chunks[0]), 0,
				      &ct)) {
				cino = ct->ino;
				inode_put(fs, ct);
			}
			inode_put(fs, ip);
		}
		host_mutex_unlock(fs->lock);
		CHECK(cino && CFS_CHUNK_OF(cino) == li.chunks[0],
		      "a continuation of /a/big");
		memset(p, 0, sizeof(*p));
		p->ino = cino;
		p->index = 1;
		CHECK_OK(cfs_path_name(fs, p));
		CHECK(p->count == 2 && (!strcmp(p->path, "/a/big") ||
					!strcmp(p->path, "/big-too")),
		      "the continuation's name %s (of %u)", p->path, p->count);
	}
	/* the arguments */
	memset(cf, 0, sizeof(*cf));
	cf->chunk = cfs_nchunks(fs);
	CHECK_EQ(cfs_chunk_files(fs, cf), -CFS_EINVAL);
	CHECK_EQ(cf->nchunks, cfs_nchunks(fs));
	memset(cf, 0, sizeof(*cf));
	cf->chunk = 1;
	cf->cursor = ~0ULL;
	CHECK_OK(cfs_chunk_files(fs, cf));
	CHECK(cf->count == 0 && (cf->flags & CHUNKFS_CF_END), "past the end");
	memset(p, 0, sizeof(*p));
	p->ino = CFS_ROOT_INO;
	CHECK_OK(cfs_path_name(fs, p));
	CHECK(!strcmp(p->path, "/") && p->count == 1, "the root: %s", p->path);
	p->index = 1;
	CHECK_EQ(cfs_path_name(fs, p), -CFS_ENOENT);
	memset(p, 0, sizeof(*p));
	p->ino = CFS_MKINO(1, 4000);
	CHECK_EQ(cfs_path_name(fs, p), -CFS_ENOENT);
	p->ino = CFS_MKINO(999, 5);
	CHECK_EQ(cfs_path_name(fs, p), -CFS_ENOENT);
	CHECK_OK(cfs_unmount(fs));
	membdev_free(m);
	free(cf);
	free(p);
}

/* A small filesystem with a file continuing from chunk 0 into another;
 * *big its inode, *ck the continuation's chunk. */
static struct membdev *small_fs(u32 no_features, u64 *big, u32 *ck)
{
	struct membdev *m = membdev_new(16u << 20);
	struct cfs_ino_links li;
	struct cfs_mkfs_opts o;
	struct cfs_fs *fs;
	const char *why;
	u32 i;
	char name[16];

	memset(&o, 0, sizeof(o));
	o.chunk_bytes = 4u << 20;
	o.no_features = no_features;
	memcpy(o.uuid, "chunk-files-uid2", 16);
	CHECK_OK(cfs_mkfs(&m->bdev, &o));
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "s%u", i);
		mk(fs, CFS_ROOT_INO, name, CFS_S_IFREG | 0644, 100);
	}
	*big = mk(fs, CFS_ROOT_INO, "big", CFS_S_IFREG | 0644, 6u << 20);
	CHECK_OK(cfs_inode_links(fs, *big, &li));
	CHECK(li.nconts >= 1, "big continues");
	*ck = li.chunks[0];
	CHECK_OK(cfs_unmount(fs));
	return m;
}

static int listed(struct chunkfs_chunk_file *v, u32 n, u64 ino, u32 parts)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (v[i].ino == ino)
			return v[i].parts == parts;
	return 0;
}

/* 2: a stale back link; 3: a table block lost; 4: no parent pointers */
static void part_two(void)
{
	static struct chunkfs_chunk_file got[64];
	struct chunkfs_path p;
	struct cfs_fs *fs;
	struct cfs_inode *ip, *ct;
	struct cfs_chunk *ch;
	struct membdev *m;
	const char *why;
	u64 big, cino = 0;
	u32 ck, n, flags, i, seen;

	/* 2 */
	m = small_fs(0, &big, &ck);
	CHECK_OK(cfs_mount(&m->bdev, 0, &fs, &why));
	list_chunk(fs, ck, got, 64, &n, &flags);
	CHECK(listed(got, n, big, CHUNKFS_PART_DATA), "big's data in %u", ck);
	host_mutex_lock(fs->lock);
	if (!inode_get(fs, big, &ip)) {
		if (!cont_get(fs, ip, chunk_get(fs, ck), 0, &ct)) {
			cino = ct->ino;
			inode_put(fs, ct);
		}
		ip->d.gen++; /* the file is another one now */
		CHECK_OK(inode_write(fs, ip));
		inode_put(fs, ip);
	}
	host_mutex_unlock(fs->lock);
	list_chunk(fs, ck, got, 64, &n, &flags);
	CHECK(listed(got, n, cino, CHUNKFS_PART_DATA | CHUNKFS_PART_ORPHAN),
	      "a stale continuation: an orphan part under its own number");
	CHECK(!listed(got, n, big, CHUNKFS_PART_DATA), "not big's any more");
	CHECK_OK(cfs_unmount(fs));
	membdev_free(m);

	/* 3: one copy of everything, an inode table block zeroed */
	m = small_fs(CFS_MKFS_NO_DUP, &big, &ck);
	CHECK_OK(cfs_mount(&m->bdev, CFS_MOUNT_RDONLY, &fs, &why));
	list_chunk(fs, 0, got, 64, &n, &flags);
	seen = n;
	CHECK(!(flags & CHUNKFS_CF_INCOMPLETE) && n > 20, "chunk 0: %u", n);
	ch = chunk_get(fs, 0);
	i = ch->hdr.itable_start + 1; /* files s* (the root's block stays) */
	CHECK_OK(cfs_unmount(fs));
	memset(m->mem + ((u64)2 + i) * BS, 0, BS);
	CHECK_OK(cfs_mount(&m->bdev, CFS_MOUNT_RDONLY, &fs, &why));
	list_chunk(fs, 0, got, 64, &n, &flags);
	CHECK((flags & CHUNKFS_CF_INCOMPLETE) && (flags & CHUNKFS_CF_END) &&
	      n > 0 && n < seen, "a lost table block: %u of %u listed, "
	      "flags %x", n, seen, flags);
	CHECK_OK(cfs_unmount(fs));
	membdev_free(m);

	/* 4 */
	m = small_fs(CFS_MKFS_NO_PPTR, &big, &ck);
	CHECK_OK(cfs_mount(&m->bdev, CFS_MOUNT_RDONLY, &fs, &why));
	list_chunk(fs, ck, got, 64, &n, &flags);
	CHECK(listed(got, n, big, CHUNKFS_PART_DATA), "no pptr: still listed");
	memset(&p, 0, sizeof(p));
	p.ino = big;
	CHECK_EQ(cfs_path_name(fs, &p), -CFS_EOPNOTSUPP);
	CHECK_OK(cfs_unmount(fs));
	membdev_free(m);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	part_one();
	part_two();
	if (tap_fail) {
		printf("test_chunkfiles: %d checks failed\n", tap_fail);
		return 1;
	}
	printf("test_chunkfiles: all checks passed\n");
	return 0;
}
