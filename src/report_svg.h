/* report_svg — the HTML report's time charts, as inline SVG built into a
 * libxml2 tree: a timeline per environment (model versions as bars over
 * the report period) and metric-over-time charts for monitoring with the
 * policy's threshold.
 *
 * Every value from the model becomes a text node or an attribute value
 * (cleaned with ml_report_clean, escaped by libxml2's writer), never
 * markup; numbers are printed with fixed precision ("%.1f") in the C
 * locale the report runs in, so the bytes are reproducible.  No script,
 * no external reference.  The counts are capped so the printed report
 * stays short (reports/README.md, "Charts"): what is not drawn is said in
 * a line under the charts, and the tables and the JSON report hold it all.
 *
 * May call report, util, jansson, libxml2.  No I/O.
 */
#ifndef ML_REPORT_SVG_H
#define ML_REPORT_SVG_H

#include <jansson.h>
#include <libxml/tree.h>

#define ML_SVG_MAX_ENVS 6    /* timelines drawn */
#define ML_SVG_MAX_LANES 10  /* versions per timeline (the latest deployed) */
#define ML_SVG_MAX_TRENDS 6  /* metric charts: with a threshold first */

/* The timelines of the deployments in scope (model "inventory.deployments"),
 * one figure per environment, appended to parent.  Sets *oom when out of
 * memory (the caller discards the document). */
void ml_report_svg_timelines(xmlNodePtr parent, const json_t *model, int *oom);

/* One chart per monitored (version, environment, metric) series of model
 * "monitoring[].trend": the values at the monitoring entries' times, the
 * approval-time value dashed and the policy's threshold (when the series
 * has one) as a red line.  Series with a threshold are drawn first. */
void ml_report_svg_trends(xmlNodePtr parent, const json_t *model, int *oom);

#endif
