/* policy_fn — the XPath functions policies call in their own namespace
 * (ML_POLICY_NS, bound to the prefix ml), and the table of the XPath 1.0
 * core library the compiler checks calls against.  policies/LANGUAGE.md
 * documents each function.
 *
 * Functions fail the expression (making the rule indeterminate) on a wrong
 * argument type, on malformed input such as a date that is not a date, and
 * when an allocation fails (XPATH_MEMORY_ERROR, never an empty or false
 * value in its place): fail closed.  Work proportional to their input counts against the
 * expression's operation limit.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/hash.h>

#include "policy_int.h"

static struct ml_peval *
state(xmlXPathParserContextPtr ctxt)
{
	return ctxt->context->userData;
}

/* Charges n operations; ML_OK, or ML_EPOLICY (and the error set) past the
 * limit. */
static enum ml_rc
charge(xmlXPathParserContextPtr ctxt, size_t n)
{
	xmlXPathContextPtr x = ctxt->context;

	if (x->opLimit == 0)
		return ML_OK;
	if (n > x->opLimit || x->opCount > x->opLimit - n) {
		x->opCount = x->opLimit;
		xmlXPathErr(ctxt, XPATH_OP_LIMIT_EXCEEDED);
		return ML_EPOLICY;
	}
	x->opCount += n;
	return ML_OK;
}

/* Pushes a function's result.  NULL (an allocation that failed) fails the
 * expression with XPATH_MEMORY_ERROR instead of leaving no value or an
 * empty one: fail closed. */
static void
push(xmlXPathParserContextPtr ctxt, xmlXPathObjectPtr o)
{
	if (!o) {
		ml_peval_detail(state(ctxt), "out of memory");
		xmlXPathErr(ctxt, XPATH_MEMORY_ERROR);
		return;
	}
	/* libxml2 2.9 returns 0 both for the first slot and when the stack
	 * could not grow (not pushed, not freed): look at the stack */
	valuePush(ctxt, o);
	if (ctxt->value != o) {
		xmlXPathFreeObject(o);
		xmlXPathErr(ctxt, XPATH_MEMORY_ERROR);
	}
}

/* Fails the expression with XPath error code and a detail saying why. */
static void
fail(xmlXPathParserContextPtr ctxt, int code, const char *fn, const char *why,
     const char *arg)
{
	if (arg)
		ml_peval_detail(state(ctxt), "%s: %s '%.64s'", fn, why, arg);
	else
		ml_peval_detail(state(ctxt), "%s: %s", fn, why);
	xmlXPathErr(ctxt, code);
}

/* Pops a node-set argument (never NULL: an empty set may be stored as
 * NULL), or fails with fn's name in the detail and returns NULL. */
static xmlNodeSetPtr
pop_nodes(xmlXPathParserContextPtr ctxt, const char *fn)
{
	xmlXPathObjectPtr o;
	xmlNodeSetPtr ns;

	if (!ctxt->value || (ctxt->value->type != XPATH_NODESET &&
			     ctxt->value->type != XPATH_XSLT_TREE)) {
		fail(ctxt, XPATH_INVALID_TYPE, fn, "the argument is not a node-set", NULL);
		return NULL;
	}
	o = valuePop(ctxt);
	ns = o->nodesetval;
	o->nodesetval = NULL;
	xmlXPathFreeObject(o);
	if (!ns && !(ns = xmlXPathNodeSetCreate(NULL)))
		xmlXPathErr(ctxt, XPATH_MEMORY_ERROR);
	return ns;
}

static int
nodes_count(xmlNodeSetPtr ns)
{
	return ns ? ns->nodeNr : 0;
}

/* Splits a comma-separated list and reports whether item is one of its
 * members (each trimmed of spaces). */
static int
in_list(const char *list, const char *item)
{
	size_t ilen = strlen(item);
	const char *p = list;

	while (*p) {
		const char *end = strchr(p, ',');
		const char *b = p, *e = end ? end : p + strlen(p);
		while (b < e && isspace((unsigned char)*b))
			b++;
		while (e > b && isspace((unsigned char)e[-1]))
			e--;
		if ((size_t)(e - b) == ilen && ilen && memcmp(b, item, ilen) == 0)
			return 1;
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

bool
ml_pnode_seq(xmlNodePtr n, long long *seq)
{
	if (n && n->type == XML_ATTRIBUTE_NODE)
		n = n->parent;
	for (; n && n->type == XML_ELEMENT_NODE; n = n->parent) {
		xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)"seq");
		if (v) {
			char *end;
			long long x = strtoll((const char *)v, &end, 10);
			int ok = end != (char *)v && *end == '\0';
			xmlFree(v);
			if (ok) {
				*seq = x;
				return true;
			}
		}
	}
	return false;
}

/* ml:key(name, value): the nodes key name maps value to; a node-set value
 * looks up each node's string value (XSLT's key()). */
static void
fn_key(xmlXPathParserContextPtr ctxt, int nargs)
{
	xmlXPathObjectPtr val;
	xmlNodeSetPtr ret, hit;
	xmlChar *name;
	int i, bad = 0;

	CHECK_ARITY(2);
	val = valuePop(ctxt);
	name = xmlXPathPopString(ctxt);
	ret = xmlXPathNodeSetCreate(NULL);
	if (!val || !name || !ret) {
		bad = XPATH_MEMORY_ERROR;
		goto out;
	}
	if (val->type == XPATH_NODESET || val->type == XPATH_XSLT_TREE) {
		for (i = 0; i < nodes_count(val->nodesetval) && !bad; i++) {
			xmlChar *s = xmlXPathCastNodeToString(val->nodesetval->nodeTab[i]);
			if (!s || ml_peval_key(state(ctxt), (const char *)name, s, &hit))
				bad = s ? XPATH_INVALID_OPERAND : XPATH_MEMORY_ERROR;
			else if (hit && !xmlXPathNodeSetMerge(ret, hit))
				bad = XPATH_MEMORY_ERROR;
			xmlFree(s);
		}
		if (!bad && nodes_count(val->nodesetval) > 1)
			xmlXPathNodeSetSort(ret);
	} else {
		xmlChar *s = xmlXPathCastToString(val);
		if (!s || ml_peval_key(state(ctxt), (const char *)name, s, &hit))
			bad = s ? XPATH_INVALID_OPERAND : XPATH_MEMORY_ERROR;
		else if (hit && !xmlXPathNodeSetMerge(ret, hit))
			bad = XPATH_MEMORY_ERROR;
		xmlFree(s);
	}
	if (!bad && charge(ctxt, (size_t)nodes_count(ret) + 1))
		bad = -1;
out:
	xmlXPathFreeObject(val);
	xmlFree(name);
	if (bad) {
		xmlXPathFreeNodeSet(ret);
		if (bad > 0)
			xmlXPathErr(ctxt, bad);
		return;
	}
	{
		xmlXPathObjectPtr o = xmlXPathWrapNodeSet(ret);
		if (!o)
			xmlXPathFreeNodeSet(ret);
		push(ctxt, o);
	}
}

/* ml:data(name): the <item>s of the policy's data section name. */
static void
fn_data(xmlXPathParserContextPtr ctxt, int nargs)
{
	xmlXPathObjectPtr d;
	xmlChar *name;

	CHECK_ARITY(1);
	name = xmlXPathPopString(ctxt);
	if (!name)
		XP_ERROR(XPATH_MEMORY_ERROR);
	d = ml_peval_data(state(ctxt), (const char *)name);
	if (!d) {
		fail(ctxt, XPATH_INVALID_OPERAND, "ml:data", "no data named", (const char *)name);
		xmlFree(name);
		return;
	}
	xmlFree(name);
	push(ctxt, xmlXPathObjectCopy(d));
}

/* Distinct string values of ns: the first node of each, in order. */
static xmlNodeSetPtr
distinct(xmlXPathParserContextPtr ctxt, xmlNodeSetPtr ns)
{
	xmlHashTablePtr seen = xmlHashCreate(nodes_count(ns) + 1);
	xmlNodeSetPtr ret = xmlXPathNodeSetCreate(NULL);
	int i;

	if (!seen || !ret)
		goto oom;
	for (i = 0; i < nodes_count(ns); i++) {
		xmlChar *s = xmlXPathCastNodeToString(ns->nodeTab[i]);
		if (!s)
			goto oom;
		if (!xmlHashLookup(seen, s)) {
			if (xmlHashAddEntry(seen, s, (void *)1) != 0 ||
			    xmlXPathNodeSetAdd(ret, ns->nodeTab[i]) != 0) {
				xmlFree(s);
				goto oom;
			}
		}
		xmlFree(s);
	}
	xmlHashFree(seen, NULL);
	return ret;
oom:
	xmlHashFree(seen, NULL);
	xmlXPathFreeNodeSet(ret);
	xmlXPathErr(ctxt, XPATH_MEMORY_ERROR);
	return NULL;
}

/* Pops the node-set argument of fn and returns the first node of each
 * distinct string value in it (caller frees), or NULL with the error set. */
static xmlNodeSetPtr
pop_distinct(xmlXPathParserContextPtr ctxt, const char *fn)
{
	xmlNodeSetPtr ns, d;

	if (!(ns = pop_nodes(ctxt, fn)))
		return NULL;
	if (charge(ctxt, (size_t)nodes_count(ns))) {
		xmlXPathFreeNodeSet(ns);
		return NULL;
	}
	d = distinct(ctxt, ns);
	xmlXPathFreeNodeSet(ns);
	return d;
}

/* ml:distinct-count(ns): the number of distinct string values in ns. */
static void
fn_distinct_count(xmlXPathParserContextPtr ctxt, int nargs)
{
	xmlNodeSetPtr d;

	CHECK_ARITY(1);
	if (!(d = pop_distinct(ctxt, "ml:distinct-count")))
		return;
	push(ctxt, xmlXPathNewFloat(nodes_count(d)));
	xmlXPathFreeNodeSet(d);
}

/* ml:distinct(ns): the first node of each distinct string value. */
static void
fn_distinct(xmlXPathParserContextPtr ctxt, int nargs)
{
	xmlNodeSetPtr d;

	CHECK_ARITY(1);
	if ((d = pop_distinct(ctxt, "ml:distinct")))
		{
			xmlXPathObjectPtr o = xmlXPathWrapNodeSet(d);
			if (!o)
				xmlXPathFreeNodeSet(d);
			push(ctxt, o);
		}
}

/* ml:epoch(s): seconds since 1970 of "YYYY-MM-DD" (its midnight UTC) or
 * "YYYY-MM-DDTHH:MM:SSZ"; NaN for the empty string; an error otherwise. */
static void
fn_epoch(xmlXPathParserContextPtr ctxt, int nargs)
{
	xmlChar *s;
	int64_t us;

	CHECK_ARITY(1);
	s = xmlXPathPopString(ctxt);
	if (!s)
		XP_ERROR(XPATH_MEMORY_ERROR);
	if (!*s) {
		xmlFree(s);
		push(ctxt, xmlXPathNewFloat(NAN));
		return;
	}
	if (ml_time_parse((const char *)s, &us) != 0) {
		fail(ctxt, XPATH_INVALID_OPERAND, "ml:epoch",
		     "expects YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, not", (const char *)s);
		xmlFree(s);
		return;
	}
	xmlFree(s);
	push(ctxt, xmlXPathNewFloat((double)(us / 1000000)));
}

/* ml:days(n): n days in seconds. */
static void
fn_days(xmlXPathParserContextPtr ctxt, int nargs)
{
	double n;

	CHECK_ARITY(1);
	n = xmlXPathPopNumber(ctxt);
	push(ctxt, xmlXPathNewFloat(n * 86400.0));
}

static void
format_epoch(xmlXPathParserContextPtr ctxt, int date_only)
{
	char buf[21];
	double t = xmlXPathPopNumber(ctxt);

	/* years 0000-9999 */
	if (!isfinite(t) || t < -62167219200.0 || t > 253402300799.0) {
		push(ctxt, xmlXPathNewString((const xmlChar *)""));
		return;
	}
	{
		int64_t sec = (int64_t)t; /* floor, without libm */
		if ((double)sec > t)
			sec--;
		ml_time_format(sec * 1000000, buf);
	}
	if (date_only)
		buf[10] = '\0';
	push(ctxt, xmlXPathNewString((const xmlChar *)buf));
}

/* ml:date(epoch): "YYYY-MM-DD"; "" when not a finite time. */
static void
fn_date(xmlXPathParserContextPtr ctxt, int nargs)
{
	CHECK_ARITY(1);
	format_epoch(ctxt, 1);
}

/* ml:datetime(epoch): "YYYY-MM-DDTHH:MM:SSZ"; "" when not a finite time. */
static void
fn_datetime(xmlXPathParserContextPtr ctxt, int nargs)
{
	CHECK_ARITY(1);
	format_epoch(ctxt, 0);
}

/* Compares one dot-separated identifier of a version: numeric ones
 * numerically (any length), numeric before alphanumeric, others by bytes. */
static int
cmp_ident(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i;
	int an = alen > 0, bn = blen > 0, c;

	for (i = 0; i < alen; i++)
		an &= a[i] >= '0' && a[i] <= '9';
	for (i = 0; i < blen; i++)
		bn &= b[i] >= '0' && b[i] <= '9';
	if (an && bn) {
		while (alen > 1 && *a == '0')
			a++, alen--;
		while (blen > 1 && *b == '0')
			b++, blen--;
		if (alen != blen)
			return alen < blen ? -1 : 1;
		c = memcmp(a, b, alen);
		return (c > 0) - (c < 0);
	}
	if (an != bn)
		return an ? -1 : 1;
	c = memcmp(a, b, alen < blen ? alen : blen);
	if (c)
		return (c > 0) - (c < 0);
	return (alen > blen) - (alen < blen);
}

/* Compares dot-separated identifier lists [a, ae) and [b, be).  With
 * pad_zero, a missing identifier counts as "0" (release numbers: 1.0 =
 * 1.0.0); without, the longer list is greater (pre-release fields). */
static int
cmp_fields(const char *a, const char *ae, const char *b, const char *be, int pad_zero)
{
	while (a < ae || b < be) {
		const char *an = a < ae ? memchr(a, '.', (size_t)(ae - a)) : NULL;
		const char *bn = b < be ? memchr(b, '.', (size_t)(be - b)) : NULL;
		const char *x = a < ae ? a : "0", *y = b < be ? b : "0";
		size_t xl = a < ae ? (size_t)((an ? an : ae) - a) : 1;
		size_t yl = b < be ? (size_t)((bn ? bn : be) - b) : 1;
		int c;

		if (!pad_zero && (a >= ae || b >= be))
			return a < ae ? 1 : -1;
		if ((c = cmp_ident(x, xl, y, yl)))
			return c;
		a = a < ae ? (an ? an + 1 : ae) : ae;
		b = b < be ? (bn ? bn + 1 : be) : be;
	}
	return 0;
}

/* Semantic Versioning 2.0.0 precedence, extended to any number of release
 * fields: an optional leading v, build metadata (+...) ignored, a
 * pre-release (-...) before its release. */
static int
version_cmp(const char *a, const char *b)
{
	const char *ae, *be, *ap, *bp;

	if ((*a == 'v' || *a == 'V') && isdigit((unsigned char)a[1]))
		a++;
	if ((*b == 'v' || *b == 'V') && isdigit((unsigned char)b[1]))
		b++;
	ae = a + strcspn(a, "+");
	be = b + strcspn(b, "+");
	ap = memchr(a, '-', (size_t)(ae - a));
	bp = memchr(b, '-', (size_t)(be - b));
	{
		int c = cmp_fields(a, ap ? ap : ae, b, bp ? bp : be, 1);
		if (c)
			return c;
	}
	if (!ap || !bp)
		return ap ? -1 : bp ? 1 : 0;
	return cmp_fields(ap + 1, ae, bp + 1, be, 0);
}

/* ml:version-compare(a, b): -1, 0 or 1. */
static void
fn_version_compare(xmlXPathParserContextPtr ctxt, int nargs)
{
	xmlChar *a, *b;

	CHECK_ARITY(2);
	b = xmlXPathPopString(ctxt);
	a = xmlXPathPopString(ctxt);
	if (!a || !b) {
		xmlFree(a);
		xmlFree(b);
		XP_ERROR(XPATH_MEMORY_ERROR);
	}
	push(ctxt, xmlXPathNewFloat(version_cmp((const char *)a, (const char *)b)));
	xmlFree(a);
	xmlFree(b);
}

/* ml:in-list(list, value) and ml:has-role(roles, role): whether value is a
 * member of the comma-separated list. */
static void
fn_in_list(xmlXPathParserContextPtr ctxt, int nargs)
{
	xmlChar *list, *item;

	CHECK_ARITY(2);
	item = xmlXPathPopString(ctxt);
	list = xmlXPathPopString(ctxt);
	if (!list || !item) {
		xmlFree(list);
		xmlFree(item);
		XP_ERROR(XPATH_MEMORY_ERROR);
	}
	if (charge(ctxt, (size_t)xmlStrlen(list) / 16 + 1) == 0)
		push(ctxt, xmlXPathNewBoolean(in_list((const char *)list,
							   (const char *)item)));
	xmlFree(list);
	xmlFree(item);
}

static void
extreme(xmlXPathParserContextPtr ctxt, int nargs, int want_max, const char *fn)
{
	xmlNodeSetPtr ns;
	double r = NAN;
	int i;

	CHECK_ARITY(1);
	if (!(ns = pop_nodes(ctxt, fn)))
		return;
	if (charge(ctxt, (size_t)nodes_count(ns))) {
		xmlXPathFreeNodeSet(ns);
		return;
	}
	for (i = 0; i < nodes_count(ns); i++) {
		double v = xmlXPathCastNodeToNumber(ns->nodeTab[i]);
		if (isnan(v)) {
			r = NAN;
			break;
		}
		if (i == 0 || (want_max ? v > r : v < r))
			r = v;
	}
	xmlXPathFreeNodeSet(ns);
	push(ctxt, xmlXPathNewFloat(r));
}

/* ml:max(ns), ml:min(ns): the largest / smallest number value; NaN when ns
 * is empty or a value is not a number. */
static void
fn_max(xmlXPathParserContextPtr ctxt, int nargs)
{
	extreme(ctxt, nargs, 1, "ml:max");
}

static void
fn_min(xmlXPathParserContextPtr ctxt, int nargs)
{
	extreme(ctxt, nargs, 0, "ml:min");
}

/* ml:latest(ns): the node whose entry (nearest ancestor-or-self with a seq)
 * has the highest seq; the last in document order on a tie; empty when ns
 * is empty or no node is in an entry. */
static void
fn_latest(xmlXPathParserContextPtr ctxt, int nargs)
{
	xmlNodeSetPtr ns, ret;
	xmlNodePtr best = NULL;
	long long bseq = 0, seq;
	int i;

	CHECK_ARITY(1);
	if (!(ns = pop_nodes(ctxt, "ml:latest")))
		return;
	if (charge(ctxt, (size_t)nodes_count(ns))) {
		xmlXPathFreeNodeSet(ns);
		return;
	}
	for (i = 0; i < nodes_count(ns); i++)
		if (ml_pnode_seq(ns->nodeTab[i], &seq) && (!best || seq >= bseq)) {
			best = ns->nodeTab[i];
			bseq = seq;
		}
	ret = xmlXPathNodeSetCreate(best);
	xmlXPathFreeNodeSet(ns);
	if (!ret)
		XP_ERROR(XPATH_MEMORY_ERROR);
	{
		xmlXPathObjectPtr o = xmlXPathWrapNodeSet(ret);
		if (!o)
			xmlXPathFreeNodeSet(ret);
		push(ctxt, o);
	}
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* ml:seqs(ns): the seqs of the entries holding ns's nodes, distinct and
 * ascending, as "12, 15"; "" when none. */
static void
fn_seqs(xmlXPathParserContextPtr ctxt, int nargs)
{
	struct ml_buf b = {0};
	xmlNodeSetPtr ns;
	long long *v;
	size_t n = 0, i;

	CHECK_ARITY(1);
	if (!(ns = pop_nodes(ctxt, "ml:seqs")))
		return;
	if (charge(ctxt, (size_t)nodes_count(ns))) {
		xmlXPathFreeNodeSet(ns);
		return;
	}
	v = malloc(((size_t)nodes_count(ns) + 1) * sizeof *v);
	if (!v) {
		xmlXPathFreeNodeSet(ns);
		XP_ERROR(XPATH_MEMORY_ERROR);
	}
	for (i = 0; i < (size_t)nodes_count(ns); i++)
		if (ml_pnode_seq(ns->nodeTab[i], &v[n]))
			n++;
	xmlXPathFreeNodeSet(ns);
	qsort(v, n, sizeof *v, cmp_ll);
	for (i = 0; i < n; i++)
		if (i == 0 || v[i] != v[i - 1])
			ml_buf_printf(&b, "%s%lld", b.len ? ", " : "", v[i]);
	ml_buf_append(&b, "", 1);
	free(v);
	if (b.oom) {
		ml_buf_free(&b);
		XP_ERROR(XPATH_MEMORY_ERROR);
	}
	push(ctxt, xmlXPathNewString(b.data));
	ml_buf_free(&b);
}

/* ml:join(ns [, separator]): the string values of ns joined with separator
 * (default ", "). */
static void
fn_join(xmlXPathParserContextPtr ctxt, int nargs)
{
	struct ml_buf b = {0};
	xmlChar *sep = NULL;
	xmlNodeSetPtr ns;
	int i;

	if (nargs < 1 || nargs > 2)
		XP_ERROR(XPATH_INVALID_ARITY);
	if (nargs == 2 && !(sep = xmlXPathPopString(ctxt)))
		XP_ERROR(XPATH_MEMORY_ERROR);
	if (!(ns = pop_nodes(ctxt, "ml:join"))) {
		xmlFree(sep);
		return;
	}
	if (charge(ctxt, (size_t)nodes_count(ns))) {
		xmlXPathFreeNodeSet(ns);
		xmlFree(sep);
		return;
	}
	for (i = 0; i < nodes_count(ns) && !b.oom; i++) {
		xmlChar *s = xmlXPathCastNodeToString(ns->nodeTab[i]);
		if (!s) {
			b.oom = 1; /* not an empty value: fail */
			break;
		}
		if (i)
			ml_buf_puts(&b, sep ? (const char *)sep : ", ");
		ml_buf_puts(&b, (const char *)s);
		xmlFree(s);
	}
	ml_buf_append(&b, "", 1);
	xmlXPathFreeNodeSet(ns);
	xmlFree(sep);
	if (b.oom) {
		ml_buf_free(&b);
		XP_ERROR(XPATH_MEMORY_ERROR);
	}
	push(ctxt, xmlXPathNewString(b.data));
	ml_buf_free(&b);
}

/* ml:if(condition, then, else): then when boolean(condition), else else. */
static void
fn_if(xmlXPathParserContextPtr ctxt, int nargs)
{
	xmlXPathObjectPtr a, b;
	int c;

	CHECK_ARITY(3);
	b = valuePop(ctxt);
	a = valuePop(ctxt);
	c = xmlXPathPopBoolean(ctxt);
	if (c) {
		push(ctxt, a);
		xmlXPathFreeObject(b);
	} else {
		push(ctxt, b);
		xmlXPathFreeObject(a);
	}
}

/* The custom functions, by name. */
static const struct ml_pfn fns[] = {
	{"data", 1, 1, fn_data},
	{"date", 1, 1, fn_date},
	{"datetime", 1, 1, fn_datetime},
	{"days", 1, 1, fn_days},
	{"distinct", 1, 1, fn_distinct},
	{"distinct-count", 1, 1, fn_distinct_count},
	{"epoch", 1, 1, fn_epoch},
	{"has-role", 2, 2, fn_in_list},
	{"if", 3, 3, fn_if},
	{"in-list", 2, 2, fn_in_list},
	{"join", 1, 2, fn_join},
	{"key", 2, 2, fn_key},
	{"latest", 1, 1, fn_latest},
	{"max", 1, 1, fn_max},
	{"min", 1, 1, fn_min},
	{"seqs", 1, 1, fn_seqs},
	{"version-compare", 2, 2, fn_version_compare},
};

/* XPath 1.0 §4: the core function library (what libxml2 registers). */
static const struct ml_pfn core[] = {
	{"boolean", 1, 1, NULL},         {"ceiling", 1, 1, NULL},
	{"concat", 2, -1, NULL},         {"contains", 2, 2, NULL},
	{"count", 1, 1, NULL},           {"false", 0, 0, NULL},
	{"floor", 1, 1, NULL},           {"id", 1, 1, NULL},
	{"lang", 1, 1, NULL},            {"last", 0, 0, NULL},
	{"local-name", 0, 1, NULL},      {"name", 0, 1, NULL},
	{"namespace-uri", 0, 1, NULL},   {"normalize-space", 0, 1, NULL},
	{"not", 1, 1, NULL},             {"number", 0, 1, NULL},
	{"position", 0, 0, NULL},        {"round", 1, 1, NULL},
	{"starts-with", 2, 2, NULL},     {"string", 0, 1, NULL},
	{"string-length", 0, 1, NULL},   {"substring", 2, 3, NULL},
	{"substring-after", 2, 2, NULL}, {"substring-before", 2, 2, NULL},
	{"sum", 1, 1, NULL},             {"translate", 3, 3, NULL},
	{"true", 0, 0, NULL},
};

static const struct ml_pfn *
find(const struct ml_pfn *t, size_t n, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(t[i].name) == len && memcmp(t[i].name, name, len) == 0)
			return &t[i];
	return NULL;
}

const struct ml_pfn *
ml_pfn_find(const char *name, size_t len)
{
	return find(fns, sizeof fns / sizeof fns[0], name, len);
}

const struct ml_pfn *
ml_pfn_core(const char *name, size_t len)
{
	return find(core, sizeof core / sizeof core[0], name, len);
}

enum ml_rc
ml_pfn_register(xmlXPathContextPtr x)
{
	size_t i;

	for (i = 0; i < sizeof fns / sizeof fns[0]; i++)
		if (xmlXPathRegisterFuncNS(x, (const xmlChar *)fns[i].name,
					   (const xmlChar *)ML_POLICY_NS, fns[i].fn) != 0)
			return ML_EIO;
	/* libxml2 2.9 adds a hash entry whose name or namespace could not be
	 * copied without saying so, and xmlXPathNewContext registers the core
	 * library without looking at the results: look each function up */
	for (i = 0; i < sizeof fns / sizeof fns[0]; i++)
		if (xmlXPathFunctionLookupNS(x, (const xmlChar *)fns[i].name,
						  (const xmlChar *)ML_POLICY_NS) != fns[i].fn)
			return ML_EIO;
	for (i = 0; i < sizeof core / sizeof core[0]; i++)
		if (!xmlXPathFunctionLookup(x, (const xmlChar *)core[i].name))
			return ML_EIO;
	return ML_OK;
}
