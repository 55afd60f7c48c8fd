/* Unit tests for migrate, against an in-memory stand-in of pgstore.h
 * defined here (the linker then takes no pgstore.o from libml.a, so no
 * PostgreSQL is needed; tests/ha/migrate.sh runs the real one).  A ledger
 * goes into the store and back byte for byte; into a store that holds a
 * ledger is ML_ECONFLICT; from a store with a tampered leaf column, a
 * tampered row, a missing checkpoint: refused, no file left; follow is a
 * no-op when up to date and ML_EINTEGRITY for a working copy ahead of the
 * store or forked from it. */
#include "testutil.h"

#include <sys/stat.h>

#include <sodium.h>

#include "chain.h"
#include "ledger.h"
#include "migrate.h"
#include "pgstore.h"

/* ---- the stand-in store ---------------------------------------------- */

#define FAKE_MAX 16

struct fake_entry {
	struct ml_entry en;
	uint8_t *env;
	uint8_t leaf[ML_SHA256_LEN];
};

struct ml_pg {
	int created;
	char origin[ML_ORIGIN_MAX + 1], logkey[ML_VKEY_MAX];
	int format;
	struct fake_entry e[FAKE_MAX];
	uint64_t size, pending;
	char *note[FAKE_MAX + 1]; /* by size */
};

static struct ml_pg fake;

static void
fake_reset(void)
{
	size_t i;

	for (i = 0; i < FAKE_MAX; i++)
		free(fake.e[i].env);
	for (i = 0; i <= FAKE_MAX; i++)
		free(fake.note[i]);
	memset(&fake, 0, sizeof fake);
}

const char *
ml_pg_name(const struct ml_pg *p)
{
	return "fake:0/db";
}

int
ml_pg_create(struct ml_pg *p, const char *origin, const char *logkey, int format,
	     struct ml_err *e)
{
	if (p->created)
		return ml_err_set(e, ML_ECONFLICT, "fake: holds a ledger");
	p->created = 1;
	snprintf(p->origin, sizeof p->origin, "%s", origin);
	snprintf(p->logkey, sizeof p->logkey, "%s", logkey);
	p->format = format;
	return ML_OK;
}

int
ml_pg_identity(struct ml_pg *p, char *origin, size_t ocap, char *logkey, size_t kcap,
	       int *format, struct ml_err *e)
{
	if (!p->created)
		return ml_err_set(e, ML_EINPUT, "no mlledger ledger in fake");
	snprintf(origin, ocap, "%s", p->origin);
	snprintf(logkey, kcap, "%s", p->logkey);
	*format = p->format;
	return ML_OK;
}

int
ml_pg_head(struct ml_pg *p, uint64_t *size, uint8_t last[ML_SHA256_LEN], int64_t *last_time,
	   struct ml_err *e)
{
	*size = p->size;
	memset(last, 0, ML_SHA256_LEN);
	*last_time = 0;
	if (p->size) {
		memcpy(last, p->e[p->size - 1].leaf, ML_SHA256_LEN);
		*last_time = p->e[p->size - 1].en.time_us;
	}
	return ML_OK;
}

int
ml_pg_begin(struct ml_pg *p, uint64_t *size, uint8_t last[ML_SHA256_LEN], int64_t *last_time,
	    struct ml_err *e)
{
	p->pending = p->size;
	return ml_pg_head(p, size, last, last_time, e);
}

int
ml_pg_put(struct ml_pg *p, const struct ml_entry *en, const uint8_t leaf[ML_SHA256_LEN],
	  struct ml_err *e)
{
	struct fake_entry *f;

	if (en->seq != p->pending || p->pending >= FAKE_MAX)
		return ml_err_set(e, ML_EINPUT, "fake: seq %llu", (unsigned long long)en->seq);
	f = &p->e[p->pending++];
	f->en = *en;
	assert_non_null(f->env = malloc(en->envelope_len));
	memcpy(f->env, en->envelope, en->envelope_len);
	f->en.envelope = f->env;
	memcpy(f->leaf, leaf, ML_SHA256_LEN);
	return ML_OK;
}

int
ml_pg_commit(struct ml_pg *p, struct ml_err *e)
{
	p->size = p->pending;
	return ML_OK;
}

void
ml_pg_rollback(struct ml_pg *p)
{
	p->pending = p->size;
}

int
ml_pg_entries(struct ml_pg *p, uint64_t from, uint64_t to, ml_pg_entry_fn each, void *ctx,
	      struct ml_err *e)
{
	uint64_t i;
	int rc;

	for (i = from; i < to; i++) {
		if (i >= p->size || !p->e[i].env) {
			ml_err_set(e, ML_EINTEGRITY, "fake: missing");
			e->seq = (long long)i;
			return ML_EINTEGRITY;
		}
		if ((rc = each(ctx, &p->e[i].en, p->e[i].leaf, e)))
			return rc;
	}
	return ML_OK;
}

int
ml_pg_checkpoint_put(struct ml_pg *p, uint64_t size, const char *note, struct ml_err *e)
{
	if (size > FAKE_MAX)
		return ml_err_set(e, ML_EIO, "fake: too big");
	if (!p->note[size])
		assert_non_null(p->note[size] = strdup(note));
	return ML_OK;
}

int
ml_pg_checkpoint_get(struct ml_pg *p, uint64_t size, char **note, struct ml_err *e)
{
	if (size > FAKE_MAX || !p->note[size])
		return ml_err_set(e, ML_EINPUT, "fake: no checkpoint %llu",
				  (unsigned long long)size);
	assert_non_null(*note = strdup(p->note[size]));
	return ML_OK;
}

int
ml_pg_checkpoint_latest(struct ml_pg *p, uint64_t max, uint64_t *size, char **note,
			struct ml_err *e)
{
	uint64_t s = max < FAKE_MAX ? max : FAKE_MAX;

	for (;; s--) {
		if (p->note[s]) {
			*size = s;
			return ml_pg_checkpoint_get(p, s, note, e);
		}
		if (s == 0)
			return ml_err_set(e, ML_EINPUT, "fake: no checkpoint");
	}
}

int
ml_pg_checkpoint_each(struct ml_pg *p, ml_pg_note_fn each, void *ctx, struct ml_err *e)
{
	uint64_t s;
	int rc;

	for (s = 0; s <= FAKE_MAX; s++)
		if (p->note[s] && (rc = each(ctx, s, p->note[s], e)))
			return rc;
	return ML_OK;
}

/* ---- fixtures --------------------------------------------------------- */

struct fx {
	char dir[256], src[300], back[300];
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
	fake_reset();
	tu_tmpdir(f->dir, sizeof f->dir);
	snprintf(f->src, sizeof f->src, "%s/src.db", f->dir);
	snprintf(f->back, sizeof f->back, "%s/back.db", f->dir);
	memset(seed, 7, sizeof seed);
	assert_int_equal(ml_seckey_from_seed("admin", seed, &f->admin, &e), ML_OK);
	assert_int_equal(ml_ledger_init(f->src, "test.example/src", f->admin, &g, &e), ML_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	fake_reset();
	ml_seckey_free(f->admin);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

static int
exists(const char *path)
{
	struct stat sb;
	char aux[400];

	snprintf(aux, sizeof aux, "%s-wal", path);
	return stat(path, &sb) == 0 || stat(aux, &sb) == 0;
}

/* Entry seq of the ledger at path; *buf malloc'd. */
static void
entry_of(const char *path, uint64_t seq, struct ml_entry *en, uint8_t **buf)
{
	struct ml_ledger *l;
	uint8_t leaf[ML_SHA256_LEN];
	struct ml_err e;

	assert_int_equal(ml_ledger_open(path, 0, &l, &e), ML_OK);
	assert_int_equal(ml_store_entry_get(ml_ledger_store(l), seq, en, buf, leaf, &e), ML_OK);
	ml_ledger_close(l);
}

/* ---- tests ------------------------------------------------------------ */

static void
test_there_and_back(void **state)
{
	struct fx *f = *state;
	struct ml_migrate_result r;
	struct ml_entry a, b;
	uint8_t *ba = NULL, *bb = NULL;
	struct ml_err e;

	assert_int_equal(ml_migrate_to_pg(f->src, &fake, NULL, &r, &e), ML_OK);
	assert_int_equal(r.entries, 1);
	assert_int_equal(fake.size, 1);
	assert_non_null(fake.note[1]);
	/* a store that holds a ledger is refused and unchanged */
	assert_int_equal(ml_migrate_to_pg(f->src, &fake, NULL, &r, &e), ML_ECONFLICT);
	assert_int_equal(fake.size, 1);

	assert_int_equal(ml_migrate_from_pg(&fake, f->back, NULL, &r, &e), ML_OK);
	assert_int_equal(r.size, 1);
	entry_of(f->src, 0, &a, &ba);
	entry_of(f->back, 0, &b, &bb);
	assert_int_equal(a.envelope_len, b.envelope_len);
	assert_memory_equal(a.envelope, b.envelope, a.envelope_len);
	assert_memory_equal(a.prev, b.prev, ML_SHA256_LEN);
	assert_int_equal(a.time_us, b.time_us);
	free(ba);
	free(bb);
	/* into an existing file: refused, the file stays */
	assert_int_not_equal(ml_migrate_from_pg(&fake, f->back, NULL, &r, &e), ML_OK);
	assert_true(exists(f->back));
}

static void
test_from_refusals(void **state)
{
	struct fx *f = *state;
	struct ml_err e;
	char *note;

	assert_int_equal(ml_migrate_to_pg(f->src, &fake, NULL, NULL, &e), ML_OK);
	/* the leaf column is not the row's */
	fake.e[0].leaf[3] ^= 1;
	assert_int_equal(ml_migrate_from_pg(&fake, f->back, NULL, NULL, &e), ML_EINTEGRITY);
	assert_int_equal(e.seq, 0);
	assert_false(exists(f->back));
	fake.e[0].leaf[3] ^= 1;
	/* the row and its leaf column changed together: the rules refuse it */
	fake.e[0].env[fake.e[0].en.envelope_len / 2] ^= 1;
	ml_leaf_hash(&fake.e[0].en, fake.e[0].leaf);
	assert_int_equal(ml_migrate_from_pg(&fake, f->back, NULL, NULL, &e), ML_EINTEGRITY);
	assert_int_equal(e.seq, 0);
	assert_false(exists(f->back));
	fake.e[0].env[fake.e[0].en.envelope_len / 2] ^= 1;
	ml_leaf_hash(&fake.e[0].en, fake.e[0].leaf);
	/* the checkpoint signature changed */
	note = fake.note[1];
	note[strlen(note) - 4] = note[strlen(note) - 4] == 'A' ? 'B' : 'A';
	assert_int_equal(ml_migrate_from_pg(&fake, f->back, NULL, NULL, &e), ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "checkpoint"));
	assert_false(exists(f->back));
	/* no checkpoint at all: nothing to copy */
	free(fake.note[1]);
	fake.note[1] = NULL;
	assert_int_equal(ml_migrate_from_pg(&fake, f->back, NULL, NULL, &e), ML_EINPUT);
	assert_false(exists(f->back));
}

static void
test_follow(void **state)
{
	struct fx *f = *state;
	struct ml_ledger *l;
	struct ml_err e;
	uint64_t size = 99;
	char *note;

	assert_int_equal(ml_migrate_to_pg(f->src, &fake, NULL, NULL, &e), ML_OK);
	assert_int_equal(ml_migrate_from_pg(&fake, f->back, NULL, NULL, &e), ML_OK);
	assert_int_equal(ml_ledger_open(f->back, 1, &l, &e), ML_OK);
	assert_int_equal(ml_migrate_follow(&fake, l, &size, &e), ML_OK);
	assert_int_equal(size, 1);
	/* another entry 0 in the store (a fork): refused */
	fake.e[0].en.time_us += 1;
	ml_leaf_hash(&fake.e[0].en, fake.e[0].leaf);
	assert_int_equal(ml_migrate_follow(&fake, l, &size, &e), ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "fork"));
	assert_int_equal(e.seq, 0);
	fake.e[0].en.time_us -= 1;
	ml_leaf_hash(&fake.e[0].en, fake.e[0].leaf);
	/* the store lost what the copy holds (a failover): refused */
	fake.size = 0;
	note = fake.note[1];
	fake.note[1] = NULL;
	assert_int_equal(ml_migrate_follow(&fake, l, &size, &e), ML_EINTEGRITY);
	assert_non_null(strstr(e.msg, "holds 1 entries"));
	fake.size = 1;
	fake.note[1] = note;
	/* another ledger */
	fake.origin[0] ^= 1;
	assert_int_equal(ml_migrate_follow(&fake, l, &size, &e), ML_EINPUT);
	fake.origin[0] ^= 1;
	ml_ledger_close(l);
}

/* An empty working copy follows the store up to its checkpoint. */
static void
test_follow_from_empty(void **state)
{
	struct fx *f = *state;
	struct ml_ledger *l;
	struct ml_err e;
	uint64_t size = 99;

	assert_int_equal(ml_migrate_to_pg(f->src, &fake, NULL, NULL, &e), ML_OK);
	assert_int_equal(ml_ledger_create_replica(f->back, fake.origin, fake.logkey, &e), ML_OK);
	assert_int_equal(ml_ledger_open(f->back, 1, &l, &e), ML_OK);
	assert_int_equal(ml_migrate_follow(&fake, l, &size, &e), ML_OK);
	assert_int_equal(size, 1);
	ml_ledger_close(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_there_and_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_from_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_follow_from_empty, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
