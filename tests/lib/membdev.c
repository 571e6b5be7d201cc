// SPDX-License-Identifier: GPL-2.0
/* membdev.c - a memory block device for the unit tests (see membdev.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "membdev.h"

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

static int md_write(struct cfs_bdev *d, u64 off, const void *buf, u64 len)
{
	struct membdev *m = d->priv;

	if (off + len > m->size || off + len < off)
		return -EIO;
	if (m->stopped || (m->stop_after && m->nwrites >= m->stop_after)) {
		m->stopped = 1;
		return -EIO;
	}
	memcpy(m->mem + off, buf, len);
	m->nwrites++;
	return 0;
}

static int md_flush(struct cfs_bdev *d)
{
	struct membdev *m = d->priv;

	return m->stopped ? -EIO : 0;
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
	free(m->mem);
	free(m);
}
