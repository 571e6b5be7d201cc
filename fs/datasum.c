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
	/* parent pointers (issue 14) will give the path here */
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

int dsum_verify(struct cfs_fs *fs, struct dsum_cur *cur, struct cfs_chunk *ch,
		u32 local, const u8 *data, u64 ino, u64 off)
{
	u32 want;
	int err = dsum_get(fs, cur, ch, local, &want);

	if (err)
		return err;
	if (dsum_block(fs, data) == want)
		return 0;
	dsum_report(fs, ch, ino, off, fs->bs);
	return -CFS_EIO;
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
