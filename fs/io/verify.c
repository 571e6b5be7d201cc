// SPDX-License-Identifier: GPL-2.0
/*
 * verify.c - what every metadata block must be (invariant 5): the block
 * header's fields, filled in for a new block, sealed (crc) before a write
 * and verified after a read.  The verifier says which check failed.
 */
#include "../internal.h"

void buf_init_hdr(const struct cfs_geom *g, u8 *data, u64 blkno, u32 chunk,
		  u32 magic)
{
	struct cfs_bhdr *h = (struct cfs_bhdr *)data;

	h->magic = magic;
	cfs_memcpy(h->uuid, g->uuid, 16);
	h->chunk = chunk;
	h->blkno = blkno;
}

void buf_seal(struct cfs_fs *fs, u8 *data)
{
	struct cfs_bhdr *h = (struct cfs_bhdr *)data;

	if (!fs->metagen) /* METAGEN: wgen is the content's generation */
		h->wgen = fs->wgen;
	h->crc = host_crc32(0, data + 4, fs->bs - 4);
}

int buf_verify(struct cfs_fs *fs, const u8 *data, u64 blkno, u32 chunk,
	       u32 magic, const char **why)
{
	const struct cfs_bhdr *h = (const struct cfs_bhdr *)data;

	if (h->magic != magic) {
		*why = "wrong block type (magic)";
		return -CFS_EUCLEAN;
	}
	if (host_crc32(0, data + 4, fs->bs - 4) != h->crc) {
		*why = "checksum mismatch";
		return -CFS_EUCLEAN;
	}
	if (cfs_memcmp(h->uuid, fs->g->uuid, 16)) {
		*why = "block belongs to another filesystem (uuid)";
		return -CFS_EUCLEAN;
	}
	if (h->chunk != chunk) {
		*why = "block belongs to another chunk";
		return -CFS_EUCLEAN;
	}
	if (h->blkno != blkno) {
		*why = "misdirected block (block number)";
		return -CFS_EUCLEAN;
	}
	return 0;
}
