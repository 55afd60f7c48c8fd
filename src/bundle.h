/* bundle — the auditor's bundle: what `export` writes, and the checks of
 * its keys/ folder that `verify --bundle` makes.
 *
 * The keys a bundle holds are the keys the ledger's entries enrolled (the
 * genesis entry's `admin` and every `key-enrollment`'s `key`, revoked keys
 * included), read from the signed statements, never from the `keys`
 * projection alone; a file name is built only from a key name that passes
 * the enrolment rule ([A-Za-z0-9._-], 1-64 bytes).  Export verifies its
 * snapshot copy (ml_verify) before it writes anything else, builds every
 * other file from that verified copy, and signs a MANIFEST of every file
 * with the exporter's enrolled key.  Byte-exact layout: ledger/FORMAT.md
 * §10.  May call verify, tlog, ledger, store, statement, merkle, note, keys,
 * util.
 */
#ifndef ML_BUNDLE_H
#define ML_BUNDLE_H

#include <stddef.h>

#include "keys.h"
#include "ledger.h"
#include "util.h"

#define ML_BUNDLE_KEYS_MAX 100000  /* entries read from a bundle's keys/ */
#define ML_BUNDLE_KEYFILE_MAX 4096 /* bytes read from one key file */
#define ML_BUNDLE_MANIFEST_MAX (64 * 1024 * 1024) /* bytes of a MANIFEST */

struct ml_seckey;

/* What export needs besides the ledger. */
struct ml_bundle_opts {
	const struct ml_seckey *exporter; /* signs MANIFEST; enrolled, not revoked */
	const char *since;                /* a held checkpoint note, or NULL */
	size_t since_len;
	const char *trust;                /* a trust policy's bytes, or NULL */
	size_t trust_len;
	int jobs;                         /* verify's signature threads (<= 0: all) */
};

/* Writes a consistent copy of the ledger (SQLite backup API, while writers
 * may append), verifies the copy (ML_EINTEGRITY "the ledger does not
 * verify" when it fails), then from the copy: keys/KEYID.pub for every key
 * the entries enrolled, policies/ID@VERSION.xml for every recorded policy,
 * log.pub, the latest checkpoint, README.txt, FORMAT.md, trust.policy (when
 * o->trust), since.checkpoint and consistency.proof (when o->since: the copy
 * must extend that note, else ML_EINTEGRITY), MANIFEST and MANIFEST.sig
 * (ML_EKEY when the exporter is not an active enrolled key) into dir, which
 * must be absent or an empty folder.  Everything is built in a new sibling folder DIR.export-XXXXXX
 * and renamed to dir at the end; on any failure that folder is removed with
 * all it holds, so dir is either the whole bundle or as it was.  ML_EINPUT
 * when dir is not new; ML_EINTEGRITY when an enrolment entry does not parse
 * or the keys table disagrees with the entries; ML_EIO on storage errors. */
int ml_bundle_export(struct ml_ledger *l, const char *dir, const struct ml_bundle_opts *o,
		     struct ml_err *e);

/* Checks dir/keys against the keys l's entries enrolled: a folder (not a
 * symlink) holding exactly one regular file KEYID.pub per enrolled key, whose
 * bytes are exactly that key's verifier key line and "\n", and nothing else.
 * Call after ml_verify passed on l.  *nkeys is set to the number of keys on
 * success.  ML_EINTEGRITY with a message naming the file at fault; ML_EIO on
 * read errors. */
int ml_bundle_check_keys(struct ml_ledger *l, const char *dir, size_t *nkeys,
			 struct ml_err *e);

/* Before the bundle's ledger is opened: DIR/MANIFEST parses, names only
 * NAME, keys/NAME and policies/NAME files, and the folder holds exactly
 * those files (regular files; keys/ and policies/ real folders) with the
 * listed sizes and SHA-256, plus MANIFEST, MANIFEST.sig, and SQLite's
 * ledger.db-shm and an empty ledger.db-wal.  *manifest (malloc'd) receives
 * MANIFEST's bytes for ml_bundle_check_manifest.  ML_EINTEGRITY naming the
 * file at fault; ML_EIO on read errors. */
int ml_bundle_check_files(const char *dir, char **manifest, size_t *mlen, struct ml_err *e);

/* After ml_verify passed on the bundle's ledger l: the manifest's scope is
 * the bundle's checkpoint, MANIFEST.sig is a signature of the manifest by an
 * active key enrolled in l (its keyid into exporter), policies/ is exactly
 * the recorded policies with their bytes, and a since.checkpoint signed by
 * the log key is proven a prefix by consistency.proof.  ML_EINTEGRITY. */
int ml_bundle_check_manifest(struct ml_ledger *l, const char *dir, const char *manifest,
			     size_t mlen, char exporter[ML_KEYID_MAX], struct ml_err *e);

#endif
