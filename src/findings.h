/* findings — the result of evaluating a policy, and its output formats
 * (text, json, junit, sarif, github, gitlab).
 *
 * Plain data owned by the struct (free with ml_findings_free).  The writers
 * are pure: they format into a buffer (the stream writer also into a
 * temporary file: spool's ml_tmpfile_fd).  May call spool, util, jansson,
 * libxml2.
 * Every string may be NULL and may hold anything (the writers escape it for
 * their format; bytes that are not UTF-8 are replaced).  The formats and the
 * JSON schema are documented in policies/FINDINGS.md.
 */
#ifndef ML_FINDINGS_H
#define ML_FINDINGS_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum ml_severity { ML_SEV_INFO = 0, ML_SEV_WARN = 1, ML_SEV_DENY = 2 };
enum ml_outcome {
	ML_OUT_PASS = 0,          /* the rule holds */
	ML_OUT_FAIL = 1,          /* the rule does not hold */
	ML_OUT_WAIVED = 2,        /* it does not hold, but an unexpired waiver covers it */
	ML_OUT_INDETERMINATE = 3  /* it could not be evaluated (fail closed) */
};

struct ml_control {
	char *framework;  /* "EU-AI-Act", "SR-26-2", "ISO-42001", "NIST-AI-RMF" */
	char *ref;        /* "Art. 14", ... */
};

struct ml_finding {
	char *rule_id;
	char *title;
	char *description;
	enum ml_severity severity;
	enum ml_outcome outcome;
	char *subject;            /* NAME@VERSION (and env) the rule was evaluated for */
	char *message;            /* what was found and what was required */
	int64_t *seqs;            /* entries involved */
	size_t nseqs;
	struct ml_control *controls;
	size_t ncontrols;
	/* for waived (and expired-waiver) findings: */
	int64_t waiver_seq;       /* -1 when none */
	char *waiver_by;          /* key name */
	char *waiver_reason;
	char *waiver_expires;     /* YYYY-MM-DD */
	int waiver_expired;       /* 1: a waiver existed but had expired */
	/* where it comes from (ml_findings_note_policy; 0 when not noted): */
	size_t policy;            /* index in the findings' policies */
	int line;                 /* line of the rule's element in that policy, 0 unknown */
};

/* A policy findings were evaluated under. */
struct ml_findings_policy {
	char *id, *version;
	char *file;               /* the --policy path as given, or a recorded one's name */
	char sha256[65];          /* hex of the policy's bytes, "" unknown */
	int64_t seq;              /* its recorded `policy` entry, or -1 (a file) */
};

struct ml_findings {
	char *policy_id;
	char *policy_version;
	char *policy_file;
	char policy_sha256[65];   /* hex of the policy file's bytes */
	char *subject;            /* the candidate NAME@VERSION (gate), or NULL (check) */
	char *env;
	char *as_of;              /* YYYY-MM-DDTHH:MM:SSZ */
	uint64_t ledger_size;
	char *ledger_root;        /* base64 */
	struct ml_finding *items;
	size_t n;
	size_t cap;               /* items allocated (ml_findings_reserve) */
	/* the decision: ML_OK pass, ML_EDENY deny, ML_EPOLICY indeterminate */
	int verdict;
	/* every policy, in --policy order (the first is policy_id ...); none:
	 * the writers take the one policy_id ... name */
	struct ml_findings_policy *policies;
	size_t npolicies;
};

enum ml_format {
	ML_FMT_TEXT, ML_FMT_JSON, ML_FMT_JUNIT, ML_FMT_SARIF, ML_FMT_GITHUB, ML_FMT_GITLAB
};

/* "text", "json", "junit", "sarif", "github", "gitlab" -> format: ML_OK, or
 * ML_EINPUT when unknown (then *out is untouched). */
enum ml_rc ml_format_parse(const char *name, enum ml_format *out);

/* What the sarif and gitlab writers point at (strings borrowed). */
struct ml_findings_opts {
	const char *location;     /* --sarif-location: the file every result names
				   * (NULL: the finding's policy file) */
	const char *cwd;          /* the working directory: absolute paths below it
				   * are written relative to it (NULL: as given) */
	int all;                  /* --sarif-all: sarif lists passing results too */
};

/* Notes the policy id, version, file, sha256 (hex; NULL: unknown), seq (as
 * struct ml_findings_policy's; strings copied, an equal policy already
 * there reused) in fs->policies and marks the findings [from, fs->n) as
 * evaluated under it (their policy; their line is the caller's).  ML_OK, or
 * ML_EIO when out of memory (fs unchanged). */
int ml_findings_note_policy(struct ml_findings *fs, size_t from, const char *id,
			    const char *version, const char *file, const char *sha256,
			    int64_t seq);
/* Appends the findings in format f to out.  ML_EINPUT for an unknown format
 * or a NULL fs/out, ML_EIO when out of memory (or out->oom already set); on
 * any error out is left as it was.  With out->sink set, the text and JSON
 * writers pass their output on to the sink as they go (ml_buf_drain): the
 * caller drains the rest, and on ML_EIO (then also a failed write) what
 * reached the sink stays there.  e may be NULL. */
int ml_findings_write(const struct ml_findings *fs, enum ml_format f, struct ml_buf *out,
		      struct ml_err *e);
/* ml_findings_write with options o (NULL: the defaults, all zero). */
int ml_findings_write_opts(const struct ml_findings *fs, enum ml_format f,
			   const struct ml_findings_opts *o, struct ml_buf *out, struct ml_err *e);
/* A writer that takes the findings a part at a time, for outputs too big
 * to hold (check over a long history).  text, github and json keep only
 * the counts, the digest and the policy fields in memory: the findings go
 * to an anonymous temporary file in $TMPDIR (or /tmp) as they come, and
 * finish writes the head, that file and the summary.  junit, sarif and
 * gitlab (whose heads list every rule and count, or that number repeated
 * findings) hold the findings.  The bytes are
 * those of ml_findings_write on all the parts moved into one struct
 * (ml_findings_move). */
struct ml_findings_stream;
/* *out is the caller's (ml_findings_stream_free).  ML_EINPUT for an
 * unknown format, ML_EIO when out of memory or no temporary file can be
 * created.  e may be NULL. */
int ml_findings_stream_new(enum ml_format f, struct ml_findings_stream **out,
			   struct ml_err *e);
/* The options finish writes with (o is borrowed until then; NULL: none). */
void ml_findings_stream_set_opts(struct ml_findings_stream *s, const struct ml_findings_opts *o);
/* Takes part's findings (after the ones added before) and its verdict and
 * policy fields as ml_findings_move does; part is freed and zeroed on every
 * path.  ML_EIO when out of memory or the temporary file cannot be written
 * (then the stream can only be freed). */
int ml_findings_stream_add(struct ml_findings_stream *s, struct ml_findings *part,
			   struct ml_err *e);
/* Findings so far whose outcome is fail with severity warn (--fail-on). */
size_t ml_findings_stream_warn_failures(const struct ml_findings_stream *s);
/* The verdict so far (the worst of the parts'), and a caller's override. */
int ml_findings_stream_verdict(const struct ml_findings_stream *s);
void ml_findings_stream_set_verdict(struct ml_findings_stream *s, int verdict);
/* Appends the whole output to out, as ml_findings_write does (with
 * out->sink, passing it on as it goes; on error out is as there).  Once
 * only: then free the stream. */
int ml_findings_stream_finish(struct ml_findings_stream *s, struct ml_buf *out,
			      struct ml_err *e);
/* Frees s and removes its temporary file; NULL is fine. */
void ml_findings_stream_free(struct ml_findings_stream *s);

/* Makes room for more findings after the n there are (capacity grows
 * geometrically, so appending is amortised O(1)).  ML_OK, or ML_EIO when
 * out of memory (fs unchanged). */
enum ml_rc ml_findings_reserve(struct ml_findings *fs, size_t more);
/* Moves every finding of from to the end of into, in order; into's
 * verdict becomes the worse of the two (indeterminate, deny, pass), its
 * unset policy fields are taken from from, and from's policies join
 * into's (equal ones once; the moved findings' policy follows).  from is then freed and zeroed.
 * ML_EIO when out of memory (then neither is changed). */
int ml_findings_move(struct ml_findings *into, struct ml_findings *from);
/* Frees everything the struct owns (not the struct itself); NULL is fine.
 * Afterwards the struct is all zero, ready for reuse. */
void ml_findings_free(struct ml_findings *fs);
/* SHA-256 over a canonical JSON of the findings (rule id, subject, outcome,
 * message, seqs, in order): the digest a gate decision records.  The exact
 * bytes hashed are specified in policies/FINDINGS.md.  fs may be NULL (the
 * digest of "[]").  ML_OK, or ML_EIO when out of memory (only the hash
 * context is allocated): out is then not a digest and must not be used. */
int ml_findings_digest(const struct ml_findings *fs, uint8_t out[ML_SHA256_LEN]);

#endif
