/* remote — see remote.h. */
#include "remote.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "chain.h"
#include "http.h"
#include "ledger.h"
#include "merkle.h"
#include "note_proof.h"
#include "output.h"
#include "retry.h"
#include "statement.h"
#include "tiles.h"
#include "tlog.h"

/* Largest answers read: a checkpoint note, a consistency proof, a hash
 * tile, an entry bundle (256 entries of at most 65,535 bytes and their
 * lengths), an error line. */
#define PROOF_TEXT_MAX ((ML_PROOF_MAX + 1) * 46)
#define BUNDLE_MAX ((size_t)ML_TILE_WIDTH * (ML_TILE_ENTRY_MAX + 2))
#define RETRY_WAIT_MAX 30

struct ml_remote {
	struct ml_http *http;
	char base[ML_HTTP_URL_MAX - 127]; /* room for the paths appended */
	struct ml_pubkey logkey;
	char logline[ML_VKEY_MAX];
	int pinned;               /* logkey is set (always, without a policy) */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	void *progress_ctx;
	struct ml_trust *pol;    /* owned; NULL: pinned to one key */
};

int
ml_remote_open(const char *url, const struct ml_pubkey *logkey, struct ml_remote **out,
	       struct ml_err *e)
{
	struct ml_remote *r;
	size_t n;
	int rc;

	/* room for the longest path appended ("/tile/entries/..."): 128 */
	if (!ml_http_url_ok(url) || strlen(url) > ML_HTTP_URL_MAX - 128)
		return ml_err_set(e, ML_EINPUT, "--server %.200s: expected an http:// or https:// "
				  "URL of at most %d bytes", url, ML_HTTP_URL_MAX - 128);
	if (!(r = calloc(1, sizeof *r)))
		return ml_err_set(e, ML_EIO, "out of memory");
	if ((rc = ml_http_new(&r->http, e))) {
		free(r);
		return rc;
	}
	snprintf(r->base, sizeof r->base, "%s", url);
	n = strlen(r->base);
	if (n && r->base[n - 1] == '/')
		r->base[n - 1] = '\0';
	if (logkey) {
		r->logkey = *logkey;
		ml_pubkey_format(logkey, r->logline);
		r->pinned = 1;
	}
	*out = r;
	return ML_OK;
}

int
ml_remote_open_policy(const char *url, struct ml_trust *pol, struct ml_remote **out,
		      struct ml_err *e)
{
	int rc = ml_remote_open(url, NULL, out, e);

	if (rc) {
		ml_trust_free(pol);
		return rc;
	}
	(*out)->pol = pol;
	return ML_OK;
}

void
ml_remote_close(struct ml_remote *r)
{
	if (!r)
		return;
	ml_http_free(r->http);
	ml_trust_free(r->pol);
	free(r);
}

/* With a policy and no key yet: the policy's log named by the origin of
 * note (whose signature is checked next, by the caller). */
static int
pin(struct ml_remote *r, const char *note, size_t len, struct ml_err *e)
{
	struct ml_note n;
	struct ml_checkpoint cp;
	size_t i;
	int rc;

	if (r->pinned)
		return ML_OK;
	if ((rc = ml_note_parse(note, len, &n, e)))
		return ml_err_prefix(e, ML_EINTEGRITY, "the server's checkpoint");
	rc = ml_checkpoint_parse(n.text, n.text_len, &cp, e);
	ml_note_clear(&n);
	if (rc)
		return ml_err_prefix(e, ML_EINTEGRITY, "the server's checkpoint");
	for (i = 0; i < ml_trust_nlogs(r->pol); i++) {
		const struct ml_pubkey *k = ml_trust_log(r->pol, i);
		if (strcmp(k->name, cp.origin) == 0) {
			r->logkey = *k;
			ml_pubkey_format(k, r->logline);
			r->pinned = 1;
			return ML_OK;
		}
	}
	return ml_err_set(e, ML_EINTEGRITY, "the server's checkpoint is of %.100s, a log the "
			  "trust policy does not name", cp.origin);
}

/* With a policy: note must satisfy its quorum. */
static int
quorum(struct ml_remote *r, const char *note, size_t len, struct ml_err *e)
{
	struct ml_trust_clock clk = {ml_now_us() / 1000000,
				      ML_CLOCK_TOLERANCE_US / 1000000, 0};
	struct ml_note n;
	char why[200];
	int ok;

	if (!r->pol)
		return ML_OK;
	if (ml_note_parse(note, len, &n, e))
		return ml_err_prefix(e, ML_EINTEGRITY, "the server's checkpoint");
	ok = ml_trust_check_at(r->pol, &n, &clk, NULL, why, sizeof why);
	ml_note_clear(&n);
	return ok ? ML_OK
		  : ml_err_set(e, ML_EINTEGRITY, "the server's checkpoint does not satisfy the "
			       "trust policy: %s", why);
}

const char *
ml_remote_url(const struct ml_remote *r)
{
	return r->base;
}

int
ml_remote_cainfo(struct ml_remote *r, const char *path, struct ml_err *e)
{
	return ml_http_cainfo(r->http, path, e);
}

void
ml_remote_progress(struct ml_remote *r, void (*fn)(void *ctx, uint64_t done, uint64_t total),
		   void *ctx)
{
	r->progress = fn;
	r->progress_ctx = ctx;
}

void
ml_remote_ckpt_free(struct ml_remote_ckpt *c)
{
	if (!c)
		return;
	free(c->note);
	memset(c, 0, sizeof *c);
}

void
ml_remote_added_free(struct ml_remote_added *a)
{
	if (a)
		ml_remote_ckpt_free(&a->ck);
}

/* The server's one-line error body, printable, at most 300 bytes. */
static void
body_line(const struct ml_http_resp *resp, char *out, size_t cap)
{
	size_t i, n = resp->body.len < cap - 1 ? resp->body.len : cap - 1;

	for (i = 0; i < n; i++) {
		unsigned char ch = resp->body.data[i];
		if (ch == '\n' || ch == '\r')
			break;
		out[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	out[i] = '\0';
}

/* GET base + path into *resp; a status other than 200 is ML_EIO naming the
 * URL and the server's line, and *status (may be NULL) tells which (0: none
 * came). */
static int
get200s(struct ml_remote *r, const char *path, size_t max, struct ml_http_resp *resp,
	long *status, struct ml_err *e)
{
	char url[ML_HTTP_URL_MAX + 1], line[300];
	int rc;

	snprintf(url, sizeof url, "%s%s", r->base, path);
	if (status)
		*status = 0;
	if ((rc = ml_http_get(r->http, url, max, resp, e)))
		return rc;
	if (status)
		*status = resp->status;
	if (resp->status != 200) {
		body_line(resp, line, sizeof line);
		rc = ml_err_set(e, ML_EIO, "%s: HTTP %ld%s%s", url, resp->status, *line ? ": " : "",
				line);
		ml_http_resp_free(resp);
		return rc;
	}
	/* NUL-terminate for the text parsers (not counted in len) */
	ml_buf_append(&resp->body, "", 1);
	if (resp->body.oom) {
		ml_http_resp_free(resp);
		return ml_err_set(e, ML_EIO, "out of memory");
	}
	resp->body.len--;
	return ML_OK;
}

static int
get200(struct ml_remote *r, const char *path, size_t max, struct ml_http_resp *resp,
       struct ml_err *e)
{
	return get200s(r, path, max, resp, NULL, e);
}

int
ml_remote_checkpoint(struct ml_remote *r, struct ml_remote_ckpt *out, struct ml_err *e)
{
	struct ml_http_resp resp;
	struct ml_checkpoint cp;
	int rc;

	if (e)
		e->seq = -1;
	if ((rc = get200(r, "/checkpoint", ML_NOTE_MAX, &resp, e)))
		return rc;
	if ((rc = pin(r, (const char *)resp.body.data, resp.body.len, e)) == ML_OK &&
	    (rc = ml_tlog_note_of(&r->logkey, (const char *)resp.body.data, resp.body.len, &cp,
				  e)))
		rc = ml_err_prefix(e, ML_EINTEGRITY, "the server's checkpoint");
	if (rc == ML_OK)
		rc = quorum(r, (const char *)resp.body.data, resp.body.len, e);
	if (rc) {
		ml_http_resp_free(&resp);
		return rc;
	}
	out->note = (char *)resp.body.data; /* NUL-terminated by get200 */
	out->len = resp.body.len;
	out->cp = cp;
	return ML_OK;
}

/* "size N (root B64...)" for messages. */
static void
ckpt_name(const struct ml_checkpoint *c, char *buf, size_t cap)
{
	char *b = ml_b64_encode(c->root, ML_SHA256_LEN);

	snprintf(buf, cap, "size %llu, root %s", (unsigned long long)c->size, b ? b : "?");
	free(b);
}

int
ml_remote_consistent(struct ml_remote *r, const struct ml_checkpoint *old,
		     const struct ml_checkpoint *new, struct ml_err *e)
{
	uint8_t proof[ML_PROOF_MAX][ML_SHA256_LEN];
	struct ml_http_resp resp;
	char path[96], a[80], b[80];
	size_t n = 0;
	long status;
	int rc;

	if (old->size == 0 || old->size >= new->size)
		return ml_tlog_consistent(old, new, (const uint8_t(*)[ML_SHA256_LEN])proof, 0, e);
	snprintf(path, sizeof path, "/consistency?old=%llu&new=%llu",
		 (unsigned long long)old->size, (unsigned long long)new->size);
	if ((rc = get200s(r, path, PROOF_TEXT_MAX, &resp, &status, e))) {
		/* a server that signed both sizes can always prove them */
		if (status == 400 || status == 404)
			e->code = rc = ML_EINTEGRITY;
		if (rc != ML_EINTEGRITY)
			return rc;
	} else {
		rc = ml_tlog_hashes_parse((const char *)resp.body.data, resp.body.len, proof, &n, e);
		ml_http_resp_free(&resp);
		if (rc == ML_OK)
			rc = ml_tlog_consistent(old, new, (const uint8_t(*)[ML_SHA256_LEN])proof, n,
						e);
	}
	if (rc) {
		char why[208];
		snprintf(why, sizeof why, "%.200s", e->msg);
		ckpt_name(old, a, sizeof a);
		ckpt_name(new, b, sizeof b);
		return ml_err_set(e, ML_EINTEGRITY, "the server's consistency proof: %s (older: %s; "
				  "newer: %s)", why, a, b);
	}
	return ML_OK;
}

/* The state held in path: *held set when it exists. */
static int
state_read(struct ml_remote *r, const char *path, int *exists, struct ml_checkpoint *held,
	   struct ml_err *e)
{
	char *text = NULL;
	size_t len;
	int rc;

	if ((rc = ml_state_stat(path, exists, e)) || !*exists)
		return rc;
	if ((rc = ml_read_file(path, ML_NOTE_MAX, &text, &len, e)))
		return rc;
	rc = ml_tlog_note_of(&r->logkey, text, len, held, e);
	free(text);
	if (rc) {
		ml_err_prefix(e, ML_EINTEGRITY, path);
		return ml_err_prefix(e, ML_EINTEGRITY, "--state (one state file per log: was the "
				     "log replaced?)");
	}
	return ML_OK;
}

/* ck against the held checkpoint; *move set when the file should take ck. */
static int
state_step(struct ml_remote *r, const struct ml_checkpoint *held, const struct ml_remote_ckpt *ck,
	   int latest, int *move, struct ml_err *e)
{
	char a[80], b[80];

	*move = 0;
	if (ck->cp.size > held->size) {
		*move = 1;
		return ml_remote_consistent(r, held, &ck->cp, e);
	}
	if (ck->cp.size == held->size) {
		if (memcmp(ck->cp.root, held->root, ML_SHA256_LEN) == 0)
			return ML_OK;
		ckpt_name(held, a, sizeof a);
		ckpt_name(&ck->cp, b, sizeof b);
		return ml_err_set(e, ML_EINTEGRITY, "the log forked: the server shows another "
				  "tree at the size this client holds (held: %s; server: %s)", a, b);
	}
	if (latest) {
		ckpt_name(held, a, sizeof a);
		ckpt_name(&ck->cp, b, sizeof b);
		return ml_err_set(e, ML_EINTEGRITY, "a rollback: the server's latest checkpoint "
				  "is smaller than the one this client holds (held: %s; server: %s)",
				  a, b);
	}
	return ml_remote_consistent(r, &ck->cp, held, e);
}

int
ml_remote_state_update(struct ml_remote *r, const char *path, const struct ml_remote_ckpt *ck,
		       int latest, struct ml_remote_state *out, struct ml_err *e)
{
	struct ml_checkpoint held;
	struct ml_remote_state st = {0, 0, 0};
	int rc, lockfd = -1, exists = 0, move = 1;

	if (e)
		e->seq = -1;

	if ((rc = ml_state_lock(path, 60, &lockfd, e)) ||
	    (rc = state_read(r, path, &exists, &held, e)))
		goto out;
	st.existed = exists;
	if (exists) {
		st.was = held.size;
		if ((rc = state_step(r, &held, ck, latest, &move, e)))
			goto out;
	}
	if (move && (rc = ml_write_file_atomic(path, ck->note, ck->len, 0644, 0, e)) == ML_OK)
		st.moved = 1;
out:
	ml_state_unlock(lockfd);
	if (rc == ML_OK && out)
		*out = st;
	return rc;
}

/* ---- submit ---------------------------------------------------------- */

static void
sleep_s(long s, long extra_ms)
{
	struct timespec ts = {s, extra_ms * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The exit code a refusal of POST /add maps to (docs/SERVER.md). */
static int
status_rc(long status, const char *line)
{
	switch (status) {
	case 400:
	case 405:
	case 413:
		return ML_EINPUT;
	case 403:
		return ML_EKEY;
	case 409:
		return strncmp(line, "conflict: idempotency key", 25) == 0 ? ML_ECONFLICT
									   : ML_EINPUT;
	default:
		return ML_EIO;
	}
}

static int get_tile(struct ml_remote *r, const struct ml_tile *t, size_t max,
		    struct ml_http_resp *resp, struct ml_err *e);

/* True when held (an entry's envelope) repeats ours by its idempotency key:
 * the same keyid and key, the same statement but for predicate.time
 * (retry.h); else false (also when out of memory). */
static bool
same_request(const uint8_t *ours, size_t olen, const uint8_t *held, size_t hlen)
{
	struct ml_envelope a, b;
	struct ml_statement sa, sb;
	const char *ka, *kb;
	bool same = false, eq = false;
	int pa = 0, pb = 0;

	if (ml_envelope_parse(ours, olen, &a, NULL))
		return false;
	if (ml_envelope_parse(held, hlen, &b, NULL)) {
		ml_envelope_clear(&a);
		return false;
	}
	if (strcmp(a.keyid, b.keyid) == 0 &&
	    (pa = ml_statement_parse(a.payload, a.payload_len, &sa, NULL) == ML_OK) &&
	    (pb = ml_statement_parse(b.payload, b.payload_len, &sb, NULL) == ML_OK)) {
		ka = json_string_value(json_object_get(sa.predicate, ML_IDEMPOTENCY_MEMBER));
		kb = json_string_value(json_object_get(sb.predicate, ML_IDEMPOTENCY_MEMBER));
		same = ka && kb && strcmp(ka, kb) == 0 &&
		       ml_retry_same_content(sa.root, sb.root, &eq) == ML_OK && eq;
	}
	if (pa)
		ml_statement_free(&sa);
	if (pb)
		ml_statement_free(&sb);
	ml_envelope_clear(&a);
	ml_envelope_clear(&b);
	return same;
}

/* A retry answered with an earlier entry of other bytes (the same
 * idempotency key and content, another author time): the entry's leaf
 * bytes from its entry bundle must be what the proof includes and must
 * repeat our request.  *held receives them (the entry points into *buf,
 * which the caller frees with ml_http_resp_free). */
static int
held_entry(struct ml_remote *r, const struct ml_tlog_proof *p, const struct ml_http_resp *resp,
	   const uint8_t *env, size_t len, struct ml_entry *held, struct ml_http_resp *buf,
	   struct ml_err *e)
{
	struct ml_bundle_iter it;
	struct ml_tile t;
	const uint8_t *bytes = NULL;
	size_t blen = 0, i;
	uint64_t index;
	int rc;

	if (ml_tile_of(1, 0, p->index, p->checkpoint.size, &t))
		return ml_err_set(e, ML_EINTEGRITY, "entry %llu is not in the proof's tree",
				  (unsigned long long)p->index);
	if ((rc = get_tile(r, &t, BUNDLE_MAX, buf, e)))
		return rc;
	ml_bundle_iter_init(&it, buf->body.data, buf->body.len);
	for (i = 0; i <= p->index % ML_TILE_WIDTH; i++)
		if (ml_bundle_next(&it, &bytes, &blen) != ML_OK || !bytes)
			return ml_err_set(e, ML_EINTEGRITY, "entry bundle of entry %llu: malformed",
					  (unsigned long long)p->index);
	if ((rc = ml_tlog_verify_proof(&r->logkey, (const char *)resp->body.data, resp->body.len,
				       bytes, blen, &index, e)))
		return rc;
	if (ml_leaf_decode(bytes, blen, held) != 0 || held->seq != p->index)
		return ml_err_set(e, ML_EINTEGRITY, "entry %llu: not its leaf bytes",
				  (unsigned long long)p->index);
	if (!same_request(env, len, held->envelope, held->envelope_len))
		return ml_err_set(e, ML_EINTEGRITY, "the server answered with entry %llu, which "
				  "does not repeat this request", (unsigned long long)p->index);
	return ML_OK;
}

/* Checks a 200 answer of POST /add for env and fills *out. */
static int
check_added(struct ml_remote *r, const struct ml_http_resp *resp, const uint8_t *env,
	    size_t len, struct ml_remote_added *out, struct ml_err *e)
{
	struct ml_tlog_proof p;
	struct ml_entry en;
	struct ml_buf leaf = {0};
	struct ml_http_resp hbuf = {0};
	struct ml_checkpoint cp;
	uint64_t index;
	char *note;
	int rc;

	if (ml_tlog_proof_parse((const char *)resp->body.data, resp->body.len, &p, e))
		return ml_err_prefix(e, ML_EINTEGRITY, "the server's proof");
	if (!p.extra || p.extra_len != ML_SHA256_LEN + 8) {
		ml_tlog_proof_clear(&p);
		return ml_err_set(e, ML_EINTEGRITY, "the server's proof: its extra line is not "
				  "prev (32 bytes) and time (8 bytes)");
	}
	memset(&en, 0, sizeof en);
	en.seq = p.index;
	memcpy(en.prev, p.extra, ML_SHA256_LEN);
	en.time_us = (int64_t)ml_get_be64(p.extra + ML_SHA256_LEN);
	en.envelope = env;
	en.envelope_len = len;
	ml_leaf_encode(&en, &leaf);
	rc = leaf.oom ? ml_err_set(e, ML_EIO, "out of memory")
		      : ml_tlog_verify_proof(&r->logkey, (const char *)resp->body.data,
					     resp->body.len, leaf.data, leaf.len, &index, e);
	if (rc == ML_OK && index != p.index)
		rc = ml_err_set(e, ML_EINTEGRITY, "the proof's index changed");
	/* a retry by idempotency key is answered with the earlier entry */
	if (rc == ML_EINTEGRITY && resp->existing)
		rc = held_entry(r, &p, resp, env, len, &en, &hbuf, e);
	if (rc == ML_OK &&
	    (rc = ml_tlog_note_of(&r->logkey, p.note.bytes, p.note.len, &cp, e)) == ML_OK &&
	    !(note = strdup(p.note.bytes)))
		rc = ml_err_set(e, ML_EIO, "out of memory");
	if (rc == ML_OK) {
		out->seq = p.index;
		ml_leaf_hash(&en, out->leaf);
		out->time_us = en.time_us;
		out->existing = resp->existing;
		out->ck.note = note;
		out->ck.len = p.note.len;
		out->ck.cp = cp;
	} else if (rc != ML_EIO) {
		ml_err_prefix(e, ML_EINTEGRITY, "the server's proof");
	}
	ml_buf_free(&leaf);
	ml_http_resp_free(&hbuf);
	ml_tlog_proof_clear(&p);
	return rc;
}

int
ml_remote_submit(struct ml_remote *r, const uint8_t *env, size_t len, unsigned attempts,
		 struct ml_remote_added *out, struct ml_err *e)
{
	struct ml_http_resp resp;
	struct ml_remote_added a;
	char url[ML_HTTP_URL_MAX + 1], line[300];
	unsigned i;
	int rc = ML_EIO;

	if (e)
		e->seq = -1;

	while (len && (env[len - 1] == '\n' || env[len - 1] == '\r'))
		len--;
	if (len == 0 || len > ML_TILE_ENVELOPE_MAX)
		return ml_err_set(e, ML_EINPUT, "an envelope of 1 to %d bytes is needed (a served "
				  "ledger's limit), not %zu", ML_TILE_ENVELOPE_MAX, len);
	if (!r->pinned) { /* a policy: the server's checkpoint names the log */
		struct ml_remote_ckpt ck = {0};
		if ((rc = ml_remote_checkpoint(r, &ck, e)))
			return rc;
		ml_remote_ckpt_free(&ck);
	}
	snprintf(url, sizeof url, "%s/add", r->base);
	memset(&a, 0, sizeof a);
	for (i = 1; i <= (attempts ? attempts : 1); i++) {
		long wait = 0;
		a.attempts = i;
		rc = ml_http_post(r->http, url, env, len, "application/json", ML_TLOG_PROOF_MAX,
				  &resp, e);
		if (rc == ML_EIO) { /* on the wire: the server answers a retry */
			wait = (long)i;
		} else if (rc) {
			return rc;
		} else if (resp.status == 200) {
			rc = check_added(r, &resp, env, len, &a, e);
			ml_http_resp_free(&resp);
			if (rc)
				return rc;
			*out = a;
			return ML_OK;
		} else {
			body_line(&resp, line, sizeof line);
			rc = ml_err_set(e, status_rc(resp.status, line), "%s%s(HTTP %ld from %s)",
					line, *line ? " " : "", resp.status, url);
			wait = resp.status == 503 ? (resp.retry_after >= 0 ? resp.retry_after : 1)
						  : -1;
			ml_http_resp_free(&resp);
			if (wait < 0)
				return rc;
		}
		if (i < attempts)
			sleep_s(wait > RETRY_WAIT_MAX ? RETRY_WAIT_MAX : wait, wait ? 0 : 100);
	}
	return rc;
}

/* ---- mirror ---------------------------------------------------------- */

/* Fetches tile t (hash tile or bundle) of the tree. */
static int
get_tile(struct ml_remote *r, const struct ml_tile *t, size_t max, struct ml_http_resp *resp,
	 struct ml_err *e)
{
	char path[ML_TILE_PATH_MAX + 1];

	path[0] = '/';
	if (ml_tile_format(t, path + 1, sizeof path - 1))
		return ml_err_set(e, ML_EINPUT, "tile beyond the format");
	return get200(r, path, max, resp, e);
}

/* Copies the entries of bundle n (of the tree of size) from seq next on
 * through rep, each checked against the level-0 tile. */
static int
mirror_bundle(struct ml_remote *r, struct ml_replica *rep, uint64_t n, uint64_t size,
	      struct ml_err *e)
{
	struct ml_tile t = {1, 0, n, 0};
	struct ml_http_resp tile = {0}, bundle = {0};
	struct ml_bundle_iter it;
	const uint8_t *bytes;
	uint8_t h[ML_SHA256_LEN], leaf[ML_SHA256_LEN];
	size_t blen, i = 0;
	enum ml_rc next; /* the bundle's last answer */
	int rc;

	t.width = size - n * ML_TILE_WIDTH >= ML_TILE_WIDTH ? ML_TILE_WIDTH
							    : (unsigned)(size - n * ML_TILE_WIDTH);
	if ((rc = get_tile(r, &t, BUNDLE_MAX, &bundle, e)))
		goto out;
	t.entries = 0;
	if ((rc = get_tile(r, &t, (size_t)ML_TILE_WIDTH * ML_SHA256_LEN, &tile, e)))
		goto out;
	if (tile.body.len != (size_t)t.width * ML_SHA256_LEN) {
		rc = ml_err_set(e, ML_EINTEGRITY, "tile 0/%llu: %zu bytes, not %u hashes",
				(unsigned long long)n, tile.body.len, t.width);
		goto out;
	}
	ml_bundle_iter_init(&it, bundle.body.data, bundle.body.len);
	while ((next = ml_bundle_next(&it, &bytes, &blen)) == ML_OK && bytes && i < t.width) {
		uint64_t seq = n * ML_TILE_WIDTH + i;
		struct ml_entry en;
		uint8_t zero = 0;
		struct ml_sha256_ctx *c = ml_sha256_new();
		if (!c) {
			rc = ml_err_set(e, ML_EIO, "out of memory");
			goto out;
		}
		ml_sha256_update(c, &zero, 1);
		ml_sha256_update(c, bytes, blen);
		ml_sha256_final(c, h);
		if (memcmp(h, tile.body.data + i * ML_SHA256_LEN, ML_SHA256_LEN) != 0) {
			rc = ml_err_set(e, ML_EINTEGRITY, "its bytes in the entry bundle do not "
					"hash to the tile's leaf hash");
			e->seq = (long long)seq;
			goto out;
		}
		if (ml_leaf_decode(bytes, blen, &en) != 0 || en.seq != seq) {
			rc = ml_err_set(e, ML_EINTEGRITY, "the entry bundle holds no leaf bytes of "
					"this entry");
			e->seq = (long long)seq;
			goto out;
		}
		if (seq >= ml_replica_next(rep) && (rc = ml_replica_add(rep, &en, leaf, e)))
			goto out;
		i++;
	}
	if (next != ML_OK || i != t.width || bytes) {
		rc = ml_err_set(e, ML_EINTEGRITY, "entry bundle %llu: malformed or not %u entries",
				(unsigned long long)n, t.width);
		goto out;
	}
out:
	ml_http_resp_free(&tile);
	ml_http_resp_free(&bundle);
	return rc;
}

/* Fetches GET /checkpoint/<size> and passes it to the replica, which checks
 * its root against the copied tree: a note of another log, key, size or root
 * is ML_EINTEGRITY.  A 404 stores nothing and is no error: a server before
 * the route, or a decision naming a size the log never signed (any author
 * may record one), must not stop every mirror; verify --decisions then
 * says the note is missing. */
static int
mirror_note(struct ml_remote *r, struct ml_replica *rep, uint64_t size, struct ml_err *e)
{
	struct ml_http_resp resp;
	struct ml_checkpoint cp;
	char path[40];
	long status;
	int rc;

	snprintf(path, sizeof path, "/checkpoint/%llu", (unsigned long long)size);
	if ((rc = get200s(r, path, ML_NOTE_MAX, &resp, &status, e))) {
		if (status != 404)
			return rc;
		ml_err_clear(e);
		return ML_OK;
	}
	if ((rc = ml_tlog_note_of(&r->logkey, (const char *)resp.body.data, resp.body.len, &cp,
				  e)))
		rc = ml_err_prefix(e, ML_EINTEGRITY, path + 1);
	else if (cp.size != size)
		rc = ml_err_set(e, ML_EINTEGRITY, "%s: a checkpoint of size %llu", path + 1,
				(unsigned long long)cp.size);
	else if ((rc = ml_replica_checkpoint(rep, size, (const char *)resp.body.data,
					     resp.body.len, e)))
		rc = ml_err_prefix(e, rc == ML_EIO ? ML_EIO : ML_EINTEGRITY, path + 1);
	ml_http_resp_free(&resp);
	return rc;
}

/* The checkpoints that the gate decisions copied so far name (their replay
 * needs each note, FORMAT.md §5 rule 12), each fetched once. */
static int
mirror_notes(struct ml_remote *r, struct ml_replica *rep, struct ml_err *e)
{
	uint64_t size;
	int rc;

	while ((rc = ml_replica_wanted(rep, &size, e)) == ML_OK && size)
		if ((rc = mirror_note(r, rep, size, e)))
			return rc;
	return rc;
}

/* The replica's own checks before copying: its log, not longer than ck. */
static int
mirror_fits(struct ml_remote *r, struct ml_ledger *l, uint64_t held,
	    const struct ml_remote_ckpt *ck, struct ml_err *e)
{
	if (strcmp(ml_ledger_logkey(l), r->logline) != 0 ||
	    strcmp(ml_ledger_origin(l), ck->cp.origin) != 0)
		return ml_err_set(e, ML_EINPUT, "the mirror is of another log (%s), not %s",
				  ml_ledger_origin(l), ck->cp.origin);
	if (held > ck->cp.size)
		return ml_err_set(e, ML_EINTEGRITY, "a rollback: the mirror holds %llu entries, "
				  "the server's checkpoint %llu", (unsigned long long)held,
				  (unsigned long long)ck->cp.size);
	return ML_OK;
}

int
ml_remote_mirror(struct ml_remote *r, const char *path, const struct ml_remote_ckpt *ck,
		 struct ml_remote_mirrored *out, struct ml_err *e)
{
	struct ml_remote_mirrored m = {0, 0, 0};
	struct ml_ledger *l = NULL;
	struct ml_replica *rep = NULL;
	struct stat sb;
	uint64_t n, size = ck->cp.size;
	int rc;

	if (e)
		e->seq = -1;

	if (lstat(path, &sb) != 0) {
		if (errno != ENOENT)
			return ml_err_set(e, ML_EIO, "%s: %s", path, strerror(errno));
		if ((rc = ml_ledger_create_replica(path, r->logkey.name, r->logline, e)))
			return rc;
		m.created = 1;
	}
	if ((rc = ml_ledger_open(path, 1, &l, e)) || (rc = ml_replica_begin(l, &rep, e)))
		goto out;
	m.before = ml_replica_next(rep);
	if ((rc = mirror_fits(r, l, m.before, ck, e)))
		goto out;
	for (n = m.before / ML_TILE_WIDTH; n * ML_TILE_WIDTH < size; n++) {
		if ((rc = mirror_bundle(r, rep, n, size, e)) || (rc = mirror_notes(r, rep, e)))
			goto out;
		if (r->progress)
			r->progress(r->progress_ctx, ml_replica_next(rep), size);
	}
	m.after = ml_replica_next(rep);
	rc = ml_replica_commit(rep, ck->note, ck->len, e);
	rep = NULL;
out:
	ml_replica_abort(rep);
	ml_ledger_close(l);
	if (rc && m.created)
		ml_store_unlink(path);
	if (rc == ML_OK && out)
		*out = m;
	return rc;
}
