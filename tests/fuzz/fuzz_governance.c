/* fuzz_governance — governance documents as `init --governance`, `governance
 * set` and every append and verify read them (ml_governance_parse), then
 * the checks an entry goes through.  Input: DOCUMENT [NUL NAME].
 * Properties: a parsed document always declares admin with the key kinds
 * (no lock-out); genesis is never signable; the admin-only kinds stay with
 * admin; a declared environment passes its own check; the text round-trips;
 * a suggestion is within the document's declared set. */
#include "fuzz.h"

#include "governance.h"

static void
check_name(const struct ml_governance *g, const char *name)
{
	struct ml_err e;
	json_t *o;

	(void)ml_governance_check_env(g, name, &e);
	(void)ml_governance_direction(g, name);
	(void)ml_governance_unit(g, name);
	(void)ml_governance_check_signer(g, "k+00000000", name, ML_KIND_APPROVAL, &e);
	if ((o = json_pack("{s:s, s:b, s:i}", name, "x", "pii", 1, "license", 7))) {
		(void)ml_governance_check_properties(g, o, &e);
		(void)ml_governance_check_metrics(g, o, &e);
		json_decref(o);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *tail;
	size_t tlen, dlen = fz_split(data, size, &tail, &tlen);
	struct ml_governance *g = NULL;
	struct ml_err e;
	json_t *envs, *x;
	size_t i;

	if (ml_governance_parse((const char *)data, dlen, &g, &e) != ML_OK) {
		FZ_ASSERT(g == NULL);
		return 0;
	}
	FZ_ASSERT(strlen(ml_governance_text(g)) == dlen &&
		  memcmp(ml_governance_text(g), data, dlen) == 0);
	FZ_ASSERT(ml_governance_check_signer(g, "a+00000000", "admin", ML_KIND_KEY_ENROLLMENT,
					     &e) == ML_OK);
	FZ_ASSERT(ml_governance_check_signer(g, "a+00000000", "admin", ML_KIND_GOVERNANCE,
					     &e) == ML_OK);
	FZ_ASSERT(ml_governance_check_signer(g, "a+00000000", "admin", ML_KIND_GENESIS, &e) ==
		  ML_EKEY);
	envs = json_object_get(ml_governance_json(g), "environments");
	json_array_foreach(envs, i, x)
		FZ_ASSERT(ml_governance_check_env(g, json_string_value(x), &e) == ML_OK);
	if (tlen) {
		char *name = fz_strndup(tail, tlen);
		check_name(g, name);
		free(name);
	}
	ml_governance_free(g);
	return 0;
}
