/* note_checkpoint — C2SP tlog-checkpoint bodies (see note_checkpoint.h).
 *
 * Every parser walks its input with explicit lengths (inputs need not be
 * NUL-terminated), checks a size limit first, and builds its result in
 * locals that are copied to *out only on success.
 */
#include "note_checkpoint.h"
#include "note.h"
#include "note_int.h"

#include <string.h>

/* ---- checkpoints ---- */

int
ml_checkpoint_parse(const char *text, size_t len, struct ml_checkpoint *out,
		    struct ml_err *e)
{
	struct ml_checkpoint c;
	size_t off, eol;

	memset(&c, 0, sizeof c);
	if (len > ML_NOTE_MAX)
		return ml_err_set(e, ML_EINPUT, "checkpoint: longer than %d bytes",
				  ML_NOTE_MAX);
	if (len == 0 || text[len - 1] != '\n')
		return ml_err_set(e, ML_EINPUT,
				  "checkpoint: does not end with a newline");
	if (ml_note_chars_ok(text, len, "checkpoint", e) != 0)
		return ML_EINPUT;

	ml_note_line_end(text, len, 0, &eol);
	if (eol == 0)
		return ml_err_set(e, ML_EINPUT, "checkpoint: empty origin line");
	if (eol > ML_CHECKPOINT_ORIGIN_MAX)
		return ml_err_set(e, ML_EINPUT, "checkpoint: origin longer than %d bytes",
				  ML_CHECKPOINT_ORIGIN_MAX);
	memcpy(c.origin, text, eol);
	c.origin[eol] = '\0';

	off = eol + 1;
	if (ml_note_line_end(text, len, off, &eol) != 0)
		return ml_err_set(e, ML_EINPUT, "checkpoint: no tree size line");
	if (ml_decimal_parse(text + off, eol - off, INT63_MAX, &c.size) != 0)
		return ml_err_set(e, ML_EINPUT,
				  "checkpoint: tree size is not a decimal number without "
				  "leading zeros below 2^63");

	off = eol + 1;
	if (ml_note_line_end(text, len, off, &eol) != 0)
		return ml_err_set(e, ML_EINPUT, "checkpoint: no root hash line");
	if (ml_note_hash_decode(text + off, eol - off, c.root) != 0)
		return ml_err_set(e, ML_EINPUT,
				  "checkpoint: root hash is not base64 of 32 bytes");

	c.ext_off = eol + 1;
	for (off = eol + 1; off < len; off = eol + 1) {
		ml_note_line_end(text, len, off, &eol);
		if (eol == off)
			return ml_err_set(e, ML_EINPUT,
					  "checkpoint: empty extension line %zu",
					  c.next + 1);
		c.next++;
	}
	c.ext_len = len - c.ext_off;
	*out = c;
	return ML_OK;
}

void
ml_checkpoint_format(const struct ml_checkpoint *c, struct ml_buf *out)
{
	ml_buf_printf(out, "%s\n%llu\n", c->origin, (unsigned long long)c->size);
	ml_note_b64_append(out, c->root, ML_SHA256_LEN);
	ml_buf_puts(out, "\n");
}

int
ml_checkpoint_sign(const struct ml_seckey *k, const struct ml_checkpoint *c,
		   struct ml_buf *out, struct ml_err *e)
{
	struct ml_buf text = {0};
	int rc;

	ml_checkpoint_format(c, &text);
	rc = text.oom ? ml_err_set(e, ML_EIO, "out of memory")
		      : ml_note_sign(k, (const char *)text.data, text.len, out, e);
	ml_buf_free(&text);
	return rc;
}

int
ml_checkpoint_open(const struct ml_pubkey *logkey, const char *bytes, size_t len,
		   struct ml_checkpoint *out, struct ml_err *e)
{
	struct ml_note n;
	struct ml_checkpoint c;
	int ok;

	if (ml_note_parse(bytes, len, &n, e))
		return ml_err_prefix(e, ML_EINPUT, "checkpoint");
	if (ml_checkpoint_parse(n.text, n.text_len, &c, e)) {
		ml_note_clear(&n);
		return ml_err_prefix(e, ML_EINPUT, "checkpoint");
	}
	ok = ml_note_verify(&n, logkey);
	ml_note_clear(&n);
	/* C2SP: the log key's name is the log's origin. */
	if (strcmp(c.origin, logkey->name) != 0)
		return ml_err_set(e, ML_EINTEGRITY, "the checkpoint (size %llu) is of another log "
				  "(origin %.100s, not %.100s)", (unsigned long long)c.size,
				  c.origin, logkey->name);
	if (!ok)
		return ml_err_set(e, ML_EINTEGRITY, "the checkpoint of size %llu is not signed by "
				  "the log key %s", (unsigned long long)c.size, logkey->name);
	*out = c;
	return ML_OK;
}
