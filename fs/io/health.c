// SPDX-License-Identifier: GPL-2.0
/*
 * health.c - chunk health (invariant 7) and the chunk header's own I/O.
 *
 * The state of a chunk changes here: DIRTY before its first change on
 * disk, SUSPECT when a block of it fails to read or verify (with the
 * event that says so).  The chunk header (first block, copy in the last)
 * is written here, as a sealed image to both copies.  This is the bottom
 * layer with buf.c and verify.c: it calls nothing above it.  What an
 * errors= policy does about a suspect chunk is decided above (scrub.c),
 * between operations.
 */
#include "../internal.h"

int raw_write(struct cfs_fs *fs, u64 blkno, u8 *data)
{
	buf_seal(fs, data);
	return fs->dev->ops->write(fs->dev, blkno << fs->bshift, data, fs->bs);
}

/* The chunk header as a sealed block image for local block 0: the header,
 * and with METAGEN the generations of the generation table's blocks after
 * it, and its own generation (FORMAT.md 16.1, 16.2). */
void chunk_hdr_image(struct cfs_fs *fs, struct cfs_chunk *ch, u8 *blk)
{
	cfs_memset(blk, 0, fs->bs);
	cfs_memcpy(blk, &ch->hdr, sizeof(ch->hdr));
	if (fs->metagen && ch->gtab_gen)
		cfs_memcpy(blk + CFS_GTAB_GEN_OFF, ch->gtab_gen,
			   (u64)ch->hdr.gtab_blocks * 4);
	buf_init_hdr(fs->g, blk, cfs_abs(ch, 0), ch->index, CFS_MAGIC_CHUNK);
	if (fs->metagen)
		((struct cfs_bhdr *)blk)->wgen = fs->gen;
	buf_seal(fs, blk);
}

/* The in-memory header from a header block image (a verified copy, a
 * journal image, a repair's). */
void chunk_hdr_load(struct cfs_fs *fs, struct cfs_chunk *ch, const u8 *blk)
{
	cfs_memcpy(&ch->hdr, blk, sizeof(ch->hdr));
	if (fs->metagen && ch->gtab_gen &&
	    ch->hdr.gtab_blocks <= (fs->bs - CFS_GTAB_GEN_OFF) / 4)
		cfs_memcpy(ch->gtab_gen, blk + CFS_GTAB_GEN_OFF,
			   (u64)ch->hdr.gtab_blocks * 4);
}

/* Write a header image to both copies (the copy's block number patched;
 * the image is left as it came, for local block 0). */
int chunk_hdr_write(struct cfs_fs *fs, struct cfs_chunk *ch, u8 *blk)
{
	u64 a = cfs_abs(ch, 0), b = cfs_abs(ch, ch->hdr.nblocks - 1);
	int err = raw_write(fs, a, blk);

	if (!err) {
		((struct cfs_bhdr *)blk)->blkno = b;
		err = raw_write(fs, b, blk);
		((struct cfs_bhdr *)blk)->blkno = a;
		buf_seal(fs, blk);
	}
	return err;
}

int chunk_write_hdr(struct cfs_fs *fs, struct cfs_chunk *ch)
{
	u8 *blk;
	int err;

	if (fs->rdonly)
		return 0;
	if (fs->journal) { /* through the journal, with the next commit */
		ch->hdr_dirty = 1;
		ch->changed = 1;
		return 0;
	}
	blk = host_alloc(fs->bs);
	if (!blk)
		return -CFS_ENOMEM;
	chunk_hdr_image(fs, ch, blk);
	err = chunk_hdr_write(fs, ch, blk);
	if (!err)
		ch->hdr_dirty = 0;
	host_free(blk);
	return err;
}

int chunk_mark_dirty(struct cfs_fs *fs, struct cfs_chunk *ch)
{
	int err;

	if (fs->journal) { /* the next commit journals the DIRTY header */
		ch->changed = 1;
		return 0;
	}
	if (ch->marked_dirty || fs->rdonly)
		return 0;
	if (ch->hdr.state == CFS_CHUNK_CLEAN)
		ch->hdr.state = CFS_CHUNK_DIRTY;
	err = chunk_write_hdr(fs, ch);
	if (!err)
		err = fs->dev->ops->flush(fs->dev);
	if (!err)
		ch->marked_dirty = 1;
	return err;
}

/* A chunk just turned suspect (under the lock): the event, and what the
 * errors= policy asks for (a repair queued, or read-only at the end of the
 * operation). */
static void events_suspect(struct cfs_fs *fs, struct cfs_chunk *ch, const char *why)
{
	char msg[96];

	cfs_format(msg, sizeof(msg), "chunk %u marked suspect: %s", ch->index,
		   why);
	fs_event(fs, CHUNKFS_EV_ERROR, CHUNKFS_E_SUSPECT, ch->index, 0, msg);
	if (fs->errors_policy == CHUNKFS_ERRORS_REMOUNT_RO && !fs->rdonly) {
		/* applied at the end of the operation (errors_remount_ro) */
		fs->ro_pending = ch->index + 1;
	} else if (fs->errors_policy == CHUNKFS_ERRORS_REPAIR) {
		ch->repair_pending = 1;
		fs->repair_pending = 1;
	}
}

void chunk_mark_suspect(struct cfs_fs *fs, struct cfs_chunk *ch, const char *why)
{
	if (fs->checking) /* the checker reports problems itself */
		return;
	if (ch->hdr.state == CFS_CHUNK_SUSPECT ||
	    ch->hdr.state == CFS_CHUNK_DAMAGED)
		return;
	ch->hdr.state = CFS_CHUNK_SUSPECT;
	ch->hdr.errors_found++;
	if (fs->journal) { /* with the next commit */
		ch->hdr_dirty = 1;
		ch->changed = 1;
	} else if (!fs->rdonly)
		chunk_write_hdr(fs, ch);
	events_suspect(fs, ch, why); /* logs it; the errors= policy */
}
