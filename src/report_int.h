/* report_int — what report.c, report_policy.c and report_summary.c share.  Not an interface:
 * only the report module's own files include it. */
#ifndef ML_REPORT_INT_H
#define ML_REPORT_INT_H

#include <jansson.h>

#include "report.h"

/* The builder's state.  Every json_t here is owned by the struct (released
 * by rp_free in report.c).  Objects may carry members whose name starts
 * with '_' (numbers the builder compares, such as "_t" the time in µs);
 * they are stripped before the model is handed out. */
struct rp {
	struct ml_ledger *l;
	struct ml_store *s;
	const struct ml_report_opts *o;
	struct ml_err *e;
	uint64_t limit;      /* entries read: seq < limit (the verified ones) */
	uint64_t verified;   /* entries a full verify passed (0: it failed) */
	int64_t max_gap_days; /* o->max_gap_days, else a policy's max-age-days, else 7 */
	uint8_t verified_head[ML_SHA256_LEN]; /* leaf hash of the last of them */
	json_t *time;        /* verify's time warnings (timecheck.h), or null */
	int64_t start_us;    /* the ledger's first append time */
	int start_known;
	json_t *models;      /* ref -> model version */
	json_t *datasets;    /* ref -> dataset version */
	json_t *facts;       /* ref -> index in factv (report.c, facts_of) */
	struct rp_facts *factv;
	size_t nfactv, capfactv;
	int oom;             /* something the scan keeps could not be kept */
	json_t *events;      /* deployments and retirements, seq order */
	json_t *keyev;       /* genesis, enrolments, revocations, seq order */
	json_t *waivers;     /* every waiver entry */
	json_t *incidents;   /* every incident entry */
	json_t *unreadable;  /* seqs that do not parse (only when unverified) */
	json_t *roles;       /* keyid -> roles */
	json_t *persons;     /* keyid -> {person, personName, label}, from enrolments */
	json_t *deployments; /* the deployments in scope, seq order (rows: stowed
			      * with r->stow once history is done, report.c) */
	struct rp_dep *dep;  /* per deployment: its "_t" and "_end" (report.c) */
	json_t *deployed;    /* ref -> the "replaces" of its first deployment in
			      * scope that names one, else true (index_deployments) */
	json_t *pairs;       /* "ref\nenv" -> {verdict, label, ...} */
	json_t *findings;    /* the model's "findings" member */
	json_t *policies;    /* the model's scope.policies */
	json_t *strs;        /* text -> the one JSON string of it (rp_shared, report.c) */
	int64_t *policy_seq; /* per policy: its recorded entry, or -1 (a file) */
	struct ml_ledger *replay; /* a connection of its own for decision replays */
	struct ml_gate_replayer *replayer; /* on it: policies compiled once */
	struct ml_governance *gov; /* in force after the entries read: metric directions */
	/* The monitoring threshold (report_policy.c, from the first policy that
	 * declares primary-metric and metric-tolerance, preferring one that
	 * also declares max-age-days: monitoring.xml): "" when none. */
	char thr_metric[129];
	double thr_tol;
	char thr_source[300]; /* "ID@VERSION metric-tolerance T" */
	long long first_seq, last_seq, in_period, considered;
	/* Rows are stowed (report.h: a spool is set on this thread).  temp: a
	 * row to be stowed is being built, so rp_arena keeps the arena off:
	 * every value of it is a malloc'd temporary (its text is kept). */
	int stow, temp;
};

/* A JSON string of s (NULL: null).  Bytes that are not UTF-8 become U+FFFD. */
json_t *rp_str(const char *s);
/* "NAME@VERSION" + "\n" + env: the key of a (version, environment) pair. */
void rp_pair_key(const char *ref, const char *env, char *buf, size_t cap);

/* With an arena (o->arena), it stays this thread's jansson arena for the
 * whole build (so no piece of it is ever freed one by one); on: new values
 * come from it (unless r->temp), off: from malloc, for a phase whose values
 * die within it (verify, the sweep, a statement's parse, a row to be
 * stowed).  A value made off must not be left in the model (rp_keep copies
 * what is kept). */
void rp_arena(const struct rp *r, int on);

/* What the model holds for a finished row (report.h, ml_report_stow):
 * with r->stow its handle; a row the spool did not take is copied into
 * the arena (the row is built on malloc, r->temp, and released here).
 * Without r->stow, row itself (made where it is kept).
 * Call it with the arena on.  Takes the reference; the row must hold no
 * "_" member (strip it first). */
json_t *rp_stow(struct rp *r, json_t *row);

/* Gives what a finished phase freed back to the system (malloc_trim: the
 * policy workers' thread arenas keep it otherwise), so that the peak is
 * the largest phase rather than their sum.  glibc only; elsewhere a no-op. */
void rp_release_freed(void);

/* Loads every policy, evaluates it for every (version, environment) of the
 * deployments in scope, and fills r->findings, r->policies and r->pairs. */
int rp_policies(struct rp *r);

/* Puts the executive summary (report_summary.c: reports/README.md, "What is
 * in it", item 0) into a finished, stripped model, right after
 * schemaVersion and title.  It is computed from the model alone.  On
 * success *model is replaced by a new object holding the same members
 * (the old reference is released); ML_EIO when out of memory (*model is
 * then unchanged). */
int rp_summary_attach(json_t **model);

#endif
