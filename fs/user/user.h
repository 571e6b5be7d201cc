/* SPDX-License-Identifier: GPL-2.0 */
/* user.h - the userspace host: open an image file or block device as a
 * struct cfs_bdev, with an exclusive lock so one process serves an image. */
#ifndef CFS_USER_H
#define CFS_USER_H

#include "../host.h"

#define CFS_OPEN_RDONLY 0x1
#define CFS_OPEN_NOLOCK 0x2   /* read-only inspection of a locked image */

/* Returns 0, or a negative errno with a message in err (errlen bytes). */
int cfs_user_open(const char *path, unsigned flags, struct cfs_bdev **out,
		  char *err, unsigned long errlen);
void cfs_user_close(struct cfs_bdev *dev);
/* A remount: rw 0, what was written is made durable and the device
 * refuses writes from now on; rw 1, the device writable again, opened
 * read-write if it was opened read-only (its shared lock made exclusive
 * first: -EBUSY while another process holds one).
 * Returns 0 or -errno with a message in err. */
int cfs_user_set_rw(struct cfs_bdev *dev, int rw, char *err,
		    unsigned long errlen);
/* Is path (or the device it names) mounted, per /proc/self/mounts? */
int cfs_user_is_mounted(const char *path);
void cfs_user_set_log(int min_level, int use_syslog);
/* Does host_xxh64_blocks hash several blocks at once (AVX-512)? */
int cfs_user_xxh_simd(void);
/* Parse sizes like 4096, 64K, 64M, 10G, 1T; returns 0 or -1. */
int cfs_parse_size(const char *s, unsigned long long *out);

/* A health event as one line (with its newline) of chunkfs-fuse's
 * events file: "SEQ TIME.NSEC SEVERITY CODE CHUNK INO COUNT MESSAGE"
 * and, when the file's path is known, a tab and the path (escaped as
 * \ooo); returns what snprintf returns.  And the names of severities and
 * codes, and the path's unescaping. */
struct chunkfs_event;
int cfs_event_line(const struct chunkfs_event *e, char *buf,
		   unsigned long size);
const char *cfs_event_sev_name(u32 sev, char *buf, unsigned long size);
const char *cfs_event_code_name(u32 code, char *buf, unsigned long size);
void cfs_event_path_unescape(char *s);

/* One problem of the checker as a line of text (no newline), the same
 * for fsck.chunkfs and chunkfs scrub: "chunk K: inode N (K:L)[ PATH],
 * block B: DESCRIPTION [DETAIL] -- fixed".  path: NULL if not known. */
void cfs_problem_line(char *buf, unsigned long size, int is_super,
		      u32 chunk, u64 ino, u64 blk, u32 code,
		      const char *detail, int fixed, const char *path);

#endif
