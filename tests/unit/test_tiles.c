/* Unit tests for tiles: tlog-tiles path parsing and formatting (the spec's
 * examples, every malformed form refused, round trips), which tiles a tree
 * has (the spec's size-70,000 example), hash tiles and entry bundles built
 * from a stored tree checked against an independent naive MTH over the
 * leaves, and the bundle reader on truncated and hostile input. */
#include "testutil.h"

#include "chain.h"
#include "merkle.h"
#include "store.h"
#include "tiles.h"

#define H ML_SHA256_LEN

static void
parse_ok(const char *p, int entries, unsigned level, uint64_t index, unsigned width)
{
	struct ml_tile t;
	char back[ML_TILE_PATH_MAX];

	if (ml_tile_parse(p, strlen(p), &t) != ML_OK)
		fail_msg("refused %s", p);
	assert_int_equal(t.entries, entries);
	assert_int_equal(t.level, level);
	assert_true(t.index == index);
	assert_int_equal(t.width, width);
	assert_int_equal(ml_tile_format(&t, back, sizeof back), ML_OK);
	assert_string_equal(back, p);
}

static void
test_parse_valid(void **state)
{
	(void)state;
	parse_ok("tile/0/000", 0, 0, 0, 256);
	parse_ok("tile/0/x001/x234/067", 0, 0, 1234067, 256);
	parse_ok("tile/1/x001/x234/067.p/8", 0, 1, 1234067, 8);
	parse_ok("tile/entries/x001/x234/067", 1, 0, 1234067, 256);
	parse_ok("tile/entries/000.p/1", 1, 0, 0, 1);
	parse_ok("tile/63/999.p/255", 0, 63, 999, 255);
	parse_ok("tile/2/x001/000", 0, 2, 1000, 256);
	parse_ok("tile/0/x001/234", 0, 0, 1234, 256);
	/* the largest N the tree can have (N*256 + 255 fits in 64 bits) */
	parse_ok("tile/0/x072/x057/x594/x037/x927/935", 0, 0, UINT64_MAX >> 8, 256);
}

static void
test_parse_invalid(void **state)
{
	static const char *bad[] = {
		"", "tile", "tile/", "tile/0", "tile/0/", "tile/0/1", "tile/0/01",
		"tile/0/0000", "tile/0/x000/001",   /* leading zero group */
		"tile/00/000", "tile/01/000", "tile/64/000", "tile/-1/000",
		"tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/01", "tile/0/000.p/",
		"tile/0/000.p", "tile/0/000.p/1/", "tile/0/000/", "tile/0/000 ",
		"tile/0/x001", "tile/0/x001/", "tile/0/001/234", "tile/0/x1/234",
		"tile/0/x001/23", "tile/0/X001/234", "tile/entries/", "tile/entries/01",
		"tile/entries/000.p/300", "tile/entry/000", "tile/entries", "Tile/0/000",
		"/tile/0/000", "tile//000", "tile/0//000", "tile/0/x001//234",
		"tile/0/x072/x057/x594/x037/x927/936", /* > 2^64 >> 8 */
		"tile/0/x018/x446/x744/x073/x709/x551/615", /* 2^64 - 1 */
		"tile/0/x999/x999/x999/x999/x999/x999/999", /* > 2^64 */
		"tile/0/x001/x234/x067", "tile/0/x001/x234/067/",
		"tile/0/x001/x002/x003/x004/x005/x006/x007/008", /* 8 groups */
		"tile/1/000.p/+5", "tile/1/+00",
	};
	struct ml_tile t = {0};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (ml_tile_parse(bad[i], strlen(bad[i]), &t) == ML_OK)
			fail_msg("accepted \"%s\"", bad[i]);
	/* length, not NUL, bounds the path */
	assert_int_equal(ml_tile_parse("tile/0/000.p/1", 12, &t), ML_EINPUT);
	assert_int_equal(ml_tile_parse("tile/0/000\0", 11, &t), ML_EINPUT);
}

static void
test_format_invalid(void **state)
{
	struct ml_tile t = {0, 0, 0, 0};
	char buf[ML_TILE_PATH_MAX];

	(void)state;
	assert_int_equal(ml_tile_format(&t, buf, sizeof buf), ML_EINPUT); /* width 0 */
	t.width = 257;
	assert_int_equal(ml_tile_format(&t, buf, sizeof buf), ML_EINPUT);
	t.width = 256;
	t.level = 64;
	assert_int_equal(ml_tile_format(&t, buf, sizeof buf), ML_EINPUT);
	t.level = 1;
	t.entries = 1;
	assert_int_equal(ml_tile_format(&t, buf, sizeof buf), ML_EINPUT);
	t.entries = 0;
	t.index = 1234067;
	assert_int_equal(ml_tile_format(&t, buf, 12), ML_EINPUT); /* too small */
	t.index = UINT64_MAX >> 8;
	assert_int_equal(ml_tile_format(&t, buf, sizeof buf), ML_OK);
	assert_true(strlen(buf) < ML_TILE_PATH_MAX);
}

/* The spec's example: a tree of 70,000 entries has 273 full level-0 tiles
 * and a partial one of width 112; level 1 one full tile and one of width
 * 17; level 2 one of width 1; nothing above. */
static void
test_spec_70000(void **state)
{
	struct ml_tile t;
	uint64_t n = 70000;

	(void)state;
	assert_true(ml_tile_nodes(0, n) == 70000);
	assert_true(ml_tile_nodes(1, n) == 273);
	assert_true(ml_tile_nodes(2, n) == 1);
	assert_true(ml_tile_nodes(3, n) == 0);
	assert_true(ml_tile_nodes(63, UINT64_MAX) == 0);
	assert_true(ml_tile_nodes(7, UINT64_MAX) == 0xff);

	assert_int_equal(ml_tile_of(0, 0, 69887, n, &t), ML_OK);
	assert_true(t.index == 272 && t.width == 256);
	assert_int_equal(ml_tile_of(0, 0, 69888, n, &t), ML_OK);
	assert_true(t.index == 273 && t.width == 112);
	assert_int_equal(ml_tile_of(1, 0, 69999, n, &t), ML_OK);
	assert_true(t.entries && t.index == 273 && t.width == 112);
	assert_int_equal(ml_tile_of(0, 0, 70000, n, &t), ML_EINPUT);
	assert_int_equal(ml_tile_of(0, 1, 0, n, &t), ML_OK);
	assert_true(t.index == 0 && t.width == 256);
	assert_int_equal(ml_tile_of(0, 1, 272, n, &t), ML_OK);
	assert_true(t.index == 1 && t.width == 17);
	assert_int_equal(ml_tile_of(0, 2, 0, n, &t), ML_OK);
	assert_true(t.index == 0 && t.width == 1);
	assert_int_equal(ml_tile_of(0, 2, 1, n, &t), ML_EINPUT);
	assert_int_equal(ml_tile_of(0, 3, 0, n, &t), ML_EINPUT);
	assert_int_equal(ml_tile_of(1, 1, 0, n, &t), ML_EINPUT);

	t = (struct ml_tile){0, 0, 272, 256};
	assert_true(ml_tile_in_tree(&t, n));
	t.index = 273;
	assert_false(ml_tile_in_tree(&t, n)); /* the full tile is not there yet */
	t.width = 112;
	assert_true(ml_tile_in_tree(&t, n));
	t.width = 113;
	assert_false(ml_tile_in_tree(&t, n));
	t.width = 5; /* a smaller partial of an existing range */
	assert_true(ml_tile_in_tree(&t, n));
	t = (struct ml_tile){0, 1, 1, 17};
	assert_true(ml_tile_in_tree(&t, n));
	t.width = 18;
	assert_false(ml_tile_in_tree(&t, n));
	t = (struct ml_tile){0, 2, 0, 1};
	assert_true(ml_tile_in_tree(&t, n));
	t.width = 2;
	assert_false(ml_tile_in_tree(&t, n));
	t = (struct ml_tile){0, 3, 0, 1};
	assert_false(ml_tile_in_tree(&t, n));
	t = (struct ml_tile){0, 63, 0, 1};
	assert_false(ml_tile_in_tree(&t, UINT64_MAX));
	t = (struct ml_tile){1, 0, UINT64_MAX >> 8, 255};
	assert_true(ml_tile_in_tree(&t, UINT64_MAX));
	t.width = 256; /* would end at 2^64 */
	assert_false(ml_tile_in_tree(&t, UINT64_MAX));
}

/* ---- a stored tree ---------------------------------------------------- */

struct fx {
	char dir[256], path[300];
	struct ml_store *s;
	uint64_t n;
	uint8_t (*leaves)[H];
	uint8_t *envs;       /* envelope i: ENV_LEN bytes at i * ENV_LEN */
};

#define ENV_LEN 40
#define NLEAVES 600 /* two full level-0 tiles and a partial of 88 */

static int
put_node(void *ctx, unsigned level, uint64_t idx, const uint8_t h[H])
{
	struct ml_err e;

	return ml_store_node_put(ctx, level, idx, h, &e);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct ml_merkle_edge edge;
	struct ml_err e;
	uint64_t i;

	assert_non_null(f);
	tu_tmpdir(f->dir, sizeof f->dir);
	snprintf(f->path, sizeof f->path, "%s/l.db", f->dir);
	assert_int_equal(ml_store_create(f->path, &f->s, &e), ML_OK);
	f->n = NLEAVES;
	f->leaves = calloc(NLEAVES, H);
	f->envs = calloc(NLEAVES, ENV_LEN);
	assert_non_null(f->leaves);
	assert_non_null(f->envs);
	ml_merkle_edge_init(&edge);
	assert_int_equal(ml_store_begin(f->s, 1, &e), ML_OK);
	for (i = 0; i < NLEAVES; i++) {
		struct ml_entry en = {0};
		uint8_t *env = f->envs + i * ENV_LEN;

		snprintf((char *)env, ENV_LEN, "{\"entry\": %llu}", (unsigned long long)i);
		en.seq = i;
		if (i)
			memcpy(en.prev, f->leaves[i - 1], H);
		en.time_us = 1700000000000000 + (int64_t)i;
		en.envelope = env;
		en.envelope_len = ENV_LEN;
		ml_leaf_hash(&en, f->leaves[i]);
		if (ml_store_entry_insert(f->s, &en, f->leaves[i], &e) != ML_OK)
			fail_msg("insert: %s", e.msg);
		assert_int_equal(ml_merkle_edge_add(&edge, f->leaves[i], put_node, f->s), 0);
	}
	assert_int_equal(ml_store_commit(f->s, &e), ML_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	ml_store_close(f->s);
	tu_rmtree(f->dir);
	free(f->leaves);
	free(f->envs);
	free(f);
	return 0;
}

/* Naive RFC 6962 MTH of leaf hashes [b, b+n), n a power of two. */
static void
mth(const uint8_t (*leaves)[H], uint64_t b, uint64_t n, uint8_t out[H])
{
	uint8_t l[H], r[H];

	if (n == 1) {
		memcpy(out, leaves[b], H);
		return;
	}
	mth(leaves, b, n / 2, l);
	mth(leaves, b + n / 2, n / 2, r);
	ml_merkle_node(l, r, out);
}

static void
test_hash_tiles(void **state)
{
	struct fx *f = *state;
	struct ml_buf b = {0};
	struct ml_err e;
	struct ml_tile t;
	uint8_t want[H];
	unsigned i;

	/* level 0: the leaf hashes */
	t = (struct ml_tile){0, 0, 1, 256};
	assert_int_equal(ml_tile_hashes(f->s, &t, f->n, &b, &e), ML_OK);
	assert_int_equal(b.len, 256 * H);
	assert_memory_equal(b.data, f->leaves[256], 256 * H);
	b.len = 0;
	t = (struct ml_tile){0, 0, 2, 88};
	assert_int_equal(ml_tile_hashes(f->s, &t, f->n, &b, &e), ML_OK);
	assert_int_equal(b.len, 88 * H);
	assert_memory_equal(b.data, f->leaves[512], 88 * H);
	/* level 1: the roots of each 256 leaves */
	b.len = 0;
	t = (struct ml_tile){0, 1, 0, 2};
	assert_int_equal(ml_tile_hashes(f->s, &t, f->n, &b, &e), ML_OK);
	assert_int_equal(b.len, 2 * H);
	for (i = 0; i < 2; i++) {
		mth((const uint8_t(*)[H])f->leaves, i * 256, 256, want);
		assert_memory_equal(b.data + i * H, want, H);
	}
	/* outside the tree, at this size or a smaller one */
	b.len = 0;
	t = (struct ml_tile){0, 0, 2, 89};
	assert_int_equal(ml_tile_hashes(f->s, &t, f->n, &b, &e), ML_EINPUT);
	t = (struct ml_tile){0, 0, 2, 88};
	assert_int_equal(ml_tile_hashes(f->s, &t, 599, &b, &e), ML_EINPUT);
	t = (struct ml_tile){0, 1, 0, 3};
	assert_int_equal(ml_tile_hashes(f->s, &t, f->n, &b, &e), ML_EINPUT);
	t = (struct ml_tile){1, 0, 0, 3};
	assert_int_equal(ml_tile_hashes(f->s, &t, f->n, &b, &e), ML_EINPUT);
	assert_int_equal(b.len, 0);
	/* a node the store lacks */
	t = (struct ml_tile){0, 0, 2, 100};
	assert_int_equal(ml_tile_hashes(f->s, &t, 700, &b, &e), ML_EINTEGRITY);
	ml_buf_free(&b);
}

static void
test_entry_bundles(void **state)
{
	struct fx *f = *state;
	struct ml_buf b = {0};
	struct ml_bundle_iter it;
	struct ml_err e;
	struct ml_tile t = {1, 0, 2, 88};
	const uint8_t *ent;
	size_t len, n = 0;
	int r;

	assert_int_equal(ml_tile_entries(f->s, &t, f->n, &b, &e), ML_OK);
	assert_int_equal(b.len, 88 * (2 + ML_LEAF_HEADER + ENV_LEN));
	ml_bundle_iter_init(&it, b.data, b.len);
	while ((r = ml_bundle_next(&it, &ent, &len)) == ML_OK && ent) {
		uint8_t h[H], buf[1 + ML_LEAF_HEADER + ENV_LEN];
		struct ml_entry en;

		assert_int_equal(len, ML_LEAF_HEADER + ENV_LEN);
		buf[0] = 0x00;
		memcpy(buf + 1, ent, len);
		ml_sha256(buf, 1 + len, h);
		assert_memory_equal(h, f->leaves[512 + n], H);
		assert_int_equal(ml_leaf_decode(ent, len, &en), 0);
		assert_true(en.seq == 512 + n);
		n++;
	}
	assert_int_equal(r, ML_OK);
	assert_int_equal(n, 88);
	/* a hash tile's path is not a bundle; outside the tree */
	t.entries = 0;
	assert_int_equal(ml_tile_entries(f->s, &t, f->n, &b, &e), ML_EINPUT);
	t = (struct ml_tile){1, 0, 2, 89};
	assert_int_equal(ml_tile_entries(f->s, &t, f->n, &b, &e), ML_EINPUT);
	t = (struct ml_tile){1, 0, 2, 256};
	assert_int_equal(ml_tile_entries(f->s, &t, f->n, &b, &e), ML_EINPUT);
	ml_buf_free(&b);
}

/* The reader's three answers: an entry (ML_OK, ent set), the clean end
 * (ML_OK, ent NULL) and a malformed bundle (ML_EINPUT). */
static void
expect_entry(struct ml_bundle_iter *it, const uint8_t **ent, size_t *len)
{
	assert_int_equal(ml_bundle_next(it, ent, len), ML_OK);
	assert_non_null(*ent);
}

static void
expect_end(struct ml_bundle_iter *it)
{
	const uint8_t *ent = (const uint8_t *)"";
	size_t len = 7;

	assert_int_equal(ml_bundle_next(it, &ent, &len), ML_OK);
	assert_null(ent);
	assert_int_equal(len, 0);
}

static void
expect_malformed(struct ml_bundle_iter *it)
{
	const uint8_t *ent;
	size_t len;

	assert_int_equal(ml_bundle_next(it, &ent, &len), ML_EINPUT);
}

static void
test_bundle_reader(void **state)
{
	/* two entries "ab" and "c", then hostile tails */
	static const uint8_t ok[] = {0, 2, 'a', 'b', 0, 1, 'c'};
	static const uint8_t trunc_len[] = {0, 1, 'a', 0};
	static const uint8_t trunc_body[] = {0, 1, 'a', 0, 3, 'x', 'y'};
	static const uint8_t empty_entry[] = {0, 0};
	static const uint8_t huge[] = {0xff, 0xff, 'x'};
	struct ml_bundle_iter it;
	const uint8_t *ent;
	uint8_t *many;
	size_t len, i;

	(void)state;
	ml_bundle_iter_init(&it, ok, sizeof ok);
	expect_entry(&it, &ent, &len);
	assert_int_equal(len, 2);
	assert_memory_equal(ent, "ab", 2);
	expect_entry(&it, &ent, &len);
	assert_int_equal(len, 1);
	expect_end(&it);
	expect_end(&it);

	ml_bundle_iter_init(&it, trunc_len, sizeof trunc_len);
	expect_entry(&it, &ent, &len);
	expect_malformed(&it);
	expect_malformed(&it); /* stays */
	ml_bundle_iter_init(&it, trunc_body, sizeof trunc_body);
	expect_entry(&it, &ent, &len);
	expect_malformed(&it);
	ml_bundle_iter_init(&it, empty_entry, sizeof empty_entry);
	expect_malformed(&it);
	ml_bundle_iter_init(&it, huge, sizeof huge);
	expect_malformed(&it);
	ml_bundle_iter_init(&it, NULL, 0);
	expect_end(&it);

	/* at most 256 entries */
	many = calloc(257, 3);
	assert_non_null(many);
	for (i = 0; i < 257; i++) {
		many[3 * i + 1] = 1;
		many[3 * i + 2] = 'z';
	}
	ml_bundle_iter_init(&it, many, 257 * 3);
	for (i = 0; i < 256; i++)
		expect_entry(&it, &ent, &len);
	expect_malformed(&it);
	free(many);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_format_invalid),
		cmocka_unit_test(test_spec_70000),
		cmocka_unit_test_setup_teardown(test_hash_tiles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entry_bundles, setup, teardown),
		cmocka_unit_test(test_bundle_reader),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
