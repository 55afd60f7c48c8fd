/* policypath — the shipped policies, found by id (policypath.h). */
#include "policypath.h"
#include "policy_dir.h" /* ML_POLICY_DIR, written by the Makefile from PREFIX */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SEARCHED_MAX 300 /* the folders named in an error, truncated */

const char *
ml_policypath_dir(void)
{
	return ML_POLICY_DIR;
}

/* Letters, digits, '.', '_', '-'; 1..ML_POLICYPATH_ID_MAX; no leading '.'. */
static int
id_valid(const char *id)
{
	size_t i, n = strlen(id);

	if (n == 0 || n > ML_POLICYPATH_ID_MAX || id[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)id[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return 0;
	}
	return 1;
}

/* Tries dir[0..len)/id.xml: 1 and out filled when it is a regular file.
 * Adds the folder to searched (for the error) either way. */
static int
try_dir(const char *dir, size_t len, const char *id, char *out, char *searched)
{
	char path[ML_POLICYPATH_MAX];
	struct stat st;
	size_t used = strlen(searched);
	int n;

	if (len == 0)
		return 0;
	if (used < SEARCHED_MAX) {
		char *p = searched + used;
		snprintf(p, SEARCHED_MAX + 1 - used, "%s%.*s", used ? ":" : "", (int)len, dir);
		for (; *p; p++) /* the error stays one printable line */
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	n = snprintf(path, sizeof path, "%.*s/%s.xml", (int)len, dir, id);
	if (n < 0 || (size_t)n >= sizeof path || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	memcpy(out, path, (size_t)n + 1);
	return 1;
}

int
ml_policypath_find(const char *id, char *out, struct ml_err *e)
{
	const char *env = getenv("MLLEDGER_POLICY_PATH"), *p, *colon;
	char searched[SEARCHED_MAX + 1] = "";

	if (!id_valid(id))
		return ml_err_set(e, ML_EINPUT, "not a policy id (letters, digits, '.', '_', "
				  "'-') nor a path (a '/' or the .xml suffix)");
	for (p = env; p && *p; p = *colon ? colon + 1 : colon) {
		colon = strchr(p, ':');
		if (!colon)
			colon = p + strlen(p);
		if (try_dir(p, (size_t)(colon - p), id, out, searched))
			return ML_OK;
	}
	if (try_dir(ML_POLICY_DIR, strlen(ML_POLICY_DIR), id, out, searched))
		return ML_OK;
	return ml_err_set(e, ML_EINPUT, "no %s.xml in %s (MLLEDGER_POLICY_PATH, then the "
			  "installed policies)", id, searched[0] ? searched : "no folder");
}
