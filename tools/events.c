// SPDX-License-Identifier: GPL-2.0
/*
 * events.c - "chunkfs events MOUNT [--follow] [--json]": the health events
 * of a mounted chunkfs (checksum errors, suspect chunks, repairs, free
 * space thresholds...), read from MOUNT/.chunkfs/events, the stream
 * chunkfs-fuse offers (chunkfs-fuse(8)): each line "SEQ TIME.NSEC SEVERITY
 * CODE CHUNK INO COUNT MESSAGE".  --follow waits with poll() for more
 * until SIGINT or SIGTERM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chunkfs.h"

#define EV_BUF 65536

static void events_usage(FILE *f)
{
	fprintf(f, "Usage: %s events MOUNT [--follow] [--json]\n"
		"Print the health events of the chunkfs mounted on MOUNT "
		"(from MOUNT/.chunkfs/events),\noldest first.  --follow: then "
		"wait for new ones and print them as they come,\nuntil "
		"interrupted.  --json: one JSON object per line.\n", tool_prog);
}

/* One line of the events file, printed for people or as JSON. */
static void print_event(char *line, int json)
{
	char *f[8], *save = NULL, *p = line;
	unsigned long long sec = 0;
	unsigned nsec = 0;
	int i;

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
		printf(", \"chunk\": %s, \"ino\": %s, \"count\": %s, "
		       "\"message\": ", strcmp(f[4], "-") ? f[4] : "null",
		       strcmp(f[5], "-") ? f[5] : "null", f[6]);
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
		if (strcmp(f[5], "-"))
			printf(" (inode %s)", f[5]);
		if (strcmp(f[6], "1"))
			printf(" (x%s)", f[6]);
		printf("\n");
	}
}

/* Reads what there is; prints whole lines, keeps a partial one in buf.
 * Returns bytes read (0: nothing new) or -errno. */
static ssize_t drain(int fd, char *buf, size_t *have, int json)
{
	ssize_t n, total = 0;

	for (;;) {
		char *nl, *start;

		n = read(fd, buf + *have, EV_BUF - 1 - *have);
		if (n < 0) {
			if (errno == EINTR && !tool_stop)
				continue;
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -errno;
		}
		if (n == 0)
			break;
		total += n;
		*have += (size_t)n;
		buf[*have] = 0;
		start = buf;
		while ((nl = strchr(start, '\n'))) {
			*nl = 0;
			print_event(start, json);
			start = nl + 1;
		}
		*have -= (size_t)(start - buf);
		memmove(buf, start, *have);
		if (*have >= EV_BUF - 1) { /* a line longer than the buffer */
			buf[*have] = 0;
			print_event(buf, json);
			*have = 0;
		}
	}
	fflush(stdout);
	return total;
}

int cmd_events(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int follow = 0, json = 0, opt, fd, ret = 0;
	size_t have = 0;
	char *path, *buf;
	ssize_t n;

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
	if (asprintf(&path, "%s/.chunkfs/events", argv[optind]) < 0) {
		tool_err("out of memory");
		return 1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT || e == ENOTDIR)
			tool_err("%s is not the root of a mounted chunkfs "
				 "(no %s)", argv[optind], path);
		else
			tool_err("cannot open %s: %s", path, strerror(e));
		free(path);
		return 1;
	}
	buf = malloc(EV_BUF);
	if (!buf) {
		tool_err("out of memory");
		close(fd);
		free(path);
		return 1;
	}
	tool_catch_stop();
	n = drain(fd, buf, &have, json);
	while (n >= 0 && follow && !tool_stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		/* a timeout too: a daemon gone shows as a read error */
		int r = poll(&p, 1, 2000);

		if (r < 0 && errno != EINTR) {
			n = -errno;
			break;
		}
		if (r == 0) {
			n = drain(fd, buf, &have, json);
		} else if (r > 0) {
			if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) {
				/* the filesystem went away */
				drain(fd, buf, &have, json);
				break;
			}
			n = drain(fd, buf, &have, json);
		}
	}
	if (n < 0) {
		if (n == -ENOTCONN || n == -ENODEV)
			tool_err("%s: the filesystem was unmounted", path);
		else
			tool_err("reading %s: %s", path, strerror((int)-n));
		ret = 1;
	}
	free(buf);
	close(fd);
	free(path);
	return ret;
}
