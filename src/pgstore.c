/* pgstore — see pgstore.h.  libpq, chain and util only.
 *
 * How the durability rules of pgstore.h are kept:
 *   - every write ends in a COMMIT sent asynchronously and waited for with
 *     poll() up to commit_timeout_ms; then PQcancel.  statement_timeout
 *     cannot bound it: PostgreSQL disables that timeout before it commits
 *     (postgres.c, finish_xact_command), so a COMMIT waiting for a standby
 *     that is gone waits forever (measured, PostgreSQL 15).  The cancel
 *     makes the server give up the wait with the WARNING of syncrep.c;
 *   - the notice receiver flags that WARNING (or any WARNING while a
 *     COMMIT is in flight: its text may be translated), and such a commit
 *     is ML_EIO although the server said COMMIT;
 *   - a COMMIT whose answer never came (connection lost, or no answer to
 *     the cancel either) is ML_EIO, and the connection is reset before its
 *     next use;
 *   - every other statement is bounded the same way, by the commit timeout
 *     plus the head row's lock_timeout plus 20 s, so a hung server hangs
 *     no caller.
 * Entries go in with COPY ... FROM STDIN (FORMAT binary): no hex or escape
 * encoding of the envelopes, one round trip per batch. */
#include "pgstore.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "postgresql_sql.h" /* pg_schema_sql: ledger/postgresql.sql */

#define PG_SCHEMA_VERSION 1
#define PG_CHUNK_MIN 16
#define PG_CHUNK_MAX 1024
#define PG_CHUNK_BYTES (8u << 20) /* aim of one chunk of ml_pg_entries */
#define PG_CANCEL_WAIT_MS 5000    /* for the answer after a PQcancel */
#define PG_STMT_SLACK_MS 20000    /* see stmt_ms */
#define PG_NOTE_MAX 65536         /* ledger/postgresql.sql's CHECK */
#define PG_BATCH_MAX (512u << 20) /* COPY bytes of one transaction (< INT_MAX) */

struct ml_pg {
	PGconn *c;
	struct ml_pg_opts o;
	char name[256];     /* "host:port/db" for messages */
	int dead;           /* an answer never came: reset before the next use */
	int in_tx;          /* between a successful begin and its end */
	int committing;     /* a COMMIT is in flight: any WARNING fails it */
	int warned;         /* the sync-rep WARNING (or any, while committing) */
	char warning[160];  /* its first line */
	uint64_t next_seq;  /* the seq the next put must carry */
	uint8_t last[ML_SHA256_LEN];
	int64_t last_time;
	size_t queued;      /* entries in copy */
	struct ml_buf copy; /* COPY binary rows of the queued entries */
};

static const char copy_header[19] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";

bool
ml_pg_is_url(const char *s)
{
	return s && (strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0);
}

const char *
ml_pg_name(const struct ml_pg *p)
{
	return p ? p->name : "PostgreSQL";
}

/* ---- errors ------------------------------------------------------------ */

/* The first line of libpq's message, or of r's when r is given. */
static const char *
pq_msg(struct ml_pg *p, const PGresult *r, char *buf, size_t cap)
{
	const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(p->c);
	size_t n;
	if (!r && p->dead)
		m = "no answer (connection lost or server hung)";
	if (!m || !*m)
		m = "unknown error";
	if (strncmp(m, "ERROR:  ", 8) == 0)
		m += 8;
	n = strcspn(m, "\n");
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, m, n);
	buf[n] = 0;
	return buf;
}

static int
pg_fail(struct ml_pg *p, const PGresult *r, struct ml_err *e, const char *what)
{
	char m[256];
	return ml_err_set(e, ML_EIO, "%s: %s: %s", p->name, what, pq_msg(p, r, m, sizeof m));
}

/* ---- bounded statements ------------------------------------------------ */

/* Waits until a result can be read without blocking.  1 ready, 0 when
 * ms (< 0: no bound) passed first, -1 when the connection failed. */
static int
wait_ready(PGconn *c, int ms)
{
	int64_t end = ml_mono_us() / 1000 + ms;
	for (;;) {
		struct pollfd f = {.fd = PQsocket(c), .events = POLLIN};
		int left = ms < 0 ? -1 : (int)(end - ml_mono_us() / 1000);
		if (!PQconsumeInput(c))
			return -1;
		if (!PQisBusy(c))
			return 1;
		if (ms >= 0 && left <= 0)
			return 0;
		if (poll(&f, 1, left) < 0 && errno != EINTR)
			return -1;
	}
}

/* Asks the server to cancel what runs now; for a COMMIT waiting for a
 * standby that means "give up the wait" (and it warns). */
static void
send_cancel(PGconn *c)
{
	char err[256];
	PGcancel *k = PQgetCancel(c);
	if (k) {
		PQcancel(k, err, sizeof err);
		PQfreeCancel(k);
	}
}

/* The last result of what was sent, every one waited for within ms in
 * all, then a cancel and PG_CANCEL_WAIT_MS more.  NULL when no answer
 * came (the connection is then unusable: marked dead, so the next begin or
 * read resets it). */
static PGresult *
bounded_result(struct ml_pg *p, int ms)
{
	PGresult *last = NULL, *r;
	int64_t end = ml_mono_us() / 1000 + ms;
	int cancelled = 0, w;
	for (;;) {
		w = wait_ready(p->c, (int)(end > ml_mono_us() / 1000 ? end - ml_mono_us() / 1000 : 0));
		if (w == 0 && !cancelled) {
			send_cancel(p->c);
			cancelled = 1;
			end = ml_mono_us() / 1000 + PG_CANCEL_WAIT_MS;
			continue;
		}
		if (w != 1) {
			PQclear(last);
			p->dead = 1;
			return NULL;
		}
		if (!(r = PQgetResult(p->c)))
			return last;
		PQclear(last);
		last = r;
		if (PQresultStatus(r) == PGRES_COPY_IN || PQresultStatus(r) == PGRES_COPY_OUT)
			return last; /* (not expected here) */
	}
}

/* Every statement but COMMIT: bounded by the commit timeout plus the
 * lock wait a begin may have (lock_timeout) plus slack. */
static int
stmt_ms(const struct ml_pg *p)
{
	return (int)p->o.commit_timeout_ms + 10000 + PG_STMT_SLACK_MS;
}

/* PQexec, bounded: NULL when it could not be sent or no answer came. */
static PGresult *
exec_bounded(struct ml_pg *p, const char *sql)
{
	return PQsendQuery(p->c, sql) ? bounded_result(p, stmt_ms(p)) : NULL;
}

/* ---- connection -------------------------------------------------------- */

static void
set_name(struct ml_pg *p)
{
	const char *h = PQhost(p->c), *port = PQport(p->c), *db = PQdb(p->c);
	if (h && *h && PQstatus(p->c) == CONNECTION_OK)
		snprintf(p->name, sizeof p->name, "%s:%s/%s", h, port ? port : "", db ? db : "");
}

/* Notices never reach stderr (modules do not print).  A WARNING of the
 * sync-rep wait, or any WARNING during a COMMIT, marks the commit failed. */
static void
on_notice(void *arg, const PGresult *r)
{
	struct ml_pg *p = arg;
	const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	const char *det = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
	int syncrep = msg && strstr(msg, "synchronous replication") &&
		      ((det && strstr(det, "committed locally")) || strstr(msg, "canceling"));
	if (!syncrep && !(p->committing && sev && strcmp(sev, "WARNING") == 0))
		return;
	p->warned = 1;
	snprintf(p->warning, sizeof p->warning, "%.*s", (int)strcspn(msg ? msg : "", "\n"),
		 msg ? msg : "");
}

/* Runs sql (no parameters, no rows) and checks it succeeded. */
static int
exec_ok(struct ml_pg *p, const char *sql, struct ml_err *e, const char *what)
{
	PGresult *r = exec_bounded(p, sql);
	int rc = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK
			 ? ML_OK
			 : pg_fail(p, r, e, what);
	PQclear(r);
	return rc;
}

/* After every (re)connect: durable commits, and a writer never waits on
 * the head row longer than a commit may take plus ten seconds. */
static int
session_setup(struct ml_pg *p, struct ml_err *e)
{
	char ms[24];
	const char *v[1] = {ms};
	PGresult *r;
	int rc;
	PQsetNoticeReceiver(p->c, on_notice, p);
	set_name(p);
	if (PQsetClientEncoding(p->c, "UTF8"))
		return pg_fail(p, NULL, e, "session setup");
	if ((rc = exec_ok(p, "SET synchronous_commit = on", e, "session setup")))
		return rc;
	snprintf(ms, sizeof ms, "%u", p->o.commit_timeout_ms + 10000);
	r = PQexecParams(p->c, "SELECT set_config('lock_timeout', $1, false)", 1, NULL, v, NULL,
			 NULL, 0);
	rc = PQresultStatus(r) == PGRES_TUPLES_OK ? ML_OK : pg_fail(p, r, e, "session setup");
	PQclear(r);
	return rc;
}

/* Makes sure the connection is up: a broken one is reset (libpq tries the
 * hosts again, so a promoted standby is found).  A transaction that was
 * open on a lost connection is gone. */
static int
ensure_conn(struct ml_pg *p, struct ml_err *e)
{
	if (PQstatus(p->c) == CONNECTION_OK && !p->dead)
		return ML_OK;
	p->in_tx = 0;
	p->dead = 0;
	PQreset(p->c);
	if (PQstatus(p->c) != CONNECTION_OK)
		return pg_fail(p, NULL, e, "cannot reconnect");
	return session_setup(p, e);
}

/* "host:port/db" from the connection string before any connection. */
static void
name_from_conninfo(struct ml_pg *p, const char *url)
{
	const char *h = "localhost", *port = "5432", *db = "";
	PQconninfoOption *o = PQconninfoParse(url, NULL), *i;
	for (i = o; i && i->keyword; i++) {
		if (!i->val || !*i->val)
			continue;
		if (strcmp(i->keyword, "host") == 0)
			h = i->val;
		else if (strcmp(i->keyword, "port") == 0)
			port = i->val;
		else if (strcmp(i->keyword, "dbname") == 0)
			db = i->val;
	}
	snprintf(p->name, sizeof p->name, "%s:%s/%s", h, port, db);
	PQconninfoFree(o);
}

int
ml_pg_connect(const char *url, const struct ml_pg_opts *o, struct ml_pg **out,
	      struct ml_err *e)
{
	/* Our defaults first: the URL's own settings override them. */
	const char *const kw[] = {"connect_timeout", "keepalives", "keepalives_idle",
				  "keepalives_interval", "keepalives_count",
				  "fallback_application_name", "dbname", NULL};
	const char *val[] = {"10", "1", "10", "3", "3", "mlledger", url, NULL};
	PQconninfoOption *parsed;
	struct ml_pg *p;
	int rc;
	if (!url || strlen(url) > ML_PG_URL_MAX)
		return ml_err_set(e, ML_EINPUT, "PostgreSQL URL longer than %d bytes", ML_PG_URL_MAX);
	if (!(parsed = PQconninfoParse(url, NULL)))
		return ml_err_set(e, ML_EINPUT, "not a valid PostgreSQL URL or connection string");
	PQconninfoFree(parsed);
	if (!(p = calloc(1, sizeof *p)))
		return ml_err_set(e, ML_EIO, "out of memory");
	if (o)
		p->o = *o;
	if (!p->o.commit_timeout_ms)
		p->o.commit_timeout_ms = ML_PG_COMMIT_TIMEOUT_MS;
	name_from_conninfo(p, url);
	p->c = PQconnectdbParams(kw, val, 1);
	if (!p->c) {
		free(p);
		return ml_err_set(e, ML_EIO, "out of memory");
	}
	if (PQstatus(p->c) != CONNECTION_OK)
		rc = pg_fail(p, NULL, e, "cannot connect");
	else
		rc = session_setup(p, e);
	if (rc) {
		ml_pg_close(p);
		return rc;
	}
	*out = p;
	return ML_OK;
}

void
ml_pg_close(struct ml_pg *p)
{
	if (!p)
		return;
	PQfinish(p->c);
	ml_buf_free(&p->copy);
	free(p);
}

/* Sends COMMIT and judges it (pgstore.h, Durability). */
static int
commit_bounded(struct ml_pg *p, struct ml_err *e)
{
	PGresult *r;
	int rc;
	p->warned = 0;
	p->committing = 1;
	if (!PQsendQuery(p->c, "COMMIT")) {
		p->committing = 0;
		return pg_fail(p, NULL, e, "COMMIT not sent, nothing acknowledged");
	}
	r = bounded_result(p, (int)p->o.commit_timeout_ms);
	p->committing = 0;
	if (!r) {
		return ml_err_set(e, ML_EIO, "%s: COMMIT unanswered (connection lost or hung): "
				  "outcome unknown, nothing acknowledged", p->name);
	}
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = pg_fail(p, r, e, "COMMIT failed");
	else if (strcmp(PQcmdStatus(r), "COMMIT") != 0)
		rc = ml_err_set(e, ML_EIO, "%s: the transaction was rolled back", p->name);
	else if (p->warned)
		rc = ml_err_set(e, ML_EIO, "%s: commit not replicated to a synchronous standby "
			       "(%s): nothing acknowledged", p->name, p->warning);
	else
		rc = ML_OK;
	PQclear(r);
	return rc;
}

/* ---- parameters and results -------------------------------------------- */

#define OID_BYTEA 17
#define OID_INT8 20
#define OID_TEXT 25
#define PAR_MAX 5

/* Bound parameters, binary for integers and bytes, text for text. */
struct par {
	int n;
	Oid type[PAR_MAX];
	const char *val[PAR_MAX];
	int len[PAR_MAX], fmt[PAR_MAX];
	uint8_t i8[PAR_MAX][8];
};

static void
par_i64(struct par *q, int64_t v)
{
	ml_put_be64(q->i8[q->n], (uint64_t)v);
	q->type[q->n] = OID_INT8;
	q->val[q->n] = (const char *)q->i8[q->n];
	q->len[q->n] = 8;
	q->fmt[q->n++] = 1;
}

static void
par_bytes(struct par *q, const uint8_t *b, size_t n)
{
	q->type[q->n] = OID_BYTEA;
	q->val[q->n] = (const char *)b;
	q->len[q->n] = (int)n;
	q->fmt[q->n++] = 1;
}

static void
par_text(struct par *q, const char *s)
{
	q->type[q->n] = OID_TEXT;
	q->val[q->n] = s;
	q->len[q->n] = 0;
	q->fmt[q->n++] = 0;
}

static PGresult *
q_send(struct ml_pg *p, const char *sql, const struct par *q)
{
	if (!PQsendQueryParams(p->c, sql, q ? q->n : 0, q ? q->type : NULL, q ? q->val : NULL,
			       q ? q->len : NULL, q ? q->fmt : NULL, 1))
		return NULL;
	return bounded_result(p, stmt_ms(p));
}

/* Runs sql with q (may be NULL), binary results (NULL only when out of
 * memory; the callers' status checks treat it as an error).  Outside a
 * transaction, a connection found lost by this very query (the server
 * restarted, a standby was promoted) is reset and the query run once more. */
static PGresult *
q_exec(struct ml_pg *p, const char *sql, const struct par *q)
{
	PGresult *r = q_send(p, sql, q);
	if (p->in_tx || PQstatus(p->c) == CONNECTION_OK || ensure_conn(p, NULL) != ML_OK)
		return r;
	PQclear(r);
	return q_send(p, sql, q);
}

/* The error of r (cleared here), naming the store; a transaction in
 * progress is rolled back (pgstore.h: after an error only begin).  A
 * missing table means there is no ledger: ML_EINPUT. */
static int
q_err(struct ml_pg *p, PGresult *r, struct ml_err *e, const char *what)
{
	const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	int rc = st && strcmp(st, "42P01") == 0
			 ? ml_err_set(e, ML_EINPUT, "no mlledger ledger in %s", p->name)
			 : pg_fail(p, r, e, what);
	PQclear(r);
	if (p->in_tx)
		ml_pg_rollback(p);
	return rc;
}

static int
is_tuples(const PGresult *r)
{
	return PQresultStatus(r) == PGRES_TUPLES_OK;
}

/* Column col of row as a big-endian int8; ML_EINTEGRITY when it is not one. */
static enum ml_rc
get_i64(const PGresult *r, int row, int col, int64_t *v)
{
	if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != 8)
		return ML_EINTEGRITY;
	*v = (int64_t)ml_get_be64((const uint8_t *)PQgetvalue(r, row, col));
	return ML_OK;
}

/* Column col of row as exactly n bytes; ML_EINTEGRITY otherwise. */
static enum ml_rc
get_fixed(const PGresult *r, int row, int col, uint8_t *out, size_t n)
{
	if (PQgetisnull(r, row, col) || (size_t)PQgetlength(r, row, col) != n)
		return ML_EINTEGRITY;
	memcpy(out, PQgetvalue(r, row, col), n);
	return ML_OK;
}

/* ---- identity ------------------------------------------------------------ */

int
ml_pg_standby(struct ml_pg *p, int *standby, struct ml_err *e)
{
	PGresult *r;
	int rc = ensure_conn(p, e);
	if (rc)
		return rc;
	r = q_exec(p, "SELECT pg_is_in_recovery()", NULL);
	if (!is_tuples(r) || PQntuples(r) != 1 || PQgetlength(r, 0, 0) != 1)
		return q_err(p, r, e, "pg_is_in_recovery");
	*standby = PQgetvalue(r, 0, 0)[0] != 0;
	PQclear(r);
	return ML_OK;
}

/* *present = 1 when mlledger_meta exists. */
static int
schema_present(struct ml_pg *p, int *present, struct ml_err *e)
{
	PGresult *r = q_exec(p, "SELECT to_regclass('mlledger_meta') IS NOT NULL", NULL);
	if (!is_tuples(r) || PQntuples(r) != 1 || PQgetlength(r, 0, 0) != 1)
		return q_err(p, r, e, "schema lookup");
	*present = PQgetvalue(r, 0, 0)[0] != 0;
	PQclear(r);
	return ML_OK;
}

/* Runs the schema text; a concurrent create shows as a duplicate. */
static int
create_schema(struct ml_pg *p, struct ml_err *e)
{
	PGresult *r = exec_bounded(p, (const char *)pg_schema_sql);
	const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	if (PQresultStatus(r) == PGRES_COMMAND_OK) {
		PQclear(r);
		return ML_OK;
	}
	if (st && (!strcmp(st, "42P07") || !strcmp(st, "23505") || !strcmp(st, "42723"))) {
		PQclear(r);
		ml_pg_rollback(p);
		return ml_err_set(e, ML_ECONFLICT, "%s already holds an mlledger ledger", p->name);
	}
	return q_err(p, r, e, "creating the schema");
}

static int
insert_identity(struct ml_pg *p, const char *origin, const char *logkey, int format,
		struct ml_err *e)
{
	char fmt[16];
	struct par q = {0};
	PGresult *r;
	snprintf(fmt, sizeof fmt, "%d", format);
	par_text(&q, origin);
	par_text(&q, logkey);
	par_text(&q, fmt);
	r = q_exec(p, "INSERT INTO mlledger_meta (key, value) VALUES "
		      "('origin', $1), ('log_key', $2), ('format', $3)", &q);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		return q_err(p, r, e, "recording the identity");
	PQclear(r);
	return ML_OK;
}

/* Fails (rolled back) when min_sync synchronous standbys are not streaming. */
static int
sync_check(struct ml_pg *p, struct ml_err *e)
{
	int64_t n;
	PGresult *r;
	if (!p->o.min_sync)
		return ML_OK;
	r = q_exec(p, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' "
		      "AND sync_state IN ('sync', 'quorum')", NULL);
	if (!is_tuples(r) || PQntuples(r) != 1 || get_i64(r, 0, 0, &n))
		return q_err(p, r, e, "pg_stat_replication");
	PQclear(r);
	if (n >= (int64_t)p->o.min_sync)
		return ML_OK;
	ml_pg_rollback(p);
	return ml_err_set(e, ML_EIO, "no synchronous standby connected to %s (%" PRId64
		      " streaming, %u required; the role needs pg_monitor to see them): "
		      "nothing written", p->name, n, p->o.min_sync);
}

/* BEGIN, with p->in_tx set so that errors roll it back. */
static int
tx_begin(struct ml_pg *p, struct ml_err *e)
{
	int rc;
	if (p->in_tx) {
		ml_pg_rollback(p);
		return ml_err_set(e, ML_EINPUT, "%s: a transaction was already begun", p->name);
	}
	if ((rc = ensure_conn(p, e)))
		return rc;
	/* A connection lost since its last use shows only now: once more. */
	if (exec_ok(p, "BEGIN", e, "BEGIN") != ML_OK &&
	    (PQstatus(p->c) == CONNECTION_OK || (rc = ensure_conn(p, e)) ||
	     (rc = exec_ok(p, "BEGIN", e, "BEGIN"))))
		return rc ? rc : ML_EIO;
	p->in_tx = 1;
	p->queued = 0;
	p->copy.len = 0;
	p->copy.oom = 0;
	return ML_OK;
}

/* COMMIT of the open transaction; it is over whatever the outcome. */
static int
tx_commit(struct ml_pg *p, struct ml_err *e)
{
	int rc = commit_bounded(p, e);
	p->in_tx = 0;
	p->queued = 0;
	p->copy.len = 0;
	return rc;
}

int
ml_pg_create(struct ml_pg *p, const char *origin, const char *logkey, int format,
	     struct ml_err *e)
{
	int rc, present;
	if ((rc = tx_begin(p, e)) || (rc = schema_present(p, &present, e)))
		return rc;
	if (present) {
		ml_pg_rollback(p);
		return ml_err_set(e, ML_ECONFLICT, "%s already holds an mlledger ledger", p->name);
	}
	if ((rc = create_schema(p, e)) || (rc = insert_identity(p, origin, logkey, format, e)) ||
	    (rc = sync_check(p, e)))
		return rc;
	return tx_commit(p, e);
}

/* Copies the meta value of row into out (cap bytes with the NUL). */
static int
meta_copy(struct ml_pg *p, const PGresult *r, int row, char *out, size_t cap,
	  struct ml_err *e)
{
	size_t n = (size_t)PQgetlength(r, row, 1);
	if (n >= cap || memchr(PQgetvalue(r, row, 1), 0, n))
		return ml_err_set(e, ML_EINPUT, "%s: mlledger_meta %s too long", p->name,
				  PQgetvalue(r, row, 0));
	memcpy(out, PQgetvalue(r, row, 1), n);
	out[n] = 0;
	return ML_OK;
}

/* Parses the schema_version and format values. */
static int
meta_numbers(struct ml_pg *p, const char *ver, const char *fmt, int *format, struct ml_err *e)
{
	uint64_t v, f;
	if (ml_decimal_parse(ver, strlen(ver), UINT32_MAX, &v) ||
	    ml_decimal_parse(fmt, strlen(fmt), 1000, &f))
		return ml_err_set(e, ML_EINTEGRITY, "%s: mlledger_meta: malformed schema_version "
				  "or format", p->name);
	if (v > PG_SCHEMA_VERSION)
		return ml_err_set(e, ML_EINPUT, "%s: schema version %" PRIu64 " is newer than "
				  "this mlledger's (%d): upgrade mlledger", p->name, v,
				  PG_SCHEMA_VERSION);
	*format = (int)f;
	return ML_OK;
}

int
ml_pg_identity(struct ml_pg *p, char *origin, size_t ocap, char *logkey, size_t kcap,
	       int *format, struct ml_err *e)
{
	char ver[24] = "", fmt[24] = "", o[1024] = "", k[1024] = "";
	int rc, i, present, found = 0;
	PGresult *r;
	if ((!p->in_tx && (rc = ensure_conn(p, e))) || (rc = schema_present(p, &present, e)))
		return rc;
	if (!present)
		return ml_err_set(e, ML_EINPUT, "no mlledger ledger in %s", p->name);
	r = q_exec(p, "SELECT key, value FROM mlledger_meta WHERE key IN "
		      "('schema_version', 'origin', 'log_key', 'format')", NULL);
	if (!is_tuples(r))
		return q_err(p, r, e, "reading mlledger_meta");
	for (i = 0, rc = ML_OK; i < PQntuples(r) && !rc; i++) {
		const char *key = PQgetvalue(r, i, 0);
		int bit = !strcmp(key, "schema_version") ? 1 : !strcmp(key, "origin") ? 2
			: !strcmp(key, "log_key") ? 4 : 8;
		found |= bit;
		rc = meta_copy(p, r, i, bit == 1 ? ver : bit == 2 ? o : bit == 4 ? k : fmt,
			       bit == 1 || bit == 8 ? sizeof ver : sizeof o, e);
	}
	PQclear(r);
	if (!rc && found != 15)
		rc = ml_err_set(e, ML_EINTEGRITY, "%s: mlledger_meta lacks the ledger's identity",
				p->name);
	if (!rc && (rc = meta_numbers(p, ver, fmt, format, e)) == ML_OK &&
	    (strlen(o) >= ocap || strlen(k) >= kcap))
		rc = ml_err_set(e, ML_EINPUT, "%s: origin or log key too long", p->name);
	if (rc)
		return rc;
	memcpy(origin, o, strlen(o) + 1);
	memcpy(logkey, k, strlen(k) + 1);
	return ML_OK;
}

/* ---- the head -------------------------------------------------------------- */

static int
read_head(struct ml_pg *p, const char *sql, uint64_t *size, uint8_t last[ML_SHA256_LEN],
	  int64_t *last_time, struct ml_err *e)
{
	int64_t s, t;
	uint8_t l[ML_SHA256_LEN];
	PGresult *r = q_exec(p, sql, NULL);
	if (!is_tuples(r))
		return q_err(p, r, e, "reading the head");
	if (PQntuples(r) != 1 || get_i64(r, 0, 0, &s) || s < 0 || get_fixed(r, 0, 1, l, sizeof l) ||
	    get_i64(r, 0, 2, &t)) {
		PQclear(r);
		if (p->in_tx)
			ml_pg_rollback(p);
		return ml_err_set(e, ML_EINTEGRITY, "%s: mlledger_head is not one well-formed row",
				  p->name);
	}
	PQclear(r);
	*size = (uint64_t)s;
	memcpy(last, l, sizeof l);
	*last_time = t;
	return ML_OK;
}

int
ml_pg_head(struct ml_pg *p, uint64_t *size, uint8_t last[ML_SHA256_LEN], int64_t *last_time,
	   struct ml_err *e)
{
	int rc = p->in_tx ? ML_OK : ensure_conn(p, e);
	return rc ? rc
		  : read_head(p, "SELECT size, last_leaf, last_time FROM mlledger_head WHERE id = 0",
			      size, last, last_time, e);
}

/* ---- a write transaction ---------------------------------------------------- */

int
ml_pg_begin(struct ml_pg *p, uint64_t *size, uint8_t last[ML_SHA256_LEN], int64_t *last_time,
	    struct ml_err *e)
{
	int rc = tx_begin(p, e);
	if (rc || (rc = read_head(p, "SELECT size, last_leaf, last_time FROM mlledger_head "
				     "WHERE id = 0 FOR UPDATE",
				  &p->next_seq, p->last, &p->last_time, e)))
		return rc;
	*size = p->next_seq;
	memcpy(last, p->last, ML_SHA256_LEN);
	*last_time = p->last_time;
	return ML_OK;
}

static void
copy_field(struct ml_buf *b, const void *data, uint32_t n)
{
	uint8_t len[4];
	ml_put_be32(len, n);
	ml_buf_append(b, len, 4);
	ml_buf_append(b, data, n);
}

int
ml_pg_put(struct ml_pg *p, const struct ml_entry *en, const uint8_t leaf[ML_SHA256_LEN],
	  struct ml_err *e)
{
	uint8_t seq[8], t[8], nf[2] = {0, 5};
	if (!p->in_tx)
		return ml_err_set(e, ML_EINPUT, "%s: put outside a transaction", p->name);
	if (en->seq != p->next_seq || en->seq > INT64_MAX || !en->envelope_len ||
	    en->envelope_len > ML_MAX_ENVELOPE) {
		ml_pg_rollback(p);
		return ml_err_set(e, ML_EINPUT, "%s: put of entry %" PRIu64 " where %" PRIu64
				  " comes next, or an empty or oversized envelope",
				  p->name, en->seq, p->next_seq);
	}
	if (p->copy.len + en->envelope_len + 200 > PG_BATCH_MAX) {
		ml_pg_rollback(p);
		return ml_err_set(e, ML_EINPUT, "%s: more than %u MiB of entries in one "
				  "transaction", p->name, PG_BATCH_MAX >> 20);
	}
	if (!p->queued)
		ml_buf_append(&p->copy, copy_header, sizeof copy_header);
	ml_put_be64(seq, en->seq);
	ml_put_be64(t, (uint64_t)en->time_us);
	ml_buf_append(&p->copy, nf, 2);
	copy_field(&p->copy, seq, 8);
	copy_field(&p->copy, t, 8);
	copy_field(&p->copy, en->prev, ML_SHA256_LEN);
	copy_field(&p->copy, leaf, ML_SHA256_LEN);
	copy_field(&p->copy, en->envelope, (uint32_t)en->envelope_len);
	if (p->copy.oom) {
		ml_pg_rollback(p);
		return ml_err_set(e, ML_EIO, "%s: out of memory", p->name);
	}
	p->queued++;
	p->next_seq++;
	memcpy(p->last, leaf, ML_SHA256_LEN);
	p->last_time = en->time_us;
	return ML_OK;
}

/* Streams the queued rows with COPY (FORMAT binary). */
static int
copy_in(struct ml_pg *p, struct ml_err *e)
{
	static const uint8_t trailer[2] = {0xff, 0xff};
	PGresult *r = NULL;
	int ok = PQsendQuery(p->c, "COPY mlledger_entries (seq, time_us, prev, leaf, envelope) "
				   "FROM STDIN (FORMAT binary)");
	/* One result (COPY_IN) opens the copy: not bounded_result's loop. */
	if (ok && wait_ready(p->c, stmt_ms(p)) != 1)
		p->dead = 1;
	else if (ok)
		r = PQgetResult(p->c);
	if (PQresultStatus(r) != PGRES_COPY_IN)
		return q_err(p, r, e, "COPY");
	PQclear(r);
	ok = PQputCopyData(p->c, (const char *)p->copy.data, (int)p->copy.len) == 1 &&
	     PQputCopyData(p->c, (const char *)trailer, 2) == 1 && PQputCopyEnd(p->c, NULL) == 1;
	r = ok ? bounded_result(p, stmt_ms(p)) : NULL;
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		return q_err(p, r, e, "writing entries");
	PQclear(r);
	return ML_OK;
}

/* Moves the head to the last queued entry.  Also with nothing queued, so
 * that the transaction surely has a commit record and its COMMIT waits for
 * the standbys, covering what begin and entries returned.  (begin's FOR
 * UPDATE already gives it one, row locks take a transaction id: a test
 * with this update skipped for empty commits still passed.  Belt and
 * braces, for one row write.) */
static int
head_update(struct ml_pg *p, struct ml_err *e)
{
	struct par q = {0};
	PGresult *r;
	par_i64(&q, (int64_t)p->next_seq);
	par_bytes(&q, p->last, ML_SHA256_LEN);
	par_i64(&q, p->last_time);
	r = q_exec(p, "UPDATE mlledger_head SET size = $1, last_leaf = $2, last_time = $3 "
		      "WHERE id = 0", &q);
	if (PQresultStatus(r) != PGRES_COMMAND_OK || strcmp(PQcmdTuples(r), "1") != 0)
		return q_err(p, r, e, "moving the head");
	PQclear(r);
	return ML_OK;
}

int
ml_pg_commit(struct ml_pg *p, struct ml_err *e)
{
	int rc;
	if (!p->in_tx)
		return ml_err_set(e, ML_EINPUT, "%s: commit outside a transaction", p->name);
	if ((rc = sync_check(p, e)) || (p->queued && (rc = copy_in(p, e))) ||
	    (rc = head_update(p, e)))
		return rc;
	return tx_commit(p, e);
}

void
ml_pg_rollback(struct ml_pg *p)
{
	PGresult *r;
	if (!p || !p->in_tx)
		return;
	p->in_tx = 0;
	p->queued = 0;
	p->copy.len = 0;
	if (PQstatus(p->c) != CONNECTION_OK || p->dead)
		return;
	r = PQsendQuery(p->c, "ROLLBACK") ? bounded_result(p, PG_CANCEL_WAIT_MS) : NULL;
	PQclear(r);
}

/* ---- reading entries ------------------------------------------------------- */

static int
entry_fault(struct ml_pg *p, uint64_t seq, const char *what, struct ml_err *e)
{
	ml_err_set(e, ML_EINTEGRITY, "%s: entry %" PRIu64 " %s", p->name, seq, what);
	if (e)
		e->seq = (long long)seq;
	return ML_EINTEGRITY;
}

/* Row i of r as entry *next (its envelope borrowed from r). */
static int
row_entry(struct ml_pg *p, const PGresult *r, int i, uint64_t next, struct ml_entry *en,
	  uint8_t leaf[ML_SHA256_LEN], struct ml_err *e)
{
	int64_t seq, t;
	int n;
	if (i >= PQntuples(r) || get_i64(r, i, 0, &seq) || seq < 0 || (uint64_t)seq != next)
		return entry_fault(p, next, "is missing", e);
	n = PQgetisnull(r, i, 4) ? 0 : PQgetlength(r, i, 4);
	if (get_i64(r, i, 1, &t) || get_fixed(r, i, 2, en->prev, ML_SHA256_LEN) ||
	    get_fixed(r, i, 3, leaf, ML_SHA256_LEN) || n < 1 || n > ML_MAX_ENVELOPE)
		return entry_fault(p, next, "is malformed (time, prev, leaf or envelope)", e);
	en->seq = next;
	en->time_us = t;
	en->envelope = (const uint8_t *)PQgetvalue(r, i, 4);
	en->envelope_len = (size_t)n;
	return ML_OK;
}

/* Rows per chunk for about PG_CHUNK_BYTES, given the last chunk. */
static int
chunk_rows(size_t bytes, int rows)
{
	size_t per = rows ? bytes / (size_t)rows + 1 : 1;
	size_t want = PG_CHUNK_BYTES / per;
	return want < PG_CHUNK_MIN ? PG_CHUNK_MIN : want > PG_CHUNK_MAX ? PG_CHUNK_MAX : (int)want;
}

/* One chunk from *next: calls each per row, advances *next. */
static int
entries_chunk(struct ml_pg *p, uint64_t *next, uint64_t to, int *limit, ml_pg_entry_fn each,
	      void *ctx, struct ml_err *e)
{
	struct par q = {0};
	struct ml_entry en;
	uint8_t leaf[ML_SHA256_LEN];
	size_t bytes = 0;
	int i, n, rc = ML_OK;
	PGresult *r;
	par_i64(&q, (int64_t)*next);
	par_i64(&q, (int64_t)to);
	par_i64(&q, *limit);
	r = q_exec(p, "SELECT seq, time_us, prev, leaf, envelope FROM mlledger_entries "
		      "WHERE seq >= $1 AND seq < $2 ORDER BY seq LIMIT $3", &q);
	if (!is_tuples(r))
		return q_err(p, r, e, "reading entries");
	n = PQntuples(r);
	if (n == 0)
		rc = row_entry(p, r, 0, *next, &en, leaf, e); /* no row: "missing" */
	for (i = 0; i < n && !rc; i++) {
		if (!(rc = row_entry(p, r, i, *next, &en, leaf, e)) &&
		    !(rc = each(ctx, &en, leaf, e))) {
			bytes += en.envelope_len + 100;
			(*next)++;
		}
	}
	PQclear(r);
	*limit = chunk_rows(bytes, n);
	return rc;
}

int
ml_pg_entries(struct ml_pg *p, uint64_t from, uint64_t to, ml_pg_entry_fn each, void *ctx,
	      struct ml_err *e)
{
	int rc = p->in_tx ? ML_OK : ensure_conn(p, e), limit = 64;
	if (to > INT64_MAX)
		return ml_err_set(e, ML_EINPUT, "%s: entries beyond 2^63", p->name);
	while (!rc && from < to)
		rc = entries_chunk(p, &from, to, &limit, each, ctx, e);
	return rc;
}

/* ---- checkpoints ---------------------------------------------------------- */

int
ml_pg_checkpoint_put(struct ml_pg *p, uint64_t size, const char *note, struct ml_err *e)
{
	size_t n = note ? strlen(note) : 0;
	int own = !p->in_tx, rc;
	struct par q = {0};
	PGresult *r;
	if (size > INT64_MAX || n < 1 || n > PG_NOTE_MAX || !ml_text_valid(note, n, "\n"))
		return ml_err_set(e, ML_EINPUT, "%s: checkpoint %" PRIu64 ": not a storable note",
				  p->name, size);
	if (own && (rc = tx_begin(p, e)))
		return rc;
	par_i64(&q, (int64_t)size);
	par_text(&q, note);
	r = q_exec(p, "INSERT INTO mlledger_checkpoints (size, note) VALUES ($1, $2) "
		      "ON CONFLICT (size) DO NOTHING", &q);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		return q_err(p, r, e, "storing a checkpoint");
	PQclear(r);
	return own ? tx_commit(p, e) : ML_OK;
}

/* The note of row 0 column col, malloc'ed. */
static int
note_dup(struct ml_pg *p, const PGresult *r, int row, int col, char **note, struct ml_err *e)
{
	int n = PQgetlength(r, row, col);
	char *s;
	if (PQgetisnull(r, row, col) || n < 1 || n > PG_NOTE_MAX ||
	    memchr(PQgetvalue(r, row, col), 0, (size_t)n))
		return ml_err_set(e, ML_EINTEGRITY, "%s: a malformed checkpoint row", p->name);
	if (!(s = malloc((size_t)n + 1)))
		return ml_err_set(e, ML_EIO, "out of memory");
	memcpy(s, PQgetvalue(r, row, col), (size_t)n);
	s[n] = 0;
	*note = s;
	return ML_OK;
}

/* One checkpoint row chosen by sql with parameter v. */
static int
checkpoint_one(struct ml_pg *p, const char *sql, uint64_t v, uint64_t *size, char **note,
	       struct ml_err *e)
{
	struct par q = {0};
	int64_t s = 0;
	int rc = p->in_tx ? ML_OK : ensure_conn(p, e);
	PGresult *r;
	if (rc)
		return rc;
	par_i64(&q, v > INT64_MAX ? INT64_MAX : (int64_t)v);
	r = q_exec(p, sql, &q);
	if (!is_tuples(r))
		return q_err(p, r, e, "reading checkpoints");
	if (PQntuples(r) == 0)
		rc = ML_EINPUT;
	else if (get_i64(r, 0, 0, &s) || s < 0)
		rc = ml_err_set(e, ML_EINTEGRITY, "%s: a malformed checkpoint row", p->name);
	else
		rc = note_dup(p, r, 0, 1, note, e);
	PQclear(r);
	if (!rc && size)
		*size = (uint64_t)s;
	return rc;
}

int
ml_pg_checkpoint_latest(struct ml_pg *p, uint64_t max, uint64_t *size, char **note,
			struct ml_err *e)
{
	int rc = checkpoint_one(p, "SELECT size, note FROM mlledger_checkpoints WHERE size <= $1 "
				   "ORDER BY size DESC LIMIT 1", max, size, note, e);
	if (rc == ML_EINPUT)
		ml_err_set(e, rc, "%s: no checkpoint of size <= %" PRIu64, p->name, max);
	return rc;
}

int
ml_pg_checkpoint_get(struct ml_pg *p, uint64_t size, char **note, struct ml_err *e)
{
	int rc = size > INT64_MAX ? ML_EINPUT
				  : checkpoint_one(p, "SELECT size, note FROM mlledger_checkpoints "
						      "WHERE size = $1", size, NULL, note, e);
	if (rc == ML_EINPUT)
		ml_err_set(e, rc, "%s: no checkpoint of size %" PRIu64, p->name, size);
	return rc;
}

/* Notes of size >= *from, up to 256; advances *from; *done at the end. */
static int
checkpoint_chunk(struct ml_pg *p, int64_t *from, int *done, ml_pg_note_fn each, void *ctx,
		 struct ml_err *e)
{
	struct par q = {0};
	int64_t s;
	char *note = NULL;
	int i, rc = ML_OK;
	PGresult *r;
	par_i64(&q, *from);
	r = q_exec(p, "SELECT size, note FROM mlledger_checkpoints WHERE size >= $1 "
		      "ORDER BY size LIMIT 256", &q);
	if (!is_tuples(r))
		return q_err(p, r, e, "reading checkpoints");
	*done = PQntuples(r) < 256;
	for (i = 0; i < PQntuples(r) && !rc; i++) {
		if (get_i64(r, i, 0, &s) || s < *from)
			rc = ml_err_set(e, ML_EINTEGRITY, "%s: a malformed checkpoint row", p->name);
		else if (!(rc = note_dup(p, r, i, 1, &note, e)))
			rc = each(ctx, (uint64_t)s, note, e);
		free(note);
		note = NULL;
		*from = s + 1;
	}
	PQclear(r);
	return rc;
}

int
ml_pg_checkpoint_each(struct ml_pg *p, ml_pg_note_fn each, void *ctx, struct ml_err *e)
{
	int64_t from = 0;
	int done = 0, rc = p->in_tx ? ML_OK : ensure_conn(p, e);
	while (!rc && !done)
		rc = checkpoint_chunk(p, &from, &done, each, ctx, e);
	return rc;
}
