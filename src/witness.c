/* witness — the witness's state file and the tlog-witness add-checkpoint
 * handler (witness.h). */
#include "witness.h"

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "merkle.h"
#include "output.h"
#include "tlog.h"

int
ml_witness_state_open(const char *path, const struct ml_pubkey *logk, int timeout_s,
		      struct ml_witness_state *st, struct ml_err *e)
{
	struct ml_checkpoint c;
	char *old = NULL;
	size_t oldlen;
	int rc;

	memset(st, 0, sizeof *st);
	st->lockfd = -1;
	if ((rc = ml_state_lock(path, timeout_s, &st->lockfd, e)) ||
	    (rc = ml_state_stat(path, &st->exists, e)))
		goto fail;
	if (!st->exists)
		return ML_OK;
	if ((rc = ml_read_file(path, ML_NOTE_MAX, &old, &oldlen, e)))
		goto fail;
	rc = ml_tlog_note_of(logk, old, oldlen, &c, e);
	free(old);
	if (rc) {
		ml_err_prefix(e, rc, path);
		if (rc == ML_EINTEGRITY)
			ml_err_prefix(e, rc, "the witness state (one state file per log: was "
				      "the log replaced?)");
		goto fail;
	}
	st->held = c;
	return ML_OK;
fail:
	ml_witness_state_close(st);
	return rc;
}

int
ml_witness_state_commit(struct ml_witness_state *st, const char *path,
			const struct ml_seckey *witness, const char *note, size_t len,
			uint64_t now_s, struct ml_buf *out, struct ml_err *e)
{
	struct ml_buf cos = {0};
	int rc;

	if (st->lockfd < 0)
		return ml_err_set(e, ML_EINPUT, "%s: the witness state is not locked", path);
	if ((rc = ml_cosign(witness, note, len, now_s, &cos, e)) ||
	    (rc = ml_write_file_atomic(path, cos.data, cos.len, 0644, 0, e)))
		goto out;
	ml_buf_append(out, cos.data, cos.len);
	if (out->oom)
		rc = ml_err_set(e, ML_EIO, "out of memory");
out:
	ml_buf_free(&cos);
	return rc;
}

void
ml_witness_state_close(struct ml_witness_state *st)
{
	if (st && st->lockfd >= 0) {
		ml_state_unlock(st->lockfd);
		st->lockfd = -1;
	}
}

/* ---- add-checkpoint ---- */

/* A parsed request body.  The note points into the body. */
struct request {
	uint64_t old;
	uint8_t proof[ML_PROOF_MAX][ML_SHA256_LEN];
	size_t nproof;
	const char *note;
	size_t note_len;
};

/* "old <decimal>" without leading zeros (but "0"), at most 2^63 - 1. */
static int
parse_old(const char *s, size_t len, uint64_t *old, struct ml_err *e)
{
	uint64_t v = 0;
	size_t i;

	if (len < 5 || memcmp(s, "old ", 4) != 0)
		return ml_err_set(e, ML_EINPUT, "the first line is not \"old <size>\"");
	s += 4;
	len -= 4;
	if (len > 19 || (len > 1 && s[0] == '0'))
		return ml_err_set(e, ML_EINPUT, "old size: not a decimal of at most 19 digits without leading "
				  "zeros");
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return ml_err_set(e, ML_EINPUT, "old size: not a decimal");
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > (uint64_t)INT64_MAX)
		return ml_err_set(e, ML_EINPUT, "old size: larger than 2^63 - 1");
	*old = v;
	return ML_OK;
}

/* Splits the body: the old size line, up to 63 proof lines, an empty line,
 * the note.  ML_EINPUT naming what is wrong. */
static int
parse_request(const char *b, size_t len, struct request *q, struct ml_err *e)
{
	const char *p, *end = b + len, *nl, *proof;
	size_t lines = 0;
	int rc;

	if (!(nl = memchr(b, '\n', len)))
		return ml_err_set(e, ML_EINPUT, "no \"old <size>\" line");
	if ((rc = parse_old(b, (size_t)(nl - b), &q->old, e)))
		return rc;
	proof = p = nl + 1;
	for (;;) {
		if (p >= end || !(nl = memchr(p, '\n', (size_t)(end - p))))
			return ml_err_set(e, ML_EINPUT, "no empty line before the checkpoint");
		if (nl == p)
			break;
		if (++lines > ML_WITNESS_PROOF_LINES_MAX)
			return ml_err_set(e, ML_EINPUT, "more than %d consistency proof lines",
					  ML_WITNESS_PROOF_LINES_MAX);
		p = nl + 1;
	}
	if ((rc = ml_tlog_hashes_parse(proof, (size_t)(p - proof), q->proof, &q->nproof, e)))
		return ml_err_prefix(e, rc, "consistency proof");
	q->note = p + 1;
	q->note_len = (size_t)(end - q->note);
	if (q->note_len == 0)
		return ml_err_set(e, ML_EINPUT, "no checkpoint after the empty line");
	return ML_OK;
}

static void
reply_text(struct ml_witness_reply *r, int status, const char *msg)
{
	r->status = status;
	r->content_type = "text/plain; charset=utf-8";
	r->body.len = 0;
	ml_buf_puts(&r->body, msg);
	ml_buf_puts(&r->body, "\n");
}

/* The checks before the state (C2SP's order): 400 malformed, 404 another
 * origin, 403 not signed by the log, 400 old > size, 422 a size-0
 * checkpoint whose root is not the empty tree's.  0, or the status with
 * e set. */
static int
check_request(const struct ml_witness_config *w, const struct request *q,
	      struct ml_checkpoint *cp, struct ml_err *e)
{
	struct ml_note n;
	uint8_t empty[ML_SHA256_LEN];
	int bad;

	if (ml_note_parse(q->note, q->note_len, &n, e)) {
		ml_err_prefix(e, ML_EINPUT, "checkpoint");
		return 400;
	}
	bad = ml_checkpoint_parse(n.text, n.text_len, cp, e);
	ml_note_clear(&n);
	if (bad) {
		ml_err_prefix(e, ML_EINPUT, "checkpoint");
		return 400;
	}
	if (strcmp(cp->origin, w->log->name) != 0) {
		ml_err_set(e, ML_EINPUT, "unknown origin %.100s: this witness witnesses %s",
			   cp->origin, w->log->name);
		return 404;
	}
	if (ml_tlog_note_of(w->log, q->note, q->note_len, cp, e))
		return 403;
	if (q->old > cp->size) {
		ml_err_set(e, ML_EINPUT, "old size %" PRIu64 " is larger than the checkpoint's "
			   "size %" PRIu64, q->old, cp->size);
		return 400;
	}
	ml_sha256("", 0, empty);
	if (cp->size == 0 && memcmp(cp->root, empty, ML_SHA256_LEN) != 0) {
		ml_err_set(e, ML_EINTEGRITY, "a checkpoint of size 0 whose root is not the "
			   "empty tree's");
		return 422;
	}
	return 0;
}

/* The compare-and-set, state locked: 409 when old is not the stored size,
 * 422 when the checkpoint does not extend the stored one.  0 or the status
 * with e set. */
static int
check_against(const struct ml_witness_state *st, const struct request *q,
	      const struct ml_checkpoint *cp, struct ml_err *e)
{
	uint64_t stored = st->exists ? st->held.size : 0;

	if (q->old != stored) {
		ml_err_set(e, ML_EINPUT, "old size %" PRIu64 " is not the last cosigned size "
			   "%" PRIu64, q->old, stored);
		return 409;
	}
	if (q->nproof > 0 && (q->old == 0 || q->old == cp->size)) {
		ml_err_set(e, ML_EINTEGRITY, "a consistency proof from size %" PRIu64 " to %"
			   PRIu64 " is empty; %zu lines were sent", q->old, cp->size, q->nproof);
		return 422;
	}
	if (ml_tlog_witness_step(st->exists ? &st->held : NULL, cp, 1,
				 (const uint8_t(*)[ML_SHA256_LEN])q->proof, q->nproof, e))
		return 422;
	return 0;
}

/* The log signed two roots at one size: keeps both notes, under the
 * state's lock, as STATE.fork-SIZE.cosigned (what this witness cosigned)
 * and STATE.fork-SIZE.refused (the request's), the first pair for each size
 * only (existing files are kept), and says so in r->log.  Anyone can check
 * them with 'mlledger verify-consistency --log-key LOG.pub A B EMPTY'.
 * Best effort: a failure only changes the log line. */
static void
keep_fork(const char *state, uint64_t size, const char *note, size_t len,
	  struct ml_witness_reply *r)
{
	char path[PATH_MAX], *held = NULL;
	size_t hlen;
	struct ml_err e;
	int n;

	ml_err_clear(&e);
	n = snprintf(path, sizeof path, "%s.fork-%" PRIu64 ".cosigned", state, size);
	if (n < 0 || (size_t)n >= sizeof path ||
	    ml_read_file(state, ML_NOTE_MAX, &held, &hlen, &e) ||
	    (ml_write_file_atomic(path, held, hlen, 0644, 1, &e) && e.code != ML_EINPUT)) {
		snprintf(r->log, sizeof r->log, "the log signed two roots at size %" PRIu64
			 ": the evidence could not be kept (%.160s)", size, e.msg);
		free(held);
		return;
	}
	free(held);
	snprintf(path + n - 8, sizeof path - (size_t)n + 8, "refused");
	if (ml_write_file_atomic(path, note, len, 0644, 1, &e) && e.code != ML_EINPUT)
		snprintf(r->log, sizeof r->log, "the log signed two roots at size %" PRIu64
			 ": the evidence could not be kept (%.160s)", size, e.msg);
	else
		snprintf(r->log, sizeof r->log, "the log signed two roots at size %" PRIu64
			 ": kept as %.*s{cosigned,refused}", size, n - 8, path);
}

/* Appends the witness's own signature line (with its '\n') of the cosigned
 * note to out. */
static int
own_line(const struct ml_seckey *k, const struct ml_buf *cosigned, struct ml_buf *out,
	 struct ml_err *e)
{
	struct ml_cosig_key ck;
	struct ml_note n;
	size_t i;
	int found = 0;

	ml_cosig_key_of(k, &ck);
	if (ml_note_parse((const char *)cosigned->data, cosigned->len, &n, e))
		return ML_EIO;
	for (i = 0; i < n.nsigs && !found; i++) {
		if (n.sigs[i].hash == ck.hash && strcmp(n.sigs[i].name, ck.name) == 0) {
			ml_buf_append(out, n.sigs[i].line, n.sigs[i].line_len);
			ml_buf_puts(out, "\n");
			found = 1;
		}
	}
	ml_note_clear(&n);
	return found ? ML_OK : ml_err_set(e, ML_EIO, "the cosignature line is missing");
}

void
ml_witness_add_checkpoint(const struct ml_witness_config *w, const char *body, size_t len,
			  uint64_t now_s, struct ml_witness_reply *r)
{
	struct request *q;
	struct ml_witness_state st = {.lockfd = -1};
	struct ml_checkpoint cp;
	struct ml_buf cos = {0};
	struct ml_err e;
	int status;

	memset(r, 0, sizeof *r);
	ml_err_clear(&e);
	if (len > ML_WITNESS_BODY_MAX) {
		ml_err_set(&e, ML_EINPUT, "request body larger than %d bytes",
			   ML_WITNESS_BODY_MAX);
		reply_text(r, 413, e.msg);
		return;
	}
	/* About 2 KiB of proof: on the heap, not a server thread's stack. */
	if (!(q = calloc(1, sizeof *q))) {
		reply_text(r, 500, "out of memory");
		return;
	}
	if (parse_request(body, len, q, &e)) {
		status = 400;
		goto out;
	}
	if ((status = check_request(w, q, &cp, &e)))
		goto out;
	if (ml_witness_state_open(w->state, w->log, w->lock_timeout_s, &st, &e)) {
		status = 500;
		goto out;
	}
	if ((status = check_against(&st, q, &cp, &e))) {
		if (status == 422 && st.exists && cp.size == st.held.size &&
		    memcmp(cp.root, st.held.root, ML_SHA256_LEN) != 0) {
			r->forked = 1;
			keep_fork(w->state, cp.size, q->note, q->note_len, r);
		}
		goto out;
	}
	if (ml_witness_state_commit(&st, w->state, w->key, q->note, q->note_len, now_s, &cos,
				    &e) ||
	    own_line(w->key, &cos, &r->body, &e)) {
		status = 500;
		goto out;
	}
	r->status = 200;
	r->content_type = "text/plain; charset=utf-8";
out:
	ml_witness_state_close(&st);
	if (status == 409) {
		r->status = 409;
		r->content_type = "text/x.tlog.size";
		ml_buf_printf(&r->body, "%" PRIu64 "\n", st.exists ? st.held.size : 0);
	} else if (status) {
		reply_text(r, status, e.msg);
	}
	if (r->body.oom) {
		r->body.len = 0;
		r->body.oom = 0;
		reply_text(r, 500, "out of memory");
	}
	ml_buf_free(&cos);
	free(q);
}

void
ml_witness_reply_free(struct ml_witness_reply *r)
{
	if (r)
		ml_buf_free(&r->body);
}
