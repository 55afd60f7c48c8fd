/* proj — verify's replay projection, held in memory.
 *
 * The four projection tables (keys, subjects, entry_index,
 * idempotency_keys) as rebuilt from the entries while a verification runs:
 * rows in an arena, found through hash maps keyed like the tables' primary
 * and unique keys.  It knows rows and keys, nothing of what entries mean:
 * rules.c alone decides what is written (through store.h's ML_DB_REPLAY
 * calls, which store.c answers from here), and store.c compares the result
 * with the ledger's stored tables row by row (the *_match calls and
 * ml_proj_unmatched).  Not thread-safe: one thread at a time, as the store.
 * May call util, arena (strings and rows), keys (the size limits of names
 * and key IDs) and libsodium (the keyed hash).
 */
#ifndef ML_PROJ_H
#define ML_PROJ_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "util.h"

/* A row of the keys table. */
struct ml_key_row {
	char keyid[ML_KEYID_MAX];
	char name[ML_KEY_NAME_MAX + 1];
	char vkey[ML_VKEY_MAX];
	char roles[256];          /* comma-separated, in enrolment order */
	int64_t enrolled_seq;
	int64_t revoked_seq;      /* -1 while active */
};

/* A row of the entry_index table. */
struct ml_index_row {
	int64_t seq;
	char kind[32];
	char name[ML_KEY_NAME_MAX + 1 + 8];
	char version[72];
	char keyid[ML_KEYID_MAX];
	uint8_t stmt_hash[ML_SHA256_LEN];
};

struct ml_proj;

/* A new, empty projection; NULL when out of memory.  Free with
 * ml_proj_free (NULL is ignored). */
struct ml_proj *ml_proj_new(void);
void ml_proj_free(struct ml_proj *p);

/* Writes follow the stored tables' constraints: ML_EINTEGRITY (e names the
 * table and key) when a row with the same primary or unique key exists,
 * ML_EIO when out of memory; p is unchanged on error.  Look-ups set *found
 * to 0 or 1 and fill the out-parameters only when found. */

/* keys: keyid is the primary key; rows keep their insertion order (the
 * stored table's rowid order). */
int ml_proj_key_insert(struct ml_proj *p, const struct ml_key_row *row, struct ml_err *e);
void ml_proj_key_get(struct ml_proj *p, const char *keyid, struct ml_key_row *row, int *found);
/* The first row, in insertion order, of name that is not revoked. */
void ml_proj_key_active_by_name(struct ml_proj *p, const char *name, struct ml_key_row *row,
				int *found);
/* The first row, in insertion order, whose vkey ends in tail: its last
 * min(44, length) UTF-8 characters equal tail (SQL substr(vkey, -44)). */
void ml_proj_key_by_pubkey_tail(struct ml_proj *p, const char *tail, struct ml_key_row *row,
				int *found);
/* Sets revoked_seq of keyid's row when it is not revoked (else no-op). */
void ml_proj_key_revoke(struct ml_proj *p, const char *keyid, int64_t seq);
/* Rows not revoked whose roles hold "admin" (ASCII case-insensitive, as SQL
 * LIKE '%,admin,%' over ',' || roles || ','). */
int64_t ml_proj_admin_count(struct ml_proj *p);
/* Every row in enrolled_seq order (ties in insertion order); fn's non-zero
 * return stops and is returned; 0 after the last; ML_EIO (e set) when out
 * of memory. */
int ml_proj_key_each(struct ml_proj *p, int (*fn)(void *, const struct ml_key_row *),
		     void *ctx, struct ml_err *e);

/* subjects: (kind, ref) is the primary key. */
int ml_proj_subject_insert(struct ml_proj *p, const char *kind, const char *ref,
			   const uint8_t digest[ML_SHA256_LEN], int64_t seq, struct ml_err *e);
void ml_proj_subject_get(struct ml_proj *p, const char *kind, const char *ref,
			 uint8_t digest[ML_SHA256_LEN], int64_t *seq, int *found);

/* entry_index: seq is the primary key, (keyid, stmt_hash) unique. */
int ml_proj_index_insert(struct ml_proj *p, const struct ml_index_row *row, struct ml_err *e);
void ml_proj_index_find(struct ml_proj *p, const char *keyid,
			const uint8_t hash[ML_SHA256_LEN], int64_t *seq, int *found);
/* The seqs of the rows of (kind, name, version), descending; fn as
 * ml_proj_key_each's. */
int ml_proj_index_seqs(struct ml_proj *p, const char *kind, const char *name,
		       const char *version, int (*fn)(void *ctx, uint64_t seq), void *ctx,
		       struct ml_err *e);

/* idempotency_keys: (keyid, key) is the primary key; an insert of an
 * existing key keeps the row there (INSERT OR IGNORE) and returns ML_OK. */
int ml_proj_idem_insert(struct ml_proj *p, const char *keyid, const char *key, int64_t seq,
			struct ml_err *e);
void ml_proj_idem_find(struct ml_proj *p, const char *keyid, const char *key, int64_t *seq,
		       int *found);

/* ---- comparison with a stored table ------------------------------------
 * The caller reads every stored row of a table once and asks *_match with
 * its columns (texts as bytes and length: a stored text may hold anything).
 * *_match returns 1 when p holds a row with that key, not matched before,
 * equal in every column, and marks it matched; else 0.  When every stored
 * row matched, ml_proj_unmatched tells whether p holds a row no stored row
 * matched: the stored table then lacks it. */
struct ml_proj_text {
	const char *p;
	size_t len;
};

enum ml_proj_table { ML_PROJ_KEYS, ML_PROJ_SUBJECTS, ML_PROJ_INDEX, ML_PROJ_IDEM };

int ml_proj_key_match(struct ml_proj *p, struct ml_proj_text keyid, struct ml_proj_text name,
		      struct ml_proj_text vkey, struct ml_proj_text roles, int64_t enrolled_seq,
		      int revoked, int64_t revoked_seq);
int ml_proj_subject_match(struct ml_proj *p, struct ml_proj_text kind, struct ml_proj_text ref,
			  const uint8_t *digest, size_t digest_len, int64_t seq);
int ml_proj_index_match(struct ml_proj *p, int64_t seq, struct ml_proj_text kind,
			struct ml_proj_text name, struct ml_proj_text version,
			struct ml_proj_text keyid, const uint8_t *hash, size_t hash_len);
int ml_proj_idem_match(struct ml_proj *p, struct ml_proj_text keyid, struct ml_proj_text key,
		       int64_t seq);
/* Rows of t in p; whether one of them was not matched, and then the first
 * such row's first stored column (keyid, ref, seq or keyid) as text in
 * first[cap]. */
size_t ml_proj_count(const struct ml_proj *p, enum ml_proj_table t);
int ml_proj_unmatched(const struct ml_proj *p, enum ml_proj_table t, char *first, size_t cap);

#endif
