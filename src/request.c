/* request — see request.h. */
#include "request.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonp.h"
#include "keys.h"

enum ml_rc
ml_digest_parse(const char *s, uint8_t out[ML_SHA256_LEN])
{
	const char *p;

	if (!s || strncmp(s, "sha256:", 7) != 0 || strlen(s + 7) != 64)
		return ML_EINPUT;
	for (p = s + 7; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			return ML_EINPUT;
	return ml_hex_decode(s + 7, 64, out, ML_SHA256_LEN);
}

int
ml_request_load(const char *line, size_t len, json_t **out, struct ml_err *e)
{
	json_error_t jerr;
	json_t *req = NULL;

	/* jsonp builds the tree json_loadb would; what it refuses, json_loadb
	 * decides (with its message), so the accepted set is jansson's. */
	if (ml_jsonp_load((const uint8_t *)line, len, &req) != ML_OK &&
	    !(req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr)))
		return ml_err_set(e, ML_EINPUT, "bad JSON at column %d: %s", jerr.column,
				  jerr.text);
	*out = req;
	return ML_OK;
}

/* A JSON number per RFC 8259's grammar, finite, as integer or real. */
static json_t *
number_value(const char *v)
{
	const char *p = v;
	int is_int = 1;
	char *end;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (*p == '.') {
		is_int = 0;
		if (!(*++p >= '0' && *p <= '9'))
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		is_int = 0;
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return NULL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p)
		return NULL;
	errno = 0;
	if (is_int) {
		long long n = strtoll(v, &end, 10);
		if (errno == 0)
			return json_integer(n);
	}
	double d = strtod(v, &end);
	if (!isfinite(d))
		return NULL;
	return json_real(d);
}

int
ml_request_add_kv(json_t *obj, const char *kv, const char *what, struct ml_err *e)
{
	const char *eq = strchr(kv, '=');
	char name[65];
	const char *v;
	json_t *val;
	size_t n, i;

	if (!eq)
		return ml_err_set(e, ML_EINPUT, "%s %.64s: expected NAME=VALUE", what, kv);
	n = (size_t)(eq - kv);
	if (n == 0 || n > 64)
		return ml_err_set(e, ML_EINPUT, "%s: name must be 1-64 characters", what);
	for (i = 0; i < n; i++) {
		char c = kv[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return ml_err_set(e, ML_EINPUT, "%s %.64s: name must be [A-Za-z0-9_.-]",
					  what, kv);
	}
	memcpy(name, kv, n);
	name[n] = '\0';
	v = eq + 1;
	if (strlen(v) > ML_MAX_FIELD)
		return ml_err_set(e, ML_EINPUT, "%s %s: value longer than %d bytes", what, name,
				  ML_MAX_FIELD);
	if (!ml_text_valid(v, strlen(v), NULL))
		return ml_err_set(e, ML_EINPUT, "%s %s: invalid UTF-8 or control character",
				  what, name);
	if (json_object_get(obj, name))
		return ml_err_set(e, ML_EINPUT, "%s %s: given twice", what, name);
	if (v[0] == '"' && strlen(v) >= 2 && v[strlen(v) - 1] == '"')
		val = json_stringn(v + 1, strlen(v) - 2); /* "2024": text, not a number */
	else if (strcmp(v, "true") == 0)
		val = json_true();
	else if (strcmp(v, "false") == 0)
		val = json_false();
	else if (!(val = number_value(v)))
		val = json_string(v);
	if (!val || json_object_set_new(obj, name, val) != 0)
		return ml_err_set(e, ML_EINPUT, "%s %s: bad value", what, name);
	return ML_OK;
}

/* Turns "NAME@VERSION" into {"name", "digest": {"sha256"}} of a recorded
 * version of kind. */
static json_t *
resolve_ref(json_t *v, const char *kind, const char *member, ml_resolve_fn resolve,
	    void *ctx, struct ml_err *e)
{
	char n[129], ver[65], hex[2 * ML_SHA256_LEN + 1];
	uint8_t d[ML_SHA256_LEN];
	const char *ref = json_string_value(v);

	if (!ref || ml_ref_split(ref, n, ver) != 0) {
		ml_err_set(e, ML_EINPUT, "%s: expected NAME@VERSION", member);
		return NULL;
	}
	if (!resolve) {
		ml_err_set(e, ML_EINPUT, "%s %s: needs the ledger to look up its digest", member,
			   ref);
		return NULL;
	}
	if (resolve(ctx, kind, ref, d, e))
		return NULL;
	ml_hex_encode(d, sizeof d, hex);
	return json_pack("{s:s, s:{s:s}}", "name", ref, "digest", "sha256", hex);
}

/* Copies the members of req that belong in the predicate, resolving refs. */
static int
build_predicate(json_t *req, json_t *pred, ml_resolve_fn resolve, void *ctx,
		struct ml_err *e)
{
	const char *k;
	json_t *v, *out, *x;
	size_t i;

	json_object_foreach(req, k, v) {
		if (!strcmp(k, "kind") || !strcmp(k, "subject") || !strcmp(k, "digest"))
			continue;
		if (!strcmp(k, "datasets")) {
			if (!json_is_array(v) || json_array_size(v) > 256)
				return ml_err_set(e, ML_EINPUT, "datasets: expected a list of "
						  "NAME@VERSION");
			out = json_array();
			json_array_foreach(v, i, x) {
				json_t *r = resolve_ref(x, "dataset", "datasets", resolve, ctx, e);
				if (!r) {
					json_decref(out);
					return e->code ? e->code : ML_EINPUT;
				}
				json_array_append_new(out, r);
			}
		} else if (!strcmp(k, "parent") || !strcmp(k, "dataset")) {
			out = resolve_ref(v, !strcmp(k, "parent") ? "model" : "dataset", k, resolve,
					  ctx, e);
			if (!out)
				return e->code ? e->code : ML_EINPUT;
		} else {
			out = json_incref(v);
		}
		json_object_set_new(pred, k, out);
	}
	return ML_OK;
}

/* Sets subject and digest for the kinds: from the key for key kinds, from
 * "digest" or the recorded model otherwise. */
static int
subject_of(enum ml_kind kind, json_t *req, ml_resolve_fn resolve, void *ctx,
	   char subject[ML_NAME_MAX + 1], uint8_t digest[ML_SHA256_LEN], struct ml_err *e)
{
	const char *s = json_string_value(json_object_get(req, "subject"));
	json_t *dg = json_object_get(req, "digest");
	char n[129], v[65];

	if (kind == ML_KIND_KEY_ENROLLMENT || kind == ML_KIND_KEY_REVOCATION) {
		struct ml_pubkey pk;
		const char *vkey = json_string_value(json_object_get(req, "key"));
		if (!vkey)
			return ml_err_set(e, ML_EINPUT, "key: required");
		if (ml_pubkey_parse(vkey, strlen(vkey), &pk, e))
			return ml_err_prefix(e, ML_EINPUT, "key");
		if (json_object_get(req, "subject") || dg)
			return ml_err_set(e, ML_EINPUT, "%s: subject and digest come from the key; "
					  "do not give them", ml_kind_name(kind));
		snprintf(subject, ML_NAME_MAX + 1, "%s", pk.name);
		ml_sha256(vkey, strlen(vkey), digest);
		return ML_OK;
	}
	if (!s || ml_ref_split(s, n, v) != 0)
		return ml_err_set(e, ML_EINPUT, "subject: expected NAME@VERSION, got \"%.100s\"",
				  s ? s : "");
	snprintf(subject, ML_NAME_MAX + 1, "%s", s);
	if (dg) {
		if (ml_digest_parse(json_string_value(dg), digest) != 0)
			return ml_err_set(e, ML_EINPUT, "digest: expected sha256:<64 lowercase hex>");
		return ML_OK;
	}
	if (kind == ML_KIND_DATASET || kind == ML_KIND_MODEL)
		return ml_err_set(e, ML_EINPUT, "%s %s: a digest is required", ml_kind_name(kind),
				  s);
	if (!resolve)
		return ml_err_set(e, ML_EINPUT, "%s: give --digest, or the ledger to look up "
				  "the model's digest", s);
	return resolve(ctx, "model", s, digest, e);
}

int
ml_request_build(json_t *req, ml_resolve_fn resolve, void *ctx, int64_t now_us,
		 enum ml_kind *kind, struct ml_buf *payload, struct ml_err *e)
{
	return ml_request_build_parsed(req, resolve, ctx, now_us, kind, payload, NULL, e);
}

int
ml_request_build_parsed(json_t *req, ml_resolve_fn resolve, void *ctx, int64_t now_us,
			enum ml_kind *kind, struct ml_buf *payload,
			struct ml_statement *parsed, struct ml_err *e)
{
	char subject[ML_NAME_MAX + 1], now[21];
	uint8_t digest[ML_SHA256_LEN];
	const char *kname;
	enum ml_kind k;
	json_t *pred;
	int rc;

	if (!json_is_object(req))
		return ml_err_set(e, ML_EINPUT, "request: expected a JSON object");
	kname = json_string_value(json_object_get(req, "kind"));
	if (!kname || ml_kind_parse(kname, &k) != 0 || k == ML_KIND_GENESIS)
		return ml_err_set(e, ML_EINPUT, "kind: unknown kind \"%.40s\"",
				  kname ? kname : "");
	if (k == ML_KIND_GATE)
		return ml_err_set(e, ML_EINPUT, "kind: gate decisions are recorded by "
				  "`mlledger gate --key`, not imported");
	if (k == ML_KIND_POLICY)
		return ml_err_set(e, ML_EINPUT, "kind: policies are recorded by "
				  "`mlledger policy record`, not imported");
	if (k == ML_KIND_REPORT)
		return ml_err_set(e, ML_EINPUT, "kind: reports are recorded by "
				  "`mlledger report --sign KEY --record`, not imported");
	if (ml_kind_about_ledger(k))
		return ml_err_set(e, ML_EINPUT, "kind: %s entries are appended by `mlledger %s`, "
				  "not imported", kname, k == ML_KIND_GOVERNANCE
				  ? "governance set" : "clock-correct");
	if ((rc = subject_of(k, req, resolve, ctx, subject, digest, e)))
		return rc;
	if (!(pred = json_object()))
		return ml_err_set(e, ML_EIO, "out of memory");
	if ((rc = build_predicate(req, pred, resolve, ctx, e))) {
		json_decref(pred);
		return rc;
	}
	if (!json_object_get(pred, "time")) {
		ml_time_format(now_us, now);
		json_object_set_new(pred, "time", json_string(now));
	}
	rc = ml_statement_encode_parsed(k, subject, digest, pred, payload, parsed, e);
	if (rc == ML_OK)
		*kind = k;
	return rc;
}

int
ml_request_bind_origin(json_t *req, const char *origin, const char *what,
		       struct ml_err *e)
{
	json_t *have = json_object_get(req, ML_ORIGIN_MEMBER);

	if (!json_is_object(req))
		return ml_err_set(e, ML_EINPUT, "request: expected a JSON object");
	if (have && (!json_is_string(have) || strcmp(json_string_value(have), origin) != 0))
		return ml_err_set(e, ML_EINPUT, "%s%sorigin \"%.128s\" is not this ledger's (%s): "
				  "a statement is bound to the ledger it names", what ? what : "",
				  what ? ": " : "",
				  json_is_string(have) ? json_string_value(have) : "?", origin);
	if (!have && json_object_set_new(req, ML_ORIGIN_MEMBER, json_string(origin)) != 0)
		return ml_err_set(e, ML_EIO, "out of memory");
	return ML_OK;
}

int
ml_request_add_possession(json_t *req, const char *origin, const struct ml_seckey *holder,
			  struct ml_err *e)
{
	const char *vkey = json_string_value(json_object_get(req, "key"));
	char mine[ML_VKEY_MAX], *b64 = NULL;
	int rc;

	ml_pubkey_format(ml_seckey_public(holder), mine);
	if (!vkey || strcmp(vkey, mine) != 0)
		return ml_err_set(e, ML_EKEY, "the holder's secret key %s is not the key enrolled",
				  ml_seckey_public(holder)->name);
	if ((rc = ml_possession_sign(holder, origin, json_object_get(req, "person"), &b64, e)))
		return rc;
	if (json_object_set_new(req, "possession", json_string(b64)) != 0)
		rc = ml_err_set(e, ML_EIO, "out of memory");
	free(b64);
	return rc;
}
