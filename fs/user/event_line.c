// SPDX-License-Identifier: GPL-2.0
/*
 * event_line.c - a health event (chunkfs_ioctl.h) as one line of text:
 *
 *   SEQ TIME.NSEC SEVERITY CODE CHUNK INO COUNT MESSAGE[<TAB>PATH]
 *
 * PATH, the file's path when known, after a tab, with a tab, newline,
 * backslash or other control character in it as \ooo (octal, as in
 * /proc/mounts); the message has no tab.  This is the format of chunkfs-fuse's /.chunkfs/events file and what
 * `chunkfs events` reads (CHUNK and INO are "-" when none).
 */
#include <stdio.h>
#include <string.h>

#include "../chunkfs_ioctl.h"
#include "user.h"

static const char *const sev_names[] = { "info", "warning", "error",
					 "threshold" };
static const char *const code_names[] = {
	NULL, "checksum", "io", "suspect", "repaired", "unrepaired",
	"scrubbed", "free-low", "free-ok", "readonly", "journal", "problems",
	"problem", "corrected", "data",
};

const char *cfs_event_sev_name(u32 sev, char *buf, unsigned long size)
{
	if (sev < sizeof(sev_names) / sizeof(sev_names[0]))
		return sev_names[sev];
	snprintf(buf, size, "severity-%u", sev);
	return buf;
}

const char *cfs_event_code_name(u32 code, char *buf, unsigned long size)
{
	if (code < sizeof(code_names) / sizeof(code_names[0]) &&
	    code_names[code])
		return code_names[code];
	snprintf(buf, size, "code-%u", code);
	return buf;
}

int cfs_event_line(const struct chunkfs_event *e, char *buf,
		   unsigned long size)
{
	char chunk[16], ino[24], sb[24], cb[24], msg[sizeof(e->msg)];
	char path[4 * sizeof(e->path) + 2];
	size_t i, o = 0;

	if (e->chunk == CHUNKFS_NO_CHUNK)
		strcpy(chunk, "-");
	else
		snprintf(chunk, sizeof(chunk), "%u", e->chunk);
	if (!e->ino)
		strcpy(ino, "-");
	else
		snprintf(ino, sizeof(ino), "%llu", (unsigned long long)e->ino);
	for (i = 0; i < sizeof(msg) - 1 && e->msg[i]; i++)
		msg[i] = (e->msg[i] == '\n' || e->msg[i] == '\r' ||
			  e->msg[i] == '\t') ? ' ' : e->msg[i];
	msg[i] = 0;
	if (e->path[0])
		path[o++] = '\t';
	for (i = 0; i < sizeof(e->path) && e->path[i]; i++) {
		unsigned char ch = (unsigned char)e->path[i];

		if (ch < 0x20 || ch == '\\' || ch == 0x7f)
			o += (size_t)sprintf(path + o, "\\%03o", ch);
		else
			path[o++] = (char)ch;
	}
	path[o] = 0;
	return snprintf(buf, size, "%llu %lld.%09u %s %s %s %s %u %s%s\n",
			(unsigned long long)e->seq, (long long)e->time_sec,
			e->time_nsec, cfs_event_sev_name(e->severity, sb,
							 sizeof(sb)),
			cfs_event_code_name(e->code, cb, sizeof(cb)), chunk,
			ino, e->count, msg, path);
}

/* Undo the escapes of an events line's PATH (in place). */
void cfs_event_path_unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
}
