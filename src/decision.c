/* decision — see decision.h. */
#include "decision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "statement.h"

/* {"name": name, "digest": {"sha256": hex}}, with "uri" when uri is set */
static json_t *
descriptor_uri(const char *name, const char *uri, const char *hex)
{
	json_t *d = json_pack("{s:s, s:{s:s}}", "name", name, "digest", "sha256", hex);

	if (d && uri && json_object_set_new(d, "uri", json_string(uri))) {
		json_decref(d);
		return NULL;
	}
	return d;
}

static json_t *
descriptor(const char *name, const char *hex)
{
	return descriptor_uri(name, NULL, hex);
}

/* "MLLEDGER_POLICY:ID@VERSION" with bytes outside the level charset as '_'. */
static void
level_of(const struct ml_decision_policy *p, char *buf, size_t cap)
{
	char *c;

	snprintf(buf, cap, "MLLEDGER_POLICY:%s@%s", p->id, p->version);
	for (c = buf; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= '0' && *c <= '9') || strchr("_:.@-", *c)))
			*c = '_';
}

static json_t *
policies_of(const struct ml_decision *d, int levels)
{
	json_t *a = json_array();
	char name[300], uri[40];
	size_t i;

	for (i = 0; a && i < d->npolicies; i++) {
		const struct ml_decision_policy *p = &d->policies[i];
		if (levels)
			level_of(p, name, sizeof name);
		else
			snprintf(name, sizeof name, "%s@%s", p->id, p->version);
		snprintf(uri, sizeof uri, "mlledger:seq/%lld", (long long)p->seq);
		if (json_array_append_new(a, levels ? json_string(name)
						    : descriptor_uri(name, p->seq >= 0 ? uri : NULL,
								     p->sha256))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* {POLICY-ID: {NAME: TEXT}} of the policies evaluated. */
static json_t *
parameters_of(const struct ml_decision *d)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; o && i < d->npolicies; i++)
		if (json_object_set_new(o, d->policies[i].id,
					d->policies[i].params ? json_incref(d->policies[i].params)
							      : json_object())) {
			json_decref(o);
			return NULL;
		}
	return o;
}

int
ml_decision_predicate(const struct ml_decision *d, json_t **out, struct ml_err *e)
{
	char t[21], uri[400], ckpt[65], fhex[65], cname[64];
	uint8_t fd[ML_SHA256_LEN];
	json_t *p, *all, *first;
	char *root;
	int passed;

	if (!d->subject || !d->env || !d->origin || !d->npolicies || !d->findings ||
	    d->size == 0)
		return ml_err_set(e, ML_EINPUT, "gate decision: incomplete");
	passed = d->findings->verdict == ML_OK;
	ml_time_format(d->time_us, t);
	snprintf(uri, sizeof uri, "mlledger:%s?env=%s", d->subject, d->env);
	ml_hex_encode(d->checkpoint_sha256, ML_SHA256_LEN, ckpt);
	snprintf(cname, sizeof cname, "checkpoint/%llu", (unsigned long long)d->size);
	if (ml_findings_digest(d->findings, fd) != ML_OK)
		return ml_err_set(e, ML_EIO, "out of memory");
	ml_hex_encode(fd, ML_SHA256_LEN, fhex);
	all = policies_of(d, 0);
	first = json_deep_copy(json_array_get(all, 0));
	if (!(root = ml_b64_encode(d->root, ML_SHA256_LEN)) || !all || !first) {
		free(root);
		json_decref(all);
		json_decref(first);
		return ml_err_set(e, ML_EIO, "out of memory");
	}
	p = json_pack("{s:{s:s, s:{s:s}}, s:s, s:s, s:o, s:[o], s:s, s:o, s:s, s:o, "
		      "s:{s:s, s:I, s:s}, s:o}",
		      "verifier", "id", ML_VSA_VERIFIER_ID, "version", "mlledger", ML_VERSION,
		      "timeVerified", t, "resourceUri", uri,
		      "policy", first,
		      "inputAttestations", descriptor(cname, ckpt),
		      "verificationResult", passed ? "PASSED" : "FAILED",
		      "verifiedLevels", passed ? policies_of(d, 1) : json_pack("[s]", "FAILED"),
		      "environment", d->env, "policies", all,
		      "ledger", "origin", d->origin, "size", (json_int_t)d->size, "root", root,
		      "findings", descriptor("findings", fhex));
	free(root);
	ml_hex_encode(d->evidence_sha256, ML_SHA256_LEN, fhex);
	if (p && (json_object_set_new(p, "parameters", parameters_of(d)) ||
		  json_object_set_new(p, "evidence", descriptor("evidence", fhex)) ||
		  (d->phase && json_object_set_new(p, "phase", json_string(d->phase))))) {
		json_decref(p);
		p = NULL;
	}
	if (!p)
		return ml_err_set(e, ML_EIO, "gate decision: cannot build the predicate (out of "
				  "memory, or text that is not UTF-8)");
	*out = p;
	return ML_OK;
}
