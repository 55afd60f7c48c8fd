/* live — the versions live in an environment at a time (live.h). */
#include <stdlib.h>
#include <string.h>

#include "evidence.h"
#include "governance.h"
#include "live.h"
#include "rules.h"
#include "statement.h"
#include "store.h"
#include "timecheck.h"
#include "tlog.h"
#include "verify.h"

/* The deployment and retirement seqs of the index, ascending. */
struct seqlist {
	uint64_t *v;
	size_t n, cap;
	int oom;
};

static int
add_seq(void *ctx, uint64_t seq)
{
	struct seqlist *s = ctx;
	uint64_t *nv;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		if (!(nv = realloc(s->v, s->cap * sizeof *nv))) {
			s->oom = 1;
			return ML_EIO;
		}
		s->v = nv;
	}
	s->v[s->n++] = seq;
	return ML_OK;
}

static int
cmp_seq(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* What one walk keeps: per model name, per version, its mark and the
 * entries that set it.  versions: name -> {ref -> state}; a state is
 * {"_d": deployed seq, "_r": retired seq, deployment, retirement}. */
struct walk {
	struct ml_evidence *v;
	const struct ml_live_opts *o;
	json_t *versions;
	struct ml_err *e;
};

static json_t *
time_str(int64_t us)
{
	char b[21];

	ml_time_format(us, b);
	return json_string(b);
}

static json_t *
str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

static void
mark_of(const json_t *st, struct ml_live_mark *m)
{
	m->deployed = json_integer_value(json_object_get(st, "_d"));
	m->retired = json_integer_value(json_object_get(st, "_r"));
}

/* Among name's versions live before this deployment (other than ref), the
 * one deployed last (rules.h, ml_live_pick): what the deployment replaces. */
static const json_t *
replaced(json_t *byref, const char *ref)
{
	const json_t *best = NULL;
	json_t *st;
	const char *k;
	struct ml_live_mark m, bm = ML_LIVE_MARK_INIT;

	json_object_foreach(byref, k, st) {
		mark_of(st, &m);
		if (strcmp(k, ref) && ml_live_pick(&bm, &m))
			best = st;
	}
	return best;
}

/* The entry's JSON, without its proof (added for deciding entries only). */
static json_t *
entry_json(uint64_t seq, const struct ml_statement *st, int64_t appended,
	   const struct ml_evidence_signer *by)
{
	json_t *x = json_object(), *who = json_object();
	const char *t = json_string_value(json_object_get(st->predicate, "time"));
	int64_t tu;

	json_object_set_new(x, "seq", json_integer((json_int_t)seq));
	json_object_set_new(x, "kind", json_string(ml_kind_name(st->kind)));
	json_object_set_new(x, "ref", json_string(st->subject));
	json_object_set(x, "environment", json_object_get(st->predicate, "environment"));
	json_object_set_new(x, "time", str_or_null(t));
	json_object_set_new(x, "appended", time_str(appended));
	json_object_set_new(x, "backdated",
			    json_boolean(t && ml_time_parse(t, &tu) == 0 &&
					 appended - tu > ML_TIMECHECK_PAST_US));
	json_object_set_new(who, "keyid", json_string(by->keyid));
	json_object_set_new(who, "person", json_string(by->person));
	json_object_set_new(who, "personName", str_or_null(by->person_name));
	json_object_set_new(x, "signer", who);
	return x;
}

/* Applies one verified deployment or retirement in the environment. */
static int
apply(struct walk *w, uint64_t seq, const struct ml_statement *st, json_t *x)
{
	char name[129], version[65];
	json_t *byref, *state;
	const json_t *prev;
	struct ml_live_mark m = ML_LIVE_MARK_INIT;

	if (ml_ref_split(st->subject, name, version) != 0)
		return ml_err_set(w->e, ML_EINTEGRITY, "entry %llu: bad subject",
				  (unsigned long long)seq);
	if (!(byref = json_object_get(w->versions, name))) {
		json_object_set_new(w->versions, name, json_object());
		byref = json_object_get(w->versions, name);
	}
	if (!(state = json_object_get(byref, st->subject))) {
		state = json_object();
		json_object_set_new(state, "_d", json_integer(-1));
		json_object_set_new(state, "_r", json_integer(-1));
		json_object_set_new(byref, st->subject, state);
	}
	if (st->kind == ML_KIND_DEPLOYMENT) {
		prev = replaced(byref, st->subject);
		json_object_set(x, "replaces", prev ? json_object_get(json_object_get(prev,
				"deployment"), "ref") : json_null());
		json_object_set(x, "replacesSeq", prev ? json_object_get(prev, "_d") : json_null());
	}
	mark_of(state, &m);
	ml_live_step(&m, st->kind, seq);
	json_object_set_new(state, "_d", json_integer(m.deployed));
	json_object_set_new(state, "_r", json_integer(m.retired));
	if (st->kind == ML_KIND_DEPLOYMENT) {
		json_object_set(state, "deployment", x);
		json_object_del(state, "retirement");
	} else if (json_object_get(state, "deployment")) {
		json_object_set(state, "retirement", x);
	}
	return ML_OK;
}

/* Reads entry seq (verified) and applies it when it is in the environment
 * and not after the time asked about.  *stop when it is after it: the
 * effective times never decrease along seq. */
static int
visit(struct walk *w, uint64_t seq, int *stop)
{
	struct ml_statement st;
	struct ml_evidence_signer by;
	const char *where;
	int64_t t;
	json_t *x;
	int rc;

	if ((rc = ml_evidence_signed(w->v, seq, &st, &t, &by)))
		return rc;
	if (w->o->at && t > w->o->at_us) {
		*stop = 1;
	} else if (st.kind == ML_KIND_DEPLOYMENT || st.kind == ML_KIND_RETIREMENT) {
		where = json_string_value(json_object_get(st.predicate, "environment"));
		if (where && !strcmp(where, w->o->env)) {
			x = entry_json(seq, &st, t, &by);
			rc = apply(w, seq, &st, x);
			json_decref(x);
		}
	}
	ml_statement_free(&st);
	return rc;
}

static int
add_proof(struct ml_ledger *l, json_t *x, struct ml_err *e)
{
	struct ml_buf b = {0};
	int rc;

	if (!json_is_object(x))
		return ML_OK;
	rc = ml_tlog_prove(l, (uint64_t)json_integer_value(json_object_get(x, "seq")), -1, &b,
			   e);
	if (rc == ML_OK)
		json_object_set_new(x, "proof", json_stringn((const char *)b.data, b.len));
	ml_buf_free(&b);
	return rc;
}

/* A version as the answer lists it, proofs added. */
static int
version_out(struct ml_ledger *l, const char *ref, const json_t *st, json_t *list,
	    struct ml_err *e)
{
	json_t *o = json_object(), *d = json_deep_copy(json_object_get(st, "deployment"));
	json_t *r = json_object_get(st, "retirement");
	int rc;

	r = r ? json_deep_copy(r) : json_null();
	json_object_set_new(o, "ref", json_string(ref));
	json_object_set_new(o, "deployment", d);
	json_object_set_new(o, "retirement", r);
	if ((rc = add_proof(l, d, e)) == ML_OK)
		rc = add_proof(l, r, e);
	json_array_append_new(list, o);
	return rc;
}

static json_int_t
num(const json_t *st, const char *k)
{
	return json_integer_value(json_object_get(st, k));
}

/* Live versions by their deployment, ascending. */
static int
by_deployment(const void *a, const void *b)
{
	json_int_t p = num(*(json_t *const *)a, "_d"), q = num(*(json_t *const *)b, "_d");

	return p < q ? -1 : p > q;
}

/* Ended versions by their retirement, latest first. */
static int
by_retirement(const void *a, const void *b)
{
	json_int_t p = num(*(json_t *const *)a, "_r"), q = num(*(json_t *const *)b, "_r");

	return p < q ? 1 : p > q ? -1 : 0;
}

static const char *
ref_of(const json_t *st)
{
	return json_string_value(json_object_get(json_object_get(st, "deployment"), "ref"));
}

/* live (by deployment seq) and ended (latest retirement first, at most
 * ML_LIVE_ENDED_MAX, endedTotal counting all) into out. */
static int
answer(struct ml_ledger *l, json_t *versions, json_t *out, struct ml_err *e)
{
	json_t *live = json_array(), *ended = json_array(), *byref, *st;
	json_t **lv = NULL, **en = NULL;
	const char *name, *ref;
	size_t cap = 0, nl = 0, ne = 0, i;
	struct ml_live_mark m;
	int rc = ML_OK;

	json_object_foreach(versions, name, byref)
		cap += json_object_size(byref);
	if (cap && (!(lv = calloc(cap, sizeof *lv)) || !(en = calloc(cap, sizeof *en))))
		rc = ml_err_set(e, ML_EIO, "out of memory");
	json_object_foreach(versions, name, byref)
		json_object_foreach(byref, ref, st) {
			mark_of(st, &m);
			if (rc == ML_OK && ml_live_is(&m))
				lv[nl++] = st;
			else if (rc == ML_OK && m.deployed >= 0)
				en[ne++] = st;
		}
	if (nl)
		qsort(lv, nl, sizeof *lv, by_deployment);
	if (ne)
		qsort(en, ne, sizeof *en, by_retirement);
	for (i = 0; rc == ML_OK && i < nl; i++)
		rc = version_out(l, ref_of(lv[i]), lv[i], live, e);
	for (i = 0; rc == ML_OK && i < ne && i < ML_LIVE_ENDED_MAX; i++)
		rc = version_out(l, ref_of(en[i]), en[i], ended, e);
	free(lv);
	free(en);
	json_object_set_new(out, "live", live);
	json_object_set_new(out, "ended", ended);
	json_object_set_new(out, "endedTotal", json_integer((json_int_t)ne));
	return rc;
}

/* ML_EINPUT with "did you mean" when a governed ledger does not declare
 * env. */
static int
env_declared(struct ml_ledger *l, const char *env, struct ml_err *e)
{
	struct ml_rules_state r = {0};
	int rc;

	if ((rc = ml_rules_state_load(&r, ml_ledger_store(l), e)) == ML_OK && r.governed)
		rc = ml_governance_check_env(r.gov, env, e);
	ml_rules_state_free(&r);
	return rc;
}

int
ml_live_query(struct ml_ledger *l, const struct ml_live_opts *o, json_t **out,
	      struct ml_err *e)
{
	struct ml_verify_opts vo = {0};
	struct ml_verify_result vr;
	struct ml_err undeclared;
	struct seqlist s = {0};
	struct walk w = {.o = o, .e = e};
	json_t *res = NULL;
	size_t i;
	int rc, stop = 0;

	ml_err_clear(&undeclared);
	if ((rc = env_declared(l, o->env, &undeclared)) && rc != ML_EINPUT) {
		*e = undeclared;
		return rc;
	}
	memset(&vr, 0, sizeof vr);
	if ((rc = ml_verify(l, &vo, &vr, e)))
		return rc;
	if ((rc = ml_evidence_open(l, o->at ? o->at_us : ml_now_us(),
				   ML_EVIDENCE_WHOLE | (o->at ? 0 : ML_EVIDENCE_HEAD), &w.v, e)))
		return rc;
	ml_evidence_trust_prefix(w.v, vr.entries, vr.head);
	rc = ml_store_query_seqs(ml_ledger_store(l), "deployment", NULL, NULL, 0, add_seq, &s, e);
	if (rc == ML_OK)
		rc = ml_store_query_seqs(ml_ledger_store(l), "retirement", NULL, NULL, 0, add_seq,
					 &s, e);
	if (s.oom)
		rc = ml_err_set(e, ML_EIO, "out of memory");
	if (rc == ML_OK) {
		qsort(s.v, s.n, sizeof *s.v, cmp_seq);
		w.versions = json_object();
	}
	for (i = 0; rc == ML_OK && !stop && i < s.n; i++)
		if (s.v[i] < ml_evidence_size(w.v))
			rc = visit(&w, s.v[i], &stop);
	/* not declared now and never deployed to: a typo, not history */
	if (rc == ML_OK && undeclared.code && !json_object_size(w.versions)) {
		*e = undeclared;
		rc = ML_EINPUT;
	}
	if (rc == ML_OK) {
		res = json_object();
		json_object_set_new(res, "environment", json_string(o->env));
		json_object_set_new(res, "at", o->at ? time_str(o->at_us) : json_null());
		json_object_set_new(res, "checkpoint", json_pack("{sI}", "size",
				    (json_int_t)ml_evidence_size(w.v)));
		rc = answer(l, w.versions, res, e);
	}
	json_decref(w.versions);
	free(s.v);
	ml_evidence_close(w.v);
	if (rc) {
		json_decref(res);
		return rc;
	}
	*out = res;
	return ML_OK;
}
