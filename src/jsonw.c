/* jsonw — see jsonw.h. */
#include "jsonw.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes written as they are: not '"', '\\', a C0 control or non-ASCII. */
static int
plain(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

enum ml_rc
ml_jsonw_string(struct ml_buf *b, const char *s, size_t len)
{
	static const char hexd[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s, *end = p + len, *run;

	ml_buf_append(b, "\"", 1);
	while (p < end) {
		run = p;
		while (p < end && plain(*p))
			p++;
		while (p < end && *p >= 0x80) { /* UTF-8 as it is, once validated */
			uint32_t cp;
			size_t n = ml_utf8_next(p, (size_t)(end - p), &cp);
			if (n == 0)
				return ML_EINPUT;
			p += n;
			while (p < end && plain(*p))
				p++;
		}
		if (p > run)
			ml_buf_append(b, run, (size_t)(p - run));
		if (p < end && *p < 0x80) {
			unsigned char c = *p++;
			char esc[6] = {'\\', (char)c, 0, 0, 0, 0};
			size_t n = 2;
			switch (c) {
			case '"': case '\\': break;
			case '\b': esc[1] = 'b'; break;
			case '\f': esc[1] = 'f'; break;
			case '\n': esc[1] = 'n'; break;
			case '\r': esc[1] = 'r'; break;
			case '\t': esc[1] = 't'; break;
			default: /* another C0 control */
				esc[1] = 'u';
				esc[2] = '0';
				esc[3] = '0';
				esc[4] = hexd[c >> 4];
				esc[5] = hexd[c & 15];
				n = 6;
			}
			ml_buf_append(b, esc, n);
		}
	}
	ml_buf_append(b, "\"", 1);
	return ML_OK;
}

/* The common real, such as a metric 0.9289, written without printf: one
 * in fixed notation ("%.15g" uses it for decimal exponents -4..14) with at
 * most 15 significant digits.  Finds the smallest k for which
 * m = round(|d| * 10^k) is an integer below 10^15 with m / 10^k == |d|:
 * m and 10^k are exact and IEEE division rounds correctly, so the decimal
 * m * 10^-k (at most 15 digits) has |d| as its nearest double; since every
 * decimal of at most 15 digits survives the trip to a double and back
 * (DBL_DIG), "%.15g" of d writes exactly those digits, and reading them
 * back gives d.  Returns the length written to buf (jansson's form: ".0"
 * added to an integer), or 0 when d is not such a real. */
static size_t
short_real(double d, char buf[32])
{
	static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
				     1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};
	double a = d < 0 ? -d : d, m = 0;
	char dig[20];
	int k, nd = 0, x;
	size_t n = 0;
	unsigned long long u;

	if (!(a >= 1e-4 && a < 1e15))
		return 0;
	for (k = 0; k < (int)(sizeof p10 / sizeof p10[0]); k++) {
		m = nearbyint(a * p10[k]);
		if (m >= 1e15)
			return 0;
		if (m >= 1 && m / p10[k] == a)
			break;
	}
	if (k == (int)(sizeof p10 / sizeof p10[0]))
		return 0;
	for (u = (unsigned long long)m; u; u /= 10)
		dig[sizeof dig - 1 - nd++] = (char)('0' + u % 10);
	x = nd - 1 - k; /* the decimal exponent "%.15g" would see */
	if (x < -4 || x >= 15)
		return 0;
	if (d < 0)
		buf[n++] = '-';
	if (k == 0) {
		memcpy(buf + n, dig + sizeof dig - nd, (size_t)nd);
		n += (size_t)nd;
		memcpy(buf + n, ".0", 2);
		n += 2;
	} else if (nd > k) {
		memcpy(buf + n, dig + sizeof dig - nd, (size_t)(nd - k));
		n += (size_t)(nd - k);
		buf[n++] = '.';
		memcpy(buf + n, dig + sizeof dig - k, (size_t)k);
		n += (size_t)k;
	} else {
		buf[n++] = '0';
		buf[n++] = '.';
		memset(buf + n, '0', (size_t)(k - nd));
		n += (size_t)(k - nd);
		memcpy(buf + n, dig + sizeof dig - nd, (size_t)nd);
		n += (size_t)nd;
	}
	buf[n] = '\0';
	return n;
}

/* jansson's jsonp_dtostr with precision 15: "%.15g", the locale's decimal
 * point turned into '.', ".0" added to a text without '.' or 'e', the
 * exponent's '+' and leading zeros dropped.  Returns the length of the NUL
 * terminated text in buf[32] ("%.15g" of a double is at most 23 bytes);
 * *exact = 1 when the text is known to read back as d (short_real). */
static size_t
real_text(double d, char buf[32], int *exact)
{
	const char *point;
	char *start, *x;
	int ret;
	size_t len;

	if ((len = short_real(d, buf))) {
		*exact = 1;
		return len;
	}
	*exact = 0;
	point = localeconv()->decimal_point;
	ret = snprintf(buf, 32, "%.15g", d);
	len = ret > 0 && ret < 28 ? (size_t)ret : 0;

	buf[len] = '\0';
	if (*point != '.' && (x = strchr(buf, *point)))
		*x = '.';
	if (!strchr(buf, '.') && !strchr(buf, 'e')) {
		memcpy(buf + len, ".0", 3);
		len += 2;
	}
	if ((start = strchr(buf, 'e'))) {
		start++;
		x = start + 1;
		if (*start == '-')
			start++;
		while (*x == '0')
			x++;
		if (x != start) {
			memmove(start, x, len - (size_t)(x - buf) + 1);
			len -= (size_t)(x - start);
		}
	}
	return len;
}

void
ml_jsonw_integer(struct ml_buf *b, long long n)
{
	char buf[24];

	ml_buf_puts(b, ml_i64_text(n, buf));
}

/* Appends the real v; with ML_JSONW_LOADABLE first sets v to the value
 * json_loadb reads its text back as (jansson refuses an overflow to
 * infinity, not an underflow).  The text is formatted once. */
static int
real_out(struct ml_buf *b, json_t *v, unsigned flags, struct ml_err *e)
{
	char buf[32];
	int exact;
	size_t n = real_text(json_real_value(v), buf, &exact);
	double r;

	if ((flags & ML_JSONW_LOADABLE) && !exact) {
		errno = 0;
		r = strtod(buf, NULL);
		if ((r == HUGE_VAL || r == -HUGE_VAL) && errno == ERANGE)
			return ml_err_set(e, ML_EINPUT, "real number overflow (%s)", buf);
		if (r != json_real_value(v) && json_real_set(v, r) != 0)
			return ml_err_set(e, ML_EINPUT, "real number %s", buf);
	}
	ml_buf_append(b, buf, n);
	return ML_OK;
}

static int
text_out(struct ml_buf *b, const char *s, size_t len, unsigned flags, struct ml_err *e)
{
	if ((flags & ML_JSONW_LOADABLE) && memchr(s, '\0', len))
		return ml_err_set(e, ML_EINPUT, "a NUL character (\\u0000) in a string or name");
	if (ml_jsonw_string(b, s, len) != ML_OK)
		return ml_err_set(e, ML_EINPUT, "invalid UTF-8 in a string or name");
	return ML_OK;
}

static int
value_out(struct ml_buf *b, json_t *v, unsigned flags, int depth, struct ml_err *e)
{
	const char *k;
	size_t klen, i;
	json_t *x;
	int rc, first = 1;

	if (depth > ML_JSONW_MAX_DEPTH && (flags & ML_JSONW_LOADABLE))
		return ml_err_set(e, ML_EINPUT, "nested deeper than %d", ML_JSONW_MAX_DEPTH);
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		ml_buf_append(b, "{", 1);
		json_object_keylen_foreach(v, k, klen, x) {
			if (!first)
				ml_buf_append(b, ",", 1);
			first = 0;
			if ((rc = text_out(b, k, klen, flags, e)))
				return rc;
			ml_buf_append(b, ":", 1);
			if ((rc = value_out(b, x, flags, depth + 1, e)))
				return rc;
		}
		ml_buf_append(b, "}", 1);
		return ML_OK;
	case JSON_ARRAY:
		ml_buf_append(b, "[", 1);
		json_array_foreach(v, i, x) {
			if (i)
				ml_buf_append(b, ",", 1);
			if ((rc = value_out(b, x, flags, depth + 1, e)))
				return rc;
		}
		ml_buf_append(b, "]", 1);
		return ML_OK;
	case JSON_STRING:
		return text_out(b, json_string_value(v), json_string_length(v), flags, e);
	case JSON_INTEGER:
		ml_jsonw_integer(b, (long long)json_integer_value(v));
		return ML_OK;
	case JSON_REAL:
		return real_out(b, v, flags, e);
	case JSON_TRUE:
		ml_buf_append(b, "true", 4);
		return ML_OK;
	case JSON_FALSE:
		ml_buf_append(b, "false", 5);
		return ML_OK;
	case JSON_NULL:
		ml_buf_append(b, "null", 4);
		return ML_OK;
	}
	return ml_err_set(e, ML_EINPUT, "not a JSON value");
}

int
ml_jsonw_value(struct ml_buf *b, json_t *v, unsigned flags, struct ml_err *e)
{
	int rc;

	if (!v)
		return ml_err_set(e, ML_EINPUT, "no value");
	rc = value_out(b, v, flags, 1, e);
	if (rc == ML_OK && b->oom)
		rc = ml_err_set(e, ML_EIO, "out of memory");
	return rc;
}
