/* note_checkpoint — C2SP tlog-checkpoint bodies (c2sp.org/tlog-checkpoint).
 *
 * Part of the note module: pure functions over bytes, bounded inputs,
 * errors and dependencies as note.h says.
 */
#ifndef ML_NOTE_CHECKPOINT_H
#define ML_NOTE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "util.h"

/* A C2SP tlog-checkpoint body: origin line, decimal tree size (no leading
 * zeros except "0"), base64 root hash (32 bytes), then optional non-empty
 * extension lines ("opaque and OPTIONAL ... MUST be non-empty"). */
#define ML_CHECKPOINT_ORIGIN_MAX 255 /* bytes; tlog-cosignature encodes the
				       * origin as opaque log_origin<1..2^8-1> */
struct ml_checkpoint {
	char origin[ML_CHECKPOINT_ORIGIN_MAX + 1]; /* any non-empty UTF-8 line */
	uint64_t size;                             /* at most 2^63 - 1 */
	uint8_t root[ML_SHA256_LEN];
	size_t next;            /* number of extension lines */
	size_t ext_off, ext_len; /* their bytes (each with its '\n') in the text */
};
/* Parses the text of a note as a checkpoint.  ML_EINPUT on any deviation;
 * *out is set only on success.  The origin is not required to look like a
 * URL (the spec: "clients MUST NOT assume that the origin is following this
 * format"). */
int ml_checkpoint_parse(const char *text, size_t len, struct ml_checkpoint *out,
			struct ml_err *e);
/* Appends "origin\nsize\nbase64(root)\n" to out (no extension lines: the
 * spec says "The use of extension lines is NOT RECOMMENDED").  c->origin must
 * be a valid origin.  Out of memory sets out->oom. */
void ml_checkpoint_format(const struct ml_checkpoint *c, struct ml_buf *out);

/* Signed checkpoints, written and read in one place (the ledger writes one
 * per batch; tlog, witness, remote and the replica read them).
 *
 * ml_checkpoint_sign: formats c (as ml_checkpoint_format) and signs it with
 * the log key k (whose name must be c->origin, as C2SP says), appending the
 * signed note to out.  ML_EIO when out of memory, ML_EINPUT as ml_note_sign;
 * out is left as it was on failure. */
int ml_checkpoint_sign(const struct ml_seckey *k, const struct ml_checkpoint *c,
		       struct ml_buf *out, struct ml_err *e);
/* ml_checkpoint_open: parses a signed checkpoint note and checks that it is
 * of the log logkey names (origin == the key's name) and carries its valid
 * signature.  ML_EINPUT ("checkpoint: ...") for a malformed note or
 * checkpoint; ML_EINTEGRITY "of another log" / "not signed by the log
 * key".  *out is set only on success. */
int ml_checkpoint_open(const struct ml_pubkey *logkey, const char *bytes, size_t len,
		       struct ml_checkpoint *out, struct ml_err *e);

#endif
