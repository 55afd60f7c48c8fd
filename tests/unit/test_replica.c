/* Unit tests for ledger replicas (the mirror's writer): a genesis copied
 * with the server's checkpoint verifies; refused with ML_EINTEGRITY and
 * nothing written: a wrong seq, a broken prev link, a genesis of another
 * log, an envelope whose signature does not verify, a time the checkpoint
 * does not cover (root mismatch), a checkpoint of another size or not
 * signed by the replica's log key.  Appends to a replica are refused: it
 * has no log key.  A past checkpoint (ml_replica_checkpoint) is stored only
 * when of a size copied, signed by the log key and of the copied tree's
 * root at that size. */
#include "testutil.h"

#include <sodium.h>

#include "ledger.h"
#include "tlog.h"
#include "verify.h"

struct fx {
	char dir[256], src[300], other[300], rep[300];
	struct ml_seckey *admin;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct ml_appended g;
	struct ml_err e;
	uint8_t seed[32];

	assert_non_null(f);
	tu_tmpdir(f->dir, sizeof f->dir);
	snprintf(f->src, sizeof f->src, "%s/src.db", f->dir);
	snprintf(f->other, sizeof f->other, "%s/other.db", f->dir);
	snprintf(f->rep, sizeof f->rep, "%s/rep.db", f->dir);
	memset(seed, 7, sizeof seed);
	assert_int_equal(ml_seckey_from_seed("admin", seed, &f->admin, &e), ML_OK);
	assert_int_equal(ml_ledger_init(f->src, "test.example/src", f->admin, &g, &e), ML_OK);
	assert_int_equal(ml_ledger_init(f->other, "test.example/src", f->admin, &g, &e), ML_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	ml_seckey_free(f->admin);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

/* Entry seq of the ledger at path (env malloc'd into *buf) and its latest
 * checkpoint note (*note malloc'd). */
static void
read_src(const char *path, uint64_t seq, struct ml_entry *en, uint8_t **buf, char **note)
{
	struct ml_ledger *l;
	uint8_t leaf[ML_SHA256_LEN];
	uint64_t size;
	struct ml_err e;

	assert_int_equal(ml_ledger_open(path, 0, &l, &e), ML_OK);
	assert_int_equal(ml_store_entry_get(ml_ledger_store(l), seq, en, buf, leaf, &e), ML_OK);
	if (note)
		assert_int_equal(ml_tlog_checkpoint(l, -1, &size, note, &e), ML_OK);
	ml_ledger_close(l);
}

static void
make_replica(struct fx *f, const char *of)
{
	struct ml_ledger *l;
	struct ml_err e;
	char key[ML_VKEY_MAX], origin[ML_ORIGIN_MAX + 1];

	assert_int_equal(ml_ledger_open(of, 0, &l, &e), ML_OK);
	snprintf(key, sizeof key, "%s", ml_ledger_logkey(l));
	snprintf(origin, sizeof origin, "%s", ml_ledger_origin(l));
	ml_ledger_close(l);
	unlink(f->rep);
	assert_int_equal(ml_ledger_create_replica(f->rep, origin, key, &e), ML_OK);
	/* refuses to overwrite */
	assert_int_not_equal(ml_ledger_create_replica(f->rep, origin, key, &e), ML_OK);
}

/* Copies en into the replica and commits with note; returns the first
 * failure's code (add's or commit's). */
static int
copy(struct fx *f, const struct ml_entry *en, const char *note, struct ml_err *e)
{
	struct ml_ledger *l;
	struct ml_replica *r;
	uint8_t leaf[ML_SHA256_LEN];
	int rc;

	assert_int_equal(ml_ledger_open(f->rep, 1, &l, e), ML_OK);
	assert_int_equal(ml_replica_begin(l, &r, e), ML_OK);
	if (en && (rc = ml_replica_add(r, en, leaf, e))) {
		ml_replica_abort(r);
		ml_ledger_close(l);
		return rc;
	}
	rc = ml_replica_commit(r, note, strlen(note), e);
	ml_ledger_close(l);
	return rc;
}

static uint64_t
replica_size(struct fx *f)
{
	struct ml_ledger *l;
	uint8_t last[ML_SHA256_LEN];
	int64_t t;
	uint64_t n;
	struct ml_err e;

	assert_int_equal(ml_ledger_open(f->rep, 0, &l, &e), ML_OK);
	assert_int_equal(ml_store_head(ml_ledger_store(l), &n, last, &t, &e), ML_OK);
	ml_ledger_close(l);
	return n;
}

static void
test_copy_verifies(void **state)
{
	struct fx *f = *state;
	struct ml_entry en;
	struct ml_ledger *l;
	struct ml_verify_opts o = {0};
	struct ml_verify_result res;
	struct ml_batch *b;
	uint8_t *buf;
	char *note;
	struct ml_err e;

	make_replica(f, f->src);
	read_src(f->src, 0, &en, &buf, &note);
	ml_err_clear(&e);
	assert_int_equal(copy(f, &en, note, &e), ML_OK);
	assert_int_equal(replica_size(f), 1);
	assert_int_equal(ml_ledger_open(f->rep, 0, &l, &e), ML_OK);
	assert_int_equal(ml_verify(l, &o, &res, &e), ML_OK);
	ml_ledger_close(l);
	/* no log key: a replica takes no appends */
	assert_int_equal(ml_ledger_open(f->rep, 1, &l, &e), ML_OK);
	assert_int_equal(ml_batch_begin(l, &b, &e), ML_EKEY);
	ml_ledger_close(l);
	free(buf);
	free(note);
}

static void
test_refusals(void **state)
{
	struct fx *f = *state;
	struct ml_entry en, bad, oth;
	uint8_t *buf, *obuf, *sig;
	char *note, *onote;
	struct ml_err e;

	read_src(f->src, 0, &en, &buf, &note);
	read_src(f->other, 0, &oth, &obuf, &onote);
	make_replica(f, f->src);

	/* a wrong seq */
	bad = en;
	bad.seq = 1;
	assert_int_equal(copy(f, &bad, note, &e), ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "not the next entry"));
	/* a broken prev link */
	bad = en;
	bad.prev[0] ^= 1;
	assert_int_equal(copy(f, &bad, note, &e), ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "prev"));
	/* the genesis of another log (another log key, same origin) */
	assert_int_equal(copy(f, &oth, note, &e), ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "another origin or log key"));
	/* a signature that does not verify: flip a byte of the base64 sig */
	bad = en;
	sig = malloc(en.envelope_len);
	assert_non_null(sig);
	memcpy(sig, en.envelope, en.envelope_len);
	{
		char *p = strstr((char *)sig, "\"sig\":\"");
		assert_non_null(p);
		p[8] = p[8] == 'A' ? 'B' : 'A';
	}
	bad.envelope = sig;
	assert_int_equal(copy(f, &bad, note, &e), ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "invalid entry"));
	free(sig);
	/* a time the checkpoint's root does not cover */
	bad = en;
	bad.time_us++;
	assert_int_equal(copy(f, &bad, note, &e), ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "not the tree"));
	/* a checkpoint of another size (nothing copied) */
	assert_int_equal(copy(f, NULL, note, &e), ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "not the tree"));
	/* a checkpoint signed by another log key */
	assert_int_equal(copy(f, &en, onote, &e), ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "not signed by the log key"));
	assert_int_equal(replica_size(f), 0); /* nothing was written */
	free(buf);
	free(obuf);
	free(note);
	free(onote);
}

/* ml_replica_checkpoint with en (or, tampered, bad) copied first. */
static int
past(struct fx *f, const struct ml_entry *en, uint64_t size, const char *note,
     struct ml_err *e)
{
	struct ml_ledger *l;
	struct ml_replica *r;
	uint8_t leaf[ML_SHA256_LEN];
	uint64_t want = 1;
	int rc;

	assert_int_equal(ml_ledger_open(f->rep, 1, &l, e), ML_OK);
	assert_int_equal(ml_replica_begin(l, &r, e), ML_OK);
	assert_int_equal(ml_replica_add(r, en, leaf, e), ML_OK);
	assert_int_equal(ml_replica_wanted(r, &want, e), ML_OK);
	assert_int_equal(want, 0); /* a genesis names no checkpoint */
	rc = ml_replica_checkpoint(r, size, note, strlen(note), e);
	if (rc == ML_OK)
		rc = ml_replica_commit(r, note, strlen(note), e);
	else
		ml_replica_abort(r);
	ml_ledger_close(l);
	return rc;
}

static void
test_past_checkpoint(void **state)
{
	struct fx *f = *state;
	struct ml_entry en, oth, bad;
	uint8_t *buf, *obuf;
	char *note, *onote;
	struct ml_err e;

	read_src(f->src, 0, &en, &buf, &note);
	read_src(f->other, 0, &oth, &obuf, &onote);
	make_replica(f, f->src);
	assert_int_equal(past(f, &en, 0, note, &e), ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "beyond"));
	assert_int_equal(past(f, &en, 2, note, &e), ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "beyond"));
	assert_int_equal(past(f, &en, 1, onote, &e), ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "not signed by the log key"));
	bad = en;
	bad.time_us++; /* another leaf: another root at size 1 */
	assert_int_equal(past(f, &bad, 1, note, &e), ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "not the tree"));
	assert_int_equal(replica_size(f), 0); /* nothing was written */
	ml_err_clear(&e);
	assert_int_equal(past(f, &en, 1, note, &e), ML_OK); /* and commit stores it once */
	assert_int_equal(replica_size(f), 1);
	free(buf);
	free(obuf);
	free(note);
	free(onote);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_copy_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_past_checkpoint, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
