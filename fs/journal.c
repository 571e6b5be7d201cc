// SPDX-License-Identifier: GPL-2.0
/*
 * journal.c - a journal per chunk, committed in groups (invariants 7 and 8).
 *
 * Metadata changes collect in the buffer cache (dirty buffers and the
 * in-memory chunk headers) and reach the disk only through a commit, which
 * is atomic for every chunk that takes part and, because all of them commit
 * at one write, across chunks too:
 *
 *   a. flush          file data written since the last commit, and the last
 *                     commit's in-place writes, are durable (ordered mode:
 *                     data before the metadata that points at it; and no
 *                     journal is overwritten before its transaction is in
 *                     place);
 *   b. journal        each taking-part chunk writes its dirty blocks and its
 *                     header, as one transaction, into its own journal area
 *                     (descriptors with a crc per image, then the images);
 *   c. flush
 *   d. commit point   the superblock (both copies) gets commit_group = G and
 *                     the map of the chunks that took part;
 *   e. flush
 *   f. in place       every image is written to its home (checkpoint).
 *
 * A crash before d leaves every chunk as it was at the last commit (its
 * transaction's group is above the superblock's, so replay ignores it); a
 * crash after d is finished by replay, which rewrites the images of the
 * chunks named in the map.  Replay needs nothing but the superblock and the
 * chunk's own journal, so a damaged journal stops only its own chunk.
 *
 * A chunk whose changes do not fit its journal (an operation dirtied more
 * blocks there than the journal holds) is written in place instead, after
 * its header says DIRTY on disk: a crash in that window leaves a chunk that
 * the default fsck run checks (it is not clean) and repairs locally.
 *
 * Blocks freed since the last commit must not be overwritten with file data
 * before the commit that frees them (the committed state may still point at
 * them): alloc.c keeps them out of data allocations through the chunk's
 * pending-free map (chunk->pfree), cleared here after each commit.  Metadata
 * may reuse them at once: it reaches the disk only through a later commit.
 */
#include "internal.h"

/* Descriptor entries: cfs_jentry, or with METAGEN cfs_jentry2 (both homes
 * of a copied block: FORMAT.md 16.8). */
static u32 jent_size(const struct cfs_fs *fs)
{
	return fs->metagen ? (u32)sizeof(struct cfs_jentry2) :
			     (u32)sizeof(struct cfs_jentry);
}

static u32 per_desc(const struct cfs_fs *fs)
{
	return (fs->bs - (u32)sizeof(struct cfs_jdesc)) / jent_size(fs);
}

static void jent_put(const struct cfs_fs *fs, u8 *ents, u32 i, u32 local,
		     u32 local2, u32 crc)
{
	if (fs->metagen) {
		struct cfs_jentry2 *e = (struct cfs_jentry2 *)ents + i;

		e->local = local;
		e->local2 = local2;
		e->crc = crc;
		e->flags = 0;
	} else {
		struct cfs_jentry *e = (struct cfs_jentry *)ents + i;

		e->local = local;
		e->crc = crc;
	}
}

/* An entry in memory, whatever its size on disk. */
struct jent {
	u32 local, local2, crc;
};

static struct jent jent_get(const struct cfs_fs *fs, const u8 *ents, u32 i)
{
	if (fs->metagen) {
		const struct cfs_jentry2 *e = (const struct cfs_jentry2 *)ents + i;

		return (struct jent){ e->local, e->local2, e->crc };
	}
	return (struct jent){ ((const struct cfs_jentry *)ents)[i].local, 0,
			      ((const struct cfs_jentry *)ents)[i].crc };
}

static u32 ndesc_for(const struct cfs_fs *fs, u32 nimages)
{
	u32 per = per_desc(fs);

	return nimages ? (nimages + per - 1) / per : 1;
}

/* The journal is used in two halves: the transaction of commit group G
 * goes to half G % 2, so writing the next group's transaction never touches
 * the one the superblock may still name. */
static u32 half_blocks(const struct cfs_chunk *ch)
{
	return ch->hdr.journal_blocks / 2;
}

static u64 half_start(const struct cfs_chunk *ch, u64 group)
{
	return cfs_abs(ch, ch->hdr.journal_start) +
	       (group & 1) * half_blocks(ch);
}

/* Most images one transaction of this chunk can hold. */
u32 journal_capacity(const struct cfs_fs *fs, const struct cfs_chunk *ch)
{
	u32 hb = half_blocks(ch);

	if (hb < 2)
		return 0;
	return hb - ndesc_for(fs, hb);
}

static int dev_write(struct cfs_fs *fs, u64 blkno, const u8 *data)
{
	return fs->dev->ops->write(fs->dev, blkno << fs->bshift, data, fs->bs);
}

static int dev_flush(struct cfs_fs *fs)
{
	fs->jstat.flushes++;
	return fs->dev->ops->flush(fs->dev);
}

/* ---- commit ---- */

/* Sort dirty buffers by (chunk, block): a shell sort, no libc here. */
static int buf_before(const struct cfs_buf *a, const struct cfs_buf *b)
{
	if (a->chunk != b->chunk)
		return a->chunk < b->chunk;
	return a->blkno < b->blkno;
}

static void sort_bufs(struct cfs_buf **v, u64 n)
{
	u64 gap, i, j;

	for (gap = n / 2; gap; gap /= 2) {
		for (i = gap; i < n; i++) {
			struct cfs_buf *t = v[i];

			for (j = i; j >= gap && buf_before(t, v[j - gap]);
			     j -= gap)
				v[j] = v[j - gap];
			v[j] = t;
		}
	}
}

/* Write one chunk's transaction into its journal (step b). */
static int write_tx(struct cfs_fs *fs, struct cfs_chunk *ch, u64 group,
		    struct cfs_buf **bufs, u32 n, u8 *hdrblk, u8 *desc)
{
	u32 nimg = n + 1, nd = ndesc_for(fs, nimg), per = per_desc(fs);
	u64 j0 = half_start(ch, group);
	u32 d, i;
	int err;

	for (d = 0; d < nd; d++) {
		struct cfs_jdesc *jd = (struct cfs_jdesc *)desc;
		u8 *e = desc + sizeof(*jd);
		u32 first = d * per, cnt = CFS_MIN(per, nimg - first);

		cfs_memset(desc, 0, fs->bs);
		buf_init_hdr(fs->g, desc, j0 + d, ch->index, CFS_MAGIC_JOURNAL);
		jd->group = group;
		jd->seq = d;
		jd->ndesc = nd;
		jd->nimages = nimg;
		jd->nentries = cnt;
		for (i = 0; i < cnt; i++) {
			u32 k = first + i;

			if (k == 0) {
				jent_put(fs, e, i, 0, 0,
					 host_crc32(0, hdrblk, fs->bs));
			} else {
				struct cfs_buf *b = bufs[k - 1];

				jent_put(fs, e, i, (u32)(b->blkno - ch->start),
					 b->blkno2 ? (u32)(b->blkno2 - ch->start)
						   : 0,
					 host_crc32(0, b->data, fs->bs));
			}
		}
		buf_seal(fs, desc);
		err = dev_write(fs, j0 + d, desc);
		if (err)
			return err;
	}
	err = dev_write(fs, j0 + nd, hdrblk);
	for (i = 0; !err && i < n; i++)
		err = dev_write(fs, j0 + nd + 1 + i, bufs[i]->data);
	fs->jstat.journal_writes += nd + nimg;
	return err;
}

/* Write the superblock with the commit point (step d). */
static int write_commit_point(struct cfs_fs *fs, u64 group,
			      struct cfs_chunk **parts, u32 nparts)
{
	u32 i, cap = (fs->bs - CFS_JMAP_OFF) * 8;

	fs->sb.commit_group = group;
	fs->sb.jmap_off = CFS_JMAP_OFF;
	fs->sb.jmap_bits = fs->nchunks <= cap ? fs->nchunks : 0;
	cfs_memset(fs->jmap, 0, fs->bs - CFS_JMAP_OFF);
	for (i = 0; i < nparts && fs->sb.jmap_bits; i++)
		fs->jmap[parts[i]->index / 8] |=
			(u8)(1u << (parts[i]->index % 8));
	return super_write(fs);
}

/* Does chunk ch take part in this commit, and with which header state? */
static int takes_part(struct cfs_chunk *ch, int final)
{
	if (ch->ndirty || ch->hdr_dirty || ch->changed) {
		if (ch->hdr.state == CFS_CHUNK_CLEAN && !ch->keep_state) {
			ch->hdr.state = CFS_CHUNK_DIRTY;
			ch->marked_dirty = 1;
		}
		if (final && ch->marked_dirty &&
		    ch->hdr.state == CFS_CHUNK_DIRTY) {
			ch->hdr.state = CFS_CHUNK_CLEAN;
			ch->marked_dirty = 0;
		}
		return 1;
	}
	/* idle since the last commit: marked clean again */
	if (ch->marked_dirty && ch->hdr.state == CFS_CHUNK_DIRTY) {
		ch->hdr.state = CFS_CHUNK_CLEAN;
		ch->marked_dirty = 0;
		return 1;
	}
	return 0;
}

/* A chunk whose transaction does not fit its journal: header DIRTY in
 * place first, then its blocks, written in place (see the top comment). */
static int write_in_place(struct cfs_fs *fs, struct cfs_chunk *ch,
			  struct cfs_buf **bufs, u32 n, u8 *hdrblk)
{
	u32 st = ch->hdr.state, i;
	int err;

	host_log(CFS_LOG_WARN, "chunk %u: %u changed blocks do not fit its "
		 "journal (%u); written in place, chunk left dirty", ch->index,
		 n + 1, journal_capacity(fs, ch));
	fs->jstat.overflows++;
	if (st == CFS_CHUNK_CLEAN)
		ch->hdr.state = CFS_CHUNK_DIRTY;
	chunk_hdr_image(fs, ch, hdrblk);
	err = chunk_hdr_write(fs, ch, hdrblk);
	if (!err)
		err = dev_flush(fs);
	for (i = 0; !err && i < n; i++)
		err = buf_write_copies(fs, bufs[i]->data, bufs[i]->blkno,
				       bufs[i]->blkno2);
	/* stays DIRTY on disk until a commit finds it idle */
	ch->marked_dirty = 1;
	ch->hdr.state = CFS_CHUNK_DIRTY;
	return err;
}

int journal_commit(struct cfs_fs *fs, int final)
{
	struct cfs_buf **bufs = NULL;
	struct cfs_chunk **parts = NULL;
	u8 *hb = NULL, *desc = NULL;
	u64 nb = 0, i, group = fs->sb.commit_group + 1;
	u32 nparts = 0, p;
	int err = 0;

	if (fs->rdonly || !fs->journal)
		return 0;
	/* the chunks taking part */
	parts = host_alloc((u64)fs->nchunks * sizeof(*parts) + 8);
	if (!parts)
		return -CFS_ENOMEM;
	fs->cseq++;
	for (p = 0; p < fs->nchunks; p++) {
		struct cfs_chunk *ch = fs->chunks[p];

		if (ch && takes_part(ch, final)) {
			parts[nparts++] = ch;
			ch->cgen = fs->cseq; /* its blocks change on disk */
		}
	}
	if (!nparts) {
		host_free(parts);
		return dev_flush(fs); /* fsync of data alone */
	}
	bufs = host_alloc(fs->ndirty * sizeof(*bufs) + 8);
	hb = host_alloc(fs->bs);      /* a chunk header image */
	desc = host_alloc(fs->bs);
	if (!bufs || !hb || !desc) {
		err = -CFS_ENOMEM;
		goto out;
	}
	for (i = 0; i <= fs->bhash_mask; i++) {
		struct cfs_buf *b;

		for (b = fs->bhash[i]; b; b = b->hnext)
			if (b->dirty && nb < fs->ndirty)
				bufs[nb++] = b;
	}
	sort_bufs(bufs, nb);
	for (i = 0; i < nb; i++)
		buf_seal(fs, bufs[i]->data);
	/* a: data and the last checkpoint are durable */
	err = dev_flush(fs);
	/* b: one transaction per chunk, or in place when it does not fit */
	for (p = 0, i = 0; !err && p < nparts; p++) {
		struct cfs_chunk *ch = parts[p];
		u64 first;
		u32 n;

		while (i < nb && bufs[i]->chunk < ch->index)
			i++; /* (superblock-less buffers: none are dirty) */
		first = i;
		while (i < nb && bufs[i]->chunk == ch->index)
			i++;
		n = (u32)(i - first);
		if (n + 1 > journal_capacity(fs, ch)) {
			err = write_in_place(fs, ch, bufs + first, n, hb);
			parts[p] = NULL; /* not in the map, not checkpointed */
			continue;
		}
		chunk_hdr_image(fs, ch, hb);
		err = write_tx(fs, ch, group, bufs + first, n, hb, desc);
	}
	/* c, d, e */
	if (!err)
		err = dev_flush(fs);
	if (!err) {
		u32 k = 0;

		for (p = 0; p < nparts; p++)
			if (parts[p])
				parts[k++] = parts[p];
		err = write_commit_point(fs, group, parts, k);
		if (!err)
			err = dev_flush(fs);
		nparts = k;
	}
	if (err)
		goto out;
	fs->jstat.commits++;
	fs->gen = group + 1; /* what is modified now goes with the next */
	/* f: in place */
	for (p = 0; p < nparts; p++) {
		struct cfs_chunk *ch = parts[p];

		chunk_hdr_image(fs, ch, hb);
		err = chunk_hdr_write(fs, ch, hb);
		if (err)
			goto out;
	}
	for (i = 0; i < nb; i++) {
		err = buf_write_copies(fs, bufs[i]->data, bufs[i]->blkno,
				       bufs[i]->blkno2);
		if (err)
			goto out;
		buf_clean(fs, bufs[i]);
	}
	for (p = 0; p < fs->nchunks; p++) {
		struct cfs_chunk *ch = fs->chunks[p];

		if (!ch)
			continue;
		ch->hdr_dirty = 0;
		ch->changed = 0;
		ch->keep_state = 0;
		if (ch->pfree)
			cfs_memset(ch->pfree, 0, (ch->hdr.nblocks + 7) / 8);
		if (ch->pnew) /* committed: mapped now (copy on write) */
			cfs_memset(ch->pnew, 0, (ch->hdr.nblocks + 7) / 8);
		if (ch->pzero) /* committed: unwritten now */
			cfs_memset(ch->pzero, 0, (ch->hdr.nblocks + 7) / 8);
		ch->npfree = 0;
	}
	fs->jbig = 0;
	fs->npfree = 0;
	events_free_check(fs);
out:
	if (err)
		host_log(CFS_LOG_ERR, "journal commit %llu failed: error %d",
			 (unsigned long long)group, err);
	host_free(bufs);
	host_free(parts);
	host_free(hb);
	host_free(desc);
	return err;
}

/* Should the operation that just ended be followed by a commit?  When a
 * chunk's changes approach its journal's size or the cache fills with
 * dirty buffers (they cannot be evicted before they are committed), and
 * on a synchronous mount after an operation that changed something (an
 * access time alone waits, as ext4's). */
int journal_wants_commit(struct cfs_fs *fs)
{
	if (!fs->journal)
		return 0;
	return fs->jbig || fs->ndirty > fs->maxbufs / 2 ||
	       (fs->sync_mode && fs->ndirty && fs->op_writes);
}

/* Between two rounds of a long operation (a punch, truncate or zero range
 * over many extents, a big write, the freeing of a huge file): each round
 * leaves the filesystem whole (the caller wrote its inodes), so when a
 * chunk's changes fill half its journal the rounds so far are committed
 * here, and no transaction outgrows its journal (the in-place path stays
 * for what no split can help: one round bigger than half a journal). */
int journal_split(struct cfs_fs *fs)
{
	if (!fs->journal || fs->rdonly || !fs->jbig)
		return 0;
	fs->jstat.splits++;
	return journal_commit(fs, 0);
}

void cfs_journal_stats(struct cfs_fs *fs, struct cfs_journal_stats *out)
{
	host_mutex_lock(fs->lock);
	*out = fs->jstat;
	host_mutex_unlock(fs->lock);
}

int cfs_journal_info(struct cfs_fs *fs, struct chunkfs_journal *j)
{
	struct cfs_journal_stats js;

	cfs_journal_stats(fs, &js);
	cfs_memset(j, 0, sizeof(*j));
	j->commits = js.commits;
	j->splits = js.splits;
	j->overflows = js.overflows;
	j->flushes = js.flushes;
	j->journal_writes = js.journal_writes;
	j->replayed_chunks = js.replayed_chunks;
	j->replayed_blocks = js.replayed_blocks;
	j->replay_failed = js.replay_failed;
	return 0;
}

/* ---- replay ---- */

/*
 * Replay chunk ch's journal: its transaction of the superblock's commit
 * group, in half commit_group % 2.  `named`: the superblock's map names the
 * chunk, so that transaction must be there (without a map every chunk is
 * looked at, and a chunk that did not take part simply has none).  inmem:
 * install the images in the buffer cache (pinned) instead of writing them
 * (read-only mounts and fsck -n).  Returns the number of images replayed, 0
 * if there was nothing to replay, or -CFS_EUCLEAN if the transaction cannot
 * be read whole (nothing is applied then; the chunk is for fsck).
 */
int journal_replay(struct cfs_fs *fs, struct cfs_chunk *ch, int named,
		   int inmem)
{
	u32 hb = half_blocks(ch), per = per_desc(fs), nd, nimg, d, i;
	u64 group = fs->sb.commit_group, j0 = half_start(ch, group);
	u8 *ent = NULL;
	struct cfs_jdesc *jd;
	u8 *blk, *imgs = NULL;
	const char *why = NULL;
	int err = 0;

	if (!group || hb < 2)
		return 0;
	blk = host_alloc(fs->bs);
	if (!blk)
		return -CFS_ENOMEM;
	jd = (struct cfs_jdesc *)blk;
	if (fs->dev->ops->read(fs->dev, j0 << fs->bshift, blk, fs->bs)) {
		why = "journal unreadable";
		goto bad;
	}
	if (buf_verify(fs, blk, j0, ch->index, CFS_MAGIC_JOURNAL, &why) ||
	    jd->group != group) {
		if (!named)
			goto none;
		if (!why)
			why = "journal does not hold the committed transaction";
		goto bad;
	}
	nd = jd->ndesc;
	nimg = jd->nimages;
	if (!nd || !nimg || nd != ndesc_for(fs, nimg) || nd + nimg > hb) {
		why = "journal descriptor out of range";
		goto bad;
	}
	ent = host_alloc((u64)nimg * jent_size(fs));
	imgs = host_alloc((u64)nimg * fs->bs);
	if (!ent || !imgs) {
		err = -CFS_ENOMEM;
		goto out;
	}
	for (d = 0; d < nd; d++) {
		u32 cnt;

		if (d && fs->dev->ops->read(fs->dev, (j0 + d) << fs->bshift,
					    blk, fs->bs)) {
			why = "journal unreadable";
			goto bad;
		}
		if (d && buf_verify(fs, blk, j0 + d, ch->index,
				    CFS_MAGIC_JOURNAL, &why))
			goto bad;
		cnt = CFS_MIN(per, nimg - d * per);
		if (jd->group != group || jd->seq != d || jd->nentries != cnt) {
			why = "journal descriptors disagree";
			goto bad;
		}
		cfs_memcpy(ent + (u64)d * per * jent_size(fs),
			   blk + sizeof(*jd), (u64)cnt * jent_size(fs));
	}
	for (i = 0; i < nimg; i++) {
		u8 *img = imgs + (u64)i * fs->bs;
		struct jent e = jent_get(fs, ent, i);
		u32 l = e.local, l2 = e.local2;

		if ((i == 0) != (l == 0) || l >= ch->hdr.nblocks - 1 ||
		    (l >= ch->hdr.journal_start &&
		     l < ch->hdr.journal_start + ch->hdr.journal_blocks) ||
		    (l2 && (!i || l2 >= ch->hdr.nblocks - 1 ||
			    (l2 >= ch->hdr.journal_start &&
			     l2 < ch->hdr.journal_start +
			     ch->hdr.journal_blocks)))) {
			why = "journal entry names a block outside the chunk";
			goto bad;
		}
		if (fs->dev->ops->read(fs->dev, (j0 + nd + i) << fs->bshift,
				       img, fs->bs) ||
		    host_crc32(0, img, fs->bs) != e.crc) {
			why = "journal image damaged";
			goto bad;
		}
	}
	/* everything verified: apply */
	for (i = 1; i < nimg; i++) {
		u8 *img = imgs + (u64)i * fs->bs;
		struct jent e = jent_get(fs, ent, i);

		if (inmem)
			err = buf_install(fs, ch, e.local, e.local2, img);
		else
			err = buf_write_copies(fs, img, cfs_abs(ch, e.local),
					       e.local2 ? cfs_abs(ch, e.local2) : 0);
		if (err)
			goto out;
	}
	if (!inmem) {
		err = chunk_hdr_write(fs, ch, imgs);
		if (err)
			goto out;
	}
	chunk_hdr_load(fs, ch, imgs);
	ch->hdr_bad = 0;
	ch->hdr_stale = 0;
	ch->replayed = 1;
	fs->jstat.replayed_chunks++;
	fs->jstat.replayed_blocks += nimg;
	err = (int)nimg;
	goto out;
bad:
	{
		char msg[96];

		cfs_format(msg, sizeof(msg), "chunk %u: %s; journal not "
			   "replayed, chunk needs fsck", ch->index, why);
		if (fs->checking_offline)
			host_log(CFS_LOG_ERR, "%s", msg);
		else
			fs_event(fs, CHUNKFS_EV_ERROR, CHUNKFS_E_JOURNAL,
				 ch->index, 0, msg);
	}
	fs->jstat.replay_failed++;
	err = -CFS_EUCLEAN;
	goto out;
none:
	err = 0;
out:
	host_free(blk);
	host_free(ent);
	host_free(imgs);
	return err;
}

/* An empty map (the superblock's journal map names no chunk): nothing to
 * replay.  Without room for a map (jmap_bits 0), a clean superblock state
 * says the same. */
void journal_map_clear(struct cfs_fs *fs)
{
	u32 cap = (fs->bs - CFS_JMAP_OFF) * 8;

	cfs_memset(fs->jmap, 0, fs->bs - CFS_JMAP_OFF);
	fs->sb.jmap_bits = fs->nchunks <= cap ? fs->nchunks : 0;
}

/* Is chunk k named in the superblock's map (or is there no map)? */
int journal_in_map(struct cfs_fs *fs, u32 k)
{
	if (!fs->sb.commit_group || fs->sb.state == CFS_FS_CLEAN)
		return 0;
	if (!fs->sb.jmap_bits)
		return 1;
	return k < fs->sb.jmap_bits && (fs->jmap[k / 8] >> (k % 8)) & 1;
}

/* After each commit: free space crossing the free_warn level (percent of
 * the data blocks), both ways. */
void events_free_check(struct cfs_fs *fs)
{
	u64 total = 0, avail = 0;
	u32 k;
	int low;
	char msg[96];

	if (!fs->free_warn)
		return;
	for (k = 0; k < fs->nchunks; k++) {
		struct cfs_chunk *ch = chunk_get(fs, k);

		if (!ch)
			return;
		total += ch->hdr.nblocks - ch->hdr.data_start - 1;
		avail += ch->hdr.free_blocks;
	}
	if (!total)
		return;
	low = avail * 100 < total * fs->free_warn;
	if (low == fs->free_low)
		return;
	fs->free_low = low;
	cfs_format(msg, sizeof(msg), "free space %s %u%%: %llu of %llu blocks "
		   "free", low ? "below" : "back above", fs->free_warn,
		   avail, total);
	fs_event(fs, CHUNKFS_EV_THRESHOLD,
		 low ? CHUNKFS_E_FREE_LOW : CHUNKFS_E_FREE_OK,
		 CHUNKFS_NO_CHUNK, 0, msg);
}
