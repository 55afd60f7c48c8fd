/* timecheck — see timecheck.h. */
#include "timecheck.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

struct ml_timecheck {
	struct ml_timecheck_opts o;
	json_t *warnings, *backfills;
	uint64_t nwarn, nback;
	int oom, started, closed;
	int64_t start_us;
	/* the current run of entries appended close together */
	uint64_t run_from, run_n;
	int64_t run_first, run_last, run_amin, run_amax;
	int run_has_author;
};

void
ml_timecheck_defaults(struct ml_timecheck_opts *o)
{
	o->past_us = ML_TIMECHECK_PAST_US;
	o->future_us = ML_CLOCK_TOLERANCE_US;
	o->burst_min = ML_TIMECHECK_BURST_MIN;
	o->burst_gap_us = ML_TIMECHECK_BURST_GAP_US;
	o->burst_span_us = ML_TIMECHECK_BURST_SPAN_US;
}

struct ml_timecheck *
ml_timecheck_new(const struct ml_timecheck_opts *o)
{
	struct ml_timecheck *t = calloc(1, sizeof *t);

	if (!t)
		return NULL;
	t->o = *o;
	t->warnings = json_array();
	t->backfills = json_array();
	if (!t->warnings || !t->backfills) {
		ml_timecheck_free(t);
		return NULL;
	}
	return t;
}

void
ml_timecheck_free(struct ml_timecheck *t)
{
	if (!t)
		return;
	json_decref(t->warnings);
	json_decref(t->backfills);
	free(t);
}

static json_t *
time_json(int64_t us)
{
	char b[21];

	ml_time_format(us, b);
	return json_string(b);
}

/* Lists the current run when it is a backfill, then forgets it. */
static void
close_run(struct ml_timecheck *t)
{
	json_t *o;

	if (t->run_n >= t->o.burst_min && t->run_has_author &&
	    t->run_amax - t->run_amin > t->o.burst_span_us) {
		t->nback++;
		if (json_array_size(t->backfills) < ML_TIMECHECK_LIST_MAX) {
			o = json_pack("{s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "fromSeq",
				      (json_int_t)t->run_from, "toSeq",
				      (json_int_t)(t->run_from + t->run_n - 1), "entries",
				      (json_int_t)t->run_n, "firstAppend", time_json(t->run_first),
				      "lastAppend", time_json(t->run_last), "authorFrom",
				      time_json(t->run_amin), "authorTo", time_json(t->run_amax));
			if (!o || json_array_append_new(t->backfills, o))
				t->oom = 1;
		}
	}
	t->run_n = 0;
	t->run_has_author = 0;
}

static void
skew(struct ml_timecheck *t, uint64_t seq, const char *kind, int64_t append_us,
     int64_t author_us)
{
	int64_t d = author_us - append_us;
	json_t *o;

	if (d >= -t->o.past_us && d <= t->o.future_us)
		return;
	t->nwarn++;
	if (json_array_size(t->warnings) >= ML_TIMECHECK_LIST_MAX)
		return;
	o = json_pack("{s:I, s:s, s:s, s:o, s:o, s:I}", "seq", (json_int_t)seq, "kind", kind,
		      "warning", d < 0 ? "backdated" : "future-dated", "authorTime",
		      time_json(author_us), "appendTime", time_json(append_us), "skewSeconds",
		      (json_int_t)(d / 1000000));
	if (!o || json_array_append_new(t->warnings, o))
		t->oom = 1;
}

enum ml_rc
ml_timecheck_add(struct ml_timecheck *t, uint64_t seq, const char *kind, int64_t append_us,
		 int has_author, int64_t author_us)
{
	if (!t->started) {
		t->started = 1;
		t->start_us = append_us;
	}
	if (has_author)
		skew(t, seq, kind, append_us, author_us);
	/* a clock correction may step the append time back: a new run */
	if (t->run_n && (append_us < t->run_last || append_us - t->run_last > t->o.burst_gap_us))
		close_run(t);
	if (!t->run_n) {
		t->run_from = seq;
		t->run_first = append_us;
	}
	t->run_n++;
	t->run_last = append_us;
	if (has_author) {
		if (!t->run_has_author || author_us < t->run_amin)
			t->run_amin = author_us;
		if (!t->run_has_author || author_us > t->run_amax)
			t->run_amax = author_us;
		t->run_has_author = 1;
	}
	return t->oom ? ML_EIO : ML_OK;
}

json_t *
ml_timecheck_json(struct ml_timecheck *t)
{
	if (!t->closed) {
		close_run(t);
		t->closed = 1;
	}
	if (t->oom)
		return NULL;
	return json_pack("{s:o, s:{s:I, s:I, s:I, s:I, s:I}, s:O, s:I, s:O, s:I}", "ledgerStart",
			 t->started ? time_json(t->start_us) : json_null(), "tolerance",
			 "pastSeconds", (json_int_t)(t->o.past_us / 1000000), "futureSeconds",
			 (json_int_t)(t->o.future_us / 1000000), "burstMinEntries",
			 (json_int_t)t->o.burst_min, "burstGapSeconds",
			 (json_int_t)(t->o.burst_gap_us / 1000000), "burstSpanSeconds",
			 (json_int_t)(t->o.burst_span_us / 1000000), "timeWarnings", t->warnings,
			 "timeWarningsTotal", (json_int_t)t->nwarn, "backfills", t->backfills,
			 "backfillsTotal", (json_int_t)t->nback);
}

uint64_t
ml_timecheck_warnings(const struct ml_timecheck *t)
{
	return t->nwarn;
}

uint64_t
ml_timecheck_backfills(const struct ml_timecheck *t)
{
	return t->nback;
}

int64_t
ml_timecheck_start(const struct ml_timecheck *t, int *known)
{
	*known = t->started;
	return t->start_us;
}
