/* note_cosig — C2SP tlog-cosignature (c2sp.org/tlog-cosignature).
 *
 * Part of the note module: pure functions over bytes, bounded inputs,
 * errors and dependencies as note.h says.
 */
#ifndef ML_NOTE_COSIG_H
#define ML_NOTE_COSIG_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "note.h"
#include "util.h"

/* C2SP tlog-cosignature, Ed25519 (signature type 0x04).  A witness signs
 *     "cosignature/v1\ntime <timestamp>\n" || the whole checkpoint text
 * (extension lines included), timestamp in ASCII decimal without leading
 * zeros, with Ed25519; the signature line carries
 *     key ID(4) || timestamp (u64 big-endian) || signature(64)
 * with key ID = SHA-256(name || 0x0A || 0x04 || pk)[:4].  The timestamp "MUST
 * NOT exceed 2^63 - 1".  ML-DSA-44 cosignatures (type 0x06) are not
 * supported: their lines are ignored like any unknown key's. */
struct ml_cosig_key {
	char name[ML_KEY_NAME_MAX + 1];
	uint32_t hash;                /* the 0x04 key ID above */
	uint8_t pk[ML_PUBKEY_LEN];
};
/* The key ID above.  name is at most ML_KEY_NAME_MAX bytes. */
uint32_t ml_cosig_key_hash(const char *name, const uint8_t pk[ML_PUBKEY_LEN]);
/* The witness key of an Ed25519 secret key (same name and public key). */
void ml_cosig_key_of(const struct ml_seckey *k, struct ml_cosig_key *out);
/* Parses a witness verifier key "name+<8 hex key ID>+base64(0x04 || pk)" (no
 * newline), checking the key ID and the point as ml_pubkey_parse does.
 * ML_EINPUT for type 0x01 (a log or author key), 0x06 (ML-DSA-44, not
 * supported) and any other error; *out is set only on success. */
int ml_cosig_vkey_parse(const char *s, size_t len, struct ml_cosig_key *out,
			struct ml_err *e);
/* Writes the verifier key line (NUL-terminated) into buf[ML_VKEY_MAX]. */
void ml_cosig_vkey_format(const struct ml_cosig_key *k, char buf[ML_VKEY_MAX]);
/* Appends the signed message for text and timestamp to out (out of memory
 * sets out->oom). */
void ml_cosig_message(const char *text, size_t len, uint64_t timestamp,
		      struct ml_buf *out);
/* Cosigns the note `note` (len bytes), whose text must be a checkpoint, with
 * witness at timestamp, and appends to out the note with the witness's line
 * added after the others; an earlier line by the same witness key (name and
 * 0x04 key ID) is replaced, as golang.org/x/mod/sumdb/note Sign does.  The
 * note's other signatures are NOT verified here: a witness checks the log's
 * signature and the consistency with what it saw before calling this.
 * ML_EINPUT for a malformed note, a text that is not a checkpoint, a
 * timestamp above 2^63 - 1, or a result above the note limits; ML_EIO when
 * out of memory.  out is left as it was on failure. */
int ml_cosign(const struct ml_seckey *witness, const char *note, size_t len,
	      uint64_t timestamp, struct ml_buf *out, struct ml_err *e);
/* True when n carries a valid cosignature by k, and then writes its timestamp
 * (the largest, if k signed more than one line; timestamp may be NULL); else
 * false.  As with ml_note_verify, every line with k's name and key ID must
 * verify. */
bool ml_cosig_verify(const struct ml_note *n, const struct ml_cosig_key *k,
		     uint64_t *timestamp);
/* Reads the timestamp of a cosignature line without verifying it (for
 * display).  ML_OK, or ML_EINPUT when the line is not 72 bytes or the
 * timestamp exceeds 2^63 - 1. */
enum ml_rc ml_cosig_timestamp(const struct ml_note_sig *s, uint64_t *timestamp);

#endif
