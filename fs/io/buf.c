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

static int buf_write(struct cfs_fs *fs, struct cfs_buf *b)
{
	int err;

	buf_seal(fs, b->data);
	err = fs->dev->ops->write(fs->dev, b->blkno << fs->bshift, b->data,
				  fs->bs);
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

int buf_read(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local, u32 magic,
	     struct cfs_buf **out)
{
	struct cfs_buf *b;
	const char *why;
	int fresh, err;

	if (ch && local >= ch->hdr.nblocks) {
		chunk_mark_suspect(fs, ch, "block pointer outside the chunk");
		return -CFS_EUCLEAN;
	}
	err = buf_get(fs, ch, local, &b, &fresh);
	if (err)
		return err;
	if (fresh) {
		fs->nreads++;
		err = fs->dev->ops->read(fs->dev, b->blkno << fs->bshift,
					 b->data, fs->bs);
		if (err) {
			read_failed(fs, ch, local, CHUNKFS_E_IO, "read error");
			if (ch)
				chunk_mark_suspect(fs, ch, "read error");
			goto bad;
		}
		err = buf_verify(fs, b->data, b->blkno, b->chunk, magic, &why);
		if (err) {
			read_failed(fs, ch, local, CHUNKFS_E_CHECKSUM, why);
			if (ch)
				chunk_mark_suspect(fs, ch, why);
			goto bad;
		}
	} else if (((struct cfs_bhdr *)b->data)->magic != magic) {
		err = -CFS_EUCLEAN;
		if (ch)
			chunk_mark_suspect(fs, ch, "block used as two types");
		b->refs--;
		if (!b->refs)
			lru_add_tail(fs, b);
		return err;
	}
	*out = b;
	return 0;
bad:
	b->refs--;
	buf_destroy(fs, b);
	return err;
}

int buf_new(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local, u32 magic,
	    struct cfs_buf **out)
{
	struct cfs_buf *b;
	int fresh, err;

	err = buf_get(fs, ch, local, &b, &fresh);
	if (err)
		return err;
	cfs_memset(b->data, 0, fs->bs);
	buf_init_hdr(fs->g, b->data, b->blkno, b->chunk, magic);
	buf_dirty(fs, b);
	*out = b;
	return 0;
}

void buf_dirty(struct cfs_fs *fs, struct cfs_buf *b)
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

/* A block image in place of the disk's block.  A read-only mount's
 * replayed block is kept dirty (so never evicted, never written) without
 * a chunk's accounting; anything else (an online repair's block) is dirty
 * for the next commit like any change. */
int buf_install(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local,
		const u8 *img)
{
	struct cfs_buf *b;
	int fresh, err = buf_get(fs, ch, local, &b, &fresh);

	if (err)
		return err;
	cfs_memcpy(b->data, img, fs->bs);
	if (!fs->rdonly) {
		buf_dirty(fs, b);
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
