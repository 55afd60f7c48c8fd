/* audit — what an outside auditor tests controls with: populations of
 * control events, reproducible samples of them, the evidence chain of one
 * sampled item, and the reconciliation of a platform's deployment list with
 * the ledger (docs/AUDITING.md).
 *
 * A view (ml_audit_open) is built from a verified ledger: the whole ledger is
 * verified first (verify), then every entry below the signed checkpoint of
 * the verified size is read once (store, statement) into a list of items:
 * seq, leaf hash, kind, subject, digest, environment, author and append
 * times, signer, the signer's person (from the enrolment entries, never from
 * the keys table), decision or verdict, and the references the evidence
 * chain follows (datasets, policies).  A ledger that fails verify is refused
 * (ML_EINTEGRITY) unless the caller allows it; the view then says so.
 *
 * The pure parts (the population digest, the sampling rank, the RFC 4180
 * reader and writer, the reconcile CSV and durations) need no ledger and
 * are unit-tested alone.  May call verify, tlog, note, ledger, store, chain,
 * statement, keys, util, jansson.  Nothing here prints.
 */
#ifndef ML_AUDIT_H
#define ML_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "ledger.h"
#include "statement.h"
#include "util.h"

#define ML_AUDIT_FILE_MAX (64 * 1024 * 1024) /* a population or deployments file */
#define ML_AUDIT_ROWS_MAX 1000000            /* rows of either */
#define ML_AUDIT_SEED_MAX 128
#define ML_AUDIT_CELL_MAX 65536

/* One entry of the view.  Strings are never NULL ("" when absent). */
struct ml_audit_item {
	uint64_t seq;
	uint8_t leaf[ML_SHA256_LEN];
	enum ml_kind kind;
	char *subject;       /* NAME@VERSION, key name, origin, ID@VERSION */
	char *name, *version; /* subject split for model-version kinds, else "" */
	uint8_t digest[ML_SHA256_LEN];
	char *env;           /* environment: approval ... retirement, gate */
	char author_time[21];
	int64_t author_us;
	int64_t append_us;
	char keyid[ML_KEYID_MAX];
	char *person_id, *person_name;
	char *decision;      /* approval: approve|reject; gate: PASSED|FAILED */
	char *policies;      /* gate: "ID@VERSION;..." */
	uint64_t *policy_seqs; /* gate: the recorded policy entries named */
	size_t npolicy_seqs;
	char **datasets;     /* model: its datasets; evaluation: its dataset */
	size_t ndatasets;
};

struct ml_audit;

/* Verifies l (jobs signature threads) and reads the view.  With
 * allow_unverified, a ledger that fails verify is read anyway (every entry
 * below the latest checkpoint) and ml_audit_verified says 0.  *out owned by
 * the caller (ml_audit_free). */
int ml_audit_open(struct ml_ledger *l, int jobs, int allow_unverified, struct ml_audit **out,
		  struct ml_err *e);
void ml_audit_free(struct ml_audit *a);
size_t ml_audit_count(const struct ml_audit *a);
const struct ml_audit_item *ml_audit_at(const struct ml_audit *a, size_t i);
/* The entry of seq, or NULL. */
const struct ml_audit_item *ml_audit_find(const struct ml_audit *a, uint64_t seq);
const char *ml_audit_origin(const struct ml_audit *a);
/* The checkpoint the view was read below: size and base64 root. */
uint64_t ml_audit_size(const struct ml_audit *a);
const char *ml_audit_root(const struct ml_audit *a);
/* True when verify passed; else false and the reason it gave. */
bool ml_audit_verified(const struct ml_audit *a, const char **why);

/* ---- populations -------------------------------------------------------- */

/* Kinds as a bit set (1u << kind).  spec: comma-separated kind names or
 * "all"; ORed into *mask.  ML_EINPUT naming an unknown kind. */
int ml_audit_kinds_parse(const char *spec, uint32_t *mask, struct ml_err *e);

/* Writes the population of a: the items of the kinds in mask appended in
 * [from_us, to_us) (append time), as csv (1) or json (0), into out.
 * kinds/from/to are the texts the user gave (for the scope).  *count
 * receives the number of items. */
int ml_audit_population(const struct ml_audit *a, uint32_t mask, int64_t from_us,
			int64_t to_us, const char *kinds, const char *from, const char *to,
			int csv, struct ml_buf *out, size_t *count, struct ml_err *e);

/* The population digest: SHA-256 over one line per item, in the order
 * given (a population is in seq order), "SEQ SP LEAFHEX LF" with SEQ in
 * decimal and LEAFHEX the 64 lowercase hex digits of its leaf hash. */
struct ml_audit_ref {
	uint64_t seq;
	uint8_t leaf[ML_SHA256_LEN];
};
void ml_audit_digest(const struct ml_audit_ref *refs, size_t n, uint8_t out[ML_SHA256_LEN]);

/* The sampling rank of an item: SHA-256(seed || ":" || LEAFHEX). */
void ml_audit_rank(const char *seed, const uint8_t leaf[ML_SHA256_LEN],
		   uint8_t out[ML_SHA256_LEN]);
/* A seed is 1-128 bytes of printable ASCII (0x21-0x7e). */
bool ml_audit_seed_valid(const char *seed);
/* Draws min(n, count) of refs: the ones of smallest rank (ties: smaller
 * seq), returned as ascending indices into refs in pick[] (the caller's,
 * count long); *picked the number drawn.  ML_EIO when out of memory. */
int ml_audit_draw(const struct ml_audit_ref *refs, size_t count, const char *seed, size_t n,
		  size_t *pick, size_t *picked, struct ml_err *e);

/* Reads a population file written by ml_audit_population (CSV or JSON, at
 * most ML_AUDIT_FILE_MAX bytes), checks that its digest line (CSV "# digest",
 * JSON population.digest) and count match its items, and writes the sample
 * of n items drawn with seed in the same format into out.  *drawn receives
 * the number drawn (n larger than the population: all of it, and the
 * output says so).  ML_EINPUT naming the file and the line at fault; a
 * digest that does not match is ML_EINTEGRITY. */
int ml_audit_sample(const char *path, const char *seed, size_t n, struct ml_buf *out,
		    size_t *drawn, size_t *count, struct ml_err *e);

/* ---- trace -------------------------------------------------------------- */

/* The evidence chain of entry seq as a JSON object (docs/AUDITING.md,
 * "trace"): each node with seq, leaf hash, kind, subject, its relation to
 * the traced entry and a c2sp.org/tlog-proof@v1 inclusion proof against
 * the view's checkpoint.  *out owned by the caller (json_decref).
 * ML_EINPUT when seq is not in the view. */
int ml_audit_trace(const struct ml_audit *a, struct ml_ledger *l, uint64_t seq,
		   json_t **out, struct ml_err *e);

/* ---- reconcile ---------------------------------------------------------- */

/* One row of a platform's deployments file. */
struct ml_audit_dep {
	size_t line;       /* 1-based line in the file */
	char *env, *model, *version, *digest, *time;
	int64_t time_us;
};

/* Parses a deployments file: header "environment,model,version,digest,time",
 * then rows (RFC 4180).  environment and model required; version or digest
 * (sha256:HEX64) or both; time YYYY-MM-DDTHH:MM:SSZ.  ML_EINPUT naming the
 * line.  *rows malloc'd (ml_audit_deps_free). */
int ml_audit_deps_parse(const char *name, const char *text, size_t len,
			struct ml_audit_dep **rows, size_t *n, struct ml_err *e);
void ml_audit_deps_free(struct ml_audit_dep *rows, size_t n);

/* "90s", "30m", "1h", "2d" or plain seconds, at most 366 days, to µs:
 * ML_OK, or ML_EINPUT (*us untouched). */
enum ml_rc ml_audit_duration_parse(const char *s, int64_t *us);

/* Compares rows with the view's deployment entries (docs/AUDITING.md,
 * "reconcile").  The result is a JSON object {"scope", "matched",
 * "platformOnly", "ledgerOnly"}; *differences the number of unmatched on
 * either side.  from_us/to_us < 0: the period the file covers, widened by
 * the tolerance. */
int ml_audit_reconcile(const struct ml_audit *a, const struct ml_audit_dep *rows, size_t n,
		       int64_t tolerance_us, int64_t from_us, int64_t to_us, json_t **out,
		       size_t *differences, struct ml_err *e);

/* ---- CSV (RFC 4180) ----------------------------------------------------- */

/* Cells are written with util.h's ml_csv_cell. */

/* Reads one record at text[*pos..len): cells into cells[0..*ncells) (each
 * malloc'd, NUL-terminated; ml_audit_csv_free), at most cap cells of at most
 * ML_AUDIT_CELL_MAX bytes.  Lines end with LF or CRLF; the last may lack
 * one.  *pos moves past the record, *lines counts the line ends consumed.
 * ML_OK, or ML_EINPUT with why set (a bare quote, an unterminated quote, too
 * many or too long cells, a NUL byte), or ML_EIO when out of memory. */
enum ml_rc ml_audit_csv_record(const char *text, size_t len, size_t *pos, char **cells,
			       size_t cap, size_t *ncells, size_t *lines, const char **why);
void ml_audit_csv_free(char **cells, size_t n);

#endif
