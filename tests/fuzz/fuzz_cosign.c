/* fuzz_cosign — `mlledger cosign`: a witness cosigns a note it was handed
 * (ml_cosign), which parses it as a signed note holding a checkpoint.
 * Properties: the cosigned note parses, carries a cosignature by the
 * witness that verifies with the timestamp given, and keeps the text. */
#include "fuzz.h"

#include <sodium.h>

#include "keys.h"
#include "note.h"
#include "note_cosig.h"

static struct ml_seckey *witness;
static struct ml_cosig_key wkey;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t seed[32];
	struct ml_err e;

	(void)argc;
	(void)argv;
	memset(seed, 0x77, sizeof seed);
	if (sodium_init() < 0 || ml_seckey_from_seed("w1", seed, &witness, &e) != ML_OK)
		abort();
	ml_cosig_key_of(witness, &wkey);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ml_buf out = {0};
	struct ml_note in, n;
	struct ml_err e;
	uint64_t ts = 0;

	if (ml_cosign(witness, (const char *)data, size, 1767225600, &out, &e) == ML_OK) {
		FZ_ASSERT(ml_note_parse((const char *)data, size, &in, &e) == ML_OK);
		FZ_ASSERT(ml_note_parse((const char *)out.data, out.len, &n, &e) == ML_OK);
		FZ_ASSERT(n.text_len == in.text_len &&
			  memcmp(n.text, in.text, n.text_len) == 0);
		FZ_ASSERT(ml_cosig_verify(&n, &wkey, &ts) && ts == 1767225600);
		ml_note_clear(&n);
		ml_note_clear(&in);
	}
	ml_buf_free(&out);
	return 0;
}
