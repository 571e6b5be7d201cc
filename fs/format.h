/* SPDX-License-Identifier: GPL-2.0 */
/*
 * format.h - chunkfs on-disk format, version 1.  docs/FORMAT.md is the prose
 * form of this file; the two change together.
 *
 * All fields are little-endian.  Block numbers inside a chunk are 32-bit and
 * relative to the chunk's first block ("local"); absolute block numbers are
 * 64-bit.  An inode number is (chunk << 32) | local inode number.
 */
#ifndef CFS_FORMAT_H
#define CFS_FORMAT_H

#include "host.h"

#define CFS_VERSION 1
#define CFS_MIN_BLOCK_SIZE 1024
#define CFS_MAX_BLOCK_SIZE 65536
#define CFS_MIN_CHUNK_BYTES (4ULL << 20)   /* 4 MiB */
#define CFS_DEFAULT_CHUNK_BYTES (1ULL << 30)
#define CFS_SB_BLOCK 0                     /* primary superblock */
#define CFS_SB2_BLOCK 1                    /* its copy */
#define CFS_FIRST_CHUNK_BLOCK 2            /* chunk 0 starts here */
#define CFS_NAME_MAX 255
#define CFS_SYMLINK_MAX 4095
#define CFS_MAX_CHUNKS (1U << 19)          /* readdir cookies hold 19 bits */
#define CFS_INODE_SIZE 256
#define CFS_ROOT_LOCAL 1                   /* root dir: chunk 0, local 1 */
#define CFS_ROOT_INO 1ULL
#define CFS_LOST_FOUND_LOCAL 2              /* /lost+found: chunk 0, local 2 */
#define CFS_MAX_FILE_BYTES (1ULL << 44)    /* 16 TiB */

/* Block types (cfs_bhdr.magic). */
#define CFS_MAGIC_SUPER 0x53534643u   /* "CFSS" */
#define CFS_MAGIC_CHUNK 0x48434643u   /* "CFCH" chunk header */
#define CFS_MAGIC_BBMAP 0x42424643u   /* "CFBB" block bitmap */
#define CFS_MAGIC_IBMAP 0x42494643u   /* "CFIB" inode bitmap */
#define CFS_MAGIC_ITABLE 0x54494643u  /* "CFIT" inode table */
#define CFS_MAGIC_BTREE 0x54424643u   /* "CFBT" B+tree node */
#define CFS_MAGIC_JOURNAL 0x4c4a4643u /* "CFJL" journal descriptor */
#define CFS_MAGIC_GTAB 0x54474643u    /* "CFGT" generation table (METAGEN) */
#define CFS_MAGIC_CSUM 0x53434643u    /* "CFCS" checksum region (DATASUM) */

/* Feature bits.  compat: ignorable; ro_compat: mount read-only if unknown;
 * incompat: refuse to mount if unknown.  fsck refuses any unknown bit. */
#define CFS_FEAT_COMPAT_SUPP 0u
#define CFS_FEAT_RO_COMPAT_PPTR 0x1u   /* parent pointers, name backup */
#define CFS_FEAT_RO_COMPAT_SUPP CFS_FEAT_RO_COMPAT_PPTR
#define CFS_FEAT_INCOMPAT_JOURNAL 0x1u /* chunk journals + sb commit group */
/* Format v2 (FORMAT.md section 16). */
#define CFS_FEAT_INCOMPAT_METAGEN 0x2u /* generations in every reference */
#define CFS_FEAT_INCOMPAT_DUP 0x4u     /* second copies of metadata */
#define CFS_FEAT_INCOMPAT_DATASUM 0x8u /* a checksum of every data block */
#define CFS_FEAT_INCOMPAT_XCONT 0x10u  /* xattr continuations (FORMAT.md
					* 10.3.2): an inode's xattrs spill
					* into another chunk */
#define CFS_FEAT_INCOMPAT_DIROVF 0x20u /* directory hash items continue in
					* overflow items (CFS_DKEY_OVF) */
#define CFS_FEAT_INCOMPAT_HASHBITS 0x40u /* tests only: directory hashes of
					  * g.dir_hash_bits bits */
#define CFS_FEAT_INCOMPAT_SUPP (CFS_FEAT_INCOMPAT_JOURNAL | \
				CFS_FEAT_INCOMPAT_METAGEN | \
				CFS_FEAT_INCOMPAT_DUP | \
				CFS_FEAT_INCOMPAT_DATASUM | \
				CFS_FEAT_INCOMPAT_XCONT | \
				CFS_FEAT_INCOMPAT_DIROVF | \
				CFS_FEAT_INCOMPAT_HASHBITS)
/* Features that need METAGEN. */
#define CFS_FEAT_INCOMPAT_NEED_MG (CFS_FEAT_INCOMPAT_DUP | \
				   CFS_FEAT_INCOMPAT_DATASUM)

/* Every metadata block starts with this header (64 bytes).  crc is crc32
 * (zlib) of bytes 4 .. block_size-1 of the block. */
struct cfs_bhdr {
	u32 crc;
	u32 magic;
	u8 uuid[16];
	u32 chunk;     /* chunk index; CFS_NO_CHUNK for the superblock */
	u32 owner_lo;  /* B+tree nodes: local inode owning the tree, else 0 */
	u64 blkno;     /* absolute block number of this block */
	u64 wgen;      /* fs write generation when written */
	u32 tree;      /* B+tree nodes: CFS_TREE_* */
	u32 reserved[3];
};
#define CFS_NO_CHUNK 0xffffffffu
CFS_STATIC_ASSERT(sizeof(struct cfs_bhdr) == 64, "bhdr size");

/* Geometry: in the superblock and repeated in every chunk header, so the
 * superblock can be rebuilt from any chunk header. */
struct cfs_geom {
	u32 version;
	u32 block_size;
	u64 total_blocks;     /* blocks covered by the fs */
	u32 chunk_blocks;     /* nominal blocks per chunk (last may be shorter) */
	u32 nchunks;
	u32 inode_ratio;      /* bytes per inode */
	u32 journal_blocks;   /* nominal journal blocks per chunk */
	u32 feat_compat;
	u32 feat_ro_compat;
	u32 feat_incompat;
	u32 hash_seed;
	u8 uuid[16];
	char label[64];
	s64 mkfs_time;
	u32 reserve_pct;      /* placement reserve, percent of a chunk */
	u32 dir_hash_bits;    /* HASHBITS (tests): bits of the directory
			       * hashes, 1 .. 34; else 0 (35 bits) */
	u8 reserved[64];
};
CFS_STATIC_ASSERT(sizeof(struct cfs_geom) == 208, "geom size");

struct cfs_super {
	struct cfs_bhdr h;
	struct cfs_geom g;
	u64 mount_count;
	s64 last_mount_time;
	s64 last_write_time;
	u32 state;            /* CFS_FS_CLEAN / CFS_FS_DIRTY */
	u32 reserved;
	/* Journal (FORMAT.md "Journal").  A chunk's journal transaction is
	 * committed when its group is <= commit_group: this superblock write
	 * is the single commit point of every chunk that took part. */
	u64 commit_group;
	u32 jmap_bits;        /* chunks covered by the map (0: no map) */
	u32 jmap_off;         /* byte offset of the map in this block */
	/* The map: bit K set if chunk K took part in commit_group's commit,
	 * so its journal may hold a transaction to replay.  When nchunks is
	 * larger than the map can hold, jmap_bits is 0 and every chunk's
	 * journal is looked at. */
};
CFS_STATIC_ASSERT(sizeof(struct cfs_super) == 64 + 208 + 48, "super size");
#define CFS_JMAP_OFF 512      /* sb.jmap_off as mkfs and mount write it */
#define CFS_FS_CLEAN 1
#define CFS_FS_DIRTY 2

/* Chunk states (invariant 7). */
#define CFS_CHUNK_CLEAN 1
#define CFS_CHUNK_DIRTY 2     /* being written */
#define CFS_CHUNK_SUSPECT 3   /* an I/O or checksum error was seen */
#define CFS_CHUNK_DAMAGED 4
#define CFS_CHUNK_REPAIRING 5

/* Chunk header: local block 0 of the chunk and, as a copy, the chunk's last
 * block.  Layout fields are local block numbers. */
struct cfs_chunk_hdr {
	struct cfs_bhdr h;
	struct cfs_geom g;
	u32 index;
	u32 nblocks;          /* blocks in this chunk */
	u32 ninodes;          /* inodes in this chunk (local 1 .. ninodes-1) */
	u32 bbmap_start, bbmap_blocks;
	u32 ibmap_start, ibmap_blocks;
	u32 itable_start, itable_blocks;
	u32 itable_init;      /* inode table blocks initialised so far */
	u32 journal_start, journal_blocks;
	u32 data_start;
	u32 free_blocks;
	u32 free_inodes;
	u32 state;            /* CFS_CHUNK_* */
	u32 link_root;        /* local block of the link index root node */
	u32 link_count;       /* entries in the link index */
	u32 next_gen;         /* next inode generation to hand out */
	u32 lost_found;       /* local inode of this chunk's lost+found, or 0 */
	u64 verified_gen;     /* mount_count at the last clean check */
	s64 verified_time;
	u64 errors_found, errors_fixed;
	/* Format v2 (FORMAT.md 16.5); zero in v1 (v1 writes bytes 448-511 of
	 * the block as zero too). */
	u32 gtab_start, gtab_blocks;   /* METAGEN: generation table */
	u32 csum_start, csum_blocks;   /* DATASUM: checksum region */
	u32 mirror_start;              /* DUP: the mirror region */
	u32 link_root2, link_gen;      /* the link index root's copy, gen32 */
	u32 pptr_root, pptr_root2, pptr_gen;   /* PPTR */
	u32 nbak_root, nbak_root2, nbak_gen;   /* PPTR */
	u32 reserved2;
	u64 errors_corrected;          /* bad copies rewritten from good ones */
	u64 data_errors;               /* DATASUM: data blocks found bad */
	u64 data_verified_gen;
	s64 data_verified_time;
	u8 reserved3[40];
	/* then, at byte 512 of the block: u32 gtab_gen[gtab_blocks] */
};
CFS_STATIC_ASSERT(sizeof(struct cfs_chunk_hdr) == 512, "chunk header size");
CFS_STATIC_ASSERT(__builtin_offsetof(struct cfs_chunk_hdr, gtab_start) == 384,
		  "v2 header fields");
CFS_STATIC_ASSERT(__builtin_offsetof(struct cfs_chunk_hdr, errors_corrected) ==
		  440, "errors_corrected");
#define CFS_GTAB_GEN_OFF 512  /* the generation table's gens in the header */

/* Journal: local blocks journal_start .. journal_start + journal_blocks - 1
 * of a chunk hold at most one transaction: `ndesc` descriptor blocks (this
 * header, then `nentries` cfs_jentry), then `nimages` block images, exact
 * copies of the blocks to write, in entry order.  A descriptor is an ordinary
 * metadata block (magic CFS_MAGIC_JOURNAL, its own block number, crc); an
 * image is checked by the crc32 of the whole block its entry records.  The
 * transaction is committed iff 0 < group <= sb.commit_group. */
struct cfs_jdesc {
	struct cfs_bhdr h;
	u64 group;
	u32 seq;              /* index of this descriptor in the transaction */
	u32 ndesc;
	u32 nimages;
	u32 nentries;         /* entries in this descriptor block */
	u32 reserved[2];
};
CFS_STATIC_ASSERT(sizeof(struct cfs_jdesc) == 96, "jdesc size");
struct cfs_jentry {
	u32 local;            /* target block (local 0: the chunk header, written
			       * to both copies) */
	u32 crc;              /* crc32 of the whole image block */
};
/* METAGEN: entries name both homes of a copied block (FORMAT.md 16.8). */
struct cfs_jentry2 {
	u32 local;
	u32 local2;           /* DUP: the second copy's home, else 0 */
	u32 crc;
	u32 flags;
};
CFS_STATIC_ASSERT(sizeof(struct cfs_jentry2) == 16, "jentry2 size");

/* Inode flags */
#define CFS_IF_CONT 0x1       /* continuation inode (has a back link) */
#define CFS_IF_INLINE_LINK 0x2 /* symlink target stored in i_root */
#define CFS_IF_XCONT 0x4      /* with CFS_IF_CONT: an xattr continuation
			       * (XCONT), holding some of its origin's xattrs */

#define CFS_IROOT_SIZE 144
#define CFS_IROOT_SIZE_MG 128  /* METAGEN: the root area's last 16 bytes
				* are struct cfs_dinode_tail */

/* On-disk inode, 256 bytes, CFS_INODE_SIZE. */
struct cfs_dinode {
	u16 mode;             /* S_IF* | permissions, Linux values */
	u16 flags;            /* CFS_IF_* */
	u32 nlink;            /* dirs: 2 + subdirs; dir continuations: subdirs here */
	u32 uid, gid;
	u32 gen;              /* generation of this local inode number */
	u32 rdev;             /* device number, Linux new_encode_dev() form */
	u64 size;             /* file size in bytes (origins; 0 in conts) */
	u64 blocks;           /* blocks held by this inode in this chunk */
	s64 atime, mtime, ctime, btime;
	u32 atime_ns, mtime_ns, ctime_ns, btime_ns;
	u32 parent;           /* dirs: local inode of the dir part holding its entry */
	u32 xattr_root;       /* local block of the xattr tree root, or 0 */
	u32 back_chunk;       /* continuations: origin chunk */
	u32 back_ino;         /* continuations: origin local inode */
	u32 back_gen;         /* continuations: origin generation */
	u32 nconts;           /* origins: continuation inodes (forward links) */
	u8 root[CFS_IROOT_SIZE]; /* inline B+tree root, or inline symlink */
};
CFS_STATIC_ASSERT(sizeof(struct cfs_dinode) == CFS_INODE_SIZE, "inode size");
CFS_STATIC_ASSERT(__builtin_offsetof(struct cfs_dinode, root) == 112, "root");
/* METAGEN: inode bytes 240-255 (FORMAT.md 16.5). */
struct cfs_dinode_tail {
	u32 xattr_root2;      /* DUP: the xattr root's second copy */
	u32 xattr_gen;        /* gen32 of the xattr root */
	u32 iflags2;          /* CFS_IF2_* */
	u32 reserved;
};
#define CFS_IF2_NODATASUM 0x1
CFS_STATIC_ASSERT(112 + CFS_IROOT_SIZE_MG + sizeof(struct cfs_dinode_tail) ==
		  CFS_INODE_SIZE, "inode tail");
static inline struct cfs_dinode_tail *cfs_dtail(struct cfs_dinode *d)
{
	return (struct cfs_dinode_tail *)(d->root + CFS_IROOT_SIZE_MG);
}

/* ---- B+trees ----
 * A node lives either in a whole block (after the cfs_bhdr) or in an inode's
 * root area.  Layout of a node of S bytes:
 *   struct cfs_node_hdr
 *   leaf:     nitems x cfs_item (growing up), item data packed at the end
 *   internal: nitems x cfs_kptr
 * A tree's root never moves: when it overflows its contents move to a new
 * block and the root becomes an internal node one level higher. */
struct cfs_node_hdr {
	u16 nitems;
	u8 level;             /* 0 = leaf */
	u8 pad;
	u16 data_start;       /* leaf: offset (from node start) of lowest data */
	u16 pad2;
};
CFS_STATIC_ASSERT(sizeof(struct cfs_node_hdr) == 8, "node hdr");

struct cfs_item {             /* leaf item header, 12 bytes, unaligned use */
	u64 key;
	u16 off;              /* from node start */
	u16 len;
} __attribute__((packed));
CFS_STATIC_ASSERT(sizeof(struct cfs_item) == 12, "item size");

struct cfs_kptr {             /* internal node entry */
	u64 key;              /* lowest key in the child */
	u32 child;            /* local block */
	u32 pad;
};
CFS_STATIC_ASSERT(sizeof(struct cfs_kptr) == 16, "kptr size");
/* METAGEN internal node entry (FORMAT.md 16.3). */
struct cfs_kptr2 {
	u64 key;
	u32 child;            /* first copy */
	u32 child2;           /* DUP: second copy, else 0 */
	u32 gen;              /* gen32 of the child */
	u32 pad;
};
CFS_STATIC_ASSERT(sizeof(struct cfs_kptr2) == 24, "kptr2 size");

/* Trees (cfs_bhdr.tree) */
#define CFS_TREE_EXTENT 1     /* regular files: key = logical block */
#define CFS_TREE_DIR 2        /* directories: key = name hash / link key */
#define CFS_TREE_XATTR 3      /* key = xattr name hash */
#define CFS_TREE_LINK 4       /* chunk link index: key = peer << 32 | local */
#define CFS_TREE_PPTR 5       /* parent pointers: key = local << 32 | hash */
#define CFS_TREE_NBAK 6       /* name backup of the chunk before: the same */

/* A parent pointer record (FORMAT.md 16.7), packed in an item of the
 * parent pointer tree (or the name backup) under local << 32 | hash. */
struct cfs_pptr {
	u64 parent;           /* the directory's (home) inode number */
	u32 pgen;             /* its gen */
	u16 mode;             /* directories: the inode's mode, else 0 */
	u8 flags;
	u8 namelen;
	u32 uid, gid;         /* directories: the inode's owner, else 0 */
	/* then namelen bytes of the name */
} __attribute__((packed));
CFS_STATIC_ASSERT(sizeof(struct cfs_pptr) == 24, "pptr record");

/* Extent tree values: an 8-byte data extent or a 16-byte continuation. */
#define CFS_EXT_UNWRITTEN 0x80000000u
struct cfs_dext {             /* len low 31 bits; UNWRITTEN: reads as zero */
	u32 pblk;             /* local block */
	u32 len;
};
struct cfs_cext {             /* forward link: this range lives in a continuation */
	u32 len;
	u32 chunk;
	u32 ino;              /* local inode in that chunk */
	u32 gen;
};
CFS_STATIC_ASSERT(sizeof(struct cfs_dext) == 8, "dext");
CFS_STATIC_ASSERT(sizeof(struct cfs_cext) == 16, "cext");

/* Directory tree: keys below CFS_DKEY_OVF are 35-bit name hashes whose
 * value is one or more packed cfs_dirent; keys CFS_DKEY_CONT | chunk hold a
 * cfs_dcont forward link to the directory's continuation in that chunk.
 * DIROVF: the names of hash h that do not fit its item continue in
 * overflow items, keys CFS_DKEY_OVF | h << 8 | seq (seq 1 .. 255, gaps
 * allowed), each of packed cfs_dirent too; they exist only beside the
 * item of key h. */
#define CFS_DKEY_CONT (1ULL << 63)
#define CFS_DKEY_OVF (1ULL << 62)
#define CFS_HASH_BITS 35
struct cfs_dirent {
	u32 ino;              /* local inode: always in this tree's chunk */
	u8 type;              /* CFS_FT_* */
	u8 namelen;
	char name[];
} __attribute__((packed));
CFS_STATIC_ASSERT(sizeof(struct cfs_dirent) == 6, "dirent");
struct cfs_dcont {
	u32 chunk;
	u32 ino;
	u32 gen;
	u32 pad;
};
#define CFS_FT_UNKNOWN 0
#define CFS_FT_REG 1
#define CFS_FT_DIR 2
#define CFS_FT_CHR 3
#define CFS_FT_BLK 4
#define CFS_FT_FIFO 5
#define CFS_FT_SOCK 6
#define CFS_FT_LNK 7

/* Xattr tree: key = (55-bit hash of the name) << 8; the item holds the
 * cfs_xattr records whose names share the hash.  A value too large for the
 * item (CFS_XATTR_EXT) is stored in the items key+1, key+2, ... each as full
 * as an item can be; the record then holds no value bytes itself. */
#define CFS_XATTR_EXT 0x1
/* XCONT: keys CFS_XKEY_CONT | chunk of an origin's xattr tree hold a
 * cfs_dcont (chunk, ino, gen): the forward link to its xattr continuation in
 * that chunk (name hashes use bits 8-62 only). */
#define CFS_XKEY_CONT (1ULL << 63)
#define CFS_XATTR_MAX_VALUE 65536
struct cfs_xattr {
	u8 namelen;
	u8 flags;
	u16 ilen;             /* value bytes stored inline after the name */
	u32 vlen;             /* value length */
	char data[];          /* name, then the inline value */
} __attribute__((packed));
CFS_STATIC_ASSERT(sizeof(struct cfs_xattr) == 8, "xattr record");

/* Link index: key = peer chunk << 32 | local inode. */
#define CFS_LINK_FWD_FILE 1   /* local origin file -> continuation in peer */
#define CFS_LINK_FWD_DIR 2    /* local origin dir -> continuation in peer */
#define CFS_LINK_BACK_FILE 3  /* local continuation -> origin file in peer */
#define CFS_LINK_BACK_DIR 4   /* local continuation -> origin dir in peer */
#define CFS_LINK_ORPHAN 5     /* key CFS_ORPHAN_PEER << 32 | local: an inode
			       * unlinked while still in use (link count 0),
			       * freed when its last user goes or, after a
			       * crash, by the next mount that uses the chunk */
#define CFS_ORPHAN_PEER 0xffffffffu
/* XCONT (FORMAT.md 10.3.2): an xattr continuation's links.  The forward
 * entry's key has CFS_LINK_XLOCAL set in its local part (locals are below
 * 2^31), so an origin keeps one xattr link and one file or directory link
 * per peer chunk. */
#define CFS_LINK_FWD_XATTR 6  /* local origin -> xattr continuation in peer */
#define CFS_LINK_BACK_XATTR 7 /* local xattr continuation -> origin in peer */
#define CFS_LINK_XLOCAL 0x80000000u
struct cfs_link {
	u32 kind;
	u32 peer_ino;
	u32 peer_gen;
	u32 local_gen;
};

/* Mode bits (Linux values). */
#define CFS_S_IFMT 0170000
#define CFS_S_IFSOCK 0140000
#define CFS_S_IFLNK 0120000
#define CFS_S_IFREG 0100000
#define CFS_S_IFBLK 0060000
#define CFS_S_IFDIR 0040000
#define CFS_S_IFCHR 0020000
#define CFS_S_IFIFO 0010000
#define CFS_S_ISUID 04000
#define CFS_S_ISGID 02000
#define CFS_S_IXGRP 00010
#define CFS_ISDIR(m) (((m) & CFS_S_IFMT) == CFS_S_IFDIR)
#define CFS_ISREG(m) (((m) & CFS_S_IFMT) == CFS_S_IFREG)
#define CFS_ISLNK(m) (((m) & CFS_S_IFMT) == CFS_S_IFLNK)

#endif
