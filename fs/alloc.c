// SPDX-License-Identifier: GPL-2.0
/*
 * alloc.c - per-chunk allocation of blocks and inode numbers, and the
 * placement choices that pick a chunk.
 *
 * Each chunk has its own block bitmap and inode bitmap (metadata blocks with
 * the usual header; bits start after it).  Nothing here looks outside the
 * chunk it is given, except chunk_most_free() and chunk_best_fit(), which
 * read only the in-memory free counts of the other chunks.
 */
#include "internal.h"

static u32 bits_per_block(struct cfs_fs *fs)
{
	return CFS_PAYLOAD(fs) * 8;
}

u32 chunk_meta_reserve(const struct cfs_chunk *ch)
{
	return 16 + ch->hdr.nblocks / 64;
}

/* Whether placement may use ch at all: not damaged, not suspect. */
int chunk_usable(const struct cfs_chunk *ch)
{
	return ch->hdr.state != CFS_CHUNK_DAMAGED &&
	       ch->hdr.state != CFS_CHUNK_SUSPECT;
}

/* Whether file data may continue into ch: free blocks above its metadata
 * reserve (data allocations leave that alone) and a quarter of it more (at
 * least CFS_CONT_MIN): room for the names and continuations that new
 * inodes placed there will need (a chunk filled to its reserve by another
 * file's continuation cannot take them: the names of 1,500 new files in a
 * 40 MiB filesystem got ENOSPC, test_fs).  Once a write gets ENOSPC, at
 * most that quarter is left in any chunk above the reserve: statfs's
 * f_bavail is about what could be written (issue 16; before, a chunk had
 * to hold twice its reserve, up to 1040 blocks of a 256 MiB chunk that
 * f_bavail showed and no write could use, now 260). */
int chunk_cont_room(const struct cfs_chunk *ch)
{
	u32 keep = chunk_meta_reserve(ch);

	return ch->hdr.free_blocks > keep + CFS_MAX(CFS_CONT_MIN, keep / 4);
}

/* Inodes kept free in every chunk for continuations, so a hard link or a
 * rename into a directory of another chunk can still grow that directory's
 * continuation here. */
u32 chunk_inode_reserve(const struct cfs_chunk *ch)
{
	return 4 + ch->hdr.ninodes / 64;
}

/* Whether placement may take ch for something that needs an inode:
 * usable, not except, with free inodes above the reserve for need_inode
 * 1, any free inode for 2. */
static int place_ok(const struct cfs_chunk *ch, const struct cfs_chunk *except,
		    int need_inode)
{
	return ch && ch != except && chunk_usable(ch) &&
	       !(need_inode == 1 &&
		 ch->hdr.free_inodes <= chunk_inode_reserve(ch)) &&
	       !(need_inode == 2 && !ch->hdr.free_inodes);
}

/* The chunk placement may take (place_ok) with the most free blocks. */
struct cfs_chunk *chunk_most_free(struct cfs_fs *fs, struct cfs_chunk *except,
				  int need_inode)
{
	struct cfs_chunk *best = NULL;
	u32 i;

	for (i = 0; i < fs->nchunks; i++) {
		struct cfs_chunk *ch = chunk_get(fs, i);

		if (place_ok(ch, except, need_inode) &&
		    (!best || ch->hdr.free_blocks > best->hdr.free_blocks))
			best = ch;
	}
	return best;
}

/* Best fit (issue 16): the chunk placement may take for a new inode
 * (place_ok, inodes above the reserve) with the fewest free blocks that
 * still has need blocks above twice its metadata reserve, or NULL.  A new
 * file goes where it fits tightest, and the chunks with the most room stay
 * for large files (chunk_most_free). */
struct cfs_chunk *chunk_best_fit(struct cfs_fs *fs, u64 need)
{
	struct cfs_chunk *best = NULL;
	u32 i;

	for (i = 0; i < fs->nchunks; i++) {
		struct cfs_chunk *ch = chunk_get(fs, i);

		if (place_ok(ch, NULL, 1) &&
		    ch->hdr.free_blocks >=
		    2 * (u64)chunk_meta_reserve(ch) + need &&
		    (!best || ch->hdr.free_blocks < best->hdr.free_blocks))
			best = ch;
	}
	return best;
}

/* Whether a new inode may go to ch (the chunk of its directory, or of a
 * continuation of it): usable, with free inodes above the inode reserve
 * and more than twice its metadata reserve of free blocks.  The placement
 * reserve (reserve_pct) is no longer read here (issue 16): the first
 * version (issue 7) sent new inodes away from a chunk below it as soon as
 * another had twice its free blocks, to the chunk with the most free
 * blocks, so every chunk was filled down to the reserve and past about 90%
 * full the free space was a few MiB in every chunk, where a large file
 * written then continued into many chunks.  Filling a directory's chunk
 * before leaving it, and a file leaving it for the fullest chunk with room
 * (chunk_best_fit, api.c place_inode), keeps the space freed by deleted
 * large files whole for the next ones (docs/DESIGN.md, "Placement
 * policy"). */
int chunk_has_room(const struct cfs_chunk *ch)
{
	return chunk_usable(ch) &&
	       ch->hdr.free_inodes > chunk_inode_reserve(ch) &&
	       ch->hdr.free_blocks > 2 * chunk_meta_reserve(ch);
}

/* Find the first bit equal to 0 at or after `from` and below `end` in a
 * chunk bitmap; returns end if none.  *err gets read errors. */
static u32 bm_find_zero(struct cfs_fs *fs, struct cfs_chunk *ch, u32 start,
			u32 magic, u32 from, u32 end, int *err)
{
	u32 bpb = bits_per_block(fs);

	while (from < end) {
		u32 bi = from / bpb, off = from % bpb;
		u32 lim = CFS_MIN(bpb, end - bi * bpb);
		struct cfs_buf *b;
		const u8 *bits;

		*err = buf_read(fs, ch, start + bi, magic, &b);
		if (*err)
			return end;
		bits = b->data + sizeof(struct cfs_bhdr);
		while (off < lim) {
			if ((off & 63) == 0 && off + 64 <= lim) {
				u64 w;

				cfs_memcpy(&w, bits + off / 8, 8);
				if (w == ~0ULL) {
					off += 64;
					continue;
				}
			}
			if (!(bits[off / 8] & (1u << (off % 8)))) {
				buf_put(fs, b);
				return bi * bpb + off;
			}
			off++;
		}
		buf_put(fs, b);
		from = (bi + 1) * bpb;
	}
	return end;
}

/* Set (val=1) or clear bits [first, first+n).  Returns the number of bits
 * that already had the target value (a corruption sign). */
static int bm_set(struct cfs_fs *fs, struct cfs_chunk *ch, u32 start,
		  u32 magic, u32 first, u32 n, int val, u32 *wrong)
{
	u32 bpb = bits_per_block(fs);

	*wrong = 0;
	while (n) {
		u32 bi = first / bpb, off = first % bpb;
		u32 cnt = CFS_MIN(n, bpb - off), i;
		struct cfs_buf *b;
		u8 *bits;
		int err = buf_read(fs, ch, start + bi, magic, &b);

		if (err)
			return err;
		bits = b->data + sizeof(struct cfs_bhdr);
		for (i = off; i < off + cnt; i++) {
			u8 m = (u8)(1u << (i % 8));

			if (!!(bits[i / 8] & m) == val)
				(*wrong)++;
			if (val)
				bits[i / 8] |= m;
			else
				bits[i / 8] &= (u8)~m;
		}
		buf_dirty(fs, b);
		buf_put(fs, b);
		first += cnt;
		n -= cnt;
	}
	return 0;
}

static int bm_test(struct cfs_fs *fs, struct cfs_chunk *ch, u32 start,
		   u32 magic, u32 bit)
{
	u32 bpb = bits_per_block(fs);
	struct cfs_buf *b;
	int err = buf_read(fs, ch, start + bit / bpb, magic, &b), r;

	if (err)
		return err;
	bit %= bpb;
	r = !!(b->data[sizeof(struct cfs_bhdr) + bit / 8] & (1u << (bit % 8)));
	buf_put(fs, b);
	return r;
}

/* Blocks freed since the last commit (journal.c): not for file data. */
static int pfree_test(const struct cfs_chunk *ch, u32 bit)
{
	return ch->pfree && (ch->pfree[bit / 8] >> (bit % 8)) & 1;
}

/* The first bit at or after `bit` (below end) not pending free. */
static u32 pfree_skip(const struct cfs_chunk *ch, u32 bit, u32 end)
{
	while (bit < end && pfree_test(ch, bit)) {
		if (!(bit & 63) && bit + 64 <= end) {
			u64 w;

			cfs_memcpy(&w, ch->pfree + bit / 8, 8);
			if (w == ~0ULL) {
				bit += 64;
				continue;
			}
		}
		bit++;
	}
	return bit;
}

int alloc_blocks(struct cfs_fs *fs, struct cfs_chunk *ch, u32 goal, u32 want,
		 u32 keep, int data, u32 *first, u32 *got)
{
	struct cfs_chunk_hdr *h = &ch->hdr;
	/* past the data area: the mirror region (DUP), the header copy */
	u32 lo = h->data_start, hi = chunk_data_end(ch);
	u32 start, n, pass, wrong;
	int err = 0, skipped = 0;

	if (!ch->pfree)
		data = 0;

	if (fs->rdonly)
		return -CFS_EROFS;
	if ((h->state == CFS_CHUNK_DAMAGED && !fs->checking) ||
	    h->free_blocks <= keep || !want)
		return -CFS_ENOSPC;
	want = CFS_MIN(want, h->free_blocks - keep);
	if (goal < lo || goal >= hi)
		goal = ch->bb_hint >= lo && ch->bb_hint < hi ? ch->bb_hint : lo;
	for (pass = 0; pass < 2; pass++) {
		u32 from = pass ? lo : goal, end = pass ? goal : hi;

		for (;;) {
			start = bm_find_zero(fs, ch, h->bbmap_start,
					     CFS_MAGIC_BBMAP, from, end, &err);
			if (err)
				return err;
			if (start >= end || !data || !pfree_test(ch, start))
				break;
			from = pfree_skip(ch, start, end);
			skipped = 1;
		}
		if (start < end)
			break;
	}
	if (pass == 2) {
		/* The count said there was room; the map disagrees (unless
		 * the room is blocks freed since the last commit). */
		if (!skipped)
			chunk_mark_suspect(fs, ch,
					   "free block count disagrees with map");
		return -CFS_ENOSPC;
	}
	/* Extend the run while the next bits are free. */
	n = 1;
	while (n < want && start + n < hi) {
		int r = data && pfree_test(ch, start + n) ? 1 : bm_test(fs, ch, h->bbmap_start, CFS_MAGIC_BBMAP,
				start + n);

		if (r < 0)
			return r;
		if (r)
			break;
		n++;
	}
	err = bm_set(fs, ch, h->bbmap_start, CFS_MAGIC_BBMAP, start, n, 1,
		     &wrong);
	if (err)
		return err;
	h->free_blocks -= n;
	ch->hdr_dirty = 1;
	ch->bb_hint = start + n;
	*first = start;
	*got = n;
	return 0;
}

int free_blocks(struct cfs_fs *fs, struct cfs_chunk *ch, u32 first, u32 n)
{
	struct cfs_chunk_hdr *h = &ch->hdr;
	u32 wrong, i;
	int err;

	if (!n)
		return 0;
	if (first < h->data_start || first + n > chunk_data_end(ch) ||
	    first + n < first) {
		chunk_mark_suspect(fs, ch, "freeing a block outside the data area");
		return -CFS_EUCLEAN;
	}
	for (i = 0; i < n; i++)
		buf_forget(fs, ch, first + i);
	err = bm_set(fs, ch, h->bbmap_start, CFS_MAGIC_BBMAP, first, n, 0,
		     &wrong);
	if (err)
		return err;
	if (fs->journal) {
		/* not for file data before the commit that frees them */
		if (!ch->pfree)
			ch->pfree = host_alloc((h->nblocks + 7) / 8 + 8);
		if (!ch->pfree)
			return -CFS_ENOMEM; /* (the map changed: commit keeps
					     * it consistent; data just waits) */
		for (i = first; i < first + n; i++)
			ch->pfree[i / 8] |= (u8)(1u << (i % 8));
		fs->npfree += n;
		ch->npfree += n;
	}
	if (wrong)
		chunk_mark_suspect(fs, ch, "freeing a block that was free");
	h->free_blocks += n - wrong;
	ch->hdr_dirty = 1;
	return 0;
}

int alloc_meta_block(struct cfs_fs *fs, struct cfs_chunk *ch, u32 *out)
{
	u32 got;

	return alloc_blocks(fs, ch, ch->hdr.data_start, 1, 0, 0, out, &got);
}

/* The second copy goes half a data area away from the first (wrapping
 * around), so that one damaged run of blocks holds at most one of them
 * (FORMAT.md 16.4). */
int alloc_meta_pair(struct cfs_fs *fs, struct cfs_chunk *ch, u32 *blk,
		    u32 *blk2)
{
	u32 lo = ch->hdr.data_start, span = chunk_data_end(ch) - lo, got;
	int err = alloc_meta_block(fs, ch, blk);

	*blk2 = 0;
	if (err || !fs->dup)
		return err;
	err = alloc_blocks(fs, ch, lo + (*blk - lo + span / 2) % span, 1, 0, 0,
			   blk2, &got);
	if (err)
		free_blocks(fs, ch, *blk, 1);
	return err;
}

void free_meta_pair(struct cfs_fs *fs, struct cfs_chunk *ch, u32 blk,
		    u32 blk2)
{
	free_blocks(fs, ch, blk, 1);
	if (blk2)
		free_blocks(fs, ch, blk2, 1);
}

int alloc_inode_nr(struct cfs_fs *fs, struct cfs_chunk *ch, u32 *out)
{
	struct cfs_chunk_hdr *h = &ch->hdr;
	u32 ipb = CFS_PAYLOAD(fs) / CFS_INODE_SIZE;
	u32 nr, pass, wrong, blk;
	int err = 0;

	if (fs->rdonly)
		return -CFS_EROFS;
	if (!h->free_inodes || (h->state == CFS_CHUNK_DAMAGED && !fs->checking))
		return -CFS_ENOSPC;
	for (pass = 0; pass < 2; pass++) {
		u32 from = pass ? 1 : CFS_MAX(ch->ib_hint, 1);
		u32 end = pass ? CFS_MAX(ch->ib_hint, 1) : h->ninodes;

		nr = bm_find_zero(fs, ch, h->ibmap_start, CFS_MAGIC_IBMAP,
				  from, end, &err);
		if (err)
			return err;
		if (nr < end)
			break;
	}
	if (pass == 2) {
		chunk_mark_suspect(fs, ch, "free inode count disagrees with map");
		return -CFS_ENOSPC;
	}
	/* Initialise inode table blocks up to the one holding nr. */
	blk = nr / ipb;
	while (h->itable_init <= blk) {
		struct cfs_buf *b;

		err = buf_new(fs, ch, h->itable_start + h->itable_init,
			      CFS_MAGIC_ITABLE, &b);
		if (err)
			return err;
		buf_put(fs, b);
		h->itable_init++;
		ch->hdr_dirty = 1;
	}
	err = bm_set(fs, ch, h->ibmap_start, CFS_MAGIC_IBMAP, nr, 1, 1, &wrong);
	if (err)
		return err;
	h->free_inodes--;
	ch->hdr_dirty = 1;
	ch->ib_hint = nr + 1;
	*out = nr;
	return 0;
}

int free_inode_nr(struct cfs_fs *fs, struct cfs_chunk *ch, u32 local)
{
	u32 wrong;
	int err = bm_set(fs, ch, ch->hdr.ibmap_start, CFS_MAGIC_IBMAP, local,
			 1, 0, &wrong);

	if (err)
		return err;
	if (wrong)
		chunk_mark_suspect(fs, ch, "freeing an inode that was free");
	else
		ch->hdr.free_inodes++;
	if (local < ch->ib_hint)
		ch->ib_hint = local;
	ch->hdr_dirty = 1;
	return 0;
}
