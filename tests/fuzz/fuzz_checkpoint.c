/* fuzz_checkpoint — checkpoint bodies (ml_checkpoint_parse) on their own,
 * without the signed-note envelope around them.  Property: a checkpoint
 * without extension lines formats back to exactly the bytes parsed, and
 * the extension lines lie inside the text. */
#include "fuzz.h"

#include "note.h"
#include "note_checkpoint.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ml_checkpoint c;
	struct ml_buf out = {0};
	struct ml_err e;

	if (ml_checkpoint_parse((const char *)data, size, &c, &e) != ML_OK)
		return 0;
	FZ_ASSERT(c.origin[0] != '\0' && c.size <= INT64_MAX);
	FZ_ASSERT(c.ext_off + c.ext_len <= size);
	if (c.next == 0) {
		ml_checkpoint_format(&c, &out);
		FZ_ASSERT(!out.oom && out.len == size && memcmp(out.data, data, size) == 0);
	}
	ml_buf_free(&out);
	return 0;
}
