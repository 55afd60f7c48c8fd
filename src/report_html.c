/* report_html — see report_html.h.  The document is a libxml2 HTML tree;
 * text goes in as text nodes and attribute values (escaped by the writer),
 * never as markup.  The rows of long tables and the chains are the
 * exception: written as the writer's bytes for the same nodes (struct cw,
 * rows_direct, chain_direct), with its escaping. */
#include "report_html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLtree.h>
#include <libxml/parserInternals.h> /* xmlStringTextNoenc */
#include <libxml/tree.h>

#include "report.h"
#include "report_svg.h"
#include "report_css.h" /* generated from reports/report.css by the Makefile */

#define MAX_CONTROL_BARS 30

const char *
ml_report_default_css(size_t *len)
{
	*len = sizeof report_css;
	return (const char *)report_css;
}

/* ---- tree helpers ----------------------------------------------------- */

static int oom_flag;
static int direct_rows = 1; /* ml_report_html_set_direct */

/* The writer of a document being streamed (doc->_private; see "streaming"
 * below). */
struct stream {
	xmlOutputBufferPtr ob;
	xmlNodePtr body;
	xmlOutputBufferPtr tag; /* open_tag's scratch writer, into tagbuf */
	struct ml_buf tagbuf;
	char written;           /* its address in a node's _private: already written */
};

static void stream_flush(xmlNodePtr node);

void
ml_report_html_set_direct(int on)
{
	direct_rows = on;
}

static void
text(xmlNodePtr n, const char *s)
{
	char *c;
	xmlNodePtr t;

	if (!s)
		return;
	if (!(c = ml_report_clean(s, strlen(s))) ||
	    !(t = xmlNewText((const xmlChar *)c)) || !xmlAddChild(n, t))
		oom_flag = 1;
	free(c);
}

static void
attr(xmlNodePtr n, const char *name, const char *value)
{
	char *c = ml_report_clean(value, strlen(value));

	if (!c || !xmlNewProp(n, (const xmlChar *)name, (const xmlChar *)c))
		oom_flag = 1;
	free(c);
}

static xmlNodePtr
el(xmlNodePtr parent, const char *name, const char *cls)
{
	xmlNodePtr n = xmlNewChild(parent, NULL, (const xmlChar *)name, NULL);

	if (!n) {
		oom_flag = 1;
		return parent; /* keep going; the result is discarded */
	}
	if (cls)
		attr(n, "class", cls);
	return n;
}

static xmlNodePtr
el_text(xmlNodePtr parent, const char *name, const char *cls, const char *s)
{
	xmlNodePtr n = el(parent, name, cls);

	text(n, s);
	return n;
}

static void
attrf(xmlNodePtr n, const char *name, double v)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%.1f", v);
	attr(n, name, buf);
}

static const char *
jstr(const json_t *model, const char *path)
{
	const char *s = json_string_value(ml_report_get(model, path));

	return s ? s : "";
}

/* ---- tables ------------------------------------------------------------- */

/* A class for outcome-like values, so they can be coloured. */
static const char *
value_class(const char *key, const char *v)
{
	static const char *const known[] = {"pass", "fail", "waived", "indeterminate", "deny",
					    "better", "worse", "changed", "expired", NULL};
	static char cls[32];
	size_t i;

	if (strcmp(key, "outcome") && strcmp(key, "verdict") && strcmp(key, "status"))
		return NULL;
	for (i = 0; known[i]; i++)
		if (!strcmp(v, known[i])) {
			snprintf(cls, sizeof cls, "v-%s", known[i]);
			return cls;
		}
	return NULL;
}

/* ---- cell content: nodes, or the bytes of those nodes ---------------------
 *
 * Text that breaks only where it should, and the cells of tables, are set
 * through a struct cw: either as nodes under n (the tree), or, for the rows
 * of a long table (rows_direct), as the bytes libxml2's HTML writer gives
 * those nodes, appended to b.  For those bytes the writer needs to know, of
 * the element the content goes into, whether its first and its last child
 * are elements and whether it has two children or more (adjacent text
 * nodes of one kind are one child: xmlAddChild merges them); cw keeps
 * that.  Text is escaped as the writer escapes a text node
 * (xmlEncodeEntitiesReentrant on the document); only the fixed markup of
 * this file is written unescaped. */
enum cw_kind { CW_NONE, CW_TEXT, CW_NOENC, CW_ELEM };
struct cw {
	xmlNodePtr n;      /* the tree: the element the content goes into; NULL: bytes */
	struct ml_buf *b;  /* bytes: the content so far (not owned) */
	xmlDocPtr doc;     /* bytes: the document, for the writer's escaping */
	const char *name;  /* bytes: the element's name (NULL: a td of rows_direct) */
	int children;      /* bytes: children so far, counted as the tree would */
	enum cw_kind first, last;
	int last_block;    /* bytes: the last child is a block element */
};

/* Bytes only: a child of kind k (block: a block element) follows.  The
 * writer puts a newline between a block element and a next sibling that is
 * an element, unless the parent's name starts with p (p, pre, param). */
static void
cw_child(struct cw *w, enum cw_kind k, int block)
{
	if (k == CW_ELEM && w->last_block && !(w->name && w->name[0] == 'p'))
		ml_buf_puts(w->b, "\n");
	if (k == CW_ELEM || k != w->last)
		w->children++;
	if (w->first == CW_NONE)
		w->first = k;
	w->last = k;
	w->last_block = block;
}

/* Begins element name (class cls, or none) as the next child of w and
 * returns the writer of its content: a node under w->n (the tree), or
 * bytes gathered in scratch (emptied here) until cw_end. */
static struct cw
cw_begin(struct cw *w, const char *name, const char *cls, struct ml_buf *scratch)
{
	struct cw c = {0};

	if (w->n) {
		c.n = el(w->n, name, cls);
	} else {
		scratch->len = 0;
		c.b = scratch;
		c.doc = w->doc;
		c.name = name;
	}
	return c;
}

/* Ends the element c that cw_begin began under w (class cls as given
 * there): bytes only, its tags around its content with the writer's
 * separators (libxml2 HTMLtree.c, htmlNodeDumpFormatOutput with format
 * on): for a block element not named p..., a newline after the start tag
 * when the first of two children or more is an element, before the end
 * tag when the last is; an element without children closed as the writer
 * closes it (a void element or one whose end tag it may leave out: the
 * start tag alone). */
static void
cw_end(struct cw *w, struct cw *c, const char *cls)
{
	const htmlElemDesc *info;
	int block, sep;

	if (w->n)
		return;
	info = htmlTagLookup((const xmlChar *)c->name);
	block = info && !info->isinline;
	sep = block && c->children > 1 && c->name[0] != 'p';
	cw_child(w, CW_ELEM, block); /* the separator before it first */
	ml_buf_puts(w->b, "<");
	ml_buf_puts(w->b, c->name);
	if (cls) {
		ml_buf_puts(w->b, " class=\"");
		ml_buf_puts(w->b, cls);
		ml_buf_puts(w->b, "\"");
	}
	if (!c->children) {
		if (info && (info->empty || (info->saveEndTag && strcmp(info->name, "html") &&
					     strcmp(info->name, "body"))))
			ml_buf_puts(w->b, ">");
		else
			ml_buf_printf(w->b, "></%s>", c->name);
		return;
	}
	ml_buf_puts(w->b, sep && c->first == CW_ELEM ? ">\n" : ">");
	ml_buf_append(w->b, c->b->data, c->b->len);
	if (c->b->oom)
		w->b->oom = 1;
	if (sep && c->last == CW_ELEM)
		ml_buf_puts(w->b, "\n");
	ml_buf_printf(w->b, "</%s>", c->name);
}

/* Bytes only: s[0..len) (cleaned) escaped as the writer escapes text.
 * Plain printable ASCII is copied; anything else goes through libxml2. */
static void
cw_escape(struct cw *w, const char *s, size_t len)
{
	size_t i;
	char *z;
	xmlChar *x;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch > 0x7e || ch == '<' || ch == '>' || ch == '&' || ch == '"' ||
		    ch == '\'')
			break;
	}
	if (i == len) {
		ml_buf_append(w->b, s, len);
		return;
	}
	if (!(z = malloc(len + 1))) {
		oom_flag = 1;
		return;
	}
	memcpy(z, s, len);
	z[len] = '\0';
	if ((x = xmlEncodeEntitiesReentrant(w->doc, (const xmlChar *)z)))
		ml_buf_puts(w->b, (const char *)x);
	else
		oom_flag = 1;
	xmlFree(x);
	free(z);
}

/* Text s[0..len), already cleaned (a text node). */
static void
raw_text(struct cw *w, const char *s, size_t len)
{
	xmlNodePtr t;

	if (!w->n) {
		cw_escape(w, s, len);
		cw_child(w, CW_TEXT, 0);
	} else if (!(t = xmlNewTextLen((const xmlChar *)s, (int)len)) || !xmlAddChild(w->n, t)) {
		oom_flag = 1;
	}
}

/* Text s, cleaned here (a text node even when s is empty). */
static void
cw_text(struct cw *w, const char *s)
{
	char *c;

	if (w->n) {
		text(w->n, s);
		return;
	}
	if (!s)
		return;
	if (!(c = ml_report_clean(s, strlen(s)))) {
		oom_flag = 1;
		return;
	}
	raw_text(w, c, strlen(c));
	free(c);
}

/* An inline element name (class cls) holding text s[0..len), cleaned
 * here when clean is set. */
static void
cw_inline(struct cw *w, const char *name, const char *cls, const char *s, size_t len, int clean)
{
	struct ml_buf scratch = {0};
	struct cw in = cw_begin(w, name, cls, &scratch);

	if (clean)
		cw_text(&in, s);
	else
		raw_text(&in, s, len);
	cw_end(w, &in, cls);
	ml_buf_free(&scratch);
}

/* A span of s[0..len) (already cleaned) that is never broken (class id). */
static void
whole(struct cw *w, const char *s, size_t len)
{
	cw_inline(w, "span", "id", s, len, 0);
}

/* A line-break opportunity: the fixed markup <wbr> (a void element, which
 * libxml2's HTML writer does not know and would close with </wbr>), as a
 * text node the writer emits unescaped.  Nothing from the ledger is ever
 * written this way. */
static void
wbr(struct cw *w)
{
	xmlNodePtr t;

	if (!w->n) {
		ml_buf_puts(w->b, "<wbr>");
		cw_child(w, CW_NOENC, 0);
		return;
	}
	if (!(t = xmlNewText((const xmlChar *)"<wbr>"))) {
		oom_flag = 1;
		return;
	}
	t->name = xmlStringTextNoenc; /* before xmlAddChild: never merged with text */
	if (!xmlAddChild(w->n, t)) {
		xmlFreeNode(t);
		oom_flag = 1;
	}
}

/* A rule id: upper-case words joined by hyphens (PROD-EVALUATION), the
 * first of two characters or more, maybe followed by punctuation. */
static int
rule_like(const char *w, size_t len)
{
	size_t i, hyphens = 0;

	if (len > 64 || len < 4 || !(w[0] >= 'A' && w[0] <= 'Z') || w[1] == '-')
		return 0;
	for (i = 0; i < len && w[i] != ',' && w[i] != ';' && w[i] != ')' && w[i] != '.'; i++) {
		if (w[i] == '-' && i + 1 < len && w[i + 1] != '-')
			hyphens++;
		else if (!((w[i] >= 'A' && w[i] <= 'Z') || (w[i] >= '0' && w[i] <= '9')))
			return 0;
	}
	return hyphens > 0;
}

/* YYYY-MM-DDTHH:MM:SS...Z */
static int
time_like(const char *w, size_t len)
{
	return len >= 20 && len <= 40 && w[4] == '-' && w[7] == '-' && w[10] == 'T' &&
	       w[13] == ':' && memchr(w, 'Z', len);
}

#define LONG_WORD 24  /* a word longer than this gets a break chance ... */
#define CHUNK 16      /* ... every CHUNK bytes (digests, keys, long values) */

enum word_kind { W_PLAIN, W_WHOLE, W_TIME, W_LONG };

/* How a whitespace-free word w[0..len) is set: NAME@VERSION (with a
 * hyphen: without one it does not break anyway) and rule ids whole, a time breakable only between date and time, a long word (a
 * digest, a key) every CHUNK bytes, anything else as plain text. */
static enum word_kind
word_kind(const char *w, size_t len)
{
	/* only a hyphen lets a browser break inside such a word */
	if ((len <= 80 && memchr(w, '@', len) && memchr(w, '-', len)) || rule_like(w, len))
		return W_WHOLE;
	if (time_like(w, len))
		return W_TIME;
	return len > LONG_WORD ? W_LONG : W_PLAIN;
}

static void
word(struct cw *n, enum word_kind k, const char *w, size_t len)
{
	size_t i, j;

	if (k == W_WHOLE) {
		whole(n, w, len);
	} else if (k == W_TIME) {
		whole(n, w, 10);
		wbr(n);
		whole(n, w + 10, len - 10);
	} else {
		const char *colon = memchr(w, ':', len < 12 ? len : 12);
		if (colon) { /* "sha256:" apart, then the hex in CHUNKs */
			raw_text(n, w, (size_t)(colon + 1 - w));
			wbr(n);
			len -= (size_t)(colon + 1 - w);
			w = colon + 1;
		}
		for (i = 0; i < len; i = j) {
			j = i + CHUNK < len ? i + CHUNK : len;
			while (j < len && ((unsigned char)w[j] & 0xc0) == 0x80)
				j++; /* never inside a UTF-8 character */
			if (i)
				wbr(n);
			raw_text(n, w + i, j - i);
		}
	}
}

/* Text s (cleaned here) into w, each word set by word_kind: ids and
 * versions never broken inside, digests only at fixed intervals.  The text
 * a reader copies is s, unchanged (wbr adds no character). */
static void
breakable_w(struct cw *n, const char *s)
{
	char *c;
	const char *p, *plain, *w;
	enum word_kind k;

	if (!s)
		return;
	if (!(c = ml_report_clean(s, strlen(s)))) {
		oom_flag = 1;
		return;
	}
	for (p = plain = c; *p;) {
		if (*p == ' ' || *p == '\n' || *p == '\t') {
			p++;
			continue;
		}
		for (w = p; *p && *p != ' ' && *p != '\n' && *p != '\t'; p++)
			;
		if ((k = word_kind(w, (size_t)(p - w))) == W_PLAIN)
			continue;
		if (w > plain)
			raw_text(n, plain, (size_t)(w - plain));
		word(n, k, w, (size_t)(p - w));
		plain = p;
	}
	if (p > plain)
		raw_text(n, plain, (size_t)(p - plain));
	free(c);
}

static void
breakable(xmlNodePtr n, const char *s)
{
	struct cw w = {.n = n};

	breakable_w(&w, s);
}

/* Columns that hold one name each (NAME@VERSION, a rule id, an
 * environment, an outcome): the cell is never broken (class id). */
static int
id_column(const char *key)
{
	static const char *const ids[] = {"ref", "ruleId", "subject", "environment", "rule",
					  "baseline", "replaces", "parent", "framework",
					  "policy", "id", "version", "severity", "outcome",
					  "verdict", "status", "name", "event", "kind", "seq",
					  "deploymentSeq", "enrolledSeq", "revokedSeq", NULL};
	size_t i;

	for (i = 0; ids[i]; i++)
		if (!strcmp(key, ids[i]))
			return 1;
	return 0;
}

/* The key id after a signer's name, in small type. */
static void
key_small_w(struct cw *w, const json_t *o)
{
	const char *k = json_string_value(json_object_get(o, "authorKey"));

	if (!k)
		return;
	cw_text(w, " ");
	cw_inline(w, "small", "keyid", k, 0, 1);
}

/* A cell of a table row: begins the td (class cls or none) and returns
 * the writer of its content.  td must be ended with cell_end. */
static struct cw
cell_begin(xmlNodePtr tr, struct ml_buf *tmp, xmlDocPtr doc, const char *cls)
{
	struct cw w = {0};

	if (tr) {
		w.n = el(tr, "td", cls);
	} else {
		tmp->len = 0;
		w.b = tmp;
		w.doc = doc;
	}
	return w;
}

/* Bytes only: the td whose content w holds, into row, with the writer's
 * separators (td is a block element). */
static void
cell_end(struct cw *w, struct ml_buf *row, const char *cls)
{
	int several = w->children > 1;

	if (!w->b)
		return;
	if (cls)
		ml_buf_printf(row, "<td class=\"%s\">", cls);
	else
		ml_buf_puts(row, "<td>");
	if (several && w->first == CW_ELEM)
		ml_buf_puts(row, "\n");
	ml_buf_append(row, w->b->data, w->b->len);
	if (several && w->last == CW_ELEM)
		ml_buf_puts(row, "\n");
	ml_buf_puts(row, "</td>");
	if (w->b->oom)
		oom_flag = 1;
}

/* One cell of key in row r: into the tr (tree), or appended to out (bytes;
 * tmp is scratch).  People by name (issue 15): an "author" cell is the
 * signer's name (the enrolment's person, else the key label) with the key
 * id in small type; a "personName" cell with no display name falls back to
 * the person id, then the key label. */
static void value_cell(xmlNodePtr tr, struct ml_buf *out, struct ml_buf *tmp, xmlDocPtr doc,
		       const char *key, json_t *v);

static void
row_cell(xmlNodePtr tr, struct ml_buf *out, struct ml_buf *tmp, xmlDocPtr doc, const char *key,
	 json_t *r)
{
	json_t *v = json_object_get(r, key);
	struct cw w;

	if (!strcmp(key, "author") && json_is_string(v)) {
		w = cell_begin(tr, tmp, doc, "who");
		cw_text(&w, json_string_value(v));
		key_small_w(&w, r);
		cell_end(&w, out, "who");
		return;
	}
	if (!strcmp(key, "personName") && !json_is_string(v)) {
		const char *p = json_string_value(json_object_get(r, "person"));
		if (!p)
			p = json_string_value(json_object_get(r, "name"));
		w = cell_begin(tr, tmp, doc, "who");
		cw_text(&w, p ? p : "");
		cell_end(&w, out, "who");
		return;
	}
	value_cell(tr, out, tmp, doc, key, v);
}

/* A cell of value v in column key (as row_cell). */
static void
value_cell(xmlNodePtr tr, struct ml_buf *out, struct ml_buf *tmp, xmlDocPtr doc, const char *key,
	   json_t *v)
{
	int numeric, whole_cell = 0;
	char *c, cls[48];
	const char *vc;
	struct cw w;

	if (!(c = ml_report_cell(v, &numeric))) {
		oom_flag = 1;
		return;
	}
	if (numeric) {
		snprintf(cls, sizeof cls, "num");
		whole_cell = 1;
	} else {
		int digest = !strcmp(key, "digest") || !strcmp(key, "sha256") || !strcmp(key, "root");
		vc = value_class(key, c); /* outcomes: one word, never broken anyway */
		/* a name a browser could break: at a hyphen, a slash or a space */
		whole_cell = !vc && json_is_string(v) && id_column(key) && strpbrk(c, "-/ ");
		snprintf(cls, sizeof cls, "%s", vc ? vc : whole_cell ? "id" : digest ? "digest" : "");
	}
	w = cell_begin(tr, tmp, doc, cls[0] ? cls : NULL);
	if (whole_cell)
		cw_text(&w, c); /* the whole cell is never broken */
	else
		breakable_w(&w, c);
	cell_end(&w, out, cls[0] ? cls : NULL);
	free(c);
}

/* Bytes only: the rows of a table whose tbody (the table's last child,
 * empty) has just been reached by stream_flush, written straight to the
 * output with the separators libxml2's writer would give them; tbody is
 * then marked written (emit writes nothing more of it).  No row is built
 * as nodes: this is where a long report spends its time. */
static void
rows_direct(struct stream *st, xmlNodePtr tbody, const struct ml_report_table *t,
	    const json_t *rows)
{
	struct ml_buf row = {0}, tmp = {0};
	size_t i, j, n = json_array_size(rows);

	xmlOutputBufferWriteString(st->ob, n > 1 ? "<tbody>\n" : "<tbody>");
	for (i = 0; i < n && !oom_flag; i++) {
		json_t *r = ml_report_row(rows, i);
		if (!r) {
			oom_flag = 1;
			break;
		}
		row.len = 0;
		ml_buf_puts(&row, t->ncols > 1 ? "<tr>\n" : "<tr>");
		for (j = 0; j < t->ncols; j++) {
			row_cell(NULL, &row, &tmp, tbody->doc, t->cols[j].key, r);
			if (j + 1 < t->ncols)
				ml_buf_puts(&row, "\n");
		}
		json_decref(r);
		ml_buf_puts(&row, t->ncols > 1 ? "\n</tr>" : "</tr>");
		if (i + 1 < n)
			ml_buf_puts(&row, "\n");
		if (row.oom)
			oom_flag = 1;
		else
			xmlOutputBufferWrite(st->ob, (int)row.len, (const char *)row.data);
	}
	xmlOutputBufferWriteString(st->ob, n > 1 ? "\n</tbody>" : "</tbody>");
	tbody->_private = &st->written;
	ml_buf_free(&row);
	ml_buf_free(&tmp);
}

/* A cell of value v in column key, as a table row's (tree only). */
static void
cell(xmlNodePtr tr, const char *key, json_t *v)
{
	value_cell(tr, NULL, NULL, NULL, key, v);
}

/* Table t over rows (an array of objects); class cls.  The rows are
 * written directly (rows_direct) when the table could be opened for it,
 * else built as nodes (the reference the direct form is tested against,
 * ml_report_html_set_direct). */
static void
rows_table(xmlNodePtr parent, const struct ml_report_table *t, const json_t *rows,
	   const char *cls)
{
	xmlNodePtr tab, tr, body;
	struct stream *st = parent->doc->_private;
	size_t i, j;

	tab = el(parent, "table", cls);
	tr = el(el(tab, "thead", NULL), "tr", NULL);
	for (j = 0; j < t->ncols; j++)
		el_text(tr, "th", NULL, t->cols[j].header);
	body = el(tab, "tbody", NULL);
	if (direct_rows && st && json_array_size(rows) && !oom_flag) {
		stream_flush(body);
		if (tab->_private == st && !body->children) {
			rows_direct(st, body, t, rows);
			return;
		}
	}
	for (i = 0; i < json_array_size(rows); i++) {
		json_t *r = ml_report_row(rows, i);
		if (!r) {
			oom_flag = 1;
			break;
		}
		tr = el(body, "tr", NULL);
		for (j = 0; j < t->ncols; j++)
			row_cell(tr, NULL, NULL, NULL, t->cols[j].key, r);
		json_decref(r);
		if (i % 256 == 255)
			stream_flush(body); /* a long table a few rows at a time */
	}
}

static void
table(xmlNodePtr parent, const json_t *model, const char *name, int heading)
{
	const struct ml_report_table *t = ml_report_table(name);
	json_t *rows = ml_report_get(model, t->path);

	if (heading)
		el_text(parent, "h3", NULL, t->title);
	if (!json_array_size(rows)) {
		el_text(parent, "p", "none", "None.");
		return;
	}
	rows_table(parent, t, rows, name);
}

static void
kv_row(xmlNodePtr tab, const char *k, const char *v)
{
	xmlNodePtr tr = el(tab, "tr", NULL);

	el_text(tr, "th", NULL, k);
	breakable(el(tr, "td", NULL), v);
}

/* ---- SVG ------------------------------------------------------------------ */

static xmlNodePtr
svg_new(xmlNodePtr parent, double w, double h, const char *title)
{
	xmlNodePtr fig = el(parent, "figure", NULL), svg = el(fig, "svg", NULL);
	char vb[64];

	snprintf(vb, sizeof vb, "0 0 %.0f %.0f", w, h);
	attr(svg, "viewBox", vb);
	attrf(svg, "width", w);
	attrf(svg, "height", h);
	attr(svg, "role", "img");
	attr(svg, "aria-label", title);
	el_text(svg, "title", NULL, title);
	el_text(fig, "figcaption", NULL, title);
	return svg;
}

static void
rect(xmlNodePtr svg, const char *cls, double x, double y, double w, double h)
{
	xmlNodePtr r = el(svg, "rect", cls);

	attrf(r, "x", x);
	attrf(r, "y", y);
	attrf(r, "width", w > 0 ? w : 0);
	attrf(r, "height", h > 0 ? h : 0);
}

static void
label(xmlNodePtr svg, double x, double y, const char *anchor, const char *s)
{
	xmlNodePtr t = el_text(svg, "text", NULL, s);

	attrf(t, "x", x);
	attrf(t, "y", y);
	if (anchor)
		attr(t, "text-anchor", anchor);
}

static const char *const outcomes[] = {"fail", "waived", "indeterminate", "pass"};

/* One stacked horizontal bar per row of rows: counts by outcome. */
static void
stacked(xmlNodePtr svg, const json_t *rows, const char *const *labels, size_t n, double max)
{
	double left = 250, width = 440, h = 18;
	size_t i, k;

	for (i = 0; i < n; i++) {
		const json_t *r = json_array_get(rows, i);
		double x = left, y = 10 + (h + 6) * (double)i;
		char num[32];
		label(svg, left - 8, y + 13, "end", labels[i]);
		for (k = 0; k < 4; k++) {
			double c = (double)json_integer_value(json_object_get(r, outcomes[k]));
			char cls[32];
			snprintf(cls, sizeof cls, "bar %s", outcomes[k]);
			rect(svg, cls, x, y, c / max * width, h);
			x += c / max * width;
		}
		snprintf(num, sizeof num, "%lld",
			 (long long)json_integer_value(json_object_get(r, "findings")));
		label(svg, x + 4, y + 13, "start", num);
	}
}

static void
legend(xmlNodePtr svg, double y)
{
	size_t k;

	for (k = 0; k < 4; k++) {
		char cls[32];
		snprintf(cls, sizeof cls, "bar %s", outcomes[k]);
		rect(svg, cls, 250 + 110 * (double)k, y, 12, 12);
		label(svg, 266 + 110 * (double)k, y + 10, "start", outcomes[k]);
	}
}

static void
chart_severity(xmlNodePtr parent, const json_t *model)
{
	static const char *const sev[] = {"deny", "warn", "info"};
	const json_t *items = ml_report_get(model, "findings.items");
	json_t *rows = json_array(), *f;
	double max = 1;
	size_t i, k;
	xmlNodePtr svg;

	for (k = 0; k < 3; k++)
		json_array_append_new(rows, json_pack("{s:I, s:I, s:I, s:I, s:I}", "fail",
						      (json_int_t)0, "waived", (json_int_t)0,
						      "indeterminate", (json_int_t)0, "pass",
						      (json_int_t)0, "findings", (json_int_t)0));
	for (i = 0; i < json_array_size(items); i++) {
		const char *s, *o;
		json_t *r;
		if (!(f = ml_report_row(items, i))) { /* one read back at a time */
			oom_flag = 1;
			break;
		}
		s = json_string_value(json_object_get(f, "severity"));
		o = json_string_value(json_object_get(f, "outcome"));
		r = json_array_get(rows, !strcmp(s, "deny") ? 0 : !strcmp(s, "warn") ? 1 : 2);
		json_object_set_new(r, o, json_integer(json_integer_value(json_object_get(r, o)) + 1));
		json_object_set_new(r, "findings", json_integer(json_integer_value(json_object_get(r, "findings")) + 1));
		if ((double)json_integer_value(json_object_get(r, "findings")) > max)
			max = (double)json_integer_value(json_object_get(r, "findings"));
		json_decref(f);
	}
	svg = svg_new(parent, 740, 3 * 24 + 40, "Findings by rule severity and outcome");
	stacked(svg, rows, sev, 3, max);
	legend(svg, 3 * 24 + 16);
	json_decref(rows);
}

static void
chart_controls(xmlNodePtr parent, const json_t *model)
{
	json_t *rows = ml_report_get(model, "findings.byControl"), *r;
	const char *labels[MAX_CONTROL_BARS];
	char (*buf)[48] = calloc(MAX_CONTROL_BARS, 48);
	size_t i, n = json_array_size(rows) < MAX_CONTROL_BARS ? json_array_size(rows)
							       : MAX_CONTROL_BARS;
	double max = 1;
	xmlNodePtr svg;

	if (!n || !buf) {
		free(buf);
		return;
	}
	json_array_foreach(rows, i, r) {
		if (i >= n)
			break;
		snprintf(buf[i], 48, "%.12s %.30s", json_string_value(json_object_get(r, "framework")),
			 json_string_value(json_object_get(r, "ref")));
		labels[i] = buf[i];
		if ((double)json_integer_value(json_object_get(r, "findings")) > max)
			max = (double)json_integer_value(json_object_get(r, "findings"));
	}
	svg = svg_new(parent, 740, 24 * (double)n + 40, "Findings by control (framework and clause)");
	stacked(svg, rows, labels, n, max);
	legend(svg, 24 * (double)n + 16);
	free(buf);
}

/* ---- sections ------------------------------------------------------------- */

static xmlNodePtr
section(xmlNodePtr body, const char *id, const char *title)
{
	xmlNodePtr s = el(body, "section", NULL);

	attr(s, "id", id);
	el_text(s, "h2", NULL, title);
	return s;
}

/* Page one: the summary's lines, each heading a link to its section, and
 * the failed and waived findings per control framework. */
static void
sec_summary(xmlNodePtr body, const json_t *model)
{
	xmlNodePtr s = section(body, "summary", "Summary"), tab = NULL, tr, p;
	json_t *l, *fw;
	size_t i;
	char href[80];

	/* the "Result" line first, as a paragraph of its own; the rest a table */
	json_array_foreach(ml_report_get(model, "summary.lines"), i, l) {
		const char *head = json_string_value(json_object_get(l, "heading"));
		int result = head && !strcmp(head, "Result");
		snprintf(href, sizeof href, "#%s", json_string_value(json_object_get(l, "section")));
		if (result) {
			p = el(s, "p", json_is_true(ml_report_get(model, "summary.clean"))
			       ? "ok result" : "bad result");
			attr(el_text(p, "a", NULL, head), "href", href);
			text(p, ": ");
			el_text(p, "b", NULL, json_string_value(json_object_get(l, "text")));
			continue;
		}
		if (!tab)
			tab = el(s, "table", "kv summary");
		tr = el(tab, "tr", NULL);
		attr(el_text(el(tr, "th", NULL), "a", NULL, head), "href", href);
		el_text(tr, "td", NULL, json_string_value(json_object_get(l, "text")));
	}
	if (!json_array_size(ml_report_get(model, "summary.byFramework")))
		return;
	tab = el(s, "table", "frameworks");
	tr = el(el(tab, "thead", NULL), "tr", NULL);
	el_text(tr, "th", NULL, "Control framework");
	el_text(tr, "th", NULL, "Deny (failed)");
	el_text(tr, "th", NULL, "Warn (failed)");
	el_text(tr, "th", NULL, "Waived");
	tab = el(tab, "tbody", NULL);
	json_array_foreach(ml_report_get(model, "summary.byFramework"), i, fw) {
		tr = el(tab, "tr", NULL);
		attr(el_text(el(tr, "td", NULL), "a", NULL,
			     json_string_value(json_object_get(fw, "framework"))), "href", "#findings");
		cell(tr, "deny", json_object_get(fw, "deny"));
		cell(tr, "warn", json_object_get(fw, "warn"));
		cell(tr, "waived", json_object_get(fw, "waived"));
	}
}

static void
sec_scope(xmlNodePtr body, const json_t *model)
{
	xmlNodePtr s = section(body, "scope", "1. Scope"), tab = el(s, "table", "kv");
	json_t *rows = ml_report_scope_rows(model), *r;
	size_t i;

	json_array_foreach(rows, i, r)
		kv_row(tab, json_string_value(json_array_get(r, 0)),
		       json_string_value(json_array_get(r, 1)));
	json_decref(rows);
	el_text(s, "h3", NULL, "Policies");
	if (!json_array_size(ml_report_get(model, "scope.policies"))) {
		el_text(s, "p", "none", "No policy was given: the report holds no findings.");
		return;
	}
	tab = el(s, "table", NULL);
	{
		xmlNodePtr tr = el(el(tab, "thead", NULL), "tr", NULL), tb = el(tab, "tbody", NULL);
		static const char *const k[] = {"file", "id", "version", "sha256"};
		static const char *const h[] = {"File", "Id", "Version", "SHA-256"};
		json_t *p;
		size_t j;
		for (j = 0; j < 4; j++)
			el_text(tr, "th", NULL, h[j]);
		json_array_foreach(ml_report_get(model, "scope.policies"), i, p) {
			tr = el(tb, "tr", NULL);
			for (j = 0; j < 4; j++)
				cell(tr, k[j], json_object_get(p, k[j]));
		}
	}
}

static void
sec_integrity(xmlNodePtr body, const json_t *model)
{
	xmlNodePtr s = section(body, "integrity", "2. Integrity");
	int ok = json_is_true(ml_report_get(model, "integrity.ok"));

	el_text(s, "p", ok ? "ok" : "bad", jstr(model, "integrity.statement"));
	el_text(s, "p", json_array_size(ml_report_get(model, "integrity.held")) ? NULL : "bad",
		jstr(model, "integrity.heldStatement"));
	if (json_array_size(ml_report_get(model, "integrity.held")))
		table(s, model, "held-checkpoints", 1);
	if (!json_is_object(ml_report_get(model, "integrity.time")))
		return;
	el_text(s, "p", NULL, jstr(model, "integrity.time.statement"));
	table(s, model, "time-warnings", 1);
	table(s, model, "backfills", 1);
}

/* One step of a chain (an li of the ol w). */
static void
chain_step(struct cw *ol, const char *head, json_t *v)
{
	struct ml_buf sl = {0}, su = {0}, si = {0};
	struct cw li = cw_begin(ol, "li", NULL, &sl), ul, item;
	json_t *x;
	size_t i;

	cw_inline(&li, "b", NULL, head, 0, 1);
	if (json_is_array(v) && json_array_size(v) > 1) {
		ul = cw_begin(&li, "ul", NULL, &su);
		json_array_foreach(v, i, x) {
			item = cw_begin(&ul, "li", NULL, &si);
			breakable_w(&item, json_string_value(json_object_get(x, "label")));
			key_small_w(&item, x);
			cw_end(&ul, &item, NULL);
		}
		cw_end(&li, &ul, NULL);
	} else if (json_is_null(v) || (json_is_array(v) && !json_array_size(v))) {
		cw_inline(&li, "span", "none", "none", 0, 1);
	} else {
		char *c = ml_report_cell(v, NULL);
		const char *verdict = json_string_value(json_object_get(v, "verdict")), *sc;
		char cls[32];
		struct cw span;
		snprintf(cls, sizeof cls, "v-%s", verdict ? verdict : "x");
		sc = verdict && strspn(verdict, "abcdefghijklmnopqrstuvwxyz") == strlen(verdict)
			     ? cls : NULL;
		span = cw_begin(&li, "span", sc, &si);
		breakable_w(&span, c ? c : "");
		cw_end(&li, &span, sc);
		key_small_w(&li, json_is_array(v) ? json_array_get(v, 0) : v);
		free(c);
	}
	cw_end(ol, &li, NULL);
	ml_buf_free(&sl);
	ml_buf_free(&su);
	ml_buf_free(&si);
}

/* The content of a chain's article: its heading and its steps. */
static void
chain_article(struct cw *art, const struct ml_report_table *t, json_t *c)
{
	struct ml_buf sh = {0}, so = {0};
	struct cw h3 = cw_begin(art, "h3", NULL, &sh), ol;
	char seq[64];
	size_t j;

	cw_text(&h3, json_string_value(json_object_get(c, "ref")));
	cw_text(&h3, " \xe2\x86\x92 ");
	cw_text(&h3, json_string_value(json_object_get(c, "environment")));
	snprintf(seq, sizeof seq, " (deployment seq %lld)",
		 (long long)json_integer_value(json_object_get(c, "deploymentSeq")));
	cw_text(&h3, seq);
	cw_end(art, &h3, NULL);
	ol = cw_begin(art, "ol", "steps", &so);
	for (j = 4; j < t->ncols; j++)
		chain_step(&ol, t->cols[j].header, json_object_get(c, t->cols[j].key));
	cw_end(art, &ol, "steps");
	ml_buf_free(&sh);
	ml_buf_free(&so);
}

/* Bytes only: the chain c into the empty article art, the last child of
 * the open section s, once stream_flush has written what precedes it; 1
 * when written (art is then marked written), 0 when the section is not
 * open (build the nodes instead). */
static int
chain_direct(xmlNodePtr s, xmlNodePtr art, const struct ml_report_table *t, json_t *c)
{
	struct stream *st = s->doc->_private;
	struct ml_buf out = {0}, sa = {0};
	struct cw root = {0}, a;

	stream_flush(s);
	if (!st || s->_private != st || s->last != art || art->children || art->_private)
		return 0;
	root.b = &out;
	root.doc = s->doc;
	root.name = (const char *)s->name;
	a = cw_begin(&root, "article", "chain", &sa);
	chain_article(&a, t, c);
	cw_end(&root, &a, "chain");
	if (out.oom)
		oom_flag = 1;
	else
		xmlOutputBufferWrite(st->ob, (int)out.len, (const char *)out.data);
	art->_private = &st->written;
	ml_buf_free(&out);
	ml_buf_free(&sa);
	return 1;
}

static void
sec_chains(xmlNodePtr body, const json_t *model)
{
	const struct ml_report_table *t = ml_report_table("chains");
	xmlNodePtr s = section(body, "chains", "4. Evidence chain per deployment");
	json_t *c, *rows = ml_report_get(model, "chains");
	size_t i;

	el_text(s, "p", NULL, "Datasets, model version, evaluations, approvals, the gate "
		"decisions recorded before the deployment (mlledger gate --key), what the "
		"policies say now, the deployment and its monitoring, with the seq of every "
		"entry: check any of them with mlledger show SEQ and mlledger prove SEQ.");
	if (!json_array_size(rows))
		el_text(s, "p", "none", "No deployment in the period.");
	for (i = 0; i < json_array_size(rows) && !oom_flag; i++) {
		xmlNodePtr art;
		struct cw w;

		if (!(c = ml_report_row(rows, i))) { /* one read back at a time */
			oom_flag = 1;
			break;
		}
		art = el(s, "article", "chain");
		w = (struct cw){.n = art};
		if (!(direct_rows && chain_direct(s, art, t, c))) {
			chain_article(&w, t, c);
			stream_flush(s); /* one article at a time */
		}
		json_decref(c);
	}
}

/* The findings: every one a row with its controls (ML_REPORT_DETAIL_ALL),
 * or those that are not a pass a row each, then every rule a row: its
 * controls and what it found (the passes counted). */
static void
findings_tables(xmlNodePtr s, const json_t *model, enum ml_report_detail detail)
{
	json_t *listed = ml_report_listed_findings(model, detail), *rules = NULL;

	if (!listed || (detail != ML_REPORT_DETAIL_ALL && !(rules = ml_report_rules_summary(model)))) {
		oom_flag = 1;
		json_decref(listed);
		return;
	}
	if (detail == ML_REPORT_DETAIL_ALL) {
		el_text(s, "h3", NULL, ml_report_table("findings")->title);
		if (json_array_size(listed))
			rows_table(s, ml_report_table("findings"), listed, "findings");
		else
			el_text(s, "p", "none", "None.");
	} else {
		el_text(s, "h3", NULL, ml_report_listed_table()->title);
		el_text(s, "p", "sub", "Failed, warned, waived and indeterminate findings, one row "
			"each; the controls of each rule and its passing findings, counted, are in the "
			"table per rule below (report --detail all lists every finding; the JSON and "
			"CSV forms always do).");
		if (json_array_size(listed))
			rows_table(s, ml_report_listed_table(), listed, "findings listed");
		else
			el_text(s, "p", "none", "None.");
		el_text(s, "h3", NULL, ml_report_rules_table()->title);
		if (json_array_size(rules))
			rows_table(s, ml_report_rules_table(), rules, "rules");
		else
			el_text(s, "p", "none", "None.");
	}
	json_decref(listed);
	json_decref(rules);
}

static void
sec_findings(xmlNodePtr body, const json_t *model, enum ml_report_detail detail)
{
	xmlNodePtr s = section(body, "findings", "7. Findings"), ul = el(s, "ul", "summary");
	json_t *lines = ml_report_findings_lines(model), *v;
	size_t i;

	json_array_foreach(lines, i, v)
		el_text(ul, "li", NULL, json_string_value(v));
	if (!lines)
		oom_flag = 1;
	json_decref(lines);
	chart_severity(s, model);
	chart_controls(s, model);
	table(s, model, "controls", 1);
	findings_tables(s, model, detail);
	table(s, model, "waivers", 1);
}

/* The sign-off, last (report_signoff.h): absent from a model built
 * without one. */
static void
sec_signoff(xmlNodePtr body, const json_t *model)
{
	xmlNodePtr s;

	if (!json_is_object(ml_report_get(model, "signOff")))
		return;
	s = section(body, "signoff", "9. Sign-off");
	/* signed, the table's first row is the statement */
	if (!json_is_true(ml_report_get(model, "signOff.signed")))
		el_text(s, "p", "bad", jstr(model, "signOff.statement"));
	table(s, model, "signoff", 0);
}

static void
front(xmlNodePtr body, const json_t *model)
{
	static const char *const toc[][2] = {
		{"#summary", "Summary"}, {"#scope", "Scope"}, {"#integrity", "Integrity"}, {"#inventory", "Inventory"},
		{"#chains", "Evidence chains"}, {"#comparison", "Version comparison"},
		{"#monitoring", "Monitoring cadence"}, {"#findings", "Findings"},
		{"#people", "Keys and people"}, {"#signoff", "Sign-off"}};
	char run[600];
	xmlNodePtr ol;
	size_t i;

	snprintf(run, sizeof run, "Audit report \xc2\xb7 %s \xc2\xb7 %s to %s \xc2\xb7 generated %s",
		 jstr(model, "scope.ledger.origin"), jstr(model, "scope.from"),
		 jstr(model, "scope.to"), jstr(model, "scope.generatedAt"));
	el_text(body, "header", "running", run);
	if (!json_is_true(ml_report_get(model, "integrity.ok")))
		el_text(body, "div", "alert", jstr(model, "integrity.statement"));
	if (json_is_object(ml_report_get(model, "integrity.futureDated")))
		el_text(body, "div", "alert", jstr(model, "integrity.futureDated.statement"));
	if (json_is_object(ml_report_get(model, "scope.ledgerStartWarning")))
		el_text(body, "div", "alert start", jstr(model, "scope.ledgerStartWarning.statement"));
	el_text(body, "h1", NULL, "Audit report");
	snprintf(run, sizeof run, "%s, %s to %s", jstr(model, "scope.ledger.origin"),
		 jstr(model, "scope.from"), jstr(model, "scope.to"));
	el_text(body, "p", "sub", run);
	ol = el(el(body, "nav", "toc"), "ol", NULL);
	for (i = 0; i < sizeof toc / sizeof toc[0]; i++)
		attr(el_text(el(ol, "li", NULL), "a", NULL, toc[i][1]), "href", toc[i][0]);
}

/* ---- streaming ---------------------------------------------------------------
 *
 * The body is written while it is built: stream_flush writes every node
 * that can no longer change (all but the last child at each level of the
 * path from body to the node being built) and frees it, and writes the
 * start tag of each element on that path that has at least two children,
 * marking it open (_private).  The bytes are those htmlNodeDumpFormatOutput
 * would write for the whole tree: a complete node is dumped while still
 * linked (its separators depend on its next sibling and its parent), and
 * the open elements' tags and newlines follow the same rules (libxml2
 * HTMLtree.c: a newline after a block element's start tag when its first
 * child is an element and it has several children, before its end tag
 * when its last child is, and after it when a next sibling is an element,
 * none of them under p, pre or param).  Builders only ever append, and
 * keep no pointer to a node outside the path across a stream_flush. */
/* struct stream: above, with the tree helpers. */

static int
tag_out(void *ctx, const char *bytes, int len)
{
	struct ml_buf *b = ctx;

	ml_buf_append(b, bytes, (size_t)len);
	return b->oom ? -1 : len;
}

static int
is_block(xmlNodePtr n)
{
	const htmlElemDesc *info;

	if (n->type != XML_ELEMENT_NODE || n->ns)
		return 0;
	info = htmlTagLookup(n->name);
	return info && !info->isinline;
}

static int
is_markup(xmlNodePtr n)
{
	return n && n->type != XML_TEXT_NODE && n->type != XML_ENTITY_REF_NODE;
}

/* An open element's start tag: the dump of a copy with one text child, cut
 * before that child. */
static void
open_tag(struct stream *st, xmlNodePtr n)
{
	xmlNodePtr c = xmlDocCopyNode(n, n->doc, 2);
	size_t tail = strlen((const char *)n->name) + 4;

	st->tagbuf.len = 0;
	if (!st->tag)
		st->tag = xmlOutputBufferCreateIO(tag_out, NULL, &st->tagbuf, NULL);
	if (!c || !st->tag || !xmlAddChild(c, xmlNewText((const xmlChar *)"x"))) {
		oom_flag = 1;
	} else {
		htmlNodeDumpFormatOutput(st->tag, n->doc, c, "UTF-8", 0);
		xmlOutputBufferFlush(st->tag);
		if (st->tagbuf.len > tail && !st->tagbuf.oom)
			xmlOutputBufferWrite(st->ob, (int)(st->tagbuf.len - tail),
					     (const char *)st->tagbuf.data);
		else
			oom_flag = 1;
	}
	xmlFreeNode(c);
	if (is_block(n) && is_markup(n->children) && n->name[0] != 'p')
		xmlOutputBufferWrite(st->ob, 1, "\n");
	n->_private = st;
}

static void emit(struct stream *st, xmlNodePtr n);

/* What follows the end tag of an element written (a newline before a next
 * sibling that is an element, after a block element not in p, pre or
 * param). */
static void
close_written(struct stream *st, xmlNodePtr n)
{
	if (is_block(n) && is_markup(n->next) && n->parent && n->parent->name &&
	    n->parent->name[0] != 'p')
		xmlOutputBufferWrite(st->ob, 1, "\n");
}

/* The rest of an open element: its children, its end tag. */
static void
close_open(struct stream *st, xmlNodePtr n)
{
	int last_markup = is_markup(n->last);

	while (n->children)
		emit(st, n->children);
	if (is_block(n) && last_markup && n->name[0] != 'p')
		xmlOutputBufferWrite(st->ob, 1, "\n");
	xmlOutputBufferWriteString(st->ob, "</");
	xmlOutputBufferWriteString(st->ob, (const char *)n->name);
	xmlOutputBufferWriteString(st->ob, ">");
	close_written(st, n);
}

/* Writes the complete (or open) node n, the first child of its parent,
 * and frees it; the body's children are followed by a newline. */
static void
emit(struct stream *st, xmlNodePtr n)
{
	if (n->_private == st)
		close_open(st, n);
	else if (n->_private == &st->written) /* by rows_direct: what follows it only */
		close_written(st, n);
	else
		htmlNodeDumpFormatOutput(st->ob, n->doc, n, "UTF-8", 1);
	if (n->parent == st->body)
		xmlOutputBufferWrite(st->ob, 1, "\n");
	xmlUnlinkNode(n);
	xmlFreeNode(n);
}

/* Writes and frees what node's document holds that can no longer change. */
static void
stream_flush(xmlNodePtr node)
{
	struct stream *st = node->doc->_private;
	xmlNodePtr parent = st->body, cur;

	while ((cur = parent->last)) {
		while (parent->children != cur)
			emit(st, parent->children);
		if (cur->_private != st) { /* opened with two children or more */
			if (cur->type != XML_ELEMENT_NODE || !cur->children ||
			    cur->children == cur->last)
				break;
			open_tag(st, cur);
		}
		parent = cur;
	}
}

/* Writes the children of body built so far and frees them. */
static void
flush(xmlOutputBufferPtr ob, xmlNodePtr body)
{
	struct stream *st = body->doc->_private;

	(void)ob;
	while (body->children)
		emit(st, body->children);
}

static void
sections(xmlOutputBufferPtr ob, xmlNodePtr body, const json_t *model,
	 enum ml_report_detail detail)
{
	xmlNodePtr s;

	front(body, model);
	sec_summary(body, model);
	sec_scope(body, model);
	sec_integrity(body, model);
	flush(ob, body);
	s = section(body, "inventory", "3. Inventory");
	ml_report_svg_timelines(s, model, &oom_flag);
	table(s, model, "models", 1);
	table(s, model, "datasets", 1);
	table(s, model, "deployments", 1);
	table(s, model, "retirements", 1);
	table(s, model, "incidents", 1);
	flush(ob, body);
	sec_chains(body, model);
	flush(ob, body);
	table(section(body, "comparison", "5. Version comparison"), model, "comparisons", 0);
	s = section(body, "monitoring", "6. Monitoring cadence");
	ml_report_svg_trends(s, model, &oom_flag);
	table(s, model, "monitoring", 0);
	flush(ob, body);
	sec_findings(body, model, detail);
	flush(ob, body);
	s = section(body, "people", "8. Keys and people");
	table(s, model, "keys", 1);
	table(s, model, "key-events", 1);
	flush(ob, body);
	sec_signoff(body, model);
	el_text(body, "footer", NULL, "Generated by mlledger from the verified ledger. Every "
		"seq names a ledger entry: mlledger show SEQ prints it, mlledger prove SEQ proves "
		"its inclusion in the checkpoint above. The JSON form of this report carries the "
		"same facts (reports/report.schema.json).");
	flush(ob, body);
}

/* ---- the document ----------------------------------------------------------- */

int
ml_report_css_string(const char *s, struct ml_buf *out)
{
	char *c = ml_report_clean(s, strlen(s));
	const unsigned char *p;

	if (!c)
		return ML_EIO;
	ml_buf_puts(out, "\"");
	for (p = (const unsigned char *)c; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || strchr("\"\\'<>&", *p))
			ml_buf_printf(out, "\\%x ", *p);
		else
			ml_buf_append(out, p, 1);
	}
	ml_buf_puts(out, "\"");
	free(c);
	return out->oom ? ML_EIO : ML_OK;
}

/* The running header of printed pages (report.css sets its look and the
 * page numbers): the ledger origin and the period, as a CSS string. */
static void
page_header(xmlNodePtr style, const json_t *model)
{
	struct ml_buf b = {0};
	char run[400];
	xmlNodePtr t;

	snprintf(run, sizeof run, "Audit report \xc2\xb7 %.200s \xc2\xb7 %.40s to %.40s",
		 jstr(model, "scope.ledger.origin"), jstr(model, "scope.from"),
		 jstr(model, "scope.to"));
	ml_buf_puts(&b, "\n/* the running header of this report (emitted by mlledger) */\n"
		    "@page { @top-left { content: ");
	ml_report_css_string(run, &b);
	ml_buf_puts(&b, "; } }\n");
	if (b.oom || !(t = xmlNewTextLen((const xmlChar *)b.data, (int)b.len)) ||
	    !xmlAddChild(style, t))
		oom_flag = 1;
	ml_buf_free(&b);
}

/* The document: the head is written whole, then the body's sections one by
 * one (flush); the html and body tags are fixed text. */
static void
document(xmlOutputBufferPtr ob, const json_t *model, const char *css, size_t css_len,
	 enum ml_report_detail detail)
{
	xmlDocPtr doc = htmlNewDocNoDtD(NULL, NULL);
	xmlNodePtr html, head, body, sty;
	struct stream st;
	char title[400];

	if (!doc) {
		oom_flag = 1;
		return;
	}
	html = xmlNewNode(NULL, (const xmlChar *)"html");
	xmlDocSetRootElement(doc, html);
	head = el(html, "head", NULL);
	attr(el(head, "meta", NULL), "charset", "utf-8");
	{
		char gen[64];
		xmlNodePtr m = el(head, "meta", NULL);
		snprintf(gen, sizeof gen, "mlledger %s", jstr(model, "scope.tool.version"));
		attr(m, "name", "generator");
		attr(m, "content", gen);
	}
	snprintf(title, sizeof title, "Audit report: %s, %s to %s",
		 jstr(model, "scope.ledger.origin"), jstr(model, "scope.from"),
		 jstr(model, "scope.to"));
	el_text(head, "title", NULL, title);
	sty = el(head, "style", NULL);
	if (!xmlAddChild(sty, xmlNewTextLen((const xmlChar *)css, (int)css_len)))
		oom_flag = 1;
	page_header(sty, model);
	body = el(html, "body", NULL);
	memset(&st, 0, sizeof st);
	st.ob = ob;
	st.body = body;
	doc->_private = &st;
	xmlOutputBufferWriteString(ob, "<!DOCTYPE html>\n<html lang=\"en\">\n");
	htmlNodeDumpFormatOutput(ob, doc, head, "UTF-8", 1);
	xmlOutputBufferWriteString(ob, "\n<body>\n");
	sections(ob, body, model, detail);
	xmlOutputBufferWriteString(ob, "</body>\n</html>\n");
	if (st.tag)
		xmlOutputBufferClose(st.tag);
	ml_buf_free(&st.tagbuf);
	xmlFreeDoc(doc);
}

/* libxml2 output callback: hands the bytes to the caller's writer. */
struct sink {
	int (*write)(void *ctx, const void *bytes, size_t len);
	void *ctx;
	int failed;
};

static int
sink_out(void *ctx, const char *bytes, int len)
{
	struct sink *k = ctx;

	if (k->failed || k->write(k->ctx, bytes, (size_t)len) != 0) {
		k->failed = 1;
		return -1;
	}
	return len;
}

int
ml_report_html_to(const json_t *model, const char *css, size_t css_len,
		  enum ml_report_detail detail,
		  int (*write)(void *ctx, const void *bytes, size_t len), void *ctx,
		  struct ml_err *e)
{
	struct sink k = {write, ctx, 0};
	xmlOutputBufferPtr ob;
	size_t i;

	if (!css)
		css = ml_report_default_css(&css_len);
	for (i = 0; i + 1 < css_len; i++)
		if (css[i] == '<' && css[i + 1] == '/')
			return ml_err_set(e, ML_EINPUT, "the stylesheet contains \"</\", which "
					  "would end its style element");
	if (css_len > INT32_MAX || memchr(css, '\0', css_len))
		return ml_err_set(e, ML_EINPUT, "the stylesheet is not text");
	oom_flag = 0;
	/* straight to the writer, section by section (and long sections piece
	 * by piece): neither the whole tree nor the whole document is held */
	ob = xmlOutputBufferCreateIO(sink_out, NULL, &k, NULL); /* UTF-8 in and out */
	if (ob) {
		document(ob, model, css, css_len, detail);
		xmlOutputBufferClose(ob);
	}
	if (oom_flag)
		return ml_err_set(e, ML_EIO, "out of memory building the HTML report");
	return ob && !k.failed ? ML_OK : ml_err_set(e, ML_EIO, "out of memory writing HTML");
}

/* ml_report_html_to's writer into an ml_buf. */
static int
append_out(void *ctx, const void *bytes, size_t len)
{
	struct ml_buf *out = ctx;

	ml_buf_append(out, bytes, len);
	return out->oom ? ML_EIO : ML_OK;
}

int
ml_report_html(const json_t *model, const char *css, size_t css_len,
	       enum ml_report_detail detail, struct ml_buf *out, struct ml_err *e)
{
	return ml_report_html_to(model, css, css_len, detail, append_out, out, e);
}
