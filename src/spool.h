/* spool — bytes set aside in a temporary file, read back by handle.
 *
 * A spool is an append-only, unlinked temporary file: a builder puts
 * records it will read back later (the report's long tables, held out of
 * memory), and gets a handle for each.  Nothing is on disk under a name, so
 * nothing is left behind by a crash; the file is gone when the spool is
 * closed or the process ends.  Writes go through a buffer of a few hundred
 * KiB; a read of a record still in it is served from it.
 *
 * Not thread-safe: one thread uses a spool at a time.
 * May call util, libc.
 */
#ifndef ML_SPOOL_H
#define ML_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* The largest record (bytes) and the largest spool: a handle holds both. */
#define ML_SPOOL_RECORD_MAX ((size_t)1 << 24) /* 16 MiB, exclusive */
#define ML_SPOOL_SIZE_MAX ((uint64_t)1 << 38) /* 256 GiB, exclusive */

struct ml_spool;

/* An unlinked temporary file in dir (NULL: $TMPDIR, else /tmp), open for
 * reading and writing, mode 0600: its descriptor (caller closes), or -1
 * with errno set. */
int ml_tmpfile_fd(const char *dir);

/* A new spool in directory dir (NULL: $TMPDIR, else /tmp).  ML_EIO (the
 * message names the directory) when the file cannot be made. */
int ml_spool_open(const char *dir, struct ml_spool **out, struct ml_err *e);

/* Closes and frees sp; its file goes with it.  NULL is ignored. */
void ml_spool_close(struct ml_spool *sp);

/* Appends len bytes (0 <= len < ML_SPOOL_RECORD_MAX) and sets *handle, a
 * positive number naming them.  ML_EINPUT when the record or the spool
 * would be too large, ML_EIO when the file cannot be written (disk full):
 * the message names the directory.  After an error the spool still reads
 * every record put before it. */
int ml_spool_put(struct ml_spool *sp, const void *data, size_t len, int64_t *handle,
		 struct ml_err *e);

/* The length of the record a handle names (0 for a handle that is not
 * one: not positive). */
size_t ml_spool_len(int64_t handle);

/* Reads the record handle names into out (len bytes, ml_spool_len); the
 * caller supplies the room.  ML_EINPUT for a handle this spool did not
 * give (past its end), ML_EIO when the file cannot be read. */
int ml_spool_get(struct ml_spool *sp, int64_t handle, void *out, struct ml_err *e);

/* Bytes put so far. */
uint64_t ml_spool_size(const struct ml_spool *sp);

#endif
