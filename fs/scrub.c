// SPDX-License-Identifier: GPL-2.0
/*
 * scrub.c - the checker run online: one chunk checked (and repaired) while
 * the filesystem stays mounted, with the very code fsck.chunkfs runs
 * (check.c and its passes), and the health query.
 *
 * A healthy chunk is checked without the filesystem lock (first_look, on
 * a private read-only instance of the device): operations go on.  Only
 * when that look finds something does the scrub check again holding the
 * lock, for the time of one chunk's check (and its repair): operations
 * wait for it (bounded), nothing fails.  Before the check, everything is committed
 * and the chunk's cached blocks are dropped, so the check reads what is on
 * the disk (damage that happened under the mount included), and the
 * chunk's cached inodes are reloaded from it; the peers' link indexes are
 * read live, through the cache.  A repair goes through
 * the journal like any change (one commit), and the cached inodes of the
 * chunk are reloaded from the repaired table, so what users see next is
 * the repaired state.
 */
#include "internal.h"
#include "check.h"

/* Drop every cached, unreferenced, clean block of chunk k. */
static void drop_chunk_bufs(struct cfs_fs *fs, u32 k)
{
	u32 i;

	for (i = 0; i <= fs->bhash_mask; i++) {
		struct cfs_buf *b = fs->bhash[i];

		while (b) {
			struct cfs_buf *next = b->hnext;

			if (b->chunk == k && !b->refs && !b->dirty)
				buf_drop(fs, b);
			b = next;
		}
	}
}

/* Cached inodes of chunk k: reload what the repair may have changed. */
static void reload_inodes(struct cfs_fs *fs, u32 k)
{
	u32 i;

	for (i = 0; i <= fs->ihash_mask; i++) {
		struct cfs_inode *ip;

		for (ip = fs->ihash[i]; ip; ip = ip->hnext)
			if (CFS_CHUNK_OF(ip->ino) == k)
				inode_reload(fs, ip);
	}
}

/*
 * The first look, without the filesystem lock: fsck's check of the chunk
 * on a private read-only instance of the device, which holds what the last
 * commit left (cfs_scrub commits just before).  Operations go on
 * meanwhile; the chunk's blocks they commit meanwhile can make this look
 * see a mix of two commits, so it only ever clears a chunk: anything it
 * finds (or cannot tell) is decided by the check under the lock.
 * Returns 1 if the chunk was found clean.
 */
static int first_look(struct cfs_fs *fs, u32 k, struct cfs_check_result *r,
		      u64 *reads)
{
	struct cfs_fs *priv;
	const char *why;
	int clean;

	if (cfs_mount_check(fs->dev, CFS_MOUNT_RDONLY, &priv, &why))
		return 0;
	clean = !cfs_check_chunk(priv, k, CFS_CHECK_NOFIX, NULL, NULL, r) &&
		!r->found && !r->fatal;
	*reads = priv->nreads;
	cfs_unmount(priv);
	return clean;
}

/* A chunk found clean: state CLEAN, verified now (with the next commit). */
static void record_verified(struct cfs_fs *fs, struct cfs_chunk *ch)
{
	s64 sec;
	u32 ns;

	ch->repair_pending = 0;
	if (fs->rdonly)
		return;
	host_now(&sec, &ns);
	ch->hdr.state = CFS_CHUNK_CLEAN;
	ch->hdr.verified_gen = fs->sb.mount_count;
	ch->hdr.verified_time = sec;
	ch->marked_dirty = 0;
	ch->keep_state = 1;
	ch->hdr_dirty = 1;
	ch->changed = 1;
}

static u64 ns_since(s64 s0, u32 n0)
{
	s64 s1;
	u32 n1;

	host_now(&s1, &n1);
	return (u64)((s1 - s0) * 1000000000LL + (s64)n1 - (s64)n0);
}

int cfs_scrub(struct cfs_fs *fs, struct chunkfs_scrub *s)
{
	struct cfs_check_result res;
	struct cfs_chunk *ch;
	int repair = !!(s->flags & CHUNKFS_SCRUB_REPAIR), err;
	s64 t0s, tls;
	u64 reads0;
	u32 t0n, tln;
	char msg[96];

	s->found = s->fixed = s->lost_found = s->peers = 0;
	s->duration_ns = s->blocks_read = s->locked_ns = 0;
	host_now(&t0s, &t0n);
	host_mutex_lock(fs->lock);
	ch = chunk_get(fs, s->chunk);
	if (!ch) {
		host_mutex_unlock(fs->lock);
		return -CFS_EINVAL;
	}
	if (repair && fs->rdonly) {
		host_mutex_unlock(fs->lock);
		return -CFS_EROFS;
	}
	err = journal_commit(fs, 0); /* the disk holds what memory holds */
	host_mutex_unlock(fs->lock);
	if (err)
		return err;
	if (first_look(fs, s->chunk, &res, &s->blocks_read)) {
		/* clean: record it, as the check under the lock would */
		host_now(&tls, &tln);
		host_mutex_lock(fs->lock);
		s->peers = res.peers;
		record_verified(fs, ch);
		s->state = ch->hdr.state;
		cfs_format(msg, sizeof(msg), "chunk %u scrubbed: clean",
			   s->chunk);
		fs_event(fs, CHUNKFS_EV_INFO, CHUNKFS_E_SCRUBBED, s->chunk, 0,
			 msg);
		s->locked_ns = ns_since(tls, tln);
		host_mutex_unlock(fs->lock);
		s->duration_ns = ns_since(t0s, t0n);
		return 0;
	}
	/* problems, or unsure: the check under the lock decides */
	host_now(&tls, &tln);
	host_mutex_lock(fs->lock);
	reads0 = fs->nreads;
	err = journal_commit(fs, 0);
	if (err) {
		host_mutex_unlock(fs->lock);
		return err;
	}
	drop_chunk_bufs(fs, s->chunk);
	fs->checking = 1;
	chunk_reread_hdr(fs, ch); /* damage to the header under us */
	/* the checker reaches inodes through the inode cache: it must see
	 * the disk's copies too (they equal the cache's, unless damaged) */
	reload_inodes(fs, s->chunk);
	err = check_chunk_locked(fs, s->chunk,
				 repair ? CFS_CHECK_FIXALL : CFS_CHECK_NOFIX,
				 NULL, NULL, &res);
	fs->checking = 0;
	if (repair) {
		int e = journal_commit(fs, 0);

		if (!err)
			err = e;
		ch->repair_pending = 0;
	}
	reload_inodes(fs, s->chunk);
	s->found = res.found;
	s->fixed = res.fixed;
	s->lost_found = res.lost_found;
	s->peers = res.peers;
	s->blocks_read += fs->nreads - reads0;
	s->state = ch->hdr.state;
	if (err) {
		cfs_format(msg, sizeof(msg), "chunk %u: scrub could not run "
			   "(error %d)", s->chunk, err);
		fs_event(fs, CHUNKFS_EV_ERROR, CHUNKFS_E_UNREPAIRED, s->chunk,
			 0, msg);
	} else if (!res.found) {
		if (!repair) { /* a repairing check records it itself */
			record_verified(fs, ch);
			s->state = ch->hdr.state;
		}
		cfs_format(msg, sizeof(msg), "chunk %u scrubbed: clean",
			   s->chunk);
		fs_event(fs, CHUNKFS_EV_INFO, CHUNKFS_E_SCRUBBED, s->chunk, 0,
			 msg);
	} else if (!repair) {
		/* for the next repair (scrubd, fsck): not clean */
		if (ch->hdr.state == CFS_CHUNK_CLEAN ||
		    ch->hdr.state == CFS_CHUNK_DIRTY) {
			ch->hdr.state = CFS_CHUNK_SUSPECT;
			if (!fs->rdonly) {
				ch->hdr_dirty = 1;
				ch->changed = 1;
			}
			s->state = ch->hdr.state;
		}
		cfs_format(msg, sizeof(msg), "chunk %u scrubbed: %u problems "
			   "found (check only)", s->chunk, res.found);
		fs_event(fs, CHUNKFS_EV_WARNING, CHUNKFS_E_PROBLEMS, s->chunk,
			 0, msg);
	} else if (res.fixed == res.found) {
		cfs_format(msg, sizeof(msg), "chunk %u repaired: %u problems "
			   "fixed", s->chunk, res.fixed);
		fs_event(fs, CHUNKFS_EV_INFO, CHUNKFS_E_REPAIRED, s->chunk, 0,
			 msg);
	} else {
		cfs_format(msg, sizeof(msg), "chunk %u could not be repaired: "
			   "%u of %u problems fixed", s->chunk, res.fixed,
			   res.found);
		fs_event(fs, CHUNKFS_EV_ERROR, CHUNKFS_E_UNREPAIRED, s->chunk,
			 0, msg);
	}
	s->locked_ns = ns_since(tls, tln);
	host_mutex_unlock(fs->lock);
	s->duration_ns = ns_since(t0s, t0n);
	return err;
}

int cfs_health(struct cfs_fs *fs, struct chunkfs_health *h)
{
	u32 k;

	host_mutex_lock(fs->lock);
	h->count = 0;
	h->nchunks = fs->nchunks;
	h->flags = fs->rdonly ? CHUNKFS_HEALTH_RDONLY : 0;
	h->mount_gen = fs->sb.mount_count;
	h->block_size = fs->bs;
	h->errors_policy = fs->errors_policy;
	for (k = h->first; k < fs->nchunks && h->count < CHUNKFS_HEALTH_MAX;
	     k++) {
		struct cfs_chunk *ch = chunk_get(fs, k);
		struct chunkfs_chunk_health *c = &h->c[h->count];

		if (!ch)
			break;
		cfs_memset(c, 0, sizeof(*c));
		c->chunk = k;
		c->state = ch->hdr.state;
		if (ch->hdr_bad && c->state == CFS_CHUNK_CLEAN)
			c->state = CFS_CHUNK_SUSPECT;
		c->verified_gen = ch->hdr.verified_gen;
		c->verified_time = ch->hdr.verified_time;
		c->errors_found = ch->hdr.errors_found;
		c->errors_fixed = ch->hdr.errors_fixed;
		c->nblocks = ch->hdr.nblocks;
		c->free_blocks = ch->hdr.free_blocks;
		c->ninodes = ch->hdr.ninodes;
		c->free_inodes = ch->hdr.free_inodes;
		h->count++;
	}
	host_mutex_unlock(fs->lock);
	return 0;
}
