// SPDX-License-Identifier: GPL-2.0
/*
 * health.c - the online health side of chunkfs-fuse:
 *
 *  - the event hook: remembers the newest event, wakes poll() waiters of
 *    the events file, wakes the repair thread when a chunk turns suspect,
 *    and logs the info events (the library logs warnings and errors
 *    itself: to standard error in the foreground, to syslog once detached);
 *  - the repair thread of errors=repair: scrubs with repair each chunk
 *    cfs_repair_pending() names, woken by the hook and every few seconds;
 *  - the notifier thread: after an online repair (the hook wakes it), it
 *    tells the kernel to drop its caches (attributes, pages) of every
 *    inode the repair changed (cfs_inval_take), so that users see the
 *    repaired state at once, and of every name it removed from a
 *    directory (cfs_inval_take_name).
 *  - the hidden control directory /.chunkfs and its file `events`: each
 *    open file handle reads the events it has not read yet as text lines,
 *    and poll() reports POLLIN when there are some.
 *
 * Lock order: a handle's lock, then the filesystem lock, then cf->ev_lock
 * (the hook runs with the filesystem lock held and takes ev_lock).  The
 * repair thread's lock is never held while calling into the filesystem.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfuse.h"
#include "../fs/chunkfs.h"
#include "../fs/user/user.h"

/* One open `events` file handle. */
struct evh {
	pthread_mutex_t lock;     /* serialises reads of this handle */
	u64 pos;                  /* seq of the last event read (ev_lock) */
	struct fuse_pollhandle *ph; /* a poll() waiting (ev_lock) */
	struct evh *prev, *next;  /* cf->handles (ev_lock) */
};

/* ---- the event hook (called with the filesystem lock held) ---- */

static void event_hook(void *ctx, const struct chunkfs_event *e)
{
	struct cfuse *cf = ctx;
	struct evh *h;

	pthread_mutex_lock(&cf->ev_lock);
	if (e->seq > cf->ev_last)
		cf->ev_last = e->seq;
	for (h = cf->handles; h; h = h->next) {
		if (h->ph) {
			fuse_lowlevel_notify_poll(h->ph);
			fuse_pollhandle_destroy(h->ph);
			h->ph = NULL;
		}
	}
	pthread_mutex_unlock(&cf->ev_lock);
	if (e->code == CHUNKFS_E_READONLY)
		__atomic_store_n(&cf->ro_now, 1, __ATOMIC_RELAXED);
	if ((e->code == CHUNKFS_E_REPAIRED || e->code == CHUNKFS_E_UNREPAIRED) &&
	    cf->nt_running) {
		pthread_mutex_lock(&cf->nt_lock);
		cf->nt_wake = 1;
		cf->nt_req++;
		pthread_cond_broadcast(&cf->nt_cond);
		pthread_mutex_unlock(&cf->nt_lock);
	}
	if (e->code == CHUNKFS_E_SUSPECT && cf->rp_running) {
		pthread_mutex_lock(&cf->rp_lock);
		cf->rp_wake = 1;
		pthread_cond_signal(&cf->rp_cond);
		pthread_mutex_unlock(&cf->rp_lock);
	}
	/* warnings and errors are logged by the library (host_log) */
	if (e->severity == CHUNKFS_EV_INFO && !cf->debug)
		cfuse_log(CFS_LOG_INFO, "%s", e->msg);
}

/* ---- errors=repair: the repair thread ---- */

#define RP_PERIOD 5     /* seconds between looks without a wake-up */

static int rp_stopping(struct cfuse *cf)
{
	int r;

	pthread_mutex_lock(&cf->rp_lock);
	r = cf->rp_stop;
	pthread_mutex_unlock(&cf->rp_lock);
	return r;
}

static int rp_scrub(struct cfuse *cf, u32 k)
{
	struct chunkfs_scrub s;
	int r;

	memset(&s, 0, sizeof(s));
	s.chunk = k;
	s.flags = CHUNKFS_SCRUB_REPAIR;
	r = cfs_scrub(cf->fs, &s);
	if (r < 0)
		cfuse_log(CFS_LOG_ERR, "errors=repair: chunk %u: %s", k,
			  strerror(-r));
	return r;
}

/* The chunks already suspect when the filesystem was mounted. */
static void rp_suspects(struct cfuse *cf)
{
	struct chunkfs_health *h = calloc(1, sizeof(*h));
	u32 first = 0, i;

	if (!h)
		return;
	do {
		memset(h, 0, sizeof(*h));
		h->first = first;
		if (cfs_health(cf->fs, h) < 0 || !h->count)
			break;
		for (i = 0; i < h->count && !rp_stopping(cf); i++)
			if (h->c[i].state == CFS_CHUNK_SUSPECT)
				rp_scrub(cf, h->c[i].chunk);
		first += h->count;
	} while (first < h->nchunks && !rp_stopping(cf));
	free(h);
}

static void *repair_main(void *arg)
{
	struct cfuse *cf = arg;
	struct timespec ts;

	rp_suspects(cf);
	pthread_mutex_lock(&cf->rp_lock);
	while (!cf->rp_stop) {
		u32 k;

		cf->rp_wake = 0;
		pthread_mutex_unlock(&cf->rp_lock);
		/* each scrub clears the chunk's request, whatever its result:
		 * a chunk it could not repair is DAMAGED, not asked again
		 * (an error: try again after the period, do not spin) */
		while ((k = cfs_repair_pending(cf->fs)) != CHUNKFS_NO_CHUNK &&
		       !rp_stopping(cf))
			if (rp_scrub(cf, k) < 0)
				break;
		pthread_mutex_lock(&cf->rp_lock);
		if (cf->rp_stop || cf->rp_wake)
			continue;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += RP_PERIOD;
		pthread_cond_timedwait(&cf->rp_cond, &cf->rp_lock, &ts);
	}
	pthread_mutex_unlock(&cf->rp_lock);
	return NULL;
}

/* ---- the notifier thread ---- */

#define NT_BATCH 256

static void *notify_main(void *arg)
{
	struct cfuse *cf = arg;
	u64 inos[NT_BATCH], parent;
	char name[CFS_NAME_MAX + 1];

	pthread_mutex_lock(&cf->nt_lock);
	while (!cf->nt_stop) {
		u32 n, i;
		int lost = 0;
		u64 req;

		if (!cf->nt_wake) {
			pthread_cond_wait(&cf->nt_cond, &cf->nt_lock);
			continue;
		}
		cf->nt_wake = 0;
		req = cf->nt_req;
		pthread_mutex_unlock(&cf->nt_lock);
		while ((n = cfs_inval_take(cf->fs, inos, NT_BATCH, &lost))) {
			for (i = 0; i < n; i++) {
				/* -ENOENT: the kernel has forgotten it */
				fuse_lowlevel_notify_inval_inode(cf->se,
								 inos[i], 0, 0);
				cf->nt_sent++;
			}
		}
		while ((n = cfs_inval_take_name(cf->fs, &parent, name))) {
			/* -ENOENT: not in the kernel's dentry cache */
			fuse_lowlevel_notify_inval_entry(cf->se, parent, name,
							 n);
			cf->nt_sent++;
		}
		if (lost)
			cfuse_log(CFS_LOG_WARN, "online repair: too many "
				  "changed inodes to list; cached attributes "
				  "refresh within 1 s");
		if (cf->debug)
			cfuse_log(CFS_LOG_DEBUG, "%llu cache invalidations "
				  "sent", (unsigned long long)cf->nt_sent);
		pthread_mutex_lock(&cf->nt_lock);
		cf->nt_done = req;
		pthread_cond_broadcast(&cf->nt_cond);
	}
	pthread_mutex_unlock(&cf->nt_lock);
	return NULL;
}

void cfuse_inval_wait(struct cfuse *cf)
{
	struct timespec ts;
	u64 want;

	if (!cf->nt_running)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2;
	pthread_mutex_lock(&cf->nt_lock);
	want = cf->nt_req;
	while (cf->nt_done < want && !cf->nt_stop)
		if (pthread_cond_timedwait(&cf->nt_cond, &cf->nt_lock, &ts))
			break;
	pthread_mutex_unlock(&cf->nt_lock);
}

int cfuse_health_threads(struct cfuse *cf, struct fuse_session *se)
{
	cf->se = se;
	if (pthread_create(&cf->nt_thr, NULL, notify_main, cf) != 0) {
		cfuse_log(CFS_LOG_ERR, "cannot start the notifier thread");
		return -1;
	}
	cf->nt_running = 1;
	if (cf->errors_policy == CHUNKFS_ERRORS_REPAIR) {
		if (pthread_create(&cf->rp_thr, NULL, repair_main, cf) != 0) {
			cfuse_log(CFS_LOG_ERR, "errors=repair: cannot start "
				  "the repair thread");
			return -1;
		}
		cf->rp_running = 1;
	}
	return 0;
}

int cfuse_health_start(struct cfuse *cf)
{
	struct chunkfs_events *e;

	pthread_mutex_init(&cf->ev_lock, NULL);
	pthread_mutex_init(&cf->rp_lock, NULL);
	pthread_cond_init(&cf->rp_cond, NULL);
	pthread_mutex_init(&cf->nt_lock, NULL);
	pthread_cond_init(&cf->nt_cond, NULL);
	cf->ctl_time = time(NULL);
	cfs_set_errors_policy(cf->fs, cf->errors_policy);
	cfs_set_free_warn(cf->fs, cf->free_warn);
	cfs_set_event_hook(cf->fs, event_hook, cf);
	/* the events the mount itself made (a journal not replayed...) */
	e = calloc(1, sizeof(*e));
	if (e) {
		if (cfs_events(cf->fs, e) == 0) {
			pthread_mutex_lock(&cf->ev_lock);
			if (e->last > cf->ev_last)
				cf->ev_last = e->last;
			pthread_mutex_unlock(&cf->ev_lock);
		}
		free(e);
	}
	return 0;
}

void cfuse_health_stop(struct cfuse *cf)
{
	struct evh *h;

	if (cf->rp_running) {
		pthread_mutex_lock(&cf->rp_lock);
		cf->rp_stop = 1;
		pthread_cond_signal(&cf->rp_cond);
		pthread_mutex_unlock(&cf->rp_lock);
		pthread_join(cf->rp_thr, NULL);
		cf->rp_running = 0;
	}
	if (cf->nt_running) {
		pthread_mutex_lock(&cf->nt_lock);
		cf->nt_stop = 1;
		pthread_cond_signal(&cf->nt_cond);
		pthread_mutex_unlock(&cf->nt_lock);
		pthread_join(cf->nt_thr, NULL);
		cf->nt_running = 0;
	}
	cfs_set_event_hook(cf->fs, NULL, NULL);
	/* handles the kernel never released (the session is over) */
	pthread_mutex_lock(&cf->ev_lock);
	while ((h = cf->handles)) {
		cf->handles = h->next;
		if (h->ph)
			fuse_pollhandle_destroy(h->ph);
		pthread_mutex_destroy(&h->lock);
		free(h);
	}
	pthread_mutex_unlock(&cf->ev_lock);
	pthread_cond_destroy(&cf->rp_cond);
	pthread_mutex_destroy(&cf->rp_lock);
	pthread_cond_destroy(&cf->nt_cond);
	pthread_mutex_destroy(&cf->nt_lock);
	pthread_mutex_destroy(&cf->ev_lock);
}

/* ---- the control directory ---- */

void cfuse_ctl_attr(struct cfuse *cf, fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = (ino_t)ino;
	if (ino == CFUSE_CTL_DIR) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
	}
	st->st_blksize = 4096;
	st->st_atim.tv_sec = cf->ctl_time;
	st->st_mtim.tv_sec = cf->ctl_time;
	st->st_ctim.tv_sec = cf->ctl_time;
}

void cfuse_ctl_entry(struct cfuse *cf, fuse_ino_t ino,
		     struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = ino;
	e->generation = 1;
	cfuse_ctl_attr(cf, ino, &e->attr);
	e->attr_timeout = 1.0;
	e->entry_timeout = 1.0;
}

void cfuse_ctl_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       int plus)
{
	static const char *const names[] = { ".", "..", "events" };
	const fuse_ino_t inos[] = { CFUSE_CTL_DIR, 1, CFUSE_CTL_EVENTS };
	char *buf = malloc(size ? size : 1);
	size_t pos = 0;
	off_t i;

	(void)ino;
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (i = off < 0 ? 0 : off; i < 3; i++) {
		struct fuse_entry_param e;
		size_t need;

		/* no attributes and no lookup reference: ino 0 */
		memset(&e, 0, sizeof(e));
		e.attr.st_ino = (ino_t)inos[i];
		e.attr.st_mode = i < 2 ? S_IFDIR : S_IFREG;
		if (plus)
			need = fuse_add_direntry_plus(req, buf + pos,
						      size - pos, names[i], &e,
						      i + 1);
		else
			need = fuse_add_direntry(req, buf + pos, size - pos,
						 names[i], &e.attr, i + 1);
		if (pos + need > size)
			break;
		pos += need;
	}
	fuse_reply_buf(req, buf, pos);
	free(buf);
}

/* ---- the events file ---- */

void cfuse_events_open(fuse_req_t req, struct fuse_file_info *fi)
{
	struct cfuse *cf = fuse_req_userdata(req);
	struct evh *h;

	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EACCES);
		return;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_lock(&cf->ev_lock);
	h->next = cf->handles;
	if (h->next)
		h->next->prev = h;
	cf->handles = h;
	pthread_mutex_unlock(&cf->ev_lock);
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->direct_io = 1;   /* no page cache: a stream, size unknown */
	fi->keep_cache = 0;
	fi->nonseekable = 1;
	if (fuse_reply_open(req, fi) != 0)
		cfuse_events_release(cf, fi);
}

void cfuse_events_release(struct cfuse *cf, struct fuse_file_info *fi)
{
	struct evh *h = (struct evh *)(uintptr_t)fi->fh;

	if (!h)
		return;
	pthread_mutex_lock(&cf->ev_lock);
	if (h->prev)
		h->prev->next = h->next;
	else if (cf->handles == h)
		cf->handles = h->next;
	if (h->next)
		h->next->prev = h->prev;
	if (h->ph)
		fuse_pollhandle_destroy(h->ph);
	pthread_mutex_unlock(&cf->ev_lock);
	pthread_mutex_destroy(&h->lock);
	free(h);
	fi->fh = 0;
}

/* One event as a line: "SEQ TIME.NSEC SEVERITY CODE CHUNK INO COUNT
 * MESSAGE[<TAB>PATH]\n" (CHUNK and INO "-" when none; fs/user/
 * event_line.c).  Returns its length. */
void cfuse_events_read(fuse_req_t req, size_t size, struct fuse_file_info *fi)
{
	struct cfuse *cf = fuse_req_userdata(req);
	struct evh *h = (struct evh *)(uintptr_t)fi->fh;
	struct chunkfs_events *ev;
	char *buf, line[1536];
	size_t pos = 0;
	u64 at;
	int r = 0, full = 0;

	if (!h) {
		fuse_reply_err(req, EBADF);
		return;
	}
	ev = malloc(sizeof(*ev));
	buf = malloc(size ? size : 1);
	if (!ev || !buf) {
		free(ev);
		free(buf);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(&h->lock);
	pthread_mutex_lock(&cf->ev_lock);
	at = h->pos;
	pthread_mutex_unlock(&cf->ev_lock);
	while (!full) {
		u32 i;

		memset(ev, 0, sizeof(*ev));
		ev->after = at;
		r = cfs_events(cf->fs, ev);
		if (r < 0 || !ev->count)
			break;
		for (i = 0; i < ev->count; i++) {
			int n = cfs_event_line(&ev->e[i], line,
						 sizeof(line));

			if (n < 0 || (size_t)n >= sizeof(line))
				n = (int)strlen(line);
			if (pos + (size_t)n > size) {
				full = 1;
				break;
			}
			memcpy(buf + pos, line, (size_t)n);
			pos += (size_t)n;
			at = ev->e[i].seq;
		}
		if (ev->count < CHUNKFS_EVENTS_MAX)
			break;
	}
	pthread_mutex_lock(&cf->ev_lock);
	h->pos = at;
	pthread_mutex_unlock(&cf->ev_lock);
	pthread_mutex_unlock(&h->lock);
	if (r < 0)
		fuse_reply_err(req, -r);
	else if (!pos && full)
		fuse_reply_err(req, EINVAL); /* not even one line fits */
	else
		fuse_reply_buf(req, buf, pos);
	free(ev);
	free(buf);
}

void cfuse_events_poll(fuse_req_t req, struct fuse_file_info *fi,
		       struct fuse_pollhandle *ph)
{
	struct cfuse *cf = fuse_req_userdata(req);
	struct evh *h = (struct evh *)(uintptr_t)fi->fh;
	unsigned revents = 0;

	if (!h) {
		if (ph)
			fuse_pollhandle_destroy(ph);
		fuse_reply_err(req, EBADF);
		return;
	}
	pthread_mutex_lock(&cf->ev_lock);
	if (ph) {
		if (h->ph)
			fuse_pollhandle_destroy(h->ph);
		h->ph = ph;
	}
	if (cf->ev_last > h->pos)
		revents = POLLIN | POLLRDNORM;
	pthread_mutex_unlock(&cf->ev_lock);
	fuse_reply_poll(req, revents);
}
