/* Unit tests for rules.h's contracts, through appends as `record` makes
 * them (ml_ledger_append calls ml_rules_check and ml_rules_apply):
 * what is live (FORMAT.md §5 rule 11) after a deployment, a retirement, a
 * redeployment and a backdated deployment, seen by the retirement rule and
 * by ml_live_step/ml_live_is; a signer whose roles may not sign the kind is
 * refused (ML_EKEY); a revoked key's later entry is refused (ML_EKEY) while
 * its earlier entries stay; ml_roles_has matches whole roles only; an
 * envelope hint is used only for the bytes it describes. */
#include "testutil.h"
#include "testledger.h"

#include "rules.h"
#include "store.h"

struct fx {
	char dir[256], path[300];
	struct ml_seckey *admin, *ci, *alice;
};

/* Entries: 0 genesis, 1 enrol ci (engineer), 2 enrol alice (approver),
 * 3 dataset, 4 model fraud@1.0. */
static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	assert_non_null(f);
	tu_tmpdir(f->dir, sizeof f->dir);
	snprintf(f->path, sizeof f->path, "%s/ledger.db", f->dir);
	f->admin = tl_key("admin", 1);
	f->ci = tl_key("ci", 3);
	f->alice = tl_key("alice", 2);
	tl_init(f->path, f->admin);
	tl_enrol(f->path, f->admin, f->ci, "engineer", NULL);
	tl_enrol(f->path, f->admin, f->alice, "approver", NULL);
	tl_ok(f->path, f->ci, json_pack("{s:s,s:s,s:s}", "kind", "dataset", "subject",
					"cb@2026-10", "digest", TL_D1), NULL);
	tl_ok(f->path, f->ci, json_pack("{s:s,s:s,s:s,s:[s]}", "kind", "model", "subject",
					"fraud@1.0", "digest", TL_D2, "datasets", "cb@2026-10"),
	      NULL);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	tu_rmtree(f->dir);
	ml_seckey_free(f->admin);
	ml_seckey_free(f->ci);
	ml_seckey_free(f->alice);
	free(f);
	return 0;
}

static int
deploy(struct fx *f, const char *time, uint64_t *seq, struct ml_err *e)
{
	json_t *r = json_pack("{s:s,s:s,s:s}", "kind", "deployment", "subject", "fraud@1.0",
			      "environment", "prod");
	if (time)
		json_object_set_new(r, "time", json_string(time));
	return tl_add(f->path, f->ci, r, NULL, seq, e);
}

static int
retire(struct fx *f, const char *time, uint64_t *seq, struct ml_err *e)
{
	json_t *r = json_pack("{s:s,s:s,s:s,s:s}", "kind", "retirement", "subject", "fraud@1.0",
			      "environment", "prod", "reason", "replaced");
	if (time)
		json_object_set_new(r, "time", json_string(time));
	return tl_add(f->path, f->ci, r, NULL, seq, e);
}

/* The mark folded over the ledger's deployments and retirements of
 * fraud@1.0 (all in prod), in seq order, as live.c and report.c fold them. */
struct fold {
	struct ml_live_mark m;
	int n;
};

static int
fold_entry(void *ctx, const struct ml_entry *en, const uint8_t leaf[ML_SHA256_LEN],
	   const struct ml_index_row *ix, int has_ix)
{
	struct fold *fo = ctx;

	(void)leaf;
	if (!has_ix)
		return 0;
	if (!strcmp(ix->kind, "deployment"))
		ml_live_step(&fo->m, ML_KIND_DEPLOYMENT, en->seq);
	else if (!strcmp(ix->kind, "retirement"))
		ml_live_step(&fo->m, ML_KIND_RETIREMENT, en->seq);
	else
		return 0;
	fo->n++;
	return 0;
}

static int
live_now(struct fx *f)
{
	struct fold fo = {ML_LIVE_MARK_INIT, 0};
	struct ml_store *s;
	struct ml_err e;

	assert_int_equal(ml_store_open(f->path, 0, &s, &e), ML_OK);
	assert_int_equal(ml_store_query(s, NULL, "fraud", "1.0", -1, fold_entry, &fo, &e), ML_OK);
	ml_store_close(s);
	return ml_live_is(&fo.m);
}

static void
test_live_deploy_retire_redeploy(void **state)
{
	struct fx *f = *state;
	struct ml_err e;
	uint64_t d1, r1, d2;

	/* never deployed: not live, and a retirement is refused.  Distinct
	 * times: the same statement twice would be the same entry (idempotent) */
	assert_false(live_now(f));
	assert_int_equal(retire(f, "2026-11-01T00:00:00Z", NULL, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "never deployed"));
	assert_int_equal(deploy(f, "2026-11-02T00:00:00Z", &d1, &e), ML_OK);
	assert_true(live_now(f));
	assert_int_equal(retire(f, "2026-11-03T00:00:00Z", &r1, &e), ML_OK);
	assert_true(r1 > d1);
	assert_false(live_now(f));
	/* retired twice: refused, naming the first retirement */
	assert_int_equal(retire(f, "2026-11-04T00:00:00Z", NULL, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "already retired"));
	/* redeployed: live again, and may be retired again */
	assert_int_equal(deploy(f, "2026-11-05T00:00:00Z", &d2, &e), ML_OK);
	assert_true(d2 > r1);
	assert_true(live_now(f));
	assert_int_equal(retire(f, "2026-11-06T00:00:00Z", NULL, &e), ML_OK);
	assert_false(live_now(f));
}

/* Live follows seq order, never the author's time: a deployment appended
 * after a retirement but dated before it is live, and retiring it is
 * allowed; a retirement dated before the deployment it follows ends it. */
static void
test_live_backdated(void **state)
{
	struct fx *f = *state;
	struct ml_err e;
	struct ml_live_mark m = ML_LIVE_MARK_INIT;

	assert_int_equal(deploy(f, "2026-11-01T00:00:00Z", NULL, &e), ML_OK);
	assert_int_equal(retire(f, "2026-11-20T00:00:00Z", NULL, &e), ML_OK);
	assert_int_equal(deploy(f, "2026-11-10T00:00:00Z", NULL, &e), ML_OK); /* backdated */
	assert_true(live_now(f));
	assert_int_equal(retire(f, "2026-11-05T00:00:00Z", NULL, &e), ML_OK); /* backdated */
	assert_false(live_now(f));
	assert_int_equal(retire(f, "2026-11-21T00:00:00Z", NULL, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "already retired"));
	/* the mark itself: only seqs count, so a later seq wins either way */
	ml_live_step(&m, ML_KIND_DEPLOYMENT, 10);
	ml_live_step(&m, ML_KIND_RETIREMENT, 10 + 1);
	assert_false(ml_live_is(&m));
	ml_live_step(&m, ML_KIND_DEPLOYMENT, 12);
	assert_true(ml_live_is(&m));
}

/* The governance's roles: an engineer may not approve; an approver may not
 * deploy; neither may enrol a key (admin only).  Nothing is appended. */
static void
test_role_refused(void **state)
{
	struct fx *f = *state;
	struct ml_seckey *x = tl_key("x", 7);
	struct ml_store *s;
	struct ml_err e;
	uint64_t before, after;
	uint8_t last[ML_SHA256_LEN];
	int64_t t;
	char v[ML_VKEY_MAX];

	assert_int_equal(ml_store_open(f->path, 0, &s, &e), ML_OK);
	assert_int_equal(ml_store_head(s, &before, last, &t, &e), ML_OK);
	ml_store_close(s);
	assert_int_equal(tl_add(f->path, f->ci,
				json_pack("{s:s,s:s,s:s,s:s}", "kind", "approval", "subject",
					  "fraud@1.0", "environment", "prod", "decision",
					  "approve"), NULL, NULL, &e), ML_EKEY);
	assert_non_null(strstr(e.msg, "may not sign approval"));
	assert_non_null(strstr(e.msg, "engineer"));
	assert_int_equal(tl_add(f->path, f->alice,
				json_pack("{s:s,s:s,s:s}", "kind", "deployment", "subject",
					  "fraud@1.0", "environment", "prod"), NULL, NULL, &e),
			 ML_EKEY);
	assert_non_null(strstr(e.msg, "may not sign deployment"));
	ml_pubkey_format(ml_seckey_public(x), v);
	assert_int_not_equal(tl_add(f->path, f->ci,
				    json_pack("{s:s,s:s,s:[s]}", "kind", "key-enrollment", "key", v,
					      "roles", "engineer"), x, NULL, &e), ML_OK);
	assert_int_equal(ml_store_open(f->path, 0, &s, &e), ML_OK);
	assert_int_equal(ml_store_head(s, &after, last, &t, &e), ML_OK);
	ml_store_close(s);
	assert_int_equal(after, before);
	/* the approver may approve */
	tl_ok(f->path, f->alice, json_pack("{s:s,s:s,s:s,s:s}", "kind", "approval", "subject",
					   "fraud@1.0", "environment", "prod", "decision",
					   "approve"), NULL);
	ml_seckey_free(x);
}

/* A revoked key: its entries before the revocation stay; any later entry
 * is refused with ML_EKEY naming the revocation's seq. */
static void
test_revoked_key_refused(void **state)
{
	struct fx *f = *state;
	struct ml_store *s;
	struct ml_key_row row;
	struct ml_err e;
	char v[ML_VKEY_MAX], want[64];
	uint64_t rseq;
	int found;

	tl_ok(f->path, f->ci, json_pack("{s:s,s:s,s:s}", "kind", "deployment", "subject",
					"fraud@1.0", "environment", "prod"), NULL);
	ml_pubkey_format(ml_seckey_public(f->ci), v);
	rseq = tl_ok(f->path, f->admin, json_pack("{s:s,s:s,s:s}", "kind", "key-revocation",
						  "key", v, "reason", "left"), NULL);
	assert_int_equal(retire(f, NULL, NULL, &e), ML_EKEY);
	snprintf(want, sizeof want, "revoked at entry %llu", (unsigned long long)rseq);
	assert_non_null(strstr(e.msg, want));
	/* the projection says so too */
	assert_int_equal(ml_store_open(f->path, 0, &s, &e), ML_OK);
	assert_int_equal(ml_store_key_active_by_name(s, ML_DB_MAIN, "ci", &row, &found, &e),
			 ML_OK);
	assert_false(found);
	ml_store_close(s);
	/* the deployment it signed before is still there, and live */
	assert_true(live_now(f));
}

/* The envelope of req signed by k, for the ledger at path (caller frees). */
static void
signed_env(const char *path, struct ml_seckey *k, json_t *req, struct ml_buf *env)
{
	struct ml_ledger *l;
	struct ml_buf p = {0};
	struct ml_err e;
	enum ml_kind kind;

	assert_int_equal(ml_ledger_open(path, 0, &l, &e), ML_OK);
	assert_int_equal(ml_request_bind_origin(req, ml_ledger_origin(l), NULL, &e), ML_OK);
	assert_int_equal(ml_request_build(req, tl_resolve, l, ml_now_us(), &kind, &p, &e), ML_OK);
	assert_int_equal(ml_envelope_sign(k, p.data, p.len, env, &e), ML_OK);
	json_decref(req);
	ml_buf_free(&p);
	ml_ledger_close(l);
}

/* ml_rules_check_hinted of bytes as the next entry; *c released here. */
static int
check_hinted(struct ml_store *s, const struct ml_rules_state *r, uint64_t size,
	     const struct ml_buf *bytes, const struct ml_envelope_hint *h, struct ml_checked *c,
	     struct ml_err *e)
{
	return ml_rules_check_hinted(s, ML_DB_MAIN, r, size, ml_now_us(), bytes->data,
				     bytes->len, 0, NULL, h, c, e);
}

/* An envelope hint (rules.h) is used only for the very bytes it describes:
 * for other bytes, even of the same length and one byte apart, the check
 * parses the bytes it was given.  To show that the hint is used at all,
 * a hint that lies (the parse of an accepted envelope, given with a refused
 * envelope's bytes) changes the result when its bytes are those checked. */
static void
test_envelope_hint(void **state)
{
	struct fx *f = *state;
	struct ml_buf ok = {0}, refused = {0}, flipped = {0}, big;
	struct ml_envelope env_ok;
	struct ml_envelope_hint h;
	struct ml_rules_state r;
	struct ml_checked c, plain;
	struct ml_store *s;
	struct ml_err e;
	uint8_t last[ML_SHA256_LEN];
	uint64_t size;
	int64_t t;

	signed_env(f->path, f->ci, json_pack("{s:s,s:s,s:s}", "kind", "dataset", "subject",
					     "cb@2026-11", "digest", TL_D2), &ok);
	/* an engineer may not approve: ML_EKEY */
	signed_env(f->path, f->ci, json_pack("{s:s,s:s,s:s,s:s}", "kind", "approval", "subject",
					     "fraud@1.0", "environment", "prod", "decision",
					     "approve"), &refused);
	assert_int_equal(ml_envelope_parse(ok.data, ok.len, &env_ok, &e), ML_OK);
	h.bytes = ok.data;
	h.len = ok.len;
	h.env = &env_ok;
	ml_sha256(env_ok.payload, env_ok.payload_len, h.payload_sha256);

	assert_int_equal(ml_store_open(f->path, 0, &s, &e), ML_OK);
	assert_int_equal(ml_store_begin(s, 0, &e), ML_OK);
	assert_int_equal(ml_store_head(s, &size, last, &t, &e), ML_OK);
	assert_int_equal(ml_rules_state_load(&r, s, &e), ML_OK);

	/* its own bytes: the same result as without the hint */
	assert_int_equal(check_hinted(s, &r, size, &ok, NULL, &plain, &e), ML_OK);
	assert_int_equal(check_hinted(s, &r, size, &ok, &h, &c, &e), ML_OK);
	assert_int_equal(c.env.payload_len, plain.env.payload_len);
	assert_memory_equal(c.env.payload, plain.env.payload, c.env.payload_len);
	assert_memory_equal(c.env.sig, plain.env.sig, ML_SIG_LEN);
	assert_string_equal(c.env.keyid, plain.env.keyid);
	assert_memory_equal(c.stmt_hash, plain.stmt_hash, ML_SHA256_LEN);
	assert_true(c.env.payload != env_ok.payload); /* a copy: c owns it */
	ml_checked_free(&c);
	ml_checked_free(&plain);

	/* other bytes: not used, the refusal stands */
	assert_int_equal(check_hinted(s, &r, size, &refused, &h, &c, &e), ML_EKEY);
	assert_non_null(strstr(e.msg, "may not sign approval"));
	/* the same length, one byte apart (the signature's last character) */
	ml_buf_append(&flipped, ok.data, ok.len);
	flipped.data[flipped.len - 5] ^= 1;
	assert_int_not_equal(check_hinted(s, &r, size, &flipped, &h, &c, &e), ML_OK);
	/* too long for an envelope: refused even with a hint for those bytes */
	memset(&big, 0, sizeof big);
	while (big.len <= ML_MAX_ENVELOPE && !big.oom)
		ml_buf_append(&big, ok.data, ok.len);
	h.bytes = big.data;
	h.len = big.len;
	assert_int_equal(check_hinted(s, &r, size, &big, &h, &c, &e), ML_EINPUT);
	ml_buf_free(&big);

	/* the lying hint for the refused bytes is used: the check cannot tell */
	h.bytes = refused.data;
	h.len = refused.len;
	assert_int_equal(check_hinted(s, &r, size, &refused, &h, &c, &e), ML_OK);
	ml_checked_free(&c);

	ml_rules_state_free(&r);
	ml_store_rollback(s);
	ml_store_close(s);
	ml_envelope_clear(&env_ok);
	ml_buf_free(&ok);
	ml_buf_free(&refused);
	ml_buf_free(&flipped);
}

static void
test_roles_has(void **state)
{
	(void)state;
	assert_true(ml_roles_has("engineer,validator", "engineer"));
	assert_true(ml_roles_has("engineer,validator", "validator"));
	assert_false(ml_roles_has("engineer,validator", "engine"));
	assert_false(ml_roles_has("engineer,validator", "validators"));
	assert_false(ml_roles_has("", "admin"));
	assert_true(ml_roles_has("admin", "admin"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_live_deploy_retire_redeploy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_backdated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_role_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoked_key_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_envelope_hint, setup, teardown),
		cmocka_unit_test(test_roles_has),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
