/* arena — bump allocation for memory that dies all at once.
 *
 * An arena hands out pieces of a few large blocks and frees them together:
 * one free per block instead of one per piece.  `import` keeps each chunk's
 * signed envelopes in one (cli_import.c), so nothing is freed entry by entry;
 * jansson's trees can be built in one (jsonarena.h).
 * Not thread-safe: one thread allocates from an arena at a time; another may
 * free it once that thread is done with it.  May call libc only.
 */
#ifndef ML_ARENA_H
#define ML_ARENA_H

#include <stddef.h>

struct ml_arena;

/* A new, empty arena whose blocks hold at least block bytes (a piece larger
 * than that gets a block of its own).  NULL when out of memory; free it
 * with ml_arena_free. */
struct ml_arena *ml_arena_new(size_t block);
/* n bytes (n may be 0), aligned for any type, valid until ml_arena_free(a).
 * NULL when out of memory (a is unchanged and stays usable). */
void *ml_arena_alloc(struct ml_arena *a, size_t n);
/* A copy of the n bytes at p in a; NULL when out of memory. */
void *ml_arena_dup(struct ml_arena *a, const void *p, size_t n);
/* Frees every piece a handed out at once; a stays usable, keeping one block
 * of the size it was made with (if it has one) for the pieces to come. */
void ml_arena_reset(struct ml_arena *a);
/* Frees a and every piece it handed out.  NULL is ignored. */
void ml_arena_free(struct ml_arena *a);
/* Whether p points into a piece a handed out (a block of a).  O(log blocks). */
int ml_arena_owns(const struct ml_arena *a, const void *p);

#endif
