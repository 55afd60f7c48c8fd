/* jsonp — a strict JSON reader that builds jansson trees, fast.
 *
 * The reader for the statements and envelopes verify walks (issue 18): one
 * pass over the bytes, no token buffer, no per-character calls, strings
 * copied straight into the tree.  It accepts the bytes that jansson's
 * json_loadb(..., JSON_REJECT_DUPLICATES, ...) accepts, but for the one
 * difference below, and builds an equal tree (same members in the same order, integers as integers,
 * reals as reals with the same double):
 *   - the top level is one object or array, then only whitespace
 *     (space, tab, LF, CR) to the end;
 *   - strings: strict UTF-8 (util's ml_utf8_next), no raw byte below 0x20,
 *     escapes \" \\ \/ \b \f \n \r \t \uXXXX only, surrogates only as a
 *     high-low \u pair, no U+0000 (neither escaped nor raw);
 *   - object keys unique (byte comparison of the decoded key);
 *   - numbers: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; without
 *     fraction or exponent an integer in int64 range (else rejected), with
 *     either a real from strtod (rejected if it overflows to +-HUGE_VAL);
 *   - true, false, null;
 *   - at most JSON_PARSER_MAX_DEPTH (2048) nested values, counted as jansson
 *     counts them (the top value is depth 1, every member or element one
 *     deeper).
 * One deliberate difference: jansson 2.14 silently drops one NUL byte that
 * directly follows a number or true/false/null ("[1\0]" parses); jsonp
 * refuses NUL bytes everywhere.  Statements cannot hold a NUL (their text
 * check runs first), and callers that must match jansson exactly hand what
 * jsonp refuses to json_loadb (statement.c does).
 * It gives no error message: a caller that wants jansson's message re-runs
 * json_loadb on what this rejects (statement.c does).  The equivalence is
 * tested by tests/unit/test_jsonp.c and the differential fuzz target
 * tests/fuzz/fuzz_jsonp.c.  May call util and jansson.
 */
#ifndef ML_JSONP_H
#define ML_JSONP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "util.h"

/* Parses the len bytes at buf (no terminator needed).  ML_OK and *out a new
 * tree the caller releases with json_decref; ML_EINPUT for bytes jansson
 * rejects (and for jansson's NUL quirk above); ML_EIO when out of memory.
 * *out is set only on success. */
enum ml_rc ml_jsonp_load(const uint8_t *buf, size_t len, json_t **out);

#endif
