// SPDX-License-Identifier: GPL-2.0
/*
 * problem_line.c - one problem of the checker as a line of text, the same
 * for fsck.chunkfs and `chunkfs scrub` (which gets the problems of an
 * online check as events):
 *
 *   chunk 3: inode 12884901890 (3:2) PATH, block 77: DESC [DETAIL] -- fixed
 *
 * PATH is the file's path where the caller knows it (NULL: left out); a
 * lookup of a path from an inode number (parent pointers, format v2) is
 * to be called here, in this one place.
 */
#include <stdio.h>
#include <string.h>

#include "../check.h"
#include "user.h"

void cfs_problem_line(char *buf, unsigned long size, int is_super, u32 chunk,
		      u64 ino, u64 blk, u32 code, const char *detail,
		      int fixed, const char *path)
{
	const struct cfs_problem_desc *d = cfs_problem(code);
	size_t o = 0;

#define ADD(...) do { \
		int n_ = snprintf(o < size ? buf + o : NULL, \
				  o < size ? size - o : 0, __VA_ARGS__); \
		if (n_ > 0) \
			o += (size_t)n_; \
	} while (0)
	if (!size)
		return;
	buf[0] = 0;
	if (is_super)
		ADD("superblock: ");
	else
		ADD("chunk %u: ", chunk);
	if (ino) {
		ADD("inode %llu (%llu:%llu)", (unsigned long long)ino,
		    (unsigned long long)(ino >> 32),
		    (unsigned long long)(ino & 0xffffffffu));
		if (path)
			ADD(" %s", path);
		ADD("%s", blk ? ", " : ": ");
	}
	if (blk)
		ADD("block %llu: ", (unsigned long long)blk);
	if (d)
		ADD("%s", d->desc);
	else
		ADD("unknown problem %u", code);
	if (detail && detail[0])
		ADD(" [%s]", detail);
	if (code == CFS_PROBLEM_COPY_BAD) /* format v2: a corrected error */
		ADD(" -- %s", fixed ? "healed" : "not healed (read-only)");
	else
		ADD(" -- %s", fixed ? "fixed" : "not fixed");
#undef ADD
}
