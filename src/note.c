/* note — signed notes (see note.h), and the helpers the other C2SP formats
 * of the note module share (note_int.h).
 *
 * Every parser walks its input with explicit lengths (inputs need not be
 * NUL-terminated), checks a size limit first, and builds its result in
 * locals that are copied to *out only on success.
 */
#include "note.h"
#include "note_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_B64_LEN 44                        /* base64 of 32 bytes */

/* ---- text checks ---- */

/* Go's unicode.IsSpace: the White_Space property. */
static int
unicode_space(uint32_t cp)
{
	switch (cp) {
	case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
	case 0x85: case 0xa0: case 0x1680: case 0x2028: case 0x2029:
	case 0x202f: case 0x205f: case 0x3000:
		return 1;
	default:
		return cp >= 0x2000 && cp <= 0x200a;
	}
}

/* Checks signed-note text rules on s[0..len): valid UTF-8, no code point
 * below U+0020 other than '\n'.  Returns 0, or -1 with the reason in e. */
enum ml_rc
ml_note_chars_ok(const char *s, size_t len, const char *what, struct ml_err *e)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		n = ml_utf8_next(p + i, len - i, &cp);
		if (n == 0) {
			ml_err_set(e, ML_EINPUT, "%s: invalid UTF-8 at byte %zu", what,
				   i);
			return ML_EINPUT;
		}
		if (cp < 0x20 && cp != '\n') {
			ml_err_set(e, ML_EINPUT,
				   "%s: control character 0x%02x at byte %zu", what,
				   (unsigned)cp, i);
			return ML_EINPUT;
		}
		i += n;
	}
	return ML_OK;
}

/* signed-note: "Key names MUST be non-empty and MUST NOT contain any Unicode
 * spaces or plus (U+002B) characters" (and are UTF-8). */
static int
key_name_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp;

	if (len == 0)
		return 0;
	while (i < len) {
		n = ml_utf8_next(p + i, len - i, &cp);
		if (n == 0 || cp < 0x20 || cp == '+' || unicode_space(cp))
			return 0;
		i += n;
	}
	return 1;
}

/* Finds the end of the line starting at off: *eol gets the index of its
 * '\n' and 0 is returned, or *eol gets len and -1 when there is none. */
enum ml_rc
ml_note_line_end(const char *s, size_t len, size_t off, size_t *eol)
{
	const char *nl = off < len ? memchr(s + off, '\n', len - off) : NULL;

	*eol = nl ? (size_t)(nl - s) : len;
	return nl ? ML_OK : ML_EINPUT;
}

/* Decodes strict base64 of exactly 32 bytes. */
enum ml_rc
ml_note_hash_decode(const char *s, size_t len, uint8_t out[ML_SHA256_LEN])
{
	return len == HASH_B64_LEN ? ml_b64_decode_exact(s, len, out, ML_SHA256_LEN) : ML_EINPUT;
}

/* Appends base64(data) to out. */
void
ml_note_b64_append(struct ml_buf *out, const uint8_t *data, size_t len)
{
	char *b64 = ml_b64_encode(data, len);

	if (!b64) {
		out->oom = 1;
		return;
	}
	ml_buf_puts(out, b64);
	free(b64);
}

/* ---- signed notes ---- */

void
ml_note_clear(struct ml_note *n)
{
	if (!n)
		return;
	free(n->mem);
	memset(n, 0, sizeof *n);
}

/* Parses one signature line (without '\n') into s, copying the name and the
 * decoded signature to *arena (advanced).  ML_OK, or ML_EINPUT with *why. */
static enum ml_rc
parse_sig_line(const char *line, size_t len, char **arena, struct ml_note_sig *s,
	       const char **why)
{
	const char *name, *sp, *b64;
	size_t name_len, b64_len, raw_len;
	uint8_t *raw = NULL;

	if (len < SIG_PREFIX_LEN || memcmp(line, SIG_PREFIX, SIG_PREFIX_LEN) != 0) {
		*why = "does not start with an em dash (U+2014) and a space";
		return ML_EINPUT;
	}
	name = line + SIG_PREFIX_LEN;
	sp = memchr(name, ' ', len - SIG_PREFIX_LEN);
	if (!sp) {
		*why = "has no space between key name and signature";
		return ML_EINPUT;
	}
	name_len = (size_t)(sp - name);
	b64 = sp + 1;
	b64_len = len - SIG_PREFIX_LEN - name_len - 1;
	if (!key_name_ok(name, name_len)) {
		*why = "has an empty key name or one holding a space or '+'";
		return ML_EINPUT;
	}
	if (b64_len == 0 || ml_b64_decode(b64, b64_len, &raw, &raw_len) != 0) {
		*why = "has a signature that is not standard padded base64";
		return ML_EINPUT;
	}
	if (raw_len < 5) {
		free(raw);
		*why = "has a signature shorter than its 4-byte key ID plus one byte";
		return ML_EINPUT;
	}
	s->name = *arena;
	memcpy(*arena, name, name_len);
	(*arena)[name_len] = '\0';
	*arena += name_len + 1;
	s->name_len = name_len;
	s->hash = ml_get_be32(raw);
	s->sig = (const uint8_t *)*arena;
	memcpy(*arena, raw + 4, raw_len - 4);
	*arena += raw_len - 4;
	s->sig_len = raw_len - 4;
	s->line = line;
	s->line_len = len;
	free(raw);
	return ML_OK;
}

int
ml_note_parse(const char *bytes, size_t len, struct ml_note *out, struct ml_err *e)
{
	struct ml_note *n;
	size_t split, i, off, eol, sigs_len;
	char *arena, *copy;
	const char *why;
	int rc = ML_OK;

	if (len > ML_NOTE_MAX)
		return ml_err_set(e, ML_EINPUT, "note: longer than %d bytes",
				  ML_NOTE_MAX);
	if (ml_note_chars_ok(bytes, len, "note", e) != 0)
		return ML_EINPUT;
	/* The text ends at the last blank line. */
	for (i = len; i >= 2; i--)
		if (bytes[i - 1] == '\n' && bytes[i - 2] == '\n')
			break;
	if (i < 2)
		return ml_err_set(e, ML_EINPUT,
				  "note: no blank line between text and signatures");
	split = i - 1; /* the text is bytes[0..split), ending with '\n' */
	sigs_len = len - split - 1;
	if (sigs_len == 0)
		return ml_err_set(e, ML_EINPUT, "note: no signature lines");
	if (bytes[len - 1] != '\n')
		return ml_err_set(e, ML_EINPUT,
				  "note: the last signature line does not end with a "
				  "newline");

	n = calloc(1, sizeof *n);
	/* text + NUL, note + NUL, then names and signatures: each line's name,
	 * NUL and decoded signature take fewer bytes than the line itself. */
	if (n)
		n->mem = malloc(split + 1 + len + 1 + sigs_len);
	if (!n || !n->mem) {
		rc = ml_err_set(e, ML_EIO, "note: out of memory");
		goto out;
	}
	memcpy(n->mem, bytes, split);
	n->mem[split] = '\0';
	n->text = n->mem;
	n->text_len = split;
	copy = n->mem + split + 1;
	memcpy(copy, bytes, len);
	copy[len] = '\0';
	n->bytes = copy;
	n->len = len;
	arena = copy + len + 1;

	for (off = split + 1; off < len; off = eol + 1) {
		ml_note_line_end(copy, len, off, &eol); /* always found: the note ends in '\n' */
		if (n->nsigs == ML_NOTE_SIGS_MAX) {
			rc = ml_err_set(e, ML_EINPUT,
					"note: more than %d signature lines",
					ML_NOTE_SIGS_MAX);
			goto out;
		}
		if (parse_sig_line(copy + off, eol - off, &arena, &n->sigs[n->nsigs],
				   &why) != 0) {
			rc = ml_err_set(e, ML_EINPUT, "note: signature line %zu %s",
					n->nsigs + 1, why);
			goto out;
		}
		n->nsigs++;
	}
	*out = *n;
	free(n);
	return ML_OK;
out:
	ml_note_clear(n);
	free(n);
	return rc;
}

int
ml_note_sign(const struct ml_seckey *k, const char *text, size_t len,
	     struct ml_buf *out, struct ml_err *e)
{
	const struct ml_pubkey *pub = ml_seckey_public(k);
	uint8_t raw[4 + ML_SIG_LEN];
	struct ml_buf b = {0};
	size_t name_len = strlen(pub->name);

	if (len == 0 || text[len - 1] != '\n')
		return ml_err_set(e, ML_EINPUT, "note text: must end with a newline");
	if (ml_note_chars_ok(text, len, "note text", e) != 0)
		return ML_EINPUT;
	if (!key_name_ok(pub->name, name_len))
		return ml_err_set(e, ML_EINPUT, "note: invalid key name");
	/* text, blank line, em dash and space, name, space, base64(68), '\n' */
	if (len > ML_NOTE_MAX ||
	    ML_NOTE_MAX - len < 1 + SIG_PREFIX_LEN + name_len + 1 + 92 + 1)
		return ml_err_set(e, ML_EINPUT, "note: would be longer than %d bytes",
				  ML_NOTE_MAX);
	ml_put_be32(raw, pub->hash);
	ml_seckey_sign(k, (const uint8_t *)text, len, raw + 4);
	ml_buf_append(&b, text, len);
	ml_buf_puts(&b, "\n" SIG_PREFIX);
	ml_buf_puts(&b, pub->name);
	ml_buf_puts(&b, " ");
	ml_note_b64_append(&b, raw, sizeof raw);
	ml_buf_puts(&b, "\n");
	if (b.oom) {
		ml_buf_free(&b);
		return ml_err_set(e, ML_EIO, "note: out of memory");
	}
	ml_buf_append(out, b.data, b.len);
	ml_buf_free(&b);
	return out->oom ? ml_err_set(e, ML_EIO, "note: out of memory") : ML_OK;
}

/* True when the line's name and key ID are those of (name, hash). */
bool
ml_note_sig_is(const struct ml_note_sig *s, const char *name, uint32_t hash)
{
	return s->hash == hash && s->name_len == strlen(name) &&
	       memcmp(s->name, name, s->name_len) == 0;
}

/* 1 when k signed n and every line by k verifies, 0 when k did not sign,
 * -1 when a line by k fails. */
enum ml_note_sig_state
ml_note_sig_status(const struct ml_note *n, const struct ml_pubkey *k)
{
	enum ml_note_sig_state found = ML_NOTE_SIG_NONE;
	size_t i;

	for (i = 0; i < n->nsigs; i++) {
		const struct ml_note_sig *s = &n->sigs[i];
		if (!ml_note_sig_is(s, k->name, k->hash))
			continue;
		if (s->sig_len != ML_SIG_LEN ||
		    !ml_pubkey_verify(k, (const uint8_t *)n->text, n->text_len, s->sig))
			return ML_NOTE_SIG_BAD;
		found = ML_NOTE_SIG_VALID;
	}
	return found;
}

bool
ml_note_verify(const struct ml_note *n, const struct ml_pubkey *k)
{
	return ml_note_sig_status(n, k) == ML_NOTE_SIG_VALID;
}
