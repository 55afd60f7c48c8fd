/* fuzz_cli_values — the small parsers of command-line values: --set and
 * --metric "k=v" (ml_request_add_kv), NAME@VERSION (ml_ref_split), times
 * (ml_time_parse: --since, --as-of, --expires), digests (ml_digest_parse:
 * --digest) and kind names (ml_kind_parse).
 * Properties: ml_ref_split's parts obey its charset and length contract and
 * rejoin to the input; a parsed time formats and parses back to the same
 * second; a parsed kind's name parses back to it. */
#include "fuzz.h"

#include "request.h"
#include "statement.h"

static void
check_ref(const char *s)
{
	char name[129], version[65], joined[200];

	if (ml_ref_split(s, name, version) != 0)
		return;
	FZ_ASSERT(strlen(name) >= 1 && strlen(name) <= 128);
	FZ_ASSERT(strlen(version) >= 1 && strlen(version) <= 64);
	FZ_ASSERT(strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			       "0123456789._/-") == strlen(name));
	FZ_ASSERT(strspn(version, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				  "0123456789._+-") == strlen(version));
	snprintf(joined, sizeof joined, "%s@%s", name, version);
	FZ_ASSERT(strcmp(joined, s) == 0);
}

static void
check_time(const char *s)
{
	char buf[21];
	int64_t us, again;

	if (ml_time_parse(s, &us) != 0)
		return;
	ml_time_format(us, buf);
	FZ_ASSERT(ml_time_parse(buf, &again) == 0);
	FZ_ASSERT(again == us - us % 1000000 || again == us);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_strndup(data, size);
	json_t *obj = json_object();
	uint8_t d[ML_SHA256_LEN];
	enum ml_kind k;
	struct ml_err e;

	if (!obj)
		abort();
	(void)ml_request_add_kv(obj, s, "set", &e);
	json_decref(obj);
	check_ref(s);
	check_time(s);
	(void)ml_digest_parse(s, d);
	if (ml_kind_parse(s, &k) == 0)
		FZ_ASSERT(strcmp(ml_kind_name(k), s) == 0);
	free(s);
	return 0;
}
