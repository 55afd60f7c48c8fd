/* jsonarena — jansson's trees built in an arena, per thread.
 *
 * Once ml_jsonarena_install has run, jansson allocates through this module
 * for the rest of the process.  Each thread has a setting (ml_jsonarena_set):
 * an arena or none, and whether new values come from it.  With an arena
 * set, jansson's frees of that arena's pieces do nothing (the arena drops
 * them all at once) and every other free goes to free(); with allocation
 * on, new values come from the arena; with no arena, malloc and free, as
 * without this module.  `import` builds each chunk's statement trees in an
 * arena (cli_import.c), `verify` each entry's (verify.c), the report its
 * model (report.h), so no large tree is freed node by node.
 *
 * The contract, for every value allocated in an arena: it may reach
 * refcount 0 only on the thread that made it and while that arena is set
 * there (jansson would otherwise pass arena memory to free()); otherwise
 * keep a reference until the arena is dropped, then forget the tree.  And
 * a tree dropped with its arena must hold no value made with malloc (that
 * value would leak): values kept in an arena's tree are made or copied
 * while its allocation is on.  What jansson returns for the caller to
 * free (json_dumps's text) is jansson's allocation too: with allocation on
 * it is an arena piece, which free() must not see; write with
 * json_dump_callback or json_dumpb into memory of your own instead.
 * May call arena, libc, jansson.
 */
#ifndef ML_JSONARENA_H
#define ML_JSONARENA_H

struct ml_arena;

/* A thread's setting: its arena (NULL: none) and whether jansson's new
 * values come from it (0 when arena is NULL). */
struct ml_jsonarena {
	struct ml_arena *arena;
	int alloc;
};

/* Routes jansson's allocator through this module; runs once per process
 * however often it is called (pthread_once).  Call it before starting
 * threads that use jansson, as json_set_alloc_funcs asks (cli_main does;
 * ml_jsonarena_set calls it too, for library callers). */
void ml_jsonarena_install(void);
/* Makes (a, alloc) the calling thread's setting (alloc is ignored when a is
 * NULL) and returns the setting before, for the caller to restore with
 * ml_jsonarena_restore.  a must stay valid while it is set. */
struct ml_jsonarena ml_jsonarena_set(struct ml_arena *a, int alloc);
/* Turns allocation off, keeping the thread's arena set (new values come
 * from malloc: temporaries), and returns the setting before. */
struct ml_jsonarena ml_jsonarena_off(void);
/* Makes was (a setting ml_jsonarena_set returned) the thread's setting. */
void ml_jsonarena_restore(struct ml_jsonarena was);

#endif
