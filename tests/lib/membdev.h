/* SPDX-License-Identifier: GPL-2.0 */
/* membdev.h - the test host's block device: memory that can stop after N
 * writes (a power cut: every later write fails) and fail reads covering a
 * chosen byte, and that records its writes and flushes (the power-cut tests
 * replay prefixes of the record) or keeps an undo log (to restore the device
 * after a trial). */
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
	/* record: every write (data copied) and flush (data NULL), in order */
	struct md_event *log;
	unsigned long long nlog, caplog;
	int recording;
	/* undo: the old bytes of every write, to restore with membdev_undo */
	struct md_event *undo;
	unsigned long long nundo, capundo;
	int undoing;
	unsigned long long nflush;    /* flushes done so far */
};

struct md_event {
	unsigned long long off, len;
	unsigned char *data;          /* NULL: a flush */
};

struct membdev *membdev_new(unsigned long long size);
void membdev_free(struct membdev *m);
/* Write directly (not recorded, undo-logged if undoing). */
int membdev_apply(struct membdev *m, unsigned long long off,
		  const void *buf, unsigned long long len);
/* Restore everything written since undoing was set, and empty the log. */
void membdev_undo(struct membdev *m);
/* The record's writes [*applied, to) applied (a power cut's device is
 * the base and a prefix of the record); *applied becomes to. */
void membdev_replay(struct membdev *m, unsigned long long *applied,
		    unsigned long long to);
void membdev_log_free(struct membdev *m);
/* Mount the filesystem on m (read-only for CFS_CHECK_NOFIX) and check every
 * chunk in mode, reporting through fn: the problems found (*fixed: how
 * many were fixed), or a negative errno if a mount, check or unmount
 * failed. */
struct cfs_problem_report;
long long membdev_check_all(struct membdev *m, unsigned mode,
			    void (*fn)(void *, const struct cfs_problem_report *),
			    void *ctx, unsigned *fixed);
/* A problem reporter for fn above: one line per problem on stderr
 * (chunk, inode, the problem's name and detail), ctx unused. */
void membdev_print_problem(void *ctx, const struct cfs_problem_report *r);

#endif
