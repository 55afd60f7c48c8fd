/* arena — bump allocation for memory that dies all at once (arena.h). */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define ALIGN alignof(max_align_t)

struct block {
	struct block *next;
	size_t used, cap; /* bytes of data[] handed out, and held */
	alignas(max_align_t) unsigned char data[];
};

struct ml_arena {
	struct block *head; /* the block allocated from; older ones follow */
	size_t block;       /* the smallest block's data size */
};

struct ml_arena *
ml_arena_new(size_t block)
{
	struct ml_arena *a = calloc(1, sizeof *a);

	if (a)
		a->block = block ? block : 4096;
	return a;
}

/* A block of at least n data bytes at the head of a; NULL when out of
 * memory or n too large. */
static struct block *
grow(struct ml_arena *a, size_t n)
{
	size_t cap = n > a->block ? n : a->block;
	struct block *b;

	if (cap > SIZE_MAX / 2 - sizeof *b)
		return NULL;
	if (!(b = malloc(sizeof *b + cap)))
		return NULL;
	b->next = a->head;
	b->used = 0;
	b->cap = cap;
	a->head = b;
	return b;
}

void *
ml_arena_alloc(struct ml_arena *a, size_t n)
{
	struct block *b = a->head;
	size_t at;
	void *p;

	if (n > SIZE_MAX / 2)
		return NULL;
	at = b ? (b->used + ALIGN - 1) & ~(ALIGN - 1) : 0;
	if (!b || at > b->cap || b->cap - at < n) {
		if (!(b = grow(a, n)))
			return NULL;
		at = 0;
	}
	p = b->data + at;
	b->used = at + n;
	return p;
}

void *
ml_arena_dup(struct ml_arena *a, const void *p, size_t n)
{
	void *q = ml_arena_alloc(a, n);

	if (q && n)
		memcpy(q, p, n);
	return q;
}

void
ml_arena_reset(struct ml_arena *a)
{
	struct block *b, *next, *keep = NULL;

	for (b = a->head; b; b = next) {
		next = b->next;
		if (!keep && b->cap == a->block)
			keep = b;
		else
			free(b);
	}
	if (keep) {
		keep->next = NULL;
		keep->used = 0;
	}
	a->head = keep;
}

void
ml_arena_free(struct ml_arena *a)
{
	struct block *b, *next;

	if (!a)
		return;
	for (b = a->head; b; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}
