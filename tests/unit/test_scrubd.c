// SPDX-License-Identifier: GPL-2.0
/*
 * test_scrubd.c - the logic of chunkfs-scrubd without a mount: the order
 * in which chunks are picked, the budget, the config parser (values,
 * units, errors), the state file (round trip, merge of two writers, bad
 * lines) and mount-table unescaping.  tools/scrubd.c is compiled in
 * without its main().
 */
#pragma GCC diagnostic ignored "-Wunused-function"
#define SCRUBD_NO_MAIN
#include "../../tools/scrubd.c"
#include "../lib/tap.h"

static struct chunkfs_chunk_health hh[16];

static void set(u32 k, u32 state, s64 vt)
{
	hh[k].chunk = k;
	hh[k].state = state;
	hh[k].verified_time = vt;
}

static void test_pick(void)
{
	u32 out[16], k;
	int ranks[16], n;
	s64 ours[16] = { 0 };

	for (k = 0; k < 8; k++)
		set(k, ST_CLEAN, 1000);
	/* all equal: cursor order from next */
	n = pick_chunks(hh, 8, 5, NULL, 2000, 3600, 4, out, ranks);
	CHECK_EQ(n, 4);
	CHECK_EQ(out[0], 5);
	CHECK_EQ(out[1], 6);
	CHECK_EQ(out[2], 7);
	CHECK_EQ(out[3], 0);
	CHECK_EQ(ranks[0], 3);
	/* next out of range: from 0 */
	n = pick_chunks(hh, 8, 99, NULL, 2000, 3600, 2, out, ranks);
	CHECK_EQ(n, 2);
	CHECK_EQ(out[0], 0);
	/* suspect, damaged, dirty first, in that order; then the oldest */
	set(2, ST_DIRTY, 1000);
	set(6, ST_SUSPECT, 1000);
	set(4, ST_DAMAGED, 1000);
	set(1, ST_CLEAN, 500);
	set(5, ST_CLEAN, 1500);
	n = pick_chunks(hh, 8, 5, NULL, 2000, 3600, 8, out, ranks);
	CHECK_EQ(n, 8);
	CHECK_EQ(out[0], 6);
	CHECK_EQ(out[1], 4);
	CHECK_EQ(out[2], 2);
	CHECK_EQ(out[3], 1);   /* oldest verified */
	CHECK_EQ(out[4], 7);   /* then 1000s in cursor order from 5 */
	CHECK_EQ(out[5], 0);
	CHECK_EQ(out[6], 3);
	CHECK_EQ(out[7], 5);   /* most recently verified last */
	CHECK_EQ(ranks[0], 0);
	CHECK_EQ(ranks[1], 1);
	CHECK_EQ(ranks[2], 2);
	CHECK_EQ(ranks[3], 3);
	/* a bad chunk we scrubbed within `retry` is not first again, and
	 * our own (check-only) scrub counts as recent */
	ours[6] = 1900;
	ours[7] = 1950;
	n = pick_chunks(hh, 8, 5, ours, 2000, 3600, 8, out, ranks);
	CHECK_EQ(out[0], 4);
	CHECK_EQ(out[1], 2);
	CHECK_EQ(out[2], 1);
	CHECK_EQ(out[3], 0);
	CHECK_EQ(out[4], 3);
	CHECK_EQ(out[5], 5);
	CHECK_EQ(out[6], 6);
	CHECK_EQ(out[7], 7);
	/* after `retry` it is first again */
	n = pick_chunks(hh, 8, 5, ours, 1900 + 3600, 3600, 1, out, ranks);
	CHECK_EQ(n, 1);
	CHECK_EQ(out[0], 6);
	CHECK_EQ(pick_chunks(hh, 0, 0, NULL, 0, 0, 4, out, ranks), 0);
	CHECK_EQ(pick_chunks(hh, 8, 0, NULL, 0, 0, 0, out, ranks), 0);
	CHECK_EQ(chunk_rank(ST_REPAIRING, 0, 0, 10), 1);
	CHECK_EQ(chunk_rank(99, 0, 0, 10), 3);
}

static void test_budget(void)
{
	struct conf c;

	conf_defaults(&c);
	c.cpu_share = 10;
	c.io_rate = 0;
	CHECK(fabs(budget_sleep(&c, 0.5, 1000) - 4.5) < 1e-9, "cpu 10%%");
	c.cpu_share = 100;
	CHECK(budget_sleep(&c, 0.5, 1000) == 0, "no limits");
	c.io_rate = 100;
	CHECK(fabs(budget_sleep(&c, 0.5, 1000) - 9.5) < 1e-9, "io rate");
	c.cpu_share = 50;
	CHECK(fabs(budget_sleep(&c, 2, 100) - 2) < 1e-9, "cpu wins");
	conf_free(&c);
}

static void test_conf(void)
{
	struct conf c;
	char err[512], line[256];
	double x;

	conf_defaults(&c);
	CHECK_EQ(c.interval, 600);
	CHECK_EQ(c.chunks, 4);
	CHECK_EQ(c.repair, 1);
	CHECK_OK(parse_duration("90", &x));
	CHECK_EQ(x, 90);
	CHECK_OK(parse_duration("1.5m", &x));
	CHECK_EQ(x, 90);
	CHECK_OK(parse_duration("250ms", &x));
	CHECK(fabs(x - 0.25) < 1e-9, "ms");
	CHECK_OK(parse_duration("2h", &x));
	CHECK_EQ(x, 7200);
	CHECK(parse_duration("-1", &x) < 0, "negative");
	CHECK(parse_duration("soon", &x) < 0, "word");
	CHECK(parse_duration("5 years", &x) < 0, "unit");
	CHECK(parse_duration("nan", &x) < 0, "nan");
	CHECK_OK(parse_size("4M", &x));
	CHECK_EQ(x, 4 << 20);
	CHECK_OK(parse_size("64KiB/s", &x));
	CHECK_EQ(x, 64 << 10);
	CHECK(parse_size("4X", &x) < 0, "size unit");
	snprintf(line, sizeof(line), "  interval = 30s # comment\n");
	CHECK_OK(conf_line(&c, line, err, sizeof(err)));
	CHECK_EQ(c.interval, 30);
	snprintf(line, sizeof(line), "repair no\n");
	CHECK_OK(conf_line(&c, line, err, sizeof(err)));
	CHECK_EQ(c.repair, 0);
	snprintf(line, sizeof(line), "mounts = /a /b\t/c\n");
	CHECK_OK(conf_line(&c, line, err, sizeof(err)));
	CHECK_EQ(c.nmounts, 3);
	CHECK(!strcmp(c.mounts[2], "/c"), "third mount %s", c.mounts[2]);
	snprintf(line, sizeof(line), "mounts =\n");
	CHECK_OK(conf_line(&c, line, err, sizeof(err)));
	CHECK_EQ(c.nmounts, 0);
	snprintf(line, sizeof(line), "mounts = relative\n");
	CHECK(conf_line(&c, line, err, sizeof(err)) < 0, "relative mount");
	CHECK(strstr(err, "absolute") != NULL, "message: %s", err);
	snprintf(line, sizeof(line), "# only a comment\n");
	CHECK_OK(conf_line(&c, line, err, sizeof(err)));
	snprintf(line, sizeof(line), "speed = 3\n");
	CHECK(conf_line(&c, line, err, sizeof(err)) < 0, "unknown key");
	CHECK(strstr(err, "unknown key 'speed'") != NULL, "message: %s", err);
	snprintf(line, sizeof(line), "chunks = 0\n");
	CHECK(conf_line(&c, line, err, sizeof(err)) < 0, "0 chunks");
	snprintf(line, sizeof(line), "chunks = 2.5\n");
	CHECK(conf_line(&c, line, err, sizeof(err)) < 0, "2.5 chunks");
	snprintf(line, sizeof(line), "cpu_share = 150\n");
	CHECK(conf_line(&c, line, err, sizeof(err)) < 0, "150%%");
	snprintf(line, sizeof(line), "cpu_share = 25%%\n");
	CHECK_OK(conf_line(&c, line, err, sizeof(err)));
	CHECK_EQ(c.cpu_share, 25);
	snprintf(line, sizeof(line), "repair = maybe\n");
	CHECK(conf_line(&c, line, err, sizeof(err)) < 0, "maybe");
	snprintf(line, sizeof(line), "state = relative/path\n");
	CHECK(conf_line(&c, line, err, sizeof(err)) < 0, "relative state");
	snprintf(line, sizeof(line), "interval\n");
	CHECK(conf_line(&c, line, err, sizeof(err)) < 0, "no value");
	snprintf(line, sizeof(line), "interval =\n");
	CHECK(conf_line(&c, line, err, sizeof(err)) < 0, "empty value");
	conf_free(&c);
}

static void test_state(void)
{
	char dir[] = "/tmp/test_scrubd.XXXXXX", path[64], cmd[128];
	struct state a = { 0 }, b = { 0 };
	struct fsent *e;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof(path), "%s/sub/state", dir);
	/* a missing file is an empty state */
	CHECK_OK(state_sync(&a, path, 0));
	CHECK_EQ(a.n, 0);
	CHECK_EQ(a.paused, 0);
	e = state_get(&a, "uuid:1111");
	e->next = 5;
	e->nchunks = 8;
	e->scrubbed = 12;
	snprintf(e->mount, sizeof(e->mount), "/mnt/with space");
	e->dirty = 1;
	a.paused = 1;
	a.paused_dirty = 1;
	CHECK_OK(state_sync(&a, path, 1)); /* creates sub/ */
	CHECK_EQ(a.e[0].dirty, 0);
	/* another writer: sees it, changes another fs */
	CHECK_OK(state_sync(&b, path, 0));
	CHECK_EQ(b.n, 1);
	CHECK_EQ(b.paused, 1);
	e = state_find(&b, "uuid:1111");
	CHECK(e != NULL, "entry read back");
	if (e) {
		CHECK_EQ(e->next, 5);
		CHECK_EQ(e->scrubbed, 12);
		CHECK(!strcmp(e->mount, "/mnt/with space"), "mount %s",
		      e->mount);
	}
	e = state_get(&b, "uuid:2222");
	e->next = 3;
	e->dirty = 1;
	CHECK_OK(state_sync(&b, path, 1));
	/* the first writer changes its fs: the other's entry survives */
	e = state_find(&a, "uuid:1111");
	e->next = 6;
	e->dirty = 1;
	CHECK_OK(state_sync(&a, path, 1));
	CHECK_EQ(a.n, 2);
	state_free(&b);
	CHECK_OK(state_sync(&b, path, 0));
	CHECK_EQ(b.n, 2);
	CHECK_EQ(state_find(&b, "uuid:1111")->next, 6);
	CHECK_EQ(state_find(&b, "uuid:2222")->next, 3);
	CHECK_EQ(b.paused, 1);
	/* bad lines are skipped, the rest is read */
	f = fopen(path, "a");
	CHECK(f != NULL, "append");
	if (f) {
		fputs("garbage here\nfs short next=x\npaused 7\n", f);
		fclose(f);
	}
	state_free(&b);
	CHECK_OK(state_sync(&b, path, 0));
	CHECK_EQ(b.n, 2);
	CHECK_EQ(b.paused, 1);
	state_free(&a);
	state_free(&b);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_OK(system(cmd));
}

static void test_unescape(void)
{
	char s[] = "/mnt/a\\040b\\011c\\134d\\99";

	unescape(s);
	CHECK(!strcmp(s, "/mnt/a b\tc\\d\\99"), "got %s", s);
	CHECK(is_chunkfs_type("fuse.chunkfs"), "fuse.chunkfs");
	CHECK(is_chunkfs_type("chunkfs"), "chunkfs");
	CHECK(!is_chunkfs_type("fuse.sshfs"), "sshfs");
}

int main(void)
{
	log_verbose = 0;
	test_pick();
	test_budget();
	test_conf();
	test_state();
	test_unescape();
	if (tap_fail) {
		fprintf(stderr, "test_scrubd: %d checks failed\n", tap_fail);
		return 1;
	}
	printf("test_scrubd: ok\n");
	return 0;
}
