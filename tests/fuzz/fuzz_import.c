/* fuzz_import — `mlledger import` lines: ml_request_load (the JSON line)
 * then ml_request_build_parsed (request -> statement), with a resolver that
 * knows a few versions and refuses the rest, as a ledger would.
 * Property: every statement built parses back with ml_statement_parse (the
 * request module promises nothing invalid is ever signed) and has the kind
 * the request asked for. */
#include "fuzz.h"

#include "request.h"
#include "statement.h"

static int
resolve(void *ctx, const char *kind, const char *ref, uint8_t digest[ML_SHA256_LEN],
	struct ml_err *e)
{
	(void)ctx;
	if (strchr(ref, '@') && ref[0] != 'x') {
		memset(digest, kind[0], ML_SHA256_LEN);
		return ML_OK;
	}
	return ml_err_set(e, ML_EINPUT, "unknown %s %s", kind, ref);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ml_buf payload = {0};
	struct ml_statement st, again;
	enum ml_kind kind;
	struct ml_err e;
	json_t *req;

	if (ml_request_load((const char *)data, size, &req, &e) != ML_OK)
		return 0;
	/* A fixed clock: 2026-01-01T00:00:00Z. */
	if (ml_request_build_parsed(req, resolve, NULL, 1767225600000000LL, &kind, &payload,
				    &st, &e) == ML_OK) {
		FZ_ASSERT(st.kind == kind);
		FZ_ASSERT(ml_statement_parse(payload.data, payload.len, &again, &e) == ML_OK);
		FZ_ASSERT(again.kind == kind);
		ml_statement_free(&again);
		ml_statement_free(&st);
	}
	ml_buf_free(&payload);
	json_decref(req);
	return 0;
}
