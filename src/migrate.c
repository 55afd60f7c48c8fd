/* migrate — see migrate.h.  SQLite → PostgreSQL (to_pg), PostgreSQL →
 * a new SQLite replica (from_pg), and a working copy kept up to date
 * (follow); the last two share the chunked replica copy below. */
#include "migrate.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain.h"
#include "store.h"
#include "verify.h"

/* ---- SQLite → PostgreSQL ------------------------------------------------ */

struct to_pg {
	struct ml_pg *p;
	const struct ml_migrate_opts *o;
	uint64_t next, limit; /* next seq expected; entries to copy */
	size_t queued;        /* envelope bytes put since the last commit */
	uint8_t last[ML_SHA256_LEN];
	struct ml_err *e;
	int rc;
};

/* One source entry: its link and stored leaf checked, queued in PostgreSQL;
 * every ML_MIGRATE_CHUNK entries the transaction commits and a new one
 * begins, whose head must be where the copy is. */
static int
to_pg_entry(void *ctx, const struct ml_entry *en, const uint8_t leaf[ML_SHA256_LEN],
	    const struct ml_index_row *ix, int has_ix)
{
	struct to_pg *t = ctx;
	uint8_t h[ML_SHA256_LEN], last[ML_SHA256_LEN];
	uint64_t size;
	int64_t lt;

	(void)ix;
	(void)has_ix;
	if (t->next >= t->limit)
		return 1; /* beyond the verified prefix: stop, no error */
	ml_leaf_hash(en, h);
	if (en->seq != t->next || memcmp(en->prev, t->last, ML_SHA256_LEN) != 0 ||
	    memcmp(h, leaf, ML_SHA256_LEN) != 0) {
		t->rc = ml_err_set(t->e, ML_EINTEGRITY, "the source changed while copied: "
				   "not the entry verified");
		t->e->seq = (long long)en->seq;
		return 1;
	}
	if ((t->rc = ml_pg_put(t->p, en, h, t->e)))
		return 1;
	memcpy(t->last, h, ML_SHA256_LEN);
	t->queued += en->envelope_len;
	if (++t->next == t->limit ||
	    (t->next % ML_MIGRATE_CHUNK && t->queued < ML_MIGRATE_CHUNK_BYTES))
		return 0;
	t->queued = 0;
	if ((t->rc = ml_pg_commit(t->p, t->e)) ||
	    (t->rc = ml_pg_begin(t->p, &size, last, &lt, t->e)))
		return 1;
	if (size != t->next || memcmp(last, t->last, ML_SHA256_LEN) != 0) {
		t->rc = ml_err_set(t->e, ML_ECONFLICT, "another writer appended to %s during "
				   "the copy", ml_pg_name(t->p));
		return 1;
	}
	if (t->o && t->o->progress)
		t->o->progress(t->o->ctx, t->next, t->limit);
	return 0;
}

struct to_pg_notes {
	struct ml_pg *p;
	uint64_t limit, n;
	struct ml_err *e;
	int rc;
};

static int
to_pg_note(void *ctx, uint64_t size, const char *note, size_t len)
{
	struct to_pg_notes *t = ctx;

	(void)len;
	if (size > t->limit)
		return 1; /* size order: the rest are beyond the copy too */
	if ((t->rc = ml_pg_checkpoint_put(t->p, size, note, t->e)))
		return 1;
	t->n++;
	return 0;
}

/* Copies entries [0, r->entries) of s (whose last leaf verify saw as
 * r->head) and the checkpoints up to that size. */
static int
to_pg_copy(struct ml_store *s, struct ml_pg *p, const struct ml_verify_result *r,
	   const struct ml_migrate_opts *o, struct ml_migrate_result *out, struct ml_err *e)
{
	struct to_pg t = {p, o, 0, r->entries, 0, {0}, e, ML_OK};
	struct to_pg_notes nt = {p, r->entries, 0, e, ML_OK};
	uint8_t last[ML_SHA256_LEN];
	uint64_t size;
	int64_t lt;
	int rc;

	if ((rc = ml_pg_begin(p, &size, last, &lt, e)))
		return rc;
	if (size != 0) {
		ml_pg_rollback(p);
		return ml_err_set(e, ML_ECONFLICT, "%s: not empty after its schema was created",
				  ml_pg_name(p));
	}
	if ((rc = ml_store_scan(s, 0, to_pg_entry, &t, e)) && !t.rc)
		t.rc = rc == 1 ? ML_OK : rc;
	if (t.rc || (t.next != t.limit &&
		     (t.rc = ml_err_set(e, ML_EINTEGRITY, "the source ended at %llu entries, "
					"verified %llu", (unsigned long long)t.next,
					(unsigned long long)t.limit)))) {
		ml_pg_rollback(p);
		return t.rc;
	}
	if ((rc = ml_pg_commit(p, e)))
		return rc;
	if ((rc = ml_store_checkpoint_each(s, to_pg_note, &nt, e)) && !nt.rc)
		nt.rc = rc == 1 ? ML_OK : rc;
	if (nt.rc)
		return nt.rc;
	out->entries = t.next;
	out->checkpoints = nt.n;
	return ML_OK;
}

/* PostgreSQL's head after the copy must be the verified source's. */
static int
to_pg_compare(struct ml_pg *p, const struct ml_verify_result *r, struct ml_err *e)
{
	uint8_t last[ML_SHA256_LEN];
	uint64_t size;
	int64_t lt;
	int rc;

	if ((rc = ml_pg_head(p, &size, last, &lt, e)))
		return rc;
	if (size != r->entries || (size && memcmp(last, r->head, ML_SHA256_LEN) != 0))
		return ml_err_set(e, ML_EINTEGRITY, "%s: its head (size %llu) after the copy is "
				  "not the source's (size %llu)", ml_pg_name(p),
				  (unsigned long long)size, (unsigned long long)r->entries);
	return ML_OK;
}

int
ml_migrate_to_pg(const char *ledger_path, struct ml_pg *p, const struct ml_migrate_opts *o,
		 struct ml_migrate_result *out, struct ml_err *e)
{
	struct ml_verify_opts vo = {0};
	struct ml_verify_result vr;
	struct ml_migrate_result res = {0};
	struct ml_ledger *l = NULL;
	struct ml_store *s;
	char fmt[16];
	int rc, created = 0;

	if (e)
		e->seq = -1;
	if (o) {
		vo.jobs = o->jobs;
		vo.progress = o->progress;
		vo.ctx = o->verify_ctx;
	}
	if ((rc = ml_ledger_open(ledger_path, 0, &l, e)))
		return rc;
	s = ml_ledger_store(l);
	if ((rc = ml_verify(l, &vo, &vr, e))) {
		if (rc == ML_EINTEGRITY)
			ml_err_prefix(e, rc, "the source does not verify, nothing copied");
		goto out;
	}
	if ((rc = ml_store_meta_get(s, "format", fmt, sizeof fmt, e)))
		goto out;
	if ((rc = ml_pg_create(p, ml_ledger_origin(l), ml_ledger_logkey(l), atoi(fmt), e)))
		goto out;
	created = 1;
	if ((rc = ml_store_begin(s, 0, e)))
		goto out;
	rc = to_pg_copy(s, p, &vr, o, &res, e);
	ml_store_rollback(s);
	if (rc == ML_OK)
		rc = to_pg_compare(p, &vr, e);
out:
	if (rc && created) {
		char why[sizeof e->msg];
		snprintf(why, sizeof why, "%.300s", e->msg);
		ml_err_set(e, rc, "%s (%s now holds a partial copy: drop its mlledger tables "
			   "before copying again)", why, ml_pg_name(p));
	}
	ml_ledger_close(l);
	if (rc == ML_OK && out) {
		res.size = vr.entries;
		*out = res;
	}
	return rc;
}

/* ---- PostgreSQL → a SQLite replica -------------------------------------- */

/* The chunked copy into a replica: entries [next, to) in replica
 * transactions, each committed at a stored checkpoint of PostgreSQL. */
struct copy {
	struct ml_pg *p;
	struct ml_ledger *l;
	struct ml_replica *rep;
	const struct ml_migrate_opts *o;
	/* from_pg: every stored checkpoint size <= to, ascending (each is
	 * copied); follow: NULL (only chunk boundaries and wanted ones) */
	uint64_t *sizes;
	size_t nsizes, at;
	uint64_t to;
	uint64_t entries, notes;
};

/* One PostgreSQL row: its stored leaf must be the row's, then the replica
 * checks and writes it. */
static int
copy_entry(void *ctx, const struct ml_entry *en, const uint8_t leaf[ML_SHA256_LEN],
	   struct ml_err *e)
{
	struct copy *c = ctx;
	uint8_t h[ML_SHA256_LEN];

	ml_leaf_hash(en, h);
	if (memcmp(h, leaf, ML_SHA256_LEN) != 0) {
		ml_err_set(e, ML_EINTEGRITY, "%s: its stored leaf hash is not the hash of its row",
			   ml_pg_name(c->p));
		e->seq = (long long)en->seq;
		return ML_EINTEGRITY;
	}
	return ml_replica_add(c->rep, en, h, e);
}

/* PostgreSQL's note of size into the replica.  A size PostgreSQL stores no
 * note of is skipped when optional (a gate decision may name a size the
 * log never signed; verify --decisions then says the note is missing). */
static int
copy_note(struct copy *c, uint64_t size, int optional, struct ml_err *e)
{
	char *note = NULL, where[64];
	int rc;

	if ((rc = ml_pg_checkpoint_get(c->p, size, &note, e))) {
		if (rc == ML_EINPUT && optional) {
			ml_err_clear(e);
			e->seq = -1;
			return ML_OK;
		}
		return rc == ML_EINPUT ? ML_EINTEGRITY : rc;
	}
	rc = ml_replica_checkpoint(c->rep, size, note, strlen(note), e);
	free(note);
	if (rc == ML_OK)
		c->notes++;
	else if (rc != ML_EIO) {
		snprintf(where, sizeof where, "checkpoint %llu", (unsigned long long)size);
		rc = ml_err_prefix(e, ML_EINTEGRITY, where);
	}
	return rc;
}

/* The end of the chunk that starts at next: a stored checkpoint size at
 * least ML_MIGRATE_CHUNK further, or the last (c->to). */
static int
copy_boundary(struct copy *c, uint64_t next, uint64_t *end, struct ml_err *e)
{
	uint64_t want = next + ML_MIGRATE_CHUNK < c->to ? next + ML_MIGRATE_CHUNK : c->to;
	char *note = NULL;
	int rc;

	if (c->sizes) {
		size_t i = c->at;
		while (i < c->nsizes && c->sizes[i] < want)
			i++;
		*end = i < c->nsizes ? c->sizes[i] : c->to;
		return ML_OK;
	}
	/* follow: the largest stored size <= want, if it is past next */
	if ((rc = ml_pg_checkpoint_latest(c->p, want, end, &note, e)) && rc != ML_EINPUT)
		return rc;
	free(note);
	if (rc || *end <= next)
		*end = c->to;
	ml_err_clear(e);
	e->seq = -1;
	return ML_OK;
}

/* The notes of a chunk that ends at end: every stored one below end
 * (from_pg), then those the copied gate decisions name. */
static int
copy_chunk_notes(struct copy *c, uint64_t end, struct ml_err *e)
{
	uint64_t size;
	int rc;

	while (c->sizes && c->at < c->nsizes && c->sizes[c->at] < end)
		if ((rc = copy_note(c, c->sizes[c->at++], 0, e)))
			return rc;
	while (c->sizes && c->at < c->nsizes && c->sizes[c->at] == end)
		c->at++; /* the commit stores it */
	while ((rc = ml_replica_wanted(c->rep, &size, e)) == ML_OK && size)
		if ((rc = copy_note(c, size, 1, e)))
			return rc;
	return rc;
}

/* One replica transaction: entries [next, end), its notes, committed at
 * PostgreSQL's checkpoint of size end. */
static int
copy_chunk(struct copy *c, uint64_t end, struct ml_err *e)
{
	char *note = NULL;
	uint64_t next;
	int rc;

	if ((rc = ml_replica_begin(c->l, &c->rep, e)))
		return rc;
	next = ml_replica_next(c->rep);
	if ((rc = ml_pg_entries(c->p, next, end, copy_entry, c, e)) ||
	    (rc = copy_chunk_notes(c, end, e)))
		goto out;
	if ((rc = ml_pg_checkpoint_get(c->p, end, &note, e))) {
		rc = rc == ML_EINPUT ? ML_EINTEGRITY : rc;
		goto out;
	}
	rc = ml_replica_commit(c->rep, note, strlen(note), e);
	c->rep = NULL;
	if (rc && rc != ML_EIO) {
		char where[64];
		snprintf(where, sizeof where, "checkpoint %llu", (unsigned long long)end);
		rc = ml_err_prefix(e, ML_EINTEGRITY, where);
	}
	if (rc == ML_OK) {
		c->entries += end - next;
		c->notes++;
	}
out:
	ml_replica_abort(c->rep);
	c->rep = NULL;
	free(note);
	return rc;
}

/* Copies until the replica holds c->to entries. */
static int
copy_run(struct copy *c, uint64_t from, struct ml_err *e)
{
	uint64_t next = from, end;
	int rc;

	while (next < c->to) {
		if ((rc = copy_boundary(c, next, &end, e)) || (rc = copy_chunk(c, end, e)))
			return rc;
		next = end;
		if (c->o && c->o->progress)
			c->o->progress(c->o->ctx, next, c->to);
	}
	return ML_OK;
}

struct sizes {
	uint64_t *v;
	size_t n, cap;
	uint64_t max;
};

static int
sizes_add(void *ctx, uint64_t size, const char *note, struct ml_err *e)
{
	struct sizes *s = ctx;
	uint64_t *v;

	(void)note;
	if (size == 0 || size > s->max)
		return ML_OK; /* no note of the empty tree is copied */
	if (s->n && size <= s->v[s->n - 1])
		return ml_err_set(e, ML_EINTEGRITY, "checkpoints not in size order");
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		if (!(v = realloc(s->v, cap * sizeof *v)))
			return ml_err_set(e, ML_EIO, "out of memory");
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = size;
	return ML_OK;
}

/* PostgreSQL's latest checkpoint size (*to) and how far its head is beyond. */
static int
pg_signed(struct ml_pg *p, uint64_t *to, uint64_t *tail, struct ml_err *e)
{
	uint8_t last[ML_SHA256_LEN];
	uint64_t head;
	int64_t lt;
	char *note = NULL;
	int rc;

	/* the checkpoint first: the head only grows, so it is read after */
	rc = ml_pg_checkpoint_latest(p, UINT64_MAX, to, &note, e);
	free(note);
	if (rc == ML_EINPUT) {
		*to = 0;
		ml_err_clear(e);
		e->seq = -1;
		rc = ML_OK;
	}
	if (rc || (rc = ml_pg_head(p, &head, last, &lt, e)))
		return rc;
	if (*to > head)
		return ml_err_set(e, ML_EINTEGRITY, "%s: a checkpoint of size %llu, beyond its "
				  "%llu entries", ml_pg_name(p), (unsigned long long)*to,
				  (unsigned long long)head);
	*tail = head - *to;
	return ML_OK;
}

/* The replica's format must be the one PostgreSQL's identity records. */
static int
check_format(struct ml_ledger *l, struct ml_pg *p, int format, struct ml_err *e)
{
	char fmt[16];
	int rc;

	if ((rc = ml_store_meta_get(ml_ledger_store(l), "format", fmt, sizeof fmt, e)))
		return rc;
	if (atoi(fmt) != format)
		return ml_err_set(e, ML_EINTEGRITY, "%s: its identity says format %d, the genesis "
				  "copied %s", ml_pg_name(p), format, fmt);
	return ML_OK;
}

int
ml_migrate_from_pg(struct ml_pg *p, const char *path, const struct ml_migrate_opts *o,
		   struct ml_migrate_result *out, struct ml_err *e)
{
	char origin[ML_ORIGIN_MAX + 1], logkey[ML_VKEY_MAX];
	struct copy c = {0};
	struct sizes sz = {0};
	struct ml_migrate_result res = {0};
	int rc, format, created = 0;

	if (e)
		e->seq = -1;
	if ((rc = ml_pg_identity(p, origin, sizeof origin, logkey, sizeof logkey, &format, e)) ||
	    (rc = pg_signed(p, &c.to, &res.unsigned_tail, e)))
		return rc;
	if (c.to == 0)
		return ml_err_set(e, ML_EINPUT, "%s: no signed checkpoint, nothing to copy",
				  ml_pg_name(p));
	sz.max = c.to;
	if ((rc = ml_pg_checkpoint_each(p, sizes_add, &sz, e)))
		goto out;
	if ((rc = ml_ledger_create_replica(path, origin, logkey, e)))
		goto out;
	created = 1;
	if ((rc = ml_ledger_open(path, 1, &c.l, e)))
		goto out;
	c.p = p;
	c.o = o;
	c.sizes = sz.v;
	c.nsizes = sz.n;
	if ((rc = copy_run(&c, 0, e)) == ML_OK)
		rc = check_format(c.l, p, format, e);
	res.entries = c.entries;
	res.checkpoints = c.notes;
	res.size = c.to;
out:
	ml_ledger_close(c.l);
	free(sz.v);
	if (rc && created)
		ml_store_unlink(path);
	if (rc == ML_OK && out)
		*out = res;
	return rc;
}

/* ---- a working copy following PostgreSQL -------------------------------- */

struct leaf_at {
	uint8_t leaf[ML_SHA256_LEN];
	int found;
};

static int
leaf_of(void *ctx, const struct ml_entry *en, const uint8_t leaf[ML_SHA256_LEN],
	struct ml_err *e)
{
	struct leaf_at *a = ctx;

	(void)leaf;
	(void)e;
	ml_leaf_hash(en, a->leaf); /* the row's, not its stored leaf column */
	a->found = 1;
	return ML_OK;
}

/* l's last entry (seq size-1, leaf last) must be PostgreSQL's entry of that
 * seq: the leaf commits to every entry before it through prev. */
static int
follow_prefix(struct ml_pg *p, uint64_t size, const uint8_t last[ML_SHA256_LEN],
	      struct ml_err *e)
{
	struct leaf_at a = {{0}, 0};
	int rc;

	if (size == 0)
		return ML_OK;
	if ((rc = ml_pg_entries(p, size - 1, size, leaf_of, &a, e)))
		return rc;
	if (!a.found || memcmp(a.leaf, last, ML_SHA256_LEN) != 0) {
		ml_err_set(e, ML_EINTEGRITY, "a fork: the working copy's entry %llu is not %s's "
			   "(a failover lost entries the copy holds, or another ledger)",
			   (unsigned long long)(size - 1), ml_pg_name(p));
		e->seq = (long long)(size - 1);
		return ML_EINTEGRITY;
	}
	return ML_OK;
}

/* l must be a copy of PostgreSQL's ledger. */
static int
follow_identity(struct ml_pg *p, struct ml_ledger *l, struct ml_err *e)
{
	char origin[ML_ORIGIN_MAX + 1], logkey[ML_VKEY_MAX];
	int rc, format;

	if ((rc = ml_pg_identity(p, origin, sizeof origin, logkey, sizeof logkey, &format, e)))
		return rc;
	if (strcmp(origin, ml_ledger_origin(l)) != 0 || strcmp(logkey, ml_ledger_logkey(l)) != 0)
		return ml_err_set(e, ML_EINPUT, "the working copy is of another ledger (%.130s) "
				  "than %s's (%.130s)", ml_ledger_origin(l), ml_pg_name(p),
				  origin);
	return ML_OK;
}

int
ml_migrate_follow(struct ml_pg *p, struct ml_ledger *l, uint64_t *size, struct ml_err *e)
{
	struct copy c = {0};
	uint8_t last[ML_SHA256_LEN];
	uint64_t held, tail;
	int64_t lt;
	int rc;

	if (e)
		e->seq = -1;
	if ((rc = follow_identity(p, l, e)) || (rc = pg_signed(p, &c.to, &tail, e)) ||
	    (rc = ml_store_head(ml_ledger_store(l), &held, last, &lt, e)))
		return rc;
	if (held > c.to + tail) {
		ml_err_set(e, ML_EINTEGRITY, "the working copy holds %llu entries, %s only %llu "
			   "(a failover lost entries the copy holds, or another ledger)",
			   (unsigned long long)held, ml_pg_name(p),
			   (unsigned long long)(c.to + tail));
		e->seq = (long long)(c.to + tail);
		return ML_EINTEGRITY;
	}
	if ((rc = follow_prefix(p, held, last, e)))
		return rc;
	if (held < c.to) {
		c.p = p;
		c.l = l;
		if ((rc = copy_run(&c, held, e)))
			return rc;
		held = c.to;
	}
	*size = held;
	return ML_OK;
}
