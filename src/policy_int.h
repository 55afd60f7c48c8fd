/* policy_int — the compiled form of a policy file, shared by the policy
 * module's files (policy.c compiles it, policy_eval.c runs it, policy_fn.c
 * implements the custom functions, policy_xpath.c scans expressions for the
 * names they use).  Not for use outside src/policy*.c.
 */
#ifndef ML_POLICY_INT_H
#define ML_POLICY_INT_H

#include <stddef.h>

#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "findings.h"
#include "policy.h"
#include "util.h"

enum ml_ptype { ML_PT_STRING, ML_PT_NUMBER, ML_PT_BOOLEAN, ML_PT_LIST, ML_PT_DATE };
enum ml_combining { ML_COMB_DENY_OVERRIDES, ML_COMB_STRICT, ML_COMB_REPORT_ONLY };

/* Where an expression may appear; decides which names it may use. */
enum ml_xscope {
	ML_XS_KEY,    /* key match/use: params, data, ml:key of earlier keys */
	ML_XS_GLOBAL, /* policy-level let (earlier lets), rule context */
	ML_XS_RULE    /* rule let (earlier rule lets), assert/report test, seqs, messages */
};

/* One compiled XPath expression. */
struct ml_pexpr {
	char *src;
	xmlXPathCompExprPtr comp;  /* NULL when the optional attribute is absent */
	int line;
	int type;                  /* ML_XT_*: its static type (ml_xpath_check) */
	char what[112];            /* "rule PROD-X: assert test" for messages */
};

/* A message: literal text and {expression} parts, in order. */
struct ml_pmsg_part {
	char *text;                /* literal (whitespace-normalised), or NULL */
	struct ml_pexpr x;         /* when text is NULL */
};

struct ml_passert {
	int report;                /* 1: <report> fires when true; 0: <assert> fails when false */
	struct ml_pexpr test;
	struct ml_pexpr seqs;      /* optional node-set naming the entries involved */
	struct ml_pmsg_part *parts;
	size_t nparts;
};

struct ml_plet {
	char *name;
	struct ml_pexpr value;
};

struct ml_pparam {
	char *name;
	enum ml_ptype type;
	char **values;             /* allowed values, or NULL */
	size_t nvalues;
	xmlXPathObjectPtr obj;     /* the bound value (default or override) */
};

struct ml_pdata {
	char *name;
	xmlXPathObjectPtr obj;     /* node-set of its <item>s (in the policy doc) */
};

/* One argument of a key's use="concat(...)": an attribute of the node
 * (its value, "" when absent, as XPath's string() of @name gives) or a
 * literal. */
struct ml_puse {
	int attr;                  /* 1: text names an attribute; 0: text is literal */
	char *text;
	size_t len;
};

struct ml_pkey {
	char *name;
	struct ml_pexpr match, use;
	char *use_attr;            /* use is "@name": read natively (same result) */
	struct ml_puse *use_parts; /* use is concat() of "@name"s and string literals:
				    * joined natively (same result); NULL otherwise */
	size_t nuse_parts;
	size_t *deps;              /* earlier keys its expressions look up */
	size_t ndeps;
};

struct ml_prule {
	char *id, *title, *description;
	enum ml_severity severity;
	int expect_any;
	char **phases;             /* NULL: every phase */
	size_t nphases;
	struct ml_control *controls;
	size_t ncontrols;
	struct ml_pexpr context;
	struct ml_plet *lets;
	size_t nlets;
	struct ml_passert *asserts;
	size_t nasserts;
	int never_waivable;
	char **waiver_roles;       /* roles that may waive it; NULL: not waivable */
	size_t nwaiver_roles;
	int line;
};

struct ml_policyset {
	char *path, *id, *version;
	char sha256[65];
	enum ml_combining combining;
	unsigned long op_limit;        /* per expression */
	unsigned long op_limit_policy; /* the op-limit attribute (or the default) */
	xmlDocPtr doc;             /* kept: data items live in it */
	char **ns;                 /* prefix, uri pairs beyond ev and ml */
	size_t nns;
	struct ml_pparam *params;
	size_t nparams;
	struct ml_pdata *data;
	size_t ndata;
	struct ml_pkey *keys;
	size_t nkeys;
	struct ml_plet *lets;
	size_t nlets;
	char **phases;
	size_t nphases;
	struct ml_prule *rules;
	size_t nrules;
	char **warnings;           /* "path:line: warning: ..." found at load */
	size_t nwarnings;
	struct ml_peval_keep *keep; /* the XPath contexts the last evaluation left
				     * for the next (policy_eval.c); evaluations
				     * of a set never run concurrently */
};

/* ---- policy_eval.c ----------------------------------------------------- */

/* A new, empty keep for ml_policyset.keep (NULL when out of memory). */
struct ml_peval_keep *ml_peval_keep_new(void);
/* Frees k and the contexts it holds; NULL is fine. */
void ml_peval_keep_free(struct ml_peval_keep *k);

/* ---- policy_xpath.c ---------------------------------------------------- */

enum ml_xref_kind { ML_XREF_VAR, ML_XREF_PREFIX, ML_XREF_FUNC };

/* One name an expression uses.  Strings point into the expression and are
 * not NUL-terminated. */
struct ml_xref {
	enum ml_xref_kind kind;
	const char *prefix;        /* may be NULL (plen 0) */
	size_t plen;
	const char *name;
	size_t nlen;
	int nargs;                 /* ML_XREF_FUNC */
	const char *arg1;          /* ML_XREF_FUNC: a first argument that is a string literal */
	size_t arg1len;            /* (its content, without quotes), or arg1 NULL */
	size_t pos;                /* offset in the expression */
};

/* Scans an XPath 1.0 expression (lexical structure of XPath 1.0 §3.7) and
 * calls cb for each variable reference, each namespace prefix of a name
 * test, and each function call (after its closing parenthesis, with its
 * argument count; cb returns ML_OK to go on, an ML_E* code to stop).
 * Returns ML_OK, the first non-zero cb result, or ML_EPOLICY with a reason
 * in why for a lexical error (unterminated literal, unbalanced brackets,
 * stray character). */
enum ml_rc ml_xpath_scan(const char *expr, int (*cb)(void *ctx, const struct ml_xref *r),
			 void *ctx, char *why, size_t cap);
/* The static type of an expression, as far as ml_xpath_check can tell. */
enum ml_xtype {
	ML_XT_UNKNOWN,
	ML_XT_NODESET,             /* a node-set */
	ML_XT_OTHER,               /* a string, number or boolean */
	ML_XT_NODE                 /* a node-set of at most one node */
};

struct ml_xcheck {
	/* the type of variable name[0..len) (ML_XT_*); NULL: all unknown */
	int (*var_type)(void *ctx, const char *name, size_t len);
	void *ctx;
	int found;                 /* out: an = or != between two node-sets */
	int op_ne;                 /* out: it is != */
	size_t pos;                /* out: its offset in the expression */
};

/* Reads an XPath 1.0 expression (already compiled by libxml2) for its
 * static type and for the first = or != whose operands are both surely
 * node-sets (XPath 1.0 compares those existentially: true when any pair of
 * nodes matches).  Conservative: what it cannot tell is never reported,
 * and an expression it cannot read gives ML_XT_UNKNOWN and no finding.
 * Returns the expression's ML_XT_* type. */
int ml_xpath_check(const char *expr, struct ml_xcheck *c);
/* A one-line description of an XPath error libxml2 reported (its code is
 * one of xmlXPathError), without a trailing newline. */
const char *ml_xpath_error_text(const xmlError *err);

/* ---- policy_fn.c ------------------------------------------------------- */

struct ml_pfn {
	const char *name;
	int min_args, max_args;    /* max_args -1: any */
	xmlXPathFunction fn;       /* NULL for the XPath core library */
};

/* The custom function named name (in ML_POLICY_NS), or NULL. */
const struct ml_pfn *ml_pfn_find(const char *name, size_t len);
/* The XPath 1.0 core library function named name, or NULL. */
const struct ml_pfn *ml_pfn_core(const char *name, size_t len);
/* Registers every custom function on x and checks that the XPath core
 * library is registered (libxml2 does not report when it could not be).
 * ML_OK, or ML_EIO (out of memory). */
enum ml_rc ml_pfn_register(xmlXPathContextPtr x);

/* ---- policy_eval.c (called by the functions) --------------------------- */

struct ml_peval;

/* The nodes key `name` maps value to (borrowed; NULL when none).  Builds the
 * key's index on first use.  ML_OK, or ML_EPOLICY when the key is unknown
 * or its index could not be built (a detail is recorded). */
enum ml_rc ml_peval_key(struct ml_peval *v, const char *name, const xmlChar *value,
			xmlNodeSetPtr *out);
/* The node-set object of data `name` (borrowed), or NULL when unknown. */
xmlXPathObjectPtr ml_peval_data(struct ml_peval *v, const char *name);
/* Records why the current evaluation failed (the first detail wins). */
void ml_peval_detail(struct ml_peval *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The nearest ancestor-or-self element of n with a seq attribute: its value
 * in *seq, and true; or false when none. */
bool ml_pnode_seq(xmlNodePtr n, long long *seq);

#endif
