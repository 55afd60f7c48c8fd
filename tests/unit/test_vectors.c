/* The test vectors of ledger/FORMAT.md §9, byte for byte. */
#include "testutil.h"

#include <sodium.h>

#include "chain.h"
#include "decision.h"
#include "findings.h"
#include "keys.h"
#include "request.h"
#include "statement.h"

static const char seed_hex[] =
	"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char vkey[] = "alice+d32c1872+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea";
static const char signer[] =
	"PRIVATE+KEY+alice+d32c1872+AZ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n";
static const char statement[] =
	"{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":"
	"\"fraud-detector@3.1.0\",\"digest\":{\"sha256\":"
	"\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"}}],"
	"\"predicateType\":\"https://mlledger.dev/approval/v1\",\"predicate\":{"
	"\"environment\":\"prod\",\"decision\":\"approve\",\"comment\":\"validated\","
	"\"time\":\"2026-10-01T12:00:00Z\"}}";
static const char envelope[] =
	"{\"payload\":\"eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEiLCJzdWJqZWN0Ijpb"
	"eyJuYW1lIjoiZnJhdWQtZGV0ZWN0b3JAMy4xLjAiLCJkaWdlc3QiOnsic2hhMjU2IjoiYmE3ODE2YmY4ZjAx"
	"Y2ZlYTQxNDE0MGRlNWRhZTIyMjNiMDAzNjFhMzk2MTc3YTljYjQxMGZmNjFmMjAwMTVhZCJ9fV0sInByZWRp"
	"Y2F0ZVR5cGUiOiJodHRwczovL21sbGVkZ2VyLmRldi9hcHByb3ZhbC92MSIsInByZWRpY2F0ZSI6eyJlbnZp"
	"cm9ubWVudCI6InByb2QiLCJkZWNpc2lvbiI6ImFwcHJvdmUiLCJjb21tZW50IjoidmFsaWRhdGVkIiwidGlt"
	"ZSI6IjIwMjYtMTAtMDFUMTI6MDA6MDBaIn19\",\"payloadType\":\"application/vnd.in-toto+json\","
	"\"signatures\":[{\"keyid\":\"alice+d32c1872\",\"sig\":\"zgTHPtO2ZEMPzN9F0PftXyrlmz89KicID0"
	"naUX7XsBZSEf91dm7inj5bRdgj2emeTL2sH9kqS9cDsUxVLA3+Dw==\"}]}";
static const char leaf_header_hex[] =
	"010000000000000005000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	"00065bfeda27c24000000282";
static const char leaf_hash_hex[] =
	"57df08966f5f1dc8ca3f6365c84eeed52da6bec50a06ffee464e9fec7cc60a92";

static struct ml_seckey *
alice(void)
{
	uint8_t seed[32];
	struct ml_seckey *k = NULL;
	struct ml_err e;

	tu_unhex(seed_hex, seed, sizeof seed);
	assert_int_equal(ml_seckey_from_seed("alice", seed, &k, &e), ML_OK);
	return k;
}

static void
test_key_encodings(void **state)
{
	struct ml_seckey *k = alice();
	char line[ML_VKEY_MAX], keyid[ML_KEYID_MAX], *text = NULL;
	uint8_t pk[32];
	struct ml_err e;

	(void)state;
	tu_unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", pk, 32);
	assert_memory_equal(ml_seckey_public(k)->pk, pk, 32);
	ml_pubkey_format(ml_seckey_public(k), line);
	assert_string_equal(line, vkey);
	ml_pubkey_keyid(ml_seckey_public(k), keyid);
	assert_string_equal(keyid, "alice+d32c1872");
	assert_int_equal(ml_seckey_encode(k, NULL, &text, &e), ML_OK);
	assert_string_equal(text, signer);
	sodium_free(text);
	ml_seckey_free(k);
}

static void
test_statement_bytes(void **state)
{
	json_t *req = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "kind", "approval", "subject",
				"fraud-detector@3.1.0", "digest",
				"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
				"environment", "prod", "decision", "approve", "comment", "validated",
				"time", "2026-10-01T12:00:00Z");
	struct ml_buf p = {0};
	enum ml_kind kind;
	struct ml_err e;

	(void)state;
	assert_int_equal(ml_request_build(req, NULL, NULL, 0, &kind, &p, &e), ML_OK);
	assert_int_equal(kind, ML_KIND_APPROVAL);
	assert_int_equal(p.len, 333);
	assert_memory_equal(p.data, statement, p.len);
	json_decref(req);
	ml_buf_free(&p);
}

static void
test_pae(void **state)
{
	struct ml_buf pae = {0};
	uint8_t h[32], want[32];

	(void)state;
	ml_dsse_pae("http://example.com/HelloWorld", (const uint8_t *)"hello world", 11, &pae);
	assert_int_equal(pae.len, strlen("DSSEv1 29 http://example.com/HelloWorld 11 hello world"));
	assert_memory_equal(pae.data, "DSSEv1 29 http://example.com/HelloWorld 11 hello world",
			    pae.len);
	ml_buf_free(&pae);
	ml_dsse_pae(ML_PAYLOAD_TYPE, (const uint8_t *)statement, strlen(statement), &pae);
	assert_int_equal(pae.len, 376);
	ml_sha256(pae.data, pae.len, h);
	tu_unhex("7ffab7e655368133f9e6ba6472014360d3cf9477bfbeed8ac19b423961f1ecdc", want, 32);
	assert_memory_equal(h, want, 32);
	ml_buf_free(&pae);
}

static void
test_envelope_bytes(void **state)
{
	struct ml_seckey *k = alice();
	struct ml_buf env = {0};
	struct ml_envelope parsed;
	struct ml_err e;

	(void)state;
	assert_int_equal(ml_envelope_sign(k, (const uint8_t *)statement, strlen(statement), &env,
					  &e), ML_OK);
	assert_int_equal(env.len, 642);
	assert_memory_equal(env.data, envelope, env.len);
	assert_int_equal(ml_envelope_parse(env.data, env.len, &parsed, &e), ML_OK);
	assert_true(ml_envelope_verify(&parsed, ml_seckey_public(k)));
	parsed.payload[10] ^= 1;
	assert_false(ml_envelope_verify(&parsed, ml_seckey_public(k)));
	ml_envelope_clear(&parsed);
	ml_buf_free(&env);
	ml_seckey_free(k);
}

static void
test_leaf(void **state)
{
	struct ml_entry en, back;
	struct ml_buf leaf = {0};
	uint8_t hdr[ML_LEAF_HEADER], h[32], want[32], zero_leaf[32];
	int i;

	(void)state;
	en.seq = 5;
	for (i = 0; i < 32; i++)
		en.prev[i] = (uint8_t)i;
	en.time_us = 1790000000123456LL;
	en.envelope = (const uint8_t *)envelope;
	en.envelope_len = strlen(envelope);
	ml_leaf_encode(&en, &leaf);
	assert_int_equal(leaf.len, 695);
	tu_unhex(leaf_header_hex, hdr, sizeof hdr);
	assert_memory_equal(leaf.data, hdr, sizeof hdr);
	assert_memory_equal(leaf.data + ML_LEAF_HEADER, envelope, en.envelope_len);
	ml_leaf_hash(&en, h);
	tu_unhex(leaf_hash_hex, want, 32);
	assert_memory_equal(h, want, 32);
	/* decode gives back the same fields; a short or mislabelled leaf fails */
	assert_int_equal(ml_leaf_decode(leaf.data, leaf.len, &back), 0);
	assert_int_equal(back.seq, 5);
	assert_int_equal(back.time_us, en.time_us);
	assert_memory_equal(back.prev, en.prev, 32);
	assert_int_equal(back.envelope_len, en.envelope_len);
	assert_int_equal(ml_leaf_decode(leaf.data, leaf.len - 1, &back), ML_EINPUT);
	leaf.data[0] = 0x02;
	assert_int_equal(ml_leaf_decode(leaf.data, leaf.len, &back), ML_EINPUT);
	ml_buf_free(&leaf);
	/* RFC 6962: the hash of the empty leaf is SHA-256(0x00) */
	ml_sha256("\0", 1, h);
	tu_unhex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", zero_leaf,
		 32);
	assert_memory_equal(h, zero_leaf, 32);
}

static void
test_leaf_large_envelope(void **state)
{
	/* Above the one-shot size, the streaming path must give the same hash
	 * as hashing 0x00 || leaf bytes. */
	struct ml_entry en = {0};
	struct ml_buf leaf = {0}, pre = {0};
	uint8_t *big = malloc(10000), h1[32], h2[32];

	(void)state;
	assert_non_null(big);
	memset(big, 'x', 10000);
	en.seq = 1;
	en.envelope = big;
	en.envelope_len = 10000;
	ml_leaf_hash(&en, h1);
	ml_leaf_encode(&en, &leaf);
	ml_buf_append(&pre, "\0", 1);
	ml_buf_append(&pre, leaf.data, leaf.len);
	ml_sha256(pre.data, pre.len, h2);
	assert_memory_equal(h1, h2, 32);
	ml_buf_free(&leaf);
	ml_buf_free(&pre);
	free(big);
}

/* FORMAT.md §9: an enrolment with a person and a governance entry, as
 * mlledger writes them, byte for byte. */
static void
check_written(enum ml_kind kind, const char *subject, const char *digest_src, json_t *pred,
	      const char *want, const char *want_sha)
{
	uint8_t d[ML_SHA256_LEN], got[ML_SHA256_LEN], sha[ML_SHA256_LEN];
	struct ml_statement st;
	struct ml_buf p = {0};
	struct ml_err e;

	ml_sha256(digest_src, strlen(digest_src), d);
	assert_int_equal(ml_statement_encode_parsed(kind, subject, d, pred, &p, &st, &e), ML_OK);
	assert_int_equal(p.len, strlen(want));
	assert_memory_equal(p.data, want, p.len);
	ml_sha256(p.data, p.len, got);
	tu_unhex(want_sha, sha, sizeof sha);
	assert_memory_equal(got, sha, sizeof sha);
	assert_int_equal(st.kind, kind);
	ml_statement_free(&st);
	ml_buf_free(&p);
}

static void
test_person_and_governance_vectors(void **state)
{
	static const char enrol[] =
		"{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":\"alice\","
		"\"digest\":{\"sha256\":\"03ed6fee77392094d70ef3ea45f1f9359f9cb4477b187eb30c735b2be9b9a67a\""
		"}}],\"predicateType\":\"https://mlledger.dev/key-enrollment/v1\",\"predicate\":{\"key\":"
		"\"alice+d32c1872+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea\",\"roles\":[\"approver\"],"
		"\"person\":{\"id\":\"alice\",\"name\":\"Alice Martin\"},\"time\":\"2026-10-01T12:00:00Z\"}}";
	static const char gov[] =
		"{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":"
		"\"demo.mlledger.example/fraud\",\"digest\":{\"sha256\":"
		"\"4afc2b0549ca69c94b1c3c6c3fd9c90d52a50c45bccc5e51152a194c44cc7b1d\"}}],"
		"\"predicateType\":\"https://mlledger.dev/governance/v1\",\"predicate\":{\"document\":"
		"\"{\\\"environments\\\": [\\\"staging\\\", \\\"prod\\\"]}\",\"time\":"
		"\"2026-10-01T12:00:00Z\"}}";
	static const char doc[] = "{\"environments\": [\"staging\", \"prod\"]}";

	(void)state;
	check_written(ML_KIND_KEY_ENROLLMENT, "alice", vkey,
		      json_pack("{s:s, s:[s], s:{s:s, s:s}, s:s}", "key", vkey, "roles", "approver",
				"person", "id", "alice", "name", "Alice Martin", "time",
				"2026-10-01T12:00:00Z"),
		      enrol, "d239d029e90dc4f8d2dd0f4dd6720e1c69056f82a00a754f1a7dc577898c1f2e");
	check_written(ML_KIND_GOVERNANCE, "demo.mlledger.example/fraud", doc,
		      json_pack("{s:s, s:s}", "document", doc, "time", "2026-10-01T12:00:00Z"), gov,
		      "df83d71ad654646f20340c6d08ba770d503a99943e8ebc8f807902cbb4584697");
}

/* FORMAT.md §9: a proof of possession, an enrolment carrying it and a
 * statement naming its origin (computed with PyNaCl from FORMAT.md). */
static void
test_identity_vectors(void **state)
{
	static const char origin[] = "demo.mlledger.example/fraud";
	static const char msg[] =
		"mlledger key possession v1\ndemo.mlledger.example/fraud\n"
		"alice+d32c1872+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea\n"
		"{\"email\":\"alice@example.com\",\"employeeId\":\"E-1042\",\"id\":\"alice\","
		"\"name\":\"Alice Martin\"}\n";
	static const char sig[] =
		"9t+0VA9lBTSULHxcFY8WqiXT8zXjionVOwgyRIKts7/AHeEnrJA7sYn/dibn+k4ls13KedYRl2be3IX2GYZkAA==";
	static const char enrol[] =
		"{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":\"alice\","
		"\"digest\":{\"sha256\":\"03ed6fee77392094d70ef3ea45f1f9359f9cb4477b187eb30c735b2be9b9a67a\""
		"}}],\"predicateType\":\"https://mlledger.dev/key-enrollment/v1\",\"predicate\":{\"key\":"
		"\"alice+d32c1872+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea\",\"roles\":[\"approver\"],"
		"\"person\":{\"id\":\"alice\",\"name\":\"Alice Martin\",\"email\":\"alice@example.com\","
		"\"employeeId\":\"E-1042\"},\"possession\":\"9t+0VA9lBTSULHxcFY8WqiXT8zXjionVOwgyRIKts7/"
		"AHeEnrJA7sYn/dibn+k4ls13KedYRl2be3IX2GYZkAA==\",\"origin\":\"demo.mlledger.example/fraud\","
		"\"time\":\"2026-10-01T12:00:00Z\"}}";
	static const char approval[] =
		"{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":"
		"\"fraud-detector@3.1.0\",\"digest\":{\"sha256\":"
		"\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"}}],"
		"\"predicateType\":\"https://mlledger.dev/approval/v1\",\"predicate\":{"
		"\"environment\":\"prod\",\"decision\":\"approve\",\"comment\":\"validated\","
		"\"time\":\"2026-10-01T12:00:00Z\",\"origin\":\"demo.mlledger.example/fraud\"}}";
	struct ml_seckey *k = alice();
	struct ml_buf m = {0};
	struct ml_err e;
	uint8_t got[ML_SHA256_LEN], want[ML_SHA256_LEN];
	json_t *person = json_pack("{s:s, s:s, s:s, s:s}", "id", "alice", "name", "Alice Martin",
				   "email", "alice@example.com", "employeeId", "E-1042");
	char *b64 = NULL;

	(void)state;
	assert_int_equal(ml_possession_message(origin, vkey, person, &m, &e), ML_OK);
	assert_int_equal(m.len, 202);
	assert_memory_equal(m.data, msg, m.len);
	ml_sha256(m.data, m.len, got);
	tu_unhex("0b9840ae094f1f8946043008095442ea1457011f2d9cc51cdd6f4e7737b2dcd4", want,
		 sizeof want);
	assert_memory_equal(got, want, sizeof want);
	assert_int_equal(ml_possession_sign(k, origin, person, &b64, &e), ML_OK);
	assert_string_equal(b64, sig);
	assert_int_equal(ml_possession_verify(origin, vkey, person, sig, &e), ML_OK);
	/* the same proof for another ledger or person does not verify */
	assert_int_equal(ml_possession_verify("other.example/log", vkey, person, sig, &e), ML_EKEY);
	assert_int_equal(ml_possession_verify(origin, vkey, NULL, sig, &e), ML_EKEY);
	check_written(ML_KIND_KEY_ENROLLMENT, "alice", vkey,
		      json_pack("{s:s, s:[s], s:O, s:s, s:s, s:s}", "key", vkey, "roles", "approver",
				"person", person, "possession", sig, "origin", origin, "time",
				"2026-10-01T12:00:00Z"),
		      enrol, "c2c84681d0ddeb0efe86362f0e6f6b180708b1c64fe23076c1cd9f62e1af5385");
	check_written(ML_KIND_APPROVAL, "fraud-detector@3.1.0", "abc",
		      json_pack("{s:s, s:s, s:s, s:s, s:s}", "environment", "prod", "decision",
				"approve", "comment", "validated", "time", "2026-10-01T12:00:00Z",
				"origin", origin),
		      approval, "eb8d862ae42aa4df9878235e07e69830941cc58585256183e8455a45d939cfb9");
	free(b64);
	json_decref(person);
	ml_buf_free(&m);
	ml_seckey_free(k);
}

/* FORMAT.md §9: a policy entry and a replayable gate decision. */
static void
test_policy_and_decision_vectors(void **state)
{
	static const char content[] =
		"<policy xmlns=\"https://mlledger.dev/policy/v1\" id=\"tiny\" version=\"1\"/>\n";
	static const char pol[] =
		"{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":\"tiny@1\",\"d"
		"igest\":{\"sha256\":\"6b10dac4fdfb39b2703550f3dd6742ab585c57f020eb5f7288b73d8f3b9ea5"
		"ba\"}}],\"predicateType\":\"https://mlledger.dev/policy/v1\",\"predicate\":{\"time\""
		":\"2026-10-01T12:00:00Z\",\"content\":\"<policy xmlns=\\\"https://mlledger.dev/polic"
		"y/v1\\\" id=\\\"tiny\\\" version=\\\"1\\\"/>\\n\",\"params\":{\"min-approvers\":\"3"
		"\"}}}";
	static const char gate[] =
		"{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":\"fraud-detect"
		"or@3.1.0\",\"digest\":{\"sha256\":\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9c"
		"b410ff61f20015ad\"}}],\"predicateType\":\"https://slsa.dev/verification_summary/v1\""
		",\"predicate\":{\"verifier\":{\"id\":\"https://mlledger.dev/gate\",\"version\":{\"ml"
		"ledger\":\"0.1.0\"}},\"timeVerified\":\"2026-09-21T14:13:20Z\",\"resourceUri\":\"mll"
		"edger:fraud-detector@3.1.0?env=prod\",\"policy\":{\"name\":\"tiny@1\",\"digest\":{\""
		"sha256\":\"6b10dac4fdfb39b2703550f3dd6742ab585c57f020eb5f7288b73d8f3b9ea5ba\"},\"uri"
		"\":\"mlledger:seq/7\"},\"inputAttestations\":[{\"name\":\"checkpoint/12\",\"digest\""
		":{\"sha256\":\"2222222222222222222222222222222222222222222222222222222222222222\"}}]"
		",\"verificationResult\":\"PASSED\",\"verifiedLevels\":[\"MLLEDGER_POLICY:tiny@1\"],"
		"\"environment\":\"prod\",\"policies\":[{\"name\":\"tiny@1\",\"digest\":{\"sha256\":"
		"\"6b10dac4fdfb39b2703550f3dd6742ab585c57f020eb5f7288b73d8f3b9ea5ba\"},\"uri\":\"mlle"
		"dger:seq/7\"}],\"ledger\":{\"origin\":\"demo.mlledger.example/fraud\",\"size\":12,\""
		"root\":\"ERERERERERERERERERERERERERERERERERERERERERE=\"},\"findings\":{\"name\":\"fi"
		"ndings\",\"digest\":{\"sha256\":\"4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c"
		"2f11161202b945\"}},\"parameters\":{\"tiny\":{\"min-approvers\":\"3\"}},\"evidence\":"
		"{\"name\":\"evidence\",\"digest\":{\"sha256\":\"333333333333333333333333333333333333"
		"3333333333333333333333333333\"}}}}";
	struct ml_findings fs;
	struct ml_decision_policy dp = {.id = "tiny", .version = "1", .seq = 7};
	struct ml_decision d = {.subject = "fraud-detector@3.1.0", .env = "prod",
				.time_us = 1790000000LL * 1000000, .origin =
				"demo.mlledger.example/fraud", .size = 12, .policies = &dp,
				.npolicies = 1, .findings = &fs};
	uint8_t cd[ML_SHA256_LEN];
	struct ml_err e;
	json_t *pred;

	(void)state;
	assert_int_equal(strlen(content), 71);
	check_written(ML_KIND_POLICY, "tiny@1", content,
		      json_pack("{s:s, s:s, s:{s:s}}", "time", "2026-10-01T12:00:00Z", "content",
				content, "params", "min-approvers", "3"),
		      pol, "b8b608e0602f00ca0de9f825e73adb92c4feeb08a01d97e2c62622fc6d239032");
	memset(&fs, 0, sizeof fs);
	fs.verdict = ML_OK;
	ml_sha256(content, strlen(content), cd);
	ml_hex_encode(cd, sizeof cd, dp.sha256);
	dp.params = json_pack("{s:s}", "min-approvers", "3");
	memset(d.root, 0x11, sizeof d.root);
	memset(d.checkpoint_sha256, 0x22, sizeof d.checkpoint_sha256);
	memset(d.evidence_sha256, 0x33, sizeof d.evidence_sha256);
	assert_int_equal(ml_decision_predicate(&d, &pred, &e), ML_OK);
	json_decref(dp.params);
	check_written(ML_KIND_GATE, "fraud-detector@3.1.0", "abc", pred, gate,
		      "f6b6e1a1d1171a871c1fc9bef36d85cce1505aa79a03eab6f92b86619ad3d2c1");
}

/* FORMAT.md §9: a report entry as `report --record` writes it (subject the
 * file name, digest the SHA-256 of the report's bytes, here "abc"). */
static void
test_report_vector(void **state)
{
	static const char rep[] =
		"{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{\"name\":\"q3-2026."
		"html\",\"digest\":{\"sha256\":\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9c"
		"b410ff61f20015ad\"}}],\"predicateType\":\"https://mlledger.dev/report/v1\",\"pre"
		"dicate\":{\"time\":\"2026-10-01T12:00:00Z\",\"format\":\"html\",\"from\":\"2026-"
		"07-01\",\"to\":\"2026-09-30\",\"asOf\":\"2026-10-01T00:00:00Z\",\"policies\":[{\""
		"id\":\"tiny\",\"version\":\"1\",\"sha256\":\"6b10dac4fdfb39b2703550f3dd6742ab585"
		"c57f020eb5f7288b73d8f3b9ea5ba\"}],\"origin\":\"demo.mlledger.example/fraud\"}}";

	(void)state;
	check_written(ML_KIND_REPORT, "q3-2026.html", "abc",
		      json_pack("{s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:s}], s:s}", "time",
				"2026-10-01T12:00:00Z", "format", "html", "from", "2026-07-01", "to",
				"2026-09-30", "asOf", "2026-10-01T00:00:00Z", "policies", "id",
				"tiny", "version", "1", "sha256",
				"6b10dac4fdfb39b2703550f3dd6742ab585c57f020eb5f7288b73d8f3b9ea5ba",
				"origin", "demo.mlledger.example/fraud"),
		      rep, "64db3ab59b6c1d5a015c7eeee021efa804937518fc640b3ea5d2e580965904fc");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_person_and_governance_vectors),
		cmocka_unit_test(test_identity_vectors),
		cmocka_unit_test(test_policy_and_decision_vectors),
		cmocka_unit_test(test_report_vector),
		cmocka_unit_test(test_key_encodings),
		cmocka_unit_test(test_statement_bytes),
		cmocka_unit_test(test_pae),
		cmocka_unit_test(test_envelope_bytes),
		cmocka_unit_test(test_leaf),
		cmocka_unit_test(test_leaf_large_envelope),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
