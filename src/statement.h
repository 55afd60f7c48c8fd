/* statement — in-toto Statement v1 payloads and DSSE envelopes.
 *
 * Builds, parses and validates the statements mlledger records, one
 * predicate type per entry kind, and wraps them in DSSE envelopes of 1 to
 * 16 Ed25519 signatures over the DSSE pre-authentication encoding (the
 * first is the author's; later ones are countersignatures).  Pure
 * functions over bytes: no I/O, no ledger state.  May call artifact
 * (its limit on files per artifact), jsonp, jsonw, keys, util, jansson.  Byte-exact rules:
 * ledger/FORMAT.md, "Statements" and "Envelopes".
 */
#ifndef ML_STATEMENT_H
#define ML_STATEMENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "keys.h"
#include "util.h"

#define ML_PAYLOAD_TYPE "application/vnd.in-toto+json"
#define ML_STATEMENT_TYPE "https://in-toto.io/Statement/v1"
#define ML_PREDICATE_PREFIX "https://mlledger.dev/"
#define ML_NAME_MAX 200   /* NAME@VERSION */
/* The genesis "format" new ledgers declare (FORMAT.md §2): 2 = every
 * statement names the origin, every enrolment proves possession.  Format-1
 * ledgers stay valid. */
#define ML_STATEMENT_FORMAT 2
/* The one kind whose predicate type is not ML_PREDICATE_PREFIX KIND "/v1". */
#define ML_VSA_TYPE "https://slsa.dev/verification_summary/v1"

enum ml_kind {
	ML_KIND_GENESIS,
	ML_KIND_KEY_ENROLLMENT,
	ML_KIND_KEY_REVOCATION,
	ML_KIND_DATASET,
	ML_KIND_MODEL,
	ML_KIND_EVALUATION,
	ML_KIND_APPROVAL,
	ML_KIND_DEPLOYMENT,
	ML_KIND_MONITORING,
	ML_KIND_WAIVER,
	ML_KIND_RETIREMENT,
	ML_KIND_INCIDENT,
	ML_KIND_GATE,      /* a recorded gate decision: a SLSA VSA (ML_VSA_TYPE) */
	ML_KIND_GOVERNANCE,       /* a governance document (FORMAT.md §2) */
	ML_KIND_CLOCK_CORRECTION, /* entries from..seq-1 were dated ahead */
	ML_KIND_POLICY,    /* a policy file's exact bytes, and its recorded params */
	ML_KIND_REPORT,    /* an issued audit report: its SHA-256, format, period, policies */
	ML_KIND_COUNT
};

/* "dataset", "key-enrollment", ... */
const char *ml_kind_name(enum ml_kind k);
/* Returns ML_OK and sets *k, or ML_EINPUT for an unknown name. */
enum ml_rc ml_kind_parse(const char *name, enum ml_kind *k);
/* The predicateType URI of kind k (static storage). */
const char *ml_kind_predicate_type(enum ml_kind k);
/* Kinds whose subject is a model version (evaluation ... incident, gate). */
bool ml_kind_about_model(enum ml_kind k);
/* Kinds whose subject is the ledger's origin (genesis, governance,
 * clock-correction). */
bool ml_kind_about_ledger(enum ml_kind k);

/* The seq N of a recorded policy's uri "mlledger:seq/N" (FORMAT.md §2, "Gate
 * decisions"): N decimal, no leading zero, at most 19 digits.  ML_OK and
 * *seq, or ML_EINPUT for anything else (NULL included). */
enum ml_rc ml_policy_uri_seq(const char *uri, uint64_t *seq);

/* A gate predicate that is replayable in shape (FORMAT.md §2, "Gate
 * decisions"): it records parameters and an evidence digest, no phase, and
 * every policy descriptor's uri is a mlledger:seq/N below ledger.size.
 * Whether those entries are the policies named is the caller's to check. */
bool ml_gate_replayable_shape(const json_t *predicate);

/* True when s is 1-64 bytes of [A-Za-z0-9._-] (key names, person ids). */
bool ml_simple_name(const char *s);

/* The optional predicate member naming a request for safe retries
 * (FORMAT.md §2, "Retries"): 1-128 bytes of [A-Za-z0-9._:-], in every kind
 * record and import write (key-enrollment ... incident). */
#define ML_IDEMPOTENCY_MEMBER "idempotencyKey"
#define ML_IDEMPOTENCY_KEY_MAX 128
/* True when s[0..len) is a valid idempotencyKey value. */
bool ml_idempotency_key_valid(const char *s, size_t len);

/* The predicate member naming the ledger a statement is for (FORMAT.md §2,
 * "Origin"): optional in every kind but genesis (which declares the origin)
 * and gate (whose ledger.origin names it); required in a format-2 ledger. */
#define ML_ORIGIN_MEMBER "origin"
/* True when s[0..len) is a valid origin: 1-128 of [A-Za-z0-9._/:-]. */
bool ml_origin_valid(const char *s, size_t len);

/* Checks a person object (FORMAT.md §2, "Persons"): id, name, email,
 * employeeId, x509, oidc.  ML_OK or ML_EINPUT naming the member. */
int ml_person_check(json_t *person, struct ml_err *e);

/* Proof of possession of an enrolled key (FORMAT.md §2, "Proof of
 * possession"): an Ed25519 signature by the enrolled key over
 *   ML_POSSESSION_DOMAIN || origin || "\n" || vkey || "\n" || JCS(person) || "\n"
 * where person is the enrolment's person, or {"id": key name} when it names
 * none (person NULL).  The message is appended to out. */
#define ML_POSSESSION_DOMAIN "mlledger key possession v1\n"
int ml_possession_message(const char *origin, const char *vkey, json_t *person,
			  struct ml_buf *out, struct ml_err *e);
/* Signs that message with k (whose verifier key is vkey); *b64 receives the
 * base64 signature (caller frees). */
int ml_possession_sign(const struct ml_seckey *k, const char *origin, json_t *person,
		       char **b64, struct ml_err *e);
/* ML_OK when b64 is vkey's signature of that message; ML_EKEY when it does
 * not verify, ML_EINPUT when it is not a signature. */
int ml_possession_verify(const char *origin, const char *vkey, json_t *person,
			 const char *b64, struct ml_err *e);

/* Splits "NAME@VERSION".  NAME: 1-128 bytes of [A-Za-z0-9._/-] starting with
 * a letter or digit; VERSION: 1-64 bytes of [A-Za-z0-9._+-].  Writes
 * NUL-terminated parts into name[129] and version[65].  ML_OK, or
 * ML_EINPUT. */
enum ml_rc ml_ref_split(const char *ref, char name[129], char version[65]);

/* A parsed, validated statement.  root owns everything; predicate and the
 * strings point into it. */
struct ml_statement {
	enum ml_kind kind;
	const char *subject;              /* subject[0].name */
	uint8_t digest[ML_SHA256_LEN];    /* subject[0].digest.sha256 */
	json_t *predicate;                /* borrowed from root */
	json_t *root;                     /* owned */
	uint8_t source_sha256[ML_SHA256_LEN]; /* SHA-256 of the bytes parsed */
};

/* Builds a statement and encodes it as compact JSON (the payload bytes,
 * written by jsonw: what json_dumps(JSON_COMPACT | JSON_REAL_PRECISION(15))
 * writes).  predicate is stolen (decref'd) on every path; its reals are
 * rounded in place to the value the payload reads back as (so are those of
 * any node the caller still shares with it).  The result is validated with
 * ml_statement_parse's checks before it is returned (on the tree, which
 * equals the parse of the bytes, rather than by parsing them again), so
 * nothing invalid can be signed.  The bytes are appended to out (caller
 * ml_buf_free); on error out is left as it was. */
int ml_statement_encode(enum ml_kind kind, const char *subject,
			const uint8_t digest[ML_SHA256_LEN], json_t *predicate,
			struct ml_buf *out, struct ml_err *e);
/* The same, also handing over the validated tree of the bytes written
 * (*parsed, released with ml_statement_free; equal to what
 * ml_statement_parse of the bytes gives, source_sha256 included), so that
 * an append of these bytes need not parse them again.  The tree may share
 * nodes with the predicate's members the caller still holds (request.c's
 * are its request's): the caller must not change them while *parsed is in
 * use. */
int ml_statement_encode_parsed(enum ml_kind kind, const char *subject,
			       const uint8_t digest[ML_SHA256_LEN], json_t *predicate,
			       struct ml_buf *out, struct ml_statement *parsed,
			       struct ml_err *e);
/* Parses and validates payload bytes against the kind's schema.  On success
 * *out owns a reference (ml_statement_free).  ML_EINPUT on any error; the
 * message names the field. */
int ml_statement_parse(const uint8_t *payload, size_t len, struct ml_statement *out,
		       struct ml_err *e);
/* The same; with ML_STATEMENT_NO_SOURCE_HASH in flags, source_sha256 is
 * left zero instead of computed: for readers that never use it (evidence
 * reads thousands of verified entries, and the hash is a third of the
 * parse).  The checks are the same with any flags. */
#define ML_STATEMENT_NO_SOURCE_HASH 1u
int ml_statement_parse_ex(const uint8_t *payload, size_t len, unsigned flags,
			  struct ml_statement *out, struct ml_err *e);
void ml_statement_free(struct ml_statement *s);
/* The origin s names: predicate.origin, a gate's ledger.origin, a genesis
 * origin; NULL when it names none (borrowed from s). */
const char *ml_statement_origin(const struct ml_statement *s);

/* DSSE pre-authentication encoding:
 * "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in decimal. */
void ml_dsse_pae(const char *type, const uint8_t *body, size_t len, struct ml_buf *out);

/* A DSSE envelope holds 1 to ML_ENVELOPE_MAX_SIGS signatures with distinct
 * keyids (FORMAT.md §3).  The first is the author's: keyid and sig below,
 * what every rule about "the signer" reads.  The others, in the order they
 * were added, are countersignatures. */
#define ML_ENVELOPE_MAX_SIGS 16

struct ml_envelope_sig {
	char keyid[ML_KEYID_MAX];
	uint8_t sig[ML_SIG_LEN];
};

/* A parsed envelope. */
struct ml_envelope {
	uint8_t *payload;  /* owned, malloc'd */
	size_t payload_len;
	char keyid[ML_KEYID_MAX];       /* signature 1: the author */
	uint8_t sig[ML_SIG_LEN];
	size_t nco;                     /* countersignatures, 0..ML_ENVELOPE_MAX_SIGS-1 */
	struct ml_envelope_sig *co;     /* owned, malloc'd; NULL when nco is 0 */
};

/* Signs payload (a statement) with k and writes the canonical envelope JSON
 * to out (caller ml_buf_free). */
int ml_envelope_sign(const struct ml_seckey *k, const uint8_t *payload, size_t len,
		     struct ml_buf *out, struct ml_err *e);
/* ml_envelope_sign for callers that sign many and keep the parsed form:
 * fills *env (env->payload borrows payload, no countersignatures: do not
 * ml_envelope_clear it) and appends the canonical envelope JSON to out.
 * pae is scratch space, reusable between calls (caller ml_buf_free).
 * ML_EINPUT when len > ML_MAX_STATEMENT; ML_EIO when out of memory (*env
 * and out are then unspecified). */
int ml_envelope_sign_parts(const struct ml_seckey *k, uint8_t *payload, size_t len,
			   struct ml_buf *pae, struct ml_envelope *env, struct ml_buf *out,
			   struct ml_err *e);
/* Appends k's signature over env's payload to env's signatures and writes
 * the canonical encoding to out (caller ml_buf_free).  ML_EINPUT when k's
 * keyid already signed env or env holds ML_ENVELOPE_MAX_SIGS signatures.
 * Checks nothing else: the caller verifies the signatures present first. */
int ml_envelope_countersign(const struct ml_envelope *env, const struct ml_seckey *k,
			    struct ml_buf *out, struct ml_err *e);
/* Writes the canonical encoding of env (every signature, in order) to out. */
int ml_envelope_encode(const struct ml_envelope *env, struct ml_buf *out,
		       struct ml_err *e);
/* Parses envelope JSON: payloadType must be ML_PAYLOAD_TYPE, 1 to
 * ML_ENVELOPE_MAX_SIGS signatures, each a keyid "NAME+hhhhhhhh" and a
 * 64-byte sig, no keyid twice.  At most ML_MAX_ENVELOPE bytes.  *out owns
 * its payload and countersignatures (ml_envelope_clear). */
int ml_envelope_parse(const uint8_t *bytes, size_t len, struct ml_envelope *out,
		      struct ml_err *e);
void ml_envelope_clear(struct ml_envelope *env);
/* Verifies env's first (author) signature with k (the keyid must also name
 * k).  True when valid, false when not.  Countersignatures: below. */
bool ml_envelope_verify(const struct ml_envelope *env, const struct ml_pubkey *k);
/* Verifies every signature: the author's with author, countersignature i
 * with co[i] (each keyid must name its key).  True when all are
 * valid; else false and *bad (may be NULL) = the keyid of the first that is
 * not. */
bool ml_envelope_verify_all(const struct ml_envelope *env, const struct ml_pubkey *author,
			    const struct ml_pubkey *co, const char **bad);

#endif
