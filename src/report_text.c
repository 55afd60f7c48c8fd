/* report_text — Markdown and CSV (see report_text.h). */
#include "report_text.h"

#include <stdlib.h>
#include <string.h>

/* ---- Markdown ------------------------------------------------------------ */

/* Appends a value: cleaned, Markdown punctuation escaped, one line. */
static void
md_text(struct ml_buf *b, const char *s)
{
	char *c = ml_report_clean(s, strlen(s)), *p;

	if (!c) {
		b->oom = 1;
		return;
	}
	for (p = c; *p; p++) {
		if (*p == '\n' || *p == '\t')
			ml_buf_puts(b, " ");
		else if (*p == '<')
			ml_buf_puts(b, "&lt;");
		else if (*p == '>')
			ml_buf_puts(b, "&gt;");
		else if (*p == '&')
			ml_buf_puts(b, "&amp;");
		else if (strchr("\\`*_[]|~#", *p))
			ml_buf_printf(b, "\\%c", *p);
		else
			ml_buf_append(b, p, 1);
	}
	free(c);
}

static void
md_cell(struct ml_buf *b, json_t *v)
{
	char *c = ml_report_cell(v, NULL);

	if (!c) {
		b->oom = 1;
		return;
	}
	md_text(b, c);
	free(c);
}

/* A cell, with people by name (as report_html.c's person_cell): an author
 * with "(key KEYID)" after the name; a missing display name falls back to
 * the person id, then the key label. */
static void
md_person(struct ml_buf *b, const char *key, json_t *row)
{
	json_t *v = json_object_get(row, key);

	if (!strcmp(key, "personName") && !json_is_string(v))
		v = json_is_string(json_object_get(row, "person")) ? json_object_get(row, "person")
		  : json_object_get(row, "name");
	md_cell(b, v);
	if (!strcmp(key, "author") && json_is_string(json_object_get(row, "authorKey"))) {
		ml_buf_puts(b, " (key ");
		md_cell(b, json_object_get(row, "authorKey"));
		ml_buf_puts(b, ")");
	}
}

/* Table t over rows (an array of objects), under the heading title. */
static void
md_rows(struct ml_buf *b, const struct ml_report_table *t, const char *title, const json_t *rows)
{
	json_t *r;
	size_t i, j;

	ml_buf_printf(b, "\n### %s\n\n", title);
	if (!json_array_size(rows)) {
		ml_buf_puts(b, "None.\n");
		return;
	}
	for (j = 0; j < t->ncols; j++)
		ml_buf_printf(b, "| %s ", t->cols[j].header);
	ml_buf_puts(b, "|\n");
	for (j = 0; j < t->ncols; j++)
		ml_buf_puts(b, "|---");
	ml_buf_puts(b, "|\n");
	for (i = 0; i < json_array_size(rows); i++) {
		if (!(r = ml_report_row(rows, i))) {
			b->oom = 1; /* out of memory, or a packed row that does not read back */
			return;
		}
		for (j = 0; j < t->ncols; j++) {
			ml_buf_puts(b, "| ");
			md_person(b, t->cols[j].key, r);
			ml_buf_puts(b, " ");
		}
		ml_buf_puts(b, "|\n");
		json_decref(r);
	}
}

static void
md_table(struct ml_buf *b, const json_t *model, const struct ml_report_table *t)
{
	md_rows(b, t, t->title, ml_report_get(model, t->path));
}

static void
md_tables(struct ml_buf *b, const json_t *model, const char *const *names)
{
	for (; *names; names++)
		md_table(b, model, ml_report_table(*names));
}

static void
md_scope(struct ml_buf *b, const json_t *model)
{
	json_t *rows = ml_report_scope_rows(model), *r, *p;
	size_t i;

	ml_buf_puts(b, "\n## 1. Scope\n\n| | |\n|---|---|\n");
	json_array_foreach(rows, i, r) {
		ml_buf_printf(b, "| %s | ", json_string_value(json_array_get(r, 0)));
		md_text(b, json_string_value(json_array_get(r, 1)));
		ml_buf_puts(b, " |\n");
	}
	json_decref(rows);
	ml_buf_puts(b, "\n| Policy file | Id | Version | SHA-256 |\n|---|---|---|---|\n");
	json_array_foreach(ml_report_get(model, "scope.policies"), i, p) {
		static const char *const k[] = {"file", "id", "version", "sha256"};
		size_t j;
		for (j = 0; j < 4; j++) {
			ml_buf_puts(b, "| ");
			md_cell(b, json_object_get(p, k[j]));
			ml_buf_puts(b, " ");
		}
		ml_buf_puts(b, "|\n");
	}
	if (!json_array_size(ml_report_get(model, "scope.policies")))
		ml_buf_puts(b, "| (no policy given: no findings) | | | |\n");
}

/* One section per deployment: the steps of its chain as a list. */
static void
md_chains(struct ml_buf *b, const json_t *model)
{
	const struct ml_report_table *t = ml_report_table("chains");
	const json_t *rows = ml_report_get(model, "chains");
	json_t *c;
	size_t i, j;

	ml_buf_puts(b, "\n## 4. Evidence chain per deployment\n");
	if (!json_array_size(rows))
		ml_buf_puts(b, "\nNo deployment in the period.\n");
	for (i = 0; i < json_array_size(rows) && !b->oom; i++) {
		if (!(c = ml_report_row(rows, i))) { /* one read back at a time */
			b->oom = 1;
			break;
		}
		ml_buf_puts(b, "\n### ");
		md_cell(b, json_object_get(c, "ref"));
		ml_buf_puts(b, " to ");
		md_cell(b, json_object_get(c, "environment"));
		ml_buf_printf(b, " (deployment seq %lld)\n\n",
			      (long long)json_integer_value(json_object_get(c, "deploymentSeq")));
		for (j = 4; j < t->ncols; j++) {
			ml_buf_printf(b, "- **%s**: ", t->cols[j].header);
			if (json_is_array(json_object_get(c, t->cols[j].key)) &&
			    !json_array_size(json_object_get(c, t->cols[j].key)))
				ml_buf_puts(b, "none");
			else
				md_cell(b, json_object_get(c, t->cols[j].key));
			ml_buf_puts(b, "\n");
		}
		json_decref(c);
	}
}

/* The findings: every one a row with its controls (ML_REPORT_DETAIL_ALL),
 * or those that are not a pass a row each, then every rule a row: its
 * controls and what it found (the passes counted). */
static void
md_findings(struct ml_buf *b, const json_t *model, enum ml_report_detail detail)
{
	static const char *const ctl[] = {"controls", NULL}, *const wai[] = {"waivers", NULL};
	json_t *lines = ml_report_findings_lines(model), *v;
	json_t *listed = ml_report_listed_findings(model, detail), *rules = NULL;
	size_t i;

	ml_buf_puts(b, "\n## 7. Findings\n\n");
	if (!lines)
		b->oom = 1;
	json_array_foreach(lines, i, v) {
		ml_buf_puts(b, "- ");
		md_text(b, json_string_value(v));
		ml_buf_puts(b, "\n");
	}
	json_decref(lines);
	md_tables(b, model, ctl);
	if (!listed || (detail != ML_REPORT_DETAIL_ALL && !(rules = ml_report_rules_summary(model)))) {
		b->oom = 1;
	} else if (detail == ML_REPORT_DETAIL_ALL) {
		md_table(b, model, ml_report_table("findings"));
	} else {
		ml_buf_puts(b, "\nFailed, warned, waived and indeterminate findings, one row each; "
			    "the controls of each rule and its passing findings, counted, are in "
			    "the table per rule (report --detail all lists every finding; the JSON "
			    "and CSV forms always do).\n");
		md_rows(b, ml_report_listed_table(), ml_report_listed_table()->title, listed);
		md_rows(b, ml_report_rules_table(), ml_report_rules_table()->title, rules);
	}
	json_decref(listed);
	json_decref(rules);
	md_tables(b, model, wai);
}

/* The Markdown anchor of a section's heading (GitHub's slugs of the
 * headings written below), by the HTML section id. */
static const char *
md_anchor(const char *section)
{
	static const char *const map[][2] = {
		{"summary", "summary"}, {"scope", "1-scope"}, {"integrity", "2-integrity"},
		{"inventory", "3-inventory"}, {"chains", "4-evidence-chain-per-deployment"},
		{"comparison", "5-version-comparison"}, {"monitoring", "6-monitoring-cadence"},
		{"findings", "7-findings"}, {"people", "8-keys-and-people"}};
	size_t i;

	for (i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(map[i][0], section))
			return map[i][1];
	return "summary";
}

/* Page one (report_summary.c): the result, then one linked line each. */
static void
md_summary(struct ml_buf *b, const json_t *model)
{
	json_t *l, *fw;
	size_t i;

	ml_buf_puts(b, "\n## Summary\n\n");
	json_array_foreach(ml_report_get(model, "summary.lines"), i, l) {
		const char *head = json_string_value(json_object_get(l, "heading")) ?: "";
		int first = !strcmp(head, "Result"); /* the result: a paragraph of its own */
		ml_buf_printf(b, "%s[%s](#%s): ", first ? "**" : "- ", head,
			      md_anchor(json_string_value(json_object_get(l, "section")) ?: ""));
		md_text(b, json_string_value(json_object_get(l, "text")) ?: "");
		ml_buf_puts(b, first ? "**\n\n" : "\n");
	}
	if (!json_array_size(ml_report_get(model, "summary.byFramework")))
		return;
	ml_buf_puts(b, "\n| Control framework | Deny (failed) | Warn (failed) | Waived |\n"
		    "|---|---|---|---|\n");
	json_array_foreach(ml_report_get(model, "summary.byFramework"), i, fw) {
		ml_buf_puts(b, "| [");
		md_cell(b, json_object_get(fw, "framework"));
		ml_buf_puts(b, "](#7-findings) | ");
		md_cell(b, json_object_get(fw, "deny"));
		ml_buf_puts(b, " | ");
		md_cell(b, json_object_get(fw, "warn"));
		ml_buf_puts(b, " | ");
		md_cell(b, json_object_get(fw, "waived"));
		ml_buf_puts(b, " |\n");
	}
}

/* A number cell: %.6g, or "" for none. */
static void
md_num(struct ml_buf *b, const json_t *v)
{
	if (json_is_number(v))
		ml_buf_printf(b, "%.6g", json_number_value(v));
}

/* One row of the table below. */
static void
md_point(struct ml_buf *b, const json_t *m, const json_t *s, const json_t *p)
{
	ml_buf_puts(b, "| ");
	md_text(b, json_string_value(json_object_get(m, "ref")) ?: "");
	ml_buf_puts(b, " | ");
	md_text(b, json_string_value(json_object_get(m, "environment")) ?: "");
	ml_buf_puts(b, " | ");
	md_text(b, json_string_value(json_object_get(s, "metric")) ?: "");
	ml_buf_printf(b, " | %lld | ", (long long)json_integer_value(json_object_get(p, "seq")));
	md_text(b, json_string_value(json_object_get(p, "time")) ?: "");
	ml_buf_puts(b, " | ");
	md_num(b, json_object_get(p, "value"));
	ml_buf_puts(b, " | ");
	md_num(b, json_object_get(s, "approvalValue"));
	ml_buf_puts(b, " | ");
	md_num(b, json_object_get(s, "threshold"));
	ml_buf_puts(b, " |\n");
}

/* The HTML report's metric charts as a plain table: every point of every
 * monitoring series, with the approval-time value and the threshold.  The
 * points are unpacked one series at a time (ml_report_points); one that
 * does not read back sets b->oom. */
static void
md_trends(struct ml_buf *b, const json_t *model)
{
	const json_t *rows = ml_report_get(model, "monitoring"), *s, *p;
	json_t *m, *pts;
	size_t i, j, k, n = 0;

	ml_buf_puts(b, "\n### Metric values over time\n\n");
	for (i = 0; i < json_array_size(rows); i++) {
		if (!(m = ml_report_row(rows, i))) { /* one read back at a time */
			b->oom = 1;
			return;
		}
		json_array_foreach(json_object_get(m, "trend"), j, s) {
			if (ml_report_points_empty(s))
				continue;
			if (!(pts = ml_report_points(s))) {
				b->oom = 1;
				break;
			}
			json_array_foreach(pts, k, p) {
				if (!n++)
					ml_buf_puts(b, "| Model version | Environment | Metric | Seq | "
						    "Time | Value | At approval | Threshold |\n"
						    "|---|---|---|---|---|---|---|---|\n");
				md_point(b, m, s, p);
			}
			json_decref(pts);
		}
		json_decref(m);
		if (b->oom)
			return;
	}
	if (!n)
		ml_buf_puts(b, "None.\n");
}

/* The sign-off, last (report_signoff.h), when the model has one. */
static void
md_signoff(struct ml_buf *b, const json_t *model)
{
	static const char *const so[] = {"signoff", NULL};

	if (!json_is_object(ml_report_get(model, "signOff")))
		return;
	ml_buf_puts(b, "\n## 9. Sign-off\n");
	/* signed, the table's first row is the statement */
	if (!json_is_true(ml_report_get(model, "signOff.signed"))) {
		ml_buf_puts(b, "\n**");
		md_text(b, json_string_value(ml_report_get(model, "signOff.statement")) ?: "");
		ml_buf_puts(b, "**\n");
	}
	md_tables(b, model, so);
}

int
ml_report_markdown(const json_t *model, enum ml_report_detail detail, struct ml_buf *out,
		   struct ml_err *e)
{
	static const char *const inv[] = {"models", "datasets", "deployments", "retirements",
					  "incidents", NULL};
	static const char *const cmp[] = {"comparisons", NULL}, *const mon[] = {"monitoring", NULL};
	static const char *const ppl[] = {"keys", "key-events", NULL};
	static const char *const tim[] = {"time-warnings", "backfills", NULL};
	static const char *const held[] = {"held-checkpoints", NULL};

	ml_buf_puts(out, "# Audit report: ");
	md_text(out, json_string_value(ml_report_get(model, "scope.ledger.origin")) ?: "");
	ml_buf_printf(out, ", %s to %s\n",
		      json_string_value(ml_report_get(model, "scope.from")),
		      json_string_value(ml_report_get(model, "scope.to")));
	if (!json_is_true(ml_report_get(model, "integrity.ok")))
		ml_buf_puts(out, "\n> **WARNING: THE LEDGER FAILED VERIFICATION.**\n");
	if (json_is_object(ml_report_get(model, "integrity.futureDated"))) {
		ml_buf_puts(out, "\n> **WARNING: ");
		md_text(out, json_string_value(ml_report_get(model,
							     "integrity.futureDated.statement")) ?: "");
		ml_buf_puts(out, "**\n");
	}
	if (json_is_object(ml_report_get(model, "scope.ledgerStartWarning"))) {
		ml_buf_puts(out, "\n> **WARNING: ");
		md_text(out, json_string_value(ml_report_get(model,
							     "scope.ledgerStartWarning.statement")) ?: "");
		ml_buf_puts(out, "**\n");
	}
	md_summary(out, model);
	md_scope(out, model);
	ml_buf_puts(out, "\n## 2. Integrity\n\n");
	md_text(out, json_string_value(ml_report_get(model, "integrity.statement")) ?: "");
	ml_buf_puts(out, "\n\n");
	if (!json_array_size(ml_report_get(model, "integrity.held")))
		ml_buf_puts(out, "**Warning:** ");
	md_text(out, json_string_value(ml_report_get(model, "integrity.heldStatement")) ?: "");
	ml_buf_puts(out, "\n");
	if (json_array_size(ml_report_get(model, "integrity.held")))
		md_tables(out, model, held);
	if (json_is_object(ml_report_get(model, "integrity.time"))) {
		ml_buf_puts(out, "\n\n");
		md_text(out, json_string_value(ml_report_get(model, "integrity.time.statement")) ?: "");
		ml_buf_puts(out, "\n");
		md_tables(out, model, tim);
	}
	ml_buf_puts(out, "\n\n## 3. Inventory\n");
	md_tables(out, model, inv);
	md_chains(out, model);
	ml_buf_puts(out, "\n## 5. Version comparison\n");
	md_tables(out, model, cmp);
	ml_buf_puts(out, "\n## 6. Monitoring cadence\n");
	md_tables(out, model, mon);
	md_trends(out, model);
	md_findings(out, model, detail);
	ml_buf_puts(out, "\n## 8. Keys and people\n");
	md_tables(out, model, ppl);
	md_signoff(out, model);
	return out->oom ? ml_err_set(e, ML_EIO, "out of memory writing the Markdown report")
			: ML_OK;
}

/* ---- CSV ------------------------------------------------------------------- */

int
ml_report_csv(const json_t *model, const struct ml_report_table *t, struct ml_buf *out,
	      struct ml_err *e)
{
	json_t *r, *rows;
	size_t i, j;

	if (!t)
		return ml_err_set(e, ML_EINPUT, "no such table");
	rows = ml_report_get(model, t->path);
	for (j = 0; j < t->ncols; j++) {
		ml_csv_cell(out, t->cols[j].header, 0);
		ml_buf_puts(out, j + 1 < t->ncols ? "," : "\r\n");
	}
	for (i = 0; i < json_array_size(rows); i++) {
		if (!(r = ml_report_row(rows, i)))
			return ml_err_set(e, ML_EIO, "out of memory");
		for (j = 0; j < t->ncols; j++) {
			int numeric;
			char *c = ml_report_cell(json_object_get(r, t->cols[j].key), &numeric);
			if (!c) {
				json_decref(r);
				return ml_err_set(e, ML_EIO, "out of memory");
			}
			ml_csv_cell(out, c, numeric);
			free(c);
			ml_buf_puts(out, j + 1 < t->ncols ? "," : "\r\n");
		}
		json_decref(r);
	}
	return out->oom ? ml_err_set(e, ML_EIO, "out of memory writing CSV") : ML_OK;
}
