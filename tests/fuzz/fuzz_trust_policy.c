/* fuzz_trust_policy — c2sp.org/tlog-policy files as `verify --bundle DIR
 * --trust FILE` reads them (ml_trust_parse), then checks a note against the
 * policy (ml_trust_check).  Input: POLICY [NUL NOTE].
 * Properties: a parsed policy names at most ML_TRUST_LOGS_MAX logs; a note
 * it accepts is signed by one of those logs (ml_note_verify). */
#include "fuzz.h"

#include "keys.h"
#include "note.h"
#include "note_trust.h"

static void
check_note(const struct ml_trust *p, const uint8_t *bytes, size_t len)
{
	struct ml_note n;
	struct ml_err e;
	char why[256];
	size_t i;
	int signed_by_log = 0;

	if (ml_note_parse((const char *)bytes, len, &n, &e) != ML_OK)
		return;
	if (ml_trust_check(p, &n, why, sizeof why)) {
		for (i = 0; i < ml_trust_nlogs(p); i++)
			signed_by_log |= ml_note_verify(&n, ml_trust_log(p, i));
		FZ_ASSERT(signed_by_log);
	}
	ml_note_clear(&n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *note;
	size_t nlen, plen = fz_split(data, size, &note, &nlen);
	struct ml_trust *p = NULL;
	struct ml_err e;

	if (ml_trust_parse((const char *)data, plen, &p, &e) != ML_OK)
		return 0;
	FZ_ASSERT(ml_trust_nlogs(p) <= ML_TRUST_LOGS_MAX);
	if (nlen)
		check_note(p, note, nlen);
	ml_trust_free(p);
	return 0;
}
