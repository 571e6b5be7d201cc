/* SPDX-License-Identifier: GPL-2.0 */
/* cfuse.h - shared by the files of the FUSE front end. */
#ifndef CFS_CFUSE_H
#define CFS_CFUSE_H

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 312
#endif
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

#include "../fs/host.h"
#include "../fs/chunkfs_ioctl.h"

struct cfs_fs;
struct evh;

/* The hidden control directory /.chunkfs and its file `events`: inode
 * numbers of chunk 0xffffffff, which no filesystem has. */
#define CFUSE_CTL_NAME ".chunkfs"
#define CFUSE_CTL_DIR 0xffffffff00000001ULL
#define CFUSE_CTL_EVENTS 0xffffffff00000002ULL
#define CFUSE_IS_CTL(ino) (((u64)(ino) >> 32) == 0xffffffffULL)

/* Remount: `chunkfs-fuse -o remount,...` (mount(8)'s helper runs it for
 * `mount -o remount,...`) asks the daemon serving the mount point with
 * this ioctl, on the mount point, after the kernel's remount to
 * read-only or before the one to read-write.  Root only.  Private to
 * chunkfs-fuse: not in chunkfs_ioctl.h. */
#define CFUSE_RM_RO 0x1         /* flags: read-only */
#define CFUSE_RM_SYNC 0x2       /* flags: -o sync */
#define CFUSE_RM_NODIRATIME 0x4 /* flags: no access times of directories */
#define CFUSE_RM_NOACL 0x8      /* flags: -o noacl */
#define CFUSE_RM_CHECK 0x10     /* flags: only check, change nothing */
#define CFUSE_RM_COMMIT 0x100   /* set: commit is given */
#define CFUSE_RM_ERRORS 0x200   /* set: errors is given */
#define CFUSE_RM_FREE_WARN 0x400 /* set: free_warn is given */
#define CFUSE_RM_ATIME 0x800    /* set: atime (and NODIRATIME) given */
#define CFUSE_RM_SYNC_SET 0x1000 /* set: SYNC given */
#define CFUSE_RM_ACL 0x2000     /* set: acl or noacl (NOACL) given */
struct cfuse_remount {
	u32 flags;      /* in: CFUSE_RM_RO, _SYNC, _NODIRATIME, _NOACL, _CHECK */
	u32 set;        /* in: which of the rest are given */
	u32 atime;      /* in: CFS_ATIME_* */
	u32 commit;     /* in: seconds (0: only at sync and unmount) */
	u32 errors;     /* in: CHUNKFS_ERRORS_* */
	u32 free_warn;  /* in: percent */
	s32 result;     /* out: 0 or -errno (an ioctl that fails carries no
			 * data: this one succeeds with the message) */
	char msg[188];  /* out: why it failed */
};
#define CFUSE_IOC_REMOUNT _IOWR(CHUNKFS_IOC_TYPE, 0x40, struct cfuse_remount)

/* One per mount; the session's userdata. */
struct cfuse {
	struct cfs_fs *fs;
	int ro;    /* mounted read-only (-o ro, or remounted; atomic) */
	int sync;  /* -o sync: cfs_fsync after every write */
	u32 atime; /* access times: CFS_ATIME_* (relatime by default) */
	int nodiratime; /* none for directories */
	int debug; /* -d */
	int acl;   /* POSIX ACLs (not -o noacl, and the kernel has them) */
	int dont_mask; /* FUSE_CAP_DONT_MASK granted: modes come unmasked */
	u32 errors_policy; /* errors=: CHUNKFS_ERRORS_* */
	u32 free_warn;     /* free_warn=: percent, 0 off */
	int ro_now;        /* errors=remount-ro took effect (atomic) */
	time_t ctl_time;   /* times of the control files */
	/* events (health.c) */
	pthread_mutex_t ev_lock;
	u64 ev_last;       /* seq of the newest event */
	struct evh *handles; /* open events files */
	/* errors=repair: the repair thread */
	pthread_t rp_thr;
	pthread_mutex_t rp_lock;
	pthread_cond_t rp_cond;
	int rp_running, rp_stop, rp_wake;
	/* the notifier thread: drops the kernel's caches of what an online
	 * repair changed (never from a request handler: the kernel may be
	 * waiting on that very request) */
	struct fuse_session *se;
	pthread_t nt_thr;
	pthread_mutex_t nt_lock;
	pthread_cond_t nt_cond;
	int nt_running, nt_stop, nt_wake;
	u64 nt_req, nt_done; /* wake-ups asked for, and served */
	u64 nt_sent;       /* invalidations sent (for the log) */
	/* The end: everything written, the image released (the kernel's
	 * FUSE_DESTROY of a fuseblk mount waits for it, so umount returns
	 * only then; otherwise main calls it once the loop ended).  The
	 * lock keeps forgets still in flight off the unmounted library. */
	void (*teardown)(struct cfuse *cf);
	pthread_rwlock_t down_lock;
	/* CFUSE_IOC_REMOUNT (chunkfs-fuse.c): 0 or -errno with r->msg set */
	int (*remount)(struct cfuse *cf, struct cfuse_remount *r);
};

extern const struct fuse_lowlevel_ops cfuse_ops;

/* Logs to stderr, or to syslog once the daemon has detached. */
void cfuse_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* health.c */
int cfuse_health_start(struct cfuse *cf); /* after cfs_mount */
/* The threads (after fuse_daemonize: a fork keeps no threads). */
int cfuse_health_threads(struct cfuse *cf, struct fuse_session *se);
/* Wait (up to 2 s) until the notifier has sent what repairs so far
 * changed: for a scrub's caller to see the repaired state at once. */
void cfuse_inval_wait(struct cfuse *cf);
void cfuse_health_stop(struct cfuse *cf); /* before cfs_unmount */
void cfuse_ctl_attr(struct cfuse *cf, fuse_ino_t ino, struct stat *st);
void cfuse_ctl_entry(struct cfuse *cf, fuse_ino_t ino,
		     struct fuse_entry_param *e);
void cfuse_ctl_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       int plus);
void cfuse_events_open(fuse_req_t req, struct fuse_file_info *fi);
void cfuse_events_release(struct cfuse *cf, struct fuse_file_info *fi);
void cfuse_events_read(fuse_req_t req, size_t size, struct fuse_file_info *fi);
void cfuse_events_poll(fuse_req_t req, struct fuse_file_info *fi,
		       struct fuse_pollhandle *ph);

#endif
