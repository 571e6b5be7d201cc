// SPDX-License-Identifier: GPL-2.0
/* membdev.c - a memory block device for the unit tests (see membdev.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "membdev.h"
#include "../../fs/check.h"

long long membdev_check_all(struct membdev *m, unsigned mode,
			    void (*fn)(void *, const struct cfs_problem_report *),
			    void *ctx, unsigned *fixed)
{
	struct cfs_fs *fs;
	const char *why;
	long long found = 0;
	u32 k;
	int err;

	*fixed = 0;
	err = cfs_mount_check(&m->bdev, mode == CFS_CHECK_NOFIX ?
			      CFS_MOUNT_RDONLY : 0, &fs, &why);
	if (err)
		return err;
	for (k = 0; k < cfs_nchunks(fs) && !err; k++) {
		struct cfs_check_result r;

		err = cfs_check_chunk(fs, k, mode, fn, ctx, &r);
		if (!err) {
			found += r.found;
			*fixed += r.fixed;
		}
	}
	if (cfs_unmount(fs) && !err)
		err = -EIO;
	return err ? err : found;
}

static int md_read(struct cfs_bdev *d, u64 off, void *buf, u64 len)
{
	struct membdev *m = d->priv;

	if (off + len > m->size || off + len < off)
		return -EIO;
	if (m->fail_read_off && m->fail_read_off - 1 >= off &&
	    m->fail_read_off - 1 < off + len)
		return -EIO;
	memcpy(buf, m->mem + off, len);
	return 0;
}

static int ev_add(struct md_event **v, unsigned long long *n,
		  unsigned long long *cap, unsigned long long off,
		  const void *data, unsigned long long len)
{
	struct md_event *e;

	if (*n == *cap) {
		unsigned long long nc = *cap ? *cap * 2 : 1024;
		struct md_event *nv = realloc(*v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	e = &(*v)[*n];
	e->off = off;
	e->len = len;
	e->data = NULL;
	if (data) {
		e->data = malloc(len ? len : 1);
		if (!e->data)
			return -ENOMEM;
		memcpy(e->data, data, len);
	}
	(*n)++;
	return 0;
}

int membdev_apply(struct membdev *m, unsigned long long off,
		  const void *buf, unsigned long long len)
{
	if (off + len > m->size || off + len < off)
		return -EIO;
	if (m->undoing && ev_add(&m->undo, &m->nundo, &m->capundo, off,
				 m->mem + off, len))
		return -ENOMEM;
	memcpy(m->mem + off, buf, len);
	return 0;
}

void membdev_undo(struct membdev *m)
{
	while (m->nundo) {
		struct md_event *e = &m->undo[--m->nundo];

		memcpy(m->mem + e->off, e->data, e->len);
		free(e->data);
	}
}

void membdev_replay(struct membdev *m, unsigned long long *applied,
		    unsigned long long to)
{
	for (; *applied < to; (*applied)++)
		if (m->log[*applied].data)
			membdev_apply(m, m->log[*applied].off,
				      m->log[*applied].data,
				      m->log[*applied].len);
}

void membdev_log_free(struct membdev *m)
{
	unsigned long long i;

	for (i = 0; i < m->nlog; i++)
		free(m->log[i].data);
	free(m->log);
	m->log = NULL;
	m->nlog = m->caplog = 0;
}

static int md_write(struct cfs_bdev *d, u64 off, const void *buf, u64 len)
{
	struct membdev *m = d->priv;

	if (off + len > m->size || off + len < off)
		return -EIO;
	if (m->stopped || (m->stop_after && m->nwrites >= m->stop_after)) {
		m->stopped = 1;
		return -EIO;
	}
	if (m->recording && ev_add(&m->log, &m->nlog, &m->caplog, off, buf,
				   len))
		return -ENOMEM;
	if (membdev_apply(m, off, buf, len))
		return -ENOMEM;
	m->nwrites++;
	return 0;
}

static int md_flush(struct cfs_bdev *d)
{
	struct membdev *m = d->priv;

	if (m->stopped)
		return -EIO;
	if (m->recording && ev_add(&m->log, &m->nlog, &m->caplog, 0, NULL, 0))
		return -ENOMEM;
	m->nflush++;
	return 0;
}

static const struct cfs_bdev_ops md_ops = { md_read, md_write, md_flush };

struct membdev *membdev_new(unsigned long long size)
{
	struct membdev *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->mem = calloc(1, size);
	if (!m->mem) {
		free(m);
		return NULL;
	}
	m->size = size;
	m->bdev.ops = &md_ops;
	m->bdev.size = size;
	m->bdev.priv = m;
	return m;
}

void membdev_free(struct membdev *m)
{
	if (!m)
		return;
	membdev_log_free(m);
	membdev_undo(m);
	free(m->undo);
	free(m->mem);
	free(m);
}

void membdev_print_problem(void *ctx, const struct cfs_problem_report *r)
{
	const struct cfs_problem_desc *d = cfs_problem(r->code);

	(void)ctx;
	fprintf(stderr, "    chunk %u ino %llx: %s [%s]\n", r->chunk,
		(unsigned long long)r->ino, d ? d->name : "?",
		r->detail ? r->detail : "");
}
