/* report_text — the report as Markdown (for tickets and wikis) and as CSV
 * tables (RFC 4180), rendered from the model of report.h.
 *
 * Pure functions over the model: no I/O.  May call report (the table
 * catalogue, cells, cleaning), util, jansson.
 *
 * Markdown: values are cleaned (ml_report_clean); < > & become the
 * character references &lt; &gt; &amp; (no renderer can read inline HTML
 * then), the other characters Markdown reads (\ ` * _ [ ] | ~ #) are
 * backslash-escaped, and line breaks become spaces, so a value can neither
 * add markup, a link, a table cell nor a line.
 * CSV: CRLF line ends; a field holding a comma, a quote, CR or LF is
 * quoted, quotes doubled; a text cell that starts with = + - @, tab or CR
 * is prefixed with an apostrophe so a spreadsheet reads it as text, not as
 * a formula (numbers the report computed are written as numbers).
 */
#ifndef ML_REPORT_TEXT_H
#define ML_REPORT_TEXT_H

#include <jansson.h>

#include "report.h"
#include "util.h"

/* Appends the Markdown report to out; detail: how findings are listed
 * (report.h).  ML_EIO when out of memory. */
int ml_report_markdown(const json_t *model, enum ml_report_detail detail, struct ml_buf *out,
		       struct ml_err *e);
/* Appends table t as CSV (a header row, then one row per object).  ML_EIO
 * when out of memory. */
int ml_report_csv(const json_t *model, const struct ml_report_table *t, struct ml_buf *out,
		  struct ml_err *e);

#endif
