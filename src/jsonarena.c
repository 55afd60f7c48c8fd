/* jsonarena — jansson's trees built in an arena, per thread (jsonarena.h). */
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>

#include "arena.h"
#include "jsonarena.h"

static _Thread_local struct ml_arena *in_use;
static pthread_once_t installed = PTHREAD_ONCE_INIT;

static void *
arena_malloc(size_t n)
{
	return in_use ? ml_arena_alloc(in_use, n) : malloc(n);
}

static void
arena_free(void *ptr)
{
	if (!in_use)
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

struct ml_arena *
ml_jsonarena_use(struct ml_arena *a)
{
	struct ml_arena *was = in_use;

	if (a)
		ml_jsonarena_install();
	in_use = a;
	return was;
}
