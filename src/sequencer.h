/* sequencer — group commit for a server: a bounded queue of appends from
 * many request threads and one committer thread that drains it in batches
 * (natural group commit: whenever the committer is free it takes what is
 * pending, up to batch_max items, after waiting until wait_ms past the
 * first item's arrival for more when wait_ms > 0),
 * each one ledger transaction (ml_batch_begin, ml_batch_try per item,
 * ml_batch_commit: one fsync, one checkpoint signature), then answers every
 * item: a c2sp.org/tlog-proof@v1 of its entry against the batch's
 * checkpoint (a retry: against the latest), or its refusal.
 *
 * With a store of record (struct ml_seq_record: PostgreSQL, pgsync.h) each
 * batch also goes through it: its lock and what other writers appended
 * first, its durable commit before the ledger's, so an item is answered
 * ML_OK only once the store of record holds it.
 *
 * The committer owns the writable ledger while it runs; nothing else may
 * use that handle.  It knows nothing of HTTP: the caller maps results.
 * May call ledger, statement, tlog, merkle, note, store, keys, util.
 */
#ifndef ML_SEQUENCER_H
#define ML_SEQUENCER_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "ledger.h"
#include "statement.h"
#include "util.h"

#define ML_SEQ_QUEUE_MAX 4096
#define ML_SEQ_BATCH_MAX 256

struct ml_seq;

/* One append, owned by the caller from ml_seq_submit until its done
 * callback has been called (exactly once, from the committer thread, or
 * from ml_seq_stop); the sequencer never frees it. */
struct ml_seq_item {
	/* in */
	const uint8_t *envelope;
	size_t len;
	/* Optional: the enrolled key the caller verified the author's
	 * signature with (ledger.h's signed_by); has_signer says it is set. */
	struct ml_pubkey signer;
	int has_signer;
	/* Optional: the caller's parse of the envelope's statement (ledger.h's
	 * statement hint), alive until done. */
	const struct ml_statement *statement;
	void (*done)(struct ml_seq_item *it); /* called once the answer is set */
	void *ctx;                            /* the caller's */
	int64_t submitted_us;                 /* set by ml_seq_submit (monotonic) */
	/* out, valid in done */
	int rc;              /* ML_OK, a refusal (ML_EINPUT/EKEY/ECONFLICT), or
			      * ML_EIO/ML_EINTEGRITY: nothing of the batch written */
	int existing;        /* the envelope repeats entry seq */
	int unavailable;     /* rc != ML_OK because the store of record could not
			      * take the batch now (no synchronous standby, a
			      * failover): worth a retry */
	uint64_t seq;
	int64_t time_us;     /* the entry's append time */
	uint8_t leaf[ML_SHA256_LEN];
	uint64_t size;       /* rc == ML_OK: the checkpoint the proof is against */
	char msg[384];       /* rc != ML_OK: the one-line reason */
	struct ml_buf proof; /* rc == ML_OK: the tlog-proof text; the caller
			      * frees it (ml_buf_free) */
	struct ml_seq_item *next; /* the queue's link */
};

/* A store of record the ledger is a working copy of.  All calls come from
 * the committer thread, in this order per batch: begin (after
 * ml_batch_begin), then commit or abort; published after the ledger's
 * commit and after the batch's items have been answered. */
struct ml_seq_record {
	/* Takes the store's write lock and adopts into b (ml_batch_adopt)
	 * what the store holds beyond the ledger.  An error fails the batch:
	 * ML_EINTEGRITY when the two disagree, else the store is unavailable. */
	int (*begin)(void *ctx, struct ml_ledger *l, struct ml_batch *b, struct ml_err *e);
	/* Writes the batch's new entries [from, to) (read from l inside the
	 * batch's transaction; from == to: none) and commits them durably,
	 * then releases the lock.  ML_OK only when durable: anything else and
	 * the ledger's batch is aborted. */
	int (*commit)(void *ctx, struct ml_ledger *l, uint64_t from, uint64_t to,
		      struct ml_err *e);
	/* After a failed begin or any failure before commit: writes nothing. */
	void (*abort)(void *ctx);
	/* After the ledger's commit: its checkpoint (note, len bytes). */
	void (*published)(void *ctx, uint64_t size, const char *note, size_t len);
	void *ctx;
};

struct ml_seq_opts {
	unsigned batch_max;   /* 1..ML_SEQ_BATCH_MAX */
	unsigned wait_ms;     /* 0..1000: extra wait for more after the first
			       * item's arrival (0: none) */
	unsigned queue_max;   /* 1..ML_SEQ_QUEUE_MAX pending items */
	/* Optional, from the committer thread after each commit: the latest
	 * checkpoint (size and note, valid during the call) and the batch's
	 * size (items answered). */
	void (*committed)(void *ctx, uint64_t size, const char *note, size_t len,
			  size_t items);
	void *ctx;
	/* NULL, or the store of record (borrowed until ml_seq_free). */
	const struct ml_seq_record *record;
};

/* Starts the committer thread on l (writable, not owned: close it after
 * ml_seq_free).  ML_EIO when the thread cannot start. */
int ml_seq_start(struct ml_ledger *l, const struct ml_seq_opts *o, struct ml_seq **out,
		 struct ml_err *e);
/* Queues it.  before (may be NULL) is called with ctx under the queue's
 * lock once the item is accepted, before the committer can see it (a
 * server suspends the connection there, so the resume cannot come first).
 * Returns ML_OK, or without queueing and without calling done: ML_EIO
 * "busy" when queue_max items are pending, ML_EINPUT "shutting down"
 * after ml_seq_stop began. */
int ml_seq_submit(struct ml_seq *q, struct ml_seq_item *it,
		  void (*before)(void *ctx), void *ctx);
/* Items waiting (not yet taken by the committer). */
size_t ml_seq_pending(struct ml_seq *q);
/* Stops accepting, lets the committer commit and answer everything
 * queued, and joins it.  Idempotent. */
void ml_seq_stop(struct ml_seq *q);
/* Stops (if not yet) and frees; NULL is fine. */
void ml_seq_free(struct ml_seq *q);

#endif
