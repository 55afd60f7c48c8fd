/* sequencer — see sequencer.h. */
#include "sequencer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "merkle.h"
#include "note.h"
#include "note_proof.h"
#include "store.h"
#include "tlog.h"

/* A direct-mapped cache of tree nodes for the proofs, touched only by the
 * committer thread.  A complete subtree's hash never changes once the
 * tree holds it, so a slot is valid until another node takes it; a miss
 * reads the store.  Filled with the leaves of each committed batch and
 * with what the proofs read, so a batch's proofs mostly read memory: the
 * upper nodes are shared by every proof, the lower ones by the batch's
 * neighbouring entries. */
#define NODE_SLOTS 4096 /* a power of two */

struct node_slot {
	uint64_t index;
	unsigned level; /* of the subtree + 1; 0: empty */
	uint8_t hash[ML_SHA256_LEN];
};

struct ml_seq {
	struct ml_ledger *l;
	struct node_slot *nodes; /* NODE_SLOTS */
	struct ml_seq_opts o;
	pthread_mutex_t mu;
	pthread_cond_t more;         /* an item arrived, or stopping */
	struct ml_seq_item *head, *tail;
	size_t count;
	int stopping, started, joined;
	pthread_t thread;
};

/* Sets item's answer to an error. */
static void
item_fail(struct ml_seq_item *it, int rc, const char *msg)
{
	it->rc = rc;
	snprintf(it->msg, sizeof it->msg, "%.*s", (int)sizeof it->msg - 1, msg);
	ml_buf_free(&it->proof);
}

static struct node_slot *
node_slot(struct ml_seq *q, unsigned level, uint64_t index)
{
	uint64_t h = (index ^ (uint64_t)level << 58) * 0x9E3779B97F4A7C15ull;

	return &q->nodes[h >> 52 & (NODE_SLOTS - 1)];
}

static void
node_put(struct ml_seq *q, unsigned level, uint64_t index, const uint8_t hash[ML_SHA256_LEN])
{
	struct node_slot *sl = node_slot(q, level, index);

	sl->index = index;
	sl->level = level + 1;
	memcpy(sl->hash, hash, ML_SHA256_LEN);
}

static int
node_hit(struct ml_seq *q, unsigned level, uint64_t index, uint8_t out[ML_SHA256_LEN])
{
	struct node_slot *sl = node_slot(q, level, index);

	if (sl->level != level + 1 || sl->index != index)
		return 0;
	memcpy(out, sl->hash, ML_SHA256_LEN);
	return 1;
}

/* ctx of node_read: the sequencer and the store to read on a miss. */
struct node_src {
	struct ml_seq *q;
	struct ml_store_nodes store;
};

/* merkle.h's node callback over the cache: a hit, the hash of two cached
 * children, or the store's node (then cached). */
static int
node_read(void *ctx, unsigned level, uint64_t index, uint8_t out[ML_SHA256_LEN])
{
	struct node_src *src = ctx;
	uint8_t l[ML_SHA256_LEN], r[ML_SHA256_LEN];

	int rc;

	if (node_hit(src->q, level, index, out))
		return ML_OK;
	if (level > 0 && node_hit(src->q, level - 1, 2 * index, l) &&
	    node_hit(src->q, level - 1, 2 * index + 1, r))
		ml_merkle_node(l, r, out);
	else if ((rc = ml_store_node_read(&src->store, level, index, out)) != ML_OK)
		return rc;
	node_put(src->q, level, index, out);
	return ML_OK;
}

/* Builds it's tlog-proof against the checkpoint (size, note): extra is
 * prev || time (i64 BE), so that the client rebuilds the leaf bytes. */
static int
item_prove(struct ml_seq *q, struct ml_seq_item *it, uint64_t size, const char *note,
	   struct ml_err *e)
{
	struct node_src src = {q, {ml_ledger_store(q->l), e}};
	uint8_t proof[ML_PROOF_MAX][ML_SHA256_LEN], extra[ML_SHA256_LEN + 8];
	size_t n;

	if (it->seq >= size)
		return ml_err_set(e, ML_EIO, "entry %llu is not under the latest checkpoint (%llu)",
				  (unsigned long long)it->seq, (unsigned long long)size);
	memset(extra, 0, sizeof extra);
	if (it->seq > 0 && node_read(&src, 0, it->seq - 1, extra) != 0)
		return e->code ? e->code : ml_err_set(e, ML_EIO, "cannot read the previous leaf");
	ml_put_be64(extra + ML_SHA256_LEN, (uint64_t)it->time_us);
	ml_err_clear(e);
	if (ml_merkle_inclusion(node_read, &src, it->seq, size, proof, &n) != 0)
		return e->code ? e->code : ml_err_set(e, ML_EIO, "cannot build the proof");
	ml_buf_free(&it->proof);
	ml_tlog_proof_format(it->seq, extra, sizeof extra, (const uint8_t(*)[ML_SHA256_LEN])proof,
			     n, note, strlen(note), &it->proof);
	it->size = size;
	return it->proof.oom ? ml_err_set(e, ML_EIO, "out of memory") : ML_OK;
}

/* Fails every item with the batch's own failure rc (the lock, the log key,
 * the store of record, the commit): no refusal of the items but a storage
 * error to each, ML_EINTEGRITY kept. */
static void
batch_fail(struct ml_seq_item **items, size_t n, int rc, int unavailable, const char *why)
{
	char msg[sizeof items[0]->msg];
	size_t i;

	snprintf(msg, sizeof msg, "%.300s (nothing of the batch was written)", why);
	for (i = 0; i < n; i++) {
		item_fail(items[i], rc == ML_EINTEGRITY ? rc : ML_EIO, msg);
		items[i]->unavailable = unavailable && rc != ML_EINTEGRITY;
	}
}

/* Runs items[0..n) through the batch; sets each item's rc.  ML_OK, or the
 * error that makes the batch unusable (the caller aborts). */
static int
batch_items(struct ml_batch *b, struct ml_seq_item **items, size_t n, struct ml_err *e)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		struct ml_seq_item *it = items[i];
		struct ml_append_item ai = {0};
		struct ml_appended out;

		ai.envelope = it->envelope;
		ai.len = it->len;
		ai.signed_by = it->has_signer ? &it->signer : NULL;
		ai.statement = it->statement;
		ml_err_clear(e);
		rc = ml_batch_try(b, &ai, &out, e);
		if (rc == ML_OK) {
			it->rc = ML_OK;
			it->seq = out.seq;
			it->existing = out.existing;
			it->time_us = out.time_us;
			memcpy(it->leaf, out.leaf, ML_SHA256_LEN);
		} else if (ml_batch_refusal(rc)) {
			item_fail(it, rc, e->msg);
		} else {
			return rc;
		}
	}
	return ML_OK;
}

/* Moves queued items to items[n..batch_max); returns the new n.  With
 * q->mu held. */
static size_t
take(struct ml_seq *q, struct ml_seq_item **items, size_t n)
{
	while (q->head && n < q->o.batch_max) {
		items[n++] = q->head;
		q->head = q->head->next;
		q->count--;
	}
	if (!q->head)
		q->tail = NULL;
	return n;
}

/* Appends items[0..*n) in one transaction (and, with a store of record,
 * first through it); sets each item's rc (proofs come after).  Returns the
 * batch's own failure (every item then failed), or ML_OK.  With a store of
 * record, what arrived while begin waited for the store's lock joins the
 * batch (items has room for batch_max): the lock is held for the commit's
 * round trip to the standbys whatever the batch's size, so the more a
 * batch carries, the more the front-ends sharing the store append. */
static int
batch_run(struct ml_seq *q, struct ml_seq_item **items, size_t *np)
{
	const struct ml_seq_record *rec = q->o.record;
	struct ml_batch *b;
	struct ml_err e;
	uint64_t from;
	size_t n = *np;
	int rc, unavailable = 0;

	ml_err_clear(&e);
	if ((rc = ml_batch_begin(q->l, &b, &e)))
		goto fail;
	if (rec && (rc = rec->begin(rec->ctx, q->l, b, &e))) {
		unavailable = 1;
		rec->abort(rec->ctx);
		ml_batch_abort(b);
		goto fail;
	}
	if (rec) {
		pthread_mutex_lock(&q->mu);
		n = *np = take(q, items, n);
		pthread_mutex_unlock(&q->mu);
	}
	from = ml_batch_size(b);
	if ((rc = batch_items(b, items, n, &e))) {
		if (rec)
			rec->abort(rec->ctx);
		ml_batch_abort(b);
		goto fail;
	}
	/* the store of record first: a ledger commit it lacks would be a
	 * size signed that a failover can lose */
	if (rec && (rc = rec->commit(rec->ctx, q->l, from, ml_batch_size(b), &e))) {
		unavailable = 1;
		ml_batch_abort(b);
		goto fail;
	}
	if ((rc = ml_batch_commit(b, &e)) == ML_OK)
		return ML_OK;
fail:
	batch_fail(items, n, rc, unavailable, e.msg);
	return rc;
}

/* Commits and answers one batch (items has room for batch_max). */
static void
batch_answer(struct ml_seq *q, struct ml_seq_item **items, size_t n)
{
	struct ml_err e;
	uint64_t size = 0;
	char *note = NULL;
	size_t i;
	int rc, snap;

	ml_err_clear(&e);
	rc = batch_run(q, items, &n);
	/* one read snapshot for the checkpoint and every proof: one lock,
	 * not one per node read */
	snap = rc == ML_OK && ml_store_begin(ml_ledger_store(q->l), 0, &e) == ML_OK;
	for (i = 0; rc == ML_OK && i < n; i++)
		if (items[i]->rc == ML_OK)
			node_put(q, 0, items[i]->seq, items[i]->leaf);
	if (rc == ML_OK && (rc = ml_tlog_checkpoint(q->l, -1, &size, &note, &e)))
		for (i = 0; i < n; i++)
			if (items[i]->rc == ML_OK)
				item_fail(items[i], ML_EIO, e.msg);
	for (i = 0; rc == ML_OK && i < n; i++) {
		if (items[i]->rc != ML_OK)
			continue;
		ml_err_clear(&e);
		if (item_prove(q, items[i], size, note, &e))
			item_fail(items[i], e.code ? e.code : ML_EIO, e.msg);
	}
	if (snap)
		ml_store_rollback(ml_ledger_store(q->l));
	if (rc == ML_OK && q->o.committed)
		q->o.committed(q->o.ctx, size, note, strlen(note), n);
	for (i = 0; i < n; i++)
		items[i]->done(items[i]);
	/* after the answers: storing the note is a commit of its own (a
	 * synchronous standby's round trip) that no answer depends on, the
	 * entries being in the store of record already */
	if (rc == ML_OK && q->o.record && q->o.record->published)
		q->o.record->published(q->o.record->ctx, size, note, strlen(note));
	free(note);
}

static void *
committer(void *arg)
{
	struct ml_seq *q = arg;
	struct ml_seq_item *items[ML_SEQ_BATCH_MAX];

	for (;;) {
		struct timespec dl;
		int64_t until;
		size_t n = 0;

		pthread_mutex_lock(&q->mu);
		while (!q->head && !q->stopping)
			pthread_cond_wait(&q->more, &q->mu);
		if (!q->head) {
			pthread_mutex_unlock(&q->mu);
			break;
		}
		/* wait for more, up to wait_ms after the first arrived (which
		 * may have been while the last batch was committing) */
		until = q->head->submitted_us + (int64_t)q->o.wait_ms * 1000;
		dl.tv_sec = (time_t)(until / 1000000);
		dl.tv_nsec = (long)(until % 1000000) * 1000;
		while (q->count < q->o.batch_max && !q->stopping && until > ml_mono_us())
			if (pthread_cond_timedwait(&q->more, &q->mu, &dl) == ETIMEDOUT)
				break;
		n = take(q, items, n);
		pthread_mutex_unlock(&q->mu);
		batch_answer(q, items, n);
	}
	return NULL;
}

int
ml_seq_start(struct ml_ledger *l, const struct ml_seq_opts *o, struct ml_seq **out,
	     struct ml_err *e)
{
	struct ml_seq *q = calloc(1, sizeof *q);
	pthread_condattr_t ca;

	if (!q)
		return ml_err_set(e, ML_EIO, "out of memory");
	if (o->batch_max < 1 || o->batch_max > ML_SEQ_BATCH_MAX || o->wait_ms > 1000 ||
	    o->queue_max < 1 || o->queue_max > ML_SEQ_QUEUE_MAX) {
		free(q);
		return ml_err_set(e, ML_EINPUT, "sequencer limits out of range");
	}
	if (!(q->nodes = calloc(NODE_SLOTS, sizeof *q->nodes))) {
		free(q);
		return ml_err_set(e, ML_EIO, "out of memory");
	}
	q->l = l;
	q->o = *o;
	pthread_mutex_init(&q->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->more, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&q->thread, NULL, committer, q) != 0) {
		pthread_cond_destroy(&q->more);
		pthread_mutex_destroy(&q->mu);
		free(q->nodes);
		free(q);
		return ml_err_set(e, ML_EIO, "cannot start the committer thread");
	}
	q->started = 1;
	*out = q;
	return ML_OK;
}

int
ml_seq_submit(struct ml_seq *q, struct ml_seq_item *it, void (*before)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&q->mu);
	if (q->stopping) {
		pthread_mutex_unlock(&q->mu);
		return ML_EINPUT;
	}
	if (q->count >= q->o.queue_max) {
		pthread_mutex_unlock(&q->mu);
		return ML_EIO;
	}
	it->next = NULL;
	it->rc = ML_OK;
	it->existing = 0;
	it->msg[0] = '\0';
	it->submitted_us = ml_mono_us();
	it->unavailable = 0;
	if (before)
		before(ctx);
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->count++;
	if (q->count == 1 || q->count >= q->o.batch_max)
		pthread_cond_signal(&q->more);
	pthread_mutex_unlock(&q->mu);
	return ML_OK;
}

size_t
ml_seq_pending(struct ml_seq *q)
{
	size_t n;

	pthread_mutex_lock(&q->mu);
	n = q->count;
	pthread_mutex_unlock(&q->mu);
	return n;
}

void
ml_seq_stop(struct ml_seq *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	q->stopping = 1;
	pthread_cond_broadcast(&q->more);
	pthread_mutex_unlock(&q->mu);
	if (q->started && !q->joined) {
		pthread_join(q->thread, NULL);
		q->joined = 1;
	}
}

void
ml_seq_free(struct ml_seq *q)
{
	if (!q)
		return;
	ml_seq_stop(q);
	pthread_cond_destroy(&q->more);
	pthread_mutex_destroy(&q->mu);
	free(q->nodes);
	free(q);
}
