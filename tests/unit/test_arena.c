/* Unit tests for arena: pieces aligned, distinct and intact until the
 * arena is freed; pieces larger than a block; zero-size pieces; sizes too
 * large refused without harm. */
#include "testutil.h"

#include <stdalign.h>
#include <stdint.h>

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pieces),
		cmocka_unit_test(test_big_and_empty),
		cmocka_unit_test(test_too_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
