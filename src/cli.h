/* cli — the command line: argument parsing, the command table, messages.
 *
 * The only code that prints to the terminal or decides exit codes.  Every
 * error is printed once as "mlledger: <command>: <message>" on stderr and
 * the command returns its ml_rc, which is the exit code.  May call every
 * other module.
 */
#ifndef ML_CLI_H
#define ML_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "ledger.h"
#include "statement.h"
#include "output.h"
#include "timecheck.h"
#include "util.h"

int cli_main(int argc, char **argv);

/* ---- shared between the cli_*.c files ---------------------------------- */

#define CLI_MAX_OPTS 256

struct cli_opt {
	const char *name;  /* without the leading "--" */
	const char *value; /* NULL for flags */
};

/* Parsed arguments of one command. */
struct cli {
	const char *cmd;       /* "record", "key enroll", ... for messages */
	struct cli_opt opts[CLI_MAX_OPTS];
	int nopts;
	const char *args[CLI_MAX_OPTS];
	int nargs;
	const char *ledger;    /* --ledger, MLLEDGER_LEDGER or the default */
	int json;              /* --format json */
};

/* Parses argv against spec, a space-separated list of accepted options;
 * "name=" takes a value, "name" is a flag.  Prints the error and returns
 * ML_EINPUT on an unknown or malformed option. */
int cli_parse(struct cli *c, int argc, char **argv, const char *spec);
/* The same for commands with formats of their own (csv, html, ...), which
 * cli_parse's --format text|json does not know: *fmt is the last --format
 * value given (NULL: none; argv is rewritten so cli_parse accepts it), and
 * c->json stays 0. */
int cli_parse_format(struct cli *c, int argc, char **argv, const char *spec,
		     const char **fmt);
/* --NAME N: a decimal integer in [lo, hi] into *out, dflt when absent.
 * Prints "--NAME: a number from LO to HI" and returns ML_EINPUT otherwise. */
int cli_opt_long(struct cli *c, const char *name, long lo, long hi, long dflt, long *out);
/* The last value of --name, or NULL. */
const char *cli_get(const struct cli *c, const char *name);
bool cli_has(const struct cli *c, const char *name);
/* The values of every --name, in order, into out[0..*n); the strings are
 * argv's.  More than cap of them is ML_EINPUT. */
int cli_values(const struct cli *c, const char *name, const char **out, size_t cap, size_t *n,
	       struct ml_err *e);
/* Prints "mlledger: <cmd>: <msg>" and returns e->code (or code). */
int cli_fail(const struct cli *c, const struct ml_err *e);
int cli_failf(const struct cli *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- errors naming options (docs/CLI.md, "Errors") ----------------------- */
struct cli_member {
	const char *opt;    /* without the leading "--" */
	const char *member; /* the statement member, or a path "person.email" */
	int copy;           /* record/sign copy the value into the request as is */
};
/* The one option -> member table, ended by {NULL}. */
extern const struct cli_member cli_members[];
/* Rewrites an error of the statement or request module about a member
 * (`MEMBER: ...`, `MEMBER.NAME: ...`, `KIND: field "MEMBER" is required`)
 * to name the option the value came from (`--env is required`,
 * `--decision: must be one of approve, reject`); other errors are left.
 * For commands whose statement members all come from options. */
void cli_flag_error(struct ml_err *e);

/* ---- results (docs/CLI.md: the formats and JSON members per command) --- */
/* An appended entry: "SEQ sha256:LEAF", or with --format json one line
 * {"seq","leafHash","time"[,"alreadyRecorded","message"]}.  A retry of a
 * held entry is also said on stderr (prefix, e.g. a file name, or NULL). */
struct ml_appended;
void cli_print_appended(const struct cli *c, const struct ml_appended *a, const char *prefix);
/* A file written (--out): its name, or with --format json {"file"}. */
int cli_print_written(const struct cli *c, const char *path, struct ml_err *e);
/* Prints o as one compact JSON line and frees it (o NULL: out of memory).
 * ML_EIO when o is NULL or stdout fails. */
struct json_t;
int cli_print_json(struct json_t *o, struct ml_err *e);

/* Loads a secret key named by --key, asking for a passphrase when it is
 * encrypted (--passphrase-file, MLLEDGER_PASSPHRASE_FILE, or the terminal). */
int cli_load_key(const struct cli *c, struct ml_seckey **out, struct ml_err *e);
/* The same for the key file named by option opt (e.g. "holder-key"). */
int cli_load_key_opt(const struct cli *c, const char *opt, struct ml_seckey **out,
		     struct ml_err *e);
/* Reads and parses a C2SP tlog-policy file (--trust POLICY), at most
 * ML_TRUST_MAX bytes.  *pol is the caller's (ml_trust_free).  Errors of
 * the read name the file; a parse error is prefixed with path. */
struct ml_trust;
int cli_trust_load(const char *path, struct ml_trust **pol, struct ml_err *e);
/* Reads a passphrase from --passphrase-file / MLLEDGER_PASSPHRASE_FILE, or
 * from the terminal (twice when confirm).  buf is sodium_malloc'd by the
 * caller.  ML_OK, or ML_EKEY / ML_EIO with e set. */
enum ml_rc cli_passphrase(const struct cli *c, const char *prompt, int confirm, char *buf,
			  size_t cap, struct ml_err *e);
/* The output rules of c (output.h): --force, and the ledger of c protected
 * (its file, -wal, -shm, -journal and log key). */
int cli_out_rules(const struct cli *c, struct ml_out_rules *r, struct ml_err *e);
/* Checks one path c will write (cli_out_rules, then ml_out_check): opt
 * names the option in the message ("--out").  ML_EINPUT (exit 2) when it
 * must not be written. */
int cli_out_check(const struct cli *c, const char *opt, const char *path, int is_dir,
		  struct ml_err *e);
/* Opens the ledger of c. */
int cli_open(const struct cli *c, int writable, struct ml_ledger **out, struct ml_err *e);
/* --policy values of gate, check and report (cli_policy.c): each ID (no
 * '/', no .xml suffix, no @VERSION) that session v holds no policy of is
 * looked up as the installed file ID.xml (policypath.h); paths[i] then
 * points to it, malloc'd in owned[i] (the caller frees owned[0..n), NULL
 * or not).  A name neither recorded nor installed but a file here is left
 * as it is.  record: an installed file is refused (a recorded decision
 * takes no drafts).  ML_EINPUT naming the id, the ledger and the folders
 * searched. */
struct ml_evidence;
int cli_policy_ids(struct ml_evidence *v, const char **paths, char **owned, size_t n,
		   int record, struct ml_err *e);
/* Progress on stderr when it is a terminal. */
void cli_progress(void *ctx, uint64_t done, uint64_t total);
void cli_progress_done(void);
/* Turns glibc's fastbins off (cli.c says why): before a policy sweep. */
void cli_no_fastbins(void);

int cmd_init(int argc, char **argv);
int cmd_governance(int argc, char **argv);
/* Reads and checks a governance document file (at most 64 KiB): *text is
 * malloc'd (caller frees).  ML_EINPUT naming the file and the member. */
int cli_governance_file(const char *path, char **text, struct ml_err *e);
int cmd_key(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_sign(int argc, char **argv);
/* sign --countersign ENVELOPE (cli_countersign.c): c parsed by cmd_sign. */
int cli_countersign(struct cli *c);
/* Writes env, just signed by signed_by (may be NULL), to --out of c instead
 * of appending it, checked as submit would check it (with l, may be NULL)
 * except for too few signers under dual control, which is a note on stderr.
 * Appends a newline to env.  Prints the file name. */
int cli_envelope_out(struct cli *c, struct ml_ledger *l, struct ml_buf *env,
		     const struct ml_pubkey *signed_by, const struct ml_statement *st,
		     struct ml_err *e);
int cmd_submit(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_checkpoint(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
/* export --store URL (cli_migrate.c): a replica of the PostgreSQL store of
 * record at URL copied into a new temporary folder (dir, mkdtemp) as
 * path (dir/ledger.db), every row checked; remove both with
 * cli_store_replica_remove.  On failure nothing is left. */
int cli_store_replica(const char *url, char *dir, size_t dcap, char *path, size_t pcap,
		      struct ml_err *e);
void cli_store_replica_remove(const char *dir, const char *path);
int cmd_log_key(int argc, char **argv);
int cmd_prove(int argc, char **argv);
int cmd_verify_proof(int argc, char **argv);
int cmd_cosign(int argc, char **argv);
int cmd_verify_consistency(int argc, char **argv);
int cmd_witness_key(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_evidence(int argc, char **argv);
int cmd_gate(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_verify_report(int argc, char **argv);
int cmd_digest(int argc, char **argv);
int cmd_clock_correct(int argc, char **argv);
int cmd_population(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_reconcile(int argc, char **argv);
int cmd_live(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_mirror(int argc, char **argv);

/* ---- --server URL (cli_remote.c) ---------------------------------------- */
struct ml_remote;
struct ml_remote_ckpt;
struct ml_remote_mirrored;
/* True when --ledger was given on the command line (before or after the
 * command), not taken from MLLEDGER_LEDGER or the default. */
bool cli_ledger_given(const struct cli *c);
/* --server, else MLLEDGER_SERVER (empty: none) unless --ledger was given;
 * NULL when neither. */
const char *cli_server(const struct cli *c);
/* A client of cli_server(c) pinned to --log-key (both required: ML_EINPUT).
 * *out: ml_remote_close. */
int cli_remote_open(const struct cli *c, struct ml_remote **out, struct ml_err *e);
/* With --state FILE (else nothing): checks ck against the state and moves
 * it (remote.h's ml_remote_state_update; latest: ck is the server's
 * latest); first use and moves are said on stderr. */
int cli_remote_state(const struct cli *c, struct ml_remote *r, const struct ml_remote_ckpt *ck,
		     int latest, struct ml_err *e);
/* GET /checkpoint, verified, then cli_remote_state.  *ck set on success. */
int cli_remote_latest(const struct cli *c, struct ml_remote *r, struct ml_remote_ckpt *ck,
		      struct ml_err *e);
/* A path a mirror may be written to: not a ledger with its log key beside
 * it, not a secret key, a regular file when it exists.  ML_EINPUT. */
int cli_mirror_ok(const char *path, struct ml_err *e);
/* Brings the mirror of the server of c up to its latest checkpoint
 * (cli_remote_latest, ml_remote_mirror): the mirror is --OPT FILE, else
 * the default cache file of the origin; its path goes to path. */
int cli_remote_sync(const struct cli *c, const char *opt, char *path, size_t cap,
		    struct ml_remote_mirrored *m, struct ml_err *e);
/* Opens the ledger an append of c goes to: writable, or with --server the
 * mirror (brought up to date first), read-only. */
int cli_open_append(struct cli *c, struct ml_ledger **l, struct ml_err *e);
/* Appends one item to l, or with --server posts it (POST /add, proof and
 * --state checked) and fills out alike ("already recorded" said on
 * stderr). */
int cli_append(const struct cli *c, struct ml_ledger *l, const struct ml_append_item *item,
	       struct ml_appended *out, struct ml_err *e);
/* cli_remote_sync with --mirror, then c->ledger is the mirror (a path in
 * static storage: one mirror a process).  m may be NULL. */
int cli_use_mirror(struct cli *c, struct ml_remote_mirrored *m, struct ml_err *e);

/* The time-warning thresholds (timecheck.h defaults), with --time-tolerance
 * HOURS (1 to 87600) for the backdating tolerance.  Prints the error. */
/* Parses a duration "30d", "12h", "90m", "45s" (a bare number is seconds)
 * into seconds (--max-witness-age); ML_OK, or ML_EINPUT (*out untouched). */
enum ml_rc cli_duration(const char *v, int64_t *out);
int cli_time_opts(const struct cli *c, struct ml_timecheck_opts *o);

#endif
