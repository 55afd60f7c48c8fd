/* fuzz.h — helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * Each target is one translation unit defining LLVMFuzzerTestOneInput; it
 * includes this header for the few helpers below.  Targets must not leak,
 * must not keep state between inputs (beyond fixed keys made once), and
 * abort() when a property the module's contract promises does not hold, so
 * that libFuzzer records the input as a crash.
 */
#ifndef ML_FUZZ_H
#define ML_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated malloc'd copy of data[0..n) (caller frees); aborts when
 * out of memory, which libFuzzer's own limits make a finding anyway. */
static inline char *
fz_strndup(const uint8_t *data, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		abort();
	memcpy(s, data, n);
	s[n] = '\0';
	return s;
}

/* Splits data at its first NUL byte: returns the length of the first part
 * and sets *rest / *rest_len to what follows the NUL (empty when there is
 * none).  The parsers fuzzed here refuse NUL bytes, so a NUL is a natural
 * separator between the parts of a multi-part input. */
static inline size_t
fz_split(const uint8_t *data, size_t n, const uint8_t **rest, size_t *rest_len)
{
	const uint8_t *z = memchr(data, 0, n);

	if (!z) {
		*rest = data + n;
		*rest_len = 0;
		return n;
	}
	*rest = z + 1;
	*rest_len = n - (size_t)(z - data) - 1;
	return (size_t)(z - data);
}

/* Stops the run with a message: a contract of the module did not hold. */
#define FZ_ASSERT(cond)                                                          \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, \
				__LINE__, #cond);                                \
			abort();                                                 \
		}                                                                \
	} while (0)

#endif
