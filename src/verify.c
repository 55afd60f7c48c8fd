/* verify — see verify.h.
 *
 * The calling thread walks the entries in order (links, leaf hashes, rules
 * replay); signatures are queued in batches to worker threads.  The first
 * bad seq is the smallest seq either side found bad. */
#include "verify.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chain.h"
#include "rules.h"
#include "statement.h"

#define BATCH 256
#define MAX_INFLIGHT 16 /* batches queued or being checked */

struct sigjob {
	uint64_t seq;
	struct ml_pubkey key;
	struct ml_envelope env; /* owns payload */
};

struct batch {
	struct sigjob jobs[BATCH];
	int n;
	struct batch *next;
};

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t work, room;
	struct batch *head, *tail;
	int inflight, done;
	int64_t bad_seq; /* smallest seq whose signature failed, or -1 */
	char bad_keyid[ML_KEYID_MAX];
};

static void
batch_free(struct batch *b)
{
	int i;

	for (i = 0; i < b->n; i++)
		ml_envelope_clear(&b->jobs[i].env);
	free(b);
}

static void *
worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		struct batch *b;
		int i;

		pthread_mutex_lock(&p->mu);
		while (!p->head && !p->done)
			pthread_cond_wait(&p->work, &p->mu);
		if (!p->head) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		b = p->head;
		p->head = b->next;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->mu);
		for (i = 0; i < b->n; i++) {
			struct sigjob *j = &b->jobs[i];
			if (!ml_envelope_verify(&j->env, &j->key)) {
				pthread_mutex_lock(&p->mu);
				if (p->bad_seq < 0 || (int64_t)j->seq < p->bad_seq) {
					p->bad_seq = (int64_t)j->seq;
					memcpy(p->bad_keyid, j->env.keyid, ML_KEYID_MAX);
				}
				pthread_mutex_unlock(&p->mu);
				break; /* later jobs of this batch cannot be first */
			}
		}
		batch_free(b);
		pthread_mutex_lock(&p->mu);
		p->inflight--;
		pthread_cond_signal(&p->room);
		pthread_mutex_unlock(&p->mu);
	}
}

static void
pool_submit(struct pool *p, struct batch *b)
{
	pthread_mutex_lock(&p->mu);
	while (p->inflight >= MAX_INFLIGHT)
		pthread_cond_wait(&p->room, &p->mu);
	p->inflight++;
	b->next = NULL;
	if (p->tail)
		p->tail->next = b;
	else
		p->head = b;
	p->tail = b;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->mu);
}

struct walk {
	struct ml_ledger *l;
	struct pool *pool;
	struct batch *cur;
	uint64_t expect;
	uint8_t prev[ML_SHA256_LEN];
	int64_t prev_time;
	uint64_t total;
	const struct ml_verify_opts *opts;
	struct ml_verify_result *res;
	struct ml_err *e;
};

/* Records an integrity failure at seq and stops the walk. */
static int
bad(struct walk *w, uint64_t seq, const char *what, const char *why)
{
	char head[sizeof w->e->msg], reason[sizeof w->e->msg];

	/* what or why may be w->e->msg itself. */
	snprintf(head, sizeof head, "%s", what);
	snprintf(reason, sizeof reason, "%s", why ? why : "");
	ml_err_set(w->e, ML_EINTEGRITY, "%s%s%s", head, why ? ": " : "", reason);
	w->e->seq = (long long)seq;
	return ML_EINTEGRITY;
}

static int
index_matches(const struct ml_index_row *want, const struct ml_index_row *have)
{
	return strcmp(want->kind, have->kind) == 0 && strcmp(want->name, have->name) == 0 &&
	       strcmp(want->version, have->version) == 0 &&
	       strcmp(want->keyid, have->keyid) == 0 &&
	       memcmp(want->stmt_hash, have->stmt_hash, ML_SHA256_LEN) == 0;
}

static int
queue_signature(struct walk *w, struct ml_checked *c)
{
	struct sigjob *j;

	if (!w->cur && !(w->cur = calloc(1, sizeof *w->cur)))
		return ml_err_set(w->e, ML_EIO, "out of memory");
	j = &w->cur->jobs[w->cur->n++];
	j->seq = c->seq;
	j->key = c->signer;
	j->env = c->env; /* moves the payload */
	memset(&c->env.payload, 0, sizeof c->env.payload);
	c->env.payload_len = 0;
	if (w->cur->n == BATCH) {
		pool_submit(w->pool, w->cur);
		w->cur = NULL;
	}
	return ML_OK;
}

static int
visit(void *ctx, const struct ml_entry *en, const uint8_t leaf[ML_SHA256_LEN],
      const struct ml_index_row *ix, int has_ix)
{
	struct walk *w = ctx;
	struct ml_store *s = ml_ledger_store(w->l);
	uint8_t want[ML_SHA256_LEN];
	struct ml_checked c;
	int rc;

	if (en->seq != w->expect)
		return bad(w, w->expect, "entry missing", "the entries skip this seq");
	if (memcmp(en->prev, w->prev, ML_SHA256_LEN) != 0)
		return bad(w, en->seq, "broken link", "prev is not the leaf hash of the entry before");
	if (en->time_us < w->prev_time)
		return bad(w, en->seq, "append time goes backwards", NULL);
	ml_leaf_hash(en, want);
	if (memcmp(want, leaf, ML_SHA256_LEN) != 0)
		return bad(w, en->seq, "leaf hash mismatch", "a stored field of this entry changed");
	rc = ml_rules_check(s, ML_DB_REPLAY, en->seq, en->envelope, en->envelope_len, 0, NULL,
			    &c, w->e);
	if (rc == ML_EIO)
		return rc;
	if (rc)
		return bad(w, en->seq, "invalid entry", w->e->msg);
	if (!has_ix || !index_matches(&c.ix, ix)) {
		ml_checked_free(&c);
		return bad(w, en->seq, "entry_index row differs from the entry", NULL);
	}
	rc = ml_rules_apply(s, ML_DB_REPLAY, &c, w->e);
	if (rc == ML_OK)
		rc = queue_signature(w, &c);
	if (c.st.kind == ML_KIND_KEY_ENROLLMENT)
		w->res->keys_enrolled++;
	else if (c.st.kind == ML_KIND_KEY_REVOCATION)
		w->res->keys_revoked++;
	ml_checked_free(&c);
	if (rc)
		return rc;
	memcpy(w->prev, leaf, ML_SHA256_LEN);
	w->prev_time = en->time_us;
	w->expect++;
	if (w->opts->progress && (w->expect & 4095) == 0)
		w->opts->progress(w->opts->ctx, w->expect, w->total);
	return ML_OK;
}

/* The meta table must say what the genesis entry says. */
static int
check_meta(struct walk *w)
{
	struct ml_store *s = ml_ledger_store(w->l);
	struct ml_statement st;
	struct ml_envelope env;
	struct ml_entry en;
	uint8_t *buf = NULL, leaf[ML_SHA256_LEN];
	char fmt[16];
	int rc, ok;

	int64_t nmeta;

	if ((rc = ml_store_meta_get(s, "format", fmt, sizeof fmt, w->e)))
		return rc == ML_EINTEGRITY ? bad(w, 0, w->e->msg, NULL) : rc;
	if ((rc = ml_store_meta_count(s, &nmeta, w->e)))
		return rc;
	if (nmeta != 3) {
		ml_err_set(w->e, ML_EINTEGRITY, "table meta holds %lld rows, not the 3 of the "
			   "format (format, origin, log_key)", (long long)nmeta);
		w->e->seq = -1;
		return ML_EINTEGRITY;
	}
	if ((rc = ml_store_entry_get(s, 0, &en, &buf, leaf, w->e)))
		return rc == ML_EINPUT ? bad(w, 0, "the genesis entry is missing", NULL) : rc;
	if (ml_envelope_parse(en.envelope, en.envelope_len, &env, NULL)) {
		free(buf);
		return ML_OK; /* the walk reports entry 0 */
	}
	rc = ml_statement_parse(env.payload, env.payload_len, &st, NULL);
	ml_envelope_clear(&env);
	free(buf);
	if (rc || st.kind != ML_KIND_GENESIS) {
		if (!rc)
			ml_statement_free(&st);
		return ML_OK;
	}
	ok = strcmp(fmt, "1") == 0 &&
	     strcmp(ml_ledger_origin(w->l),
		    json_string_value(json_object_get(st.predicate, "origin"))) == 0 &&
	     strcmp(ml_ledger_logkey(w->l),
		    json_string_value(json_object_get(st.predicate, "logKey"))) == 0;
	ml_statement_free(&st);
	if (!ok) {
		ml_err_set(w->e, ML_EINTEGRITY, "table meta differs from the genesis entry "
			   "(format, origin or log key)");
		w->e->seq = -1;
		return ML_EINTEGRITY;
	}
	return ML_OK;
}

static int
run_walk(struct walk *w)
{
	struct ml_store *s = ml_ledger_store(w->l);
	uint8_t last[ML_SHA256_LEN];
	int64_t t;
	int rc;

	if ((rc = ml_store_head(s, &w->total, last, &t, w->e)))
		return rc;
	if (w->total == 0)
		return bad(w, 0, "the ledger has no entries", NULL);
	if ((rc = ml_store_schema_check(s, w->e))) {
		w->e->seq = -1;
		return rc;
	}
	if ((rc = check_meta(w)))
		return rc;
	rc = ml_store_scan(s, 0, visit, w, w->e);
	if (rc == ML_OK && w->expect != w->total)
		rc = bad(w, w->expect, "entry missing", "the entries end early");
	/* Even after a fault: the queued signatures all precede it, and one of
	 * them may be the first fault. */
	if (w->cur) {
		pool_submit(w->pool, w->cur);
		w->cur = NULL;
	}
	if (rc == ML_OK && (rc = ml_store_replay_diff(s, w->e)) == ML_EINTEGRITY)
		w->e->seq = -1;
	return rc;
}

int
ml_verify(struct ml_ledger *l, const struct ml_verify_opts *opts,
	  struct ml_verify_result *res, struct ml_err *e)
{
	struct pool p;
	struct walk w;
	pthread_t th[64];
	int jobs = opts->jobs > 0 ? opts->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
	int i, started = 0, rc;

	if (jobs < 1)
		jobs = 1;
	if (jobs > 64)
		jobs = 64;
	memset(res, 0, sizeof *res);
	memset(&p, 0, sizeof p);
	p.bad_seq = -1;
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.work, NULL);
	pthread_cond_init(&p.room, NULL);
	memset(&w, 0, sizeof w);
	w.l = l;
	w.pool = &p;
	w.opts = opts;
	w.res = res;
	w.e = e;
	for (i = 0; i < jobs; i++)
		if (pthread_create(&th[started], NULL, worker, &p) == 0)
			started++;
	if (!started) {
		rc = ml_err_set(e, ML_EIO, "cannot start threads");
		goto out;
	}
	/* ATTACH and its pragmas cannot run inside the read transaction. */
	if ((rc = ml_store_replay_attach(ml_ledger_store(l), e)) == ML_OK &&
	    (rc = ml_store_begin(ml_ledger_store(l), 0, e)) == ML_OK) {
		rc = run_walk(&w);
		ml_store_rollback(ml_ledger_store(l));
	}
	if (w.cur)
		batch_free(w.cur);
	pthread_mutex_lock(&p.mu);
	p.done = 1;
	pthread_cond_broadcast(&p.work);
	pthread_mutex_unlock(&p.mu);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	/* A bad signature earlier than any other fault is the first fault. */
	if (p.bad_seq >= 0 && (rc == ML_OK || (rc == ML_EINTEGRITY &&
					       (e->seq < 0 || p.bad_seq < e->seq)))) {
		rc = ml_err_set(e, ML_EINTEGRITY, "bad signature: the signature by %s does "
				"not verify", p.bad_keyid);
		e->seq = p.bad_seq;
	}
	if (rc == ML_OK) {
		res->entries = w.expect;
		memcpy(res->head, w.prev, ML_SHA256_LEN);
		if (opts->progress)
			opts->progress(opts->ctx, w.expect, w.total);
	}
out:
	while (p.head) {
		struct batch *b = p.head;
		p.head = b->next;
		batch_free(b);
	}
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.work);
	pthread_cond_destroy(&p.room);
	return rc;
}
