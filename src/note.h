/* note — C2SP signed notes, tlog checkpoints, cosignatures, tlog-proof
 * bundles and trust policies.
 *
 * Pure functions over bytes (no I/O, no clock), so that each parser can be
 * fuzzed: every input is bounded (the *_MAX limits below), and no input makes
 * a parser crash.  May call keys and util only.
 * Specs: c2sp.org/signed-note, c2sp.org/tlog-checkpoint,
 * c2sp.org/tlog-cosignature, c2sp.org/tlog-proof, c2sp.org/tlog-policy.
 *
 * Errors: parse and sign failures return ML_EINPUT with a one-line reason
 * (ML_EIO when out of memory).  Checks (*_verify, ml_policy_check) return 1
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
/* 1 when n carries a valid Ed25519 signature (type 0x01) by k, else 0.
 * Lines whose name or key ID differ from k's are ignored, as the spec says;
 * every line with k's name and key ID must verify ("If a signature from a
 * known key fails to verify, clients SHOULD reject the whole note"). */
int ml_note_verify(const struct ml_note *n, const struct ml_pubkey *k);

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
/* 1 when n carries a valid cosignature by k, and then writes its timestamp
 * (the largest, if k signed more than one line; timestamp may be NULL); else
 * 0.  As with ml_note_verify, every line with k's name and key ID must
 * verify. */
int ml_cosig_verify(const struct ml_note *n, const struct ml_cosig_key *k,
		    uint64_t *timestamp);
/* Reads the timestamp of a cosignature line without verifying it (for
 * display).  0, or -1 when the line is not 72 bytes or the timestamp exceeds
 * 2^63 - 1. */
int ml_cosig_timestamp(const struct ml_note_sig *s, uint64_t *timestamp);

/* c2sp.org/tlog-proof@v1 bundle, one line each:
 *     "c2sp.org/tlog-proof@v1"
 *     ["extra " base64(opaque extra data)]       (optional, not authenticated)
 *     "index " <decimal, no leading zeros>
 *     base64(hash) ...                           (zero or more, leaf's sibling first)
 *     ""                                         (an empty line)
 *     the signed checkpoint note, verbatim.
 * The parser also checks what the bytes alone determine: the note is a
 * signed note whose text is a checkpoint, index < tree size, and the number
 * of hashes is exactly that of an RFC 6962 inclusion proof of index in a tree
 * of that size.  Signatures, the policy and the proof itself are checked by
 * the caller (ml_policy_check, ml_merkle_verify_inclusion with the leaf). */
#define ML_TLOG_PROOF_MAX (ML_NOTE_MAX + 64 * 1024)
#define ML_TLOG_PROOF_HASHES_MAX 64 /* ML_PROOF_MAX of merkle.h */
struct ml_tlog_proof {
	uint64_t index;
	uint8_t *extra;          /* owned (malloc); NULL when there is no extra line */
	size_t extra_len;
	uint8_t hashes[ML_TLOG_PROOF_HASHES_MAX][ML_SHA256_LEN];
	size_t nhashes;
	struct ml_note note;     /* owned: the checkpoint note */
	struct ml_checkpoint checkpoint;
};
/* Parses a bundle of at most ML_TLOG_PROOF_MAX bytes.  ML_EINPUT with the
 * reason; *out is set only on success, then owned by the caller
 * (ml_tlog_proof_clear). */
int ml_tlog_proof_parse(const char *bytes, size_t len, struct ml_tlog_proof *out,
			struct ml_err *e);
/* Frees a parsed bundle and zeroes it; NULL and zeroed bundles are fine. */
void ml_tlog_proof_clear(struct ml_tlog_proof *p);
/* Appends the bundle text to out (no extra line when extra_len is 0).  note
 * is the signed checkpoint note.  Out of memory sets out->oom. */
void ml_tlog_proof_format(uint64_t index, const uint8_t *extra, size_t extra_len,
			  const uint8_t hashes[][ML_SHA256_LEN], size_t n,
			  const char *note, size_t note_len, struct ml_buf *out);

/* c2sp.org/tlog-policy, one item a line, items separated by spaces and tabs,
 * leading and trailing white space allowed, empty lines and lines whose
 * first non-blank character is '#' ignored:
 *     log <vkey> [<url>]                   Ed25519 note key (type 0x01); its
 *                                          name is the log's origin
 *     witness <name> <vkey> [<url>]        cosignature key (type 0x04)
 *     group <name> all|any|<k> <name>...   1 <= k <= n members, each a witness
 *                                          or group defined on an earlier line
 *     quorum <name>|none                   exactly one, naming an earlier
 *                                          witness or group
 * Witnesses and groups share one namespace; "none" is predefined and cannot
 * be a member; a name may be listed as a group member at most once in the
 * whole policy; two logs or two witnesses with the same public key, and a
 * witness whose public key is a log's (a log cannot witness itself,
 * whatever the names and key types), are refused.  Allowed bytes: tab, newline, 0x20-0x7E and 0x80-0xFF (names are
 * opaque octets).  Limits (the spec recommends at least 32 of each): */
#define ML_POLICY_MAX (64 * 1024)   /* policy bytes */
#define ML_POLICY_LOGS_MAX 64
#define ML_POLICY_WITNESSES_MAX 64
#define ML_POLICY_GROUPS_MAX 64
#define ML_POLICY_NAME_MAX 128      /* bytes of a witness or group name */
struct ml_policy;
/* Parses a policy.  ML_EINPUT with "line N: reason"; ML_EIO when out of
 * memory.  *out is set only on success; free with ml_policy_free.  Vkeys
 * are parsed with ml_pubkey_parse / ml_cosig_vkey_parse, so key names are
 * limited to printable ASCII. */
int ml_policy_parse(const char *text, size_t len, struct ml_policy **out,
		    struct ml_err *e);
/* NULL is fine. */
void ml_policy_free(struct ml_policy *p);
/* The logs' verifier keys the policy names, in order (i < ml_policy_nlogs). */
size_t ml_policy_nlogs(const struct ml_policy *p);
const struct ml_pubkey *ml_policy_log(const struct ml_policy *p, size_t i);
/* 1 when the note's text is a checkpoint, it is signed by one of the
 * policy's logs whose key name equals the checkpoint's origin, and it is
 * cosigned by the quorum; else 0, and why (cap bytes, may be NULL) receives
 * a one-line reason.  A signature line of a key the policy names that fails
 * to verify rejects the whole note (signed-note: clients "SHOULD reject the
 * whole note").  A policy without logs accepts no note.  Cosignature times
 * are not compared with a clock (ml_policy_check_at does). */
int ml_policy_check(const struct ml_policy *p, const struct ml_note *n, char *why,
		    size_t cap);
/* The clock a cosignature's timestamp is judged by (seconds since the
 * epoch): a valid cosignature dated after now + tolerance fails the whole
 * check (a witness never signs in the future); with max_age > 0, one dated
 * before now - max_age counts as no cosignature (it may still be met by
 * other witnesses). */
struct ml_policy_clock {
	int64_t now, tolerance, max_age;
};
/* What a successful check saw: the names of the witnesses whose valid,
 * counted cosignatures the note carries (", " between them, in policy
 * order; cut at the buffer's end) and the newest of their timestamps (0
 * when none). */
struct ml_policy_seen {
	char names[512];
	size_t nwitnesses;
	uint64_t newest;
};
/* ml_policy_check with a clock (NULL: times are not compared) and what it
 * saw (may be NULL; filled even when the check fails). */
int ml_policy_check_at(const struct ml_policy *p, const struct ml_note *n,
		       const struct ml_policy_clock *clk, struct ml_policy_seen *seen,
		       char *why, size_t cap);

#endif
