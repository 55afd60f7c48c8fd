/* report_html — the report as one self-contained HTML file, rendered from
 * the model of report.h.
 *
 * The document is built with libxml2's tree API and serialized by its HTML
 * writer: every value from the ledger becomes a text node or an attribute
 * value, which the writer escapes; nothing is pasted into markup.  The
 * rows of long tables and the evidence chains (most of a large report)
 * are written directly as the bytes that writer gives the same nodes,
 * values escaped by libxml2's own text escaping, so no node is made for
 * them (ml_report_html_set_direct selects the tree for tests).  It is
 * written while it is built: each finished part (a chain, a few hundred
 * rows of a long table, a section) is serialized and freed at once, with
 * the bytes the whole tree would have given, so only the model is held
 * whole.  Values
 * are first cleaned (ml_report_clean: bidi and other invisible controls
 * shown as visible codes).  The stylesheet (reports/report.css, embedded at
 * build time, or the caller's) is inlined; there are no scripts and no
 * external references.  Charts are inline SVG: findings by severity and by
 * control drawn here; the timeline of versions per environment and the
 * monitoring metric charts with their thresholds by report_svg.h.
 *
 * May call report, report_svg, util, jansson, libxml2.  No I/O.
 */
#ifndef ML_REPORT_HTML_H
#define ML_REPORT_HTML_H

#include <stddef.h>

#include <jansson.h>

#include "report.h"
#include "util.h"

/* The stylesheet compiled in (reports/report.css). */
const char *ml_report_default_css(size_t *len);

/* Appends the HTML report to out.  css (len bytes, NULL: the default) is
 * inlined, followed by the @page rule of the running header (the ledger
 * origin and the period, see ml_report_css_string); ML_EINPUT when css
 * contains "</" (it could end the style element).  detail: how findings
 * are listed (report.h).  ML_EIO when out of memory. */
int ml_report_html(const json_t *model, const char *css, size_t css_len,
		   enum ml_report_detail detail, struct ml_buf *out, struct ml_err *e);

/* Appends s as a quoted CSS string that is safe inside a style element:
 * cleaned (ml_report_clean), then every control character, DEL and each of
 * " \ ' < > & written as a CSS hex escape ("\3c "), so the value can
 * neither end the string, the rule nor the element.  ML_EIO when out of
 * memory. */
int ml_report_css_string(const char *s, struct ml_buf *out);

/* The same bytes, handed to write(ctx, bytes, len) piece by piece as they
 * are rendered (a few KiB at a time; write returns ML_OK, or any ML_E* code
 * to stop with ML_EIO), so that neither the document nor its tree is held
 * whole: the HTML of a large ledger can go straight to a file (util.h,
 * ml_afile). */
int ml_report_html_to(const json_t *model, const char *css, size_t css_len,
		      enum ml_report_detail detail,
		      int (*write)(void *ctx, const void *bytes, size_t len), void *ctx,
		      struct ml_err *e);

/* Tests only: 0 builds every row of a table as nodes that libxml2's writer
 * serializes (the reference), 1 (the default) writes the rows of long
 * tables directly with the same bytes (report_html.c, rows_direct).  Not
 * thread-safe; the setting stays until changed. */
void ml_report_html_set_direct(int on);

#endif
