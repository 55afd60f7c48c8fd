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
	struct block **by_addr; /* every block, by address (ml_arena_owns) */
	size_t n, cap;
	uintptr_t lo, hi;       /* every block's data is in [lo, hi) */
};

struct ml_arena *
ml_arena_new(size_t block)
{
	struct ml_arena *a = calloc(1, sizeof *a);

	if (a)
		a->block = block ? block : 4096;
	return a;
}

/* The index in a->by_addr of the first block at or above p. */
static size_t
first_at(const struct ml_arena *a, const void *p)
{
	size_t lo = 0, hi = a->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((uintptr_t)a->by_addr[mid] < (uintptr_t)p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Adds b (its cap set) to a->by_addr; -1 when out of memory. */
static int
index_block(struct ml_arena *a, struct block *b)
{
	size_t at;

	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		struct block **v = realloc(a->by_addr, cap * sizeof *v);
		if (!v)
			return -1;
		a->by_addr = v;
		a->cap = cap;
	}
	at = first_at(a, b);
	memmove(&a->by_addr[at + 1], &a->by_addr[at], (a->n - at) * sizeof *a->by_addr);
	a->by_addr[at] = b;
	if (!a->n++ || (uintptr_t)b->data < a->lo)
		a->lo = (uintptr_t)b->data;
	if ((uintptr_t)b->data + b->cap > a->hi)
		a->hi = (uintptr_t)b->data + b->cap;
	return 0;
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
	b->used = 0;
	b->cap = cap;
	if (index_block(a, b)) {
		free(b);
		return NULL;
	}
	b->next = a->head;
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
	a->n = 0;
	a->lo = a->hi = 0;
	if (keep) {
		keep->next = NULL;
		keep->used = 0;
		a->by_addr[a->n++] = keep; /* every block was indexed: cap >= 1 */
		a->lo = (uintptr_t)keep->data;
		a->hi = a->lo + keep->cap;
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
	free(a->by_addr);
	free(a);
}

static int
in_block(const struct block *b, const void *p)
{
	uintptr_t u = (uintptr_t)p, lo = (uintptr_t)b->data;

	return u >= lo && u - lo < b->cap;
}

int
ml_arena_owns(const struct ml_arena *a, const void *p)
{
	size_t at;

	if (!a || !a->head || (uintptr_t)p < a->lo || (uintptr_t)p >= a->hi)
		return 0; /* the usual case for malloc'd memory */
	if (in_block(a->head, p)) /* the usual case for a piece: one just made */
		return 1;
	at = first_at(a, p); /* the block holding p starts below p */
	return at > 0 && in_block(a->by_addr[at - 1], p);
}
