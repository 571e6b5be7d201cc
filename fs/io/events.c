// SPDX-License-Identifier: GPL-2.0
/*
 * events.c - what happened to the filesystem's health, for people and
 * programs: a ring of the last CFS_EVENT_RING events, each with a time,
 * chunk, inode, stable code (chunkfs_ioctl.h) and a one-line message.
 * Every event is also logged (host_log: syslog in the FUSE daemon, the
 * kernel log in the module), except repeats: an event identical to the
 * last one of the same code and chunk within a second is folded into it
 * (its count goes up) instead of flooding the log and the ring.  The front
 * end's hook is told of each new event (FUSE wakes poll() waiters with it).
 *
 * Also here: the errors= policy that a chunk turning suspect triggers, and
 * the free-space threshold events.
 */
#include "../internal.h"

#define CFS_EVENT_RING 256

int events_init(struct cfs_fs *fs)
{
	fs->ev = host_alloc(CFS_EVENT_RING * sizeof(*fs->ev));
	return fs->ev ? 0 : -CFS_ENOMEM;
}

static int ev_level(u32 severity)
{
	switch (severity) {
	case CHUNKFS_EV_ERROR:
		return CFS_LOG_ERR;
	case CHUNKFS_EV_WARNING:
	case CHUNKFS_EV_THRESHOLD:
		return CFS_LOG_WARN;
	default:
		return CFS_LOG_INFO;
	}
}

void fs_event(struct cfs_fs *fs, u32 severity, u32 code, u32 chunk, u64 ino,
	      const char *msg)
{
	struct chunkfs_event *e;
	s64 sec;
	u32 ns;

	if (!fs->ev || fs->checking_offline)
		return;
	host_now(&sec, &ns);
	if (fs->ev_seq) {
		e = &fs->ev[(fs->ev_seq - 1) % CFS_EVENT_RING];
		if (e->code == code && e->chunk == chunk && e->ino == ino &&
		    sec - e->time_sec < 1 && !cfs_memcmp(e->msg, msg,
			cfs_strnlen(msg, sizeof(e->msg) - 1))) {
			e->count++; /* folded: rate limited */
			return;
		}
	}
	e = &fs->ev[fs->ev_seq % CFS_EVENT_RING];
	cfs_memset(e, 0, sizeof(*e));
	e->seq = ++fs->ev_seq;
	e->time_sec = sec;
	e->time_nsec = ns;
	e->severity = severity;
	e->code = code;
	e->chunk = chunk;
	e->ino = ino;
	e->count = 1;
	cfs_format(e->msg, sizeof(e->msg), "%s", msg);
	host_log(ev_level(severity), "%s", e->msg);
	if (fs->ev_hook)
		fs->ev_hook(fs->ev_ctx, e);
}

int cfs_events(struct cfs_fs *fs, struct chunkfs_events *out)
{
	u64 after = out->after, first, s;

	cfs_memset(out, 0, sizeof(*out)); /* (nothing of the caller's left) */
	out->after = after;
	host_mutex_lock(fs->lock);
	out->last = fs->ev_seq;
	first = fs->ev_seq > CFS_EVENT_RING ? fs->ev_seq - CFS_EVENT_RING + 1 :
					      1;
	if (after + 1 < first) {
		out->lost = (u32)CFS_MIN(first - after - 1, 0xffffffffULL);
		after = first - 1;
	}
	for (s = after + 1; s <= fs->ev_seq && out->count < CHUNKFS_EVENTS_MAX;
	     s++)
		out->e[out->count++] = fs->ev[(s - 1) % CFS_EVENT_RING];
	host_mutex_unlock(fs->lock);
	return 0;
}

void cfs_set_event_hook(struct cfs_fs *fs,
			void (*fn)(void *ctx, const struct chunkfs_event *e),
			void *ctx)
{
	host_mutex_lock(fs->lock);
	fs->ev_hook = fn;
	fs->ev_ctx = ctx;
	host_mutex_unlock(fs->lock);
}

void cfs_set_errors_policy(struct cfs_fs *fs, u32 policy)
{
	host_mutex_lock(fs->lock);
	fs->errors_policy = policy;
	host_mutex_unlock(fs->lock);
}

void cfs_set_free_warn(struct cfs_fs *fs, u32 percent)
{
	host_mutex_lock(fs->lock);
	fs->free_warn = percent;
	host_mutex_unlock(fs->lock);
}


u32 cfs_repair_pending(struct cfs_fs *fs)
{
	u32 k, found = CHUNKFS_NO_CHUNK;

	host_mutex_lock(fs->lock);
	if (fs->repair_pending) {
		for (k = 0; k < fs->nchunks; k++) {
			struct cfs_chunk *ch = fs->chunks[k];

			if (ch && ch->repair_pending) {
				found = k;
				break;
			}
		}
		if (found == CHUNKFS_NO_CHUNK)
			fs->repair_pending = 0;
	}
	host_mutex_unlock(fs->lock);
	return found;
}
