/* SPDX-License-Identifier: GPL-2.0 */
/* membdev.h - the test host's block device: memory that can stop after N
 * writes (a power cut: every later write fails) and fail reads covering a
 * chosen byte.  The crash-consistency work extends it (lost and reordered
 * unflushed writes, torn writes). */
#ifndef CFS_MEMBDEV_H
#define CFS_MEMBDEV_H

#include "../../fs/host.h"

struct membdev {
	struct cfs_bdev bdev;
	unsigned char *mem;
	unsigned long long size;
	unsigned long long nwrites;   /* writes done so far */
	unsigned long long stop_after; /* 0: never; else writes beyond fail */
	unsigned long long fail_read_off; /* a read covering it fails (+1) */
	int stopped;
};

struct membdev *membdev_new(unsigned long long size);
void membdev_free(struct membdev *m);

#endif
