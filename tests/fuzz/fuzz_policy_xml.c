/* fuzz_policy_xml — policy XML files: the secure XML parse
 * (ml_policy_xml_parse: no DOCTYPE, no entities, no network, bounded depth)
 * and the whole `policy lint` path (ml_policyset_lint: schema validation,
 * XPath compilation and name binding), which reads a path, so each input
 * is written to a private temporary file first (one per process, in
 * $TMPDIR or /tmp).  Inputs are capped by -max_len (see run.sh), well
 * under ML_POLICY_MAX_BYTES. */
#include "fuzz.h"

#include <fcntl.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "policy.h"

static char path[4096];

static void
remove_input(void)
{
	unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	(void)argc;
	(void)argv;
	snprintf(path, sizeof path, "%s/mlledger-fuzz-policy-XXXXXX.xml",
		 dir && *dir ? dir : "/tmp");
	if ((fd = mkstemps(path, 4)) < 0)
		abort();
	close(fd);
	atexit(remove_input);
	return 0;
}

/* Replaces the temporary file's bytes with data. */
static void
write_input(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	xmlDocPtr doc = NULL;
	struct ml_err e;

	if (ml_policy_xml_parse((const char *)data, size, "fuzz.xml", ML_POLICY_MAX_DEPTH,
				&doc, &e) == ML_OK)
		xmlFreeDoc(doc);
	write_input(data, size);
	(void)ml_policyset_lint(path, &e);
	return 0;
}
