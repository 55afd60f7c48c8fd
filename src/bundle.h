/* bundle — the auditor's bundle: what `export` writes, and the checks of
 * its keys/ folder that `verify --bundle` makes.
 *
 * The keys a bundle holds are the keys the ledger's entries enrolled (the
 * genesis entry's `admin` and every `key-enrollment`'s `key`, revoked keys
 * included), read from the signed statements, never from the `keys`
 * projection alone; a file name is built only from a key name that passes
 * the enrolment rule ([A-Za-z0-9._-], 1-64 bytes).  Byte-exact layout:
 * ledger/FORMAT.md §10.  May call tlog, ledger, store, statement, keys, util.
 */
#ifndef ML_BUNDLE_H
#define ML_BUNDLE_H

#include <stddef.h>

#include "ledger.h"
#include "util.h"

#define ML_BUNDLE_KEYS_MAX 100000  /* entries read from a bundle's keys/ */
#define ML_BUNDLE_KEYFILE_MAX 4096 /* bytes read from one key file */

/* Writes a consistent copy of the ledger (SQLite backup API, while writers
 * may append), keys/KEYID.pub for every key the entries enrolled, log.pub,
 * the latest checkpoint and README.txt into dir, which must be absent or an
 * empty folder.  Everything is built in a new sibling folder DIR.export-XXXXXX
 * and renamed to dir at the end; on any failure that folder is removed with
 * all it holds, so dir is either the whole bundle or as it was.  ML_EINPUT
 * when dir is not new; ML_EINTEGRITY when an enrolment entry does not parse
 * or the keys table disagrees with the entries; ML_EIO on storage errors. */
int ml_bundle_export(struct ml_ledger *l, const char *dir, struct ml_err *e);

/* Checks dir/keys against the keys l's entries enrolled: a folder (not a
 * symlink) holding exactly one regular file KEYID.pub per enrolled key, whose
 * bytes are exactly that key's verifier key line and "\n", and nothing else.
 * Call after ml_verify passed on l.  *nkeys is set to the number of keys on
 * success.  ML_EINTEGRITY with a message naming the file at fault; ML_EIO on
 * read errors. */
int ml_bundle_check_keys(struct ml_ledger *l, const char *dir, size_t *nkeys,
			 struct ml_err *e);

#endif
