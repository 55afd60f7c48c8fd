/* store — see store.h. */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "proj.h"

#define BUSY_TIMEOUT_MS 60000

/* Projection tables (in the ledger; verify's replay of them is proj.h's).
 * "%s" stands for the schema prefix; "%%" for "%". */
static const char *const projection_ddl[] = {
	"CREATE TABLE %skeys (\n"
	"  keyid TEXT PRIMARY KEY NOT NULL,\n"
	"  name TEXT NOT NULL,\n"
	"  vkey TEXT NOT NULL,\n"
	"  roles TEXT NOT NULL,\n"
	"  enrolled_seq INTEGER NOT NULL,\n"
	"  revoked_seq INTEGER\n"
	") STRICT",
	"CREATE TABLE %ssubjects (\n"
	"  kind TEXT NOT NULL,\n"
	"  ref TEXT NOT NULL,\n"
	"  digest BLOB NOT NULL,\n"
	"  seq INTEGER NOT NULL,\n"
	"  PRIMARY KEY (kind, ref)\n"
	") STRICT, WITHOUT ROWID",
	"CREATE TABLE %sentry_index (\n"
	"  seq INTEGER PRIMARY KEY NOT NULL,\n"
	"  kind TEXT NOT NULL,\n"
	"  name TEXT NOT NULL,\n"
	"  version TEXT NOT NULL,\n"
	"  keyid TEXT NOT NULL,\n"
	"  stmt_hash BLOB NOT NULL,\n"
	"  UNIQUE (keyid, stmt_hash)\n"
	") STRICT",
	"CREATE INDEX %sentry_index_subject ON entry_index (name, version)",
	"CREATE INDEX %sentry_index_kind ON entry_index (name, kind)",
	NULL};

/* The idempotency-key projection (FORMAT.md §7): the first entry of each
 * (keyid, idempotencyKey).  Apart from projection_ddl because ledgers
 * written before it existed lack it (ml_store_idem_present). */
static const char *const idem_ddl[] = {
	"CREATE TABLE %sidempotency_keys (\n"
	"  keyid TEXT NOT NULL,\n"
	"  idem_key TEXT NOT NULL,\n"
	"  seq INTEGER NOT NULL,\n"
	"  PRIMARY KEY (keyid, idem_key)\n"
	") STRICT, WITHOUT ROWID",
	NULL};

/* The Merkle tree's complete subtrees of level >= 1, and the signed
 * checkpoints: only in the ledger (verify recomputes them). */
static const char *const tree_ddl[] = {
	"CREATE TABLE tree (\n"
	"  level INTEGER NOT NULL,\n"
	"  idx INTEGER NOT NULL,\n"
	"  hash BLOB NOT NULL,\n"
	"  PRIMARY KEY (level, idx)\n"
	") STRICT, WITHOUT ROWID",
	"CREATE TABLE checkpoints (\n"
	"  size INTEGER PRIMARY KEY NOT NULL,\n"
	"  note TEXT NOT NULL\n"
	") STRICT",
	"CREATE TRIGGER tree_append_only_u BEFORE UPDATE ON tree\n"
	"BEGIN SELECT RAISE(ABORT, 'tree is append-only'); END",
	"CREATE TRIGGER tree_append_only_d BEFORE DELETE ON tree\n"
	"BEGIN SELECT RAISE(ABORT, 'tree is append-only'); END",
	"CREATE TRIGGER checkpoints_append_only_u BEFORE UPDATE ON checkpoints\n"
	"BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END",
	"CREATE TRIGGER checkpoints_append_only_d BEFORE DELETE ON checkpoints\n"
	"BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END",
	NULL};

/* Tables only the ledger itself has. */
static const char *const main_ddl[] = {
	"CREATE TABLE meta (\n"
	"  key TEXT PRIMARY KEY NOT NULL,\n"
	"  value TEXT NOT NULL\n"
	") STRICT",
	"CREATE TABLE entries (\n"
	"  seq INTEGER PRIMARY KEY NOT NULL,\n"
	"  prev BLOB NOT NULL,\n"
	"  appended_us INTEGER NOT NULL,\n"
	"  envelope BLOB NOT NULL,\n"
	"  leaf_hash BLOB NOT NULL\n"
	") STRICT",
	"CREATE TRIGGER entries_append_only_u BEFORE UPDATE ON entries\n"
	"BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END",
	"CREATE TRIGGER entries_append_only_d BEFORE DELETE ON entries\n"
	"BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END",
	"CREATE TRIGGER entry_index_append_only_u BEFORE UPDATE ON entry_index\n"
	"BEGIN SELECT RAISE(ABORT, 'entry_index is append-only'); END",
	"CREATE TRIGGER entry_index_append_only_d BEFORE DELETE ON entry_index\n"
	"BEGIN SELECT RAISE(ABORT, 'entry_index is append-only'); END",
	NULL};

enum stmt_id {
	Q_META_GET, Q_META_SET, Q_HEAD, Q_ENTRY_INS, Q_ENTRY_GET,
	Q_KEY_GET, Q_KEY_BY_NAME, Q_KEY_INS, Q_KEY_REVOKE, Q_ADMINS, Q_KEY_EACH,
	Q_SUBJ_GET, Q_SUBJ_INS, Q_IX_FIND, Q_IX_INS, Q_SCAN, Q_KEY_BY_PK, Q_META_COUNT,
	Q_LEAF_GET, Q_NODE_GET, Q_NODE_INS, Q_CKPT_INS, Q_CKPT_GET, Q_CKPT_LAST, Q_CKPT_SCAN,
	Q_NODE_COUNT, Q_IDEM_FIND, Q_IDEM_INS, Q_IDEM_PRESENT,
	Q_SAVEPOINT, Q_RELEASE, Q_UNDO,
	Q_COUNT
};

static const char *const stmt_sql[Q_COUNT] = {
	/* a server's batch takes one savepoint an item: prepared once */
	[Q_SAVEPOINT] = "SAVEPOINT ml_item",
	[Q_RELEASE] = "RELEASE ml_item",
	[Q_UNDO] = "ROLLBACK TO ml_item",
	[Q_META_GET] = "SELECT value FROM %smeta WHERE key = ?1",
	[Q_META_SET] = "INSERT OR REPLACE INTO %smeta (key, value) VALUES (?1, ?2)",
	[Q_HEAD] = "SELECT seq, leaf_hash, appended_us FROM %sentries ORDER BY seq DESC LIMIT 1",
	[Q_ENTRY_INS] = "INSERT INTO %sentries (seq, prev, appended_us, envelope, leaf_hash) "
			"VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_ENTRY_GET] = "SELECT prev, appended_us, envelope, leaf_hash FROM %sentries "
			"WHERE seq = ?1",
	[Q_KEY_GET] = "SELECT keyid, name, vkey, roles, enrolled_seq, revoked_seq "
		      "FROM %skeys WHERE keyid = ?1",
	[Q_KEY_BY_NAME] = "SELECT keyid, name, vkey, roles, enrolled_seq, revoked_seq "
			  "FROM %skeys WHERE name = ?1 AND revoked_seq IS NULL",
	[Q_LEAF_GET] = "SELECT leaf_hash FROM %sentries WHERE seq = ?1",
	[Q_NODE_GET] = "SELECT hash FROM %stree WHERE level = ?1 AND idx = ?2",
	[Q_NODE_INS] = "INSERT INTO %stree (level, idx, hash) VALUES (?1, ?2, ?3)",
	[Q_CKPT_INS] = "INSERT INTO %scheckpoints (size, note) VALUES (?1, ?2)",
	[Q_CKPT_GET] = "SELECT size, note FROM %scheckpoints WHERE size = ?1",
	[Q_CKPT_LAST] = "SELECT size, note FROM %scheckpoints ORDER BY size DESC LIMIT 1",
	[Q_CKPT_SCAN] = "SELECT size, note FROM %scheckpoints ORDER BY size",
	[Q_NODE_COUNT] = "SELECT count(*) FROM %stree",
	[Q_KEY_BY_PK] = "SELECT keyid, name, vkey, roles, enrolled_seq, revoked_seq "
			"FROM %skeys WHERE substr(vkey, -44) = ?1",
	[Q_META_COUNT] = "SELECT count(*) FROM %smeta",
	[Q_KEY_INS] = "INSERT INTO %skeys (keyid, name, vkey, roles, enrolled_seq, "
		      "revoked_seq) VALUES (?1, ?2, ?3, ?4, ?5, NULL)",
	[Q_KEY_REVOKE] = "UPDATE %skeys SET revoked_seq = ?2 WHERE keyid = ?1 "
			 "AND revoked_seq IS NULL",
	[Q_ADMINS] = "SELECT count(*) FROM %skeys WHERE revoked_seq IS NULL AND "
		     "(',' || roles || ',') LIKE '%%,admin,%%'",
	[Q_KEY_EACH] = "SELECT keyid, name, vkey, roles, enrolled_seq, revoked_seq "
		       "FROM %skeys ORDER BY enrolled_seq",
	[Q_SUBJ_GET] = "SELECT digest, seq FROM %ssubjects WHERE kind = ?1 AND ref = ?2",
	[Q_SUBJ_INS] = "INSERT INTO %ssubjects (kind, ref, digest, seq) VALUES (?1, ?2, ?3, ?4)",
	[Q_IX_FIND] = "SELECT seq FROM %sentry_index WHERE keyid = ?1 AND stmt_hash = ?2",
	[Q_IX_INS] = "INSERT INTO %sentry_index (seq, kind, name, version, keyid, stmt_hash) "
		     "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[Q_IDEM_FIND] = "SELECT seq FROM %sidempotency_keys WHERE keyid = ?1 AND idem_key = ?2",
	/* the first entry of a (keyid, key) stays the row */
	[Q_IDEM_INS] = "INSERT OR IGNORE INTO %sidempotency_keys (keyid, idem_key, seq) "
		       "VALUES (?1, ?2, ?3)",
	[Q_IDEM_PRESENT] = "SELECT count(*) FROM %ssqlite_master WHERE type = 'table' AND "
			   "name = 'idempotency_keys'",
	[Q_SCAN] = "SELECT e.seq, e.prev, e.appended_us, e.envelope, e.leaf_hash, "
		   "i.kind, i.name, i.version, i.keyid, i.stmt_hash "
		   "FROM %sentries e LEFT JOIN %sentry_index i ON i.seq = e.seq "
		   "WHERE e.seq >= ?1 ORDER BY e.seq",
};

struct ml_store {
	sqlite3 *db;  /* the ledger */
	struct ml_proj *proj; /* the replay projection (verify), in memory */
	char *path;
	sqlite3_stmt *stmts[Q_COUNT];
	sqlite3_stmt *seq_stmts[16]; /* ml_store_query_seqs, by filter bits */
};

/* Copies tmpl into out, replacing each "%s" with prefix and "%%" with "%". */
static void
fill(char *out, size_t cap, const char *tmpl, const char *prefix)
{
	size_t o = 0, plen = strlen(prefix);

	for (; *tmpl && o + 1 < cap; tmpl++) {
		if (tmpl[0] == '%' && tmpl[1] == 's' && o + plen + 1 < cap) {
			memcpy(out + o, prefix, plen);
			o += plen;
			tmpl++;
		} else if (tmpl[0] == '%' && tmpl[1] == '%') {
			out[o++] = '%';
			tmpl++;
		} else {
			out[o++] = *tmpl;
		}
	}
	out[o] = '\0';
}

static int
errh(struct ml_store *s, sqlite3 *h, struct ml_err *e, const char *what)
{
	int code = sqlite3_errcode(h);
	int rc = (code == SQLITE_CONSTRAINT) ? ML_EINTEGRITY : ML_EIO;

	return ml_err_set(e, rc, "%s: %s: %s", s->path, what, sqlite3_errmsg(h));
}

static int
db_err(struct ml_store *s, struct ml_err *e, const char *what)
{
	return errh(s, s->db, e, what);
}

/* The replay projection, or NULL with e set when none is attached. */
static struct ml_proj *
replay(struct ml_store *s, struct ml_err *e)
{
	if (!s->proj)
		ml_err_set(e, ML_EIO, "%s: replay projection not attached", s->path);
	return s->proj;
}

static sqlite3_stmt *
prep(struct ml_store *s, enum ml_db db, enum stmt_id id, struct ml_err *e)
{
	const char *prefix = "main."; /* each connection's own main schema */
	char sql[1024];
	sqlite3_stmt *st = s->stmts[id];

	if (db != ML_DB_MAIN) { /* the replay is answered by proj, never by SQL */
		ml_err_set(e, ML_EIO, "%s: no SQL for the replay projection", s->path);
		return NULL;
	}
	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return st;
	}
	fill(sql, sizeof sql, stmt_sql[id], prefix);
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
	    SQLITE_OK) {
		char what[96]; /* names the statement: its SQL, cut */
		snprintf(what, sizeof what, "prepare \"%.80s%s\"", sql, strlen(sql) > 80 ? "..." : "");
		db_err(s, e, what);
		return NULL;
	}
	s->stmts[id] = st;
	return st;
}

static int
exec(struct ml_store *s, const char *sql, struct ml_err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		ml_err_set(e, ML_EIO, "%s: %s", s->path, msg ? msg : "SQLite error");
		sqlite3_free(msg);
		return ML_EIO;
	}
	return ML_OK;
}

/* Runs the statements of ddl; with only_tables, or only_indexes, skips the
 * CREATE INDEX statements, or the others. */
static int
exec_ddl_part(struct ml_store *s, const char *const *ddl, const char *prefix,
	      int only_tables, int only_indexes, struct ml_err *e)
{
	char sql[1024];

	for (; *ddl; ddl++) {
		int index = strncmp(*ddl, "CREATE INDEX ", 13) == 0;
		if ((only_tables && index) || (only_indexes && !index))
			continue;
		fill(sql, sizeof sql, *ddl, prefix);
		if (exec(s, sql, e))
			return e->code;
	}
	return ML_OK;
}

static int
exec_ddl(struct ml_store *s, const char *const *ddl, const char *prefix,
	 struct ml_err *e)
{
	return exec_ddl_part(s, ddl, prefix, 0, 0, e);
}

/* SQLite's allocation statistics take a global mutex on every malloc and
 * free, and nothing here reads them: off, once, before SQLite initialises
 * (a no-op, SQLITE_MISUSE, if something initialised it first). */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void
sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* flags are sqlite3_open_v2's; SQLITE_OPEN_NOMUTEX only where the caller
 * said the store stays on one thread (ML_STORE_ONE_THREAD). */
static int
open_db(const char *path, int flags, struct ml_store **out, struct ml_err *e)
{
	struct ml_store *s = calloc(1, sizeof *s);

	pthread_once(&sqlite_once, sqlite_setup);
	if (!s || !(s->path = strdup(path))) {
		free(s);
		return ml_err_set(e, ML_EIO, "out of memory");
	}
	if (sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOFOLLOW,
			    NULL) != SQLITE_OK) {
		int rc = ml_err_set(e, ML_EIO, "%s: cannot open: %s", path,
				    s->db ? sqlite3_errmsg(s->db) : "out of memory");
		ml_store_close(s);
		return rc;
	}
	sqlite3_extended_result_codes(s->db, 0);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	/* Ledger files come from outside: no triggers or views may run code
	 * we did not write, and no schema-defined functions. */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);

	*out = s;
	return ML_OK;
}

/* A failure to read the header: ML_EINPUT "not SQLite" only when SQLite
 * says the file is not a database (or is malformed); any other result
 * (full disk, I/O error, busy, out of memory) is a storage error, ML_EIO,
 * since it proves nothing about the file. */
static int
header_err(struct ml_store *s, int code, struct ml_err *e)
{
	if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
		return ml_err_set(e, ML_EINPUT, "%s: not an mlledger ledger (not SQLite)", s->path);
	return ml_err_set(e, ML_EIO, "%s: read header: %s", s->path, sqlite3_errstr(code));
}

/* Reads one integer PRAGMA into *v; errors as header_err. */
static int
pragma_int(struct ml_store *s, const char *sql, int64_t *v, struct ml_err *e)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL)) != SQLITE_OK)
		return header_err(s, rc, e);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return header_err(s, rc, e);
	return ML_OK;
}

int
ml_store_create(const char *path, struct ml_store **out, struct ml_err *e)
{
	struct ml_store *s;
	char sql[128];
	struct stat st;

	if (stat(path, &st) == 0)
		return ml_err_set(e, ML_EINPUT, "%s: already exists; refusing to overwrite a ledger",
				  path);
	if (open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &s, e))
		return e->code;
	snprintf(sql, sizeof sql, "PRAGMA application_id = %d; PRAGMA user_version = %d;",
		 ML_APPLICATION_ID, ML_FORMAT_VERSION);
	/* 16 KiB pages, set before the first write fixes them (WAL mode cannot
	 * change them later): a quarter of the WAL writes and reads of 4 KiB
	 * pages for an import, and a smaller file (FORMAT.md §7, "Storage
	 * notes").  Ledgers made before keep their page size. */
	if (exec(s, "PRAGMA page_size = " ML_STORE_PAGE_SIZE ";", e) ||
	    exec(s, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;", e) ||
	    exec(s, sql, e) || exec(s, "BEGIN", e) || exec_ddl(s, projection_ddl, "", e) ||
	    exec_ddl(s, idem_ddl, "", e) || exec_ddl(s, main_ddl, "", e) || exec_ddl(s, tree_ddl, "", e) || exec(s, "COMMIT", e)) {
		ml_store_close(s);
		unlink(path);
		return e->code;
	}
	*out = s;
	return ML_OK;
}

int
ml_store_open(const char *path, int writable, struct ml_store **out, struct ml_err *e)
{
	struct ml_store *s;
	struct stat st;
	int64_t app = 0, ver = 0;
	int rc;

	if (lstat(path, &st) != 0)
		return ml_err_set(e, ML_EINPUT, "%s: no ledger here (create one with "
				  "'mlledger init', or give --ledger PATH)", path);
	if (S_ISLNK(st.st_mode))
		return ml_err_set(e, ML_EINPUT, "%s: is a symbolic link; give the ledger's real "
				  "path", path);
	if (!S_ISREG(st.st_mode))
		return ml_err_set(e, ML_EINPUT, "%s: not a ledger file", path);
	if (open_db(path, ((writable & ~ML_STORE_ONE_THREAD) ? SQLITE_OPEN_READWRITE
							     : SQLITE_OPEN_READONLY) |
				  ((writable & ML_STORE_ONE_THREAD) ? SQLITE_OPEN_NOMUTEX : 0),
		    &s, e))
		return e->code;
	writable &= ~ML_STORE_ONE_THREAD;
	if ((rc = pragma_int(s, "PRAGMA application_id", &app, e))) {
		ml_store_close(s);
		return rc;
	}
	if (app != ML_APPLICATION_ID) {
		ml_store_close(s);
		return ml_err_set(e, ML_EINPUT, "%s: not an mlledger ledger", path);
	}
	if ((rc = pragma_int(s, "PRAGMA user_version", &ver, e))) {
		ml_store_close(s);
		return rc == ML_EINPUT ? ml_err_set(e, ML_EINPUT, "%s: not an mlledger ledger", path)
				       : rc;
	}
	if (ver < 1) {
		ml_store_close(s);
		return ml_err_set(e, ML_EINPUT, "%s: not an mlledger ledger (format version %lld)",
				  path, (long long)ver);
	}
	if (ver > ML_FORMAT_VERSION) {
		ml_store_close(s);
		return ml_err_set(e, ML_EINPUT, "%s: ledger format version %lld; this mlledger "
				  "reads version %d (upgrade mlledger)", path, (long long)ver,
				  ML_FORMAT_VERSION);
	}
	/* 64 MiB of page cache: a large import must not spill mid-transaction. */
	if (writable && exec(s, "PRAGMA synchronous = FULL; PRAGMA cache_size = -65536;", e)) {
		ml_store_close(s);
		return e->code;
	}
	*out = s;
	return ML_OK;
}

void
ml_store_unlink(const char *path)
{
	char aux[PATH_MAX + 8];

	unlink(path);
	snprintf(aux, sizeof aux, "%s-wal", path);
	unlink(aux);
	snprintf(aux, sizeof aux, "%s-shm", path);
	unlink(aux);
}

void
ml_store_close(struct ml_store *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(s->stmts[i]);
	for (i = 0; i < 16; i++)
		sqlite3_finalize(s->seq_stmts[i]);
	sqlite3_close(s->db);
	ml_proj_free(s->proj);
	free(s->path);
	free(s);
}

const char *
ml_store_path(const struct ml_store *s)
{
	return s->path;
}

int
ml_store_begin(struct ml_store *s, int write, struct ml_err *e)
{
	if (sqlite3_exec(s->db, write ? "BEGIN IMMEDIATE" : "BEGIN", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return db_err(s, e, write ? "cannot take the write lock" : "begin");
	if (!write) {
		/* A read transaction starts lazily: read now to pin the snapshot. */
		int64_t v;
		if (pragma_int(s, "SELECT count(*) FROM sqlite_master", &v, e)) {
			ml_store_rollback(s);
			return e->code;
		}
	}
	return ML_OK;
}

int
ml_store_commit(struct ml_store *s, struct ml_err *e)
{
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		int rc = db_err(s, e, "commit");
		ml_store_rollback(s);
		return rc;
	}
	return ML_OK;
}

void
ml_store_rollback(struct ml_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Runs the cached statement id, which returns no rows (transaction
 * control of the main database). */
static int
exec_cached(struct ml_store *s, enum stmt_id id, const char *what, struct ml_err *e)
{
	sqlite3_stmt *st = prep(s, ML_DB_MAIN, id, e);
	int rc;

	if (!st)
		return e->code;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? ML_OK : db_err(s, e, what);
}

int
ml_store_savepoint(struct ml_store *s, struct ml_err *e)
{
	return exec_cached(s, Q_SAVEPOINT, "savepoint", e);
}

int
ml_store_savepoint_release(struct ml_store *s, struct ml_err *e)
{
	return exec_cached(s, Q_RELEASE, "release savepoint", e);
}

int
ml_store_savepoint_undo(struct ml_store *s, struct ml_err *e)
{
	int rc = exec_cached(s, Q_UNDO, "roll back to savepoint", e);

	return rc ? rc : exec_cached(s, Q_RELEASE, "roll back to savepoint", e);
}

/* Steps a statement that returns no rows. */
static int
step_done(struct ml_store *s, sqlite3_stmt *st, const char *what, struct ml_err *e)
{
	int rc = sqlite3_step(st);

	/* the error of the connection the statement ran on (the ledger's or
	 * the replay projection's), read before the reset */
	if (rc != SQLITE_DONE) {
		rc = errh(s, sqlite3_db_handle(st), e, what);
		sqlite3_reset(st);
		return rc;
	}
	sqlite3_reset(st);
	return ML_OK;
}

/* The column's text up to its first NUL, cut to cap - 1 bytes (cap >= 1),
 * as snprintf("%s") would: a copy, without formatting, per row read. */
static void
copy_text(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	size_t n = t ? strnlen(t, cap - 1) : 0;

	if (n)
		memcpy(dst, t, n);
	dst[n] = '\0';
}

static void
copy_blob32(uint8_t *dst, sqlite3_stmt *st, int col)
{
	const void *b = sqlite3_column_blob(st, col);

	memset(dst, 0, ML_SHA256_LEN);
	if (b && sqlite3_column_bytes(st, col) == ML_SHA256_LEN)
		memcpy(dst, b, ML_SHA256_LEN);
}

int
ml_store_meta_get(struct ml_store *s, const char *key, char *buf, size_t cap,
		  struct ml_err *e)
{
	sqlite3_stmt *st = prep(s, ML_DB_MAIN, Q_META_GET, e);
	int rc;

	if (!st)
		return e->code;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		copy_text(buf, cap, st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return ml_err_set(e, ML_EINTEGRITY, "%s: meta \"%s\" is missing", s->path, key);
	return rc == SQLITE_ROW ? ML_OK : db_err(s, e, "read meta");
}

int
ml_store_meta_set(struct ml_store *s, const char *key, const char *value,
		  struct ml_err *e)
{
	sqlite3_stmt *st = prep(s, ML_DB_MAIN, Q_META_SET, e);

	if (!st)
		return e->code;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	return step_done(s, st, "write meta", e);
}

int
ml_store_head(struct ml_store *s, uint64_t *size, uint8_t last[ML_SHA256_LEN],
	      int64_t *last_time, struct ml_err *e)
{
	sqlite3_stmt *st = prep(s, ML_DB_MAIN, Q_HEAD, e);
	int rc;

	if (!st)
		return e->code;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*size = (uint64_t)sqlite3_column_int64(st, 0) + 1;
		copy_blob32(last, st, 1);
		*last_time = sqlite3_column_int64(st, 2);
	} else if (rc == SQLITE_DONE) {
		*size = 0;
		memset(last, 0, ML_SHA256_LEN);
		*last_time = 0;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ML_OK : db_err(s, e, "read head");
}

int
ml_store_entry_insert(struct ml_store *s, const struct ml_entry *en,
		      const uint8_t leaf[ML_SHA256_LEN], struct ml_err *e)
{
	sqlite3_stmt *st = prep(s, ML_DB_MAIN, Q_ENTRY_INS, e);

	if (!st)
		return e->code;
	sqlite3_bind_int64(st, 1, (int64_t)en->seq);
	sqlite3_bind_blob(st, 2, en->prev, ML_SHA256_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, en->time_us);
	sqlite3_bind_blob(st, 4, en->envelope, (int)en->envelope_len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, leaf, ML_SHA256_LEN, SQLITE_STATIC);
	return step_done(s, st, "append entry", e);
}

int
ml_store_entry_get(struct ml_store *s, uint64_t seq, struct ml_entry *en,
		   uint8_t **env, uint8_t leaf[ML_SHA256_LEN], struct ml_err *e)
{
	sqlite3_stmt *st = prep(s, ML_DB_MAIN, Q_ENTRY_GET, e);
	int rc, n;

	if (!st)
		return e->code;
	sqlite3_bind_int64(st, 1, (int64_t)seq);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return ml_err_set(e, ML_EINPUT, "no entry %llu", (unsigned long long)seq);
		return db_err(s, e, "read entry");
	}
	n = sqlite3_column_bytes(st, 2);
	*env = malloc((size_t)n + 1);
	if (!*env) {
		sqlite3_reset(st);
		return ml_err_set(e, ML_EIO, "out of memory");
	}
	if (n)
		memcpy(*env, sqlite3_column_blob(st, 2), (size_t)n);
	(*env)[n] = 0;
	en->seq = seq;
	copy_blob32(en->prev, st, 0);
	en->time_us = sqlite3_column_int64(st, 1);
	en->envelope = *env;
	en->envelope_len = (size_t)n;
	copy_blob32(leaf, st, 3);
	sqlite3_reset(st);
	return ML_OK;
}

static void
read_key_row(sqlite3_stmt *st, struct ml_key_row *row)
{
	copy_text(row->keyid, sizeof row->keyid, st, 0);
	copy_text(row->name, sizeof row->name, st, 1);
	copy_text(row->vkey, sizeof row->vkey, st, 2);
	copy_text(row->roles, sizeof row->roles, st, 3);
	row->enrolled_seq = sqlite3_column_int64(st, 4);
	row->revoked_seq = sqlite3_column_type(st, 5) == SQLITE_NULL
				   ? -1 : sqlite3_column_int64(st, 5);
}

static int
key_lookup(struct ml_store *s, enum ml_db db, enum stmt_id id, const char *arg,
	   struct ml_key_row *row, int *found, struct ml_err *e)
{
	sqlite3_stmt *st = prep(s, db, id, e);
	int rc;

	if (!st)
		return e->code;
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (*found)
		read_key_row(st, row);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ML_OK : db_err(s, e, "read keys");
}

int
ml_store_key_get(struct ml_store *s, enum ml_db db, const char *keyid,
		 struct ml_key_row *row, int *found, struct ml_err *e)
{
	if (db == ML_DB_REPLAY) {
		if (!replay(s, e))
			return e->code;
		ml_proj_key_get(s->proj, keyid, row, found);
		return ML_OK;
	}
	return key_lookup(s, db, Q_KEY_GET, keyid, row, found, e);
}

int
ml_store_key_active_by_name(struct ml_store *s, enum ml_db db, const char *name,
			    struct ml_key_row *row, int *found, struct ml_err *e)
{
	if (db == ML_DB_REPLAY) {
		if (!replay(s, e))
			return e->code;
		ml_proj_key_active_by_name(s->proj, name, row, found);
		return ML_OK;
	}
	return key_lookup(s, db, Q_KEY_BY_NAME, name, row, found, e);
}

int
ml_store_key_by_pubkey(struct ml_store *s, enum ml_db db, const char *vkey,
		       struct ml_key_row *row, int *found, struct ml_err *e)
{
	size_t n = strlen(vkey);

	/* The last field of a verifier key is base64(0x01 || pk): 44 bytes. */
	if (db == ML_DB_REPLAY) {
		if (!replay(s, e))
			return e->code;
		ml_proj_key_by_pubkey_tail(s->proj, n >= 44 ? vkey + n - 44 : vkey, row, found);
		return ML_OK;
	}
	return key_lookup(s, db, Q_KEY_BY_PK, n >= 44 ? vkey + n - 44 : vkey, row, found, e);
}

/* Runs a one-row, one-integer query (a count). */
static int
count_rows(struct ml_store *s, enum ml_db db, enum stmt_id id, int64_t *n,
	   const char *what, struct ml_err *e)
{
	sqlite3_stmt *st = prep(s, db, id, e);
	int rc;

	if (!st)
		return e->code;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? ML_OK : db_err(s, e, what);
}

int
ml_store_meta_count(struct ml_store *s, int64_t *n, struct ml_err *e)
{
	return count_rows(s, ML_DB_MAIN, Q_META_COUNT, n, "read meta", e);
}

int
ml_store_key_insert(struct ml_store *s, enum ml_db db, const struct ml_key_row *row,
		    struct ml_err *e)
{
	sqlite3_stmt *st;

	if (db == ML_DB_REPLAY)
		return replay(s, e) ? ml_proj_key_insert(s->proj, row, e) : e->code;
	if (!(st = prep(s, db, Q_KEY_INS, e)))
		return e->code;
	sqlite3_bind_text(st, 1, row->keyid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, row->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, row->vkey, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, row->roles, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, row->enrolled_seq);
	return step_done(s, st, "enrol key", e);
}

int
ml_store_key_revoke(struct ml_store *s, enum ml_db db, const char *keyid, int64_t seq,
		    struct ml_err *e)
{
	sqlite3_stmt *st;

	if (db == ML_DB_REPLAY) {
		if (!replay(s, e))
			return e->code;
		ml_proj_key_revoke(s->proj, keyid, seq);
		return ML_OK;
	}
	if (!(st = prep(s, db, Q_KEY_REVOKE, e)))
		return e->code;
	sqlite3_bind_text(st, 1, keyid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, seq);
	return step_done(s, st, "revoke key", e);
}

int
ml_store_admin_count(struct ml_store *s, enum ml_db db, int64_t *n, struct ml_err *e)
{
	if (db == ML_DB_REPLAY) {
		if (!replay(s, e))
			return e->code;
		*n = ml_proj_admin_count(s->proj);
		return ML_OK;
	}
	return count_rows(s, db, Q_ADMINS, n, "count admins", e);
}

int
ml_store_key_each(struct ml_store *s, int (*fn)(void *, const struct ml_key_row *),
		  void *ctx, struct ml_err *e)
{
	return ml_store_key_each_in(s, ML_DB_MAIN, fn, ctx, e);
}

int
ml_store_key_each_in(struct ml_store *s, enum ml_db db,
		     int (*fn)(void *, const struct ml_key_row *), void *ctx, struct ml_err *e)
{
	sqlite3_stmt *st;
	struct ml_key_row row;
	int rc, stop = 0;

	if (db == ML_DB_REPLAY)
		return replay(s, e) ? ml_proj_key_each(s->proj, fn, ctx, e) : e->code;
	if (!(st = prep(s, db, Q_KEY_EACH, e)))
		return e->code;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_key_row(st, &row);
		if ((stop = fn(ctx, &row)) != 0)
			break;
	}
	sqlite3_reset(st);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? ML_OK : db_err(s, e, "read keys");
}

int
ml_store_subject_get(struct ml_store *s, enum ml_db db, const char *kind,
		     const char *ref, uint8_t digest[ML_SHA256_LEN], int64_t *seq,
		     int *found, struct ml_err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (db == ML_DB_REPLAY) {
		if (!replay(s, e))
			return e->code;
		ml_proj_subject_get(s->proj, kind, ref, digest, seq, found);
		return ML_OK;
	}
	if (!(st = prep(s, db, Q_SUBJ_GET, e)))
		return e->code;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (*found) {
		copy_blob32(digest, st, 0);
		*seq = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ML_OK : db_err(s, e, "read subjects");
}

int
ml_store_subject_insert(struct ml_store *s, enum ml_db db, const char *kind,
			const char *ref, const uint8_t digest[ML_SHA256_LEN], int64_t seq,
			struct ml_err *e)
{
	sqlite3_stmt *st;

	if (db == ML_DB_REPLAY)
		return replay(s, e) ? ml_proj_subject_insert(s->proj, kind, ref, digest, seq, e)
				    : e->code;
	if (!(st = prep(s, db, Q_SUBJ_INS, e)))
		return e->code;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, digest, ML_SHA256_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, seq);
	return step_done(s, st, "record subject", e);
}

/* Steps st, a bound query of at most one row whose column 0 is a seq:
 * *found, and *seq when found.  Resets st.  ML_EIO naming what on a
 * storage error. */
static int
step_seq(struct ml_store *s, sqlite3_stmt *st, int64_t *seq, int *found, const char *what,
	 struct ml_err *e)
{
	int rc = sqlite3_step(st);

	*found = rc == SQLITE_ROW;
	if (*found)
		*seq = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? ML_OK : db_err(s, e, what);
}

int
ml_store_index_find(struct ml_store *s, enum ml_db db, const char *keyid,
		    const uint8_t hash[ML_SHA256_LEN], int64_t *seq, int *found,
		    struct ml_err *e)
{
	sqlite3_stmt *st;

	if (db == ML_DB_REPLAY) {
		if (!replay(s, e))
			return e->code;
		ml_proj_index_find(s->proj, keyid, hash, seq, found);
		return ML_OK;
	}
	if (!(st = prep(s, db, Q_IX_FIND, e)))
		return e->code;
	sqlite3_bind_text(st, 1, keyid, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, hash, ML_SHA256_LEN, SQLITE_STATIC);
	return step_seq(s, st, seq, found, "read index", e);
}

int
ml_store_index_insert(struct ml_store *s, enum ml_db db, const struct ml_index_row *row,
		      struct ml_err *e)
{
	sqlite3_stmt *st;

	if (db == ML_DB_REPLAY)
		return replay(s, e) ? ml_proj_index_insert(s->proj, row, e) : e->code;
	if (!(st = prep(s, db, Q_IX_INS, e)))
		return e->code;
	sqlite3_bind_int64(st, 1, row->seq);
	sqlite3_bind_text(st, 2, row->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, row->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, row->version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, row->keyid, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 6, row->stmt_hash, ML_SHA256_LEN, SQLITE_STATIC);
	return step_done(s, st, "index entry", e);
}

int
ml_store_idem_present(struct ml_store *s, int *present, struct ml_err *e)
{
	int64_t n = 0;
	int rc = count_rows(s, ML_DB_MAIN, Q_IDEM_PRESENT, &n, "read schema", e);

	if (rc == ML_OK)
		*present = n > 0;
	return rc;
}

int
ml_store_idem_create(struct ml_store *s, struct ml_err *e)
{
	return exec_ddl(s, idem_ddl, "", e);
}

int
ml_store_idem_find(struct ml_store *s, enum ml_db db, const char *keyid, const char *key,
		   int64_t *seq, int *found, struct ml_err *e)
{
	sqlite3_stmt *st;

	if (db == ML_DB_REPLAY) {
		if (!replay(s, e))
			return e->code;
		ml_proj_idem_find(s->proj, keyid, key, seq, found);
		return ML_OK;
	}
	if (!(st = prep(s, db, Q_IDEM_FIND, e)))
		return e->code;
	sqlite3_bind_text(st, 1, keyid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	return step_seq(s, st, seq, found, "read idempotency keys", e);
}

int
ml_store_idem_insert(struct ml_store *s, enum ml_db db, const char *keyid, const char *key,
		     int64_t seq, struct ml_err *e)
{
	sqlite3_stmt *st;

	if (db == ML_DB_REPLAY)
		return replay(s, e) ? ml_proj_idem_insert(s->proj, keyid, key, seq, e) : e->code;
	if (!(st = prep(s, db, Q_IDEM_INS, e)))
		return e->code;
	sqlite3_bind_text(st, 1, keyid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, seq);
	return step_done(s, st, "index idempotency key", e);
}

/* Reads one row of Q_SCAN-shaped results (also used by ml_store_query) and
 * calls fn. */
static int
scan_rows(struct ml_store *s, sqlite3_stmt *st, ml_entry_fn fn, void *ctx,
	  struct ml_err *e)
{
	struct ml_index_row ix;
	struct ml_entry en;
	uint8_t leaf[ML_SHA256_LEN];
	int rc, stop = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int has_ix = sqlite3_column_type(st, 5) != SQLITE_NULL;
		en.seq = (uint64_t)sqlite3_column_int64(st, 0);
		copy_blob32(en.prev, st, 1);
		en.time_us = sqlite3_column_int64(st, 2);
		en.envelope = sqlite3_column_blob(st, 3);
		en.envelope_len = (size_t)sqlite3_column_bytes(st, 3);
		if (!en.envelope)
			en.envelope = (const uint8_t *)"";
		copy_blob32(leaf, st, 4);
		memset(&ix, 0, sizeof ix);
		if (has_ix) {
			ix.seq = (int64_t)en.seq;
			copy_text(ix.kind, sizeof ix.kind, st, 5);
			copy_text(ix.name, sizeof ix.name, st, 6);
			copy_text(ix.version, sizeof ix.version, st, 7);
			copy_text(ix.keyid, sizeof ix.keyid, st, 8);
			copy_blob32(ix.stmt_hash, st, 9);
			/* A stored value longer than our buffers, or a hash of the
			 * wrong length, must not compare equal after truncation. */
			if ((size_t)sqlite3_column_bytes(st, 6) >= sizeof ix.name ||
			    (size_t)sqlite3_column_bytes(st, 7) >= sizeof ix.version ||
			    (size_t)sqlite3_column_bytes(st, 8) >= sizeof ix.keyid ||
			    sqlite3_column_bytes(st, 9) != ML_SHA256_LEN)
				ix.kind[0] = '?';
		}
		if (sqlite3_column_bytes(st, 1) != ML_SHA256_LEN ||
		    sqlite3_column_bytes(st, 4) != ML_SHA256_LEN)
			leaf[0] ^= 0xff, en.prev[0] ^= 0xff; /* cannot match: caught later */
		if ((stop = fn(ctx, &en, leaf, &ix, has_ix)) != 0)
			break;
	}
	sqlite3_reset(st);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? ML_OK : db_err(s, e, "read entries");
}

int
ml_store_scan(struct ml_store *s, uint64_t first, ml_entry_fn fn, void *ctx,
	      struct ml_err *e)
{
	sqlite3_stmt *st = prep(s, ML_DB_MAIN, Q_SCAN, e);

	if (!st)
		return e->code;
	sqlite3_bind_int64(st, 1, (int64_t)first);
	return scan_rows(s, st, fn, ctx, e);
}

/* Without statistics the planner may pick (name, kind) for a query that
 * names the version too, and then scan every entry of that kind: name the
 * index that fits. */
static const char *
index_hint(const char *kind, const char *name, const char *version)
{
	if (name && *name && version && *version)
		return " INDEXED BY entry_index_subject";
	if (name && *name && kind && *kind)
		return " INDEXED BY entry_index_kind";
	return "";
}

int
ml_store_query(struct ml_store *s, const char *kind, const char *name,
	       const char *version, int64_t since_us, ml_entry_fn fn, void *ctx,
	       struct ml_err *e)
{
	char sql[400];
	sqlite3_stmt *st;
	int rc;

	/* only fixed text, so that the planner can use the indexes */
	snprintf(sql, sizeof sql,
		 "SELECT e.seq, e.prev, e.appended_us, e.envelope, e.leaf_hash, "
		 "i.kind, i.name, i.version, i.keyid, i.stmt_hash "
		 "FROM main.entry_index i%s JOIN main.entries e ON e.seq = i.seq "
		 "WHERE 1%s%s%s AND (?4 < 0 OR e.appended_us >= ?4) ORDER BY e.seq",
		 index_hint(kind, name, version), kind && *kind ? " AND i.kind = ?1" : "",
		 name && *name ? " AND i.name = ?2" : "",
		 version && *version ? " AND i.version = ?3" : "");
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_err(s, e, "query");
	if (kind && *kind)
		sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	if (name && *name)
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (version && *version)
		sqlite3_bind_text(st, 3, version, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, since_us);
	rc = scan_rows(s, st, fn, ctx, e);
	sqlite3_finalize(st);
	return rc;
}

/* The WHERE clause for the filters present: only fixed text, so the
 * statement stays prepared with bound values, and SQLite can use the
 * indexes (an "?1 IS NULL OR" test would hide them from the planner). */
static void
seq_filter_sql(char *buf, size_t cap, const char *kind, const char *name,
	       const char *version, int newest_first)
{
	snprintf(buf, cap, "SELECT seq FROM main.entry_index%s WHERE 1%s%s%s ORDER BY seq%s",
		 index_hint(kind, name, version), kind && *kind ? " AND kind = ?1" : "",
		 name && *name ? " AND name = ?2" : "",
		 version && *version ? " AND version = ?3" : "", newest_first ? " DESC" : "");
}

int
ml_store_query_seqs(struct ml_store *s, const char *kind, const char *name,
		    const char *version, int newest_first, int (*fn)(void *ctx, uint64_t seq),
		    void *ctx, struct ml_err *e)
{
	unsigned bits = (kind && *kind) | (name && *name) << 1 | (version && *version) << 2 |
			(!!newest_first) << 3;
	sqlite3_stmt *st = s->seq_stmts[bits];
	char sql[200];
	int rc, stop = 0;

	if (!st) {
		seq_filter_sql(sql, sizeof sql, kind, name, version, newest_first);
		if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
		    SQLITE_OK)
			return db_err(s, e, "query");
		s->seq_stmts[bits] = st;
	}
	if (kind && *kind)
		sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	if (name && *name)
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (version && *version)
		sqlite3_bind_text(st, 3, version, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((stop = fn(ctx, (uint64_t)sqlite3_column_int64(st, 0))) != 0)
			break;
	if (!stop && rc != SQLITE_DONE)
		stop = db_err(s, e, "query");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return stop;
}

int
ml_store_index_seqs(struct ml_store *s, enum ml_db db, const char *kind, const char *name,
		    const char *version, int (*fn)(void *ctx, uint64_t seq), void *ctx,
		    struct ml_err *e)
{
	sqlite3_stmt *st;
	char sql[240];
	int rc, stop = 0;

	snprintf(sql, sizeof sql, "SELECT seq FROM main.entry_index%s WHERE kind = ?1 AND "
		 "name = ?2 AND version = ?3 ORDER BY seq DESC", index_hint(kind, name, version));
	if (db == ML_DB_REPLAY)
		return replay(s, e) ? ml_proj_index_seqs(s->proj, kind, name, version, fn, ctx, e)
				    : e->code;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_err(s, e, "query");
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, version, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((stop = fn(ctx, (uint64_t)sqlite3_column_int64(st, 0))) != 0)
			break;
	if (!stop && rc != SQLITE_DONE)
		stop = db_err(s, e, "query");
	sqlite3_finalize(st);
	return stop;
}

int
ml_store_leaves(struct ml_store *s, uint64_t n, uint8_t (*out)[ML_SHA256_LEN],
		struct ml_err *e)
{
	sqlite3_stmt *st;
	uint64_t i = 0;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT seq, leaf_hash FROM main.entries WHERE seq < ?1 "
				      "ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		return db_err(s, e, "leaves");
	sqlite3_bind_int64(st, 1, (sqlite3_int64)n);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && i < n) {
		if ((uint64_t)sqlite3_column_int64(st, 0) != i ||
		    sqlite3_column_bytes(st, 1) != ML_SHA256_LEN)
			break;
		memcpy(out[i++], sqlite3_column_blob(st, 1), ML_SHA256_LEN);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sqlite3_finalize(st);
		return db_err(s, e, "leaves");
	}
	sqlite3_finalize(st);
	if (i != n) {
		ml_err_set(e, ML_EINTEGRITY, "entry %llu: missing, or its leaf hash is not 32 "
			   "bytes", (unsigned long long)i);
		e->seq = (long long)i;
		return ML_EINTEGRITY;
	}
	return ML_OK;
}

int
ml_store_replay_attach(struct ml_store *s, struct ml_err *e)
{
	if (!s->proj && !(s->proj = ml_proj_new()))
		return ml_err_set(e, ML_EIO, "out of memory");
	return ML_OK;
}

void
ml_store_replay_detach(struct ml_store *s)
{
	ml_proj_free(s->proj);
	s->proj = NULL;
}

/* Column col of the current row as bytes ("" when NULL or empty). */
static struct ml_proj_text
col_text(sqlite3_stmt *st, int col)
{
	struct ml_proj_text t;

	t.p = (const char *)sqlite3_column_blob(st, col);
	t.len = (size_t)sqlite3_column_bytes(st, col);
	if (!t.p) {
		t.p = "";
		t.len = 0;
	}
	return t;
}

/* Whether the current row's columns have the types of want, one letter a
 * column: I integer, i integer or NULL, T text, B blob. */
static int
types_are(sqlite3_stmt *st, const char *want)
{
	int i;

	for (i = 0; want[i]; i++) {
		int t = sqlite3_column_type(st, i);
		if (!(t == SQLITE_INTEGER && (want[i] == 'I' || want[i] == 'i')) &&
		    !(t == SQLITE_NULL && want[i] == 'i') && !(t == SQLITE_TEXT && want[i] == 'T') &&
		    !(t == SQLITE_BLOB && want[i] == 'B'))
			return 0;
	}
	return 1;
}

/* A stored row against the projection (proj.h's *_match), by table; the
 * columns as diff_table selects them. */
static int
row_matches(struct ml_proj *p, enum ml_proj_table t, sqlite3_stmt *st)
{
	switch (t) {
	case ML_PROJ_KEYS:
		return types_are(st, "TTTTIi") &&
		       ml_proj_key_match(p, col_text(st, 0), col_text(st, 1), col_text(st, 2),
					 col_text(st, 3), sqlite3_column_int64(st, 4),
					 sqlite3_column_type(st, 5) != SQLITE_NULL,
					 sqlite3_column_int64(st, 5));
	case ML_PROJ_SUBJECTS:
		return types_are(st, "TTBI") &&
		       ml_proj_subject_match(p, col_text(st, 1), col_text(st, 0),
					     sqlite3_column_blob(st, 2),
					     (size_t)sqlite3_column_bytes(st, 2),
					     sqlite3_column_int64(st, 3));
	case ML_PROJ_INDEX:
		return types_are(st, "ITTTTB") &&
		       ml_proj_index_match(p, sqlite3_column_int64(st, 0), col_text(st, 1),
					   col_text(st, 2), col_text(st, 3), col_text(st, 4),
					   sqlite3_column_blob(st, 5),
					   (size_t)sqlite3_column_bytes(st, 5));
	case ML_PROJ_IDEM:
		return types_are(st, "TTI") &&
		       ml_proj_idem_match(p, col_text(st, 0), col_text(st, 1),
					  sqlite3_column_int64(st, 2));
	}
	return 0;
}

/* Compares stored table `table` with the projection's rows of t: every
 * stored row must equal a row of the projection (each matched once), and
 * no row of the projection may be left unmatched.  ML_EINTEGRITY names the
 * table and, by its first column, a differing row: the first stored one in
 * the table's order, else one the stored table lacks. */
static int
diff_table(struct ml_store *s, const char *table, const char *cols, const char *order,
	   enum ml_proj_table t, struct ml_err *e)
{
	sqlite3_stmt *st = NULL;
	char sql[512], first[100];
	int rc, differs = 0;

	snprintf(sql, sizeof sql, "SELECT %s FROM main.%s ORDER BY %s", cols, table, order);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return ml_err_set(e, ML_EIO, "%s: compare %s: %s", s->path, table,
				  sqlite3_errmsg(s->db));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (!row_matches(s->proj, t, st)) {
			const unsigned char *f = sqlite3_column_text(st, 0);
			snprintf(first, sizeof first, "%s", f ? (const char *)f : "");
			differs = 1;
			break;
		}
	sqlite3_finalize(st);
	if (!differs && rc != SQLITE_DONE)
		return ml_err_set(e, ML_EIO, "%s: compare %s failed", s->path, table);
	if (differs || ml_proj_unmatched(s->proj, t, first, sizeof first))
		return ml_err_set(e, ML_EINTEGRITY, "table %s differs from what the entries "
				  "imply (near row \"%s\")", table, first);
	return ML_OK;
}

/* idempotency_keys against replay; a ledger written before the table
 * existed may lack it only while no entry carries an idempotencyKey. */
static int
idem_diff(struct ml_store *s, struct ml_err *e)
{
	int present, rc;

	if ((rc = ml_store_idem_present(s, &present, e)))
		return rc;
	if (present)
		return diff_table(s, "idempotency_keys", "keyid, idem_key, seq",
				  "keyid, idem_key", ML_PROJ_IDEM, e);
	if (ml_proj_count(s->proj, ML_PROJ_IDEM) > 0)
		return ml_err_set(e, ML_EINTEGRITY, "table idempotency_keys is missing, but "
				  "entries carry idempotency keys");
	return ML_OK;
}

int
ml_store_replay_diff(struct ml_store *s, struct ml_err *e)
{
	if (!replay(s, e) ||
	    diff_table(s, "keys", "keyid, name, vkey, roles, enrolled_seq, revoked_seq", "keyid",
		       ML_PROJ_KEYS, e) ||
	    diff_table(s, "subjects", "ref, kind, digest, seq", "kind, ref", ML_PROJ_SUBJECTS,
		       e) ||
	    diff_table(s, "entry_index", "seq, kind, name, version, keyid, stmt_hash", "seq",
		       ML_PROJ_INDEX, e) ||
	    idem_diff(s, e))
		return e->code;
	return ML_OK;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Joins up to 32 SQL texts in sorted order (their place in sqlite_master is
 * not part of the format), each followed by "\n;\n". */
static void
join_sorted(char **sql, size_t n, struct ml_buf *out)
{
	size_t i;

	qsort(sql, n, sizeof *sql, cmp_str);
	for (i = 0; i < n; i++) {
		ml_buf_puts(out, sql[i]);
		ml_buf_append(out, "\n;\n", 3);
	}
}

/* The expected schema text, built from the DDL this version runs. */
static int
expected_schema(struct ml_buf *out, int with_idem)
{
	const char *const *lists[4] = {projection_ddl, main_ddl, tree_ddl, idem_ddl};
	char *sql[32];
	size_t n = 0, i;
	int l;

	for (l = 0; l < (with_idem ? 4 : 3); l++)
		for (const char *const *d = lists[l]; *d && n < 32; d++) {
			if (!(sql[n] = malloc(1024)))
				break;
			fill(sql[n++], 1024, *d, "");
		}
	join_sorted(sql, n, out);
	for (i = 0; i < n; i++)
		free(sql[i]);
	return out->oom ? -1 : 0;
}

int
ml_store_schema_check(struct ml_store *s, struct ml_err *e)
{
	/* SQLite's own tables (sqlite_stat1 after ANALYZE, ...) hold statistics,
	 * not records: they are not part of the format. */
	const char *sql = "SELECT sql FROM main.sqlite_master WHERE sql IS NOT NULL "
			  "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid";
	struct ml_buf want = {0}, have = {0}, legacy = {0};
	sqlite3_stmt *st;
	int rc;

	/* Ledgers written before idempotency_keys existed lack that one table
	 * (replay_diff then requires that no entry carries a key). */
	if (expected_schema(&want, 1) != 0 || expected_schema(&legacy, 0) != 0) {
		ml_buf_free(&want);
		ml_buf_free(&legacy);
		return ml_err_set(e, ML_EIO, "out of memory");
	}
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		ml_buf_free(&want);
		ml_buf_free(&legacy);
		return db_err(s, e, "read schema");
	}
	{
		char *texts[33];
		size_t n = 0, i;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < 33)
			texts[n++] = strdup((const char *)sqlite3_column_text(st, 0));
		if (rc == SQLITE_ROW)
			rc = SQLITE_DONE, have.oom = 1; /* more objects than we create */
		for (i = 0; i < n; i++)
			if (!texts[i])
				texts[i] = strdup(""), have.oom = 1;
		join_sorted(texts, n, &have);
		for (i = 0; i < n; i++)
			free(texts[i]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		rc = db_err(s, e, "read schema");
	} else if (have.oom ||
		   ((want.len != have.len || memcmp(want.data, have.data, want.len)) &&
		    (legacy.len != have.len || memcmp(legacy.data, have.data, legacy.len)))) {
		rc = ml_err_set(e, ML_EINTEGRITY, "%s: the database schema differs from "
				"format version %d (tables, indexes or append-only triggers "
				"were changed)", s->path, ML_FORMAT_VERSION);
	} else {
		rc = ML_OK;
	}
	ml_buf_free(&want);
	ml_buf_free(&legacy);
	ml_buf_free(&have);
	return rc;
}

int
ml_store_node_read(void *ctx, unsigned level, uint64_t idx, uint8_t out[ML_SHA256_LEN])
{
	struct ml_store_nodes *n = ctx;

	return ml_store_node_get(n->s, level, idx, out, n->e);
}

int
ml_store_node_get(struct ml_store *s, unsigned level, uint64_t idx,
		  uint8_t out[ML_SHA256_LEN], struct ml_err *e)
{
	sqlite3_stmt *st = prep(s, ML_DB_MAIN, level ? Q_NODE_GET : Q_LEAF_GET, e);
	int rc;

	if (!st)
		return e->code;
	if (level) {
		sqlite3_bind_int64(st, 1, level);
		sqlite3_bind_int64(st, 2, (int64_t)idx);
	} else {
		sqlite3_bind_int64(st, 1, (int64_t)idx);
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == ML_SHA256_LEN) {
		memcpy(out, sqlite3_column_blob(st, 0), ML_SHA256_LEN);
		sqlite3_reset(st);
		return ML_OK;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return ml_err_set(e, ML_EINTEGRITY, "%s: tree node (%u, %llu) is missing or "
				  "malformed", s->path, level, (unsigned long long)idx);
	return db_err(s, e, "read tree");
}

int
ml_store_node_put(struct ml_store *s, unsigned level, uint64_t idx,
		  const uint8_t hash[ML_SHA256_LEN], struct ml_err *e)
{
	sqlite3_stmt *st = prep(s, ML_DB_MAIN, Q_NODE_INS, e);

	if (!st)
		return e->code;
	sqlite3_bind_int64(st, 1, level);
	sqlite3_bind_int64(st, 2, (int64_t)idx);
	sqlite3_bind_blob(st, 3, hash, ML_SHA256_LEN, SQLITE_STATIC);
	return step_done(s, st, "write tree", e);
}

int
ml_store_node_count(struct ml_store *s, int64_t *n, struct ml_err *e)
{
	return count_rows(s, ML_DB_MAIN, Q_NODE_COUNT, n, "count tree", e);
}

#define NODE_LEVELS 64

struct ml_store_node_reader {
	struct ml_store *s;
	sqlite3_stmt *level[NODE_LEVELS]; /* level k's cursor once read; NULL */
};

int
ml_store_node_reader_open(struct ml_store *s, struct ml_store_node_reader **out,
			  struct ml_err *e)
{
	struct ml_store_node_reader *r = calloc(1, sizeof *r);

	if (!r)
		return ml_err_set(e, ML_EIO, "out of memory");
	r->s = s;
	*out = r;
	return ML_OK;
}

int
ml_store_node_next(struct ml_store_node_reader *r, unsigned level, int *has, int64_t *idx,
		   uint8_t hash[ML_SHA256_LEN], struct ml_err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (level < 1 || level >= NODE_LEVELS)
		return ml_err_set(e, ML_EINPUT, "tree level %u out of range", level);
	if (!(st = r->level[level])) {
		if (sqlite3_prepare_v2(r->s->db, "SELECT idx, hash FROM main.tree WHERE level = ?1 "
				       "ORDER BY idx", -1, &st, NULL) != SQLITE_OK)
			return db_err(r->s, e, "prepare the tree's read");
		sqlite3_bind_int64(st, 1, level);
		r->level[level] = st;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		*has = 0;
		return ML_OK;
	}
	if (rc != SQLITE_ROW)
		return db_err(r->s, e, "read tree");
	*idx = sqlite3_column_int64(st, 0);
	if (sqlite3_column_bytes(st, 1) != ML_SHA256_LEN)
		return ml_err_set(e, ML_EINTEGRITY, "%s: tree node (%u, %lld) is malformed (not a "
				  "32-byte hash)", r->s->path, level, (long long)*idx);
	memcpy(hash, sqlite3_column_blob(st, 1), ML_SHA256_LEN);
	*has = 1;
	return ML_OK;
}

void
ml_store_node_reader_close(struct ml_store_node_reader *r)
{
	int k;

	if (!r)
		return;
	for (k = 0; k < NODE_LEVELS; k++)
		sqlite3_finalize(r->level[k]);
	free(r);
}

int
ml_store_checkpoint_put(struct ml_store *s, uint64_t size, const char *note,
			struct ml_err *e)
{
	sqlite3_stmt *st = prep(s, ML_DB_MAIN, Q_CKPT_INS, e);

	if (!st)
		return e->code;
	sqlite3_bind_int64(st, 1, (int64_t)size);
	sqlite3_bind_text(st, 2, note, -1, SQLITE_STATIC);
	return step_done(s, st, "write checkpoint", e);
}

int
ml_store_checkpoint_get(struct ml_store *s, int64_t size, uint64_t *got, char **note,
			struct ml_err *e)
{
	sqlite3_stmt *st = prep(s, ML_DB_MAIN, size < 0 ? Q_CKPT_LAST : Q_CKPT_GET, e);
	int rc;

	if (!st)
		return e->code;
	if (size >= 0)
		sqlite3_bind_int64(st, 1, size);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 1);
		*got = (uint64_t)sqlite3_column_int64(st, 0);
		*note = strdup(t ? (const char *)t : "");
		sqlite3_reset(st);
		return *note ? ML_OK : ml_err_set(e, ML_EIO, "out of memory");
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return size < 0 ? ml_err_set(e, ML_EINPUT, "the ledger has no checkpoint yet")
				: ml_err_set(e, ML_EINPUT, "no checkpoint of size %lld is stored",
					     (long long)size);
	return db_err(s, e, "read checkpoint");
}

int
ml_store_checkpoint_each(struct ml_store *s,
			 int (*fn)(void *ctx, uint64_t size, const char *note, size_t len),
			 void *ctx, struct ml_err *e)
{
	sqlite3_stmt *st = prep(s, ML_DB_MAIN, Q_CKPT_SCAN, e);
	int rc, stop = 0;

	if (!st)
		return e->code;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 1);
		stop = fn(ctx, (uint64_t)sqlite3_column_int64(st, 0), t ? (const char *)t : "",
			  (size_t)sqlite3_column_bytes(st, 1));
		if (stop)
			break;
	}
	sqlite3_reset(st);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? ML_OK : db_err(s, e, "read checkpoints");
}

int
ml_store_backup(struct ml_store *s, const char *path, struct ml_err *e)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	int rc, fd;

	/* The file is made here, exclusively: sqlite3_open_v2 ignores
	 * SQLITE_OPEN_EXCLUSIVE, and a backup into an existing file would
	 * overwrite it (and the unlink below delete it).  An empty file is
	 * an empty database. */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0)
		return ml_err_set(e, errno == EEXIST ? ML_EINPUT : ML_EIO, "%s: cannot create: %s",
				  path, errno == EEXIST ? "it exists (never overwritten)"
							: strerror(errno));
	close(fd);
	if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		rc = ml_err_set(e, ML_EIO, "%s: cannot open: %s", path,
				dst ? sqlite3_errmsg(dst) : "out of memory");
		sqlite3_close(dst);
		unlink(path);
		return rc;
	}
	/* One step copies everything from one read snapshot, so writers
	 * appending meanwhile cannot tear the copy. */
	b = sqlite3_backup_init(dst, "main", s->db, "main");
	rc = b ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
	if (b)
		sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		rc = ml_err_set(e, ML_EIO, "%s: backup failed: %s", path, sqlite3_errmsg(dst));
		sqlite3_close(dst);
		unlink(path);
		return rc;
	}
	/* The copy is for reading elsewhere: one file, no WAL beside it. */
	rc = sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
	sqlite3_close(dst);
	return rc == SQLITE_OK ? ML_OK : ml_err_set(e, ML_EIO, "%s: cannot finish the copy", path);
}
