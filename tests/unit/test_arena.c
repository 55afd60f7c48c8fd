/* Unit tests for arena: pieces aligned, distinct and intact until the
 * arena is freed; pieces larger than a block; zero-size pieces; sizes too
 * large refused without harm; a reset keeps one block and the arena usable.
 * And jsonarena: trees built with an arena in use, released there, and
 * trees from malloc on the same thread before and after. */
#include "testutil.h"

#include <jansson.h>
#include <stdalign.h>
#include <stdint.h>

#include "arena.h"
#include "jsonarena.h"

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

static void
test_reset(void **state)
{
	struct ml_arena *a = ml_arena_new(128);
	char big[1000], *p, *q;
	size_t i, round;

	(void)state;
	memset(big, 'b', sizeof big);
	ml_arena_reset(a); /* an empty arena: nothing to keep */
	for (round = 0; round < 3; round++) {
		/* several blocks and one of its own; then all dropped at once */
		for (i = 0; i < 40; i++)
			assert_non_null(ml_arena_alloc(a, 17));
		assert_non_null(ml_arena_dup(a, big, sizeof big));
		ml_arena_reset(a);
		assert_non_null(p = ml_arena_dup(a, "again", 6));
		assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
		assert_non_null(q = ml_arena_dup(a, big, sizeof big));
		assert_string_equal(p, "again");
		assert_memory_equal(q, big, sizeof big);
		ml_arena_reset(a);
	}
	ml_arena_free(a); /* valgrind and ASan: no block leaked or freed twice */
}

static void
test_json_in_arena(void **state)
{
	struct ml_arena *a = ml_arena_new(4096);
	json_t *before, *t, *after;
	size_t i;

	(void)state;
	before = json_pack("{s:s}", "made", "with malloc");
	assert_null(ml_jsonarena_use(a));
	for (i = 0; i < 50; i++) {
		/* built and released with the arena in use: no free() of its pieces */
		t = json_pack("{s:s, s:[i, i], s:{s:f}}", "name", "x", "a", 1, 2, "o", "r", 0.5);
		assert_non_null(t);
		assert_string_equal(json_string_value(json_object_get(t, "name")), "x");
		json_decref(t);
	}
	/* kept until the arena goes: forgotten, never decref'd */
	assert_non_null(t = json_loads("{\"k\": [1, 2, 3]}", 0, NULL));
	assert_int_equal(json_array_size(json_object_get(t, "k")), 3);
	assert_ptr_equal(ml_jsonarena_use(NULL), a);
	ml_arena_free(a);
	/* malloc and free again on this thread, before and after */
	after = json_pack("{s:i}", "n", 1);
	assert_string_equal(json_string_value(json_object_get(before, "made")), "with malloc");
	json_decref(before);
	json_decref(after);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pieces),
		cmocka_unit_test(test_big_and_empty),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_json_in_arena),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
