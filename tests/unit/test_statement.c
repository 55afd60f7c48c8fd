/* Unit tests for statement: NAME@VERSION refs, kinds, the DSSE PAE (spec
 * example), build/parse round trips for every kind (ledger/FORMAT.md
 * §2), every schema rejection class, and DSSE envelopes (§3): sign, parse,
 * verify, canonical encoding and forgeries. */
#include "testutil.h"

#include <sodium.h>

#include "retry.h"
#include "statement.h"

#define T0 "2026-01-02T03:04:05Z"
#define HEXA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEXB "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ORIGIN "example.com/ledger"
/* A folder holding a.bin = "abcd" and b/c.json = {"x":1}: sha256sum of each
 * file, and of the manifest, by the GNU coreutils pipeline of FORMAT.md §6. */
#define SHA_A_BIN "88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589"
#define SHA_C_JSON "5041bf1f713df204784353e82f6a4a535931cb64f1f4b4a5aeaffcb720918b22"
#define MANIFEST "60fdc34e34a1a20f002dfe43232cff818359b86c7ba174b949b7aa0a4afaec58"
#define FILE_A "{\"path\":\"a.bin\",\"sha256\":\"" SHA_A_BIN "\",\"size\":4}"
#define FILE_C "{\"path\":\"b/c.json\",\"sha256\":\"" SHA_C_JSON "\",\"size\":7}"

/* ---- fixture: three keys from fixed seeds -------------------------------- */

struct fixture {
	struct ml_seckey *alice, *bob, *log;
	char alice_vkey[ML_VKEY_MAX], bob_vkey[ML_VKEY_MAX], log_vkey[ML_VKEY_MAX];
};

static int
seeded(const char *name, uint8_t fill, struct ml_seckey **k, char vkey[ML_VKEY_MAX])
{
	uint8_t seed[32];
	struct ml_err e;
	size_t i;

	for (i = 0; i < sizeof seed; i++)
		seed[i] = (uint8_t)(fill + i);
	ml_err_clear(&e);
	if (ml_seckey_from_seed(name, seed, k, &e) != ML_OK)
		return -1;
	ml_pubkey_format(ml_seckey_public(*k), vkey);
	return 0;
}

static int
group_setup(void **state)
{
	static struct fixture fx;

	if (seeded("alice", 1, &fx.alice, fx.alice_vkey) ||
	    seeded("bob", 101, &fx.bob, fx.bob_vkey) ||
	    seeded(ORIGIN, 201, &fx.log, fx.log_vkey))
		return -1;
	*state = &fx;
	return 0;
}

static int
group_teardown(void **state)
{
	struct fixture *fx = *state;

	ml_seckey_free(fx->alice);
	ml_seckey_free(fx->bob);
	ml_seckey_free(fx->log);
	return 0;
}

/* ---- refs and kinds ------------------------------------------------------ */

static void
ref_ok(const char *ref, const char *wname, const char *wver)
{
	char n[129], v[65];

	if (ml_ref_split(ref, n, v) != 0)
		print_error("refused ref [%s]\n", ref);
	assert_int_equal(ml_ref_split(ref, n, v), 0);
	assert_string_equal(n, wname);
	assert_string_equal(v, wver);
}

static void
ref_bad(const char *ref)
{
	char n[129] = "untouched", v[65] = "untouched";

	if (ml_ref_split(ref, n, v) != ML_EINPUT)
		print_error("accepted ref [%s]\n", ref);
	assert_int_equal(ml_ref_split(ref, n, v), ML_EINPUT);
	assert_string_equal(n, "untouched");
	assert_string_equal(v, "untouched");
}

static void
test_ref_split(void **state)
{
	char ref[400], name[200], ver[100];

	(void)state;
	ref_ok("m@1", "m", "1");
	ref_ok("census@2024.1", "census", "2024.1");
	ref_ok("org/team/fraud-xgb_v2.bin@1.2.3+build-7", "org/team/fraud-xgb_v2.bin",
	       "1.2.3+build-7");
	ref_ok("9lives@v1_rc.2", "9lives", "v1_rc.2");
	ref_ok("A@-1", "A", "-1");   /* the version has no rule on its first char */
	ref_ok("a.b@.x", "a.b", ".x");

	ref_bad("");
	ref_bad("m");
	ref_bad("@1");        /* empty name */
	ref_bad("m@");        /* empty version */
	ref_bad("@");
	ref_bad("m@1@2");     /* two '@' */
	ref_bad("m@@1");
	ref_bad(".m@1");      /* leading '.', '/', '-', '_' */
	ref_bad("/m@1");
	ref_bad("-m@1");
	ref_bad("_m@1");
	ref_bad("m m@1");     /* bad characters in the name */
	ref_bad("m:x@1");
	ref_bad("m+x@1");
	ref_bad("caf\xc3\xa9@1");
	ref_bad("m\t@1");
	ref_bad("m@1/2");     /* '/' is not allowed in a version */
	ref_bad("m@1 ");
	ref_bad("m@1:2");
	ref_bad("m@v\xc3\xa9");

	/* Length limits: name 128, version 64. */
	memset(name, 'n', 128);
	name[128] = '\0';
	memset(ver, 'v', 64);
	ver[64] = '\0';
	snprintf(ref, sizeof ref, "%s@%s", name, ver);
	ref_ok(ref, name, ver);
	snprintf(ref, sizeof ref, "%sn@%s", name, ver);
	ref_bad(ref);
	snprintf(ref, sizeof ref, "%s@%sv", name, ver);
	ref_bad(ref);
}

static void
test_kinds(void **state)
{
	static const char *const names[ML_KIND_COUNT] = {
		"genesis",    "key-enrollment", "key-revocation", "dataset",
		"model",      "evaluation",     "approval",       "deployment",
		"monitoring", "waiver",         "retirement",     "incident",
		"gate",       "governance",     "clock-correction", "policy",
		"report",
	};
	enum ml_kind k;
	int i;

	(void)state;
	for (i = 0; i < ML_KIND_COUNT; i++) {
		assert_string_equal(ml_kind_name((enum ml_kind)i), names[i]);
		k = ML_KIND_COUNT;
		assert_int_equal(ml_kind_parse(names[i], &k), 0);
		assert_int_equal(k, i);
		assert_int_equal(ml_kind_about_model((enum ml_kind)i),
				 i >= ML_KIND_EVALUATION && i <= ML_KIND_GATE);
	}
	assert_string_equal(ml_kind_name(ML_KIND_COUNT), "?");
	assert_string_equal(ml_kind_name((enum ml_kind)-1), "?");
	k = ML_KIND_MODEL;
	assert_int_equal(ml_kind_parse("", &k), ML_EINPUT);
	assert_int_equal(ml_kind_parse("Dataset", &k), ML_EINPUT);
	assert_int_equal(ml_kind_parse("datasets", &k), ML_EINPUT);
	assert_int_equal(ml_kind_parse("data", &k), ML_EINPUT);
	assert_int_equal(ml_kind_parse("key_enrollment", &k), ML_EINPUT);
	assert_int_equal(ml_kind_parse("?", &k), ML_EINPUT);
	assert_int_equal(k, ML_KIND_MODEL); /* untouched */
}

/* A recorded policy's uri "mlledger:seq/N": ML_OK and N, else ML_EINPUT. */
static void
test_policy_uri_seq(void **state)
{
	uint64_t seq = 0;

	(void)state;
	assert_int_equal(ml_policy_uri_seq("mlledger:seq/0", &seq), ML_OK);
	assert_true(seq == 0);
	assert_int_equal(ml_policy_uri_seq("mlledger:seq/4096", &seq), ML_OK);
	assert_true(seq == 4096);
	assert_int_equal(ml_policy_uri_seq("mlledger:seq/9999999999999999999", &seq), ML_OK);
	assert_true(seq == 9999999999999999999ULL);

	seq = 5;
	assert_int_equal(ml_policy_uri_seq(NULL, &seq), ML_EINPUT);
	assert_int_equal(ml_policy_uri_seq("", &seq), ML_EINPUT);
	assert_int_equal(ml_policy_uri_seq("mlledger:seq/", &seq), ML_EINPUT);
	assert_int_equal(ml_policy_uri_seq("mlledger:seq/01", &seq), ML_EINPUT);
	assert_int_equal(ml_policy_uri_seq("mlledger:seq/-1", &seq), ML_EINPUT);
	assert_int_equal(ml_policy_uri_seq("mlledger:seq/1x", &seq), ML_EINPUT);
	assert_int_equal(ml_policy_uri_seq("mlledger:seq/10000000000000000000", &seq),
			 ML_EINPUT); /* 20 digits */
	assert_int_equal(ml_policy_uri_seq("MLLEDGER:seq/1", &seq), ML_EINPUT);
	assert_int_equal(ml_policy_uri_seq("file:policy.xml", &seq), ML_EINPUT);
	assert_true(seq == 5); /* untouched */
}

/* retry.h: the same statement but for predicate.time is a retry. */
static void
test_retry_same_content(void **state)
{
	json_t *a = json_pack("{s:s, s:{s:s, s:i}}", "subject", "m@1", "predicate", "time",
			      "2026-01-01T00:00:00Z", "n", 1);
	json_t *b = json_pack("{s:s, s:{s:s, s:i}}", "subject", "m@1", "predicate", "time",
			      "2026-02-02T00:00:00Z", "n", 1);
	json_t *c = json_pack("{s:s, s:{s:s, s:i}}", "subject", "m@1", "predicate", "time",
			      "2026-01-01T00:00:00Z", "n", 2);
	bool same = false;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(ml_retry_same_content(a, b, &same), ML_OK);
	assert_true(same);
	assert_int_equal(ml_retry_same_content(a, c, &same), ML_OK);
	assert_false(same);
	assert_int_equal(ml_retry_same_content(b, b, &same), ML_OK);
	assert_true(same);
	json_decref(a);
	json_decref(b);
	json_decref(c);
}

/* ---- DSSE PAE ------------------------------------------------------------ */

static void
test_dsse_pae(void **state)
{
	struct ml_buf b = {0};
	static const char want[] = "DSSEv1 29 http://example.com/HelloWorld 11 hello world";

	(void)state;
	/* The example of the DSSE protocol spec. */
	ml_dsse_pae("http://example.com/HelloWorld", (const uint8_t *)"hello world", 11, &b);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	ml_buf_free(&b);

	/* Empty body, and a body with NUL bytes (the length is binding). */
	ml_dsse_pae(ML_PAYLOAD_TYPE, (const uint8_t *)"", 0, &b);
	assert_int_equal(b.len, strlen("DSSEv1 28 application/vnd.in-toto+json 0 "));
	assert_memory_equal(b.data, "DSSEv1 28 application/vnd.in-toto+json 0 ", b.len);
	ml_buf_free(&b);
	ml_dsse_pae("t", (const uint8_t *)"a\0b", 3, &b);
	assert_int_equal(b.len, 16);
	assert_memory_equal(b.data, "DSSEv1 1 t 3 a\0b", 16);
	ml_buf_free(&b);
}

/* ---- statements: valid predicates for each kind -------------------------- */

struct case_ {
	const char *subject;
	uint8_t digest[ML_SHA256_LEN];
	json_t *pred; /* owned */
};

static json_t *
ref_json(const char *name, const char *hex)
{
	return json_pack("{s:s, s:{s:s}}", "name", name, "digest", "sha256", hex);
}

/* A valid SLSA VSA predicate, as `mlledger gate --key` writes it. */
static json_t *
gate_pred(void)
{
	return json_pack("{s:{s:s, s:{s:s}}, s:s, s:s, s:o, s:[o], s:s, s:[s], s:s, s:[o], "
			 "s:{s:s, s:i, s:s}, s:o}",
			 "verifier", "id", "https://mlledger.dev/gate", "version", "mlledger",
			 "0.1.0", "timeVerified", T0, "resourceUri",
			 "mlledger:fraud/xgb@1.2.0?env=prod", "policy",
			 ref_json("production@1.1.0", HEXA), "inputAttestations",
			 ref_json("checkpoint/7", HEXB), "verificationResult", "PASSED",
			 "verifiedLevels", "MLLEDGER_POLICY:production@1.1.0", "environment", "prod",
			 "policies", ref_json("production@1.1.0", HEXA), "ledger", "origin",
			 "example.com/l", "size", 7, "root",
			 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "findings",
			 ref_json("findings", HEXB));
}

/* A governance document (FORMAT.md §2), as the text a governance entry holds. */
#define GOV_DOC "{\"environments\":[\"dev\",\"staging\",\"prod\"]}"
/* A policy file's bytes, as the content a policy entry holds. */
#define POLICY_DOC "<policy id=\"production\" version=\"1.0.0\"/>\n"

/* A valid statement of kind k with every member the schema knows. */
static void
full_case(const struct fixture *fx, enum ml_kind k, struct case_ *c)
{
	const char *vk = NULL;

	c->subject = "fraud/xgb@1.2.0";
	tu_unhex(HEXB, c->digest, ML_SHA256_LEN);
	switch (k) {
	case ML_KIND_GENESIS:
		c->subject = ORIGIN;
		vk = fx->log_vkey;
		c->pred = json_pack("{s:s, s:i, s:s, s:s, s:s}", "time", T0, "format", 1,
				    "origin", ORIGIN, "logKey", fx->log_vkey, "admin",
				    fx->alice_vkey);
		break;
	case ML_KIND_KEY_ENROLLMENT:
		c->subject = "bob";
		vk = fx->bob_vkey;
		c->pred = json_pack("{s:s, s:s, s:[s, s]}", "time", T0, "key", fx->bob_vkey,
				    "roles", "author", "model-approver");
		break;
	case ML_KIND_KEY_REVOCATION:
		c->subject = "bob";
		vk = fx->bob_vkey;
		c->pred = json_pack("{s:s, s:s, s:s}", "time", T0, "key", fx->bob_vkey,
				    "reason", "laptop lost\n\trotated");
		break;
	case ML_KIND_DATASET:
		c->subject = "census@2024.1";
		tu_unhex(HEXA, c->digest, ML_SHA256_LEN);
		c->pred = json_pack("{s:s, s:s, s:{s:s, s:i}, s:{s:i, s:s, s:b, s:f}}", "time",
				    T0, "uri", "s3://bucket/census.csv", "artifact", "type",
				    "file", "size", 1234, "properties", "rows", 100, "source",
				    "ons \xe2\x80\x94 UK", "public", 1, "ratio", 0.5);
		break;
	case ML_KIND_MODEL:
		/* A folder: the subject digest is its manifest's (§6). */
		tu_unhex(MANIFEST, c->digest, ML_SHA256_LEN);
		c->pred = json_pack(
			"{s:s, s:{s:s, s:i, s:[{s:s, s:s, s:i}, {s:s, s:s, s:i}]}, s:[o, o],"
			" s:o, s:{s:f, s:i}, s:{s:s}}",
			"time", T0, "artifact", "type", "directory", "size", 11, "files",
			"path", "a.bin", "sha256", SHA_A_BIN, "size", 4, "path", "b/c.json",
			"sha256", SHA_C_JSON, "size", 7, "datasets", ref_json("census@2024.1", HEXA),
			ref_json("census@2024.2", HEXB), "parent",
			ref_json("fraud/xgb@1.1.0", HEXA), "metrics", "auc", 0.91, "n", 100,
			"properties", "framework", "xgboost");
		break;
	case ML_KIND_EVALUATION:
		c->pred = json_pack("{s:s, s:{s:f, s:b}, s:o, s:{s:s}}", "time", T0, "metrics",
				    "auc", 0.93, "passed", 1, "dataset",
				    ref_json("holdout@3", HEXA), "properties", "seed", "42");
		break;
	case ML_KIND_APPROVAL:
		c->pred = json_pack("{s:s, s:s, s:s, s:s}", "time", T0, "environment",
				    "prod:eu-1.a_b", "decision", "approve", "comment",
				    "LGTM\n\tsigned off \xc3\xa9");
		break;
	case ML_KIND_DEPLOYMENT:
		c->pred = json_pack("{s:s, s:s, s:{s:i}}", "time", T0, "environment", "prod",
				    "properties", "replicas", 3);
		break;
	case ML_KIND_MONITORING:
		c->pred = json_pack("{s:s, s:s, s:{s:f}, s:{s:s}}", "time", T0, "environment",
				    "prod", "metrics", "drift", 0.02, "properties", "window",
				    "7d");
		break;
	case ML_KIND_WAIVER:
		c->pred = json_pack("{s:s, s:s, s:s, s:s, s:s}", "time", T0, "rule",
				    "require-eval", "expires", "2026-12-31", "reason",
				    "hotfix\nsee ticket", "ticket", "JIRA-123");
		break;
	case ML_KIND_RETIREMENT:
		c->pred = json_pack("{s:s, s:s, s:s}", "time", T0, "environment", "prod",
				    "reason", "superseded by 1.3.0");
		break;
	case ML_KIND_INCIDENT:
		c->pred = json_pack("{s:s, s:s, s:s}", "time", T0, "severity", "high",
				    "description", "false positives\nspiked at 02:00");
		break;
	case ML_KIND_GATE:
		/* with the optional members of a decision under recorded policies */
		c->pred = gate_pred();
		json_object_set_new(c->pred, "phase", json_string("deploy"));
		json_object_set_new(c->pred, "parameters",
				    json_pack("{s:{s:s, s:s}}", "production", "minAuc", "0.9",
					      "maxAgeDays", "30"));
		json_object_set_new(c->pred, "evidence", ref_json("evidence", HEXA));
		break;
	case ML_KIND_GOVERNANCE:
		/* subject the origin, digest the SHA-256 of the document text */
		c->subject = ORIGIN;
		vk = GOV_DOC;
		c->pred = json_pack("{s:s, s:s}", "time", T0, "document", GOV_DOC);
		break;
	case ML_KIND_CLOCK_CORRECTION:
		/* digest: the leaf hash of entry from (any 32 bytes to the parser) */
		c->subject = ORIGIN;
		c->pred = json_pack("{s:s, s:i, s:s}", "time", T0, "from", 3, "reason",
				    "the CI runner's clock was a year ahead");
		break;
	case ML_KIND_POLICY:
		/* subject ID@VERSION, digest the SHA-256 of the file's bytes */
		c->subject = "production@1.1.0";
		vk = POLICY_DOC;
		c->pred = json_pack("{s:s, s:s, s:{s:s}}", "time", T0, "content", POLICY_DOC,
				    "params", "minAuc", "0.9");
		break;
	case ML_KIND_REPORT:
		/* subject the report's file name, digest its bytes' SHA-256 */
		c->subject = "q3-2026.html";
		c->pred = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:s}]}", "time", T0,
				    "format", "html", "from", "2026-07-01", "to", "2026-09-30",
				    "asOf", T0, "policies", "id", "production", "version",
				    "1.0.0", "sha256", HEXA);
		break;
	default:
		fail();
	}
	assert_non_null(c->pred);
	if (vk)
		ml_sha256(vk, strlen(vk), c->digest);
}

/* Required members per kind, from ledger/FORMAT.md §2. */
static const char *const required[ML_KIND_COUNT][12] = {
	{"time", "format", "origin", "logKey", "admin", NULL},
	{"time", "key", "roles", NULL},
	{"time", "key", "reason", NULL},
	{"time", NULL},
	{"time", NULL},
	{"time", "metrics", NULL},
	{"time", "environment", "decision", NULL},
	{"time", "environment", NULL},
	{"time", "environment", "metrics", NULL},
	{"time", "rule", "expires", "reason", NULL},
	{"time", "environment", "reason", NULL},
	{"time", "severity", "description", NULL},
	{"verifier", "timeVerified", "resourceUri", "policy", "inputAttestations",
	 "verificationResult", "verifiedLevels", "environment", "policies", "ledger",
	 "findings", NULL},
	{"time", "document", NULL},
	{"time", "from", "reason", NULL},
	{"time", "content", NULL},
	{"time", "format", "from", "to", "asOf", "policies", NULL},
};

/* A report statement: the payload bytes for subject and predicate text
 * (FORMAT.md §2, "Report entries"). */
static int
parse_report(const char *subject, const char *pred)
{
	char buf[2048];
	struct ml_statement st;
	struct ml_err e;
	int rc;

	snprintf(buf, sizeof buf, "{\"_type\":\"https://in-toto.io/Statement/v1\","
		 "\"subject\":[{\"name\":\"%s\",\"digest\":{\"sha256\":\"" HEXA "\"}}],"
		 "\"predicateType\":\"https://mlledger.dev/report/v1\",\"predicate\":%s}",
		 subject, pred);
	ml_err_clear(&e);
	rc = ml_statement_parse((const uint8_t *)buf, strlen(buf), &st, &e);
	if (rc == ML_OK) {
		assert_int_equal(st.kind, ML_KIND_REPORT);
		ml_statement_free(&st);
	}
	return rc;
}

#define RP_HEAD "{\"time\":\"2026-10-01T00:00:00Z\",\"asOf\":\"2026-10-01T00:00:00Z\","
#define RP_OKPOL "\"policies\":[{\"id\":\"production\",\"version\":\"1.0.0\",\"sha256\":\"" HEXA "\"}]"

/* The report kind's members: each malformed one is refused. */
static void
test_report_members(void **state)
{
	(void)state;
	assert_int_equal(parse_report("q3.html", RP_HEAD "\"format\":\"html\",\"from\":"
				      "\"2026-07-01\",\"to\":\"2026-09-30\"," RP_OKPOL "}"), ML_OK);
	assert_int_equal(parse_report("q3", RP_HEAD "\"format\":\"csv-folder\",\"from\":"
				      "\"2026-07-01\",\"to\":\"2026-07-01\",\"policies\":[]}"), ML_OK);
	/* format not one of the five */
	assert_int_equal(parse_report("q3.pdf", RP_HEAD "\"format\":\"pdf\",\"from\":"
				      "\"2026-07-01\",\"to\":\"2026-09-30\"," RP_OKPOL "}"), ML_EINPUT);
	/* from after to */
	assert_int_equal(parse_report("q3.html", RP_HEAD "\"format\":\"html\",\"from\":"
				      "\"2026-09-30\",\"to\":\"2026-07-01\"," RP_OKPOL "}"), ML_EINPUT);
	/* a date that is not YYYY-MM-DD */
	assert_int_equal(parse_report("q3.html", RP_HEAD "\"format\":\"html\",\"from\":"
				      "\"2026-7-1\",\"to\":\"2026-09-30\"," RP_OKPOL "}"), ML_EINPUT);
	/* a subject that is a path, not a file name */
	assert_int_equal(parse_report("a/q3.html", RP_HEAD "\"format\":\"html\",\"from\":"
				      "\"2026-07-01\",\"to\":\"2026-09-30\"," RP_OKPOL "}"), ML_EINPUT);
	assert_int_equal(parse_report("..", RP_HEAD "\"format\":\"html\",\"from\":"
				      "\"2026-07-01\",\"to\":\"2026-09-30\"," RP_OKPOL "}"), ML_EINPUT);
	/* a policy with a member too many, an uppercase digest, no version */
	assert_int_equal(parse_report("q3.html", RP_HEAD "\"format\":\"html\",\"from\":"
				      "\"2026-07-01\",\"to\":\"2026-09-30\",\"policies\":[{\"id\":"
				      "\"p\",\"version\":\"1\",\"sha256\":\"" HEXA "\",\"file\":\"x\"}]}"),
			 ML_EINPUT);
	assert_int_equal(parse_report("q3.html", RP_HEAD "\"format\":\"html\",\"from\":"
				      "\"2026-07-01\",\"to\":\"2026-09-30\",\"policies\":[{\"id\":"
				      "\"p\",\"version\":\"1\",\"sha256\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
				      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}"), ML_EINPUT);
	assert_int_equal(parse_report("q3.html", RP_HEAD "\"format\":\"html\",\"from\":"
				      "\"2026-07-01\",\"to\":\"2026-09-30\",\"policies\":[{\"id\":"
				      "\"p\",\"sha256\":\"" HEXA "\"}]}"), ML_EINPUT);
	/* an unknown member; a missing asOf */
	assert_int_equal(parse_report("q3.html", RP_HEAD "\"format\":\"html\",\"from\":"
				      "\"2026-07-01\",\"to\":\"2026-09-30\"," RP_OKPOL ",\"x\":1}"),
			 ML_EINPUT);
	assert_int_equal(parse_report("q3.html", "{\"time\":\"2026-10-01T00:00:00Z\","
				      "\"format\":\"html\",\"from\":\"2026-07-01\",\"to\":"
				      "\"2026-09-30\"," RP_OKPOL "}"), ML_EINPUT);
}

static int
is_required(enum ml_kind k, const char *member)
{
	int i;

	for (i = 0; required[k][i]; i++)
		if (strcmp(required[k][i], member) == 0)
			return 1;
	return 0;
}

/* Encodes; on success parses the bytes back and returns them in out. */
static int
encode(enum ml_kind k, const char *subject, const uint8_t *digest, json_t *pred,
       struct ml_buf *out, struct ml_err *e)
{
	ml_err_clear(e);
	return ml_statement_encode(k, subject, digest, pred, out, e);
}

static void
test_roundtrip_all_kinds(void **state)
{
	struct fixture *fx = *state;
	int k;

	for (k = 0; k < ML_KIND_COUNT; k++) {
		struct case_ c;
		struct ml_statement st;
		struct ml_buf b = {0};
		struct ml_err e;
		char prefix[300], ptype[100];
		json_t *copy;

		full_case(fx, (enum ml_kind)k, &c);
		copy = json_deep_copy(c.pred);
		if (encode((enum ml_kind)k, c.subject, c.digest, c.pred, &b, &e) != ML_OK)
			print_error("kind %s: %s\n", ml_kind_name((enum ml_kind)k), e.msg);
		assert_int_equal(e.code, 0);
		assert_non_null(b.data);

		/* Compact JSON, members in the documented order. */
		snprintf(prefix, sizeof prefix,
			 "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":"
			 "[{\"name\":\"%s\",\"digest\":{\"sha256\":\"",
			 c.subject);
		assert_int_equal(strncmp((char *)b.data, prefix, strlen(prefix)), 0);
		snprintf(ptype, sizeof ptype, "\"predicateType\":\"%s\",\"predicate\":{",
			 k == ML_KIND_GATE ? "https://slsa.dev/verification_summary/v1"
					   : ml_kind_predicate_type((enum ml_kind)k));
		if (k != ML_KIND_GATE) /* the mlledger.dev form, spelled out */
			assert_non_null(strstr(ml_kind_predicate_type((enum ml_kind)k),
					       ml_kind_name((enum ml_kind)k)));
		assert_non_null(strstr((char *)b.data, ptype));

		ml_err_clear(&e);
		memset(&st, 0, sizeof st);
		assert_int_equal(ml_statement_parse(b.data, b.len, &st, &e), ML_OK);
		assert_int_equal(st.kind, k);
		assert_string_equal(st.subject, c.subject);
		assert_memory_equal(st.digest, c.digest, ML_SHA256_LEN);
		assert_true(json_equal(st.predicate, copy));
		/* Compact: dumping the parsed tree again gives the same bytes. */
		{
			char *again = json_dumps(st.root, JSON_COMPACT | JSON_REAL_PRECISION(15));
			assert_non_null(again);
			assert_string_equal(again, (char *)b.data);
			assert_int_equal(strlen(again), b.len);
			free(again);
		}
		ml_statement_free(&st);
		assert_null(st.root);
		ml_statement_free(&st); /* twice is fine */
		json_decref(copy);
		ml_buf_free(&b);
	}
	ml_statement_free(NULL);
}

/* One exact encoding, byte for byte (FORMAT.md §2). */
static void
test_encode_golden(void **state)
{
	static const char want[] =
		"{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":"
		"\"fraud/xgb@1.2.0\",\"digest\":{\"sha256\":\"" HEXB "\"}}],"
		"\"predicateType\":\"https://mlledger.dev/monitoring/v1\",\"predicate\":"
		"{\"time\":\"" T0 "\",\"environment\":\"prod\",\"metrics\":{\"auc\":0.91,"
		"\"n\":100,\"ok\":true,\"third\":0.333333333333333}}}";
	struct ml_buf b = {0};
	struct ml_err e;
	uint8_t d[ML_SHA256_LEN];

	(void)state;
	tu_unhex(HEXB, d, sizeof d);
	assert_int_equal(encode(ML_KIND_MONITORING, "fraud/xgb@1.2.0", d,
				json_pack("{s:s, s:s, s:{s:f, s:i, s:b, s:f}}", "time", T0,
					  "environment", "prod", "metrics", "auc", 0.91, "n",
					  100, "ok", 1, "third", 1.0 / 3),
				&b, &e),
			 ML_OK);
	assert_string_equal((char *)b.data, want);
	ml_buf_free(&b);
}

static void
test_optional_and_required_members(void **state)
{
	struct fixture *fx = *state;
	int k;

	for (k = 0; k < ML_KIND_COUNT; k++) {
		struct case_ c;
		const char *key;
		json_t *v;
		void *tmp;

		full_case(fx, (enum ml_kind)k, &c);
		json_object_foreach_safe(c.pred, tmp, key, v) {
			struct ml_buf b = {0};
			struct ml_err e;
			json_t *p = json_deep_copy(c.pred);
			int rc;

			json_object_del(p, key);
			rc = encode((enum ml_kind)k, c.subject, c.digest, p, &b, &e);
			if (is_required((enum ml_kind)k, key)) {
				char needle[100];
				snprintf(needle, sizeof needle, "%s: field \"%s\" is required",
					 ml_kind_name((enum ml_kind)k), key);
				if (rc != ML_EINPUT || !strstr(e.msg, needle))
					print_error("kind %s without %s: rc %d [%s]\n",
						    ml_kind_name((enum ml_kind)k), key, rc, e.msg);
				assert_int_equal(rc, ML_EINPUT);
				assert_int_equal(e.code, ML_EINPUT);
				assert_non_null(strstr(e.msg, needle));
				assert_null(b.data); /* nothing written on failure */
			} else {
				if (rc != ML_OK)
					print_error("kind %s without optional %s: [%s]\n",
						    ml_kind_name((enum ml_kind)k), key, e.msg);
				assert_int_equal(rc, ML_OK);
			}
			ml_buf_free(&b);
		}

		/* An unknown member is refused, whatever the kind. */
		{
			struct ml_buf b = {0};
			struct ml_err e;
			json_t *p = json_deep_copy(c.pred);
			json_object_set_new(p, "extra", json_integer(1));
			assert_int_equal(encode((enum ml_kind)k, c.subject, c.digest, p, &b, &e),
					 ML_EINPUT);
			assert_non_null(strstr(e.msg, "unknown field \"extra\""));
			assert_null(b.data);
		}
		json_decref(c.pred);
	}
}

/* ---- statements: parse negatives ----------------------------------------- */

/* Builds statement text with the given parts (JSON fragments). */
static char *
stmt(const char *type, const char *subject, const char *ptype, const char *pred)
{
	size_t n = strlen(type) + strlen(subject) + strlen(ptype) + strlen(pred) + 100;
	char *s = malloc(n);

	assert_non_null(s);
	snprintf(s, n, "{\"_type\":%s,\"subject\":%s,\"predicateType\":%s,\"predicate\":%s}",
		 type, subject, ptype, pred);
	return s;
}

#define GOOD_TYPE "\"https://in-toto.io/Statement/v1\""
#define GOOD_SUBJ "[{\"name\":\"m@1\",\"digest\":{\"sha256\":\"" HEXB "\"}}]"
#define DEPLOY "\"https://mlledger.dev/deployment/v1\""
#define APPROVAL "\"https://mlledger.dev/approval/v1\""
#define DEPLOY_PRED "{\"time\":\"" T0 "\",\"environment\":\"prod\"}"

/* ml_statement_parse_ex without the source hash accepts what the parse
 * accepts, with the same statement and a zero hash. */
static void
parse_ok_nohash(const char *text, size_t len, const struct ml_statement *want)
{
	static const uint8_t zero[ML_SHA256_LEN];
	struct ml_statement st;
	struct ml_err e;

	ml_err_clear(&e);
	assert_int_equal(ml_statement_parse_ex((const uint8_t *)text, len,
					       ML_STATEMENT_NO_SOURCE_HASH, &st, &e), ML_OK);
	assert_int_equal(st.kind, want->kind);
	assert_string_equal(st.subject, want->subject);
	assert_memory_equal(st.digest, want->digest, ML_SHA256_LEN);
	assert_true(json_equal(st.root, want->root));
	assert_memory_equal(st.source_sha256, zero, ML_SHA256_LEN);
	ml_statement_free(&st);
}

static void
parse_ok_len(const char *text, size_t len)
{
	struct ml_statement st;
	struct ml_err e;

	ml_err_clear(&e);
	if (ml_statement_parse((const uint8_t *)text, len, &st, &e) != ML_OK)
		print_error("refused [%.*s]: %s\n", (int)len, text, e.msg);
	assert_int_equal(e.code, 0);
	parse_ok_nohash(text, len, &st);
	ml_statement_free(&st);
}

static void
parse_bad_len(const char *text, size_t len, const char *needle)
{
	struct ml_statement st;
	struct ml_err e;
	int rc;

	memset(&st, 0x5a, sizeof st);
	ml_err_clear(&e);
	rc = ml_statement_parse((const uint8_t *)text, len, &st, &e);
	if (rc != ML_EINPUT || (needle && !strstr(e.msg, needle)))
		print_error("parse of [%.*s]: rc %d msg [%s] (want [%s])\n",
			    (int)(len > 400 ? 400 : len), text, rc, e.msg, needle ? needle : "");
	assert_int_equal(rc, ML_EINPUT);
	assert_int_equal(e.code, ML_EINPUT);
	assert_true(e.msg[0] != '\0');
	if (needle)
		assert_non_null(strstr(e.msg, needle));
	assert_int_equal(st.kind, 0x5a5a5a5a); /* out untouched */
	/* the same refusal without the source hash: its checks are the same */
	{
		struct ml_err e2;
		ml_err_clear(&e2);
		assert_int_equal(ml_statement_parse_ex((const uint8_t *)text, len,
						       ML_STATEMENT_NO_SOURCE_HASH, &st, &e2),
				 ML_EINPUT);
		assert_string_equal(e2.msg, e.msg);
		assert_int_equal(st.kind, 0x5a5a5a5a);
	}
}

static void
parse_ok(const char *text)
{
	parse_ok_len(text, strlen(text));
}

static void
parse_bad(const char *text, const char *needle)
{
	parse_bad_len(text, strlen(text), needle);
}

/* Parses stmt(parts) and expects failure; frees the text. */
static void
bad_parts(const char *type, const char *subject, const char *ptype, const char *pred,
	  const char *needle)
{
	char *s = stmt(type, subject, ptype, pred);
	parse_bad(s, needle);
	free(s);
}

/* ---- idempotencyKey (FORMAT.md §2, "Retries") ----------------------------- */

static void
idem_pred(char *buf, size_t cap, const char *value_json)
{
	snprintf(buf, cap, "{\"time\":\"" T0 "\",\"environment\":\"prod\","
		 "\"idempotencyKey\":%s}", value_json);
}

static void
test_idempotency_key(void **state)
{
	char pred[600], key[200], json[220], *s;
	static const char *const bad[] = {
		"\"\"", "\"a b\"", "\"a/b\"", "\"k\\n\"", "\"caf\u00e9\"", "\"a@b\"",
		"\"a+b\"", "\"a\\\\b\"", "1", "true", "null", "[\"k\"]", "{}", NULL};
	size_t i;

	(void)state;
	/* good: the charset, 1 and 128 bytes */
	idem_pred(pred, sizeof pred, "\"Retry-1.2_x:y\"");
	s = stmt(GOOD_TYPE, GOOD_SUBJ, DEPLOY, pred);
	parse_ok(s);
	free(s);
	memset(key, 'k', 128);
	key[128] = '\0';
	snprintf(json, sizeof json, "\"%s\"", key);
	idem_pred(pred, sizeof pred, json);
	s = stmt(GOOD_TYPE, GOOD_SUBJ, DEPLOY, pred);
	parse_ok(s);
	free(s);
	assert_true(ml_idempotency_key_valid(key, 128));
	assert_true(ml_idempotency_key_valid("a", 1));
	/* too long */
	memset(key, 'k', 129);
	key[129] = '\0';
	assert_false(ml_idempotency_key_valid(key, 129));
	snprintf(json, sizeof json, "\"%s\"", key);
	idem_pred(pred, sizeof pred, json);
	s = stmt(GOOD_TYPE, GOOD_SUBJ, DEPLOY, pred);
	parse_bad(s, "idempotencyKey");
	free(s);
	/* bad characters, empty, not a string */
	for (i = 0; bad[i]; i++) {
		idem_pred(pred, sizeof pred, bad[i]);
		s = stmt(GOOD_TYPE, GOOD_SUBJ, DEPLOY, pred);
		parse_bad(s, "idempotencyKey");
		free(s);
	}
	assert_false(ml_idempotency_key_valid("", 0));
	assert_false(ml_idempotency_key_valid("a b", 3));
	assert_false(ml_idempotency_key_valid("a\0b", 3));
	/* not in the kinds record and import do not write */
	s = stmt(GOOD_TYPE,
		 "[{\"name\":\"" ORIGIN "\",\"digest\":{\"sha256\":\"" HEXB "\"}}]",
		 "\"https://mlledger.dev/clock-correction/v1\"",
		 "{\"time\":\"" T0 "\",\"from\":1,\"reason\":\"r\",\"idempotencyKey\":\"k\"}");
	parse_bad(s, "unknown field \"idempotencyKey\"");
	free(s);
}

/* ---- origin, persons' claims, possession (FORMAT.md §2) ------------------ */

static void
test_origin_and_claims(void **state)
{
	static const char *const bad_origins[] = {"\"\"", "\"a b\"", "\"a@b\"", "1", "null",
						  "\"caf\u00e9\"", NULL};
	static const char *const bad_persons[] = {
		"{\"id\":\"a\",\"employeeId\":\"E 1\"}",
		"{\"id\":\"a\",\"x509\":\"sha256:abc\"}",
		"{\"id\":\"a\",\"x509\":\"" HEXB "\"}",
		"{\"id\":\"a\",\"x509\":\"sha256:ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789\"}",
		"{\"id\":\"a\",\"oidc\":{\"iss\":\"http://id.example\",\"sub\":\"x\"}}",
		"{\"id\":\"a\",\"oidc\":{\"iss\":\"https://\",\"sub\":\"x\"}}",
		"{\"id\":\"a\",\"oidc\":{\"iss\":\"https://id.example\"}}",
		"{\"id\":\"a\",\"oidc\":{\"iss\":\"https://id.example\",\"sub\":\"x\",\"aud\":\"y\"}}",
		"{\"id\":\"a\",\"phone\":\"1\"}", NULL};
	char pred[700], key[ML_VKEY_MAX], digest[65], subj[200], *s;
	struct ml_seckey *k = NULL;
	struct ml_err e;
	uint8_t seed[32], d[ML_SHA256_LEN];
	size_t i;

	(void)state;
	/* origin: optional, the origin charset, in every kind but genesis and gate */
	s = stmt(GOOD_TYPE, GOOD_SUBJ, DEPLOY,
		 "{\"time\":\"" T0 "\",\"environment\":\"prod\",\"origin\":\"a.example/l:1\"}");
	parse_ok(s);
	free(s);
	for (i = 0; bad_origins[i]; i++) {
		snprintf(pred, sizeof pred, "{\"time\":\"" T0 "\",\"environment\":\"prod\","
			 "\"origin\":%s}", bad_origins[i]);
		s = stmt(GOOD_TYPE, GOOD_SUBJ, DEPLOY, pred);
		parse_bad(s, "origin");
		free(s);
	}
	assert_true(ml_origin_valid("x", 1));
	assert_false(ml_origin_valid("a b", 3));
	/* persons: the claims' forms */
	memset(seed, 3, sizeof seed);
	assert_int_equal(ml_seckey_from_seed("a", seed, &k, &e), ML_OK);
	ml_pubkey_format(ml_seckey_public(k), key);
	ml_sha256(key, strlen(key), d);
	ml_hex_encode(d, sizeof d, digest);
	snprintf(subj, sizeof subj, "[{\"name\":\"a\",\"digest\":{\"sha256\":\"%s\"}}]", digest);
	snprintf(pred, sizeof pred, "{\"time\":\"" T0 "\",\"key\":\"%s\",\"roles\":[\"approver\"],"
		 "\"person\":{\"id\":\"a\",\"employeeId\":\"E-1\",\"x509\":\"sha256:" HEXB "\","
		 "\"oidc\":{\"iss\":\"https://id.example\",\"sub\":\"x\"}}}", key);
	s = stmt(GOOD_TYPE, subj, "\"https://mlledger.dev/key-enrollment/v1\"", pred);
	parse_ok(s);
	free(s);
	for (i = 0; bad_persons[i]; i++) {
		snprintf(pred, sizeof pred, "{\"time\":\"" T0 "\",\"key\":\"%s\",\"roles\":"
			 "[\"approver\"],\"person\":%s}", key, bad_persons[i]);
		s = stmt(GOOD_TYPE, subj, "\"https://mlledger.dev/key-enrollment/v1\"", pred);
		parse_bad(s, "person");
		free(s);
	}
	/* possession: base64 of exactly 64 bytes */
	snprintf(pred, sizeof pred, "{\"time\":\"" T0 "\",\"key\":\"%s\",\"roles\":[\"approver\"],"
		 "\"possession\":\"AAAA\"}", key);
	s = stmt(GOOD_TYPE, subj, "\"https://mlledger.dev/key-enrollment/v1\"", pred);
	parse_bad(s, "possession");
	free(s);
	ml_seckey_free(k);
}

static void
test_parse_envelope_shape(void **state)
{
	char *s;

	(void)state;
	s = stmt(GOOD_TYPE, GOOD_SUBJ, DEPLOY, DEPLOY_PRED);
	parse_ok(s);
	free(s);

	/* Not JSON, not an object, trailing bytes. */
	parse_bad("", "bad JSON");
	parse_bad("{", "bad JSON");
	parse_bad("[]", "not an in-toto Statement");
	parse_bad("null", "bad JSON"); /* jansson wants an array or object */
	parse_bad("{}", "not an in-toto Statement");
	s = stmt(GOOD_TYPE, GOOD_SUBJ, DEPLOY, DEPLOY_PRED);
	{
		char *t = malloc(strlen(s) + 3);
		sprintf(t, "%s{}", s);
		parse_bad(t, "bad JSON");
		free(t);
	}
	free(s);

	/* Wrong _type. */
	bad_parts("\"https://in-toto.io/Statement/v0.1\"", GOOD_SUBJ, DEPLOY, DEPLOY_PRED,
		  "not an in-toto Statement v1");
	bad_parts("\"https://in-toto.io/Statement/v1 \"", GOOD_SUBJ, DEPLOY, DEPLOY_PRED,
		  "not an in-toto Statement v1");
	bad_parts("1", GOOD_SUBJ, DEPLOY, DEPLOY_PRED, "not an in-toto Statement v1");
	bad_parts("null", GOOD_SUBJ, DEPLOY, DEPLOY_PRED, "not an in-toto Statement v1");
	/* Missing or extra members. */
	parse_bad("{\"_type\":" GOOD_TYPE ",\"subject\":" GOOD_SUBJ ",\"predicateType\":" DEPLOY
		  "}",
		  "not an in-toto Statement v1");
	parse_bad("{\"_type\":" GOOD_TYPE ",\"subject\":" GOOD_SUBJ ",\"predicateType\":" DEPLOY
		  ",\"predicate\":" DEPLOY_PRED ",\"x\":1}",
		  "not an in-toto Statement v1");
	parse_bad("{\"subject\":" GOOD_SUBJ ",\"predicateType\":" DEPLOY
		  ",\"predicate\":" DEPLOY_PRED ",\"x\":1}",
		  "not an in-toto Statement v1");

	/* Member order does not matter; insignificant white space is JSON. */
	parse_ok("{\"predicate\":" DEPLOY_PRED ",\"predicateType\":" DEPLOY
		 ",\"subject\":" GOOD_SUBJ ",\"_type\":" GOOD_TYPE "}");
	parse_ok("{\r\n\t\"_type\": " GOOD_TYPE ",\n \"subject\": " GOOD_SUBJ
		 ",\n \"predicateType\": " DEPLOY ",\n \"predicate\": " DEPLOY_PRED "\n}\n");

	/* Duplicate member names, at the top and inside the predicate. */
	parse_bad("{\"_type\":" GOOD_TYPE ",\"_type\":" GOOD_TYPE ",\"subject\":" GOOD_SUBJ
		  ",\"predicateType\":" DEPLOY ",\"predicate\":" DEPLOY_PRED "}",
		  "duplicate");
	bad_parts(GOOD_TYPE, GOOD_SUBJ, DEPLOY,
		  "{\"time\":\"" T0 "\",\"environment\":\"prod\",\"environment\":\"dev\"}",
		  "duplicate");
	bad_parts(GOOD_TYPE,
		  "[{\"name\":\"m@1\",\"digest\":{\"sha256\":\"" HEXB "\",\"sha256\":\"" HEXA
		  "\"}}]",
		  DEPLOY, DEPLOY_PRED, "duplicate");
}

static void
test_parse_subject(void **state)
{
	(void)state;
	/* Zero or two subjects, or not a list. */
	bad_parts(GOOD_TYPE, "[]", DEPLOY, DEPLOY_PRED, "exactly one subject");
	bad_parts(GOOD_TYPE,
		  "[{\"name\":\"m@1\",\"digest\":{\"sha256\":\"" HEXB "\"}},"
		  "{\"name\":\"m@2\",\"digest\":{\"sha256\":\"" HEXB "\"}}]",
		  DEPLOY, DEPLOY_PRED, "exactly one subject");
	bad_parts(GOOD_TYPE, "{\"name\":\"m@1\",\"digest\":{\"sha256\":\"" HEXB "\"}}", DEPLOY,
		  DEPLOY_PRED, "exactly one subject");
	bad_parts(GOOD_TYPE, "\"m@1\"", DEPLOY, DEPLOY_PRED, "exactly one subject");

	/* Digest missing, empty, other algorithms, extra algorithms. */
	bad_parts(GOOD_TYPE, "[{\"name\":\"m@1\"}]", DEPLOY, DEPLOY_PRED, "subject must be");
	bad_parts(GOOD_TYPE, "[{\"name\":\"m@1\",\"uri\":\"x\"}]", DEPLOY, DEPLOY_PRED,
		  "subject must be");
	bad_parts(GOOD_TYPE, "[{\"name\":\"m@1\",\"digest\":{}}]", DEPLOY, DEPLOY_PRED,
		  "subject must be");
	bad_parts(GOOD_TYPE, "[{\"name\":\"m@1\",\"digest\":{\"sha512\":\"" HEXB "\"}}]",
		  DEPLOY, DEPLOY_PRED, "subject must be");
	bad_parts(GOOD_TYPE,
		  "[{\"name\":\"m@1\",\"digest\":{\"sha256\":\"" HEXB "\",\"sha512\":\"" HEXB
		  "\"}}]",
		  DEPLOY, DEPLOY_PRED, "subject must be");
	bad_parts(GOOD_TYPE, "[{\"name\":\"m@1\",\"digest\":\"sha256:" HEXB "\"}]", DEPLOY,
		  DEPLOY_PRED, "subject must be");
	/* Hex: uppercase, short, long, not hex, not a string. */
	bad_parts(GOOD_TYPE,
		  "[{\"name\":\"m@1\",\"digest\":{\"sha256\":"
		  "\"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\"}}]",
		  DEPLOY, DEPLOY_PRED, "subject must be");
	bad_parts(GOOD_TYPE,
		  "[{\"name\":\"m@1\",\"digest\":{\"sha256\":"
		  "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\"}}]",
		  DEPLOY, DEPLOY_PRED, "subject must be");
	bad_parts(GOOD_TYPE,
		  "[{\"name\":\"m@1\",\"digest\":{\"sha256\":\"" HEXB "0\"}}]", DEPLOY,
		  DEPLOY_PRED, "subject must be");
	bad_parts(GOOD_TYPE,
		  "[{\"name\":\"m@1\",\"digest\":{\"sha256\":"
		  "\"g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}}]",
		  DEPLOY, DEPLOY_PRED, "subject must be");
	bad_parts(GOOD_TYPE, "[{\"name\":\"m@1\",\"digest\":{\"sha256\":1}}]", DEPLOY,
		  DEPLOY_PRED, "subject must be");
	/* Name: missing, empty, not a string, control character, extra member. */
	bad_parts(GOOD_TYPE, "[{\"digest\":{\"sha256\":\"" HEXB "\"}}]", DEPLOY, DEPLOY_PRED,
		  "subject must be");
	bad_parts(GOOD_TYPE, "[{\"name\":\"\",\"digest\":{\"sha256\":\"" HEXB "\"}}]", DEPLOY,
		  DEPLOY_PRED, "subject must be");
	bad_parts(GOOD_TYPE, "[{\"name\":7,\"digest\":{\"sha256\":\"" HEXB "\"}}]", DEPLOY,
		  DEPLOY_PRED, "subject must be");
	bad_parts(GOOD_TYPE, "[{\"name\":\"m@1\\n\",\"digest\":{\"sha256\":\"" HEXB "\"}}]",
		  DEPLOY, DEPLOY_PRED, "subject must be");
	bad_parts(GOOD_TYPE,
		  "[{\"name\":\"m@1\",\"digest\":{\"sha256\":\"" HEXB "\"},\"x\":1}]", DEPLOY,
		  DEPLOY_PRED, "subject must be");
	/* A model kind needs NAME@VERSION. */
	bad_parts(GOOD_TYPE, "[{\"name\":\"m\",\"digest\":{\"sha256\":\"" HEXB "\"}}]", DEPLOY,
		  DEPLOY_PRED, "is not NAME@VERSION");
	bad_parts(GOOD_TYPE, "[{\"name\":\".m@1\",\"digest\":{\"sha256\":\"" HEXB "\"}}]",
		  DEPLOY, DEPLOY_PRED, "is not NAME@VERSION");
}

/* Each malformed VSA member is refused with a message naming it. */
static void
test_gate_members(void **state)
{
	static const struct {
		const char *member, *json, *msg;
	} bad[] = {
		{"verifier", "{\"version\":{\"mlledger\":\"1\"}}", "verifier: must be"},
		{"verifier", "{\"id\":\"x\",\"extra\":1}", "verifier: must be"},
		{"verifier", "{\"id\":\"x\",\"version\":{\"a b\":\"1\"}}", "verifier.version"},
		{"timeVerified", "\"2026-13-01T00:00:00Z\"", "timeVerified: must be"},
		{"resourceUri", "\"\"", "resourceUri: must not be empty"},
		{"policy", "{\"name\":\"p\"}", "policy: digest must be"},
		{"policy", "{\"digest\":{\"sha256\":\"" HEXA "\"}}", "policy: must be"},
		{"policy", "{\"name\":\"p\",\"x\":1,\"digest\":{\"sha256\":\"" HEXA "\"}}",
		 "policy: must be"},
		{"inputAttestations", "[]", "inputAttestations: a list of 1 to 64"},
		{"verificationResult", "\"passed\"", "verificationResult: must be one of PASSED, FAILED"},
		{"verifiedLevels", "[]", "verifiedLevels: a list of 1 to 16"},
		{"verifiedLevels", "[\"A B\"]", "verifiedLevels: bad level"},
		{"environment", "\"pr od\"", "environment: must be"},
		{"policies", "{}", "policies: a list of 1 to 64"},
		{"ledger", "{\"origin\":\"o\",\"size\":0,\"root\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"}",
		 "ledger: must be"},
		{"ledger", "{\"origin\":\"o\",\"size\":1,\"root\":\"AAEC\"}", "ledger: must be"},
		{"findings", "\"x\"", "findings: must be"},
	};
	uint8_t d[ML_SHA256_LEN];
	size_t i;

	(void)state;
	tu_unhex(HEXB, d, sizeof d);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ml_buf b = {0};
		struct ml_err e;
		json_t *p = gate_pred(), *v = json_loads(bad[i].json, JSON_DECODE_ANY, NULL);
		assert_non_null(v);
		assert_int_equal(json_object_set_new(p, bad[i].member, v), 0);
		if (encode(ML_KIND_GATE, "fraud/xgb@1.2.0", d, p, &b, &e) != ML_EINPUT ||
		    !strstr(e.msg, bad[i].msg))
			print_error("case %zu (%s): [%s]\n", i, bad[i].member, e.msg);
		assert_int_equal(e.code, ML_EINPUT);
		assert_non_null(strstr(e.msg, bad[i].msg));
		assert_null(b.data);
	}
	/* The VSA type with an mlledger predicate, and the reverse, are refused. */
	bad_parts(GOOD_TYPE, GOOD_SUBJ, "\"https://slsa.dev/verification_summary/v1\"",
		  DEPLOY_PRED, "gate: field \"verifier\" is required");
	bad_parts(GOOD_TYPE, GOOD_SUBJ, "\"https://mlledger.dev/gate/v1\"", DEPLOY_PRED,
		  "unknown predicateType");
	bad_parts(GOOD_TYPE, GOOD_SUBJ, "\"https://slsa.dev/verification_summary/v0.2\"",
		  DEPLOY_PRED, "unknown predicateType");
}

static void
test_parse_predicate_type(void **state)
{
	(void)state;
	bad_parts(GOOD_TYPE, GOOD_SUBJ, "\"https://example.com/deployment/v1\"", DEPLOY_PRED,
		  "unknown predicateType");
	bad_parts(GOOD_TYPE, GOOD_SUBJ, "\"https://mlledger.dev/deployment/v2\"", DEPLOY_PRED,
		  "unknown predicateType");
	bad_parts(GOOD_TYPE, GOOD_SUBJ, "\"https://mlledger.dev/deployment/v1/\"", DEPLOY_PRED,
		  "unknown predicateType");
	bad_parts(GOOD_TYPE, GOOD_SUBJ, "\"https://mlledger.dev/deployment\"", DEPLOY_PRED,
		  "unknown predicateType");
	bad_parts(GOOD_TYPE, GOOD_SUBJ, "\"https://mlledger.dev/Deployment/v1\"", DEPLOY_PRED,
		  "unknown predicateType");
	bad_parts(GOOD_TYPE, GOOD_SUBJ, "\"https://mlledger.dev/deploy/v1\"", DEPLOY_PRED,
		  "unknown predicateType");
	bad_parts(GOOD_TYPE, GOOD_SUBJ, "\"https://mlledger.dev//v1\"", DEPLOY_PRED,
		  "unknown predicateType");
	bad_parts(GOOD_TYPE, GOOD_SUBJ,
		  "\"https://mlledger.dev/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/v1\"",
		  DEPLOY_PRED, "unknown predicateType");
	bad_parts(GOOD_TYPE, GOOD_SUBJ, "\"http://mlledger.dev/deployment/v1\"", DEPLOY_PRED,
		  "unknown predicateType");
	bad_parts(GOOD_TYPE, GOOD_SUBJ, "1", DEPLOY_PRED, "unknown predicateType");
	bad_parts(GOOD_TYPE, GOOD_SUBJ, "null", DEPLOY_PRED, "unknown predicateType");
	/* A known type whose predicate belongs to another kind. */
	bad_parts(GOOD_TYPE, GOOD_SUBJ, "\"https://mlledger.dev/approval/v1\"", DEPLOY_PRED,
		  "approval: field \"decision\" is required");
	/* Predicate not an object. */
	bad_parts(GOOD_TYPE, GOOD_SUBJ, DEPLOY, "[]", "predicate: must be an object");
	bad_parts(GOOD_TYPE, GOOD_SUBJ, DEPLOY, "\"x\"", "predicate: must be an object");
	bad_parts(GOOD_TYPE, GOOD_SUBJ, DEPLOY, "null", "predicate: must be an object");
}

/* Sets member of a copy of kind k's full predicate to the JSON text value
 * (NULL deletes it), encodes, and expects ML_EINPUT naming needle. */
static void
mutate_bad(const struct fixture *fx, enum ml_kind k, const char *member, const char *value,
	   const char *needle)
{
	struct case_ c;
	struct ml_buf b = {0};
	struct ml_err e;
	int rc;

	full_case(fx, k, &c);
	if (value) {
		json_error_t jerr;
		json_t *v = json_loads(value, JSON_DECODE_ANY, &jerr);
		if (!v)
			print_error("test bug: bad JSON [%s]: %s\n", value, jerr.text);
		assert_non_null(v);
		json_object_set_new(c.pred, member, v);
	} else {
		json_object_del(c.pred, member);
	}
	rc = encode(k, c.subject, c.digest, c.pred, &b, &e);
	if (rc != ML_EINPUT || (needle && !strstr(e.msg, needle)))
		print_error("%s.%s = %.200s: rc %d msg [%s] (want [%s])\n", ml_kind_name(k),
			    member, value ? value : "(deleted)", rc, e.msg, needle ? needle : "");
	assert_int_equal(rc, ML_EINPUT);
	assert_int_equal(e.code, ML_EINPUT);
	if (needle)
		assert_non_null(strstr(e.msg, needle));
	assert_null(b.data);
}

static void
mutate_ok(const struct fixture *fx, enum ml_kind k, const char *member, const char *value)
{
	struct case_ c;
	struct ml_buf b = {0};
	struct ml_err e;
	json_t *v = json_loads(value, JSON_DECODE_ANY, NULL);

	assert_non_null(v);
	full_case(fx, k, &c);
	json_object_set_new(c.pred, member, v);
	if (encode(k, c.subject, c.digest, c.pred, &b, &e) != ML_OK)
		print_error("%s.%s = %.200s: [%s]\n", ml_kind_name(k), member, value, e.msg);
	assert_int_equal(e.code, ML_OK);
	assert_non_null(b.data);
	ml_buf_free(&b);
}

static void
test_predicate_wrong_types(void **state)
{
	struct fixture *fx = *state;

	/* time */
	mutate_bad(fx, ML_KIND_DEPLOYMENT, "time", "1767322245", "time: must be");
	mutate_bad(fx, ML_KIND_DEPLOYMENT, "time", "\"2026-01-02\"", "time: must be");
	mutate_bad(fx, ML_KIND_DEPLOYMENT, "time", "\"2026-02-30T00:00:00Z\"", "time: must be");
	mutate_bad(fx, ML_KIND_DEPLOYMENT, "time", "\"2026-01-02T03:04:05\"", "time: must be");
	mutate_bad(fx, ML_KIND_DEPLOYMENT, "time", "\"2026-01-02T03:04:05.1Z\"",
		   "time: must be");
	mutate_bad(fx, ML_KIND_DEPLOYMENT, "time", "null", "time: must be");
	/* format (integer >= 0) */
	mutate_bad(fx, ML_KIND_GENESIS, "format", "\"1\"", "format: must be an integer");
	mutate_bad(fx, ML_KIND_GENESIS, "format", "1.0", "format: must be an integer");
	mutate_bad(fx, ML_KIND_GENESIS, "format", "-1", "format: must be an integer");
	mutate_bad(fx, ML_KIND_GENESIS, "format", "true", "format: must be an integer");
	/* text fields */
	mutate_bad(fx, ML_KIND_DATASET, "uri", "\"\"", "uri: must not be empty");
	mutate_bad(fx, ML_KIND_DATASET, "uri", "5", "uri: must be a string");
	mutate_bad(fx, ML_KIND_DATASET, "uri", "[\"a\"]", "uri: must be a string");
	mutate_bad(fx, ML_KIND_RETIREMENT, "reason", "{}", "reason: must be a string");
	/* identifiers */
	mutate_bad(fx, ML_KIND_DEPLOYMENT, "environment", "\"prod eu\"", "environment: must be");
	mutate_bad(fx, ML_KIND_DEPLOYMENT, "environment", "\"\"", "environment: must be");
	mutate_bad(fx, ML_KIND_DEPLOYMENT, "environment", "\"a/b\"", "environment: must be");
	mutate_bad(fx, ML_KIND_DEPLOYMENT, "environment", "\"pr\\u00e9d\"", "environment: must be");
	mutate_bad(fx, ML_KIND_DEPLOYMENT, "environment", "3", "environment: must be");
	mutate_bad(fx, ML_KIND_WAIVER, "rule", "\"no rule\"", "rule: must be");
	{
		char v[140];
		memset(v, 'e', sizeof v);
		v[0] = '"';
		v[129] = '"';
		v[130] = '\0';
		mutate_ok(fx, ML_KIND_DEPLOYMENT, "environment", v); /* 128 */
		v[129] = 'e';
		v[130] = '"';
		v[131] = '\0';
		mutate_bad(fx, ML_KIND_DEPLOYMENT, "environment", v, "environment: must be");
	}
	/* enumerations */
	mutate_bad(fx, ML_KIND_APPROVAL, "decision", "\"maybe\"", "decision: must be one of approve, reject");
	mutate_bad(fx, ML_KIND_APPROVAL, "decision", "\"Approve\"", "decision: must be one of approve, reject");
	mutate_bad(fx, ML_KIND_APPROVAL, "decision", "1", "decision: must be one of approve, reject");
	mutate_ok(fx, ML_KIND_APPROVAL, "decision", "\"reject\"");
	mutate_bad(fx, ML_KIND_INCIDENT, "severity", "\"urgent\"", "severity: must be one of low, medium, high, critical");
	mutate_bad(fx, ML_KIND_INCIDENT, "severity", "\"\"", "severity: must be one of low, medium, high, critical");
	mutate_ok(fx, ML_KIND_INCIDENT, "severity", "\"low\"");
	mutate_ok(fx, ML_KIND_INCIDENT, "severity", "\"medium\"");
	mutate_ok(fx, ML_KIND_INCIDENT, "severity", "\"critical\"");
	/* dates */
	mutate_bad(fx, ML_KIND_WAIVER, "expires", "\"" T0 "\"", "expires: must be YYYY-MM-DD");
	mutate_bad(fx, ML_KIND_WAIVER, "expires", "\"2026-02-30\"", "expires: must be");
	mutate_bad(fx, ML_KIND_WAIVER, "expires", "20261231", "expires: must be");
	/* scalars */
	mutate_bad(fx, ML_KIND_EVALUATION, "metrics", "{}", "metrics: at least one value");
	mutate_bad(fx, ML_KIND_MONITORING, "metrics", "{}", "metrics: at least one value");
	mutate_ok(fx, ML_KIND_MODEL, "metrics", "{}"); /* optional there */
	mutate_ok(fx, ML_KIND_DEPLOYMENT, "properties", "{}");
	mutate_bad(fx, ML_KIND_EVALUATION, "metrics", "[1]", "metrics: must be an object");
	mutate_bad(fx, ML_KIND_EVALUATION, "metrics", "{\"a\":{\"b\":1}}",
		   "metrics.a: must be a string, number or boolean");
	mutate_bad(fx, ML_KIND_EVALUATION, "metrics", "{\"a\":[1]}", "metrics.a: must be");
	mutate_bad(fx, ML_KIND_EVALUATION, "metrics", "{\"a\":null}", "metrics.a: must be");
	mutate_bad(fx, ML_KIND_EVALUATION, "metrics", "{\"bad name\":1}", "metrics: bad name");
	mutate_bad(fx, ML_KIND_EVALUATION, "metrics", "{\"\":1}", "metrics: bad name");
	mutate_bad(fx, ML_KIND_EVALUATION, "metrics", "{\"a/b\":1}", "metrics: bad name");
	mutate_bad(fx, ML_KIND_EVALUATION, "metrics", "{\"a\":\"\"}", "metrics: must not be empty");
	mutate_bad(fx, ML_KIND_DATASET, "properties", "{\"a\":\"x\\ny\"}",
		   "properties: invalid UTF-8 or control character");
	mutate_ok(fx, ML_KIND_EVALUATION, "metrics",
		  "{\"a.b_c-d\":-1.5e-3,\"n\":0,\"s\":\"text\",\"f\":false}");
	{
		/* 64-byte names are fine, 65 not; 256 members fine, 257 not. */
		char v[8000], *p;
		int i;
		snprintf(v, sizeof v, "{\"%064d\":1}", 0);
		mutate_ok(fx, ML_KIND_EVALUATION, "metrics", v);
		snprintf(v, sizeof v, "{\"%065d\":1}", 0);
		mutate_bad(fx, ML_KIND_EVALUATION, "metrics", v, "metrics: bad name");
		p = v + sprintf(v, "{");
		for (i = 0; i < 256; i++)
			p += sprintf(p, "%s\"m%d\":%d", i ? "," : "", i, i);
		strcpy(p, "}");
		mutate_ok(fx, ML_KIND_EVALUATION, "metrics", v);
		sprintf(p, ",\"m256\":1}");
		mutate_bad(fx, ML_KIND_EVALUATION, "metrics", v, "more than 256 values");
	}
	/* artifact (more in test_artifact_rules) */
	mutate_bad(fx, ML_KIND_DATASET, "artifact", "{\"type\":\"symlink\",\"size\":1}",
		   "artifact: must be");
	mutate_bad(fx, ML_KIND_DATASET, "artifact", "{\"type\":\"file\"}", "artifact: must be");
	mutate_bad(fx, ML_KIND_DATASET, "artifact", "{\"size\":1}", "artifact: must be");
	mutate_bad(fx, ML_KIND_DATASET, "artifact", "{\"type\":\"file\",\"size\":-1}",
		   "artifact: must be");
	mutate_bad(fx, ML_KIND_DATASET, "artifact", "{\"type\":\"file\",\"size\":1.5}",
		   "artifact: must be");
	mutate_bad(fx, ML_KIND_DATASET, "artifact", "{\"type\":\"file\",\"size\":\"1\"}",
		   "artifact: must be");
	mutate_bad(fx, ML_KIND_DATASET, "artifact", "\"file\"", "artifact: must be");
	mutate_bad(fx, ML_KIND_DATASET, "artifact", "{\"type\":\"file\",\"size\":1,\"x\":1}",
		   "artifact: a file has type and size");
	mutate_bad(fx, ML_KIND_DATASET, "artifact",
		   "{\"type\":\"file\",\"size\":4,\"files\":[" FILE_A "]}",
		   "artifact: a file has type and size");
	mutate_ok(fx, ML_KIND_DATASET, "artifact", "{\"type\":\"file\",\"size\":0}");
	/* refs */
	mutate_bad(fx, ML_KIND_MODEL, "datasets", "\"census@1\"", "datasets: must be a list");
	mutate_bad(fx, ML_KIND_MODEL, "datasets", "{}", "datasets: must be a list");
	mutate_ok(fx, ML_KIND_MODEL, "datasets", "[]");
	mutate_bad(fx, ML_KIND_MODEL, "datasets",
		   "[{\"name\":\"census\",\"digest\":{\"sha256\":\"" HEXA "\"}}]",
		   "datasets: must be {\"name\": NAME@VERSION");
	mutate_bad(fx, ML_KIND_MODEL, "datasets", "[{\"name\":\"census@1\"}]", "datasets");
	mutate_bad(fx, ML_KIND_MODEL, "datasets", "[\"census@1\"]", "datasets");
	mutate_bad(fx, ML_KIND_MODEL, "datasets",
		   "[{\"name\":\"c@1\",\"digest\":{\"sha256\":\"" HEXA "\"},\"x\":1}]", "datasets");
	mutate_bad(fx, ML_KIND_MODEL, "parent",
		   "{\"name\":\"m@1\",\"digest\":{\"sha256\":\"" HEXA "0\"}}",
		   "parent: digest must be");
	mutate_bad(fx, ML_KIND_MODEL, "parent",
		   "{\"name\":\"m@1\",\"digest\":{\"sha1\":\"" HEXA "\"}}", "parent: digest must be");
	mutate_bad(fx, ML_KIND_EVALUATION, "dataset", "\"holdout@3\"", "dataset: must be");
	{
		/* At most 256 refs. */
		char *v = malloc(300 * 110), *p = v;
		int i;
		p += sprintf(p, "[");
		for (i = 0; i < 257; i++)
			p += sprintf(p, "%s{\"name\":\"d@%d\",\"digest\":{\"sha256\":\"" HEXA "\"}}",
				     i ? "," : "", i);
		strcpy(p, "]");
		mutate_bad(fx, ML_KIND_MODEL, "datasets", v, "datasets: must be a list");
		free(v);
	}
}

static void
test_predicate_text_rules(void **state)
{
	struct fixture *fx = *state;
	char *v;

	/* Control characters: refused in one-line fields, \n and \t allowed in
	 * long texts (comment, reason, description), \r nowhere. */
	mutate_bad(fx, ML_KIND_WAIVER, "ticket", "\"JIRA\\n123\"",
		   "ticket: invalid UTF-8 or control character");
	mutate_bad(fx, ML_KIND_WAIVER, "ticket", "\"JIRA\\t123\"", "ticket: invalid");
	mutate_bad(fx, ML_KIND_DATASET, "uri", "\"s3://x\\u0001\"", "uri: invalid");
	mutate_bad(fx, ML_KIND_DATASET, "uri", "\"s3://x\\u001b[31m\"", "uri: invalid");
	mutate_ok(fx, ML_KIND_APPROVAL, "comment", "\"line 1\\nline 2\\n\\tindented\"");
	mutate_ok(fx, ML_KIND_WAIVER, "reason", "\"a\\nb\"");
	mutate_ok(fx, ML_KIND_INCIDENT, "description", "\"a\\tb\"");
	mutate_bad(fx, ML_KIND_APPROVAL, "comment", "\"a\\r\\nb\"", "comment: invalid");
	mutate_bad(fx, ML_KIND_APPROVAL, "comment", "\"a\\u000bb\"", "comment: invalid");
	/* DEL and C1 controls: jansson writes them raw, so the payload check
	 * refuses what encode builds... */
	mutate_bad(fx, ML_KIND_APPROVAL, "comment", "\"a\\u007f\"", "not valid UTF-8");
	mutate_bad(fx, ML_KIND_APPROVAL, "comment", "\"a\\u0085\"", "not valid UTF-8");
	/* ...and the field check refuses them when a payload escapes them. */
	bad_parts(GOOD_TYPE, GOOD_SUBJ, APPROVAL, "{\"time\":\"" T0 "\",\"environment\":"
		  "\"prod\",\"decision\":\"approve\",\"comment\":\"a\\u007f\"}",
		  "comment: invalid UTF-8 or control character");
	bad_parts(GOOD_TYPE, GOOD_SUBJ, APPROVAL, "{\"time\":\"" T0 "\",\"environment\":"
		  "\"prod\",\"decision\":\"approve\",\"comment\":\"a\\u0085\"}",
		  "comment: invalid UTF-8 or control character");
	bad_parts(GOOD_TYPE, GOOD_SUBJ, APPROVAL, "{\"time\":\"" T0 "\",\"environment\":"
		  "\"prod\",\"decision\":\"approve\",\"comment\":\"a\\u009b31m\"}",
		  "comment: invalid UTF-8 or control character");
	bad_parts(GOOD_TYPE, GOOD_SUBJ, APPROVAL, "{\"time\":\"" T0 "\",\"environment\":"
		  "\"prod\",\"decision\":\"approve\",\"comment\":\"a\\r\"}",
		  "comment: invalid UTF-8 or control character");
	bad_parts(GOOD_TYPE, GOOD_SUBJ, DEPLOY, "{\"time\":\"" T0 "\",\"environment\":"
		  "\"prod\",\"properties\":{\"a\":\"\\u0001\"}}",
		  "properties: invalid UTF-8 or control character");
	{
		char *t = stmt(GOOD_TYPE, GOOD_SUBJ, APPROVAL,
			       "{\"time\":\"" T0 "\",\"environment\":\"prod\",\"decision\":"
			       "\"approve\",\"comment\":\"a\\n\\tb\\u00a0\"}");
		parse_ok(t);
		free(t);
	}
	mutate_ok(fx, ML_KIND_APPROVAL, "comment", "\"a\\u00a0\\u20ac\\ud83d\\ude00\"");
	mutate_bad(fx, ML_KIND_APPROVAL, "comment", "\"\"", "comment: must not be empty");

	/* 65536 bytes is the limit of one field. */
	v = malloc(ML_MAX_FIELD + 10);
	v[0] = '"';
	memset(v + 1, 'c', ML_MAX_FIELD);
	strcpy(v + 1 + ML_MAX_FIELD, "\"");
	mutate_ok(fx, ML_KIND_APPROVAL, "comment", v);
	mutate_ok(fx, ML_KIND_DATASET, "uri", v);
	strcpy(v + 1 + ML_MAX_FIELD, "c\"");
	mutate_bad(fx, ML_KIND_APPROVAL, "comment", v, "comment: longer than 65536 bytes");
	mutate_bad(fx, ML_KIND_DATASET, "uri", v, "uri: longer than 65536 bytes");
	{
		char *m = malloc(ML_MAX_FIELD + 40);
		sprintf(m, "{\"long\":%s}", v);
		mutate_bad(fx, ML_KIND_DATASET, "properties", m, "properties: longer than");
		free(m);
	}
	free(v);
}

static void
test_parse_raw_bytes(void **state)
{
	char *s, *p;

	(void)state;
	/* Invalid UTF-8 anywhere in the payload, even where JSON would not look. */
	s = stmt(GOOD_TYPE, GOOD_SUBJ, DEPLOY,
		 "{\"time\":\"" T0 "\",\"environment\":\"prod\",\"properties\":{\"a\":\"\xff\"}}");
	parse_bad(s, "not valid UTF-8");
	free(s);
	s = stmt(GOOD_TYPE, GOOD_SUBJ, DEPLOY,
		 "{\"time\":\"" T0 "\",\"environment\":\"prod\",\"properties\":{\"a\":\"\xc0\xaf\"}}");
	parse_bad(s, "not valid UTF-8");
	free(s);
	s = stmt(GOOD_TYPE, GOOD_SUBJ, DEPLOY,
		 "{\"time\":\"" T0 "\",\"environment\":\"prod\",\"properties\":{\"a\":\"\xed\xa0\x80\"}}");
	parse_bad(s, "not valid UTF-8");
	free(s);
	/* Raw control bytes, DEL, C1 and NUL. */
	s = stmt(GOOD_TYPE, GOOD_SUBJ, DEPLOY,
		 "{\"time\":\"" T0 "\",\"environment\":\"prod\",\"properties\":{\"a\":\"\x01\"}}");
	parse_bad(s, "not valid UTF-8");
	free(s);
	s = stmt(GOOD_TYPE, GOOD_SUBJ, DEPLOY,
		 "{\"time\":\"" T0 "\",\"environment\":\"prod\",\"properties\":{\"a\":\"\x7f\"}}");
	parse_bad(s, "not valid UTF-8");
	free(s);
	s = stmt(GOOD_TYPE, GOOD_SUBJ, DEPLOY,
		 "{\"time\":\"" T0 "\",\"environment\":\"prod\",\"properties\":{\"a\":\"\xc2\x85\"}}");
	parse_bad(s, "not valid UTF-8");
	free(s);
	s = stmt(GOOD_TYPE, GOOD_SUBJ, DEPLOY, DEPLOY_PRED);
	p = malloc(strlen(s) + 2);
	memcpy(p, s, strlen(s));
	p[strlen(s)] = '\0'; /* a trailing NUL byte inside len */
	parse_bad_len(p, strlen(s) + 1, "not valid UTF-8");
	free(p);
	free(s);
	/* Escaped NUL is refused too (a string would end early in C). */
	s = stmt(GOOD_TYPE, GOOD_SUBJ, "\"https://mlledger.dev/approval/v1\"",
		 "{\"time\":\"" T0 "\",\"environment\":\"prod\",\"decision\":\"approve\\u0000x\"}");
	parse_bad(s, NULL);
	free(s);
	/* A lone surrogate escape. */
	s = stmt(GOOD_TYPE, GOOD_SUBJ, DEPLOY,
		 "{\"time\":\"" T0 "\",\"environment\":\"prod\",\"properties\":{\"a\":\"\\ud800\"}}");
	parse_bad(s, NULL);
	free(s);
	/* Over 1 MiB. */
	p = calloc(1, ML_MAX_STATEMENT + 2);
	memset(p, ' ', ML_MAX_STATEMENT + 1);
	s = stmt(GOOD_TYPE, GOOD_SUBJ, DEPLOY, DEPLOY_PRED);
	memcpy(p, s, strlen(s));
	parse_bad_len(p, ML_MAX_STATEMENT + 1, "larger than");
	parse_ok_len(p, ML_MAX_STATEMENT); /* trailing white space is JSON */
	free(s);
	free(p);
}

/* Folder artifacts (FORMAT.md §2 and §6): 1-20,000 files, clean relative
 * paths in strictly increasing byte order, size the sum, and the subject
 * digest the manifest's. */
static void
art_bad(const struct fixture *fx, const char *art, const char *needle)
{
	mutate_bad(fx, ML_KIND_MODEL, "artifact", art, needle);
}

static void
art_path_bad(const struct fixture *fx, const char *path)
{
	char art[400];

	snprintf(art, sizeof art,
		 "{\"type\":\"directory\",\"size\":4,\"files\":[{\"path\":\"%s\","
		 "\"sha256\":\"" SHA_A_BIN "\",\"size\":4}]}",
		 path);
	art_bad(fx, art, "artifact.files[0]");
}

static void
test_artifact_rules(void **state)
{
	struct fixture *fx = *state;
	struct ml_buf b = {0};
	struct ml_err e;
	uint8_t d[ML_SHA256_LEN];
	static const char manifest1[] = SHA_A_BIN "  a.bin\n";

	/* The full case (two files, digest from coreutils) is valid: see
	 * test_roundtrip_all_kinds.  One file, digest computed here. */
	ml_sha256(manifest1, strlen(manifest1), d);
	assert_int_equal(encode(ML_KIND_MODEL, "m@1", d,
				json_pack("{s:s, s:{s:s, s:i, s:[{s:s, s:s, s:i}]}}", "time", T0,
					  "artifact", "type", "directory", "size", 4, "files",
					  "path", "a.bin", "sha256", SHA_A_BIN, "size", 4),
				&b, &e),
			 ML_OK);
	ml_buf_free(&b);
	/* The same list under another digest is refused. */
	tu_unhex(HEXB, d, sizeof d);
	assert_int_equal(encode(ML_KIND_MODEL, "m@1", d,
				json_pack("{s:s, s:{s:s, s:i, s:[{s:s, s:s, s:i}]}}", "time", T0,
					  "artifact", "type", "directory", "size", 4, "files",
					  "path", "a.bin", "sha256", SHA_A_BIN, "size", 4),
				&b, &e),
			 ML_EINPUT);
	assert_non_null(strstr(e.msg, "does not hash to the subject digest"));
	assert_null(b.data);

	/* A file's hash changed, a file left out, a path renamed: the manifest
	 * no longer matches the signed digest. */
	art_bad(fx,
		"{\"type\":\"directory\",\"size\":11,\"files\":[{\"path\":\"a.bin\",\"sha256\":\"" HEXA
		"\",\"size\":4}," FILE_C "]}",
		"does not hash to the subject digest");
	art_bad(fx, "{\"type\":\"directory\",\"size\":4,\"files\":[" FILE_A "]}",
		"does not hash to the subject digest");
	art_bad(fx,
		"{\"type\":\"directory\",\"size\":11,\"files\":[" FILE_A
		",{\"path\":\"b/d.json\",\"sha256\":\"" SHA_C_JSON "\",\"size\":7}]}",
		"does not hash to the subject digest");
	/* Sizes must add up. */
	art_bad(fx, "{\"type\":\"directory\",\"size\":12,\"files\":[" FILE_A "," FILE_C "]}",
		"artifact.size must be the sum");
	art_bad(fx, "{\"type\":\"directory\",\"size\":0,\"files\":[" FILE_A "," FILE_C "]}",
		"artifact.size must be the sum");
	art_bad(fx,
		"{\"type\":\"directory\",\"size\":9223372036854775807,\"files\":["
		"{\"path\":\"a\",\"sha256\":\"" HEXA "\",\"size\":9223372036854775807},"
		"{\"path\":\"b\",\"sha256\":\"" HEXA "\",\"size\":1}]}",
		"sizes overflow");
	/* Order: strictly increasing bytewise, so no duplicates. */
	art_bad(fx, "{\"type\":\"directory\",\"size\":11,\"files\":[" FILE_C "," FILE_A "]}",
		"artifact.files[1]: paths must be sorted bytewise and distinct");
	art_bad(fx, "{\"type\":\"directory\",\"size\":8,\"files\":[" FILE_A "," FILE_A "]}",
		"artifact.files[1]: paths must be sorted");
	art_bad(fx,
		"{\"type\":\"directory\",\"size\":8,\"files\":["
		"{\"path\":\"a\",\"sha256\":\"" HEXA "\",\"size\":4},"
		"{\"path\":\"B\",\"sha256\":\"" HEXA "\",\"size\":4}]}",
		"paths must be sorted"); /* 'B' < 'a' bytewise */
	/* No files, files for a folder missing, not a list. */
	art_bad(fx, "{\"type\":\"directory\",\"size\":0,\"files\":[]}",
		"artifact.files: a list of 1 to 4096 files");
	art_bad(fx, "{\"type\":\"directory\",\"size\":0}", "a directory also files");
	art_bad(fx, "{\"type\":\"directory\",\"size\":4,\"files\":" FILE_A "}",
		"artifact.files: a list");
	/* Entries: members, hex, sizes. */
	art_bad(fx,
		"{\"type\":\"directory\",\"size\":4,\"files\":[{\"path\":\"a.bin\",\"sha256\":\""
		"88D4266FD4E6338D13B845FCF289579D209C897823B9217DA3E161936F031589\",\"size\":4}]}",
		"artifact.files[0]: must be");
	art_bad(fx,
		"{\"type\":\"directory\",\"size\":4,\"files\":[{\"path\":\"a.bin\",\"sha256\":\"" SHA_A_BIN
		"\"}]}",
		"artifact.files[0]: must be");
	art_bad(fx,
		"{\"type\":\"directory\",\"size\":4,\"files\":[{\"path\":\"a.bin\",\"sha256\":\"" SHA_A_BIN
		"\",\"size\":4,\"mode\":420}]}",
		"artifact.files[0]: must be");
	art_bad(fx,
		"{\"type\":\"directory\",\"size\":4,\"files\":[{\"path\":\"a.bin\",\"sha256\":\"" SHA_A_BIN
		"\",\"size\":-4}]}",
		"artifact.files[0]: must be");
	art_bad(fx, "{\"type\":\"directory\",\"size\":4,\"files\":[\"a.bin\"]}",
		"artifact.files[0]: must be");
	/* Paths. */
	art_path_bad(fx, "");
	art_path_bad(fx, "/etc/passwd");
	art_path_bad(fx, "a//b");
	art_path_bad(fx, "a/");
	art_path_bad(fx, ".");
	art_path_bad(fx, "..");
	art_path_bad(fx, "./a");
	art_path_bad(fx, "a/./b");
	art_path_bad(fx, "a/../b");
	art_path_bad(fx, "../a");
	art_path_bad(fx, "a\\\\b");   /* a literal backslash */
	art_path_bad(fx, "a\\bb");     /* JSON "\b": a backspace */
	art_path_bad(fx, "a\\nb");
	art_path_bad(fx, "a\\rb");
	art_path_bad(fx, "a\\tb");
	art_path_bad(fx, "a\\u0001b");
	/* Dots inside names are fine. */
	{
		static const char m[] = HEXA "  .hidden/..x/a..b\n";
		ml_sha256(m, strlen(m), d);
		assert_int_equal(encode(ML_KIND_DATASET, "d@1", d,
					json_pack("{s:s, s:{s:s, s:i, s:[{s:s, s:s, s:i}]}}",
						  "time", T0, "artifact", "type", "directory",
						  "size", 1, "files", "path", ".hidden/..x/a..b",
						  "sha256", HEXA, "size", 1),
					&b, &e),
				 ML_OK);
		ml_buf_free(&b);
	}
}

/* ---- key and genesis subjects -------------------------------------------- */

static void
case_bad(const struct fixture *fx, enum ml_kind k, const char *subject,
	 const uint8_t *digest, const char *needle)
{
	struct case_ c;
	struct ml_buf b = {0};
	struct ml_err e;
	int rc;

	full_case(fx, k, &c);
	rc = encode(k, subject ? subject : c.subject, digest ? digest : c.digest, c.pred, &b,
		    &e);
	if (rc != ML_EINPUT || !strstr(e.msg, needle))
		print_error("%s: rc %d [%s] (want [%s])\n", ml_kind_name(k), rc, e.msg, needle);
	assert_int_equal(rc, ML_EINPUT);
	assert_non_null(strstr(e.msg, needle));
	assert_null(b.data);
}

/* A genesis statement with this origin as subject and origin; needle NULL
 * expects success. */
static void
genesis_origin(const struct fixture *fx, const char *origin, const char *needle)
{
	struct case_ c;
	struct ml_buf b = {0};
	struct ml_err e;
	int rc;

	full_case(fx, ML_KIND_GENESIS, &c);
	json_object_set_new(c.pred, "origin", json_string(origin));
	rc = encode(ML_KIND_GENESIS, origin, c.digest, c.pred, &b, &e);
	if (needle ? rc != ML_EINPUT || !strstr(e.msg, needle) : rc != ML_OK)
		print_error("origin [%s]: rc %d [%s]\n", origin, rc, e.msg);
	if (needle) {
		assert_int_equal(rc, ML_EINPUT);
		assert_non_null(strstr(e.msg, needle));
		assert_null(b.data);
	} else {
		assert_int_equal(rc, ML_OK);
	}
	ml_buf_free(&b);
}

static void
test_key_and_genesis_subjects(void **state)
{
	struct fixture *fx = *state;
	uint8_t zero[ML_SHA256_LEN] = {0}, d[ML_SHA256_LEN];

	/* genesis: subject is the origin, digest is SHA-256 of logKey. */
	case_bad(fx, ML_KIND_GENESIS, "example.com/other", NULL,
		 "genesis: subject must be the origin");
	case_bad(fx, ML_KIND_GENESIS, NULL, zero,
		 "genesis: subject digest must be SHA-256 of \"logKey\"");
	ml_sha256(fx->alice_vkey, strlen(fx->alice_vkey), d); /* admin's, not the log's */
	case_bad(fx, ML_KIND_GENESIS, NULL, d, "SHA-256 of \"logKey\"");
	/* The origin: 1-128 of [A-Za-z0-9._/:-] (FORMAT.md §1). */
	{
		static const char *const bad_origins[] = {
			"example com", "caf\xc3\xa9.example", "a+b", "a@b", "a\\b", "a\"b",
		};
		char o[200];
		size_t i;
		for (i = 0; i < sizeof bad_origins / sizeof bad_origins[0]; i++)
			genesis_origin(fx, bad_origins[i], "genesis: origin must be 1-128 of");
		memset(o, 'o', 129);
		o[129] = '\0';
		genesis_origin(fx, o, "genesis: origin must be 1-128 of");
		o[128] = '\0';
		genesis_origin(fx, o, NULL);
		genesis_origin(fx, "log.example.com:8443/a_b-c", NULL);
	}
	/* genesis keys: logKey may have any C2SP name, admin a simple one. */
	mutate_bad(fx, ML_KIND_GENESIS, "logKey", "\"nonsense\"", "logKey: ");
	{
		char v[ML_VKEY_MAX + 4];
		snprintf(v, sizeof v, "\"%s\"", fx->log_vkey);
		mutate_bad(fx, ML_KIND_GENESIS, "admin", v, "admin: key name must be");
	}

	/* enrolment and revocation: subject is the key's name, digest is SHA-256
	 * of the key line. */
	case_bad(fx, ML_KIND_KEY_ENROLLMENT, "alice", NULL,
		 "key-enrollment: subject must be the key's name");
	case_bad(fx, ML_KIND_KEY_ENROLLMENT, "bob@1", NULL, "subject must be the key's name");
	case_bad(fx, ML_KIND_KEY_ENROLLMENT, NULL, zero,
		 "key-enrollment: subject digest must be SHA-256 of \"key\"");
	ml_sha256(fx->bob_vkey, strlen(fx->bob_vkey) - 1, d); /* one byte short */
	case_bad(fx, ML_KIND_KEY_ENROLLMENT, NULL, d, "SHA-256 of \"key\"");
	case_bad(fx, ML_KIND_KEY_REVOCATION, "alice", NULL,
		 "key-revocation: subject must be the key's name");
	case_bad(fx, ML_KIND_KEY_REVOCATION, NULL, zero,
		 "key-revocation: subject digest must be SHA-256 of \"key\"");
	/* A person's key must have a simple name. */
	{
		char v[ML_VKEY_MAX + 4];
		snprintf(v, sizeof v, "\"%s\"", fx->log_vkey);
		mutate_bad(fx, ML_KIND_KEY_ENROLLMENT, "key", v, "key: key name must be");
	}
	/* A key line with a wrong hash. */
	{
		char v[ML_VKEY_MAX + 4], *plus;
		snprintf(v, sizeof v, "\"%s\"", fx->bob_vkey);
		plus = strchr(v, '+');
		plus[1] = plus[1] == '0' ? '1' : '0';
		mutate_bad(fx, ML_KIND_KEY_ENROLLMENT, "key", v, "key hash does not match");
	}
	mutate_bad(fx, ML_KIND_KEY_ENROLLMENT, "key", "7", "key: must be a verifier key");

	/* roles */
	mutate_bad(fx, ML_KIND_KEY_ENROLLMENT, "roles", "[]", "roles: must be a list of 1 to 16");
	mutate_bad(fx, ML_KIND_KEY_ENROLLMENT, "roles", "\"admin\"", "roles: must be a list");
	mutate_bad(fx, ML_KIND_KEY_ENROLLMENT, "roles", "[\"admin\",\"admin\"]",
		   "roles: \"admin\" given twice");
	mutate_bad(fx, ML_KIND_KEY_ENROLLMENT, "roles", "[\"a\",\"b\",\"a\"]", "given twice");
	mutate_bad(fx, ML_KIND_KEY_ENROLLMENT, "roles", "[\"Admin\"]",
		   "roles: role names are lowercase");
	mutate_bad(fx, ML_KIND_KEY_ENROLLMENT, "roles", "[\"ADMIN\"]", "lowercase");
	mutate_bad(fx, ML_KIND_KEY_ENROLLMENT, "roles", "[\"\"]", "roles: bad role name");
	mutate_bad(fx, ML_KIND_KEY_ENROLLMENT, "roles", "[\"a b\"]", "roles: bad role name");
	mutate_bad(fx, ML_KIND_KEY_ENROLLMENT, "roles", "[\"a_b\"]", "roles: bad role name");
	mutate_bad(fx, ML_KIND_KEY_ENROLLMENT, "roles", "[1]", "roles: bad role name");
	mutate_bad(fx, ML_KIND_KEY_ENROLLMENT, "roles", "[null]", "roles: bad role name");
	mutate_bad(fx, ML_KIND_KEY_ENROLLMENT, "roles",
		   "[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]", "roles: bad role name"); /* 33 */
	mutate_ok(fx, ML_KIND_KEY_ENROLLMENT, "roles", "[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]");
	mutate_ok(fx, ML_KIND_KEY_ENROLLMENT, "roles",
		  "[\"r1\",\"r2\",\"r3\",\"r4\",\"r5\",\"r6\",\"r7\",\"r8\",\"r9\",\"r10\","
		  "\"r11\",\"r12\",\"r13\",\"r14\",\"r15\",\"r16\"]");
	mutate_bad(fx, ML_KIND_KEY_ENROLLMENT, "roles",
		   "[\"r1\",\"r2\",\"r3\",\"r4\",\"r5\",\"r6\",\"r7\",\"r8\",\"r9\",\"r10\","
		   "\"r11\",\"r12\",\"r13\",\"r14\",\"r15\",\"r16\",\"r17\"]",
		   "roles: must be a list of 1 to 16");
}

/* BUG (kept failing on purpose, see the report): check_field formats
 * e->msg into e->msg ("%s: %s", f->name, e->msg), overlapping vsnprintf
 * arguments, which is undefined; glibc garbles the text into
 * "key: key: ier key: ...". */
static void
test_vkey_error_message(void **state)
{
	struct fixture *fx = *state;

	mutate_bad(fx, ML_KIND_KEY_ENROLLMENT, "key", "\"bob+12345678+AAAA\"",
		   "key: verifier key: key is 3 bytes, want 33");
}

static void
test_encode_failures(void **state)
{
	struct fixture *fx = *state;
	struct ml_buf b = {0};
	struct ml_err e;
	uint8_t d[ML_SHA256_LEN] = {0};

	/* The predicate is stolen on every path (LeakSanitizer checks). */
	assert_int_equal(encode(ML_KIND_DEPLOYMENT, "not a ref", d,
				json_pack("{s:s, s:s}", "time", T0, "environment", "prod"), &b,
				&e),
			 ML_EINPUT);
	assert_non_null(strstr(e.msg, "is not NAME@VERSION"));
	assert_int_equal(encode(ML_KIND_DEPLOYMENT, "m@\xff", d,
				json_pack("{s:s, s:s}", "time", T0, "environment", "prod"), &b,
				&e),
			 ML_EINPUT);
	assert_int_equal(encode(ML_KIND_COUNT, "m@1", d,
				json_pack("{s:s, s:s}", "time", T0, "environment", "prod"), &b,
				&e),
			 ML_EINPUT);
	assert_non_null(strstr(e.msg, "unknown predicateType"));
	assert_int_equal(encode(ML_KIND_DEPLOYMENT, "m@1", d, json_array(), &b, &e), ML_EINPUT);
	assert_null(b.data);

	/* A subject name over 200 bytes. */
	{
		struct case_ c;
		char name[300];
		full_case(fx, ML_KIND_GENESIS, &c);
		json_decref(c.pred);
		memset(name, 'o', 201);
		name[201] = '\0';
		c.pred = json_pack("{s:s, s:i, s:s, s:s, s:s}", "time", T0, "format", 1,
				   "origin", name, "logKey", fx->log_vkey, "admin",
				   fx->alice_vkey);
		assert_int_equal(encode(ML_KIND_GENESIS, name, c.digest, c.pred, &b, &e),
				 ML_EINPUT);
		assert_non_null(strstr(e.msg, "subject must be"));
	}

	/* Appends to what out already holds. */
	ml_buf_puts(&b, "X");
	assert_int_equal(encode(ML_KIND_DEPLOYMENT, "m@1", d,
				json_pack("{s:s, s:s}", "time", T0, "environment", "prod"), &b,
				&e),
			 ML_OK);
	assert_int_equal(b.data[0], 'X');
	assert_int_equal(b.data[1], '{');
	ml_buf_free(&b);
}

/* ---- envelopes ----------------------------------------------------------- */

static void
payload_of(struct ml_buf *out)
{
	struct ml_err e;
	uint8_t d[ML_SHA256_LEN];

	tu_unhex(HEXB, d, sizeof d);
	assert_int_equal(encode(ML_KIND_DEPLOYMENT, "fraud/xgb@1.2.0", d,
				json_pack("{s:s, s:s}", "time", T0, "environment", "prod"), out,
				&e),
			 ML_OK);
}

static void
test_envelope_roundtrip(void **state)
{
	struct fixture *fx = *state;
	struct ml_buf pl = {0}, env = {0}, again = {0}, pae = {0}, want = {0};
	struct ml_envelope ev;
	struct ml_statement st;
	struct ml_err e;
	char keyid[ML_KEYID_MAX], *b64p, *b64s;

	payload_of(&pl);
	ml_err_clear(&e);
	assert_int_equal(ml_envelope_sign(fx->alice, pl.data, pl.len, &env, &e), ML_OK);

	ml_err_clear(&e);
	memset(&ev, 0, sizeof ev);
	assert_int_equal(ml_envelope_parse(env.data, env.len, &ev, &e), ML_OK);
	assert_int_equal(ev.payload_len, pl.len);
	assert_memory_equal(ev.payload, pl.data, pl.len);
	ml_pubkey_keyid(ml_seckey_public(fx->alice), keyid);
	assert_string_equal(ev.keyid, keyid);
	assert_non_null(strstr(ev.keyid, "alice+"));
	assert_true(ml_envelope_verify(&ev, ml_seckey_public(fx->alice)));

	/* The canonical form of FORMAT.md §3, byte for byte. */
	b64p = ml_b64_encode(pl.data, pl.len);
	b64s = ml_b64_encode(ev.sig, ML_SIG_LEN);
	ml_buf_printf(&want,
		      "{\"payload\":\"%s\",\"payloadType\":\"application/vnd.in-toto+json\","
		      "\"signatures\":[{\"keyid\":\"%s\",\"sig\":\"%s\"}]}",
		      b64p, keyid, b64s);
	assert_int_equal(env.len, want.len);
	assert_memory_equal(env.data, want.data, env.len);
	free(b64p);
	free(b64s);

	/* Re-encoding the parsed envelope gives the same bytes. */
	assert_int_equal(ml_envelope_encode(&ev, &again, &e), ML_OK);
	assert_int_equal(again.len, env.len);
	assert_memory_equal(again.data, env.data, env.len);

	/* The signature is plain Ed25519 over the PAE (checked with libsodium
	 * directly, not through the module). */
	ml_buf_printf(&pae, "DSSEv1 28 application/vnd.in-toto+json %zu ", pl.len);
	ml_buf_append(&pae, pl.data, pl.len);
	assert_int_equal(crypto_sign_verify_detached(ev.sig, pae.data, pae.len,
						     ml_seckey_public(fx->alice)->pk),
			 0);
	/* Ed25519 is deterministic: signing again gives the same envelope. */
	ml_buf_free(&again);
	assert_int_equal(ml_envelope_sign(fx->alice, pl.data, pl.len, &again, &e), ML_OK);
	assert_int_equal(again.len, env.len);
	assert_memory_equal(again.data, env.data, env.len);

	/* The payload is a valid statement. */
	assert_int_equal(ml_statement_parse(ev.payload, ev.payload_len, &st, &e), ML_OK);
	assert_int_equal(st.kind, ML_KIND_DEPLOYMENT);
	ml_statement_free(&st);

	ml_envelope_clear(&ev);
	assert_null(ev.payload);
	assert_int_equal(ev.payload_len, 0);
	ml_envelope_clear(&ev);
	ml_envelope_clear(NULL);
	ml_buf_free(&pl);
	ml_buf_free(&env);
	ml_buf_free(&again);
	ml_buf_free(&pae);
	ml_buf_free(&want);
}

/* ml_envelope_sign_parts writes what ml_envelope_sign writes, appends to
 * out, fills the parsed form (payload borrowed) and reuses its scratch
 * buffer; over the size limit it refuses, as ml_envelope_sign does. */
static void
test_envelope_sign_parts(void **state)
{
	struct fixture *fx = *state;
	struct ml_buf pl = {0}, want = {0}, out = {0}, pae = {0}, big = {0};
	struct ml_envelope ev, parsed;
	struct ml_err e;
	char keyid[ML_KEYID_MAX];
	int round;

	payload_of(&pl);
	ml_err_clear(&e);
	assert_int_equal(ml_envelope_sign(fx->alice, pl.data, pl.len, &want, &e), ML_OK);
	ml_buf_append(&out, "x", 1);
	for (round = 0; round < 2; round++) { /* the second reuses pae */
		out.len = 1;
		assert_int_equal(ml_envelope_sign_parts(fx->alice, pl.data, pl.len, &pae, &ev,
							&out, &e), ML_OK);
		assert_int_equal(out.len, 1 + want.len);
		assert_memory_equal(out.data, "x", 1);
		assert_memory_equal(out.data + 1, want.data, want.len);
		assert_ptr_equal(ev.payload, pl.data);
		assert_int_equal(ev.payload_len, pl.len);
		assert_int_equal(ev.nco, 0);
		assert_null(ev.co);
		ml_pubkey_keyid(ml_seckey_public(fx->alice), keyid);
		assert_string_equal(ev.keyid, keyid);
		assert_true(ml_envelope_verify(&ev, ml_seckey_public(fx->alice)));
		memset(&parsed, 0, sizeof parsed);
		assert_int_equal(ml_envelope_parse(want.data, want.len, &parsed, &e), ML_OK);
		assert_memory_equal(parsed.sig, ev.sig, ML_SIG_LEN);
		ml_envelope_clear(&parsed);
	}
	/* Over the limit: ML_EINPUT, nothing signed. */
	{
		char *a = malloc((size_t)ML_MAX_STATEMENT + 1);
		assert_non_null(a);
		memset(a, 'a', (size_t)ML_MAX_STATEMENT + 1);
		ml_buf_append(&big, a, (size_t)ML_MAX_STATEMENT + 1);
		free(a);
		assert_false(big.oom);
	}
	out.len = 0;
	ml_err_clear(&e);
	assert_int_equal(ml_envelope_sign_parts(fx->alice, big.data, big.len, &pae, &ev, &out,
						&e), ML_EINPUT);
	assert_int_equal(e.code, ML_EINPUT);
	assert_int_equal(out.len, 0);
	ml_buf_free(&pl);
	ml_buf_free(&want);
	ml_buf_free(&out);
	ml_buf_free(&pae);
	ml_buf_free(&big);
}

/* Envelope text from parts: payload b64, payloadType, signatures JSON. */
static char *
env_text(const char *payload, const char *type, const char *sigs, const char *extra)
{
	size_t n = strlen(payload) + strlen(type) + strlen(sigs) + strlen(extra) + 100;
	char *s = malloc(n);

	snprintf(s, n, "{\"payload\":\"%s\",\"payloadType\":\"%s\",\"signatures\":%s%s}",
		 payload, type, sigs, extra);
	return s;
}

static void
env_bad_len(const char *text, size_t len, const char *needle)
{
	struct ml_envelope ev;
	struct ml_err e;
	int rc;

	memset(&ev, 0x5a, sizeof ev);
	ml_err_clear(&e);
	rc = ml_envelope_parse((const uint8_t *)text, len, &ev, &e);
	if (rc != ML_EINPUT || (needle && !strstr(e.msg, needle)))
		print_error("envelope [%.300s]: rc %d [%s] (want [%s])\n", text, rc, e.msg,
			    needle ? needle : "");
	assert_int_equal(rc, ML_EINPUT);
	assert_int_equal(e.code, ML_EINPUT);
	if (needle)
		assert_non_null(strstr(e.msg, needle));
	assert_int_equal(ev.payload_len, (size_t)0x5a5a5a5a5a5a5a5aULL); /* untouched */
}

static void
env_bad(char *text, const char *needle)
{
	env_bad_len(text, strlen(text), needle);
	free(text);
}

static void
test_envelope_parse_negatives(void **state)
{
	struct fixture *fx = *state;
	struct ml_buf pl = {0};
	char keyid[ML_KEYID_MAX], sig1[300], sigs[700], *p64, *s64, *s63, *s65;
	uint8_t sig[ML_SIG_LEN + 1];

	payload_of(&pl);
	p64 = ml_b64_encode(pl.data, pl.len);
	ml_pubkey_keyid(ml_seckey_public(fx->alice), keyid);
	memset(sig, 7, sizeof sig);
	s64 = ml_b64_encode(sig, 64);
	s63 = ml_b64_encode(sig, 63);
	s65 = ml_b64_encode(sig, 65);
	snprintf(sig1, sizeof sig1, "{\"keyid\":\"%s\",\"sig\":\"%s\"}", keyid, s64);

	/* The well-formed one parses (signature validity is verify's job). */
	{
		struct ml_envelope ev;
		struct ml_err e;
		char *t;
		snprintf(sigs, sizeof sigs, "[%s]", sig1);
		t = env_text(p64, ML_PAYLOAD_TYPE, sigs, "");
		assert_int_equal(ml_envelope_parse((uint8_t *)t, strlen(t), &ev, &e), ML_OK);
		assert_false(ml_envelope_verify(&ev, ml_seckey_public(fx->alice)));
		ml_envelope_clear(&ev);
		free(t);
	}

	/* Zero signatures, or one key's twice (FORMAT.md §3: 1-16, distinct). */
	env_bad(env_text(p64, ML_PAYLOAD_TYPE, "[]", ""), "1 to 16 signatures");
	snprintf(sigs, sizeof sigs, "[%s,%s]", sig1, sig1);
	env_bad(env_text(p64, ML_PAYLOAD_TYPE, sigs, ""), "repeats the keyid");
	env_bad(env_text(p64, ML_PAYLOAD_TYPE, sig1, ""), "not a DSSE envelope");
	/* Wrong payloadType. */
	snprintf(sigs, sizeof sigs, "[%s]", sig1);
	env_bad(env_text(p64, "application/json", sigs, ""), "payloadType must be");
	env_bad(env_text(p64, "application/vnd.in-toto+json ", sigs, ""), "payloadType must be");
	env_bad(env_text(p64, "", sigs, ""), "payloadType must be");
	/* Extra or missing members. */
	env_bad(env_text(p64, ML_PAYLOAD_TYPE, sigs, ",\"x\":1"), "not a DSSE envelope");
	{
		char t[2000];
		snprintf(t, sizeof t, "{\"payload\":\"%s\",\"signatures\":%s}", p64, sigs);
		env_bad_len(t, strlen(t), "not a DSSE envelope");
		snprintf(t, sizeof t, "{\"payload\":7,\"payloadType\":\"%s\",\"signatures\":%s}",
			 ML_PAYLOAD_TYPE, sigs);
		env_bad_len(t, strlen(t), "not a DSSE envelope");
		snprintf(t, sizeof t, "{\"payload\":\"%s\",\"payloadType\":\"%s\",\"payload\":\"%s\"}",
			 p64, ML_PAYLOAD_TYPE, p64);
		env_bad_len(t, strlen(t), "bad JSON");
		env_bad_len("", 0, "bad JSON");
		env_bad_len("[]", 2, "not a DSSE envelope");
	}
	/* Bad base64 payload: characters, padding, white space, unpadded. */
	env_bad(env_text("not base64!", ML_PAYLOAD_TYPE, sigs, ""), "payload is not standard base64");
	env_bad(env_text("Zh==", ML_PAYLOAD_TYPE, sigs, ""), "payload is not standard base64");
	env_bad(env_text("Zm9v\\nYmFy", ML_PAYLOAD_TYPE, sigs, ""), "payload is not standard");
	env_bad(env_text("Zg", ML_PAYLOAD_TYPE, sigs, ""), "payload is not standard base64");
	env_bad(env_text("Zm9-", ML_PAYLOAD_TYPE, sigs, ""), "payload is not standard base64");
	/* Signatures of 63 or 65 bytes, non-canonical, missing, not a string. */
	snprintf(sigs, sizeof sigs, "[{\"keyid\":\"%s\",\"sig\":\"%s\"}]", keyid, s63);
	env_bad(env_text(p64, ML_PAYLOAD_TYPE, sigs, ""), "base64 of 64 bytes");
	snprintf(sigs, sizeof sigs, "[{\"keyid\":\"%s\",\"sig\":\"%s\"}]", keyid, s65);
	env_bad(env_text(p64, ML_PAYLOAD_TYPE, sigs, ""), "base64 of 64 bytes");
	{
		char nc[100];
		snprintf(nc, sizeof nc, "%s", s64);
		assert_int_equal(nc[85], 'w'); /* 0x07 -> last char 'w' then "==" */
		nc[85] = 'x';                  /* same value, padding bits set */
		snprintf(sigs, sizeof sigs, "[{\"keyid\":\"%s\",\"sig\":\"%s\"}]", keyid, nc);
		env_bad(env_text(p64, ML_PAYLOAD_TYPE, sigs, ""), "base64 of 64 bytes");
	}
	snprintf(sigs, sizeof sigs, "[{\"keyid\":\"%s\"}]", keyid);
	env_bad(env_text(p64, ML_PAYLOAD_TYPE, sigs, ""), "signature must be");
	snprintf(sigs, sizeof sigs, "[{\"keyid\":\"%s\",\"sig\":64}]", keyid);
	env_bad(env_text(p64, ML_PAYLOAD_TYPE, sigs, ""), "signature must be");
	snprintf(sigs, sizeof sigs, "[{\"keyid\":\"%s\",\"sig\":\"%s\",\"x\":1}]", keyid, s64);
	env_bad(env_text(p64, ML_PAYLOAD_TYPE, sigs, ""), "signature must be");
	snprintf(sigs, sizeof sigs, "[\"%s\"]", s64);
	env_bad(env_text(p64, ML_PAYLOAD_TYPE, sigs, ""), "signature must be");
	/* keyids: no +hash, bad hash, bad name. */
	{
		static const char *const bad_ids[] = {
			"alice", "alice+", "alice+1234567", "alice+123456789", "alice+ABCDEF12",
			"alice+1234567g", "+12345678", "al ice+12345678", "alice+12345678+",
			"alice+1234+5678", "",
			/* outside FORMAT.md §1's names (found by fuzz_envelope: such a
			 * keyid could not be re-encoded canonically) */
			"\\\\admin+a4cc1f83", "ali\\\"ce+12345678", "al~ice+12345678",
			"al@ice+12345678", "al\\u00e9ice+12345678",
		};
		size_t i;
		for (i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
			snprintf(sigs, sizeof sigs, "[{\"keyid\":\"%s\",\"sig\":\"%s\"}]",
				 bad_ids[i], s64);
			env_bad(env_text(p64, ML_PAYLOAD_TYPE, sigs, ""), "keyid");
		}
		snprintf(sigs, sizeof sigs, "[{\"keyid\":7,\"sig\":\"%s\"}]", s64);
		env_bad(env_text(p64, ML_PAYLOAD_TYPE, sigs, ""), "keyid");
	}
	{
		/* An origin names the log key (FORMAT.md §1): its keyid parses. */
		struct ml_envelope ev;
		struct ml_err e;
		char *t;
		snprintf(sigs, sizeof sigs, "[{\"keyid\":\"ex.org/a:b_c-1+12345678\",\"sig\":\"%s\"}]",
			 s64);
		t = env_text(p64, ML_PAYLOAD_TYPE, sigs, "");
		assert_int_equal(ml_envelope_parse((uint8_t *)t, strlen(t), &ev, &e), ML_OK);
		ml_envelope_clear(&ev);
		free(t);
	}
	{
		/* A keyid longer than any key name. */
		char longid[200];
		memset(longid, 'k', 129);
		strcpy(longid + 129, "+12345678");
		snprintf(sigs, sizeof sigs, "[{\"keyid\":\"%s\",\"sig\":\"%s\"}]", longid, s64);
		env_bad(env_text(p64, ML_PAYLOAD_TYPE, sigs, ""), "keyid");
	}
	/* Over 1 MiB. */
	{
		char *big = malloc(ML_MAX_ENVELOPE + 1);
		memset(big, ' ', ML_MAX_ENVELOPE + 1);
		env_bad_len(big, ML_MAX_ENVELOPE + 1, "larger than");
		free(big);
	}
	free(p64);
	free(s64);
	free(s63);
	free(s65);
	ml_buf_free(&pl);
}

static void
test_envelope_forgeries(void **state)
{
	struct fixture *fx = *state;
	struct ml_buf pl = {0}, env = {0};
	struct ml_envelope ev, bobs;
	struct ml_err e;
	const struct ml_pubkey *alice = ml_seckey_public(fx->alice);
	const struct ml_pubkey *bob = ml_seckey_public(fx->bob);
	struct ml_pubkey renamed;
	char bob_id[ML_KEYID_MAX];
	size_t i;

	payload_of(&pl);
	assert_int_equal(ml_envelope_sign(fx->alice, pl.data, pl.len, &env, &e), ML_OK);
	assert_int_equal(ml_envelope_parse(env.data, env.len, &ev, &e), ML_OK);
	assert_true(ml_envelope_verify(&ev, alice));

	/* Another key: refused. */
	assert_false(ml_envelope_verify(&ev, bob));

	/* Any flipped payload byte breaks the signature. */
	for (i = 0; i < ev.payload_len; i += 7) {
		ev.payload[i] ^= 0x01;
		assert_false(ml_envelope_verify(&ev, alice));
		ev.payload[i] ^= 0x01;
	}
	/* A truncated payload, and an empty one. */
	ev.payload_len--;
	assert_false(ml_envelope_verify(&ev, alice));
	ev.payload_len = 0;
	assert_false(ml_envelope_verify(&ev, alice));
	ev.payload_len = pl.len;
	assert_true(ml_envelope_verify(&ev, alice));
	/* Flipped signature bits. */
	for (i = 0; i < ML_SIG_LEN; i += 5) {
		ev.sig[i] ^= 0x80;
		assert_false(ml_envelope_verify(&ev, alice));
		ev.sig[i] ^= 0x80;
	}
	assert_true(ml_envelope_verify(&ev, alice));

	/* The keyid names another key: refused even with the right public key. */
	ml_pubkey_keyid(bob, bob_id);
	memcpy(ev.keyid, bob_id, strlen(bob_id) + 1);
	assert_false(ml_envelope_verify(&ev, alice));
	assert_false(ml_envelope_verify(&ev, bob));
	/* Same public key under another name (so another keyid): refused. */
	ml_pubkey_keyid(alice, ev.keyid);
	renamed = *alice;
	snprintf(renamed.name, sizeof renamed.name, "mallory");
	renamed.hash = ml_key_hash(renamed.name, renamed.pk);
	assert_false(ml_envelope_verify(&ev, &renamed));
	/* The keyid's hash differs, the name is the same. */
	{
		char *plus = strrchr(ev.keyid, '+');
		plus[1] = plus[1] == '0' ? '1' : '0';
		assert_false(ml_envelope_verify(&ev, alice));
	}

	/* Bob signs, then claims to be alice: refused by alice's key. */
	ml_buf_free(&env);
	assert_int_equal(ml_envelope_sign(fx->bob, pl.data, pl.len, &env, &e), ML_OK);
	assert_int_equal(ml_envelope_parse(env.data, env.len, &bobs, &e), ML_OK);
	assert_true(ml_envelope_verify(&bobs, bob));
	ml_pubkey_keyid(alice, bobs.keyid);
	assert_false(ml_envelope_verify(&bobs, alice));

	/* A signature moved to another payload. */
	memcpy(ev.sig, bobs.sig, ML_SIG_LEN);
	ml_pubkey_keyid(bob, ev.keyid);
	assert_true(ml_envelope_verify(&ev, bob)); /* same payload: fine */
	ev.payload[ev.payload_len - 2] ^= 0x20;
	assert_false(ml_envelope_verify(&ev, bob));

	ml_envelope_clear(&ev);
	ml_envelope_clear(&bobs);
	ml_buf_free(&env);
	ml_buf_free(&pl);
}

/* parse_canonical (the fast path for mlledger's own encoding) and the
 * general JSON path must agree: equivalent spellings give the same result. */
static void
env_same(const char *text, const struct ml_envelope *want)
{
	struct ml_envelope ev;
	struct ml_err e;

	ml_err_clear(&e);
	if (ml_envelope_parse((const uint8_t *)text, strlen(text), &ev, &e) != ML_OK)
		print_error("refused [%.300s]: %s\n", text, e.msg);
	assert_int_equal(e.code, ML_OK);
	assert_int_equal(ev.payload_len, want->payload_len);
	assert_memory_equal(ev.payload, want->payload, want->payload_len);
	assert_string_equal(ev.keyid, want->keyid);
	assert_memory_equal(ev.sig, want->sig, ML_SIG_LEN);
	ml_envelope_clear(&ev);
}

static void
test_envelope_spellings(void **state)
{
	struct fixture *fx = *state;
	struct ml_buf pl = {0}, env = {0};
	struct ml_envelope ev;
	struct ml_err e;
	char *p64, *s64, *t;
	size_t n;

	payload_of(&pl);
	assert_int_equal(ml_envelope_sign(fx->alice, pl.data, pl.len, &env, &e), ML_OK);
	assert_int_equal(ml_envelope_parse(env.data, env.len, &ev, &e), ML_OK);
	p64 = ml_b64_encode(ev.payload, ev.payload_len);
	s64 = ml_b64_encode(ev.sig, ML_SIG_LEN);
	n = strlen(p64) + strlen(s64) + 400;
	t = malloc(n);

	/* Canonical, then white space, reordered members, escapes. */
	snprintf(t, n, "%.*s", (int)env.len, (char *)env.data);
	env_same(t, &ev);
	snprintf(t, n, "%.*s\n", (int)env.len, (char *)env.data);
	env_same(t, &ev);
	snprintf(t, n,
		 "{ \"payload\" : \"%s\",\n \"payloadType\": \"%s\",\n \"signatures\": "
		 "[ { \"keyid\": \"%s\", \"sig\": \"%s\" } ] }",
		 p64, ML_PAYLOAD_TYPE, ev.keyid, s64);
	env_same(t, &ev);
	snprintf(t, n,
		 "{\"signatures\":[{\"sig\":\"%s\",\"keyid\":\"%s\"}],\"payloadType\":\"%s\","
		 "\"payload\":\"%s\"}",
		 s64, ev.keyid, ML_PAYLOAD_TYPE, p64);
	env_same(t, &ev);
	snprintf(t, n,
		 "{\"payload\":\"%s\",\"payloadType\":\"application\\/vnd.in-toto+json\","
		 "\"signatures\":[{\"keyid\":\"\\u0061%s\",\"sig\":\"%s\"}]}",
		 p64, ev.keyid + 1, s64);
	env_same(t, &ev);
	/* A payload character written as a JSON \\u escape. */
	snprintf(t, n,
		 "{\"payload\":\"\\u%04x%s\",\"payloadType\":\"%s\",\"signatures\":"
		 "[{\"keyid\":\"%s\",\"sig\":\"%s\"}]}",
		 (unsigned)p64[0], p64 + 1, ML_PAYLOAD_TYPE, ev.keyid, s64);
	env_same(t, &ev);

	/* Canonical-looking text that is not an envelope still fails. */
	snprintf(t, n, "%.*s}", (int)env.len, (char *)env.data);
	env_bad_len(t, strlen(t), "bad JSON");
	snprintf(t, n, "%.*s", (int)env.len - 1, (char *)env.data);
	env_bad_len(t, strlen(t), "bad JSON");
	snprintf(t, n,
		 "{\"payload\":\"%s\",\"payloadType\":\"%s\",\"signatures\":"
		 "[{\"keyid\":\"%s\",\"sig\":\"%s\"}],\"payload\":\"%s\"}",
		 p64, ML_PAYLOAD_TYPE, ev.keyid, s64, p64);
	env_bad_len(t, strlen(t), "bad JSON"); /* duplicate member after it */
	snprintf(t, n,
		 "{\"payload\":\"%s\",\"payloadType\":\"%s\",\"signatures\":"
		 "[{\"keyid\":\"%s\",\"sig\":\"%s\"}]}",
		 p64, ML_PAYLOAD_TYPE, "alice+ABCDEF12", s64);
	env_bad_len(t, strlen(t), "keyid");

	free(t);
	free(p64);
	free(s64);
	ml_envelope_clear(&ev);
	ml_buf_free(&env);
	ml_buf_free(&pl);
}

static void
test_envelope_sign_limits(void **state)
{
	struct fixture *fx = *state;
	struct ml_seckey *odd = NULL;
	struct ml_buf out = {0};
	struct ml_err e;
	uint8_t seed[32] = {9}, *big;

	/* Payloads over half the envelope limit are refused. */
	big = calloc(1, ML_MAX_STATEMENT + 1);
	ml_err_clear(&e);
	assert_int_equal(ml_envelope_sign(fx->alice, big, ML_MAX_STATEMENT + 1, &out, &e),
			 ML_EINPUT);
	assert_non_null(strstr(e.msg, "larger than"));
	assert_null(out.data);
	free(big);

	/* A C2SP name that cannot be written unescaped into JSON is refused
	 * rather than producing broken JSON. */
	assert_int_equal(ml_seckey_from_seed("a\"b", seed, &odd, &e), ML_OK);
	ml_err_clear(&e);
	assert_int_equal(ml_envelope_sign(odd, (const uint8_t *)"{}", 2, &out, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "key name"));
	ml_seckey_free(odd);
	ml_buf_free(&out);
}

/* BUG (kept failing on purpose, see the report): verify.c and cli_query.c
 * call ml_statement_parse(..., NULL), but a predicate member that fails its
 * check makes check_predicate/check_scalars/check_field read e->code or
 * e->msg through the NULL pointer: a tampered ledger crashes
 * `mlledger verify` instead of being reported.  Last test: it may abort. */
static void
test_parse_null_err(void **state)
{
	struct ml_statement st;
	char *s;

	(void)state;
	/* Failures before the predicate are fine with e == NULL... */
	assert_int_equal(ml_statement_parse((const uint8_t *)"{}", 2, &st, NULL), ML_EINPUT);
	/* ...and so must be a bad predicate member. */
	s = stmt(GOOD_TYPE, GOOD_SUBJ, DEPLOY,
		 "{\"time\":\"" T0 "\",\"environment\":\"not valid\"}");
	assert_int_equal(ml_statement_parse((const uint8_t *)s, strlen(s), &st, NULL),
			 ML_EINPUT);
	free(s);
}

/* FORMAT.md §3: 1-16 signatures, distinct keyids, the author first and
 * countersignatures in the order added; the canonical form lists them all;
 * every one must verify. */
static void
test_envelope_countersignatures(void **state)
{
	struct fixture *fx = *state;
	const struct ml_pubkey *alice = ml_seckey_public(fx->alice), *bob = ml_seckey_public(fx->bob);
	struct ml_buf pl = {0}, one = {0}, two = {0}, again = {0}, want = {0}, bad = {0};
	struct ml_envelope e1, e2, e3;
	struct ml_pubkey co[2];
	struct ml_err e;
	char ka[ML_KEYID_MAX], kb[ML_KEYID_MAX], *p64, *sa, *sb, *t;
	const char *which = NULL;
	size_t i;

	payload_of(&pl);
	ml_err_clear(&e);
	ml_pubkey_keyid(alice, ka);
	ml_pubkey_keyid(bob, kb);
	assert_int_equal(ml_envelope_sign(fx->alice, pl.data, pl.len, &one, &e), ML_OK);
	assert_int_equal(ml_envelope_parse(one.data, one.len, &e1, &e), ML_OK);
	assert_int_equal(e1.nco, 0);
	assert_null(e1.co);
	/* bob countersigns: two signatures, alice's first */
	assert_int_equal(ml_envelope_countersign(&e1, fx->bob, &two, &e), ML_OK);
	assert_int_equal(ml_envelope_parse(two.data, two.len, &e2, &e), ML_OK);
	assert_int_equal(e2.nco, 1);
	assert_string_equal(e2.keyid, ka);
	assert_string_equal(e2.co[0].keyid, kb);
	assert_memory_equal(e2.sig, e1.sig, ML_SIG_LEN);
	/* the canonical form, byte for byte */
	p64 = ml_b64_encode(pl.data, pl.len);
	sa = ml_b64_encode(e2.sig, ML_SIG_LEN);
	sb = ml_b64_encode(e2.co[0].sig, ML_SIG_LEN);
	ml_buf_printf(&want, "{\"payload\":\"%s\",\"payloadType\":\"application/vnd.in-toto+json\","
		      "\"signatures\":[{\"keyid\":\"%s\",\"sig\":\"%s\"},{\"keyid\":\"%s\","
		      "\"sig\":\"%s\"}]}", p64, ka, sa, kb, sb);
	assert_int_equal(two.len, want.len);
	assert_memory_equal(two.data, want.data, want.len);
	assert_int_equal(ml_envelope_encode(&e2, &again, &e), ML_OK);
	assert_int_equal(again.len, two.len);
	assert_memory_equal(again.data, two.data, two.len);
	/* the same through the general JSON parser (white space, order) */
	assert_non_null(t = malloc(two.len + 64));
	snprintf(t, two.len + 64, "{ \"signatures\": [{\"sig\":\"%s\",\"keyid\":\"%s\"}, "
		 "{\"keyid\":\"%s\",\"sig\":\"%s\"}], \"payloadType\": \"%s\", \"payload\": "
		 "\"%s\" }", sa, ka, kb, sb, ML_PAYLOAD_TYPE, p64);
	assert_int_equal(ml_envelope_parse((uint8_t *)t, strlen(t), &e3, &e), ML_OK);
	assert_int_equal(e3.nco, 1);
	assert_string_equal(e3.co[0].keyid, kb);
	assert_memory_equal(e3.co[0].sig, e2.co[0].sig, ML_SIG_LEN);
	ml_envelope_clear(&e3);
	free(t);
	/* every signature verifies, each with its own key */
	co[0] = *bob;
	assert_true(ml_envelope_verify(&e2, alice));
	assert_true(ml_envelope_verify_all(&e2, alice, co, &which));
	co[0] = *alice;
	assert_false(ml_envelope_verify_all(&e2, alice, co, &which));
	assert_string_equal(which, kb);
	co[0] = *bob;
	e2.co[0].sig[3] ^= 1;
	assert_false(ml_envelope_verify_all(&e2, alice, co, &which));
	assert_string_equal(which, kb);
	e2.co[0].sig[3] ^= 1;
	e2.sig[3] ^= 1;
	assert_false(ml_envelope_verify_all(&e2, alice, co, &which));
	assert_string_equal(which, ka);
	e2.sig[3] ^= 1;
	/* a key signs once: neither the author nor bob again */
	assert_int_equal(ml_envelope_countersign(&e2, fx->bob, &bad, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "already countersigned"));
	assert_int_equal(ml_envelope_countersign(&e2, fx->alice, &bad, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "as its author"));
	/* 16 signatures parse, 17 do not; a repeated keyid in the canonical
	 * form is named too */
	ml_buf_free(&want);
	ml_buf_printf(&want, "{\"payload\":\"%s\",\"payloadType\":\"%s\",\"signatures\":[", p64,
		      ML_PAYLOAD_TYPE);
	for (i = 0; i < 17; i++) {
		ml_buf_printf(&want, "%s{\"keyid\":\"k%zu+0000000%zx\",\"sig\":\"%s\"}",
			      i ? "," : "", i, i % 16, sa);
		if (i == 15) {
			ml_buf_free(&bad);
			ml_buf_append(&bad, want.data, want.len);
			ml_buf_append(&bad, "]}", 2);
			assert_int_equal(ml_envelope_parse(bad.data, bad.len, &e3, &e), ML_OK);
			assert_int_equal(e3.nco, 15);
			ml_envelope_clear(&e3);
		}
	}
	ml_buf_append(&want, "]}", 2);
	assert_int_equal(ml_envelope_parse(want.data, want.len, &e3, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "1 to 16 signatures"));
	ml_buf_free(&bad);
	ml_buf_printf(&bad, "{\"payload\":\"%s\",\"payloadType\":\"%s\",\"signatures\":["
		      "{\"keyid\":\"%s\",\"sig\":\"%s\"},{\"keyid\":\"%s\",\"sig\":\"%s\"}]}",
		      p64, ML_PAYLOAD_TYPE, ka, sa, ka, sb);
	assert_int_equal(ml_envelope_parse(bad.data, bad.len, &e3, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "signature 2 repeats the keyid"));
	free(p64);
	free(sa);
	free(sb);
	ml_envelope_clear(&e1);
	ml_envelope_clear(&e2);
	ml_buf_free(&pl);
	ml_buf_free(&one);
	ml_buf_free(&two);
	ml_buf_free(&again);
	ml_buf_free(&want);
	ml_buf_free(&bad);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref_split),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_policy_uri_seq),
		cmocka_unit_test(test_retry_same_content),
		cmocka_unit_test(test_report_members),
		cmocka_unit_test(test_dsse_pae),
		cmocka_unit_test(test_roundtrip_all_kinds),
		cmocka_unit_test(test_encode_golden),
		cmocka_unit_test(test_optional_and_required_members),
		cmocka_unit_test(test_parse_envelope_shape),
		cmocka_unit_test(test_parse_subject),
		cmocka_unit_test(test_parse_predicate_type),
		cmocka_unit_test(test_gate_members),
		cmocka_unit_test(test_predicate_wrong_types),
		cmocka_unit_test(test_predicate_text_rules),
		cmocka_unit_test(test_parse_raw_bytes),
		cmocka_unit_test(test_artifact_rules),
		cmocka_unit_test(test_key_and_genesis_subjects),
		cmocka_unit_test(test_vkey_error_message),
		cmocka_unit_test(test_encode_failures),
		cmocka_unit_test(test_envelope_roundtrip),
		cmocka_unit_test(test_envelope_sign_parts),
		cmocka_unit_test(test_envelope_parse_negatives),
		cmocka_unit_test(test_envelope_forgeries),
		cmocka_unit_test(test_envelope_spellings),
		cmocka_unit_test(test_envelope_sign_limits),
		cmocka_unit_test(test_envelope_countersignatures),
		cmocka_unit_test(test_idempotency_key),
		cmocka_unit_test(test_origin_and_claims),
		cmocka_unit_test(test_parse_null_err), /* last: crashes today */
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
