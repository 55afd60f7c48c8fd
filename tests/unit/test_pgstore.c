/* pgstore against a real PostgreSQL: ML_TEST_PG_URL names its database
 * (tests/ha/pgstore.sh starts a primary and a synchronous standby and sets
 * it; without it every test is skipped, visibly).  Each test works in a
 * schema of its own (search_path in the URL's options).  The standby tests
 * also need ML_TEST_PG_CTL, a command that takes standby-stop or
 * standby-start (tests/ha/pglib.sh run as a command). */
#include "testutil.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <libpq-fe.h>

#include "pgstore.h"

static const char *base_url;
static char url[ML_PG_URL_MAX + 1];
static int schema_no;

/* A fresh schema for this test, and url pointing into it. */
static int
setup(void **state)
{
	char sql[128];
	PGconn *c;
	PGresult *r;
	if (!base_url)
		return 0;
	schema_no++;
	c = PQconnectdb(base_url);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	snprintf(sql, sizeof sql, "CREATE SCHEMA t%d", schema_no);
	r = PQexec(c, sql);
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	PQfinish(c);
	snprintf(url, sizeof url, "%s%coptions=-c%%20search_path%%3Dt%d", base_url,
		 strchr(base_url, '?') ? '&' : '?', schema_no);
	return 0;
}

#define NEED_PG()                                                        \
	do {                                                             \
		if (!base_url)                                           \
			skip();                                          \
	} while (0)

/* Runs sql as the test's role in the test's schema; returns the first
 * value of the first row (static buffer) or "" . */
static const char *
sql1(const char *sql)
{
	static char v[256];
	PGconn *c = PQconnectdb(url);
	PGresult *r = PQexec(c, sql);
	assert_true(PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK);
	snprintf(v, sizeof v, "%s", PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "");
	PQclear(r);
	PQfinish(c);
	return v;
}

static struct ml_pg *
open_pg(unsigned min_sync, unsigned timeout_ms)
{
	struct ml_pg_opts o = {min_sync, timeout_ms};
	struct ml_pg *p = NULL;
	struct ml_err e;
	ml_err_clear(&e);
	if (ml_pg_connect(url, &o, &p, &e))
		fail_msg("connect: %s", e.msg);
	return p;
}

static struct ml_pg *
open_created(void)
{
	struct ml_pg *p = open_pg(0, 0);
	struct ml_err e;
	assert_int_equal(ml_pg_create(p, "example.org/log", "example.org/log+abcd+AAAA", 1, &e),
			 ML_OK);
	return p;
}

/* Envelope i: len bytes of a pattern that depends on i. */
static uint8_t env_buf[3][65536];
static size_t env_len[3] = {1, 700, 65536};

static void
fill_envs(void)
{
	size_t i, j;
	for (i = 0; i < 3; i++)
		for (j = 0; j < env_len[i]; j++)
			env_buf[i][j] = (uint8_t)(i * 31 + j * 7 + (j >> 8));
}

/* Puts n entries after the head (seq, prev, time chained; leaf computed). */
static void
put_n(struct ml_pg *p, uint64_t size, const uint8_t last[32], int n)
{
	uint8_t prev[32];
	struct ml_err e;
	int i;
	memcpy(prev, last, 32);
	for (i = 0; i < n; i++) {
		struct ml_entry en = {.seq = size + (uint64_t)i,
				      .time_us = 1700000000000000LL + (int64_t)(size + (uint64_t)i),
				      .envelope = env_buf[(size + (uint64_t)i) % 3],
				      .envelope_len = env_len[(size + (uint64_t)i) % 3]};
		uint8_t leaf[32];
		memcpy(en.prev, prev, 32);
		ml_leaf_hash(&en, leaf);
		if (ml_pg_put(p, &en, leaf, &e))
			fail_msg("put %d: %s", i, e.msg);
		memcpy(prev, leaf, 32);
	}
}

/* Appends n entries in one transaction; returns the new size. */
static uint64_t
append_n(struct ml_pg *p, int n)
{
	uint64_t size;
	uint8_t last[32];
	int64_t t;
	struct ml_err e;
	if (ml_pg_begin(p, &size, last, &t, &e))
		fail_msg("begin: %s", e.msg);
	put_n(p, size, last, n);
	if (ml_pg_commit(p, &e))
		fail_msg("commit: %s", e.msg);
	return size + (uint64_t)n;
}

static void
test_create_identity(void **state)
{
	char origin[256], key[256];
	int format = 0;
	struct ml_pg *p;
	struct ml_err e;
	NEED_PG();
	p = open_pg(0, 0);
	assert_int_equal(ml_pg_identity(p, origin, sizeof origin, key, sizeof key, &format, &e),
			 ML_EINPUT);
	assert_non_null(strstr(e.msg, "no mlledger ledger in 127.0.0.1:"));
	assert_int_equal(ml_pg_create(p, "example.org/log", "example.org/log+abcd+AAAA", 1, &e),
			 ML_OK);
	assert_int_equal(ml_pg_identity(p, origin, sizeof origin, key, sizeof key, &format, &e),
			 ML_OK);
	assert_string_equal(origin, "example.org/log");
	assert_string_equal(key, "example.org/log+abcd+AAAA");
	assert_int_equal(format, 1);
	assert_int_equal(ml_pg_create(p, "other", "other+1+A", 1, &e), ML_ECONFLICT);
	assert_non_null(strstr(e.msg, "already holds an mlledger ledger"));
	/* A too small buffer is refused, not cut. */
	assert_int_equal(ml_pg_identity(p, origin, 4, key, sizeof key, &format, &e), ML_EINPUT);
	/* A newer schema version is refused. */
	sql1("UPDATE mlledger_meta SET value = '2' WHERE key = 'schema_version'");
	assert_int_equal(ml_pg_identity(p, origin, sizeof origin, key, sizeof key, &format, &e),
			 ML_EINPUT);
	assert_non_null(strstr(e.msg, "newer"));
	sql1("UPDATE mlledger_meta SET value = '1' WHERE key = 'schema_version'");
	sql1("DELETE FROM mlledger_meta WHERE key = 'origin'");
	assert_int_equal(ml_pg_identity(p, origin, sizeof origin, key, sizeof key, &format, &e),
			 ML_EINTEGRITY);
	ml_pg_close(p);
}

static uint8_t got_env[8][65536];
struct got {
	int n;
	struct ml_entry en[8];
	uint8_t leaf[8][32];
};

static int
collect(void *ctx, const struct ml_entry *en, const uint8_t leaf[32], struct ml_err *e)
{
	struct got *g = ctx;
	assert_true(g->n < 8);
	g->en[g->n] = *en;
	memcpy(got_env[g->n], en->envelope, en->envelope_len);
	g->en[g->n].envelope = got_env[g->n];
	memcpy(g->leaf[g->n], leaf, 32);
	g->n++;
	return 0;
}

static void
test_roundtrip(void **state)
{
	struct ml_pg *p;
	struct ml_err e;
	struct got g = {0};
	uint64_t size;
	uint8_t last[32], leaf[32], zero[32] = {0};
	int64_t t;
	int i;
	NEED_PG();
	p = open_created();
	assert_int_equal(ml_pg_head(p, &size, last, &t, &e), ML_OK);
	assert_int_equal(size, 0);
	assert_memory_equal(last, zero, 32);
	assert_int_equal(append_n(p, 3), 3);
	assert_int_equal(append_n(p, 2), 5);
	assert_int_equal(ml_pg_entries(p, 0, 5, collect, &g, &e), ML_OK);
	assert_int_equal(g.n, 5);
	for (i = 0; i < 5; i++) {
		assert_int_equal(g.en[i].seq, (uint64_t)i);
		assert_int_equal(g.en[i].time_us, 1700000000000000LL + i);
		assert_int_equal(g.en[i].envelope_len, env_len[i % 3]);
		assert_memory_equal(g.en[i].envelope, env_buf[i % 3], env_len[i % 3]);
		assert_memory_equal(g.en[i].prev, i ? g.leaf[i - 1] : zero, 32);
		ml_leaf_hash(&g.en[i], leaf);
		assert_memory_equal(leaf, g.leaf[i], 32);
	}
	assert_int_equal(ml_pg_head(p, &size, last, &t, &e), ML_OK);
	assert_int_equal(size, 5);
	assert_memory_equal(last, g.leaf[4], 32);
	assert_int_equal(t, 1700000000000004LL);
	/* Empty range: no call. */
	g.n = 0;
	assert_int_equal(ml_pg_entries(p, 2, 2, collect, &g, &e), ML_OK);
	assert_int_equal(g.n, 0);
	ml_pg_close(p);
}

static void
test_wrong_seq(void **state)
{
	struct ml_pg *p;
	struct ml_err e;
	uint64_t size;
	uint8_t last[32], leaf[32] = {1};
	int64_t t;
	struct ml_entry en = {.seq = 7, .time_us = 1, .envelope = (const uint8_t *)"x",
			      .envelope_len = 1};
	NEED_PG();
	p = open_created();
	append_n(p, 2);
	assert_int_equal(ml_pg_begin(p, &size, last, &t, &e), ML_OK);
	assert_int_equal(ml_pg_put(p, &en, leaf, &e), ML_EINPUT);
	/* Rolled back: only a new begin is allowed. */
	assert_int_equal(ml_pg_commit(p, &e), ML_EINPUT);
	assert_int_equal(ml_pg_put(p, &en, leaf, &e), ML_EINPUT);
	en.seq = 2;
	en.envelope_len = 0;
	assert_int_equal(ml_pg_begin(p, &size, last, &t, &e), ML_OK);
	assert_int_equal(ml_pg_put(p, &en, leaf, &e), ML_EINPUT); /* empty envelope */
	assert_int_equal(ml_pg_head(p, &size, last, &t, &e), ML_OK);
	assert_int_equal(size, 2);
	/* Rollback writes nothing. */
	assert_int_equal(ml_pg_begin(p, &size, last, &t, &e), ML_OK);
	put_n(p, size, last, 1);
	ml_pg_rollback(p);
	assert_string_equal(sql1("SELECT count(*) FROM mlledger_entries"), "2");
	ml_pg_close(p);
}

/* Two writers: the second's begin waits for the first's commit. */
struct writer {
	struct ml_pg *p;
	uint64_t size;
	int64_t done_ms;
	int rc;
};

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *
second_writer(void *arg)
{
	struct writer *w = arg;
	uint8_t last[32];
	int64_t t;
	struct ml_err e;
	w->rc = ml_pg_begin(w->p, &w->size, last, &t, &e);
	w->done_ms = now_ms();
	if (!w->rc) {
		put_n(w->p, w->size, last, 1);
		w->rc = ml_pg_commit(w->p, &e);
	}
	return NULL;
}

static void
test_serialised(void **state)
{
	struct ml_pg *a;
	struct writer w = {0};
	struct ml_err e;
	uint64_t size;
	uint8_t last[32];
	int64_t t, committed_ms;
	pthread_t th;
	NEED_PG();
	a = open_created();
	w.p = open_pg(0, 0);
	assert_int_equal(ml_pg_begin(a, &size, last, &t, &e), ML_OK);
	assert_int_equal(pthread_create(&th, NULL, second_writer, &w), 0);
	usleep(300000); /* the second begin is now waiting on the head row */
	put_n(a, size, last, 2);
	committed_ms = now_ms();
	assert_int_equal(ml_pg_commit(a, &e), ML_OK);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(w.rc, ML_OK);
	assert_true(w.done_ms >= committed_ms);
	assert_int_equal(w.size, 2); /* it saw the first writer's entries */
	assert_int_equal(ml_pg_head(a, &size, last, &t, &e), ML_OK);
	assert_int_equal(size, 3);
	ml_pg_close(w.p);
	ml_pg_close(a);
}

static void
test_missing_seq(void **state)
{
	struct ml_pg *p;
	struct ml_err e;
	struct got g = {0};
	NEED_PG();
	p = open_created();
	append_n(p, 5);
	/* Entries are append-only... */
	ml_err_clear(&e);
	{
		PGconn *c = PQconnectdb(url);
		PGresult *r = PQexec(c, "DELETE FROM mlledger_entries WHERE seq = 2");
		assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
		assert_non_null(strstr(PQresultErrorMessage(r), "append-only"));
		PQclear(r);
		PQfinish(c);
	}
	/* ...unless the owner tampers on purpose. */
	sql1("ALTER TABLE mlledger_entries DISABLE TRIGGER USER");
	sql1("DELETE FROM mlledger_entries WHERE seq = 2");
	assert_int_equal(ml_pg_entries(p, 0, 5, collect, &g, &e), ML_EINTEGRITY);
	assert_int_equal(e.seq, 2);
	assert_non_null(strstr(e.msg, "entry 2 is missing"));
	assert_int_equal(g.n, 2);
	/* The tail missing too. */
	g.n = 0;
	assert_int_equal(ml_pg_entries(p, 3, 7, collect, &g, &e), ML_EINTEGRITY);
	assert_int_equal(e.seq, 5);
	/* A row of the wrong shape (its CHECK dropped first). */
	sql1("ALTER TABLE mlledger_entries DROP CONSTRAINT mlledger_entries_prev_check");
	sql1("UPDATE mlledger_entries SET prev = '\\x0102' WHERE seq = 1");
	g.n = 0;
	assert_int_equal(ml_pg_entries(p, 0, 2, collect, &g, &e), ML_EINTEGRITY);
	assert_int_equal(e.seq, 1);
	assert_non_null(strstr(e.msg, "entry 1 is malformed"));
	ml_pg_close(p);
}

static int
stop_at_second(void *ctx, const struct ml_entry *en, const uint8_t leaf[32], struct ml_err *e)
{
	return ++*(int *)ctx == 2 ? ml_err_set(e, ML_EDENY, "stop") : 0;
}

/* Many entries (several chunks) and a callback that stops the walk. */
static void
test_chunks(void **state)
{
	struct ml_pg *p;
	struct ml_err e;
	int calls = 0, i;
	uint64_t size = 0;
	NEED_PG();
	p = open_created();
	for (i = 0; i < 6; i++)
		size = append_n(p, 256);
	assert_int_equal(size, 1536);
	assert_int_equal(ml_pg_entries(p, 0, size, stop_at_second, &calls, &e), ML_EDENY);
	assert_int_equal(calls, 2);
	ml_pg_close(p);
}

struct notes {
	int n;
	uint64_t size[8];
};

static int
note_each(void *ctx, uint64_t size, const char *note, struct ml_err *e)
{
	struct notes *ns = ctx;
	ns->size[ns->n++] = size;
	assert_non_null(strstr(note, "example.org/log\n"));
	return 0;
}

static void
test_checkpoints(void **state)
{
	struct ml_pg *p;
	struct ml_err e;
	struct notes ns = {0};
	char *note = NULL;
	uint64_t size;
	NEED_PG();
	p = open_created();
	assert_int_equal(ml_pg_checkpoint_latest(p, UINT64_MAX, &size, &note, &e), ML_EINPUT);
	assert_int_equal(ml_pg_checkpoint_put(p, 1, "example.org/log\n1\nA=\n", &e), ML_OK);
	assert_int_equal(ml_pg_checkpoint_put(p, 5, "example.org/log\n5\nB=\n", &e), ML_OK);
	assert_int_equal(ml_pg_checkpoint_put(p, 3, "example.org/log\n3\nC=\n", &e), ML_OK);
	/* The first note of a size is kept. */
	assert_int_equal(ml_pg_checkpoint_put(p, 3, "example.org/log\n3\nD=\n", &e), ML_OK);
	assert_int_equal(ml_pg_checkpoint_put(p, 4, "", &e), ML_EINPUT);
	assert_int_equal(ml_pg_checkpoint_latest(p, 4, &size, &note, &e), ML_OK);
	assert_int_equal(size, 3);
	assert_string_equal(note, "example.org/log\n3\nC=\n");
	free(note);
	assert_int_equal(ml_pg_checkpoint_latest(p, UINT64_MAX, &size, &note, &e), ML_OK);
	assert_int_equal(size, 5);
	free(note);
	assert_int_equal(ml_pg_checkpoint_latest(p, 0, &size, &note, &e), ML_EINPUT);
	assert_int_equal(ml_pg_checkpoint_get(p, 1, &note, &e), ML_OK);
	assert_string_equal(note, "example.org/log\n1\nA=\n");
	free(note);
	assert_int_equal(ml_pg_checkpoint_get(p, 2, &note, &e), ML_EINPUT);
	assert_int_equal(ml_pg_checkpoint_each(p, note_each, &ns, &e), ML_OK);
	assert_int_equal(ns.n, 3);
	assert_int_equal(ns.size[0], 1);
	assert_int_equal(ns.size[1], 3);
	assert_int_equal(ns.size[2], 5);
	ml_pg_close(p);
}

static void
test_bad_urls(void **state)
{
	char longurl[ML_PG_URL_MAX + 10];
	struct ml_pg *p = NULL;
	struct ml_err e;
	struct ml_pg_opts o = {0, 0};
	NEED_PG();
	assert_true(ml_pg_is_url("postgresql://h/db"));
	assert_true(ml_pg_is_url("postgres://h/db"));
	assert_false(ml_pg_is_url("ledger.db"));
	memset(longurl, 'a', sizeof longurl - 1);
	longurl[sizeof longurl - 1] = 0;
	memcpy(longurl, "postgresql://", 13);
	assert_int_equal(ml_pg_connect(longurl, &o, &p, &e), ML_EINPUT);
	assert_int_equal(ml_pg_connect("postgresql://u:%zz@h/db", &o, &p, &e), ML_EINPUT);
	assert_null(strstr(e.msg, "%zz"));
	/* Nothing listens on port 1: ML_EIO naming the store, no password. */
	assert_int_equal(ml_pg_connect("postgresql://u:sekrit@127.0.0.1:1/db", &o, &p, &e),
			 ML_EIO);
	assert_non_null(strstr(e.msg, "127.0.0.1:1/db"));
	assert_null(strstr(e.msg, "sekrit"));
	assert_null(p);
}

/* A connection the server dropped is re-established at the next begin. */
static void
test_reconnect(void **state)
{
	struct ml_pg *p;
	NEED_PG();
	p = open_created();
	append_n(p, 1);
	assert_string_equal(sql1("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
				 "WHERE application_name = 'mlledger'"),
			    "1");
	usleep(100000);
	assert_int_equal(append_n(p, 1), 2);
	ml_pg_close(p);
}


/* ML_TEST_PG_BENCH=N: N commits of 256 entries of 1 KiB through ml_pg_put
 * (COPY binary), against the same rows by one multi-row parameterised
 * INSERT per batch (libpq directly): prints entries/s of each. */
static double
bench_pgstore(int n)
{
	struct ml_pg *p = open_created();
	int64_t t0 = now_ms();
	int i;
	for (i = 0; i < n; i++)
		append_n(p, 256);
	ml_pg_close(p);
	return 256.0 * n * 1000.0 / (double)(now_ms() - t0 + 1);
}

static double
bench_insert(int n)
{
	static uint8_t be[256][2][8], h[32];
	static const char *val[256 * 5];
	static int len[256 * 5], fmt[256 * 5];
	static char sql[256 * 64];
	PGconn *c = PQconnectdb(url);
	PGresult *r;
	int64_t t0;
	int i, j, k;
	size_t o = (size_t)snprintf(sql, sizeof sql, "INSERT INTO mlledger_entries "
				    "(seq, time_us, prev, leaf, envelope) VALUES ");
	for (j = 0; j < 256; j++)
		o += (size_t)snprintf(sql + o, sizeof sql - o, "%s($%d::int8,$%d::int8,$%d,$%d,$%d)",
				      j ? "," : "", 5 * j + 1, 5 * j + 2, 5 * j + 3, 5 * j + 4,
				      5 * j + 5);
	t0 = now_ms();
	for (i = 0; i < n; i++) {
		for (j = 0; j < 256; j++) {
			ml_put_be64(be[j][0], (uint64_t)(i * 256 + j));
			ml_put_be64(be[j][1], 1);
			for (k = 0; k < 5; k++)
				fmt[5 * j + k] = 1;
			val[5 * j] = (const char *)be[j][0];
			len[5 * j] = 8;
			val[5 * j + 1] = (const char *)be[j][1];
			len[5 * j + 1] = 8;
			val[5 * j + 2] = val[5 * j + 3] = (const char *)h;
			len[5 * j + 2] = len[5 * j + 3] = 32;
			val[5 * j + 4] = (const char *)env_buf[1];
			len[5 * j + 4] = 1024;
		}
		PQclear(PQexec(c, "BEGIN"));
		r = PQexecParams(c, sql, 256 * 5, NULL, val, len, fmt, 0);
		assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
		PQclear(r);
		PQclear(PQexec(c, "COMMIT"));
	}
	PQfinish(c);
	return 256.0 * n * 1000.0 / (double)(now_ms() - t0 + 1);
}

static void
test_bench(void **state)
{
	const char *b = getenv("ML_TEST_PG_BENCH");
	int n = b ? atoi(b) : 0;
	double copy, insert;
	NEED_PG();
	if (n <= 0)
		skip();
	env_len[0] = env_len[1] = env_len[2] = 1024;
	copy = bench_pgstore(n);
	setup(state);
	ml_pg_close(open_created());
	insert = bench_insert(n);
	printf("# bench: %d x 256 entries of 1 KiB: ml_pg_put/commit (COPY binary) %.0f/s, "
	       "multi-row INSERT %.0f/s\n", n, copy, insert);
	env_len[0] = 1;
	env_len[1] = 700;
	env_len[2] = 65536;
}

static int
pg_ctl(const char *what)
{
	char cmd[512];
	const char *ctl = getenv("ML_TEST_PG_CTL");
	snprintf(cmd, sizeof cmd, "%s %s", ctl, what);
	return system(cmd);
}

/* The standby is gone: min_sync 1 refuses before writing; min_sync 0 gets
 * the "committed locally" warning after the timeout: ML_EIO, although the
 * rows are on the primary (the trap).  Back: commits work again. */
static void
test_standby_lost(void **state)
{
	struct ml_pg *strict, *lax;
	struct ml_err e;
	uint64_t size;
	uint8_t last[32];
	int64_t t, t0;
	NEED_PG();
	if (!getenv("ML_TEST_PG_CTL"))
		skip();
	strict = open_created();
	ml_pg_close(strict);
	strict = open_pg(1, 500);
	lax = open_pg(0, 500);
	assert_int_equal(append_n(strict, 1), 1);
	assert_int_equal(pg_ctl("standby-stop"), 0);

	assert_int_equal(ml_pg_begin(strict, &size, last, &t, &e), ML_OK);
	put_n(strict, size, last, 1);
	assert_int_equal(ml_pg_commit(strict, &e), ML_EIO);
	printf("# %s\n", e.msg);
	assert_non_null(strstr(e.msg, "no synchronous standby connected to 127.0.0.1:"));
	assert_string_equal(sql1("SELECT count(*) FROM mlledger_entries"), "1");

	assert_int_equal(ml_pg_begin(lax, &size, last, &t, &e), ML_OK);
	put_n(lax, size, last, 1);
	t0 = now_ms();
	assert_int_equal(ml_pg_commit(lax, &e), ML_EIO);
	assert_true(now_ms() - t0 >= 450 && now_ms() - t0 < 8000);
	printf("# %s\n", e.msg);
	assert_non_null(strstr(e.msg, "not replicated"));
	/* The trap is real: the row is on the primary all the same. */
	assert_string_equal(sql1("SELECT count(*) FROM mlledger_entries"), "2");
	/* A commit with nothing put waits for the standby too: what its begin
	 * returned (that row) is not replicated, so it may not count. */
	assert_int_equal(ml_pg_begin(lax, &size, last, &t, &e), ML_OK);
	assert_int_equal(size, 2);
	assert_int_equal(ml_pg_commit(lax, &e), ML_EIO);
	assert_non_null(strstr(e.msg, "not replicated"));

	assert_int_equal(pg_ctl("standby-start"), 0);
	assert_int_equal(append_n(strict, 1), 3);
	assert_int_equal(append_n(lax, 1), 4);
	assert_int_equal(ml_pg_begin(lax, &size, last, &t, &e), ML_OK);
	assert_int_equal(ml_pg_commit(lax, &e), ML_OK); /* empty, replicated */
	assert_int_equal(ml_pg_head(lax, &size, last, &t, &e), ML_OK);
	assert_int_equal(size, 4);
	ml_pg_close(strict);
	ml_pg_close(lax);
}


/* A writer holding the head row longer than lock_timeout (the other's
 * commit timeout + 10 s): the other's begin gives up, ML_EIO. */
static void
test_lock_timeout(void **state)
{
	struct ml_pg *a, *b;
	struct ml_err e;
	uint64_t size;
	uint8_t last[32];
	int64_t t, t0;
	NEED_PG();
	a = open_created();
	b = open_pg(0, 100);
	assert_int_equal(ml_pg_begin(a, &size, last, &t, &e), ML_OK);
	t0 = now_ms();
	assert_int_equal(ml_pg_begin(b, &size, last, &t, &e), ML_EIO);
	assert_true(now_ms() - t0 >= 10000 && now_ms() - t0 < 20000);
	printf("# %s\n", e.msg);
	assert_non_null(strstr(e.msg, "lock timeout"));
	ml_pg_rollback(a);
	assert_int_equal(append_n(b, 1), 1);
	ml_pg_close(a);
	ml_pg_close(b);
}

static void *
stop_backend_later(void *arg)
{
	usleep(200000);
	*(int *)arg = kill((pid_t) * (int *)arg, SIGSTOP);
	return NULL;
}

/* The server stops answering under a COMMIT (its backend SIGSTOPped while
 * waiting for the stopped standby): after the timeout, the cancel and its
 * 5 s, ML_EIO, outcome unknown; the next begin opens a new connection. */
static void
test_commit_hung(void **state)
{
	struct ml_pg *p;
	struct ml_err e;
	uint64_t size;
	uint8_t last[32];
	int64_t t, t0;
	int pid, arg;
	pthread_t th;
	NEED_PG();
	if (!getenv("ML_TEST_PG_CTL"))
		skip();
	ml_pg_close(open_created());
	p = open_pg(0, 300);
	pid = atoi(sql1("SELECT pid FROM pg_stat_activity WHERE application_name = 'mlledger'"));
	assert_true(pid > 0);
	assert_int_equal(pg_ctl("standby-stop"), 0);
	assert_int_equal(ml_pg_begin(p, &size, last, &t, &e), ML_OK);
	put_n(p, size, last, 1);
	arg = pid;
	assert_int_equal(pthread_create(&th, NULL, stop_backend_later, &arg), 0);
	t0 = now_ms();
	assert_int_equal(ml_pg_commit(p, &e), ML_EIO);
	assert_true(now_ms() - t0 >= 5000);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(arg, 0);
	printf("# %s\n", e.msg);
	assert_non_null(strstr(e.msg, "outcome unknown"));
	assert_int_equal(kill(pid, SIGCONT), 0);
	assert_int_equal(pg_ctl("standby-start"), 0);
	assert_int_equal(ml_pg_begin(p, &size, last, &t, &e), ML_OK);
	assert_int_equal(size, 1); /* committed locally after all, then replicated */
	ml_pg_rollback(p);
	ml_pg_close(p);
}

static void *
kill_primary_later(void *arg)
{
	usleep(500000);
	*(int *)arg = pg_ctl("primary-kill9");
	return NULL;
}

/* Last (it kills the primary).  Three entries acknowledged; then, standby
 * stopped, a fourth's COMMIT waits and the primary dies under it: ML_EIO.
 * The standby is promoted: a front-end on the multi-host URL finds it,
 * sees exactly the acknowledged entries, and may not write while the new
 * primary has no synchronous standby of its own.  On the promoted node,
 * pg_is_in_recovery is false; on the standby before, true. */
static void
test_failover(void **state)
{
	const char *multi = getenv("ML_TEST_PG_URL_MULTI");
	const char *sby = getenv("ML_TEST_PG_URL_STANDBY");
	char murl[ML_PG_URL_MAX + 1], surl[ML_PG_URL_MAX + 1];
	struct ml_pg_opts o = {1, 3000}, lax = {0, 3000};
	struct ml_pg *p, *p0, *s = NULL;
	struct ml_err e;
	uint64_t size;
	uint8_t last[32];
	int64_t t;
	int standby = -1, killed = -1, i;
	pthread_t th;
	NEED_PG();
	if (!multi || !sby || !getenv("ML_TEST_PG_CTL"))
		skip();
	ml_pg_close(open_created());
	snprintf(murl, sizeof murl, "%s&options=-c%%20search_path%%3Dt%d", multi, schema_no);
	assert_int_equal(ml_pg_connect(murl, &o, &p, &e), ML_OK);
	assert_int_equal(ml_pg_connect(murl, &lax, &p0, &e), ML_OK);
	assert_int_equal(append_n(p, 3), 3);
	snprintf(surl, sizeof surl, "%s?options=-c%%20search_path%%3Dt%d", sby, schema_no);
	assert_int_equal(ml_pg_connect(surl, NULL, &s, &e), ML_OK);
	assert_int_equal(ml_pg_standby(s, &standby, &e), ML_OK);
	assert_int_equal(standby, 1);
	/* A hot standby takes no write transaction (once it has replayed the
	 * schema: synchronous_commit on waits for the flush, not the replay). */
	for (i = 0; i < 50 && ml_pg_head(s, &size, last, &t, &e) == ML_EINPUT; i++)
		usleep(100000);
	assert_int_equal(ml_pg_begin(s, &size, last, &t, &e), ML_EIO);
	printf("# %s\n", e.msg);
	assert_non_null(strstr(e.msg, "read-only"));
	ml_pg_close(s);

	assert_int_equal(pg_ctl("standby-stop"), 0);
	/* min_sync 0: straight to the COMMIT wait. */
	assert_int_equal(ml_pg_begin(p0, &size, last, &t, &e), ML_OK);
	put_n(p0, size, last, 1);
	assert_int_equal(pthread_create(&th, NULL, kill_primary_later, &killed), 0);
	assert_int_equal(ml_pg_commit(p0, &e), ML_EIO);
	ml_pg_close(p0);
	printf("# %s\n", e.msg);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(killed, 0);

	assert_int_equal(pg_ctl("standby-start nowait"), 0);
	assert_int_equal(pg_ctl("standby-promote"), 0);
	if (ml_pg_head(p, &size, last, &t, &e))
		fail_msg("head after failover: %s", e.msg);
	assert_int_equal(size, 3);
	assert_int_equal(ml_pg_standby(p, &standby, &e), ML_OK);
	assert_int_equal(standby, 0);
	assert_int_equal(ml_pg_begin(p, &size, last, &t, &e), ML_OK);
	put_n(p, size, last, 1);
	assert_int_equal(ml_pg_commit(p, &e), ML_EIO);
	assert_non_null(strstr(e.msg, "no synchronous standby"));
	ml_pg_close(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_create_identity, setup),
		cmocka_unit_test_setup(test_roundtrip, setup),
		cmocka_unit_test_setup(test_wrong_seq, setup),
		cmocka_unit_test_setup(test_serialised, setup),
		cmocka_unit_test_setup(test_missing_seq, setup),
		cmocka_unit_test_setup(test_chunks, setup),
		cmocka_unit_test_setup(test_checkpoints, setup),
		cmocka_unit_test_setup(test_bad_urls, setup),
		cmocka_unit_test_setup(test_reconnect, setup),
		cmocka_unit_test_setup(test_standby_lost, setup),
		cmocka_unit_test_setup(test_lock_timeout, setup),
		cmocka_unit_test_setup(test_commit_hung, setup),
		cmocka_unit_test_setup(test_bench, setup),
		cmocka_unit_test_setup(test_failover, setup), /* last: kills the primary */
	};
	base_url = getenv("ML_TEST_PG_URL");
	if (base_url && !*base_url)
		base_url = NULL;
	if (!base_url)
		printf("# SKIP test_pgstore: ML_TEST_PG_URL is not set (make ha-test sets it)\n");
	fill_envs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
