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

int dsum_check_inode(struct cfs_fs *fs, struct cfs_chunk *ch,
		     struct cfs_inode *ip, struct dsum_check *dc)
{
	union { struct cfs_dext d; struct cfs_cext c; } v;
	struct dsum_cur cur = { 0 };
	struct cfs_tree t;
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
	tree_of_inode(fs, ip, CFS_TREE_EXTENT, &t);
	while (!err && !bt_find_ge(&t, k, &k, &v, sizeof(v), &len)) {
		u32 n = v.d.len & ~CFS_EXT_UNWRITTEN, i = 0;
		u64 bad0 = 0, badb = 0;
		int inbad = 0;

		if (len != sizeof(v.d) || (v.d.len & CFS_EXT_UNWRITTEN) || !n ||
		    v.d.pblk < ch->hdr.data_start ||
		    (u64)v.d.pblk + n > chunk_data_end(ch)) {
			/* continuation extents, unwritten ones; bad ones are
			 * the metadata passes' */
			k += len == sizeof(v.c) && v.c.len ? v.c.len : 1;
			continue;
		}
		while (i < n && !err) {
			u32 m = CFS_MIN(n - i, per), j;

			if (fs->dev->ops->read(fs->dev, cfs_abs(ch, v.d.pblk + i)
					       << fs->bshift, dc->buf,
					       (u64)m << fs->bshift)) {
				err = -CFS_EIO;
				break;
			}
			for (j = 0; j < m; j++) {
				u32 want;
				int bad;

				err = dsum_get(fs, &cur, ch, v.d.pblk + i + j,
					       &want);
				if (err)
					break;
				bad = dsum_block(fs, dc->buf + ((u64)j <<
						 fs->bshift)) != want;
				dc->nread++;
				if (bad && !inbad) {
					inbad = 1;
					bad0 = k + i + j;
					badb = cfs_abs(ch, v.d.pblk + i + j);
				}
				if (bad)
					dc->nbad++;
				if (!bad && inbad) {
					inbad = 0;
					bad_run(dc, ch->index, ino, bad0,
						k + i + j, badb, fs->bshift);
				}
			}
			i += m;
		}
		if (inbad)
			bad_run(dc, ch->index, ino, bad0, k + i, badb,
				fs->bshift);
		k += n;
	}
	dsum_done(fs, &cur);
	return err;
}
