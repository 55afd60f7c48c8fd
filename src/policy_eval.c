/* policy_eval — runs a compiled policy against an evidence document: keys
 * (indexes built once per evaluation, on first use), policy-level lets,
 * each rule's context, lets, assertions and messages, then waivers and the
 * combining algorithm.
 *
 * Fail closed: an expression that errors (including the operation limit)
 * makes its rule indeterminate for that context node, never a pass.  So
 * does any error libxml2 reports while the rule is evaluated, even one it
 * does not return: libxml2 often answers an allocation failure with a
 * shorter value (xmlStrcat keeps the old string, a node-set copy comes back
 * empty) and only says so through its error handlers.  ml_policyset_eval
 * installs its own structured and generic handlers for the evaluation
 * (restoring the caller's after), counts every error they see (v->nerr),
 * and each evaluation step compares the count before and after.
 *
 * A policy-level let is evaluated once, up front, and fails only the rules
 * that read it; one that ran out of memory and that no rule read (a
 * predicate over an empty node-set never reads it) would leave no trace in
 * the findings, so the evaluation then fails with out of memory instead of
 * passing (v->nexh counts the signs of exhaustion).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/hash.h>

#include "policy_int.h"

#define MAX_MESSAGE 4096 /* bytes of one finding's message */

struct keyidx {
	int state;          /* 0 not built, 1 built, -1 failed, 2 being built */
	xmlHashTablePtr h;  /* string value -> xmlNodeSetPtr, in document order */
	char err[256];
};

struct ml_peval {
	const struct ml_policyset *p;
	xmlDocPtr doc;
	xmlXPathContextPtr x;        /* lets, contexts, assertions, messages */
	xmlXPathContextPtr kx;       /* key building (may run inside an x evaluation) */
	struct keyidx *keys;
	xmlXPathObjectPtr *glets;    /* policy-level let values; NULL when failed */
	char **glet_err;
	size_t nglets;               /* evaluated so far (visible) */
	const struct ml_prule *rule; /* the rule being evaluated */
	xmlXPathObjectPtr *rlets;    /* its let values so far */
	size_t nrlets;
	int xerr_set;
	xmlError xerr;               /* the current evaluation's first XPath error */
	char detail[256];            /* and why, when a function or lookup said */
	const char *cause;           /* the error of a failed policy let it used */
	int copy_oom;                /* a variable's value could not be copied */
	unsigned long nerr;          /* errors libxml2 reported during this evaluation */
	unsigned long nexh;          /* of those and of ours, the ones that say memory ran
				      * out (or a failure nothing explains) */
	int gerr_set;                /* the first one since run() started, when it */
	int gerr_code;               /* came through the global handlers */
};

void
ml_peval_detail(struct ml_peval *v, const char *fmt, ...)
{
	va_list ap;

	if (v->detail[0])
		return;
	va_start(ap, fmt);
	vsnprintf(v->detail, sizeof v->detail, fmt, ap);
	va_end(ap);
}

/* The XPath contexts' error callback: every XPath error of an evaluation
 * (xmlXPathErr, and xmlXPathErrMemory with a context). */
static void
eval_xerr(void *ctx, xmlErrorPtr err)
{
	struct ml_peval *v = ctx;

	v->nerr++;
	if (!err || err->code == XML_ERR_NO_MEMORY || err->code == XML_XPATH_MEMORY_ERROR)
		v->nexh++;
	if (!err || v->xerr_set)
		return;
	v->xerr_set = 1;
	v->xerr.code = err->code;
	v->xerr.int1 = err->int1;
}

/* The structured error handler while a policy is evaluated: what libxml2
 * reports without an XPath context (xmlErrMemory, xmlXPathErrMemory(NULL),
 * xmlXPathNodeSetCreate, string and buffer functions).  Counting it here
 * also keeps libxml2 from printing "Memory allocation failed" to stderr:
 * the finding says it instead.  None of these is an error of the policy's
 * making: each counts as exhaustion. */
static void
eval_gerr(void *ctx, xmlErrorPtr err)
{
	struct ml_peval *v = ctx;

	v->nerr++;
	v->nexh++;
	if (v->gerr_set)
		return;
	v->gerr_set = 1;
	v->gerr_code = err ? err->code : XML_ERR_INTERNAL_ERROR;
}

/* The generic handler (xmlGenericError, which some XPath paths call
 * directly): an error too. */
static void
eval_generr(void *ctx, const char *msg, ...)
{
	struct ml_peval *v = ctx;

	(void)msg;
	v->nerr++;
	v->nexh++;
	if (!v->gerr_set) {
		v->gerr_set = 1;
		v->gerr_code = XML_ERR_INTERNAL_ERROR;
	}
}

/* Why the current evaluation failed, for messages. */
static const char *
eval_error_text(const struct ml_peval *v)
{
	if (v->xerr_set)
		return ml_xpath_error_text(&v->xerr);
	if (v->gerr_set)
		return v->gerr_code == XML_ERR_NO_MEMORY ? "out of memory"
							 : "libxml2 reported an error";
	return "evaluation failed";
}

/* A copy of a bound value for the variable lookup, or NULL (with the
 * detail set) when it could not be copied whole: xmlXPathObjectCopy
 * returns an empty node-set when the nodes could not be copied. */
static xmlXPathObjectPtr
copy_value(struct ml_peval *v, const char *name, xmlXPathObjectPtr o)
{
	xmlXPathObjectPtr c = xmlXPathObjectCopy(o);

	if (c && (o->type == XPATH_NODESET || o->type == XPATH_XSLT_TREE) && o->nodesetval &&
	    o->nodesetval->nodeNr && (!c->nodesetval || c->nodesetval->nodeNr != o->nodesetval->nodeNr)) {
		xmlXPathFreeObject(c);
		c = NULL;
	}
	if (c && o->type == XPATH_STRING && o->stringval && !c->stringval) {
		xmlXPathFreeObject(c);
		c = NULL;
	}
	if (!c) {
		ml_peval_detail(v, "$%s could not be copied", name);
		v->copy_oom = 1;
		v->nexh++;
	}
	return c;
}

static int
same(const char *a, const xmlChar *b)
{
	return strcmp(a, (const char *)b) == 0;
}

static xmlXPathObjectPtr
lookup(void *ctx, const xmlChar *name, const xmlChar *ns_uri)
{
	struct ml_peval *v = ctx;
	const struct ml_policyset *p = v->p;
	size_t i;

	if (ns_uri)
		return NULL;
	/* the compiler made every name unique within its scope */
	for (i = 0; v->rule && i < v->nrlets; i++)
		if (same(v->rule->lets[i].name, name)) {
			if (!v->rlets[i])
				return NULL;
			return copy_value(v, v->rule->lets[i].name, v->rlets[i]);
		}
	for (i = 0; i < v->nglets; i++)
		if (same(p->lets[i].name, name)) {
			if (!v->glets[i]) {
				ml_peval_detail(v, "let %s could not be evaluated: %s", p->lets[i].name,
						v->glet_err[i] ? v->glet_err[i] : "error");
				v->cause = v->glet_err[i];
				return NULL;
			}
			return copy_value(v, p->lets[i].name, v->glets[i]);
		}
	for (i = 0; i < p->nparams; i++)
		if (same(p->params[i].name, name))
			return copy_value(v, p->params[i].name, p->params[i].obj);
	for (i = 0; i < p->ndata; i++)
		if (same(p->data[i].name, name))
			return copy_value(v, p->data[i].name, p->data[i].obj);
	return NULL;
}

/* Evaluates e with context node n (position pos of size).  On failure
 * returns NULL and writes why into err.  Any error libxml2 reports during
 * the evaluation is a failure, even when it returned a value. */
static xmlXPathObjectPtr
run(struct ml_peval *v, xmlXPathContextPtr x, const struct ml_pexpr *e, xmlNodePtr n, int pos,
    int size, char *err, size_t cap)
{
	xmlXPathObjectPtr r;
	unsigned long nerr = v->nerr;

	v->xerr_set = 0;
	v->gerr_set = 0;
	v->detail[0] = '\0';
	v->cause = NULL;
	v->copy_oom = 0;
	x->node = n;
	x->contextSize = size;
	x->proximityPosition = pos;
	x->opCount = 0;
	x->opLimit = v->p->op_limit;
	r = xmlXPathCompiledEval(e->comp, x);
	if (r && v->nerr != nerr) {
		xmlXPathFreeObject(r);
		r = NULL;
	}
	if (!r && !v->xerr_set && !v->gerr_set && !v->copy_oom && !v->cause)
		v->nexh++; /* failed without a reason: fail closed as if exhausted */
	if (!r && v->copy_oom)
		/* libxml2 calls a NULL from the lookup an undefined variable */
		snprintf(err, cap, "%s (line %d): out of memory: %s", e->what, e->line, v->detail);
	else if (!r && v->cause && v->detail[0])
		/* "let X could not be evaluated: <its error>", not "undefined
		 * variable" (what libxml2 makes of the lookup's NULL) */
		snprintf(err, cap, "%s (line %d): %s", e->what, e->line, v->detail);
	else if (!r)
		snprintf(err, cap, "%s (line %d): %s%s%s", e->what, e->line, eval_error_text(v),
			 v->detail[0] ? ": " : "", v->detail);
	return r;
}

static int
is_nodeset(xmlXPathObjectPtr o)
{
	return o && (o->type == XPATH_NODESET || o->type == XPATH_XSLT_TREE);
}

/* ---- keys -------------------------------------------------------------- */

static void
free_list(void *payload, const xmlChar *name)
{
	(void)name;
	xmlXPathFreeNodeSet(payload);
}

/* Adds n to the list of value in h.  ML_OK, or ML_EIO (out of memory). */
static enum ml_rc
key_add(xmlHashTablePtr h, const xmlChar *value, xmlNodePtr n)
{
	xmlNodeSetPtr list = xmlHashLookup(h, value);

	if (!list) {
		if (!(list = xmlXPathNodeSetCreate(n)))
			return ML_EIO;
		if (xmlHashAddEntry(h, value, list) != 0) {
			xmlXPathFreeNodeSet(list);
			return ML_EIO;
		}
		return ML_OK;
	}
	if (list->nodeNr && list->nodeTab[list->nodeNr - 1] == n)
		return ML_OK; /* one node, the same value twice */
	return xmlXPathNodeSetAddUnique(list, n) == 0 ? ML_OK : ML_EIO;
}

/* A key that could not be built for want of memory. */
static void
key_oom(struct ml_peval *v, struct keyidx *ix)
{
	snprintf(ix->err, sizeof ix->err, "out of memory");
	v->nexh++;
}

/* The value of attribute name (no namespace) of element n, as XPath's
 * string(@name) reads it: the first such attribute's text; NULL when n
 * has none (or is no element).  *own is set when the result was allocated
 * (xmlFree it); a value of one text node is not copied. */
static const xmlChar *
attr_text(xmlNodePtr n, const char *name, xmlChar **own)
{
	xmlAttrPtr a;

	*own = NULL;
	if (n->type != XML_ELEMENT_NODE)
		return NULL;
	for (a = n->properties; a; a = a->next)
		if (!a->ns && xmlStrEqual(a->name, (const xmlChar *)name))
			break;
	if (!a)
		return NULL;
	if (!a->children)
		return (const xmlChar *)"";
	if (a->children->type == XML_TEXT_NODE && !a->children->next && a->children->content)
		return a->children->content;
	*own = xmlNodeListGetString(n->doc, a->children, 1);
	return *own ? *own : (const xmlChar *)"";
}

/* Adds node n to key k under its use="concat(...)" value, joined from
 * k->use_parts without an XPath run (policy.c, use_concat, says why it is
 * the same string).  ML_OK, or ML_EIO (out of memory; a value read short
 * is counted by libxml2's handlers, as in a run). */
static enum ml_rc
key_add_concat(xmlHashTablePtr h, const struct ml_pkey *k, xmlNodePtr n)
{
	struct ml_buf b = {0};
	size_t i;
	enum ml_rc rc;

	for (i = 0; i < k->nuse_parts; i++) {
		const struct ml_puse *u = &k->use_parts[i];
		if (u->attr) {
			xmlChar *own;
			const xmlChar *t = attr_text(n, u->text, &own);
			if (t)
				ml_buf_puts(&b, (const char *)t);
			xmlFree(own);
		} else {
			ml_buf_append(&b, u->text, u->len);
		}
	}
	ml_buf_append(&b, "", 1);
	rc = b.oom ? ML_EIO : key_add(h, b.data, n);
	ml_buf_free(&b);
	return rc;
}

/* Builds key i: evaluates match from the document node, then use for each
 * node matched; every string value of use maps to the node. */
static int
build_key(struct ml_peval *v, size_t i)
{
	const struct ml_pkey *k = &v->p->keys[i];
	struct keyidx *ix = &v->keys[i];
	xmlXPathObjectPtr m = NULL, u = NULL;
	unsigned long nerr = v->nerr;
	int j, n, rc = -1;

	if (!(ix->h = xmlHashCreate(64))) {
		key_oom(v, ix);
		goto out;
	}
	if (!(m = run(v, v->kx, &k->match, (xmlNodePtr)v->doc, 1, 1, ix->err, sizeof ix->err)))
		goto out;
	if (!is_nodeset(m)) {
		snprintf(ix->err, sizeof ix->err, "%s: not a node-set", k->match.what);
		goto out;
	}
	n = m->nodesetval ? m->nodesetval->nodeNr : 0;
	for (j = 0; j < n; j++) {
		xmlNodePtr node = m->nodesetval->nodeTab[j];
		if (k->use_attr) {
			/* "@name": the attribute without a namespace, as XPath reads it */
			xmlChar *s = node->type == XML_ELEMENT_NODE
					     ? xmlGetNoNsProp(node, (const xmlChar *)k->use_attr)
					     : NULL;
			int bad = s && key_add(ix->h, s, node);
			xmlFree(s);
			if (bad) {
				key_oom(v, ix);
				goto out;
			}
			continue;
		}
		if (k->use_parts) {
			if (key_add_concat(ix->h, k, node)) {
				key_oom(v, ix);
				goto out;
			}
			continue;
		}
		if (!(u = run(v, v->kx, &k->use, node, j + 1, n, ix->err, sizeof ix->err)))
			goto out;
		if (is_nodeset(u)) {
			int t;
			for (t = 0; u->nodesetval && t < u->nodesetval->nodeNr; t++) {
				xmlChar *s = xmlXPathCastNodeToString(u->nodesetval->nodeTab[t]);
				int bad = !s || key_add(ix->h, s, node);
				xmlFree(s);
				if (bad) {
					key_oom(v, ix);
					goto out;
				}
			}
		} else {
			xmlChar *s = xmlXPathCastToString(u);
			int bad = !s || key_add(ix->h, s, node);
			xmlFree(s);
			if (bad) {
				key_oom(v, ix);
				goto out;
			}
		}
		xmlXPathFreeObject(u);
		u = NULL;
	}
	/* a value read short (xmlGetNoNsProp, a string cast) is an error too */
	if (v->nerr != nerr) {
		snprintf(ix->err, sizeof ix->err, "%s", eval_error_text(v));
		goto out;
	}
	rc = 0;
out:
	xmlXPathFreeObject(m);
	xmlXPathFreeObject(u);
	ix->state = rc ? -1 : 1;
	return rc;
}

/* Builds key i after the earlier keys it uses, so that no build starts
 * while another runs on v->kx. */
static void
ensure_key(struct ml_peval *v, size_t i)
{
	const struct ml_pkey *k = &v->p->keys[i];
	size_t j;

	if (v->keys[i].state != 0)
		return;
	v->keys[i].state = 2;
	for (j = 0; j < k->ndeps; j++) {
		ensure_key(v, k->deps[j]);
		if (v->keys[k->deps[j]].state != 1) {
			snprintf(v->keys[i].err, sizeof v->keys[i].err, "key %s could not be built",
				 v->p->keys[k->deps[j]].name);
			v->keys[i].state = -1;
			return;
		}
	}
	build_key(v, i);
}

enum ml_rc
ml_peval_key(struct ml_peval *v, const char *name, const xmlChar *value, xmlNodeSetPtr *out)
{
	size_t i;

	for (i = 0; i < v->p->nkeys; i++)
		if (strcmp(v->p->keys[i].name, name) == 0)
			break;
	if (i == v->p->nkeys) {
		ml_peval_detail(v, "ml:key: no key named '%.64s'", name);
		return ML_EPOLICY;
	}
	if (v->keys[i].state == 0) {
		/* a nested evaluation: keep the outer one's error state (the
		 * error count goes on: a failed build fails the lookup anyway) */
		int xerr_set = v->xerr_set, gerr_set = v->gerr_set, gerr_code = v->gerr_code;
		xmlError xerr = v->xerr;
		char detail[sizeof v->detail];

		memcpy(detail, v->detail, sizeof detail);
		ensure_key(v, i);
		v->xerr_set = xerr_set;
		v->xerr = xerr;
		v->gerr_set = gerr_set;
		v->gerr_code = gerr_code;
		memcpy(v->detail, detail, sizeof detail);
	}
	if (v->keys[i].state == 2) {
		ml_peval_detail(v, "key %s is used while it is being built", name);
		return ML_EPOLICY;
	}
	if (v->keys[i].state < 0) {
		ml_peval_detail(v, "key %s could not be built: %s", name, v->keys[i].err);
		return ML_EPOLICY;
	}
	*out = xmlHashLookup(v->keys[i].h, value);
	return ML_OK;
}

xmlXPathObjectPtr
ml_peval_data(struct ml_peval *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->p->ndata; i++)
		if (strcmp(v->p->data[i].name, name) == 0)
			return v->p->data[i].obj;
	return NULL;
}

/* ---- findings ---------------------------------------------------------- */

struct fbuf {
	struct ml_finding *v;
	size_t n, cap;
};

static void
finding_clear(struct ml_finding *f)
{
	size_t i;

	free(f->rule_id);
	free(f->title);
	free(f->description);
	free(f->subject);
	free(f->message);
	free(f->seqs);
	for (i = 0; i < f->ncontrols; i++) {
		free(f->controls[i].framework);
		free(f->controls[i].ref);
	}
	free(f->controls);
	free(f->waiver_by);
	free(f->waiver_reason);
	free(f->waiver_expires);
	memset(f, 0, sizeof *f);
}

static void
fbuf_free(struct fbuf *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		finding_clear(&b->v[i]);
	free(b->v);
	memset(b, 0, sizeof *b);
}

/* A new finding for rule r, or NULL when out of memory. */
static struct ml_finding *
finding_new(struct fbuf *b, const struct ml_prule *r, const char *subject)
{
	struct ml_finding *f;
	size_t i;

	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 16;
		struct ml_finding *nv = realloc(b->v, cap * sizeof *nv);
		if (!nv)
			return NULL;
		b->v = nv;
		b->cap = cap;
	}
	f = &b->v[b->n];
	memset(f, 0, sizeof *f);
	f->waiver_seq = -1;
	f->severity = r->severity;
	f->outcome = ML_OUT_PASS;
	if (!(f->rule_id = strdup(r->id)) || !(f->title = strdup(r->title)) ||
	    !(f->description = strdup(r->description)) || !(f->subject = strdup(subject)) ||
	    (r->ncontrols && !(f->controls = calloc(r->ncontrols, sizeof *f->controls)))) {
		finding_clear(f);
		return NULL;
	}
	b->n++; /* owned by b from here */
	for (i = 0; i < r->ncontrols; i++) {
		f->controls[i].framework = strdup(r->controls[i].framework);
		f->controls[i].ref = strdup(r->controls[i].ref);
		f->ncontrols++;
		if (!f->controls[i].framework || !f->controls[i].ref)
			return NULL;
	}
	return f;
}

struct seqset {
	int64_t *v;
	size_t n, cap;
	int oom;
};

static void
seq_add(struct seqset *s, long long seq)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		int64_t *nv = realloc(s->v, cap * sizeof *nv);
		if (!nv) {
			s->oom = 1;
			return;
		}
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = seq;
}

static void
seq_add_nodes(struct seqset *s, xmlNodeSetPtr ns)
{
	long long seq;
	int i;

	for (i = 0; ns && i < ns->nodeNr; i++)
		if (ml_pnode_seq(ns->nodeTab[i], &seq))
			seq_add(s, seq);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Moves the sorted, distinct seqs into f. */
static void
seq_finish(struct seqset *s, struct ml_finding *f)
{
	size_t i, k = 0;

	if (s->n)
		qsort(s->v, s->n, sizeof *s->v, cmp_i64);
	for (i = 0; i < s->n; i++)
		if (k == 0 || s->v[i] != s->v[k - 1])
			s->v[k++] = s->v[i];
	f->seqs = s->v;
	f->nseqs = k;
	memset(s, 0, sizeof *s);
}

/* Adds the entries an assertion names (its seqs expression, else the
 * context node's entry).  ML_OK, or ML_EPOLICY with err set. */
static enum ml_rc
assertion_seqs(struct ml_peval *v, const struct ml_passert *a, xmlNodePtr n, int pos, int size,
	       struct seqset *s, char *err, size_t cap)
{
	xmlXPathObjectPtr r;
	long long seq;

	if (!a->seqs.comp) {
		if (ml_pnode_seq(n, &seq))
			seq_add(s, seq);
		return ML_OK;
	}
	if (!(r = run(v, v->x, &a->seqs, n, pos, size, err, cap)))
		return ML_EPOLICY;
	if (!is_nodeset(r)) {
		snprintf(err, cap, "%s (line %d): not a node-set", a->seqs.what, a->seqs.line);
		xmlXPathFreeObject(r);
		return ML_EPOLICY;
	}
	seq_add_nodes(s, r->nodesetval);
	xmlXPathFreeObject(r);
	return ML_OK;
}

/* Appends assertion a's message for context node n to m. */
static enum ml_rc
assertion_message(struct ml_peval *v, const struct ml_passert *a, xmlNodePtr n, int pos,
		  int size, struct ml_buf *m, char *err, size_t cap)
{
	size_t i;

	if (m->len)
		ml_buf_puts(m, "; ");
	if (a->nparts == 0)
		ml_buf_printf(m, "%s failed: %s", a->report ? "report" : "assert", a->test.src);
	for (i = 0; i < a->nparts; i++) {
		xmlXPathObjectPtr r;
		xmlChar *s;

		if (a->parts[i].text) {
			ml_buf_puts(m, a->parts[i].text);
			continue;
		}
		if (!(r = run(v, v->x, &a->parts[i].x, n, pos, size, err, cap)))
			return ML_EPOLICY;
		s = xmlXPathCastToString(r);
		xmlXPathFreeObject(r);
		if (!s) {
			snprintf(err, cap, "%s (line %d): out of memory", a->parts[i].x.what,
				 a->parts[i].x.line);
			return ML_EPOLICY;
		}
		ml_buf_puts(m, (const char *)s);
		xmlFree(s);
	}
	return ML_OK;
}

static void
free_rlets(struct ml_peval *v)
{
	size_t i;

	for (i = 0; i < v->nrlets; i++) {
		xmlXPathFreeObject(v->rlets[i]);
		v->rlets[i] = NULL;
	}
	v->nrlets = 0;
}

/* Caps a message at MAX_MESSAGE bytes (on a UTF-8 boundary) and moves it
 * into a malloc'd string. */
static char *
message_take(struct ml_buf *m)
{
	char *s;
	size_t len = m->len;

	if (len > MAX_MESSAGE) {
		len = MAX_MESSAGE - 3;
		while (len && ((unsigned char)m->data[len] & 0xc0) == 0x80)
			len--;
	}
	if (!(s = malloc(len + 4)))
		return NULL;
	memcpy(s, m->data, len);
	if (len < m->len)
		memcpy(s + len, "...", 3), len += 3;
	s[len] = '\0';
	return s;
}

/* Evaluates rule r for one context node: one finding.  Any error libxml2
 * reports meanwhile, and any allocation that fails, makes it indeterminate
 * (ML_EIO only when not even that finding can be written). */
static int
eval_node(struct ml_peval *v, const struct ml_prule *r, xmlNodePtr n, int pos, int size,
	  const char *subject, struct fbuf *out)
{
	struct ml_finding *f = finding_new(out, r, subject);
	struct seqset seqs = {0};
	struct ml_buf m = {0};
	char err[512];
	size_t i;
	unsigned long nerr = v->nerr;
	int failed = 0, indeterminate = 0, rc = ML_OK;

	if (!f)
		return ML_EIO;
	err[0] = '\0';
	for (i = 0; i < r->nlets && !indeterminate; i++) {
		xmlXPathObjectPtr x = run(v, v->x, &r->lets[i].value, n, pos, size, err, sizeof err);
		if (!x)
			indeterminate = 1;
		v->rlets[i] = x;
		v->nrlets = i + 1;
	}
	for (i = 0; i < r->nasserts && !indeterminate; i++) {
		const struct ml_passert *a = &r->asserts[i];
		xmlXPathObjectPtr x = run(v, v->x, &a->test, n, pos, size, err, sizeof err);
		int b;

		if (!x) {
			indeterminate = 1;
			break;
		}
		b = xmlXPathCastToBoolean(x);
		xmlXPathFreeObject(x);
		if (a->report ? !b : b)
			continue;
		failed = 1;
		if (assertion_message(v, a, n, pos, size, &m, err, sizeof err) ||
		    assertion_seqs(v, a, n, pos, size, &seqs, err, sizeof err))
			indeterminate = 1;
	}
	if (!indeterminate && !failed) {
		long long seq;
		if (ml_pnode_seq(n, &seq))
			seq_add(&seqs, seq);
		for (i = 0; i < r->nasserts && !indeterminate; i++)
			if (r->asserts[i].seqs.comp &&
			    assertion_seqs(v, &r->asserts[i], n, pos, size, &seqs, err, sizeof err))
				indeterminate = 1;
		ml_buf_puts(&m, r->title);
	}
	if (!indeterminate && (v->nerr != nerr || m.oom || seqs.oom)) {
		/* a value read short (a seq attribute, a cast) or a message or
		 * seq list that could not grow */
		indeterminate = 1;
		snprintf(err, sizeof err, "rule %s: %s while evaluating it", r->id,
			 v->nerr != nerr && v->gerr_code != XML_ERR_NO_MEMORY
				 ? "libxml2 reported an error"
				 : "out of memory");
	}
	if (indeterminate) {
		long long seq;
		ml_buf_free(&m);
		seqs.n = 0;
		seqs.oom = 0;
		ml_buf_printf(&m, "indeterminate: %s", err);
		if (ml_pnode_seq(n, &seq))
			seq_add(&seqs, seq);
		f->outcome = ML_OUT_INDETERMINATE;
	} else {
		f->outcome = failed ? ML_OUT_FAIL : ML_OUT_PASS;
	}
	ml_buf_append(&m, "", 1);
	if (!m.oom)
		f->message = message_take(&m);
	if (!f->message && f->outcome == ML_OUT_INDETERMINATE)
		f->message = strdup("indeterminate: out of memory");
	if (!f->message)
		rc = ML_EIO;
	else if (!seqs.oom)
		seq_finish(&seqs, f);
	free(seqs.v);
	ml_buf_free(&m);
	free_rlets(v);
	return rc;
}

static int
eval_rule(struct ml_peval *v, const struct ml_prule *r, const char *subject, struct fbuf *out)
{
	xmlXPathObjectPtr ctx;
	char err[512];
	int i, n, rc = ML_OK;

	ctx = run(v, v->x, &r->context, (xmlNodePtr)v->doc, 1, 1, err, sizeof err);
	if (ctx && !is_nodeset(ctx)) {
		snprintf(err, sizeof err, "%s (line %d): not a node-set", r->context.what,
			 r->context.line);
		xmlXPathFreeObject(ctx);
		ctx = NULL;
	}
	if (!ctx) {
		struct ml_finding *f = finding_new(out, r, subject);
		struct ml_buf m = {0};
		if (!f)
			return ML_EIO;
		f->outcome = ML_OUT_INDETERMINATE;
		ml_buf_printf(&m, "indeterminate: %s", err);
		ml_buf_append(&m, "", 1);
		f->message = m.oom ? NULL : message_take(&m);
		if (!f->message)
			f->message = strdup("indeterminate: out of memory");
		ml_buf_free(&m);
		return f->message ? ML_OK : ML_EIO;
	}
	n = ctx->nodesetval ? ctx->nodesetval->nodeNr : 0;
	if (n == 0) {
		struct ml_finding *f = finding_new(out, r, subject);
		struct ml_buf m = {0};
		if (!f) {
			xmlXPathFreeObject(ctx);
			return ML_EIO;
		}
		if (r->expect_any) {
			f->outcome = ML_OUT_FAIL;
			ml_buf_printf(&m, "nothing matched the context %s (expect=\"any\" requires "
				      "at least one)", r->context.src);
		} else {
			ml_buf_printf(&m, "not applicable: nothing matched the context %s",
				      r->context.src);
		}
		ml_buf_append(&m, "", 1);
		f->message = m.oom ? NULL : message_take(&m);
		ml_buf_free(&m);
		rc = f->message ? ML_OK : ML_EIO;
	}
	for (i = 0; i < n && rc == ML_OK; i++)
		rc = eval_node(v, r, ctx->nodesetval->nodeTab[i], i + 1, n, subject, out);
	xmlXPathFreeObject(ctx);
	return rc;
}

/* ---- waivers ----------------------------------------------------------- */

struct waiver {
	long long seq, epoch, expires_epoch; /* expires_epoch LLONG_MIN: unknown */
	char *rule, *ref, *author, *roles, *reason, *expires;
};

static long long
num_attr(xmlNodePtr n, const char *name, long long dflt)
{
	xmlChar *s = xmlGetNoNsProp(n, (const xmlChar *)name);
	long long v = dflt;

	if (s) {
		char *end;
		long long x = strtoll((const char *)s, &end, 10);
		if (end != (char *)s && *end == '\0')
			v = x;
		xmlFree(s);
	}
	return v;
}

static char *
str_attr(xmlNodePtr n, const char *name)
{
	xmlChar *s = xmlGetNoNsProp(n, (const xmlChar *)name);
	char *r = strdup(s ? (const char *)s : "");

	xmlFree(s);
	return r;
}

static int
is_ev(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns &&
	       xmlStrEqual(n->ns->href, (const xmlChar *)ML_POLICY_EVIDENCE_NS) &&
	       xmlStrEqual(n->name, (const xmlChar *)name);
}

static void
waivers_free(struct waiver *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(w[i].rule);
		free(w[i].ref);
		free(w[i].author);
		free(w[i].roles);
		free(w[i].reason);
		free(w[i].expires);
	}
	free(w);
}

/* The waiver entries of the evidence. */
static enum ml_rc
waivers_collect(xmlNodePtr root, struct waiver **out, size_t *nout)
{
	struct waiver *w = NULL;
	size_t n = 0, cap = 0;
	xmlNodePtr k;

	for (k = root->children; k; k = k->next) {
		xmlChar *kind;
		int is_waiver;
		struct waiver *x;
		int64_t us;

		if (!is_ev(k, "entry"))
			continue;
		kind = xmlGetNoNsProp(k, (const xmlChar *)"kind");
		is_waiver = kind && xmlStrEqual(kind, (const xmlChar *)"waiver");
		xmlFree(kind);
		if (!is_waiver)
			continue;
		if (n == cap) {
			struct waiver *nw = realloc(w, (cap = cap ? 2 * cap : 8) * sizeof *nw);
			if (!nw)
				goto oom;
			w = nw;
		}
		x = &w[n++];
		memset(x, 0, sizeof *x);
		x->seq = num_attr(k, "seq", -1);
		x->epoch = num_attr(k, "epoch", LLONG_MAX);
		x->expires_epoch = num_attr(k, "expires-epoch", LLONG_MIN);
		if (!(x->rule = str_attr(k, "rule")) || !(x->ref = str_attr(k, "ref")) ||
		    !(x->author = str_attr(k, "author")) || !(x->roles = str_attr(k, "roles")) ||
		    !(x->reason = str_attr(k, "reason")) || !(x->expires = str_attr(k, "expires")))
			goto oom;
		if (x->expires_epoch == LLONG_MIN && ml_time_parse(x->expires, &us) == 0)
			x->expires_epoch = us / 1000000 + 86399; /* the end of that day */
	}
	*out = w;
	*nout = n;
	return ML_OK;
oom:
	waivers_free(w, n);
	return ML_EIO;
}

static int
roles_ok(const struct ml_prule *r, const char *roles)
{
	size_t i;

	for (i = 0; i < r->nwaiver_roles; i++) {
		const char *p = roles;
		size_t len = strlen(r->waiver_roles[i]);
		while (p && *p) {
			const char *end = strchr(p, ',');
			size_t l = end ? (size_t)(end - p) : strlen(p);
			while (l && *p == ' ')
				p++, l--;
			while (l && p[l - 1] == ' ')
				l--;
			if (l == len && memcmp(p, r->waiver_roles[i], len) == 0)
				return 1;
			p = end ? end + 1 : NULL;
		}
	}
	return 0;
}

/* Marks f waived by w.  ML_OK, or ML_EIO (out of memory). */
static enum ml_rc
set_waiver(struct ml_finding *f, const struct waiver *w)
{
	f->waiver_seq = w->seq;
	return (f->waiver_by = strdup(w->author)) && (f->waiver_reason = strdup(w->reason)) &&
		       (f->waiver_expires = strdup(w->expires))
		       ? ML_OK
		       : ML_EIO;
}

/* Applies the waivers to the failed findings. */
static enum ml_rc
apply_waivers(const struct ml_policyset *p, const struct waiver *w, size_t nw, long long as_of,
	      const char *subject, struct fbuf *b)
{
	size_t i, j;

	for (i = 0; i < b->n; i++) {
		struct ml_finding *f = &b->v[i];
		const struct ml_prule *r = NULL;
		const struct waiver *valid = NULL, *expired = NULL;
		struct ml_buf notes = {0};
		size_t k;

		if (f->outcome != ML_OUT_FAIL)
			continue;
		for (k = 0; k < p->nrules; k++)
			if (strcmp(p->rules[k].id, f->rule_id) == 0)
				r = &p->rules[k];
		for (j = 0; r && j < nw; j++) {
			const struct waiver *x = &w[j];
			if (strcmp(x->rule, r->id) != 0 || strcmp(x->ref, subject) != 0)
				continue;
			if (r->never_waivable || !r->nwaiver_roles) {
				ml_buf_printf(&notes, "%swaiver seq %lld by %s ignored: %s %s",
					      notes.len ? "; " : "", x->seq, x->author, r->id,
					      r->never_waivable ? "can never be waived"
								: "is not waivable");
			} else if (!roles_ok(r, x->roles)) {
				ml_buf_printf(&notes, "%swaiver seq %lld by %s ignored: it needs a key "
					      "with role %s", notes.len ? "; " : "", x->seq, x->author,
					      r->waiver_roles[0]);
				for (k = 1; k < r->nwaiver_roles; k++)
					ml_buf_printf(&notes, " or %s", r->waiver_roles[k]);
			} else if (x->epoch > as_of) {
				ml_buf_printf(&notes, "%swaiver seq %lld by %s ignored: recorded after "
					      "the evaluation time", notes.len ? "; " : "", x->seq,
					      x->author);
			} else if (x->expires_epoch == LLONG_MIN || x->expires_epoch < as_of) {
				if (!expired || x->expires_epoch > expired->expires_epoch ||
				    (x->expires_epoch == expired->expires_epoch && x->seq > expired->seq))
					expired = x;
			} else if (!valid || x->expires_epoch > valid->expires_epoch ||
				   (x->expires_epoch == valid->expires_epoch && x->seq > valid->seq)) {
				valid = x;
			}
		}
		if (valid) {
			f->outcome = ML_OUT_WAIVED;
			if (set_waiver(f, valid))
				goto oom;
		} else if (expired) {
			f->waiver_expired = 1;
			if (set_waiver(f, expired))
				goto oom;
			ml_buf_printf(&notes, "%swaiver seq %lld by %s expired %s", notes.len ? "; " : "",
				      expired->seq, expired->author,
				      expired->expires[0] ? expired->expires : "(no date)");
		}
		if (notes.len && !valid) {
			struct ml_buf m = {0};
			char *s;
			ml_buf_printf(&m, "%s [%.*s]", f->message, (int)notes.len, (char *)notes.data);
			ml_buf_append(&m, "", 1);
			s = m.oom ? NULL : message_take(&m);
			ml_buf_free(&m);
			if (!s) {
				ml_buf_free(&notes);
				goto oom;
			}
			free(f->message);
			f->message = s;
		}
		ml_buf_free(&notes);
	}
	return ML_OK;
oom:
	return ML_EIO;
}

/* ---- the evaluation ---------------------------------------------------- */

static int
verdict_rank(int v)
{
	return v == ML_EPOLICY ? 2 : v == ML_EDENY ? 1 : 0;
}

static int
combine(const struct ml_policyset *p, const struct fbuf *b)
{
	int deny = 0;
	size_t i;

	for (i = 0; i < b->n; i++) {
		const struct ml_finding *f = &b->v[i];
		if (f->outcome == ML_OUT_INDETERMINATE)
			return ML_EPOLICY;
		if (f->outcome == ML_OUT_FAIL && p->combining != ML_COMB_REPORT_ONLY &&
		    (f->severity == ML_SEV_DENY ||
		     (p->combining == ML_COMB_STRICT && f->severity == ML_SEV_WARN)))
			deny = 1;
	}
	return deny ? ML_EDENY : ML_OK;
}

static int
in_phase(const struct ml_prule *r, const char *phase)
{
	size_t i;

	if (!phase || !r->phases)
		return 1;
	for (i = 0; i < r->nphases; i++)
		if (strcmp(r->phases[i], phase) == 0)
			return 1;
	return 0;
}

static xmlXPathContextPtr
eval_context(struct ml_peval *v)
{
	const struct ml_policyset *p = v->p;
	xmlXPathContextPtr x = xmlXPathNewContext(v->doc);
	size_t i;

	if (!x)
		return NULL;
	if (xmlXPathRegisterNs(x, (const xmlChar *)"ev", (const xmlChar *)ML_POLICY_EVIDENCE_NS) ||
	    xmlXPathRegisterNs(x, (const xmlChar *)"ml", (const xmlChar *)ML_POLICY_NS) ||
	    ml_pfn_register(x))
		goto fail;
	for (i = 0; i < p->nns; i++)
		if (xmlXPathRegisterNs(x, (const xmlChar *)p->ns[2 * i],
				       (const xmlChar *)p->ns[2 * i + 1]))
			goto fail;
	xmlXPathRegisterVariableLookup(x, lookup, v);
	x->error = eval_xerr;
	x->userData = v;
	return x;
fail:
	xmlXPathFreeContext(x);
	return NULL;
}

/* ---- contexts kept between evaluations --------------------------------- */

/* Made with eval_context, the contexts hold only what the policy set fixes
 * (its namespaces, the functions) and what each evaluation sets again
 * (bind): keeping them saves two context set-ups per subject of a sweep
 * (the functions' hash tables), with the same results. */
struct ml_peval_keep {
	xmlXPathContextPtr x, kx;
};

struct ml_peval_keep *
ml_peval_keep_new(void)
{
	return calloc(1, sizeof(struct ml_peval_keep));
}

void
ml_peval_keep_free(struct ml_peval_keep *k)
{
	if (!k)
		return;
	xmlXPathFreeContext(k->x);
	xmlXPathFreeContext(k->kx);
	free(k);
}

/* Points kept context x at this evaluation: its document, variables and
 * error state (v, on the caller's stack). */
static void
bind(struct ml_peval *v, xmlXPathContextPtr x)
{
	x->doc = v->doc;
	x->node = NULL;
	x->contextSize = -1;
	x->proximityPosition = -1;
	x->opCount = 0;
	x->depth = 0;
	xmlResetError(&x->lastError);
	xmlXPathRegisterVariableLookup(x, lookup, v);
	x->error = eval_xerr;
	x->userData = v;
}

/* v->x and v->kx: those the set's last evaluation kept, or new ones.
 * ML_OK, or ML_EIO (out of memory). */
static enum ml_rc
take_contexts(struct ml_peval *v)
{
	struct ml_peval_keep *k = v->p->keep;

	if (k && k->x && k->kx) {
		v->x = k->x;
		v->kx = k->kx;
		k->x = k->kx = NULL;
		bind(v, v->x);
		bind(v, v->kx);
		return ML_OK;
	}
	if (!(v->x = eval_context(v)) || !(v->kx = eval_context(v)))
		return ML_EIO;
	return ML_OK;
}

/* Keeps v's contexts for the set's next evaluation (unbound from v), or
 * frees them. */
static void
give_back(struct ml_peval *v)
{
	struct ml_peval_keep *k = v->p->keep;
	xmlXPathContextPtr c[2] = {v->x, v->kx};
	size_t i;

	v->x = v->kx = NULL;
	if (k && !k->x && !k->kx && c[0] && c[1]) {
		for (i = 0; i < 2; i++) {
			xmlXPathRegisterVariableLookup(c[i], NULL, NULL);
			c[i]->userData = NULL;
			c[i]->node = NULL;
		}
		k->x = c[0];
		k->kx = c[1];
		return;
	}
	xmlXPathFreeContext(c[0]);
	xmlXPathFreeContext(c[1]);
}

/* Moves the findings of b to the end of out's. */
static enum ml_rc
append(struct ml_findings *out, struct fbuf *b)
{
	if (b->n == 0)
		return ML_OK;
	if (ml_findings_reserve(out, b->n))
		return ML_EIO;
	memcpy(out->items + out->n, b->v, b->n * sizeof *out->items);
	out->n += b->n;
	free(b->v);
	memset(b, 0, sizeof *b);
	return ML_OK;
}

int
ml_policyset_eval(const struct ml_policyset *p, xmlDocPtr evidence, const char *phase,
		  const char *subject, struct ml_findings *out, struct ml_err *e)
{
	struct ml_peval v;
	struct fbuf b = {0};
	struct waiver *w = NULL;
	size_t nw = 0, i;
	xmlNodePtr root = evidence ? xmlDocGetRootElement(evidence) : NULL;
	xmlChar *subj_attr = NULL;
	char *pid = NULL, *pver = NULL, *pfile = NULL;
	long long as_of;
	int rc = ML_OK, verdict;
	size_t exhausted = 0; /* 1 + the first policy-level let that ran out of memory */
	xmlStructuredErrorFunc old_serr = xmlStructuredError;
	void *old_sctx = xmlStructuredErrorContext;
	xmlGenericErrorFunc old_gerr = xmlGenericError;
	void *old_gctx = xmlGenericErrorContext;

	memset(&v, 0, sizeof v);
	if (!is_ev(root, "evidence"))
		return ml_err_set(e, ML_EINPUT, "not an evidence document (no {%s}evidence root)",
				  ML_POLICY_EVIDENCE_NS);
	if (phase) {
		for (i = 0; i < p->nphases; i++)
			if (strcmp(p->phases[i], phase) == 0)
				break;
		if (i == p->nphases)
			return ml_err_set(e, ML_EINPUT, "%s: no phase '%s'", p->path, phase);
	}
	v.p = p;
	v.doc = evidence;
	/* every error libxml2 reports from here on is counted in v.nerr (and
	 * not printed); the caller's handlers are back at out */
	xmlSetStructuredErrorFunc(&v, eval_gerr);
	xmlSetGenericErrorFunc(&v, eval_generr);
	as_of = num_attr(root, "as-of-epoch", LLONG_MIN);
	if (!subject && (subj_attr = xmlGetNoNsProp(root, (const xmlChar *)"subject")))
		subject = (const char *)subj_attr;
	if (v.nerr) { /* an attribute read short */
		rc = ml_err_set(e, ML_EIO, "out of memory");
		goto out;
	}
	if (as_of == LLONG_MIN) {
		rc = ml_err_set(e, ML_EINPUT, "the evidence has no as-of-epoch");
		goto out;
	}
	if (!subject) {
		rc = ml_err_set(e, ML_EINPUT, "the evidence names no subject");
		goto out;
	}
	if (!(v.keys = calloc(p->nkeys + 1, sizeof *v.keys)) ||
	    !(v.glets = calloc(p->nlets + 1, sizeof *v.glets)) ||
	    !(v.glet_err = calloc(p->nlets + 1, sizeof *v.glet_err)) ||
	    take_contexts(&v) ||
	    waivers_collect(root, &w, &nw) || v.nerr) {
		/* v.nerr: an attribute of a waiver read short */
		rc = ml_err_set(e, ML_EIO, "out of memory");
		goto out;
	}
	/* policy-level lets, in order; a failed one fails the rules that use it */
	for (i = 0; i < p->nlets; i++) {
		char err[512];
		unsigned long nexh = v.nexh;
		v.nglets = i;
		v.glets[i] = run(&v, v.x, &p->lets[i].value, (xmlNodePtr)evidence, 1, 1, err,
				 sizeof err);
		if (!v.glets[i] && v.nexh != nexh && !exhausted)
			exhausted = i + 1;
		/* failed through an earlier let: that let's error, not a chain */
		if (!v.glets[i] && !(v.glet_err[i] = strdup(v.cause ? v.cause : err))) {
			rc = ml_err_set(e, ML_EIO, "out of memory");
			goto out;
		}
	}
	v.nglets = p->nlets;
	for (i = 0; i < p->nrules && rc == ML_OK; i++) {
		const struct ml_prule *r = &p->rules[i];
		xmlXPathObjectPtr *lets;
		if (!in_phase(r, phase))
			continue;
		if (!(lets = calloc(r->nlets + 1, sizeof *lets))) {
			rc = ml_err_set(e, ML_EIO, "out of memory");
			break;
		}
		v.rule = r;
		v.rlets = lets;
		v.nrlets = 0;
		if ((rc = eval_rule(&v, r, subject, &b)))
			ml_err_set(e, ML_EIO, "out of memory");
		free_rlets(&v);
		v.rule = NULL;
		v.rlets = NULL;
		free(lets);
	}
	if (rc)
		goto out;
	if (apply_waivers(p, w, nw, as_of, subject, &b)) {
		rc = ml_err_set(e, ML_EIO, "out of memory");
		goto out;
	}
	verdict = combine(p, &b);
	if (exhausted && verdict != ML_EPOLICY) {
		/* a let that ran out of memory, and no rule read it (none is
		 * indeterminate): the findings would not show it, and a failed
		 * allocation must not end in a pass */
		rc = ml_err_set(e, ML_EIO, "out of memory: %s", v.glet_err[exhausted - 1]);
		goto out;
	}
	if ((!out->policy_id && !(pid = strdup(p->id))) ||
	    (!out->policy_version && !(pver = strdup(p->version))) ||
	    (!out->policy_file && !(pfile = strdup(p->path))) || append(out, &b)) {
		rc = ml_err_set(e, ML_EIO, "out of memory");
		goto out;
	}
	if (pid) {
		out->policy_id = pid;
		memcpy(out->policy_sha256, p->sha256, sizeof out->policy_sha256);
	}
	if (pver)
		out->policy_version = pver;
	if (pfile)
		out->policy_file = pfile;
	pid = pver = pfile = NULL;
	if (verdict_rank(verdict) > verdict_rank(out->verdict))
		out->verdict = verdict;
out:
	free(pid);
	free(pver);
	free(pfile);
	fbuf_free(&b);
	waivers_free(w, nw);
	for (i = 0; i < p->nkeys && v.keys; i++)
		xmlHashFree(v.keys[i].h, free_list);
	free(v.keys);
	for (i = 0; i < p->nlets && v.glets; i++) {
		xmlXPathFreeObject(v.glets[i]);
		free(v.glet_err ? v.glet_err[i] : NULL);
	}
	free(v.glets);
	free(v.glet_err);
	give_back(&v);
	xmlFree(subj_attr);
	xmlSetStructuredErrorFunc(old_sctx, old_serr);
	xmlSetGenericErrorFunc(old_gctx, old_gerr);
	return rc;
}
