/* pgsync — see pgsync.h. */
#include "pgsync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "store.h"

struct ml_pgsync {
	struct ml_pg *p;
	struct ml_seq_record rec;
	int open; /* a store transaction is open */
	unsigned long publish_failures;
};

struct adopt_ctx {
	struct ml_batch *b;
};

static int
store_disagrees(struct ml_err *e, uint64_t pg, uint64_t local, const char *what)
{
	return ml_err_set(e, ML_EINTEGRITY, "the store of record and this front-end's working "
			  "copy disagree: %s (store %llu entries, working copy %llu); refusing "
			  "to write until an operator checks (a failover to a standby that was "
			  "not synchronous?)", what, (unsigned long long)pg,
			  (unsigned long long)local);
}

static int
adopt_one(void *ctx, const struct ml_entry *en, const uint8_t leaf[ML_SHA256_LEN],
	  struct ml_err *e)
{
	struct adopt_ctx *a = ctx;
	uint8_t got[ML_SHA256_LEN];
	int rc;

	if ((rc = ml_batch_adopt(a->b, en, got, e))) {
		/* the row another writer left, not the client's envelope: say so */
		char what[80];
		snprintf(what, sizeof what, "the store of record's entry %llu",
			 (unsigned long long)en->seq);
		rc = ml_err_prefix(e, rc == ML_EIO ? ML_EIO : ML_EINTEGRITY, what);
		if (e)
			e->seq = (long long)en->seq;
		return rc;
	}
	if (memcmp(got, leaf, ML_SHA256_LEN) != 0) {
		ml_err_set(e, ML_EINTEGRITY, "the store of record's leaf hash of entry %llu is "
			   "not the hash of its bytes", (unsigned long long)en->seq);
		e->seq = (long long)en->seq;
		return ML_EINTEGRITY;
	}
	return ML_OK;
}

static int
rec_begin(void *ctx, struct ml_ledger *l, struct ml_batch *b, struct ml_err *e)
{
	struct ml_pgsync *s = ctx;
	struct adopt_ctx a = {b};
	uint8_t pg_last[ML_SHA256_LEN], last[ML_SHA256_LEN];
	uint64_t pg_size, size;
	int64_t pg_time, t;
	int rc;

	if ((rc = ml_pg_begin(s->p, &pg_size, pg_last, &pg_time, e)))
		return rc;
	s->open = 1;
	if ((rc = ml_store_head(ml_ledger_store(l), &size, last, &t, e)))
		return rc;
	if (pg_size < size)
		return store_disagrees(e, pg_size, size, "the store of record is shorter");
	if (pg_size == size)
		return memcmp(pg_last, last, ML_SHA256_LEN) == 0
			       ? ML_OK
			       : store_disagrees(e, pg_size, size, "another last entry");
	/* ml_batch_adopt checks the first one's link to the copy's last */
	return ml_pg_entries(s->p, size, pg_size, adopt_one, &a, e);
}

static int
rec_commit(void *ctx, struct ml_ledger *l, uint64_t from, uint64_t to, struct ml_err *e)
{
	struct ml_pgsync *s = ctx;
	struct ml_store *st = ml_ledger_store(l);
	uint64_t seq;
	int rc = ML_OK;

	for (seq = from; rc == ML_OK && seq < to; seq++) {
		struct ml_entry en;
		uint8_t *env = NULL, leaf[ML_SHA256_LEN];

		if ((rc = ml_store_entry_get(st, seq, &en, &env, leaf, e)) == ML_OK)
			rc = ml_pg_put(s->p, &en, leaf, e);
		free(env);
	}
	/* Committed even with nothing new: the head row's write makes the
	 * commit wait for the standbys, which proves that the rows adopted
	 * from other writers are replicated before this front-end signs a
	 * checkpoint over them. */
	if (rc == ML_OK)
		rc = ml_pg_commit(s->p, e);
	else
		ml_pg_rollback(s->p);
	s->open = 0;
	return rc;
}

static void
rec_abort(void *ctx)
{
	struct ml_pgsync *s = ctx;

	if (s->open)
		ml_pg_rollback(s->p);
	s->open = 0;
}

static void
rec_published(void *ctx, uint64_t size, const char *note, size_t len)
{
	struct ml_pgsync *s = ctx;
	struct ml_err e;
	char *held = NULL;

	ml_err_clear(&e);
	if (ml_pg_checkpoint_put(s->p, size, note, &e) != ML_OK ||
	    ml_pg_checkpoint_get(s->p, size, &held, &e) != ML_OK) {
		s->publish_failures++;
		fprintf(stderr, "mlledger: serve: checkpoint %llu not stored in %s: %s\n",
			(unsigned long long)size, ml_pg_name(s->p), e.msg);
	} else if (strlen(held) != len || memcmp(held, note, len) != 0) {
		/* The store keeps the first note of a size: one that is not
		 * this front-end's was written by someone who can write the
		 * database (ours signs each size once).  Followers refuse it. */
		s->publish_failures++;
		fprintf(stderr, "mlledger: serve: %s holds another checkpoint note of size %llu "
			"than the one this front-end signed: the store was written by "
			"someone else (SECURITY.md, adversary 8); followers refuse it\n",
			ml_pg_name(s->p), (unsigned long long)size);
	}
	free(held);
}

int
ml_pgsync_new(struct ml_pg *p, struct ml_pgsync **out, struct ml_err *e)
{
	struct ml_pgsync *s = calloc(1, sizeof *s);

	if (!s)
		return ml_err_set(e, ML_EIO, "out of memory");
	s->p = p;
	s->rec.begin = rec_begin;
	s->rec.commit = rec_commit;
	s->rec.abort = rec_abort;
	s->rec.published = rec_published;
	s->rec.ctx = s;
	*out = s;
	return ML_OK;
}

void
ml_pgsync_free(struct ml_pgsync *s)
{
	free(s);
}

const struct ml_seq_record *
ml_pgsync_record(struct ml_pgsync *s)
{
	return &s->rec;
}

unsigned long
ml_pgsync_publish_failures(const struct ml_pgsync *s)
{
	return s->publish_failures;
}
