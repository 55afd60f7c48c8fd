/* statement — see statement.h. */
#include "statement.h"

#include "artifact.h"
#include "jsonp.h"
#include "jsonw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[ML_KIND_COUNT] = {
	"genesis",    "key-enrollment", "key-revocation", "dataset",
	"model",      "evaluation",     "approval",       "deployment",
	"monitoring", "waiver",         "retirement",     "incident",
	"gate",       "governance",     "clock-correction", "policy",
	"report",
};

static const char *const predicate_types[ML_KIND_COUNT] = {
	ML_PREDICATE_PREFIX "genesis/v1",    ML_PREDICATE_PREFIX "key-enrollment/v1",
	ML_PREDICATE_PREFIX "key-revocation/v1", ML_PREDICATE_PREFIX "dataset/v1",
	ML_PREDICATE_PREFIX "model/v1",      ML_PREDICATE_PREFIX "evaluation/v1",
	ML_PREDICATE_PREFIX "approval/v1",   ML_PREDICATE_PREFIX "deployment/v1",
	ML_PREDICATE_PREFIX "monitoring/v1", ML_PREDICATE_PREFIX "waiver/v1",
	ML_PREDICATE_PREFIX "retirement/v1", ML_PREDICATE_PREFIX "incident/v1",
	ML_VSA_TYPE,                         ML_PREDICATE_PREFIX "governance/v1",
	ML_PREDICATE_PREFIX "clock-correction/v1", ML_PREDICATE_PREFIX "policy/v1",
	ML_PREDICATE_PREFIX "report/v1",
};

const char *
ml_kind_predicate_type(enum ml_kind k)
{
	return (unsigned)k < ML_KIND_COUNT ? predicate_types[k] : "?";
}

const char *
ml_kind_name(enum ml_kind k)
{
	return (unsigned)k < ML_KIND_COUNT ? kind_names[k] : "?";
}

enum ml_rc
ml_kind_parse(const char *name, enum ml_kind *k)
{
	int i;

	for (i = 0; i < ML_KIND_COUNT; i++) {
		if (strcmp(name, kind_names[i]) == 0) {
			*k = (enum ml_kind)i;
			return ML_OK;
		}
	}
	return ML_EINPUT;
}

enum ml_rc
ml_policy_uri_seq(const char *uri, uint64_t *seq)
{
	static const char prefix[] = "mlledger:seq/";
	const char *d;
	uint64_t v = 0;

	if (!uri || strncmp(uri, prefix, sizeof prefix - 1))
		return ML_EINPUT;
	d = uri + sizeof prefix - 1;
	if (!*d || strlen(d) > 19 || (d[0] == '0' && d[1]))
		return ML_EINPUT;
	for (; *d; d++) {
		if (*d < '0' || *d > '9')
			return ML_EINPUT;
		v = v * 10 + (uint64_t)(*d - '0');
	}
	*seq = v;
	return ML_OK;
}

bool
ml_gate_replayable_shape(const json_t *p)
{
	uint64_t seq, size = (uint64_t)json_integer_value(
		json_object_get(json_object_get(p, "ledger"), "size"));
	json_t *d;
	size_t i;

	if (!json_object_get(p, "parameters") || !json_object_get(p, "evidence") ||
	    json_object_get(p, "phase"))
		return false;
	json_array_foreach(json_object_get(p, "policies"), i, d)
		if (ml_policy_uri_seq(json_string_value(json_object_get(d, "uri")), &seq) ||
		    seq >= size)
			return false;
	return true;
}

bool
ml_kind_about_model(enum ml_kind k)
{
	return k >= ML_KIND_EVALUATION && k <= ML_KIND_GATE;
}

bool
ml_kind_about_ledger(enum ml_kind k)
{
	return k == ML_KIND_GENESIS || k == ML_KIND_GOVERNANCE || k == ML_KIND_CLOCK_CORRECTION;
}

static int
charset_ok(const char *s, size_t len, const char *extra, size_t max)
{
	size_t i;

	if (len == 0 || len > max)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || (c && strchr(extra, c))))
			return 0;
	}
	return 1;
}

enum ml_rc
ml_ref_split(const char *ref, char name[129], char version[65])
{
	const char *at = strchr(ref, '@');
	size_t nlen, vlen;

	if (!at || strchr(at + 1, '@'))
		return ML_EINPUT;
	nlen = (size_t)(at - ref);
	vlen = strlen(at + 1);
	if (!charset_ok(ref, nlen, "._/-", 128) || !charset_ok(at + 1, vlen, "._+-", 64))
		return ML_EINPUT;
	if (ref[0] == '.' || ref[0] == '/' || ref[0] == '-' || ref[0] == '_')
		return ML_EINPUT;
	memcpy(name, ref, nlen);
	name[nlen] = '\0';
	memcpy(version, at + 1, vlen + 1);
	return ML_OK;
}

/* ---- predicate schemas -------------------------------------------------- */

enum ftype {
	F_TIME,    /* "YYYY-MM-DDTHH:MM:SSZ" */
	F_INT,     /* JSON integer >= 0 */
	F_TEXT,    /* one line of text */
	F_LONG,    /* text that may hold newlines and tabs */
	F_IDENT,   /* [A-Za-z0-9._:-]{1,128} */
	F_DATE,    /* "YYYY-MM-DD" */
	F_VKEY,    /* C2SP verifier key line of a person's key: simple name */
	F_LOGKEY,  /* C2SP verifier key line of the log: any C2SP name */
	F_ROLES,   /* non-empty array of distinct [a-z-] role names */
	F_SCALARS, /* object: name -> string | number | boolean */
	F_REF,     /* {"name": NAME@VERSION, "digest": {"sha256": HEX}} */
	F_REFS,    /* array of F_REF */
	F_ARTIFACT,/* {"type", "size", "files"?} */
	F_DECISION,
	F_SEVERITY,
	F_VERIFIER,   /* {"id": TEXT, "version"?: {NAME: TEXT}} */
	F_DESCRIPTOR, /* {"name"?: TEXT, "uri"?: TEXT, "digest": {"sha256": HEX}} */
	F_DESCRIPTORS,/* array of 1..64 F_DESCRIPTOR */
	F_RESULT,     /* "PASSED" | "FAILED" */
	F_LEVELS,     /* array of 1..16 [A-Z0-9_:.@-] strings */
	F_LEDGER,     /* {"origin": TEXT, "size": INT, "root": base64 of 32 bytes} */
	F_PERSON,     /* {"id": simple name, "name"?: TEXT, "email"?: TEXT} */
	F_DOCUMENT,   /* a JSON object as text (its meaning is the governance module's) */
	F_PARAMS,     /* object: param name -> text, at most 64 */
	F_PARAMSETS,  /* object: policy id -> F_PARAMS, at most 64 */
	F_PHASE,      /* [A-Za-z0-9._-]{1,64} */
	F_SIG,        /* base64 of a 64-byte Ed25519 signature */
	F_RFORMAT,    /* a report's format: html | md | json | csv | csv-folder */
	F_RPOLICIES   /* 0..64 {"id", "version", "sha256"}: a report's policies */
};

struct field {
	const char *name;
	enum ftype type;
	int required;
};

#define END {NULL, F_TEXT, 0}
static const struct field f_genesis[] = {
	{"time", F_TIME, 1}, {"format", F_INT, 1}, {"origin", F_TEXT, 1},
	{"logKey", F_LOGKEY, 1}, {"admin", F_VKEY, 1}, {"person", F_PERSON, 0},
	{"governance", F_DOCUMENT, 0}, END};
static const struct field f_enroll[] = {
	{"time", F_TIME, 1}, {"key", F_VKEY, 1}, {"roles", F_ROLES, 1},
	{"person", F_PERSON, 0}, {"possession", F_SIG, 0}, END};
static const struct field f_revoke[] = {
	{"time", F_TIME, 1}, {"key", F_VKEY, 1}, {"reason", F_LONG, 1}, END};
static const struct field f_dataset[] = {
	{"time", F_TIME, 1}, {"uri", F_TEXT, 0}, {"artifact", F_ARTIFACT, 0},
	{"properties", F_SCALARS, 0}, END};
static const struct field f_model[] = {
	{"time", F_TIME, 1}, {"artifact", F_ARTIFACT, 0}, {"datasets", F_REFS, 0},
	{"parent", F_REF, 0}, {"metrics", F_SCALARS, 0}, {"properties", F_SCALARS, 0}, END};
static const struct field f_evaluation[] = {
	{"time", F_TIME, 1}, {"metrics", F_SCALARS, 1}, {"dataset", F_REF, 0},
	{"properties", F_SCALARS, 0}, END};
static const struct field f_approval[] = {
	{"time", F_TIME, 1}, {"environment", F_IDENT, 1}, {"decision", F_DECISION, 1},
	{"comment", F_LONG, 0}, END};
static const struct field f_deployment[] = {
	{"time", F_TIME, 1}, {"environment", F_IDENT, 1}, {"properties", F_SCALARS, 0}, END};
static const struct field f_monitoring[] = {
	{"time", F_TIME, 1}, {"environment", F_IDENT, 1}, {"metrics", F_SCALARS, 1},
	{"properties", F_SCALARS, 0}, END};
static const struct field f_waiver[] = {
	{"time", F_TIME, 1}, {"rule", F_IDENT, 1}, {"expires", F_DATE, 1},
	{"reason", F_LONG, 1}, {"ticket", F_TEXT, 0}, END};
static const struct field f_retirement[] = {
	{"time", F_TIME, 1}, {"environment", F_IDENT, 1}, {"reason", F_LONG, 1}, END};
static const struct field f_incident[] = {
	{"time", F_TIME, 1}, {"severity", F_SEVERITY, 1}, {"description", F_LONG, 1}, END};
/* SLSA Verification Summary Attestation v1, the fields we write (FORMAT.md
 * §3, "gate"); environment, policies, ledger and findings are mlledger's
 * extension fields, which VSA consumers ignore. */
static const struct field f_gate[] = {
	{"verifier", F_VERIFIER, 1}, {"timeVerified", F_TIME, 1}, {"resourceUri", F_TEXT, 1},
	{"policy", F_DESCRIPTOR, 1}, {"inputAttestations", F_DESCRIPTORS, 1},
	{"verificationResult", F_RESULT, 1}, {"verifiedLevels", F_LEVELS, 1},
	{"environment", F_IDENT, 1}, {"policies", F_DESCRIPTORS, 1}, {"ledger", F_LEDGER, 1},
	{"findings", F_DESCRIPTOR, 1}, {"phase", F_PHASE, 0}, {"parameters", F_PARAMSETS, 0},
	{"evidence", F_DESCRIPTOR, 0}, END};
static const struct field f_governance[] = {
	{"time", F_TIME, 1}, {"document", F_DOCUMENT, 1}, END};
static const struct field f_clock[] = {
	{"time", F_TIME, 1}, {"from", F_INT, 1}, {"reason", F_LONG, 1}, END};
static const struct field f_policy[] = {
	{"time", F_TIME, 1}, {"content", F_LONG, 1}, {"params", F_PARAMS, 0}, END};
/* FORMAT.md §2, "Report entries": time is the report's generatedAt */
static const struct field f_report[] = {
	{"time", F_TIME, 1}, {"format", F_RFORMAT, 1}, {"from", F_DATE, 1},
	{"to", F_DATE, 1}, {"asOf", F_TIME, 1}, {"policies", F_RPOLICIES, 1}, END};
#undef END

static const struct field *const schemas[ML_KIND_COUNT] = {
	f_genesis,  f_enroll,     f_revoke,     f_dataset,   f_model,      f_evaluation,
	f_approval, f_deployment, f_monitoring, f_waiver,    f_retirement, f_incident,
	f_gate,     f_governance, f_clock,      f_policy,    f_report,
};

#define MAX_ITEMS 256

static int
check_text(json_t *v, int multiline, const char *what, struct ml_err *e)
{
	const char *s;
	size_t len;

	if (!json_is_string(v))
		return ml_err_set(e, ML_EINPUT, "%s: must be a string", what);
	s = json_string_value(v);
	len = json_string_length(v);
	if (len == 0)
		return ml_err_set(e, ML_EINPUT, "%s: must not be empty", what);
	if (len > ML_MAX_FIELD)
		return ml_err_set(e, ML_EINPUT, "%s: longer than %d bytes", what,
				  ML_MAX_FIELD);
	if (!ml_text_valid(s, len, multiline ? "\n\t" : NULL))
		return ml_err_set(e, ML_EINPUT, "%s: invalid UTF-8 or control character",
				  what);
	return ML_OK;
}

static int
check_string_in(json_t *v, const char *const *set, const char *what, struct ml_err *e)
{
	const char *s = json_string_value(v);
	int i;

	char list[128] = "";
	size_t n = 0;

	for (i = 0; s && set[i]; i++)
		if (strcmp(s, set[i]) == 0)
			return ML_OK;
	/* the allowed values, listed: the sets are short constants */
	for (i = 0; set[i] && n < sizeof list; i++)
		n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", set[i]);
	return ml_err_set(e, ML_EINPUT, "%s: must be one of %s", what, list);
}

/* A JSON string of 64 lowercase hex digits; decodes into out. */
static enum ml_rc
hex64(json_t *h, uint8_t out[ML_SHA256_LEN])
{
	const char *p = json_string_value(h);

	if (!p || json_string_length(h) != 64 || ml_hex_decode(p, 64, out, ML_SHA256_LEN))
		return ML_EINPUT;
	for (; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			return ML_EINPUT;
	return ML_OK;
}

static int
check_digest_obj(json_t *d, uint8_t out[ML_SHA256_LEN], const char *what,
		 struct ml_err *e)
{
	if (!json_is_object(d) || json_object_size(d) != 1 ||
	    hex64(json_object_get(d, "sha256"), out) != 0)
		return ml_err_set(e, ML_EINPUT,
				  "%s: digest must be {\"sha256\": 64 lowercase hex}", what);
	return ML_OK;
}

static int
check_ref(json_t *v, const char *what, struct ml_err *e)
{
	char n[129], ver[65];
	uint8_t d[ML_SHA256_LEN];
	json_t *name = json_object_get(v, "name");

	if (!json_is_object(v) || json_object_size(v) != 2 || !json_is_string(name) ||
	    ml_ref_split(json_string_value(name), n, ver) != 0)
		return ml_err_set(e, ML_EINPUT, "%s: must be {\"name\": NAME@VERSION, \"digest\"}",
				  what);
	return check_digest_obj(json_object_get(v, "digest"), d, what, e);
}

static int
check_scalars(json_t *v, int required, const char *what, struct ml_err *e)
{
	const char *k;
	json_t *x;

	if (!json_is_object(v))
		return ml_err_set(e, ML_EINPUT, "%s: must be an object", what);
	if (required && json_object_size(v) == 0)
		return ml_err_set(e, ML_EINPUT, "%s: at least one value is required", what);
	if (json_object_size(v) > MAX_ITEMS)
		return ml_err_set(e, ML_EINPUT, "%s: more than %d values", what, MAX_ITEMS);
	json_object_foreach(v, k, x) {
		if (!charset_ok(k, strlen(k), "_.-", 64))
			return ml_err_set(e, ML_EINPUT, "%s: bad name \"%.64s\" (use [A-Za-z0-9_.-])",
					  what, k);
		if (json_is_string(x)) {
			if (check_text(x, 0, what, e))
				return e->code;
		} else if (!json_is_number(x) && !json_is_boolean(x)) {
			return ml_err_set(e, ML_EINPUT, "%s.%s: must be a string, number or boolean",
					  what, k);
		}
	}
	return ML_OK;
}

/* A manifest path: relative, '/'-separated, no empty, "." or ".." segment,
 * no newline, carriage return or backslash (FORMAT.md §6). */
static int
path_ok(const char *p)
{
	const char *seg = p;

	if (!*p || *p == '/' || strpbrk(p, "\n\r\\"))
		return 0;
	for (;;) {
		size_t n = strcspn(seg, "/");
		if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && !strncmp(seg, "..", 2)))
			return 0;
		if (!seg[n])
			return 1;
		seg += n + 1;
	}
}

static int
check_files(json_t *files, json_int_t size, struct ml_err *e)
{
	const char *prev = NULL;
	json_int_t sum = 0;
	json_t *f;
	size_t i;

	if (!json_is_array(files) || json_array_size(files) == 0 ||
	    json_array_size(files) > ML_ARTIFACT_MAX_FILES)
		return ml_err_set(e, ML_EINPUT, "artifact.files: a list of 1 to %d files",
				  ML_ARTIFACT_MAX_FILES);
	json_array_foreach(files, i, f) {
		json_t *p = json_object_get(f, "path"), *s = json_object_get(f, "size");
		uint8_t d[ML_SHA256_LEN];
		if (!json_is_object(f) || json_object_size(f) != 3 || !json_is_string(p) ||
		    check_text(p, 0, "artifact.files.path", e) || !json_is_integer(s) ||
		    json_integer_value(s) < 0 || hex64(json_object_get(f, "sha256"), d) != 0)
			return ml_err_set(e, ML_EINPUT,
					  "artifact.files[%zu]: must be {\"path\", \"sha256\", \"size\"}", i);
		if (!path_ok(json_string_value(p)))
			return ml_err_set(e, ML_EINPUT, "artifact.files[%zu]: path must be relative, "
					  "without empty, . or .. parts, newlines or backslashes", i);
		if (prev && strcmp(prev, json_string_value(p)) >= 0)
			return ml_err_set(e, ML_EINPUT, "artifact.files[%zu]: paths must be sorted "
					  "bytewise and distinct", i);
		prev = json_string_value(p);
		if (json_integer_value(s) > INT64_MAX - sum)
			return ml_err_set(e, ML_EINPUT, "artifact.files: sizes overflow");
		sum += json_integer_value(s);
	}
	if (sum != size)
		return ml_err_set(e, ML_EINPUT, "artifact.size must be the sum of the files' sizes");
	return ML_OK;
}

static int
check_artifact(json_t *v, struct ml_err *e)
{
	static const char *const types[] = {"file", "directory", NULL};
	json_t *type = json_object_get(v, "type"), *size = json_object_get(v, "size");
	int dir;

	if (!json_is_object(v) || !json_is_string(type) ||
	    check_string_in(type, types, "artifact.type", e) || !json_is_integer(size) ||
	    json_integer_value(size) < 0)
		return ml_err_set(e, ML_EINPUT,
				  "artifact: must be {\"type\": file|directory, \"size\", \"files\"}");
	dir = strcmp(json_string_value(type), "directory") == 0;
	if (json_object_size(v) != (dir ? 3u : 2u))
		return ml_err_set(e, ML_EINPUT, "artifact: a file has type and size; a directory "
				  "also files");
	return dir ? check_files(json_object_get(v, "files"), json_integer_value(size), e)
		   : ML_OK;
}

/* SHA-256 of the manifest the files list describes (FORMAT.md §6). */
static void
manifest_digest(json_t *files, uint8_t out[ML_SHA256_LEN])
{
	struct ml_sha256_ctx *c = ml_sha256_new();
	json_t *f;
	size_t i;

	if (!c)
		abort();
	json_array_foreach(files, i, f) {
		const char *p = json_string_value(json_object_get(f, "path"));
		ml_sha256_update(c, json_string_value(json_object_get(f, "sha256")), 64);
		ml_sha256_update(c, "  ", 2);
		ml_sha256_update(c, p, strlen(p));
		ml_sha256_update(c, "\n", 1);
	}
	ml_sha256_final(c, out);
}

static int
check_roles(json_t *v, struct ml_err *e)
{
	size_t i, j;
	json_t *r;

	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 16)
		return ml_err_set(e, ML_EINPUT, "roles: must be a list of 1 to 16 roles");
	json_array_foreach(v, i, r) {
		const char *s = json_string_value(r);
		if (!s || !charset_ok(s, strlen(s), "-", 32))
			return ml_err_set(e, ML_EINPUT, "roles: bad role name");
		for (const char *p = s; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				return ml_err_set(e, ML_EINPUT, "roles: role names are lowercase");
		for (j = 0; j < i; j++)
			if (strcmp(s, json_string_value(json_array_get(v, j))) == 0)
				return ml_err_set(e, ML_EINPUT, "roles: \"%s\" given twice", s);
	}
	return ML_OK;
}

bool
ml_simple_name(const char *s)
{
	return s && charset_ok(s, strlen(s), "._-", 64);
}

static int only_members(json_t *v, const char *const *names);

bool
ml_origin_valid(const char *s, size_t len)
{
	return s && charset_ok(s, len, "._/:-", 128);
}

bool
ml_idempotency_key_valid(const char *s, size_t len)
{
	return s && charset_ok(s, len, "._:-", ML_IDEMPOTENCY_KEY_MAX);
}

/* idempotencyKey (FORMAT.md §2): optional in every kind that record and
 * import write; not in genesis, gate, governance or clock-correction. */
static int
idempotency_kind(enum ml_kind k)
{
	return k >= ML_KIND_KEY_ENROLLMENT && k <= ML_KIND_INCIDENT;
}

static int
check_idempotency_key(enum ml_kind kind, json_t *v, struct ml_err *e)
{
	if (!idempotency_kind(kind))
		return ml_err_set(e, ML_EINPUT, "%s: unknown field \"idempotencyKey\"",
				  ml_kind_name(kind));
	if (!json_is_string(v) ||
	    !ml_idempotency_key_valid(json_string_value(v), json_string_length(v)))
		return ml_err_set(e, ML_EINPUT, "idempotencyKey: must be 1-%d of [A-Za-z0-9._:-]",
				  ML_IDEMPOTENCY_KEY_MAX);
	return ML_OK;
}

static int
check_person(json_t *v, struct ml_err *e)
{
	static const char *const members[] = {"id", "name", "email", "employeeId", "x509",
					      "oidc", NULL};
	static const char *const oidc_members[] = {"iss", "sub", NULL};
	json_t *x;

	if (!json_is_object(v) || !only_members(v, members) ||
	    !ml_simple_name(json_string_value(json_object_get(v, "id"))))
		return ml_err_set(e, ML_EINPUT, "person: must be {\"id\": 1-64 of [A-Za-z0-9._-], "
				  "\"name\"?, \"email\"?, \"employeeId\"?, \"x509\"?, \"oidc\"?}");
	if ((x = json_object_get(v, "name")) &&
	    (check_text(x, 0, "person.name", e) || json_string_length(x) > 128))
		return ml_err_set(e, ML_EINPUT, "person.name: 1-128 bytes of text");
	if ((x = json_object_get(v, "email"))) {
		const char *at = json_string_value(x) ? strchr(json_string_value(x), '@') : NULL;
		if (check_text(x, 0, "person.email", e) || json_string_length(x) > 254 || !at ||
		    at == json_string_value(x) || !at[1] || strchr(at + 1, '@') ||
		    strpbrk(json_string_value(x), " <>"))
			return ml_err_set(e, ML_EINPUT, "person.email: one address, at most 254 bytes");
	}
	if ((x = json_object_get(v, "employeeId")) && !ml_simple_name(json_string_value(x)))
		return ml_err_set(e, ML_EINPUT, "person.employeeId: 1-64 of [A-Za-z0-9._-]");
	if ((x = json_object_get(v, "x509"))) {
		uint8_t d[ML_SHA256_LEN];
		json_t *h = json_is_string(x) && json_string_length(x) == 71 &&
				    !strncmp(json_string_value(x), "sha256:", 7)
			    ? json_string(json_string_value(x) + 7) : NULL;
		int bad = !h || hex64(h, d) != 0;
		json_decref(h);
		if (bad)
			return ml_err_set(e, ML_EINPUT, "person.x509: must be \"sha256:\" and the "
					  "certificate's 64 lowercase hex SHA-256");
	}
	if ((x = json_object_get(v, "oidc"))) {
		json_t *iss = json_object_get(x, "iss"), *sub = json_object_get(x, "sub");
		if (!json_is_object(x) || json_object_size(x) != 2 || !only_members(x, oidc_members) ||
		    check_text(iss, 0, "person.oidc.iss", e) || json_string_length(iss) > 256 ||
		    strncmp(json_string_value(iss), "https://", 8) != 0 ||
		    json_string_length(iss) == 8 ||
		    check_text(sub, 0, "person.oidc.sub", e) || json_string_length(sub) > 255)
			return ml_err_set(e, ML_EINPUT, "person.oidc: must be {\"iss\": https URL of "
					  "at most 256 bytes, \"sub\": 1-255 bytes}");
	}
	return ML_OK;
}

int
ml_person_check(json_t *person, struct ml_err *e)
{
	return check_person(person, e);
}

/* Text holding one JSON object (duplicate names refused); its members are
 * the governance module's to check. */
static int
check_document(json_t *v, const char *what, struct ml_err *e)
{
	json_t *doc;

	if (check_text(v, 1, what, e))
		return e->code;
	doc = json_loadb(json_string_value(v), json_string_length(v), JSON_REJECT_DUPLICATES,
			 NULL);
	if (!json_is_object(doc)) {
		json_decref(doc);
		return ml_err_set(e, ML_EINPUT, "%s: must be the text of one JSON object", what);
	}
	json_decref(doc);
	return ML_OK;
}

/* Every member of object v is named in names (NULL-terminated). */
static int
only_members(json_t *v, const char *const *names)
{
	const char *k;
	json_t *x;
	size_t i;

	json_object_foreach(v, k, x) {
		for (i = 0; names[i] && strcmp(names[i], k); i++)
			;
		if (!names[i])
			return 0;
	}
	return 1;
}

static int
check_verifier(json_t *v, struct ml_err *e)
{
	static const char *const members[] = {"id", "version", NULL};
	json_t *ver = json_object_get(v, "version"), *x;
	const char *k;

	if (!json_is_object(v) || !only_members(v, members) ||
	    check_text(json_object_get(v, "id"), 0, "verifier.id", e))
		return ml_err_set(e, ML_EINPUT, "verifier: must be {\"id\", \"version\"?}");
	if (!ver)
		return ML_OK;
	if (!json_is_object(ver) || json_object_size(ver) > 16)
		return ml_err_set(e, ML_EINPUT, "verifier.version: an object of at most 16 names");
	json_object_foreach(ver, k, x)
		if (!charset_ok(k, strlen(k), "_.-", 64) || check_text(x, 0, "verifier.version", e))
			return ml_err_set(e, ML_EINPUT, "verifier.version: NAME -> version text");
	return ML_OK;
}

static int
check_descriptor(json_t *v, const char *what, struct ml_err *e)
{
	static const char *const members[] = {"name", "uri", "digest", NULL};
	json_t *n = json_object_get(v, "name"), *u = json_object_get(v, "uri");
	uint8_t d[ML_SHA256_LEN];

	if (!json_is_object(v) || !only_members(v, members) || (!n && !u) ||
	    (n && check_text(n, 0, what, e)) || (u && check_text(u, 0, what, e)))
		return ml_err_set(e, ML_EINPUT, "%s: must be {\"name\"?, \"uri\"?, \"digest\"}",
				  what);
	return check_digest_obj(json_object_get(v, "digest"), d, what, e);
}

static int
check_levels(json_t *v, struct ml_err *e)
{
	json_t *x;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 16)
		return ml_err_set(e, ML_EINPUT, "verifiedLevels: a list of 1 to 16 levels");
	json_array_foreach(v, i, x) {
		const char *s = json_string_value(x);
		if (!s || !charset_ok(s, strlen(s), "_:.@-", 128))
			return ml_err_set(e, ML_EINPUT, "verifiedLevels: bad level");
	}
	return ML_OK;
}

static int
check_ledger(json_t *v, struct ml_err *e)
{
	static const char *const members[] = {"origin", "size", "root", NULL};
	json_t *size = json_object_get(v, "size"), *root = json_object_get(v, "root");
	uint8_t r[ML_SHA256_LEN];

	if (!json_is_object(v) || json_object_size(v) != 3 || !only_members(v, members) ||
	    check_text(json_object_get(v, "origin"), 0, "ledger.origin", e) ||
	    !json_is_integer(size) || json_integer_value(size) < 1 || !json_is_string(root) ||
	    json_string_length(root) != 44 ||
	    ml_b64_decode_exact(json_string_value(root), 44, r, ML_SHA256_LEN) != 0)
		return ml_err_set(e, ML_EINPUT, "ledger: must be {\"origin\", \"size\" >= 1, "
				  "\"root\": base64 of 32 bytes}");
	return ML_OK;
}

/* {NAME: TEXT} with at most 64 names of [A-Za-z0-9._-]{1,64}, one-line
 * values. */
static int
check_params(json_t *v, const char *what, struct ml_err *e)
{
	const char *k;
	json_t *x;

	if (!json_is_object(v) || json_object_size(v) > 64)
		return ml_err_set(e, ML_EINPUT, "%s: an object of at most 64 params", what);
	json_object_foreach(v, k, x)
		if (!charset_ok(k, strlen(k), "._-", 64) || !json_is_string(x) ||
		    (json_string_length(x) && check_text(x, 0, what, e)))
			return ml_err_set(e, ML_EINPUT, "%s: NAME -> text, names of "
					  "[A-Za-z0-9._-]{1,64}", what);
	return ML_OK;
}

static int
check_paramsets(json_t *v, struct ml_err *e)
{
	const char *k;
	json_t *x;

	if (!json_is_object(v) || json_object_size(v) > 64)
		return ml_err_set(e, ML_EINPUT, "parameters: an object of at most 64 policies");
	json_object_foreach(v, k, x)
		if (!charset_ok(k, strlen(k), "._/-", 128) || check_params(x, "parameters", e))
			return ml_err_set(e, ML_EINPUT, "parameters: POLICY-ID -> {NAME: text}");
	return ML_OK;
}

/* A report's policies: at most 64 {"id": [A-Za-z0-9][A-Za-z0-9._/-]{0,127},
 * "version": 1-64 of [A-Za-z0-9._+-], "sha256": 64 lowercase hex}. */
static int
check_report_policies(json_t *v, struct ml_err *e)
{
	static const char *const members[] = {"id", "version", "sha256", NULL};
	uint8_t d[ML_SHA256_LEN];
	char ref[200], n[129], ver[65];
	json_t *x;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) > 64)
		return ml_err_set(e, ML_EINPUT, "policies: a list of at most 64 policies");
	json_array_foreach(v, i, x) {
		const char *id = json_string_value(json_object_get(x, "id"));
		const char *vs = json_string_value(json_object_get(x, "version"));
		if (!json_is_object(x) || json_object_size(x) != 3 || !only_members(x, members) ||
		    !id || !vs || strlen(id) > 128 || strlen(vs) > 64 ||
		    snprintf(ref, sizeof ref, "%s@%s", id, vs) >= (int)sizeof ref ||
		    ml_ref_split(ref, n, ver) != 0 || hex64(json_object_get(x, "sha256"), d) != 0)
			return ml_err_set(e, ML_EINPUT, "policies[%zu]: must be {\"id\", \"version\", "
					  "\"sha256\": 64 lowercase hex}", i);
	}
	return ML_OK;
}

static int
check_field(const struct field *f, json_t *v, struct ml_err *e)
{
	static const char *const decisions[] = {"approve", "reject", NULL};
	static const char *const severities[] = {"low", "medium", "high", "critical", NULL};
	static const char *const results[] = {"PASSED", "FAILED", NULL};
	static const char *const rformats[] = {"html", "md", "json", "csv", "csv-folder", NULL};
	struct ml_pubkey pk;
	int64_t t;
	json_t *x;
	size_t i;

	switch (f->type) {
	case F_TIME:
	case F_DATE:
		if (!json_is_string(v) ||
		    json_string_length(v) != (f->type == F_TIME ? 20u : 10u) ||
		    ml_time_parse(json_string_value(v), &t) != 0)
			return ml_err_set(e, ML_EINPUT, "%s: must be %s", f->name,
					  f->type == F_TIME ? "YYYY-MM-DDTHH:MM:SSZ" : "YYYY-MM-DD");
		return ML_OK;
	case F_INT:
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return ml_err_set(e, ML_EINPUT, "%s: must be an integer", f->name);
		return ML_OK;
	case F_TEXT:
	case F_LONG:
		return check_text(v, f->type == F_LONG, f->name, e);
	case F_IDENT:
		if (!json_is_string(v) ||
		    !charset_ok(json_string_value(v), json_string_length(v), "._:-", 128))
			return ml_err_set(e, ML_EINPUT, "%s: must be 1-128 of [A-Za-z0-9._:-]",
					  f->name);
		return ML_OK;
	case F_VKEY:
	case F_LOGKEY:
		if (!json_is_string(v))
			return ml_err_set(e, ML_EINPUT, "%s: must be a verifier key", f->name);
		if (ml_pubkey_parse(json_string_value(v), json_string_length(v), &pk, e))
			return ml_err_prefix(e, ML_EINPUT, f->name);
		if (f->type == F_VKEY && !ml_key_name_simple(pk.name))
			return ml_err_set(e, ML_EINPUT, "%s: key name must be [A-Za-z0-9._-]",
					  f->name);
		return ML_OK;
	case F_ROLES:
		return check_roles(v, e);
	case F_SCALARS:
		return check_scalars(v, f->required, f->name, e);
	case F_REF:
		return check_ref(v, f->name, e);
	case F_REFS:
		if (!json_is_array(v) || json_array_size(v) > MAX_ITEMS)
			return ml_err_set(e, ML_EINPUT, "%s: must be a list", f->name);
		json_array_foreach(v, i, x)
			if (check_ref(x, f->name, e))
				return e->code;
		return ML_OK;
	case F_ARTIFACT:
		return check_artifact(v, e);
	case F_DECISION:
		return check_string_in(v, decisions, f->name, e);
	case F_SEVERITY:
		return check_string_in(v, severities, f->name, e);
	case F_VERIFIER:
		return check_verifier(v, e);
	case F_DESCRIPTOR:
		return check_descriptor(v, f->name, e);
	case F_DESCRIPTORS:
		if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 64)
			return ml_err_set(e, ML_EINPUT, "%s: a list of 1 to 64 descriptors", f->name);
		json_array_foreach(v, i, x)
			if (check_descriptor(x, f->name, e))
				return e->code;
		return ML_OK;
	case F_RESULT:
		return check_string_in(v, results, f->name, e);
	case F_LEVELS:
		return check_levels(v, e);
	case F_LEDGER:
		return check_ledger(v, e);
	case F_PERSON:
		return check_person(v, e);
	case F_DOCUMENT:
		return check_document(v, f->name, e);
	case F_PARAMS:
		return check_params(v, f->name, e);
	case F_PARAMSETS:
		return check_paramsets(v, e);
	case F_PHASE:
		if (!json_is_string(v) || !charset_ok(json_string_value(v), json_string_length(v),
						      "._-", 64))
			return ml_err_set(e, ML_EINPUT, "phase: 1-64 of [A-Za-z0-9._-]");
		return ML_OK;
	case F_SIG: {
		uint8_t sig[ML_SIG_LEN];
		if (!json_is_string(v) || json_string_length(v) != 88 ||
		    ml_b64_decode_exact(json_string_value(v), 88, sig, sizeof sig) != 0)
			return ml_err_set(e, ML_EINPUT, "%s: must be base64 of a 64-byte signature",
					  f->name);
		return ML_OK;
	}
	case F_RFORMAT:
		return check_string_in(v, rformats, f->name, e);
	case F_RPOLICIES:
		return check_report_policies(v, e);
	}
	return ml_err_set(e, ML_EINPUT, "%s: unknown field type", f->name);
}

static int
check_predicate(enum ml_kind kind, json_t *pred, struct ml_err *e)
{
	const struct field *f;
	const char *k;
	json_t *v;
	size_t known = 0;

	if (!json_is_object(pred))
		return ml_err_set(e, ML_EINPUT, "predicate: must be an object");
	for (f = schemas[kind]; f->name; f++) {
		v = json_object_get(pred, f->name);
		if (!v) {
			if (f->required)
				return ml_err_set(e, ML_EINPUT, "%s: field \"%s\" is required",
						  ml_kind_name(kind), f->name);
			continue;
		}
		known++;
		if (check_field(f, v, e))
			return e->code;
	}
	if ((v = json_object_get(pred, ML_IDEMPOTENCY_MEMBER))) {
		if (check_idempotency_key(kind, v, e))
			return e->code;
		known++;
	}
	/* the ledger a statement is for (FORMAT.md §2, "Origin"): genesis
	 * declares it, a gate names it in ledger.origin */
	if (kind != ML_KIND_GENESIS && kind != ML_KIND_GATE &&
	    (v = json_object_get(pred, ML_ORIGIN_MEMBER))) {
		if (!json_is_string(v) || !ml_origin_valid(json_string_value(v),
							   json_string_length(v)))
			return ml_err_set(e, ML_EINPUT, "origin: must be 1-128 of [A-Za-z0-9._/:-]");
		known++;
	}
	if (known != json_object_size(pred)) {
		json_object_foreach(pred, k, v) {
			for (f = schemas[kind]; f->name && strcmp(f->name, k); f++)
				;
			if (!f->name && strcmp(k, ML_IDEMPOTENCY_MEMBER) != 0 &&
			    (strcmp(k, ML_ORIGIN_MEMBER) != 0 || kind == ML_KIND_GATE))
				return ml_err_set(e, ML_EINPUT, "%s: unknown field \"%.64s\"",
						  ml_kind_name(kind), k);
		}
	}
	return ML_OK;
}

/* Checks the subject's name form and, for key and genesis entries, that the
 * subject names and digests the key the predicate carries. */
static int
check_subject(struct ml_statement *s, struct ml_err *e)
{
	char n[129], v[65];
	const char *field = NULL;
	struct ml_pubkey pk;
	json_t *x;
	uint8_t d[ML_SHA256_LEN];

	switch (s->kind) {
	case ML_KIND_GENESIS:
		field = "logKey";
		x = json_object_get(s->predicate, "origin");
		if (strcmp(json_string_value(x), s->subject) != 0)
			return ml_err_set(e, ML_EINPUT, "genesis: subject must be the origin");
		if (!charset_ok(s->subject, strlen(s->subject), "._/:-", 128))
			return ml_err_set(e, ML_EINPUT, "genesis: origin must be 1-128 of "
					  "[A-Za-z0-9._/:-]");
		break;
	case ML_KIND_KEY_ENROLLMENT:
	case ML_KIND_KEY_REVOCATION:
		field = "key";
		break;
	case ML_KIND_GOVERNANCE:
		/* the subject digest binds the document text */
		x = json_object_get(s->predicate, "document");
		ml_sha256(json_string_value(x), json_string_length(x), d);
		if (memcmp(d, s->digest, ML_SHA256_LEN) != 0)
			return ml_err_set(e, ML_EINPUT, "governance: subject digest must be SHA-256 "
					  "of \"document\"");
		/* fall through */
	case ML_KIND_CLOCK_CORRECTION:
		if (!charset_ok(s->subject, strlen(s->subject), "._/:-", 128))
			return ml_err_set(e, ML_EINPUT, "%s: subject must be the origin",
					  ml_kind_name(s->kind));
		return ML_OK;
	case ML_KIND_POLICY:
		/* the subject digest binds the file's bytes */
		x = json_object_get(s->predicate, "content");
		ml_sha256(json_string_value(x), json_string_length(x), d);
		if (memcmp(d, s->digest, ML_SHA256_LEN) != 0)
			return ml_err_set(e, ML_EINPUT, "policy: subject digest must be SHA-256 "
					  "of \"content\"");
		if (ml_ref_split(s->subject, n, v) != 0)
			return ml_err_set(e, ML_EINPUT, "subject: \"%.200s\" is not ID@VERSION",
					  s->subject);
		return ML_OK;
	case ML_KIND_REPORT:
		/* the report's file name; the digest is its bytes' (unchecked:
		 * the bytes are not in the ledger) */
		if (!charset_ok(s->subject, strlen(s->subject), "._-", 128) ||
		    !strcmp(s->subject, ".") || !strcmp(s->subject, ".."))
			return ml_err_set(e, ML_EINPUT, "report: subject must be the report's file "
					  "name, 1-128 of [A-Za-z0-9._-]");
		if (strcmp(json_string_value(json_object_get(s->predicate, "from")),
			   json_string_value(json_object_get(s->predicate, "to"))) > 0)
			return ml_err_set(e, ML_EINPUT, "report: from must not come after to");
		return ML_OK;
	default:
		if (ml_ref_split(s->subject, n, v) != 0)
			return ml_err_set(e, ML_EINPUT, "subject: \"%.200s\" is not NAME@VERSION",
					  s->subject);
		x = json_object_get(json_object_get(s->predicate, "artifact"), "files");
		if (x) {
			/* A folder's digest is its manifest's: the list must match. */
			manifest_digest(x, d);
			if (memcmp(d, s->digest, ML_SHA256_LEN) != 0)
				return ml_err_set(e, ML_EINPUT, "artifact.files: the manifest they "
						  "describe does not hash to the subject digest");
		}
		return ML_OK;
	}
	x = json_object_get(s->predicate, field);
	ml_pubkey_parse(json_string_value(x), json_string_length(x), &pk, NULL);
	if (s->kind != ML_KIND_GENESIS && strcmp(pk.name, s->subject) != 0)
		return ml_err_set(e, ML_EINPUT, "%s: subject must be the key's name",
				  ml_kind_name(s->kind));
	ml_sha256(json_string_value(x), json_string_length(x), d);
	if (memcmp(d, s->digest, ML_SHA256_LEN) != 0)
		return ml_err_set(e, ML_EINPUT, "%s: subject digest must be SHA-256 of \"%s\"",
				  ml_kind_name(s->kind), field);
	return ML_OK;
}

static enum ml_rc
kind_of_type(const char *type, enum ml_kind *k)
{
	int i;

	for (i = 0; i < ML_KIND_COUNT; i++)
		if (strcmp(type, predicate_types[i]) == 0) {
			*k = (enum ml_kind)i;
			return ML_OK;
		}
	return ML_EINPUT;
}

/* The JSON tree of len bytes (a new reference), or NULL with *jerr filled.
 * jsonp reads them (what it accepts, json_loadb with JSON_REJECT_DUPLICATES
 * accepts too, with the same tree; it is about four times faster); what it
 * refuses goes to json_loadb, for jansson's message, and for the one input
 * class jansson alone accepts (a NUL byte after a number, jsonp.h).  So the
 * result is jansson's in every case, out of memory included. */
static json_t *
load_json(const uint8_t *bytes, size_t len, json_error_t *jerr)
{
	json_t *root;

	if (ml_jsonp_load(bytes, len, &root) == ML_OK)
		return root;
	return json_loadb((const char *)bytes, len, JSON_REJECT_DUPLICATES, jerr);
}

/* ml_text_valid(s, len, "\n\t\r"), with a fast path for the usual case: all
 * bytes printable ASCII or tab, LF, CR (exactly the ASCII bytes that call
 * accepts); anything else is left to it.  Eight bytes at a time: a byte
 * below 0x20 borrows in x - 0x20.., one of 0x7f carries into its top bit in
 * x + 0x01.., one above has its top bit set; a borrow or carry can only
 * flag a word for the byte-wise check, never clear one. */
static bool
text_valid(const uint8_t *s, size_t len)
{
	const uint64_t ones = 0x0101010101010101u, top = 0x8080808080808080u;
	size_t i = 0;
	uint64_t x;

	for (; i + 8 <= len; i += 8) {
		memcpy(&x, s + i, 8);
		if (((x | (x - 0x20 * ones) | (x + ones)) & top) == 0)
			continue;
		break;
	}
	for (; i < len; i++)
		if ((s[i] < 0x20 || s[i] > 0x7e) && s[i] != '\n' && s[i] != '\t' && s[i] != '\r')
			return ml_text_valid((const char *)s, len, "\n\t\r");
	return true;
}

int
ml_statement_parse(const uint8_t *payload, size_t len, struct ml_statement *out,
		   struct ml_err *e)
{
	return ml_statement_parse_ex(payload, len, 0, out, e);
}

int
ml_statement_parse_ex(const uint8_t *payload, size_t len, unsigned flags,
		      struct ml_statement *out, struct ml_err *e)
{
	struct ml_statement s = {0};
	struct ml_err local;
	json_error_t jerr;
	json_t *subj, *s0, *name, *pt;
	const char *type;
	int rc;

	if (!e) /* the checks below read e back: give them one */
		e = &local;
	ml_err_clear(e);
	if (len > ML_MAX_STATEMENT)
		return ml_err_set(e, ML_EINPUT, "statement: larger than %d bytes", ML_MAX_STATEMENT);
	if (!text_valid(payload, len))
		return ml_err_set(e, ML_EINPUT, "statement: not valid UTF-8 text");
	if (!(s.root = load_json(payload, len, &jerr)))
		return ml_err_set(e, ML_EINPUT, "statement: bad JSON at byte %d: %s",
				  jerr.position, jerr.text);
	rc = ML_EINPUT;
	subj = json_object_get(s.root, "subject");
	pt = json_object_get(s.root, "predicateType");
	s.predicate = json_object_get(s.root, "predicate");
	if (!json_is_object(s.root) || json_object_size(s.root) != 4 ||
	    !json_is_string(json_object_get(s.root, "_type")) ||
	    strcmp(json_string_value(json_object_get(s.root, "_type")), ML_STATEMENT_TYPE)) {
		ml_err_set(e, rc, "statement: not an in-toto Statement v1 "
				  "(_type, subject, predicateType, predicate)");
		goto fail;
	}
	if (!json_is_array(subj) || json_array_size(subj) != 1) {
		ml_err_set(e, rc, "statement: exactly one subject is required");
		goto fail;
	}
	s0 = json_array_get(subj, 0);
	name = json_object_get(s0, "name");
	if (!json_is_object(s0) || json_object_size(s0) != 2 || !json_is_string(name) ||
	    json_string_length(name) > ML_NAME_MAX ||
	    check_text(name, 0, "subject.name", e) ||
	    check_digest_obj(json_object_get(s0, "digest"), s.digest, "subject", e)) {
		ml_err_set(e, rc, "statement: subject must be {\"name\", \"digest\": {\"sha256\"}}");
		goto fail;
	}
	s.subject = json_string_value(name);
	type = json_string_value(pt);
	if (!type || kind_of_type(type, &s.kind) != 0) {
		ml_err_set(e, rc, "statement: unknown predicateType \"%.100s\"",
			   type ? type : "");
		goto fail;
	}
	if (check_predicate(s.kind, s.predicate, e) || check_subject(&s, e))
		goto fail;
	if (!(flags & ML_STATEMENT_NO_SOURCE_HASH))
		ml_sha256(payload, len, s.source_sha256);
	*out = s;
	return ML_OK;
fail:
	json_decref(s.root);
	return rc;
}

void
ml_statement_free(struct ml_statement *s)
{
	if (!s)
		return;
	json_decref(s->root);
	s->root = s->predicate = NULL;
	s->subject = NULL;
}

int
ml_statement_encode(enum ml_kind kind, const char *subject,
		    const uint8_t digest[ML_SHA256_LEN], json_t *predicate,
		    struct ml_buf *out, struct ml_err *e)
{
	return ml_statement_encode_parsed(kind, subject, digest, predicate, out, NULL, e);
}

/* The statement's tree, members in the order the payload has them:
 * {_type, subject: [{name, digest: {sha256}}], predicateType, predicate}.
 * predicate is stolen on every path.  NULL when subject is NULL or not
 * valid UTF-8, when predicate is NULL, or out of memory. */
static json_t *
statement_tree(const char *type, const char *subject, const char *hex, json_t *predicate)
{
	json_t *root = json_object(), *subj = json_array(), *s0 = json_object();
	json_t *dg = json_object(), *name = subject ? json_string(subject) : NULL;
	int bad = !root || !subj || !s0 || !dg || !name || !predicate;

	bad |= json_object_set_new_nocheck(dg, "sha256", json_string_nocheck(hex));
	bad |= json_object_set_new_nocheck(s0, "name", name);
	bad |= json_object_set_nocheck(s0, "digest", dg);
	bad |= json_array_append(subj, s0);
	bad |= json_object_set_new_nocheck(root, "_type", json_string_nocheck(ML_STATEMENT_TYPE));
	bad |= json_object_set_nocheck(root, "subject", subj);
	bad |= json_object_set_new_nocheck(root, "predicateType", json_string_nocheck(type));
	bad |= json_object_set_new_nocheck(root, "predicate", predicate);
	json_decref(dg);
	json_decref(s0);
	json_decref(subj);
	if (bad) {
		json_decref(root);
		return NULL;
	}
	return root;
}

/* What ml_statement_parse checks after json_loadb, made on the tree s->root
 * that statement_tree built and on payload[0..len), the bytes ml_jsonw
 * wrote of it with ML_JSONW_LOADABLE (so the tree equals their parse):
 * the same checks in the same order with the same messages, minus those
 * that hold by construction (four members, _type, one subject of two
 * members, a well-formed digest).  Fills the rest of *s. */
static int
check_built(struct ml_statement *s, const char *type, const uint8_t digest[ML_SHA256_LEN],
	    const uint8_t *payload, size_t len, struct ml_err *e)
{
	json_t *name = json_object_get(json_array_get(json_object_get(s->root, "subject"), 0),
				       "name");

	if (len > ML_MAX_STATEMENT)
		return ml_err_set(e, ML_EINPUT, "statement: larger than %d bytes", ML_MAX_STATEMENT);
	if (!ml_text_valid((const char *)payload, len, "\n\t\r"))
		return ml_err_set(e, ML_EINPUT, "statement: not valid UTF-8 text");
	if (json_string_length(name) > ML_NAME_MAX || check_text(name, 0, "subject.name", e))
		return ml_err_set(e, ML_EINPUT, "statement: subject must be {\"name\", "
				  "\"digest\": {\"sha256\"}}");
	s->subject = json_string_value(name);
	memcpy(s->digest, digest, ML_SHA256_LEN);
	s->predicate = json_object_get(s->root, "predicate");
	if (kind_of_type(type, &s->kind) != 0)
		return ml_err_set(e, ML_EINPUT, "statement: unknown predicateType \"%.100s\"", type);
	if (check_predicate(s->kind, s->predicate, e) || check_subject(s, e))
		return ML_EINPUT;
	ml_sha256(payload, len, s->source_sha256);
	return ML_OK;
}

/* The payload is written once, by the canonical writer (jsonw.h: the bytes
 * json_dumps wrote before), and validated on the tree it was written from
 * rather than parsed back: ML_JSONW_LOADABLE refuses what json_loadb would
 * refuse and rounds reals to what it would read, so the tree handed over in
 * *parsed is the one a parse of the bytes gives.  tests/unit/test_jsonw.c
 * compares this with the parse-back it replaces. */
int
ml_statement_encode_parsed(enum ml_kind kind, const char *subject,
			   const uint8_t digest[ML_SHA256_LEN], json_t *predicate,
			   struct ml_buf *out, struct ml_statement *parsed, struct ml_err *e)
{
	char hex[2 * ML_SHA256_LEN + 1];
	const char *type = ml_kind_predicate_type(kind);
	struct ml_statement s = {0};
	struct ml_err local;
	size_t start = out->len;
	int had = out->data != NULL || out->oom, rc;

	if (!e) /* check_built reads e back: give it one */
		e = &local;
	ml_err_clear(e);
	ml_hex_encode(digest, ML_SHA256_LEN, hex);
	if (!(s.root = statement_tree(type, subject, hex, predicate)))
		return ml_err_set(e, ML_EINPUT, "statement: subject is not valid UTF-8");
	rc = ml_jsonw_value(out, s.root, ML_JSONW_LOADABLE, e);
	if (rc == ML_EIO)
		rc = ml_err_set(e, ML_EIO, "statement: out of memory");
	else if (rc)
		rc = ml_err_prefix(e, rc, "statement: bad JSON");
	else
		rc = check_built(&s, type, digest, out->data + start, out->len - start, e);
	if (rc == ML_OK && parsed)
		*parsed = s;
	else
		json_decref(s.root);
	if (rc && !had) { /* nothing invalid is handed out: out as it was */
		ml_buf_free(out);
	} else if (rc && !out->oom) {
		out->len = start;
		out->data[start] = '\0';
	}
	return rc;
}

/* ---- origin and proof of possession (FORMAT.md §2) ---------------------- */

const char *
ml_statement_origin(const struct ml_statement *s)
{
	if (s->kind == ML_KIND_GATE)
		return json_string_value(json_object_get(json_object_get(s->predicate, "ledger"),
							 "origin"));
	return json_string_value(json_object_get(s->predicate, ML_ORIGIN_MEMBER));
}

/* A JSON string in the RFC 8785 (JCS) form: only '"', '\\' and controls
 * escaped (a validated person holds no controls). */
static void
jcs_string(struct ml_buf *b, const char *s, size_t len)
{
	static const char hexd[] = "0123456789abcdef";
	size_t i;

	ml_buf_append(b, "\"", 1);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};
			ml_buf_append(b, esc, 2);
		} else if (c < 0x20) {
			char esc[6] = {'\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15]};
			ml_buf_append(b, esc, 6);
		} else {
			ml_buf_append(b, &s[i], 1);
		}
	}
	ml_buf_append(b, "\"", 1);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* An object whose values are strings or such objects, in JCS form: members
 * sorted by name (ASCII names: bytewise), no white space. */
static enum ml_rc
jcs_object(struct ml_buf *b, json_t *o, int depth)
{
	const char *names[16], *k;
	json_t *v;
	size_t n = 0, i;

	if (!json_is_object(o) || json_object_size(o) > 16 || depth > 2)
		return ML_EINPUT;
	json_object_foreach(o, k, v)
		names[n++] = k;
	qsort(names, n, sizeof names[0], cmp_str);
	ml_buf_append(b, "{", 1);
	for (i = 0; i < n; i++) {
		if (i)
			ml_buf_append(b, ",", 1);
		jcs_string(b, names[i], strlen(names[i]));
		ml_buf_append(b, ":", 1);
		v = json_object_get(o, names[i]);
		if (json_is_string(v))
			jcs_string(b, json_string_value(v), json_string_length(v));
		else if (jcs_object(b, v, depth + 1) != 0)
			return ML_EINPUT;
	}
	ml_buf_append(b, "}", 1);
	return ML_OK;
}

int
ml_possession_message(const char *origin, const char *vkey, json_t *person,
		      struct ml_buf *out, struct ml_err *e)
{
	struct ml_pubkey pk;
	json_t *who = person;
	int rc;

	if (!origin || !ml_origin_valid(origin, strlen(origin)))
		return ml_err_set(e, ML_EINPUT, "possession: the origin must be 1-128 of "
				  "[A-Za-z0-9._/:-]");
	if (!vkey || ml_pubkey_parse(vkey, strlen(vkey), &pk, e))
		return ml_err_set(e, ML_EINPUT, "possession: not a verifier key");
	if (!who && !(who = json_pack("{s:s}", "id", pk.name)))
		return ml_err_set(e, ML_EIO, "out of memory");
	rc = check_person(who, e);
	if (rc == ML_OK) {
		ml_buf_puts(out, ML_POSSESSION_DOMAIN);
		ml_buf_puts(out, origin);
		ml_buf_puts(out, "\n");
		ml_buf_puts(out, vkey);
		ml_buf_puts(out, "\n");
		if (jcs_object(out, who, 0) != 0)
			rc = ml_err_set(e, ML_EINPUT, "person: not a flat object of text");
		ml_buf_puts(out, "\n");
		if (rc == ML_OK && out->oom)
			rc = ml_err_set(e, ML_EIO, "out of memory");
	}
	if (who != person)
		json_decref(who);
	return rc;
}

int
ml_possession_sign(const struct ml_seckey *k, const char *origin, json_t *person,
		   char **b64, struct ml_err *e)
{
	struct ml_buf msg = {0};
	char vkey[ML_VKEY_MAX];
	uint8_t sig[ML_SIG_LEN];
	int rc;

	ml_pubkey_format(ml_seckey_public(k), vkey);
	if ((rc = ml_possession_message(origin, vkey, person, &msg, e)) == ML_OK) {
		ml_seckey_sign(k, msg.data, msg.len, sig);
		if (!(*b64 = ml_b64_encode(sig, sizeof sig)))
			rc = ml_err_set(e, ML_EIO, "out of memory");
	}
	ml_buf_free(&msg);
	return rc;
}

int
ml_possession_verify(const char *origin, const char *vkey, json_t *person,
		     const char *b64, struct ml_err *e)
{
	struct ml_buf msg = {0};
	struct ml_pubkey pk;
	uint8_t sig[ML_SIG_LEN];
	int rc;

	if (!b64 || ml_b64_decode_exact(b64, strlen(b64), sig, sizeof sig) != 0)
		return ml_err_set(e, ML_EINPUT, "possession: must be base64 of a 64-byte "
				  "signature");
	if ((rc = ml_possession_message(origin, vkey, person, &msg, e)))
		return rc;
	ml_pubkey_parse(vkey, strlen(vkey), &pk, NULL);
	if (!ml_pubkey_verify(&pk, msg.data, msg.len, sig))
		rc = ml_err_set(e, ML_EKEY, "possession: the proof does not verify with key %s "
				"for origin %s and this person (signed by another key, for "
				"another ledger or another person)", pk.name, origin);
	ml_buf_free(&msg);
	return rc;
}

/* ---- DSSE --------------------------------------------------------------- */

void
ml_dsse_pae(const char *type, const uint8_t *body, size_t len, struct ml_buf *out)
{
	ml_buf_printf(out, "DSSEv1 %zu %s %zu ", strlen(type), type, len);
	ml_buf_append(out, body, len);
}

/* {"keyid":"KEYID","sig":"SIG64"}, keyid checked by the caller. */
static void
sig_out(struct ml_buf *out, const char *keyid, const char *sig64)
{
	ml_buf_puts(out, "{\"keyid\":\"");
	ml_buf_puts(out, keyid);
	ml_buf_puts(out, "\",\"sig\":\"");
	ml_buf_puts(out, sig64);
	ml_buf_puts(out, "\"}");
}

/* The canonical envelope encoding: the author's signature (keyid, sig),
 * then the nco countersignatures co, in order.  keyids are written
 * unescaped, so each must be a simple key name plus hash: we only sign with
 * such keys, and the parser accepts no other. */
static int
encode_raw(const uint8_t *payload, size_t len, const char *keyid,
	   const uint8_t sig[ML_SIG_LEN], const struct ml_envelope_sig *co, size_t nco,
	   struct ml_buf *out, struct ml_err *e)
{
	char *p, *s;
	size_t i;
	int oom = 0;

	for (i = 0; i <= nco; i++)
		for (const char *k = i ? co[i - 1].keyid : keyid; *k; k++)
			if (*k == '"' || *k == '\\' || (unsigned char)*k < 0x20)
				return ml_err_set(e, ML_EINPUT,
						  "envelope: key name must be [A-Za-z0-9._-]");
	p = ml_b64_encode(payload, len);
	s = ml_b64_encode(sig, ML_SIG_LEN);
	if (p && s) { /* appends, not printf: this runs once per entry imported */
		ml_buf_puts(out, "{\"payload\":\"");
		ml_buf_puts(out, p);
		ml_buf_puts(out, "\",\"payloadType\":\"" ML_PAYLOAD_TYPE "\",\"signatures\":[");
		sig_out(out, keyid, s);
	}
	for (i = 0; p && s && i < nco; i++) {
		char *c = ml_b64_encode(co[i].sig, ML_SIG_LEN);
		if (!c) {
			oom = 1;
			break;
		}
		ml_buf_append(out, ",", 1);
		sig_out(out, co[i].keyid, c);
		free(c);
	}
	if (p && s)
		ml_buf_append(out, "]}", 2);
	free(p);
	free(s);
	if (!p || !s || oom || out->oom)
		return ml_err_set(e, ML_EIO, "envelope: out of memory");
	return ML_OK;
}

int
ml_envelope_encode(const struct ml_envelope *env, struct ml_buf *out, struct ml_err *e)
{
	return encode_raw(env->payload, env->payload_len, env->keyid, env->sig, env->co,
			  env->nco, out, e);
}

/* k's signature over the PAE of payload, and its keyid.  pae is scratch
 * space (emptied first; the caller frees it). */
static int
sign_pae(const struct ml_seckey *k, const uint8_t *payload, size_t len, struct ml_buf *pae,
	 uint8_t sig[ML_SIG_LEN], char keyid[ML_KEYID_MAX], struct ml_err *e)
{
	if (len > ML_MAX_STATEMENT)
		return ml_err_set(e, ML_EINPUT, "statement: larger than %d bytes",
				  ML_MAX_STATEMENT);
	pae->len = 0;
	ml_dsse_pae(ML_PAYLOAD_TYPE, payload, len, pae);
	if (pae->oom)
		return ml_err_set(e, ML_EIO, "envelope: out of memory");
	ml_seckey_sign(k, pae->data, pae->len, sig);
	ml_pubkey_keyid(ml_seckey_public(k), keyid);
	return ML_OK;
}

/* sign_pae, then the canonical encoding of the one-signature envelope
 * appended to out. */
static int
sign_encode(const struct ml_seckey *k, const uint8_t *payload, size_t len,
	    struct ml_buf *pae, uint8_t sig[ML_SIG_LEN], char keyid[ML_KEYID_MAX],
	    struct ml_buf *out, struct ml_err *e)
{
	int rc;

	if ((rc = sign_pae(k, payload, len, pae, sig, keyid, e)))
		return rc;
	return encode_raw(payload, len, keyid, sig, NULL, 0, out, e);
}

int
ml_envelope_sign_parts(const struct ml_seckey *k, uint8_t *payload, size_t len,
		       struct ml_buf *pae, struct ml_envelope *env, struct ml_buf *out,
		       struct ml_err *e)
{
	memset(env, 0, sizeof *env);
	env->payload = payload;
	env->payload_len = len;
	return sign_encode(k, payload, len, pae, env->sig, env->keyid, out, e);
}

int
ml_envelope_sign(const struct ml_seckey *k, const uint8_t *payload, size_t len,
		 struct ml_buf *out, struct ml_err *e)
{
	struct ml_buf pae = {0};
	uint8_t sig[ML_SIG_LEN];
	char keyid[ML_KEYID_MAX];
	int rc;

	rc = sign_encode(k, payload, len, &pae, sig, keyid, out, e);
	ml_buf_free(&pae);
	return rc;
}

int
ml_envelope_countersign(const struct ml_envelope *env, const struct ml_seckey *k,
			struct ml_buf *out, struct ml_err *e)
{
	struct ml_envelope_sig co[ML_ENVELOPE_MAX_SIGS - 1];
	struct ml_buf pae = {0};
	char keyid[ML_KEYID_MAX];
	uint8_t sig[ML_SIG_LEN];
	size_t i;
	int rc;

	ml_pubkey_keyid(ml_seckey_public(k), keyid);
	if (strcmp(keyid, env->keyid) == 0)
		return ml_err_set(e, ML_EINPUT, "envelope: %s already signed it (as its author); "
				  "a countersignature must come from another key", keyid);
	for (i = 0; i < env->nco; i++)
		if (strcmp(keyid, env->co[i].keyid) == 0)
			return ml_err_set(e, ML_EINPUT, "envelope: %s already countersigned it",
					  keyid);
	if (env->nco + 1 >= ML_ENVELOPE_MAX_SIGS)
		return ml_err_set(e, ML_EINPUT, "envelope: already holds %d signatures, the most "
				  "an envelope may", ML_ENVELOPE_MAX_SIGS);
	rc = sign_pae(k, env->payload, env->payload_len, &pae, sig, keyid, e);
	ml_buf_free(&pae);
	if (rc)
		return rc;
	if (env->nco)
		memcpy(co, env->co, env->nco * sizeof co[0]);
	memcpy(co[env->nco].keyid, keyid, sizeof keyid);
	memcpy(co[env->nco].sig, sig, ML_SIG_LEN);
	rc = encode_raw(env->payload, env->payload_len, env->keyid, env->sig, co, env->nco + 1,
			out, e);
	return rc;
}

/* FORMAT.md §1: NAME "+" 8 lowercase hex digits, NAME an mlledger key name
 * or an origin (1-128 bytes of [A-Za-z0-9._/:-]).  Such a keyid needs no
 * JSON escaping, so every envelope parsed re-encodes canonically. */
static int
keyid_valid(const char *id)
{
	const char *plus = strrchr(id, '+');
	size_t i;

	if (!plus || strlen(plus + 1) != 8)
		return 0;
	for (i = 1; i <= 8; i++)
		if (!((plus[i] >= '0' && plus[i] <= '9') || (plus[i] >= 'a' && plus[i] <= 'f')))
			return 0;
	return charset_ok(id, (size_t)(plus - id), "._/:-", 128);
}

/* keyid and sig of a signature into *out, keyid validated.  ML_OK or
 * ML_EINPUT. */
static enum ml_rc
take_sig(const char *kid, size_t kidlen, const char *sig, size_t siglen,
	 struct ml_envelope_sig *out)
{
	if (kidlen == 0 || kidlen >= ML_KEYID_MAX)
		return ML_EINPUT;
	memcpy(out->keyid, kid, kidlen);
	out->keyid[kidlen] = '\0';
	if (!keyid_valid(out->keyid) || ml_b64_decode_exact(sig, siglen, out->sig, ML_SIG_LEN) != 0)
		return ML_EINPUT;
	return ML_OK;
}

/* Publishes sigs[0..n) into env: the first as the author's, the rest as
 * countersignatures (malloc'd).  ML_EINPUT naming a repeated keyid, ML_EIO. */
static int
set_sigs(struct ml_envelope *env, const struct ml_envelope_sig *sigs, size_t n,
	 struct ml_err *e)
{
	size_t i, j;

	for (i = 1; i < n; i++)
		for (j = 0; j < i; j++)
			if (strcmp(sigs[i].keyid, sigs[j].keyid) == 0)
				return ml_err_set(e, ML_EINPUT, "envelope: signature %zu repeats the "
						  "keyid %s of signature %zu; each key signs once",
						  i + 1, sigs[i].keyid, j + 1);
	memcpy(env->keyid, sigs[0].keyid, ML_KEYID_MAX);
	memcpy(env->sig, sigs[0].sig, ML_SIG_LEN);
	env->nco = n - 1;
	env->co = NULL;
	if (n > 1) {
		if (!(env->co = malloc((n - 1) * sizeof *env->co)))
			return ml_err_set(e, ML_EIO, "envelope: out of memory");
		memcpy(env->co, sigs + 1, (n - 1) * sizeof *env->co);
	}
	return ML_OK;
}

/* Parses an envelope in exactly the canonical encoding mlledger writes,
 * without a JSON library (the common case, and the hot path of verify).
 * Returns 0 on success, else 1 (not canonical, or not decodable): the caller
 * then parses the bytes as general JSON, which gives the same result or the
 * precise error. */
static int
parse_canonical(const uint8_t *bytes, size_t len, struct ml_envelope *out)
{
	static const char pre[] = "{\"payload\":\"";
	static const char mid[] = "\",\"payloadType\":\"" ML_PAYLOAD_TYPE
				  "\",\"signatures\":[{\"keyid\":\"";
	static const char sigp[] = "\",\"sig\":\"";
	static const char next[] = "\"},{\"keyid\":\"";
	static const char post[] = "\"}]}";
	const char *p = (const char *)bytes, *end = p + len, *pl, *kid, *sig;
	size_t pllen, kidlen, siglen, n = 0;
	struct ml_envelope_sig sigs[ML_ENVELOPE_MAX_SIGS];
	struct ml_envelope env = {0};

	if (len < sizeof pre || memcmp(p, pre, sizeof pre - 1) != 0)
		return 1;
	pl = p + sizeof pre - 1;
	for (p = pl; p < end && *p != '"'; p++)
		;
	pllen = (size_t)(p - pl);
	if ((size_t)(end - p) < sizeof mid - 1 || memcmp(p, mid, sizeof mid - 1) != 0)
		return 1;
	kid = p + sizeof mid - 1;
	for (;;) {
		for (p = kid; p < end && *p != '"' && *p != '\\'; p++)
			;
		kidlen = (size_t)(p - kid);
		if ((size_t)(end - p) < sizeof sigp - 1 || memcmp(p, sigp, sizeof sigp - 1) != 0)
			return 1;
		sig = p + sizeof sigp - 1;
		for (p = sig; p < end && *p != '"'; p++)
			;
		siglen = (size_t)(p - sig);
		if (n == ML_ENVELOPE_MAX_SIGS || take_sig(kid, kidlen, sig, siglen, &sigs[n]) != 0)
			return 1;
		n++;
		if ((size_t)(end - p) == sizeof post - 1 && memcmp(p, post, sizeof post - 1) == 0)
			break;
		if ((size_t)(end - p) < sizeof next - 1 || memcmp(p, next, sizeof next - 1) != 0)
			return 1;
		kid = p + sizeof next - 1;
	}
	if (set_sigs(&env, sigs, n, NULL) != ML_OK)
		return 1; /* the general parser names the repeated keyid */
	if (ml_b64_decode(pl, pllen, &env.payload, &env.payload_len) != 0) {
		free(env.co);
		return 1;
	}
	*out = env;
	return 0;
}

int
ml_envelope_parse(const uint8_t *bytes, size_t len, struct ml_envelope *out,
		  struct ml_err *e)
{
	struct ml_envelope env = {0};
	struct ml_envelope_sig sigs[ML_ENVELOPE_MAX_SIGS];
	json_error_t jerr;
	json_t *root, *arr, *s0, *kid, *sig, *pl, *pt;
	size_t i, n;
	int rc = ML_EINPUT;

	if (len > ML_MAX_ENVELOPE)
		return ml_err_set(e, rc, "envelope: larger than %d bytes", ML_MAX_ENVELOPE);
	if (parse_canonical(bytes, len, out) == 0)
		return ML_OK;
	if (!(root = load_json(bytes, len, &jerr)))
		return ml_err_set(e, rc, "envelope: bad JSON at byte %d: %s", jerr.position,
				  jerr.text);
	pl = json_object_get(root, "payload");
	pt = json_object_get(root, "payloadType");
	arr = json_object_get(root, "signatures");
	if (!json_is_object(root) || json_object_size(root) != 3 || !json_is_string(pl) ||
	    !json_is_string(pt) || !json_is_array(arr)) {
		ml_err_set(e, rc, "envelope: not a DSSE envelope (payload, payloadType, signatures)");
		goto out;
	}
	if (strcmp(json_string_value(pt), ML_PAYLOAD_TYPE) != 0) {
		ml_err_set(e, rc, "envelope: payloadType must be %s", ML_PAYLOAD_TYPE);
		goto out;
	}
	n = json_array_size(arr);
	if (n < 1 || n > ML_ENVELOPE_MAX_SIGS) {
		ml_err_set(e, rc, "envelope: 1 to %d signatures are required, not %zu",
			   ML_ENVELOPE_MAX_SIGS, n);
		goto out;
	}
	json_array_foreach(arr, i, s0) {
		kid = json_object_get(s0, "keyid");
		sig = json_object_get(s0, "sig");
		if (!json_is_object(s0) || json_object_size(s0) != 2 || !json_is_string(kid) ||
		    !json_is_string(sig) ||
		    take_sig(json_string_value(kid), json_string_length(kid),
			     json_string_value(sig), json_string_length(sig), &sigs[i]) != 0 ||
		    strlen(sigs[i].keyid) != json_string_length(kid)) {
			ml_err_set(e, rc, "envelope: signature must be {\"keyid\": NAME+hash, "
				   "\"sig\": base64 of 64 bytes} (signature %zu)", i + 1);
			goto out;
		}
	}
	if ((rc = set_sigs(&env, sigs, n, e)) != ML_OK)
		goto out;
	rc = ML_EINPUT;
	if (ml_b64_decode(json_string_value(pl), json_string_length(pl), &env.payload,
			  &env.payload_len) != 0) {
		ml_err_set(e, rc, "envelope: payload is not standard base64");
		free(env.co);
		goto out;
	}
	*out = env;
	rc = ML_OK;
out:
	json_decref(root);
	return rc;
}

void
ml_envelope_clear(struct ml_envelope *env)
{
	if (!env)
		return;
	free(env->payload);
	env->payload = NULL;
	env->payload_len = 0;
	free(env->co);
	env->co = NULL;
	env->nco = 0;
}

bool
ml_envelope_verify(const struct ml_envelope *env, const struct ml_pubkey *k)
{
	char keyid[ML_KEYID_MAX];
	struct ml_buf pae = {0};
	int ok;

	ml_pubkey_keyid(k, keyid);
	if (strcmp(keyid, env->keyid) != 0)
		return false;
	ml_dsse_pae(ML_PAYLOAD_TYPE, env->payload, env->payload_len, &pae);
	ok = !pae.oom && ml_pubkey_verify(k, pae.data, pae.len, env->sig);
	ml_buf_free(&pae);
	return ok;
}

bool
ml_envelope_verify_all(const struct ml_envelope *env, const struct ml_pubkey *author,
		       const struct ml_pubkey *co, const char **bad)
{
	char keyid[ML_KEYID_MAX];
	struct ml_buf pae = {0};
	const char *first_bad = NULL;
	size_t i;

	ml_dsse_pae(ML_PAYLOAD_TYPE, env->payload, env->payload_len, &pae);
	if (pae.oom) {
		first_bad = env->keyid;
		goto out;
	}
	ml_pubkey_keyid(author, keyid);
	if (strcmp(keyid, env->keyid) != 0 ||
	    !ml_pubkey_verify(author, pae.data, pae.len, env->sig)) {
		first_bad = env->keyid;
		goto out;
	}
	for (i = 0; i < env->nco; i++) {
		ml_pubkey_keyid(&co[i], keyid);
		if (strcmp(keyid, env->co[i].keyid) != 0 ||
		    !ml_pubkey_verify(&co[i], pae.data, pae.len, env->co[i].sig)) {
			first_bad = env->co[i].keyid;
			goto out;
		}
	}
out:
	ml_buf_free(&pae);
	if (first_bad && bad)
		*bad = first_bad;
	return first_bad == NULL;
}
