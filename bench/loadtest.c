/* loadtest — pre-signed envelopes and a keep-alive HTTP/1.1 load client for
 * `mlledger serve` (docs/SERVER.md).  Linked with build/libml.a.
 *
 *   loadtest gen KEY.key ORIGIN N OUT [FIRST]
 *       writes N distinct envelopes, one a line, signed by KEY (an
 *       unencrypted key file) for the ledger ORIGIN: alternately a dataset
 *       ds-I@1 and a model m-I@1 (I = FIRST, FIRST+1, ...), each with its own
 *       digest and no reference to another entry, so that any order of
 *       appends is valid.
 *
 *   loadtest post URL LOG.pub ENVELOPES [options]
 *       POSTs envelopes (one a line) to URL/add over --conns keep-alive
 *       connections (raw sockets and poll(2), one request in flight on
 *       each) and checks every 200 answer: a c2sp.org/tlog-proof@v1 whose
 *       extra line is 40 bytes (prev, time), whose index lies in
 *       [--first-index, checkpoint size) and is not acknowledged twice for
 *       two new entries, whose leaf (rebuilt from the envelope sent, FORMAT.md
 *       §4) is included in the checkpoint's tree, and whose checkpoint is
 *       signed by LOG.pub (a note already verified is not verified again).
 *     --conns N        connections (default 16, at most 1024)
 *     --from I         first envelope (line, 0-based) to send (default 0)
 *     --count N        how many (default: all from --from)
 *     --only FILE      send only the envelope numbers FILE lists, one a line
 *                      (at most twice the number of envelopes)
 *     --timeout S      give up after S seconds (default 120)
 *     --acks FILE      log "ack ENVNO INDEX LEAFHEX EXISTING" per 200 answer,
 *                      "refused ENVNO STATUS" per 4xx
 *     --first-index I  smallest index a new entry may get (default 1)
 *     --stop-on-error  a broken connection ends the run: no new requests,
 *                      those in flight are finished (for kill -9 tests)
 *     --pace-ms MS     each connection waits MS between requests
 *     --read-every K   every K-th request is GET /checkpoint (checked)
 *     --sample K       every K-th checked answer (default 100; 0: none) is
 *                      also checked by the library's ml_tlog_verify_proof
 *                      with the leaf bytes built in full
 *     --plant-wrong-leaf  (tests of this client) rebuild each leaf with a
 *                      wrong time: every answer must then fail its check
 *   Prints "key value" lines (acked, rate, p50_ms, ...).  Exit 0 when every
 *   envelope was acknowledged and every answer checked; 1 when an answer
 *   failed a check; 3 when some were not acknowledged (refused, broken
 *   connections, timeout).
 *
 *   loadtest append LEDGER ENVELOPES CHUNK
 *       appends the envelopes to LEDGER in this process with
 *       ml_ledger_append, as `mlledger submit` does (every signature and
 *       rule checked), CHUNK envelopes a transaction (0: all in one, as
 *       `import` does); prints appended, elapsed_s and rate.  Fails (exit
 *       2) when one is refused or already there.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "keys.h"
#include "ledger.h"
#include "merkle.h"
#include "note.h"
#include "note_checkpoint.h"
#include "note_proof.h"
#include "request.h"
#include "statement.h"
#include "tlog.h"
#include "util.h"

#define MAX_CONNS 1024
#define MAX_RESPONSE (256 * 1024)
#define MAX_HEADER (16 * 1024)
#define MAX_ENVELOPES 10000000
#define ENVELOPE_LIMIT 65482 /* docs/SERVER.md: leaf bytes fit a uint16 */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "loadtest: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* The first "\r\n\r\n" in b[0..n), or NULL. */
static const char *
find_blank(const char *b, size_t n)
{
	size_t i;

	for (i = 0; i + 4 <= n; i++)
		if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n')
			return b + i;
	return NULL;
}

/* ---- gen ----------------------------------------------------------------- */

/* One envelope for number i, appended to out with a newline. */
static int
gen_one(const struct ml_seckey *k, const char *origin, unsigned long long i, int64_t now,
	struct ml_buf *out, struct ml_err *e)
{
	struct ml_buf payload = {0}, env = {0};
	char subject[64], seed[80], dg[80], hex[65];
	uint8_t d[ML_SHA256_LEN];
	enum ml_kind kind;
	json_t *req;
	int rc, model = (int)(i & 1);

	snprintf(subject, sizeof subject, "%s-%llu@1", model ? "m" : "ds", i);
	snprintf(seed, sizeof seed, "loadtest %s", subject);
	ml_sha256(seed, strlen(seed), d);
	ml_hex_encode(d, sizeof d, hex);
	snprintf(dg, sizeof dg, "sha256:%s", hex);
	req = json_pack("{s:s, s:s, s:s, s:s}", "kind", model ? "model" : "dataset",
			"subject", subject, "digest", dg, "origin", origin);
	if (!req)
		return ml_err_set(e, ML_EIO, "out of memory");
	rc = ml_request_build(req, NULL, NULL, now, &kind, &payload, e);
	json_decref(req);
	if (rc == ML_OK)
		rc = ml_envelope_sign(k, payload.data, payload.len, &env, e);
	if (rc == ML_OK) {
		ml_buf_append(out, env.data, env.len);
		ml_buf_append(out, "\n", 1);
	}
	ml_buf_free(&payload);
	ml_buf_free(&env);
	return rc;
}

static int
cmd_gen(int argc, char **argv)
{
	struct ml_seckey *k = NULL;
	struct ml_buf out = {0};
	struct ml_err e;
	unsigned long long n, first = 0, i;
	int64_t t = ml_now_us();
	FILE *f;

	if (argc != 6 && argc != 7)
		die("%s", "usage: loadtest gen KEY.key ORIGIN N OUT [FIRST]");
	n = strtoull(argv[4], NULL, 10);
	if (argc == 7)
		first = strtoull(argv[6], NULL, 10);
	if (n == 0 || n > MAX_ENVELOPES)
		die("N must be 1..%s", "10000000");
	ml_err_clear(&e);
	if (ml_seckey_load(argv[2], NULL, NULL, &k, &e))
		die("%s", e.msg);
	if (!(f = fopen(argv[5], "w")))
		die("cannot write %s", argv[5]);
	for (i = first; i < first + n; i++) {
		if (gen_one(k, argv[3], i, t, &out, &e))
			die("%s", e.msg);
		if (out.len > (1u << 20)) {
			fwrite(out.data, 1, out.len, f);
			out.len = 0;
		}
	}
	fwrite(out.data, 1, out.len, f);
	ml_buf_free(&out);
	ml_seckey_free(k);
	if (fclose(f) != 0)
		die("cannot write %s", argv[5]);
	return 0;
}

/* ---- post: the work ------------------------------------------------------- */

struct envs {
	char *mem;          /* the file, owned */
	const char **p;     /* line i's start */
	size_t *len;        /* its length without the newline */
	size_t n;
};

static void
envs_load(const char *path, struct envs *v)
{
	struct ml_err e;
	size_t len, i, cap = 1024;
	char *nl, *s;

	ml_err_clear(&e);
	if (ml_read_file(path, (size_t)4 << 30, &v->mem, &len, &e))
		die("%s", e.msg);
	v->p = malloc(cap * sizeof *v->p);
	v->len = malloc(cap * sizeof *v->len);
	v->n = 0;
	for (s = v->mem; s < v->mem + len; s = nl + 1) {
		if (!(nl = memchr(s, '\n', (size_t)(v->mem + len - s))))
			die("%s: last line has no newline", path);
		if (v->n == cap) {
			cap *= 2;
			v->p = realloc(v->p, cap * sizeof *v->p);
			v->len = realloc(v->len, cap * sizeof *v->len);
		}
		if (!v->p || !v->len || v->n >= MAX_ENVELOPES)
			die("%s: too many lines", path);
		v->p[v->n] = s;
		v->len[v->n] = (size_t)(nl - s);
		v->n++;
	}
	for (i = 0; i < v->n; i++)
		if (v->len[i] == 0)
			die("%s: an empty line", path);
}

/* The work queue: envelope numbers still to send; a failed send is put
 * back (at the end). */
struct queue {
	size_t *item;
	size_t head, tail, cap; /* ring of cap slots */
};

static void
queue_push(struct queue *q, size_t v)
{
	q->item[q->tail % q->cap] = v;
	q->tail++;
}

static int
queue_pop(struct queue *q, size_t *v)
{
	if (q->head == q->tail)
		return 0;
	*v = q->item[q->head % q->cap];
	q->head++;
	return 1;
}

struct stats {
	size_t sent, acked, existing, refused, conn_errors, retries503, reads, read_fail;
	size_t bad, status[6];
	double *lat;
	size_t nlat, caplat;
};

static void
lat_add(struct stats *s, double v)
{
	if (s->nlat == s->caplat) {
		s->caplat = s->caplat ? s->caplat * 2 : 4096;
		if (!(s->lat = realloc(s->lat, s->caplat * sizeof *s->lat)))
			die("%s", "out of memory");
	}
	s->lat[s->nlat++] = v;
}

/* ---- post: checking answers ------------------------------------------------ */

struct checker {
	struct ml_pubkey logkey;
	uint64_t first_index;
	int plant;           /* tests: rebuild every leaf with a wrong time */
	size_t sample;       /* every sample-th answer also through ml_tlog_verify_proof */
	size_t nchecked, sampled;
	char *note;          /* the last checkpoint note verified (malloc) */
	size_t note_len;
	uint8_t *seen;       /* seen[i]: a new entry was acknowledged at index i */
	size_t seen_cap;
	int complaints;
};

static void
complain(struct checker *c, size_t envno, const char *what, const char *detail)
{
	if (c->complaints++ < 10)
		fprintf(stderr, "loadtest: envelope %zu: %s%s%s\n", envno, what,
			detail ? ": " : "", detail ? detail : "");
}

/* 1 when note (len bytes) is a checkpoint signed by the log key; remembers
 * the last one that was, so that a batch's answers cost one verification. */
static int
note_ok(struct checker *c, const struct ml_note *n)
{
	if (c->note && c->note_len == n->len && memcmp(c->note, n->bytes, n->len) == 0)
		return 1;
	if (!ml_note_verify(n, &c->logkey))
		return 0;
	free(c->note);
	if (!(c->note = malloc(n->len)))
		die("%s", "out of memory");
	memcpy(c->note, n->bytes, n->len);
	c->note_len = n->len;
	return 1;
}

/* The library's own offline check (ml_tlog_verify_proof) of a bundle, with
 * the leaf bytes (FORMAT.md §4) built in full: a second, independent path
 * to the same verdict as check_proof's.  0 or -1. */
static int
check_sample(struct checker *c, size_t envno, const struct ml_tlog_proof *p, const char *env,
	     size_t len, const char *body, size_t blen)
{
	uint8_t *leaf = malloc(53 + len);
	uint64_t idx = 0;
	struct ml_err e;
	int rc;

	if (!leaf)
		die("%s", "out of memory");
	leaf[0] = 0x01;
	ml_put_be64(leaf + 1, p->index);
	memcpy(leaf + 9, p->extra, 40);
	leaf[48] ^= (uint8_t)c->plant;
	ml_put_be32(leaf + 49, (uint32_t)len);
	memcpy(leaf + 53, env, len);
	ml_err_clear(&e);
	rc = ml_tlog_verify_proof(&c->logkey, body, blen, leaf, 53 + len, &idx, &e);
	free(leaf);
	c->sampled++;
	if (rc != ML_OK || idx != p->index) {
		complain(c, envno, "ml_tlog_verify_proof refuses the answer", e.msg);
		return -1;
	}
	return 0;
}

/* Checks a 200 answer to envelope env (len bytes); on success sets *index
 * and leaf.  Returns 0 or -1 (counted and said by the caller). */
static int
check_proof(struct checker *c, size_t envno, const char *env, size_t len, const char *body,
	    size_t blen, int existing, uint64_t *index, uint8_t leaf[ML_SHA256_LEN])
{
	struct ml_tlog_proof p;
	crypto_hash_sha256_state h;
	uint8_t head[1 + 1 + 8], tail[8 + 4];
	struct ml_err e;
	int ok = 0;

	ml_err_clear(&e);
	if (ml_tlog_proof_parse(body, blen, &p, &e) != ML_OK) {
		complain(c, envno, "not a tlog-proof", e.msg);
		return -1;
	}
	if (p.extra_len != 40) {
		complain(c, envno, "extra is not prev(32) || time(8)", NULL);
	} else if (strcmp(p.checkpoint.origin, c->logkey.name) != 0) {
		complain(c, envno, "checkpoint of another log", p.checkpoint.origin);
	} else if (p.index < c->first_index || p.index >= p.checkpoint.size) {
		complain(c, envno, "index out of range", NULL);
	} else if (!note_ok(c, &p.note)) {
		complain(c, envno, "checkpoint not signed by the log key", NULL);
	} else {
		/* leaf hash = SHA-256(0x00 || 0x01 || seq || prev || time || len || env) */
		head[0] = 0x00;
		head[1] = 0x01;
		ml_put_be64(head + 2, p.index);
		memcpy(tail, p.extra + 32, 8);
		tail[7] ^= (uint8_t)c->plant;
		ml_put_be32(tail + 8, (uint32_t)len);
		crypto_hash_sha256_init(&h);
		crypto_hash_sha256_update(&h, head, sizeof head);
		crypto_hash_sha256_update(&h, p.extra, 32);
		crypto_hash_sha256_update(&h, tail, sizeof tail);
		crypto_hash_sha256_update(&h, (const uint8_t *)env, len);
		crypto_hash_sha256_final(&h, leaf);
		if (!ml_merkle_verify_inclusion(leaf, p.index, p.checkpoint.size,
						(const uint8_t(*)[ML_SHA256_LEN])p.hashes,
						p.nhashes, p.checkpoint.root))
			complain(c, envno, "the leaf rebuilt from the envelope is not in the tree",
				 NULL);
		else
			ok = 1;
	}
	if (ok && c->sample && c->nchecked++ % c->sample == 0 &&
	    check_sample(c, envno, &p, env, len, body, blen) != 0)
		ok = 0;
	if (ok && !existing) {
		if (p.index >= 1ull << 32) {
			complain(c, envno, "index beyond what this client tracks", NULL);
			ok = 0;
		} else {
			size_t need = (size_t)p.index + 1;
			if (need > c->seen_cap) {
				size_t cap = c->seen_cap ? c->seen_cap : 65536;
				while (cap < need)
					cap *= 2;
				if (!(c->seen = realloc(c->seen, cap)))
					die("%s", "out of memory");
				memset(c->seen + c->seen_cap, 0, cap - c->seen_cap);
				c->seen_cap = cap;
			}
			if (c->seen[p.index]) {
				complain(c, envno, "a second new entry at the same index", NULL);
				ok = 0;
			}
			c->seen[p.index] = 1;
		}
	}
	if (ok)
		*index = p.index;
	ml_tlog_proof_clear(&p);
	return ok ? 0 : -1;
}

/* ---- post: HTTP/1.1 -------------------------------------------------------- */

enum cstate { C_IDLE, C_SEND, C_RECV, C_WAIT };

struct conn {
	int fd;
	enum cstate st;
	size_t envno;       /* the envelope in flight */
	int is_read;        /* the request in flight is GET /checkpoint */
	char hdr[512];
	size_t hdrlen, bodylen, off;
	const char *body;
	char *rbuf;
	size_t rlen;
	double t0, wake;
	size_t nreq;
};

/* A parsed response; body points into the connection's buffer or into
 * dechunked (owned). */
struct resp {
	int status, existing, close, retry_after;
	const char *body;
	size_t blen;
	char *dechunked;
};

static int
hdr_is(const char *line, size_t len, const char *name, const char **val, size_t *vlen)
{
	size_t n = strlen(name);

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return 0;
	*val = line + n + 1;
	*vlen = len - n - 1;
	while (*vlen && (**val == ' ' || **val == '\t')) {
		(*val)++;
		(*vlen)--;
	}
	while (*vlen && ((*val)[*vlen - 1] == ' ' || (*val)[*vlen - 1] == '\t'))
		(*vlen)--;
	return 1;
}

/* Decodes a chunked body from b (n bytes).  1 and *out (malloc'd) when it
 * is complete, 0 when more is needed, -1 when malformed. */
static int
dechunk(const char *b, size_t n, char **out, size_t *outlen)
{
	size_t off = 0, total = 0;
	char *res = NULL;

	for (;;) {
		const char *crlf = memchr(b + off, '\r', n - off);
		unsigned long sz;
		char *end;
		if (!crlf || (size_t)(crlf - b) + 1 >= n) {
			free(res);
			return 0;
		}
		if (crlf[1] != '\n') {
			free(res);
			return -1;
		}
		sz = strtoul(b + off, &end, 16);
		if (end == b + off || sz > MAX_RESPONSE) {
			free(res);
			return -1;
		}
		off = (size_t)(crlf - b) + 2;
		if (sz == 0) {
			if (n - off < 2) {
				free(res);
				return 0;
			}
			*out = res ? res : malloc(1);
			*outlen = total;
			return *out ? 1 : -1;
		}
		if (n - off < sz + 2) {
			free(res);
			return 0;
		}
		if (!(res = realloc(res, total + sz + 1)))
			die("%s", "out of memory");
		memcpy(res + total, b + off, sz);
		total += sz;
		off += sz + 2;
	}
}

/* Parses c->rbuf.  1 when a whole response is there (r filled), 0 when
 * more is needed, -1 when it is malformed.  eof: the peer closed. */
static int
parse_resp(struct conn *c, int eof, struct resp *r)
{
	const char *end, *line, *v;
	size_t hlen, vlen, cl = 0;
	int have_cl = 0, chunked = 0;

	memset(r, 0, sizeof *r);
	if (!(end = find_blank(c->rbuf, c->rlen)))
		return c->rlen > MAX_HEADER || eof ? -1 : 0;
	hlen = (size_t)(end - c->rbuf) + 4;
	if (c->rlen < 12 || memcmp(c->rbuf, "HTTP/1.", 7) != 0)
		return -1;
	r->status = atoi(c->rbuf + 9);
	for (line = (const char *)memchr(c->rbuf, '\n', hlen) + 1; line < end;) {
		const char *nl = memchr(line, '\r', (size_t)(end + 2 - line));
		size_t len = (size_t)(nl - line);
		if (hdr_is(line, len, "content-length", &v, &vlen)) {
			cl = strtoul(v, NULL, 10);
			have_cl = 1;
		} else if (hdr_is(line, len, "transfer-encoding", &v, &vlen)) {
			chunked = vlen >= 7 && strncasecmp(v + vlen - 7, "chunked", 7) == 0;
		} else if (hdr_is(line, len, "connection", &v, &vlen)) {
			r->close = vlen == 5 && strncasecmp(v, "close", 5) == 0;
		} else if (hdr_is(line, len, "mlledger-existing", &v, &vlen)) {
			r->existing = vlen == 1 && *v == '1';
		} else if (hdr_is(line, len, "retry-after", &v, &vlen)) {
			r->retry_after = atoi(v);
		}
		line = nl + 2;
	}
	if (chunked) {
		int rc = dechunk(c->rbuf + hlen, c->rlen - hlen, &r->dechunked, &r->blen);
		if (rc == 1)
			r->body = r->dechunked;
		return rc == 0 && eof ? -1 : rc;
	}
	if (have_cl) {
		if (cl > MAX_RESPONSE)
			return -1;
		if (c->rlen - hlen < cl)
			return eof ? -1 : 0;
		r->body = c->rbuf + hlen;
		r->blen = cl;
		return 1;
	}
	if (!eof)
		return 0;
	r->close = 1;
	r->body = c->rbuf + hlen;
	r->blen = c->rlen - hlen;
	return 1;
}

struct client {
	struct sockaddr_in addr;
	char host[64], prefix[256];
	struct envs envs;
	struct queue q;
	struct conn *conns;
	int nconns, stop_on_error, stopped, read_every, pace_ms;
	size_t pending;      /* envelopes neither acknowledged nor refused */
	size_t nreq;
	struct checker chk;
	struct stats st;
	FILE *acks;
};

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->rlen = 0;
}

static int
conn_open(struct client *cl, struct conn *c)
{
	int one = 1;

	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(c->fd, (struct sockaddr *)&cl->addr, sizeof cl->addr) != 0) {
		conn_close(c);
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

/* A broken connection: the envelope in flight goes back in the queue. */
static void
conn_broken(struct client *cl, struct conn *c)
{
	cl->st.conn_errors++;
	if (c->st == C_SEND || c->st == C_RECV) {
		if (!c->is_read)
			queue_push(&cl->q, c->envno);
	}
	conn_close(c);
	c->st = C_WAIT;
	c->wake = now_s() + 0.05;
	if (cl->stop_on_error)
		cl->stopped = 1;
}

/* Starts the next request on c, if there is work.  Returns 1 when one was
 * started. */
static int
conn_start(struct client *cl, struct conn *c)
{
	size_t envno = 0;
	int rd;

	if (cl->stopped)
		return 0;
	rd = cl->read_every > 0 && (cl->nreq + 1) % (size_t)cl->read_every == 0;
	if (!rd && !queue_pop(&cl->q, &envno))
		return 0;
	if (c->fd < 0 && conn_open(cl, c) != 0) {
		if (!rd)
			queue_push(&cl->q, envno);
		cl->st.conn_errors++;
		c->st = C_WAIT;
		c->wake = now_s() + 0.05;
		if (cl->stop_on_error)
			cl->stopped = 1;
		return 0;
	}
	cl->nreq++;
	c->is_read = rd;
	c->envno = envno;
	if (rd) {
		c->hdrlen = (size_t)snprintf(c->hdr, sizeof c->hdr,
					     "GET %s/checkpoint HTTP/1.1\r\nHost: %s\r\n\r\n",
					     cl->prefix, cl->host);
		c->body = NULL;
		c->bodylen = 0;
	} else {
		c->body = cl->envs.p[envno];
		c->bodylen = cl->envs.len[envno];
		c->hdrlen = (size_t)snprintf(c->hdr, sizeof c->hdr,
					     "POST %s/add HTTP/1.1\r\nHost: %s\r\nContent-Type: "
					     "application/octet-stream\r\nContent-Length: %zu\r\n\r\n",
					     cl->prefix, cl->host, c->bodylen);
		cl->st.sent++;
	}
	c->off = 0;
	c->rlen = 0;
	c->st = C_SEND;
	c->t0 = now_s();
	return 1;
}

static void
conn_send(struct client *cl, struct conn *c)
{
	struct iovec iov[2];
	int n = 0;
	ssize_t w;

	if (c->off < c->hdrlen) {
		iov[n].iov_base = c->hdr + c->off;
		iov[n++].iov_len = c->hdrlen - c->off;
		iov[n].iov_base = (void *)(uintptr_t)c->body;
		iov[n++].iov_len = c->bodylen;
	} else {
		iov[n].iov_base = (void *)(uintptr_t)(c->body + (c->off - c->hdrlen));
		iov[n++].iov_len = c->bodylen - (c->off - c->hdrlen);
	}
	w = writev(c->fd, iov, n);
	if (w < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_broken(cl, c);
		return;
	}
	c->off += (size_t)w;
	if (c->off == c->hdrlen + c->bodylen)
		c->st = C_RECV;
}

/* A whole response to c's request.  Returns how long (seconds) the
 * connection waits before its next request. */
static double
conn_answer(struct client *cl, struct conn *c, const struct resp *r)
{
	double t = now_s();
	uint8_t leaf[ML_SHA256_LEN];
	uint64_t index;
	char hex[65];

	if (c->is_read) {
		struct ml_checkpoint cp;
		struct ml_err e;
		cl->st.reads++;
		if (r->status != 200 ||
		    ml_tlog_note_of(&cl->chk.logkey, r->body, r->blen, &cp, &e) != ML_OK) {
			cl->st.read_fail++;
			complain(&cl->chk, 0, "GET /checkpoint failed", NULL);
		}
		return cl->pace_ms / 1000.0;
	}
	if (r->status == 503) {
		/* Retry-After, at most 1 s (the contract says 1) */
		cl->st.retries503++;
		queue_push(&cl->q, c->envno);
		return r->retry_after > 0 && r->retry_after <= 1 ? r->retry_after : 1;
	}
	lat_add(&cl->st, t - c->t0);
	cl->st.status[r->status / 100 <= 5 ? r->status / 100 : 0]++;
	if (r->status != 200) {
		cl->st.refused++;
		cl->pending--;
		if (cl->acks)
			fprintf(cl->acks, "refused %zu %d %.*s", c->envno, r->status,
				(int)(r->blen < 200 ? r->blen : 200), r->body);
		if (cl->acks && (r->blen == 0 || r->body[r->blen - 1] != '\n'))
			fputc('\n', cl->acks);
		return cl->pace_ms / 1000.0;
	}
	if (check_proof(&cl->chk, c->envno, cl->envs.p[c->envno], cl->envs.len[c->envno],
			r->body, r->blen, r->existing, &index, leaf) != 0) {
		cl->st.bad++;
		cl->pending--;
		return cl->pace_ms / 1000.0;
	}
	cl->st.acked++;
	cl->st.existing += r->existing != 0;
	cl->pending--;
	if (cl->acks) {
		ml_hex_encode(leaf, sizeof leaf, hex);
		fprintf(cl->acks, "ack %zu %llu %s %d\n", c->envno, (unsigned long long)index,
			hex, r->existing);
	}
	return cl->pace_ms / 1000.0;
}

static void
conn_recv(struct client *cl, struct conn *c)
{
	struct resp r;
	ssize_t got;
	double wait;
	int eof = 0, rc;

	if (c->rlen == MAX_RESPONSE) {
		complain(&cl->chk, c->envno, "response too large", NULL);
		cl->st.bad++;
		conn_broken(cl, c);
		return;
	}
	got = read(c->fd, c->rbuf + c->rlen, MAX_RESPONSE - c->rlen);
	if (got < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_broken(cl, c);
		return;
	}
	if (got == 0)
		eof = 1;
	c->rlen += (size_t)got;
	if ((rc = parse_resp(c, eof, &r)) == 0)
		return;
	if (rc < 0) {
		if (c->rlen > 0 && !eof)
			complain(&cl->chk, c->envno, "malformed HTTP response", NULL);
		conn_broken(cl, c);
		return;
	}
	wait = conn_answer(cl, c, &r);
	free(r.dechunked);
	c->st = wait > 0 ? C_WAIT : C_IDLE;
	c->wake = now_s() + wait;
	c->rlen = 0;
	if (r.close || eof)
		conn_close(c);
}

static void
parse_url(struct client *cl, const char *url)
{
	const char *h = url + 7, *colon, *slash;
	char ip[64];
	size_t n;

	if (strncmp(url, "http://", 7) != 0)
		die("%s: only http://IPV4:PORT[/prefix] URLs", url);
	slash = strchr(h, '/');
	n = slash ? (size_t)(slash - h) : strlen(h);
	if (n >= sizeof cl->host || !(colon = memchr(h, ':', n)))
		die("%s: no port", url);
	memcpy(cl->host, h, n);
	cl->host[n] = 0;
	snprintf(ip, sizeof ip, "%.*s", (int)(colon - h), h);
	snprintf(cl->prefix, sizeof cl->prefix, "%s", slash ? slash : "");
	n = strlen(cl->prefix);
	while (n && (cl->prefix[n - 1] == '/' || cl->prefix[n - 1] == '\n'))
		cl->prefix[--n] = 0;
	memset(&cl->addr, 0, sizeof cl->addr);
	cl->addr.sin_family = AF_INET;
	cl->addr.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, ip, &cl->addr.sin_addr) != 1)
		die("%s: not an IPv4 address", url);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

/* Queues the envelope numbers the file lists (one a line). */
static void
queue_only(struct client *cl, const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned long long v;

	if (!f)
		die("cannot read %s", path);
	while (fscanf(f, "%llu", &v) == 1) {
		if (v >= cl->envs.n)
			die("%s: an envelope number beyond the file", path);
		if (cl->q.tail - cl->q.head == cl->q.cap)
			die("%s: too many numbers", path);
		queue_push(&cl->q, (size_t)v);
		cl->pending++;
	}
	fclose(f);
}

static void
report(struct client *cl, double elapsed)
{
	struct stats *s = &cl->st;
	struct rusage ru;

	if (s->nlat) /* qsort must not be given NULL, even for 0 items */
		qsort(s->lat, s->nlat, sizeof *s->lat, cmp_double);
	printf("conns %d\nsent %zu\nacked %zu\nexisting %zu\nrefused %zu\n", cl->nconns,
	       s->sent, s->acked, s->existing, s->refused);
	printf("status_4xx %zu\nstatus_5xx %zu\nretries_503 %zu\n", s->status[4], s->status[5],
	       s->retries503);
	printf("conn_errors %zu\nunacked %zu\nbad_answers %zu\nreads %zu\nread_fail %zu\n",
	       s->conn_errors, cl->pending, s->bad, s->reads, s->read_fail);
	printf("sampled %zu\n", cl->chk.sampled);
	getrusage(RUSAGE_SELF, &ru);
	printf("elapsed_s %.3f\nrate %.1f\n", elapsed, elapsed > 0 ? s->acked / elapsed : 0.0);
	printf("client_cpu_s %.2f\n", (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	printf("p50_ms %.2f\np99_ms %.2f\nmax_ms %.2f\n", 1000 * pct(s->lat, s->nlat, 0.50),
	       1000 * pct(s->lat, s->nlat, 0.99), s->nlat ? 1000 * s->lat[s->nlat - 1] : 0.0);
}

/* One pass of the event loop: start work, poll, move the connections. */
static void
loop_once(struct client *cl, struct pollfd *pfd)
{
	double t = now_s();
	int i, n, busy = 0, timeout = 50;

	for (i = 0; i < cl->nconns; i++) {
		struct conn *c = &cl->conns[i];
		if (c->st == C_WAIT && t >= c->wake)
			c->st = C_IDLE;
		if (c->st == C_IDLE)
			conn_start(cl, c);
		if (c->st == C_WAIT && (int)((c->wake - t) * 1000) + 1 < timeout)
			timeout = (int)((c->wake - t) * 1000) + 1;
		pfd[i].fd = (c->st == C_SEND || c->st == C_RECV) ? c->fd : -1;
		pfd[i].events = c->st == C_SEND ? POLLOUT : POLLIN;
		pfd[i].revents = 0;
		busy += pfd[i].fd >= 0;
	}
	if (!busy && cl->stopped)
		return;
	n = poll(pfd, (nfds_t)cl->nconns, timeout < 0 ? 0 : timeout);
	for (i = 0; n > 0 && i < cl->nconns; i++) {
		struct conn *c = &cl->conns[i];
		if (pfd[i].fd < 0 || !pfd[i].revents)
			continue;
		if (c->st == C_SEND)
			conn_send(cl, c);
		else if (c->st == C_RECV)
			conn_recv(cl, c);
	}
}

static int
in_flight(const struct client *cl)
{
	int i;

	for (i = 0; i < cl->nconns; i++)
		if (cl->conns[i].st == C_SEND || cl->conns[i].st == C_RECV)
			return 1;
	return 0;
}

static int
cmd_post(int argc, char **argv)
{
	static struct client cl;
	struct pollfd *pfd;
	struct ml_err e;
	double timeout = 120, t0, t;
	size_t from = 0, count = (size_t)-1, i;
	const char *only = NULL;
	int a;

	if (argc < 5)
		die("%s", "usage: loadtest post URL LOG.pub ENVELOPES [options] (see the source)");
	cl.nconns = 16;
	cl.chk.first_index = 1;
	cl.chk.sample = 100;
	for (a = 5; a < argc; a++) {
		const char *o = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;
		if (!strcmp(o, "--stop-on-error")) {
			cl.stop_on_error = 1;
			continue;
		}
		if (!strcmp(o, "--plant-wrong-leaf")) {
			cl.chk.plant = 1;
			continue;
		}
		if (!v)
			die("%s needs a value", o);
		a++;
		if (!strcmp(o, "--conns"))
			cl.nconns = atoi(v);
		else if (!strcmp(o, "--from"))
			from = strtoull(v, NULL, 10);
		else if (!strcmp(o, "--count"))
			count = strtoull(v, NULL, 10);
		else if (!strcmp(o, "--only"))
			only = v;
		else if (!strcmp(o, "--timeout"))
			timeout = atof(v);
		else if (!strcmp(o, "--first-index"))
			cl.chk.first_index = strtoull(v, NULL, 10);
		else if (!strcmp(o, "--pace-ms"))
			cl.pace_ms = atoi(v);
		else if (!strcmp(o, "--read-every"))
			cl.read_every = atoi(v);
		else if (!strcmp(o, "--sample"))
			cl.chk.sample = strtoull(v, NULL, 10);
		else if (!strcmp(o, "--acks")) {
			if (!(cl.acks = fopen(v, "a")))
				die("cannot write %s", v);
		} else
			die("unknown option %s", o);
	}
	if (cl.nconns < 1 || cl.nconns > MAX_CONNS || timeout <= 0 || timeout > 3600)
		die("%s", "--conns 1..1024, --timeout 0..3600");
	parse_url(&cl, argv[2]);
	ml_err_clear(&e);
	if (ml_pubkey_load(argv[3], &cl.chk.logkey, &e))
		die("%s", e.msg);
	envs_load(argv[4], &cl.envs);
	for (i = 0; i < cl.envs.n; i++)
		if (cl.envs.len[i] > ENVELOPE_LIMIT)
			die("%s: an envelope beyond the server's limit", argv[4]);
	cl.q.cap = 2 * cl.envs.n + 1; /* --only may list each envelope twice */
	cl.q.item = malloc(cl.q.cap * sizeof *cl.q.item);
	cl.conns = calloc((size_t)cl.nconns, sizeof *cl.conns);
	pfd = calloc((size_t)cl.nconns, sizeof *pfd);
	if (!cl.q.item || !cl.conns || !pfd)
		die("%s", "out of memory");
	if (only) {
		queue_only(&cl, only);
	} else {
		for (i = from; i < cl.envs.n && i - from < count; i++)
			queue_push(&cl.q, i);
		cl.pending = cl.q.tail;
	}
	for (a = 0; a < cl.nconns; a++) {
		cl.conns[a].fd = -1;
		if (!(cl.conns[a].rbuf = malloc(MAX_RESPONSE)))
			die("%s", "out of memory");
	}
	t0 = now_s();
	while (cl.pending > 0 && (t = now_s()) - t0 < timeout) {
		if (cl.stopped && !in_flight(&cl))
			break;
		loop_once(&cl, pfd);
	}
	t = now_s() - t0;
	report(&cl, t);
	for (a = 0; a < cl.nconns; a++) {
		conn_close(&cl.conns[a]);
		free(cl.conns[a].rbuf);
	}
	if (cl.acks && fclose(cl.acks) != 0)
		die("%s", "cannot write the acks file");
	free(cl.conns);
	free(pfd);
	free(cl.q.item);
	free(cl.st.lat);
	free(cl.chk.note);
	free(cl.chk.seen);
	free(cl.envs.mem);
	free(cl.envs.p);
	free(cl.envs.len);
	if (cl.st.bad || cl.st.read_fail)
		return 1;
	return cl.pending || cl.st.refused ? 3 : 0;
}

/* ---- append: the same envelopes in one process ------------------------------ */

static int
cmd_append(int argc, char **argv)
{
	struct ml_ledger *l = NULL;
	struct ml_append_item *items;
	struct ml_appended *out;
	struct envs v;
	struct ml_err e;
	size_t chunk, i, j, n;
	double t0, t;

	if (argc != 5)
		die("%s", "usage: loadtest append LEDGER ENVELOPES CHUNK");
	chunk = strtoull(argv[4], NULL, 10);
	envs_load(argv[3], &v);
	if (chunk == 0 || chunk > v.n)
		chunk = v.n;
	items = calloc(chunk, sizeof *items);
	out = calloc(chunk, sizeof *out);
	if (!items || !out)
		die("%s", "out of memory");
	ml_err_clear(&e);
	t0 = now_s();
	if (ml_ledger_open(argv[2], 1, &l, &e))
		die("%s", e.msg);
	for (i = 0; i < v.n; i += n) {
		n = v.n - i < chunk ? v.n - i : chunk;
		for (j = 0; j < n; j++) {
			items[j].envelope = (const uint8_t *)v.p[i + j];
			items[j].len = v.len[i + j];
		}
		if (ml_ledger_append(l, items, n, out, &e))
			die("append: %s", e.msg);
		for (j = 0; j < n; j++)
			if (out[j].existing)
				die("envelope %zu was already in the ledger", i + j);
	}
	ml_ledger_close(l);
	t = now_s() - t0;
	printf("appended %zu\nchunk %zu\nelapsed_s %.3f\nrate %.1f\n", v.n, chunk, t,
	       t > 0 ? (double)v.n / t : 0.0);
	free(items);
	free(out);
	free(v.mem);
	free(v.p);
	free(v.len);
	return 0;
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0)
		die("%s", "libsodium failed to start");
	if (argc >= 2 && !strcmp(argv[1], "gen"))
		return cmd_gen(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "post"))
		return cmd_post(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "append"))
		return cmd_append(argc, argv);
	die("%s", "usage: loadtest gen KEY.key ORIGIN N OUT [FIRST] | "
	    "loadtest post URL LOG.pub ENVELOPES [options] | "
	    "loadtest append LEDGER ENVELOPES CHUNK");
	return 2;
}
