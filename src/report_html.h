/* report_html — the report as one self-contained HTML file, rendered from
 * the model of report.h.
 *
 * The document is built with libxml2's tree API and serialized by its HTML
 * writer: every value from the ledger becomes a text node or an attribute
 * value, which the writer escapes; nothing is pasted into markup.  Values
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

#include "util.h"

/* The stylesheet compiled in (reports/report.css). */
const char *ml_report_default_css(size_t *len);

/* Appends the HTML report to out.  css (len bytes, NULL: the default) is
 * inlined; ML_EINPUT when it contains "</" (it could end the style
 * element).  ML_EIO when out of memory. */
int ml_report_html(const json_t *model, const char *css, size_t css_len, struct ml_buf *out,
		   struct ml_err *e);

#endif
