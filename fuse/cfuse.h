/* SPDX-License-Identifier: GPL-2.0 */
/* cfuse.h - shared by the files of the FUSE front end. */
#ifndef CFS_CFUSE_H
#define CFS_CFUSE_H

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 312
#endif
#include <fuse_lowlevel.h>

struct cfs_fs;

/* One per mount; the session's userdata. */
struct cfuse {
	struct cfs_fs *fs;
	int ro;    /* -o ro: mounted read-only */
	int sync;  /* -o sync: cfs_fsync after every write */
	int debug; /* -d */
};

extern const struct fuse_lowlevel_ops cfuse_ops;

/* Logs to stderr, or to syslog once the daemon has detached. */
void cfuse_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
