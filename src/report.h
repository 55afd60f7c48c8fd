/* report — the facts of an audit report, gathered into one model.
 *
 * ml_report_build verifies the whole ledger (verify), reads every verified
 * entry once (store, statement), evaluates the given policies for every
 * deployment in scope (evidence, policy) and returns the report as a JSON
 * tree whose shape is reports/report.schema.json.  That tree *is* the
 * machine-readable report; the writers (report_html, report_text) render
 * the same tree, so every format carries the same facts.  Tables shared by
 * the writers are described once here (ml_report_tables).
 *
 * Times: the period and every "time" in the model are the author's signed
 * time (the predicate's time); entries appended to the ledger after as_of
 * are left out (by append time: clock corrections are not applied here;
 * integrity.futureDated warns while entries are dated ahead).  Output is a function of the ledger, the
 * options and nothing else (no clock, no host name), so reports are
 * byte-reproducible.
 *
 * May call arena, jsonarena, jsonbin, spool, sweep, gate, policy, findings, evidence, verify, timecheck, governance, rules,
 * tlog, note, ledger, store, statement, keys, util, jansson, libxml2.  Nothing here prints or exits.
 */
#ifndef ML_REPORT_H
#define ML_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ledger.h"
#include "timecheck.h"
#include "tlog.h"
#include "util.h"

#define ML_REPORT_SCHEMA_VERSION 1

/* A checkpoint held outside the ledger (report --checkpoint), checked by
 * the caller with ml_tlog_check_held before the build. */
struct ml_report_held {
	const char *path;        /* as the user gave it */
	struct ml_tlog_held th;
};

struct ml_report_opts {
	const char *const *policies; /* policy files, evaluated in this order */
	size_t npolicies;
	const char *const *params;   /* "name=value" overrides for every policy */
	size_t nparams;
	const char *phase;           /* NULL: every rule */
	const char *from, *to;       /* the period as given: YYYY-MM-DD (both days included) */
	int64_t from_us, to_us;      /* [from_us, to_us): to_us is the end of the last day */
	int64_t as_of_us;            /* ledger state and policy time */
	int64_t generated_us;        /* written as generatedAt; never read from a clock */
	int64_t max_gap_days;        /* gaps longer than this are flagged; <= 0: a policy's
					 max-age-days param, else 7 */
	int allow_unverified;        /* build the report even when verify fails */
	int jobs;                    /* verify threads and policy workers, <= 0: one per CPU */
	const char *tool_version;
	/* The checkpoints held outside that passed (integrity.held), whether a
	 * trust policy checked their witnesses, and the error of one that
	 * failed (only with allow_unverified: the report then says the ledger
	 * failed verification), or NULL. */
	const struct ml_report_held *held;
	size_t nheld;
	int held_trust;
	const struct ml_err *held_err;
	/* Time-warning thresholds (timecheck.h); NULL: the defaults. */
	const struct ml_timecheck_opts *time;
	/* Called now and then in the long phases, with ctx a label naming the
	 * phase ("report: verify", "report: policies"); NULL: none. */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	/* NULL: the model is malloc'd (json_decref it).  Else (jsonarena.h)
	 * the model and the builder's jansson values
	 * are made in this arena on the calling thread (verify and the policy
	 * workers use malloc: their values die with them), and the build
	 * returns with it set as the thread's arena, not allocating
	 * (ml_jsonarena_set(arena, 0)).  The caller then drops the model with
	 * the arena (ml_arena_free, no json_decref), keeps the arena set on
	 * this thread until then, and allocates anything it adds to the model
	 * in it too. */
	struct ml_arena *arena;
};

/* Builds the report model.  *out (caller json_decref) is set only on
 * success.  Errors: ML_EINTEGRITY when the ledger fails verification and
 * allow_unverified is not set (e->seq names the entry); ML_EPOLICY or
 * ML_EINPUT from loading a policy (the message names the file); ML_EINPUT
 * for a bad period; ML_EIO on storage errors or when out of memory. */
int ml_report_build(struct ml_ledger *l, const struct ml_report_opts *o, json_t **out,
		    struct ml_err *e);

/* How the print formats (HTML, Markdown) show findings: SUMMARY (the
 * default) gives failed, warned, waived and indeterminate findings a row
 * each and the passing ones one row per rule; ALL a row per finding.  The
 * JSON and CSV forms always hold every finding (they are data). */
enum ml_report_detail { ML_REPORT_DETAIL_SUMMARY = 0, ML_REPORT_DETAIL_ALL = 1 };

/* The JSON report: the model indented by two spaces, keys in model order,
 * reals with up to 15 significant digits, a final newline; packed rows and
 * points (ml_report_row) written as the values they stand for, one row
 * read back at a time. */
int ml_report_json(const json_t *model, struct ml_buf *out, struct ml_err *e);

/* Rows held packed.  At a million entries the model's long arrays of
 * small objects cost more as jansson objects than everything else (a
 * monitoring point about 420 bytes, a comparison about 1 KB, against
 * some 55 and 200 bytes of compact text), so the builder keeps some of
 * them packed: a JSON string holding the value's compact text (reals with
 * 17 significant digits, so they read back as the same doubles).  Packed
 * today: the rows of "comparisons" and each monitoring series' "points"
 * (monitoring[].trend[].points).  Every writer reads rows through
 * ml_report_row and points through ml_report_points, one at a time, and
 * ml_report_json writes them as the values they stand for, so every
 * format is as reports/report.schema.json describes it.
 *
 * ml_report_pack: the packed form of an object or array (a new string,
 * caller json_decref), or NULL when out of memory or v is neither.
 * ml_report_row: row i of rows as an object (new reference, caller
 * json_decref): a packed or stowed row read back (made on malloc even
 * while a model arena allocates, jsonarena.h: a temporary, so copy what
 * the model keeps of it), else the item itself;
 * NULL when i is out of range, out of memory or a packed or stowed row
 * does not read back as an object (a handle with no spool set).  ml_report_points: the points of series as an array (new
 * reference), the same way; NULL when the member is missing.
 * ml_report_points_empty: whether series has no points (a missing member
 * counts as none). */
json_t *ml_report_pack(const json_t *v);
/* Rows stowed out of memory.  At a million entries even packed text is
 * gigabytes, so the builder can hold its long tables' rows
 * (inventory.models, .datasets, .deployments, .retirements, chains,
 * comparisons, monitoring, findings.items) in a spool (spool.h: an
 * unlinked temporary file): the model's array then holds, for each row, a
 * JSON integer, the handle of its record there (jsonbin.h: exact, and
 * several times cheaper to write and read than JSON text), and
 * ml_report_row reads it back.  The builder keeps its own long lists there
 * too (the scan's entries about each model version, the versions and
 * datasets by ref: report.c).  The spool is per thread:
 * ml_report_spool_set(sp) makes sp the calling thread's (NULL: none) and
 * returns the one it replaces; the caller keeps it open while the model is
 * in use and closes it after.  Without one, nothing is stowed and the
 * model is as it was (the tests build both and compare every format).
 *
 * ml_report_stow: takes the reference to row (an object) and returns what
 * the model should hold for it: its handle (row released) when this
 * thread has a spool and the row is written there, else row itself (no
 * spool, or the spool could not be written: kept in memory, which every
 * reader reads as well).  NULL only for NULL. */
struct ml_spool;
struct ml_spool *ml_report_spool_set(struct ml_spool *sp);
/* The calling thread's spool, or NULL. */
struct ml_spool *ml_report_spool(void);
json_t *ml_report_stow(json_t *row);
/* The level below: the record of row (an object) written to this
 * thread's spool, *h its handle (ML_OK), or ML_EIO (no spool, the spool
 * could not be written, or row nests too deep); row is not released.
 * ml_report_unstow: the object handle h names, read back as
 * ml_report_row reads a stowed row (a new reference on malloc), or NULL. */
int ml_report_stow_handle(const json_t *row, int64_t *h);
json_t *ml_report_unstow(int64_t h);
json_t *ml_report_row(const json_t *rows, size_t i);
json_t *ml_report_points(const json_t *series);
int ml_report_points_empty(const json_t *series);

/* A table of the report: rows are the objects of the array at `path` (dot
 * separated members from the root), one column per member named. */
struct ml_report_column {
	const char *key;     /* member of a row object */
	const char *header;  /* column heading */
};
struct ml_report_table {
	const char *name;    /* CSV file name (NAME.csv) and --table value */
	const char *title;
	const char *path;
	const struct ml_report_column *cols;
	size_t ncols;
};
/* Every table, in report order; *n receives the count. */
const struct ml_report_table *ml_report_tables(size_t *n);
/* The table named name, or NULL. */
const struct ml_report_table *ml_report_table(const char *name);
/* The array at a dot-separated path of the model (borrowed), or NULL. */
json_t *ml_report_get(const json_t *model, const char *path);

/* The findings a print format lists one row each under `detail`: every
 * item of findings.items with ALL, else those whose outcome is not "pass"
 * (failed, warned, waived, indeterminate), in model order.  A new array
 * holding references to the model's items as they are (a stowed row's
 * handle, a packed row or the object: read each with ml_report_row) (caller
 * json_decref); NULL when out of memory or an item does not read back.
 * Under SUMMARY they are printed with the columns of ml_report_listed_table
 * (no controls: those belong to the rule). */
json_t *ml_report_listed_findings(const json_t *model, enum ml_report_detail detail);
/* The findings summarised per rule (policy and rule id), in the order each
 * rule first appears: a new array (caller json_decref; NULL when out of
 * memory) of {"ruleId", "severity", "title", "controls", "policy",
 * "pairs", "summary"}, where pairs counts the distinct (version,
 * environment) pairs the rule passed for and summary says so in words,
 * with the count of each other outcome ("passed for 27
 * version/environment pairs; failed for 2 (listed above)").  Controls are
 * the rule's (every finding of a rule shares them). */
json_t *ml_report_rules_summary(const json_t *model);
/* The columns of those two (path NULL: not tables of the model, no CSV). */
const struct ml_report_table *ml_report_listed_table(void);
const struct ml_report_table *ml_report_rules_table(void);

/* The scope as rows for people: a JSON array of [heading, text] pairs
 * (caller json_decref; NULL when out of memory). */
json_t *ml_report_scope_rows(const json_t *model);

/* findings.summary in plain words for people, one string per line ("13
 * findings: 12 passed, 1 failed, ...", "Failed, by rule severity: ...",
 * "2 gate decisions now ...: 1 passed, 1 denied, ..."): a JSON array
 * (caller json_decref).  The writers show these, never the member names. */
json_t *ml_report_findings_lines(const json_t *model);

/* Text of one cell (malloc'd, caller frees; NULL when out of memory):
 * strings as they are, numbers in decimal (reals %.15g), booleans
 * yes/no, null as "", arrays joined with "; " (objects in them by their
 * "label" member), objects of scalars as "k=v, k=v".  *numeric is set when
 * the value is a JSON number. */
char *ml_report_cell(json_t *v, int *numeric);

/* Makes text safe to show to a reader: invalid UTF-8 becomes U+FFFD; C0
 * controls other than LF and tab, DEL, C1 controls, U+2028/U+2029, bidi
 * controls (U+061C, U+200E/F, U+202A-U+202E, U+2066-U+2069) and characters
 * XML cannot carry become the visible text "<U+HHHH>" written with the
 * characters U+2039/U+203A around it.  Returns a malloc'd string (caller
 * frees) or NULL when out of memory. */
char *ml_report_clean(const char *s, size_t len);

#endif
