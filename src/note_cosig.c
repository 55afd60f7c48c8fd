/* note_cosig — C2SP tlog-cosignature (see note_cosig.h).
 *
 * Every parser walks its input with explicit lengths (inputs need not be
 * NUL-terminated), checks a size limit first, and builds its result in
 * locals that are copied to *out only on success.
 */
#include "note_cosig.h"
#include "note_checkpoint.h"
#include "note_int.h"

#include <stdlib.h>
#include <string.h>

#define COSIG_LINE_LEN (4 + 8 + ML_SIG_LEN)   /* key ID, timestamp, signature */
#define COSIG_HEADER "cosignature/v1\n"

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

enum ml_rc
ml_cosig_timestamp(const struct ml_note_sig *s, uint64_t *timestamp)
{
	uint64_t t;

	if (s->sig_len != COSIG_LINE_LEN - 4)
		return ML_EINPUT;
	t = ml_get_be64(s->sig);
	if (t > INT63_MAX)
		return ML_EINPUT;
	*timestamp = t;
	return ML_OK;
}

enum ml_note_sig_state
ml_note_cosig_status(const struct ml_note *n, const struct ml_cosig_key *k, uint64_t *ts)
{
	struct ml_pubkey pub;
	struct ml_buf msg = {0};
	uint64_t t, best = 0;
	enum ml_note_sig_state found = ML_NOTE_SIG_NONE;
	size_t i;

	memset(&pub, 0, sizeof pub);
	memcpy(pub.pk, k->pk, ML_PUBKEY_LEN);
	for (i = 0; i < n->nsigs; i++) {
		const struct ml_note_sig *s = &n->sigs[i];
		if (!ml_note_sig_is(s, k->name, k->hash))
			continue;
		if (ml_cosig_timestamp(s, &t) != ML_OK) {
			found = ML_NOTE_SIG_BAD;
			break;
		}
		msg.len = 0;
		ml_cosig_message(n->text, n->text_len, t, &msg);
		if (msg.oom || !ml_pubkey_verify(&pub, msg.data, msg.len, s->sig + 8)) {
			found = ML_NOTE_SIG_BAD;
			break;
		}
		if (found == ML_NOTE_SIG_NONE || t > best)
			best = t;
		found = ML_NOTE_SIG_VALID;
	}
	ml_buf_free(&msg);
	if (found == ML_NOTE_SIG_VALID)
		*ts = best;
	return found;
}

bool
ml_cosig_verify(const struct ml_note *n, const struct ml_cosig_key *k,
		uint64_t *timestamp)
{
	uint64_t t = 0;

	if (ml_note_cosig_status(n, k, &t) != ML_NOTE_SIG_VALID)
		return false;
	if (timestamp)
		*timestamp = t;
	return true;
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
		if (ml_note_sig_is(&n->sigs[i], k.name, k.hash))
			continue;
		ml_buf_append(&b, n->sigs[i].line, n->sigs[i].line_len);
		ml_buf_puts(&b, "\n");
		kept++;
	}
	ml_buf_puts(&b, SIG_PREFIX);
	ml_buf_puts(&b, k.name);
	ml_buf_puts(&b, " ");
	ml_note_b64_append(&b, raw, sizeof raw);
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
