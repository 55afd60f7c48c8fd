/* jsonarena — jansson's trees built in an arena, per thread (jsonarena.h). */
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>

#include "arena.h"
#include "jsonarena.h"

static _Thread_local struct ml_jsonarena cur;
static pthread_once_t installed = PTHREAD_ONCE_INIT;

static void *
arena_malloc(size_t n)
{
	return cur.alloc ? ml_arena_alloc(cur.arena, n) : malloc(n);
}

static void
arena_free(void *ptr)
{
	if (!cur.arena || !ml_arena_owns(cur.arena, ptr))
		free(ptr);
}

static void
install(void)
{
	json_set_alloc_funcs(arena_malloc, arena_free);
}

void
ml_jsonarena_install(void)
{
	pthread_once(&installed, install);
}

struct ml_jsonarena
ml_jsonarena_set(struct ml_arena *a, int alloc)
{
	struct ml_jsonarena was = cur;

	if (a)
		ml_jsonarena_install();
	cur.arena = a;
	cur.alloc = a && alloc;
	return was;
}

struct ml_jsonarena
ml_jsonarena_off(void)
{
	struct ml_jsonarena was = cur;

	cur.alloc = 0;
	return was;
}

void
ml_jsonarena_restore(struct ml_jsonarena was)
{
	(void)ml_jsonarena_set(was.arena, was.alloc);
}
