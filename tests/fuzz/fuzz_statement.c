/* fuzz_statement — in-toto statements (ml_statement_parse) directly, so the
 * fuzzer need not find its way through base64 first.  Property: a parsed
 * statement's subject is a valid NAME@VERSION for the kinds that have one. */
#include "fuzz.h"

#include "statement.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ml_statement st;
	struct ml_err e;
	char name[129], version[65];

	if (ml_statement_parse(data, size, &st, &e) != ML_OK)
		return 0;
	FZ_ASSERT(st.kind < ML_KIND_COUNT && st.root && st.subject);
	if (st.kind == ML_KIND_DATASET || st.kind == ML_KIND_MODEL ||
	    ml_kind_about_model(st.kind))
		FZ_ASSERT(ml_ref_split(st.subject, name, version) == 0);
	ml_statement_free(&st);
	return 0;
}
