/* jsonp_diff.h — the differential check of src/jsonp.c against jansson,
 * shared by the fuzz target fuzz_jsonp.c and tests/unit/test_jsonp.c.
 *
 * jsonp_diff(data, n) parses the bytes with ml_jsonp_load and with
 * json_loadb(..., JSON_REJECT_DUPLICATES, ...), the reader it replaces, and
 * returns NULL when both agree: both reject, or both accept with the same
 * tree, compared strictly (same types, so an integer never equals a real;
 * object members in the same order; strings byte for byte; reals bit for
 * bit, so -0.0 differs from 0.0).  Otherwise a static string saying how they
 * differ.  Out of memory in jsonp counts as a difference (the inputs are
 * small).  One difference is allowed, and checked: jansson's NUL quirk
 * (jsonp_nul_quirk below).
 */
#ifndef ML_JSONP_DIFF_H
#define ML_JSONP_DIFF_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsonp.h"

static int
jsonp_same_tree(json_t *a, json_t *b)
{
	const char *ka, *kb;
	json_t *va, *vb;
	void *ia, *ib;
	double da, db;
	size_t i;

	if (json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_OBJECT:
		if (json_object_size(a) != json_object_size(b))
			return 0;
		for (ia = json_object_iter(a), ib = json_object_iter(b); ia && ib;
		     ia = json_object_iter_next(a, ia), ib = json_object_iter_next(b, ib)) {
			ka = json_object_iter_key(ia);
			kb = json_object_iter_key(ib);
			va = json_object_iter_value(ia);
			vb = json_object_iter_value(ib);
			if (json_object_iter_key_len(ia) != json_object_iter_key_len(ib) ||
			    memcmp(ka, kb, json_object_iter_key_len(ia)) != 0 ||
			    !jsonp_same_tree(va, vb))
				return 0;
		}
		return !ia && !ib;
	case JSON_ARRAY:
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (i = 0; i < json_array_size(a); i++)
			if (!jsonp_same_tree(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	case JSON_STRING:
		return json_string_length(a) == json_string_length(b) &&
		       memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
	case JSON_INTEGER:
		return json_integer_value(a) == json_integer_value(b);
	case JSON_REAL:
		da = json_real_value(a);
		db = json_real_value(b);
		return memcmp(&da, &db, sizeof da) == 0;
	default: /* true, false, null: the type says it all */
		return 1;
	}
}

/* jansson 2.14 drops one NUL byte that directly follows a number or
 * true/false/null (its lexer "ungets" the NUL, and its stream then takes
 * the NUL for the end of its one-character buffer): it accepts "[1\0]".
 * jsonp refuses NUL bytes everywhere, and its callers hand what it refuses
 * to json_loadb.  This is that one allowed difference, checked precisely:
 * without the NULs that follow a digit or a letter, jsonp must accept the
 * bytes and build jansson's tree.  1 when it holds. */
static int
jsonp_nul_quirk(const uint8_t *data, size_t n, json_t *ref)
{
	uint8_t *copy = malloc(n ? n : 1);
	json_t *mine = NULL;
	size_t i, m = 0;
	int ok = 0;

	if (!copy)
		return 0;
	for (i = 0; i < n; i++)
		if (!(data[i] == 0 && i > 0 &&
		      ((data[i - 1] >= '0' && data[i - 1] <= '9') ||
		       (data[i - 1] >= 'a' && data[i - 1] <= 'z') ||
		       (data[i - 1] >= 'A' && data[i - 1] <= 'Z'))))
			copy[m++] = data[i];
	if (m < n && ml_jsonp_load(copy, m, &mine) == ML_OK)
		ok = jsonp_same_tree(mine, ref);
	json_decref(mine);
	free(copy);
	return ok;
}

static const char *
jsonp_diff(const uint8_t *data, size_t n)
{
	json_t *mine = NULL, *ref;
	enum ml_rc rc = ml_jsonp_load(data, n, &mine);
	const char *why = NULL;

	ref = json_loadb((const char *)data, n, JSON_REJECT_DUPLICATES, NULL);
	if (rc == ML_EIO)
		why = "jsonp ran out of memory";
	else if (rc == ML_OK && !ref)
		why = "jsonp accepts what jansson rejects";
	else if (rc != ML_OK && ref && !jsonp_nul_quirk(data, n, ref))
		why = "jsonp rejects what jansson accepts";
	else if (rc == ML_OK && !jsonp_same_tree(mine, ref))
		why = "jsonp and jansson build different trees";
	json_decref(mine);
	json_decref(ref);
	return why;
}

#endif
