/* Appends, refusals and verification of whole ledgers, including a negative
 * test for every class of tampering verify must catch.  Tampering is done
 * with raw SQL on the file; where a forger would also repair the hash chain,
 * rechain() does that, so that only the fault under test remains. */
#include "testutil.h"

#include <sodium.h>
#include <pthread.h>
#include <sqlite3.h>

#include "chain.h"
#include "evidence.h"
#include "governance.h"
#include "keys.h"
#include "ledger.h"
#include "merkle.h"
#include "note.h"
#include "note_checkpoint.h"
#include "note_proof.h"
#include "request.h"
#include "sequencer.h"
#include "statement.h"
#include "tlog.h"
#include "verify.h"

struct fx {
	char dir[256], path[300];
	struct ml_seckey *admin, *alice, *ci, *mallory;
};

static struct ml_seckey *
key(const char *name, uint8_t fill)
{
	uint8_t seed[32];
	struct ml_seckey *k = NULL;
	struct ml_err e;

	memset(seed, fill, sizeof seed);
	assert_int_equal(ml_seckey_from_seed(name, seed, &k, &e), ML_OK);
	return k;
}

static void
vkey(struct ml_seckey *k, char out[ML_VKEY_MAX])
{
	ml_pubkey_format(ml_seckey_public(k), out);
}


static int
resolve(void *ctx, const char *kind, const char *ref, uint8_t d[32], struct ml_err *e)
{
	int64_t seq;
	return ml_ledger_subject(ctx, kind, ref, d, &seq, e);
}

/* The fixture's keys, whose holders prove possession when enrolled. */
static struct ml_seckey *holders[8];

/* Signs req (stolen) with k into env; returns the build result.  With a
 * ledger, req is bound to its origin and an enrolment of a fixture key
 * carries that key's proof of possession (FORMAT.md §2). */
static int
try_sign(struct ml_seckey *k, json_t *req, struct ml_ledger *l, struct ml_buf *env,
	 struct ml_err *e)
{
	struct ml_buf p = {0};
	enum ml_kind kind;
	const char *want;
	char v[ML_VKEY_MAX];
	size_t i;
	int rc;

	assert_non_null(req);
	if (l) {
		assert_int_equal(ml_request_bind_origin(req, ml_ledger_origin(l), NULL, e), ML_OK);
		want = json_string_value(json_object_get(req, "key"));
		for (i = 0; want && !strcmp(json_string_value(json_object_get(req, "kind")),
					    "key-enrollment") && i < 8 && holders[i]; i++) {
			ml_pubkey_format(ml_seckey_public(holders[i]), v);
			if (!strcmp(v, want))
				assert_int_equal(ml_request_add_possession(req, ml_ledger_origin(l),
									   holders[i], e), ML_OK);
		}
	}
	rc = ml_request_build(req, resolve, l, ml_now_us(), &kind, &p, e);
	if (rc == ML_OK)
		assert_int_equal(ml_envelope_sign(k, p.data, p.len, env, e), ML_OK);
	json_decref(req);
	ml_buf_free(&p);
	return rc;
}

static void
sign_req(struct ml_seckey *k, json_t *req, struct ml_ledger *l, struct ml_buf *env)
{
	struct ml_err e;

	if (try_sign(k, req, l, env, &e) != ML_OK)
		fail_msg("request: %s", e.msg);
}

/* Appends req signed by k; returns the result code, fills *seq. */
static int
add(struct fx *f, struct ml_seckey *k, json_t *req, uint64_t *seq, struct ml_err *e)
{
	struct ml_ledger *l;
	struct ml_buf env = {0};
	struct ml_append_item it = {0};
	struct ml_appended out;
	int rc;

	assert_int_equal(ml_ledger_open(f->path, 1, &l, e), ML_OK);
	if ((rc = try_sign(k, req, l, &env, e)) != ML_OK) {
		ml_ledger_close(l);
		return rc;
	}
	it.envelope = env.data;
	it.len = env.len;
	it.signed_by = NULL;
	rc = ml_ledger_append(l, &it, 1, &out, e);
	if (rc == ML_OK && seq)
		*seq = out.seq;
	ml_buf_free(&env);
	ml_ledger_close(l);
	return rc;
}

static void
add_ok(struct fx *f, struct ml_seckey *k, json_t *req)
{
	struct ml_err e;
	ml_err_clear(&e);
	if (add(f, k, req, NULL, &e) != ML_OK)
		fail_msg("append: %s", e.msg);
}

static const char D1[] = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
static const char D2[] = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
static const char D3[] = "sha256:3333333333333333333333333333333333333333333333333333333333333333";

/* The default governance without its "gates" member: entry 7 deploys to
 * prod without a gate decision, and these tests are about the chain, not
 * gates (as src/policy_test.c's ungated_governance()). */
static char *
ungated_governance(void)
{
	json_t *doc = json_loads(ml_governance_default_text(), 0, NULL);
	char *text;

	assert_non_null(doc);
	assert_int_equal(json_object_del(doc, "gates"), 0);
	text = json_dumps(doc, JSON_INDENT(2));
	json_decref(doc);
	assert_non_null(text);
	return text;
}

/* Entries: 0 genesis, 1 enrol alice, 2 enrol ci, 3 dataset, 4 model,
 * 5 evaluation, 6 approval, 7 deployment, 8 monitoring. */
static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct ml_appended g;
	struct ml_err e;
	char v[ML_VKEY_MAX], *gov = ungated_governance();

	tu_tmpdir(f->dir, sizeof f->dir);
	snprintf(f->path, sizeof f->path, "%s/ledger/ledger.db", f->dir);
	f->admin = key("admin", 1);
	f->alice = key("alice", 2);
	f->ci = key("ci", 3);
	f->mallory = key("mallory", 4);
	holders[0] = f->alice;
	holders[1] = f->ci;
	holders[2] = f->mallory;
	holders[3] = NULL;
	assert_int_equal(ml_ledger_init_governed(f->path, "test.example/log", f->admin, gov, &g,
						 &e), ML_OK);
	free(gov);
	assert_int_equal(g.seq, 0);
	vkey(f->alice, v);
	add_ok(f, f->admin, json_pack("{s:s,s:s,s:[s]}", "kind", "key-enrollment", "key", v,
				      "roles", "approver"));
	vkey(f->ci, v);
	/* ci also validates: it signs entry 5, an evaluation (FORMAT.md §2 roles) */
	add_ok(f, f->admin, json_pack("{s:s,s:s,s:[s,s]}", "kind", "key-enrollment", "key", v,
				      "roles", "engineer", "validator"));
	add_ok(f, f->ci, json_pack("{s:s,s:s,s:s,s:{s:s}}", "kind", "dataset", "subject",
				   "cb@2026-10", "digest", D1, "properties", "license", "MIT"));
	add_ok(f, f->ci, json_pack("{s:s,s:s,s:s,s:[s],s:{s:f}}", "kind", "model", "subject",
				   "fraud@1.0", "digest", D2, "datasets", "cb@2026-10", "metrics",
				   "auc", 0.9));
	add_ok(f, f->ci, json_pack("{s:s,s:s,s:{s:f},s:s}", "kind", "evaluation", "subject",
				   "fraud@1.0", "metrics", "auc", 0.91, "dataset", "cb@2026-10"));
	add_ok(f, f->alice, json_pack("{s:s,s:s,s:s,s:s}", "kind", "approval", "subject",
				      "fraud@1.0", "environment", "prod", "decision", "approve"));
	add_ok(f, f->ci, json_pack("{s:s,s:s,s:s}", "kind", "deployment", "subject", "fraud@1.0",
				   "environment", "prod"));
	add_ok(f, f->ci, json_pack("{s:s,s:s,s:s,s:{s:f}}", "kind", "monitoring", "subject",
				   "fraud@1.0", "environment", "prod", "metrics", "auc", 0.9));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	tu_rmtree(f->dir);
	ml_seckey_free(f->admin);
	ml_seckey_free(f->alice);
	ml_seckey_free(f->ci);
	ml_seckey_free(f->mallory);
	free(f);
	return 0;
}

static int
verify(struct fx *f, long long *bad_seq, char *msg, size_t cap)
{
	struct ml_verify_opts o = {.jobs = 2};
	struct ml_verify_result r;
	struct ml_ledger *l;
	struct ml_err e;
	int rc;

	ml_err_clear(&e);
	assert_int_equal(ml_ledger_open(f->path, 0, &l, &e), ML_OK);
	rc = ml_verify(l, &o, &r, &e);
	ml_ledger_close(l);
	if (bad_seq)
		*bad_seq = e.seq;
	if (msg)
		snprintf(msg, cap, "%s", e.msg);
	return rc;
}

static void
expect_bad(struct fx *f, long long seq, const char *needle)
{
	char msg[512];
	long long got;

	assert_int_equal(verify(f, &got, msg, sizeof msg), ML_EINTEGRITY);
	if (got != seq || (needle && !strstr(msg, needle)))
		fail_msg("expected seq %lld (%s), got seq %lld: %s", seq, needle ? needle : "",
			 got, msg);
}

static const char *const triggers_u =
	"CREATE TRIGGER entries_append_only_u BEFORE UPDATE ON entries\n"
	"BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;"
	"CREATE TRIGGER entry_index_append_only_u BEFORE UPDATE ON entry_index\n"
	"BEGIN SELECT RAISE(ABORT, 'entry_index is append-only'); END;";

static const char *const triggers =
	"CREATE TRIGGER entries_append_only_u BEFORE UPDATE ON entries\n"
	"BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;"
	"CREATE TRIGGER entries_append_only_d BEFORE DELETE ON entries\n"
	"BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;"
	"CREATE TRIGGER entry_index_append_only_u BEFORE UPDATE ON entry_index\n"
	"BEGIN SELECT RAISE(ABORT, 'entry_index is append-only'); END;"
	"CREATE TRIGGER entry_index_append_only_d BEFORE DELETE ON entry_index\n"
	"BEGIN SELECT RAISE(ABORT, 'entry_index is append-only'); END;";

/* Runs sql on the ledger with the append-only triggers dropped and then
 * re-created exactly, as an attacker with write access would. */
static void
tamper(struct fx *f, const char *sql)
{
	sqlite3 *db;
	char *err = NULL;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "DROP TRIGGER entries_append_only_u; DROP TRIGGER "
				      "entries_append_only_d; DROP TRIGGER entry_index_append_only_u;"
				      "DROP TRIGGER entry_index_append_only_d;",
				      NULL, NULL, &err), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("tamper sql: %s", err);
	assert_int_equal(sqlite3_exec(db, triggers, NULL, NULL, &err), SQLITE_OK);
	sqlite3_close(db);
}

static int
put_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[32])
{
	sqlite3_stmt *st = ctx;

	sqlite3_bind_int64(st, 1, level);
	sqlite3_bind_int64(st, 2, (int64_t)index);
	sqlite3_bind_blob(st, 3, hash, 32, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_reset(st);
	return 0;
}

/* Rebuilds the tree table from the stored leaf hashes and replaces all
 * checkpoints by one for the current size, signed with the log key read
 * from beside the ledger: what a forger who stole the log key can do. */
static void
retree(struct fx *f)
{
	char keypath[400], origin[200] = "";
	struct ml_seckey *logk = NULL;
	struct ml_merkle_edge edge;
	struct ml_checkpoint c;
	struct ml_buf text = {0}, note = {0};
	struct ml_err e;
	sqlite3 *db;
	sqlite3_stmt *rd, *wr;

	snprintf(keypath, sizeof keypath, "%s.log.key", f->path);
	assert_int_equal(ml_seckey_load(keypath, NULL, NULL, &logk, &e), ML_OK);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TRIGGER tree_append_only_d; DROP TRIGGER "
				      "checkpoints_append_only_d; BEGIN; DELETE FROM tree; "
				      "DELETE FROM checkpoints", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'origin'",
					    -1, &rd, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(rd), SQLITE_ROW);
	snprintf(origin, sizeof origin, "%s", sqlite3_column_text(rd, 0));
	sqlite3_finalize(rd);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT leaf_hash FROM entries ORDER BY seq", -1,
					    &rd, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO tree VALUES (?1, ?2, ?3)", -1, &wr,
					    NULL), SQLITE_OK);
	ml_merkle_edge_init(&edge);
	while (sqlite3_step(rd) == SQLITE_ROW)
		assert_int_equal(ml_merkle_edge_add(&edge, sqlite3_column_blob(rd, 0), put_node, wr),
				 0);
	sqlite3_finalize(rd);
	sqlite3_finalize(wr);
	memset(&c, 0, sizeof c);
	snprintf(c.origin, sizeof c.origin, "%s", origin);
	c.size = edge.size;
	ml_merkle_edge_root(&edge, c.root);
	ml_checkpoint_format(&c, &text);
	assert_int_equal(ml_note_sign(logk, (const char *)text.data, text.len, &note, &e), ML_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO checkpoints VALUES (?1, ?2)", -1, &wr,
					    NULL), SQLITE_OK);
	sqlite3_bind_int64(wr, 1, (int64_t)c.size);
	sqlite3_bind_text(wr, 2, (const char *)note.data, (int)note.len, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(wr), SQLITE_DONE);
	sqlite3_finalize(wr);
	assert_int_equal(sqlite3_exec(db, "COMMIT;"
				      "CREATE TRIGGER tree_append_only_d BEFORE DELETE ON tree\n"
				      "BEGIN SELECT RAISE(ABORT, 'tree is append-only'); END;"
				      "CREATE TRIGGER checkpoints_append_only_d BEFORE DELETE ON "
				      "checkpoints\n"
				      "BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ml_buf_free(&text);
	ml_buf_free(&note);
	ml_seckey_free(logk);
}

/* Recomputes prev and leaf_hash of every entry from seq 0, then the tree
 * and a checkpoint: a forger with write access and the log key, but not the
 * authors' keys. */
static void
rechain_entries(struct fx *f)
{
	sqlite3 *db;
	sqlite3_stmt *rd, *wr;
	uint8_t prev[32] = {0}, leaf[32];
	uint64_t expect = 0;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TRIGGER entries_append_only_u; BEGIN", NULL,
				      NULL, NULL), SQLITE_OK);
	/* Renumbering may collide with rows not yet moved: park them first. */
	assert_int_equal(sqlite3_exec(db, "UPDATE entries SET seq = seq + 1000000", NULL, NULL,
				      NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT seq, appended_us, envelope FROM entries "
					    "ORDER BY seq", -1, &rd, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE entries SET seq = ?4, prev = ?1, "
					    "leaf_hash = ?2 WHERE seq = ?3", -1, &wr, NULL),
			 SQLITE_OK);
	while (sqlite3_step(rd) == SQLITE_ROW) {
		struct ml_entry en;
		int64_t old = sqlite3_column_int64(rd, 0);
		en.seq = expect++;
		memcpy(en.prev, prev, 32);
		en.time_us = sqlite3_column_int64(rd, 1);
		en.envelope = sqlite3_column_blob(rd, 2);
		en.envelope_len = (size_t)sqlite3_column_bytes(rd, 2);
		ml_leaf_hash(&en, leaf);
		sqlite3_bind_blob(wr, 1, prev, 32, SQLITE_TRANSIENT);
		sqlite3_bind_blob(wr, 2, leaf, 32, SQLITE_TRANSIENT);
		sqlite3_bind_int64(wr, 3, old);
		sqlite3_bind_int64(wr, 4, (int64_t)en.seq);
		assert_int_equal(sqlite3_step(wr), SQLITE_DONE);
		sqlite3_reset(wr);
		memcpy(prev, leaf, 32);
	}
	sqlite3_finalize(rd);
	sqlite3_finalize(wr);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "CREATE TRIGGER entries_append_only_u BEFORE UPDATE ON entries\n"
				      "BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void
rechain(struct fx *f)
{
	rechain_entries(f);
	retree(f);
}

/* Appends a raw entry (envelope signed by k) at the end, chain repaired. */
static void
forge_append(struct fx *f, struct ml_seckey *k, json_t *req)
{
	struct ml_ledger *l;
	struct ml_buf env = {0};
	struct ml_err e;
	sqlite3 *db;
	sqlite3_stmt *st;

	assert_int_equal(ml_ledger_open(f->path, 0, &l, &e), ML_OK);
	sign_req(k, req, l, &env);
	ml_ledger_close(l);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO entries VALUES ((SELECT max(seq)+1 "
					    "FROM entries), zeroblob(32), (SELECT max(appended_us) "
					    "FROM entries), ?1, zeroblob(32))", -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_blob(st, 1, env.data, (int)env.len, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
	ml_buf_free(&env);
	rechain(f);
}

static void
test_intact(void **state)
{
	struct fx *f = *state;
	struct ml_verify_opts o = {.jobs = 1};
	struct ml_verify_result r;
	struct ml_ledger *l;
	struct ml_err e;

	assert_int_equal(ml_ledger_open(f->path, 0, &l, &e), ML_OK);
	assert_int_equal(ml_verify(l, &o, &r, &e), ML_OK);
	assert_int_equal(r.entries, 9);
	assert_int_equal(r.keys_enrolled, 2);
	ml_ledger_close(l);
	rechain(f); /* rechaining an intact ledger changes nothing */
	assert_int_equal(verify(f, NULL, NULL, 0), ML_OK);
}

/* ml_batch_try: items refused in the middle of a batch (a malformed
 * envelope, an unenrolled key, a dataset version recorded again with
 * another digest) leave the batch
 * usable; the others are committed as consecutive entries under one
 * checkpoint, and the ledger verifies. */
static void
test_batch_try_refusals(void **state)
{
	struct fx *f = *state;
	struct ml_ledger *l;
	struct ml_batch *b;
	struct ml_err e;
	struct ml_buf env[7] = {{0}};
	struct ml_appended out;
	struct ml_append_item it = {0};
	uint64_t seqs[7], size, i;
	int want[7] = {ML_OK, ML_EINPUT, ML_EKEY, ML_OK, ML_EINPUT, ML_OK, ML_OK};
	char *note = NULL;

	assert_int_equal(ml_ledger_open(f->path, 1, &l, &e), ML_OK);
	sign_req(f->ci, json_pack("{s:s,s:s,s:s}", "kind", "dataset", "subject", "a@1",
				  "digest", D1), l, &env[0]);
	ml_buf_puts(&env[1], "{\"payloadType\": 1}"); /* not an envelope */
	sign_req(f->mallory, json_pack("{s:s,s:s,s:s}", "kind", "dataset", "subject", "x@1",
				       "digest", D1), l, &env[2]);
	sign_req(f->ci, json_pack("{s:s,s:s,s:s}", "kind", "dataset", "subject", "b@1",
				  "digest", D2), l, &env[3]);
	sign_req(f->ci, json_pack("{s:s,s:s,s:s}", "kind", "dataset", "subject", "b@1",
				  "digest", D3), l, &env[4]);
	sign_req(f->ci, json_pack("{s:s,s:s,s:s}", "kind", "dataset", "subject", "c@1",
				  "digest", D3), l, &env[5]);
	env[6].data = malloc(env[0].len); /* a retry of item 0 */
	memcpy(env[6].data, env[0].data, env[0].len);
	env[6].len = env[0].len;

	assert_int_equal(ml_batch_begin(l, &b, &e), ML_OK);
	for (i = 0; i < 7; i++) {
		int rc;

		it.envelope = env[i].data;
		it.len = env[i].len;
		ml_err_clear(&e);
		rc = ml_batch_try(b, &it, &out, &e);
		if (rc != want[i])
			fail_msg("item %llu: %d (%s), wanted %d", (unsigned long long)i, rc, e.msg,
				 want[i]);
		assert_true(rc == ML_OK || ml_batch_refusal(rc));
		seqs[i] = rc == ML_OK ? out.seq : UINT64_MAX;
		if (i == 6)
			assert_int_equal(out.existing, 1);
	}
	assert_true(ml_batch_size(b) == 12);
	assert_int_equal(ml_batch_commit(b, &e), ML_OK);
	assert_true(seqs[0] == 9 && seqs[3] == 10 && seqs[5] == 11 && seqs[6] == 9);
	assert_int_equal(ml_tlog_checkpoint(l, -1, &size, &note, &e), ML_OK);
	assert_true(size == 12);
	free(note);
	ml_ledger_close(l);
	for (i = 0; i < 7; i++)
		ml_buf_free(&env[i]);
	assert_int_equal(verify(f, NULL, NULL, 0), ML_OK);
}

/* The sequencer: items queued together are committed in one batch and each
 * answered with a tlog-proof that verifies for the leaf rebuilt from its
 * extra line; refused ones get their code and reason; a full queue and a
 * stopped sequencer refuse without calling done. */
static pthread_mutex_t seq_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t seq_cv = PTHREAD_COND_INITIALIZER;
static int seq_done;

static void
seq_item_done(struct ml_seq_item *it)
{
	pthread_mutex_lock(&seq_mu);
	seq_done++;
	pthread_cond_broadcast(&seq_cv);
	pthread_mutex_unlock(&seq_mu);
}

static void
seq_check_proof(struct ml_ledger *l, const struct ml_seq_item *it)
{
	struct ml_tlog_proof p;
	struct ml_pubkey k;
	struct ml_entry en = {0};
	struct ml_buf leaf = {0};
	struct ml_err e;
	uint64_t index;
	const char *lk = ml_ledger_logkey(l);

	assert_int_equal(ml_tlog_proof_parse((const char *)it->proof.data, it->proof.len, &p, &e),
			 ML_OK);
	assert_int_equal(p.extra_len, 40);
	en.seq = p.index;
	memcpy(en.prev, p.extra, 32);
	en.time_us = (int64_t)ml_get_be64(p.extra + 32);
	en.envelope = it->envelope;
	en.envelope_len = it->len;
	ml_leaf_encode(&en, &leaf);
	assert_int_equal(ml_pubkey_parse(lk, strlen(lk), &k, &e), ML_OK);
	assert_int_equal(ml_tlog_verify_proof(&k, (const char *)it->proof.data, it->proof.len,
					      leaf.data, leaf.len, &index, &e), ML_OK);
	assert_true(index == it->seq);
	/* a wrong time in extra gives a leaf that is not in the tree */
	leaf.data[1 + 8 + 32 + 7] ^= 1;
	assert_int_equal(ml_tlog_verify_proof(&k, (const char *)it->proof.data, it->proof.len,
					      leaf.data, leaf.len, &index, &e), ML_EINTEGRITY);
	ml_buf_free(&leaf);
	ml_tlog_proof_clear(&p);
}

static void
test_sequencer(void **state)
{
	struct fx *f = *state;
	struct ml_ledger *l;
	struct ml_seq *q;
	struct ml_seq_opts o = {.batch_max = 256, .wait_ms = 200, .queue_max = 16};
	struct ml_seq_item it[5];
	struct ml_buf env[5] = {{0}};
	struct ml_err e;
	int want[5] = {ML_OK, ML_EKEY, ML_OK, ML_EINPUT, ML_OK};
	size_t i;

	assert_int_equal(ml_ledger_open(f->path, 1, &l, &e), ML_OK);
	sign_req(f->ci, json_pack("{s:s,s:s,s:s}", "kind", "dataset", "subject", "q1@1",
				  "digest", D1), l, &env[0]);
	sign_req(f->mallory, json_pack("{s:s,s:s,s:s}", "kind", "dataset", "subject", "q2@1",
				       "digest", D1), l, &env[1]);
	sign_req(f->ci, json_pack("{s:s,s:s,s:s}", "kind", "dataset", "subject", "q3@1",
				  "digest", D2), l, &env[2]);
	sign_req(f->ci, json_pack("{s:s,s:s,s:s}", "kind", "dataset", "subject", "q1@1",
				  "digest", D3), l, &env[3]); /* q1@1 again, another digest */
	env[4].data = malloc(env[0].len);              /* a retry of item 0 */
	memcpy(env[4].data, env[0].data, env[0].len);
	env[4].len = env[0].len;
	assert_int_equal(ml_seq_start(l, &o, &q, &e), ML_OK);
	seq_done = 0;
	for (i = 0; i < 5; i++) {
		memset(&it[i], 0, sizeof it[i]);
		it[i].envelope = env[i].data;
		it[i].len = env[i].len;
		it[i].done = seq_item_done;
		assert_int_equal(ml_seq_submit(q, &it[i], NULL, NULL), ML_OK);
	}
	pthread_mutex_lock(&seq_mu);
	while (seq_done < 5)
		pthread_cond_wait(&seq_cv, &seq_mu);
	pthread_mutex_unlock(&seq_mu);
	for (i = 0; i < 5; i++)
		if (it[i].rc != want[i])
			fail_msg("item %zu: %d (%s), want %d", i, it[i].rc, it[i].msg, want[i]);
	assert_non_null(strstr(it[3].msg, "q1@1"));
	assert_true(it[0].seq == 9 && it[2].seq == 10 && it[4].seq == 9 && it[4].existing);
	assert_true(it[0].size == 11 && it[2].size == 11); /* one batch, one checkpoint */
	seq_check_proof(l, &it[0]);
	seq_check_proof(l, &it[2]);
	seq_check_proof(l, &it[4]);

	/* a full queue: the committer waits 1 s for more, holding two */
	ml_seq_stop(q);
	assert_int_equal(ml_seq_submit(q, &it[1], NULL, NULL), ML_EINPUT); /* stopped */
	ml_seq_free(q);
	o.queue_max = 2;
	o.wait_ms = 1000;
	o.batch_max = 256;
	assert_int_equal(ml_seq_start(l, &o, &q, &e), ML_OK);
	seq_done = 0;
	for (i = 0; i < 2; i++) {
		ml_buf_free(&it[i].proof);
		assert_int_equal(ml_seq_submit(q, &it[i], NULL, NULL), ML_OK);
	}
	/* the committer holds them in the queue while it waits for more */
	assert_int_equal(ml_seq_pending(q), 2);
	assert_int_equal(ml_seq_submit(q, &it[2], NULL, NULL), ML_EIO);
	ml_seq_free(q); /* drains: everything queued is committed and answered */
	assert_int_equal(seq_done, 2);
	assert_int_equal(it[0].rc, ML_OK);
	assert_int_equal(it[0].existing, 1);
	assert_int_equal(it[1].rc, ML_EKEY);
	for (i = 0; i < 5; i++) {
		ml_buf_free(&it[i].proof);
		ml_buf_free(&env[i]);
	}
	ml_ledger_close(l);
	assert_int_equal(verify(f, NULL, NULL, 0), ML_OK);
}

/* One byte of each stored column of an early, a middle and the last entry. */
static void
test_flipped_bytes(void **state)
{
	static const char *const cols[] = {"envelope", "prev", "leaf_hash"};
	static const int seqs[] = {1, 4, 8};
	struct fx *f = *state;
	char sql[512], backup[400], cmd[900];
	size_t c, s;

	snprintf(backup, sizeof backup, "%s/backup.db", f->dir);
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", f->path, backup);
	assert_int_equal(system(cmd), 0);
	for (c = 0; c < 3; c++)
		for (s = 0; s < 3; s++) {
			{
				sqlite3 *db;
				sqlite3_stmt *rd, *wr;
				uint8_t *buf;
				int n;
				assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
				assert_int_equal(sqlite3_exec(db, "DROP TRIGGER entries_append_only_u",
							      NULL, NULL, NULL), SQLITE_OK);
				snprintf(sql, sizeof sql, "SELECT %s FROM entries WHERE seq = %d",
					 cols[c], seqs[s]);
				assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &rd, NULL), SQLITE_OK);
				assert_int_equal(sqlite3_step(rd), SQLITE_ROW);
				n = sqlite3_column_bytes(rd, 0);
				buf = malloc((size_t)n);
				memcpy(buf, sqlite3_column_blob(rd, 0), (size_t)n);
				sqlite3_finalize(rd);
				buf[n / 2] ^= 0x01;
				snprintf(sql, sizeof sql, "UPDATE entries SET %s = ?1 WHERE seq = %d",
					 cols[c], seqs[s]);
				assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &wr, NULL), SQLITE_OK);
				sqlite3_bind_blob(wr, 1, buf, n, SQLITE_TRANSIENT);
				assert_int_equal(sqlite3_step(wr), SQLITE_DONE);
				sqlite3_finalize(wr);
				assert_int_equal(sqlite3_exec(db,
					"CREATE TRIGGER entries_append_only_u BEFORE UPDATE ON entries\n"
					"BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;",
					NULL, NULL, NULL), SQLITE_OK);
				sqlite3_close(db);
				free(buf);
			}
			/* prev of seq s is checked at s; the others break the leaf at s */
			expect_bad(f, seqs[s], c == 1 ? "broken link" : "leaf hash mismatch");
			snprintf(cmd, sizeof cmd, "cp '%s' '%s'", backup, f->path);
			assert_int_equal(system(cmd), 0);
		}
	assert_int_equal(verify(f, NULL, NULL, 0), ML_OK);
}

/* Runs sql on the ledger's tree table with its append-only triggers
 * dropped and then re-created exactly (store.c's tree_ddl). */
static void
tamper_tree(struct fx *f, const char *sql)
{
	sqlite3 *db;
	char *err = NULL;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TRIGGER tree_append_only_u; "
				      "DROP TRIGGER tree_append_only_d;", NULL, NULL, &err),
			 SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("tamper sql: %s", err);
	assert_int_equal(sqlite3_exec(db,
		"CREATE TRIGGER tree_append_only_u BEFORE UPDATE ON tree\n"
		"BEGIN SELECT RAISE(ABORT, 'tree is append-only'); END;"
		"CREATE TRIGGER tree_append_only_d BEFORE DELETE ON tree\n"
		"BEGIN SELECT RAISE(ABORT, 'tree is append-only'); END;", NULL, NULL, &err),
		SQLITE_OK);
	sqlite3_close(db);
}

/* verify reads each level of the stored tree in order beside the nodes it
 * recomputes (9 leaves: level 1 holds 0..3, level 2 0..1, level 3 0; entry
 * 7 completes (1, 3), (2, 1) and (3, 0)).  Every kind of stored-tree
 * change fails, naming the node and the entry that completes it. */
static void
test_tree_tampered(void **state)
{
	static const struct {
		const char *sql;
		long long seq;
		const char *needle;
	} cases[] = {
		{"UPDATE tree SET hash = zeroblob(32) WHERE level = 2 AND idx = 1", 7,
		 "tree node (level 2, index 1) differs from the leaves"},
		{"DELETE FROM tree WHERE level = 1 AND idx = 2", 5,
		 "tree node (level 1, index 2) is missing"},
		{"INSERT INTO tree VALUES (1, 4, zeroblob(32))", -1, "table tree holds 8 nodes"},
		{"INSERT INTO tree VALUES (4, 0, zeroblob(32))", -1, "table tree holds 8 nodes"},
		/* moved, so the count still holds */
		{"UPDATE tree SET idx = -1 WHERE level = 1 AND idx = 0", 1,
		 "tree node (level 1, index -1) is not a node of the tree"},
		{"UPDATE tree SET idx = 4 WHERE level = 1 AND idx = 3", 7,
		 "tree node (level 1, index 3) is missing"},
		{"UPDATE tree SET level = 1, idx = 4 WHERE level = 3 AND idx = 0", 7,
		 "tree node (level 3, index 0) is missing"},
		{"UPDATE tree SET hash = zeroblob(31) WHERE level = 3 AND idx = 0", 7,
		 "tree node (level 3, index 0) is malformed"},
		{"UPDATE tree SET hash = X'' WHERE level = 1 AND idx = 0", 1,
		 "tree node (level 1, index 0) is malformed"},
	};
	struct fx *f = *state;
	char backup[600], cmd[1300];
	size_t i;

	snprintf(backup, sizeof backup, "%s/tree-backup.db", f->dir);
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", f->path, backup);
	assert_int_equal(system(cmd), 0);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		tamper_tree(f, cases[i].sql);
		expect_bad(f, cases[i].seq, cases[i].needle);
		snprintf(cmd, sizeof cmd, "cp '%s' '%s'", backup, f->path);
		assert_int_equal(system(cmd), 0);
	}
	assert_int_equal(verify(f, NULL, NULL, 0), ML_OK);
}

static void
test_rechained_without_log_key(void **state)
{
	/* A forger who can rewrite the chain but not sign checkpoints: the
	 * recomputed tree no longer matches the stored one. */
	struct fx *f = *state;

	tamper(f, "UPDATE entries SET appended_us = appended_us + 1 WHERE seq = 3");
	rechain_entries(f);
	expect_bad(f, 3, "tree node");
}

static void
test_time_changed(void **state)
{
	struct fx *f = *state;

	tamper(f, "UPDATE entries SET appended_us = appended_us + 1 WHERE seq = 8");
	expect_bad(f, 8, "leaf hash mismatch");
}

static void
test_time_backwards(void **state)
{
	struct fx *f = *state;

	tamper(f, "UPDATE entries SET appended_us = 1 WHERE seq = 5");
	rechain(f);
	expect_bad(f, 5, "backwards");
}

static void
test_deleted_entry(void **state)
{
	struct fx *f = *state;

	tamper(f, "DELETE FROM entries WHERE seq = 4; DELETE FROM entry_index WHERE seq = 4");
	expect_bad(f, 4, "missing");
}

static void
test_deleted_tail(void **state)
{
	struct fx *f = *state;
	struct ml_ledger *l;
	struct ml_err e;
	uint64_t size;
	char *held = NULL;

	/* A checkpoint held outside before the cut. */
	assert_int_equal(ml_ledger_open(f->path, 0, &l, &e), ML_OK);
	assert_int_equal(ml_tlog_checkpoint(l, -1, &size, &held, &e), ML_OK);
	assert_int_equal(size, 9);
	ml_ledger_close(l);
	/* Cut alone: the newest checkpoint is past the end. */
	tamper(f, "DELETE FROM entries WHERE seq = 8; DELETE FROM entry_index WHERE seq = 8");
	assert_int_equal(verify(f, NULL, NULL, 0), ML_EINTEGRITY);
	/* With the log key stolen, the tree and checkpoints are rebuilt: the
	 * file alone then verifies (SECURITY.md says so) ... */
	rechain(f);
	assert_int_equal(verify(f, NULL, NULL, 0), ML_OK);
	/* ... but the checkpoint held outside catches the rollback. */
	assert_int_equal(ml_ledger_open(f->path, 0, &l, &e), ML_OK);
	assert_int_equal(ml_tlog_check(l, held, strlen(held), NULL, NULL, &e), ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "truncated or rolled back"));
	ml_ledger_close(l);
	free(held);
}

static void
test_forked_rewrite(void **state)
{
	/* History rewritten with the stolen log key: an entry's statement
	 * replaced by another envelope of the same author (re-signed with the
	 * admin's key the forger holds), chain, tree and checkpoints rebuilt.
	 * verify alone passes; a checkpoint held before shows the fork. */
	struct fx *f = *state;
	struct ml_ledger *l;
	struct ml_buf env = {0};
	struct ml_err e;
	uint64_t size;
	char *held = NULL;
	sqlite3 *db;
	sqlite3_stmt *st;

	assert_int_equal(ml_ledger_open(f->path, 1, &l, &e), ML_OK);
	assert_int_equal(ml_tlog_checkpoint(l, -1, &size, &held, &e), ML_OK);
	sign_req(f->ci, json_pack("{s:s,s:s,s:s}", "kind", "deployment", "subject", "fraud@1.0",
				  "environment", "staging"), l, &env);
	ml_ledger_close(l);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TRIGGER entries_append_only_u; DROP TRIGGER "
				      "entry_index_append_only_u", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE entries SET envelope = ?1 WHERE seq = 7",
					    -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, env.data, (int)env.len, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	/* keep the index consistent with the new envelope */
	{
		struct ml_envelope pe;
		uint8_t h[32];
		assert_int_equal(ml_envelope_parse(env.data, env.len, &pe, &e), ML_OK);
		ml_sha256(pe.payload, pe.payload_len, h);
		assert_int_equal(sqlite3_prepare_v2(db, "UPDATE entry_index SET stmt_hash = ?1 "
						    "WHERE seq = 7", -1, &st, NULL), SQLITE_OK);
		sqlite3_bind_blob(st, 1, h, 32, SQLITE_TRANSIENT);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_finalize(st);
		ml_envelope_clear(&pe);
	}
	assert_int_equal(sqlite3_exec(db, triggers_u, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	rechain(f);
	assert_int_equal(verify(f, NULL, NULL, 0), ML_OK);
	assert_int_equal(ml_ledger_open(f->path, 0, &l, &e), ML_OK);
	assert_int_equal(ml_tlog_check(l, held, strlen(held), NULL, NULL, &e), ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "forked"));
	ml_ledger_close(l);
	free(held);
	ml_buf_free(&env);
}

static void
test_reordered(void **state)
{
	struct fx *f = *state;

	/* Swap the envelopes of 6 and 7 and repair the chain: the approval now
	 * comes after the deployment, and the index rows no longer match. */
	tamper(f, "UPDATE entries SET seq = -1 WHERE seq = 6; UPDATE entries SET seq = 6 "
		  "WHERE seq = 7; UPDATE entries SET seq = 7 WHERE seq = -1");
	rechain(f);
	expect_bad(f, 6, "entry_index");
}

static void
test_reordered_before_reference(void **state)
{
	struct fx *f = *state;

	/* The model (4) moved before its dataset (3): the reference is unknown
	 * at its new place, whatever the index says. */
	tamper(f, "UPDATE entries SET seq = -1 WHERE seq = 3; UPDATE entries SET seq = 3 "
		  "WHERE seq = 4; UPDATE entries SET seq = 4 WHERE seq = -1");
	rechain(f);
	expect_bad(f, 3, "unknown dataset");
}

/* Flips one bit of the approval's (entry 6) signature in the file; the
 * envelope stays well-formed.  Chain and tree are left as they were. */
static void
flip_signature(struct fx *f)
{
	struct ml_ledger *l;
	struct ml_envelope env;
	struct ml_entry en;
	struct ml_buf out = {0};
	struct ml_err e;
	uint8_t *bytes, leaf[32];
	sqlite3 *db;
	sqlite3_stmt *st;

	assert_int_equal(ml_ledger_open(f->path, 0, &l, &e), ML_OK);
	assert_int_equal(ml_store_entry_get(ml_ledger_store(l), 6, &en, &bytes, leaf, &e), ML_OK);
	ml_ledger_close(l);
	assert_int_equal(ml_envelope_parse(en.envelope, en.envelope_len, &env, &e), ML_OK);
	env.sig[10] ^= 0x04;
	assert_int_equal(ml_envelope_encode(&env, &out, &e), ML_OK);
	ml_envelope_clear(&env);
	free(bytes);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TRIGGER entries_append_only_u", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE entries SET envelope = ?1 WHERE seq = 6",
					    -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, out.data, (int)out.len, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_exec(db,
				      "CREATE TRIGGER entries_append_only_u BEFORE UPDATE ON entries\n"
				      "BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ml_buf_free(&out);
}

static void
test_forged_signature(void **state)
{
	struct fx *f = *state;

	/* One bit of the approval's signature flipped, well-formed otherwise;
	 * chain, tree and checkpoints rebuilt: only the signature is wrong. */
	flip_signature(f);
	rechain(f);
	expect_bad(f, 6, "bad signature");
}

static void
test_payload_changed_resigned_by_attacker(void **state)
{
	/* An attacker edits the approval's statement and signs it with a key of
	 * its own named like alice: the keyid's hash no longer matches. */
	struct fx *f = *state;
	struct ml_seckey *fake = key("alice", 9);

	forge_append(f, fake, json_pack("{s:s,s:s,s:s,s:s}", "kind", "approval", "subject",
					"fraud@1.0", "environment", "prod", "decision", "approve"));
	expect_bad(f, 9, "not enrolled");
	ml_seckey_free(fake);
}

static void
test_unenrolled_key(void **state)
{
	struct fx *f = *state;
	struct ml_err e;

	ml_err_clear(&e);
	assert_int_equal(add(f, f->mallory, json_pack("{s:s,s:s,s:s,s:s}", "kind", "approval",
						      "subject", "fraud@1.0", "environment", "prod",
						      "decision", "approve"), NULL, &e),
			 ML_EKEY);
	assert_non_null(strstr(e.msg, "not enrolled"));
	forge_append(f, f->mallory, json_pack("{s:s,s:s,s:s,s:s}", "kind", "approval", "subject",
					      "fraud@1.0", "environment", "prod", "decision",
					      "approve"));
	expect_bad(f, 9, "not enrolled");
}

static void
test_revoked_key(void **state)
{
	struct fx *f = *state;
	struct ml_err e;
	char v[ML_VKEY_MAX];
	uint64_t seq = 0;

	vkey(f->alice, v);
	add_ok(f, f->admin, json_pack("{s:s,s:s,s:s}", "kind", "key-revocation", "key", v,
				      "reason", "laptop lost"));
	ml_err_clear(&e);
	assert_int_equal(add(f, f->alice, json_pack("{s:s,s:s,s:s,s:s}", "kind", "approval",
						    "subject", "fraud@1.0", "environment", "dev",
						    "decision", "approve"), &seq, &e), ML_EKEY);
	assert_non_null(strstr(e.msg, "revoked at entry 9"));
	forge_append(f, f->alice, json_pack("{s:s,s:s,s:s,s:s}", "kind", "approval", "subject",
					    "fraud@1.0", "environment", "dev", "decision",
					    "approve"));
	expect_bad(f, 10, "revoked");
}

static void
test_backdated_revocation(void **state)
{
	/* Moving the revocation after the entries it should forbid is caught by
	 * the signatures and links (the revocation is signed where it stands)
	 * only if its place changes the chain: moving it later makes alice's
	 * later entries valid, so the forger must rechain; then the index rows
	 * disagree.  Here: revoke alice, then swap the revocation with an
	 * entry after it. */
	struct fx *f = *state;
	char v[ML_VKEY_MAX];

	vkey(f->alice, v);
	add_ok(f, f->ci, json_pack("{s:s,s:s,s:s}", "kind", "deployment", "subject", "fraud@1.0",
				   "environment", "staging"));
	add_ok(f, f->admin, json_pack("{s:s,s:s,s:s}", "kind", "key-revocation", "key", v,
				      "reason", "left"));
	tamper(f, "UPDATE entries SET seq = -1 WHERE seq = 9; UPDATE entries SET seq = 9 "
		  "WHERE seq = 10; UPDATE entries SET seq = 10 WHERE seq = -1");
	rechain(f);
	expect_bad(f, 9, NULL);
}

static void
test_duplicate_envelope(void **state)
{
	struct fx *f = *state;
	struct ml_ledger *l;
	struct ml_append_item it = {0};
	struct ml_appended out;
	struct ml_err e;
	uint8_t *env;
	struct ml_entry en;
	uint8_t leaf[32];
	sqlite3 *db;
	sqlite3_stmt *st;

	assert_int_equal(ml_ledger_open(f->path, 1, &l, &e), ML_OK);
	assert_int_equal(ml_store_entry_get(ml_ledger_store(l), 6, &en, &env, leaf, &e), ML_OK);
	it.envelope = env;
	it.len = en.envelope_len;
	it.signed_by = NULL;
	/* a retry: the entry it repeats, nothing written (issue 12) */
	{
		uint64_t before, after;
		uint8_t last[32];
		int64_t t;
		assert_int_equal(ml_store_head(ml_ledger_store(l), &before, last, &t, &e), ML_OK);
		assert_int_equal(ml_ledger_append(l, &it, 1, &out, &e), ML_OK);
		assert_int_equal(out.existing, 1);
		assert_int_equal(out.seq, 6);
		assert_memory_equal(out.leaf, leaf, 32);
		assert_int_equal(ml_store_head(ml_ledger_store(l), &after, last, &t, &e), ML_OK);
		assert_int_equal(before, after);
	}
	ml_ledger_close(l);
	/* and raw: a replayed envelope is invalid where it stands */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO entries VALUES (9, zeroblob(32), "
					    "(SELECT max(appended_us) FROM entries), ?1, "
					    "zeroblob(32))", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, env, (int)en.envelope_len, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(env);
	rechain(f);
	expect_bad(f, 9, "duplicate");
}

static void
test_projection_tampered(void **state)
{
	static const char *const sql[] = {
		"UPDATE keys SET roles = 'approver,admin' WHERE name = 'alice'",
		"UPDATE keys SET revoked_seq = 5 WHERE name = 'ci'",
		"INSERT INTO keys VALUES ('x+00000000', 'x', 'v', 'admin', 3, NULL)",
		"UPDATE subjects SET digest = zeroblob(32) WHERE kind = 'model'",
		"DELETE FROM subjects WHERE kind = 'dataset'",
		"UPDATE entry_index SET kind = 'incident' WHERE seq = 7",
		"INSERT INTO entry_index VALUES (99, 'model', 'x', '1', 'ci+0', zeroblob(32))",
		"UPDATE meta SET value = 'evil.example/log' WHERE key = 'origin'",
		"DROP TRIGGER entries_append_only_d",
	};
	struct fx *f = *state;
	char backup[400], cmd[900];
	size_t i;

	snprintf(backup, sizeof backup, "%s/backup.db", f->dir);
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", f->path, backup);
	assert_int_equal(system(cmd), 0);
	for (i = 0; i < sizeof sql / sizeof sql[0]; i++) {
		if (i + 1 == sizeof sql / sizeof sql[0]) {
			sqlite3 *db;
			assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
			assert_int_equal(sqlite3_exec(db, sql[i], NULL, NULL, NULL), SQLITE_OK);
			sqlite3_close(db);
		} else {
			tamper(f, sql[i]);
		}
		assert_int_equal(verify(f, NULL, NULL, 0), ML_EINTEGRITY);
		snprintf(cmd, sizeof cmd, "cp '%s' '%s'", backup, f->path);
		assert_int_equal(system(cmd), 0);
	}
	assert_int_equal(verify(f, NULL, NULL, 0), ML_OK);
}

static void
test_refusals(void **state)
{
	struct fx *f = *state;
	struct ml_err e;
	char v[ML_VKEY_MAX];

	vkey(f->mallory, v);
	/* only admins enrol */
	assert_int_equal(add(f, f->ci, json_pack("{s:s,s:s,s:[s]}", "kind", "key-enrollment",
						 "key", v, "roles", "admin"), NULL, &e), ML_EKEY);
	/* a key signs only the kinds its roles may (FORMAT.md §5 rule 9) */
	assert_int_equal(add(f, f->ci, json_pack("{s:s,s:s,s:s,s:s}", "kind", "approval",
						 "subject", "fraud@1.0", "environment", "prod",
						 "decision", "approve"), NULL, &e), ML_EKEY);
	assert_non_null(strstr(e.msg, "may not sign approval entries"));
	assert_int_equal(add(f, f->admin, json_pack("{s:s,s:s,s:s}", "kind", "dataset",
						    "subject", "d@1", "digest", D3), NULL, &e),
			 ML_EKEY);
	assert_non_null(strstr(e.msg, "may not sign dataset entries"));
	/* environments are the declared ones; a retirement retires a live version */
	assert_int_equal(add(f, f->ci, json_pack("{s:s,s:s,s:s}", "kind", "deployment",
						 "subject", "fraud@1.0", "environment", "qa"),
			     NULL, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "not declared"));
	assert_int_equal(add(f, f->ci, json_pack("{s:s,s:s,s:s,s:s}", "kind", "retirement",
						 "subject", "fraud@1.0", "environment", "staging",
						 "reason", "x"), NULL, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "never deployed in staging"));
	/* versions are immutable */
	assert_int_equal(add(f, f->ci, json_pack("{s:s,s:s,s:s}", "kind", "model", "subject",
						 "fraud@1.0", "digest", D3), NULL, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "immutable"));
	/* the same digest again is fine */
	add_ok(f, f->ci, json_pack("{s:s,s:s,s:s}", "kind", "model", "subject", "fraud@1.0",
				   "digest", D2));
	/* unknown references */
	assert_int_equal(add(f, f->ci, json_pack("{s:s,s:s,s:s,s:[s]}", "kind", "model",
						 "subject", "fraud@2.0", "digest", D3, "datasets",
						 "nope@1"), NULL, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "unknown dataset nope@1"));
	assert_int_equal(add(f, f->alice, json_pack("{s:s,s:s,s:s,s:s,s:s}", "kind", "approval",
						    "subject", "fraud@1.0", "digest", D3,
						    "environment", "prod", "decision", "approve"),
			     NULL, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "another artifact digest"));
	/* the last admin cannot be revoked; a second name for an active key's
	 * name is refused */
	vkey(f->admin, v);
	assert_int_equal(add(f, f->admin, json_pack("{s:s,s:s,s:s}", "kind", "key-revocation",
						    "key", v, "reason", "x"), NULL, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "last active admin"));
	{
		struct ml_seckey *alice2 = key("alice", 7);
		vkey(alice2, v);
		assert_int_equal(add(f, f->admin, json_pack("{s:s,s:s,s:[s]}", "kind",
							     "key-enrollment", "key", v, "roles",
							     "approver"), NULL, &e), ML_EINPUT);
		ml_seckey_free(alice2);
	}
	/* nothing refused was written */
	assert_int_equal(verify(f, NULL, NULL, 0), ML_OK);
	{
		struct ml_ledger *l;
		uint64_t size;
		uint8_t last[32];
		int64_t t;
		assert_int_equal(ml_ledger_open(f->path, 0, &l, &e), ML_OK);
		assert_int_equal(ml_store_head(ml_ledger_store(l), &size, last, &t, &e), ML_OK);
		assert_int_equal(size, 10);
		ml_ledger_close(l);
	}
}

static void
test_batch_all_or_nothing(void **state)
{
	struct fx *f = *state;
	struct ml_ledger *l;
	struct ml_buf a = {0}, b = {0};
	struct ml_append_item it[2];
	struct ml_appended out[2];
	struct ml_err e;
	uint64_t size;
	uint8_t last[32];
	int64_t t;

	assert_int_equal(ml_ledger_open(f->path, 1, &l, &e), ML_OK);
	sign_req(f->ci, json_pack("{s:s,s:s,s:s}", "kind", "deployment", "subject", "fraud@1.0",
				  "environment", "dev"), l, &a);
	sign_req(f->mallory, json_pack("{s:s,s:s,s:s}", "kind", "deployment", "subject",
				       "fraud@1.0", "environment", "dev"), l, &b);
	it[0] = (struct ml_append_item){a.data, a.len, NULL, NULL, 0};
	it[1] = (struct ml_append_item){b.data, b.len, NULL, NULL, 0};
	assert_int_equal(ml_ledger_append(l, it, 2, out, &e), ML_EKEY);
	/* the item at fault is the batch's second; no ledger entry is at
	 * fault (util.h: index and seq each mean one thing) */
	assert_int_equal(e.index, 1);
	assert_int_equal(e.seq, -1);
	assert_int_equal(ml_store_head(ml_ledger_store(l), &size, last, &t, &e), ML_OK);
	assert_int_equal(size, 9);
	ml_ledger_close(l);
	ml_buf_free(&a);
	ml_buf_free(&b);
}

/* A batch item that conflicts with a held entry (its idempotency key,
 * other content): e.index names the item, e.seq the held entry, each
 * with its own meaning (util.h); confusing them fails here. */
static void
test_batch_conflict_index_and_seq(void **state)
{
	struct fx *f = *state;
	struct ml_ledger *l;
	struct ml_buf a = {0}, b = {0};
	struct ml_append_item it[2];
	struct ml_appended out[2];
	struct ml_err e;
	uint64_t held;

	ml_err_clear(&e);
	assert_int_equal(add(f, f->ci, json_pack("{s:s,s:s,s:s,s:s}", "kind", "deployment",
						 "subject", "fraud@1.0", "environment", "dev",
						 ML_IDEMPOTENCY_MEMBER, "dep-1"),
			     &held, &e),
			 ML_OK);
	assert_int_equal(ml_ledger_open(f->path, 1, &l, &e), ML_OK);
	sign_req(f->ci, json_pack("{s:s,s:s,s:s}", "kind", "deployment", "subject", "fraud@1.0",
				  "environment", "staging"), l, &a);
	sign_req(f->ci, json_pack("{s:s,s:s,s:s,s:s}", "kind", "deployment", "subject",
				  "fraud@1.0", "environment", "prod", ML_IDEMPOTENCY_MEMBER,
				  "dep-1"), l, &b);
	it[0] = (struct ml_append_item){a.data, a.len, NULL, NULL, 0};
	it[1] = (struct ml_append_item){b.data, b.len, NULL, NULL, 0};
	assert_int_equal(ml_ledger_append(l, it, 2, out, &e), ML_ECONFLICT);
	assert_int_equal(e.index, 1);
	assert_int_equal(e.seq, (long long)held);
	assert_true(held != 1); /* the two numbers differ, so a mix-up shows */
	ml_ledger_close(l);
	ml_buf_free(&a);
	ml_buf_free(&b);
}

/* A parse handed to append as a hint is used only for the bytes it came
 * from: a valid statement's parse cannot vouch for another envelope. */
static void
test_hint_bound_to_bytes(void **state)
{
	struct fx *f = *state;
	struct ml_ledger *l;
	struct ml_buf good = {0}, bad = {0}, env = {0};
	struct ml_statement st;
	struct ml_append_item it = {0};
	struct ml_appended out;
	enum ml_kind kind;
	struct ml_err e;
	json_t *req;

	assert_int_equal(ml_ledger_open(f->path, 1, &l, &e), ML_OK);
	req = json_pack("{s:s,s:s,s:s,s:s}", "kind", "deployment", "subject", "fraud@1.0",
			"environment", "dev", "origin", ml_ledger_origin(l));
	assert_int_equal(ml_request_build_parsed(req, resolve, l, ml_now_us(), &kind, &good, &st,
						 &e), ML_OK);
	json_decref(req);
	/* an approval of an unknown model, with the deployment's parse as hint */
	req = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kind", "approval", "subject", "ghost@1",
			"digest", D3, "environment", "prod", "decision", "approve", "origin",
			ml_ledger_origin(l));
	assert_int_equal(ml_request_build(req, NULL, NULL, ml_now_us(), &kind, &bad, &e), ML_OK);
	json_decref(req);
	/* signed by alice, who may sign approvals: only the unknown model is wrong */
	assert_int_equal(ml_envelope_sign(f->alice, bad.data, bad.len, &env, &e), ML_OK);
	it.envelope = env.data;
	it.len = env.len;
	it.statement = &st;
	assert_int_equal(ml_ledger_append(l, &it, 1, &out, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "unknown model ghost@1"));
	/* and with its own bytes the hint is taken and the append succeeds */
	ml_buf_free(&env);
	assert_int_equal(ml_envelope_sign(f->ci, good.data, good.len, &env, &e), ML_OK);
	it.envelope = env.data;
	it.len = env.len;
	assert_int_equal(ml_ledger_append(l, &it, 1, &out, &e), ML_OK);
	ml_statement_free(&st);
	ml_buf_free(&good);
	ml_buf_free(&bad);
	ml_buf_free(&env);
	ml_ledger_close(l);
	assert_int_equal(verify(f, NULL, NULL, 0), ML_OK);
}

static void
test_not_a_ledger(void **state)
{
	struct fx *f = *state;
	struct ml_ledger *l;
	struct ml_err e;
	char path[400];
	FILE *fp;
	sqlite3 *db;

	snprintf(path, sizeof path, "%s/text.db", f->dir);
	fp = fopen(path, "w");
	fputs("hello\n", fp);
	fclose(fp);
	assert_int_equal(ml_ledger_open(path, 0, &l, &e), ML_EINPUT);
	snprintf(path, sizeof path, "%s/other.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(ml_ledger_open(path, 0, &l, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "not an mlledger ledger"));
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 2", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(ml_ledger_open(f->path, 0, &l, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "upgrade mlledger"));
	/* init refuses to overwrite */
	{
		struct ml_appended g;
		assert_int_equal(ml_ledger_init(f->path, NULL, f->admin, &g, &e), ML_EINPUT);
	}
}

/* ml_evidence_trust: accepted only for the whole-tree session whose signed
 * checkpoint is the one verify passed; the document is the same either way. */
static void
test_evidence_trust(void **state)
{
	struct fx *f = *state;
	struct ml_verify_opts o = {.jobs = 2};
	struct ml_verify_result r;
	struct ml_evidence *v;
	struct ml_ledger *l;
	struct ml_err e;
	uint8_t other[ML_SHA256_LEN];
	xmlDocPtr trusted = NULL, checked = NULL;
	xmlChar *a = NULL, *b = NULL;
	int alen, blen;
	int64_t later = ml_now_us() + 60000000;

	ml_err_clear(&e);
	assert_int_equal(ml_ledger_open(f->path, 0, &l, &e), ML_OK);
	assert_int_equal(ml_verify(l, &o, &r, &e), ML_OK);
	assert_int_equal(r.entries, 9);
	memset(other, 7, sizeof other);
	/* per-entry inclusion proofs (no stored leaves to bind): never trusted */
	assert_int_equal(ml_evidence_open(l, later, 0, &v, &e), ML_OK);
	assert_false(ml_evidence_trust(v, r.entries, r.head));
	ml_evidence_close(v);
	assert_int_equal(ml_evidence_open(l, later, ML_EVIDENCE_WHOLE, &v, &e), ML_OK);
	assert_false(ml_evidence_trust(v, r.entries - 1, r.head)); /* another size */
	assert_false(ml_evidence_trust(v, r.entries, other));      /* another head */
	assert_false(ml_evidence_trust(v, 0, r.head));
	assert_true(ml_evidence_trust(v, r.entries, r.head));
	assert_int_equal(ml_evidence_for(v, "fraud@1.0", "prod", &trusted, &e), ML_OK);
	ml_evidence_close(v);
	assert_int_equal(ml_evidence_build(l, "fraud@1.0", "prod", later, 0, &checked, &e), ML_OK);
	ml_ledger_close(l);
	xmlDocDumpMemory(trusted, &a, &alen);
	xmlDocDumpMemory(checked, &b, &blen);
	assert_non_null(strstr((const char *)a, "author=\"alice\""));
	/* numbers, digests and times as the evidence writes them (no snprintf) */
	assert_non_null(strstr((const char *)a, " size=\"9\""));
	{
		const char *q = strstr((const char *)a, " seq=\"");
		assert_non_null(q);
		q += 6;
		assert_true(*q >= '1' && *q <= '9'); /* no padding, no sign */
		while (*q >= '0' && *q <= '9')
			q++;
		assert_int_equal(*q, '"');
	}
	assert_non_null(strstr((const char *)a, "name=\"auc\" value=\"0.91\""));
	assert_non_null(strstr((const char *)a, " digest=\"sha256:"));
	{
		const char *t = strstr((const char *)a, " time=\"");
		char want[21], got[21];
		int64_t us;
		assert_non_null(t);
		t += 7;
		memcpy(got, t, 20);
		got[20] = '\0';
		assert_int_equal(ml_time_parse(got, &us), 0);
		ml_time_format(us, want);
		assert_memory_equal(t, want, 20);
		assert_int_equal(t[20], '"');
		assert_int_equal(t[4], '-');
		assert_int_equal(t[10], 'T');
	}
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, (size_t)alen);
	xmlFree(a);
	xmlFree(b);
	xmlFreeDoc(trusted);
	xmlFreeDoc(checked);

	/* After verify: a signature changed, chain and tree re-made with the
	 * stolen log key.  The stale verify result no longer matches the
	 * checkpoint (its head moved), so the signature is checked: exit 4. */
	flip_signature(f);
	rechain(f);
	assert_int_equal(ml_ledger_open(f->path, 0, &l, &e), ML_OK);
	assert_int_equal(ml_evidence_open(l, later, ML_EVIDENCE_WHOLE, &v, &e), ML_OK);
	assert_false(ml_evidence_trust(v, r.entries, r.head));
	assert_int_equal(ml_evidence_for(v, "fraud@1.0", "prod", &trusted, &e), ML_EINTEGRITY);
	assert_int_equal(e.seq, 6);
	assert_non_null(strstr(e.msg, "bad signature"));
	ml_evidence_close(v);
	ml_ledger_close(l);
}

/* The document as ml_evidence_build makes it in a fresh session, dumped. */
static void
fresh_dump(struct ml_ledger *l, const char *ref, const char *env, int64_t as_of, int *rc,
	   xmlChar **out, int *len)
{
	xmlDocPtr d = NULL;
	struct ml_err e;

	*out = NULL;
	*len = 0;
	*rc = ml_evidence_build(l, ref, env, as_of, ML_EVIDENCE_WHOLE, &d, &e);
	if (*rc == ML_OK)
		xmlDocDumpMemory(d, out, len);
	xmlFreeDoc(d);
}

/* ml_evidence_view: one session, subjects one after another (versions in
 * several environments, another model name in between, a name seen again),
 * each document byte for byte the one a fresh session builds; a forged
 * entry fails every view that selects it, not only the first. */
static void
test_evidence_view(void **state)
{
	static const struct {
		const char *ref, *env;
	} seq[] = {
		{"fraud@1.0", "prod"}, {"fraud@1.0", "staging"}, {"fraud@2.0", NULL},
		{"fraud@2.0", "prod"}, {"fraud@2.0", "staging"}, {"churn@1", NULL},
		{"fraud@1.0", NULL},   {"fraud@1.0", "prod"},    {"fraud@2.0", "prod"},
	};
	struct fx *f = *state;
	struct ml_evidence *v;
	struct ml_ledger *l, *l2; /* the session's, and the fresh builds' */
	struct ml_err e;
	xmlDocPtr doc;
	xmlChar *a, *b;
	int alen, blen, rc, pass;
	size_t i;
	int64_t later = ml_now_us() + 60000000;

	ml_err_clear(&e);
	add_ok(f, f->ci, json_pack("{s:s,s:s,s:s,s:[s],s:s}", "kind", "model", "subject",
				   "fraud@2.0", "digest", D3, "datasets", "cb@2026-10", "parent",
				   "fraud@1.0"));
	add_ok(f, f->ci, json_pack("{s:s,s:s,s:s}", "kind", "deployment", "subject", "fraud@2.0",
				   "environment", "staging"));
	add_ok(f, f->ci, json_pack("{s:s,s:s,s:s}", "kind", "deployment", "subject", "fraud@1.0",
				   "environment", "staging"));
	add_ok(f, f->ci, json_pack("{s:s,s:s,s:s,s:s}", "kind", "retirement", "subject",
				   "fraud@1.0", "environment", "staging", "reason", "superseded"));
	add_ok(f, f->ci, json_pack("{s:s,s:s,s:s,s:s}", "kind", "incident", "subject",
				   "fraud@2.0", "severity", "low", "description", "drift"));
	add_ok(f, f->ci, json_pack("{s:s,s:s,s:s,s:[s]}", "kind", "model", "subject", "churn@1",
				   "digest", D1, "datasets", "cb@2026-10"));
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1) { /* the approval (entry 6) forged, chain and tree re-made */
			flip_signature(f);
			rechain(f);
		}
		assert_int_equal(ml_ledger_open(f->path, 0, &l, &e), ML_OK);
		assert_int_equal(ml_ledger_open(f->path, 0, &l2, &e), ML_OK);
		assert_int_equal(ml_evidence_open(l, later, ML_EVIDENCE_WHOLE, &v, &e), ML_OK);
		for (i = 0; i < sizeof seq / sizeof *seq; i++) {
			fresh_dump(l2, seq[i].ref, seq[i].env, later, &rc, &b, &blen);
			doc = NULL;
			assert_int_equal(ml_evidence_view(v, seq[i].ref, seq[i].env, &doc, &e), rc);
			if (pass == 1 && !strcmp(seq[i].ref, "fraud@1.0") && seq[i].env &&
			    !strcmp(seq[i].env, "prod")) {
				assert_int_equal(rc, ML_EINTEGRITY); /* each time */
				assert_int_equal(e.seq, 6);
			}
			if (rc != ML_OK)
				continue;
			assert_int_equal(rc, ML_OK);
			xmlDocDumpMemory(doc, &a, &alen);
			assert_int_equal(alen, blen);
			assert_memory_equal(a, b, (size_t)alen);
			/* the selections differ: the documents are not all alike */
			if (!strcmp(seq[i].ref, "fraud@2.0") && seq[i].env)
				assert_non_null(strstr((const char *)a, "kind=\"incident\""));
			if (!strcmp(seq[i].ref, "fraud@1.0") && seq[i].env &&
			    !strcmp(seq[i].env, "staging")) /* retired: nothing live */
				assert_non_null(strstr((const char *)a, "kind=\"retirement\""));
			xmlFree(a);
			xmlFree(b);
		}
		ml_evidence_close(v);
		ml_ledger_close(l);
		ml_ledger_close(l2);
	}
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_intact),
		T(test_batch_try_refusals),
		T(test_sequencer),
		T(test_flipped_bytes),
		T(test_rechained_without_log_key),
		T(test_tree_tampered),
		T(test_time_changed),
		T(test_time_backwards),
		T(test_deleted_entry),
		T(test_deleted_tail),
		T(test_forked_rewrite),
		T(test_reordered),
		T(test_reordered_before_reference),
		T(test_forged_signature),
		T(test_payload_changed_resigned_by_attacker),
		T(test_unenrolled_key),
		T(test_revoked_key),
		T(test_backdated_revocation),
		T(test_duplicate_envelope),
		T(test_projection_tampered),
		T(test_refusals),
		T(test_batch_all_or_nothing),
		T(test_batch_conflict_index_and_seq),
		T(test_hint_bound_to_bytes),
		T(test_not_a_ledger),
		T(test_evidence_trust),
		T(test_evidence_view),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
