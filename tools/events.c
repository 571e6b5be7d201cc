// SPDX-License-Identifier: GPL-2.0
/*
 * events.c - "chunkfs events MOUNT [--follow] [--json]": the health events
 * of a mounted chunkfs (checksum errors, suspect chunks, repairs, free
 * space thresholds...), read with CHUNKFS_IOC_EVENTS (the FUSE mount and
 * the kernel module alike), as the lines of chunkfs-fuse's events file:
 * "SEQ TIME.NSEC SEVERITY CODE CHUNK INO COUNT MESSAGE[<TAB>PATH]".  --follow looks
 * again when the mount table changes or every second, opening the mount
 * only for each look, until SIGINT or SIGTERM (0) or the filesystem goes
 * away (1).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chunkfs.h"


static void events_usage(FILE *f)
{
	fprintf(f, "Usage: %s events MOUNT [--follow] [--json]\n"
		"Print the health events of the chunkfs mounted on MOUNT (any "
		"file or directory\nof it), oldest first.  --follow: then "
		"wait for new ones and print them as\nthey come, until "
		"interrupted (exit 0) or until the filesystem goes away\n"
		"(exit 1); no file of it is kept open meanwhile, so it can be "
		"unmounted.\n--json: one JSON object per line.\n", tool_prog);
}

/* One line of the events file, printed for people or as JSON. */
static void print_event(char *line, int json)
{
	char *f[8], *save = NULL, *p = line, *path = strchr(line, '\t');
	unsigned long long sec = 0;
	unsigned nsec = 0;
	int i;

	if (path) {
		*path++ = 0;
		cfs_event_path_unescape(path);
	}

	for (i = 0; i < 7; i++) {
		f[i] = strtok_r(p, " ", &save);
		p = NULL;
		if (!f[i])
			break;
	}
	f[7] = save; /* the message: the rest of the line */
	if (i < 7 || sscanf(f[1], "%llu.%u", &sec, &nsec) < 1) {
		/* not a line we know: pass it on as it is */
		if (json) {
			printf("{\"raw\": ");
			json_str(stdout, line);
			printf("}\n");
		} else {
			printf("%s\n", line);
		}
		return;
	}
	if (!f[7])
		f[7] = "";
	if (json) {
		printf("{\"seq\": %s, \"time\": %llu.%09u, \"severity\": ", f[0],
		       sec, nsec);
		json_str(stdout, f[2]);
		printf(", \"code\": ");
		json_str(stdout, f[3]);
		printf(", \"chunk\": %s, \"ino\": %s, \"path\": ",
		       strcmp(f[4], "-") ? f[4] : "null",
		       strcmp(f[5], "-") ? f[5] : "null");
		if (path)
			json_str(stdout, path);
		else
			printf("null");
		printf(", \"count\": %s, \"message\": ", f[6]);
		json_str(stdout, f[7]);
		printf("}\n");
	} else {
		time_t t = (time_t)sec;
		struct tm tm;
		char tb[32] = "?";

		if (localtime_r(&t, &tm))
			strftime(tb, sizeof(tb), "%Y-%m-%d %H:%M:%S", &tm);
		printf("%s.%03u  %-9s %-10s %s", tb, nsec / 1000000, f[2],
		       f[3], f[7]);
		if (path)
			printf(" (%s, inode %s)", path, f[5]);
		else if (strcmp(f[5], "-"))
			printf(" (inode %s)", f[5]);
		if (strcmp(f[6], "1"))
			printf(" (x%s)", f[6]);
		printf("\n");
	}
}

/* Prints the events after *after (and moves it on); returns how many, or
 * -errno (ENOTTY: not a chunkfs). */
static long print_new(int fd, u64 *after, int json)
{
	static struct chunkfs_events ev;
	char line[1536];
	long n = 0;
	u32 i;

	do {
		memset(&ev, 0, sizeof(ev));
		ev.after = *after;
		if (ioctl(fd, CHUNKFS_IOC_EVENTS, &ev) < 0)
			return -errno;
		if (ev.lost && !json)
			printf("(%u older event%s no longer kept)\n", ev.lost,
			       ev.lost == 1 ? "" : "s");
		for (i = 0; i < ev.count; i++) {
			size_t l;

			cfs_event_line(&ev.e[i], line, sizeof(line));
			l = strlen(line);
			if (l && line[l - 1] == '\n')
				line[l - 1] = 0;
			print_event(line, json);
			*after = ev.e[i].seq;
			n++;
		}
	} while (ev.count);
	fflush(stdout);
	return n;
}

/* Opens path on the mount, reads the new events, closes it again: no file
 * of the filesystem stays open between two looks, so --follow never keeps
 * it busy (umount works while it runs).  Returns >= 0, or -errno;
 * -ENOENT when path is no longer the filesystem it was (dev). */
static long look(const char *path, dev_t dev, u64 *after, int json)
{
	struct stat st;
	long n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || (dev && st.st_dev != dev)) {
		close(fd);
		return -ENOENT;
	}
	n = print_new(fd, after, json);
	close(fd);
	return n;
}

int cmd_events(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int follow = 0, json = 0, opt, mi = -1;
	const char *path;
	struct stat st;
	u64 after = 0;
	long n;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "fjh", lopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			follow = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			events_usage(stdout);
			return 0;
		default:
			events_usage(stderr);
			return 1;
		}
	}
	if (optind + 1 != argc) {
		tool_err(optind >= argc ? "events: no mount point given" :
			 "events: one mount point only");
		events_usage(stderr);
		return 1;
	}
	path = argv[optind];
	if (stat(path, &st) < 0) {
		tool_err("cannot open %s: %s", path, strerror(errno));
		return 1;
	}
	n = look(path, st.st_dev, &after, json);
	if (n == -ENOTTY || n == -EINVAL || n == -ENOSYS) {
		tool_err("%s is not on a mounted chunkfs filesystem", path);
		return 1;
	}
	if (n < 0) {
		tool_err("%s: reading the events: %s", path,
			 strerror((int)-n));
		return 1;
	}
	if (!follow)
		return 0;
	/* The mount table changing (an unmount) wakes poll() on mountinfo
	 * at once; otherwise a look every second. */
	mi = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	tool_catch_stop();
	while (!tool_stop) {
		struct pollfd p = { .fd = mi, .events = POLLPRI };

		if (poll(&p, mi >= 0 ? 1 : 0, 1000) < 0 && errno != EINTR)
			break;
		if (tool_stop)
			break;
		n = look(path, st.st_dev, &after, json);
		if (n < 0) {
			if (mi >= 0)
				close(mi);
			if (n == -ENOENT || n == -ENOTCONN || n == -ENODEV ||
			    n == -ENOTTY)
				tool_err("%s: the filesystem went away "
					 "(unmounted)", path);
			else
				tool_err("%s: reading the events: %s", path,
					 strerror((int)-n));
			return 1;
		}
	}
	if (mi >= 0)
		close(mi);
	return 0;
}
