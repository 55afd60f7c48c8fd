/* jsonw — the canonical JSON writer.
 *
 * Writes a jansson tree as exactly the bytes
 * json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(15)) returns (the form
 * every statement payload has had since format 1: members in insertion
 * order, no white space, '"' '\\' and C0 controls escaped as jansson does
 * (\b \f \n \r \t, else \u00XX in upper-case hex), '/' and non-ASCII
 * written as they are, integers in decimal, reals as "%.15g" with ".0"
 * added when that has neither '.' nor 'e' and the exponent's '+' and
 * leading zeros dropped), straight into an ml_buf: no callback per piece,
 * no allocation per call.  tests/unit/test_jsonw.c compares it with
 * json_dumps.  May call util, jansson.
 */
#ifndef ML_JSONW_H
#define ML_JSONW_H

#include <stddef.h>

#include <jansson.h>

#include "util.h"

/* jansson's JSON_PARSER_MAX_DEPTH: json_loadb refuses a value nested deeper
 * (the top-level value is at depth 1). */
#define ML_JSONW_MAX_DEPTH 2048

/* Flags for ml_jsonw_value. */
enum {
	/* Refuse (ML_EINPUT) whatever json_loadb(bytes, JSON_REJECT_DUPLICATES)
	 * of the output would refuse: a NUL in a string or a key, a real whose
	 * text overflows a double when read back, nesting deeper than
	 * ML_JSONW_MAX_DEPTH; and set every real of v to the value its text
	 * reads back as, so that v then equals (json_equal) that parse. */
	ML_JSONW_LOADABLE = 1u << 0,
};

/* Appends the encoding of v to b.  ML_OK; ML_EINPUT with e's message
 * saying why when v cannot be written (invalid UTF-8 in a string or key,
 * as json_dumps refuses; see ML_JSONW_LOADABLE for more), and b then holds
 * a partial encoding; ML_EIO when b ran out of memory (b->oom).  v is
 * borrowed (with ML_JSONW_LOADABLE its reals may be rounded, see above).
 * e may be NULL. */
int ml_jsonw_value(struct ml_buf *b, json_t *v, unsigned flags, struct ml_err *e);

/* Appends s[0..len) as a JSON string, quoted and escaped as above.
 * ML_OK, or ML_EINPUT on invalid UTF-8 (b then holds a partial encoding). */
enum ml_rc ml_jsonw_string(struct ml_buf *b, const char *s, size_t len);

/* Appends a signed decimal integer. */
void ml_jsonw_integer(struct ml_buf *b, long long n);

#endif
