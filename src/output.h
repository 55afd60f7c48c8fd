/* output — where a command may write: the one check every --out (and every
 * other file or folder a command writes) passes before anything is written.
 *
 * Never destroy data:
 *  - an existing file is replaced only with --force (force set);
 *  - the files the caller protects (the ledger in use, its -wal, -shm and
 *    -journal files, its log key, the secret keys the command read) are
 *    refused even with --force;
 *  - an existing secret key file (its text starts as keys.c writes one) is
 *    refused even with --force, unless the rules allow keys (key new
 *    --force replaces a key on purpose);
 *  - an output folder that already holds secret key files (a keys folder) is
 *    refused even with --force;
 *  - an existing folder, FIFO, device or socket is never replaced by a file.
 * A path names a protected file when both exist and have the same device and
 * inode (hard links, symbolic links, "./x/../ledger.db"), or, when neither
 * exists yet, when their resolved folders and names are equal.  The writes
 * themselves go through ml_write_file_atomic (temporary name in the same
 * folder, then rename).  May call ledger (the log key's file name), keys
 * (what a secret key file looks like), util.
 */
#ifndef ML_OUTPUT_H
#define ML_OUTPUT_H

#include <limits.h>
#include <stddef.h>

#include "util.h"

#define ML_OUT_GUARDS_MAX 16

/* The rules of one command.  Fill with ml_out_rules_init and ml_out_protect*;
 * everything is held inside (no allocation, nothing to free). */
struct ml_out_rules {
	int force;     /* --force: existing plain files may be replaced */
	int keys_ok;   /* existing secret key files may be replaced (key new) */
	size_t n;
	struct {
		char path[PATH_MAX];
		char what[48]; /* "the ledger", "the ledger's log key", ... */
	} g[ML_OUT_GUARDS_MAX];
};

void ml_out_rules_init(struct ml_out_rules *r, int force);
/* Adds a file that no output may replace; what names it in errors.  A path
 * too long to hold, or more than ML_OUT_GUARDS_MAX, is ML_EINPUT. */
int ml_out_protect(struct ml_out_rules *r, const char *path, const char *what,
		   struct ml_err *e);
/* Protects the ledger at path: the file, path-wal, path-shm, path-journal
 * and its log key (ml_ledger_logkey_path). */
int ml_out_protect_ledger(struct ml_out_rules *r, const char *path, struct ml_err *e);

/* Checks that path may be written: as a file (is_dir 0) or as a folder that
 * will hold the command's files (is_dir 1; it may exist unless it holds
 * secret keys; check each file written inside it too).  opt names the
 * option in errors ("--out"; may be NULL).  ML_OK, or ML_EINPUT with a one-
 * line message such as "--out ledger.db: refusing to overwrite the ledger"
 * or "--out r.html: exists (use --force to replace it)"; ML_EIO when a
 * folder cannot be read. */
int ml_out_check(const struct ml_out_rules *r, const char *opt, const char *path,
		 int is_dir, struct ml_err *e);

/* True when the regular file at path starts like a secret key file. */
bool ml_out_is_seckey_file(const char *path);

/* A state file that a command reads, checks and replaces (verify --state,
 * cosign --state).  ml_state_lock takes an exclusive flock(2) on
 * "path.lock" (created 0644 if absent, never following a symbolic link,
 * never truncated), waiting at most timeout_s seconds (ML_EIO "locked by
 * another process" after that); hold it across read, check and atomic
 * replace, then ml_state_unlock(fd).  Then ml_state_stat tells whether path
 * exists (*exists 0 or 1): a symbolic link (dangling or not), a folder,
 * FIFO, device or socket is ML_EINPUT "not a regular file". */
int ml_state_lock(const char *path, int timeout_s, int *fd, struct ml_err *e);
void ml_state_unlock(int fd);
int ml_state_stat(const char *path, int *exists, struct ml_err *e);

#endif
