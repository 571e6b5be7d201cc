// SPDX-License-Identifier: GPL-2.0
/*
 * chunkfs-fuse - serve a chunkfs image through FUSE.
 *
 *   chunkfs-fuse [options] IMAGE MOUNTPOINT
 *
 * Order of events: parse the options (unknown ones are refused by libfuse
 * before anything is touched), open the image with an exclusive lock (a
 * second mount of the same image fails here, before anything is mounted),
 * cfs_mount, mount on MOUNTPOINT, detach (unless -f), serve with several
 * threads.  When the filesystem is unmounted, or on SIGTERM/SIGINT/SIGHUP,
 * the loop ends and the daemon writes everything (cfs_unmount), releases
 * the image and only then exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <syslog.h>
#include <unistd.h>

#include "cfuse.h"
#include "../fs/chunkfs.h"
#include "../fs/user/user.h"

#define PROG "chunkfs-fuse"

/* mount(8)'s exit codes, which its helpers share (mount(8), "RETURN
 * CODES"): the helper mount.fuse.chunkfs runs this program. */
#define MNT_EX_USAGE 1      /* incorrect invocation */
#define MNT_EX_SYSERR 2     /* system error: out of memory, no loop device */
#define MNT_EX_FAIL 32      /* mount failure */
#ifndef CHUNKFS_FUSE_VERSION
#define CHUNKFS_FUSE_VERSION "1.0"
#endif

static int log_to_syslog;
static int log_debug;

void cfuse_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level >= CFS_LOG_DEBUG && !log_debug)
		return;
	va_start(ap, fmt);
	if (log_to_syslog) {
		vsyslog(level, fmt, ap);
	} else {
		fputs(PROG ": ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

struct cf_opts {
	char *image;
	char *mountpoint; /* (a copy, for -o remount) */
	int ro;
	int sync;
	int commit;   /* seconds between write-backs; 0: only at sync/unmount */
	int remount;  /* -o remount: change the options of a mount */
	u32 set;      /* CFUSE_RM_* of the options given */
	u32 atime;    /* CFS_ATIME_* */
	int nodiratime;
	unsigned long kset, kclr; /* mount(2) flags given set and cleared,
				   * for -o remount */
	int have_fsname;
	int have_subtype;
	int blkdev;   /* -o blkdev: a fuseblk mount (umount waits for us) */
	int errors;   /* errors=: CHUNKFS_ERRORS_* */
	int free_warn; /* free_warn=: percent, 0 off */
	int noacl;    /* -o noacl: no POSIX ACLs */
	int bad;      /* a chunkfs option with a bad value (reported) */
};

enum {
	KEY_RO,
	KEY_RW,
	KEY_SYNC,
	KEY_ASYNC,
	KEY_FSNAME,
	KEY_SUBTYPE,
	KEY_ERRORS,
	KEY_FREE_WARN,
	KEY_BLKDEV,
	KEY_ACL,
	KEY_NOACL,
	KEY_COMMIT,
	KEY_REMOUNT,
	KEY_KFLAG,     /* a kernel mount flag, passed on to libfuse */
	KEY_ATIME,     /* an access time option (ours; noatime libfuse's too) */
	KEY_IGNORED,   /* lazytime, nolazytime: times are always lazy here */
};

/* The mount flags an option sets (set 1) or clears: for -o remount,
 * which does the mount(2) itself, and the access time options. */
static const struct {
	const char *name;
	unsigned long flag;
	int set;
	int atime; /* -1: not an atime option, else the CFS_ATIME_* mode */
} cf_kflags[] = {
	{ "ro", MS_RDONLY, 1, -1 },
	{ "rw", MS_RDONLY, 0, -1 },
	{ "nosuid", MS_NOSUID, 1, -1 },
	{ "suid", MS_NOSUID, 0, -1 },
	{ "nodev", MS_NODEV, 1, -1 },
	{ "dev", MS_NODEV, 0, -1 },
	{ "noexec", MS_NOEXEC, 1, -1 },
	{ "exec", MS_NOEXEC, 0, -1 },
	{ "sync", MS_SYNCHRONOUS, 1, -1 },
	{ "async", MS_SYNCHRONOUS, 0, -1 },
	{ "dirsync", MS_DIRSYNC, 1, -1 },
	{ "noatime", MS_NOATIME, 1, CFS_ATIME_NONE },
	{ "atime", MS_NOATIME, 0, CFS_ATIME_RELATIME },
	{ "relatime", MS_RELATIME, 1, CFS_ATIME_RELATIME },
	{ "norelatime", MS_RELATIME, 0, CFS_ATIME_STRICT },
	{ "strictatime", MS_STRICTATIME, 1, CFS_ATIME_STRICT },
	{ "nostrictatime", MS_STRICTATIME, 0, CFS_ATIME_RELATIME },
	{ "nodiratime", MS_NODIRATIME, 1, -1 },
	{ "diratime", MS_NODIRATIME, 0, -1 },
};

static void kflag(struct cf_opts *o, unsigned long f, int set)
{
	if (set) {
		o->kset |= f;
		o->kclr &= ~f;
	} else {
		o->kclr |= f;
		o->kset &= ~f;
	}
}


static const struct fuse_opt cf_opt_spec[] = {
	FUSE_OPT_KEY("ro", KEY_RO),
	FUSE_OPT_KEY("rw", KEY_RW),
	FUSE_OPT_KEY("sync", KEY_SYNC),
	FUSE_OPT_KEY("async", KEY_ASYNC),
	FUSE_OPT_KEY("fsname=", KEY_FSNAME),
	FUSE_OPT_KEY("subtype=", KEY_SUBTYPE),
	FUSE_OPT_KEY("errors=", KEY_ERRORS),
	FUSE_OPT_KEY("free_warn=", KEY_FREE_WARN),
	FUSE_OPT_KEY("blkdev", KEY_BLKDEV),
	FUSE_OPT_KEY("acl", KEY_ACL),
	FUSE_OPT_KEY("noacl", KEY_NOACL),
	FUSE_OPT_KEY("commit=", KEY_COMMIT),
	FUSE_OPT_KEY("remount", KEY_REMOUNT),
	FUSE_OPT_KEY("nosuid", KEY_KFLAG),
	FUSE_OPT_KEY("suid", KEY_KFLAG),
	FUSE_OPT_KEY("nodev", KEY_KFLAG),
	FUSE_OPT_KEY("dev", KEY_KFLAG),
	FUSE_OPT_KEY("noexec", KEY_KFLAG),
	FUSE_OPT_KEY("exec", KEY_KFLAG),
	FUSE_OPT_KEY("dirsync", KEY_KFLAG),
	FUSE_OPT_KEY("noatime", KEY_ATIME),
	FUSE_OPT_KEY("atime", KEY_ATIME),
	FUSE_OPT_KEY("relatime", KEY_ATIME),
	FUSE_OPT_KEY("norelatime", KEY_ATIME),
	FUSE_OPT_KEY("strictatime", KEY_ATIME),
	FUSE_OPT_KEY("nostrictatime", KEY_ATIME),
	FUSE_OPT_KEY("nodiratime", KEY_ATIME),
	FUSE_OPT_KEY("diratime", KEY_ATIME),
	FUSE_OPT_KEY("lazytime", KEY_IGNORED),
	FUSE_OPT_KEY("nolazytime", KEY_IGNORED),
	FUSE_OPT_END
};

/* A number from 0 to max: 0, or -1 if arg is none. */
static int num_opt(const char *arg, long max, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(arg, &end, 10);
	return !*arg || *end || errno || *v < 0 || *v > max ? -1 : 0;
}

/* Picks out IMAGE (the first non-option) and notes the options chunkfs
 * itself needs; everything stays in the argument list for libfuse, which
 * passes ro/sync on to the kernel too. */
static int cf_opt_proc(void *data, const char *arg, int key,
		       struct fuse_args *outargs)
{
	struct cf_opts *o = data;

	(void)outargs;
	switch (key) {
	case FUSE_OPT_KEY_NONOPT:
		if (!o->image) {
			o->image = strdup(arg);
			if (!o->image)
				return -1;
			return 0; /* consumed: the next one is the mountpoint */
		}
		if (!o->mountpoint) {
			o->mountpoint = strdup(arg);
			if (!o->mountpoint)
				return -1;
		}
		return 1;
	case KEY_RO:
		o->ro = 1;
		kflag(o, MS_RDONLY, 1);
		return 1;
	case KEY_RW:
		o->ro = 0;
		kflag(o, MS_RDONLY, 0);
		return 1;
	case KEY_SYNC:
		o->sync = 1;
		o->set |= CFUSE_RM_SYNC_SET;
		kflag(o, MS_SYNCHRONOUS, 1);
		return 1;
	case KEY_ASYNC:
		o->sync = 0;
		o->set |= CFUSE_RM_SYNC_SET;
		kflag(o, MS_SYNCHRONOUS, 0);
		return 1;
	case KEY_REMOUNT:
		o->remount = 1;
		return 0;
	case KEY_IGNORED:
		return 0;
	case KEY_KFLAG:
	case KEY_ATIME: {
		size_t i;

		for (i = 0; i < sizeof(cf_kflags) / sizeof(cf_kflags[0]); i++) {
			if (strcmp(arg, cf_kflags[i].name))
				continue;
			kflag(o, cf_kflags[i].flag, cf_kflags[i].set);
			if (cf_kflags[i].flag == MS_NODIRATIME) {
				o->nodiratime = cf_kflags[i].set;
				o->set |= CFUSE_RM_ATIME;
			} else if (cf_kflags[i].atime >= 0) {
				o->atime = (u32)cf_kflags[i].atime;
				o->set |= CFUSE_RM_ATIME;
				/* one of them at a time */
				if (cf_kflags[i].set)
					kflag(o, (MS_NOATIME | MS_RELATIME |
						  MS_STRICTATIME) &
						  ~cf_kflags[i].flag, 0);
			}
		}
		/* libfuse takes the kernel's flags (noatime too), not the
		 * other access time options */
		return key == KEY_KFLAG || !strcmp(arg, "noatime");
	}
	case KEY_COMMIT: {
		long v;

		arg += strlen("commit=");
		if (num_opt(arg, 24 * 3600, &v)) {
			fprintf(stderr, PROG ": bad option commit=%s (seconds, "
				"0 to 86400)\n", arg);
			o->bad = 1;
		} else {
			o->commit = (int)v;
			o->set |= CFUSE_RM_COMMIT;
		}
		return 0;
	}
	case KEY_FSNAME:
		o->have_fsname = 1;
		return 1;
	case KEY_SUBTYPE:
		o->have_subtype = 1;
		return 1;
	case KEY_BLKDEV:
		o->blkdev = 1;
		return 1;
	case KEY_ACL: /* ours only: not passed on */
		o->noacl = 0;
		o->set |= CFUSE_RM_ACL;
		return 0;
	case KEY_NOACL:
		o->noacl = 1;
		o->set |= CFUSE_RM_ACL;
		return 0;
	case KEY_ERRORS: /* ours only: not passed on */
		arg += strlen("errors=");
		o->set |= CFUSE_RM_ERRORS;
		if (!strcmp(arg, "continue")) {
			o->errors = CHUNKFS_ERRORS_CONTINUE;
		} else if (!strcmp(arg, "remount-ro")) {
			o->errors = CHUNKFS_ERRORS_REMOUNT_RO;
		} else if (!strcmp(arg, "repair")) {
			o->errors = CHUNKFS_ERRORS_REPAIR;
		} else {
			fprintf(stderr, PROG ": bad option errors=%s (continue, "
				"remount-ro or repair)\n", arg);
			o->bad = 1;
		}
		return 0;
	case KEY_FREE_WARN: {
		long v;

		arg += strlen("free_warn=");
		if (num_opt(arg, 100, &v)) {
			fprintf(stderr, PROG ": bad option free_warn=%s (a "
				"percentage, 0 to 100; 0: no warning)\n", arg);
			o->bad = 1;
		} else {
			o->free_warn = (int)v;
			o->set |= CFUSE_RM_FREE_WARN;
		}
		return 0;
	}
	default:
		return 1;
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [options] IMAGE MOUNTPOINT\n"
		   "       " PROG " --help | --version\n");
}

static void help(void)
{
	usage(stdout);
	printf("\nMounts the chunkfs filesystem in IMAGE (an image file or a "
	       "block device)\non MOUNTPOINT and serves it until it is "
	       "unmounted (fusermount3 -u MOUNTPOINT).\n\n"
	       "chunkfs options:\n"
	       "    -o ro                  mount read-only (the image is "
	       "opened read-only)\n"
	       "    -o sync                write every change through to the "
	       "image at once\n"
	       "    -o commit=SECONDS      write dirty metadata back every "
	       "SECONDS (default 5;\n"
	       "                           0: only at fsync, syncfs and "
	       "unmount)\n"
	       "    -o errors=continue|remount-ro|repair\n"
	       "                           on an I/O or checksum error: EIO for "
	       "the object and\n"
	       "                           the chunk suspect (continue, the "
	       "default), and the\n"
	       "                           whole filesystem read-only, or the "
	       "chunk scrubbed\n"
	       "                           and repaired at once\n"
	       "    -o free_warn=PERCENT   an event when free space falls below "
	       "PERCENT of the\n"
	       "                           data blocks (default 5; 0: none)\n"
	       "    -o acl | noacl         POSIX ACLs (the default: acl; the "
	       "kernel checks\n"
	       "                           permissions, default_permissions "
	       "is implied)\n"
	       "    -o relatime|strictatime|noatime, nodiratime\n"
	       "                           access times, as the kernel's "
	       "(default relatime)\n"
	       "    -o remount[,OPTIONS]   change the options of the mount "
	       "on MOUNTPOINT\n"
	       "                           (ro, rw, sync, commit=, errors=, "
	       "free_warn=, access\n"
	       "                           times; root): what mount -o "
	       "remount runs\n"
	       "    -o blkdev              (root) a fuseblk mount: umount and "
	       "fusermount3 -u\n"
	       "                           return once everything is written "
	       "and the image\n"
	       "                           is released (an image file is "
	       "attached to a loop\n"
	       "                           device for it); mount(8)'s helper "
	       "sets it for root\n"
	       "    -o allow_other         let other users use the mount\n"
	       "    -o default_permissions let the kernel check permissions\n"
	       "\n");
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

/* fsname=<absolute image path>,subtype=chunkfs, so that the mount shows as
 * "IMAGE on DIR type fuse.chunkfs" and cfs_user_is_mounted(IMAGE) finds
 * it. */
static int add_name_opts(struct fuse_args *args, const struct cf_opts *o,
			 const char *loopdev)
{
	char *opts = NULL, *tmp;
	char real[PATH_MAX];
	const char *src = o->image;
	int r = 0;

	if (loopdev)
		src = loopdev; /* fuseblk: the kernel opens fsname */
	else if (realpath(o->image, real))
		src = real;
	if (!o->have_subtype && fuse_opt_add_opt(&opts, "subtype=chunkfs"))
		r = -1;
	if (!r && !o->have_fsname) {
		if (asprintf(&tmp, "fsname=%s", src) < 0) {
			r = -1;
		} else {
			if (fuse_opt_add_opt_escaped(&opts, tmp))
				r = -1;
			free(tmp);
		}
	}
	/* inserted up front: a "--" may come later in the list */
	if (!r && opts && (fuse_opt_insert_arg(args, 1, "-o") ||
			   fuse_opt_insert_arg(args, 2, opts)))
		r = -1;
	free(opts);
	return r;
}

/* -o blkdev on an image file: attach it to a free loop device that
 * clears itself when its last user (the kernel's fuseblk mount) lets go.
 * The daemon still reads and writes the image file itself (with its
 * lock); the loop device only lets the kernel mount fuseblk, whose
 * unmount waits for FUSE_DESTROY.  Returns an open fd of the device (its
 * path in dev), or -errno. */
static int loop_attach(const char *image, int ro, char *dev, size_t size)
{
	struct loop_config lc;
	int ctl, img, fd = -1, tries, e = 0;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	img = open(image, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (img < 0) {
		e = -errno;
		close(ctl);
		return e;
	}
	for (tries = 0; tries < 16; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);

		if (n < 0) {
			e = -errno;
			break;
		}
		snprintf(dev, size, "/dev/loop%d", n);
		fd = open(dev, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (fd < 0) {
			e = -errno;
			break;
		}
		memset(&lc, 0, sizeof(lc));
		lc.fd = (unsigned)img;
		lc.info.lo_flags = LO_FLAGS_AUTOCLEAR |
				   (ro ? LO_FLAGS_READ_ONLY : 0);
		snprintf((char *)lc.info.lo_file_name,
			 sizeof(lc.info.lo_file_name), "%s", image);
		if (ioctl(fd, LOOP_CONFIGURE, &lc) == 0) {
			e = 0;
			break;
		}
		e = -errno;
		close(fd);
		fd = -1;
		if (e != -EBUSY)
			break; /* EBUSY: taken by someone else meanwhile */
	}
	close(img); /* the loop device holds its own reference */
	close(ctl);
	return fd >= 0 ? fd : (e ? e : -EBUSY);
}

/* The write-back thread: every `commit` seconds, write what is dirty, as
 * ext4's commit interval does; stopped before the final cfs_unmount. */
struct committer {
	pthread_t thr;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct cfs_fs *fs;
	int secs, stop, running;
};

static void *commit_main(void *arg)
{
	struct committer *c = arg;
	struct timespec ts;
	int r;

	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += c->secs;
		pthread_cond_timedwait(&c->cond, &c->lock, &ts);
		if (c->stop)
			break;
		pthread_mutex_unlock(&c->lock);
		r = cfs_sync(c->fs);
		if (r < 0)
			cfuse_log(CFS_LOG_ERR, "write-back: %s", strerror(-r));
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static void commit_start(struct committer *c, struct cfs_fs *fs, int secs)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	c->fs = fs;
	c->secs = secs;
	if (secs > 0 && pthread_create(&c->thr, NULL, commit_main, c) == 0)
		c->running = 1;
}

static void commit_stop(struct committer *c)
{
	if (c->running) {
		pthread_mutex_lock(&c->lock);
		c->stop = 1;
		pthread_cond_signal(&c->cond);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->thr, NULL);
		c->running = 0;
	}
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
}

/* What the end needs: set up by main, run once by teardown (from
 * FUSE_DESTROY or from main). */
static struct {
	struct committer *cm;
	struct cfs_bdev *dev;
	const char *image;
	int ro;     /* (the committer runs while not) */
	int commit; /* its interval */
	int ret;    /* the exit status so far */
	pthread_mutex_t rm_lock; /* one remount at a time */
} dmn = { .rm_lock = PTHREAD_MUTEX_INITIALIZER };

static void teardown(struct cfuse *cf)
{
	struct cfs_journal_stats js;
	int r;

	pthread_rwlock_wrlock(&cf->down_lock);
	if (!cf->fs) {
		pthread_rwlock_unlock(&cf->down_lock);
		return;
	}
	if (!dmn.ro)
		commit_stop(dmn.cm);
	/* the repair thread stopped, no hook: nothing runs beside us */
	cfuse_health_stop(cf);
	/* Every request has been answered: write everything, mark clean. */
	r = cfs_unmount_stats(cf->fs, &js);
	if (r < 0) {
		cfuse_log(CFS_LOG_ERR, "unmounting %s: %s", dmn.image,
			  strerror(-r));
		dmn.ret = 1;
	} else if (!dmn.ro) {
		/* the tests read this line: no transaction may outgrow its
		 * journal (docs/DESIGN.md, "Crash consistency") */
		cfuse_log(CFS_LOG_INFO, "journal: %llu commits, %llu splits, "
			  "%llu in place", (unsigned long long)js.commits,
			  (unsigned long long)js.splits,
			  (unsigned long long)js.overflows);
	}
	cf->fs = NULL;
	cfs_user_close(dmn.dev); /* releases the lock */
	dmn.dev = NULL;
	pthread_rwlock_unlock(&cf->down_lock);
}

/* ---- remount: the daemon's side (CFUSE_IOC_REMOUNT) ----
 * Read-only: the kernel refuses writers already; the library commits
 * everything and marks the disk clean, the committer stops, the image is
 * no longer written.  Read-write: the image writable again (opened
 * read-write if the mount was -o ro), the library read-write (its
 * journals replayed in place if it was mounted read-only), the committer
 * started; the kernel follows.  The other options are taken as given. */
static int rm_fail(struct cfuse_remount *r, int err, const char *what,
		   const char *why)
{
	snprintf(r->msg, sizeof(r->msg), "%s: %s", what,
		 why && *why ? why : strerror(-err));
	return err;
}

static int daemon_remount(struct cfuse *cf, struct cfuse_remount *r)
{
	int ro = !!(r->flags & CFUSE_RM_RO), sync = cf->sync, err = 0;
	u32 errors = (r->set & CFUSE_RM_ERRORS) ? r->errors : cf->errors_policy;
	const char *why = NULL;
	char msg[160];

	pthread_rwlock_rdlock(&cf->down_lock);
	pthread_mutex_lock(&dmn.rm_lock);
	if (!cf->fs) {
		err = rm_fail(r, -ENODEV, "remount", "unmounting");
		goto out;
	}
	if (r->set & CFUSE_RM_SYNC_SET)
		sync = !!(r->flags & CFUSE_RM_SYNC);
	if (errors > CHUNKFS_ERRORS_REPAIR ||
	    (errors == CHUNKFS_ERRORS_REPAIR && (ro || !cf->rp_running))) {
		err = rm_fail(r, -EINVAL, "remount", ro ?
			      "errors=repair needs a read-write mount" :
			      "errors=repair can be chosen only at mount");
		goto out;
	}
	if ((r->set & CFUSE_RM_COMMIT) && r->commit > 24 * 3600) {
		err = rm_fail(r, -EINVAL, "remount", "commit= is at most a day");
		goto out;
	}
	/* The kernel's FUSE client takes POSIX ACLs (or not) at the mount
	 * (FUSE_CAP_POSIX_ACL, at init) and never again */
	if ((r->set & CFUSE_RM_ACL) && !(r->flags & CFUSE_RM_NOACL) != !!cf->acl) {
		err = rm_fail(r, -EINVAL, "remount", cf->acl ?
			      "noacl can be chosen only at mount" :
			      "acl can be chosen only at mount (this mount "
			      "was made noacl, or its kernel has no FUSE ACLs)");
		goto out;
	}
	if (r->flags & CFUSE_RM_CHECK)
		goto out; /* (the caller's check before the kernel's remount) */
	if (ro && !cf->ro) {
		commit_stop(dmn.cm);
		err = cfs_remount(cf->fs, CFS_MOUNT_RDONLY |
				  (sync ? CFS_MOUNT_SYNC : 0), &why);
		if (err) {
			commit_start(dmn.cm, cf->fs, dmn.commit);
			err = rm_fail(r, err, "remount read-only", why);
			goto out;
		}
		/* (all was flushed: only the image's own sync can fail) */
		if (cfs_user_set_rw(dmn.dev, 0, msg, sizeof(msg)))
			cfuse_log(CFS_LOG_ERR, "remount read-only: %s", msg);
		dmn.ro = 1;
		__atomic_store_n(&cf->ro, 1, __ATOMIC_RELAXED);
	} else if (!ro && (cf->ro || cf->ro_now)) {
		/* (also after errors=remount-ro: the kernel was rw anyway) */
		msg[0] = 0;
		err = cfs_user_set_rw(dmn.dev, 1, msg, sizeof(msg));
		if (!err)
			err = cfs_remount(cf->fs, sync ? CFS_MOUNT_SYNC : 0, &why);
		if (err) {
			if (!cf->ro_now)
				cfs_user_set_rw(dmn.dev, 0, msg, sizeof(msg));
			err = rm_fail(r, err, "remount read-write",
				      why && *why ? why : msg);
			goto out;
		}
		if (cf->ro) {
			dmn.ro = 0;
			commit_start(dmn.cm, cf->fs, (r->set & CFUSE_RM_COMMIT) ?
				     (int)r->commit : dmn.commit);
		}
		__atomic_store_n(&cf->ro, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&cf->ro_now, 0, __ATOMIC_RELAXED);
	} else if (sync != cf->sync) {
		cfs_remount(cf->fs, (cf->ro ? CFS_MOUNT_RDONLY : 0) |
			    (sync ? CFS_MOUNT_SYNC : 0), NULL);
	}
	cf->sync = sync;
	if ((r->set & CFUSE_RM_COMMIT) && (int)r->commit != dmn.commit) {
		dmn.commit = (int)r->commit;
		if (!dmn.ro) {
			commit_stop(dmn.cm);
			commit_start(dmn.cm, cf->fs, dmn.commit);
		}
	}
	cf->errors_policy = errors;
	cfs_set_errors_policy(cf->fs, errors);
	if (r->set & CFUSE_RM_FREE_WARN) {
		cf->free_warn = r->free_warn;
		cfs_set_free_warn(cf->fs, r->free_warn);
	}
	if (r->set & CFUSE_RM_ATIME) {
		__atomic_store_n(&cf->atime, r->atime, __ATOMIC_RELAXED);
		__atomic_store_n(&cf->nodiratime,
				 !!(r->flags & CFUSE_RM_NODIRATIME),
				 __ATOMIC_RELAXED);
	}
	cfuse_log(CFS_LOG_INFO, "remounted %s%s", dmn.image,
		  cf->ro ? " read-only" : " read-write");
out:
	pthread_mutex_unlock(&dmn.rm_lock);
	pthread_rwlock_unlock(&cf->down_lock);
	return err;
}

/* ---- remount: the caller's side (-o remount, from mount(8)'s helper).
 * The kernel's part with mount(2) (to read-only first, so that it
 * refuses the mount with EBUSY while a file is open for writing, as for
 * ext4), the daemon's with CFUSE_IOC_REMOUNT on the mount point (first
 * when going read-write). ---- */
static unsigned long statvfs_mflags(unsigned long f)
{
	static const struct { unsigned long st, ms; } map[] = {
		{ ST_RDONLY, MS_RDONLY }, { ST_NOSUID, MS_NOSUID },
		{ ST_NODEV, MS_NODEV }, { ST_NOEXEC, MS_NOEXEC },
		{ ST_SYNCHRONOUS, MS_SYNCHRONOUS },
		{ ST_MANDLOCK, MS_MANDLOCK }, { ST_NOATIME, MS_NOATIME },
		{ ST_NODIRATIME, MS_NODIRATIME }, { ST_RELATIME, MS_RELATIME },
	};
	unsigned long m = 0;
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (f & map[i].st)
			m |= map[i].ms;
	return m;
}

static int rm_ioctl(int fd, const char *mnt, struct cfuse_remount *r)
{
	r->result = 0;
	r->msg[0] = 0;
	if (ioctl(fd, CFUSE_IOC_REMOUNT, r) < 0) {
		fprintf(stderr, PROG ": cannot remount %s: %s\n", mnt,
			errno == ENOTTY ? "not a chunkfs-fuse mount" :
			strerror(errno));
		return -1;
	}
	if (r->result < 0) {
		fprintf(stderr, PROG ": cannot remount %s: %s\n", mnt,
			r->msg[0] ? r->msg : strerror(-r->result));
		return -1;
	}
	return 0;
}

static int do_remount(const struct cf_opts *o)
{
	const char *mnt = o->mountpoint;
	struct cfuse_remount r;
	unsigned long base, mf;
	struct statvfs sv;
	int fd, ro;

	if (!mnt) {
		fprintf(stderr, PROG ": -o remount: no MOUNTPOINT given\n");
		return MNT_EX_USAGE;
	}
	fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstatvfs(fd, &sv) < 0) {
		fprintf(stderr, PROG ": cannot remount %s: %s\n", mnt,
			strerror(errno));
		return MNT_EX_FAIL;
	}
	base = statvfs_mflags(sv.f_flag);
	mf = (base & ~o->kclr) | o->kset;
	ro = !!(mf & MS_RDONLY);
	memset(&r, 0, sizeof(r));
	r.flags = (ro ? CFUSE_RM_RO : 0) | (o->sync ? CFUSE_RM_SYNC : 0) |
		  (o->nodiratime ? CFUSE_RM_NODIRATIME : 0) |
		  (o->noacl ? CFUSE_RM_NOACL : 0) | CFUSE_RM_CHECK;
	r.set = o->set;
	r.atime = o->atime;
	r.commit = (u32)o->commit;
	r.errors = (u32)o->errors;
	r.free_warn = (u32)o->free_warn;
	/* first what the daemon would refuse, before the kernel changes */
	if (rm_ioctl(fd, mnt, &r)) {
		close(fd);
		return MNT_EX_FAIL;
	}
	r.flags &= ~(u32)CFUSE_RM_CHECK;
	if (!ro && rm_ioctl(fd, mnt, &r)) {
		close(fd);
		return MNT_EX_FAIL;
	}
	if (mount(NULL, mnt, NULL, MS_REMOUNT | mf, NULL) < 0) {
		int e = errno;

		fprintf(stderr, PROG ": cannot remount %s %s: %s\n", mnt,
			ro ? "read-only" : "read-write", e == EBUSY ?
			"a file is open for writing (mount point busy)" :
			strerror(e));
		if (!ro && (base & MS_RDONLY)) {
			/* the daemon goes back to read-only */
			r.flags |= CFUSE_RM_RO;
			r.set = 0;
			rm_ioctl(fd, mnt, &r);
		}
		close(fd);
		return MNT_EX_FAIL;
	}
	if (ro && rm_ioctl(fd, mnt, &r)) {
		close(fd);
		return MNT_EX_FAIL;
	}
	close(fd);
	return 0;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts copts;
	struct fuse_loop_config *lcfg = NULL;
	struct fuse_session *se = NULL;
	struct cfs_bdev *dev = NULL;
	struct cf_opts o;
	struct committer cm;
	struct cfuse cf;
	struct stat st;
	const char *why = NULL;
	char err[512], loopdev[64];
	int ret = MNT_EX_USAGE, r, loopfd = -1;

	memset(&o, 0, sizeof(o));
	memset(&cf, 0, sizeof(cf));
	memset(&cm, 0, sizeof(cm));
	o.commit = 5;
	o.free_warn = 5;
	o.atime = CFS_ATIME_RELATIME; /* as the kernel's default */
	memset(&copts, 0, sizeof(copts));
	pthread_rwlock_init(&cf.down_lock, NULL);

	if (fuse_opt_parse(&args, &o, cf_opt_spec, cf_opt_proc) != 0) {
		usage(stderr);
		goto out_args;
	}
	if (o.bad)
		goto out_args;
	if (o.remount) {
		ret = do_remount(&o);
		goto out_args;
	}
	/* -o blkdev: the kernel mounts fuseblk on a block device; an image
	 * file is attached to a loop device for it. */
	if (o.image && o.blkdev) {
		struct stat ist;

		if (stat(o.image, &ist) != 0) {
			fprintf(stderr, PROG ": cannot mount %s: %s\n", o.image,
				strerror(errno));
			ret = MNT_EX_FAIL;
			goto out_args;
		}
		if (S_ISREG(ist.st_mode)) {
			/* read-write when the image can be written, even for
			 * -o ro: the kernel remounts a fuseblk mount
			 * read-write only on a writable device (it writes
			 * nothing to it either way) */
			loopfd = loop_attach(o.image, 0, loopdev,
					     sizeof(loopdev));
			if (o.ro && (loopfd == -EROFS || loopfd == -EACCES ||
				     loopfd == -EPERM))
				loopfd = loop_attach(o.image, 1, loopdev,
						     sizeof(loopdev));
			if (loopfd < 0) {
				fprintf(stderr, PROG ": cannot mount %s with -o "
					"blkdev: no loop device: %s\n", o.image,
					strerror(-loopfd));
				ret = MNT_EX_SYSERR;
				goto out_args;
			}
		}
	}
	/* Name it ourselves: "subtype=chunkfs" keeps fuse_parse_cmdline
	 * from adding a default subtype from argv[0]. */
	if (o.image && add_name_opts(&args, &o, loopfd >= 0 ? loopdev :
				     NULL) != 0) {
		fprintf(stderr, PROG ": out of memory\n");
		ret = MNT_EX_SYSERR;
		goto out_args;
	}
	if (fuse_parse_cmdline(&args, &copts) != 0) {
		usage(stderr);
		goto out_args;
	}
	if (copts.show_help) {
		help();
		ret = 0;
		goto out_args;
	}
	if (copts.show_version) {
		printf(PROG " " CHUNKFS_FUSE_VERSION
		       " (chunkfs on-disk format %d)\n", CFS_VERSION);
		printf("FUSE library version %s\n", fuse_pkgversion());
		fflush(stdout); /* the next line comes from fusermount3 */
		fuse_lowlevel_version();
		ret = 0;
		goto out_args;
	}
	if (o.errors == CHUNKFS_ERRORS_REPAIR && o.ro) {
		fprintf(stderr, PROG ": errors=repair needs a read-write mount "
			"(not -o ro)\n");
		goto out_args;
	}
	if (!o.image || !copts.mountpoint) {
		fprintf(stderr, PROG ": %s\n", !o.image ?
			"no IMAGE given" : "no MOUNTPOINT given");
		usage(stderr);
		goto out_args;
	}
	ret = MNT_EX_FAIL; /* from here on, a failure is a failed mount */
	if (stat(copts.mountpoint, &st) != 0) {
		fprintf(stderr, PROG ": cannot mount %s on %s: %s\n", o.image,
			copts.mountpoint, strerror(errno));
		goto out_args;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, PROG ": cannot mount %s on %s: %s\n", o.image,
			copts.mountpoint, strerror(ENOTDIR));
		goto out_args;
	}

	log_debug = copts.debug;
	cfs_user_set_log(copts.debug ? CFS_LOG_DEBUG : CFS_LOG_WARN, 0);
	cf.ro = o.ro;
	cf.sync = o.sync;
	cf.debug = copts.debug;
	cf.errors_policy = (u32)o.errors;
	cf.acl = !o.noacl; /* op_init turns it off without kernel support */
	cf.free_warn = (u32)o.free_warn;
	cf.atime = o.atime;
	cf.nodiratime = o.nodiratime;
	cf.remount = daemon_remount;

	/* Checks the remaining options; nothing is opened yet. */
	se = fuse_session_new(&args, &cfuse_ops, sizeof(cfuse_ops), &cf);
	if (!se) {
		fprintf(stderr, PROG ": cannot mount %s: bad options\n",
			o.image);
		ret = MNT_EX_USAGE;
		goto out_args;
	}

	/* The lock: a second process gets -EBUSY here, before any mount. */
	err[0] = 0;
	r = cfs_user_open(o.image, o.ro ? CFS_OPEN_RDONLY : 0, &dev, err,
			  sizeof(err));
	if (r < 0) {
		fprintf(stderr, PROG ": cannot mount %s: %s%s\n", o.image,
			err[0] ? err : strerror(-r),
			!o.ro && (r == -EACCES || r == -EROFS || r == -EPERM) ?
			" (try -o ro)" : "");
		goto out_session;
	}
	r = cfs_mount(dev, (o.ro ? CFS_MOUNT_RDONLY : 0) |
		      (o.sync ? CFS_MOUNT_SYNC : 0), &cf.fs, &why);
	if (r < 0) {
		fprintf(stderr, PROG ": cannot mount %s: %s\n", o.image,
			why ? why : strerror(-r));
		cf.fs = NULL;
		goto out_dev;
	}
	cfs_set_acl(cf.fs, cf.acl);
	dmn.cm = &cm;
	dmn.dev = dev;
	dmn.image = o.image;
	dmn.ro = o.ro;
	if (o.commit < 0)
		o.commit = 0;
	dmn.commit = o.commit;
	dev = NULL; /* teardown's now */

	if (cfuse_health_start(&cf) != 0) {
		fprintf(stderr, PROG ": cannot mount %s: out of resources\n",
			o.image);
		ret = MNT_EX_SYSERR;
		goto out_health;
	}
	if (fuse_set_signal_handlers(se) != 0) {
		fprintf(stderr, PROG ": cannot set signal handlers\n");
		ret = MNT_EX_SYSERR;
		goto out_health;
	}
	if (fuse_session_mount(se, copts.mountpoint) != 0) {
		fprintf(stderr, PROG ": cannot mount %s on %s (see above)\n",
			o.image, copts.mountpoint);
		goto out_signals;
	}
	/* The kernel's fuseblk mount holds the loop device now; it clears
	 * itself when the kernel lets go at the unmount. */
	if (loopfd >= 0) {
		close(loopfd);
		loopfd = -1;
	}

	/* The mount is live: the parent returns 0, the child serves. */
	if (fuse_daemonize(copts.foreground) != 0) {
		fprintf(stderr, PROG ": cannot detach\n");
		ret = MNT_EX_SYSERR;
		goto out_unmount;
	}
	if (!copts.foreground) {
		openlog(PROG, LOG_PID, LOG_DAEMON);
		log_to_syslog = 1;
		cfs_user_set_log(copts.debug ? CFS_LOG_DEBUG : CFS_LOG_WARN, 1);
	}

	ret = 1; /* the daemon's own status from here on */
	if (cfuse_health_threads(&cf, se) != 0)
		goto out_unmount;
	if (o.commit < 0)
		o.commit = 0;
	if (!o.ro)
		commit_start(&cm, cf.fs, o.commit);
	cf.teardown = teardown;
	if (copts.singlethread) {
		r = fuse_session_loop(se);
	} else {
		lcfg = fuse_loop_cfg_create();
		if (!lcfg) {
			cfuse_log(CFS_LOG_ERR, "out of memory");
			goto out_unmount;
		}
		fuse_loop_cfg_set_clone_fd(lcfg, (unsigned)copts.clone_fd);
		/* UINT_MAX: not given, keep libfuse's defaults */
		if (copts.max_idle_threads != UINT_MAX)
			fuse_loop_cfg_set_idle_threads(lcfg,
						       copts.max_idle_threads);
		if (copts.max_threads && copts.max_threads != UINT_MAX)
			fuse_loop_cfg_set_max_threads(lcfg, copts.max_threads);
		r = fuse_session_loop_mt(se, lcfg);
		fuse_loop_cfg_destroy(lcfg);
	}
	/* r > 0 is the signal that ended the loop: a clean stop too. */
	if (r < 0)
		cfuse_log(CFS_LOG_ERR, "session loop: %s", strerror(-r));
	ret = 0;

out_unmount:
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_health:
	/* after a fuseblk unmount, FUSE_DESTROY did this already */
	if (cf.fs) {
		dmn.ret = ret;
		teardown(&cf);
		ret = dmn.ret;
	} else if (dmn.ret) {
		ret = dmn.ret;
	}
out_dev:
	if (dev)
		cfs_user_close(dev); /* releases the lock */
out_session:
	cf.teardown = NULL;
	fuse_session_destroy(se);
out_args:
	if (loopfd >= 0)
		close(loopfd); /* not mounted: the loop device clears */
	free(copts.mountpoint);
	free(o.image);
	free(o.mountpoint);
	fuse_opt_free_args(&args);
	if (log_to_syslog)
		closelog();
	pthread_rwlock_destroy(&cf.down_lock);
	return ret;
}
