/* artifact — SHA-256 digests of model and dataset artifacts.
 *
 * A file's digest is SHA-256 of its bytes.  A directory's digest is SHA-256
 * of its manifest: one line per regular file below it,
 *     <64 hex sha256> SP SP <relative path> LF
 * sorted by path bytewise (what `LC_ALL=C sha256sum` prints for files in
 * that order), so an outsider can recompute it with coreutils.  Symlinks to
 * regular files are hashed as their target's bytes; symlinks to folders,
 * devices, sockets and FIFOs are refused.  Paths with a newline, a carriage
 * return or a backslash are refused (sha256sum would escape them).  Files are hashed with OpenSSL by `jobs` threads.
 *
 * May call util and libc only.
 */
#ifndef ML_ARTIFACT_H
#define ML_ARTIFACT_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* A folder's file list is recorded in the statement (at most 512 KiB, about
 * 100 bytes a file): 4096 files fit with room for the rest. */
#define ML_ARTIFACT_MAX_FILES 4096

struct ml_artifact_file {
	char *path;     /* relative to the artifact root, '/' separated */
	uint64_t size;
	uint8_t sha256[ML_SHA256_LEN];
};

struct ml_artifact {
	int is_dir;
	uint8_t digest[ML_SHA256_LEN]; /* the file's, or the manifest's */
	size_t nfiles;                 /* 0 for a single file */
	struct ml_artifact_file *files;/* sorted by path */
	uint64_t total_bytes;
};

/* Hashes a file or a folder.  jobs <= 0 means one per online CPU.
 * progress, when non-NULL, is called about every 64 MiB and once at the end
 * with bytes done and total, always from the calling thread, never
 * concurrently and with no lock held.
 * *out is owned by the caller (ml_artifact_free).  ML_EINPUT for a missing
 * path or a refused entry (the message names it), ML_EIO for read errors. */
int ml_artifact_hash(const char *path, int jobs,
		     void (*progress)(void *ctx, uint64_t done, uint64_t total),
		     void *ctx, struct ml_artifact **out, struct ml_err *e);
void ml_artifact_free(struct ml_artifact *a);

#endif
