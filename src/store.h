/* store — the SQLite file: schema, prepared statements, transactions.
 *
 * Owns the sqlite3 handle.  Knows tables and columns, nothing of what
 * entries mean.  Every query is a prepared statement with bound parameters.
 * The projection tables (keys, subjects, entry_index, idempotency_keys) exist twice while a
 * verification runs: in the ledger ("main") and rebuilt from the entries in
 * memory ("replay", proj.h: calls with ML_DB_REPLAY are answered from it),
 * so that the one rule module that maintains them can be checked against
 * the stored copy (ml_store_replay_diff).
 * May call util, chain, proj (the replay projection and the row structs)
 * and keys (the size limits of names and key IDs).  Schema text: ledger/FORMAT.md, "Database".
 */
#ifndef ML_STORE_H
#define ML_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "chain.h"
#include "keys.h"
#include "proj.h"
#include "util.h"

#define ML_FORMAT_VERSION 1
#define ML_APPLICATION_ID 0x4d4c4c47 /* "MLLG" */

enum ml_db { ML_DB_MAIN = 0, ML_DB_REPLAY = 1 };

struct ml_store;

/* struct ml_key_row and struct ml_index_row: proj.h. */

/* The page size of new ledgers (bytes, as SQL text); existing ledgers keep
 * theirs, and any page size SQLite reads is accepted. */
#define ML_STORE_PAGE_SIZE "16384"
/* Creates a new ledger file (fails when path exists) with the schema, in WAL
 * mode, with pages of ML_STORE_PAGE_SIZE bytes.  *out is owned by the caller
 * (ml_store_close). */
int ml_store_create(const char *path, struct ml_store **out, struct ml_err *e);
/* Opens an existing ledger.  ML_EINPUT when path is not an mlledger ledger or
 * is of a newer format; ML_EIO on SQLite errors.  writable: 0 read-only,
 * 1 read-write; ML_STORE_ONE_THREAD or'd in when the caller uses the
 * connection from one thread at a time only (SQLite's mutexes are then
 * left out: SQLITE_OPEN_NOMUTEX). */
#define ML_STORE_ONE_THREAD 2
int ml_store_open(const char *path, int writable, struct ml_store **out,
		  struct ml_err *e);
void ml_store_close(struct ml_store *s);
/* Removes a ledger file that failed half-made, with its -wal and -shm
 * (closed first; errors ignored: there may be nothing to remove). */
void ml_store_unlink(const char *path);
const char *ml_store_path(const struct ml_store *s);

/* BEGIN IMMEDIATE (writers: takes the write lock now, waits up to the busy
 * timeout) or BEGIN (readers: a consistent snapshot). */
int ml_store_begin(struct ml_store *s, int write, struct ml_err *e);
int ml_store_commit(struct ml_store *s, struct ml_err *e);
void ml_store_rollback(struct ml_store *s);
/* Inside a write transaction: a savepoint (one level; ml_batch_try's per
 * item), its release (keeps what was written since) and its undo (rolls
 * back to it and releases it; the transaction stays open).  ML_EIO on
 * SQLite errors: the caller then rolls the whole transaction back. */
int ml_store_savepoint(struct ml_store *s, struct ml_err *e);
int ml_store_savepoint_release(struct ml_store *s, struct ml_err *e);
int ml_store_savepoint_undo(struct ml_store *s, struct ml_err *e);

int ml_store_meta_get(struct ml_store *s, const char *key, char *buf, size_t cap,
		      struct ml_err *e);
int ml_store_meta_count(struct ml_store *s, int64_t *n, struct ml_err *e);
int ml_store_meta_set(struct ml_store *s, const char *key, const char *value,
		      struct ml_err *e);

/* Number of entries, and the leaf hash and time of the last (zeros and 0
 * when empty). */
int ml_store_head(struct ml_store *s, uint64_t *size, uint8_t last[ML_SHA256_LEN],
		  int64_t *last_time, struct ml_err *e);
int ml_store_entry_insert(struct ml_store *s, const struct ml_entry *en,
			  const uint8_t leaf[ML_SHA256_LEN], struct ml_err *e);
/* Reads entry seq.  *env is malloc'd (caller frees); en->envelope points to
 * it.  ML_EINPUT when there is no such entry. */
int ml_store_entry_get(struct ml_store *s, uint64_t seq, struct ml_entry *en,
		       uint8_t **env, uint8_t leaf[ML_SHA256_LEN], struct ml_err *e);

/* Projection tables, in db.  *found is set to 0 or 1. */
int ml_store_key_get(struct ml_store *s, enum ml_db db, const char *keyid,
		     struct ml_key_row *row, int *found, struct ml_err *e);
int ml_store_key_active_by_name(struct ml_store *s, enum ml_db db, const char *name,
				struct ml_key_row *row, int *found, struct ml_err *e);
/* The key (any name, active or revoked) with the same public key as vkey. */
int ml_store_key_by_pubkey(struct ml_store *s, enum ml_db db, const char *vkey,
			   struct ml_key_row *row, int *found, struct ml_err *e);
int ml_store_key_insert(struct ml_store *s, enum ml_db db, const struct ml_key_row *row,
			struct ml_err *e);
int ml_store_key_revoke(struct ml_store *s, enum ml_db db, const char *keyid,
			int64_t seq, struct ml_err *e);
/* Active keys holding role "admin". */
int ml_store_admin_count(struct ml_store *s, enum ml_db db, int64_t *n, struct ml_err *e);
/* Every key, enrolment order; fn returns non-zero to stop (that value is
 * returned). */
int ml_store_key_each(struct ml_store *s, int (*fn)(void *, const struct ml_key_row *),
		      void *ctx, struct ml_err *e);
/* The same, over db's projection (the replay's, during verify). */
int ml_store_key_each_in(struct ml_store *s, enum ml_db db,
			 int (*fn)(void *, const struct ml_key_row *), void *ctx,
			 struct ml_err *e);

int ml_store_subject_get(struct ml_store *s, enum ml_db db, const char *kind,
			 const char *ref, uint8_t digest[ML_SHA256_LEN], int64_t *seq,
			 int *found, struct ml_err *e);
int ml_store_subject_insert(struct ml_store *s, enum ml_db db, const char *kind,
			    const char *ref, const uint8_t digest[ML_SHA256_LEN],
			    int64_t seq, struct ml_err *e);

/* The entry with the same keyid and statement hash, if any. */
int ml_store_index_find(struct ml_store *s, enum ml_db db, const char *keyid,
			const uint8_t hash[ML_SHA256_LEN], int64_t *seq, int *found,
			struct ml_err *e);
int ml_store_index_insert(struct ml_store *s, enum ml_db db,
			  const struct ml_index_row *row, struct ml_err *e);

/* The idempotency-key projection: the first entry signed by keyid whose
 * predicate carries idempotencyKey key.  Untrusted like every projection:
 * callers re-read the entry before acting on a hit.  Ledgers written before
 * the table existed lack it in main: present tells, create adds it (empty;
 * the caller fills it from the entries, in the same write transaction). */
int ml_store_idem_present(struct ml_store *s, int *present, struct ml_err *e);
int ml_store_idem_create(struct ml_store *s, struct ml_err *e);
int ml_store_idem_find(struct ml_store *s, enum ml_db db, const char *keyid, const char *key,
		       int64_t *seq, int *found, struct ml_err *e);
/* Keeps an existing row for (keyid, key): the first entry stays. */
int ml_store_idem_insert(struct ml_store *s, enum ml_db db, const char *keyid, const char *key,
			 int64_t seq, struct ml_err *e);

/* Iterates entries (with their index rows, zeroed when missing) in seq
 * order from first.  The callback's pointers are valid during the call;
 * a non-zero return stops the walk and is returned. */
typedef int (*ml_entry_fn)(void *ctx, const struct ml_entry *en,
			   const uint8_t leaf[ML_SHA256_LEN], const struct ml_index_row *ix,
			   int has_ix);
int ml_store_scan(struct ml_store *s, uint64_t first, ml_entry_fn fn, void *ctx,
		  struct ml_err *e);
/* Entries matching the filters (NULL/empty = any; since_us < 0 = any) in
 * seq order. */
int ml_store_query(struct ml_store *s, const char *kind, const char *name,
		   const char *version, int64_t since_us, ml_entry_fn fn, void *ctx,
		   struct ml_err *e);

/* The seqs of the entry_index rows matching the filters (NULL/empty =
 * any), ascending or, with newest_first, descending; reads the index only.
 * fn's non-zero return stops the walk and is returned.  fn must not call
 * ml_store_query_seqs on the same store (its statements are reused). */
int ml_store_query_seqs(struct ml_store *s, const char *kind, const char *name,
			const char *version, int newest_first,
			int (*fn)(void *ctx, uint64_t seq), void *ctx, struct ml_err *e);
/* The seqs of db's entry_index rows of kind for name and version, newest
 * first: in verify (ML_DB_REPLAY) the projection rebuilt from the entries
 * so far, not the stored one.  fn as ml_store_query_seqs's. */
int ml_store_index_seqs(struct ml_store *s, enum ml_db db, const char *kind, const char *name,
			const char *version, int (*fn)(void *ctx, uint64_t seq), void *ctx,
			struct ml_err *e);
/* The stored leaf hashes of entries 0 .. n-1 into out[n].  ML_EINTEGRITY
 * when one is missing or not 32 bytes. */
int ml_store_leaves(struct ml_store *s, uint64_t n, uint8_t (*out)[ML_SHA256_LEN],
		    struct ml_err *e);

/* The Merkle tree: level 0 is the entries' leaf hashes; levels >= 1 are the
 * stored complete subtrees.  ML_EINTEGRITY when a node is missing. */
int ml_store_node_get(struct ml_store *s, unsigned level, uint64_t idx,
		      uint8_t out[ML_SHA256_LEN], struct ml_err *e);
int ml_store_node_put(struct ml_store *s, unsigned level, uint64_t idx,
		      const uint8_t hash[ML_SHA256_LEN], struct ml_err *e);
int ml_store_node_count(struct ml_store *s, int64_t *n, struct ml_err *e);
/* The stored nodes read level by level, each level in index order, by one
 * sequential cursor per level (prepared when the level is first read), in
 * place of a B-tree look-up per node: verify's check of every node it
 * recomputes.  Use it inside one transaction of s and close it before the
 * transaction ends.  Not thread-safe; s must outlive it. */
struct ml_store_node_reader;
/* *out is set on ML_OK (free with ml_store_node_reader_close); ML_EIO when
 * out of memory. */
int ml_store_node_reader_open(struct ml_store *s, struct ml_store_node_reader **out,
			      struct ml_err *e);
/* The stored node of level (1..63) after the ones this reader already
 * returned for it, in index order: ML_OK with *has = 1, its index and its
 * hash; ML_OK with *has = 0 when the level holds no further row;
 * ML_EINTEGRITY (naming the node, *idx set) when its hash is not 32 bytes;
 * ML_EINPUT for a level out of range; ML_EIO on a database error. */
int ml_store_node_next(struct ml_store_node_reader *r, unsigned level, int *has,
		       int64_t *idx, uint8_t hash[ML_SHA256_LEN], struct ml_err *e);
/* Finalizes its cursors.  NULL is ignored. */
void ml_store_node_reader_close(struct ml_store_node_reader *r);
/* The node callback of merkle.h's root and proof builders, reading stored
 * nodes: pass a struct ml_store_nodes as ctx.  ML_OK, or the ML_E* code
 * with ctx->e set. */
struct ml_store_nodes {
	struct ml_store *s;
	struct ml_err *e;
};
int ml_store_node_read(void *ctx, unsigned level, uint64_t idx, uint8_t out[ML_SHA256_LEN]);

/* Signed checkpoints, one per tree size.  get with size < 0 is the latest;
 * *note is malloc'd (caller frees).  ML_EINPUT when there is none. */
int ml_store_checkpoint_put(struct ml_store *s, uint64_t size, const char *note,
			    struct ml_err *e);
int ml_store_checkpoint_get(struct ml_store *s, int64_t size, uint64_t *got, char **note,
			    struct ml_err *e);
/* Every checkpoint in size order; a non-zero return of fn stops and is
 * returned. */
int ml_store_checkpoint_each(struct ml_store *s,
			     int (*fn)(void *ctx, uint64_t size, const char *note, size_t len),
			     void *ctx, struct ml_err *e);

/* Copies the ledger to a new file at path from one consistent snapshot,
 * with SQLite's backup API.  ML_EINPUT when path exists (it is never
 * touched); on any other failure the file this call made is removed. */
int ml_store_backup(struct ml_store *s, const char *path, struct ml_err *e);

/* Attaches an empty replay projection (proj.h, in memory; no-op when one is
 * attached).  ML_EIO when out of memory.  Until then, calls with
 * ML_DB_REPLAY fail with ML_EIO. */
int ml_store_replay_attach(struct ml_store *s, struct ml_err *e);
/* Frees the replay projection (about 130 bytes an entry); a later
 * attach starts a new, empty one.  No-op when none is attached. */
void ml_store_replay_detach(struct ml_store *s);
/* Compares each projection table in main with replay, exhaustively: every
 * stored row must equal a replay row (columns, types and bytes) and no
 * replay row may be left over.  On a difference sets e (ML_EINTEGRITY,
 * naming the table and a row) and returns it; ML_EIO on SQLite errors or
 * when no replay is attached. */
int ml_store_replay_diff(struct ml_store *s, struct ml_err *e);
/* Checks sqlite_master against the schema this version creates (tables,
 * indexes, the append-only triggers).  ML_EINTEGRITY on any difference. */
int ml_store_schema_check(struct ml_store *s, struct ml_err *e);

#endif
