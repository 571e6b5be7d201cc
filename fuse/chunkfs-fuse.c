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
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "cfuse.h"
#include "../fs/chunkfs.h"
#include "../fs/user/user.h"

#define PROG "chunkfs-fuse"
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
	int ro;
	int sync;
	int commit;   /* seconds between write-backs; 0: only at sync/unmount */
	int have_fsname;
	int have_subtype;
	int errors;   /* errors=: CHUNKFS_ERRORS_* */
	int free_warn; /* free_warn=: percent, 0 off */
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
};


static const struct fuse_opt cf_opt_spec[] = {
	FUSE_OPT_KEY("ro", KEY_RO),
	FUSE_OPT_KEY("rw", KEY_RW),
	FUSE_OPT_KEY("sync", KEY_SYNC),
	FUSE_OPT_KEY("async", KEY_ASYNC),
	FUSE_OPT_KEY("fsname=", KEY_FSNAME),
	FUSE_OPT_KEY("subtype=", KEY_SUBTYPE),
	FUSE_OPT_KEY("errors=", KEY_ERRORS),
	FUSE_OPT_KEY("free_warn=", KEY_FREE_WARN),
	{ "commit=%d", offsetof(struct cf_opts, commit), 0 },
	FUSE_OPT_END
};

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
		return 1;
	case KEY_RO:
		o->ro = 1;
		return 1;
	case KEY_RW:
		o->ro = 0;
		return 1;
	case KEY_SYNC:
		o->sync = 1;
		return 1;
	case KEY_ASYNC:
		o->sync = 0;
		return 1;
	case KEY_FSNAME:
		o->have_fsname = 1;
		return 1;
	case KEY_SUBTYPE:
		o->have_subtype = 1;
		return 1;
	case KEY_ERRORS: /* ours only: not passed on */
		arg += strlen("errors=");
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
		char *end;
		long v;

		arg += strlen("free_warn=");
		errno = 0;
		v = strtol(arg, &end, 10);
		if (!*arg || *end || errno || v < 0 || v > 100) {
			fprintf(stderr, PROG ": bad option free_warn=%s (a "
				"percentage, 0 to 100; 0: no warning)\n", arg);
			o->bad = 1;
		} else {
			o->free_warn = (int)v;
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
	       "    -o allow_other         let other users use the mount\n"
	       "    -o default_permissions let the kernel check permissions\n"
	       "\n");
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

/* fsname=<absolute image path>,subtype=chunkfs, so that the mount shows as
 * "IMAGE on DIR type fuse.chunkfs" and cfs_user_is_mounted(IMAGE) finds
 * it. */
static int add_name_opts(struct fuse_args *args, const struct cf_opts *o)
{
	char *opts = NULL, *tmp;
	char real[PATH_MAX];
	const char *src = o->image;
	int r = 0;

	if (realpath(o->image, real))
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
	char err[512];
	int ret = 1, r;

	memset(&o, 0, sizeof(o));
	memset(&cf, 0, sizeof(cf));
	memset(&cm, 0, sizeof(cm));
	o.commit = 5;
	o.free_warn = 5;
	memset(&copts, 0, sizeof(copts));

	if (fuse_opt_parse(&args, &o, cf_opt_spec, cf_opt_proc) != 0) {
		usage(stderr);
		goto out_args;
	}
	if (o.bad)
		goto out_args;
	/* Name it ourselves: "subtype=chunkfs" keeps fuse_parse_cmdline
	 * from adding a default subtype from argv[0]. */
	if (o.image && add_name_opts(&args, &o) != 0) {
		fprintf(stderr, PROG ": out of memory\n");
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
	cf.free_warn = (u32)o.free_warn;

	/* Checks the remaining options; nothing is opened yet. */
	se = fuse_session_new(&args, &cfuse_ops, sizeof(cfuse_ops), &cf);
	if (!se) {
		fprintf(stderr, PROG ": cannot mount %s: bad options\n",
			o.image);
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

	if (cfuse_health_start(&cf) != 0) {
		fprintf(stderr, PROG ": cannot mount %s: out of resources\n",
			o.image);
		goto out_health;
	}
	if (fuse_set_signal_handlers(se) != 0) {
		fprintf(stderr, PROG ": cannot set signal handlers\n");
		goto out_health;
	}
	if (fuse_session_mount(se, copts.mountpoint) != 0) {
		fprintf(stderr, PROG ": cannot mount %s on %s (see above)\n",
			o.image, copts.mountpoint);
		goto out_signals;
	}

	/* The mount is live: the parent returns 0, the child serves. */
	if (fuse_daemonize(copts.foreground) != 0) {
		fprintf(stderr, PROG ": cannot detach\n");
		goto out_unmount;
	}
	if (!copts.foreground) {
		openlog(PROG, LOG_PID, LOG_DAEMON);
		log_to_syslog = 1;
		cfs_user_set_log(copts.debug ? CFS_LOG_DEBUG : CFS_LOG_WARN, 1);
	}

	if (cfuse_health_threads(&cf, se) != 0)
		goto out_unmount;
	if (o.commit < 0)
		o.commit = 0;
	if (!o.ro)
		commit_start(&cm, cf.fs, o.commit);
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
	if (!o.ro)
		commit_stop(&cm);
	/* r > 0 is the signal that ended the loop: a clean stop too. */
	if (r < 0)
		cfuse_log(CFS_LOG_ERR, "session loop: %s", strerror(-r));
	ret = 0;

out_unmount:
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_health:
	/* the repair thread stopped, no hook: nothing runs beside us */
	cfuse_health_stop(&cf);
	/* Every request has been answered: write everything, mark clean. */
	r = cfs_unmount(cf.fs);
	if (r < 0) {
		cfuse_log(CFS_LOG_ERR, "unmounting %s: %s", o.image,
			  strerror(-r));
		ret = 1;
	}
	cf.fs = NULL;
out_dev:
	cfs_user_close(dev); /* releases the lock */
out_session:
	fuse_session_destroy(se);
out_args:
	free(copts.mountpoint);
	free(o.image);
	fuse_opt_free_args(&args);
	if (log_to_syslog)
		closelog();
	return ret;
}
