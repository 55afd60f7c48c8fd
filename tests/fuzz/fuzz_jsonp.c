/* fuzz_jsonp — differential: src/jsonp.c against jansson's json_loadb with
 * JSON_REJECT_DUPLICATES, the reader it replaced in ml_statement_parse and
 * ml_envelope_parse.  Property (tests/fuzz/jsonp_diff.h): both accept the
 * same inputs and build the same tree (types, member order, bytes, bits),
 * but for jansson's one NUL quirk, which is checked separately.  Seeds: its
 * own corpus plus the statement, envelope and import corpora (run.sh). */
#include "fuzz.h"

#include "jsonp_diff.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = jsonp_diff(data, size);

	if (why) {
		fprintf(stderr, "fuzz_jsonp: %s\n", why);
		abort();
	}
	return 0;
}
