/* pgsync — a ledger file as the working copy of a PostgreSQL store of
 * record (pgstore.h): the sequencer's store-of-record hooks (sequencer.h's
 * struct ml_seq_record) for a writer front-end of `mlledger serve --store`.
 *
 * Per batch: begin takes the store's head row FOR UPDATE and adopts into
 * the ledger's batch (ml_batch_adopt: every rule and signature checked)
 * the entries other front-ends appended; commit writes the batch's new
 * entries and commits with pgstore's durability checks, so nothing is
 * acknowledged or signed that the store of record does not hold
 * replicated; published stores the signed checkpoint so that other
 * front-ends and followers can serve it.
 *
 * The working copy and the store must agree: a store shorter than the
 * working copy (a failover lost entries this front-end had) or holding
 * another leaf at the same place is ML_EINTEGRITY, every batch, until an
 * operator looks (SECURITY.md, "The PostgreSQL store").
 * May call pgstore, sequencer, ledger, store, chain, util.
 */
#ifndef ML_PGSYNC_H
#define ML_PGSYNC_H

#include "pgstore.h"
#include "sequencer.h"

struct ml_pgsync;

/* Wraps p (borrowed: the caller closes it after ml_pgsync_free; only the
 * committer thread may use it meanwhile). */
int ml_pgsync_new(struct ml_pg *p, struct ml_pgsync **out, struct ml_err *e);
void ml_pgsync_free(struct ml_pgsync *s);
/* The hooks for ml_seq_opts.record, valid until ml_pgsync_free. */
const struct ml_seq_record *ml_pgsync_record(struct ml_pgsync *s);
/* How many signed checkpoints could not be stored in PostgreSQL, or found
 * another note already stored at their size (each also told on stderr).
 * Publishing is best-effort: the next batch stores a newer one. */
unsigned long ml_pgsync_publish_failures(const struct ml_pgsync *s);

#endif
