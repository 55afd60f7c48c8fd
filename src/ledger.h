/* ledger — the operations on a ledger: create, open, append, look up.
 *
 * Appends are transactions: BEGIN IMMEDIATE (the write lock, waiting up to
 * the busy timeout), every envelope checked by rules against the current
 * projection, entry and projection rows written, COMMIT with WAL and
 * synchronous=FULL.  A batch is all or nothing.  An envelope the ledger
 * already holds is answered with the entry it repeats (retry.h).  A replica
 * (`mlledger mirror`) is a ledger without a log key whose entries are
 * copied from a server under the same rules (ml_replica_*).  May call
 * rules, governance, retry, chain, statement, merkle, note, keys, store, util.
 */
#ifndef ML_LEDGER_H
#define ML_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "statement.h"
#include "store.h"
#include "util.h"

#define ML_DEFAULT_LEDGER "ledger/ledger.db"
#define ML_ORIGIN_MAX 128

struct ml_ledger;

/* One envelope to append. */
struct ml_append_item {
	const uint8_t *envelope;
	size_t len;
	/* Optional: the key that signed it, when the caller just signed it.
	 * When it equals the enrolled key the signature is not checked again. */
	const struct ml_pubkey *signed_by;
	/* Optional: the parse of the statement the caller built (see
	 * ml_rules_check's hint). */
	const struct ml_statement *statement;
	/* Dated by this machine's clock even when that is before the previous
	 * entry: only for a clock-correction (`mlledger clock-correct`). */
	int at_clock;
};

/* ML_CLOCK_TOLERANCE_US (util.h): how far the last entry may be dated ahead
 * of this machine's clock before appends are refused (ML_EIO) and gate and
 * check fail closed. */

/* What an append produced. */
struct ml_appended {
	uint64_t seq;
	uint8_t leaf[ML_SHA256_LEN];
	int64_t time_us;
	/* 1: the item repeats entry seq (the same keyid and statement bytes,
	 * or the same idempotencyKey and content; retry.h), which is what
	 * seq, leaf and time_us describe; nothing was written for it. */
	int existing;
};

/* The log key file that belongs to a ledger: PATH ".log.key". */
void ml_ledger_logkey_path(const char *path, char *buf, size_t cap);
/* Default origin: "<hostname>/<absolute path of the ledger>", with bytes
 * outside [A-Za-z0-9._/-] replaced by '-', at most ML_ORIGIN_MAX bytes. */
int ml_ledger_default_origin(const char *path, char *buf, size_t cap, struct ml_err *e);

/* Creates the ledger at path (its folder too, one level), the log key
 * beside it, and the genesis entry signed by admin.  origin NULL means the
 * default.  Refuses to overwrite; on failure nothing is left behind. */
int ml_ledger_init(const char *path, const char *origin, const struct ml_seckey *admin,
		   struct ml_appended *genesis, struct ml_err *e);
/* The same, with governance document text (FORMAT.md §2) set in the genesis;
 * NULL: the documented default's text (every new ledger declares one).  The document is checked
 * before anything is written (ML_EINPUT naming the member at fault). */
int ml_ledger_init_governed(const char *path, const char *origin,
			    const struct ml_seckey *admin, const char *governance,
			    struct ml_appended *genesis, struct ml_err *e);
int ml_ledger_open(const char *path, int writable, struct ml_ledger **out,
		   struct ml_err *e);
void ml_ledger_close(struct ml_ledger *l);
struct ml_store *ml_ledger_store(struct ml_ledger *l);
const char *ml_ledger_origin(const struct ml_ledger *l);
/* The log's verifier key line. */
const char *ml_ledger_logkey(const struct ml_ledger *l);
/* Uses the log key at path instead of the one beside the ledger (a
 * front-end's working copy of a store of record: pgsync.h).  Before the
 * handle's first batch; the key is still checked against the ledger's log
 * key line.  ML_EINPUT when path is too long. */
int ml_ledger_use_logkey(struct ml_ledger *l, const char *path, struct ml_err *e);

/* Appends n envelopes in one transaction, in order.  out[i] receives what
 * item i became: a new entry, or (out[i].existing) the entry it repeats,
 * including an earlier item of the same batch.  An idempotency key that
 * names an entry of other content fails the batch with ML_ECONFLICT.  On failure nothing is written and e->index holds the
 * index of the item at fault (0-based within the batch), or -1 when the
 * fault is not an item's (the lock, the commit); e->seq names a ledger
 * entry only when one is at fault (util.h). */
int ml_ledger_append(struct ml_ledger *l, const struct ml_append_item *items, size_t n,
		     struct ml_appended *out, struct ml_err *e);

/* Checks item as the next append would (the governance in force, the
 * signer, references, duplicates, the signature) and writes nothing: for
 * `sign`, which makes an envelope to submit later.  Errors as append. */
int ml_ledger_check(struct ml_ledger *l, const struct ml_append_item *item, struct ml_err *e);
/* ml_ledger_check for an item that may repeat an entry: when the ledger
 * already holds the same statement by the same key (item->statement and
 * item->signed_by given; found through the entry index), *held is that
 * entry's seq and nothing else is checked (an append answers with it,
 * retry.h); else *held is -1 and the item is checked as ml_ledger_check
 * does.  For `report --record`, which checks before it writes a file. */
int ml_ledger_check_held(struct ml_ledger *l, const struct ml_append_item *item,
			 int64_t *held, struct ml_err *e);
/* The same for an envelope that may still be countersigned: too few
 * signers under the dualControl in force (FORMAT.md §5 rule 13) is not an
 * error but a note (one line, "" when nothing is missing) in note. */
int ml_ledger_check_partial(struct ml_ledger *l, const struct ml_append_item *item,
			    char note[384], struct ml_err *e);

/* The same, one item at a time, for callers that produce items while they
 * append (import signs on other threads meanwhile).  begin takes the write
 * lock; add checks and writes one item (after a failed add, abort); commit
 * makes all durable; abort writes nothing.  commit and abort free b,
 * whatever the result.  A handle keeps the rules state (governance in
 * force, clock corrections) its last committed batch left and starts its
 * next batch from it while the ledger's head (size, last leaf) is still
 * the one that batch left; otherwise it is loaded again.  It also keeps
 * the log key its first batch loaded (and checked against the ledger's
 * log key line) until ml_ledger_close: a key file replaced or removed
 * later does not affect that handle. */
struct ml_batch;
int ml_batch_begin(struct ml_ledger *l, struct ml_batch **b, struct ml_err *e);
int ml_batch_add(struct ml_batch *b, const struct ml_append_item *item,
		 struct ml_appended *out, struct ml_err *e);
/* ml_batch_add with what the caller knows of the envelope it just built
 * (import's signers; rules.h, ml_rules_check_hinted: used only when it
 * describes item's bytes exactly).  env_hint may be NULL. */
struct ml_envelope_hint;
int ml_batch_add_hinted(struct ml_batch *b, const struct ml_append_item *item,
			const struct ml_envelope_hint *env_hint, struct ml_appended *out,
			struct ml_err *e);
int ml_batch_commit(struct ml_batch *b, struct ml_err *e);
void ml_batch_abort(struct ml_batch *b);
/* ml_batch_add under a savepoint, for a server that batches items of many
 * clients: when the ledger refuses item (ML_EINPUT, ML_EKEY, ML_ECONFLICT,
 * e says why) nothing of it is written and the batch (next seq, last leaf,
 * tree edge, governance in force) is exactly as before the call, so the
 * caller goes on adding and commits the others.  Any other error
 * (ML_EIO, ML_EINTEGRITY, ...): the batch is unusable, the caller aborts.
 * e must not be NULL. */
int ml_batch_try(struct ml_batch *b, const struct ml_append_item *item,
		 struct ml_appended *out, struct ml_err *e);
/* Adds en, an entry another writer of the same store of record already
 * appended (pgstore.h), as entry ml_batch_size(b) of the batch: checked as
 * ml_replica_add checks a copied entry (seq, prev link, non-decreasing
 * time, size, every rule with every signature verified), written with its
 * own time and bytes, then the tree nodes.  The batch goes on from it.
 * leaf receives its leaf hash.  ML_EINTEGRITY (e->seq = en->seq) when it
 * does not fit; after any error only abort is allowed.  Call it before any
 * ml_batch_add or ml_batch_try of the batch. */
int ml_batch_adopt(struct ml_batch *b, const struct ml_entry *en, uint8_t leaf[ML_SHA256_LEN],
		   struct ml_err *e);
/* True when rc is a refusal of one item that ml_batch_try undid. */
bool ml_batch_refusal(int rc);
/* The size of the batch's tree so far (its committed checkpoint's size). */
uint64_t ml_batch_size(const struct ml_batch *b);

/* Looks up a recorded dataset or model version: its digest and seq.
 * ML_EINPUT "unknown ..." when absent. */
int ml_ledger_subject(struct ml_ledger *l, const char *kind, const char *ref,
		      uint8_t digest[ML_SHA256_LEN], int64_t *seq, struct ml_err *e);

/* ---- replicas: a verified copy of another host's ledger ----------------
 *
 * `mlledger mirror` keeps a local copy of a served ledger that every
 * reading command can open.  It holds no log key (appends to it are
 * refused: ml_batch_begin finds no key), and its entries are written only
 * through a replica batch, which checks each as verify would and as the
 * server's append did: seq, prev link and non-decreasing time, every rule of
 * rules.h at its place with every signature verified, then the tree nodes;
 * at commit the recomputed root must equal a checkpoint signed by the log
 * key the replica was created with.  One transaction: a refused batch
 * leaves the replica as it was. */

/* Creates an empty replica at path (must not exist; no log key file) whose
 * meta holds origin and the log's verifier key line logkey; the format is
 * set from the genesis entry when it is copied.  On failure nothing is
 * left behind. */
int ml_ledger_create_replica(const char *path, const char *origin, const char *logkey,
			     struct ml_err *e);

struct ml_replica;
/* Takes the write lock of l (a replica, or any ledger) and loads its head,
 * tree edge and rules state.  *out is freed by commit or abort. */
int ml_replica_begin(struct ml_ledger *l, struct ml_replica **out, struct ml_err *e);
/* The seq the next entry must have. */
uint64_t ml_replica_next(const struct ml_replica *r);
/* Checks en as entry ml_replica_next(r) and writes it.  leaf receives its
 * leaf hash.  ML_EINTEGRITY (e->seq = en->seq) for a wrong seq, a broken
 * prev link, a time before the previous entry's, an envelope larger than
 * ML_MAX_ENVELOPE, a genesis whose origin or log key is not the replica's,
 * or anything the rules refuse (the message says what); ML_EIO for storage
 * errors.  After an error only abort is allowed. */
int ml_replica_add(struct ml_replica *r, const struct ml_entry *en,
		   uint8_t leaf[ML_SHA256_LEN], struct ml_err *e);
/* A past checkpoint size that a gate decision copied since the last call
 * names (its ledger.size, FORMAT.md §2 "Gate decisions") and the replica does
 * not store; its replay needs that note.  *size = 0 when none is left; each
 * size is told once. */
int ml_replica_wanted(struct ml_replica *r, uint64_t *size, struct ml_err *e);
/* Checks note (len bytes): a checkpoint signed by the replica's log key, of
 * its origin, of size (1 <= size <= ml_replica_next(r)) and whose root is the
 * copied tree's at size; stores it (unless a checkpoint of that size is
 * stored) in the replica's transaction.  ML_EINTEGRITY when it does not
 * match (nothing is stored); after an error only abort is allowed. */
int ml_replica_checkpoint(struct ml_replica *r, uint64_t size, const char *note, size_t len,
			  struct ml_err *e);
/* Checks note (len bytes): a checkpoint signed by the replica's log key, of
 * its origin, whose size is the replica's and whose root is the tree's;
 * stores it (unless a checkpoint of that size is stored) and commits.
 * ML_EINTEGRITY when it does not match (nothing is written); frees r
 * whatever the result. */
int ml_replica_commit(struct ml_replica *r, const char *note, size_t len, struct ml_err *e);
/* Writes nothing; frees r (NULL is fine). */
void ml_replica_abort(struct ml_replica *r);

#endif
