/* note — the C2SP formats built on signed notes, one file (and header) per
 * format:
 *   note.h             c2sp.org/signed-note: parse, sign, verify (this file)
 *   note_checkpoint.h  c2sp.org/tlog-checkpoint bodies
 *   note_cosig.h       c2sp.org/tlog-cosignature (witness cosignatures)
 *   note_proof.h       c2sp.org/tlog-proof@v1 bundles
 *   note_trust.h       c2sp.org/tlog-policy trust policies (ml_trust_*)
 *   note_int.h         helpers the files above share; not for other modules
 *
 * Pure functions over bytes (no I/O, no clock), so that each parser can be
 * fuzzed: every input is bounded (the *_MAX limits), and no input makes
 * a parser crash.  May call keys and util only.
 *
 * Errors: parse and sign failures return ML_EINPUT with a one-line reason
 * (ML_EIO when out of memory).  Checks (*_verify, ml_trust_check) return 1
 * or 0 and never fail otherwise.
 */
#ifndef ML_NOTE_H
#define ML_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "util.h"

/* A note's bytes.  signed-note: "Verifiers SHOULD apply a maximum limit to
 * the number of signatures in a note (or, equivalently, to the overall size
 * of a note), but MUST accept at least up to 16 signatures.  Remember that
 * post-quantum signatures can be up to nearly 5kB in size": 16 such lines
 * take about 110 KB of base64. */
#define ML_NOTE_MAX (128 * 1024)
/* Signature lines per note: the limit of golang.org/x/mod/sumdb/note (the
 * spec only asks for at least 16). */
#define ML_NOTE_SIGS_MAX 100

/* One signature line of a note: "— <name> <base64(key ID(4) || signature)>".
 * The line does not say which algorithm made it: a verifier recognises its
 * own keys by name and key ID (signed-note: "The tuple of key name and key ID
 * uniquely identifies the key that performed the signature and the algorithm
 * it used").  Pointers go into the note's memory (ml_note.mem). */
struct ml_note_sig {
	const char *name;       /* NUL-terminated; valid per signed-note */
	size_t name_len;
	uint32_t hash;          /* the key ID: first 4 bytes, big-endian */
	const uint8_t *sig;     /* the n >= 1 bytes after the key ID */
	size_t sig_len;
	const char *line;       /* the whole line, without its '\n' */
	size_t line_len;
};

/* A parsed note.  Every pointer, including those in sigs[], points into
 * mem, which the note owns: release with ml_note_clear. */
struct ml_note {
	const char *text;       /* the signed text, ends with '\n', NUL-terminated */
	size_t text_len;
	const char *bytes;      /* the whole note as parsed, NUL-terminated */
	size_t len;
	struct ml_note_sig sigs[ML_NOTE_SIGS_MAX];
	size_t nsigs;
	char *mem;
};

/* Parses a signed note: a text ending in '\n', a blank line, then one or more
 * signature lines "— <name> <base64>\n"; the text is separated from the
 * signatures by the last blank line, so the text may hold blank lines.
 * Rejects (ML_EINPUT with the reason): more than ML_NOTE_MAX bytes, invalid
 * UTF-8, ASCII control characters other than '\n' (the spec forbids only
 * those below U+0020, so DEL and C1 controls are accepted), no blank line, no
 * signature line, a final line without '\n', a line that is not a signature
 * line, a key name that is empty or holds a Unicode space or '+', a missing
 * or non-canonical base64 signature, a signature of fewer than 5 bytes (key
 * ID and at least one byte, as golang.org/x/mod/sumdb/note requires), more
 * than ML_NOTE_SIGS_MAX lines.  Signatures of unknown keys and algorithms
 * are kept, never refused.  *out is set only on success and is then owned by
 * the caller (ml_note_clear). */
int ml_note_parse(const char *bytes, size_t len, struct ml_note *out, struct ml_err *e);
/* Frees a note's memory and zeroes it; NULL and zeroed notes are fine. */
void ml_note_clear(struct ml_note *n);
/* Signs text (non-empty, ends with '\n', valid UTF-8 without control
 * characters other than '\n') with k and appends the note
 * text || "\n" || "— <name> <base64(key ID || Ed25519(text))>\n" to out.
 * ML_EINPUT for bad text or a note longer than ML_NOTE_MAX; ML_EIO when out
 * of memory.  out is left as it was on failure. */
int ml_note_sign(const struct ml_seckey *k, const char *text, size_t len,
		 struct ml_buf *out, struct ml_err *e);
/* True when n carries a valid Ed25519 signature (type 0x01) by k, else false.
 * Lines whose name or key ID differ from k's are ignored, as the spec says;
 * every line with k's name and key ID must verify ("If a signature from a
 * known key fails to verify, clients SHOULD reject the whole note"). */
bool ml_note_verify(const struct ml_note *n, const struct ml_pubkey *k);

#endif
