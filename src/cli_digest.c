/* cli_digest — `mlledger digest PATH`: the artifact digest alone.
 *
 * Prints the digest `record dataset --file` / `record model --artifact`
 * would record for PATH (artifact.h: a file's SHA-256, or a folder's
 * manifest hash), without a ledger, a key or a write.  Lets users check an
 * artifact against a recorded entry, and lets bench/ time the hashing on
 * its own.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "artifact.h"
#include "cli.h"

int
cmd_digest(int argc, char **argv)
{
	struct cli c = {.cmd = "digest"};
	struct ml_artifact *a = NULL;
	struct ml_err e;
	char hex[2 * ML_SHA256_LEN + 1];
	int rc, njobs = 0;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "jobs=")))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger digest PATH [--jobs N] [--format text|json]\n\n"
		     "Prints sha256:HEX of a file or folder exactly as 'record dataset --file'\n"
		     "and 'record model --artifact' compute it: a file's SHA-256, or for a folder\n"
		     "the SHA-256 of its manifest ('LC_ALL=C sha256sum' lines of every file,\n"
		     "sorted by path), its files hashed on --jobs N threads (default: one per\n"
		     "CPU).  --format json adds the type, size and per-file digests.  No ledger\n"
		     "is opened.");
		return ML_OK;
	}
	if (c.nargs != 1)
		return cli_failf(&c, ML_EINPUT, "want one PATH (see --help)");
	{
		long n;
		if ((rc = cli_opt_long(&c, "jobs", 1, 256, 0, &n)))
			return rc;
		njobs = (int)n;
	}
	rc = ml_artifact_hash(c.args[0], njobs, cli_progress, "hashing", &a, &e);
	cli_progress_done();
	if (rc)
		return cli_fail(&c, &e);
	ml_hex_encode(a->digest, sizeof a->digest, hex);
	if (c.json) {
		json_t *o = json_pack("{s:s+, s:s, s:I}", "digest", "sha256:", hex, "type",
				      a->is_dir ? "directory" : "file", "size",
				      (json_int_t)a->total_bytes);
		char *text;
		size_t i;

		if (o && a->is_dir) {
			json_t *files = json_array();
			for (i = 0; i < a->nfiles; i++) {
				ml_hex_encode(a->files[i].sha256, ML_SHA256_LEN, hex);
				json_array_append_new(files,
						      json_pack("{s:s, s:s, s:I}", "path",
								a->files[i].path, "sha256", hex,
								"size", (json_int_t)a->files[i].size));
			}
			json_object_set_new(o, "files", files);
		}
		text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
		json_decref(o);
		ml_artifact_free(a);
		if (!text)
			return cli_failf(&c, ML_EIO, "out of memory");
		puts(text);
		free(text);
		return ML_OK;
	}
	printf("sha256:%s\n", hex);
	ml_artifact_free(a);
	return ML_OK;
}
