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
 * Two rings of CFS_EVENT_RING: routine news (a chunk scrubbed and found
 * clean: a full scrub makes one per chunk) has a ring of its own, so that
 * it never pushes errors, warnings, thresholds and repairs out of theirs.
 * Sequence numbers are shared; a reader gets both merged in order.
 *
 * Also here: the errors= policy that a chunk turning suspect triggers, and
 * the free-space threshold events.
 */
#include "../internal.h"

#define CFS_EVENT_RING 256
#define RING_MAIN 0
#define RING_ROUTINE 1

int events_init(struct cfs_fs *fs)
{
	fs->ev = host_alloc(2 * CFS_EVENT_RING * sizeof(*fs->ev));
	return fs->ev ? 0 : -CFS_ENOMEM;
}

static u32 ev_ring_of(u32 code)
{
	return code == CHUNKFS_E_SCRUBBED ? RING_ROUTINE : RING_MAIN;
}

/* The i-th event ever put in ring r (it must still be there). */
static struct chunkfs_event *ev_at(struct cfs_fs *fs, u32 r, u64 i)
{
	return &fs->ev[r * CFS_EVENT_RING + i % CFS_EVENT_RING];
}

/* Index in ring r of its first event with seq > after (ev_n[r] if none);
 * the ring holds its events in increasing seq. */
static u64 ev_first_after(struct cfs_fs *fs, u32 r, u64 after)
{
	u64 lo = fs->ev_n[r] > CFS_EVENT_RING ?
		 fs->ev_n[r] - CFS_EVENT_RING : 0, hi = fs->ev_n[r];

	while (lo < hi) {
		u64 mid = lo + (hi - lo) / 2;

		if (ev_at(fs, r, mid)->seq <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
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

#define EVF_PATH_LOOKED 1 /* the path was given or looked up */

/* Copy a path into an event's field; a long one keeps its end. */
static void ev_set_path(struct chunkfs_event *e, const char *path)
{
	u32 n = cfs_strnlen(path, 4096), room = sizeof(e->path) - 1;

	if (n <= room)
		cfs_format(e->path, sizeof(e->path), "%s", path);
	else
		cfs_format(e->path, sizeof(e->path), "...%s",
			   path + n - (room - 3));
}

static void event_put(struct cfs_fs *fs, u32 severity, u32 code, u32 chunk,
		      u64 ino, u32 problem, const char *msg, const char *path)
{
	struct chunkfs_event *e;
	s64 sec;
	u32 ns;

	u32 r = ev_ring_of(code);

	if (!fs->ev || fs->checking_offline)
		return;
	host_now(&sec, &ns);
	if (fs->ev_n[r]) {
		e = ev_at(fs, r, fs->ev_n[r] - 1);
		if (e->seq == fs->ev_seq && e->code == code &&
		    e->chunk == chunk && e->ino == ino &&
		    e->problem == problem &&
		    sec - e->time_sec < 1 && !cfs_memcmp(e->msg, msg,
			cfs_strnlen(msg, sizeof(e->msg) - 1))) {
			e->count++; /* folded: rate limited */
			return;
		}
	}
	e = ev_at(fs, r, fs->ev_n[r]++);
	cfs_memset(e, 0, sizeof(*e));
	e->seq = ++fs->ev_seq;
	e->time_sec = sec;
	e->time_nsec = ns;
	e->severity = severity;
	e->code = code;
	e->chunk = chunk;
	e->ino = ino;
	e->count = 1;
	e->problem = problem;
	cfs_format(e->msg, sizeof(e->msg), "%s", msg);
	if (path) {
		ev_set_path(e, path);
		e->flags |= EVF_PATH_LOOKED;
	}
	if (e->path[0])
		host_log(ev_level(severity), "%s (%s)", e->msg, e->path);
	else
		host_log(ev_level(severity), "%s", e->msg);
	if (fs->ev_hook)
		fs->ev_hook(fs->ev_ctx, e);
}

void fs_event(struct cfs_fs *fs, u32 severity, u32 code, u32 chunk, u64 ino,
	      const char *msg)
{
	event_put(fs, severity, code, chunk, ino, 0, msg, NULL);
}

void fs_event_problem(struct cfs_fs *fs, u32 severity, u32 chunk, u64 ino,
		      u32 problem, const char *msg, const char *path)
{
	event_put(fs, severity, CHUNKFS_E_PROBLEM, chunk, ino, problem, msg,
		  path);
}

/* An event's path, looked up the first time it is read (not when it is
 * made: that may be in the middle of a read of the tree the lookup would
 * climb), and kept.  A file deleted since has none. */
static void ev_lookup_path(struct cfs_fs *fs, struct chunkfs_event *e)
{
	char *buf;

	if (e->flags & EVF_PATH_LOOKED)
		return;
	e->flags |= EVF_PATH_LOOKED;
	if (!e->ino || !fs->ev_path)
		return;
	buf = host_alloc(4096);
	if (!buf)
		return;
	if (fs->ev_path(fs, e->ino, buf, 4096) > 0)
		ev_set_path(e, buf);
	host_free(buf);
}

int cfs_events(struct cfs_fs *fs, struct chunkfs_events *out)
{
	u64 after = out->after, i[2], kept;
	u32 r;

	cfs_memset(out, 0, sizeof(*out)); /* (nothing of the caller's left) */
	out->after = after;
	host_mutex_lock(fs->lock);
	out->last = fs->ev_seq;
	if (after > fs->ev_seq)
		after = fs->ev_seq;
	/* the events after `after` still in the rings; the others are lost */
	for (kept = 0, r = 0; r < 2; r++) {
		i[r] = ev_first_after(fs, r, after);
		kept += fs->ev_n[r] - i[r];
	}
	out->lost = (u32)CFS_MIN(fs->ev_seq - after - kept, 0xffffffffULL);
	while (out->count < CHUNKFS_EVENTS_MAX) {
		int a = i[0] < fs->ev_n[0], b = i[1] < fs->ev_n[1];

		if (!a && !b)
			break;
		r = !a ? 1 : !b ? 0 : ev_at(fs, 0, i[0])->seq <
				      ev_at(fs, 1, i[1])->seq ? 0 : 1;
		ev_lookup_path(fs, ev_at(fs, r, i[r]));
		out->e[out->count] = *ev_at(fs, r, i[r]++);
		out->e[out->count++].flags = 0;
	}
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
