// SPDX-License-Identifier: GPL-2.0
/*
 * datasum.c - data checksums (DATASUM, FORMAT.md 16.6): the checksum
 * region of a chunk (one u32 per local block, positional metadata blocks
 * covered by the generation table and mirrored with DUP), the checksum of
 * a block (the low 32 bits of XXH64, seed 0), verification and its report.
 *
 * file.c calls this on every read from the device and every write of a
 * data block; the checker's data pass (check/check_data.c) too.  Which
 * blocks may be written in place (pnew) is decided here as well: a block
 * no committed written extent maps; any other mapped block is copied on
 * write (file.c), so after a crash every mapped block matches its entry.
 */
#include "internal.h"

int dsum_file(const struct cfs_fs *fs, const struct cfs_inode *ip)
{
	return fs->datasum &&
	       !(cfs_dtail((struct cfs_dinode *)&ip->d)->iflags2 &
		 CFS_IF2_NODATASUM);
}

u32 dsum_block(const struct cfs_fs *fs, const u8 *data)
{
	return (u32)host_xxh64(data, fs->bs, 0);
}

void dsum_blocks(const struct cfs_fs *fs, const u8 *data, u64 n, u32 *out)
{
	host_xxh64_blocks(data, fs->bs, n, out);
}

/* Below this many blocks, waking the helper costs more than it saves. */
#define DSUM_ASYNC_MIN 16

static void many_run(void *arg)
{
	struct dsum_job *j = arg;

	host_xxh64_blocks(j->data, j->bs, j->n, j->out);
}

struct dsum_job *dsum_job_new(void)
{
	struct dsum_job *j = host_alloc(sizeof(*j));

	if (j)
		j->hj = host_job_new(); /* none: the caller hashes */
	return j;
}

void dsum_job_free(struct dsum_job *j)
{
	if (!j)
		return;
	host_job_free(j->hj);
	host_free(j);
}

struct dsum_job *dsum_fs_job(struct cfs_fs *fs)
{
	if (!fs->dsj)
		fs->dsj = dsum_job_new();
	return fs->dsj;
}

void dsum_many_start(const struct cfs_fs *fs, struct dsum_job *j,
		     const u8 *data, u32 n, u32 *out)
{
	struct dsum_job now;

	if (j && j->hj && n >= DSUM_ASYNC_MIN) {
		host_job_wait(j->hj);
		j->data = data;
		j->n = n;
		j->bs = fs->bs;
		j->out = out;
		host_job_start(j->hj, many_run, j);
		return;
	}
	now.data = data;
	now.n = n;
	now.bs = fs->bs;
	now.out = out;
	many_run(&now);
}

void dsum_many_wait(struct dsum_job *j)
{
	if (j && j->hj)
		host_job_wait(j->hj);
}

/* A read's window is split with the helper only from this many blocks:
 * the FUSE reads of a sequential reader (32 or 64 blocks) hash faster in
 * their own thread (a cold 1 GiB read 1.17x: the helper's wake-up and the
 * data's move to the other CPU cost more than half the hash). */
#define DSUM_SPLIT_MIN 256

void dsum_many(const struct cfs_fs *fs, struct dsum_job *j, const u8 *data,
	       u32 n, u32 *out)
{
	u32 h = n / 2;

	if (!j || !j->hj || n < DSUM_SPLIT_MIN) {
		dsum_many_start(fs, NULL, data, n, out);
		return;
	}
	/* the helper the second half, the caller the first */
	dsum_many_start(fs, j, data + ((u64)h << fs->bshift), n - h, out + h);
	dsum_many_start(fs, NULL, data, h, out);
	dsum_many_wait(j);
}

static int dsum_entry(struct cfs_fs *fs, struct dsum_cur *cur,
		      struct cfs_chunk *ch, u32 local, u32 **p)
{
	u32 cpb = CFS_PAYLOAD(fs) / 4, cb;
	int err;

	if (!ch->hdr.csum_blocks || local >= ch->hdr.nblocks) {
		chunk_mark_suspect(fs, ch, "data block without a checksum");
		return -CFS_EIO;
	}
	cb = ch->hdr.csum_start + local / cpb;
	if (!cur->b || cur->ch != ch || cur->cblk != cb) {
		dsum_done(fs, cur);
		err = buf_read(fs, ch, cb, CFS_MAGIC_CSUM, &cur->b);
		if (err) {
			cur->b = NULL;
			return err == -CFS_EUCLEAN ? -CFS_EIO : err;
		}
		cur->ch = ch;
		cur->cblk = cb;
	}
	*p = (u32 *)(cur->b->data + sizeof(struct cfs_bhdr)) + local % cpb;
	return 0;
}

int dsum_get(struct cfs_fs *fs, struct dsum_cur *cur, struct cfs_chunk *ch,
	     u32 local, u32 *sum)
{
	u32 *p;
	int err = dsum_entry(fs, cur, ch, local, &p);

	if (!err)
		*sum = *p;
	return err;
}

int dsum_set(struct cfs_fs *fs, struct dsum_cur *cur, struct cfs_chunk *ch,
	     u32 local, u32 sum)
{
	u32 *p;
	int err = dsum_entry(fs, cur, ch, local, &p);

	if (err)
		return err;
	if (*p != sum) {
		*p = sum;
		buf_dirty(fs, cur->b);
	}
	return 0;
}

void dsum_done(struct cfs_fs *fs, struct dsum_cur *cur)
{
	if (cur->b)
		buf_put(fs, cur->b);
	cur->b = NULL;
	cur->ch = NULL;
}

void dsum_name(struct cfs_fs *fs, u64 ino, char *buf, u32 size)
{
	/* the event names the file by path too (its path field, from parent
	 * pointers when the event is read: events.c) */
	(void)fs;
	cfs_format(buf, size, "inode %llu", (unsigned long long)ino);
}

void dsum_report(struct cfs_fs *fs, struct cfs_chunk *ch, u64 ino, u64 off,
		 u64 len)
{
	char name[64], msg[96];

	if (fs->checking)
		return; /* the checker reports it as a problem */
	ch->hdr.data_errors++;
	if (!fs->rdonly) {
		ch->hdr_dirty = 1;
		ch->changed = 1;
	}
	dsum_name(fs, ino, name, sizeof(name));
	cfs_format(msg, sizeof(msg), "chunk %u: %s bytes %llu-%llu: data "
		   "checksum mismatch", ch->index, name,
		   (unsigned long long)off,
		   (unsigned long long)(off + len - 1));
	fs_event(fs, CHUNKFS_EV_ERROR, CHUNKFS_E_DATA, ch->index, ino, msg);
}

int dsum_verify_sum(struct cfs_fs *fs, struct dsum_cur *cur,
		    struct cfs_chunk *ch, u32 local, u32 got, u64 ino,
		    u64 off)
{
	u32 want;
	int err = dsum_get(fs, cur, ch, local, &want);

	if (err)
		return err;
	if (got == want)
		return 0;
	dsum_report(fs, ch, ino, off, fs->bs);
	return -CFS_EIO;
}

int dsum_verify(struct cfs_fs *fs, struct dsum_cur *cur, struct cfs_chunk *ch,
		u32 local, const u8 *data, u64 ino, u64 off)
{
	return dsum_verify_sum(fs, cur, ch, local, dsum_block(fs, data), ino,
			       off);
}

static void map_set(struct cfs_fs *fs, struct cfs_chunk *ch, u8 **map,
		    u32 first, u32 n)
{
	u32 i;

	if (!fs->journal || !fs->datasum)
		return;
	if (!*map)
		*map = host_alloc((ch->hdr.nblocks + 7) / 8 + 8);
	if (!*map)
		return;
	for (i = first; i < first + n && i < ch->hdr.nblocks; i++)
		(*map)[i / 8] |= (u8)(1u << (i % 8));
}

static int map_test(const u8 *map, u32 local)
{
	return map && (map[local / 8] >> (local % 8)) & 1;
}

void dsum_fresh_mark(struct cfs_fs *fs, struct cfs_chunk *ch, u32 first,
		     u32 n)
{
	/* out of memory: not marked, copied on write: only slower */
	map_set(fs, ch, &ch->pnew, first, n);
}

int dsum_fresh(const struct cfs_chunk *ch, u32 local)
{
	return map_test(ch->pnew, local);
}

int dsum_zeroed_mark(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local)
{
	map_set(fs, ch, &ch->pzero, local, 1);
	return fs->journal && fs->datasum && !ch->pzero ? -CFS_ENOMEM : 0;
}

int dsum_zeroed(const struct cfs_chunk *ch, u32 local)
{
	return map_test(ch->pzero, local);
}

/* ---- reading all the data of a chunk (the checker's data pass, the
 * scrub's) ---- */

/* A run of bad blocks [l0, l1) of file `ino`, the first at abs block b0. */
static void bad_run(const struct dsum_check *dc, u32 chunk, u64 ino, u64 l0,
		    u64 l1, u64 b0, u32 bshift)
{
	if (dc->fn)
		dc->fn(dc->ctx, chunk, ino, l0 << bshift,
		       (l1 - l0) << bshift, b0);
}

/* A window of an extent read into a buffer, its sums being computed:
 * local blocks [pb, pb+n) of the chunk, logical blocks [k, k+n). */
struct cwin {
	u32 pb, n;
	u64 k;
	int first;            /* the first window of its extent */
	u32 *sums;
};

/* The bad run under way (runs never span two extents). */
struct crun {
	int inbad;
	u64 bad0, badb, end;
};

static int check_win(struct cfs_fs *fs, struct cfs_chunk *ch,
		     struct dsum_check *dc, struct dsum_cur *cur, u64 ino,
		     const struct cwin *w, struct crun *r)
{
	u32 j;
	int err = 0;

	if (w->first && r->inbad) {
		r->inbad = 0;
		bad_run(dc, ch->index, ino, r->bad0, r->end, r->badb,
			fs->bshift);
	}
	for (j = 0; j < w->n; j++) {
		u32 want;
		int bad;

		err = dsum_get(fs, cur, ch, w->pb + j, &want);
		if (err)
			break;
		bad = w->sums[j] != want;
		dc->nread++;
		if (bad && !r->inbad) {
			r->inbad = 1;
			r->bad0 = w->k + j;
			r->badb = cfs_abs(ch, w->pb + j);
		}
		if (bad)
			dc->nbad++;
		if (!bad && r->inbad) {
			r->inbad = 0;
			bad_run(dc, ch->index, ino, r->bad0, w->k + j, r->badb,
				fs->bshift);
		}
	}
	r->end = w->k + j;
	return err;
}

/* One window read and hashed. */
struct wread {
	struct cwin w;
	u64 off;              /* of the window's first block on the device */
	u8 *buf;
	int rerr;
};

static void wread_run(struct cfs_fs *fs, struct wread *r)
{
	r->rerr = fs->dev->ops->read(fs->dev, r->off, r->buf,
				     (u64)r->w.n << fs->bshift);
	if (!r->rerr)
		dsum_blocks(fs, r->buf, r->w.n, r->w.sums);
}

/* With a helper and a device that takes reads from two threads at once
 * (the image file), an inode's windows are gathered into a batch, and the
 * caller and the helper each take the next window of the batch until none
 * is left: both CPUs share the copy out of the device and the hash, and a
 * helper that is not scheduled only leaves more windows to the caller.
 * Then the sums are compared, in file order. */
#define DSUM_BATCH 16
#define DSUM_BWIN (256u << 10) /* bytes per window of a batch */

struct dsum_batch {
	struct cfs_fs *fs;
	struct host_mutex *m;
	u32 n, next, per;
	u8 *mem;              /* DSUM_BATCH windows */
	struct wread r[DSUM_BATCH];
};

static void batch_run(void *arg)
{
	struct dsum_batch *b = arg;

	for (;;) {
		u32 i;

		host_mutex_lock(b->m);
		i = b->next < b->n ? b->next++ : b->n;
		host_mutex_unlock(b->m);
		if (i >= b->n)
			return;
		wread_run(b->fs, &b->r[i]);
	}
}

static void batch_free(struct dsum_batch *b)
{
	if (!b)
		return;
	host_mutex_free(b->m);
	host_free(b->mem);
	host_free(b);
}

static struct dsum_batch *batch_new(struct cfs_fs *fs, u32 *sums)
{
	struct dsum_batch *b = host_alloc(sizeof(*b));
	u32 i;

	if (!b)
		return NULL;
	b->fs = fs;
	b->per = CFS_MAX(DSUM_BWIN >> fs->bshift, 1u);
	b->m = host_mutex_new();
	b->mem = host_alloc((u64)DSUM_BATCH * b->per << fs->bshift);
	if (!b->m || !b->mem) {
		batch_free(b);
		return NULL;
	}
	for (i = 0; i < DSUM_BATCH; i++) {
		b->r[i].buf = b->mem + ((u64)i * b->per << fs->bshift);
		b->r[i].w.sums = sums + i * b->per;
	}
	return b;
}

/* Reads and hashes the batch's windows, then compares them in order. */
static int batch_flush(struct cfs_fs *fs, struct cfs_chunk *ch,
		       struct dsum_check *dc, struct dsum_cur *cur, u64 ino,
		       struct crun *run)
{
	struct dsum_batch *b = dc->batch;
	int err = 0;
	u32 i;

	if (!b->n)
		return 0;
	b->next = 0;
	if (b->n > 1)
		host_job_start(dc->job->hj, batch_run, b);
	batch_run(b);
	if (b->n > 1)
		host_job_wait(dc->job->hj);
	for (i = 0; i < b->n && !err; i++)
		err = b->r[i].rerr ? -CFS_EIO :
		      check_win(fs, ch, dc, cur, ino, &b->r[i].w, run);
	b->n = 0;
	return err;
}

/* The data is read a window at a time: bufsize bytes into dc->buf by the
 * caller alone (the kernel module: no helper), or in batches. */
int dsum_check_inode(struct cfs_fs *fs, struct cfs_chunk *ch,
		     struct cfs_inode *ip, struct dsum_check *dc)
{
	union { struct cfs_dext d; struct cfs_cext c; } v;
	struct dsum_cur cur = { 0 };
	struct cfs_tree t;
	struct crun run = { 0 };
	struct dsum_batch *b;
	u32 per = dc->bufsize >> fs->bshift, len;
	u64 k = 0, ino = ip->ino;
	int err = 0;

	if (!CFS_ISREG(ip->d.mode) && !CFS_ISLNK(ip->d.mode))
		return 0;
	if (ip->d.flags & CFS_IF_INLINE_LINK)
		return 0;
	if (ip->d.flags & CFS_IF_CONT)
		ino = CFS_MKINO(ip->d.back_chunk, ip->d.back_ino);
	else if (!dsum_file(fs, ip))
		return 0;
	if (!dc->sums) {
		u32 nb = CFS_MAX(per, DSUM_BATCH *
				 CFS_MAX(DSUM_BWIN >> fs->bshift, 1u));

		dc->sums = host_alloc((u64)nb * sizeof(u32));
		if (!dc->sums)
			return -CFS_ENOMEM;
		/* without a helper (the kernel module, out of memory) or
		 * with a device that reads one thing at a time: the caller
		 * reads and hashes alone */
		dc->job = dsum_job_new();
		if (dc->job && dc->job->hj && fs->dev->parallel_read)
			dc->batch = batch_new(fs, dc->sums);
	}
	b = dc->batch;
	if (b)
		per = b->per;
	tree_of_inode(fs, ip, CFS_TREE_EXTENT, &t);
	while (!err && !bt_find_ge(&t, k, &k, &v, sizeof(v), &len)) {
		u32 n = v.d.len & ~CFS_EXT_UNWRITTEN, i;

		if (len != sizeof(v.d) || (v.d.len & CFS_EXT_UNWRITTEN) || !n ||
		    v.d.pblk < ch->hdr.data_start ||
		    (u64)v.d.pblk + n > chunk_data_end(ch)) {
			/* continuation extents, unwritten ones; bad ones are
			 * the metadata passes' */
			k += len == sizeof(v.c) && v.c.len ? v.c.len : 1;
			continue;
		}
		for (i = 0; i < n && !err; ) {
			struct wread one, *r = b ? &b->r[b->n] : &one;

			r->w.pb = v.d.pblk + i;
			r->w.n = CFS_MIN(n - i, per);
			r->w.k = k + i;
			r->w.first = !i;
			r->off = cfs_abs(ch, r->w.pb) << fs->bshift;
			i += r->w.n;
			if (b) {
				if (++b->n == DSUM_BATCH)
					err = batch_flush(fs, ch, dc, &cur, ino,
							  &run);
				continue;
			}
			r->buf = dc->buf;
			r->w.sums = dc->sums;
			wread_run(fs, r);
			err = r->rerr ? -CFS_EIO :
			      check_win(fs, ch, dc, &cur, ino, &r->w, &run);
		}
		k += n;
	}
	if (b) {
		if (!err)
			err = batch_flush(fs, ch, dc, &cur, ino, &run);
		b->n = 0;
	}
	if (run.inbad)
		bad_run(dc, ch->index, ino, run.bad0, run.end, run.badb,
			fs->bshift);
	dsum_done(fs, &cur);
	return err;
}

void dsum_check_done(struct dsum_check *dc)
{
	dsum_job_free(dc->job);
	batch_free(dc->batch);
	host_free(dc->sums);
	dc->job = NULL;
	dc->batch = NULL;
	dc->sums = NULL;
}
