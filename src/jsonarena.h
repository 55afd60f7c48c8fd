/* jsonarena — jansson's trees built in an arena, per thread.
 *
 * Once ml_jsonarena_install has run, jansson allocates through this module
 * for the rest of the process: on a thread that has an arena in use
 * (ml_jsonarena_use), pieces come from that arena and jansson's frees do
 * nothing (the arena drops them all at once); on any other thread, malloc
 * and free, as without it.  `import` builds each chunk's statement trees
 * in one (cli_import.c), `verify` each entry's (verify.c), so no tree is
 * freed node by node.
 *
 * The contract, for every tree built while an arena was in use: it must
 * never reach refcount 0 on a thread with no arena in use (jansson would
 * pass arena memory to free()).  Keep a reference until the arena is
 * dropped and then forget the tree, or release it while the same arena is
 * in use.  And the converse: a tree made with malloc must not reach
 * refcount 0 while an arena is in use (it would leak), so keep work that
 * releases or keeps long-lived trees outside the arena's use.
 * May call arena, libc, jansson.
 */
#ifndef ML_JSONARENA_H
#define ML_JSONARENA_H

struct ml_arena;

/* Routes jansson's allocator through this module; runs once per process
 * however often it is called (pthread_once).  Call it before starting
 * threads that use jansson, as json_set_alloc_funcs asks (cli_main does;
 * ml_jsonarena_use calls it too, for library callers). */
void ml_jsonarena_install(void);
/* Makes a (NULL: none) the calling thread's arena for jansson's
 * allocations, installing the allocator first when a is not NULL, and
 * returns the arena in use before.  a must stay valid while in use. */
struct ml_arena *ml_jsonarena_use(struct ml_arena *a);

#endif
