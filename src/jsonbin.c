/* jsonbin — see jsonbin.h. */
#include "jsonbin.h"

#include <stdint.h>
#include <string.h>

static void
put_varint(struct ml_buf *b, uint64_t n)
{
	unsigned char t[10];
	size_t k = 0;

	do {
		t[k++] = (unsigned char)((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
		n >>= 7;
	} while (n);
	ml_buf_append(b, t, k);
}

static void
put_bytes(struct ml_buf *b, unsigned char tag, const char *s, size_t n)
{
	if (tag)
		ml_buf_append(b, &tag, 1);
	put_varint(b, n);
	ml_buf_append(b, s, n);
}

static int
put(const json_t *v, struct ml_buf *b, int depth)
{
	unsigned char tag;
	const char *k;
	json_t *x;
	size_t i, kn;

	if (depth > ML_JSONBIN_MAX_DEPTH)
		return ML_EINPUT;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		tag = 'o';
		ml_buf_append(b, &tag, 1);
		put_varint(b, json_object_size(v));
		/* jansson's iterator takes a non-const object; it only reads */
		json_object_keylen_foreach((json_t *)(uintptr_t)v, k, kn, x) {
			if (memchr(k, '\0', kn)) /* get refuses it; strlen would cut it */
				return ML_EINPUT;
			put_bytes(b, 0, k, kn);
			if (put(x, b, depth + 1))
				return ML_EINPUT;
		}
		break;
	case JSON_ARRAY:
		tag = 'a';
		ml_buf_append(b, &tag, 1);
		put_varint(b, json_array_size(v));
		json_array_foreach(v, i, x)
			if (put(x, b, depth + 1))
				return ML_EINPUT;
		break;
	case JSON_STRING:
		put_bytes(b, 's', json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER: {
		json_int_t n = json_integer_value(v);
		tag = 'i';
		ml_buf_append(b, &tag, 1);
		ml_buf_append(b, &n, 8);
		break;
	}
	case JSON_REAL: {
		double d = json_real_value(v);
		tag = 'r';
		ml_buf_append(b, &tag, 1);
		ml_buf_append(b, &d, 8);
		break;
	}
	default:
		tag = json_is_true(v) ? 't' : json_is_false(v) ? 'f' : 'n';
		ml_buf_append(b, &tag, 1);
		break;
	}
	return ML_OK;
}

int
ml_jsonbin_put(const json_t *v, struct ml_buf *out)
{
	_Static_assert(sizeof(json_int_t) == 8 && sizeof(double) == 8, "8-byte numbers");
	if (put(v, out, 1))
		return ML_EINPUT;
	return out->oom ? ML_EIO : ML_OK;
}

/* ---- reading ----------------------------------------------------------- */

struct rd {
	const unsigned char *p, *end;
};

static int
get_varint(struct rd *r, uint64_t *n)
{
	unsigned shift = 0;

	*n = 0;
	while (r->p < r->end && shift < 64) {
		unsigned char c = *r->p++;
		if (shift == 63 && c > 1)
			return -1; /* past 64 bits (or an 11th byte): it would wrap */
		*n |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return 0;
		shift += 7;
	}
	return -1;
}

/* A length-prefixed run of bytes that is valid UTF-8: *s and *n. */
static int
get_bytes(struct rd *r, const char **s, size_t *n)
{
	uint64_t len;
	size_t at = 0;

	if (get_varint(r, &len) || len > (uint64_t)(r->end - r->p))
		return -1;
	*s = (const char *)r->p;
	*n = (size_t)len;
	while (at < *n) { /* jansson's strings are UTF-8: so must these be */
		const unsigned char *c = (const unsigned char *)*s + at;
		uint32_t cp;
		size_t used = *c < 0x80 ? 1 : ml_utf8_next(c, *n - at, &cp);
		if (!used)
			return -1;
		at += used;
	}
	r->p += len;
	return 0;
}

static json_t *get(struct rd *r, int depth);

static json_t *
get_object(struct rd *r, int depth)
{
	json_t *o = json_object(), *v;
	uint64_t n, i;
	const char *k;
	size_t kn;

	if (!o || get_varint(r, &n) || n > (uint64_t)(r->end - r->p))
		goto bad;
	for (i = 0; i < n; i++) {
		/* the key first: v, once read, is only ever released by setn */
		if (get_bytes(r, &k, &kn) || memchr(k, '\0', kn) || !(v = get(r, depth + 1)))
			goto bad;
		if (json_object_setn_new_nocheck(o, k, kn, v))
			goto bad; /* json_object_setn* released v */
	}
	return o;
bad:
	json_decref(o);
	return NULL;
}

static json_t *
get_array(struct rd *r, int depth)
{
	json_t *a = json_array(), *v;
	uint64_t n, i;

	if (!a || get_varint(r, &n) || n > (uint64_t)(r->end - r->p))
		goto bad;
	for (i = 0; i < n; i++)
		if (!(v = get(r, depth + 1)) || json_array_append_new(a, v))
			goto bad;
	return a;
bad:
	json_decref(a);
	return NULL;
}

static json_t *
get(struct rd *r, int depth)
{
	const char *s;
	size_t n;
	json_int_t i;
	double d;

	if (depth > ML_JSONBIN_MAX_DEPTH || r->p >= r->end)
		return NULL;
	switch (*r->p++) {
	case 'n':
		return json_null();
	case 't':
		return json_true();
	case 'f':
		return json_false();
	case 'i':
		if (r->end - r->p < 8)
			return NULL;
		memcpy(&i, r->p, 8);
		r->p += 8;
		return json_integer(i);
	case 'r':
		if (r->end - r->p < 8)
			return NULL;
		memcpy(&d, r->p, 8);
		r->p += 8;
		return json_real(d);
	case 's':
		return get_bytes(r, &s, &n) ? NULL : json_stringn_nocheck(s, n);
	case 'a':
		return get_array(r, depth);
	case 'o':
		return get_object(r, depth);
	default:
		return NULL;
	}
}

json_t *
ml_jsonbin_get(const void *p, size_t len)
{
	struct rd r = {p, (const unsigned char *)p + len};
	json_t *v = get(&r, 1);

	if (v && r.p != r.end) {
		json_decref(v);
		v = NULL;
	}
	return v;
}
