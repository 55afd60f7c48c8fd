/* arena — bump allocation for memory that dies all at once.
 *
 * An arena hands out pieces of a few large blocks and frees them together:
 * one free per block instead of one per piece.  `import` keeps each chunk's
 * signed envelopes in one (cli_import.c), so nothing is freed entry by entry.
 * Not thread-safe: one thread allocates from an arena at a time; another may
 * free it once that thread is done with it.
 *
 * jansson on an arena (ml_arena_json_*): with the hook installed, a thread
 * that has set an arena takes jansson's new values from it, and never frees
 * a piece of it one by one: a tree built there dies with ml_arena_free, so
 * freeing a large tree costs nothing.  Every other allocation and every
 * other thread uses malloc and free.  import builds each chunk's statement
 * trees in one (cli_import.c), the report its model (cli_report.c).
 * May call libc and jansson only.
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
/* Frees a and every piece it handed out.  NULL is ignored. */
void ml_arena_free(struct ml_arena *a);
/* Whether p points into a piece a handed out (a block of a).  O(log blocks). */
int ml_arena_owns(const struct ml_arena *a, const void *p);

/* Installs (on) or removes (off: malloc and free again) the hook as
 * jansson's allocator, for the whole process: call it while no other thread
 * uses jansson.  Remove it only when no piece of an arena can still be
 * released through jansson (the trees decref'd or their arenas freed). */
void ml_arena_json_hook(int on);
/* This thread's jansson arena: with a set, jansson's frees of a's pieces
 * are ignored (their memory goes with ml_arena_free(a)) and, when alloc is
 * set, new values come from a; other frees go to free.  a NULL: malloc and
 * free.  The contract that follows: a value allocated in a may reach
 * refcount 0 only on this thread while a is set here (never on another
 * thread, nor after), and a tree dropped with its arena must hold no value
 * allocated elsewhere (that would leak). */
void ml_arena_json_set(struct ml_arena *a, int alloc);

#endif
