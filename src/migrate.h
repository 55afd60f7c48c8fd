/* migrate — moving a ledger between a SQLite file and the PostgreSQL store
 * of record (pgstore.h), and keeping a front-end's SQLite working copy up
 * to date with PostgreSQL.
 *
 * Nothing read from PostgreSQL is trusted: every row goes into SQLite
 * through a replica batch (ledger.h, ml_replica_*), which checks it as
 * verify does, and is committed only at a checkpoint signed by the log key
 * whose root is the copied tree's.  PostgreSQL's own leaf column is
 * compared with the leaf recomputed from the row, so a tampered row is
 * named by its seq.  Memory is bounded: entries move in chunks of
 * ML_MIGRATE_CHUNK entries (to PostgreSQL: one transaction each, ended
 * sooner at ML_MIGRATE_CHUNK_BYTES of envelopes; from it: one replica
 * transaction per stored checkpoint at least that far apart).
 * May call pgstore, ledger, verify, store, chain, util.
 */
#ifndef ML_MIGRATE_H
#define ML_MIGRATE_H

#include <stdint.h>

#include "ledger.h"
#include "pgstore.h"
#include "util.h"

#define ML_MIGRATE_CHUNK 1024
#define ML_MIGRATE_CHUNK_BYTES (16u << 20) /* to PostgreSQL: a transaction ends here too */

/* Progress: done of total entries; called about once a chunk. */
typedef void (*ml_migrate_progress_fn)(void *ctx, uint64_t done, uint64_t total);

struct ml_migrate_opts {
	ml_migrate_progress_fn progress; /* may be NULL */
	void *ctx;
	int jobs;                        /* to_pg's verify: signature threads, <= 0 all CPUs */
	void *verify_ctx;                /* to_pg: progress's ctx while the source is verified */
};

struct ml_migrate_result {
	uint64_t entries;     /* entries copied */
	uint64_t checkpoints; /* checkpoint notes copied */
	uint64_t size;        /* the target's size afterwards */
	/* from_pg and follow: entries PostgreSQL holds beyond its latest
	 * signed checkpoint, not copied (a writer signs them next; a copy
	 * never holds what no checkpoint signs) */
	uint64_t unsigned_tail;
};

/* Copies the SQLite ledger at ledger_path (opened read-only, one consistent
 * snapshot; verified in full first: ML_EINTEGRITY and nothing written to
 * PostgreSQL when it does not verify) into p: identity (ml_pg_create:
 * ML_ECONFLICT and nothing changed when p already holds a ledger), every
 * entry with its leaf hash, every checkpoint note; then PostgreSQL's head
 * must equal the source's (size and last leaf).  An error after
 * ml_pg_create leaves a partial copy in p (the message says so). */
int ml_migrate_to_pg(const char *ledger_path, struct ml_pg *p, const struct ml_migrate_opts *o,
		     struct ml_migrate_result *out, struct ml_err *e);

/* Creates a new replica ledger at path (must not exist) holding p's
 * ledger up to p's latest signed checkpoint, every entry checked, with
 * every stored checkpoint note up to that size (each checked against the
 * copied tree).  ML_EINPUT when p holds no ledger or no checkpoint;
 * ML_EINTEGRITY (e->seq = the entry at fault, or -1) for any row that does
 * not check; ML_EIO for storage errors.  On failure nothing is left at
 * path (nor its -wal, -shm). */
int ml_migrate_from_pg(struct ml_pg *p, const char *path, const struct ml_migrate_opts *o,
		       struct ml_migrate_result *out, struct ml_err *e);

/* Brings l, a working copy of p's ledger, up to p's latest signed
 * checkpoint (a no-op when it is there or beyond it but still a prefix of
 * p); *size receives l's size afterwards.  ML_EINPUT when l is of another
 * ledger (origin or log key); ML_EINTEGRITY when l holds more entries than
 * p, or its last entry is not p's entry of that seq (a fork: a failover
 * lost what l holds, or p was replaced): never silently continued.
 * ml_err.seq names the entry at fault.  l is written only through a
 * replica batch (on failure it stays as it was). */
int ml_migrate_follow(struct ml_pg *p, struct ml_ledger *l, uint64_t *size, struct ml_err *e);

#endif
