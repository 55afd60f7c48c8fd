/* Unit tests for arena: pieces aligned, distinct and intact until the
 * arena is freed; pieces larger than a block; zero-size pieces; sizes too
 * large refused without harm; a reset keeps one block and the arena usable;
 * ml_arena_owns over many blocks and after a reset.  And jsonarena: trees
 * built with an arena in use, released there; malloc'd values freed while
 * an arena is set; settings nested and restored (under valgrind or ASan a
 * leak or a free of an arena piece fails the run). */
#include "testutil.h"

#include <stdalign.h>
#include <stdint.h>

#include <jansson.h>

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
	struct ml_jsonarena was, now;
	size_t i;

	(void)state;
	before = json_pack("{s:s}", "made", "with malloc");
	was = ml_jsonarena_set(a, 1);
	assert_null(was.arena);
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
	now = ml_jsonarena_set(NULL, 0);
	assert_ptr_equal(now.arena, a);
	assert_true(now.alloc);
	ml_arena_free(a);
	/* malloc and free again on this thread, before and after */
	after = json_pack("{s:i}", "n", 1);
	assert_string_equal(json_string_value(json_object_get(before, "made")), "with malloc");
	json_decref(before);
	json_decref(after);
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
	before = json_pack("{s:s, s:[i, i]}", "k", "a malloc'd value", "n", 1, 2);
	ml_jsonarena_set(a, 1);
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
	ml_jsonarena_set(a, 0);          /* set, not allocating */
	out = json_string("from malloc");
	assert_false(ml_arena_owns(a, out));
	json_decref(out);
	assert_string_equal(json_string_value(json_object_get(in, "key")), "value 199");
	json_decref(in);                  /* an arena tree reaching 0 on its thread */
	ml_jsonarena_set(NULL, 0);
	ml_arena_free(a);                 /* the tree's memory */
	out = json_string("after"); /* malloc and free again */
	json_decref(out);
}

/* A reset forgets every block it freed: their pieces are no longer owned
 * (a free of one would be skipped, leaking memory a new malloc may reuse),
 * the kept block's new pieces are. */
static void
test_owns_after_reset(void **state)
{
	struct ml_arena *a = ml_arena_new(128);
	unsigned char *p, *big;
	size_t i;

	(void)state;
	for (i = 0; i < 40; i++)
		assert_non_null(ml_arena_alloc(a, 60));
	assert_non_null(big = ml_arena_alloc(a, 1000)); /* a block of its own */
	assert_true(ml_arena_owns(a, big));
	ml_arena_reset(a);
	assert_false(ml_arena_owns(a, big));
	assert_non_null(p = ml_arena_alloc(a, 16));
	assert_true(ml_arena_owns(a, p));
	assert_false(ml_arena_owns(a, big));
	for (i = 0; i < 40; i++) /* grows again from the kept block */
		assert_true(ml_arena_owns(a, ml_arena_alloc(a, 60)));
	ml_arena_free(a);
}

/* An inner setting (verify's entry arena inside the report's) and its
 * restore: the outer arena comes back with its own allocation flag, and a
 * tree of each arena reaches refcount 0 only while its arena is set. */
static void
test_json_nested(void **state)
{
	struct ml_arena *outer = ml_arena_new(1024), *inner = ml_arena_new(1024);
	struct ml_jsonarena was, in;
	json_t *o, *i, *m;

	(void)state;
	was = ml_jsonarena_set(outer, 0); /* set, not allocating */
	m = json_string("malloc");
	assert_false(ml_arena_owns(outer, m));
	in = ml_jsonarena_set(inner, 1);
	assert_ptr_equal(in.arena, outer);
	assert_false(in.alloc);
	i = json_pack("{s:[i]}", "x", 1);
	assert_true(ml_arena_owns(inner, i));
	json_decref(i);                   /* left to inner */
	json_decref(m);                   /* from malloc: freed */
	ml_jsonarena_restore(in);
	o = json_string("still malloc"); /* outer is set without allocating */
	assert_false(ml_arena_owns(outer, o));
	json_decref(o);
	(void)ml_jsonarena_set(outer, 1);
	o = json_string("outer's");
	assert_true(ml_arena_owns(outer, o));
	json_decref(o);                   /* left to outer */
	ml_jsonarena_restore(was);
	assert_null(ml_jsonarena_set(NULL, 0).arena);
	ml_arena_free(inner);
	ml_arena_free(outer);
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
		cmocka_unit_test(test_owns),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_owns_after_reset),
		cmocka_unit_test(test_json_nested),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
