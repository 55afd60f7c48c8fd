/* fuzz_keys — key lines and key files: verifier key lines (ml_pubkey_parse,
 * ml_pubkey_parse_recorded), witness key lines (ml_cosig_vkey_parse), and
 * secret key files (ml_seckey_decode), plain and encrypted.
 *
 * The cost of an encrypted key is bounded by keys.c itself: every field is
 * checked before the passphrase is asked for, and Argon2id's limits are
 * capped (ENC_OPS_MAX 16, ENC_MEM_MAX 1 GiB).  That cap is still seconds per
 * input, so this target hands out a passphrase only when the file asks for
 * the cheapest parameters (OPS 1, MEM 8192 = libsodium's minimums); other
 * files are decoded up to the passphrase request, which is all the parsing.
 * The seed corpus holds encrypted keys made that cheap (passphrase "fuzz").
 * Property: a decoded key's public half formats as a line that parses back
 * to the same key. */
#include "fuzz.h"

#include <sodium.h>

#include "keys.h"
#include "note.h"
#include "note_cosig.h"

static int
passphrase(void *ctx, const char *path, char *buf, size_t cap)
{
	(void)ctx;
	(void)path;
	if (cap < 5)
		return ML_EKEY;
	memcpy(buf, "fuzz", 5);
	return ML_OK;
}

static int
no_passphrase(void *ctx, const char *path, char *buf, size_t cap)
{
	(void)ctx;
	(void)path;
	(void)buf;
	(void)cap;
	return ML_EKEY;
}

/* True when fields 4 and 5 of the line are " 1 8192 ": the cheap KDF. */
static int
cheap_kdf(const char *s)
{
	const char *p = s;
	int i;

	for (i = 0; i < 3 && p; i++)
		if ((p = strchr(p, ' ')))
			p++;
	return p && strncmp(p, "1 8192 ", 7) == 0;
}

static void
check_pub(const struct ml_pubkey *k)
{
	char line[ML_VKEY_MAX];
	struct ml_pubkey again;
	struct ml_err e;

	ml_pubkey_format(k, line);
	FZ_ASSERT(ml_pubkey_parse_recorded(line, strlen(line), &again, &e) == ML_OK);
	FZ_ASSERT(strcmp(again.name, k->name) == 0 && again.hash == k->hash);
	FZ_ASSERT(memcmp(again.pk, k->pk, ML_PUBKEY_LEN) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct ml_pubkey pk;
	struct ml_cosig_key ck;
	struct ml_seckey *sk = NULL;
	struct ml_err e;
	char *text;

	if (sodium_init() < 0)
		abort();
	if (ml_pubkey_parse(s, size, &pk, &e) == ML_OK)
		check_pub(&pk);
	if (ml_pubkey_parse_recorded(s, size, &pk, &e) == ML_OK)
		check_pub(&pk);
	(void)ml_cosig_vkey_parse(s, size, &ck, &e);
	text = fz_strndup(data, size);
	(void)ml_seckey_text_encrypted(s, size);
	if (ml_seckey_decode(s, size, "fuzz.key",
			     cheap_kdf(text) ? passphrase : no_passphrase, NULL, &sk,
			     &e) == ML_OK) {
		check_pub(ml_seckey_public(sk));
		ml_seckey_free(sk);
	}
	free(text);
	return 0;
}
