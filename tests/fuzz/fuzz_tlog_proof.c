/* fuzz_tlog_proof — c2sp.org/tlog-proof@v1 bundles as `verify-proof` reads
 * them.  Input: BUNDLE [NUL VKEY [NUL LEAF]]: the bundle is parsed
 * (ml_tlog_proof_parse); with a log key line it is checked for the leaf
 * bytes offline (ml_tlog_verify_proof).
 * Properties: a parsed bundle's index lies inside its checkpoint's tree and
 * its hash count is at most ML_TLOG_PROOF_HASHES_MAX; when verify-proof
 * accepts, it reports the bundle's index. */
#include "fuzz.h"

#include "keys.h"
#include "note.h"
#include "note_proof.h"
#include "tlog.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *rest, *leaf;
	size_t rlen, llen, blen = fz_split(data, size, &rest, &rlen), klen;
	struct ml_tlog_proof p;
	struct ml_pubkey k;
	struct ml_err e;
	uint64_t index, want = 0;
	int parsed = 0;

	if (ml_tlog_proof_parse((const char *)data, blen, &p, &e) == ML_OK) {
		FZ_ASSERT(p.index < p.checkpoint.size);
		FZ_ASSERT(p.nhashes <= ML_TLOG_PROOF_HASHES_MAX);
		want = p.index;
		parsed = 1;
		ml_tlog_proof_clear(&p);
	}
	if (!rlen)
		return 0;
	klen = fz_split(rest, rlen, &leaf, &llen);
	if (ml_pubkey_parse((const char *)rest, klen, &k, &e) != ML_OK)
		return 0;
	if (ml_tlog_verify_proof(&k, (const char *)data, blen, leaf, llen, &index, &e) ==
	    ML_OK)
		FZ_ASSERT(parsed && index == want);
	return 0;
}
