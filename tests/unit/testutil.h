/* Shared helpers for the cmocka unit tests.  cmocka 1.1.5 needs these
 * headers before <cmocka.h>. */
#ifndef ML_TESTUTIL_H
#define ML_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* Makes a fresh temporary folder (mkdtemp under $TMPDIR or /tmp) and writes
 * its path into buf.  Tests remove it with tu_rmtree. */
static inline void
tu_tmpdir(char *buf, size_t cap)
{
	const char *t = getenv("TMPDIR");
	snprintf(buf, cap, "%s/mlledger-test-XXXXXX", t && *t ? t : "/tmp");
	assert_non_null(mkdtemp(buf));
}

static inline void
tu_rmtree(const char *dir)
{
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* Decodes a hex literal into out (exactly n bytes) or fails the test. */
static inline void
tu_unhex(const char *hex, uint8_t *out, size_t n)
{
	size_t i;
	assert_int_equal(strlen(hex), 2 * n);
	for (i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

#endif
