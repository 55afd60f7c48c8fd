/* note — see note.h.
 *
 * Every parser walks its input with explicit lengths (inputs need not be
 * NUL-terminated), checks a size limit first, and builds its result in
 * locals that are copied to *out only on success.
 */
#include "note.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIG_PREFIX "\xe2\x80\x94 "     /* em dash U+2014, space */
#define SIG_PREFIX_LEN 4
#define KEY_TYPE_ED25519 0x01
#define KEY_TYPE_COSIG 0x04
#define KEY_TYPE_MLDSA44 0x06
#define COSIG_LINE_LEN (4 + 8 + ML_SIG_LEN)   /* key ID, timestamp, signature */
#define COSIG_HEADER "cosignature/v1\n"
#define PROOF_HEADER "c2sp.org/tlog-proof@v1"
#define INT63_MAX 0x7fffffffffffffffULL
#define HASH_B64_LEN 44                        /* base64 of 32 bytes */
#define POLICY_NODES_MAX (ML_POLICY_WITNESSES_MAX + ML_POLICY_GROUPS_MAX)
#define POLICY_TOKENS_MAX (3 + POLICY_NODES_MAX)

/* ---- text checks ---- */

/* Decodes the UTF-8 sequence at s[0..len) (len >= 1) as Go's
 * utf8.DecodeRune accepts it: shortest form, no surrogates, at most
 * U+10FFFF.  Returns its length and writes the code point, or returns 0. */
static size_t
utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned c = s[0];
	uint32_t v, min;
	size_t n, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

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
static int
note_chars_ok(const char *s, size_t len, const char *what, struct ml_err *e)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		n = utf8_decode(p + i, len - i, &cp);
		if (n == 0) {
			ml_err_set(e, ML_EINPUT, "%s: invalid UTF-8 at byte %zu", what,
				   i);
			return -1;
		}
		if (cp < 0x20 && cp != '\n') {
			ml_err_set(e, ML_EINPUT,
				   "%s: control character 0x%02x at byte %zu", what,
				   (unsigned)cp, i);
			return -1;
		}
		i += n;
	}
	return 0;
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
		n = utf8_decode(p + i, len - i, &cp);
		if (n == 0 || cp < 0x20 || cp == '+' || unicode_space(cp))
			return 0;
		i += n;
	}
	return 1;
}

/* Finds the end of the line starting at off: *eol gets the index of its
 * '\n' and 0 is returned, or *eol gets len and -1 when there is none. */
static int
line_end(const char *s, size_t len, size_t off, size_t *eol)
{
	const char *nl = off < len ? memchr(s + off, '\n', len - off) : NULL;

	*eol = nl ? (size_t)(nl - s) : len;
	return nl ? 0 : -1;
}

/* Decodes strict base64 of exactly 32 bytes. */
static int
decode_hash(const char *s, size_t len, uint8_t out[ML_SHA256_LEN])
{
	return len == HASH_B64_LEN ? ml_b64_decode_exact(s, len, out, ML_SHA256_LEN) : -1;
}

/* Appends base64(data) to out. */
static void
buf_b64(struct ml_buf *out, const uint8_t *data, size_t len)
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
 * decoded signature to *arena (advanced).  Returns 0, or -1 with *why. */
static int
parse_sig_line(const char *line, size_t len, char **arena, struct ml_note_sig *s,
	       const char **why)
{
	const char *name, *sp, *b64;
	size_t name_len, b64_len, raw_len;
	uint8_t *raw = NULL;

	if (len < SIG_PREFIX_LEN || memcmp(line, SIG_PREFIX, SIG_PREFIX_LEN) != 0) {
		*why = "does not start with an em dash (U+2014) and a space";
		return -1;
	}
	name = line + SIG_PREFIX_LEN;
	sp = memchr(name, ' ', len - SIG_PREFIX_LEN);
	if (!sp) {
		*why = "has no space between key name and signature";
		return -1;
	}
	name_len = (size_t)(sp - name);
	b64 = sp + 1;
	b64_len = len - SIG_PREFIX_LEN - name_len - 1;
	if (!key_name_ok(name, name_len)) {
		*why = "has an empty key name or one holding a space or '+'";
		return -1;
	}
	if (b64_len == 0 || ml_b64_decode(b64, b64_len, &raw, &raw_len) != 0) {
		*why = "has a signature that is not standard padded base64";
		return -1;
	}
	if (raw_len < 5) {
		free(raw);
		*why = "has a signature shorter than its 4-byte key ID plus one byte";
		return -1;
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
	return 0;
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
	if (note_chars_ok(bytes, len, "note", e) != 0)
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
		line_end(copy, len, off, &eol); /* always found: the note ends in '\n' */
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
	if (note_chars_ok(text, len, "note text", e) != 0)
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
	buf_b64(&b, raw, sizeof raw);
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
static int
sig_is(const struct ml_note_sig *s, const char *name, uint32_t hash)
{
	return s->hash == hash && s->name_len == strlen(name) &&
	       memcmp(s->name, name, s->name_len) == 0;
}

/* 1 when k signed n and every line by k verifies, 0 when k did not sign,
 * -1 when a line by k fails. */
static int
note_sig_status(const struct ml_note *n, const struct ml_pubkey *k)
{
	int found = 0;
	size_t i;

	for (i = 0; i < n->nsigs; i++) {
		const struct ml_note_sig *s = &n->sigs[i];
		if (!sig_is(s, k->name, k->hash))
			continue;
		if (s->sig_len != ML_SIG_LEN ||
		    !ml_pubkey_verify(k, (const uint8_t *)n->text, n->text_len, s->sig))
			return -1;
		found = 1;
	}
	return found;
}

int
ml_note_verify(const struct ml_note *n, const struct ml_pubkey *k)
{
	return note_sig_status(n, k) == 1;
}

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
	if (note_chars_ok(text, len, "checkpoint", e) != 0)
		return ML_EINPUT;

	line_end(text, len, 0, &eol);
	if (eol == 0)
		return ml_err_set(e, ML_EINPUT, "checkpoint: empty origin line");
	if (eol > ML_CHECKPOINT_ORIGIN_MAX)
		return ml_err_set(e, ML_EINPUT, "checkpoint: origin longer than %d bytes",
				  ML_CHECKPOINT_ORIGIN_MAX);
	memcpy(c.origin, text, eol);
	c.origin[eol] = '\0';

	off = eol + 1;
	if (line_end(text, len, off, &eol) != 0)
		return ml_err_set(e, ML_EINPUT, "checkpoint: no tree size line");
	if (ml_decimal_parse(text + off, eol - off, INT63_MAX, &c.size) != 0)
		return ml_err_set(e, ML_EINPUT,
				  "checkpoint: tree size is not a decimal number without "
				  "leading zeros below 2^63");

	off = eol + 1;
	if (line_end(text, len, off, &eol) != 0)
		return ml_err_set(e, ML_EINPUT, "checkpoint: no root hash line");
	if (decode_hash(text + off, eol - off, c.root) != 0)
		return ml_err_set(e, ML_EINPUT,
				  "checkpoint: root hash is not base64 of 32 bytes");

	c.ext_off = eol + 1;
	for (off = eol + 1; off < len; off = eol + 1) {
		line_end(text, len, off, &eol);
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
	buf_b64(out, c->root, ML_SHA256_LEN);
	ml_buf_puts(out, "\n");
}

/* ---- cosignatures ---- */

uint32_t
ml_cosig_key_hash(const char *name, const uint8_t pk[ML_PUBKEY_LEN])
{
	uint8_t buf[ML_KEY_NAME_MAX + 2 + ML_PUBKEY_LEN], md[ML_SHA256_LEN];
	static const uint8_t sep[2] = {'\n', KEY_TYPE_COSIG};
	size_t n = strlen(name);

	if (n > ML_KEY_NAME_MAX) {
		struct ml_sha256_ctx *c = ml_sha256_new();
		if (!c)
			return 0; /* out of memory: a key ID no line will match */
		ml_sha256_update(c, name, n);
		ml_sha256_update(c, sep, sizeof sep);
		ml_sha256_update(c, pk, ML_PUBKEY_LEN);
		ml_sha256_final(c, md);
		return ml_get_be32(md);
	}
	memcpy(buf, name, n);
	memcpy(buf + n, sep, sizeof sep);
	memcpy(buf + n + 2, pk, ML_PUBKEY_LEN);
	ml_sha256(buf, n + 2 + ML_PUBKEY_LEN, md);
	return ml_get_be32(md);
}

void
ml_cosig_key_of(const struct ml_seckey *k, struct ml_cosig_key *out)
{
	const struct ml_pubkey *pub = ml_seckey_public(k);

	memset(out, 0, sizeof *out);
	memcpy(out->name, pub->name, sizeof out->name);
	memcpy(out->pk, pub->pk, ML_PUBKEY_LEN);
	out->hash = ml_cosig_key_hash(out->name, out->pk);
}

int
ml_cosig_vkey_parse(const char *s, size_t len, struct ml_cosig_key *out,
		    struct ml_err *e)
{
	struct ml_cosig_key k;
	struct ml_pubkey as_note;
	struct ml_err pe;
	const char *p1, *p2, *key;
	char vkey[ML_VKEY_MAX];
	uint8_t raw[1 + ML_PUBKEY_LEN], head[3];
	size_t i, nlen, keylen;
	uint32_t hash = 0;

	p1 = memchr(s, '+', len);
	p2 = p1 ? memchr(p1 + 1, '+', len - (size_t)(p1 + 1 - s)) : NULL;
	if (!p2)
		return ml_err_set(e, ML_EINPUT, "witness key: want NAME+KEYID+KEY");
	key = p2 + 1;
	keylen = len - (size_t)(key - s);
	/* The type byte is in the first base64 quantum. */
	if (keylen >= 4 && ml_b64_decode_exact(key, 4, head, 3) == 0 &&
	    head[0] == KEY_TYPE_MLDSA44)
		return ml_err_set(e, ML_EINPUT,
				  "witness key: ML-DSA-44 cosignatures (type 0x06) are "
				  "not supported");
	if (len >= ML_VKEY_MAX)
		return ml_err_set(e, ML_EINPUT, "witness key: longer than %d bytes",
				  ML_VKEY_MAX - 1);
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return ml_err_set(e, ML_EINPUT,
					  "witness key: contains whitespace, control or "
					  "non-ASCII characters");
	nlen = (size_t)(p1 - s);
	if (nlen == 0 || nlen > ML_KEY_NAME_MAX)
		return ml_err_set(e, ML_EINPUT,
				  "witness key: name empty or longer than %d bytes",
				  ML_KEY_NAME_MAX);
	if (p2 - p1 - 1 != 8)
		return ml_err_set(e, ML_EINPUT,
				  "witness key: key ID is not 8 lowercase hex digits");
	for (i = 1; i <= 8; i++) {
		char c = p1[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return ml_err_set(e, ML_EINPUT,
					  "witness key: key ID is not 8 lowercase hex "
					  "digits");
		hash = hash << 4 | (uint32_t)(c <= '9' ? c - '0' : c - 'a' + 10);
	}
	if (ml_b64_decode_exact(key, keylen, raw, sizeof raw) != 0)
		return ml_err_set(e, ML_EINPUT,
				  "witness key: key is not base64 of a type byte and 32 "
				  "bytes");
	if (raw[0] == KEY_TYPE_ED25519)
		return ml_err_set(e, ML_EINPUT,
				  "witness key: type 0x01 is a note signer key; a "
				  "witness key has type 0x04 (tlog-cosignature, "
				  "Ed25519)");
	if (raw[0] != KEY_TYPE_COSIG)
		return ml_err_set(e, ML_EINPUT,
				  "witness key: unknown key type 0x%02x (want 0x04)",
				  raw[0]);
	memset(&k, 0, sizeof k);
	memcpy(k.name, s, nlen);
	memcpy(k.pk, raw + 1, ML_PUBKEY_LEN);
	k.hash = hash;
	if (ml_cosig_key_hash(k.name, k.pk) != hash)
		return ml_err_set(e, ML_EINPUT,
				  "witness key: key ID does not match name and key");
	/* Check the name and the point exactly as for note keys. */
	memset(&as_note, 0, sizeof as_note);
	memcpy(as_note.name, k.name, sizeof as_note.name);
	memcpy(as_note.pk, k.pk, ML_PUBKEY_LEN);
	as_note.hash = ml_key_hash(as_note.name, as_note.pk);
	ml_pubkey_format(&as_note, vkey);
	ml_err_clear(&pe);
	if (ml_pubkey_parse(vkey, strlen(vkey), &as_note, &pe) != ML_OK)
		return ml_err_set(e, pe.code, "witness key: %s",
				  strncmp(pe.msg, "verifier key: ", 14) == 0 ? pe.msg + 14
									     : pe.msg);
	*out = k;
	return ML_OK;
}

void
ml_cosig_vkey_format(const struct ml_cosig_key *k, char buf[ML_VKEY_MAX])
{
	uint8_t raw[1 + ML_PUBKEY_LEN];
	char *b64;

	raw[0] = KEY_TYPE_COSIG;
	memcpy(raw + 1, k->pk, ML_PUBKEY_LEN);
	b64 = ml_b64_encode(raw, sizeof raw);
	snprintf(buf, ML_VKEY_MAX, "%s+%08x+%s", k->name, (unsigned)k->hash,
		 b64 ? b64 : "");
	free(b64);
}

void
ml_cosig_message(const char *text, size_t len, uint64_t timestamp, struct ml_buf *out)
{
	ml_buf_printf(out, COSIG_HEADER "time %llu\n", (unsigned long long)timestamp);
	ml_buf_append(out, text, len);
}

int
ml_cosig_timestamp(const struct ml_note_sig *s, uint64_t *timestamp)
{
	uint64_t t;

	if (s->sig_len != COSIG_LINE_LEN - 4)
		return -1;
	t = ml_get_be64(s->sig);
	if (t > INT63_MAX)
		return -1;
	*timestamp = t;
	return 0;
}

/* As note_sig_status, for cosignatures; *ts gets the largest timestamp. */
static int
cosig_status(const struct ml_note *n, const struct ml_cosig_key *k, uint64_t *ts)
{
	struct ml_pubkey pub;
	struct ml_buf msg = {0};
	uint64_t t, best = 0;
	int found = 0, rc;
	size_t i;

	memset(&pub, 0, sizeof pub);
	memcpy(pub.pk, k->pk, ML_PUBKEY_LEN);
	for (i = 0; i < n->nsigs; i++) {
		const struct ml_note_sig *s = &n->sigs[i];
		if (!sig_is(s, k->name, k->hash))
			continue;
		if (ml_cosig_timestamp(s, &t) != 0) {
			found = -1;
			break;
		}
		msg.len = 0;
		ml_cosig_message(n->text, n->text_len, t, &msg);
		if (msg.oom || !ml_pubkey_verify(&pub, msg.data, msg.len, s->sig + 8)) {
			found = -1;
			break;
		}
		if (!found || t > best)
			best = t;
		found = 1;
	}
	ml_buf_free(&msg);
	rc = found;
	if (rc == 1)
		*ts = best;
	return rc;
}

int
ml_cosig_verify(const struct ml_note *n, const struct ml_cosig_key *k,
		uint64_t *timestamp)
{
	uint64_t t = 0;

	if (cosig_status(n, k, &t) != 1)
		return 0;
	if (timestamp)
		*timestamp = t;
	return 1;
}

int
ml_cosign(const struct ml_seckey *witness, const char *note, size_t len,
	  uint64_t timestamp, struct ml_buf *out, struct ml_err *e)
{
	struct ml_note *n;
	struct ml_checkpoint cp;
	struct ml_cosig_key k;
	struct ml_buf msg = {0}, b = {0};
	uint8_t raw[COSIG_LINE_LEN];
	size_t i, kept = 0;
	int rc;

	if (timestamp > INT63_MAX)
		return ml_err_set(e, ML_EINPUT, "cosignature: timestamp above 2^63 - 1");
	n = calloc(1, sizeof *n);
	if (!n)
		return ml_err_set(e, ML_EIO, "cosignature: out of memory");
	rc = ml_note_parse(note, len, n, e);
	if (rc != ML_OK)
		goto out;
	rc = ml_checkpoint_parse(n->text, n->text_len, &cp, e);
	if (rc != ML_OK)
		goto out;
	ml_cosig_key_of(witness, &k);
	ml_cosig_message(n->text, n->text_len, timestamp, &msg);
	if (msg.oom) {
		rc = ml_err_set(e, ML_EIO, "cosignature: out of memory");
		goto out;
	}
	ml_put_be32(raw, k.hash);
	ml_put_be64(raw + 4, timestamp);
	ml_seckey_sign(witness, msg.data, msg.len, raw + 12);

	ml_buf_append(&b, n->text, n->text_len);
	ml_buf_puts(&b, "\n");
	for (i = 0; i < n->nsigs; i++) {
		if (sig_is(&n->sigs[i], k.name, k.hash))
			continue;
		ml_buf_append(&b, n->sigs[i].line, n->sigs[i].line_len);
		ml_buf_puts(&b, "\n");
		kept++;
	}
	ml_buf_puts(&b, SIG_PREFIX);
	ml_buf_puts(&b, k.name);
	ml_buf_puts(&b, " ");
	buf_b64(&b, raw, sizeof raw);
	ml_buf_puts(&b, "\n");
	if (b.oom) {
		rc = ml_err_set(e, ML_EIO, "cosignature: out of memory");
		goto out;
	}
	if (kept + 1 > ML_NOTE_SIGS_MAX || b.len > ML_NOTE_MAX) {
		rc = ml_err_set(e, ML_EINPUT,
				"cosignature: the note would exceed %d signatures or %d "
				"bytes", ML_NOTE_SIGS_MAX, ML_NOTE_MAX);
		goto out;
	}
	ml_buf_append(out, b.data, b.len);
	if (out->oom)
		rc = ml_err_set(e, ML_EIO, "cosignature: out of memory");
out:
	ml_buf_free(&msg);
	ml_buf_free(&b);
	ml_note_clear(n);
	free(n);
	return rc;
}

/* ---- tlog-proof ---- */

/* Length of the RFC 6962 inclusion proof of index in a tree of size > index:
 * the levels below the point where the paths to index and to the last leaf
 * split, plus one hash for each left sibling above it. */
static size_t
inclusion_proof_len(uint64_t index, uint64_t size)
{
	uint64_t x = index ^ (size - 1), y;
	size_t inner = 0, border = 0;

	while (x) {
		inner++;
		x >>= 1;
	}
	for (y = inner < 64 ? index >> inner : 0; y; y >>= 1)
		border += (size_t)(y & 1);
	return inner + border;
}

void
ml_tlog_proof_clear(struct ml_tlog_proof *p)
{
	if (!p)
		return;
	free(p->extra);
	ml_note_clear(&p->note);
	memset(p, 0, sizeof *p);
}

int
ml_tlog_proof_parse(const char *bytes, size_t len, struct ml_tlog_proof *out,
		    struct ml_err *e)
{
	struct ml_tlog_proof *p;
	size_t off = 0, eol, want, hlen = strlen(PROOF_HEADER);
	int rc = ML_OK;

	if (len > ML_TLOG_PROOF_MAX)
		return ml_err_set(e, ML_EINPUT, "tlog-proof: longer than %d bytes",
				  ML_TLOG_PROOF_MAX);
	if (line_end(bytes, len, 0, &eol) != 0 || eol != hlen ||
	    memcmp(bytes, PROOF_HEADER, hlen) != 0)
		return ml_err_set(e, ML_EINPUT,
				  "tlog-proof: first line is not " PROOF_HEADER);
	p = calloc(1, sizeof *p);
	if (!p)
		return ml_err_set(e, ML_EIO, "tlog-proof: out of memory");
	off = eol + 1;
	if (line_end(bytes, len, off, &eol) != 0) {
		rc = ml_err_set(e, ML_EINPUT,
				"tlog-proof: truncated before the index line");
		goto out;
	}
	if (eol - off >= 6 && memcmp(bytes + off, "extra ", 6) == 0) {
		if (eol - off == 6 ||
		    ml_b64_decode(bytes + off + 6, eol - off - 6, &p->extra,
				  &p->extra_len) != 0) {
			rc = ml_err_set(e, ML_EINPUT,
					"tlog-proof: extra data is not non-empty base64");
			goto out;
		}
		off = eol + 1;
		if (line_end(bytes, len, off, &eol) != 0) {
			rc = ml_err_set(e, ML_EINPUT,
					"tlog-proof: truncated before the index line");
			goto out;
		}
	}
	if (eol - off < 6 || memcmp(bytes + off, "index ", 6) != 0 ||
	    ml_decimal_parse(bytes + off + 6, eol - off - 6, INT63_MAX, &p->index) != 0) {
		rc = ml_err_set(e, ML_EINPUT,
				"tlog-proof: want \"index N\" with N decimal without "
				"leading zeros");
		goto out;
	}
	for (off = eol + 1;; off = eol + 1) {
		if (line_end(bytes, len, off, &eol) != 0) {
			rc = ml_err_set(e, ML_EINPUT,
					"tlog-proof: truncated: no empty line before the "
					"checkpoint");
			goto out;
		}
		if (eol == off)
			break;
		if (p->nhashes == ML_TLOG_PROOF_HASHES_MAX) {
			rc = ml_err_set(e, ML_EINPUT, "tlog-proof: more than %d hashes",
					ML_TLOG_PROOF_HASHES_MAX);
			goto out;
		}
		if (decode_hash(bytes + off, eol - off, p->hashes[p->nhashes]) != 0) {
			rc = ml_err_set(e, ML_EINPUT,
					"tlog-proof: proof line %zu is not base64 of a "
					"32-byte hash", p->nhashes + 1);
			goto out;
		}
		p->nhashes++;
	}
	off = eol + 1;
	rc = ml_note_parse(bytes + off, len - off, &p->note, e);
	if (rc != ML_OK) {
		ml_err_prefix(e, rc, "tlog-proof");
		goto out;
	}
	rc = ml_checkpoint_parse(p->note.text, p->note.text_len, &p->checkpoint, e);
	if (rc != ML_OK) {
		ml_err_prefix(e, rc, "tlog-proof");
		goto out;
	}
	if (p->index >= p->checkpoint.size) {
		rc = ml_err_set(e, ML_EINPUT,
				"tlog-proof: index %llu is not below the tree size %llu",
				(unsigned long long)p->index,
				(unsigned long long)p->checkpoint.size);
		goto out;
	}
	want = inclusion_proof_len(p->index, p->checkpoint.size);
	if (p->nhashes != want) {
		rc = ml_err_set(e, ML_EINPUT,
				"tlog-proof: %zu hashes, but the inclusion proof of "
				"index %llu in a tree of size %llu has %zu",
				p->nhashes, (unsigned long long)p->index,
				(unsigned long long)p->checkpoint.size, want);
		goto out;
	}
	*out = *p;
	free(p);
	return ML_OK;
out:
	ml_tlog_proof_clear(p);
	free(p);
	return rc;
}

void
ml_tlog_proof_format(uint64_t index, const uint8_t *extra, size_t extra_len,
		     const uint8_t hashes[][ML_SHA256_LEN], size_t n,
		     const char *note, size_t note_len, struct ml_buf *out)
{
	size_t i;

	ml_buf_puts(out, PROOF_HEADER "\n");
	if (extra_len) {
		ml_buf_puts(out, "extra ");
		buf_b64(out, extra, extra_len);
		ml_buf_puts(out, "\n");
	}
	ml_buf_printf(out, "index %llu\n", (unsigned long long)index);
	for (i = 0; i < n; i++) {
		buf_b64(out, hashes[i], ML_SHA256_LEN);
		ml_buf_puts(out, "\n");
	}
	ml_buf_puts(out, "\n");
	ml_buf_append(out, note, note_len);
}

/* ---- policies ---- */

struct policy_node {
	char name[ML_POLICY_NAME_MAX + 1];
	size_t name_len;
	int is_group;
	int listed;                        /* already a member of some group */
	struct ml_cosig_key key;           /* witness */
	size_t k, n;                       /* group: threshold and members */
	uint16_t members[POLICY_NODES_MAX];
};

struct ml_policy {
	struct ml_pubkey logs[ML_POLICY_LOGS_MAX];
	size_t nlogs;
	struct policy_node nodes[POLICY_NODES_MAX];
	size_t nnodes, nwitnesses, ngroups;
	int have_quorum;
	int quorum;                        /* node index, or -1 for "none" */
};

struct token {
	const char *s;
	size_t len;
};

static int
tok_is(const struct token *t, const char *word)
{
	return t->len == strlen(word) && memcmp(t->s, word, t->len) == 0;
}

/* Writes a printable rendering of a token (at most 40 bytes, non-printable
 * bytes as \xNN) into buf[200]. */
static const char *
tok_show(const struct token *t, char buf[200])
{
	size_t i, o = 0;

	for (i = 0; i < t->len && i < 40; i++) {
		unsigned char c = (unsigned char)t->s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, 5, "\\x%02x", c);
	}
	if (i < t->len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

static int
find_node(const struct ml_policy *p, const struct token *t)
{
	size_t i;

	for (i = 0; i < p->nnodes; i++)
		if (p->nodes[i].name_len == t->len &&
		    memcmp(p->nodes[i].name, t->s, t->len) == 0)
			return (int)i;
	return -1;
}

/* Checks a new witness or group name; returns 0 or sets e. */
static int
new_name_ok(const struct ml_policy *p, const struct token *t, size_t lineno,
	    struct ml_err *e)
{
	char show[200];

	if (t->len > ML_POLICY_NAME_MAX) {
		ml_err_set(e, ML_EINPUT, "line %zu: name longer than %d bytes", lineno,
			   ML_POLICY_NAME_MAX);
		return -1;
	}
	if (tok_is(t, "none")) {
		ml_err_set(e, ML_EINPUT, "line %zu: \"none\" is predefined", lineno);
		return -1;
	}
	if (find_node(p, t) >= 0) {
		ml_err_set(e, ML_EINPUT, "line %zu: duplicate name %s", lineno,
			   tok_show(t, show));
		return -1;
	}
	return 0;
}

static int
policy_log(struct ml_policy *p, const struct token *tok, size_t ntok, size_t lineno,
	   struct ml_err *e)
{
	struct ml_pubkey k;
	size_t i;

	if (ntok < 2 || ntok > 3)
		return ml_err_set(e, ML_EINPUT, "line %zu: want \"log <vkey> [<url>]\"",
				  lineno);
	if (p->nlogs == ML_POLICY_LOGS_MAX)
		return ml_err_set(e, ML_EINPUT, "line %zu: more than %d logs", lineno,
				  ML_POLICY_LOGS_MAX);
	if (ml_pubkey_parse(tok[1].s, tok[1].len, &k, e) != ML_OK) {
		char old[sizeof e->msg];
		memcpy(old, e->msg, sizeof old);
		return ml_err_set(e, ML_EINPUT, "line %zu: log key: %s", lineno, old);
	}
	for (i = 0; i < p->nlogs; i++)
		if (memcmp(p->logs[i].pk, k.pk, ML_PUBKEY_LEN) == 0)
			return ml_err_set(e, ML_EINPUT,
					  "line %zu: duplicate log (same public key as "
					  "an earlier log)", lineno);
	for (i = 0; i < p->nnodes; i++)
		if (!p->nodes[i].is_group &&
		    memcmp(p->nodes[i].key.pk, k.pk, ML_PUBKEY_LEN) == 0)
			return ml_err_set(e, ML_EINPUT,
					  "line %zu: the log key is also a witness's key (a "
					  "log cannot witness itself)", lineno);
	p->logs[p->nlogs++] = k;
	return ML_OK;
}

static int
policy_witness(struct ml_policy *p, const struct token *tok, size_t ntok,
	       size_t lineno, struct ml_err *e)
{
	struct policy_node *w;
	struct ml_cosig_key k;
	size_t i;

	if (ntok < 3 || ntok > 4)
		return ml_err_set(e, ML_EINPUT,
				  "line %zu: want \"witness <name> <vkey> [<url>]\"",
				  lineno);
	if (p->nwitnesses == ML_POLICY_WITNESSES_MAX)
		return ml_err_set(e, ML_EINPUT, "line %zu: more than %d witnesses",
				  lineno, ML_POLICY_WITNESSES_MAX);
	if (new_name_ok(p, &tok[1], lineno, e) != 0)
		return ML_EINPUT;
	if (ml_cosig_vkey_parse(tok[2].s, tok[2].len, &k, e) != ML_OK) {
		char old[sizeof e->msg];
		memcpy(old, e->msg, sizeof old);
		return ml_err_set(e, ML_EINPUT, "line %zu: %s", lineno, old);
	}
	for (i = 0; i < p->nnodes; i++)
		if (!p->nodes[i].is_group &&
		    memcmp(p->nodes[i].key.pk, k.pk, ML_PUBKEY_LEN) == 0)
			return ml_err_set(e, ML_EINPUT,
					  "line %zu: duplicate witness (same public key "
					  "as an earlier witness)", lineno);
	for (i = 0; i < p->nlogs; i++)
		if (memcmp(p->logs[i].pk, k.pk, ML_PUBKEY_LEN) == 0)
			return ml_err_set(e, ML_EINPUT,
					  "line %zu: witness key is the log key %s (a log "
					  "cannot witness itself)", lineno, p->logs[i].name);
	w = &p->nodes[p->nnodes++];
	memcpy(w->name, tok[1].s, tok[1].len);
	w->name[tok[1].len] = '\0';
	w->name_len = tok[1].len;
	w->key = k;
	p->nwitnesses++;
	return ML_OK;
}

static int
policy_group(struct ml_policy *p, const struct token *tok, size_t ntok, size_t lineno,
	     struct ml_err *e)
{
	struct policy_node *g;
	char show[200];
	uint64_t k = 0;
	size_t i, n;

	if (ntok < 4)
		return ml_err_set(e, ML_EINPUT,
				  "line %zu: want \"group <name> all|any|<k> <name>...\"",
				  lineno);
	if (p->ngroups == ML_POLICY_GROUPS_MAX)
		return ml_err_set(e, ML_EINPUT, "line %zu: more than %d groups", lineno,
				  ML_POLICY_GROUPS_MAX);
	if (new_name_ok(p, &tok[1], lineno, e) != 0)
		return ML_EINPUT;
	n = ntok - 3;
	if (tok_is(&tok[2], "any")) {
		k = 1;
	} else if (tok_is(&tok[2], "all")) {
		k = n;
	} else {
		/* "If k is given numerically, it must be written in decimal" */
		for (i = 0; i < tok[2].len; i++)
			if (tok[2].s[i] < '0' || tok[2].s[i] > '9' || i >= 9)
				return ml_err_set(e, ML_EINPUT,
						  "line %zu: threshold %s is not "
						  "all, any or a decimal number",
						  lineno,
						  tok_show(&tok[2], show));
		for (i = 0; i < tok[2].len; i++)
			k = k * 10 + (uint64_t)(tok[2].s[i] - '0');
		if (k < 1 || k > n)
			return ml_err_set(e, ML_EINPUT,
					  "line %zu: threshold %llu is not between 1 "
					  "and the %zu members", lineno,
					  (unsigned long long)k, n);
	}
	g = &p->nodes[p->nnodes];
	memset(g, 0, sizeof *g);
	for (i = 0; i < n; i++) {
		const struct token *m = &tok[3 + i];
		int idx;
		if (tok_is(m, "none"))
			return ml_err_set(e, ML_EINPUT,
					  "line %zu: \"none\" cannot be a group member",
					  lineno);
		idx = find_node(p, m);
		if (idx < 0)
			return ml_err_set(e, ML_EINPUT,
					  "line %zu: member %s is not a witness or group "
					  "defined on an earlier line", lineno,
					  tok_show(m, show));
		if (p->nodes[idx].listed)
			return ml_err_set(e, ML_EINPUT,
					  "line %zu: %s is already listed as a group "
					  "member (each name at most once)", lineno,
					  tok_show(m, show));
		p->nodes[idx].listed = 1;
		g->members[i] = (uint16_t)idx;
	}
	memcpy(g->name, tok[1].s, tok[1].len);
	g->name[tok[1].len] = '\0';
	g->name_len = tok[1].len;
	g->is_group = 1;
	g->k = (size_t)k;
	g->n = n;
	p->nnodes++;
	p->ngroups++;
	return ML_OK;
}

static int
policy_quorum(struct ml_policy *p, const struct token *tok, size_t ntok,
	      size_t lineno, struct ml_err *e)
{
	char show[200];
	int idx;

	if (ntok != 2)
		return ml_err_set(e, ML_EINPUT, "line %zu: want \"quorum <name>|none\"",
				  lineno);
	if (p->have_quorum)
		return ml_err_set(e, ML_EINPUT, "line %zu: a second quorum line", lineno);
	if (tok_is(&tok[1], "none")) {
		idx = -1;
	} else {
		idx = find_node(p, &tok[1]);
		if (idx < 0)
			return ml_err_set(e, ML_EINPUT,
					  "line %zu: quorum %s is not a witness or group "
					  "defined on an earlier line", lineno,
					  tok_show(&tok[1], show));
	}
	p->have_quorum = 1;
	p->quorum = idx;
	return ML_OK;
}

int
ml_policy_parse(const char *text, size_t len, struct ml_policy **out, struct ml_err *e)
{
	struct ml_policy *p;
	struct token tok[POLICY_TOKENS_MAX];
	size_t off, end, i, ntok, lineno = 0;
	char show[200];
	int rc = ML_OK;

	if (len > ML_POLICY_MAX)
		return ml_err_set(e, ML_EINPUT, "policy: longer than %d bytes",
				  ML_POLICY_MAX);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (!(c == '\t' || c == '\n' || (c >= 0x20 && c != 0x7f)))
			return ml_err_set(e, ML_EINPUT,
					  "policy: byte 0x%02x at offset %zu is not "
					  "allowed (only tab, newline, 0x20-0x7e, "
					  "0x80-0xff)", c, i);
	}
	p = calloc(1, sizeof *p);
	if (!p)
		return ml_err_set(e, ML_EIO, "policy: out of memory");

	/* A last line without its newline is read as a line too. */
	for (off = 0; off < len; off = end + 1) {
		const char *nl = memchr(text + off, '\n', len - off);
		end = nl ? (size_t)(nl - text) : len;
		lineno++;
		ntok = 0;
		for (i = off; i < end;) {
			size_t start;
			while (i < end && (text[i] == ' ' || text[i] == '\t'))
				i++;
			if (i == end)
				break;
			if (ntok == 0 && text[i] == '#')
				break; /* comment line */
			if (ntok == POLICY_TOKENS_MAX) {
				rc = ml_err_set(e, ML_EINPUT, "line %zu: too many items",
						lineno);
				goto out;
			}
			start = i;
			while (i < end && text[i] != ' ' && text[i] != '\t')
				i++;
			tok[ntok].s = text + start;
			tok[ntok].len = i - start;
			ntok++;
		}
		if (ntok == 0)
			continue;
		if (tok_is(&tok[0], "log"))
			rc = policy_log(p, tok, ntok, lineno, e);
		else if (tok_is(&tok[0], "witness"))
			rc = policy_witness(p, tok, ntok, lineno, e);
		else if (tok_is(&tok[0], "group"))
			rc = policy_group(p, tok, ntok, lineno, e);
		else if (tok_is(&tok[0], "quorum"))
			rc = policy_quorum(p, tok, ntok, lineno, e);
		else
			rc = ml_err_set(e, ML_EINPUT, "line %zu: unknown keyword %s",
					lineno, tok_show(&tok[0], show));
		if (rc != ML_OK)
			goto out;
	}
	if (!p->have_quorum) {
		rc = ml_err_set(e, ML_EINPUT, "policy: no quorum line");
		goto out;
	}
	*out = p;
	return ML_OK;
out:
	free(p);
	return rc;
}

void
ml_policy_free(struct ml_policy *p)
{
	free(p);
}

size_t
ml_policy_nlogs(const struct ml_policy *p)
{
	return p->nlogs;
}

const struct ml_pubkey *
ml_policy_log(const struct ml_policy *p, size_t i)
{
	return i < p->nlogs ? &p->logs[i] : NULL;
}

static void
set_why(char *why, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_why(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (!why || !cap)
		return;
	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
}

int
ml_policy_check(const struct ml_policy *p, const struct ml_note *n, char *why,
		size_t cap)
{
	return ml_policy_check_at(p, n, NULL, NULL, why, cap);
}

/* Appends name to the seen list (", " between names; cut when full). */
static void
seen_add(struct ml_policy_seen *s, const char *name)
{
	size_t used = strlen(s->names);

	if (used + 2 + strlen(name) + 1 > sizeof s->names)
		return;
	snprintf(s->names + used, sizeof s->names - used, "%s%s", used ? ", " : "", name);
}

int
ml_policy_check_at(const struct ml_policy *p, const struct ml_note *n,
		   const struct ml_policy_clock *clk, struct ml_policy_seen *seen, char *why,
		   size_t cap)
{
	struct ml_checkpoint cp;
	struct ml_err pe;
	char ok[POLICY_NODES_MAX] = {0};
	struct token t;
	char show[200];
	int log_ok = 0, st, expired = -1;
	uint64_t ts;
	size_t i, j, count;
	char more[300] = "";

	set_why(why, cap, "ok");
	if (seen)
		memset(seen, 0, sizeof *seen);
	ml_err_clear(&pe);
	if (ml_checkpoint_parse(n->text, n->text_len, &cp, &pe) != ML_OK) {
		set_why(why, cap, "%s", pe.msg);
		return 0;
	}
	if (p->nlogs == 0) {
		set_why(why, cap, "the policy names no log");
		return 0;
	}
	for (i = 0; i < p->nlogs; i++) {
		st = note_sig_status(n, &p->logs[i]);
		if (st < 0) {
			set_why(why, cap,
				"the signature by log key %s+%08x does not verify",
				p->logs[i].name, (unsigned)p->logs[i].hash);
			return 0;
		}
		if (st == 1 && strcmp(p->logs[i].name, cp.origin) == 0)
			log_ok = 1;
	}
	if (!log_ok) {
		t.s = cp.origin;
		t.len = strlen(cp.origin);
		set_why(why, cap,
			"no log of the policy for origin %s signed the checkpoint",
			tok_show(&t, show));
		return 0;
	}
	/* Nodes are defined before use, so one pass in order settles groups. */
	for (i = 0; i < p->nnodes; i++) {
		const struct policy_node *nd = &p->nodes[i];
		if (!nd->is_group) {
			st = cosig_status(n, &nd->key, &ts);
			if (st < 0) {
				t.s = nd->name;
				t.len = nd->name_len;
				set_why(why, cap,
					"the cosignature by witness %s does not verify",
					tok_show(&t, show));
				return 0;
			}
			t.s = nd->name;
			t.len = nd->name_len;
			if (st == 1 && clk && (int64_t)ts > clk->now + clk->tolerance) {
				set_why(why, cap,
					"the cosignature by witness %s is dated %llu, %lld s "
					"in the future (the witness's clock or ours is wrong)",
					tok_show(&t, show), (unsigned long long)ts,
					(long long)((int64_t)ts - clk->now));
				return 0;
			}
			if (st == 1 && clk && clk->max_age > 0 &&
			    (int64_t)ts < clk->now - clk->max_age) {
				/* too old: counts as no cosignature */
				expired = (int)i;
				st = 0;
			}
			if (st == 1 && seen) {
				seen_add(seen, tok_show(&t, show));
				seen->nwitnesses++;
				if (ts > seen->newest)
					seen->newest = ts;
			}
			ok[i] = st == 1;
			continue;
		}
		for (j = 0, count = 0; j < nd->n; j++)
			count += ok[nd->members[j]] ? 1 : 0;
		ok[i] = count >= nd->k;
	}
	if (p->quorum >= 0 && !ok[p->quorum]) {
		const struct policy_node *q = &p->nodes[p->quorum];
		if (expired >= 0) {
			t.s = p->nodes[expired].name;
			t.len = p->nodes[expired].name_len;
			snprintf(more, sizeof more,
				 " (the cosignature by witness %s is older than %lld s)",
				 tok_show(&t, show), (long long)clk->max_age);
		}
		t.s = q->name;
		t.len = q->name_len;
		if (q->is_group) {
			for (j = 0, count = 0; j < q->n; j++)
				count += ok[q->members[j]] ? 1 : 0;
			set_why(why, cap,
				"quorum %s not met: %zu of its %zu members witnessed, "
				"%zu needed%s", tok_show(&t, show), count, q->n, q->k, more);
		} else {
			set_why(why, cap,
				"quorum not met: no valid cosignature by witness %s%s",
				tok_show(&t, show), more);
		}
		return 0;
	}
	return 1;
}
