/* Unit tests for arena: pieces aligned, distinct and intact until the
 * arena is freed; pieces larger than a block; zero-size pieces; sizes too
 * large refused without harm; ml_arena_owns over many blocks; jansson on
 * an arena (a tree made there is never freed piece by piece, malloc'd
 * values freed while it is set are freed: under valgrind or ASan a leak or
 * a free of an arena piece fails the run). */
#include "testutil.h"

#include <stdalign.h>
#include <stdint.h>

#include <jansson.h>

#include "arena.h"

static void
test_pieces(void **state)
{
	struct ml_arena *a = ml_arena_new(256);
	unsigned char *p[100];
	size_t i, j;

	(void)state;
	assert_non_null(a);
	/* many pieces of odd sizes over many blocks: aligned, each intact */
	for (i = 0; i < 100; i++) {
		assert_non_null(p[i] = ml_arena_alloc(a, i * 7 + 1));
		assert_int_equal((uintptr_t)p[i] % alignof(max_align_t), 0);
		memset(p[i], (int)i, i * 7 + 1);
	}
	for (i = 0; i < 100; i++)
		for (j = 0; j < i * 7 + 1; j++)
			assert_int_equal(p[i][j], (unsigned char)i);
	ml_arena_free(a);
}

static void
test_big_and_empty(void **state)
{
	struct ml_arena *a = ml_arena_new(64);
	char big[1000], *q, *r, *z;

	(void)state;
	memset(big, 'b', sizeof big);
	assert_non_null(q = ml_arena_dup(a, "small", 6));
	/* larger than a block: a block of its own, the small piece intact */
	assert_non_null(r = ml_arena_dup(a, big, sizeof big));
	assert_memory_equal(r, big, sizeof big);
	assert_string_equal(q, "small");
	assert_non_null(z = ml_arena_alloc(a, 0));
	assert_non_null(ml_arena_dup(a, big, 0));
	assert_string_equal(ml_arena_dup(a, "after", 6), "after");
	assert_memory_equal(r, big, sizeof big);
	ml_arena_free(a);
	ml_arena_free(NULL);
}

static void
test_too_large(void **state)
{
	struct ml_arena *a = ml_arena_new(0); /* 0: a default block size */
	char *q;

	(void)state;
	assert_non_null(q = ml_arena_dup(a, "kept", 5));
	assert_null(ml_arena_alloc(a, SIZE_MAX));
	assert_null(ml_arena_alloc(a, SIZE_MAX / 2 + 1));
	assert_null(ml_arena_alloc(a, SIZE_MAX / 2 - 8)); /* malloc refuses */
	/* the arena is unchanged and still usable */
	assert_string_equal(q, "kept");
	assert_string_equal(ml_arena_dup(a, "next", 5), "next");
	ml_arena_free(a);
}

/* Every piece, in the newest block or an older one, is owned; memory
 * outside the blocks is not. */
static void
test_owns(void **state)
{
	struct ml_arena *a = ml_arena_new(128);
	unsigned char *p[300], *m = malloc(64);
	size_t i;

	(void)state;
	assert_non_null(m);
	assert_false(ml_arena_owns(a, m));
	assert_false(ml_arena_owns(NULL, m));
	for (i = 0; i < 300; i++)
		assert_non_null(p[i] = ml_arena_alloc(a, 40 + i % 50));
	for (i = 0; i < 300; i++) {
		assert_true(ml_arena_owns(a, p[i]));
		assert_true(ml_arena_owns(a, p[i] + 39));
	}
	assert_false(ml_arena_owns(a, m));
	assert_false(ml_arena_owns(a, &i));
	ml_arena_free(a);
	free(m);
}

/* jansson on an arena: values made while it allocates are its pieces and
 * survive their refcount reaching 0 (freed with the arena); values from
 * malloc (before, or while it is set without allocating) are freed by
 * their decref even while the arena is set. */
static void
test_json(void **state)
{
	struct ml_arena *a = ml_arena_new(1024);
	json_t *before, *in, *out, *x;
	size_t i;

	(void)state;
	ml_arena_json_hook(1);
	before = json_pack("{s:s, s:[i, i]}", "k", "a malloc'd value", "n", 1, 2);
	ml_arena_json_set(a, 1);
	in = json_object();
	for (i = 0; i < 200; i++) /* over many blocks, with the table regrown */
		json_object_set_new(in, "key", json_sprintf("value %zu", i));
	json_object_set_new(in, "list", json_pack("[s, {s:i}]", "x", "y", 3));
	assert_true(ml_arena_owns(a, in));
	x = json_object_get(in, "list");
	assert_true(ml_arena_owns(a, x));
	json_incref(x);
	json_object_del(in, "list");      /* x still held: intact */
	assert_string_equal(json_string_value(json_array_get(x, 0)), "x");
	json_decref(x);                   /* refcount 0: left to the arena */
	json_decref(before);              /* from malloc: freed (no leak) */
	ml_arena_json_set(a, 0);          /* set, not allocating */
	out = json_string("from malloc");
	assert_false(ml_arena_owns(a, out));
	json_decref(out);
	assert_string_equal(json_string_value(json_object_get(in, "key")), "value 199");
	json_decref(in);                  /* an arena tree reaching 0 on its thread */
	ml_arena_json_set(NULL, 0);
	ml_arena_free(a);                 /* the tree's memory */
	ml_arena_json_hook(0);
	out = json_string("after"); /* malloc and free again */
	json_decref(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pieces),
		cmocka_unit_test(test_big_and_empty),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_owns),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
