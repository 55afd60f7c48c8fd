/* policy — loading a policy file: secure parsing, validation against the
 * embedded policies/policy.xsd, and compilation into struct ml_policyset
 * (policy_int.h), binding every name each expression uses.  Evaluation is
 * in policy_eval.c.
 */
#include <errno.h>
#include <pthread.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlschemastypes.h>

#include "policy_int.h"
#include "policy_xsd.h" /* generated from policies/policy.xsd: policy_xsd[] */

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void
xml_setup(void)
{
	xmlInitParser();
	xmlSchemaInitTypes();
}

void
ml_policy_global_init(void)
{
	pthread_once(&xml_once, xml_setup);
}

#define MAX_EXPR 16384
#define MAX_MESSAGE_PARTS 64

/* ---- secure parsing ---------------------------------------------------- */

struct sparse {
	int max_depth, depth;
	int doctype, too_deep, stop_line;
	int err_line;
	char err[256];
};

static struct sparse *
sparse_of(void *ctx)
{
	return ((xmlParserCtxtPtr)ctx)->_private;
}

static int
cur_line(xmlParserCtxtPtr c)
{
	return c->input ? c->input->line : 0;
}

/* A DOCTYPE: stop before its internal subset or external ID is read. */
static void
sp_internal_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
		   const xmlChar *system_id)
{
	struct sparse *s = sparse_of(ctx);

	(void)name;
	(void)external_id;
	(void)system_id;
	s->doctype = 1;
	s->stop_line = cur_line(ctx);
	xmlStopParser(ctx);
}

static void
sp_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
	 int nb_namespaces, const xmlChar **namespaces, int nb_attributes,
	 int nb_defaulted, const xmlChar **attributes)
{
	struct sparse *s = sparse_of(ctx);

	if (++s->depth > s->max_depth) {
		s->too_deep = 1;
		s->stop_line = cur_line(ctx);
		xmlStopParser(ctx);
		return;
	}
	xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces,
			      nb_attributes, nb_defaulted, attributes);
}

static void
sp_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
	struct sparse *s = sparse_of(ctx);

	s->depth--;
	xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

static void
chomp_copy(char *dst, size_t cap, const char *src)
{
	size_t n;

	snprintf(dst, cap, "%s", src ? src : "error");
	n = strlen(dst);
	while (n && (dst[n - 1] == '\n' || dst[n - 1] == ' '))
		dst[--n] = '\0';
}

/* Keeps the first error (parsers report the cause first). */
static void
sp_error(void *ctx, xmlErrorPtr err)
{
	struct sparse *s = sparse_of(ctx);

	if (!err || err->level < XML_ERR_ERROR || s->err[0])
		return;
	s->err_line = err->line;
	chomp_copy(s->err, sizeof s->err, err->message);
}

int
ml_policy_xml_parse(const char *bytes, size_t len, const char *name, int max_depth,
		    xmlDocPtr *out, struct ml_err *e)
{
	struct sparse s;
	xmlParserCtxtPtr c;
	xmlDocPtr doc = NULL;
	int rc = ML_OK;

	if (len > 0x7fffffff) /* libxml2 takes an int */
		return ml_err_set(e, ML_EPOLICY, "%s: too large", name);
	if (len == 0)
		return ml_err_set(e, ML_EPOLICY, "%s: empty", name);
	memset(&s, 0, sizeof s);
	s.max_depth = max_depth > 0 ? max_depth : ML_POLICY_MAX_DEPTH;
	ml_policy_global_init();
	if (!(c = xmlCreateMemoryParserCtxt(bytes, (int)len)))
		return ml_err_set(e, ML_EIO, "%s: out of memory", name);
	/* Never NOENT, DTDLOAD, DTDATTR, HUGE or XINCLUDE. */
	xmlCtxtUseOptions(c, XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_BIG_LINES);
	c->_private = &s;
	c->sax->internalSubset = sp_internal_subset;
	c->sax->externalSubset = NULL;
	c->sax->startElementNs = sp_start;
	c->sax->endElementNs = sp_end;
	c->sax->serror = sp_error;
	c->sax->error = NULL;
	c->sax->warning = NULL;
	xmlParseDocument(c);
	doc = c->myDoc;
	c->myDoc = NULL;
	if (s.doctype) {
		rc = ml_err_set(e, ML_EPOLICY,
				"%s:%d: a DOCTYPE is not allowed (no DTDs or entities: "
				"nothing was loaded)", name, s.stop_line);
	} else if (s.too_deep) {
		rc = ml_err_set(e, ML_EPOLICY, "%s:%d: elements nested deeper than %d",
				name, s.stop_line, s.max_depth);
	} else if (!c->wellFormed || !doc) {
		rc = ml_err_set(e, ML_EPOLICY, "%s:%d: %s", name,
				s.err[0] ? s.err_line : cur_line(c),
				s.err[0] ? s.err : "not well-formed XML");
	} else if (doc->intSubset || doc->extSubset) {
		rc = ml_err_set(e, ML_EPOLICY, "%s: a DOCTYPE is not allowed", name);
	}
	xmlFreeParserCtxt(c);
	if (rc) {
		xmlFreeDoc(doc);
		return rc;
	}
	if (!doc->URL)
		doc->URL = xmlStrdup((const xmlChar *)name);
	*out = doc;
	return ML_OK;
}

/* Reads path after checking its size: larger is ML_EPOLICY (an invalid
 * policy), a missing file ML_EINPUT. */
static int
read_bounded(const char *path, size_t max, char **buf, size_t *len, struct ml_err *e)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (unsigned long long)st.st_size > max)
		return ml_err_set(e, ML_EPOLICY, "%s: larger than %zu bytes", path, max);
	return ml_read_file(path, max, buf, len, e);
}

int
ml_policy_xml_read(const char *path, size_t max, int max_depth, xmlDocPtr *out,
		   struct ml_err *e)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if ((rc = read_bounded(path, max, &buf, &len, e)))
		return rc;
	rc = ml_policy_xml_parse(buf, len, path, max_depth, out, e);
	free(buf);
	return rc;
}

/* ---- schema ------------------------------------------------------------ */

struct serr {
	int line;
	const char *ns;            /* "{uri}" dropped from messages */
	char msg[300];
};

static void
schema_error(void *ctx, xmlErrorPtr err)
{
	struct serr *s = ctx;
	size_t nslen = strlen(s->ns), o = 0;
	char raw[300], *p;

	if (!err || err->level < XML_ERR_ERROR || s->msg[0])
		return;
	s->line = err->line;
	chomp_copy(raw, sizeof raw, err->message);
	/* drop "{namespace}" from element names: the file has one namespace */
	for (p = raw; *p && o + 1 < sizeof s->msg;) {
		if (nslen && strncmp(p, s->ns, nslen) == 0) {
			p += nslen;
			continue;
		}
		s->msg[o++] = *p++;
	}
	s->msg[o] = '\0';
}

int
ml_policy_xml_validate(xmlDocPtr doc, const unsigned char *xsd, size_t xsd_len,
		       const char *xsd_name, const char *ns, const char *path, struct ml_err *e)
{
	xmlSchemaParserCtxtPtr pc = NULL;
	xmlSchemaValidCtxtPtr vc = NULL;
	xmlSchemaPtr schema = NULL;
	struct serr s;
	char brace[300];
	int rc = ML_OK, r;

	memset(&s, 0, sizeof s);
	snprintf(brace, sizeof brace, "{%s}", ns ? ns : "");
	s.ns = ns ? brace : "";
	if (xsd_len > 0x7fffffff ||
	    !(pc = xmlSchemaNewMemParserCtxt((const char *)xsd, (int)xsd_len))) {
		rc = ml_err_set(e, ML_EIO, "out of memory");
		goto out;
	}
	xmlSchemaSetParserStructuredErrors(pc, schema_error, &s);
	if (!(schema = xmlSchemaParse(pc))) {
		rc = ml_err_set(e, ML_EPOLICY, "the embedded %s does not load: %s", xsd_name, s.msg);
		goto out;
	}
	if (!(vc = xmlSchemaNewValidCtxt(schema))) {
		rc = ml_err_set(e, ML_EIO, "out of memory");
		goto out;
	}
	xmlSchemaSetValidStructuredErrors(vc, schema_error, &s);
	r = xmlSchemaValidateDoc(vc, doc);
	if (r > 0 || (r == 0 && s.msg[0]))
		rc = ml_err_set(e, ML_EPOLICY, "%s:%d: %s%s", path, s.line,
				s.msg[0] ? s.msg : "does not match ", s.msg[0] ? "" : xsd_name);
	else if (r < 0)
		rc = ml_err_set(e, ML_EPOLICY, "%s: schema validation failed", path);
out:
	xmlSchemaFreeValidCtxt(vc);
	xmlSchemaFree(schema);
	xmlSchemaFreeParserCtxt(pc);
	return rc;
}

static int
validate(xmlDocPtr doc, const char *path, struct ml_err *e)
{
	return ml_policy_xml_validate(doc, policy_xsd, sizeof policy_xsd, "policy.xsd",
				      ML_POLICY_NS, path, e);
}

/* ---- compilation ------------------------------------------------------- */

struct comp {
	struct ml_policyset *p;
	xmlXPathContextPtr x;
	struct ml_err *e;
	enum ml_xscope scope;
	size_t nglets;                  /* global lets visible */
	const struct ml_plet *rlets;    /* rule lets visible */
	size_t nrlets;
	xmlNodePtr rule;                /* the rule being compiled */
	int xerr_set;
	xmlError xerr;                  /* last XPath compile error (code, int1) */
	char why[256];
};

static int
perr(struct comp *c, xmlNodePtr n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
perr(struct comp *c, xmlNodePtr n, const char *fmt, ...)
{
	char msg[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return ml_err_set(c->e, ML_EPOLICY, "%s:%ld: %s", c->p->path, n ? xmlGetLineNo(n) : 0L,
			  msg);
}

static int
oom(struct comp *c)
{
	return ml_err_set(c->e, ML_EIO, "out of memory");
}

static int
is_el(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns &&
	       xmlStrEqual(n->ns->href, (const xmlChar *)ML_POLICY_NS) &&
	       xmlStrEqual(n->name, (const xmlChar *)name);
}

static char *
xdup(xmlChar *s)
{
	char *r = s ? strdup((const char *)s) : NULL;

	xmlFree(s);
	return r;
}

/* The unqualified attribute name of n, malloc'd, or NULL. */
static char *
attr(xmlNodePtr n, const char *name)
{
	return xdup(xmlGetNoNsProp(n, (const xmlChar *)name));
}

static int
is_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* s after its leading XPath white space. */
static const char *
skip_ws(const char *s)
{
	while (is_ws(*s))
		s++;
	return s;
}

/* The length of the attribute name at s (after the "@"), as the key
 * shortcuts take it: ASCII letters, digits, '_', '-', '.', not starting
 * with a digit, '-' or '.'; 0 when there is none. */
static size_t
attr_name_len(const char *s)
{
	if ((*s >= '0' && *s <= '9') || *s == '-' || *s == '.')
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.");
}

/* Collapses runs of white space in s to one space, in place. */
static void
collapse(char *s, int trim_left, int trim_right)
{
	char *w = s, *r = s;
	int sp = trim_left;

	for (; *r; r++) {
		if (is_ws(*r)) {
			if (!sp)
				*w++ = ' ';
			sp = 1;
		} else {
			*w++ = *r;
			sp = 0;
		}
	}
	*w = '\0';
	if (trim_right && w > s && w[-1] == ' ')
		w[-1] = '\0';
}

/* The text of the child element `name` of n, normalised; "" when absent. */
static char *
child_text(xmlNodePtr n, const char *name)
{
	xmlNodePtr k;

	for (k = n->children; k; k = k->next)
		if (is_el(k, name)) {
			char *t = xdup(xmlNodeGetContent(k));
			if (t)
				collapse(t, 1, 1);
			return t;
		}
	return strdup("");
}

/* Splits a space-separated attribute into a malloc'd array of strings. */
static enum ml_rc
split_words(const char *s, char ***out, size_t *n)
{
	char **v = NULL;
	size_t k = 0;

	while (s && *s) {
		const char *b, *end;
		char **nv;
		while (is_ws(*s))
			s++;
		if (!*s)
			break;
		b = s;
		while (*s && !is_ws(*s))
			s++;
		end = s;
		if (!(nv = realloc(v, (k + 1) * sizeof *v)) ||
		    !(nv[k] = strndup(b, (size_t)(end - b)))) {
			if (nv)
				v = nv;
			while (k)
				free(v[--k]);
			free(v);
			return ML_EIO;
		}
		v = nv;
		k++;
	}
	*out = v;
	*n = k;
	return ML_OK;
}

static void
free_words(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int
has_word(char *const *v, size_t n, const char *w)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], w) == 0)
			return 1;
	return 0;
}

static int
name_eq(const char *a, const char *b, size_t blen)
{
	return strlen(a) == blen && memcmp(a, b, blen) == 0;
}

static const char *
ns_uri(const struct ml_policyset *p, const char *prefix, size_t len)
{
	size_t i;

	if (name_eq("ev", prefix, len))
		return ML_POLICY_EVIDENCE_NS;
	if (name_eq("ml", prefix, len))
		return ML_POLICY_NS;
	if (name_eq("xml", prefix, len))
		return "http://www.w3.org/XML/1998/namespace";
	for (i = 0; i < p->nns; i++)
		if (name_eq(p->ns[2 * i], prefix, len))
			return p->ns[2 * i + 1];
	return NULL;
}

/* The index of key name, or -1. */
static long
key_index(const struct ml_policyset *p, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < p->nkeys; i++)
		if (name_eq(p->keys[i].name, name, len))
			return (long)i;
	return -1;
}

static int
key_exists(const struct ml_policyset *p, const char *name, size_t len)
{
	return key_index(p, name, len) >= 0;
}

static int
data_exists(const struct ml_policyset *p, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < p->ndata; i++)
		if (name_eq(p->data[i].name, name, len))
			return 1;
	return 0;
}

/* Whether variable name is visible from the current scope; *later set
 * when it names a let defined further down (a helpful message). */
static int
var_visible(struct comp *c, const char *name, size_t len, int *later)
{
	const struct ml_policyset *p = c->p;
	size_t i;

	*later = 0;
	for (i = 0; i < p->nparams; i++)
		if (name_eq(p->params[i].name, name, len))
			return 1;
	for (i = 0; i < p->ndata; i++)
		if (name_eq(p->data[i].name, name, len))
			return 1;
	for (i = 0; i < p->nlets; i++)
		if (name_eq(p->lets[i].name, name, len)) {
			if (c->scope != ML_XS_KEY && i < c->nglets)
				return 1;
			*later = 1;
		}
	if (c->scope == ML_XS_RULE)
		for (i = 0; i < c->nrlets; i++)
			if (name_eq(c->rlets[i].name, name, len))
				return 1;
	if (c->rule || c->scope == ML_XS_KEY) {
		xmlNodePtr k = c->rule ? c->rule : xmlDocGetRootElement(c->p->doc);
		for (k = k->children; k; k = k->next)
			if (is_el(k, "let")) {
				xmlChar *n = xmlGetNoNsProp(k, (const xmlChar *)"name");
				if (n && name_eq((const char *)n, name, len))
					*later = 1;
				xmlFree(n);
			}
	}
	return 0;
}

/* ml_xpath_scan's callback: ML_OK, or ML_EPOLICY with why set. */
static int
bind_ref(void *ctx, const struct ml_xref *r)
{
	struct comp *c = ctx;
	const struct ml_pfn *f;
	const char *uri;
	int later;

	switch (r->kind) {
	case ML_XREF_VAR:
		if (r->plen) {
			snprintf(c->why, sizeof c->why, "variable $%.*s:%.*s: variables have no prefix",
				 (int)r->plen, r->prefix, (int)r->nlen, r->name);
			return ML_EPOLICY;
		}
		if (!var_visible(c, r->name, r->nlen, &later)) {
			snprintf(c->why, sizeof c->why, "unknown variable $%.*s%s", (int)r->nlen,
				 r->name,
				 later ? (c->scope == ML_XS_KEY
						  ? " (keys see only params and data)"
						  : " (a let is visible only after its definition)")
				       : "");
			return ML_EPOLICY;
		}
		return ML_OK;
	case ML_XREF_PREFIX:
		if (!ns_uri(c->p, r->prefix, r->plen)) {
			snprintf(c->why, sizeof c->why,
				 "unknown namespace prefix '%.*s' (declare it with <ns>)",
				 (int)r->plen, r->prefix);
			return ML_EPOLICY;
		}
		return ML_OK;
	case ML_XREF_FUNC:
		break;
	}
	if (!r->plen) {
		if (!(f = ml_pfn_core(r->name, r->nlen))) {
			snprintf(c->why, sizeof c->why, "unknown function %.*s()%s", (int)r->nlen,
				 r->name,
				 ml_pfn_find(r->name, r->nlen) ? " (ours are in the ml: namespace)" : "");
			return ML_EPOLICY;
		}
	} else {
		uri = ns_uri(c->p, r->prefix, r->plen);
		if (!uri) {
			snprintf(c->why, sizeof c->why, "unknown namespace prefix '%.*s' in %.*s:%.*s()",
				 (int)r->plen, r->prefix, (int)r->plen, r->prefix, (int)r->nlen,
				 r->name);
			return ML_EPOLICY;
		}
		if (strcmp(uri, ML_POLICY_NS) != 0 || !(f = ml_pfn_find(r->name, r->nlen))) {
			snprintf(c->why, sizeof c->why, "unknown function %.*s:%.*s()", (int)r->plen,
				 r->prefix, (int)r->nlen, r->name);
			return ML_EPOLICY;
		}
		if (name_eq("key", r->name, r->nlen)) {
			if (c->scope == ML_XS_KEY) {
				/* an index may be built from an earlier one: no cycles */
				struct ml_pkey *k = &c->p->keys[c->p->nkeys - 1];
				long d = r->arg1 ? key_index(c->p, r->arg1, r->arg1len) : -1;
				size_t *nd;
				if (d < 0 || (size_t)d + 1 >= c->p->nkeys) {
					snprintf(c->why, sizeof c->why,
						 "in a key, ml:key() must name an earlier key with a "
						 "string literal");
					return ML_EPOLICY;
				}
				if (!(nd = realloc(k->deps, (k->ndeps + 1) * sizeof *nd))) {
					snprintf(c->why, sizeof c->why, "out of memory");
					return ML_EPOLICY;
				}
				k->deps = nd;
				k->deps[k->ndeps++] = (size_t)d;
			}
			if (r->arg1 && !key_exists(c->p, r->arg1, r->arg1len)) {
				snprintf(c->why, sizeof c->why, "ml:key(): unknown key '%.*s'",
					 (int)r->arg1len, r->arg1);
				return ML_EPOLICY;
			}
		}
		if (name_eq("data", r->name, r->nlen) && r->arg1 &&
		    !data_exists(c->p, r->arg1, r->arg1len)) {
			snprintf(c->why, sizeof c->why, "ml:data(): unknown data '%.*s'",
				 (int)r->arg1len, r->arg1);
			return ML_EPOLICY;
		}
	}
	if (r->nargs < f->min_args || (f->max_args >= 0 && r->nargs > f->max_args)) {
		char want[32];
		if (f->max_args < 0)
			snprintf(want, sizeof want, "at least %d", f->min_args);
		else if (f->min_args == f->max_args)
			snprintf(want, sizeof want, "%d", f->min_args);
		else
			snprintf(want, sizeof want, "%d to %d", f->min_args, f->max_args);
		snprintf(c->why, sizeof c->why, "%s%.*s%s%.*s() takes %s argument%s, not %d",
			 r->plen ? "" : "", (int)r->plen, r->prefix ? r->prefix : "",
			 r->plen ? ":" : "", (int)r->nlen, r->name, want,
			 strcmp(want, "1") == 0 ? "" : "s", r->nargs);
		return ML_EPOLICY;
	}
	return ML_OK;
}

static void
comp_xerr(void *ctx, xmlErrorPtr err)
{
	struct comp *c = ctx;

	if (!err || c->xerr_set)
		return;
	c->xerr_set = 1;
	c->xerr.code = err->code;
	c->xerr.int1 = err->int1;
}

/* The static type (ML_XT_*) of a variable visible from the current scope:
 * data are node-sets, params are not, a let has its value's type. */
static int
var_type(void *ctx, const char *name, size_t len)
{
	struct comp *c = ctx;
	const struct ml_policyset *p = c->p;
	size_t i;

	for (i = 0; i < p->nparams; i++)
		if (name_eq(p->params[i].name, name, len))
			return ML_XT_OTHER;
	for (i = 0; i < p->ndata; i++)
		if (name_eq(p->data[i].name, name, len))
			return ML_XT_NODESET;
	for (i = 0; c->scope == ML_XS_RULE && i < c->nrlets; i++)
		if (name_eq(c->rlets[i].name, name, len))
			return c->rlets[i].value.type;
	for (i = 0; i < c->nglets && i < p->nlets; i++)
		if (name_eq(p->lets[i].name, name, len))
			return p->lets[i].value.type;
	return ML_XT_UNKNOWN;
}

/* Records a warning about expression x of element n (lint prints them);
 * out of memory drops it (a warning never fails a load). */
static void
pwarn(struct comp *c, xmlNodePtr n, const struct ml_pexpr *x, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
pwarn(struct comp *c, xmlNodePtr n, const struct ml_pexpr *x, const char *fmt, ...)
{
	struct ml_policyset *p = c->p;
	char msg[512], **nw;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = snprintf(msg, sizeof msg, "%s:%ld: warning: ", p->path, n ? xmlGetLineNo(n) : 0L);
	if (len > 0 && (size_t)len < sizeof msg)
		vsnprintf(msg + len, sizeof msg - (size_t)len, fmt, ap);
	va_end(ap);
	(void)x;
	if (!(nw = realloc(p->warnings, (p->nwarnings + 1) * sizeof *nw)))
		return;
	p->warnings = nw;
	if ((nw[p->nwarnings] = strdup(msg)))
		p->nwarnings++;
}

/* Compiles src (from attribute/element n) into x, binding every name it
 * uses in the current scope, and notes its static type.  An = or !=
 * between two node-sets is a warning (XPath 1.0 compares them
 * existentially).  what names it in messages. */
static int
compile_expr(struct comp *c, xmlNodePtr n, const char *src, const char *what,
	     struct ml_pexpr *x)
{
	int r;

	memset(x, 0, sizeof *x);
	snprintf(x->what, sizeof x->what, "%s", what);
	x->line = (int)xmlGetLineNo(n);
	if (!src || !*src)
		return perr(c, n, "%s: empty expression", what);
	if (strlen(src) > MAX_EXPR)
		return perr(c, n, "%s: expression longer than %d bytes", what, MAX_EXPR);
	if (!(x->src = strdup(src)))
		return oom(c);
	c->xerr_set = 0;
	if (!(x->comp = xmlXPathCtxtCompile(c->x, (const xmlChar *)src))) {
		if (c->xerr_set)
			return perr(c, n, "%s: %s at offset %d: %.120s", what,
				    ml_xpath_error_text(&c->xerr), c->xerr.int1, src);
		return perr(c, n, "%s: invalid expression: %.120s", what, src);
	}
	c->why[0] = '\0';
	r = ml_xpath_scan(src, bind_ref, c, c->why, sizeof c->why);
	if (r)
		return perr(c, n, "%s: %s", what, c->why[0] ? c->why : "invalid expression");
	{
		struct ml_xcheck xc = {var_type, c, 0, 0, 0};
		x->type = ml_xpath_check(src, &xc);
		if (xc.found)
			pwarn(c, n, x,
			      "node-set %s node-set compares existentially (true if any pair "
			      "matches); use count()/not() or ml: functions (%s, at offset %zu: "
			      "%.60s)",
			      xc.op_ne ? "!=" : "=", what, xc.pos, src);
	}
	return ML_OK;
}

static void
free_expr(struct ml_pexpr *x)
{
	free(x->src);
	xmlXPathFreeCompExpr(x->comp);
	memset(x, 0, sizeof *x);
}

/* Every name (param, data, let) is unique within what can see it. */
static int
name_taken(struct comp *c, const char *name)
{
	const struct ml_policyset *p = c->p;
	size_t i, len = strlen(name);

	for (i = 0; i < p->nparams; i++)
		if (name_eq(p->params[i].name, name, len))
			return 1;
	for (i = 0; i < p->ndata; i++)
		if (name_eq(p->data[i].name, name, len))
			return 1;
	for (i = 0; i < p->nlets; i++)
		if (name_eq(p->lets[i].name, name, len))
			return 1;
	for (i = 0; c->rule && i < c->nrlets; i++)
		if (name_eq(c->rlets[i].name, name, len))
			return 1;
	return 0;
}

/* ---- params ------------------------------------------------------------ */

static enum ml_rc
parse_type(const char *s, enum ml_ptype *t)
{
	static const char *const names[] = {"string", "number", "boolean", "list", "date"};
	size_t i;

	if (!s) {
		*t = ML_PT_STRING;
		return ML_OK;
	}
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i]) == 0) {
			*t = (enum ml_ptype)i;
			return ML_OK;
		}
	return ML_EPOLICY;
}

/* Checks value against param q's type and allowed values; on success
 * *obj is the XPath value to bind.  why says what is wrong. */
static enum ml_rc
param_value(const struct ml_pparam *q, const char *value, xmlXPathObjectPtr *obj, char *why,
	    size_t cap)
{
	xmlXPathObjectPtr o = NULL;
	int64_t us;

	switch (q->type) {
	case ML_PT_NUMBER: {
		char *end;
		double d;
		errno = 0;
		d = strtod(value, &end);
		if (!*value || *end || errno || !isfinite(d)) {
			snprintf(why, cap, "'%.64s' is not a number", value);
			return ML_EPOLICY;
		}
		o = xmlXPathNewFloat(d);
		break;
	}
	case ML_PT_BOOLEAN:
		if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
			snprintf(why, cap, "'%.64s' is not true or false", value);
			return ML_EPOLICY;
		}
		o = xmlXPathNewBoolean(value[0] == 't');
		break;
	case ML_PT_DATE:
		if (ml_time_parse(value, &us) != 0) {
			snprintf(why, cap, "'%.64s' is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ", value);
			return ML_EPOLICY;
		}
		o = xmlXPathNewString((const xmlChar *)value);
		break;
	case ML_PT_LIST:
	case ML_PT_STRING:
		if (q->nvalues) {
			char *copy = strdup(value), *tok, *save = NULL;
			int bad = 0;
			if (!copy) {
				snprintf(why, cap, "out of memory");
				return ML_EPOLICY;
			}
			if (q->type == ML_PT_STRING) {
				bad = !has_word(q->values, q->nvalues, value);
			} else {
				for (tok = strtok_r(copy, ",", &save); tok && !bad;
				     tok = strtok_r(NULL, ",", &save)) {
					char *b = tok, *e2 = tok + strlen(tok);
					while (is_ws(*b))
						b++;
					while (e2 > b && is_ws(e2[-1]))
						*--e2 = '\0';
					bad = *b && !has_word(q->values, q->nvalues, b);
				}
			}
			free(copy);
			if (bad) {
				struct ml_buf b = {0};
				size_t i;
				for (i = 0; i < q->nvalues; i++)
					ml_buf_printf(&b, "%s%s", i ? ", " : "", q->values[i]);
				ml_buf_append(&b, "", 1);
				snprintf(why, cap, "'%.64s' is not one of %.160s", value,
					 b.data ? (const char *)b.data : "");
				ml_buf_free(&b);
				return ML_EPOLICY;
			}
		}
		o = xmlXPathNewString((const xmlChar *)value);
		break;
	}
	if (!o) {
		snprintf(why, cap, "out of memory");
		return ML_EPOLICY;
	}
	*obj = o;
	return ML_OK;
}

static int
compile_param(struct comp *c, xmlNodePtr n)
{
	struct ml_policyset *p = c->p;
	struct ml_pparam *q = &p->params[p->nparams];
	char *type = attr(n, "type"), *values = attr(n, "values"), *def = attr(n, "default");
	char why[256];
	int rc = ML_OK;

	memset(q, 0, sizeof *q);
	if (!(q->name = attr(n, "name")) || !def) {
		rc = q->name ? perr(c, n, "param: no default") : oom(c);
		goto out;
	}
	if (name_taken(c, q->name)) {
		rc = perr(c, n, "param %s: the name is already used", q->name);
		goto out;
	}
	if (parse_type(type, &q->type)) {
		rc = perr(c, n, "param %s: unknown type '%s'", q->name, type);
		goto out;
	}
	if (values && split_words(values, &q->values, &q->nvalues)) {
		rc = oom(c);
		goto out;
	}
	if (param_value(q, def, &q->obj, why, sizeof why)) {
		rc = perr(c, n, "param %s: default %s", q->name, why);
		goto out;
	}
	p->nparams++;
out:
	if (rc) {
		free(q->name);
		free_words(q->values, q->nvalues);
		memset(q, 0, sizeof *q);
	}
	free(type);
	free(values);
	free(def);
	return rc;
}

/* Applies --param overrides: "name=value". */
static int
apply_params(struct ml_policyset *p, const char *const *params, size_t n, struct ml_err *e)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		const char *eq = params[i] ? strchr(params[i], '=') : NULL;
		xmlXPathObjectPtr o;
		char why[256];

		if (!eq || eq == params[i])
			return ml_err_set(e, ML_EINPUT, "--param %s: expected NAME=VALUE",
					  params[i] ? params[i] : "(null)");
		for (j = 0; j < p->nparams; j++)
			if (name_eq(p->params[j].name, params[i], (size_t)(eq - params[i])))
				break;
		if (j == p->nparams)
			return ml_err_set(e, ML_EINPUT, "--param %.*s: %s declares no such param",
					  (int)(eq - params[i]), params[i], p->path);
		if (param_value(&p->params[j], eq + 1, &o, why, sizeof why))
			return ml_err_set(e, ML_EINPUT, "--param %s: %s", p->params[j].name, why);
		xmlXPathFreeObject(p->params[j].obj);
		p->params[j].obj = o;
	}
	return ML_OK;
}

/* Frees a key's concat parts (NULL is fine). */
static void
free_use_parts(struct ml_puse *u, size_t n)
{
	size_t i;

	for (i = 0; u && i < n; i++)
		free(u[i].text);
	free(u);
}

/* use="concat(ARG, ARG, ...)", at least two arguments, each "@name" (as
 * use_attr takes it) or a string literal ('...' or "...", XPath has no
 * escapes), white space between the tokens: k->use_parts, so that the key
 * is built without an XPath run per node.  Anything else (a function of
 * the policy's namespace, a path, a number, "@ name") leaves use_parts
 * NULL and the compiled expression is run, as before.  The result is the
 * same: concat() joins string() of each argument, and string() of @name is
 * the value of the node's first no-namespace attribute so named, "" when
 * it has none (or is not an element).  ML_OK, or oom. */
static int
use_concat(struct comp *c, const char *use, struct ml_pkey *k)
{
	struct {
		int attr;
		const char *text;
		size_t len;
	} parts[16];
	struct ml_puse *u;
	const char *a = skip_ws(use);
	size_t n = 0, i;

	if (strncmp(a, "concat", 6) != 0)
		return ML_OK;
	a = skip_ws(a + 6);
	if (*a != '(')
		return ML_OK;
	for (a = skip_ws(a + 1);; a = skip_ws(a + 1)) {
		const char *end;
		size_t len;
		if (n == sizeof parts / sizeof parts[0])
			return ML_OK;
		if (*a == '@' && (len = attr_name_len(a + 1)) > 0) {
			parts[n].attr = 1;
			parts[n].text = a + 1;
			parts[n++].len = len;
			end = a + 1 + len;
		} else if ((*a == '\'' || *a == '"') && (end = strchr(a + 1, *a))) {
			parts[n].attr = 0;
			parts[n].text = a + 1;
			parts[n++].len = (size_t)(end - a - 1);
			end++;
		} else {
			return ML_OK;
		}
		a = skip_ws(end);
		if (*a == ')')
			break;
		if (*a != ',')
			return ML_OK;
	}
	if (n < 2 || *skip_ws(a + 1))
		return ML_OK; /* concat() of one argument is an error XPath reports */
	if (!(u = calloc(n, sizeof *u)))
		return oom(c);
	for (i = 0; i < n; i++) {
		u[i].attr = parts[i].attr;
		u[i].len = parts[i].len;
		if (!(u[i].text = strndup(parts[i].text, parts[i].len))) {
			free_use_parts(u, n);
			return oom(c);
		}
	}
	k->use_parts = u;
	k->nuse_parts = n;
	return ML_OK;
}

/* ---- data, keys, lets, phases ------------------------------------------ */

static int
compile_data(struct comp *c, xmlNodePtr n)
{
	struct ml_pdata *d = &c->p->data[c->p->ndata];
	xmlNodeSetPtr set;
	xmlNodePtr k;

	memset(d, 0, sizeof *d);
	if (!(d->name = attr(n, "name")))
		return oom(c);
	if (name_taken(c, d->name)) {
		perr(c, n, "data %s: the name is already used", d->name);
		free(d->name);
		d->name = NULL;
		return ML_EPOLICY;
	}
	if (!(set = xmlXPathNodeSetCreate(NULL)) || !(d->obj = xmlXPathWrapNodeSet(set))) {
		xmlXPathFreeNodeSet(set);
		free(d->name);
		d->name = NULL;
		return oom(c);
	}
	c->p->ndata++;
	for (k = n->children; k; k = k->next)
		if (is_el(k, "item") && xmlXPathNodeSetAdd(set, k) != 0)
			return oom(c);
	return ML_OK;
}

static int
compile_key(struct comp *c, xmlNodePtr n)
{
	struct ml_pkey *k = &c->p->keys[c->p->nkeys];
	char *name = attr(n, "name"), *match = attr(n, "match"), *use = attr(n, "use");
	char what[112];
	int rc;

	memset(k, 0, sizeof *k);
	if (!name) {
		rc = oom(c);
		goto out;
	}
	if (key_exists(c->p, name, strlen(name))) {
		rc = perr(c, n, "key %s: defined twice", name);
		goto out;
	}
	k->name = name; /* owned by p from here */
	name = NULL;
	c->p->nkeys++;
	c->scope = ML_XS_KEY;
	snprintf(what, sizeof what, "key %s: match", k->name);
	if ((rc = compile_expr(c, n, match, what, &k->match)))
		goto out;
	snprintf(what, sizeof what, "key %s: use", k->name);
	if ((rc = compile_expr(c, n, use, what, &k->use)))
		goto out;
	{
		/* the common case, an attribute of the node: no XPath run per node */
		const char *a = skip_ws(use);
		size_t len;
		if (*a == '@' && (len = attr_name_len(a + 1)) > 0 && !*skip_ws(a + 1 + len)) {
			if (!(k->use_attr = strndup(a + 1, len)))
				rc = oom(c);
		} else {
			rc = use_concat(c, use, k);
		}
	}
out:
	free(name);
	free(match);
	free(use);
	return rc;
}

/* A let (policy-level when rule is NULL); appended to lets[*n]. */
static int
compile_let(struct comp *c, xmlNodePtr n, const char *rule, struct ml_plet *lets, size_t *nlets)
{
	struct ml_plet *l = &lets[*nlets];
	char *value = attr(n, "value"), what[112];
	int rc;

	memset(l, 0, sizeof *l);
	if (!(l->name = attr(n, "name"))) {
		free(value);
		return oom(c);
	}
	if (name_taken(c, l->name)) {
		rc = perr(c, n, "%s%s%slet %s: the name is already used", rule ? "rule " : "",
			  rule ? rule : "", rule ? ": " : "", l->name);
		free(l->name);
		l->name = NULL;
		free(value);
		return rc;
	}
	if (rule)
		snprintf(what, sizeof what, "rule %s: let %s: value", rule, l->name);
	else
		snprintf(what, sizeof what, "let %s: value", l->name);
	(*nlets)++;
	rc = compile_expr(c, n, value, what, &l->value);
	free(value);
	return rc;
}

/* ---- rules ------------------------------------------------------------- */

/* Splits message text into literal and {expression} parts.  "{{" and "}}"
 * are literal braces; an expression may hold quoted braces. */
static int
compile_message(struct comp *c, xmlNodePtr n, const char *rule, struct ml_passert *a,
		const char *text)
{
	struct ml_buf lit = {0};
	const char *s = text;
	int rc = ML_OK;

	a->parts = calloc(MAX_MESSAGE_PARTS, sizeof *a->parts);
	if (!a->parts)
		return oom(c);
	for (;;) {
		if (*s == '\0' || (*s == '{' && s[1] != '{')) {
			/* flush the literal */
			if (lit.len) {
				if (a->nparts == MAX_MESSAGE_PARTS) {
					rc = perr(c, n, "rule %s: message has more than %d parts", rule,
						  MAX_MESSAGE_PARTS);
					goto out;
				}
				ml_buf_append(&lit, "", 1);
				if (lit.oom || !(a->parts[a->nparts].text = strdup((char *)lit.data))) {
					rc = oom(c);
					goto out;
				}
				a->nparts++;
				lit.len = 0;
			}
			if (*s == '\0')
				break;
			{
				const char *b = ++s;
				char q = 0, *src, what[112];
				while (*s && (q || *s != '}')) {
					if (q && *s == q)
						q = 0;
					else if (!q && (*s == '\'' || *s == '"'))
						q = *s;
					s++;
				}
				if (*s != '}') {
					rc = perr(c, n, "rule %s: message: '{' without its '}'", rule);
					goto out;
				}
				if (a->nparts == MAX_MESSAGE_PARTS) {
					rc = perr(c, n, "rule %s: message has more than %d parts", rule,
						  MAX_MESSAGE_PARTS);
					goto out;
				}
				if (!(src = strndup(b, (size_t)(s - b)))) {
					rc = oom(c);
					goto out;
				}
				snprintf(what, sizeof what, "rule %s: message {%.40s%s}", rule, src,
					 strlen(src) > 40 ? "..." : "");
				a->nparts++;
				rc = compile_expr(c, n, src, what, &a->parts[a->nparts - 1].x);
				free(src);
				if (rc)
					goto out;
				s++;
			}
			continue;
		}
		if (*s == '{' || (*s == '}' && s[1] == '}')) {
			ml_buf_append(&lit, s, 1);
			s += 2;
			continue;
		}
		if (*s == '}') {
			rc = perr(c, n, "rule %s: message: '}' without its '{' (write }} for a brace)",
				  rule);
			goto out;
		}
		ml_buf_append(&lit, s, 1);
		s++;
	}
	/* normalise white space across the literal parts */
	{
		size_t i;
		for (i = 0; i < a->nparts; i++)
			if (a->parts[i].text)
				collapse(a->parts[i].text, i == 0, i + 1 == a->nparts);
	}
out:
	ml_buf_free(&lit);
	return rc;
}

static int
compile_assert(struct comp *c, xmlNodePtr n, struct ml_prule *r)
{
	struct ml_passert *a = &r->asserts[r->nasserts];
	char *test = attr(n, "test"), *seqs = attr(n, "seqs"), *text = NULL, what[112];
	int rc;

	memset(a, 0, sizeof *a);
	a->report = is_el(n, "report");
	r->nasserts++;
	snprintf(what, sizeof what, "rule %s: %s test", r->id, a->report ? "report" : "assert");
	if ((rc = compile_expr(c, n, test, what, &a->test)))
		goto out;
	if (seqs) {
		snprintf(what, sizeof what, "rule %s: %s seqs", r->id,
			 a->report ? "report" : "assert");
		if ((rc = compile_expr(c, n, seqs, what, &a->seqs)))
			goto out;
	}
	if (!(text = xdup(xmlNodeGetContent(n)))) {
		rc = oom(c);
		goto out;
	}
	rc = compile_message(c, n, r->id, a, text);
out:
	free(test);
	free(seqs);
	free(text);
	return rc;
}

static size_t
count_children(xmlNodePtr n, const char *name)
{
	size_t k = 0;

	for (n = n->children; n; n = n->next)
		k += is_el(n, name);
	return k;
}

static int
compile_rule(struct comp *c, xmlNodePtr n)
{
	struct ml_policyset *p = c->p;
	struct ml_prule *r = &p->rules[p->nrules];
	char *sev = attr(n, "severity"), *expect = attr(n, "expect"), *phase = attr(n, "phase");
	char *ctx = attr(n, "context"), what[112];
	size_t i, nc = count_children(n, "control"), nl = count_children(n, "let");
	size_t na = count_children(n, "assert") + count_children(n, "report");
	xmlNodePtr k;
	int rc = ML_OK;

	memset(r, 0, sizeof *r);
	r->line = (int)xmlGetLineNo(n);
	if (!(r->id = attr(n, "id"))) {
		rc = oom(c);
		goto out;
	}
	p->nrules++; /* owned by p from here */
	for (i = 0; i + 1 < p->nrules; i++)
		if (strcmp(p->rules[i].id, r->id) == 0) {
			rc = perr(c, n, "rule %s: defined twice", r->id);
			goto out;
		}
	r->severity = !sev || strcmp(sev, "deny") == 0 ? ML_SEV_DENY
		      : strcmp(sev, "warn") == 0     ? ML_SEV_WARN
						     : ML_SEV_INFO;
	if (sev && strcmp(sev, "deny") && strcmp(sev, "warn") && strcmp(sev, "info")) {
		rc = perr(c, n, "rule %s: unknown severity '%s'", r->id, sev);
		goto out;
	}
	r->expect_any = !expect || strcmp(expect, "any") == 0;
	if (phase) {
		if (split_words(phase, &r->phases, &r->nphases)) {
			rc = oom(c);
			goto out;
		}
		for (i = 0; i < r->nphases; i++)
			if (!has_word(p->phases, p->nphases, r->phases[i])) {
				rc = perr(c, n, "rule %s: unknown phase '%s' (declare it with <phase>)",
					  r->id, r->phases[i]);
				goto out;
			}
	}
	if (!(r->title = child_text(n, "title")) || !(r->description = child_text(n, "description")) ||
	    !(r->controls = calloc(nc + 1, sizeof *r->controls)) ||
	    !(r->lets = calloc(nl + 1, sizeof *r->lets)) ||
	    !(r->asserts = calloc(na + 1, sizeof *r->asserts))) {
		rc = oom(c);
		goto out;
	}
	c->scope = ML_XS_GLOBAL;
	c->nglets = p->nlets;
	c->rlets = r->lets;
	c->nrlets = 0;
	c->rule = n;
	snprintf(what, sizeof what, "rule %s: context", r->id);
	if ((rc = compile_expr(c, n, ctx, what, &r->context)))
		goto out;
	c->scope = ML_XS_RULE;
	for (k = n->children; k && rc == ML_OK; k = k->next) {
		if (is_el(k, "control")) {
			struct ml_control *ct = &r->controls[r->ncontrols];
			ct->framework = attr(k, "framework");
			ct->ref = attr(k, "ref");
			r->ncontrols++;
			if (!ct->framework || !ct->ref)
				rc = oom(c);
		} else if (is_el(k, "let")) {
			rc = compile_let(c, k, r->id, r->lets, &r->nlets);
			c->nrlets = r->nlets;
		} else if (is_el(k, "assert") || is_el(k, "report")) {
			rc = compile_assert(c, k, r);
		}
	}
out:
	c->rlets = NULL;
	c->nrlets = 0;
	c->rule = NULL;
	free(sev);
	free(expect);
	free(phase);
	free(ctx);
	return rc;
}

static struct ml_prule *
find_rule(struct ml_policyset *p, const char *id)
{
	size_t i;

	for (i = 0; i < p->nrules; i++)
		if (strcmp(p->rules[i].id, id) == 0)
			return &p->rules[i];
	return NULL;
}

static int
compile_waivers(struct comp *c, xmlNodePtr w)
{
	xmlNodePtr k;
	int rc = ML_OK;

	for (k = w->children; k && rc == ML_OK; k = k->next) {
		char *rules = NULL, *roles = NULL, **ids = NULL, **rv = NULL;
		size_t nids = 0, nrv = 0, i, j;
		int never = is_el(k, "never");

		if (!never && !is_el(k, "waivable"))
			continue;
		rules = attr(k, "rule");
		roles = never ? NULL : attr(k, "role");
		if (!rules || (!never && !roles) || split_words(rules, &ids, &nids) ||
		    (roles && split_words(roles, &rv, &nrv))) {
			rc = oom(c);
			goto next;
		}
		for (i = 0; i < nids && rc == ML_OK; i++) {
			struct ml_prule *r = find_rule(c->p, ids[i]);
			if (!r) {
				rc = perr(c, k, "waivers: unknown rule '%s'", ids[i]);
				break;
			}
			if (never)
				r->never_waivable = 1;
			for (j = 0; j < nrv && rc == ML_OK; j++) {
				char **nr;
				if (has_word(r->waiver_roles, r->nwaiver_roles, rv[j]))
					continue;
				nr = realloc(r->waiver_roles, (r->nwaiver_roles + 1) * sizeof *nr);
				if (!nr || !(nr[r->nwaiver_roles] = strdup(rv[j]))) {
					if (nr)
						r->waiver_roles = nr;
					rc = oom(c);
					break;
				}
				r->waiver_roles = nr;
				r->nwaiver_roles++;
			}
			if (rc == ML_OK && r->never_waivable && r->nwaiver_roles)
				rc = perr(c, k, "waivers: rule %s is both waivable and never waivable",
					  r->id);
		}
	next:
		free(rules);
		free(roles);
		free_words(ids, nids);
		free_words(rv, nrv);
	}
	return rc;
}

static int
compile_policy(struct comp *c, xmlNodePtr root)
{
	struct ml_policyset *p = c->p;
	char *comb = attr(root, "combining"), *limit = attr(root, "op-limit");
	xmlNodePtr k, waivers = NULL;
	size_t nparam = count_children(root, "param"), ndata = count_children(root, "data");
	size_t nkey = count_children(root, "key"), nlet = count_children(root, "let");
	size_t nphase = count_children(root, "phase"), nrule = count_children(root, "rule");
	size_t nns = count_children(root, "ns");
	int rc = ML_OK;

	if (!is_el(root, "policy")) {
		rc = perr(c, root, "the root element is not {%s}policy", ML_POLICY_NS);
		goto out;
	}
	if (!(p->id = attr(root, "id")) || !(p->version = attr(root, "version"))) {
		rc = perr(c, root, "policy: id and version are required");
		goto out;
	}
	p->combining = !comb || strcmp(comb, "deny-overrides") == 0 ? ML_COMB_DENY_OVERRIDES
		       : strcmp(comb, "strict") == 0		    ? ML_COMB_STRICT
		       : strcmp(comb, "report-only") == 0	    ? ML_COMB_REPORT_ONLY
								    : (enum ml_combining)-1;
	if ((int)p->combining < 0) {
		rc = perr(c, root, "policy: unknown combining algorithm '%s'", comb);
		goto out;
	}
	p->op_limit = limit ? strtoul(limit, NULL, 10) : ML_POLICY_OP_LIMIT;
	if (!p->op_limit)
		p->op_limit = ML_POLICY_OP_LIMIT;
	p->op_limit_policy = p->op_limit;
	if (!(p->params = calloc(nparam + 1, sizeof *p->params)) ||
	    !(p->data = calloc(ndata + 1, sizeof *p->data)) ||
	    !(p->keys = calloc(nkey + 1, sizeof *p->keys)) ||
	    !(p->lets = calloc(nlet + 1, sizeof *p->lets)) ||
	    !(p->phases = calloc(nphase + 1, sizeof *p->phases)) ||
	    !(p->rules = calloc(nrule + 1, sizeof *p->rules)) ||
	    !(p->ns = calloc(2 * nns + 1, sizeof *p->ns))) {
		rc = oom(c);
		goto out;
	}
	/* namespaces first: every expression may use them */
	for (k = root->children; k && rc == ML_OK; k = k->next) {
		char *prefix, *uri;
		if (!is_el(k, "ns"))
			continue;
		prefix = attr(k, "prefix");
		uri = attr(k, "uri");
		p->ns[2 * p->nns] = prefix;
		p->ns[2 * p->nns + 1] = uri;
		p->nns++;
		if (!prefix || !uri)
			rc = oom(c);
		else if (strcmp(prefix, "ev") == 0 || strcmp(prefix, "ml") == 0 ||
			 strcmp(prefix, "xml") == 0 || strncmp(prefix, "xml", 3) == 0)
			rc = perr(c, k, "ns: the prefix '%s' is reserved", prefix);
		else if (p->nns > 1 && ns_uri(p, prefix, strlen(prefix)) != uri)
			rc = perr(c, k, "ns: the prefix '%s' is declared twice", prefix);
		else if (xmlXPathRegisterNs(c->x, (const xmlChar *)prefix, (const xmlChar *)uri))
			rc = oom(c);
	}
	for (k = root->children; k && rc == ML_OK; k = k->next) {
		if (is_el(k, "param")) {
			rc = compile_param(c, k);
		} else if (is_el(k, "data")) {
			rc = compile_data(c, k);
		} else if (is_el(k, "key")) {
			rc = compile_key(c, k);
		} else if (is_el(k, "let")) {
			c->scope = ML_XS_GLOBAL;
			c->nglets = p->nlets;
			rc = compile_let(c, k, NULL, p->lets, &p->nlets);
		} else if (is_el(k, "phase")) {
			char *id = attr(k, "id");
			if (!id) {
				rc = oom(c);
			} else if (has_word(p->phases, p->nphases, id)) {
				rc = perr(c, k, "phase %s: declared twice", id);
				free(id);
			} else {
				p->phases[p->nphases++] = id;
			}
		} else if (is_el(k, "waivers")) {
			waivers = k;
		} else if (is_el(k, "rule")) {
			c->nglets = p->nlets;
			rc = compile_rule(c, k);
		}
	}
	if (rc == ML_OK && waivers)
		rc = compile_waivers(c, waivers);
out:
	free(comb);
	free(limit);
	return rc;
}

static xmlXPathContextPtr
new_context(xmlDocPtr doc)
{
	xmlXPathContextPtr x = xmlXPathNewContext(doc);

	if (!x)
		return NULL;
	if (xmlXPathRegisterNs(x, (const xmlChar *)"ev", (const xmlChar *)ML_POLICY_EVIDENCE_NS) ||
	    xmlXPathRegisterNs(x, (const xmlChar *)"ml", (const xmlChar *)ML_POLICY_NS) ||
	    ml_pfn_register(x)) {
		xmlXPathFreeContext(x);
		return NULL;
	}
	return x;
}

/* The <data name="name"> element of the policy document, or NULL. */
static xmlNodePtr
find_data(xmlDocPtr doc, const char *name)
{
	xmlNodePtr k;

	for (k = xmlDocGetRootElement(doc)->children; k; k = k->next) {
		xmlChar *n;
		int same;
		if (!is_el(k, "data"))
			continue;
		n = xmlGetNoNsProp(k, (const xmlChar *)"name");
		same = n && strcmp((const char *)n, name) == 0;
		xmlFree(n);
		if (same)
			return k;
	}
	return NULL;
}

/* Replaces the items of each overridden data section with copies of the
 * override's "item" children (in the policy's namespace), before the
 * policy is compiled: rules see them exactly as items written in the file. */
static int
override_data(struct ml_policyset *p, const struct ml_policy_data_override *d, size_t n,
	      struct ml_err *e)
{
	size_t i;

	for (i = 0; i < n; i++) {
		xmlNodePtr data = d[i].name ? find_data(p->doc, d[i].name) : NULL, k, next;
		if (!data)
			return ml_err_set(e, ML_EINPUT, "data %s: %s declares no such data",
					  d[i].name ? d[i].name : "(null)", p->path);
		for (k = data->children; k; k = next) {
			next = k->next;
			if (is_el(k, "item")) {
				xmlUnlinkNode(k);
				xmlFreeNode(k);
			}
		}
		for (k = d[i].items ? d[i].items->children : NULL; k; k = k->next) {
			xmlNodePtr copy;
			if (k->type != XML_ELEMENT_NODE ||
			    !xmlStrEqual(k->name, (const xmlChar *)"item"))
				continue;
			if (!(copy = xmlDocCopyNode(k, p->doc, 1)))
				return ml_err_set(e, ML_EIO, "out of memory");
			xmlSetNs(copy, data->ns);
			if (!xmlAddChild(data, copy)) {
				xmlFreeNode(copy);
				return ml_err_set(e, ML_EIO, "out of memory");
			}
		}
		if (xmlReconciliateNs(p->doc, data) < 0)
			return ml_err_set(e, ML_EIO, "out of memory");
	}
	return ML_OK;
}

int
ml_policyset_load(const char *path, const char *const *params, size_t nparams,
		  struct ml_policyset **out, struct ml_err *e)
{
	struct ml_policy_opts o;

	memset(&o, 0, sizeof o);
	o.params = params;
	o.nparams = nparams;
	return ml_policyset_load_ex(path, &o, out, e);
}

int
ml_policyset_load_all(const char *const *paths, size_t n, const char *const *params,
		      size_t nparams, struct ml_policyset **out, struct ml_err *e)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		out[i] = NULL;
	for (i = 0; i < n; i++) {
		if ((rc = ml_policyset_load(paths[i], params, nparams, &out[i], e))) {
			ml_policyset_free_all(out, i);
			return rc;
		}
	}
	return ML_OK;
}

void
ml_policyset_free_all(struct ml_policyset **ps, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ml_policyset_free(ps[i]);
		ps[i] = NULL;
	}
}

int
ml_policyset_load_ex(const char *path, const struct ml_policy_opts *o,
		     struct ml_policyset **out, struct ml_err *e)
{
	struct ml_policyset *p = NULL;
	struct comp c;
	uint8_t digest[ML_SHA256_LEN];
	char *buf = NULL;
	size_t len = 0;
	int rc;

	memset(&c, 0, sizeof c);
	if (o->bytes) {
		if (o->len > ML_POLICY_MAX_BYTES)
			return ml_err_set(e, ML_EPOLICY, "%s: larger than %d bytes", path,
					  ML_POLICY_MAX_BYTES);
		if (!(buf = malloc(o->len + 1)))
			return ml_err_set(e, ML_EIO, "out of memory");
		memcpy(buf, o->bytes, o->len);
		len = o->len;
	} else if ((rc = read_bounded(path, ML_POLICY_MAX_BYTES, &buf, &len, e))) {
		return rc;
	}
	if (!(p = calloc(1, sizeof *p)) || !(p->path = strdup(path)) ||
	    !(p->keep = ml_peval_keep_new())) {
		rc = ml_err_set(e, ML_EIO, "out of memory");
		goto out;
	}
	ml_sha256(buf, len, digest);
	ml_hex_encode(digest, sizeof digest, p->sha256);
	if ((rc = ml_policy_xml_parse(buf, len, path, ML_POLICY_MAX_DEPTH, &p->doc, e)) ||
	    (rc = validate(p->doc, path, e)) ||
	    (rc = override_data(p, o->data, o->ndata, e)))
		goto out;
	c.p = p;
	c.e = e;
	if (!(c.x = new_context(p->doc))) {
		rc = ml_err_set(e, ML_EIO, "out of memory");
		goto out;
	}
	c.x->error = comp_xerr;
	c.x->userData = &c;
	if ((rc = compile_policy(&c, xmlDocGetRootElement(p->doc))) ||
	    (rc = apply_params(p, o->params, o->nparams, e)))
		goto out;
	*out = p;
	p = NULL;
out:
	xmlXPathFreeContext(c.x);
	ml_policyset_free(p);
	free(buf);
	return rc;
}

static void
free_lets(struct ml_plet *l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(l[i].name);
		free_expr(&l[i].value);
	}
	free(l);
}

static void
free_rule(struct ml_prule *r)
{
	size_t i, j;

	free(r->id);
	free(r->title);
	free(r->description);
	free_words(r->phases, r->nphases);
	for (i = 0; i < r->ncontrols; i++) {
		free(r->controls[i].framework);
		free(r->controls[i].ref);
	}
	free(r->controls);
	free_expr(&r->context);
	free_lets(r->lets, r->nlets);
	for (i = 0; i < r->nasserts; i++) {
		struct ml_passert *a = &r->asserts[i];
		free_expr(&a->test);
		free_expr(&a->seqs);
		for (j = 0; j < a->nparts; j++) {
			free(a->parts[j].text);
			free_expr(&a->parts[j].x);
		}
		free(a->parts);
	}
	free(r->asserts);
	free_words(r->waiver_roles, r->nwaiver_roles);
}

void
ml_policyset_free(struct ml_policyset *p)
{
	size_t i;

	if (!p)
		return;
	ml_peval_keep_free(p->keep);
	for (i = 0; i < p->nparams; i++) {
		free(p->params[i].name);
		free_words(p->params[i].values, p->params[i].nvalues);
		xmlXPathFreeObject(p->params[i].obj);
	}
	free(p->params);
	for (i = 0; i < p->ndata; i++) {
		free(p->data[i].name);
		xmlXPathFreeObject(p->data[i].obj);
	}
	free(p->data);
	for (i = 0; i < p->nkeys; i++) {
		free(p->keys[i].name);
		free_expr(&p->keys[i].match);
		free_expr(&p->keys[i].use);
		free(p->keys[i].deps);
		free(p->keys[i].use_attr);
		free_use_parts(p->keys[i].use_parts, p->keys[i].nuse_parts);
	}
	free(p->keys);
	free_lets(p->lets, p->nlets);
	free_words(p->phases, p->nphases);
	for (i = 0; i < p->nrules; i++)
		free_rule(&p->rules[i]);
	free(p->rules);
	free_words(p->ns, 2 * p->nns);
	free_words(p->warnings, p->nwarnings);
	xmlFreeDoc(p->doc);
	free(p->path);
	free(p->id);
	free(p->version);
	free(p);
}

const char *
ml_policyset_id(const struct ml_policyset *p)
{
	return p->id;
}

const char *
ml_policyset_version(const struct ml_policyset *p)
{
	return p->version;
}

enum ml_rc
ml_policyset_param_number(const struct ml_policyset *p, const char *name, double *out)
{
	size_t i;

	for (i = 0; i < p->nparams; i++)
		if (!strcmp(p->params[i].name, name)) {
			if (p->params[i].type != ML_PT_NUMBER || !p->params[i].obj)
				return ML_EPOLICY;
			*out = xmlXPathCastToNumber(p->params[i].obj);
			return ML_OK;
		}
	return ML_EPOLICY;
}

const char *
ml_policyset_path(const struct ml_policyset *p)
{
	return p->path;
}

void
ml_policyset_sha256(const struct ml_policyset *p, char hex[65])
{
	memcpy(hex, p->sha256, 65);
}

size_t
ml_policyset_rule_count(const struct ml_policyset *p)
{
	return p->nrules;
}

const char *
ml_policyset_rule_id(const struct ml_policyset *p, size_t i)
{
	return i < p->nrules ? p->rules[i].id : NULL;
}

int
ml_policyset_rule_line(const struct ml_policyset *p, size_t i)
{
	return i < p->nrules ? p->rules[i].line : 0;
}

void
ml_policyset_set_op_limit(struct ml_policyset *p, unsigned long ops)
{
	p->op_limit = ops ? ops : p->op_limit_policy;
}

int
ml_policyset_lint(const char *path, struct ml_err *e)
{
	struct ml_policyset *p = NULL;
	int rc = ml_policyset_load(path, NULL, 0, &p, e);

	ml_policyset_free(p);
	return rc;
}

size_t
ml_policyset_param_count(const struct ml_policyset *p)
{
	return p->nparams;
}

const char *
ml_policyset_param_name(const struct ml_policyset *p, size_t i)
{
	return i < p->nparams ? p->params[i].name : NULL;
}

char *
ml_policyset_param_text(const struct ml_policyset *p, size_t i)
{
	xmlChar *v;
	char *r;

	if (i >= p->nparams || !(v = xmlXPathCastToString(p->params[i].obj)))
		return NULL;
	r = strdup((const char *)v);
	xmlFree(v);
	return r;
}

size_t
ml_policyset_warning_count(const struct ml_policyset *p)
{
	return p->nwarnings;
}

const char *
ml_policyset_warning(const struct ml_policyset *p, size_t i)
{
	return i < p->nwarnings ? p->warnings[i] : NULL;
}
