// SPDX-License-Identifier: GPL-2.0
/*
 * buf.c - the metadata buffer cache and the block verifier.
 *
 * Every metadata block passes through here.  buf_read() verifies the block's
 * self-identification (invariant 5: magic, fs UUID, chunk index, own block
 * number, crc32) before anyone sees it; a block that fails is never returned
 * and its chunk is marked suspect.  Dirty buffers are sealed (write
 * generation and crc) and written at buf_flush_all().  Unreferenced buffers
 * sit on an LRU list and are evicted (written first if dirty) when the cache
 * is over its size.
 */
#include "../internal.h"

static u32 buf_hashfn(struct cfs_fs *fs, u64 blkno)
{
	return (u32)((blkno * 0x9e3779b97f4a7c15ULL) >> 40) & fs->bhash_mask;
}

int buf_cache_init(struct cfs_fs *fs, u64 maxbytes)
{
	u32 n = 1024;

	fs->maxbufs = maxbytes / fs->bs;
	if (fs->maxbufs < 64)
		fs->maxbufs = 64;
	while (n < fs->maxbufs && n < (1u << 22))
		n <<= 1;
	fs->bhash = host_alloc((u64)n * sizeof(*fs->bhash));
	if (!fs->bhash)
		return -CFS_ENOMEM;
	fs->bhash_mask = n - 1;
	fs->lru.lnext = fs->lru.lprev = &fs->lru;
	return 0;
}


static void lru_del(struct cfs_buf *b)
{
	if (b->lnext) {
		b->lnext->lprev = b->lprev;
		b->lprev->lnext = b->lnext;
		b->lnext = b->lprev = NULL;
	}
}

static void lru_add_tail(struct cfs_fs *fs, struct cfs_buf *b)
{
	b->lprev = fs->lru.lprev;
	b->lnext = &fs->lru;
	fs->lru.lprev->lnext = b;
	fs->lru.lprev = b;
}

static struct cfs_buf *buf_find(struct cfs_fs *fs, u64 blkno)
{
	struct cfs_buf *b = fs->bhash[buf_hashfn(fs, blkno)];

	while (b && b->blkno != blkno)
		b = b->hnext;
	return b;
}

static void buf_unhash(struct cfs_fs *fs, struct cfs_buf *b)
{
	struct cfs_buf **pp = &fs->bhash[buf_hashfn(fs, b->blkno)];

	while (*pp && *pp != b)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = b->hnext;
}

/* Destroyed buffers (evicted, forgotten, failed reads) are kept on a short
 * free list and reused by buf_get(): no allocator round trip (and no
 * zeroing of a block that is about to be read over) per cache miss once
 * the cache is full. */
#define BUF_FREE_MAX 64

/* The chunk a buffer belongs to (loaded: the buffer was read through it). */
static struct cfs_chunk *buf_chunk(struct cfs_fs *fs, struct cfs_buf *b)
{
	if (b->chunk == CFS_NO_CHUNK || !fs->chunks || b->chunk >= fs->nchunks)
		return NULL;
	return fs->chunks[b->chunk];
}

void buf_clean(struct cfs_fs *fs, struct cfs_buf *b)
{
	struct cfs_chunk *ch;

	if (!b->dirty)
		return;
	b->dirty = 0;
	fs->ndirty--;
	if (!b->refs && !b->lnext)
		lru_add_tail(fs, b); /* evictable now (see buf_put) */
	ch = buf_chunk(fs, b);
	if (ch && ch->ndirty)
		ch->ndirty--;
}

void buf_clean_all(struct cfs_fs *fs)
{
	u32 i;

	for (i = 0; i <= fs->bhash_mask; i++) {
		struct cfs_buf *b;

		for (b = fs->bhash[i]; b; b = b->hnext)
			buf_clean(fs, b);
	}
}

static void buf_destroy(struct cfs_fs *fs, struct cfs_buf *b)
{
	buf_unhash(fs, b);
	buf_clean(fs, b);
	lru_del(b);
	fs->nbufs--;
	if (fs->nfree < BUF_FREE_MAX) {
		b->hnext = fs->bfree;
		fs->bfree = b;
		fs->nfree++;
		return;
	}
	host_free(b);
}

int buf_write_copies(struct cfs_fs *fs, const u8 *img, u64 blkno, u64 blkno2)
{
	int err = fs->dev->ops->write(fs->dev, blkno << fs->bshift, img,
				      fs->bs);
	u8 *c = fs->copybuf;

	if (err || !blkno2)
		return err;
	/* the second copy: its own block number, hence its own crc */
	cfs_memcpy(c, img, fs->bs);
	((struct cfs_bhdr *)c)->blkno = blkno2;
	((struct cfs_bhdr *)c)->crc = host_crc32(0, c + 4, fs->bs - 4);
	return fs->dev->ops->write(fs->dev, blkno2 << fs->bshift, c, fs->bs);
}

static int buf_write(struct cfs_fs *fs, struct cfs_buf *b)
{
	int err;

	buf_seal(fs, b->data);
	err = buf_write_copies(fs, b->data, b->blkno, b->blkno2);
	if (err) {
		host_log(CFS_LOG_ERR, "write error %d on block %llu", err,
			 (unsigned long long)b->blkno);
		return err;
	}
	buf_clean(fs, b);
	return 0;
}

static void buf_shrink(struct cfs_fs *fs)
{
	struct cfs_buf *b = fs->lru.lnext;

	while (fs->nbufs > fs->maxbufs && b != &fs->lru) {
		struct cfs_buf *next = b->lnext;

		if (b->dirty && (fs->journal || fs->rdonly)) {
			/* uncommitted (or replayed in memory): stays until
			 * the commit; the op's end commits when the cache
			 * holds too many (journal_wants_commit) */
			b = next;
			continue;
		}
		if (b->dirty && buf_write(fs, b))
			break;
		buf_destroy(fs, b);
		b = next;
	}
}

static int buf_get(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local,
		   struct cfs_buf **out, int *fresh)
{
	u64 blkno = ch ? cfs_abs(ch, local) : local;
	struct cfs_buf *b = buf_find(fs, blkno);

	*fresh = 0;
	if (b) {
		if (!b->refs)
			lru_del(b);
		b->refs++;
		*out = b;
		return 0;
	}
	if (fs->nbufs >= fs->maxbufs)
		buf_shrink(fs);
	if (fs->bfree) {
		b = fs->bfree;
		fs->bfree = b->hnext;
		fs->nfree--;
	} else {
		/* the struct and its block in one allocation */
		b = host_alloc(sizeof(*b) + fs->bs);
		if (!b)
			return -CFS_ENOMEM;
		b->data = (u8 *)(b + 1);
	}
	b->dirty = 0;
	b->lnext = b->lprev = NULL;
	b->blkno = blkno;
	b->chunk = ch ? ch->index : CFS_NO_CHUNK;
	b->refs = 1;
	b->hnext = fs->bhash[buf_hashfn(fs, blkno)];
	fs->bhash[buf_hashfn(fs, blkno)] = b;
	fs->nbufs++;
	*fresh = 1;
	*out = b;
	return 0;
}

/* A metadata block that could not be read or verified: an event (a log
 * line), unless the offline checker reports it itself. */
static void read_failed(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local,
			u32 code, const char *why)
{
	char msg[96];

	if (fs->checking)
		return;
	cfs_format(msg, sizeof(msg), "chunk %u block %u: %s",
		   ch ? ch->index : 0, local, why);
	fs_event(fs, code == CHUNKFS_E_IO ? CHUNKFS_EV_ERROR :
		 CHUNKFS_EV_WARNING, code, ch ? ch->index : CHUNKFS_NO_CHUNK,
		 0, msg);
}

void buf_drop(struct cfs_fs *fs, struct cfs_buf *b)
{
	buf_destroy(fs, b);
}

/* ---- references of positional blocks (FORMAT.md 16.2, 16.4) ---- */

int buf_is_pos(const struct cfs_chunk *ch, u32 local)
{
	const struct cfs_chunk_hdr *h = &ch->hdr;

	return local >= 1 && local < (h->gtab_blocks ? h->gtab_start +
		h->gtab_blocks : h->itable_start + h->itable_blocks);
}

u32 chunk_mirror(const struct cfs_chunk *ch, u32 local)
{
	return ch->hdr.mirror_start ? ch->hdr.mirror_start + local - 1 : 0;
}

u32 chunk_data_end(const struct cfs_chunk *ch)
{
	return ch->hdr.mirror_start ? ch->hdr.mirror_start :
				      ch->hdr.nblocks - 1;
}

static u32 gtab_per(const struct cfs_fs *fs)
{
	return CFS_PAYLOAD(fs) / 4;
}

int buf_pos_ref(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local,
		struct cfs_bref *r)
{
	const struct cfs_chunk_hdr *h = &ch->hdr;
	struct cfs_buf *g;
	u32 e, gb;
	int err;

	r->blk = local;
	r->blk2 = 0;
	r->gen = 0;
	if (!fs->metagen || !buf_is_pos(ch, local))
		return 0;
	r->blk2 = chunk_mirror(ch, local);
	if (local >= h->gtab_start) {
		r->gen = ch->gtab_gen ? ch->gtab_gen[local - h->gtab_start] : 0;
		return 0;
	}
	e = local - 1;
	gb = h->gtab_start + e / gtab_per(fs);
	err = buf_read(fs, ch, gb, CFS_MAGIC_GTAB, &g);
	if (err)
		return err;
	r->gen = ((const u32 *)(g->data + sizeof(struct cfs_bhdr)))
		[e % gtab_per(fs)];
	buf_put(fs, g);
	return 0;
}

/* A positional block's new generation, recorded where its reference is:
 * the generation table (itself a positional block: modified in turn) or,
 * for the table's own blocks, the header block. */
static void pos_gen_set(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local,
			u32 gen)
{
	const struct cfs_chunk_hdr *h = &ch->hdr;
	struct cfs_buf *g;
	u32 e;

	if (local >= h->gtab_start) {
		if (ch->gtab_gen)
			ch->gtab_gen[local - h->gtab_start] = gen;
		ch->hdr_dirty = 1;
		ch->changed = 1;
		return;
	}
	e = local - 1;
	if (buf_read(fs, ch, h->gtab_start + e / gtab_per(fs), CFS_MAGIC_GTAB,
		     &g))
		return; /* the table is bad: the chunk is suspect already */
	((u32 *)(g->data + sizeof(struct cfs_bhdr)))[e % gtab_per(fs)] = gen;
	buf_dirty(fs, g);
	buf_put(fs, g);
}

/* ---- reading, with a second copy to heal from ---- */

static int copy_read(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local,
		     u8 *data, u32 magic, u32 gen, cfs_verify_fn vfn,
		     const void *varg, const char **why, u32 *code)
{
	u64 blkno = cfs_abs(ch, local);

	fs->nreads++;
	if (fs->dev->ops->read(fs->dev, blkno << fs->bshift, data, fs->bs)) {
		*why = "read error";
		*code = CHUNKFS_E_IO;
		return -CFS_EIO;
	}
	*code = CHUNKFS_E_CHECKSUM;
	if (buf_verify(fs, data, blkno, ch->index, magic, why))
		return -CFS_EUCLEAN;
	if (fs->metagen && (u32)((const struct cfs_bhdr *)data)->wgen != gen) {
		*why = "stale block (not the generation expected)";
		return -CFS_EUCLEAN;
	}
	if (vfn && vfn(fs, data, varg, why))
		return -CFS_EUCLEAN;
	return 0;
}

/* The two copies' content agrees (all but crc and blkno). */
static int same_payload(const struct cfs_fs *fs, const u8 *a, const u8 *b)
{
	return !cfs_memcmp(a + 4, b + 4, 28) &&
	       !cfs_memcmp(a + 40, b + 40, fs->bs - 40);
}

static const char *what_block(u32 magic)
{
	switch (magic) {
	case CFS_MAGIC_BBMAP: return "block bitmap";
	case CFS_MAGIC_IBMAP: return "inode bitmap";
	case CFS_MAGIC_ITABLE: return "inode table";
	case CFS_MAGIC_BTREE: return "tree node";
	case CFS_MAGIC_GTAB: return "generation table";
	case CFS_MAGIC_CSUM: return "checksum block";
	default: return "block";
	}
}

/* One copy was bad and the other good: count it, tell it, and (unless
 * read-only) write the good content over the bad copy with the next
 * commit, content and generation unchanged. */
static void healed(struct cfs_fs *fs, struct cfs_chunk *ch, struct cfs_buf *b,
		   u32 badlocal, u32 magic, const char *why)
{
	const struct cfs_bhdr *h = (const struct cfs_bhdr *)b->data;
	char msg[96];

	ch->hdr.errors_corrected++;
	fs->ncorrected++;
	if (!fs->rdonly && !fs->no_heal) {
		ch->hdr_dirty = 1;
		ch->changed = 1;
		buf_mark_heal(fs, b);
	}
	if (fs->on_heal)
		fs->on_heal(fs->on_heal_ctx, ch->index, badlocal, why);
	if (fs->checking_offline)
		return; /* fsck reports it itself (cfs_check_result) */
	/* the verdict before the reason: a long one is cut, not the verdict
	 * (an event's message holds 95 characters) */
	if (magic == CFS_MAGIC_BTREE && h->owner_lo)
		cfs_format(msg, sizeof(msg), "chunk %u block %u (tree node of "
			   "inode %u): %s from its copy; %s", ch->index,
			   badlocal, h->owner_lo,
			   fs->rdonly || fs->no_heal ? "read" : "healed", why);
	else
		cfs_format(msg, sizeof(msg), "chunk %u block %u (%s): %s from "
			   "its copy; %s", ch->index, badlocal,
			   what_block(magic),
			   fs->rdonly || fs->no_heal ? "read" : "healed", why);
	fs_event(fs, CHUNKFS_EV_WARNING, CHUNKFS_E_CORRECTED, ch->index,
		 magic == CFS_MAGIC_BTREE && h->owner_lo ?
		 CFS_MKINO(ch->index, h->owner_lo) : 0, msg);
}

int buf_read_ref(struct cfs_fs *fs, struct cfs_chunk *ch,
		 const struct cfs_bref *r, u32 magic, cfs_verify_fn vfn,
		 const void *varg, struct cfs_buf **out)
{
	struct cfs_buf *b;
	const char *why = NULL, *why2 = NULL;
	u32 code = 0, code2 = 0;
	int fresh, err, err2;

	if (r->blk >= ch->hdr.nblocks || r->blk2 >= ch->hdr.nblocks) {
		chunk_mark_suspect(fs, ch, "block pointer outside the chunk");
		return -CFS_EUCLEAN;
	}
	err = buf_get(fs, ch, r->blk, &b, &fresh);
	if (err)
		return err;
	if (!fresh) {
		if (!b->blkno2 && r->blk2) /* (installed without it) */
			b->blkno2 = cfs_abs(ch, r->blk2);
		if (((struct cfs_bhdr *)b->data)->magic != magic) {
			if (ch)
				chunk_mark_suspect(fs, ch,
						   "block used as two types");
			buf_put(fs, b);
			return -CFS_EUCLEAN;
		}
		*out = b;
		return 0;
	}
	b->blkno2 = r->blk2 ? cfs_abs(ch, r->blk2) : 0;
	err = copy_read(fs, ch, r->blk, b->data, magic, r->gen, vfn, varg,
			&why, &code);
	if (!err && !(r->blk2 && fs->verify_copies)) {
		*out = b;
		return 0;
	}
	if (!r->blk2)
		goto bad;
	/* the second copy: to use instead, or (checker) to compare */
	err2 = copy_read(fs, ch, r->blk2, fs->copybuf, magic, r->gen, vfn,
			 varg, &why2, &code2);
	if (err && !err2) {
		cfs_memcpy(b->data, fs->copybuf, fs->bs);
		((struct cfs_bhdr *)b->data)->blkno = b->blkno;
		healed(fs, ch, b, r->blk, magic, why);
	} else if (!err && (err2 || !same_payload(fs, b->data, fs->copybuf))) {
		healed(fs, ch, b, r->blk2, magic,
		       err2 ? why2 : "differs from the first copy");
	} else if (err) {
		goto bad;
	}
	*out = b;
	return 0;
bad:
	read_failed(fs, ch, r->blk, code, why);
	chunk_mark_suspect(fs, ch, why);
	b->refs--;
	buf_destroy(fs, b);
	return code == CHUNKFS_E_IO ? -CFS_EIO : -CFS_EUCLEAN;
}

int buf_read(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local, u32 magic,
	     struct cfs_buf **out)
{
	struct cfs_bref r;
	int err;

	if (local >= ch->hdr.nblocks) {
		chunk_mark_suspect(fs, ch, "block pointer outside the chunk");
		return -CFS_EUCLEAN;
	}
	/* a cached block needs no reference (its generation table block
	 * may well not be cached) */
	if (buf_find(fs, cfs_abs(ch, local)))
		r = (struct cfs_bref){ local, fs->dup && buf_is_pos(ch, local) ?
				       chunk_mirror(ch, local) : 0, 0 };
	else if ((err = buf_pos_ref(fs, ch, local, &r)) != 0)
		return err;
	return buf_read_ref(fs, ch, &r, magic, NULL, NULL, out);
}

int buf_new_ref(struct cfs_fs *fs, struct cfs_chunk *ch,
		const struct cfs_bref *r, u32 magic, struct cfs_buf **out)
{
	struct cfs_buf *b;
	int fresh, err;

	err = buf_get(fs, ch, r->blk, &b, &fresh);
	if (err)
		return err;
	b->blkno2 = r->blk2 ? cfs_abs(ch, r->blk2) : 0;
	cfs_memset(b->data, 0, fs->bs);
	buf_init_hdr(fs->g, b->data, b->blkno, b->chunk, magic);
	buf_dirty(fs, b);
	*out = b;
	return 0;
}

int buf_new(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local, u32 magic,
	    struct cfs_buf **out)
{
	struct cfs_bref r = { local, 0, 0 };

	if (fs->dup && buf_is_pos(ch, local))
		r.blk2 = chunk_mirror(ch, local);
	return buf_new_ref(fs, ch, &r, magic, out);
}

static void buf_mark(struct cfs_fs *fs, struct cfs_buf *b)
{
	struct cfs_chunk *ch = buf_chunk(fs, b);

	if (ch && !fs->journal)
		chunk_mark_dirty(fs, ch);
	if (ch)
		ch->changed = 1;
	if (!b->dirty) {
		b->dirty = 1;
		fs->ndirty++;
		if (ch) {
			ch->ndirty++;
			/* commit at the end of this operation when the
			 * chunk's changes fill half its transaction */
			if (fs->journal &&
			    2 * (ch->ndirty + 1) > ch->jcap)
				fs->jbig = 1;
		}
	}
}

/* To be written as it is (a healed copy): dirty, generation unchanged. */
void buf_mark_heal(struct cfs_fs *fs, struct cfs_buf *b)
{
	buf_mark(fs, b);
}

u32 buf_gen32(const struct cfs_buf *b)
{
	return (u32)((const struct cfs_bhdr *)b->data)->wgen;
}

int buf_dirty(struct cfs_fs *fs, struct cfs_buf *b)
{
	struct cfs_bhdr *h = (struct cfs_bhdr *)b->data;
	struct cfs_chunk *ch = buf_chunk(fs, b);
	int fresh_gen = 0;

	buf_mark(fs, b);
	if (fs->metagen && h->wgen != fs->gen) {
		h->wgen = fs->gen;
		fresh_gen = 1;
		fs->gen_used = 1;
		if (ch && buf_is_pos(ch, (u32)(b->blkno - ch->start)))
			pos_gen_set(fs, ch, (u32)(b->blkno - ch->start),
				    (u32)fs->gen);
	}
	return fresh_gen;
}

/* A block image in place of the disk's block.  A read-only mount's
 * replayed block is kept dirty (so never evicted, never written) without
 * a chunk's accounting; anything else (an online repair's block) is dirty
 * for the next commit like any change. */
int buf_install(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local,
		u32 local2, const u8 *img)
{
	struct cfs_buf *b;
	int fresh, err = buf_get(fs, ch, local, &b, &fresh);

	if (err)
		return err;
	cfs_memcpy(b->data, img, fs->bs);
	if (!local2 && fs->dup && buf_is_pos(ch, local))
		local2 = chunk_mirror(ch, local);
	b->blkno2 = local2 ? cfs_abs(ch, local2) : 0;
	if (!fs->rdonly) {
		buf_mark(fs, b); /* as it is: its generation is the image's */
	} else if (!b->dirty) {
		b->dirty = 1;
		fs->ndirty++;
	}
	buf_put(fs, b);
	return 0;
}

void buf_put(struct cfs_fs *fs, struct cfs_buf *b)
{
	if (!b)
		return;
	if (--b->refs == 0) {
		/* a buffer that cannot be evicted before its commit stays off
		 * the LRU (buf_clean puts it there), so eviction never walks
		 * the dirty ones */
		if (b->dirty && (fs->journal || fs->rdonly))
			return;
		lru_add_tail(fs, b);
		if (fs->nbufs > fs->maxbufs)
			buf_shrink(fs);
	}
}

/* A freed block: drop it from the cache without writing it. */
void buf_forget(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local)
{
	struct cfs_buf *b = buf_find(fs, cfs_abs(ch, local));

	if (b && !b->refs)
		buf_destroy(fs, b);
	else if (b)
		buf_clean(fs, b);
}

int buf_flush_all(struct cfs_fs *fs)
{
	u32 i;
	int err = 0;

	if (!fs->ndirty)
		return 0;
	for (i = 0; i <= fs->bhash_mask; i++) {
		struct cfs_buf *b;

		for (b = fs->bhash[i]; b; b = b->hnext) {
			if (b->dirty) {
				int e = buf_write(fs, b);

				if (e && !err)
					err = e;
			}
		}
	}
	return err;
}

/* Buffers someone still holds (a reference never put: a leak); at
 * unmount there must be none. */
u32 buf_held(const struct cfs_fs *fs)
{
	const struct cfs_buf *b;
	u32 i, n = 0;

	for (i = 0; fs->bhash && i <= fs->bhash_mask; i++)
		for (b = fs->bhash[i]; b; b = b->hnext)
			n += b->refs != 0;
	return n;
}

void buf_drop_all(struct cfs_fs *fs)
{
	u32 i;

	if (!fs->bhash)
		return;
	for (i = 0; i <= fs->bhash_mask; i++) {
		while (fs->bhash[i])
			buf_destroy(fs, fs->bhash[i]);
	}
	while (fs->bfree) {
		struct cfs_buf *b = fs->bfree;

		fs->bfree = b->hnext;
		host_free(b);
	}
	fs->nfree = 0;
	host_free(fs->bhash);
	fs->bhash = NULL;
}
