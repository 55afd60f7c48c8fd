/* evidence — the XML document policy rules read (policies/EVIDENCE.md),
 * built from entries that are each verified on the way in: leaf hash,
 * author signature with the key enrolled at that seq (whose enrolment entry
 * is verified the same way, up to the genesis), and inclusion in the latest
 * signed checkpoint.  The rest of the ledger is not re-verified.
 *
 * The entries selected for a candidate NAME@VERSION in ENV: every entry
 * about that version; the datasets its model entry names; the model and
 * evaluation entries of its parent version and of the version live in ENV;
 * the incidents and retirements of every version of the model; and the
 * deployments of the model, newest first, down to the one that decides
 * which version is live in ENV.  Selection reads the entry_index
 * projection (which `mlledger verify` checks); every selected entry is
 * verified.
 *
 * May call tlog, rules, governance, note, merkle, ledger, store, statement,
 * keys, chain, util, libxml2.
 */
#ifndef ML_EVIDENCE_H
#define ML_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "keys.h"
#include "ledger.h"
#include "statement.h"
#include "util.h"

#define ML_EVIDENCE_NS "https://mlledger.dev/evidence/v1"

/* A session: one read transaction, the latest checkpoint (its signature
 * checked with the log key), the enrolled keys, and a cache of verified
 * entries shared by the documents built in it. */
struct ml_evidence;

/* Verify inclusion once for the whole ledger (recompute the checkpoint's
 * root from every stored leaf hash) instead of one proof per entry: for
 * callers that build evidence for many subjects (check, reports). */
#define ML_EVIDENCE_WHOLE 1u
/* No time cutoff: every entry up to the head of the latest checkpoint is
 * evidence (gate and check without --as-of).  as_of_us stays the
 * evaluation time the rules see. */
#define ML_EVIDENCE_HEAD 2u

/* A clock correction (ledger/FORMAT.md §2, "Clock corrections"): entries
 * from .. seq-1 take its append time time_us as their effective time. */
struct ml_clock_fix {
	uint64_t from, seq;
	int64_t time_us;
};

/* The effective time of entry seq, appended at time_us, under the
 * corrections fixes[0..n) (in seq order, ranges disjoint, as §5 rule 1
 * makes them): the time of the correction whose range holds seq, else
 * time_us.  Effective times never decrease along a valid ledger. */
int64_t ml_clock_effective(const struct ml_clock_fix *fixes, size_t n, uint64_t seq,
			   int64_t time_us);

/* Opens a session on l with evaluation time as_of_us (the root's as-of).
 * Without ML_EVIDENCE_HEAD, entries whose effective time is after as_of_us
 * are left out: the evidence is the prefix of the ledger up to as_of_us.
 * The clock corrections are read and verified here (signature by an
 * enrolled admin key, inclusion, the entry they name and their time).
 * *out is caller-owned (ml_evidence_close), and l must outlive it.
 * ML_EINTEGRITY when the checkpoint (or, with ML_EVIDENCE_WHOLE, the stored
 * leaf hashes, or a clock correction) does not verify; ML_EIO on storage
 * errors. */
int ml_evidence_open(struct ml_ledger *l, int64_t as_of_us, unsigned flags,
		     struct ml_evidence **out, struct ml_err *e);
/* The same on the ledger's prefix of size entries (0: the latest
 * checkpoint's), proven against the stored checkpoint of that size: what a
 * gate decision made on that checkpoint saw (its replay).  Keys enrolled,
 * revocations, clock corrections and governance entries at or after size
 * are not evidence.  ML_EINTEGRITY when no checkpoint of that size is
 * stored or it does not verify. */
int ml_evidence_open_at(struct ml_ledger *l, uint64_t size, int64_t as_of_us,
			unsigned flags, struct ml_evidence **out, struct ml_err *e);
void ml_evidence_close(struct ml_evidence *v);

/* Entry seq (below the session's size), verified as evidence entries are:
 * leaf hash, inclusion, an author enrolled and not revoked at seq, the
 * signature.  *st is the caller's (ml_statement_free); *time_us (when not
 * NULL) its effective append time.  ML_EINTEGRITY (e->seq set) when a check
 * fails. */
int ml_evidence_statement(struct ml_evidence *v, uint64_t seq, struct ml_statement *st,
			  int64_t *time_us);
/* Who signed a verified entry (its author), and when it was appended. */
struct ml_evidence_signer {
	char keyid[ML_KEYID_MAX];
	char person[ML_KEY_NAME_MAX + 1]; /* the enrolment's person id, else the key name */
	char person_name[129];            /* its display name, "" when none */
	int64_t append_us;                /* the entry's own time (FORMAT.md §4) */
};
/* ml_evidence_statement, and (by not NULL) the author as *by. */
int ml_evidence_signed(struct ml_evidence *v, uint64_t seq, struct ml_statement *st,
		       int64_t *time_us, struct ml_evidence_signer *by);
/* The newest entry_index row of kind for name (and version, when not NULL)
 * below the session's size: *found, and *seq.  The row is only a pointer:
 * read the entry with ml_evidence_statement and check it says so. */
int ml_evidence_newest(struct ml_evidence *v, const char *kind, const char *name,
		       const char *version, uint64_t *seq, int *found);
/* A session without a cutoff (ML_EVIDENCE_HEAD) evaluates later documents
 * at as_of_us; with a cutoff, ML_EINPUT (the selection depends on it). */
int ml_evidence_set_as_of(struct ml_evidence *v, int64_t as_of_us);
/* The session's checkpoint size and the ledger's origin (borrowed). */
uint64_t ml_evidence_size(const struct ml_evidence *v);
const char *ml_evidence_origin(const struct ml_evidence *v);

/* The caller has just verified every entry below size in full (`verify`:
 * signatures, enrolments, the rules), the last one with leaf hash head.
 * When the session's checkpoint has that size and, with ML_EVIDENCE_WHOLE,
 * its stored leaves (whose root matched the signed checkpoint) end with
 * head, entries below size are not signature-checked again: their bytes
 * still hash to the verified leaves, which the signed root binds.  Returns
 * true when trusted, false when not (then everything is checked as usual). */
bool ml_evidence_trust(struct ml_evidence *v, uint64_t size, const uint8_t head[ML_SHA256_LEN]);

/* The same for a session at any size: the caller has just verified every
 * entry below n in full (`verify`), the last one with leaf hash head.  When
 * the stored leaf hash of entry n - 1 is still head, entries below
 * min(n, size) are trusted: their bytes must still hash to their stored
 * (verified) leaf hashes, but signatures and inclusion are not checked
 * again.  True when trusted, false when not. */
bool ml_evidence_trust_prefix(struct ml_evidence *v, uint64_t n,
			      const uint8_t head[ML_SHA256_LEN]);

/* Builds the evidence for model version ref in environment env (may be
 * NULL: then nothing is live).  *out is caller-owned (xmlFreeDoc).
 * ML_EINPUT for an unknown model; ML_EINTEGRITY (e->seq set) when an entry
 * fails its checks.  Builds for one model name after another are cheapest:
 * the cache is dropped when the name changes. */
int ml_evidence_for(struct ml_evidence *v, const char *ref, const char *env,
		    xmlDocPtr *out, struct ml_err *e);

/* The same document as ml_evidence_for, but borrowed: *out belongs to the
 * session and stays valid until the next ml_evidence_view, ml_evidence_for
 * or ml_evidence_close on v; the caller must neither free nor change it.
 * The session reuses one document and builds each entry's element once
 * while the cache serves the model name (the elements depend only on the
 * entry and the session), relinking it into each document that selects
 * it: for callers that evaluate many subjects one after another (check's
 * sweep).  Errors as ml_evidence_for, and ML_EIO when out of memory. */
int ml_evidence_view(struct ml_evidence *v, const char *ref, const char *env,
		     xmlDocPtr *out, struct ml_err *e);

/* Future-dated entries: ML_OK when no entry's effective time is more than
 * ML_CLOCK_TOLERANCE_US after now_us (the caller's clock).  Otherwise
 * ML_EPOLICY with *seq and *time_us (its effective time) set to the first
 * such entry, e->seq to it, and a one-line message naming both times.
 * Reads the head and, only when the head is ahead, O(log n) entries. */
int ml_evidence_ahead(struct ml_evidence *v, int64_t now_us, uint64_t *seq, int64_t *time_us,
		      struct ml_err *e);

/* One document: open (flags as ml_evidence_open), for, close. */
int ml_evidence_build(struct ml_ledger *l, const char *ref, const char *env,
		      int64_t as_of_us, unsigned flags, xmlDocPtr *out, struct ml_err *e);

#endif
