/* Differential test of util.h's base64 decoder (issue 18): the decoder
 * that takes four characters at a time must accept and reject exactly
 * what the character-by-character decoder it replaced did, with the same
 * bytes.  The old decoder is kept here, verbatim but for names, as the
 * reference; every input of up to 2 quanta over a small alphabet that
 * holds each class of character (values 0, 1, 62, 63, 32, '=', a byte
 * outside the alphabet, NUL), random inputs of many lengths, and the encodings of
 * random byte strings are decoded by both. */
#include "testutil.h"

#include "util.h"

static const char ref_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
ref_val(unsigned char c)
{
	const char *p = c ? memchr(ref_chars, c, 64) : NULL;
	return p ? (int)(p - ref_chars) : -1;
}

/* The decoder before issue 18, character by character. */
static int
ref_decode(const char *in, size_t inlen, uint8_t *out, size_t *outlen)
{
	size_t i, o = 0, pad = 0;

	if (inlen % 4)
		return ML_EINPUT;
	if (inlen >= 1 && in[inlen - 1] == '=')
		pad++;
	if (inlen >= 2 && in[inlen - 2] == '=')
		pad++;
	for (i = 0; i < inlen; i += 4) {
		int v[4], k;
		int last = i + 4 == inlen;
		for (k = 0; k < 4; k++) {
			if (last && k >= 4 - (int)pad) {
				if (in[i + k] != '=')
					return ML_EINPUT;
				v[k] = 0;
				continue;
			}
			v[k] = ref_val((unsigned char)in[i + k]);
			if (v[k] < 0)
				return ML_EINPUT;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
			     (uint32_t)v[2] << 6 | (uint32_t)v[3];
		out[o++] = (uint8_t)(w >> 16);
		if (!(last && pad == 2))
			out[o++] = (uint8_t)(w >> 8);
		else if (w & 0xffff)
			return ML_EINPUT;
		if (!(last && pad >= 1))
			out[o++] = (uint8_t)w;
		else if (pad == 1 && (w & 0xff))
			return ML_EINPUT;
	}
	*outlen = o;
	return ML_OK;
}

static unsigned long accepted, rejected;

/* Both decoders on in: the same verdict, and when accepted the same bytes;
 * ml_b64_decode_exact agrees for the length the reference produced. */
static void
same(const char *in, size_t len)
{
	uint8_t want[512], *got = NULL, exact[512];
	size_t wn = 0, gn = 0;
	int rrc = ref_decode(in, len, want, &wn);
	int nrc = ml_b64_decode(in, len, &got, &gn);

	if (rrc != nrc) {
		fprintf(stderr, "verdicts differ (ref %d, new %d) on \"%.*s\"\n", rrc, nrc,
			(int)len, in);
		fail();
	}
	if (rrc == ML_OK) {
		accepted++;
		assert_int_equal(gn, wn);
		assert_memory_equal(got, want, wn);
		if (wn <= 192) {
			assert_int_equal(ml_b64_decode_exact(in, len, exact, wn), ML_OK);
			assert_memory_equal(exact, want, wn);
		}
		free(got);
	} else {
		rejected++;
		if (len / 4 * 3 <= 192 && len / 4 * 3 >= 2)
			assert_int_equal(ml_b64_decode_exact(in, len, exact, len / 4 * 3 - 2),
					 ML_EINPUT);
	}
}

/* Every string of up to 8 characters (two quanta) over the alphabet. */
static void
test_exhaustive_small(void **state)
{
	static const char alpha[] = {'A', 'B', '/', '+', 'g', '=', '-', '\0'};
	const size_t na = sizeof alpha;
	char buf[8];
	size_t len, i, n, total;

	(void)state;
	accepted = rejected = 0;
	for (len = 0; len <= 8; len++) {
		for (total = 1, i = 0; i < len; i++)
			total *= na;
		for (n = 0; n < total; n++) {
			size_t x = n;
			for (i = 0; i < len; i++, x /= na)
				buf[i] = alpha[x % na];
			same(buf, len);
		}
	}
	/* both classes are well represented, so neither side is vacuous */
	assert_true(accepted > 10000);
	assert_true(rejected > 100000);
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* Random strings, mostly of alphabet characters, with sometimes one or two
 * bad characters or '=' at random places, and lengths not multiples of 4. */
static void
test_random(void **state)
{
	char buf[400];
	int round;

	(void)state;
	for (round = 0; round < 200000; round++) {
		size_t len = next() % 12 == 0 ? next() % 400 : 4 * (next() % 100);
		size_t i;
		for (i = 0; i < len; i++)
			buf[i] = ref_chars[next() % 64];
		if (len && next() % 2) {
			static const char odd[] = "=\0-_ \n.=";
			buf[next() % len] = odd[next() % (sizeof odd - 1)];
		}
		if (len >= 2 && next() % 3 == 0) {
			buf[len - 1] = '=';
			if (next() % 2)
				buf[len - 2] = '=';
		}
		same(buf, len);
	}
}

/* Encodings of random bytes: accepted by both, decoded to the bytes. */
static void
test_roundtrip(void **state)
{
	uint8_t bytes[300], *back;
	size_t n, len, blen;
	char *enc;

	(void)state;
	for (n = 0; n < 300; n++) {
		for (len = 0; len < n; len++)
			bytes[len] = (uint8_t)next();
		assert_non_null(enc = ml_b64_encode(bytes, n));
		same(enc, strlen(enc));
		assert_int_equal(ml_b64_decode(enc, strlen(enc), &back, &blen), ML_OK);
		assert_int_equal(blen, n);
		assert_memory_equal(back, bytes, n);
		free(back);
		free(enc);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exhaustive_small),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
