/* policy — XML rule files (policies/LANGUAGE.md, policies/policy.xsd) and
 * their evaluation against an evidence document (policies/EVIDENCE.md).
 *
 * A policy file is parsed securely (no DOCTYPE, no entities, no network, no
 * XInclude, bounded size and depth), validated against policies/policy.xsd
 * (embedded in the binary), and compiled: every XPath expression is compiled
 * once, and every variable, function, namespace prefix, key and data name it
 * names is bound at load, so a typo fails at load and not mid-gate.
 * Evaluation runs each rule's compiled expressions with libxml2's XPath
 * engine, an operation limit per expression, and the policy's custom
 * functions (namespace ML_POLICY_NS); it applies the waivers recorded in the
 * evidence and combines the findings into a verdict.
 *
 * Module files: policy.c (secure parsing, schema, compilation, this API's
 * load/lint/accessors), policy_xpath.c (the lexical scan that binds names),
 * policy_fn.c (the custom XPath functions), policy_eval.c (evaluation,
 * waivers, combining); policy_int.h holds their shared structs.
 *
 * May call findings (the struct only), util and libxml2.  Nothing here
 * prints or exits.
 *
 * Errors: ML_EPOLICY for a policy that does not parse, validate or compile
 * (the message names the file and line, and for expressions the rule and
 * attribute); ML_EINPUT for bad caller input (unknown or malformed --param,
 * unknown phase, a document that is not evidence, a missing policy file);
 * ML_EIO when out of memory or unreadable.
 */
#ifndef ML_POLICY_H
#define ML_POLICY_H

#include <stddef.h>

#include <libxml/tree.h>

#include "findings.h"
#include "util.h"

#define ML_POLICY_NS "https://mlledger.dev/policy/v1"
#define ML_POLICY_EVIDENCE_NS "https://mlledger.dev/evidence/v1"
/* A policy file's size and element nesting depth. */
#define ML_POLICY_MAX_BYTES (4 * 1024 * 1024)
#define ML_POLICY_MAX_DEPTH 64
/* XPath operations per evaluated expression (libxml2's opLimit), unless the
 * policy's op-limit attribute says otherwise. */
#define ML_POLICY_OP_LIMIT 2000000UL

struct ml_policyset; /* a compiled policy file */

/* Loads, validates and compiles the policy file at path.  params are
 * "name=value" overrides of the policy's <param>s (a later one wins); a name
 * the policy does not declare, a string without '=' or a value that does
 * not fit the param's type is ML_EINPUT.  *out is set only on success and
 * is then owned by the caller (ml_policyset_free). */
int ml_policyset_load(const char *path, const char *const *params, size_t nparams,
		      struct ml_policyset **out, struct ml_err *e);
/* A replacement for the items of one <data> section (policy tests). */
struct ml_policy_data_override {
	const char *name;          /* a data name the policy declares */
	xmlNodePtr items;          /* its element children named "item" (any
				    * namespace) replace the section's items;
				    * borrowed: they are copied */
};

/* What ml_policyset_load_ex takes besides the path. */
struct ml_policy_opts {
	const char *const *params; /* "name=value", as ml_policyset_load's */
	size_t nparams;
	const struct ml_policy_data_override *data;
	size_t ndata;
	const char *bytes;         /* when set: the policy's bytes (len of them),
				    * and path only names it in messages */
	size_t len;
};

/* ml_policyset_load with data overrides: after the file is parsed and
 * validated, and before it is compiled, the items of each named data
 * section are replaced with copies of the override's items (attributes and
 * content as they are, in the policy's namespace).  A name the policy does
 * not declare as data is ML_EINPUT.  The SHA-256 stays the file's.  Other
 * errors and ownership as ml_policyset_load. */
int ml_policyset_load_ex(const char *path, const struct ml_policy_opts *o,
			 struct ml_policyset **out, struct ml_err *e);
/* Frees p and everything it owns; NULL is fine. */
void ml_policyset_free(struct ml_policyset *p);
/* Loads paths[0..n) with ml_policyset_load and the same params into
 * out[0..n).  On error the sets already loaded are freed, out[0..n) is all
 * NULL and e names the failing file; on success the caller owns them
 * (ml_policyset_free_all). */
int ml_policyset_load_all(const char *const *paths, size_t n, const char *const *params,
			  size_t nparams, struct ml_policyset **out, struct ml_err *e);
/* Frees ps[0..n) (NULL entries allowed) and sets them to NULL. */
void ml_policyset_free_all(struct ml_policyset **ps, size_t n);

/* The policy's id and version attributes, and the SHA-256 of the file's
 * bytes as 64 lowercase hex digits.  Owned by p. */
const char *ml_policyset_id(const struct ml_policyset *p);
const char *ml_policyset_version(const struct ml_policyset *p);
const char *ml_policyset_path(const struct ml_policyset *p);
void ml_policyset_sha256(const struct ml_policyset *p, char hex[65]);
/* Rules in document order (for coverage counts): n, then id of rule i. */
size_t ml_policyset_rule_count(const struct ml_policyset *p);
const char *ml_policyset_rule_id(const struct ml_policyset *p, size_t i);
/* The line of rule i's element in the policy's XML (0 when unknown or i is
 * out of range): where SARIF and GitLab reports point. */
int ml_policyset_rule_line(const struct ml_policyset *p, size_t i);
/* The value of the number param name (its default or override): ML_OK and
 * *out set, or ML_EPOLICY when p declares no such param or it is not a
 * number. */
enum ml_rc ml_policyset_param_number(const struct ml_policyset *p, const char *name,
				      double *out);
/* The params in declaration order: n, name of param i, and the text of its
 * bound value (XPath string() of it; malloc'd, NULL when out of memory). */
size_t ml_policyset_param_count(const struct ml_policyset *p);
const char *ml_policyset_param_name(const struct ml_policyset *p, size_t i);
char *ml_policyset_param_text(const struct ml_policyset *p, size_t i);
/* Overrides the XPath operation limit per expression (0 = the policy's). */
void ml_policyset_set_op_limit(struct ml_policyset *p, unsigned long ops);

/* Loads (without params), compiles and binds everything, then frees: the
 * check behind `mlledger policy lint`.  ML_OK or ml_policyset_load's error. */
int ml_policyset_lint(const char *path, struct ml_err *e);
/* Warnings found while compiling p: expressions that are valid but
 * probably wrong.  Today one kind: an = or != whose operands are both
 * surely node-sets ("PATH:LINE: warning: node-set = node-set compares
 * existentially ..."; XPath 1.0 makes it true when any pair of nodes
 * matches).  Strings owned by p; they do not change the load's result. */
size_t ml_policyset_warning_count(const struct ml_policyset *p);
const char *ml_policyset_warning(const struct ml_policyset *p, size_t i);

/* Evaluates the rules of phase (NULL: every rule) against evidence, an
 * ev:evidence document, for subject (NAME@VERSION; NULL: the evidence's
 * subject attribute), and appends one finding per rule and context node to
 * out->items (out must be zeroed or hold earlier results; policy_id,
 * policy_version, policy_file and policy_sha256 are set when unset).
 * Waivers recorded in the evidence are applied (ML_OUT_WAIVED, or
 * waiver_expired on a failure).  out->verdict becomes the worse of its old
 * value and this evaluation's, per the policy's combining algorithm:
 * ML_EPOLICY when any finding is indeterminate (fail closed), else ML_EDENY
 * when a deny rule fails unwaived (with combining="strict" a warn rule too;
 * with "report-only" never), else ML_OK.
 * Returns ML_OK when findings were produced (whatever the verdict);
 * ML_EINPUT for an unknown phase or a document that is not evidence (no
 * ev:evidence root, no as-of-epoch, or no subject given or recorded);
 * ML_EIO when out of memory.  On error out is left as it was.
 * Evaluations of one policyset must not run concurrently (libxml2 caches
 * function lookups inside compiled expressions); evidence is not
 * modified. */
int ml_policyset_eval(const struct ml_policyset *p, xmlDocPtr evidence, const char *phase,
		      const char *subject, struct ml_findings *out, struct ml_err *e);

/* Parses XML bytes with the rules policy files get: no DOCTYPE (so no
 * entities and no external subset), no network, no XInclude, depth at most
 * max_depth.  name is used in messages ("name:line: ...").  *out is set only
 * on success (caller frees with xmlFreeDoc).  ML_EPOLICY on any error
 * (ML_EIO when out of memory).
 * For other XML inputs of the policy commands (policy test files, evidence
 * fixtures). */
int ml_policy_xml_parse(const char *bytes, size_t len, const char *name, int max_depth,
			xmlDocPtr *out, struct ml_err *e);
/* Reads path (at most max bytes, else ML_EPOLICY) and parses it with
 * ml_policy_xml_parse. */
int ml_policy_xml_read(const char *path, size_t max, int max_depth, xmlDocPtr *out,
		       struct ml_err *e);
/* Sets up libxml2's process-wide state once: the parser, and the XML
 * Schema built-in types, which libxml2 2.9 creates lazily and without a
 * lock (two threads validating for the first time at once leak one set, or
 * worse).  The binary calls it first thing in main() (src/main.c), on the
 * main thread before any command runs, so no thread ever does it first;
 * tests/cli/xmlinit.sh checks that order.  Idempotent and thread-safe
 * (pthread_once): the calls in every loader and before gate's and sweep's
 * workers are then no-ops, kept for callers that are not the binary (unit
 * tests, fuzzers), which must call it before starting threads that load or
 * validate policies. */
void ml_policy_global_init(void);
/* Validates doc against an XML schema held in memory (xsd, xsd_len bytes;
 * xsd_name for messages).  "{ns}" is dropped from the messages.  ML_OK, or
 * ML_EPOLICY "path:line: reason" (ML_EIO when out of memory).  Used for
 * policy files (policy.xsd) and policy test files (policy-test.xsd). */
int ml_policy_xml_validate(xmlDocPtr doc, const unsigned char *xsd, size_t xsd_len,
			   const char *xsd_name, const char *ns, const char *path,
			   struct ml_err *e);

#endif
