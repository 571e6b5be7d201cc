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
/* Is path (or the device it names) mounted, per /proc/self/mounts? */
int cfs_user_is_mounted(const char *path);
void cfs_user_set_log(int min_level, int use_syslog);
/* Parse sizes like 4096, 64K, 64M, 10G, 1T; returns 0 or -1. */
int cfs_parse_size(const char *s, unsigned long long *out);

#endif
