/* fuzz_note — C2SP signed notes and checkpoints as `verify --checkpoint`,
 * `verify --state` and `cosign` read them.  Input: NOTE [NUL VKEY], where
 * VKEY is a log key line (ml_pubkey_parse) or a witness key line
 * (ml_cosig_vkey_parse) whose signatures on the note are then checked
 * (ml_note_verify, ml_cosig_verify).  The note's text is parsed as a
 * checkpoint (ml_checkpoint_parse) and each line's cosignature timestamp
 * read (ml_cosig_timestamp).
 * Properties: the parsed text is a prefix of the note ending in '\n'; a
 * checkpoint without extension lines formats back to the same text. */
#include "fuzz.h"

#include "note.h"
#include "note_checkpoint.h"
#include "note_cosig.h"

static void
check_checkpoint(const struct ml_note *n)
{
	struct ml_checkpoint c;
	struct ml_buf out = {0};
	struct ml_err e;

	if (ml_checkpoint_parse(n->text, n->text_len, &c, &e) != ML_OK)
		return;
	if (c.next == 0) {
		ml_checkpoint_format(&c, &out);
		FZ_ASSERT(!out.oom && out.len == n->text_len);
		FZ_ASSERT(memcmp(out.data, n->text, out.len) == 0);
	}
	ml_buf_free(&out);
}

static void
check_keys(const struct ml_note *n, const uint8_t *vkey, size_t len)
{
	struct ml_pubkey pk;
	struct ml_cosig_key ck;
	struct ml_err e;
	uint64_t ts;

	if (ml_pubkey_parse((const char *)vkey, len, &pk, &e) == ML_OK)
		(void)ml_note_verify(n, &pk);
	if (ml_cosig_vkey_parse((const char *)vkey, len, &ck, &e) == ML_OK)
		(void)ml_cosig_verify(n, &ck, &ts);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *vkey;
	size_t vlen, nlen = fz_split(data, size, &vkey, &vlen), i;
	struct ml_note n;
	struct ml_err e;
	uint64_t ts;

	if (ml_note_parse((const char *)data, nlen, &n, &e) != ML_OK)
		return 0;
	FZ_ASSERT(n.text_len >= 1 && n.text_len < nlen && n.text[n.text_len - 1] == '\n');
	FZ_ASSERT(memcmp(n.text, data, n.text_len) == 0);
	FZ_ASSERT(n.nsigs >= 1 && n.nsigs <= ML_NOTE_SIGS_MAX);
	for (i = 0; i < n.nsigs; i++)
		(void)ml_cosig_timestamp(&n.sigs[i], &ts);
	check_checkpoint(&n);
	if (vlen)
		check_keys(&n, vkey, vlen);
	ml_note_clear(&n);
	return 0;
}
