/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * chunkfs_ioctl.h - the ioctls a mounted chunkfs answers on its mount point
 * (any file or directory of it): scrub a chunk, read the health of every
 * chunk, read the events, list the files with a part in a chunk and name
 * an inode by path.  The same numbers and layouts for the FUSE mount
 * and the kernel module.  Installed by `make install` as
 * <chunkfs/chunkfs_ioctl.h> (with host.h, for the u32/u64 types).
 *
 * This header includes nothing from the system (fs/ never does): include
 * <sys/ioctl.h> (userspace) or <linux/ioctl.h> (kernel) before using the
 * CHUNKFS_IOC_* numbers, which are spelled with _IOWR.
 *
 * All structures have fixed sizes under 16 KiB (what a FUSE "restricted"
 * ioctl can carry) and the same layout on 32- and 64-bit hosts.
 */
#ifndef CHUNKFS_IOCTL_H
#define CHUNKFS_IOCTL_H

#include "host.h"

#define CHUNKFS_IOC_TYPE 0xCF

/* ---- scrub one chunk: CHUNKFS_IOC_SCRUB ----
 * Checks chunk `chunk` online (and repairs it with CHUNKFS_SCRUB_REPAIR)
 * with the same checker as fsck.chunkfs, while the filesystem stays
 * mounted.  Returns 0 when the check ran (see found/fixed/state), or -1
 * with errno: EINVAL no such chunk or unknown flags, EROFS repair on a
 * read-only mount, EPERM not root, EIO the check could not run.  Scrubs
 * of one filesystem run one after the other.  A check that finds nothing
 * records the chunk as verified (clean, with the time), repair or not. */
#define CHUNKFS_SCRUB_REPAIR 0x1
/* Also read every data block of the chunk and compare it with its
 * checksum (format v2, DATASUM): each damaged range is a problem event
 * (found, never fixed), data_bad counts the blocks, blocks_read the data
 * blocks too; a chunk counts as verified (health) only when its data was
 * read and found good. */
#define CHUNKFS_SCRUB_DATA 0x2
/* Out, in flags: the check (and repair) had to run under the filesystem
 * lock, all operations waiting, because the filesystem kept changing
 * what it read (see locked_ns).  Normally it runs on a private instance
 * and only its result is installed under the lock. */
#define CHUNKFS_SCRUB_LOCKED 0x100
struct chunkfs_scrub {
	u32 chunk;            /* in */
	u32 flags;            /* in: CHUNKFS_SCRUB_* */
	u32 found;            /* out: problems found */
	u32 fixed;            /* out: of which fixed */
	u32 state;            /* out: chunk state afterwards (CFS_CHUNK_*) */
	u32 lost_found;       /* out: inodes moved to lost+found */
	u64 duration_ns;      /* out: time the scrub took */
	u64 blocks_read;      /* out: metadata blocks read (and data blocks:
			       * CHUNKFS_SCRUB_DATA) */
	u32 peers;            /* out: peer chunks the cross pass visited */
	u32 passes;           /* out: private passes run (a pass is run again
			       * when what it read changed meanwhile) */
	u64 locked_ns;        /* out: time other operations had to wait */
	u32 corrected;        /* out: bad copies of blocks rewritten from the
			       * good copy (format v2), apart from problems */
	u32 data_bad;         /* out: CHUNKFS_SCRUB_DATA: data blocks that do
			       * not match their checksums */
};
#define CHUNKFS_IOC_SCRUB _IOWR(CHUNKFS_IOC_TYPE, 1, struct chunkfs_scrub)

/* ---- health of the chunks: CHUNKFS_IOC_HEALTH ----
 * Fills up to CHUNKFS_HEALTH_MAX entries from chunk `first` on; call again
 * with first += count until first >= nchunks. */
struct chunkfs_chunk_health {
	u32 chunk;
	u32 state;            /* CFS_CHUNK_*: 1 clean, 2 dirty, 3 suspect,
			       * 4 damaged, 5 repairing */
	u64 verified_gen;     /* mount count at the last clean check */
	s64 verified_time;    /* seconds since the epoch, 0: never; format
			       * v2 with data checksums: the last time its
			       * metadata and its data were both verified */
	u64 errors_found;
	u64 errors_fixed;
	u32 nblocks, free_blocks;
	u32 ninodes, free_inodes;
	u64 errors_corrected; /* format v2: bad copies of metadata blocks
			       * found and healed from the good copy */
	u64 data_errors;      /* format v2: data blocks that failed their
			       * checksum (reads, scrubs) */
};
#define CHUNKFS_HEALTH_MAX 128
#define CHUNKFS_HEALTH_RDONLY 0x1 /* mounted (or now) read-only */
struct chunkfs_health {
	u32 first;            /* in */
	u32 count;            /* out: entries filled */
	u32 nchunks;          /* out: chunks in the filesystem */
	u32 flags;            /* out: CHUNKFS_HEALTH_* */
	u64 mount_gen;        /* out: the superblock's mount count */
	u32 block_size;       /* out */
	u32 errors_policy;    /* out: CHUNKFS_ERRORS_* */
	struct chunkfs_chunk_health c[CHUNKFS_HEALTH_MAX];
};
#define CHUNKFS_IOC_HEALTH _IOWR(CHUNKFS_IOC_TYPE, 2, struct chunkfs_health)

/* Mount option errors=: what an I/O or checksum error does. */
#define CHUNKFS_ERRORS_CONTINUE 0  /* EIO for the object, chunk suspect */
#define CHUNKFS_ERRORS_REMOUNT_RO 1 /* ... and the filesystem read-only */
#define CHUNKFS_ERRORS_REPAIR 2    /* ... and the chunk scrubbed at once */

/* ---- events: CHUNKFS_IOC_EVENTS ----
 * Returns the events with seq > after, oldest first, up to
 * CHUNKFS_EVENTS_MAX; `lost` counts those already overwritten in the
 * filesystem's ring.  A program follows the stream by passing the last seq
 * it saw; the FUSE mount also offers it as a pollable file (chunkfs-fuse(8)),
 * the kernel module through the filesystem error notification. */
#define CHUNKFS_EV_INFO 0
#define CHUNKFS_EV_WARNING 1
#define CHUNKFS_EV_ERROR 2
#define CHUNKFS_EV_THRESHOLD 3
/* Stable event codes (docs/DESIGN.md, "Events"). */
#define CHUNKFS_E_CHECKSUM 1      /* warning: a block failed verification */
#define CHUNKFS_E_IO 2            /* error: a read or write failed */
#define CHUNKFS_E_SUSPECT 3       /* error: chunk marked suspect */
#define CHUNKFS_E_REPAIRED 4      /* info: chunk repaired */
#define CHUNKFS_E_UNREPAIRED 5    /* error: chunk could not be repaired */
#define CHUNKFS_E_SCRUBBED 6      /* info: chunk scrubbed, found clean */
#define CHUNKFS_E_FREE_LOW 7      /* threshold: free space below the level */
#define CHUNKFS_E_FREE_OK 8       /* threshold: back above it */
#define CHUNKFS_E_READONLY 9      /* error: errors=remount-ro took effect */
#define CHUNKFS_E_JOURNAL 10      /* error: a chunk's journal not replayed */
#define CHUNKFS_E_PROBLEMS 11     /* warning: scrub found problems, not
				   * repaired (check-only scrub) */
#define CHUNKFS_E_PROBLEM 12      /* one problem a scrub found: warning if
				   * fixed, error if not; `problem` is the
				   * checker's code (docs/PROBLEMS.md), the
				   * message "chunk K: NAME[ block B][
				   * [DETAIL]] -- fixed|not fixed" (sent
				   * before the scrub's summary event) */
#define CHUNKFS_E_CORRECTED 13    /* warning: a bad copy of a block was found
				   * and rewritten from the good one (format
				   * v2): nothing is wrong any more */
#define CHUNKFS_E_DATA 14         /* error: a file data block does not match
				   * its checksum (DATASUM): the read got
				   * EIO; `ino` is the file, the message
				   * names it and the byte range */
#define CHUNKFS_NO_CHUNK 0xffffffffu
struct chunkfs_event {
	u64 seq;
	s64 time_sec;
	u32 time_nsec;
	u32 severity;         /* CHUNKFS_EV_* */
	u32 code;             /* CHUNKFS_E_* */
	u32 chunk;            /* CHUNKFS_NO_CHUNK if none */
	u64 ino;              /* 0 if none */
	u32 count;            /* identical events folded into this one */
	u32 problem;          /* CHUNKFS_E_PROBLEM: the problem code; else 0 */
	char msg[96];         /* one line, NUL-terminated */
	u32 flags;            /* internal; 0 */
	u32 pad;
	char path[232];       /* the path of inode `ino` (format v2: from its
			       * parent pointers, when the event was made or
			       * first read; a lost file's from the name
			       * backup); "" if unknown.  A longer path keeps
			       * its end, after "..." */
};
#define CHUNKFS_EVENTS_MAX 40
struct chunkfs_events {
	u64 after;            /* in */
	u64 last;             /* out: seq of the newest event there is */
	u32 count;            /* out: entries filled */
	u32 lost;             /* out: events after `after` no longer kept */
	struct chunkfs_event e[CHUNKFS_EVENTS_MAX];
};
#define CHUNKFS_IOC_EVENTS _IOWR(CHUNKFS_IOC_TYPE, 3, struct chunkfs_events)

/* ---- what losing a chunk would cost: CHUNKFS_IOC_CHUNK_FILES ----
 * The files that have a part in chunk `chunk`: their inode (and with it
 * their attributes, xattrs and the data kept in their home), file data
 * (a continuation of the file in the chunk) or directory entries (the
 * directory's home or a continuation of it in the chunk), found by
 * reading the chunk's inode table (a continuation names its file through
 * its back link).  Nothing is written.  Call with cursor 0, then again
 * with the cursor it returns until CHUNKFS_CF_END is set; one file can be
 * listed twice across calls only on a damaged chunk (merge by ino).  A
 * call reads a bounded part of the table, so it may return no entry
 * without being at the end.  Returns 0, or -1 with errno: EINVAL no such
 * chunk, EPERM not root (it names inodes of every directory), EIO the
 * chunk's header cannot be read.  The same numbers as fsck.chunkfs's
 * blast radius after the chunk is lost (docs/DESIGN.md, "Healing"). */
#define CHUNKFS_PART_INODE 0x1    /* the inode (a file's or a directory's
				   * home) is in the chunk */
#define CHUNKFS_PART_DATA 0x2     /* file data (or a long symlink's
				   * target) is in the chunk */
#define CHUNKFS_PART_ENTRIES 0x4  /* directory entries are in the chunk */
#define CHUNKFS_PART_ORPHAN 0x8   /* a continuation whose file is gone:
				   * `ino` is the continuation's own */
#define CHUNKFS_PART_XATTRS 0x10  /* some of its xattrs are in the chunk
				   * (an xattr continuation) */
#define CHUNKFS_CF_END 0x1        /* out: the whole table was read */
#define CHUNKFS_CF_INCOMPLETE 0x2 /* out: a block of the table could not
				   * be read; its inodes are not listed */
struct chunkfs_chunk_file {
	u64 ino;              /* the file (origin) */
	u32 parts;            /* CHUNKFS_PART_* */
	u32 mode;             /* its type and permissions (the type only
			       * when its inode could not be read) */
};
#define CHUNKFS_CHUNK_FILES_MAX 1000
struct chunkfs_chunk_files {
	u32 chunk;            /* in */
	u32 flags;            /* out: CHUNKFS_CF_* */
	u64 cursor;           /* in/out: where to go on (0: the start) */
	u32 count;            /* out: entries filled */
	u32 nchunks;          /* out: chunks in the filesystem */
	struct chunkfs_chunk_file f[CHUNKFS_CHUNK_FILES_MAX];
};
#define CHUNKFS_IOC_CHUNK_FILES \
	_IOWR(CHUNKFS_IOC_TYPE, 4, struct chunkfs_chunk_files)

/* ---- the names of an inode: CHUNKFS_IOC_PATH ----
 * Name `index` (0 .. count-1) of inode `ino` as a path from the root,
 * from its parent pointers (format v2, PPTR), without walking the
 * namespace; a continuation's is its file's.  The root is "/" (one
 * name).  Returns 0, or -1 with errno: ENOENT no such inode, no name
 * known, or index >= count (count is set when the inode has names),
 * EOPNOTSUPP the filesystem has no parent pointers (mkfs -O ^pptr, -O
 * v1), ENAMETOOLONG the path does not fit, EPERM not root. */
#define CHUNKFS_PATH_MAX 4064
struct chunkfs_path {
	u64 ino;              /* in */
	u32 index;            /* in */
	u32 count;            /* out: the inode's names */
	u32 len;              /* out: strlen(path) */
	u32 reserved;
	u64 parent;           /* out: the directory holding this name */
	char path[CHUNKFS_PATH_MAX]; /* out, NUL-terminated */
};
#define CHUNKFS_IOC_PATH _IOWR(CHUNKFS_IOC_TYPE, 5, struct chunkfs_path)

/* ---- journal activity of the mount: CHUNKFS_IOC_JOURNAL ----
 * The counts since the filesystem was mounted (docs/DESIGN.md, "Crash
 * consistency").  `overflows` counts the chunk transactions written in
 * place because they did not fit their journal: no operation should make
 * one (issue 16), so anything but 0 is worth a report.  For anyone who
 * can open a file of the mount; nothing is input. */
struct chunkfs_journal {
	u64 commits;          /* journal commits */
	u64 splits;           /* of which inside a long operation, between
			       * its rounds */
	u64 overflows;        /* chunk transactions written in place */
	u64 flushes;          /* device flushes the commits issued */
	u64 journal_writes;   /* blocks written to journals */
	u64 replayed_chunks;  /* at mount: journals replayed */
	u64 replayed_blocks;
	u64 replay_failed;    /* chunks whose journal could not be replayed */
	u64 reserved[8];      /* 0 */
};
#define CHUNKFS_IOC_JOURNAL \
	_IOWR(CHUNKFS_IOC_TYPE, 6, struct chunkfs_journal)

CFS_STATIC_ASSERT(sizeof(struct chunkfs_scrub) == 64, "scrub size");
CFS_STATIC_ASSERT(sizeof(struct chunkfs_chunk_health) == 72, "health size");
CFS_STATIC_ASSERT(sizeof(struct chunkfs_health) == 32 + 72 * 128, "health");
CFS_STATIC_ASSERT(sizeof(struct chunkfs_event) == 384, "event size");
CFS_STATIC_ASSERT(sizeof(struct chunkfs_events) == 24 + 384 * 40, "events");
CFS_STATIC_ASSERT(sizeof(struct chunkfs_chunk_file) == 16, "chunk file");
CFS_STATIC_ASSERT(sizeof(struct chunkfs_chunk_files) == 24 + 16 * 1000,
		  "chunk files");
CFS_STATIC_ASSERT(sizeof(struct chunkfs_path) == 4096, "path size");
CFS_STATIC_ASSERT(sizeof(struct chunkfs_journal) == 128, "journal size");

#endif
