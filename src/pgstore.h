/* pgstore — the store of record on PostgreSQL (libpq): the ledger's
 * identity, its entries with their leaf hashes, the chain head and the
 * signed checkpoints, for `serve --store postgresql://...`, `migrate` and
 * `export --store`.
 *
 * It holds bytes and decides nothing: the rules run on each front-end's
 * SQLite working copy, which is built from these rows and checks every one
 * of them as verify does (ledger.h: ml_batch_adopt, ml_replica_*).  Schema:
 * ledger/postgresql.sql, documented in ledger/POSTGRESQL.md.
 *
 * Durability.  A write transaction counts only when COMMIT returns success
 * and PostgreSQL sent no warning that the wait for synchronous replication
 * was cancelled ("... already committed locally, but might not have been
 * replicated"): the notice processor turns that into ML_EIO.  With
 * min_sync > 0 the commit first requires that many synchronous standbys
 * streaming (pg_stat_replication, sync_state 'sync' or 'quorum'; the role
 * needs pg_monitor), else ML_EIO "no synchronous standby"; and the COMMIT
 * is bounded by commit_timeout_ms, after which pgstore asks the server to
 * cancel the wait (PQcancel: statement_timeout does not cover a COMMIT,
 * PostgreSQL disables it first), which gives the warning, so ML_EIO.  A
 * commit whose outcome is unknown (the connection died, or no answer to
 * the cancel) is ML_EIO too: the caller acknowledges nothing, and the
 * rows, if they were written, are found again by the next ml_pg_begin.
 * Every commit, one with nothing put included, writes the head row, so
 * that its COMMIT waits for the standbys: once it succeeded, everything
 * begin and entries returned (other writers' rows too) is replicated.
 * checkpoint_put outside a transaction commits the same way.
 *
 * Connections: any libpq connection string or URI, multi-host included
 * ("postgresql://h1:5432,h2:5432/db?target_session_attrs=read-write"); a
 * broken connection is re-established (PQreset) at the next ml_pg_begin or
 * read, so a front-end follows a promoted standby; outside a transaction,
 * a statement that finds the connection lost is run once more after the
 * reset.  Sessions run with synchronous_commit = on and lock_timeout =
 * commit_timeout_ms + 10 s (a begin waiting longer for the head row is
 * ML_EIO).
 *
 * One handle, one thread.  Every query has bound parameters; nothing is
 * built from input by string formatting.  Errors are one line naming the
 * store (host and database, never the password).
 * May call chain, util.
 */
#ifndef ML_PGSTORE_H
#define ML_PGSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "chain.h"
#include "util.h"

#define ML_PG_URL_MAX 1024
#define ML_PG_COMMIT_TIMEOUT_MS 5000

struct ml_pg;

struct ml_pg_opts {
	unsigned min_sync;          /* synchronous standbys a commit needs (0: none) */
	unsigned commit_timeout_ms; /* 0: ML_PG_COMMIT_TIMEOUT_MS */
};

/* True when s is a PostgreSQL URI ("postgresql://" or "postgres://"). */
bool ml_pg_is_url(const char *s);

/* Connects (o NULL: min_sync 0 and the default timeout).  ML_EIO naming the
 * store when it cannot; ML_EINPUT for a malformed URL or one longer than
 * ML_PG_URL_MAX. */
int ml_pg_connect(const char *url, const struct ml_pg_opts *o, struct ml_pg **out,
		  struct ml_err *e);
void ml_pg_close(struct ml_pg *p);
/* "host:port/db" of the current connection, for messages. */
const char *ml_pg_name(const struct ml_pg *p);
/* *standby = 1 when the server is in recovery (a hot standby). */
int ml_pg_standby(struct ml_pg *p, int *standby, struct ml_err *e);

/* Creates the schema (one transaction) and records the ledger's identity:
 * its origin, log key line and format.  ML_ECONFLICT when the database
 * already holds an mlledger schema. */
int ml_pg_create(struct ml_pg *p, const char *origin, const char *logkey, int format,
		 struct ml_err *e);
/* The identity recorded by ml_pg_create.  ML_EINPUT "no mlledger ledger in
 * <name>" when the schema is absent; ML_EINPUT when the schema version is
 * newer than this program's. */
int ml_pg_identity(struct ml_pg *p, char *origin, size_t ocap, char *logkey, size_t kcap,
		   int *format, struct ml_err *e);

/* The head in its own snapshot: size, last leaf hash, last append time
 * (zeros when empty). */
int ml_pg_head(struct ml_pg *p, uint64_t *size, uint8_t last[ML_SHA256_LEN],
	       int64_t *last_time, struct ml_err *e);

/* ---- a write transaction ------------------------------------------------
 * begin: BEGIN, then the head row FOR UPDATE (so every writer of the
 * database is serialised on it), returning it.  put: queues one entry at
 * seq size, size+1, ... in order (ML_EINPUT for any other seq, an
 * envelope empty or over ML_MAX_ENVELOPE, or over 512 MiB in one
 * transaction); it copies the bytes.  commit:
 * writes what put queued, moves the head to the last of them, checks the
 * synchronous standbys, COMMITs (see Durability).  rollback writes nothing.
 * After any error of begin, put or commit the transaction is rolled back
 * and only a new begin is allowed. */
int ml_pg_begin(struct ml_pg *p, uint64_t *size, uint8_t last[ML_SHA256_LEN],
		int64_t *last_time, struct ml_err *e);
int ml_pg_put(struct ml_pg *p, const struct ml_entry *en, const uint8_t leaf[ML_SHA256_LEN],
	      struct ml_err *e);
int ml_pg_commit(struct ml_pg *p, struct ml_err *e);
void ml_pg_rollback(struct ml_pg *p);

/* Calls each for entries [from, to) in seq order (inside a begun
 * transaction: READ COMMITTED, one snapshot per chunk, all after the head
 * row lock, so no writer can add rows meanwhile; else one snapshot per
 * chunk of rows; chunks of 16 to 1024 rows, about 8 MiB each).  en's
 * envelope is valid during the call only.  each's nonzero return stops the
 * walk and is returned.  ML_EINTEGRITY when a seq is missing (e->seq). */
typedef int (*ml_pg_entry_fn)(void *ctx, const struct ml_entry *en,
			      const uint8_t leaf[ML_SHA256_LEN], struct ml_err *e);
int ml_pg_entries(struct ml_pg *p, uint64_t from, uint64_t to, ml_pg_entry_fn each, void *ctx,
		  struct ml_err *e);

/* Checkpoints: the signed notes, one per size.  put keeps the first note of
 * a size (another of the same size is ignored: the caller checked it is of
 * the same tree).  latest: the largest size <= max and its note (*note
 * malloc'ed, the caller frees); ML_EINPUT when there is none.  each: every
 * stored one in size order. */
int ml_pg_checkpoint_put(struct ml_pg *p, uint64_t size, const char *note, struct ml_err *e);
int ml_pg_checkpoint_latest(struct ml_pg *p, uint64_t max, uint64_t *size, char **note,
			    struct ml_err *e);
int ml_pg_checkpoint_get(struct ml_pg *p, uint64_t size, char **note, struct ml_err *e);
typedef int (*ml_pg_note_fn)(void *ctx, uint64_t size, const char *note, struct ml_err *e);
int ml_pg_checkpoint_each(struct ml_pg *p, ml_pg_note_fn each, void *ctx, struct ml_err *e);

#endif
