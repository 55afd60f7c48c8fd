/* note_int — helpers shared by the note module's files (note.c,
 * note_checkpoint.c, note_cosig.c, note_proof.c, note_trust.c).  Not for use
 * outside src/note*.c.
 */
#ifndef ML_NOTE_INT_H
#define ML_NOTE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "note.h"
#include "note_cosig.h"
#include "util.h"

#define SIG_PREFIX "\xe2\x80\x94 "     /* em dash U+2014, space */
#define SIG_PREFIX_LEN 4
#define KEY_TYPE_ED25519 0x01
#define KEY_TYPE_COSIG 0x04
#define KEY_TYPE_MLDSA44 0x06
#define INT63_MAX 0x7fffffffffffffffULL

/* Checks signed-note text rules on s[0..len): valid UTF-8, no code point
 * below U+0020 other than '\n'.  ML_OK, or ML_EINPUT with the reason (what:
 * the field's name) in e. */
enum ml_rc ml_note_chars_ok(const char *s, size_t len, const char *what, struct ml_err *e);
/* Finds the end of the line starting at off: *eol gets the index of its
 * '\n' and ML_OK is returned, or *eol gets len and ML_EINPUT when there is
 * none. */
enum ml_rc ml_note_line_end(const char *s, size_t len, size_t off, size_t *eol);
/* Decodes strict base64 of exactly 32 bytes into out; ML_OK, or ML_EINPUT. */
enum ml_rc ml_note_hash_decode(const char *s, size_t len, uint8_t out[ML_SHA256_LEN]);
/* Appends base64(data) to out (out of memory sets out->oom). */
void ml_note_b64_append(struct ml_buf *out, const uint8_t *data, size_t len);
/* True when the line's name and key ID are those of (name, hash). */
bool ml_note_sig_is(const struct ml_note_sig *s, const char *name, uint32_t hash);
/* What a note says about one key: a verdict, neither a result code nor a
 * yes/no (util.h). */
enum ml_note_sig_state {
	ML_NOTE_SIG_NONE,  /* k did not sign */
	ML_NOTE_SIG_VALID, /* k signed and every line by k verifies */
	ML_NOTE_SIG_BAD    /* a line by k fails */
};
enum ml_note_sig_state ml_note_sig_status(const struct ml_note *n, const struct ml_pubkey *k);
/* As ml_note_sig_status, for cosignatures by k (a line whose timestamp
 * cannot be read, or out of memory, is BAD); *ts gets the largest timestamp
 * when VALID. */
enum ml_note_sig_state ml_note_cosig_status(const struct ml_note *n,
					    const struct ml_cosig_key *k, uint64_t *ts);

#endif
