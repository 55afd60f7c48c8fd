/* gate — see gate.h. */
#include "gate.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "decision.h"
#include "statement.h"

static int
str_same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

bool
ml_gate_is_policy_file(const char *arg)
{
	size_t n = strlen(arg);

	return strchr(arg, '/') || (n > 4 && !strcmp(arg + n - 4, ".xml"));
}

void
ml_gate_policy_free(struct ml_gate_policy *pol)
{
	if (!pol)
		return;
	ml_policyset_free(pol->set);
	json_decref(pol->params);
	memset(pol, 0, sizeof *pol);
	pol->seq = -1;
}

/* {NAME: text} of every param of p as bound. */
static int
params_json(const struct ml_policyset *p, json_t **out, struct ml_err *e)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; o && i < ml_policyset_param_count(p); i++) {
		char *t = ml_policyset_param_text(p, i);
		if (!t || json_object_set_new(o, ml_policyset_param_name(p, i), json_string(t))) {
			free(t);
			json_decref(o);
			o = NULL;
			break;
		}
		free(t);
	}
	if (!o)
		return ml_err_set(e, ML_EIO, "out of memory");
	*out = o;
	return ML_OK;
}

int
ml_gate_policy_file(const char *path, const char *const *params, size_t nparams,
		    struct ml_gate_policy *out, struct ml_err *e)
{
	int rc;

	memset(out, 0, sizeof *out);
	out->seq = -1;
	if ((rc = ml_policyset_load(path, params, nparams, &out->set, e)) ||
	    (rc = params_json(out->set, &out->params, e)))
		ml_gate_policy_free(out);
	return rc;
}

/* The recorded params of a policy entry, then extra, as "NAME=VALUE". */
static int
param_strings(json_t *recorded, const char *const *extra, size_t nextra, char ***out,
	      size_t *n, struct ml_err *e)
{
	size_t cap = json_object_size(recorded) + nextra, i = 0, j;
	char **v = calloc(cap ? cap : 1, sizeof *v);
	const char *k;
	json_t *x;

	if (!v)
		return ml_err_set(e, ML_EIO, "out of memory");
	json_object_foreach(recorded, k, x) {
		size_t len = strlen(k) + json_string_length(x) + 2;
		if (!(v[i] = malloc(len)))
			goto oom;
		snprintf(v[i++], len, "%s=%s", k, json_string_value(x));
	}
	for (j = 0; j < nextra; j++)
		if (!(v[i++] = strdup(extra[j])))
			goto oom;
	*out = v;
	*n = i;
	return ML_OK;
oom:
	for (j = 0; j < cap; j++)
		free(v[j]);
	free(v);
	return ml_err_set(e, ML_EIO, "out of memory");
}

/* Loads the verified policy entry st (at seq) with its params and extra. */
static int
load_entry(const struct ml_statement *st, uint64_t seq, const char *const *extra,
	   size_t nextra, struct ml_gate_policy *out, struct ml_err *e)
{
	json_t *content = json_object_get(st->predicate, "content");
	struct ml_policy_opts o;
	char name[300], ref[300], **params = NULL;
	size_t n = 0, i;
	int rc;

	memset(out, 0, sizeof *out);
	out->seq = (int64_t)seq;
	snprintf(name, sizeof name, "%s (policy entry %llu)", st->subject,
		 (unsigned long long)seq);
	if ((rc = param_strings(json_object_get(st->predicate, "params"), extra, nextra,
				&params, &n, e)))
		return rc;
	memset(&o, 0, sizeof o);
	o.params = (const char *const *)params;
	o.nparams = n;
	o.bytes = json_string_value(content);
	o.len = json_string_length(content);
	rc = ml_policyset_load_ex(name, &o, &out->set, e);
	for (i = 0; i < n; i++)
		free(params[i]);
	free(params);
	if (rc == ML_OK) {
		snprintf(ref, sizeof ref, "%s@%s", ml_policyset_id(out->set),
			 ml_policyset_version(out->set));
		if (strcmp(ref, st->subject) != 0)
			rc = ml_err_set(e, ML_EINTEGRITY, "policy entry %llu: recorded as %s, but the "
					"policy says %s", (unsigned long long)seq, st->subject, ref);
	}
	if (rc == ML_OK)
		rc = params_json(out->set, &out->params, e);
	if (rc)
		ml_gate_policy_free(out);
	return rc;
}

int
ml_gate_policy_at(struct ml_evidence *v, uint64_t seq, const char *const *params,
		  size_t nparams, struct ml_gate_policy *out, struct ml_err *e)
{
	struct ml_statement st;
	int rc;

	memset(out, 0, sizeof *out);
	out->seq = -1;
	if ((rc = ml_evidence_statement(v, seq, &st, NULL)))
		return rc;
	if (st.kind != ML_KIND_POLICY)
		rc = ml_err_set(e, ML_EINTEGRITY, "entry %llu is a %s entry, not a policy",
				(unsigned long long)seq, ml_kind_name(st.kind));
	else
		rc = load_entry(&st, seq, params, nparams, out, e);
	ml_statement_free(&st);
	return rc;
}

int
ml_gate_policy_seq(struct ml_evidence *v, const char *ref, uint64_t *seq, struct ml_err *e)
{
	char name[129], version[65], tmp[300];
	struct ml_statement st;
	int found, rc;

	/* an ID is a NAME of NAME@VERSION */
	snprintf(tmp, sizeof tmp, strchr(ref, '@') ? "%.200s" : "%.200s@0", ref);
	if (strlen(ref) > 200 || ml_ref_split(tmp, name, version) != 0)
		return ml_err_set(e, ML_EINPUT, "--policy %.200s: not ID or ID@VERSION", ref);
	if ((rc = ml_evidence_newest(v, "policy", name, strchr(ref, '@') ? version : NULL, seq,
				     &found)))
		return rc;
	if (!found && access(ref, F_OK) == 0)
		return ml_err_set(e, ML_EINPUT, "--policy %.200s: no such policy is recorded in the "
				  "ledger; for the file of that name, write ./%.200s", ref, ref);
	if (!found)
		return ml_err_set(e, ML_EINPUT, "--policy %.200s: no such policy is recorded in the "
				  "ledger (mlledger policy record FILE; a file path needs a '/' "
				  "or the .xml suffix)", ref);
	if ((rc = ml_evidence_statement(v, *seq, &st, NULL)))
		return rc;
	if (st.kind != ML_KIND_POLICY || strncmp(st.subject, name, strlen(name)) ||
	    st.subject[strlen(name)] != '@')
		rc = ml_err_set(e, ML_EINTEGRITY, "entry %llu is not the policy %s the index says "
				"it is", (unsigned long long)*seq, ref);
	ml_statement_free(&st);
	return rc;
}

int
ml_gate_policy_recorded(struct ml_evidence *v, const char *ref, const char *const *params,
			size_t nparams, struct ml_gate_policy *out, struct ml_err *e)
{
	uint64_t seq;
	int rc;

	memset(out, 0, sizeof *out);
	out->seq = -1;
	if ((rc = ml_gate_policy_seq(v, ref, &seq, e)))
		return rc;
	return ml_gate_policy_at(v, seq, params, nparams, out, e);
}

/* An attribute of the evidence root (or of its ev:candidate), malloc'd. */
static char *
evidence_attr(xmlDocPtr doc, int candidate, const char *name)
{
	xmlNodePtr n = xmlDocGetRootElement(doc);
	xmlChar *v;
	char *r;

	if (n && candidate)
		for (n = n->children; n && !(n->type == XML_ELEMENT_NODE &&
					    !xmlStrcmp(n->name, (const xmlChar *)"candidate"));
		     n = n->next)
			;
	if (!n || !(v = xmlGetProp(n, (const xmlChar *)name)))
		return NULL;
	r = strdup((const char *)v);
	xmlFree(v);
	return r;
}

/* Fills what the findings say about the decision from the evidence root. */
static int
describe(struct ml_findings *fs, xmlDocPtr doc, const char *subject, const char *env,
	 struct ml_err *e)
{
	char *size = evidence_attr(doc, 0, "size");

	free(fs->subject);
	free(fs->env);
	free(fs->as_of);
	free(fs->ledger_root);
	fs->subject = strdup(subject);
	fs->env = env ? strdup(env) : NULL;
	fs->as_of = evidence_attr(doc, 0, "as-of");
	fs->ledger_root = evidence_attr(doc, 0, "root");
	fs->ledger_size = size ? strtoull(size, NULL, 10) : 0;
	free(size);
	if (!fs->subject || (env && !fs->env) || !fs->as_of || !fs->ledger_root)
		return ml_err_set(e, ML_EIO, "out of memory");
	return ML_OK;
}

int
ml_gate_note_policy(struct ml_findings *fs, size_t from, const struct ml_policyset *set,
		    int64_t seq, struct ml_err *e)
{
	size_t i, r = 0, n = ml_policyset_rule_count(set);
	char sha[65];

	ml_policyset_sha256(set, sha);
	if (ml_findings_note_policy(fs, from, ml_policyset_id(set), ml_policyset_version(set),
				    ml_policyset_path(set), sha, seq) != ML_OK)
		return ml_err_set(e, ML_EIO, "out of memory");
	/* findings come in rule order: search on from the last rule found */
	for (i = from; i < fs->n && n; i++) {
		const char *id = fs->items[i].rule_id;
		size_t k;
		for (k = 0; k < n && !str_same(ml_policyset_rule_id(set, (r + k) % n), id); k++)
			;
		if (k < n) {
			r = (r + k) % n;
			fs->items[i].line = ml_policyset_rule_line(set, r);
		}
	}
	return ML_OK;
}

int
ml_gate_eval(struct ml_evidence *v, const struct ml_gate_input *in, struct ml_findings *fs,
	     uint8_t evidence_sha256[ML_SHA256_LEN], xmlDocPtr *out, struct ml_err *e)
{
	xmlDocPtr doc = NULL;
	xmlChar *text = NULL;
	size_t i;
	int len = 0, rc;

	if (!in->npolicies || in->npolicies > ML_GATE_MAX_POLICIES)
		return ml_err_set(e, ML_EINPUT, "a gate takes 1 to %d policies",
				  ML_GATE_MAX_POLICIES);
	if ((rc = ml_evidence_for(v, in->subject, in->env, &doc, e)))
		return rc;
	if (evidence_sha256) { /* the bytes `mlledger evidence` prints */
		xmlDocDumpFormatMemoryEnc(doc, &text, &len, "UTF-8", 1);
		if (!text || len <= 0) {
			rc = ml_err_set(e, ML_EIO, "out of memory");
			goto out;
		}
		ml_sha256(text, (size_t)len, evidence_sha256);
	}
	for (i = 0; i < in->npolicies && rc == ML_OK; i++) {
		size_t from = fs->n;
		rc = ml_policyset_eval(in->policies[i].set, doc, in->phase, in->subject, fs, e);
		if (rc == ML_OK)
			rc = ml_gate_note_policy(fs, from, in->policies[i].set, in->policies[i].seq, e);
	}
	if (rc == ML_OK)
		rc = describe(fs, doc, in->subject, in->env, e);
out:
	xmlFree(text);
	if (rc == ML_OK && out)
		*out = doc;
	else
		xmlFreeDoc(doc);
	return rc;
}

int
ml_gate_predicate(struct ml_ledger *l, struct ml_evidence *v, const struct ml_gate_input *in,
		  int64_t time_us, const struct ml_findings *fs,
		  const uint8_t evidence_sha256[ML_SHA256_LEN], xmlDocPtr doc,
		  uint8_t digest[ML_SHA256_LEN], json_t **pred, struct ml_err *e)
{
	struct ml_decision_policy pol[ML_GATE_MAX_POLICIES];
	struct ml_decision d = {.subject = in->subject, .env = in->env, .time_us = time_us,
				.origin = ml_evidence_origin(v), .policies = pol,
				.npolicies = in->npolicies, .findings = fs, .phase = in->phase,
				.size = fs->ledger_size};
	char *cd = evidence_attr(doc, 1, "digest"), *note = NULL;
	uint64_t got;
	size_t i, j;
	int rc;

	for (i = 0; i < in->npolicies; i++) {
		const struct ml_policyset *p = in->policies[i].set;
		pol[i].id = ml_policyset_id(p);
		pol[i].version = ml_policyset_version(p);
		ml_policyset_sha256(p, pol[i].sha256);
		pol[i].seq = in->policies[i].seq;
		pol[i].params = in->policies[i].params;
		for (j = 0; j < i; j++)
			if (!strcmp(pol[j].id, pol[i].id)) {
				free(cd);
				return ml_err_set(e, ML_EINPUT, "policy %s is given twice", pol[i].id);
			}
	}
	memcpy(d.evidence_sha256, evidence_sha256, ML_SHA256_LEN);
	if (!cd || strncmp(cd, "sha256:", 7) ||
	    ml_hex_decode(cd + 7, strlen(cd + 7), digest, ML_SHA256_LEN) ||
	    !fs->ledger_root ||
	    ml_b64_decode_exact(fs->ledger_root, strlen(fs->ledger_root), d.root,
				ML_SHA256_LEN) != 0) {
		free(cd);
		return ml_err_set(e, ML_EINTEGRITY, "the evidence names no candidate digest or "
				  "checkpoint root");
	}
	free(cd);
	if ((rc = ml_store_checkpoint_get(ml_ledger_store(l), (int64_t)d.size, &got, &note, e)))
		return rc;
	ml_sha256(note, strlen(note), d.checkpoint_sha256);
	free(note);
	return ml_decision_predicate(&d, pred, e);
}

/* ---- replay -------------------------------------------------------------- */

/* What a recorded predicate names, read before anything is evaluated. */
struct recorded {
	const char *subject, *env, *phase;
	int64_t time_us;
	uint64_t size;
	uint64_t seqs[ML_GATE_MAX_POLICIES];
	size_t n;
};

static int
unreplayable(struct ml_err *e, const char *subject, const char *why)
{
	return ml_err_set(e, ML_EINTEGRITY, "the gate decision for %s cannot be replayed: %s",
			  subject, why);
}

static int
read_recorded(struct ml_ledger *l, const struct ml_statement *st, struct recorded *r,
	      struct ml_err *e)
{
	json_t *p = st->predicate, *x;
	const char *origin, *uri;
	size_t i;

	memset(r, 0, sizeof *r);
	r->subject = st->subject;
	r->env = json_string_value(json_object_get(p, "environment"));
	r->phase = json_string_value(json_object_get(p, "phase"));
	origin = json_string_value(json_object_get(json_object_get(p, "ledger"), "origin"));
	r->size = (uint64_t)json_integer_value(
		json_object_get(json_object_get(p, "ledger"), "size"));
	if (strcmp(json_string_value(json_object_get(json_object_get(p, "verifier"), "id")),
		   ML_VSA_VERIFIER_ID) != 0)
		return unreplayable(e, r->subject, "made by another verifier");
	if (!json_object_get(p, "parameters") || !json_object_get(p, "evidence"))
		return unreplayable(e, r->subject, "it records no parameters or evidence digest "
				    "(made before mlledger 0.2)");
	if (strcmp(origin, ml_ledger_origin(l)) != 0)
		return unreplayable(e, r->subject, "it names another ledger's origin");
	if (ml_time_parse(json_string_value(json_object_get(p, "timeVerified")), &r->time_us))
		return unreplayable(e, r->subject, "bad timeVerified");
	r->n = json_array_size(json_object_get(p, "policies"));
	if (r->n > ML_GATE_MAX_POLICIES)
		return unreplayable(e, r->subject, "too many policies");
	json_array_foreach(json_object_get(p, "policies"), i, x) {
		uri = json_string_value(json_object_get(x, "uri"));
		if (ml_policy_uri_seq(uri, &r->seqs[i]) != 0 || r->seqs[i] >= r->size)
			return unreplayable(e, r->subject, "a policy was given as a file, not a "
					    "recorded policy entry of the checkpoint's ledger");
	}
	return ML_OK;
}

/* The first member where recorded and replayed differ, as a reason. */
static int
compare(json_t *rec, json_t *rep, const char *subject, struct ml_err *e)
{
	static const char *const order[] = {"verificationResult", "findings", "evidence",
					    "policies", "parameters", "phase", "verifiedLevels",
					    "ledger", "environment", "resourceUri", "policy",
					    "timeVerified", NULL};
	const char *k;
	json_t *a, *b;
	size_t i;

	for (i = 0; order[i]; i++) {
		a = json_object_get(rec, order[i]);
		b = json_object_get(rep, order[i]);
		if ((a || b) && !(a && b && json_equal(a, b)))
			break;
	}
	if (order[i]) {
		if (!strcmp(order[i], "verificationResult"))
			return ml_err_set(e, ML_EINTEGRITY, "the gate decision for %s does not replay: "
					  "recorded %s, replayed %s", subject, json_string_value(a),
					  json_string_value(b));
		return ml_err_set(e, ML_EINTEGRITY, "the gate decision for %s does not replay: its "
				  "%s differs", subject, order[i]);
	}
	json_object_foreach(rec, k, a) {
		if (!strcmp(k, "verifier") || !strcmp(k, "inputAttestations"))
			continue;
		if (!json_object_get(rep, k))
			return ml_err_set(e, ML_EINTEGRITY, "the gate decision for %s does not "
					  "replay: it has a member %s no replay writes", subject, k);
	}
	a = json_array_get(json_object_get(rec, "inputAttestations"), 0);
	b = json_array_get(json_object_get(rep, "inputAttestations"), 0);
	if (json_array_size(json_object_get(rec, "inputAttestations")) != 1 ||
	    !json_equal(json_object_get(a, "name"), json_object_get(b, "name")))
		return ml_err_set(e, ML_EINTEGRITY, "the gate decision for %s does not replay: its "
				  "inputAttestations differ", subject);
	return ML_OK;
}

#define CACHED_POLICIES 64

/* What consecutive replays share: the compiled recorded policies (by seq,
 * with their recorded params only, so the same for every decision) and the
 * session of the last checkpoint size. */
struct ml_gate_replayer {
	struct ml_ledger *l;
	struct ml_evidence *v;     /* at size, or NULL */
	uint64_t size;
	uint64_t trusted;          /* entries verified in full by the caller */
	uint8_t head[ML_SHA256_LEN];
	struct ml_gate_policy pol[CACHED_POLICIES];
	size_t npol, next;         /* next: the slot to reuse when full */
};

int
ml_gate_replayer_new(struct ml_ledger *l, struct ml_gate_replayer **out, struct ml_err *e)
{
	if (!(*out = calloc(1, sizeof **out)))
		return ml_err_set(e, ML_EIO, "out of memory");
	(*out)->l = l;
	return ML_OK;
}

void
ml_gate_replayer_free(struct ml_gate_replayer *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->npol; i++)
		ml_gate_policy_free(&r->pol[i]);
	ml_evidence_close(r->v);
	free(r);
}

/* The policy entry at seq, compiled once. */
static int
cached_policy(struct ml_gate_replayer *r, uint64_t seq, const struct ml_gate_policy **out,
	      struct ml_err *e)
{
	struct ml_gate_policy *slot;
	size_t i;
	int rc;

	for (i = 0; i < r->npol; i++)
		if (r->pol[i].seq == (int64_t)seq) {
			*out = &r->pol[i];
			return ML_OK;
		}
	if (r->npol < CACHED_POLICIES) {
		slot = &r->pol[r->npol];
	} else {
		slot = &r->pol[r->next];
		r->next = (r->next + 1) % CACHED_POLICIES;
		ml_gate_policy_free(slot);
	}
	if ((rc = ml_gate_policy_at(r->v, seq, NULL, 0, slot, e)))
		return rc;
	if (slot == &r->pol[r->npol])
		r->npol++;
	*out = slot;
	return ML_OK;
}

/* The session at size, evaluating at time_us (no cutoff: every entry below
 * size is evidence), reused while the size stays. */
static int
session_at(struct ml_gate_replayer *r, uint64_t size, int64_t time_us, struct ml_err *e)
{
	int rc;

	if (r->v && r->size == size)
		return ml_evidence_set_as_of(r->v, time_us);
	ml_evidence_close(r->v);
	r->v = NULL;
	if ((rc = ml_evidence_open_at(r->l, size, time_us, ML_EVIDENCE_HEAD, &r->v, e)))
		return rc;
	r->size = size;
	if (r->trusted)
		ml_evidence_trust_prefix(r->v, r->trusted, r->head);
	return ML_OK;
}

void
ml_gate_replayer_trust(struct ml_gate_replayer *r, uint64_t n, const uint8_t head[ML_SHA256_LEN])
{
	r->trusted = n;
	memcpy(r->head, head, ML_SHA256_LEN);
}

int
ml_gate_replayer_run(struct ml_gate_replayer *r, const struct ml_statement *st,
		     struct ml_err *e)
{
	struct ml_gate_policy pol[ML_GATE_MAX_POLICIES];
	const struct ml_gate_policy *p;
	struct ml_gate_input in;
	struct ml_findings fs;
	struct recorded rec;
	uint8_t evd[ML_SHA256_LEN], digest[ML_SHA256_LEN];
	xmlDocPtr doc = NULL;
	json_t *pred = NULL;
	size_t i;
	int rc;

	memset(&fs, 0, sizeof fs);
	if (st->kind != ML_KIND_GATE)
		return ml_err_set(e, ML_EINPUT, "not a gate decision");
	if ((rc = read_recorded(r->l, st, &rec, e)) ||
	    (rc = session_at(r, rec.size, rec.time_us, e)))
		return rc;
	for (i = 0; i < rec.n; i++) {
		if ((rc = cached_policy(r, rec.seqs[i], &p, e)))
			return rc;
		pol[i] = *p; /* borrowed: the cache owns it */
	}
	in = (struct ml_gate_input){.subject = rec.subject, .env = rec.env, .phase = rec.phase,
				    .policies = pol, .npolicies = rec.n};
	rc = ml_gate_eval(r->v, &in, &fs, evd, &doc, e);
	if (rc == ML_EINPUT) { /* e.g. a model the checkpoint's ledger does not hold */
		char why[sizeof e->msg];
		snprintf(why, sizeof why, "%s", e->msg);
		rc = ml_err_set(e, ML_EINTEGRITY, "the gate decision for %s does not replay: %.300s",
				rec.subject, why);
	}
	if (rc ||
	    (rc = ml_gate_predicate(r->l, r->v, &in, rec.time_us, &fs, evd, doc, digest, &pred, e)))
		goto out;
	if (memcmp(digest, st->digest, ML_SHA256_LEN) != 0)
		rc = ml_err_set(e, ML_EINTEGRITY, "the gate decision for %s does not replay: its "
				"subject digest is not the candidate's", rec.subject);
	else
		rc = compare(st->predicate, pred, rec.subject, e);
out:
	json_decref(pred);
	xmlFreeDoc(doc);
	ml_findings_free(&fs);
	return rc;
}

int
ml_gate_replay(struct ml_ledger *l, const struct ml_statement *st, struct ml_err *e)
{
	struct ml_gate_replayer *r;
	int rc;

	if ((rc = ml_gate_replayer_new(l, &r, e)))
		return rc;
	rc = ml_gate_replayer_run(r, st, e);
	ml_gate_replayer_free(r);
	return rc;
}

/* The seqs of the recorded decisions, growing (the owner frees v). */
struct seqlist {
	uint64_t *v;
	size_t n, cap;
	int oom;
};

/* ml_store_query_seqs callback: ML_OK, or ML_EIO (and oom set) when out of
 * memory. */
static int
collect(void *ctx, uint64_t seq)
{
	struct seqlist *s = ctx;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		uint64_t *p = realloc(s->v, cap * sizeof *p);
		if (!p) {
			s->oom = 1;
			return ML_EIO;
		}
		s->v = p;
		s->cap = cap;
	}
	s->v[s->n++] = seq;
	return ML_OK;
}

/* Replays the decision at seq. */
static int
replay_seq(struct ml_gate_replayer *r, uint64_t seq, struct ml_err *e)
{
	struct ml_ledger *l = r->l;
	struct ml_envelope env;
	struct ml_statement st;
	struct ml_entry en;
	uint8_t *bytes = NULL, leaf[ML_SHA256_LEN];
	char why[sizeof e->msg];
	int rc;

	if ((rc = ml_store_entry_get(ml_ledger_store(l), seq, &en, &bytes, leaf, e)))
		return rc;
	if ((rc = ml_envelope_parse(en.envelope, en.envelope_len, &env, e)) == ML_OK) {
		if ((rc = ml_statement_parse(env.payload, env.payload_len, &st, e)) == ML_OK) {
			rc = st.kind == ML_KIND_GATE ? ml_gate_replayer_run(r, &st, e) : ML_OK;
			ml_statement_free(&st);
		}
		ml_envelope_clear(&env);
	}
	free(bytes);
	if (rc) {
		snprintf(why, sizeof why, "%s", e->msg);
		ml_err_set(e, rc == ML_EINPUT ? ML_EINTEGRITY : rc, "%s", why);
		e->seq = (long long)seq;
	}
	return rc ? e->code : ML_OK;
}

/* One replay worker: seqs [from, to) on a connection of its own. */
struct rjob {
	const char *path;
	const uint64_t *seqs;
	size_t from, to;
	uint64_t verified;
	const uint8_t *head;
	atomic_size_t *done;
	size_t total;
	int first;                 /* reports progress */
	void (*progress)(void *, uint64_t, uint64_t);
	void *ctx;
	int rc;
	struct ml_err e;           /* when rc: the first decision of the range that failed */
	uint64_t count;
};

static void *
rworker(void *arg)
{
	struct rjob *j = arg;
	struct ml_gate_replayer *r = NULL;
	struct ml_ledger *l = NULL;
	size_t i;

	ml_err_clear(&j->e);
	if (!(j->rc = ml_ledger_open(j->path, 0, &l, &j->e)) &&
	    !(j->rc = ml_gate_replayer_new(l, &r, &j->e)) && j->verified)
		ml_gate_replayer_trust(r, j->verified, j->head);
	for (i = j->from; j->rc == ML_OK && i < j->to; i++) {
		if ((j->rc = replay_seq(r, j->seqs[i], &j->e)) == ML_OK)
			j->count++;
		atomic_fetch_add(j->done, 1);
		if (j->first && j->progress && ((i & 63) == 0 || i + 1 == j->to))
			j->progress(j->ctx, atomic_load(j->done), j->total);
	}
	ml_gate_replayer_free(r);
	ml_ledger_close(l);
	return NULL;
}

int
ml_gate_replay_all(struct ml_ledger *l, uint64_t verified, const uint8_t head[ML_SHA256_LEN],
		   size_t jobs, void (*progress)(void *, uint64_t, uint64_t), void *ctx,
		   uint64_t *count, struct ml_err *e)
{
	struct seqlist seqs = {0};
	struct rjob job[ML_GATE_MAX_JOBS];
	pthread_t tid[ML_GATE_MAX_JOBS];
	atomic_size_t done = 0;
	size_t i, started = 0;
	int rc;

	*count = 0;
	rc = ml_store_query_seqs(ml_ledger_store(l), "gate", NULL, NULL, 0, collect, &seqs, e);
	if (seqs.oom)
		rc = ml_err_set(e, ML_EIO, "out of memory");
	if (jobs < 1)
		jobs = 1;
	if (jobs > ML_GATE_MAX_JOBS)
		jobs = ML_GATE_MAX_JOBS;
	if (jobs > seqs.n / 16 + 1)
		jobs = seqs.n / 16 + 1; /* a session per worker is worth it */
	/* libxml2's global state (its mutexes, the dictionary's random seed,
	 * the schema types) must be set up once before threads use it: a race
	 * there deadlocks or leaks */
	ml_policy_global_init();
	for (i = 0; rc == ML_OK && i < jobs; i++) {
		/* contiguous ranges: checkpoint sizes grow with seq, so each worker
		 * keeps its sessions */
		job[i] = (struct rjob){.path = ml_store_path(ml_ledger_store(l)), .seqs = seqs.v,
				       .from = seqs.n * i / jobs, .to = seqs.n * (i + 1) / jobs,
				       .verified = verified, .head = head, .done = &done,
				       .total = seqs.n, .first = i == 0, .progress = progress,
				       .ctx = ctx};
		if (pthread_create(&tid[i], NULL, rworker, &job[i]) != 0) {
			rc = ml_err_set(e, ML_EIO, "cannot start a replay thread");
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	for (i = 0; rc == ML_OK && i < started; i++) { /* the first failure in seq order */
		*count += job[i].count;
		if (job[i].rc) {
			*e = job[i].e;
			rc = job[i].rc;
		}
	}
	free(seqs.v);
	return rc;
}
