/* jsonp — a strict JSON reader that builds jansson trees (see jsonp.h).
 *
 * Recursive descent over the bytes with one cursor.  Every function below
 * either consumes what it names and returns it, or returns NULL/false
 * having recorded the reason in rd.rc (ML_EINPUT: jansson would reject the
 * bytes; ML_EIO: out of memory).  The comments name the jansson 2.14
 * behaviour (src/load.c) each rule mirrors.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "jsonp.h"

struct rd {
	const unsigned char *p, *end; /* cursor and end of input */
	size_t len;                   /* input length: bound of any decoded string */
	char *scratch;                /* decoded strings with escapes (lazy, len bytes) */
	size_t depth;                 /* values open, as jansson's lex->depth */
	enum ml_rc rc;                /* the first failure */
};

static json_t *value(struct rd *r);

static json_t *
fail(struct rd *r, enum ml_rc rc)
{
	if (r->rc == ML_OK)
		r->rc = rc;
	return NULL;
}

static bool
is_digit(unsigned c)
{
	return c - '0' < 10u;
}

static void
skip_ws(struct rd *r)
{
	while (r->p < r->end &&
	       (*r->p == ' ' || *r->p == '\n' || *r->p == '\t' || *r->p == '\r'))
		r->p++;
}

/* True when the next byte is c (then consumed). */
static bool
eat(struct rd *r, unsigned char c)
{
	if (r->p < r->end && *r->p == c) {
		r->p++;
		return true;
	}
	return false;
}

/* The 4 hex digits at p (either case), or -1. */
static long
hex4(const unsigned char *p)
{
	long v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned c = p[i];
		v <<= 4;
		if (is_digit(c))
			v |= (long)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (long)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (long)(c - 'A' + 10);
		else
			return -1;
	}
	return v;
}

/* Writes code point v (valid, not a surrogate) as UTF-8 at t; its length. */
static size_t
put_utf8(unsigned long v, char *t)
{
	if (v < 0x80) {
		t[0] = (char)v;
		return 1;
	}
	if (v < 0x800) {
		t[0] = (char)(0xc0 | v >> 6);
		t[1] = (char)(0x80 | (v & 0x3f));
		return 2;
	}
	if (v < 0x10000) {
		t[0] = (char)(0xe0 | v >> 12);
		t[1] = (char)(0x80 | (v >> 6 & 0x3f));
		t[2] = (char)(0x80 | (v & 0x3f));
		return 3;
	}
	t[0] = (char)(0xf0 | v >> 18);
	t[1] = (char)(0x80 | (v >> 12 & 0x3f));
	t[2] = (char)(0x80 | (v >> 6 & 0x3f));
	t[3] = (char)(0x80 | (v & 0x3f));
	return 4;
}

/* The \u escape at p (p[0] == '\\', p[1] == 'u'), with its low surrogate
 * when it is a high one: the code point, and *p past it; -1 when jansson
 * rejects it (bad hex, a lone or reversed surrogate, U+0000, which it
 * refuses in values and keys alike). */
static long
unicode_escape(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	long v, lo;

	if (end - p < 6 || (v = hex4(p + 2)) < 0)
		return -1;
	p += 6;
	if (v >= 0xd800 && v <= 0xdbff) {
		if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || (lo = hex4(p + 2)) < 0 ||
		    lo < 0xdc00 || lo > 0xdfff)
			return -1;
		p += 6;
		v = ((v - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
	} else if ((v >= 0xdc00 && v <= 0xdfff) || v == 0) {
		return -1;
	}
	*pp = p;
	return v;
}

/* The rest of a string whose body starts at the cursor, with escapes: the
 * first `done` bytes of the body are plain and already checked.  Decodes
 * into r->scratch. */
static bool
string_escaped(struct rd *r, size_t done, const char **s, size_t *n)
{
	const unsigned char *p = r->p + done, *end = r->end;
	char *t;

	if (!r->scratch && !(r->scratch = malloc(r->len)))
		return fail(r, ML_EIO), false;
	memcpy(r->scratch, r->p, done);
	t = r->scratch + done;
	while (p < end && *p != '"') {
		unsigned c = *p;
		long v;
		uint32_t cp;
		size_t k;

		if (c < 0x20) /* raw control characters, NUL included */
			return fail(r, ML_EINPUT), false;
		if (c >= 0x80) {
			if (!(k = ml_utf8_next(p, (size_t)(end - p), &cp)))
				return fail(r, ML_EINPUT), false;
			memcpy(t, p, k);
			t += k, p += k;
			continue;
		}
		if (c != '\\') {
			*t++ = (char)c, p++;
			continue;
		}
		if (end - p < 2)
			return fail(r, ML_EINPUT), false;
		switch (p[1]) {
		case '"': case '\\': case '/': *t++ = (char)p[1]; break;
		case 'b': *t++ = '\b'; break;
		case 'f': *t++ = '\f'; break;
		case 'n': *t++ = '\n'; break;
		case 'r': *t++ = '\r'; break;
		case 't': *t++ = '\t'; break;
		case 'u':
			if ((v = unicode_escape(&p, end)) < 0)
				return fail(r, ML_EINPUT), false;
			t += put_utf8((unsigned long)v, t);
			continue;
		default:
			return fail(r, ML_EINPUT), false;
		}
		p += 2;
	}
	if (p == end)
		return fail(r, ML_EINPUT), false;
	*s = r->scratch;
	*n = (size_t)(t - r->scratch);
	r->p = p + 1;
	return true;
}

/* A string body at the cursor (the opening quote consumed), through its
 * closing quote.  *s, *n: the decoded bytes, in the input when there is no
 * escape, else in r->scratch (valid until the next string). */
static bool
string(struct rd *r, const char **s, size_t *n)
{
	const unsigned char *p = r->p, *end = r->end;
	uint32_t cp;
	size_t k;

	while (p < end) {
		unsigned c = *p;
		if (c == '"') {
			*s = (const char *)r->p;
			*n = (size_t)(p - r->p);
			r->p = p + 1;
			return true;
		}
		if (c == '\\')
			return string_escaped(r, (size_t)(p - r->p), s, n);
		if (c < 0x20)
			return fail(r, ML_EINPUT), false;
		if (c < 0x80) {
			p++;
			continue;
		}
		if (!(k = ml_utf8_next(p, (size_t)(end - p), &cp)))
			return fail(r, ML_EINPUT), false;
		p += k;
	}
	return fail(r, ML_EINPUT), false;
}

/* An integer as strtoll reads it: in range, or rejected as jansson's "too
 * big integer".  [s, e) is -?[0-9]+ without a leading zero. */
static json_t *
integer(struct rd *r, const unsigned char *s, const unsigned char *e)
{
	bool neg = *s == '-';
	uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, m = 0;
	json_t *j;

	for (s += neg; s < e; s++) {
		unsigned d = *s - '0';
		if (m > (limit - d) / 10)
			return fail(r, ML_EINPUT);
		m = m * 10 + d;
	}
	/* -(m - 1) - 1 reaches INT64_MIN without overflowing */
	j = json_integer(neg && m ? (json_int_t)(-(int64_t)(m - 1) - 1) : (json_int_t)m);
	return j ? j : fail(r, ML_EIO);
}

/* A real as jansson's jsonp_strtod reads it: strtod of the text with '.'
 * as the locale's decimal point; an overflow to +-HUGE_VAL is rejected. */
static json_t *
real(struct rd *r, const unsigned char *s, const unsigned char *e)
{
	char small[64], *buf = small, *dot;
	size_t n = (size_t)(e - s);
	const char *point = localeconv()->decimal_point;
	double d;
	json_t *j;

	if (n >= sizeof small && !(buf = malloc(n + 1)))
		return fail(r, ML_EIO);
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (*point != '.' && (dot = strchr(buf, '.')))
		*dot = *point;
	errno = 0;
	d = strtod(buf, NULL);
	if (buf != small)
		free(buf);
	if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE)
		return fail(r, ML_EINPUT);
	j = json_real(d);
	return j ? j : fail(r, ML_EINPUT);
}

/* A number at the cursor: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?,
 * an integer without fraction and exponent (jansson's lex_scan_number). */
static json_t *
number(struct rd *r)
{
	const unsigned char *s = r->p, *p = s, *end = r->end;
	bool is_real = false;

	if (*p == '-')
		p++;
	if (p == end || !is_digit(*p))
		return fail(r, ML_EINPUT);
	if (*p == '0') {
		if (++p < end && is_digit(*p))
			return fail(r, ML_EINPUT);
	} else {
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && *p == '.') {
		if (++p == end || !is_digit(*p))
			return fail(r, ML_EINPUT);
		while (p < end && is_digit(*p))
			p++;
		is_real = true;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		if (++p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || !is_digit(*p))
			return fail(r, ML_EINPUT);
		while (p < end && is_digit(*p))
			p++;
		is_real = true;
	}
	r->p = p;
	return is_real ? real(r, s, p) : integer(r, s, p);
}

/* true, false or null: jansson reads the whole run of letters, so "nulls"
 * is one bad token. */
static json_t *
literal(struct rd *r)
{
	const unsigned char *s = r->p;
	size_t n;

	while (r->p < r->end && ((*r->p | 0x20) >= 'a' && (*r->p | 0x20) <= 'z'))
		r->p++;
	n = (size_t)(r->p - s);
	if (n == 4 && memcmp(s, "true", 4) == 0)
		return json_true();
	if (n == 5 && memcmp(s, "false", 5) == 0)
		return json_false();
	if (n == 4 && memcmp(s, "null", 4) == 0)
		return json_null();
	return fail(r, ML_EINPUT);
}

/* The members of an object, its '{' consumed, through its '}'.  A repeated
 * key is rejected (JSON_REJECT_DUPLICATES): setting a key that is already
 * there replaces its value, so the object's size does not grow. */
static json_t *
object(struct rd *r)
{
	json_t *o = json_object(), *v;
	const char *k;
	char *kcopy;
	size_t kn, size;

	if (!o)
		return fail(r, ML_EIO);
	skip_ws(r);
	if (eat(r, '}'))
		return o;
	for (;;) {
		if (!eat(r, '"') || !string(r, &k, &kn))
			goto bad;
		kcopy = NULL; /* a key decoded in scratch outlives the value's strings */
		if (k == r->scratch) {
			if (!(kcopy = malloc(kn ? kn : 1))) {
				fail(r, ML_EIO);
				goto bad;
			}
			k = memcpy(kcopy, k, kn);
		}
		skip_ws(r);
		v = eat(r, ':') ? (skip_ws(r), value(r)) : fail(r, ML_EINPUT);
		size = json_object_size(o);
		if (v && json_object_setn_new_nocheck(o, k, kn, v) != 0)
			v = fail(r, ML_EIO); /* setn_new released v */
		free(kcopy);
		if (!v)
			goto bad;
		if (json_object_size(o) == size) {
			fail(r, ML_EINPUT); /* duplicate key */
			goto bad;
		}
		skip_ws(r);
		if (eat(r, '}'))
			return o;
		if (!eat(r, ','))
			goto bad;
		skip_ws(r);
	}
bad:
	json_decref(o);
	return fail(r, ML_EINPUT);
}

/* The elements of an array, its '[' consumed, through its ']'. */
static json_t *
array(struct rd *r)
{
	json_t *a = json_array(), *v;

	if (!a)
		return fail(r, ML_EIO);
	skip_ws(r);
	if (eat(r, ']'))
		return a;
	for (;;) {
		if (!(v = value(r)))
			goto bad;
		if (json_array_append_new(a, v) != 0) {
			fail(r, ML_EIO);
			goto bad;
		}
		skip_ws(r);
		if (eat(r, ']'))
			return a;
		if (!eat(r, ','))
			goto bad;
		skip_ws(r);
	}
bad:
	json_decref(a);
	return fail(r, ML_EINPUT);
}

/* One value at the cursor (no leading whitespace).  Depth counts every
 * value, scalars included, as jansson's parse_value does. */
static json_t *
value(struct rd *r)
{
	json_t *v;
	const char *s;
	size_t n;

	if (++r->depth > JSON_PARSER_MAX_DEPTH || r->p == r->end)
		return fail(r, ML_EINPUT);
	switch (*r->p) {
	case '{':
		r->p++;
		v = object(r);
		break;
	case '[':
		r->p++;
		v = array(r);
		break;
	case '"':
		r->p++;
		if (!string(r, &s, &n))
			return NULL;
		if (!(v = json_stringn_nocheck(s, n)))
			return fail(r, ML_EIO);
		break;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		v = number(r);
		break;
	default:
		v = literal(r);
		break;
	}
	if (v)
		r->depth--;
	return v;
}

enum ml_rc
ml_jsonp_load(const uint8_t *buf, size_t len, json_t **out)
{
	struct rd r = {0};
	json_t *v = NULL;

	if (!buf)
		return ML_EINPUT;
	r.p = buf;
	r.end = buf + len;
	r.len = len;
	skip_ws(&r);
	if (r.p < r.end && (*r.p == '{' || *r.p == '[')) {
		v = value(&r);
		skip_ws(&r);
		if (v && r.p != r.end) {
			json_decref(v);
			v = fail(&r, ML_EINPUT);
		}
	}
	free(r.scratch);
	if (!v)
		return r.rc != ML_OK ? r.rc : ML_EINPUT;
	*out = v;
	return ML_OK;
}
