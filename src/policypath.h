/* policypath — the shipped policies, found by id.
 *
 * `--policy production` names a policy by its id.  When the ledger has no
 * policy of that id recorded (gate, check) or the command takes a policy
 * file (policy lint, policy record), the id is looked up as the file
 * ID.xml in each folder of $MLLEDGER_POLICY_PATH (colon-separated, empty
 * entries skipped), then in the folder compiled in as ML_POLICY_DIR
 * (the Makefile's $(PREFIX)/share/mlledger/policies).  The first regular
 * file wins.  Nothing relative to the binary or the working directory is
 * searched: a file there is named as a path (./policies/production.xml).
 * An argument with a '/' or ending in .xml is a path, used as given, and
 * never reaches this module.
 *
 * May call util only.
 */
#ifndef ML_POLICYPATH_H
#define ML_POLICYPATH_H

#include "util.h"

#define ML_POLICYPATH_MAX 4096   /* a found file's path, with its NUL */
#define ML_POLICYPATH_ID_MAX 128 /* an id's length */

/* The folder compiled in (never NULL; "" when built without one). */
const char *ml_policypath_dir(void);

/* Finds id's file: ML_OK and the path in out (ML_POLICYPATH_MAX bytes,
 * caller's); else ML_EINPUT with a one-line message naming ID.xml and
 * every folder searched, for the caller to prefix with where the id came
 * from (an id of other than letters, digits, '.', '_' and '-', or starting
 * with '.', is refused the same way before any search).  out is written
 * only on success. */
int ml_policypath_find(const char *id, char *out, struct ml_err *e);

#endif
