/* A small ledger for unit tests, built through the library as `record`
 * builds one: deterministic keys, the default governance without "gates"
 * (deployments need no gate decision), requests signed and appended one at
 * a time.  Include after testutil.h. */
#ifndef ML_TESTLEDGER_H
#define ML_TESTLEDGER_H

#include <jansson.h>

#include "governance.h"
#include "keys.h"
#include "ledger.h"
#include "request.h"
#include "statement.h"

#define TL_D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define TL_D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

/* A key from a fixed seed (the caller frees it). */
static inline struct ml_seckey *
tl_key(const char *name, uint8_t fill)
{
	uint8_t seed[32];
	struct ml_seckey *k = NULL;
	struct ml_err e;

	memset(seed, fill, sizeof seed);
	assert_int_equal(ml_seckey_from_seed(name, seed, &k, &e), ML_OK);
	return k;
}

static inline int
tl_resolve(void *ctx, const char *kind, const char *ref, uint8_t d[32], struct ml_err *e)
{
	int64_t seq;
	return ml_ledger_subject(ctx, kind, ref, d, &seq, e);
}

/* Creates the ledger at path (genesis, entry 0) with the ungated default
 * governance, signed by admin. */
static inline void
tl_init(const char *path, struct ml_seckey *admin)
{
	json_t *doc = json_loads(ml_governance_default_text(), 0, NULL);
	struct ml_appended g;
	struct ml_err e;
	char *text;

	assert_non_null(doc);
	assert_int_equal(json_object_del(doc, "gates"), 0);
	text = json_dumps(doc, JSON_INDENT(2));
	json_decref(doc);
	assert_non_null(text);
	if (ml_ledger_init_governed(path, "test.example/unit", admin, text, &g, &e) != ML_OK)
		fail_msg("init: %s", e.msg);
	free(text);
}

/* Signs req (stolen) with k and appends it to the ledger at path.  holder,
 * when not NULL, is the key a key-enrollment in req enrols: it proves
 * possession.  Returns the append's result (e set), *seq the entry's. */
static inline int
tl_add(const char *path, struct ml_seckey *k, json_t *req, struct ml_seckey *holder,
       uint64_t *seq, struct ml_err *e)
{
	struct ml_ledger *l;
	struct ml_buf p = {0}, env = {0};
	struct ml_append_item it = {0};
	struct ml_appended out;
	enum ml_kind kind;
	int rc;

	assert_non_null(req);
	ml_err_clear(e);
	assert_int_equal(ml_ledger_open(path, 1, &l, e), ML_OK);
	assert_int_equal(ml_request_bind_origin(req, ml_ledger_origin(l), NULL, e), ML_OK);
	if (holder)
		assert_int_equal(ml_request_add_possession(req, ml_ledger_origin(l), holder, e),
				 ML_OK);
	rc = ml_request_build(req, tl_resolve, l, ml_now_us(), &kind, &p, e);
	if (rc == ML_OK) {
		assert_int_equal(ml_envelope_sign(k, p.data, p.len, &env, e), ML_OK);
		it.envelope = env.data;
		it.len = env.len;
		rc = ml_ledger_append(l, &it, 1, &out, e);
		if (rc == ML_OK && seq)
			*seq = out.seq;
	}
	json_decref(req);
	ml_buf_free(&p);
	ml_buf_free(&env);
	ml_ledger_close(l);
	return rc;
}

/* tl_add that must succeed; returns the seq. */
static inline uint64_t
tl_ok(const char *path, struct ml_seckey *k, json_t *req, struct ml_seckey *holder)
{
	struct ml_err e;
	uint64_t seq = 0;

	if (tl_add(path, k, req, holder, &seq, &e) != ML_OK)
		fail_msg("append: %s", e.msg);
	return seq;
}

/* Enrols holder with one or two roles (role2 may be NULL), signed by admin. */
static inline uint64_t
tl_enrol(const char *path, struct ml_seckey *admin, struct ml_seckey *holder,
	 const char *role1, const char *role2)
{
	char v[ML_VKEY_MAX];

	ml_pubkey_format(ml_seckey_public(holder), v);
	return tl_ok(path, admin,
		     role2 ? json_pack("{s:s,s:s,s:[s,s]}", "kind", "key-enrollment", "key", v,
				       "roles", role1, role2)
			   : json_pack("{s:s,s:s,s:[s]}", "kind", "key-enrollment", "key", v,
				       "roles", role1),
		     holder);
}

#endif
