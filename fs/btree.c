// SPDX-License-Identifier: GPL-2.0
/*
 * btree.c - one B+tree with 64-bit keys and variable-sized values, used for
 * file extents, directory entries, xattrs and each chunk's link index.
 *
 * Nodes live in blocks of the tree's own chunk (invariant 1) or, for the
 * root, inline in an inode.  A root never moves: when it is full its
 * contents are pushed down into a new block and it becomes an internal node
 * one level higher.  Inserts split full internal nodes on the way down, so a
 * parent always has room for the separator of a child that splits.  Deletes
 * free empty nodes; nodes are not merged otherwise.
 *
 * Every node read from disk is checked (block header via buf_read(), then
 * tree type, owner and node bounds here); a bad node marks the chunk suspect
 * and the operation fails with -CFS_EUCLEAN, never a crash.
 */
#include "internal.h"

#define NH(p) ((struct cfs_node_hdr *)(p))
#define ITEM_SZ ((u32)sizeof(struct cfs_item))
#define NODE_HDR ((u32)sizeof(struct cfs_node_hdr))

/* ---- internal node entries: cfs_kptr, or cfs_kptr2 with METAGEN (the
 * child's second copy and generation: FORMAT.md 16.3) ---- */

static u32 kp_sz(const struct cfs_tree *t)
{
	return t->fs->metagen ? (u32)sizeof(struct cfs_kptr2) :
				(u32)sizeof(struct cfs_kptr);
}

static u8 *kp_at(const struct cfs_tree *t, const u8 *p, u32 i)
{
	return (u8 *)p + NODE_HDR + i * kp_sz(t);
}

static u64 kp_key(const struct cfs_tree *t, const u8 *p, u32 i)
{
	u64 k;

	cfs_memcpy(&k, kp_at(t, p, i), 8);
	return k;
}

static void kp_set_key(const struct cfs_tree *t, u8 *p, u32 i, u64 k)
{
	cfs_memcpy(kp_at(t, p, i), &k, 8);
}

static struct cfs_bref kp_ref(const struct cfs_tree *t, const u8 *p, u32 i)
{
	const u8 *e = kp_at(t, p, i);
	struct cfs_bref r = { 0, 0, 0 };

	cfs_memcpy(&r.blk, e + 8, 4);
	if (t->fs->metagen) {
		cfs_memcpy(&r.blk2, e + 12, 4);
		cfs_memcpy(&r.gen, e + 16, 4);
	}
	return r;
}

static u32 kp_child(const struct cfs_tree *t, const u8 *p, u32 i)
{
	return kp_ref(t, p, i).blk;
}

static void kp_set(const struct cfs_tree *t, u8 *p, u32 i, u64 key,
		   const struct cfs_bref *r)
{
	u8 *e = kp_at(t, p, i);

	cfs_memset(e, 0, kp_sz(t));
	cfs_memcpy(e, &key, 8);
	cfs_memcpy(e + 8, &r->blk, 4);
	if (t->fs->metagen) {
		cfs_memcpy(e + 12, &r->blk2, 4);
		cfs_memcpy(e + 16, &r->gen, 4);
	}
}

/* Room for an entry at i (the ones from i on move up one). */
static void kp_open(const struct cfs_tree *t, u8 *p, u32 i)
{
	cfs_memmove(kp_at(t, p, i + 1), kp_at(t, p, i),
		    (NH(p)->nitems - i) * kp_sz(t));
	NH(p)->nitems++;
}

static void kp_close(const struct cfs_tree *t, u8 *p, u32 i)
{
	cfs_memmove(kp_at(t, p, i), kp_at(t, p, i + 1),
		    (NH(p)->nitems - i - 1) * kp_sz(t));
	NH(p)->nitems--;
}

void bt_init_node(u8 *node, u32 size)
{
	cfs_memset(node, 0, size);
	NH(node)->data_start = (u16)size;
	if (size >= 65536) /* 64 KiB blocks: data_start is 16 bits */
		NH(node)->data_start = 0xffff;
}

/* Effective node size: a 64 KiB block's node is trimmed to fit u16. */
static u32 node_size(u32 raw)
{
	return raw > 0xffff ? 0xffff : raw;
}

void tree_of_inode(struct cfs_fs *fs, struct cfs_inode *ip, u32 type,
		   struct cfs_tree *t)
{
	cfs_memset(t, 0, sizeof(*t));
	t->fs = fs;
	t->ch = ip->ch;
	t->type = type;
	t->owner = ip->local;
	t->ip = ip;
	if (type == CFS_TREE_XATTR) {
		t->root_blk = ip->d.xattr_root;
		if (fs->metagen) {
			struct cfs_dinode_tail *dt = cfs_dtail(&ip->d);

			t->root_blk2 = dt->xattr_root2;
			t->root_gen = &dt->xattr_gen;
		}
	} else {
		t->iroot = ip->d.root;
		t->iroot_size = fs->iroot_size;
	}
}

u32 bt_max_item(const struct cfs_tree *t)
{
	u32 cap = node_size(CFS_PAYLOAD(t->fs)) - NODE_HDR;

	return cap / 2 - ITEM_SZ;
}

static struct cfs_item item_get(const u8 *p, u32 i)
{
	struct cfs_item it;

	cfs_memcpy(&it, p + NODE_HDR + i * ITEM_SZ, ITEM_SZ);
	return it;
}

static void item_put(u8 *p, u32 i, const struct cfs_item *it)
{
	cfs_memcpy(p + NODE_HDR + i * ITEM_SZ, it, ITEM_SZ);
}

static u32 kptr_cap(const struct cfs_tree *t, u32 size)
{
	return (size - NODE_HDR) / kp_sz(t);
}

static u32 leaf_free(const u8 *p)
{
	return NH(p)->data_start - (NODE_HDR + NH(p)->nitems * ITEM_SZ);
}

static int bt_bad(struct cfs_tree *t, const char *why)
{
	if (!t->fs->checking)
		host_log(CFS_LOG_ERR, "chunk %u inode %u: bad tree node: %s",
			 t->ch->index, t->owner, why);
	chunk_mark_suspect(t->fs, t->ch, why);
	return -CFS_EUCLEAN;
}

/* Structural check of a node (bounds only: enough to never read outside).
 * No side effects: also the verifier that chooses between two copies. */
static const char *node_why(const struct cfs_tree *t, const u8 *p, u32 size)
{
	const struct cfs_node_hdr *h = NH(p);
	u32 i;

	if (h->level) {
		if (h->level >= BT_MAXDEPTH || h->nitems > kptr_cap(t, size))
			return "internal node out of bounds";
		return NULL;
	}
	if (NODE_HDR + (u32)h->nitems * ITEM_SZ > h->data_start ||
	    h->data_start > size)
		return "leaf header out of bounds";
	for (i = 0; i < h->nitems; i++) {
		struct cfs_item it = item_get(p, i);

		if (it.off < h->data_start || (u32)it.off + it.len > size)
			return "leaf item out of bounds";
		if (i && item_get(p, i - 1).key >= it.key)
			return "leaf keys out of order";
	}
	return NULL;
}

static int node_check(struct cfs_tree *t, const u8 *p, u32 size)
{
	const char *why = node_why(t, p, size);

	return why ? bt_bad(t, why) : 0;
}

/* The verifier of a node block read from disk (buf_read_ref): it belongs
 * to this tree and its structure is sound. */
static int node_verify(struct cfs_fs *fs, const u8 *data, const void *arg,
		       const char **why)
{
	const struct cfs_tree *t = arg;
	const struct cfs_bhdr *h = (const struct cfs_bhdr *)data;

	(void)fs;
	if (h->tree != t->type || h->owner_lo != t->owner) {
		*why = "node belongs to another tree";
		return -CFS_EUCLEAN;
	}
	*why = node_why(t, data + sizeof(*h), node_size(CFS_PAYLOAD(t->fs)));
	return *why ? -CFS_EUCLEAN : 0;
}

static int node_read(struct cfs_tree *t, const struct cfs_bref *r,
		     struct bt_node *n)
{
	int err;

	n->b = NULL;
	err = buf_read_ref(t->fs, t->ch, r, CFS_MAGIC_BTREE, node_verify, t,
			   &n->b);
	if (err) {
		n->b = NULL;
		if (err == -CFS_EUCLEAN && !t->fs->checking)
			host_log(CFS_LOG_ERR, "chunk %u inode %u: bad tree "
				 "node at block %u", t->ch->index, t->owner,
				 r->blk);
		return err;
	}
	n->p = n->b->data + sizeof(struct cfs_bhdr);
	n->size = node_size(CFS_PAYLOAD(t->fs));
	n->blk = r->blk;
	n->blk2 = r->blk2;
	return 0;
}

static int node_root(struct cfs_tree *t, struct bt_node *n)
{
	struct cfs_bref r;

	n->b = NULL;
	n->parent = NULL;
	n->blk2 = 0;
	if (t->iroot) {
		n->p = t->iroot;
		n->size = t->iroot_size;
		n->blk = 0;
		return node_check(t, n->p, n->size);
	}
	if (!t->root_blk)
		return -CFS_ENOENT;
	r.blk = t->root_blk;
	r.blk2 = t->root_blk2;
	r.gen = t->root_gen ? *t->root_gen : 0;
	if (r.blk < t->ch->hdr.data_start || r.blk >= chunk_data_end(t->ch) ||
	    (r.blk2 && (r.blk2 < t->ch->hdr.data_start ||
			r.blk2 >= chunk_data_end(t->ch))))
		return bt_bad(t, "tree root outside the data area");
	return node_read(t, &r, n);
}

/* The child at kptr idx of node par. */
static int node_load(struct cfs_tree *t, struct bt_node *par, u32 idx,
		     struct bt_node *n)
{
	struct cfs_bref r = kp_ref(t, par->p, idx);
	u32 de = chunk_data_end(t->ch);

	n->b = NULL;
	n->parent = par;
	if (r.blk < t->ch->hdr.data_start || r.blk >= de ||
	    (t->fs->dup && (r.blk2 < t->ch->hdr.data_start || r.blk2 >= de ||
			    r.blk2 == r.blk)))
		return bt_bad(t, "child pointer outside the data area");
	return node_read(t, &r, n);
}

static void node_rel(struct cfs_tree *t, struct bt_node *n)
{
	if (n->b)
		buf_put(t->fs, n->b);
	n->b = NULL;
}

static int node_dirty(struct cfs_tree *t, struct bt_node *n);

/* A node's first change in this generation: its referrer records the new
 * generation (the parent's kptr, or the root's reference in the inode or
 * the chunk header), which changes the referrer in turn. */
static int node_climb(struct cfs_tree *t, struct bt_node *n)
{
	u32 gen = buf_gen32(n->b), i;

	if (n->parent) {
		u8 *pp = n->parent->p;

		for (i = 0; i < NH(pp)->nitems; i++) {
			if (kp_child(t, pp, i) == n->blk) {
				struct cfs_bref r = kp_ref(t, pp, i);

				r.gen = gen;
				kp_set(t, pp, i, kp_key(t, pp, i), &r);
				return node_dirty(t, n->parent);
			}
		}
		return 0; /* not linked yet: the caller sets its kptr */
	}
	if (n->blk != t->root_blk || !t->root_gen)
		return 0;
	*t->root_gen = gen;
	if (t->ip)
		return inode_write(t->fs, t->ip);
	t->ch->hdr_dirty = 1;
	t->ch->changed = 1;
	return 0;
}

static int node_dirty(struct cfs_tree *t, struct bt_node *n)
{
	if (n->b) {
		if (buf_dirty(t->fs, n->b) && t->fs->metagen)
			return node_climb(t, n);
		return 0;
	}
	return t->ip ? inode_write(t->fs, t->ip) : 0;
}

/* The reference of a node made in this generation. */
static struct cfs_bref node_ref(const struct bt_node *n)
{
	struct cfs_bref r = { n->blk, n->blk2, n->b ? buf_gen32(n->b) : 0 };

	return r;
}

static int node_new(struct cfs_tree *t, struct bt_node *n)
{
	struct cfs_bhdr *h;
	struct cfs_bref r = { 0, 0, 0 };
	int err = alloc_meta_pair(t->fs, t->ch, &r.blk, &r.blk2);

	if (err)
		return err;
	err = buf_new_ref(t->fs, t->ch, &r, CFS_MAGIC_BTREE, &n->b);
	if (err) {
		free_meta_pair(t->fs, t->ch, r.blk, r.blk2);
		return err;
	}
	h = (struct cfs_bhdr *)n->b->data;
	h->tree = t->type;
	h->owner_lo = t->owner;
	n->p = n->b->data + sizeof(struct cfs_bhdr);
	n->size = node_size(CFS_PAYLOAD(t->fs));
	n->blk = r.blk;
	n->blk2 = r.blk2;
	n->parent = NULL;
	bt_init_node(n->p, n->size);
	if (t->ip) {
		t->ip->d.blocks += r.blk2 ? 2 : 1;
		/* the caller writes the inode */
	}
	return 0;
}

int bt_root_read(struct cfs_tree *t)
{
	struct bt_node n;
	int err = node_root(t, &n);

	node_rel(t, &n);
	return err;
}

u32 bt_height(struct cfs_tree *t)
{
	struct bt_node n;
	u32 h = BT_MAXDEPTH;

	if (!node_root(t, &n))
		h = NH(n.p)->level + 1u;
	node_rel(t, &n);
	return h;
}

int bt_root_new(struct cfs_fs *fs, struct cfs_chunk *ch, u32 type, u32 owner,
		struct cfs_bref *r)
{
	struct cfs_buf *b;
	struct cfs_bhdr *h;
	int err = alloc_meta_pair(fs, ch, &r->blk, &r->blk2);

	if (err)
		return err;
	err = buf_new_ref(fs, ch, r, CFS_MAGIC_BTREE, &b);
	if (err) {
		free_meta_pair(fs, ch, r->blk, r->blk2);
		return err;
	}
	h = (struct cfs_bhdr *)b->data;
	h->tree = type;
	h->owner_lo = owner;
	bt_init_node(b->data + sizeof(*h), CFS_PAYLOAD(fs));
	r->gen = buf_gen32(b);
	buf_put(fs, b);
	return 0;
}

static void node_free(struct cfs_tree *t, struct bt_node *n)
{
	u32 blk = n->blk, blk2 = n->blk2;

	node_rel(t, n);
	free_meta_pair(t->fs, t->ch, blk, blk2);
	if (t->ip)
		t->ip->d.blocks -= CFS_MIN(t->ip->d.blocks, blk2 ? 2u : 1u);
}

/* Index of the last item/kptr with key <= key, or -1. */
static int node_search(const struct cfs_tree *t, const u8 *p, u64 key)
{
	int lo = 0, hi = NH(p)->nitems - 1, r = -1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		u64 k = NH(p)->level ? kp_key(t, p, (u32)mid) :
				       item_get(p, mid).key;

		if (k <= key) {
			r = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return r;
}

/* ---- leaf editing ---- */

/* (val NULL: the value is left for the caller to fill) */
static void leaf_insert_at(u8 *p, u32 pos, u64 key, const void *val, u32 len)
{
	struct cfs_node_hdr *h = NH(p);
	struct cfs_item it;

	h->data_start -= len;
	if (val)
		cfs_memcpy(p + h->data_start, val, len);
	cfs_memmove(p + NODE_HDR + (pos + 1) * ITEM_SZ,
		    p + NODE_HDR + pos * ITEM_SZ, (h->nitems - pos) * ITEM_SZ);
	it.key = key;
	it.off = h->data_start;
	it.len = (u16)len;
	item_put(p, pos, &it);
	h->nitems++;
}

/* The values below offset `below` moved by delta bytes: their items'
 * offsets follow (only the offset fields are read: one pass, no copies). */
static void leaf_shift_offs(u8 *p, u32 below, u32 delta)
{
	u8 *e = p + NODE_HDR + __builtin_offsetof(struct cfs_item, off);
	u8 *end = e + NH(p)->nitems * ITEM_SZ;

	if (below <= NH(p)->data_start)
		return; /* (no value is below it) */
	for (; e < end; e += ITEM_SZ) {
		u16 o;

		cfs_memcpy(&o, e, 2);
		if (o < below) {
			o = (u16)(o + delta);
			cfs_memcpy(e, &o, 2);
		}
	}
}

/* The item whose value is the lowest (at data_start, not empty), or -1.
 * Searched from the last item: the value stored last is usually the
 * greatest key's (a new inode's, a new extent's). */
static int leaf_lowest(const u8 *p)
{
	const u8 *a = p + NODE_HDR;
	int i;

	for (i = NH(p)->nitems - 1; i >= 0; i--) {
		u16 o, l;

		cfs_memcpy(&o, a + (u32)i * ITEM_SZ + 8, 2);
		cfs_memcpy(&l, a + (u32)i * ITEM_SZ + 10, 2);
		if (o == NH(p)->data_start && l)
			return i;
	}
	return -1;
}

static void leaf_remove_at(u8 *p, u32 pos)
{
	struct cfs_node_hdr *h = NH(p);
	struct cfs_item it = item_get(p, pos);
	int low = it.len && it.off != h->data_start ? leaf_lowest(p) : -1;

	if (low >= 0 && item_get(p, (u32)low).len == it.len) {
		/* the lowest value, as long, fills the hole (values may be
		 * in any order): no other value moves */
		struct cfs_item lo = item_get(p, (u32)low);

		cfs_memmove(p + it.off, p + lo.off, it.len);
		lo.off = it.off;
		item_put(p, (u32)low, &lo);
	} else {
		cfs_memmove(p + h->data_start + it.len, p + h->data_start,
			    it.off - h->data_start);
		leaf_shift_offs(p, it.off, it.len);
	}
	h->data_start += it.len;
	cfs_memmove(p + NODE_HDR + pos * ITEM_SZ,
		    p + NODE_HDR + (pos + 1) * ITEM_SZ,
		    (h->nitems - pos - 1) * ITEM_SZ);
	h->nitems--;
}

/* Copy node src into dst (a different size), repacking leaf data. */
static void node_copy(const struct cfs_tree *t, u8 *dst, u32 dsize,
		      const u8 *src)
{
	u32 i, n = NH(src)->nitems;

	bt_init_node(dst, dsize);
	NH(dst)->level = NH(src)->level;
	if (NH(src)->level) {
		cfs_memcpy(dst + NODE_HDR, src + NODE_HDR, n * kp_sz(t));
		NH(dst)->nitems = (u16)n;
		return;
	}
	for (i = 0; i < n; i++) {
		struct cfs_item it = item_get(src, i);

		leaf_insert_at(dst, i, it.key, src + it.off, it.len);
	}
}


static u32 leaf_data_bytes(const u8 *p)
{
	u32 i, s = 0;

	for (i = 0; i < NH(p)->nitems; i++)
		s += item_get(p, i).len;
	return s;
}

/* Push the root's contents down into a new block; the root becomes an
 * internal node with a single child. */
static int root_push_down(struct cfs_tree *t, struct bt_node *root)
{
	struct bt_node c;
	u64 k0;
	struct cfs_bref r;
	int err = node_new(t, &c);

	if (err)
		return err;
	node_copy(t, c.p, c.size, root->p);
	node_dirty(t, &c);
	k0 = NH(root->p)->nitems ? (NH(root->p)->level ?
		kp_key(t, root->p, 0) : item_get(root->p, 0).key) : 0;
	bt_init_node(root->p, root->size);
	NH(root->p)->level = NH(c.p)->level + 1;
	NH(root->p)->nitems = 1;
	r = node_ref(&c);
	kp_set(t, root->p, 0, k0, &r);
	node_rel(t, &c);
	return node_dirty(t, root);
}

/* Split the full internal node n (child idx of parent) in two. */
static int split_internal(struct cfs_tree *t, struct bt_node *parent, u32 idx,
			  struct bt_node *n, u64 key, struct bt_node *next)
{
	struct bt_node m;
	struct cfs_bref r;
	u32 cnt = NH(n->p)->nitems, half = cnt / 2;
	int err = node_new(t, &m);

	if (err)
		return err;
	m.parent = parent;
	NH(m.p)->level = NH(n->p)->level;
	cfs_memcpy(m.p + NODE_HDR, kp_at(t, n->p, half), (cnt - half) * kp_sz(t));
	NH(m.p)->nitems = (u16)(cnt - half);
	NH(n->p)->nitems = (u16)half;
	/* separator into the parent after idx */
	kp_open(t, parent->p, idx + 1);
	r = node_ref(&m);
	kp_set(t, parent->p, idx + 1, kp_key(t, m.p, 0), &r);
	node_dirty(t, parent);
	node_dirty(t, n);
	node_dirty(t, &m);
	if (key >= kp_key(t, m.p, 0)) {
		node_rel(t, n);
		*next = m;
	} else {
		node_rel(t, &m);
		*next = *n;
	}
	return 0;
}

struct bt_ent {
	u64 key;
	const u8 *val;
	u32 len;
};

/* Split leaf n (child idx of parent) while inserting (key, val). */
static int split_leaf(struct cfs_tree *t, struct bt_node *parent, u32 idx,
		      struct bt_node *n, u64 key, const void *val, u32 len)
{
	u32 cnt = NH(n->p)->nitems, i, j, k, used, cap;
	struct bt_ent *e;
	struct bt_node m;
	u8 *copy;
	int err;

	e = host_alloc((cnt + 1) * sizeof(*e));
	copy = host_alloc(n->size);
	if (!e || !copy) {
		host_free(e);
		host_free(copy);
		return -CFS_ENOMEM;
	}
	err = node_new(t, &m);
	if (err)
		goto out;
	cfs_memcpy(copy, n->p, n->size);
	for (i = 0, j = 0; i < cnt; i++) {
		struct cfs_item it = item_get(copy, i);

		if (j == i && key < it.key) {
			e[j++] = (struct bt_ent){ key, val, len };
		}
		e[j++] = (struct bt_ent){ it.key, copy + it.off, it.len };
	}
	if (j == cnt)
		e[j++] = (struct bt_ent){ key, val, len };
	/* Appending (the new key is the largest, as file extents grow):
	 * keep the left node full.  Otherwise split where the two halves are
	 * closest in size; both always fit (items are at most half a node). */
	cap = n->size - NODE_HDR;
	{
		u32 total = 0, left = 0, best = 0, bestmax = ~0u;

		for (i = 0; i < j; i++)
			total += ITEM_SZ + e[i].len;
		for (k = 1; k < j; k++) {
			u32 mx;

			left += ITEM_SZ + e[k - 1].len;
			if (left > cap)
				break;
			if (total - left > cap)
				continue;
			mx = CFS_MAX(left, total - left);
			if (key == e[j - 1].key) {
				best = k;       /* the largest left that fits */
			} else if (mx < bestmax) {
				bestmax = mx;
				best = k;
			}
		}
		k = best ? best : 1;
		used = left;
		(void)used;
	}
	bt_init_node(n->p, n->size);
	for (i = 0; i < k; i++)
		leaf_insert_at(n->p, i, e[i].key, e[i].val, e[i].len);
	for (i = k; i < j; i++)
		leaf_insert_at(m.p, i - k, e[i].key, e[i].val, e[i].len);
	kp_open(t, parent->p, idx + 1);
	{
		struct cfs_bref r = node_ref(&m);

		kp_set(t, parent->p, idx + 1, e[k].key, &r);
	}
	m.parent = parent;
	node_dirty(t, n);
	node_dirty(t, &m);
	err = node_dirty(t, parent);
	node_rel(t, &m);
out:
	host_free(e);
	host_free(copy);
	return err;
}

int bt_insert(struct cfs_tree *t, u64 key, const void *val, u32 len)
{
	struct bt_node path[BT_MAXDEPTH];
	int depth = 0, pos, err, i;

	if (len > bt_max_item(t))
		return -CFS_E2BIG;
restart:
	err = node_root(t, &path[0]);
	if (err)
		return err;
	depth = 0;
	for (;;) {
		struct bt_node *n = &path[depth];
		u32 idx;

		if (!NH(n->p)->level)
			break;
		if (NH(n->p)->nitems == kptr_cap(t, n->size)) {
			if (depth == 0) {
				err = root_push_down(t, n);
				node_rel(t, n);
				if (err)
					return err;
				goto restart;
			}
			/* parent (depth-1) has room: split n */
			idx = (u32)node_search(t, path[depth - 1].p, key);
			if ((int)idx < 0)
				idx = 0;
			err = split_internal(t, &path[depth - 1], idx, n, key,
					     n);
			if (err)
				goto out;
		}
		if (!NH(n->p)->nitems) {
			err = bt_bad(t, "empty internal node");
			goto out;
		}
		pos = node_search(t, n->p, key);
		if (pos < 0) {
			pos = 0;
			kp_set_key(t, n->p, 0, key);
			node_dirty(t, n);
		}
		if (depth + 1 >= BT_MAXDEPTH) {
			err = bt_bad(t, "tree too deep");
			goto out;
		}
		err = node_load(t, n, (u32)pos, &path[depth + 1]);
		if (err)
			goto out;
		depth++;
	}
	{
		struct bt_node *n = &path[depth];

		pos = node_search(t, n->p, key);
		if (pos >= 0 && item_get(n->p, (u32)pos).key == key) {
			err = -CFS_EEXIST;
			goto out;
		}
		if (leaf_free(n->p) >= ITEM_SZ + len) {
			leaf_insert_at(n->p, (u32)(pos + 1), key, val, len);
			err = node_dirty(t, n);
			goto out;
		}
		if (depth == 0) {
			err = root_push_down(t, n);
			node_rel(t, n);
			if (err)
				return err;
			goto restart;
		}
		pos = node_search(t, path[depth - 1].p, key);
		err = split_leaf(t, &path[depth - 1], pos < 0 ? 0 : (u32)pos,
				 n, key, val, len);
	}
out:
	for (i = 0; i <= depth; i++)
		node_rel(t, &path[i]);
	return err;
}

/* Descend to the leaf that would hold key; path[0..*depth] loaded.  With
 * l, also the range of keys that leaf may hold (its parents' separators:
 * none below the first separator of a node, which bt_insert would lower). */
static int descend(struct cfs_tree *t, u64 key, struct bt_node *path,
		   int *depth, struct bt_leaf *l)
{
	int err = node_root(t, &path[0]), pos;

	*depth = 0;
	if (err)
		return err;
	while (NH(path[*depth].p)->level) {
		struct bt_node *n = &path[*depth];

		if (!NH(n->p)->nitems)
			return bt_bad(t, "empty internal node");
		if (*depth + 1 >= BT_MAXDEPTH)
			return bt_bad(t, "tree too deep");
		pos = node_search(t, n->p, key);
		if (pos < 0)
			pos = 0;
		if (l) {
			u64 k = kp_key(t, n->p, (u32)pos);

			if (!l->lo_set || k > l->lo)
				l->lo = k;
			l->lo_set = 1;
			if ((u32)pos + 1 < NH(n->p)->nitems) {
				k = kp_key(t, n->p, (u32)pos + 1);
				if (!l->hi_set || k < l->hi)
					l->hi = k;
				l->hi_set = 1;
			}
		}
		err = node_load(t, n, (u32)pos, &path[*depth + 1]);
		if (err)
			return err;
		(*depth)++;
	}
	return 0;
}

static void path_rel(struct cfs_tree *t, struct bt_node *path, int depth)
{
	int i;

	for (i = 0; i <= depth; i++)
		node_rel(t, &path[i]);
}

static int copy_val(const u8 *p, struct cfs_item it, void *val, u32 max,
		    u32 *len)
{
	if (len)
		*len = it.len;
	if (val)
		cfs_memcpy(val, p + it.off, CFS_MIN(max, (u32)it.len));
	return 0;
}

int bt_lookup(struct cfs_tree *t, u64 key, void *val, u32 max, u32 *len)
{
	struct bt_node path[BT_MAXDEPTH];
	int depth, err, pos;

	err = descend(t, key, path, &depth, NULL);
	if (!err) {
		u8 *p = path[depth].p;

		pos = node_search(t, p, key);
		if (pos >= 0 && item_get(p, (u32)pos).key == key)
			err = copy_val(p, item_get(p, (u32)pos), val, max, len);
		else
			err = -CFS_ENOENT;
	}
	path_rel(t, path, depth);
	return err;
}

/* Recursive neighbour search: dir < 0 finds the greatest key <= key, dir > 0
 * the smallest key >= key. */
static int find_rec(struct cfs_tree *t, struct bt_node *n, int level_guard,
		    u64 key, int dir, u64 *kout, void *val, u32 max, u32 *len)
{
	int pos = node_search(t, n->p, key), err, i, tries;

	if (!NH(n->p)->level) {
		struct cfs_item it;

		if (dir < 0) {
			if (pos < 0)
				return -CFS_ENOENT;
		} else {
			if (pos < 0 || item_get(n->p, (u32)pos).key != key)
				pos++;
			if (pos >= NH(n->p)->nitems)
				return -CFS_ENOENT;
		}
		it = item_get(n->p, (u32)pos);
		*kout = it.key;
		return copy_val(n->p, it, val, max, len);
	}
	if (level_guard >= BT_MAXDEPTH)
		return bt_bad(t, "tree too deep");
	if (pos < 0)
		pos = 0;
	for (tries = 0, i = pos; tries < 2 && i >= 0 &&
	     i < NH(n->p)->nitems; tries++, i += dir) {
		struct bt_node c;

		if (dir < 0 && tries == 0 && kp_key(t, n->p, (u32)i) > key)
			return -CFS_ENOENT; /* key below the whole tree */
		err = node_load(t, n, (u32)i, &c);
		if (err)
			return err;
		err = find_rec(t, &c, level_guard + 1, key, dir, kout, val,
			       max, len);
		node_rel(t, &c);
		if (err != -CFS_ENOENT)
			return err;
	}
	return -CFS_ENOENT;
}

static int bt_find(struct cfs_tree *t, u64 key, int dir, u64 *kout, void *val,
		   u32 max, u32 *len)
{
	struct bt_node root;
	int err = node_root(t, &root);

	if (err)
		return err;
	err = find_rec(t, &root, 0, key, dir, kout, val, max, len);
	node_rel(t, &root);
	return err;
}

int bt_find_le(struct cfs_tree *t, u64 key, u64 *kout, void *val, u32 max,
	       u32 *len)
{
	return bt_find(t, key, -1, kout, val, max, len);
}

int bt_find_ge(struct cfs_tree *t, u64 key, u64 *kout, void *val, u32 max,
	       u32 *len)
{
	return bt_find(t, key, 1, kout, val, max, len);
}

/* Pull a single child up into the root when it fits. */
static void root_pull_up(struct cfs_tree *t, struct bt_node *root)
{
	struct bt_node c;
	u32 need;

	while (NH(root->p)->level && NH(root->p)->nitems == 1) {
		if (node_load(t, root, 0, &c))
			return;
		need = NH(c.p)->level ? NODE_HDR + NH(c.p)->nitems * kp_sz(t) :
			NODE_HDR + NH(c.p)->nitems * ITEM_SZ +
			leaf_data_bytes(c.p);
		if (need > root->size) {
			node_rel(t, &c);
			return;
		}
		node_copy(t, root->p, root->size, c.p);
		node_free(t, &c);
		node_dirty(t, root);
	}
}

int bt_delete(struct cfs_tree *t, u64 key)
{
	struct bt_node path[BT_MAXDEPTH];
	int depth, err, pos, d;

	err = descend(t, key, path, &depth, NULL);
	if (err)
		goto out;
	pos = node_search(t, path[depth].p, key);
	if (pos < 0 || item_get(path[depth].p, (u32)pos).key != key) {
		err = -CFS_ENOENT;
		goto out;
	}
	leaf_remove_at(path[depth].p, (u32)pos);
	node_dirty(t, &path[depth]);
	/* free empty nodes upwards */
	for (d = depth; d > 0 && !NH(path[d].p)->nitems; d--) {
		struct bt_node *par = &path[d - 1];
		int ppos = node_search(t, par->p, key);

		if (ppos < 0)
			ppos = 0;
		node_free(t, &path[d]);
		kp_close(t, par->p, (u32)ppos);
		node_dirty(t, par);
	}
	if (!NH(path[0].p)->nitems && NH(path[0].p)->level) {
		bt_init_node(path[0].p, path[0].size);
		node_dirty(t, &path[0]);
	} else if (depth > 0) {
		/* release children before pulling up into the root */
		for (d = depth; d > 0; d--)
			node_rel(t, &path[d]);
		depth = 0;
		root_pull_up(t, &path[0]);
	}
	if (t->ip)
		err = inode_write(t->fs, t->ip);
out:
	path_rel(t, path, depth);
	return err;
}

int bt_update(struct cfs_tree *t, u64 key, const void *val, u32 len)
{
	struct bt_node path[BT_MAXDEPTH];
	int depth, err, pos;

	if (len > bt_max_item(t))
		return -CFS_E2BIG;
	err = descend(t, key, path, &depth, NULL);
	if (!err) {
		u8 *p = path[depth].p;
		struct cfs_item it;

		pos = node_search(t, p, key);
		if (pos < 0 || item_get(p, (u32)pos).key != key) {
			err = -CFS_ENOENT;
		} else {
			it = item_get(p, (u32)pos);
			if (it.len == len) {
				cfs_memcpy(p + it.off, val, len);
				err = node_dirty(t, &path[depth]);
			} else if (leaf_free(p) + it.len >= len) {
				leaf_remove_at(p, (u32)pos);
				leaf_insert_at(p, (u32)pos, key, val, len);
				err = node_dirty(t, &path[depth]);
			} else {
				err = 1; /* does not fit: delete + insert */
			}
		}
	}
	path_rel(t, path, depth);
	if (err == 1) {
		err = bt_delete(t, key);
		if (!err)
			err = bt_insert(t, key, val, len);
	}
	return err;
}

/* ---- one leaf held for changes in place (internal.h) ---- */

int bt_leaf_get(struct cfs_tree *t, u64 key, struct bt_leaf *l)
{
	int err;

	l->t = t;
	l->dirty = 0;
	l->lo_set = 0;
	l->hi_set = 0;
	l->lo = 0;
	l->hi = 0;
	l->spos_ok = 0;
	err = descend(t, key, l->path, &l->depth, l);
	if (err)
		path_rel(t, l->path, l->depth);
	return err;
}

/* Where key is (0) or would go (-CFS_ENOENT): *pos, the last item below
 * it (-1: none); BT_LEAF_NO: not a key of this leaf. */
static int leaf_pos(struct bt_leaf *l, u64 key, int *pos)
{
	u8 *p = l->path[l->depth].p;

	if ((l->lo_set && key < l->lo) || (l->hi_set && key >= l->hi))
		return BT_LEAF_NO;
	if (!l->spos_ok || l->skey != key) { /* (else: as the last time) */
		l->spos = node_search(l->t, p, key);
		l->sfound = l->spos >= 0 &&
			    item_get(p, (u32)l->spos).key == key;
		l->skey = key;
		l->spos_ok = 1;
	}
	*pos = l->spos;
	return l->sfound ? 0 : -CFS_ENOENT;
}

int bt_leaf_find(struct bt_leaf *l, u64 key, u8 **val, u32 *len)
{
	u8 *p = l->path[l->depth].p;
	int pos, err = leaf_pos(l, key, &pos);

	if (!err) {
		struct cfs_item it = item_get(p, (u32)pos);

		*val = p + it.off;
		*len = it.len;
	}
	return err;
}

int bt_leaf_insert(struct bt_leaf *l, u64 key, u32 len, u8 **val)
{
	u8 *p = l->path[l->depth].p;
	int pos, err = leaf_pos(l, key, &pos);

	if (!err)
		return -CFS_EEXIST;
	if (err != -CFS_ENOENT)
		return err;
	if (len > bt_max_item(l->t))
		return -CFS_E2BIG;
	if (leaf_free(p) < ITEM_SZ + len)
		return BT_LEAF_NO;
	leaf_insert_at(p, (u32)(pos + 1), key, NULL, len);
	*val = p + NH(p)->data_start;
	l->dirty = 1;
	l->spos_ok = 0;
	return 0;
}

int bt_leaf_resize(struct bt_leaf *l, u64 key, u32 len, u8 **val)
{
	u8 *p = l->path[l->depth].p;
	struct cfs_node_hdr *h = NH(p);
	struct cfs_item it;
	int pos, err = leaf_pos(l, key, &pos);
	u32 d;

	if (err)
		return err;
	if (len > bt_max_item(l->t))
		return -CFS_E2BIG;
	it = item_get(p, (u32)pos);
	if (len > it.len) {
		/* the values from data_start to its end move down d bytes */
		d = len - it.len;
		if (leaf_free(p) < d)
			return BT_LEAF_NO;
		cfs_memmove(p + h->data_start - d, p + h->data_start,
			    (u32)it.off + it.len - h->data_start);
		leaf_shift_offs(p, it.off, (u32)0 - d);
		h->data_start -= d;
		it.off -= d;
	} else if (len < it.len) {
		/* ... its first len bytes and the values below it up d */
		d = it.len - len;
		cfs_memmove(p + h->data_start + d, p + h->data_start,
			    (u32)it.off + len - h->data_start);
		leaf_shift_offs(p, it.off, d);
		h->data_start += d;
		it.off += d;
	}
	it.len = (u16)len;
	item_put(p, (u32)pos, &it);
	*val = p + it.off;
	l->dirty = 1;
	return 0;
}

int bt_leaf_delete(struct bt_leaf *l, u64 key)
{
	u8 *p = l->path[l->depth].p;
	int pos, err = leaf_pos(l, key, &pos);

	if (err)
		return err;
	if (l->depth && NH(p)->nitems == 1)
		return BT_LEAF_NO; /* (an empty leaf goes: bt_delete) */
	leaf_remove_at(p, (u32)pos);
	l->dirty = 1;
	l->spos_ok = 0;
	return 0;
}

int bt_leaf_rekey(struct bt_leaf *l, u64 okey, u64 nkey)
{
	u8 *p = l->path[l->depth].p, *a = p + NODE_HDR;
	struct cfs_item it;
	int i, j, err = leaf_pos(l, okey, &i);

	if (err)
		return err;
	err = leaf_pos(l, nkey, &j);
	if (!err)
		return -CFS_EEXIST;
	if (err != -CFS_ENOENT)
		return err;
	/* j: the last item below nkey; the item goes right after it */
	it = item_get(p, (u32)i);
	if (j >= i) { /* the items between move down one place */
		cfs_memmove(a + (u32)i * ITEM_SZ, a + (u32)(i + 1) * ITEM_SZ,
			    (u32)(j - i) * ITEM_SZ);
	} else {
		cfs_memmove(a + (u32)(j + 2) * ITEM_SZ,
			    a + (u32)(j + 1) * ITEM_SZ,
			    (u32)(i - j - 1) * ITEM_SZ);
		j++;
	}
	it.key = nkey;
	item_put(p, (u32)j, &it);
	l->dirty = 1;
	l->spos_ok = 0;
	return 0;
}

void bt_leaf_mark(struct bt_leaf *l)
{
	l->dirty = 1;
}

int bt_leaf_put(struct bt_leaf *l)
{
	int err = l->dirty ? node_dirty(l->t, &l->path[l->depth]) : 0;

	path_rel(l->t, l->path, l->depth);
	l->dirty = 0;
	return err;
}

static int destroy_rec(struct cfs_tree *t, struct bt_node *n, int guard)
{
	u32 i;
	int err = 0;

	if (!NH(n->p)->level)
		return 0;
	if (guard >= BT_MAXDEPTH)
		return bt_bad(t, "tree too deep");
	for (i = 0; i < NH(n->p)->nitems; i++) {
		struct bt_node c;
		int e = node_load(t, n, i, &c);

		if (e) {
			err = e;
			continue;
		}
		e = destroy_rec(t, &c, guard + 1);
		if (e)
			err = e;
		node_free(t, &c);
	}
	return err;
}

int bt_destroy(struct cfs_tree *t)
{
	struct bt_node root;
	int err = node_root(t, &root);

	if (err == -CFS_ENOENT)
		return 0;
	if (err)
		return err;
	err = destroy_rec(t, &root, 0);
	bt_init_node(root.p, root.size);
	node_dirty(t, &root);
	node_rel(t, &root);
	return err;
}

static int count_rec(struct cfs_tree *t, struct bt_node *n, int guard, u64 *c)
{
	u32 i;

	if (!NH(n->p)->level)
		return 0;
	if (guard >= BT_MAXDEPTH)
		return bt_bad(t, "tree too deep");
	for (i = 0; i < NH(n->p)->nitems; i++) {
		struct bt_node ch;
		int e = node_load(t, n, i, &ch);

		if (e)
			return e;
		(*c)++;
		e = count_rec(t, &ch, guard + 1, c);
		node_rel(t, &ch);
		if (e)
			return e;
	}
	return 0;
}

int bt_count_blocks(struct cfs_tree *t, u64 *n)
{
	struct bt_node root;
	int err = node_root(t, &root);

	*n = 0;
	if (err == -CFS_ENOENT)
		return 0;
	if (err)
		return err;
	if (root.b)
		(*n)++;
	err = count_rec(t, &root, 0, n);
	node_rel(t, &root);
	return err;
}

/* ---- the checker's walk ----
 * Visits every node below the root (ops->node, with its block) and every
 * leaf item (ops->item).  A child that cannot be read or fails its checks
 * is reported (ops->bad) and, when fix is set, cut from its parent; so is a
 * child that ops->node rejects (a block claimed twice).  Items for which
 * ops->item returns 1 are deleted after the walk (when fix is set). */
struct walk_state {
	struct cfs_tree *t;
	const struct bt_walk_ops *ops;
	void *ctx;
	int fix;
	u64 *del;
	u32 ndel, capdel;
	int err;
	int changed;          /* a node was cut (the inline root may be one) */
};

static void walk_del(struct walk_state *w, u64 key)
{
	if (w->ndel == w->capdel) {
		u32 cap = w->capdel ? w->capdel * 2 : 32;
		u64 *n = host_alloc(cap * sizeof(*n));

		if (!n) {
			w->err = -CFS_ENOMEM;
			return;
		}
		if (w->del)
			cfs_memcpy(n, w->del, w->ndel * sizeof(*n));
		host_free(w->del);
		w->del = n;
		w->capdel = cap;
	}
	w->del[w->ndel++] = key;
}

/* Are the keys of node n inside [lo, hi) (hi_set: hi is a bound)?
 * Keys outside their parent's separators cannot be found by a lookup. */
static int keys_in_range(const struct cfs_tree *t, const u8 *p, u64 lo,
			 u64 hi, int hi_set)
{
	u32 i, n = NH(p)->nitems;

	for (i = 0; i < n; i++) {
		u64 k = NH(p)->level ? kp_key(t, p, i) : item_get(p, i).key;

		if ((i && NH(p)->level && k <= kp_key(t, p, i - 1)) ||
		    k < lo || (hi_set && k >= hi))
			return 0;
	}
	return 1;
}

/* Do the values of leaf p overlap?  (Each is in bounds, node_why
 * checked; overlapping ones make an update of one write into another.)
 * The checker's walk only: a bitmap of the value area. */
static int values_overlap(const u8 *p, u32 size)
{
	u8 *used = host_alloc(size / 8 + 1);
	u32 i, b;
	int bad = 0;

	if (!used)
		return 0;
	for (i = 0; !bad && i < NH(p)->nitems; i++) {
		struct cfs_item it = item_get(p, i);

		for (b = it.off; b < (u32)it.off + it.len; b++) {
			if (used[b / 8] & (1u << (b % 8))) {
				bad = 1;
				break;
			}
			used[b / 8] |= (u8)(1u << (b % 8));
		}
	}
	host_free(used);
	return bad;
}

/* Returns 1 if the node ended up empty (the caller cuts it). */
static int walk_rec(struct walk_state *w, struct bt_node *n, int depth,
		    u64 lo, u64 hi, int hi_set)
{
	u32 i;

	if (!NH(n->p)->level && n->b && values_overlap(n->p, n->size)) {
		/* as unreadable: cut by the caller's parent */
		w->ops->bad(w->ctx, n->blk, "leaf values overlap");
		return 1;
	}
	if (!NH(n->p)->level) {
		for (i = 0; i < NH(n->p)->nitems; i++) {
			struct cfs_item it = item_get(n->p, i);
			int r = w->ops->item(w->ctx, it.key, n->p + it.off, it.len);

			if (r == 1)
				walk_del(w, it.key);
			else if (r < 0 && !w->err)
				w->err = r;
		}
		return 0;
	}
	for (i = 0; i < NH(n->p)->nitems; ) {
		struct cfs_bref r = kp_ref(w->t, n->p, i);
		u32 blk = r.blk;
		struct bt_node c;
		int cut = 0, e;

		if (depth + 1 >= BT_MAXDEPTH) {
			w->ops->bad(w->ctx, blk, "tree too deep");
			cut = 1;
		} else if ((e = node_load(w->t, n, i, &c)) != 0) {
			if (e == -CFS_ENOMEM) {
				w->err = e;
				return 0;
			}
			w->ops->bad(w->ctx, blk, "unreadable or corrupt node");
			cut = 1;
		} else {
			u64 clo = i ? kp_key(w->t, n->p, i) : lo;
			int last = i + 1 >= NH(n->p)->nitems;
			u64 chi = last ? hi : kp_key(w->t, n->p, i + 1);
			int chi_set = last ? hi_set : 1;

			if (NH(c.p)->level + 1 != NH(n->p)->level) {
				w->ops->bad(w->ctx, blk, "node at the wrong level");
				cut = 1;
			} else if (!keys_in_range(w->t, c.p, clo, chi, chi_set)) {
				w->ops->bad(w->ctx, blk, "keys outside the node's range");
				cut = 1;
			} else if (w->ops->node(w->ctx, blk, c.blk2) < 0) {
				cut = 1;
			} else if (walk_rec(w, &c, depth + 1, clo, chi, chi_set)) {
				cut = 1;
				if (w->fix) {
					/* an empty child: its blocks are dropped */
					w->ops->node_dropped(w->ctx, blk, c.blk2);
				}
			}
			node_rel(w->t, &c);
		}
		if (cut && w->fix) {
			kp_close(w->t, n->p, i);
			node_dirty(w->t, n);
			w->changed = 1;
			continue;
		}
		i++;
	}
	return NH(n->p)->nitems == 0;
}

int bt_walk(struct cfs_tree *t, const struct bt_walk_ops *ops, void *ctx,
	    int fix)
{
	struct walk_state w = { t, ops, ctx, fix, NULL, 0, 0, 0, 0 };
	struct bt_node root;
	u32 i;
	int err = node_root(t, &root);

	if (err)
		return err;
	if (walk_rec(&w, &root, 0, 0, 0, 0) && fix) {
		/* every child was cut: an empty leaf root again */
		bt_init_node(root.p, root.size);
		node_dirty(t, &root);
		w.changed = 1;
	}
	node_rel(t, &root);
	for (i = 0; fix && !w.err && i < w.ndel; i++) {
		err = bt_delete(t, w.del[i]);
		if (err && err != -CFS_ENOENT)
			w.err = err;
	}
	host_free(w.del);
	/* the inline root lives in the inode: written when the walk changed
	 * the tree (nothing is written for a tree found good) */
	if (!w.err && t->ip && fix && (w.changed || w.ndel))
		w.err = inode_write(t->fs, t->ip);
	return w.err;
}
