/* rules — when an entry is valid at its place in the ledger, and what it
 * changes in the projection tables.
 *
 * The one place that decides validity: appends (record, submit, import)
 * and verify call the same functions, the first against the ledger's own
 * projection (ML_DB_MAIN), the second against the projection it rebuilds
 * from the entries (ML_DB_REPLAY).  So `record` refuses exactly what
 * `verify` would reject.  May call governance, statement, merkle, keys, store,
 * util.
 */
#ifndef ML_RULES_H
#define ML_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "governance.h"
#include "keys.h"
#include "statement.h"
#include "store.h"
#include "util.h"

/* An envelope checked at a seq.  Owns the parsed envelope and statement. */
struct ml_checked {
	uint64_t seq;
	struct ml_envelope env;
	struct ml_statement st;
	struct ml_pubkey signer;          /* the enrolled key named by keyid */
	struct ml_pubkey co[ML_ENVELOPE_MAX_SIGS - 1]; /* the enrolled keys of the
				     * countersignatures env.co[0..env.nco) */
	char roles[256];                  /* the signer's roles */
	uint8_t stmt_hash[ML_SHA256_LEN]; /* SHA-256 of the payload */
	struct ml_index_row ix;           /* the entry_index row it implies */
};

/* What the rules know of the entries before the one checked.  Owned by the
 * caller of ml_rules_check; ml_rules_apply keeps it current. */
struct ml_rules_state {
	struct ml_governance *gov; /* in force for the next entry; owned */
	int64_t gov_seq;           /* the entry that declared it; -1: the default */
	int governed;              /* 0 in a ledger written before governance existed
				    * (no genesis document), until its first
				    * governance entry: rules 9-11 wait for it */
	int64_t last_correction;   /* seq of the latest clock-correction; -1: none */
	char *dual_short;          /* NULL, or 384 bytes: rule 13 (too few signers
				    * under dualControl) is not an error but this
				    * note, for an envelope still to be countersigned;
				    * "" when nothing is missing */
	int format;                /* the genesis "format" (1 or 2); 0 before entry 0 */
	char origin[129];          /* the genesis origin; "" before entry 0 */
	struct ml_rules_keycache *keys; /* ML_DB_REPLAY's key rows and parsed keys,
				    * by keyid (verify: one lookup per key, not
				    * per entry); NULL until the first
				    * ml_rules_apply to ML_DB_REPLAY, emptied by
				    * every enrolment and revocation; owned */
};

/* The state before entry 0: the default governance.  ML_EIO when out of
 * memory. */
int ml_rules_state_init(struct ml_rules_state *r, struct ml_err *e);
/* The state after the last entry of the ledger's own projection (main), for
 * appends: the latest governance entry, else the genesis document, else
 * the default.  It initialises r itself (r need not be initialised; one
 * that is would leak its governance); free it with ml_rules_state_free
 * whatever the result.  ML_EINTEGRITY when a stored governance entry does
 * not parse; ML_EIO. */
int ml_rules_state_load(struct ml_rules_state *r, struct ml_store *s, struct ml_err *e);
void ml_rules_state_free(struct ml_rules_state *r);

/* hint, when not NULL, is a parse of a payload the caller built; it is used
 * instead of parsing the envelope's payload again only when its
 * source_sha256 equals the payload's SHA-256, so it cannot change the result.
 *
 * Checks envelope bytes as entry seq against the projection in db: envelope
 * and statement form, the author key enrolled and not revoked, not a
 * duplicate, the governance in force r (the signer's roles may sign the
 * kind; declared roles, environments, metrics and property values), kind-
 * specific rules (admin-only key management, immutable dataset and model
 * versions, references to known versions and digests, waivers not expired
 * at time_us, retirements of live versions, clock corrections), and the
 * key rules of dual control and separation of duties (FORMAT.md §5 rules
 * 13 and 14): every countersignature's key enrolled and active, enough
 * distinct persons for a kind under dualControl, no person holding both
 * roles of a separation pair.
 * With check_sig, also verifies every signature (verify defers that to its
 * worker threads; c->signer and c->co are the keys to verify with).  Errors: ML_EINPUT (form, references, duplicates),
 * ML_EKEY (author key), ML_EIO.  On success *out must be released with
 * ml_checked_free; on failure it needs nothing. */
int ml_rules_check(struct ml_store *s, enum ml_db db, const struct ml_rules_state *r,
		   uint64_t seq, int64_t time_us, const uint8_t *envelope, size_t len,
		   int check_sig,
		   const struct ml_statement *hint, struct ml_checked *out,
		   struct ml_err *e);
/* What the builder of an envelope knows of it (import's signers): the bytes
 * it wrote, the parse it wrote them from, and the SHA-256 of the payload.
 * The builder vouches for env and payload_sha256 (it made bytes from env
 * with ml_envelope_encode, and hashed env->payload); the check vouches for
 * nothing else: it uses the hint only when the envelope it checks is byte
 * for byte hint->bytes, so a hint for other bytes cannot change a result. */
struct ml_envelope_hint {
	const uint8_t *bytes;                 /* the envelope described */
	size_t len;
	const struct ml_envelope *env;        /* its parse (borrowed) */
	uint8_t payload_sha256[ML_SHA256_LEN]; /* SHA-256 of env->payload */
};

/* ml_rules_check, with env_hint (when not NULL) used instead of parsing
 * the envelope and hashing its payload again when, and only when, len
 * bytes at envelope equal env_hint's bytes (then *out holds a copy of
 * env_hint->env).  The same results as ml_rules_check otherwise. */
int ml_rules_check_hinted(struct ml_store *s, enum ml_db db, const struct ml_rules_state *r,
			  uint64_t seq, int64_t time_us, const uint8_t *envelope, size_t len,
			  int check_sig, const struct ml_statement *hint,
			  const struct ml_envelope_hint *env_hint, struct ml_checked *out,
			  struct ml_err *e);
/* Writes what a checked entry implies into db's projection tables, and
 * into r (a governance document, a clock correction). */
int ml_rules_apply(struct ml_store *s, enum ml_db db, struct ml_rules_state *r,
		   const struct ml_checked *c, struct ml_err *e);
void ml_checked_free(struct ml_checked *c);

/* "Live" (FORMAT.md §5 rule 11), the one definition: a version is live in
 * an environment when it has a deployment there with no retirement there
 * after it, in seq order.  Fold the version's deployments and retirements
 * in that environment into a mark (ml_live_step, seq ascending; other kinds
 * are ignored), then ask ml_live_is.  The retirement rule, live.c and the
 * report's production history (report.c) all use it. */
struct ml_live_mark {
	int64_t deployed, retired; /* the latest such entries' seqs, -1: none */
};
#define ML_LIVE_MARK_INIT {-1, -1}
void ml_live_step(struct ml_live_mark *m, enum ml_kind k, uint64_t seq);
bool ml_live_is(const struct ml_live_mark *m);
/* What a deployment replaces, the one definition (live.c's "replaces" and
 * the report's production history): of the other versions of its model
 * name in its environment, the live one deployed last.  Fold each other
 * version's mark m into *best (starting from ML_LIVE_MARK_INIT): true when
 * m is the best so far (the caller keeps that version; *best becomes m),
 * else false.  Versions tie only on the same deployment seq, which cannot
 * happen, so the order of the fold does not matter. */
bool ml_live_pick(struct ml_live_mark *best, const struct ml_live_mark *m);

/* True when the comma-separated roles list holds role. */
bool ml_roles_has(const char *roles, const char *role);

#endif
