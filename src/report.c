/* report — see report.h.  One pass over the verified entries collects the
 * facts (scan_*), then the sections are derived from them (history, chains,
 * comparisons, cadence, people); report_policy.c adds the findings. */
#include "report_int.h"

#include <math.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "jsonarena.h"
#include "evidence.h"
#include "gate.h"
#include "governance.h"
#include "note.h"
#include "note_checkpoint.h"
#include "rules.h"
#include "statement.h"
#include "store.h"
#include "tlog.h"
#include "verify.h"

#define SCAN_STOP (-2)

static void strip(json_t *v);
static json_t *rp_shared(const struct rp *r, const char *s);
#define DAY_US ((int64_t)86400 * 1000000)

/* ---- small helpers ---------------------------------------------------- */

/* report_int.h; verify's threads' arenas too. */
void
rp_release_freed(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

void
rp_arena(const struct rp *r, int on)
{
	if (r->o->arena)
		ml_jsonarena_set(r->o->arena, on && !r->temp);
}

json_t *
rp_stow(struct rp *r, json_t *row)
{
	json_t *v, *c;

	if (!r->stow)
		return row; /* held: made where it is kept */
	if ((v = ml_report_stow(row)) != row || !r->o->arena)
		return v;
	c = json_deep_copy(row); /* kept in memory: into the arena */
	json_decref(row);
	return c;
}

/* A new reference to a value equal to v (NULL: null) from an entry's
 * statement, to keep in the model: v itself, or with an arena a copy made
 * there (the statements are parsed on malloc and freed entry by entry, and
 * a tree dropped with its arena must hold nothing from malloc).  Call it
 * with the arena on, or for a temporary (r->temp, released before the
 * statement is) off: v itself. */
static json_t *
rp_keep(const struct rp *r, json_t *v)
{
	if (!v)
		return json_null();
	return r->o->arena && !r->temp ? json_deep_copy(v) : json_incref(v);
}

json_t *
rp_str(const char *s)
{
	json_t *v;
	char *c;

	if (!s)
		return json_null();
	if ((v = json_string(s)))
		return v;
	c = ml_report_clean(s, strlen(s)); /* not UTF-8: replaced */
	v = c ? json_string(c) : NULL;
	free(c);
	return v ? v : json_null();
}

void
rp_pair_key(const char *ref, const char *env, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s\n%s", ref, env ? env : "");
}

static void
set_time(json_t *o, const char *key, int64_t us)
{
	char t[21];

	ml_time_format(us, t);
	json_object_set_new(o, key, json_string(t));
}

static int64_t
num_i(const json_t *o, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(o, key));
}

static const char *
str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void
digest_of(const uint8_t d[ML_SHA256_LEN], char out[72])
{
	memcpy(out, "sha256:", 7);
	ml_hex_encode(d, ML_SHA256_LEN, out + 7);
}

/* "sha256:0123456789ab…": short form for labels. */
static void
short_digest(const char *d, char out[32])
{
	snprintf(out, 32, "%.19s%s", d ? d : "", d && strlen(d) > 19 ? "\xe2\x80\xa6" : "");
}

/* A recorded gate decision's result, environment and policies (ID@VERSION). */
static void
gate_fields(const struct rp *r, json_t *o, const json_t *p)
{
	json_t *names = json_array(), *x;
	size_t i;
	json_t *ledger = json_object_get(p, "ledger");

	json_object_set_new(o, "environment", rp_keep(r, json_object_get(p, "environment")));
	json_object_set_new(o, "result", rp_keep(r, json_object_get(p, "verificationResult")));
	json_array_foreach(json_object_get(p, "policies"), i, x)
		json_array_append_new(names, rp_keep(r, json_object_get(x, "name")));
	json_object_set_new(o, "policies", names);
	json_object_set_new(o, "phase", rp_keep(r, json_object_get(p, "phase")));
	json_object_set_new(o, "parameters", rp_keep(r, json_object_get(p, "parameters")));
	json_object_set_new(o, "checkpointSize", rp_keep(r, json_object_get(ledger, "size")));
	json_object_set_new(o, "checkpointRoot", rp_keep(r, json_object_get(ledger, "root")));
	json_object_set_new(o, "findingsDigest",
			    rp_keep(r, json_object_get(json_object_get(json_object_get(p, "findings"),
								       "digest"), "sha256")));
	json_object_set_new(o, "replayable", json_boolean(ml_gate_replayable_shape(p)));
}

/* ---- the entries about each model version ------------------------------ */

/* One entry about a model version as the builder keeps it: what picks it
 * for a chain or the monitoring checks, and the entry: obj (owned), or with
 * r->stow its handle in the spool (report.h), obj NULL.  Evaluations,
 * approvals, gate decisions and monitoring checks are stowed: at a million
 * entries they are most of the ledger.  Incidents are shared with
 * inventory, so they are held. */
struct rp_fact {
	int64_t seq, t;
	json_t *env;  /* its "environment" (a string of r->strs), or NULL */
	json_t *obj;
	int64_t h;
};

enum { F_EVAL, F_APPROVAL, F_GATE, F_MON, F_INCIDENT, F_KINDS };

struct rp_factv {
	struct rp_fact *v;
	size_t n, cap;
};

/* A model version's entries by kind (F_*), in seq order, and whether one
 * of them (or the version itself) is in the period. */
struct rp_facts {
	struct rp_factv k[F_KINDS];
	int touched;
};

static struct rp_facts no_facts; /* for a version the scan could not keep */

/* The entries of a model version, created on first use.  The pointer is
 * valid until the next call (r->factv may move).  Out of memory: an empty
 * set that must not be changed (r->oom is set). */
static struct rp_facts *
facts_of(struct rp *r, const char *ref)
{
	json_t *ix = json_object_get(r->facts, ref), *n;
	struct rp_facts *v;
	struct ml_jsonarena was;

	if (ix)
		return &r->factv[json_integer_value(ix)];
	if (r->nfactv == r->capfactv) {
		size_t cap = r->capfactv ? 2 * r->capfactv : 256;
		if (!(v = realloc(r->factv, cap * sizeof *v)))
			goto oom;
		r->factv = v;
		r->capfactv = cap;
	}
	if (r->o->arena) /* the index is the build's */
		was = ml_jsonarena_set(r->o->arena, 1);
	n = json_integer((json_int_t)r->nfactv);
	if (n && json_object_set_new(r->facts, ref, n) == 0)
		n = json_object_get(r->facts, ref);
	else
		n = NULL;
	if (r->o->arena)
		ml_jsonarena_restore(was);
	if (!n)
		goto oom;
	memset(&r->factv[r->nfactv], 0, sizeof r->factv[0]);
	return &r->factv[r->nfactv++];
oom:
	r->oom = 1;
	memset(&no_facts, 0, sizeof no_facts);
	return &no_facts;
}

static void
facts_free(struct rp *r)
{
	size_t i, j, k;

	for (i = 0; i < r->nfactv; i++)
		for (k = 0; k < F_KINDS; k++) {
			struct rp_factv *fv = &r->factv[i].k[k];
			for (j = 0; j < fv->n; j++) {
				json_decref(fv->v[j].env);
				json_decref(fv->v[j].obj);
			}
			free(fv->v);
		}
	free(r->factv);
}

/* Keeps the entry o (taking the reference) as an entry of kind k of f:
 * stowed when r->stow and k is not F_INCIDENT (o is then a temporary,
 * made on malloc), else, or when the spool cannot take it, held. */
static void
fact_add(struct rp *r, struct rp_facts *f, int k, json_t *o, int64_t seq, int64_t t)
{
	struct rp_factv *fv = &f->k[k];
	struct rp_fact x = {.seq = seq, .t = t, .h = 0};
	const char *env = str(o, "environment");

	if (f == &no_facts || !o)
		goto oom;
	if (fv->n == fv->cap) {
		size_t cap = fv->cap ? 2 * fv->cap : 4;
		struct rp_fact *v = realloc(fv->v, cap * sizeof *v);
		if (!v)
			goto oom;
		fv->v = v;
		fv->cap = cap;
	}
	if (env && !(x.env = rp_shared(r, env)))
		goto oom;
	if (r->stow && k != F_INCIDENT && ml_report_stow_handle(o, &x.h) == ML_OK)
		json_decref(o);
	else
		x.obj = o; /* not stowed: held (facts_free releases it) */
	fv->v[fv->n++] = x;
	return;
oom:
	r->oom = 1;
	json_decref(o);
}

/* The entry x as an object (new reference): x->obj, or read back. */
static json_t *
fact_get(struct rp *r, const struct rp_fact *x)
{
	json_t *o = x->obj ? json_incref(x->obj) : ml_report_unstow(x->h);

	if (!o)
		r->oom = 1;
	return o;
}

/* metrics as "k=v, k=v" for labels. */
static void
metrics_text(struct ml_buf *b, json_t *metrics)
{
	char *c = ml_report_cell(metrics, NULL);

	ml_buf_puts(b, c ? c : "");
	free(c);
}

static json_t *
label_new(struct ml_buf *b)
{
	json_t *v;

	ml_buf_append(b, "", 1);
	v = b->oom ? json_null() : rp_str((const char *)b->data);
	ml_buf_free(b);
	return v;
}

/* ---- one pass over the entries ------------------------------------------ */

struct scanned {
	uint64_t seq;
	int64_t t;              /* author time, µs */
	const char *time;       /* author time as written */
	const char *keyid;
	char author[ML_KEYID_MAX];
	const struct ml_statement *st;
	int in_period;
};

/* A JSON string of s as rp_str gives it, one value per text for the whole
 * build (r->strs): for the texts repeated over many entries and rows
 * (authors, key ids, model versions, metric names).  New reference; NULL
 * only when out of memory (s NULL: null).  A text that cannot be a key
 * (not UTF-8) is not shared. */
static json_t *
rp_shared(const struct rp *r, const char *s)
{
	json_t *v;

	if (!s)
		return json_null();
	struct ml_jsonarena was;

	if ((v = json_object_get(r->strs, s)))
		return json_incref(v);
	if (r->o->arena) /* kept for the whole build, even from a temporary */
		was = ml_jsonarena_set(r->o->arena, 1);
	if ((v = rp_str(s)))
		json_object_set(r->strs, s, v);
	if (r->o->arena)
		ml_jsonarena_restore(was);
	return v;
}

/* The common members: seq, time, author (and _t). */
static json_t *
base_obj(struct rp *r, const struct scanned *x)
{
	json_t *o = json_object();

	json_object_set_new(o, "seq", json_integer((json_int_t)x->seq));
	json_object_set_new(o, "time", rp_str(x->time));
	json_object_set_new(o, "author", rp_shared(r, x->author));
	json_object_set_new(o, "authorKey", rp_shared(r, x->keyid));
	json_object_set_new(o, "_t", json_integer(x->t));
	return o;
}

static void
copy_member(const struct rp *r, json_t *to, const json_t *pred, const char *key)
{
	json_object_set_new(to, key, rp_keep(r, json_object_get(pred, key)));
}

/* ---- model versions and datasets -------------------------------------- */

/* r->models and r->datasets map a ref to the version's object (with its
 * builder members, "_t", "_inPeriod"), or with r->stow to the handle of
 * its record in the spool (a JSON integer). */

/* Puts o (taking the reference) into map under ref, as rp_stow keeps a
 * row: its handle with r->stow (o is then a temporary, made with
 * r->temp), else o.  Call it with r->temp still as o was made. */
static void
keep_version(struct rp *r, json_t *map, const char *ref, json_t *o)
{
	int temp = r->temp;

	r->temp = 0;
	rp_arena(r, 1); /* what the map holds is the build's */
	json_object_set_new(map, ref, rp_stow(r, o));
	r->temp = temp;
	rp_arena(r, 1);
}

/* The object map holds for ref (a new reference: read back when stowed,
 * a temporary), or NULL when there is none (or it does not read back:
 * r->oom is then set). */
static json_t *
version_of(struct rp *r, const json_t *map, const char *ref)
{
	const json_t *v = ref ? json_object_get(map, ref) : NULL;
	json_t *o;

	if (!v)
		return NULL;
	if (!json_is_integer(v))
		return json_incref((json_t *)(uintptr_t)v);
	if (!(o = ml_report_unstow(json_integer_value(v))))
		r->oom = 1;
	return o;
}

static void
scan_model(struct rp *r, const struct scanned *x)
{
	const json_t *p = x->st->predicate;
	json_t *o, *ds, *d;
	char dg[72], name[129], version[65];
	size_t i;

	if (json_object_get(r->models, x->st->subject))
		return; /* the first recording of a version is the one shown */
	r->temp = r->stow;
	rp_arena(r, 1);
	o = base_obj(r, x);
	ds = json_array();

	digest_of(x->st->digest, dg);
	ml_ref_split(x->st->subject, name, version);
	json_object_set_new(o, "ref", rp_str(x->st->subject));
	json_object_set_new(o, "name", rp_str(name));
	json_object_set_new(o, "version", rp_str(version));
	json_object_set_new(o, "digest", json_string(dg));
	json_array_foreach(json_object_get(p, "datasets"), i, d)
		json_array_append_new(ds, rp_keep(r, json_object_get(d, "name")));
	json_object_set_new(o, "datasets", ds);
	json_object_set_new(o, "parent", rp_keep(r, json_object_get(json_object_get(p, "parent"),
								     "name")));
	d = json_object_get(p, "metrics");
	json_object_set_new(o, "metrics", d ? json_deep_copy(d) : json_object());
	copy_member(r, o, p, "properties");
	keep_version(r, r->models, x->st->subject, o);
	r->temp = 0;
	rp_arena(r, 1);
}

static void
scan_dataset(struct rp *r, const struct scanned *x)
{
	const json_t *p = x->st->predicate, *props = json_object_get(p, "properties");
	json_t *o;
	char dg[72];

	if (json_object_get(r->datasets, x->st->subject))
		return; /* the same bytes recorded again */
	r->temp = r->stow;
	rp_arena(r, 1);
	o = base_obj(r, x);
	digest_of(x->st->digest, dg);
	json_object_set_new(o, "ref", rp_str(x->st->subject));
	json_object_set_new(o, "digest", json_string(dg));
	copy_member(r, o, props, "license");
	copy_member(r, o, props, "pii");
	copy_member(r, o, props, "dpia");
	copy_member(r, o, p, "uri");
	copy_member(r, o, p, "properties");
	json_object_set_new(o, "_inPeriod", json_boolean(x->in_period));
	keep_version(r, r->datasets, x->st->subject, o);
	r->temp = 0;
	rp_arena(r, 1);
}

/* Entries about a model version: evaluation ... incident. */
/* Whether a verified decision replays (gate.h): "replayed" true, or false
 * with "replayError".  Unverified entries are not replayed. */
static void
replay_into(struct rp *r, const struct scanned *x, json_t *o)
{
	struct ml_err e;
	int rc = ML_OK;

	ml_err_clear(&e);
	if (x->seq >= r->verified || !json_is_true(json_object_get(o, "replayable")))
		return;
	rp_arena(r, 0); /* the replayer's values are its own: malloc */
	if (!r->replayer) {
		if (!r->replay)
			rc = ml_ledger_open(ml_store_path(r->s), 0, &r->replay, &e);
		if (rc == ML_OK && (rc = ml_gate_replayer_new(r->replay, &r->replayer, &e)) == ML_OK)
			/* the report's full verify checked every entry below r->verified */
			ml_gate_replayer_trust(r->replayer, r->verified, r->verified_head);
	}
	if (rc == ML_OK)
		rc = ml_gate_replayer_run(r->replayer, x->st, &e);
	rp_arena(r, 1);
	if (rc == ML_OK) {
		json_object_set_new(o, "replayed", json_true());
	} else {
		json_object_set_new(o, "replayed", json_false());
		json_object_set_new(o, "replayError", rp_str(e.msg));
	}
}

/* "replayStatus" of a gate decision object, from what replay_into set:
 * "same result", "differs" (gate.c: "... does not replay: ..."), "could
 * not replay" (any other error: "cannot be replayed", a policy entry or
 * storage error), "not replayed" (an unverified entry) or "not
 * replayable" (its shape admits no deployment). */
static void
replay_status(json_t *o)
{
	const json_t *done = json_object_get(o, "replayed");
	const char *err = str(o, "replayError");
	const char *st = json_is_true(done) ? "same result"
		       : json_is_false(done) ? (err && strstr(err, "does not replay")
						? "differs" : "could not replay")
		       : json_is_true(json_object_get(o, "replayable")) ? "not replayed"
		       : "not replayable";

	json_object_set_new(o, "replayStatus", json_string(st));
}

/* The kind of fact an entry about a model version is, or -1 (waiver,
 * deployment, retirement: kept elsewhere). */
static int
fact_kind(enum ml_kind k)
{
	switch (k) {
	case ML_KIND_EVALUATION: return F_EVAL;
	case ML_KIND_APPROVAL: return F_APPROVAL;
	case ML_KIND_MONITORING: return F_MON;
	case ML_KIND_INCIDENT: return F_INCIDENT;
	case ML_KIND_GATE: return F_GATE;
	default: return -1;
	}
}

/* The entry's object: the common members and its kind's. */
static json_t *
about_obj(struct rp *r, const struct scanned *x)
{
	const json_t *p = x->st->predicate;
	json_t *o = base_obj(r, x);
	char dg[72];
	static const char *const plain[] = {"environment", "decision", "comment", "rule",
					    "expires", "reason", "ticket", "severity",
					    "description", NULL};
	size_t i;

	json_object_set_new(o, "ref", rp_shared(r, x->st->subject));
	for (i = 0; plain[i]; i++)
		if (json_object_get(p, plain[i]))
			copy_member(r, o, p, plain[i]);
	if (json_object_get(p, "metrics"))
		copy_member(r, o, p, "metrics");
	switch (x->st->kind) {
	case ML_KIND_EVALUATION:
		json_object_set_new(o, "dataset",
				    rp_keep(r, json_object_get(json_object_get(p, "dataset"), "name")));
		break;
	case ML_KIND_APPROVAL:
		digest_of(x->st->digest, dg);
		json_object_set_new(o, "keyid", rp_shared(r, x->keyid));
		json_object_set(o, "roles", json_object_get(r->roles, x->keyid) ?: json_null());
		json_object_set_new(o, "digest", json_string(dg));
		break;
	case ML_KIND_GATE: /* a recorded gate decision (SLSA VSA) */
		gate_fields(r, o, p);
		replay_into(r, x, o);
		replay_status(o);
		break;
	case ML_KIND_MONITORING:
	case ML_KIND_INCIDENT:
	case ML_KIND_WAIVER:
		break;
	default: /* deployment, retirement */
		json_object_set_new(o, "kind", json_string(ml_kind_name(x->st->kind)));
		break;
	}
	return o;
}

/* Entries about a model version: evaluation ... incident.  Those stowed
 * (fact_add) are made as temporaries, on malloc. */
static void
scan_about_model(struct rp *r, const struct scanned *x)
{
	int k = fact_kind(x->st->kind);
	struct rp_facts *f = facts_of(r, x->st->subject);
	json_t *o;

	if (x->in_period && f != &no_facts)
		f->touched = 1;
	/* stowed later: entries of a kind fact_add stows; deployments and
	 * retirements (deps_settle) */
	r->temp = r->stow && k != F_INCIDENT && x->st->kind != ML_KIND_WAIVER;
	rp_arena(r, 1);
	o = about_obj(r, x);
	if (k >= 0) {
		if (k == F_INCIDENT)
			json_array_append(r->incidents, o);
		fact_add(r, f, k, o, (int64_t)x->seq, x->t);
	} else {
		json_array_append_new(x->st->kind == ML_KIND_WAIVER ? r->waivers : r->events, o);
	}
	r->temp = 0;
	rp_arena(r, 1);
}

/* The identity claims of an enrolment's person (FORMAT.md §2: employeeId,
 * email, x509, oidc), as one line for people ("employee E-1042,
 * alice@example.com, x509 sha256:..., oidc ISS SUB"), or NULL when it has
 * none.  The verified entry's values (statement.c checked their shape). */
static json_t *
identity_of(const json_t *who)
{
	const json_t *oidc = json_object_get(who, "oidc");
	struct ml_buf b = {0};
	const char *v;
	json_t *out;

	if ((v = str(who, "employeeId")))
		ml_buf_printf(&b, "employee %s", v);
	if ((v = str(who, "email")))
		ml_buf_printf(&b, "%s%s", b.len ? ", " : "", v);
	if ((v = str(who, "x509")))
		ml_buf_printf(&b, "%sx509 %s", b.len ? ", " : "", v);
	if (str(oidc, "iss") && str(oidc, "sub"))
		ml_buf_printf(&b, "%soidc %s %s", b.len ? ", " : "", str(oidc, "iss"),
			      str(oidc, "sub"));
	out = b.len && !b.oom ? json_stringn((const char *)b.data, b.len) : json_null();
	ml_buf_free(&b);
	return out ? out : json_null();
}

/* The person of an enrolled key (FORMAT.md §2: the key's name unless the
 * enrolment names one), into the event o and r->persons, so that entries
 * are labelled with people, not keys. */
static void
note_person(struct rp *r, json_t *o, const char *vkey, const json_t *pred)
{
	json_t *who = json_object_get(pred, "person");
	const char *id = str(who, "id"), *display = str(who, "name");
	struct ml_pubkey pk;
	char keyid[ML_KEYID_MAX];
	json_t *rec;

	if (!vkey || ml_pubkey_parse(vkey, strlen(vkey), &pk, NULL) != ML_OK)
		return;
	ml_pubkey_keyid(&pk, keyid);
	if (!id)
		id = pk.name;
	json_object_set_new(o, "person", rp_str(id));
	json_object_set_new(o, "personName", rp_str(display));
	json_object_set_new(o, "identity", identity_of(who));
	rec = json_pack("{s:s, s:O, s:s}", "person", id, "personName",
			json_object_get(o, "personName"), "label", display ? display : id);
	if (rec)
		json_object_set_new(r->persons, keyid, rec);
}

static void
scan_key(struct rp *r, const struct scanned *x)
{
	const json_t *p = x->st->predicate;
	json_t *o = base_obj(r, x);
	const char *ev = x->st->kind == ML_KIND_KEY_REVOCATION ? "revocation" : "enrolment";
	const char *key = x->st->kind == ML_KIND_GENESIS ? str(p, "admin") : str(p, "key");
	char name[ML_VKEY_MAX];

	snprintf(name, sizeof name, "%s", key ? key : "");
	name[strcspn(name, "+")] = '\0';
	json_object_set_new(o, "event", json_string(x->st->kind == ML_KIND_GENESIS
						    ? "enrolment (genesis)" : ev));
	json_object_set_new(o, "key", rp_str(name));
	if (x->st->kind != ML_KIND_KEY_REVOCATION)
		note_person(r, o, key, p);
	if (x->st->kind == ML_KIND_GENESIS)
		json_object_set_new(o, "roles", json_string("admin"));
	else if (json_is_array(json_object_get(p, "roles"))) {
		struct ml_buf b = {0};
		json_t *v;
		size_t i;
		json_array_foreach(json_object_get(p, "roles"), i, v)
			ml_buf_printf(&b, "%s%s", i ? "," : "", json_string_value(v));
		json_object_set_new(o, "roles", label_new(&b));
	} else {
		json_object_set_new(o, "roles", json_null());
	}
	copy_member(r, o, p, "reason");
	json_object_set_new(o, "_inPeriod", json_boolean(x->in_period));
	json_array_append_new(r->keyev, o);
}

/* A governance document read in seq order replaces the one in force; one
 * that does not parse (an unverified ledger) leaves it. */
static void
scan_governance(struct rp *r, const char *text)
{
	struct ml_governance *g;
	struct ml_err e;

	if (text && ml_governance_parse(text, strlen(text), &g, &e) == ML_OK) {
		ml_governance_free(r->gov);
		r->gov = g;
	}
}

static void
scan_statement(struct rp *r, struct scanned *x)
{
	/* a gate decision (SLSA VSA) dates itself with timeVerified */
	const json_t *t = json_object_get(x->st->predicate, x->st->kind == ML_KIND_GATE
								? "timeVerified" : "time");

	x->time = json_string_value(t);
	if (!x->time || ml_time_parse(x->time, &x->t) != 0)
		x->time = "", x->t = 0;
	x->in_period = x->t >= r->o->from_us && x->t < r->o->to_us;
	r->considered++;
	if (x->in_period) {
		if (r->first_seq < 0)
			r->first_seq = (long long)x->seq;
		r->last_seq = (long long)x->seq;
		r->in_period++;
	}
	switch (x->st->kind) {
	case ML_KIND_MODEL: {
		struct rp_facts *f;
		scan_model(r, x);
		f = facts_of(r, x->st->subject);
		if (x->in_period && f != &no_facts)
			f->touched = 1;
		break;
	}
	case ML_KIND_DATASET:
		scan_dataset(r, x);
		break;
	case ML_KIND_GENESIS:
		scan_governance(r, str(x->st->predicate, "governance"));
		scan_key(r, x);
		break;
	case ML_KIND_KEY_ENROLLMENT:
	case ML_KIND_KEY_REVOCATION:
		scan_key(r, x);
		break;
	case ML_KIND_GOVERNANCE:
		scan_governance(r, str(x->st->predicate, "document"));
		break;
	case ML_KIND_CLOCK_CORRECTION:
	case ML_KIND_POLICY:
	case ML_KIND_REPORT:
		break; /* about the ledger, its rules or its reports, not a model */
	default:
		scan_about_model(r, x);
		break;
	}
}

static int
scan_entry(void *ctx, const struct ml_entry *en, const uint8_t leaf[ML_SHA256_LEN],
	   const struct ml_index_row *ix, int has_ix)
{
	struct rp *r = ctx;
	struct ml_envelope env;
	struct ml_statement st;
	struct scanned x;
	int rc;

	(void)leaf, (void)ix, (void)has_ix;
	if (en->seq >= r->limit)
		return SCAN_STOP;
	if (en->time_us > r->o->as_of_us)
		return 0;
	/* the parse dies with the entry: malloc (what is kept is copied, rp_keep) */
	rp_arena(r, 0);
	rc = ml_envelope_parse(en->envelope, en->envelope_len, &env, NULL);
	if (rc == ML_OK && (rc = ml_statement_parse(env.payload, env.payload_len, &st, NULL)))
		ml_envelope_clear(&env);
	rp_arena(r, 1);
	if (rc != ML_OK) {
		json_array_append_new(r->unreadable, json_integer((json_int_t)en->seq));
		return 0;
	}
	memset(&x, 0, sizeof x);
	x.seq = en->seq;
	x.keyid = env.keyid;
	x.st = &st;
	snprintf(x.author, sizeof x.author, "%s", env.keyid);
	x.author[strcspn(x.author, "+")] = '\0';
	if (str(json_object_get(r->persons, env.keyid), "label"))
		snprintf(x.author, sizeof x.author, "%s",
			 str(json_object_get(r->persons, env.keyid), "label"));
	scan_statement(r, &x);
	ml_statement_free(&st);
	ml_envelope_clear(&env);
	return 0;
}

static int
collect_role(void *ctx, const struct ml_key_row *row)
{
	struct rp *r = ctx;

	json_object_set_new(r->roles, row->keyid, rp_str(row->roles));
	return 0;
}

static int
scan(struct rp *r)
{
	int rc;

	if ((rc = ml_store_key_each(r->s, collect_role, r, r->e)))
		return rc;
	rc = ml_store_scan(r->s, 0, scan_entry, r, r->e);
	return rc == SCAN_STOP ? ML_OK : rc;
}

/* ---- production history ---------------------------------------------- */

static void
end_deployment(json_t *d, const json_t *by, const char *why)
{
	struct ml_buf b = {0};

	if (json_object_get(d, "_end"))
		return;
	json_object_set_new(d, "_end", json_integer(num_i(by, "_t")));
	json_object_set(d, "end", json_object_get(by, "time"));
	json_object_set(d, "endSeq", json_object_get(by, "seq"));
	ml_buf_printf(&b, "%s %s (seq %lld)", why, str(by, "ref"), (long long)num_i(by, "seq"));
	json_object_set_new(d, "endReason", label_new(&b));
}

/* Production history follows FORMAT.md §5 rule 11 through rules.h's
 * ml_live_step / ml_live_is, as live.c does: a deployment of ref in env stays
 * in service until a retirement of ref in env.  Deploying another version
 * beside it ends nothing (its "replaces" only names the version of the same
 * model in service there before it, the one deployed last); a re-deployment
 * of ref in env ends the earlier row ("redeployed:") while ref stays in
 * service through the later one.  live maps "name\nenv" -> ref -> state
 * {"_d","_r": the mark, "dep": the row in service} for the refs in service
 * there (a retired ref's state is dropped). */
static void
state_mark(const json_t *st, struct ml_live_mark *m)
{
	m->deployed = json_integer_value(json_object_get(st, "_d"));
	m->retired = json_integer_value(json_object_get(st, "_r"));
}

static json_t *
history_state(json_t *live, const char *ref, const char *env)
{
	char key[400], name[129], version[65];
	json_t *byref, *st;

	ml_ref_split(ref, name, version);
	snprintf(key, sizeof key, "%s\n%s", name, env ? env : "");
	if (!(byref = json_object_get(live, key))) {
		json_object_set_new(live, key, json_object());
		byref = json_object_get(live, key);
	}
	if (!(st = json_object_get(byref, ref))) {
		st = json_pack("{s:I, s:I}", "_d", (json_int_t)-1, "_r", (json_int_t)-1);
		json_object_set_new(byref, ref, st);
	}
	return byref;
}

/* The version of ref's model in service in byref before this deployment,
 * other than ref: the one deployed last (rules.h, ml_live_pick). */
static const json_t *
history_replaced(json_t *byref, const char *ref)
{
	const json_t *best = NULL;
	json_t *st;
	const char *k;
	struct ml_live_mark m, bm = ML_LIVE_MARK_INIT;

	json_object_foreach(byref, k, st) {
		state_mark(st, &m);
		if (strcmp(k, ref) && ml_live_pick(&bm, &m))
			best = json_object_get(st, "dep");
	}
	return best;
}

/* live's states are temporaries (malloc); what is set on ev, the build's
 * (the arena, rp_arena). */
static void
history_event(struct rp *r, json_t *live, json_t *ev)
{
	const char *ref = str(ev, "ref");
	json_t *byref = history_state(live, ref, str(ev, "environment"));
	json_t *st = json_object_get(byref, ref), *cur = json_object_get(st, "dep");
	const json_t *prev;
	struct ml_live_mark m;
	int retire = !strcmp(str(ev, "kind"), "retirement");

	state_mark(st, &m);
	rp_arena(r, 1);
	if (ml_live_is(&m) && cur)
		end_deployment(cur, ev, retire ? "retired:" : "redeployed:");
	if (!retire && (prev = history_replaced(byref, ref))) {
		json_object_set(ev, "replaces", json_object_get(prev, "ref"));
		json_object_set(ev, "replacesSeq", json_object_get(prev, "seq"));
	}
	rp_arena(r, 0);
	ml_live_step(&m, retire ? ML_KIND_RETIREMENT : ML_KIND_DEPLOYMENT,
		     (uint64_t)num_i(ev, "seq"));
	if (!ml_live_is(&m)) {
		/* Retired: as if never deployed for what follows, so byref
		 * holds only versions in service and the scan above stays
		 * short. */
		json_object_del(byref, ref);
		return;
	}
	json_object_set_new(st, "_d", json_integer(m.deployed));
	json_object_set_new(st, "_r", json_integer(m.retired));
	json_object_set(st, "dep", ev);
}

/* Deployments in scope: made before the period ends and not ended before it
 * starts. */
static int
in_scope(const struct rp *r, const json_t *d)
{
	const json_t *end = json_object_get(d, "_end");

	return num_i(d, "_t") < r->o->to_us &&
	       (!end || json_integer_value(end) >= r->o->from_us);
}

static json_t *
history(struct rp *r, json_t **retirements)
{
	json_t *live, *ev, *out = json_array();
	size_t i;

	*retirements = json_array();
	r->temp = r->stow; /* the events are temporaries then (deps_settle) */
	rp_arena(r, 0);
	live = json_object();
	json_array_foreach(r->events, i, ev)
		history_event(r, live, ev);
	json_decref(live);
	rp_arena(r, 1); /* what is set on the events: where they are made */
	json_array_foreach(r->events, i, ev) {
		int retire = !strcmp(str(ev, "kind"), "retirement");
		int64_t t = num_i(ev, "_t");
		json_t *to = NULL;
		if (retire && t >= r->o->from_us && t < r->o->to_us)
			to = *retirements;
		else if (!retire && in_scope(r, ev)) {
			if (!json_object_get(ev, "replaces"))
				json_object_set_new(ev, "replaces", json_null());
			if (!json_object_get(ev, "end")) {
				json_object_set_new(ev, "end", json_null());
				json_object_set_new(ev, "endReason", json_string("in service"));
			}
			to = out;
		}
		if (to) { /* the lists are the build's: in the arena */
			r->temp = 0;
			rp_arena(r, 1);
			json_array_append(to, ev);
			r->temp = r->stow;
			rp_arena(r, 1);
		}
	}
	r->temp = 0;
	rp_arena(r, 1);
	return out;
}

/* What the phases after history read of a deployment that is not a row's
 * member: its author time ("_t") and, when it ended, the end's ("_end"). */
struct rp_dep {
	int64_t t, end;
	int ended;
};

/* Each row of rows stripped and stowed in place (a row the spool does not
 * take is copied into the arena: rp_stow).  Arena on. */
static void
stow_rows(struct rp *r, json_t *rows)
{
	json_t *d;
	size_t i;

	json_array_foreach(rows, i, d) {
		strip(d);
		json_array_set_new(rows, i, rp_stow(r, json_incref(d)));
	}
}

/* r->dep from r->deployments; then, with r->stow, the deployments and the
 * retirements stowed and the scan's events (temporaries) released: at 1M
 * entries they were 170 MB held through the policy sweep.  ML_OK or ML_EIO. */
static int
deps_settle(struct rp *r, json_t *retirements)
{
	size_t i, n = json_array_size(r->deployments);
	json_t *d, *end;

	if (!(r->dep = calloc(n + 1, sizeof *r->dep)))
		return ml_err_set(r->e, ML_EIO, "out of memory");
	json_array_foreach(r->deployments, i, d) {
		r->dep[i].t = num_i(d, "_t");
		if ((end = json_object_get(d, "_end"))) {
			r->dep[i].ended = 1;
			r->dep[i].end = json_integer_value(end);
		}
	}
	if (r->stow) {
		stow_rows(r, r->deployments);
		stow_rows(r, retirements);
		json_array_clear(r->events);
	}
	return ML_OK;
}

/* ---- per-deployment evidence chains ------------------------------------ */

/* Sets o's "label" (printf-style) and returns o. */
static json_t *
labelled(json_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *
labelled(json_t *o, const char *fmt, ...)
{
	char small[512], *big = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof small && (big = malloc((size_t)n + 1))) {
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	json_object_set_new(o, "label", rp_str(big ? big : small));
	free(big);
	return o;
}

static json_t *
chain_datasets(struct rp *r, const json_t *m)
{
	json_t *out = json_array(), *ref;
	size_t i;

	json_array_foreach(json_object_get(m, "datasets"), i, ref) {
		json_t *d = version_of(r, r->datasets, json_string_value(ref));
		json_t *o = json_object();
		char sd[32], seq[32] = "?";
		short_digest(d ? str(d, "digest") : NULL, sd);
		if (d)
			snprintf(seq, sizeof seq, "%lld", (long long)num_i(d, "seq"));
		json_object_set(o, "ref", ref);
		json_object_set(o, "seq", d ? json_object_get(d, "seq") : json_null());
		json_object_set(o, "digest", d ? json_object_get(d, "digest") : json_null());
		json_array_append_new(out, labelled(o, "%s (seq %s, %s)", json_string_value(ref),
						    seq, sd));
		json_decref(d);
	}
	return out;
}

/* The entries of fv (seq order) for env (NULL: any) with lo < seq < hi,
 * and, when end_us >= 0, dated before end_us: a new array of new
 * references (stowed ones read back: temporaries). */
static json_t *
pick(struct rp *r, const struct rp_factv *fv, const char *env, int64_t lo, int64_t hi,
     int64_t end_us)
{
	json_t *out = json_array(), *o;
	size_t i;

	for (i = 0; i < fv->n; i++) {
		const struct rp_fact *x = &fv->v[i];
		if (x->seq <= lo || x->seq >= hi || (end_us >= 0 && x->t >= end_us))
			continue;
		if (env && strcmp(env, x->env ? json_string_value(x->env) : ""))
			continue;
		if ((o = fact_get(r, x)))
			json_array_append_new(out, o);
	}
	return out;
}

/* A recorded gate decision for people: "PASSED at TIME by WHO under
 * production@1.1.0, every rule, on checkpoint 13; parameters production:
 * k=v, ...; replay: same result". */
static void
gate_label(struct ml_buf *b, json_t *x)
{
	char *pol = ml_report_cell(json_object_get(x, "policies"), NULL);
	json_t *params = json_object_get(x, "parameters"), *v;
	const char *k, *st = str(x, "replayStatus");
	size_t n = 0;

	ml_buf_printf(b, ": %s at %s by %s under %s, %s, on checkpoint %lld", str(x, "result"),
		      str(x, "time"), str(x, "author"), pol && *pol ? pol : "no policy",
		      str(x, "phase") ? str(x, "phase") : "every rule",
		      (long long)num_i(x, "checkpointSize"));
	free(pol);
	json_object_foreach(params, k, v) {
		char *c = ml_report_cell(v, NULL);
		ml_buf_printf(b, "%s%s: %s", n++ ? "; " : "; parameters ", k, c ? c : "");
		free(c);
	}
	if (!n)
		ml_buf_puts(b, "; no parameters");
	ml_buf_printf(b, "; replay: %s", st ? st : "-");
	if (st && (!strcmp(st, "differs") || !strcmp(st, "could not replay")))
		ml_buf_printf(b, " (%s)", str(x, "replayError") ? str(x, "replayError") : "");
	else if (st && !strcmp(st, "not replayed"))
		ml_buf_puts(b, " (the ledger failed verification before this entry)");
	else if (st && !strcmp(st, "not replayable"))
		ml_buf_puts(b, " (its shape admits no deployment)");
}

/* Gives each entry of a chain list its one-line label. */
static void
label_entries(json_t *list, const char *kind)
{
	json_t *x;
	size_t i;

	json_array_foreach(list, i, x) {
		struct ml_buf b = {0};
		char sd[32];
		if (json_object_get(x, "label"))
			continue; /* shared with an earlier chain */
		ml_buf_printf(&b, "seq %lld", (long long)num_i(x, "seq"));
		if (!strcmp(kind, "approval")) {
			short_digest(str(x, "digest"), sd);
			ml_buf_printf(&b, ": %s (%s) %s at %s, bound to %s", str(x, "author"),
				      str(x, "roles") ? str(x, "roles") : "-", str(x, "decision"),
				      str(x, "time"), sd);
			if (str(x, "comment"))
				ml_buf_printf(&b, ": \"%s\"", str(x, "comment"));
		} else if (!strcmp(kind, "gate")) {
			gate_label(&b, x);
		} else if (!strcmp(kind, "incident")) {
			ml_buf_printf(&b, ": %s, %s", str(x, "severity"), str(x, "description"));
		} else {
			ml_buf_printf(&b, " at %s by %s: ", str(x, "time"), str(x, "author"));
			metrics_text(&b, json_object_get(x, "metrics"));
		}
		json_object_set_new(x, "label", label_new(&b));
	}
}

/* label_entries on member `member` of chain c; temp: its entries are
 * temporaries (labelled on malloc), else they are held and shared (their
 * labels made in the arena, where they are kept). */
static void
label_list(struct rp *r, json_t *c, const char *member, const char *kind, int temp)
{
	if (!temp && r->o->arena)
		ml_jsonarena_set(r->o->arena, 1);
	label_entries(json_object_get(c, member), kind);
	rp_arena(r, 1);
}

/* The seq that ended a deployment (retirement, re-deployment), or the
 * largest seq there can be. */
static int64_t
end_seq(const json_t *d)
{
	const json_t *s = json_object_get(d, "endSeq");

	return json_is_integer(s) ? json_integer_value(s) : INT64_MAX;
}

static json_t *
chain_of(struct rp *r, json_t *d)
{
	const char *ref = str(d, "ref"), *env = str(d, "environment");
	json_t *m = version_of(r, r->models, ref);
	const struct rp_facts *f = facts_of(r, ref);
	int64_t dseq = num_i(d, "seq");
	json_t *c = json_object(), *mo = json_object(), *pair;
	char key[400], seq[32], sd[32];

	json_object_set(c, "deploymentSeq", json_object_get(d, "seq"));
	json_object_set(c, "ref", json_object_get(d, "ref"));
	json_object_set(c, "environment", json_object_get(d, "environment"));
	json_object_set(c, "time", json_object_get(d, "time"));
	json_object_set(c, "digest", m ? json_object_get(m, "digest") : json_null());
	json_object_set_new(c, "datasets", m ? chain_datasets(r, m) : json_array());
	snprintf(seq, sizeof seq, "%lld", m ? (long long)num_i(m, "seq") : -1LL);
	short_digest(m ? str(m, "digest") : NULL, sd);
	json_object_set(mo, "seq", m ? json_object_get(m, "seq") : json_null());
	json_object_set(mo, "digest", m ? json_object_get(m, "digest") : json_null());
	json_object_set(mo, "authorKey", m ? json_object_get(m, "authorKey") : json_null());
	json_object_set_new(c, "model", labelled(mo, "seq %s, %s, by %s", seq, sd,
						  m ? str(m, "author") : "?"));
	json_object_set_new(c, "evaluations", pick(r, &f->k[F_EVAL], NULL, -1, dseq, -1));
	json_object_set_new(c, "approvals", pick(r, &f->k[F_APPROVAL], env, -1, dseq, -1));
	json_object_set_new(c, "gateDecisions", pick(r, &f->k[F_GATE], env, -1, dseq, -1));
	rp_pair_key(ref, env, key, sizeof key);
	pair = json_object_get(r->pairs, key);
	json_object_set(c, "gate", pair ? pair : json_null());
	snprintf(seq, sizeof seq, "%lld", (long long)dseq);
	json_object_set_new(c, "deployment", labelled(json_pack("{s:O}", "authorKey",
								json_object_get(d, "authorKey") ?: json_null()),
						       "seq %s at %s by %s", seq,
						       str(d, "time"), str(d, "author")));
	json_object_set_new(c, "monitoring", pick(r, &f->k[F_MON], env, dseq, end_seq(d), -1));
	json_object_set_new(c, "incidents", pick(r, &f->k[F_INCIDENT], NULL, -1, INT64_MAX, -1));
	/* the labels of held entries go into them (they are shared): made
	 * where they are kept; a stowed one's into its copy read back */
	label_list(r, c, "evaluations", "evaluation", r->stow);
	label_list(r, c, "approvals", "approval", r->stow);
	label_list(r, c, "gateDecisions", "gate", r->stow);
	label_list(r, c, "monitoring", "monitoring", r->stow);
	label_list(r, c, "incidents", "incident", 0);
	json_decref(m);
	return c;
}

/* With r->stow each chain is stowed as it is made, stripped of the
 * builder's members in place: the shared entries lose theirs ("_t"), so
 * this comes after every phase that reads them (cadence). */
static json_t *
chains(struct rp *r)
{
	json_t *out = json_array(), *d, *c;
	size_t i;

	for (i = 0; i < json_array_size(r->deployments); i++) {
		if (!(d = ml_report_row(r->deployments, i))) { /* stowed: read back */
			r->oom = 1;
			break;
		}
		if (!r->stow) {
			json_array_append_new(out, chain_of(r, d));
			json_decref(d);
			continue;
		}
		r->temp = 1;
		rp_arena(r, 0);
		c = chain_of(r, d);
		json_decref(d);
		strip(c);
		r->temp = 0;
		rp_arena(r, 1);
		json_array_append_new(out, rp_stow(r, c));
	}
	return out;
}

/* ---- version comparison ------------------------------------------------ */

/* The model's own metrics overlaid by its evaluations before seq `before`. */
static json_t *
metrics_of(struct rp *r, const char *ref, int64_t before)
{
	json_t *m = version_of(r, r->models, ref);
	json_t *out = json_deep_copy(m ? json_object_get(m, "metrics") : NULL), *ev;
	const struct rp_factv *fv;
	size_t i;

	json_decref(m);
	if (!out)
		out = json_object();
	fv = &facts_of(r, ref)->k[F_EVAL];
	for (i = 0; i < fv->n && fv->v[i].seq < before; i++)
		if ((ev = fact_get(r, &fv->v[i]))) {
			json_object_update(out, json_object_get(ev, "metrics"));
			json_decref(ev);
		}
	return out;
}

/* better or worse only in the direction the ledger's governance declares;
 * an undeclared metric has "changed" (a name says nothing of its direction). */
static const char *
verdict_of(const struct rp *r, const char *metric, double delta)
{
	enum ml_direction d = ml_governance_direction(r->gov, metric);

	if (fabs(delta) < 1e-12)
		return "same";
	if (d == ML_DIR_NONE)
		return "changed";
	return (delta > 0) == (d == ML_DIR_HIGHER) ? "better" : "worse";
}

/* The packed form of row (ml_report_pack), taking the reference; when out
 * of memory a copy of row (the writers read both).  Call it with the arena
 * on: with one, row was made on malloc (only its text is kept), and the
 * text or the copy is made in the arena.  row is released either way: a
 * free does not depend on the allocation flag (jsonarena.h). */
static json_t *
packed(json_t *row)
{
	json_t *p = ml_report_pack(row);

	if (!p)
		p = json_deep_copy(row);
	json_decref(row);
	return p;
}

static void
compare_pair(struct rp *r, json_t *out, const char *ref, const char *base, const char *why)
{
	struct ml_jsonarena was = ml_jsonarena_off(); /* temporaries: malloc */
	json_t *now = metrics_of(r, ref, INT64_MAX), *then = metrics_of(r, base, INT64_MAX);
	const char *k;
	json_t *v;

	ml_jsonarena_restore(was);
	json_object_foreach(now, k, v) {
		json_t *w = json_object_get(then, k), *row;
		double delta;
		if (!json_is_number(v) || !json_is_number(w))
			continue;
		delta = json_number_value(v) - json_number_value(w);
		rp_arena(r, 0); /* a temporary: packed() keeps its text */
		row = json_pack("{s:s, s:s, s:s, s:s, s:O, s:O, s:f, s:s}", "ref", ref, "baseline",
				base, "basis", why, "metric", k, "value", v, "baselineValue", w,
				"delta", delta, "verdict", verdict_of(r, k, delta));
		rp_arena(r, 1);
		if (row && (row = r->stow ? rp_stow(r, row) : packed(row)))
			json_array_append_new(out, row);
	}
	json_decref(now);
	json_decref(then);
}

/* Fills r->deployed from r->deployments, so that the questions asked per
 * model version below are look-ups, not scans of every deployment (which
 * made a report of a 1M-entry ledger quadratic).  0 or ML_EIO. */
static int
index_deployments(struct rp *r)
{
	json_t *d, *have;
	size_t i;

	if (!(r->deployed = json_object()))
		return ML_EIO;
	for (i = 0; i < json_array_size(r->deployments); i++) {
		const char *ref, *rep;
		int rc = ML_OK;
		if (!(d = ml_report_row(r->deployments, i))) /* stowed: read back */
			return ML_EIO;
		ref = str(d, "ref"), rep = str(d, "replaces");
		have = ref ? json_object_get(r->deployed, ref) : NULL;
		if (ref && !(have && !json_is_true(have)) && /* else it has its first "replaces" */
		    json_object_set_new(r->deployed, ref, rep ? json_string(rep) : json_true()))
			rc = ML_EIO;
		json_decref(d);
		if (rc)
			return rc;
	}
	return ML_OK;
}

static int
active(struct rp *r, const char *ref)
{
	return facts_of(r, ref)->touched ||
	       json_object_get(r->deployed, ref) != NULL;
}

static json_t *
comparisons(struct rp *r, json_t *active_models)
{
	json_t *out = json_array(), *m;
	size_t i;

	for (i = 0; i < json_array_size(active_models); i++) {
		const char *ref, *base, *why = NULL;
		if (!(m = ml_report_row(active_models, i))) { /* stowed: read back */
			r->oom = 1;
			break;
		}
		ref = str(m, "ref");
		base = json_string_value(json_object_get(r->deployed, ref));
		if (base)
			why = "replaced it in production";
		if (!base && (base = str(m, "parent")))
			why = "parent version";
		if (base && json_object_get(r->models, base))
			compare_pair(r, out, ref, base, why);
		json_decref(m);
	}
	return out;
}

/* ---- monitoring cadence ----------------------------------------------- */

static void
gap_check(struct rp *r, json_t *row, int64_t a, int64_t b, double *longest)
{
	double days = (double)(b - a) / (double)DAY_US;
	json_t *g;
	char ta[21], tb[21];

	if (days > *longest)
		*longest = days;
	if (days <= (double)r->max_gap_days)
		return;
	ml_time_format(a, ta);
	ml_time_format(b, tb);
	g = json_pack("{s:s, s:s, s:f}", "from", ta, "to", tb, "days", round(days * 10) / 10);
	if (g) {
		char lab[80];
		snprintf(lab, sizeof lab, "%s to %s (%.1f days)", ta, tb, days);
		json_object_set_new(g, "label", json_string(lab));
		json_array_append_new(json_object_get(row, "gaps"), g);
	}
}

/* One series per metric: the checks' values and the approval-time value. */
static json_t *
series_of(struct rp *r, const json_t *checks, const json_t *base)
{
	json_t *out = json_object(), *c, *v, *s;
	const char *k;
	size_t i;

	json_array_foreach(checks, i, c)
		json_object_foreach(json_object_get(c, "metrics"), k, v) {
			if (!json_is_number(v))
				continue;
			if (!(s = json_object_get(out, k))) {
				json_t *b = json_object_get(base, k), *pts;
				rp_arena(r, 0);
				pts = json_array();
				rp_arena(r, 1);
				s = json_pack("{s:o, s:O, s:o}", "metric", rp_shared(r, k), "approvalValue",
					      json_is_number(b) ? b : json_null(), "points", pts);
				json_object_set_new(out, k, s);
			}
			rp_arena(r, 0); /* the points are temporaries: pack_points keeps their text */
			json_array_append_new(json_object_get(s, "points"),
					      json_pack("{s:O, s:O, s:O}", "seq", json_object_get(c, "seq"),
							"time", json_object_get(c, "time"), "value", v));
			rp_arena(r, 1);
		}
	return out;
}

/* The policy's limit for metric k, approval value b (the monitoring rule:
 * not worse than b by more than metric-tolerance, in the declared
 * direction): "threshold" and "thresholdSource" into s.  None for another
 * metric or one without a declared direction. */
static void
threshold_into(const struct rp *r, const char *k, double b, json_t *s)
{
	enum ml_direction d = ml_governance_direction(r->gov, k);

	if (!r->thr_metric[0] || strcmp(k, r->thr_metric) || d == ML_DIR_NONE)
		return;
	json_object_set_new(s, "threshold", json_real(d == ML_DIR_HIGHER ? b - r->thr_tol
									 : b + r->thr_tol));
	json_object_set_new(s, "thresholdSource", rp_shared(r, r->thr_source));
}

static json_t *
trend_of(const struct rp *r, json_t *series_obj)
{
	json_t *arr = json_array(), *s, *last;
	const char *k;

	json_object_foreach(series_obj, k, s) {
		json_t *pts = json_object_get(s, "points"), *b = json_object_get(s, "approvalValue");
		char lab[300];
		last = json_object_get(json_array_get(pts, json_array_size(pts) - 1), "value");
		if (json_is_number(b)) {
			double dl = json_number_value(last) - json_number_value(b);
			snprintf(lab, sizeof lab, "%s %.6g vs %.6g at approval (%+.6g, %s)", k,
				 json_number_value(last), json_number_value(b), dl,
				 verdict_of(r, k, dl));
			json_object_set_new(s, "delta", json_real(dl));
			json_object_set_new(s, "verdict", rp_shared(r, verdict_of(r, k, dl)));
			threshold_into(r, k, json_number_value(b), s);
		} else {
			snprintf(lab, sizeof lab, "%s %.6g (no approval-time value)", k,
				 json_number_value(last));
		}
		json_object_set_new(s, "label", rp_str(lab));
		json_array_append(arr, s);
	}
	return arr;
}

/* Each series' points packed (ml_report_pack): the model's largest
 * member as JSON objects.  With an arena, the points were made on malloc
 * (series_of) and the packed text is made in the arena; replacing them
 * frees them.  Out of memory leaves a series' array as it is (the writers
 * read both forms; with an arena, that array is then not freed). */
static void
pack_points(json_t *trend)
{
	json_t *s, *p;
	size_t i;

	json_array_foreach(trend, i, s)
		if ((p = ml_report_pack(json_object_get(s, "points"))))
			json_object_set_new(s, "points", p);
}

static json_t *
cadence_of(struct rp *r, const json_t *d, const struct rp_dep *dp)
{
	const char *ref = str(d, "ref"), *env = str(d, "environment");
	int64_t start = dp->t, stop = r->o->to_us, prev;
	json_t *row, *checks, *c, *base, *ser;
	double longest = 0;
	size_t i;

	if (start < r->o->from_us)
		start = r->o->from_us;
	if (dp->ended && dp->end < stop)
		stop = dp->end;
	if (r->o->as_of_us < stop)
		stop = r->o->as_of_us;
	checks = pick(r, &facts_of(r, ref)->k[F_MON], env, num_i(d, "seq"), end_seq(d), stop);
	row = json_pack("{s:s, s:s?, s:O, s:I, s:[], s:o}", "ref", ref, "environment", env,
			"deploymentSeq", json_object_get(d, "seq"), "maxGapDays",
			(json_int_t)r->max_gap_days, "gaps", "checkSeqs", json_array());
	prev = start;
	json_array_foreach(checks, i, c) {
		int64_t t = num_i(c, "_t");
		if (t < start)
			continue;
		json_array_append(json_object_get(row, "checkSeqs"), json_object_get(c, "seq"));
		gap_check(r, row, prev, t, &longest);
		prev = t;
		json_object_set(row, "lastCheck", json_object_get(c, "time"));
	}
	if (stop > prev)
		gap_check(r, row, prev, stop, &longest);
	json_object_set_new(row, "checks",
			    json_integer((json_int_t)json_array_size(json_object_get(row, "checkSeqs"))));
	if (!json_object_get(row, "lastCheck"))
		json_object_set_new(row, "lastCheck", json_null());
	json_object_set_new(row, "longestGapDays", json_real(round(longest * 10) / 10));
	base = metrics_of(r, ref, num_i(d, "seq"));
	ser = series_of(r, checks, base);
	json_object_set_new(row, "trend", trend_of(r, ser));
	if (!r->stow) /* stowed, the row's text holds them compactly */
		pack_points(json_object_get(row, "trend"));
	json_decref(ser);
	json_decref(base);
	json_decref(checks);
	return row;
}

static json_t *
cadence(struct rp *r)
{
	json_t *out = json_array(), *d, *c;
	size_t i;

	for (i = 0; i < json_array_size(r->deployments); i++) {
		if (r->o->as_of_us <= r->dep[i].t)
			continue;
		if (!(d = ml_report_row(r->deployments, i))) { /* stowed: read back */
			r->oom = 1;
			break;
		}
		if (!r->stow) {
			json_array_append_new(out, cadence_of(r, d, &r->dep[i]));
			json_decref(d);
			continue;
		}
		r->temp = 1;
		rp_arena(r, 0);
		c = cadence_of(r, d, &r->dep[i]);
		json_decref(d);
		r->temp = 0;
		rp_arena(r, 1);
		json_array_append_new(out, rp_stow(r, c));
	}
	return out;
}

/* ---- inventory and people ---------------------------------------------- */

static json_t *
inventory(struct rp *r, json_t *retirements, json_t **active_models)
{
	json_t *inv = json_object(), *ms = json_array(), *ds = json_array(), *inc = json_array();
	json_t *seen = json_object(), *m, *d, *x, *v;
	const char *k;
	size_t i;

	json_object_foreach(r->models, k, v) {
		if (!active(r, k) || !(m = version_of(r, r->models, k)))
			continue;
		json_array_foreach(json_object_get(m, "datasets"), i, x)
			json_object_set_new(seen, json_string_value(x), json_true());
		strip(m); /* a row now: stowed (a temporary) or the one held */
		json_array_append_new(ms, rp_stow(r, m));
	}
	json_object_foreach(r->datasets, k, v) {
		if (!(d = version_of(r, r->datasets, k)))
			continue;
		if (json_object_get(seen, k) || json_is_true(json_object_get(d, "_inPeriod"))) {
			strip(d);
			json_array_append_new(ds, rp_stow(r, d));
		} else {
			json_decref(d);
		}
	}
	json_array_foreach(r->incidents, i, x)
		if (num_i(x, "_t") >= r->o->from_us && num_i(x, "_t") < r->o->to_us)
			json_array_append(inc, x);
	json_decref(seen);
	*active_models = ms;
	json_object_set(inv, "models", ms);
	json_object_set_new(inv, "datasets", ds);
	json_object_set(inv, "deployments", r->deployments);
	json_object_set(inv, "retirements", retirements);
	json_object_set_new(inv, "incidents", inc);
	return inv;
}

struct keys_ctx {
	struct rp *r;
	json_t *out, *by_seq;
};

static int
key_row(void *ctx, const struct ml_key_row *row)
{
	struct keys_ctx *k = ctx;
	char s[32];
	json_t *en, *rv = NULL, *o;

	snprintf(s, sizeof s, "%lld", (long long)row->enrolled_seq);
	en = json_object_get(k->by_seq, s);
	if (row->revoked_seq >= 0) {
		snprintf(s, sizeof s, "%lld", (long long)row->revoked_seq);
		rv = json_object_get(k->by_seq, s);
	}
	o = json_pack("{s:O, s:O, s:O, s:s, s:s, s:s, s:I, s:O, s:o, s:O, s:O}", "person",
		      en && json_object_get(en, "person") ? json_object_get(en, "person")
							  : json_null(),
		      "personName", en && json_object_get(en, "personName")
				    ? json_object_get(en, "personName") : json_null(),
		      "identity", en && json_object_get(en, "identity")
				  ? json_object_get(en, "identity") : json_null(),
		      "name", row->name,
		      "keyid", row->keyid, "roles", row->roles, "enrolledSeq",
		      (json_int_t)row->enrolled_seq, "enrolledTime",
		      en ? json_object_get(en, "time") : json_null(), "revokedSeq",
		      row->revoked_seq >= 0 ? json_integer(row->revoked_seq) : json_null(),
		      "revokedTime", rv ? json_object_get(rv, "time") : json_null(),
		      "revocationReason", rv ? json_object_get(rv, "reason") : json_null());
	if (o)
		json_array_append_new(k->out, o);
	return 0;
}

static int
people(struct rp *r, json_t **out)
{
	struct keys_ctx k = {r, json_array(), json_object()};
	json_t *events = json_array(), *x;
	size_t i;
	int rc;

	json_array_foreach(r->keyev, i, x) {
		char s[32];
		snprintf(s, sizeof s, "%lld", (long long)num_i(x, "seq"));
		json_object_set(k.by_seq, s, x);
		if (json_is_true(json_object_get(x, "_inPeriod")))
			json_array_append(events, x);
	}
	rc = ml_store_key_each(r->s, key_row, &k, r->e);
	*out = json_pack("{s:o, s:o}", "keys", k.out, "events", events);
	json_decref(k.by_seq);
	return rc;
}

/* ---- scope and integrity ------------------------------------------------ */

static int
checkpoint_of(struct rp *r, json_t **out)
{
	struct ml_checkpoint c;
	struct ml_note n;
	uint64_t size;
	char *note = NULL, *root = NULL;
	int rc;

	if ((rc = ml_tlog_checkpoint(r->l, -1, &size, &note, r->e)))
		return rc;
	rc = ml_note_parse(note, strlen(note), &n, r->e);
	if (rc == ML_OK) {
		rc = ml_checkpoint_parse(n.text, n.text_len, &c, r->e);
		ml_note_clear(&n);
	}
	if (rc == ML_OK && !(root = ml_b64_encode(c.root, ML_SHA256_LEN)))
		rc = ml_err_set(r->e, ML_EIO, "out of memory");
	if (rc == ML_OK)
		*out = json_pack("{s:I, s:s, s:s, s:s}", "size", (json_int_t)c.size, "root", root,
				 "origin", c.origin, "logKey", ml_ledger_logkey(r->l));
	free(root);
	free(note);
	return rc == ML_OK ? ML_OK : ml_err_set(r->e, ML_EINTEGRITY, "the latest checkpoint "
						"does not parse");
}

static json_t *
integrity_of(const struct ml_verify_result *res, int rc, const struct ml_err *ve)
{
	char head[80];
	char stmt[600];

	if (rc != ML_OK) {
		snprintf(stmt, sizeof stmt, "VERIFICATION FAILED: %s%s. This report was produced "
			 "with --allow-unverified; its contents cannot be relied on.",
			 ve->seq >= 0 ? "entry " : "", ve->msg);
		return json_pack("{s:b, s:s, s:{s:o, s:s}}", "ok", 0, "statement", stmt, "error",
				 "seq", ve->seq >= 0 ? json_integer(ve->seq) : json_null(),
				 "message", ve->msg);
	}
	digest_of(res->head, head);
	snprintf(stmt, sizeof stmt,
		 "The whole ledger was verified when this report was generated: %llu entries "
		 "(every leaf hash and link, every signature by a key enrolled and not revoked "
		 "at its place, the Merkle tree, %llu signed checkpoints, and the projection "
		 "tables and schema). Head %s.",
		 (unsigned long long)res->entries, (unsigned long long)res->checkpoints, head);
	return json_pack("{s:b, s:s, s:I, s:I, s:I, s:I, s:s, s:n}", "ok", 1, "statement", stmt,
			 "entries", (json_int_t)res->entries, "keysEnrolled",
			 (json_int_t)res->keys_enrolled, "keysRevoked",
			 (json_int_t)res->keys_revoked, "checkpoints",
			 (json_int_t)res->checkpoints, "head", head, "error");
}

/* integrity.futureDated: the first entry whose effective time is more than
 * the tolerance after the report's generation time (not the clock, so the
 * report stays reproducible), or null.  Gate and check fail closed there;
 * a report says so at the top instead.  An integrity error is verify's to
 * report (*out null then); a storage error fails the report (ML_EIO in
 * r->e), like every other read. */
static int
future_of(struct rp *r, json_t **out)
{
	struct ml_evidence *v;
	struct ml_err fe;
	uint64_t seq;
	int64_t t;
	char at[21], gen[21], stmt[400];
	int rc;

	ml_err_clear(&fe);
	*out = json_null();
	if ((rc = ml_evidence_open(r->l, r->o->as_of_us, 0, &v, &fe)) == ML_OK) {
		rc = ml_evidence_ahead(v, r->o->generated_us, &seq, &t, &fe);
		ml_evidence_close(v);
	}
	if (rc == ML_EIO) {
		*r->e = fe;
		return rc;
	}
	if (rc != ML_EPOLICY)
		return ML_OK;
	ml_time_format(t, at);
	ml_time_format(r->o->generated_us, gen);
	snprintf(stmt, sizeof stmt, "ENTRIES DATED IN THE FUTURE: entry %llu is dated %s, more "
		 "than 5 minutes after this report's generation time (%s). Entries recorded after "
		 "it may be missing from the period and as-of cuts; gate and check refuse to "
		 "decide until an admin corrects the ledger's clock (mlledger clock-correct).",
		 (unsigned long long)seq, at, gen);
	*out = json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)seq, "time", at, "statement",
			 stmt);
	return *out ? ML_OK : ml_err_set(r->e, ML_EIO, "out of memory");
}

/* integrity.held, integrity.notWitnessed and integrity.heldStatement: the
 * checkpoints held outside that the caller checked against the ledger
 * (report.h), and the entries after the newest of them.  entries: the
 * verified size (0 when verify failed: no range is claimed then). */
static int
held_of(struct rp *r, json_t *integrity, uint64_t entries)
{
	const struct ml_report_opts *o = r->o;
	json_t *list = json_array(), *un = json_null();
	struct ml_buf b = {0};
	uint64_t max = 0;
	size_t i;
	const char *kind = o->held_trust ? "witnessed" : "held";

	for (i = 0; i < o->nheld && list; i++) {
		const struct ml_tlog_held *th = &o->held[i].th;
		const char *w = th->witnesses;
		json_t *names = json_array();
		char t[21], *root = ml_b64_encode(th->cp.root, ML_SHA256_LEN);
		size_t k;

		for (k = 0; w[k] && names;) {
			size_t n = strcspn(w + k, ",");
			json_array_append_new(names, json_stringn(w + k, n));
			k += n;
			while (w[k] == ',' || w[k] == ' ')
				k++;
		}
		if (th->newest)
			ml_time_format((int64_t)th->newest * 1000000, t);
		if (!root || !names ||
		    json_array_append_new(list, json_pack("{s:s, s:I, s:s, s:o, s:b, s:o}",
							  "path", o->held[i].path, "size",
							  (json_int_t)th->cp.size, "root", root,
							  "witnesses", names, "witnessesChecked",
							  th->checked, "newestCosignature",
							  th->newest ? json_string(t)
								     : json_null()))) {
			free(root);
			json_decref(list);
			return ml_err_set(r->e, ML_EIO, "out of memory");
		}
		free(root);
		if (i == 0 || th->cp.size > max)
			max = th->cp.size;
	}
	if (!list)
		return ml_err_set(r->e, ML_EIO, "out of memory");
	if (o->nheld == 0) {
		ml_buf_puts(&b, "Nothing outside the ledger was checked: a ledger rewritten with "
			    "its log key would pass. Give --checkpoint FILE (a checkpoint held "
			    "outside) and --trust POLICY (its witnesses).");
	} else {
		ml_buf_printf(&b, "Checked against %zu checkpoint%s held outside the ledger, each "
			      "signed by its log key and extended by it", o->nheld,
			      o->nheld == 1 ? "" : "s");
		if (o->held_trust)
			ml_buf_puts(&b, ", and cosigned by the trust policy's quorum of witnesses");
		ml_buf_puts(&b, ":");
		for (i = 0; i < o->nheld; i++) {
			const struct ml_tlog_held *th = &o->held[i].th;
			ml_buf_printf(&b, "%s %s (size %llu, ", i ? ";" : "", o->held[i].path,
				      (unsigned long long)th->cp.size);
			if (th->checked && th->witnesses[0])
				ml_buf_printf(&b, "witnessed by %s)", th->witnesses);
			else if (th->checked)
				ml_buf_puts(&b, "no witness: the trust policy's quorum is none)");
			else if (th->witnesses[0])
				ml_buf_printf(&b, "cosignature lines by %s, not checked: no "
					      "--trust)", th->witnesses);
			else
				ml_buf_puts(&b, "no cosignatures, witnesses not checked)");
		}
		ml_buf_puts(&b, ".");
		if (entries > max) {
			if (entries - 1 == max)
				ml_buf_printf(&b, " Entry %llu is after the newest %s checkpoint "
					      "(size %llu): not witnessed.", (unsigned long long)max,
					      kind, (unsigned long long)max);
			else
				ml_buf_printf(&b, " Entries %llu to %llu are after the newest %s "
					      "checkpoint (size %llu): not witnessed.",
					      (unsigned long long)max,
					      (unsigned long long)(entries - 1), kind,
					      (unsigned long long)max);
			un = json_pack("{s:I, s:I, s:I}", "from", (json_int_t)max, "to",
				       (json_int_t)(entries - 1), "afterSize", (json_int_t)max);
		} else if (entries) {
			ml_buf_printf(&b, " Every entry is in the newest %s checkpoint.", kind);
		}
	}
	if (b.oom || !un) {
		ml_buf_free(&b);
		json_decref(list);
		json_decref(un);
		return ml_err_set(r->e, ML_EIO, "out of memory");
	}
	json_object_set_new(integrity, "held", list);
	json_object_set_new(integrity, "notWitnessed", un);
	json_object_set_new(integrity, "heldStatement", json_stringn((const char *)b.data, b.len));
	ml_buf_free(&b);
	return ML_OK;
}

/* Verifies the whole ledger.  When it fails and allow_unverified is set,
 * the report reads every entry (r->limit = the size) and says so. */
static int
verify_ledger(struct rp *r, json_t **integrity)
{
	static char label[] = "report: verify";
	struct ml_verify_opts vo = {r->o->jobs, r->o->progress, label, NULL};
	struct ml_timecheck_opts to;
	struct ml_verify_result res;
	struct ml_err ve;
	uint64_t size;
	uint8_t last[ML_SHA256_LEN];
	int64_t t;
	json_t *tj;
	int rc;

	ml_err_clear(&ve);
	memset(&res, 0, sizeof res);
	if (r->o->time)
		to = *r->o->time;
	else
		ml_timecheck_defaults(&to);
	rp_arena(r, 0); /* verify's values, and its time checks', die with it */
	if (!(vo.timecheck = ml_timecheck_new(&to))) {
		rp_arena(r, 1);
		return ml_err_set(r->e, ML_EIO, "out of memory");
	}
	rc = ml_verify(r->l, &vo, &res, &ve);
	ml_store_replay_detach(r->s); /* verify's projection: not needed again */
	/* a held checkpoint the caller found failing fails the report like verify */
	if (rc == ML_OK && r->o->held_err) {
		ve = *r->o->held_err;
		rc = ve.code;
	}
	r->start_us = ml_timecheck_start(vo.timecheck, &r->start_known);
	if (rc == ML_OK && (tj = ml_timecheck_json(vo.timecheck))) {
		rp_arena(r, 1);
		r->time = json_deep_copy(tj); /* what the model keeps: in its arena */
		rp_arena(r, 0);
		json_decref(tj);
	}
	if (rc == ML_OK && !r->time)
		rc = ml_err_set(&ve, ML_EIO, "out of memory");
	ml_timecheck_free(vo.timecheck);
	rp_arena(r, 1);
	if (rc == ML_EIO || (rc && !r->o->allow_unverified)) {
		*r->e = ve;
		return rc;
	}
	r->limit = res.entries;
	if (rc == ML_OK) {
		r->verified = res.entries;
		memcpy(r->verified_head, res.head, ML_SHA256_LEN);
	}
	if (rc) {
		if ((rc = ml_store_head(r->s, &size, last, &t, r->e)))
			return rc;
		r->limit = size;
	}
	if (!(*integrity = integrity_of(&res, ve.code, &ve)))
		return ml_err_set(r->e, ML_EIO, "out of memory");
	return held_of(r, *integrity, ve.code == ML_OK ? res.entries : 0);
}

/* A period that starts before the ledger's first entry: its first days have
 * no record, which an empty table would not say (null when it does not). */
static json_t *
start_warning(const struct rp *r)
{
	const int64_t day = (int64_t)86400 * 1000000;
	int64_t start_day, days;
	char t[21], msg[300];

	if (!r->start_known || r->start_us < r->o->from_us + day)
		return json_null();
	ml_time_format(r->start_us, t);
	start_day = r->start_us - r->start_us % day;
	days = (start_day - r->o->from_us) / day;
	if (r->start_us >= r->o->to_us)
		snprintf(msg, sizeof msg, "THE LEDGER BEGAN AFTER THE PERIOD: its first entry was "
			 "appended %s; the period %s to %s has no record in it.", t, r->o->from,
			 r->o->to);
	else
		snprintf(msg, sizeof msg, "The ledger began on %.10s (first entry appended %s): the "
			 "period's first %lld day%s (from %s) %s no record.", t, t, (long long)days,
			 days == 1 ? "" : "s", r->o->from, days == 1 ? "has" : "have");
	return json_pack("{s:s, s:I, s:s}", "ledgerStart", t, "daysWithoutRecord",
			 (json_int_t)days, "statement", msg);
}

/* integrity.time: verify's time warnings and a sentence about them. */
static json_t *
time_of(const struct rp *r)
{
	json_t *o;
	char msg[400];
	long long w, b;

	if (!r->time)
		return json_null();
	o = json_deep_copy(r->time);
	w = (long long)json_integer_value(json_object_get(o, "timeWarningsTotal"));
	b = (long long)json_integer_value(json_object_get(o, "backfillsTotal"));
	snprintf(msg, sizeof msg, "Across the whole ledger, %lld entr%s an author time more than "
		 "%lld hours before or %lld seconds after its append time, and %lld burst%s of "
		 "%lld or more entries appended at most %lld s apart span%s more than %lld hours "
		 "of author time (a backfill). These are warnings, not failures.", w,
		 w == 1 ? "y has" : "ies have",
		 (long long)json_integer_value(ml_report_get(o, "tolerance.pastSeconds")) / 3600,
		 (long long)json_integer_value(ml_report_get(o, "tolerance.futureSeconds")), b,
		 b == 1 ? "" : "s",
		 (long long)json_integer_value(ml_report_get(o, "tolerance.burstMinEntries")),
		 (long long)json_integer_value(ml_report_get(o, "tolerance.burstGapSeconds")),
		 b == 1 ? "s" : "",
		 (long long)json_integer_value(ml_report_get(o, "tolerance.burstSpanSeconds")) /
			 3600);
	json_object_set_new(o, "statement", json_string(msg));
	return o;
}

static json_t *
scope_of(struct rp *r, json_t *ckpt)
{
	const struct ml_report_opts *o = r->o;
	json_t *sc = json_object();
	char t[21];

	json_object_set_new(sc, "from", rp_str(o->from));
	json_object_set_new(sc, "to", rp_str(o->to));
	set_time(sc, "periodStart", o->from_us);
	set_time(sc, "periodEnd", o->to_us - 1000000);
	set_time(sc, "asOf", o->as_of_us);
	ml_time_format(o->generated_us, t);
	json_object_set_new(sc, "generatedAt", json_string(t));
	json_object_set_new(sc, "tool", json_pack("{s:s, s:s}", "name", "mlledger", "version",
						  o->tool_version ? o->tool_version : ""));
	json_object_set_new(sc, "ledger",
			    json_pack("{s:s, s:I, s:I, s:o, s:o}", "origin", ml_ledger_origin(r->l),
				      "entriesConsidered", (json_int_t)r->considered,
				      "entriesInPeriod", (json_int_t)r->in_period, "firstSeq",
				      r->first_seq >= 0 ? json_integer(r->first_seq) : json_null(),
				      "lastSeq",
				      r->last_seq >= 0 ? json_integer(r->last_seq) : json_null()));
	json_object_set(sc, "checkpoint", ckpt);
	if (r->start_known)
		set_time(sc, "ledgerStart", r->start_us);
	else
		json_object_set_new(sc, "ledgerStart", json_null());
	json_object_set_new(sc, "ledgerStartWarning", start_warning(r));
	json_object_set_new(sc, "monitoringMaxGapDays", json_integer(r->max_gap_days));
	json_object_set_new(sc, "unreadableSeqs", json_incref(r->unreadable));
	return sc;
}

/* ---- assembly ------------------------------------------------------------ */

/* Removes the builder's "_" members everywhere. */
static void
strip(json_t *v)
{
	const char *k;
	json_t *x;
	void *tmp;
	size_t i;

	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			strip(x);
	} else if (json_is_object(v)) {
		json_object_foreach_safe(v, tmp, k, x) {
			if (k[0] == '_')
				json_object_del(v, k);
			else
				strip(x);
		}
	}
}

static void
rp_free(struct rp *r)
{
	json_decref(r->models);
	json_decref(r->datasets);
	json_decref(r->facts);
	facts_free(r);
	json_decref(r->events);
	json_decref(r->keyev);
	json_decref(r->waivers);
	json_decref(r->incidents);
	json_decref(r->unreadable);
	json_decref(r->roles);
	json_decref(r->persons);
	json_decref(r->deployments);
	free(r->dep);
	json_decref(r->deployed);
	json_decref(r->pairs);
	json_decref(r->findings);
	json_decref(r->policies);
	json_decref(r->time);
	json_decref(r->strs);
	ml_governance_free(r->gov);
	ml_gate_replayer_free(r->replayer);
	ml_ledger_close(r->replay);
}

static int
rp_init(struct rp *r, struct ml_ledger *l, const struct ml_report_opts *o, struct ml_err *e)
{
	memset(r, 0, sizeof *r);
	r->l = l;
	r->s = ml_ledger_store(l);
	r->o = o;
	r->e = e;
	r->first_seq = r->last_seq = -1;
	r->models = json_object();
	r->datasets = json_object();
	r->facts = json_object();
	r->events = json_array();
	r->keyev = json_array();
	r->waivers = json_array();
	r->incidents = json_array();
	r->unreadable = json_array();
	r->roles = json_object();
	r->persons = json_object();
	r->pairs = json_object();
	r->strs = json_object();
	r->stow = ml_report_spool() != NULL;
	r->gov = ml_governance_default();
	if (!r->models || !r->datasets || !r->facts || !r->events || !r->keyev || !r->waivers ||
	    !r->incidents || !r->unreadable || !r->roles || !r->persons || !r->pairs ||
	    !r->strs || !r->gov)
		return ml_err_set(e, ML_EIO, "out of memory");
	if (o->from_us >= o->to_us)
		return ml_err_set(e, ML_EINPUT, "the period is empty: --from must come before --to");
	return ML_OK;
}

static int
assemble(struct rp *r, json_t *integrity, json_t *ckpt, json_t **out)
{
	json_t *model = json_object(), *retirements, *am = NULL, *pp = NULL, *mon;
	int rc;

	json_object_set_new(model, "schemaVersion", json_integer(ML_REPORT_SCHEMA_VERSION));
	json_object_set_new(model, "title", json_string("Audit report"));
	r->deployments = history(r, &retirements);
	if ((rc = deps_settle(r, retirements)))
		;
	else if (index_deployments(r))
		rc = ml_err_set(r->e, ML_EIO, "out of memory");
	else if ((rc = rp_policies(r)) == ML_OK)
		rc = people(r, &pp);
	rp_release_freed();
	if (rc) {
		json_decref(retirements);
		json_decref(model);
		json_decref(pp);
		return rc;
	}
	json_object_set_new(model, "scope", scope_of(r, ckpt));
	json_object_set(json_object_get(model, "scope"), "policies", r->policies);
	json_object_set_new(integrity, "time", time_of(r));
	json_object_set(model, "integrity", integrity);
	json_object_set_new(model, "inventory", inventory(r, retirements, &am));
	mon = cadence(r); /* before chains: it reads the entries' "_t" */
	json_object_set_new(model, "chains", chains(r));
	json_object_set_new(model, "comparisons", comparisons(r, am));
	json_object_set_new(model, "monitoring", mon);
	json_object_set(model, "findings", r->findings);
	json_object_set_new(model, "people", pp);
	json_decref(retirements);
	json_decref(am);
	strip(model);
	if (r->oom || rp_summary_attach(&model)) { /* r->oom: an entry was not kept */
		json_decref(model);
		return ml_err_set(r->e, ML_EIO, "out of memory");
	}
	*out = model;
	return ML_OK;
}

int
ml_report_build(struct ml_ledger *l, const struct ml_report_opts *o, json_t **out,
		struct ml_err *e)
{
	struct rp r;
	json_t *integrity = NULL, *ckpt = NULL, *future;
	int rc;

	if (o->arena)
		ml_jsonarena_set(o->arena, 1);
	if ((rc = rp_init(&r, l, o, e)) || (rc = verify_ledger(&r, &integrity)) ||
	    (rc = future_of(&r, &future)))
		goto out;
	rp_release_freed();
	json_object_set_new(integrity, "futureDated", future);
	/* one snapshot for the checkpoint and the facts; evidence takes its own */
	if ((rc = ml_store_begin(r.s, 0, e)))
		goto out;
	if ((rc = checkpoint_of(&r, &ckpt)) == ML_OK)
		rc = scan(&r);
	ml_store_rollback(r.s);
	if (rc == ML_OK)
		rc = assemble(&r, integrity, ckpt, out);
out:
	json_decref(integrity);
	json_decref(ckpt);
	rp_free(&r);
	if (o->arena) /* the model's values are the caller's, in the arena */
		ml_jsonarena_set(o->arena, 0);
	return rc;
}
