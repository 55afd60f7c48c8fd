/* fuzz_envelope — DSSE envelopes (ml_envelope_parse) as `submit` and verify
 * read them, and the in-toto statement inside (ml_statement_parse).
 * Property: a parsed envelope re-encodes canonically and parses back to the
 * same payload and signatures (author and countersignatures, in order), at
 * most 16 of them with distinct keyids. */
#include "fuzz.h"

#include "statement.h"

static void
check_roundtrip(const struct ml_envelope *env)
{
	struct ml_buf out = {0};
	struct ml_envelope again = {0};
	struct ml_err e;

	FZ_ASSERT(ml_envelope_encode(env, &out, &e) == ML_OK);
	FZ_ASSERT(ml_envelope_parse(out.data, out.len, &again, &e) == ML_OK);
	FZ_ASSERT(again.payload_len == env->payload_len);
	FZ_ASSERT(memcmp(again.payload, env->payload, env->payload_len) == 0);
	FZ_ASSERT(strcmp(again.keyid, env->keyid) == 0);
	FZ_ASSERT(memcmp(again.sig, env->sig, ML_SIG_LEN) == 0);
	FZ_ASSERT(again.nco == env->nco && env->nco < ML_ENVELOPE_MAX_SIGS);
	for (size_t i = 0; i < env->nco; i++) {
		FZ_ASSERT(strcmp(again.co[i].keyid, env->co[i].keyid) == 0);
		FZ_ASSERT(strcmp(env->co[i].keyid, env->keyid) != 0);
		FZ_ASSERT(memcmp(again.co[i].sig, env->co[i].sig, ML_SIG_LEN) == 0);
	}
	ml_envelope_clear(&again);
	ml_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ml_envelope env = {0};
	struct ml_statement st;
	struct ml_err e;

	if (ml_envelope_parse(data, size, &env, &e) != ML_OK)
		return 0;
	check_roundtrip(&env);
	if (ml_statement_parse(env.payload, env.payload_len, &st, &e) == ML_OK)
		ml_statement_free(&st);
	ml_envelope_clear(&env);
	return 0;
}
