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

static void
md_table(struct ml_buf *b, const json_t *model, const struct ml_report_table *t)
{
	json_t *rows = ml_report_get(model, t->path), *r;
	size_t i, j;

	ml_buf_printf(b, "\n### %s\n\n", t->title);
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
	json_array_foreach(rows, i, r) {
		for (j = 0; j < t->ncols; j++) {
			ml_buf_puts(b, "| ");
			md_cell(b, json_object_get(r, t->cols[j].key));
			ml_buf_puts(b, " ");
		}
		ml_buf_puts(b, "|\n");
	}
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
	json_t *c;
	size_t i, j;

	ml_buf_puts(b, "\n## 4. Evidence chain per deployment\n");
	if (!json_array_size(ml_report_get(model, "chains")))
		ml_buf_puts(b, "\nNo deployment in the period.\n");
	json_array_foreach(ml_report_get(model, "chains"), i, c) {
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
	}
}

static void
md_findings(struct ml_buf *b, const json_t *model)
{
	static const char *const tabs[] = {"controls", "findings", "waivers", NULL};
	const char *k;
	json_t *v;

	ml_buf_puts(b, "\n## 7. Findings\n\n");
	json_object_foreach(ml_report_get(model, "findings.summary"), k, v) {
		ml_buf_printf(b, "- %s: ", k);
		md_cell(b, v);
		ml_buf_puts(b, "\n");
	}
	md_tables(b, model, tabs);
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
ml_report_markdown(const json_t *model, struct ml_buf *out, struct ml_err *e)
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
	md_findings(out, model);
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
	json_t *r;
	size_t i, j;

	if (!t)
		return ml_err_set(e, ML_EINPUT, "no such table");
	for (j = 0; j < t->ncols; j++) {
		ml_csv_cell(out, t->cols[j].header, 0);
		ml_buf_puts(out, j + 1 < t->ncols ? "," : "\r\n");
	}
	json_array_foreach(ml_report_get(model, t->path), i, r) {
		for (j = 0; j < t->ncols; j++) {
			int numeric;
			char *c = ml_report_cell(json_object_get(r, t->cols[j].key), &numeric);
			if (!c)
				return ml_err_set(e, ML_EIO, "out of memory");
			ml_csv_cell(out, c, numeric);
			free(c);
			ml_buf_puts(out, j + 1 < t->ncols ? "," : "\r\n");
		}
	}
	return out->oom ? ml_err_set(e, ML_EIO, "out of memory writing CSV") : ML_OK;
}
