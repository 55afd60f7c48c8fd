/* request — see request.h. */
#include "request.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- the fast path of ml_request_load ----------------------------------
 * For the lines import reads in bulk: objects, arrays, strings without
 * escapes or controls, numbers, true, false and null, nested at most
 * FAST_DEPTH deep.  It builds the tree json_loadb(JSON_REJECT_DUPLICATES)
 * builds, or gives up (NULL) on anything else and on anything json_loadb
 * might refuse (an escape, a control character, invalid UTF-8, a
 * duplicate name, a number outside RFC 8259's grammar or out of range,
 * bytes after the value): json_loadb then decides, with its own messages.
 * So it never accepts a line json_loadb refuses; tests/unit/test_jsonw.c
 * compares the two on hand-made and mutated lines. */

#define FAST_DEPTH 32
#define FAST_NUMBER_MAX 63

struct scan {
	const unsigned char *p, *end;
};

static void
skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

/* A string at s->p (after its opening quote) up to the closing one: sets
 * *str and *len to its bytes and moves past the quote.  -1 to give up. */
static int
fast_string(struct scan *s, const char **str, size_t *len)
{
	const unsigned char *start = s->p;

	while (s->p < s->end && *s->p != '"') {
		uint32_t cp;
		size_t n;
		if (*s->p == '\\' || *s->p < 0x20)
			return -1;
		if (*s->p < 0x80) {
			s->p++;
			continue;
		}
		if (!(n = ml_utf8_next(s->p, (size_t)(s->end - s->p), &cp)))
			return -1;
		s->p += n;
	}
	if (s->p == s->end)
		return -1;
	*str = (const char *)start;
	*len = (size_t)(s->p - start);
	s->p++;
	return 0;
}

static int
is_digit(const unsigned char *p, const unsigned char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

/* A number in RFC 8259's grammar, as jansson reads it: an integer unless it
 * has a fraction or an exponent; NULL to give up (out of range, too long). */
static json_t *
fast_number(struct scan *s)
{
	const unsigned char *start = s->p;
	char text[FAST_NUMBER_MAX + 1], *end;
	int real = 0;
	size_t n;

	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (is_digit(s->p, s->end) && *s->p == '0')
		s->p++;
	else if (is_digit(s->p, s->end))
		while (is_digit(s->p, s->end))
			s->p++;
	else
		return NULL;
	if (s->p < s->end && *s->p == '.') {
		real = 1;
		if (!is_digit(++s->p, s->end))
			return NULL;
		while (is_digit(s->p, s->end))
			s->p++;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		real = 1;
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!is_digit(s->p, s->end))
			return NULL;
		while (is_digit(s->p, s->end))
			s->p++;
	}
	if ((n = (size_t)(s->p - start)) > FAST_NUMBER_MAX)
		return NULL;
	memcpy(text, start, n);
	text[n] = '\0';
	errno = 0;
	if (!real) {
		long long v = strtoll(text, &end, 10);
		return errno ? NULL : json_integer(v);
	}
	double d = strtod(text, &end);
	if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE)
		return NULL;
	return json_real(d);
}

/* The literal word (true, false, null) at s->p, not followed by a letter
 * (jansson reads a run of letters as one token). */
static int
fast_word(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return 0;
	s->p += n;
	return !(s->p < s->end && ((*s->p >= 'a' && *s->p <= 'z') || (*s->p >= 'A' && *s->p <= 'Z')));
}

static json_t *fast_value(struct scan *s, int depth);

static json_t *
fast_object(struct scan *s, int depth)
{
	json_t *o = json_object(), *v;
	const char *k;
	size_t klen;

	skip_ws(s);
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		return o;
	}
	while (o) {
		if (s->p == s->end || *s->p++ != '"' || fast_string(s, &k, &klen))
			break;
		skip_ws(s);
		if (s->p == s->end || *s->p++ != ':')
			break;
		skip_ws(s);
		if (json_object_getn(o, k, klen) || !(v = fast_value(s, depth + 1)))
			break;
		if (json_object_setn_new_nocheck(o, k, klen, v))
			break;
		skip_ws(s);
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			return o;
		}
		if (s->p == s->end || *s->p++ != ',')
			break;
		skip_ws(s);
	}
	json_decref(o);
	return NULL;
}

static json_t *
fast_array(struct scan *s, int depth)
{
	json_t *a = json_array(), *v;

	skip_ws(s);
	if (s->p < s->end && *s->p == ']') {
		s->p++;
		return a;
	}
	while (a) {
		if (!(v = fast_value(s, depth + 1)) || json_array_append_new(a, v))
			break;
		skip_ws(s);
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			return a;
		}
		if (s->p == s->end || *s->p++ != ',')
			break;
		skip_ws(s);
	}
	json_decref(a);
	return NULL;
}

/* A value at s->p (no white space before it). */
static json_t *
fast_value(struct scan *s, int depth)
{
	const char *str;
	size_t len;

	if (s->p == s->end || depth > FAST_DEPTH)
		return NULL;
	switch (*s->p) {
	case '{':
		s->p++;
		return fast_object(s, depth);
	case '[':
		s->p++;
		return fast_array(s, depth);
	case '"':
		s->p++;
		return fast_string(s, &str, &len) ? NULL : json_stringn_nocheck(str, len);
	case 't':
		return fast_word(s, "true") ? json_true() : NULL;
	case 'f':
		return fast_word(s, "false") ? json_false() : NULL;
	case 'n':
		return fast_word(s, "null") ? json_null() : NULL;
	default:
		return fast_number(s);
	}
}

/* The fast path: an object and nothing after it but white space. */
static json_t *
fast_load(const char *line, size_t len)
{
	struct scan s = {(const unsigned char *)line, (const unsigned char *)line + len};
	json_t *v;

	skip_ws(&s);
	if (s.p == s.end || *s.p != '{' || !(v = fast_value(&s, 1)))
		return NULL;
	skip_ws(&s);
	if (s.p != s.end) {
		json_decref(v);
		return NULL;
	}
	return v;
}

int
ml_request_load(const char *line, size_t len, json_t **out, struct ml_err *e)
{
	json_error_t jerr;
	json_t *req = fast_load(line, len);

	if (!req && !(req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr)))
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
