/* cli_import — `mlledger import FILE.jsonl`: many statements, one
 * transaction.  Each line is a request object (request.h); dataset and
 * model versions defined earlier in the same file can be referred to by
 * later lines. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "cli.h"
#include "jsonarena.h"
#include "remote.h"
#include "request.h"
#include "rules.h"
#include "statement.h"

#define MAX_LINE (1024 * 1024)
#define MAX_LINES 10000000

/* The builder builds each line's statement tree with the chunk's tree arena
 * in use (jsonarena.h): it keeps one reference of each tree (stmts[i]) and
 * drops the arena instead of decref'ing it; the appender only borrows
 * (incref/decref) while that reference is held. */

/* Versions defined in this file: "kind ref" -> digest (open addressing). */
struct vmap {
	char **keys;
	uint8_t (*digests)[ML_SHA256_LEN];
	size_t cap, n;
};

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static size_t
vmap_slot(const struct vmap *m, const char *key)
{
	size_t i = (size_t)hash_str(key) & (m->cap - 1);

	while (m->keys[i] && strcmp(m->keys[i], key))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static enum ml_rc
vmap_grow(struct vmap *m)
{
	struct vmap bigger = {0};
	size_t i;

	bigger.cap = m->cap ? m->cap * 2 : 1024;
	bigger.keys = calloc(bigger.cap, sizeof *bigger.keys);
	bigger.digests = calloc(bigger.cap, sizeof *bigger.digests);
	if (!bigger.keys || !bigger.digests) {
		free(bigger.keys);
		free(bigger.digests);
		return ML_EIO;
	}
	for (i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		size_t j = vmap_slot(&bigger, m->keys[i]);
		bigger.keys[j] = m->keys[i];
		memcpy(bigger.digests[j], m->digests[i], ML_SHA256_LEN);
	}
	bigger.n = m->n;
	free(m->keys);
	free(m->digests);
	*m = bigger;
	return ML_OK;
}

/* Remembers the first digest given for key. */
static enum ml_rc
vmap_put(struct vmap *m, const char *key, const uint8_t d[ML_SHA256_LEN])
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap && vmap_grow(m) != 0)
		return ML_EIO;
	i = vmap_slot(m, key);
	if (m->keys[i])
		return ML_OK;
	if (!(m->keys[i] = strdup(key)))
		return ML_EIO;
	memcpy(m->digests[i], d, ML_SHA256_LEN);
	m->n++;
	return ML_OK;
}

static const uint8_t *
vmap_get(const struct vmap *m, const char *key)
{
	size_t i;

	if (!m->cap)
		return NULL;
	i = vmap_slot(m, key);
	return m->keys[i] ? m->digests[i] : NULL;
}

static void
vmap_free(struct vmap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->digests);
}

struct import {
	struct ml_ledger *l;
	struct vmap defined;
};

static int
resolve(void *ctx, const char *kind, const char *ref, uint8_t digest[ML_SHA256_LEN],
	struct ml_err *e)
{
	struct import *im = ctx;
	char key[300];
	const uint8_t *d;
	int64_t seq;

	snprintf(key, sizeof key, "%s %s", kind, ref);
	if ((d = vmap_get(&im->defined, key))) {
		memcpy(digest, d, ML_SHA256_LEN);
		return ML_OK;
	}
	return ml_ledger_subject(im->l, kind, ref, digest, &seq, e);
}

/* Builds the statement of one line into payload and remembers the versions
 * it defines.  Runs on the builder thread only (vmap and im->l are its). */
static int
import_line(struct import *im, const char *line, size_t len, int64_t now,
	    struct ml_buf *payload, struct ml_statement *st, struct ml_err *e)
{
	enum ml_kind kind;
	json_t *req;
	int rc;

	if ((rc = ml_request_load(line, len, &req, e)))
		return rc;
	/* the line's statement names this ledger (FORMAT.md §2, "Origin") */
	rc = ml_request_bind_origin(req, ml_ledger_origin(im->l), NULL, e);
	if (rc == ML_OK)
		rc = ml_request_build_parsed(req, resolve, im, now, &kind, payload, st, e);
	if (rc == ML_OK && (kind == ML_KIND_DATASET || kind == ML_KIND_MODEL)) {
		char key[300];
		uint8_t d[ML_SHA256_LEN];
		snprintf(key, sizeof key, "%s %s", ml_kind_name(kind),
			 json_string_value(json_object_get(req, "subject")));
		ml_digest_parse(json_string_value(json_object_get(req, "digest")), d);
		if (vmap_put(&im->defined, key, d) != 0)
			rc = ml_err_set(e, ML_EIO, "out of memory");
	}
	json_decref(req);
	return rc;
}

/* The lines of the file.  Their text is one block (text; line i is the
 * at[i].len bytes at text.data + at[i].off), read before the threads start
 * and freed at the end: no line is allocated or freed on its own.  bufs[i]
 * is line i's statement (payload), allocated by the builder thread and
 * freed by it once the appender is done with line i's chunk (build_all), so
 * that glibc never frees a payload on a thread other than the one that
 * allocated it.  stmts[i] is its parse, whose jansson tree lives in the
 * chunk's tree arena (jsonarena.h): never decref'd to zero, it is dropped
 * with the arena (tree_drop). */
struct line_at {
	size_t off, len;
};

struct lines {
	struct ml_buf text;
	struct line_at *at;
	struct ml_buf *bufs;
	struct ml_statement *stmts; /* the payloads' parses, handed to the append */
	size_t *lineno;
	size_t n, cap;
};

static enum ml_rc
lines_push(struct lines *ls, size_t lineno, const char *text, size_t len)
{
	if (ls->n == ls->cap) {
		size_t cap = ls->cap ? ls->cap * 2 : 1024;
		struct ml_buf *bufs = realloc(ls->bufs, cap * sizeof *bufs);
		struct ml_statement *stmts;
		struct line_at *at;
		size_t *nos;
		if (!bufs)
			return ML_EIO;
		ls->bufs = bufs;
		if (!(stmts = realloc(ls->stmts, cap * sizeof *stmts)))
			return ML_EIO;
		ls->stmts = stmts;
		if (!(at = realloc(ls->at, cap * sizeof *at)))
			return ML_EIO;
		ls->at = at;
		if (!(nos = realloc(ls->lineno, cap * sizeof *nos)))
			return ML_EIO;
		ls->lineno = nos;
		ls->cap = cap;
	}
	memset(&ls->bufs[ls->n], 0, sizeof ls->bufs[0]);
	memset(&ls->stmts[ls->n], 0, sizeof ls->stmts[0]);
	ls->at[ls->n] = (struct line_at){.off = ls->text.len, .len = len};
	ml_buf_append(&ls->text, text, len);
	ls->lineno[ls->n++] = lineno;
	return ls->text.oom ? ML_EIO : ML_OK;
}

/* Frees line i's payload and forgets its parse (whose tree is its chunk's
 * tree arena's: tree_drop frees it). */
static void
line_release(struct lines *ls, size_t i)
{
	ml_buf_free(&ls->bufs[i]);
	memset(&ls->stmts[i], 0, sizeof ls->stmts[i]);
}

/* Frees what is left once the pipeline is done (the payloads of a failed
 * import; the trees were dropped with their arenas). */
static void
lines_free(struct lines *ls)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		line_release(ls, i);
	ml_buf_free(&ls->text);
	free(ls->at);
	free(ls->bufs);
	free(ls->stmts);
	free(ls->lineno);
}

static int
read_lines(struct cli *c, FILE *f, struct lines *ls, struct ml_err *e)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int rc = ML_OK;

	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (n == 0)
			continue;
		if (n > MAX_LINE || ls->n >= MAX_LINES) {
			rc = ml_err_set(e, ML_EINPUT, "%s:%zu: line longer than %d bytes or too many "
					"lines (nothing was written)", c->args[0], lineno, MAX_LINE);
			break;
		}
		if (lines_push(ls, lineno, line, (size_t)n) != 0) {
			rc = ml_err_set(e, ML_EIO, "out of memory");
			break;
		}
	}
	free(line);
	if (rc == ML_OK && ferror(f))
		rc = ml_err_set(e, ML_EIO, "%s: read error", c->args[0]);
	if (rc == ML_OK && ls->n == 0)
		rc = ml_err_set(e, ML_EINPUT, "%s: no statements", c->args[0]);
	return rc;
}

/* Three stages run at once, in chunks of CHUNK lines: one thread builds the
 * statements in order (it alone resolves references), the signers sign
 * whole chunks (chunk c on signer c mod n), and the calling thread appends
 * the signed envelopes in order inside one transaction.  They meet only
 * once a chunk, so the threads rarely wait on each other. */
#define CHUNK 64
#define CHUNK_ARENA (128 * 1024) /* about a chunk's envelopes and payloads */
/* How many chunks the builder may be ahead of the appender: enough to keep
 * the signers busy, few enough that the statements freed behind the
 * appender are reused for the ones built next (the heap stops growing). */
#define WINDOW 32
#define TREE_ARENA (256 * 1024) /* about a chunk's statement trees */

/* A chunk's signed envelopes, all in arena a, which the signer fills and
 * the appender frees once it appended them (or after the threads joined):
 * no envelope is freed one by one.  hints[j] describes line
 * c * CHUNK + j: its bytes, and envs[j], the parse they were written from. */
struct signed_chunk {
	struct ml_arena *a;
	struct ml_envelope *envs;
	struct ml_envelope_hint *hints;
};

struct pipeline {
	struct lines *ls;
	struct import *im;
	const struct ml_seckey *k;
	int64_t now;
	size_t built;           /* lines built so far (a prefix) */
	size_t appended;        /* chunks the appender is done with (a prefix) */
	struct ml_arena **trees; /* [nchunks]: chunk c's jansson trees (builder's) */
	unsigned char *signed_; /* signed_[c]: chunk c is signed */
	struct signed_chunk *chunks; /* [nchunks] */
	size_t nchunks;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t nsigners;
	int waiting;            /* threads in pthread_cond_wait: wake only them */
	int stop;               /* the appender is done or failed: everyone stops */
	int rc;                 /* the failure of the earliest line, if any */
	size_t bad;
	struct ml_err e;
};

static void
wake(struct pipeline *p)
{
	if (p->waiting)
		pthread_cond_broadcast(&p->cv);
}

static void
sleep_on(struct pipeline *p)
{
	p->waiting++;
	pthread_cond_wait(&p->cv, &p->mu);
	p->waiting--;
}

/* Records a failure at line i (keeping the earliest) and wakes everyone. */
static void
pipeline_fail(struct pipeline *p, size_t i, int rc, const struct ml_err *e)
{
	pthread_mutex_lock(&p->mu);
	if (p->rc == ML_OK || i < p->bad) {
		p->rc = rc;
		p->bad = i;
		p->e = *e;
	}
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static int
failed_before(const struct pipeline *p, size_t end)
{
	return p->stop || (p->rc && p->bad < end);
}

/* Frees chunk c's payloads and its tree arena, with every statement tree
 * in it; nobody may use them any more. */
static void
tree_drop(struct pipeline *p, size_t c)
{
	size_t i, end = (c + 1) * CHUNK < p->ls->n ? (c + 1) * CHUNK : p->ls->n;

	for (i = c * CHUNK; i < end; i++)
		line_release(p->ls, i);
	ml_arena_free(p->trees[c]);
	p->trees[c] = NULL;
}

/* Frees the statements of chunks *freed .. upto - 1 (the appender is done
 * with them) and advances *freed. */
static void
release_chunks(struct pipeline *p, size_t *freed, size_t upto)
{
	for (; *freed < upto; ++*freed)
		tree_drop(p, *freed);
}

/* Publishes that lines ..built - 1 are built, then waits while the builder
 * is WINDOW chunks ahead of the appender; frees what the appender is done
 * with.  Non-zero when the pipeline stops. */
static int
built_chunk(struct pipeline *p, size_t built, size_t *freed)
{
	size_t appended;
	int stop;

	pthread_mutex_lock(&p->mu);
	p->built = built;
	wake(p);
	while (!p->stop && (built + CHUNK - 1) / CHUNK >= p->appended + WINDOW)
		sleep_on(p);
	appended = p->appended;
	stop = p->stop;
	pthread_mutex_unlock(&p->mu);
	release_chunks(p, freed, appended);
	return stop;
}

/* Once every line is built: frees each chunk the appender finishes, until
 * it stops (then p->appended covers every chunk it used). */
static void
release_rest(struct pipeline *p, size_t *freed)
{
	size_t appended;
	int stop = 0;

	while (!stop) {
		pthread_mutex_lock(&p->mu);
		while (!p->stop && p->appended == *freed)
			sleep_on(p);
		appended = p->appended;
		stop = p->stop;
		pthread_mutex_unlock(&p->mu);
		release_chunks(p, freed, appended);
	}
}

/* The builder thread: builds every line's statement in order, and frees
 * them behind the appender (struct lines).  What it leaves when the
 * pipeline fails, lines_free frees after the threads joined. */
static void *
build_all(void *arg)
{
	struct pipeline *p = arg;
	struct ml_err e;
	size_t i, freed = 0;

	ml_err_clear(&e);
	for (i = 0; i < p->ls->n; i++) {
		const struct line_at *at = &p->ls->at[i];
		struct ml_arena **a = &p->trees[i / CHUNK];
		int rc = ML_OK;
		if (!*a && !(*a = ml_arena_new(TREE_ARENA)))
			rc = ml_err_set(&e, ML_EIO, "out of memory");
		if (rc == ML_OK) {
			struct ml_jsonarena was = ml_jsonarena_set(*a, 1);
			rc = import_line(p->im, (const char *)p->ls->text.data + at->off, at->len,
					 p->now, &p->ls->bufs[i], &p->ls->stmts[i], &e);
			ml_jsonarena_restore(was);
		}
		if (rc) {
			ml_buf_free(&p->ls->bufs[i]);
			pipeline_fail(p, i, rc, &e);
			return NULL;
		}
		if (((i + 1) % CHUNK == 0 || i + 1 == p->ls->n) && built_chunk(p, i + 1, &freed))
			return NULL;
	}
	release_rest(p, &freed);
	return NULL;
}

struct signer {
	struct pipeline *p;
	size_t first;
	struct ml_buf pae, env; /* reused for every line: no allocation per line */
};

/* Signs line i's payload (ls->bufs[i], which the builder frees later) into
 * envelope *env and its bytes, both in the chunk's arena a, and fills *hint
 * for the append.  ml_envelope_sign_parts writes what ml_envelope_sign
 * writes and keeps the parsed form, so that the appender need not parse it
 * back, nor hash the payload: the signer hashes the bytes
 * it signs (not the builder's source_sha256, so that the hint stands on
 * what this thread wrote alone). */
static int
sign_line(struct signer *sg, size_t i, struct ml_arena *a, struct ml_envelope *env,
	  struct ml_envelope_hint *hint, struct ml_err *e)
{
	struct ml_buf *b = &sg->p->ls->bufs[i];
	uint8_t *payload = ml_arena_dup(a, b->data, b->len);
	int rc;

	if (!payload)
		return ml_err_set(e, ML_EIO, "envelope: out of memory");
	sg->env.len = 0;
	if ((rc = ml_envelope_sign_parts(sg->p->k, payload, b->len, &sg->pae, env, &sg->env, e)))
		return rc;
	if (!(hint->bytes = ml_arena_dup(a, sg->env.data, sg->env.len)))
		return ml_err_set(e, ML_EIO, "envelope: out of memory");
	hint->len = sg->env.len;
	hint->env = env;
	ml_sha256(b->data, b->len, hint->payload_sha256);
	return ML_OK;
}

/* Signs chunk c into p->chunks[c]. */
static int
sign_chunk(struct signer *sg, size_t c, size_t begin, size_t end, size_t *bad,
	   struct ml_err *e)
{
	struct signed_chunk *ch = &sg->p->chunks[c];
	size_t i;
	int rc;

	*bad = begin;
	if (!(ch->a = ml_arena_new(CHUNK_ARENA)) ||
	    !(ch->envs = ml_arena_alloc(ch->a, (end - begin) * sizeof *ch->envs)) ||
	    !(ch->hints = ml_arena_alloc(ch->a, (end - begin) * sizeof *ch->hints)))
		return ml_err_set(e, ML_EIO, "out of memory");
	for (i = begin; i < end; i++) {
		*bad = i;
		if ((rc = sign_line(sg, i, ch->a, &ch->envs[i - begin], &ch->hints[i - begin], e)))
			return rc;
	}
	return ML_OK;
}

static void *
sign_some(void *arg)
{
	struct signer *sg = arg;
	struct pipeline *p = sg->p;
	struct ml_err e;
	size_t c, bad;

	ml_err_clear(&e);
	for (c = sg->first; c < p->nchunks; c += p->nsigners) {
		size_t begin = c * CHUNK, end = begin + CHUNK < p->ls->n ? begin + CHUNK : p->ls->n;
		int stop, rc;
		pthread_mutex_lock(&p->mu);
		while (p->built < end && !failed_before(p, end))
			sleep_on(p);
		stop = failed_before(p, end);
		pthread_mutex_unlock(&p->mu);
		if (stop)
			break;
		if ((rc = sign_chunk(sg, c, begin, end, &bad, &e))) {
			pipeline_fail(p, bad, rc, &e);
			break;
		}
		pthread_mutex_lock(&p->mu);
		p->signed_[c] = 1;
		wake(p);
		pthread_mutex_unlock(&p->mu);
	}
	ml_buf_free(&sg->pae);
	ml_buf_free(&sg->env);
	return NULL;
}

/* Frees a chunk's envelopes (after the appender used them, or once the
 * threads joined); a chunk dropped already, or never signed, is left. */
static void
chunk_drop(struct signed_chunk *ch)
{
	ml_arena_free(ch->a);
	memset(ch, 0, sizeof *ch);
}

/* Tells the builder that the appender is done with the chunks before c,
 * then waits until chunk c is signed; non-zero when the pipeline failed
 * before its end. */
static int
wait_chunk(struct pipeline *p, size_t c)
{
	size_t end = (c + 1) * CHUNK;
	int failed;

	pthread_mutex_lock(&p->mu);
	p->appended = c;
	wake(p);
	while (!p->signed_[c] && !failed_before(p, end))
		sleep_on(p);
	failed = !p->signed_[c] && failed_before(p, end);
	pthread_mutex_unlock(&p->mu);
	return failed;
}

/* Builds, signs and appends every line in one transaction.  On failure
 * e->index is the index of the statement at fault (ls->lineno maps it to
 * its line), or -1; e->seq an entry at fault, or -1 (util.h). */
/* import --server: posts item (POST /add) and fills *out from the
 * verified answer.  The checkpoints of the proofs are not compared with
 * one another here: the mirror taken after the last line covers them all
 * (cmd_import checks every acknowledged entry in it). */
static int
post_item(struct ml_remote *r, const struct ml_append_item *item, struct ml_appended *out,
	  struct ml_err *e)
{
	struct ml_remote_added a;
	int rc;

	memset(&a, 0, sizeof a);
	rc = ml_remote_submit(r, item->envelope, item->len, ML_REMOTE_ATTEMPTS, &a, e);
	if (rc == ML_OK) {
		out->seq = a.seq;
		memcpy(out->leaf, a.leaf, ML_SHA256_LEN);
		out->time_us = a.time_us;
		out->existing = a.existing;
	}
	ml_remote_added_free(&a);
	return rc;
}

/* Appends the lines in one batch of l, or with r (import --server) posts
 * them in order, each its own entry. */
static int
import_all(struct ml_ledger *l, struct ml_remote *r, struct import *im,
	   const struct ml_seckey *k, struct lines *ls, struct ml_appended *out,
	   struct ml_err *e)
{
	struct pipeline p;
	struct signer sg[16];
	pthread_t th[17];
	struct ml_batch *b = NULL;
	size_t n = (size_t)sysconf(_SC_NPROCESSORS_ONLN), i, started = 0;
	int rc = ML_OK;

	memset(&p, 0, sizeof p);
	p.ls = ls;
	p.im = im;
	p.k = k;
	p.now = ml_now_us();
	p.nsigners = n < 1 ? 1 : n > 16 ? 16 : n;
	p.nchunks = (ls->n + CHUNK - 1) / CHUNK;
	p.signed_ = calloc(p.nchunks, 1);
	p.chunks = calloc(p.nchunks, sizeof *p.chunks);
	p.trees = calloc(p.nchunks, sizeof *p.trees);
	if (!p.signed_ || !p.chunks || !p.trees) {
		free(p.signed_);
		free(p.chunks);
		free(p.trees);
		return ml_err_set(e, ML_EIO, "out of memory");
	}
	ml_jsonarena_install();
	/* jansson seeds its hash function on the first object made; made
	 * lazily it is a race between the builder and ml_batch_begin
	 * (helgrind), so seed it before the threads start, as jansson's
	 * documentation asks of threaded programs. */
	json_object_seed(0);
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	if (pthread_create(&th[started], NULL, build_all, &p) == 0)
		started++;
	for (i = 0; started && i < p.nsigners; i++) {
		sg[i] = (struct signer){.p = &p, .first = i};
		if (pthread_create(&th[started], NULL, sign_some, &sg[i]) != 0)
			break;
		started++;
	}
	if (started != p.nsigners + 1)
		rc = ml_err_set(e, ML_EIO, "cannot start threads");
	if (rc == ML_OK && !r)
		rc = ml_batch_begin(l, &b, e);
	for (i = 0; rc == ML_OK && i < ls->n; i++) {
		struct ml_append_item item = {0};
		const struct ml_envelope_hint *hint;
		if (i % CHUNK == 0) {
			if (i) /* the chunk before is appended: drop it */
				chunk_drop(&p.chunks[i / CHUNK - 1]);
			if (wait_chunk(&p, i / CHUNK))
				break;
			cli_progress("importing", i, ls->n);
		}
		hint = &p.chunks[i / CHUNK].hints[i % CHUNK];
		item.envelope = hint->bytes;
		item.len = hint->len;
		item.signed_by = ml_seckey_public(k);
		item.statement = &ls->stmts[i];
		if ((rc = r ? post_item(r, &item, &out[i], e)
			    : ml_batch_add_hinted(b, &item, hint, &out[i], e)))
			e->index = (long long)i;
	}
	pthread_mutex_lock(&p.mu);
	p.stop = 1;
	if (rc == ML_OK && !p.rc) /* all appended: the builder frees the rest */
		p.appended = p.nchunks;
	pthread_cond_broadcast(&p.cv);
	if (rc == ML_OK && p.rc) {
		rc = p.rc;
		*e = p.e;
		e->index = (long long)p.bad;
	}
	pthread_mutex_unlock(&p.mu);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < p.nchunks; i++) { /* the threads are done: any left */
		chunk_drop(&p.chunks[i]);
		if (p.trees[i])
			tree_drop(&p, i);
	}
	if (b && rc)
		ml_batch_abort(b);
	else if (b && (rc = ml_batch_commit(b, e)))
		e->index = -1;
	pthread_mutex_destroy(&p.mu);
	pthread_cond_destroy(&p.cv);
	free(p.signed_);
	free(p.chunks);
	free(p.trees);
	return rc;
}

/* The summary on stdout; each line the ledger already held (a retry, or a
 * repeat of an earlier line) named on stderr as FILE:LINE, and in JSON. */
static void
print_imported(const struct cli *c, const struct lines *ls, const struct ml_appended *out)
{
	size_t i, added = 0, held = 0;
	uint64_t first = 0, last = 0;
	char hex[65];

	for (i = 0; i < ls->n; i++) {
		if (out[i].existing) {
			fprintf(stderr, "mlledger: import: %s:%zu: already recorded at seq %llu\n",
				c->args[0], ls->lineno[i], (unsigned long long)out[i].seq);
			held++;
			continue;
		}
		if (!added++)
			first = out[i].seq;
		last = out[i].seq;
	}
	if (c->json) {
		ml_hex_encode(out[ls->n - 1].leaf, ML_SHA256_LEN, hex);
		if (added)
			printf("{\"first\":%llu,\"last\":%llu,\"count\":%zu,", (unsigned long long)first,
			       (unsigned long long)last, added);
		else
			printf("{\"first\":null,\"last\":null,\"count\":0,");
		printf("\"leafHash\":\"sha256:%s\",\"alreadyRecorded\":[", hex);
		for (i = 0, held = 0; i < ls->n; i++)
			if (out[i].existing)
				printf("%s{\"line\":%zu,\"seq\":%llu,\"message\":\"already recorded at "
				       "seq %llu\"}", held++ ? "," : "", ls->lineno[i],
				       (unsigned long long)out[i].seq, (unsigned long long)out[i].seq);
		printf("]}\n");
	} else if (added) {
		printf("%zu entries, %llu..%llu", added, (unsigned long long)first,
		       (unsigned long long)last);
		printf(held ? ", %zu already recorded\n" : "\n", held);
	} else {
		printf("0 entries, %zu already recorded\n", held);
	}
}

/* import --server, after the lines were posted: the mirror brought up to
 * the server's latest checkpoint (every entry and the state checked) must
 * hold each acknowledged entry at its seq with its leaf hash. */
static int
confirm_posted(struct cli *c, const struct lines *ls, const struct ml_appended *out,
	       struct ml_err *e)
{
	struct ml_ledger *m = NULL;
	struct ml_entry en;
	uint8_t *env, leaf[ML_SHA256_LEN];
	size_t i;
	int rc;

	if ((rc = cli_use_mirror(c, NULL, e)) || (rc = cli_open(c, 0, &m, e)))
		return rc;
	for (i = 0; rc == ML_OK && i < ls->n; i++) {
		env = NULL;
		rc = ml_store_entry_get(ml_ledger_store(m), out[i].seq, &en, &env, leaf, e);
		free(env);
		if (rc == ML_EINPUT || (rc == ML_OK && memcmp(leaf, out[i].leaf, ML_SHA256_LEN)))
			rc = ml_err_set(e, ML_EINTEGRITY, "%s:%zu: acknowledged as entry %llu, which "
					"the server's tree does not hold", c->args[0], ls->lineno[i],
					(unsigned long long)out[i].seq);
	}
	ml_ledger_close(m);
	return rc;
}

int
cmd_import(int argc, char **argv)
{
	struct cli c = {.cmd = "import"};
	struct import im = {0};
	struct lines ls = {0};
	struct ml_ledger *l = NULL;
	struct ml_seckey *k = NULL;
	struct ml_appended *out = NULL;
	struct ml_remote *r = NULL;
	struct ml_err e;
	FILE *f = NULL;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "key= passphrase-file= server= log-key= trust= state= "
			    "mirror=")))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger import FILE.jsonl --key K.key [--format text|json]\n\n"
		     "One JSON request object a line (README.md, \"Import format\"); all lines\n"
		     "are signed with K and appended in one transaction, or none is.\n"
		     "Use - for standard input.\n\n"
		     "A line whose statement the ledger already holds (the same bytes by K, or\n"
		     "the same \"idempotencyKey\" member and content, the time aside), an\n"
		     "earlier line of the file included, is not written again: \"FILE:LINE:\n"
		     "already recorded at seq N\" on stderr, and the others are appended.  An\n"
		     "idempotencyKey already naming other content fails the whole file\n"
		     "(exit 7, conflict; nothing written).  Exit codes: 2 bad input, 5 storage\n"
		     "error, 6 key error, 7 conflict.\n\n"
		     "With --server URL (or MLLEDGER_SERVER), --log-key LOG.pub|--trust POLICY\n"
		     "[--state FILE] [--mirror FILE]: references are looked up in the mirror\n"
		     "(brought up to date first), the lines are signed here and posted in order\n"
		     "(POST /add), each its own entry, each proof checked; then the mirror is\n"
		     "brought up to date again and must hold every acknowledged entry (exit 4\n"
		     "otherwise).  A refused line stops the import: the lines before it stay\n"
		     "appended; give lines an \"idempotencyKey\" so that importing the file\n"
		     "again appends nothing twice.");
		return ML_OK;
	}
	if (c.nargs != 1)
		return cli_failf(&c, ML_EINPUT, "expected one FILE.jsonl");
	if (strcmp(c.args[0], "-")) {
		int fd; /* a regular file only: a FIFO must not hang (util.h) */
		if ((rc = ml_open_input(c.args[0], &fd, &e)))
			return cli_fail(&c, &e);
		if (!(f = fdopen(fd, "r"))) {
			close(fd);
			return cli_failf(&c, ML_EIO, "%s: cannot open", c.args[0]);
		}
	} else {
		f = stdin;
	}
	/* Appends go through l; the builder thread reads through its own im.l.
	 * With --server: no l; im.l is the mirror, r posts.  Each connection is
	 * used by one thread only (ML_STORE_ONE_THREAD: no SQLite mutexes). */
	if (cli_server(&c) ? (rc = cli_load_key(&c, &k, &e)) || (rc = cli_use_mirror(&c, NULL, &e)) ||
				     (rc = cli_remote_open(&c, &r, &e))
			   : (rc = cli_open(&c, 1 | ML_STORE_ONE_THREAD, &l, &e)) ||
				     (rc = cli_load_key(&c, &k, &e)))
		goto out;
	if ((rc = cli_open(&c, ML_STORE_ONE_THREAD, &im.l, &e)) ||
	    (rc = read_lines(&c, f, &ls, &e)))
		goto out;
	if (!(out = calloc(ls.n, sizeof *out))) {
		rc = ml_err_set(&e, ML_EIO, "out of memory");
		goto out;
	}
	if ((rc = import_all(l, r, &im, k, &ls, out, &e))) {
		char msg[sizeof e.msg];
		const char *after = r ? "the lines before it were appended" : "nothing was written";
		snprintf(msg, sizeof msg, "%.300s", e.msg);
		if (e.index >= 0 && (size_t)e.index < ls.n)
			ml_err_set(&e, rc, "%s:%zu: %s (%s)", c.args[0], ls.lineno[e.index], msg,
				   after);
		else
			ml_err_set(&e, rc, "%s: %s (%s)", c.args[0], msg, after);
		e.index = -1;
		goto out;
	}
	if (r && ls.n && (rc = confirm_posted(&c, &ls, out, &e)))
		goto out;
	cli_progress_done();
	print_imported(&c, &ls, out);
out:
	if (f && f != stdin)
		fclose(f);
	lines_free(&ls);
	free(out);
	vmap_free(&im.defined);
	ml_seckey_free(k);
	ml_ledger_close(im.l);
	ml_ledger_close(l);
	ml_remote_close(r);
	return rc ? cli_fail(&c, &e) : ML_OK;
}
