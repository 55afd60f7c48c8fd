/* jsonbin — jansson values as compact binary records, read back exactly.
 *
 * For values a process sets aside and reads back itself (the report's
 * spooled rows, spool.h): several times cheaper to write and to read than
 * JSON text, since nothing is formatted, escaped or parsed, and exact
 * (reals by their bits, integers in full, strings as their bytes, object
 * members in their order).  Not an interchange format: the byte order is
 * the machine's, and there is no version.
 *
 * A record is one value: a tag byte, then
 *   'n' 't' 'f'   null, true, false: nothing
 *   'i' 'r'       an int64 or a double: 8 bytes
 *   's'           a string: its length (varint), its bytes
 *   'a'           an array: its size (varint), the values
 *   'o'           an object: its size (varint), then per member the key's
 *                 length (varint), its bytes and the value
 * where a varint is LEB128 (7 bits a byte, low first, at most 10 bytes).
 *
 * May call jansson, util, libc.
 */
#ifndef ML_JSONBIN_H
#define ML_JSONBIN_H

#include <stddef.h>

#include <jansson.h>

#include "util.h"

/* Deepest nesting either way (the top value is depth 1). */
#define ML_JSONBIN_MAX_DEPTH 64

/* Appends the record of v to out.  ML_EINPUT when v nests deeper than
 * ML_JSONBIN_MAX_DEPTH or has an object key with a NUL byte (jansson's
 * json_object_setn allows one; ml_jsonbin_get would refuse it), ML_EIO
 * when out of memory (out->oom).  After an error out holds a partial
 * record: the caller drops what was appended. */
int ml_jsonbin_put(const json_t *v, struct ml_buf *out);

/* The value of the record of exactly len bytes at p (new reference), or
 * NULL when they are not one record (cut short, trailing bytes, an
 * unknown tag, a length past the end, nesting too deep, a string or key
 * that is not UTF-8) or when out of memory. */
json_t *ml_jsonbin_get(const void *p, size_t len);

#endif
