/* serve — see serve.h and docs/SERVER.md. */
#include "serve.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "gate.h"
#include "ledger.h"
#include "merkle.h"
#include "migrate.h"
#include "pgstore.h"
#include "pgsync.h"
#include "sequencer.h"
#include "statement.h"
#include "store.h"
#include "tiles.h"
#include "tlog.h"

#define READERS_MAX 66

/* ---- metrics ----------------------------------------------------------- */

static const unsigned batch_buckets[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
#define NBATCH (sizeof batch_buckets / sizeof batch_buckets[0])
static const double ack_buckets[] = {0.001, 0.002, 0.005, 0.01, 0.025, 0.05,
				     0.1, 0.25, 0.5, 1, 2.5, 10};
#define NACK (sizeof ack_buckets / sizeof ack_buckets[0])

/* Why an append was refused, as /metrics labels it. */
enum reason { R_MALFORMED, R_KEY, R_RULE, R_CONFLICT, R_TOO_LARGE, R_BUSY, R_SHUTDOWN,
	      R_STORAGE, R_UNAVAILABLE, R_READ_ONLY, R_COUNT };
static const char *const reason_name[R_COUNT] = {
	"malformed", "key", "rule", "conflict", "too_large", "busy", "shutting_down", "storage",
	"store_unavailable", "read_only",
};
static const int reason_status[R_COUNT] = {400, 403, 409, 409, 413, 503, 503, 500, 503, 503};

/* POST /add-checkpoint answers (witness.h), by status. */
static const int witness_status[] = {200, 400, 403, 404, 409, 413, 422, 500};
#define NWITNESS (sizeof witness_status / sizeof witness_status[0])

struct metrics {
	pthread_mutex_t mu;
	uint64_t witness[NWITNESS], witness_forks;
	uint64_t appends, existing, refusals[R_COUNT];
	uint64_t batches[NBATCH + 1], batch_count, batch_sum;
	uint64_t acks[NACK + 1], ack_count;
	double ack_sum;
};

/* ---- the server ---------------------------------------------------------- */

struct ml_server {
	struct ml_serve_opts o;
	struct MHD_Daemon *d;
	struct ml_ledger *writer;
	struct ml_seq *seq;
	char url[128];
	atomic_int stopping;
	/* read-only ledger handles, one per request at a time */
	pthread_mutex_t rmu;
	pthread_cond_t rfree;
	struct ml_ledger *readers[READERS_MAX];
	int nreaders, navail;
	/* the latest checkpoint, as the committer left it */
	pthread_mutex_t cmu;
	uint64_t size;
	char *note;
	size_t note_len;
	/* POST /add requests queued and not yet completed */
	pthread_mutex_t imu;
	pthread_cond_t idone;
	long inflight;
	struct metrics m;
	/* open connections and their deadlines (the sweeper's) */
	pthread_mutex_t tmu;
	pthread_cond_t tcv;        /* the sweeper's tick, or sweeper_stop */
	struct conn *conns;
	int sweeper_stop, sweeper_started;
	pthread_t sweeper;
	/* with a store of record: the committer's connection and hooks, and
	 * the follower's (its own thread, connection and ledger handle) */
	struct ml_pg *pg, *fpg;
	struct ml_pgsync *sync;
	struct ml_ledger *fl;
	pthread_t follower;
	int follower_started;
	atomic_int follower_stop;
};

/* One open connection, from libmicrohttpd's STARTED notification to its
 * CLOSED one (the fd stays this connection's until then: MHD closes it
 * after CLOSED).  deadline_us (monotonic): by when the client must have
 * sent its next request line (idle) or its request's head and body; 0
 * while the server works on or answers a request; -1 once cut. */
struct conn {
	struct conn *prev, *next; /* in srv->conns, under srv->tmu */
	int fd;
	_Atomic int64_t deadline_us;
};

struct req;
typedef enum MHD_Result (*route_fn)(struct req *r);

/* One route: exact path, or (prefix) every path starting with it. */
struct route {
	const char *method;
	const char *path;
	int prefix;
	size_t body_max;   /* 0: no body accepted */
	route_fn fn;
};

enum state { S_NEW, S_BODY, S_QUEUED, S_ANSWERED };

/* One request: made by the URI log callback, freed when MHD completes it. */
struct req {
	struct ml_server *srv;
	struct MHD_Connection *conn;
	const struct route *route;
	const char *url;
	int uri_too_long, uri_escaped, queued;
	enum state state;
	int64_t start_us;
	struct ml_buf body;
	/* POST /add */
	struct ml_seq_item item;
	struct ml_envelope env;
	struct ml_statement st;
	int have_env, have_st;
	int status;
	enum reason reason;
};

/* ---- connection deadlines: the sweeper ------------------------------------ */

/* libmicrohttpd's own timeout (MHD_OPTION_CONNECTION_TIMEOUT) restarts at
 * every byte, so a client sending a byte a second would hold a connection
 * for ever.  Each connection has a deadline instead (struct conn), set
 * from the MHD threads at each step of a request, and a sweeper thread
 * shuts down (SHUT_RDWR: MHD then sees the end and closes it) every
 * connection past its deadline. */
#define SWEEP_MS 250

static struct conn *
conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* The connection must move on within seconds from now (0: no deadline).
 * Called on the connection's MHD thread; the conn outlives the call. */
static void
conn_deadline(struct MHD_Connection *conn, unsigned seconds)
{
	struct conn *c = conn_of(conn);

	if (c)
		atomic_store(&c->deadline_us,
			     seconds ? ml_mono_us() + (int64_t)seconds * 1000000 : 0);
}

/* MHD_OPTION_NOTIFY_CONNECTION: tracks each connection from its accept
 * (idle: its first request line within ML_SERVE_IDLE_SECONDS) to its close.
 * Out of memory: the connection is not tracked (MHD's timeout only). */
static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
	      enum MHD_ConnectionNotificationCode toe)
{
	struct ml_server *s = cls;
	struct conn *c = *socket_context;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!ci || !(c = calloc(1, sizeof *c)))
			return;
		c->fd = ci->connect_fd;
		atomic_store(&c->deadline_us,
			     ml_mono_us() + (int64_t)ML_SERVE_IDLE_SECONDS * 1000000);
		pthread_mutex_lock(&s->tmu);
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		pthread_mutex_unlock(&s->tmu);
		*socket_context = c;
		return;
	}
	if (!c)
		return;
	/* under tmu: the sweeper never shuts down an fd MHD may have closed
	 * (and the kernel given to another connection) */
	pthread_mutex_lock(&s->tmu);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&s->tmu);
	free(c);
	*socket_context = NULL;
}

/* Shuts down every connection past its deadline.  Holds tmu. */
static void
sweep(struct ml_server *s, int64_t now)
{
	struct conn *c;

	for (c = s->conns; c; c = c->next) {
		int64_t d = atomic_load(&c->deadline_us);

		/* the exchange fails when the request moved on meanwhile */
		if (d > 0 && now >= d && atomic_compare_exchange_strong(&c->deadline_us, &d, -1))
			shutdown(c->fd, SHUT_RDWR);
	}
}

static void *
sweeper(void *arg)
{
	struct ml_server *s = arg;
	struct timespec dl;

	pthread_mutex_lock(&s->tmu);
	while (!s->sweeper_stop) {
		sweep(s, ml_mono_us());
		clock_gettime(CLOCK_MONOTONIC, &dl);
		dl.tv_nsec += SWEEP_MS * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->tcv, &s->tmu, &dl);
	}
	pthread_mutex_unlock(&s->tmu);
	return NULL;
}

/* The sweeper's lock and tick (monotonic clock). */
static void
sweeper_init(struct ml_server *s)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&s->tmu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->tcv, &ca);
	pthread_condattr_destroy(&ca);
}

static int
sweeper_start(struct ml_server *s, struct ml_err *e)
{
	if (pthread_create(&s->sweeper, NULL, sweeper, s) != 0)
		return ml_err_set(e, ML_EIO, "cannot start the connection sweeper");
	s->sweeper_started = 1;
	return ML_OK;
}

/* Stops the sweeper (after MHD_stop_daemon: no connection is left). */
static void
sweeper_stop(struct ml_server *s)
{
	struct conn *c;

	if (s->sweeper_started) {
		pthread_mutex_lock(&s->tmu);
		s->sweeper_stop = 1;
		pthread_cond_signal(&s->tcv);
		pthread_mutex_unlock(&s->tmu);
		pthread_join(s->sweeper, NULL);
		s->sweeper_started = 0;
	}
	while ((c = s->conns)) {
		s->conns = c->next;
		free(c);
	}
}

/* ---- responses ------------------------------------------------------------ */

static enum MHD_Result
reply(struct req *r, unsigned status, const char *ctype, const void *data, size_t len,
      const char *cache)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)data,
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (cache)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, cache);
	if (status == 503)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* A one-line error body (the text the CLI prints after "mlledger: CMD: "). */
static enum MHD_Result
reply_error(struct req *r, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum MHD_Result
reply_error(struct req *r, unsigned status, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	size_t n;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	n = w < 0 ? 0 : (size_t)w >= sizeof line - 1 ? sizeof line - 2 : (size_t)w;
	/* one line: no newline inside */
	for (size_t i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	return reply(r, status, "text/plain; charset=utf-8", line, n, "no-store");
}

static enum MHD_Result
not_found(struct req *r)
{
	return reply_error(r, 404, "not found");
}

/* ---- read handles ----------------------------------------------------- */

static struct ml_ledger *
reader_get(struct ml_server *s)
{
	struct ml_ledger *l;

	pthread_mutex_lock(&s->rmu);
	while (s->navail == 0)
		pthread_cond_wait(&s->rfree, &s->rmu);
	l = s->readers[--s->navail];
	pthread_mutex_unlock(&s->rmu);
	return l;
}

static void
reader_put(struct ml_server *s, struct ml_ledger *l)
{
	pthread_mutex_lock(&s->rmu);
	s->readers[s->navail++] = l;
	pthread_cond_signal(&s->rfree);
	pthread_mutex_unlock(&s->rmu);
}

/* The latest checkpoint's size (0 before the first). */
static uint64_t
latest_size(struct ml_server *s)
{
	uint64_t n;

	pthread_mutex_lock(&s->cmu);
	n = s->size;
	pthread_mutex_unlock(&s->cmu);
	return n;
}

/* Keeps a copy of the latest checkpoint (from the committer). */
static void
latest_set(struct ml_server *s, uint64_t size, const char *note, size_t len)
{
	char *copy = malloc(len + 1);

	if (!copy)
		return; /* the older one stays: still a valid checkpoint */
	memcpy(copy, note, len);
	copy[len] = '\0';
	pthread_mutex_lock(&s->cmu);
	if (size >= s->size) {
		free(s->note);
		s->note = copy;
		s->note_len = len;
		s->size = size;
		copy = NULL;
	}
	pthread_mutex_unlock(&s->cmu);
	free(copy);
}

/* ---- metrics ------------------------------------------------------------ */

static void
metrics_refusal(struct ml_server *s, enum reason why)
{
	pthread_mutex_lock(&s->m.mu);
	s->m.refusals[why]++;
	pthread_mutex_unlock(&s->m.mu);
}

static void
metrics_ack(struct ml_server *s, int existing, int64_t us)
{
	double secs = (double)us / 1e6;
	size_t i;

	pthread_mutex_lock(&s->m.mu);
	if (existing)
		s->m.existing++;
	else
		s->m.appends++;
	for (i = 0; i < NACK && secs > ack_buckets[i]; i++)
		;
	s->m.acks[i]++;
	s->m.ack_count++;
	s->m.ack_sum += secs;
	pthread_mutex_unlock(&s->m.mu);
}

/* The committer's hook after each batch. */
static void
on_committed(void *ctx, uint64_t size, const char *note, size_t len, size_t items)
{
	struct ml_server *s = ctx;
	size_t i;

	latest_set(s, size, note, len);
	pthread_mutex_lock(&s->m.mu);
	for (i = 0; i < NBATCH && items > batch_buckets[i]; i++)
		;
	s->m.batches[i]++;
	s->m.batch_count++;
	s->m.batch_sum += items;
	pthread_mutex_unlock(&s->m.mu);
}

static enum MHD_Result
h_metrics(struct req *r)
{
	struct ml_server *s = r->srv;
	struct metrics m;
	struct ml_buf b = {0};
	uint64_t cum = 0;
	size_t i;
	enum MHD_Result ret;

	pthread_mutex_lock(&s->m.mu);
	m = s->m;
	pthread_mutex_unlock(&s->m.mu);
	ml_buf_puts(&b, "# HELP mlledger_appends_total Entries appended through POST /add.\n"
			"# TYPE mlledger_appends_total counter\n");
	ml_buf_printf(&b, "mlledger_appends_total %llu\n", (unsigned long long)m.appends);
	ml_buf_puts(&b, "# HELP mlledger_existing_total POST /add answered with an entry "
			"already held (retries).\n# TYPE mlledger_existing_total counter\n");
	ml_buf_printf(&b, "mlledger_existing_total %llu\n", (unsigned long long)m.existing);
	ml_buf_puts(&b, "# HELP mlledger_refusals_total POST /add refused, by reason and "
			"status.\n# TYPE mlledger_refusals_total counter\n");
	for (i = 0; i < R_COUNT; i++)
		ml_buf_printf(&b, "mlledger_refusals_total{reason=\"%s\",status=\"%d\"} %llu\n",
			      reason_name[i], reason_status[i],
			      (unsigned long long)m.refusals[i]);
	ml_buf_puts(&b, "# HELP mlledger_batch_size Envelopes per committed batch.\n"
			"# TYPE mlledger_batch_size histogram\n");
	for (i = 0; i < NBATCH; i++) {
		cum += m.batches[i];
		ml_buf_printf(&b, "mlledger_batch_size_bucket{le=\"%u\"} %llu\n", batch_buckets[i],
			      (unsigned long long)cum);
	}
	cum += m.batches[NBATCH];
	ml_buf_printf(&b, "mlledger_batch_size_bucket{le=\"+Inf\"} %llu\n"
		      "mlledger_batch_size_sum %llu\nmlledger_batch_size_count %llu\n",
		      (unsigned long long)cum, (unsigned long long)m.batch_sum,
		      (unsigned long long)m.batch_count);
	ml_buf_puts(&b, "# HELP mlledger_ack_seconds From a POST /add's arrival in the queue "
			"to its answer.\n# TYPE mlledger_ack_seconds histogram\n");
	cum = 0;
	for (i = 0; i < NACK; i++) {
		cum += m.acks[i];
		ml_buf_printf(&b, "mlledger_ack_seconds_bucket{le=\"%g\"} %llu\n", ack_buckets[i],
			      (unsigned long long)cum);
	}
	cum += m.acks[NACK];
	ml_buf_printf(&b, "mlledger_ack_seconds_bucket{le=\"+Inf\"} %llu\n"
		      "mlledger_ack_seconds_sum %.6f\nmlledger_ack_seconds_count %llu\n",
		      (unsigned long long)cum, m.ack_sum, (unsigned long long)m.ack_count);
	ml_buf_printf(&b, "# HELP mlledger_pending Appends queued, not yet in a batch.\n"
		      "# TYPE mlledger_pending gauge\nmlledger_pending %zu\n",
		      ml_seq_pending(s->seq));
	ml_buf_printf(&b, "# HELP mlledger_tree_size The latest checkpoint's size.\n"
		      "# TYPE mlledger_tree_size gauge\nmlledger_tree_size %llu\n",
		      (unsigned long long)latest_size(s));
	if (s->o.witness) {
		ml_buf_puts(&b, "# HELP mlledger_witness_answers_total POST /add-checkpoint "
				"answers, by status.\n"
				"# TYPE mlledger_witness_answers_total counter\n");
		for (i = 0; i < NWITNESS; i++)
			ml_buf_printf(&b, "mlledger_witness_answers_total{status=\"%d\"} %llu\n",
				      witness_status[i], (unsigned long long)m.witness[i]);
		ml_buf_printf(&b, "# HELP mlledger_witness_forks_total Checkpoints of the "
			      "witnessed log with another root at the size last cosigned (the "
			      "log forked).\n# TYPE mlledger_witness_forks_total counter\n"
			      "mlledger_witness_forks_total %llu\n",
			      (unsigned long long)m.witness_forks);
	}
	if (b.oom) {
		ml_buf_free(&b);
		return reply_error(r, 500, "out of memory");
	}
	ret = reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len,
		    "no-store");
	ml_buf_free(&b);
	return ret;
}

/* ---- reads --------------------------------------------------------------- */

static enum MHD_Result
h_healthz(struct req *r)
{
	if (r->srv->stopping)
		return reply(r, 503, "text/plain; charset=utf-8", "shutting down\n", 14,
			     "no-store");
	return reply(r, 200, "text/plain; charset=utf-8", "ok\n", 3, "no-store");
}

static enum MHD_Result
h_checkpoint(struct req *r)
{
	struct ml_server *s = r->srv;
	enum MHD_Result ret;

	pthread_mutex_lock(&s->cmu);
	if (!s->note) {
		pthread_mutex_unlock(&s->cmu);
		return not_found(r);
	}
	ret = reply(r, 200, "text/plain; charset=utf-8", s->note, s->note_len, "no-store");
	pthread_mutex_unlock(&s->cmu);
	return ret;
}

static enum MHD_Result
h_tile(struct req *r)
{
	struct ml_server *s = r->srv;
	struct ml_tile t;
	struct ml_buf b = {0};
	struct ml_ledger *l;
	struct ml_err e;
	uint64_t size = latest_size(s);
	enum MHD_Result ret;
	int rc;

	/* one URL per tile: no percent-escaped spellings of a path */
	if (r->uri_escaped || ml_tile_parse(r->url + 1, strlen(r->url + 1), &t) != ML_OK ||
	    !ml_tile_in_tree(&t, size))
		return not_found(r);
	ml_err_clear(&e);
	l = reader_get(s);
	rc = t.entries ? ml_tile_entries(ml_ledger_store(l), &t, size, &b, &e)
		       : ml_tile_hashes(ml_ledger_store(l), &t, size, &b, &e);
	reader_put(s, l);
	if (rc)
		ret = reply_error(r, 500, "%s", e.msg);
	else
		ret = reply(r, 200, "application/octet-stream", b.data, b.len,
			    "public, max-age=31536000, immutable");
	ml_buf_free(&b);
	return ret;
}

/* A decimal 0..2^63-1 without sign, spaces or leading zeros; v may be NULL
 * (an absent query argument). */
static enum ml_rc
parse_size(const char *v, uint64_t *out)
{
	return v ? ml_decimal_parse(v, strlen(v), INT64_MAX, out) : ML_EINPUT;
}

static enum MHD_Result
h_consistency(struct req *r)
{
	struct ml_server *s = r->srv;
	uint8_t proof[ML_PROOF_MAX][ML_SHA256_LEN];
	struct ml_buf b = {0};
	struct ml_ledger *l;
	struct ml_err e;
	uint64_t m, n, got, to;
	size_t len, i;
	char *note = NULL;
	enum MHD_Result ret;
	int rc;

	if (parse_size(MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "old"), &m) ||
	    parse_size(MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "new"), &n))
		return reply_error(r, 400, "expected ?old=M&new=N (decimal sizes)");
	if (m < 1 || m > n || n > latest_size(s))
		return reply_error(r, 400, "need 1 <= old <= new <= %llu",
				   (unsigned long long)latest_size(s));
	ml_err_clear(&e);
	l = reader_get(s);
	rc = ml_store_checkpoint_get(ml_ledger_store(l), (int64_t)n, &got, &note, &e);
	free(note);
	if (rc == ML_EINPUT) {
		reader_put(s, l);
		return reply_error(r, 404, "the log signed no checkpoint of size %llu",
				   (unsigned long long)n);
	}
	if (rc == ML_OK)
		rc = ml_tlog_consistency(l, m, (int64_t)n, &to, proof, &len, &e);
	reader_put(s, l);
	if (rc)
		return reply_error(r, rc == ML_EINPUT ? 400 : 500, "%s", e.msg);
	for (i = 0; i < len; i++) {
		char *h = ml_b64_encode(proof[i], ML_SHA256_LEN);
		if (!h) {
			b.oom = 1;
			break;
		}
		ml_buf_printf(&b, "%s\n", h);
		free(h);
	}
	if (b.oom)
		ret = reply_error(r, 500, "out of memory");
	else
		ret = reply(r, 200, "text/plain; charset=utf-8", b.data ? (char *)b.data : "",
			    b.len, "public, max-age=31536000, immutable");
	ml_buf_free(&b);
	return ret;
}

/* GET /checkpoint/<N>: the signed note the log stored at size N, one URL per
 * size (decimal, no leading zeros, 1 <= N <= the latest size); 404 when no
 * checkpoint of size N was signed.  A stored note never changes: immutable. */
static enum MHD_Result
h_checkpoint_n(struct req *r)
{
	struct ml_server *s = r->srv;
	struct ml_ledger *l;
	struct ml_err e;
	uint64_t n, got;
	char *note = NULL;
	enum MHD_Result ret;
	int rc;

	if (r->uri_escaped || parse_size(r->url + strlen("/checkpoint/"), &n) || n < 1 ||
	    n > latest_size(s))
		return not_found(r);
	ml_err_clear(&e);
	l = reader_get(s);
	rc = ml_store_checkpoint_get(ml_ledger_store(l), (int64_t)n, &got, &note, &e);
	reader_put(s, l);
	if (rc == ML_EINPUT || (rc == ML_OK && got != n))
		ret = reply_error(r, 404, "the log signed no checkpoint of size %llu",
				  (unsigned long long)n);
	else if (rc)
		ret = reply_error(r, 500, "%s", e.msg);
	else
		ret = reply(r, 200, "text/plain; charset=utf-8", note, strlen(note),
			    "public, max-age=31536000, immutable");
	free(note);
	return ret;
}

/* ---- POST /add -------------------------------------------------------------- */

/* Called under the sequencer's lock before the committer can see the item. */
static void
add_suspend(void *ctx)
{
	struct req *r = ctx;

	MHD_suspend_connection(r->conn);
}

/* The committer's answer (committer thread): record it, wake the
 * connection. */
static void
add_done(struct ml_seq_item *it)
{
	struct req *r = it->ctx;

	switch (it->rc) {
	case ML_OK:
		r->status = 200;
		metrics_ack(r->srv, it->existing, ml_mono_us() - it->submitted_us);
		break;
	case ML_EKEY:
		r->status = 403;
		r->reason = R_KEY;
		break;
	case ML_EINPUT:
		r->status = 409;
		r->reason = R_RULE;
		break;
	case ML_ECONFLICT:
		r->status = 409;
		r->reason = R_CONFLICT;
		break;
	default:
		r->status = it->unavailable ? 503 : 500;
		r->reason = it->unavailable ? R_UNAVAILABLE : R_STORAGE;
		break;
	}
	if (r->status != 200)
		metrics_refusal(r->srv, r->reason);
	r->state = S_ANSWERED;
	MHD_resume_connection(r->conn);
}

/* A gate decision is accepted only when it replays, as `submit` checks
 * it (ledger/FORMAT.md §5 rule 12). */
static int
add_replay_gate(struct req *r, struct ml_err *e)
{
	struct ml_ledger *l;
	uint8_t last[ML_SHA256_LEN];
	uint64_t head, size;
	int64_t last_time;
	int rc;

	if (r->st.kind != ML_KIND_GATE)
		return ML_OK;
	l = reader_get(r->srv);
	rc = ml_store_head(ml_ledger_store(l), &head, last, &last_time, e);
	size = (uint64_t)json_integer_value(json_object_get(json_object_get(r->st.predicate,
									   "ledger"), "size"));
	if (rc == ML_OK && size <= head)
		rc = ml_gate_replay(l, &r->st, e);
	reader_put(r->srv, l);
	return rc;
}

/* Verifies the author's signature with the enrolled key now, on this
 * thread, so that the committer need not (ledger.h's signed_by: it is
 * trusted only while that key is still the enrolled one at commit).  A
 * signature that does not verify is left to the committer to refuse. */
static void
add_presign(struct req *r)
{
	struct ml_ledger *l = reader_get(r->srv);
	struct ml_key_row row;
	struct ml_err e;
	int found = 0;

	if (ml_store_key_get(ml_ledger_store(l), ML_DB_MAIN, r->env.keyid, &row, &found, &e) ==
		    ML_OK &&
	    found && row.revoked_seq < 0 &&
	    ml_pubkey_parse_recorded(row.vkey, strlen(row.vkey), &r->item.signer, &e) == ML_OK &&
	    ml_envelope_verify(&r->env, &r->item.signer))
		r->item.has_signer = 1;
	reader_put(r->srv, l);
}

static enum MHD_Result
add_refuse(struct req *r, enum reason why, const char *msg)
{
	metrics_refusal(r->srv, why);
	return reply_error(r, (unsigned)reason_status[why], "%s", msg);
}

/* The whole body is in: check its form, queue it, suspend. */
static enum MHD_Result
add_submit(struct req *r)
{
	struct ml_err e;
	size_t len = r->body.len;
	int rc;

	if (!r->srv->seq)
		return add_refuse(r, R_READ_ONLY, "this front-end only reads (--read-only): send "
				  "appends to a writer");
	while (len && (r->body.data[len - 1] == '\n' || r->body.data[len - 1] == '\r'))
		len--;
	if (len > ML_TILE_ENVELOPE_MAX) {
		char msg[96];
		snprintf(msg, sizeof msg, "envelope larger than %d bytes", ML_TILE_ENVELOPE_MAX);
		return add_refuse(r, R_TOO_LARGE, msg);
	}
	ml_err_clear(&e);
	if (ml_envelope_parse(r->body.data, len, &r->env, &e) != ML_OK)
		return add_refuse(r, R_MALFORMED, e.msg);
	r->have_env = 1;
	if (ml_statement_parse(r->env.payload, r->env.payload_len, &r->st, &e) != ML_OK)
		return add_refuse(r, R_MALFORMED, e.msg);
	r->have_st = 1;
	if ((rc = add_replay_gate(r, &e)) != ML_OK)
		return add_refuse(r, rc == ML_EIO ? R_STORAGE : R_RULE, e.msg);
	add_presign(r);
	r->item.envelope = r->body.data;
	r->item.len = len;
	r->item.statement = &r->st;
	r->item.done = add_done;
	r->item.ctx = r;
	pthread_mutex_lock(&r->srv->imu);
	r->srv->inflight++;
	pthread_mutex_unlock(&r->srv->imu);
	r->state = S_QUEUED;
	r->queued = 1;
	rc = ml_seq_submit(r->srv->seq, &r->item, add_suspend, r);
	if (rc != ML_OK) {
		r->state = S_BODY;
		r->queued = 0;
		pthread_mutex_lock(&r->srv->imu);
		r->srv->inflight--;
		pthread_cond_broadcast(&r->srv->idone);
		pthread_mutex_unlock(&r->srv->imu);
		return rc == ML_EIO ? add_refuse(r, R_BUSY, "busy: too many appends pending")
				    : add_refuse(r, R_SHUTDOWN, "shutting down");
	}
	return MHD_YES;
}

/* After the committer resumed the connection. */
static enum MHD_Result
add_answer(struct req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (r->status != 200)
		return reply_error(r, (unsigned)r->status, "%s", r->item.msg);
	resp = MHD_create_response_from_buffer(r->item.proof.len, r->item.proof.data,
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/x.tlog-proof");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (r->item.existing)
		MHD_add_response_header(resp, "Mlledger-Existing", "1");
	ret = MHD_queue_response(r->conn, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
h_add(struct req *r)
{
	return r->state == S_ANSWERED ? add_answer(r) : add_submit(r);
}

/* ---- POST /add-checkpoint (witness.h does the work) ------------------------ */

static enum MHD_Result
h_add_checkpoint(struct req *r)
{
	struct ml_witness_reply w;
	enum MHD_Result ret;

	if (!r->srv->o.witness)
		return not_found(r);
	ml_witness_add_checkpoint(r->srv->o.witness, (const char *)r->body.data, r->body.len,
				  (uint64_t)(ml_now_us() / 1000000), &w);
	if (w.log[0])
		fprintf(stderr, "mlledger: serve: witness: %s\n", w.log);
	pthread_mutex_lock(&r->srv->m.mu);
	for (size_t i = 0; i < NWITNESS; i++)
		if (witness_status[i] == w.status)
			r->srv->m.witness[i]++;
	r->srv->m.witness_forks += (uint64_t)w.forked;
	pthread_mutex_unlock(&r->srv->m.mu);
	ret = reply(r, (unsigned)w.status, w.content_type, w.body.data, w.body.len,
		    "no-store");
	ml_witness_reply_free(&w);
	return ret;
}

/* ---- routing ---------------------------------------------------------------- */

/* The route table.  Another endpoint is one more line (its handler is
 * called once the whole body, at most body_max bytes, is in r->body). */
static const struct route routes[] = {
	{"POST", "/add", 0, ML_SERVE_BODY_MAX, h_add},
	{"GET", "/checkpoint", 0, 0, h_checkpoint},
	{"GET", "/checkpoint/", 1, 0, h_checkpoint_n},
	{"GET", "/tile/", 1, 0, h_tile},
	{"GET", "/consistency", 0, 0, h_consistency},
	{"GET", "/healthz", 0, 0, h_healthz},
	{"GET", "/metrics", 0, 0, h_metrics},
	{"POST", "/add-checkpoint", 0, ML_WITNESS_BODY_MAX, h_add_checkpoint},
};

/* The route for url and method; *wrong_method when only the method differs. */
static const struct route *
route_find(const char *url, const char *method, int *wrong_method)
{
	size_t i;

	*wrong_method = 0;
	for (i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		const struct route *rt = &routes[i];
		int match = rt->prefix ? strncmp(url, rt->path, strlen(rt->path)) == 0
				       : strcmp(url, rt->path) == 0;
		if (!match)
			continue;
		if (strcmp(method, rt->method) == 0 ||
		    (!strcmp(rt->method, "GET") && !strcmp(method, "HEAD")))
			return rt;
		*wrong_method = 1;
	}
	return NULL;
}

/* MHD's first callback of a request: the whole URI, before the handler. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct req *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	r->srv = cls;
	r->conn = conn;
	r->start_us = ml_mono_us();
	/* the request line is in: its head and body within the request limit */
	conn_deadline(conn, ML_SERVE_REQUEST_SECONDS);
	r->uri_too_long = strlen(uri) > ML_SERVE_URL_MAX;
	r->uri_escaped = strchr(uri, '%') != NULL;
	return r;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	     enum MHD_RequestTerminationCode toe)
{
	struct ml_server *s = cls;
	struct req *r = *con_cls;

	/* answered (or closing): idle until the next request line */
	conn_deadline(conn, ML_SERVE_IDLE_SECONDS);
	if (!r)
		return;
	if (r->queued) {
		pthread_mutex_lock(&s->imu);
		s->inflight--;
		pthread_cond_broadcast(&s->idone);
		pthread_mutex_unlock(&s->imu);
	}
	if (r->have_st)
		ml_statement_free(&r->st);
	if (r->have_env)
		ml_envelope_clear(&r->env);
	ml_buf_free(&r->item.proof);
	ml_buf_free(&r->body);
	free(r);
	*con_cls = NULL;
}

/* A body over the route's limit while it arrives (chunked: no
 * Content-Length to refuse it by at once).  libmicrohttpd 0.9.75 cannot
 * queue a response once the body has begun (MHD_queue_response returns
 * MHD_NO there, suspended or not: tried), so on plain HTTP the server
 * writes this fixed 413 on the socket itself (nothing else of this request
 * has been sent: at most "100 Continue", whole); with TLS it cannot.  Then
 * MHD_NO: MHD closes the connection at once, having read at most one
 * buffer (32 KiB) beyond the limit. */
static enum MHD_Result
body_too_large(struct req *r)
{
	const union MHD_ConnectionInfo *ci;
	char line[96], msg[320];
	int n, m;

	if (r->route->fn == h_add)
		metrics_refusal(r->srv, R_TOO_LARGE);
	ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (r->srv->o.tls_cert || !ci)
		return MHD_NO;
	n = snprintf(line, sizeof line, "request body larger than %zu bytes\n",
		     r->route->body_max);
	m = snprintf(msg, sizeof msg, "HTTP/1.1 413 Content Too Large\r\nConnection: close\r\n"
		     "Content-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n"
		     "Content-Length: %d\r\n\r\n%s", n, line);
	if (n > 0 && m > 0 && (size_t)m < sizeof msg &&
	    send(ci->connect_fd, msg, (size_t)m, MSG_NOSIGNAL | MSG_DONTWAIT) == m)
		shutdown(ci->connect_fd, SHUT_WR);
	return MHD_NO;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	   const char *version, const char *upload, size_t *upload_len, void **con_cls)
{
	struct req *r = *con_cls;
	int wrong;

	if (!r)
		return MHD_NO; /* out of memory in on_uri */
	if (r->state == S_NEW) {
		const char *cl;

		r->state = S_BODY;
		r->url = url;
		if (r->uri_too_long)
			return reply_error(r, 414, "URL longer than %d bytes", ML_SERVE_URL_MAX);
		r->route = route_find(url, method, &wrong);
		if (!r->route)
			return wrong ? reply_error(r, 405, "method %s not allowed here", method)
				     : not_found(r);
		if (r->route->fn == h_add && r->srv->stopping)
			return add_refuse(r, R_SHUTDOWN, "shutting down"); /* before its body */
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						 MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > r->route->body_max) {
			if (r->route->body_max == 0)
				return reply_error(r, 413, "this request takes no body");
			if (r->route->fn == h_add)
				metrics_refusal(r->srv, R_TOO_LARGE);
			return reply_error(r, 413, "request body larger than %zu bytes",
					   r->route->body_max);
		}
		return MHD_YES;
	}
	if (*upload_len) {
		/* a slow body is cut when the request takes too long */
		if (ml_mono_us() - r->start_us > (int64_t)ML_SERVE_REQUEST_SECONDS * 1000000)
			return MHD_NO;
		if (r->body.len + *upload_len > r->route->body_max)
			return body_too_large(r); /* a chunked body: no Content-Length */
		ml_buf_append(&r->body, upload, *upload_len);
		*upload_len = 0;
		return MHD_YES;
	}
	/* the whole request is in: no deadline while the server works on it
	 * (a POST /add waits for its batch) and answers */
	conn_deadline(conn, 0);
	if (r->body.oom)
		return reply_error(r, 500, "out of memory");
	if (r->state == S_QUEUED)
		return MHD_YES; /* spurious call while suspended */
	return r->route->fn(r);
}

/* ---- start and stop ------------------------------------------------------- */

/* ---- a store of record (pgstore.h) ----------------------------------------- */

/* Brings the follower's handle up to the store's latest checkpoint and
 * publishes it to readers.  Errors are told once per change of message. */
static void
follow_once(struct ml_server *s, char *last_msg, size_t cap)
{
	struct ml_err e;
	uint64_t size = 0;
	char *note = NULL;
	int rc;

	ml_err_clear(&e);
	rc = ml_migrate_follow(s->fpg, s->fl, &size, &e);
	if (rc == ML_OK && (rc = ml_tlog_checkpoint(s->fl, -1, &size, &note, &e)) == ML_OK)
		latest_set(s, size, note, strlen(note));
	free(note);
	if (rc != ML_OK && rc != ML_EINPUT && strcmp(last_msg, e.msg) != 0) {
		if (e.seq >= 0) /* as the CLI says it: which entry */
			fprintf(stderr, "mlledger: serve: following %s: entry %lld: %s\n",
				ml_pg_name(s->fpg), e.seq, e.msg);
		else
			fprintf(stderr, "mlledger: serve: following %s: %s\n", ml_pg_name(s->fpg),
				e.msg);
		snprintf(last_msg, cap, "%s", e.msg);
	} else if (rc == ML_OK) {
		last_msg[0] = '\0';
	}
}

static void *
follower(void *arg)
{
	struct ml_server *s = arg;
	unsigned ms = s->o.follow_ms ? s->o.follow_ms : 500;
	char last_msg[sizeof ((struct ml_err *)0)->msg] = "";

	while (!s->follower_stop) {
		unsigned left;
		follow_once(s, last_msg, sizeof last_msg);
		/* in slices of at most 50 ms, so that a stop (SIGTERM) does not
		 * wait out a --follow-interval of up to a minute */
		for (left = ms; left > 0 && !s->follower_stop;) {
			unsigned step = left < 50 ? left : 50;
			struct timespec ts = {0, (long)step * 1000000L};
			while (!s->follower_stop && nanosleep(&ts, &ts) != 0)
				;
			left -= step;
		}
	}
	return NULL;
}

/* Connects the store, checks that it is this working copy's ledger (or
 * makes the working copy from it when the file does not exist), catches
 * up to its latest checkpoint and starts the follower. */
static int
store_open(struct ml_server *s, struct ml_err *e)
{
	struct ml_pg_opts po = {s->o.min_sync, 0};
	int rc;

	if ((rc = ml_pg_connect(s->o.store, &po, &s->pg, e)) ||
	    (rc = ml_pg_connect(s->o.store, &po, &s->fpg, e)))
		return rc;
	if (access(s->o.ledger, F_OK) != 0) {
		struct ml_migrate_opts mo = {0};
		struct ml_migrate_result res;
		if ((rc = ml_migrate_from_pg(s->fpg, s->o.ledger, &mo, &res, e)))
			return ml_err_prefix(e, rc, "making the working copy");
	}
	if ((rc = ml_ledger_open(s->o.ledger, 1, &s->fl, e)))
		return rc;
	{
		uint64_t size;
		if ((rc = ml_migrate_follow(s->fpg, s->fl, &size, e)))
			return rc;
	}
	if (!s->o.read_only && (rc = ml_pgsync_new(s->pg, &s->sync, e)))
		return rc;
	return ML_OK;
}

static int
follower_start(struct ml_server *s, struct ml_err *e)
{
	if (!s->o.store)
		return ML_OK;
	if (pthread_create(&s->follower, NULL, follower, s) != 0)
		return ml_err_set(e, ML_EIO, "cannot start the follower thread");
	s->follower_started = 1;
	return ML_OK;
}

static void
store_close(struct ml_server *s)
{
	if (s->follower_started) {
		s->follower_stop = 1;
		pthread_join(s->follower, NULL);
		s->follower_started = 0;
	}
	ml_ledger_close(s->fl);
	ml_pg_close(s->fpg);
	ml_pgsync_free(s->sync);
	ml_pg_close(s->pg);
}

static void
server_free(struct ml_server *s)
{
	int i;

	if (!s)
		return;
	sweeper_stop(s);
	ml_seq_free(s->seq);
	store_close(s);
	ml_ledger_close(s->writer);
	for (i = 0; i < s->nreaders; i++)
		ml_ledger_close(s->readers[i]);
	free(s->note);
	pthread_mutex_destroy(&s->rmu);
	pthread_cond_destroy(&s->rfree);
	pthread_mutex_destroy(&s->cmu);
	pthread_mutex_destroy(&s->imu);
	pthread_cond_destroy(&s->idone);
	pthread_mutex_destroy(&s->m.mu);
	pthread_mutex_destroy(&s->tmu);
	pthread_cond_destroy(&s->tcv);
	free(s);
}

static int
open_ledgers(struct ml_server *s, struct ml_err *e)
{
	struct ml_seq_opts so = {0};
	uint64_t size;
	char *note = NULL;
	int rc, i;

	struct ml_batch *b;

	if (s->o.store && (rc = store_open(s, e)))
		return rc;
	if ((rc = ml_ledger_open(s->o.ledger, 1, &s->writer, e)))
		return rc;
	if (s->o.logkey && (rc = ml_ledger_use_logkey(s->writer, s->o.logkey, e)))
		return rc;
	/* the log key and the write lock, now rather than at the first append */
	if (!s->o.read_only) {
		if ((rc = ml_batch_begin(s->writer, &b, e)))
			return rc;
		ml_batch_abort(b);
	}
	s->nreaders = (int)s->o.threads + 2;
	for (i = 0; i < s->nreaders; i++)
		if ((rc = ml_ledger_open(s->o.ledger, 0, &s->readers[i], e))) {
			s->nreaders = i;
			return rc;
		}
	s->navail = s->nreaders;
	rc = ml_tlog_checkpoint(s->writer, -1, &size, &note, e);
	if (rc == ML_OK)
		latest_set(s, size, note, strlen(note));
	else if (rc != ML_EINPUT)
		return rc;
	free(note);
	so.batch_max = ML_SEQ_BATCH_MAX;
	so.wait_ms = s->o.batch_wait_ms;
	so.queue_max = s->o.queue_max ? s->o.queue_max : ML_SEQ_QUEUE_MAX;
	so.committed = on_committed;
	so.ctx = s;
	so.record = s->sync ? ml_pgsync_record(s->sync) : NULL;
	if (s->o.read_only)
		return ML_OK;
	return ml_seq_start(s->writer, &so, &s->seq, e);
}

/* A witness must be another party than the log it witnesses: its key is
 * neither this ledger's log key nor the witnessed log's, and the witnessed
 * log is not this ledger. */
static int
witness_check(struct ml_server *s, struct ml_err *e)
{
	const struct ml_witness_config *w = s->o.witness;
	const struct ml_pubkey *wk;
	struct ml_pubkey own;
	const char *line;

	if (!w)
		return ML_OK;
	wk = ml_seckey_public(w->key);
	line = ml_ledger_logkey(s->writer);
	if (ml_pubkey_parse(line, strlen(line), &own, e))
		return ml_err_prefix(e, ML_EINPUT, "the ledger's log key");
	if (!memcmp(wk->pk, own.pk, ML_PUBKEY_LEN))
		return ml_err_set(e, ML_EINPUT, "--witness-key is this ledger's log key: a "
				  "witness needs a key of its own ('mlledger key new')");
	if (!memcmp(wk->pk, w->log->pk, ML_PUBKEY_LEN))
		return ml_err_set(e, ML_EINPUT, "--witness-key is the witnessed log's key: a "
				  "log cannot witness itself");
	if (!memcmp(w->log->pk, own.pk, ML_PUBKEY_LEN))
		return ml_err_set(e, ML_EINPUT, "--witness-log is this ledger's own log: a log "
				  "cannot witness itself");
	return ML_OK;
}

/* Fills addr from host and port; the URL's host part into host. */
static int
make_addr(const struct ml_serve_opts *o, struct sockaddr_storage *ss, int *v6,
	  struct ml_err *e)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, o->host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)o->port);
		*v6 = 0;
		return ML_OK;
	}
	if (inet_pton(AF_INET6, o->host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)o->port);
		*v6 = 1;
		return ML_OK;
	}
	return ml_err_set(e, ML_EINPUT, "--listen: \"%.64s\" is not an IPv4 or IPv6 address",
			  o->host);
}

int
ml_serve_start(const struct ml_serve_opts *o, struct ml_server **out, struct ml_err *e)
{
	struct ml_server *s;
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME |
			 MHD_USE_ERROR_LOG;
	int v6 = 0, rc;

	if (o->threads < 1 || o->threads > 64 || o->batch_wait_ms > 1000 ||
	    o->queue_max > ML_SEQ_QUEUE_MAX || o->drain_seconds > ML_SERVE_DRAIN_MAX ||
	    o->max_connections < 1 || o->port > 65535 || (!o->tls_cert != !o->tls_key))
		return ml_err_set(e, ML_EINPUT, "serve: options out of range");
	if ((rc = make_addr(o, &ss, &v6, e)))
		return rc;
	if (o->tls_cert && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		return ml_err_set(e, ML_EINPUT, "this libmicrohttpd was built without TLS");
	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
		flags |= MHD_USE_EPOLL;
	if (o->tls_cert)
		flags |= MHD_USE_TLS;
	if (v6)
		flags |= MHD_USE_IPv6;
	if (!(s = calloc(1, sizeof *s)))
		return ml_err_set(e, ML_EIO, "out of memory");
	s->o = *o;
	pthread_mutex_init(&s->rmu, NULL);
	pthread_cond_init(&s->rfree, NULL);
	pthread_mutex_init(&s->cmu, NULL);
	pthread_mutex_init(&s->imu, NULL);
	pthread_cond_init(&s->idone, NULL);
	pthread_mutex_init(&s->m.mu, NULL);
	sweeper_init(s);
	if ((rc = open_ledgers(s, e)) || (rc = witness_check(s, e)) ||
	    (rc = sweeper_start(s, e)) || (rc = follower_start(s, e))) {
		server_free(s);
		return rc;
	}
	{
		struct MHD_OptionItem opts[] = {
			{MHD_OPTION_SOCK_ADDR, 0, &ss},
			{MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, s},
			{MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s},
			{MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, s},
			{MHD_OPTION_CONNECTION_LIMIT, (intptr_t)o->max_connections, NULL},
			{MHD_OPTION_CONNECTION_TIMEOUT, ML_SERVE_IDLE_SECONDS, NULL},
			{MHD_OPTION_CONNECTION_MEMORY_LIMIT, 32 * 1024, NULL},
			{MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
			{o->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
			 (intptr_t)o->threads, NULL},
			{MHD_OPTION_END, 0, NULL}, /* TLS below */
			{MHD_OPTION_END, 0, NULL},
			{MHD_OPTION_END, 0, NULL},
		};
		size_t n = sizeof opts / sizeof opts[0];

		if (o->threads > 1 && o->tls_cert) {
			opts[n - 3] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0,
							      (void *)(uintptr_t)o->tls_cert};
			opts[n - 2] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0,
							      (void *)(uintptr_t)o->tls_key};
		} else if (o->tls_cert) {
			opts[n - 4] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0,
							      (void *)(uintptr_t)o->tls_cert};
			opts[n - 3] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0,
							      (void *)(uintptr_t)o->tls_key};
		}
		s->d = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, on_request, s,
					MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	}
	if (!s->d) {
		server_free(s);
		return ml_err_set(e, ML_EIO, "cannot listen on %s port %u (in use, or not an "
				  "address of this host)", o->host, o->port);
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(s->url, sizeof s->url, "%s://%s%s%s:%u", o->tls_cert ? "https" : "http",
		 v6 ? "[" : "", o->host, v6 ? "]" : "", info ? info->port : o->port);
	*out = s;
	return ML_OK;
}

const char *
ml_serve_url(const struct ml_server *s)
{
	return s->url;
}

void
ml_serve_stop(struct ml_server *s)
{
	struct timespec dl;
	MHD_socket fd;

	if (!s)
		return;
	s->stopping = 1;
	/* draining: /healthz and new appends 503, reads served */
	if (s->o.drain_seconds) {
		struct timespec ts = {(time_t)s->o.drain_seconds, 0};
		while (nanosleep(&ts, &ts) != 0)
			;
	}
	fd = MHD_quiesce_daemon(s->d);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	/* commit and answer everything queued; new appends get 503 */
	ml_seq_stop(s->seq);
	/* let the answers go out */
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 5;
	pthread_mutex_lock(&s->imu);
	while (s->inflight > 0)
		if (pthread_cond_timedwait(&s->idone, &s->imu, &dl) != 0)
			break;
	pthread_mutex_unlock(&s->imu);
	MHD_stop_daemon(s->d);
	server_free(s);
}
