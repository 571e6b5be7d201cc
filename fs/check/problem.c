// SPDX-License-Identifier: GPL-2.0
/*
 * problem.c - the table of problems the checker finds: stable numeric
 * codes, a short name, a one-line description and the repair policy
 * (CFS_FIX_PREEN: safe, fixed by -p; CFS_FIX_ASK: may lose or move data,
 * fixed only with -y).  docs/PROBLEMS.md is generated from the same list.
 */
#include "check_int.h"

static const struct cfs_problem_desc problems[] = {
	{ PR_SB_PRIMARY, "sb_primary", "primary superblock damaged; restored from its copy", CFS_FIX_PREEN, 0 },
	{ PR_SB_COPY, "sb_copy", "superblock copy damaged; rewritten", CFS_FIX_PREEN, 0 },
	{ PR_SB_REBUILT, "sb_rebuilt", "both superblock copies damaged; rebuilt from a chunk header", CFS_FIX_PREEN, 0 },
	{ PR_HDR_PRIMARY, "hdr_primary", "primary chunk header damaged; restored from its copy", CFS_FIX_PREEN, 0 },
	{ PR_HDR_COPY, "hdr_copy", "chunk header copy damaged or stale; rewritten", CFS_FIX_PREEN, 0 },
	{ PR_HDR_REBUILT, "hdr_rebuilt", "both chunk header copies damaged; rebuilt from the geometry", CFS_FIX_PREEN, 0 },
	{ PR_HDR_GEN, "hdr_gen", "next inode generation behind the inodes in use; advanced", CFS_FIX_PREEN, 0 },
	{ PR_GTAB_BLOCK, "gtab_block", "generation table block unreadable in both copies; made again from the blocks it describes (the newer good copy of each)", CFS_FIX_PREEN, 0 },
	{ PR_CSUM_BLOCK, "csum_block", "data checksum block unreadable in both copies; made again from the data as it is (the data it covers is no longer verified against older checksums)", CFS_FIX_PREEN, 0 },
	{ PR_ITABLE_BLOCK, "itable_block", "inode table block unreadable or corrupt; its inodes are lost", CFS_FIX_ASK, 0 },
	{ PR_INODE_BAD, "inode_bad", "inode with impossible fields; cleared", CFS_FIX_ASK, CFS_BLAST_LOST },
	{ PR_TREE_NODE, "tree_node", "tree node unreadable or corrupt; the subtree is cut", CFS_FIX_ASK, CFS_BLAST_CONTENT },
	{ PR_EXTENT_BAD, "extent_bad", "extent outside the chunk's data area or malformed; removed", CFS_FIX_ASK, CFS_BLAST_CONTENT },
	{ PR_BLOCK_DUP, "block_dup", "block claimed twice; the second claim is removed", CFS_FIX_ASK, CFS_BLAST_CONTENT },
	{ PR_INODE_BLOCKS, "inode_blocks", "inode block count wrong; corrected", CFS_FIX_PREEN, 0 },
	{ PR_XATTR_BAD, "xattr_bad", "extended attribute tree corrupt; attributes dropped", CFS_FIX_ASK, CFS_BLAST_ATTRS },
	{ PR_CONT_BAD, "cont_bad", "continuation inode with an impossible back link; cleared", CFS_FIX_ASK, CFS_BLAST_CONTENT },
	{ PR_DIRENT_INO, "dirent_ino", "directory entry names a free or invalid inode; removed", CFS_FIX_PREEN, 0 },
	{ PR_DIRENT_NAME, "dirent_name", "directory entry with an invalid name; removed", CFS_FIX_ASK, CFS_BLAST_NAMES },
	{ PR_DIRENT_TYPE, "dirent_type", "directory entry file type wrong; corrected", CFS_FIX_PREEN, 0 },
	{ PR_DIRENT_HASH, "dirent_hash", "directory entry stored under the wrong hash; moved", CFS_FIX_PREEN, 0 },
	{ PR_DIR_ITEM, "dir_item", "directory item unparseable; its entries are dropped", CFS_FIX_ASK, CFS_BLAST_NAMES },
	{ PR_DIRENT_DUP, "dirent_dup", "duplicate name in a directory; one entry removed", CFS_FIX_ASK, CFS_BLAST_NAMES },
	{ PR_DIR_PARENT, "dir_parent", "directory's parent pointer wrong; corrected", CFS_FIX_PREEN, 0 },
	{ PR_DIR_MULTI, "dir_multi", "directory with more than one name; extra entries removed", CFS_FIX_ASK, 0 },
	{ PR_DIR_FWD_BAD, "dir_fwd_bad", "directory forward link malformed; removed", CFS_FIX_ASK, 0 },
	{ PR_NLINK, "nlink", "inode link count wrong; corrected", CFS_FIX_PREEN, 0 },
	{ PR_ORPHAN, "orphan", "inode with data but no name; moved to lost+found", CFS_FIX_ASK, CFS_BLAST_MOVED },
	{ PR_ORPHAN_EMPTY, "orphan_empty", "unreferenced empty inode; freed", CFS_FIX_PREEN, 0 },
	{ PR_DIR_NLINK, "dir_nlink", "directory link count wrong; corrected", CFS_FIX_PREEN, 0 },
	{ PR_ROOT_GONE, "root_gone", "root directory missing or not a directory; recreated empty", CFS_FIX_ASK, CFS_BLAST_RECREATED },
	{ PR_LF_GONE, "lf_gone", "/lost+found missing; recreated", CFS_FIX_PREEN, 0 },
	{ PR_LOST_FOUND, "lost_found", "cannot create lost+found for this chunk", CFS_FIX_ASK, 0 },
	{ PR_BBMAP, "bbmap", "block bitmap differs from the blocks in use; rewritten", CFS_FIX_PREEN, 0 },
	{ PR_IBMAP, "ibmap", "inode bitmap differs from the inodes in use; rewritten", CFS_FIX_PREEN, 0 },
	{ PR_FREE_COUNTS, "free_counts", "free block or inode count wrong; corrected", CFS_FIX_PREEN, 0 },
	{ PR_BITMAP_BLOCK, "bitmap_block", "bitmap block unreadable or corrupt; rebuilt", CFS_FIX_PREEN, 0 },
	{ PR_INDEX_WRONG, "index_wrong", "link index disagrees with the links the inodes hold; rebuilt", CFS_FIX_PREEN, 0 },
	{ PR_INDEX_BAD, "index_bad", "link index tree corrupt; rebuilt", CFS_FIX_PREEN, 0 },
	{ PR_FWD_BROKEN, "fwd_broken", "forward link to a missing or mismatched continuation; cut back", CFS_FIX_ASK, CFS_BLAST_CONTENT },
	{ PR_CONT_ORPHAN, "cont_orphan", "continuation whose origin is gone; moved to lost+found or freed", CFS_FIX_ASK, CFS_BLAST_MOVED },
	{ PR_PEER_INDEX, "peer_index", "peer chunk's link index entry into this chunk wrong; fixed", CFS_FIX_PREEN, 0 },
	{ PR_CONT_NLINK, "cont_nlink", "continuation reference count wrong; corrected", CFS_FIX_PREEN, 0 },
	{ PR_PEER_CHECK, "peer_check", "a peer chunk holds a broken link into this chunk; check that chunk", CFS_FIX_PREEN, 0 },
	{ PR_BACK_FIXED, "back_fixed", "continuation's back link damaged but its origin's forward link names it; back link corrected", CFS_FIX_PREEN, 0 },
	{ PR_FIX_FAILED, "fix_failed", "a repair failed (I/O error or no space)", CFS_FIX_ASK, 0 },
	{ PR_PPTR_NAME, "pptr_name", "inode's name missing from its directory; restored from the inode's parent pointer", CFS_FIX_PREEN, 0 },
	{ PR_PPTR_WRONG, "pptr_wrong", "parent pointers disagree with the directory entries; rewritten from the entries", CFS_FIX_PREEN, 0 },
	{ PR_PPTR_TREE, "pptr_tree", "parent pointer tree unreadable; rebuilt from the directory entries", CFS_FIX_PREEN, 0 },
	{ PR_NBAK, "nbak", "name backup in the next chunk differs from the parent pointers; rewritten", CFS_FIX_PREEN, 0 },
	{ PR_NBAK_HELD, "nbak_held", "name backup held for the chunk before unreadable; rebuilt from its parent pointers", CFS_FIX_PREEN, 0 },
	{ PR_FWD_RESTORED, "fwd_restored", "directory's forward link to its continuation lost, but the link index and the continuation's back link agree; written again", CFS_FIX_PREEN, 0 },
	{ PR_RESURRECTED, "resurrected", "directory lost with its inode; recreated at its number under its old name from its parent pointer backup and its continuations (its times are new)", CFS_FIX_ASK, CFS_BLAST_RECREATED },
	{ PR_LOST_FILE, "lost_file", "file lost with its inode (its name is known from the parent pointer backup)", CFS_FIX_ASK, CFS_BLAST_LOST },
	{ PR_LOST_DATA, "lost_data", "file's data in this chunk lost with it (the range becomes a hole)", CFS_FIX_ASK, CFS_BLAST_CONTENT },
	{ PR_DIR_PART_LOST, "dir_part_lost", "directory's entries in this chunk lost with it (the names of files lost here)", CFS_FIX_ASK, CFS_BLAST_NAMES },
	{ PR_CONT_REMADE, "cont_remade", "directory continuation lost with its inode; recreated at its number for the names that come back to it", CFS_FIX_PREEN, 0 },
	{ PR_LOST_XATTR, "lost_xattr", "inode's extended attributes in another chunk (its xattr continuation) lost; the link to them cut, the inode and its other attributes kept", CFS_FIX_ASK, CFS_BLAST_ATTRS },
	{ PR_COPY_BAD, "copy_bad", "a copy of a metadata block is bad (unreadable, corrupt, misdirected or stale); rewritten from its good copy (a corrected error, not a problem)", CFS_FIX_PREEN, 0 },
	{ CFS_PROBLEM_DATA_SUM, "data_checksum", "file data does not match its checksum: the bytes are lost (read gets EIO); restore the file from a backup", CFS_FIX_ASK, CFS_BLAST_CONTENT },
};

const struct cfs_problem_desc *cfs_problem(u32 code)
{
	u32 i;

	for (i = 0; i < CFS_ARRAY_SIZE(problems); i++)
		if (problems[i].code == code)
			return &problems[i];
	return NULL;
}

const char *cfs_blast_name(u32 blast)
{
	static const char *const names[] = {
		"", "lost", "content", "names", "attributes", "recreated",
		"lost+found",
	};

	return blast < CFS_ARRAY_SIZE(names) ? names[blast] : "";
}

const struct cfs_problem_desc *cfs_problem_table(u32 *n)
{
	*n = CFS_ARRAY_SIZE(problems);
	return problems;
}
