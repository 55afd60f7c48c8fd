/* governance — see governance.h. */
#include "governance.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROLES 64
#define MAX_ENVS 64
#define MAX_NAMED 256
#define MAX_PAIRS 64 /* separation: role pairs */

/* FORMAT.md §2; ledger/governance.default.json holds the same bytes (a unit
 * test compares them). */
static const char default_text[] =
	"{\n"
	"  \"roles\": {\n"
	"    \"admin\": [\"key-enrollment\", \"key-revocation\", \"governance\", "
	"\"clock-correction\", \"policy\"],\n"
	"    \"engineer\": [\"dataset\", \"model\", \"deployment\", \"monitoring\", "
	"\"retirement\", \"incident\", \"gate\"],\n"
	"    \"validator\": [\"evaluation\", \"monitoring\", \"incident\"],\n"
	"    \"approver\": [\"approval\"],\n"
	"    \"risk-officer\": [\"waiver\", \"incident\", \"policy\"],\n"
	"    \"auditor\": [\"report\"]\n"
	"  },\n"
	"  \"environments\": [\"dev\", \"staging\", \"prod\"],\n"
	"  \"gates\": {\n"
	"    \"prod\": {\"policies\": [\"production\"], \"maxAge\": 86400}\n"
	"  },\n"
	"  \"properties\": {\n"
	"    \"pii\": {\"type\": \"boolean\"},\n"
	"    \"license\": {\"type\": \"string\"},\n"
	"    \"dpia\": {\"type\": \"string\"}\n"
	"  }\n"
	"}\n";

/* Directions of the open metric set (no "metrics" member declared). */
static const char *const default_higher[] = {"auc", "accuracy", "precision", "recall", "f1"};
static const char *const default_lower[] = {"loss", "log_loss", "rmse", "mae", "mse"};

/* Tables built from the document once, so the checks made for every entry
 * are a few string compares, not JSON look-ups.  Names point into doc. */
struct gov_role {
	const char *name;
	uint32_t kinds; /* bit k: may sign enum ml_kind k */
};

struct gov_prop {
	const char *name;
	const char *type; /* "boolean", "string" or "number" */
	json_t *values;   /* the declared values, or NULL */
};

_Static_assert(ML_KIND_COUNT <= 32, "a role's kinds fit a uint32_t");

struct gov_gate {
	const char *env;
	json_t *policies; /* the policy ids a passing decision names */
	int64_t max_age_s;
};

struct ml_governance {
	char *text;       /* owned, NUL-terminated */
	struct gov_gate gates[MAX_ENVS];
	size_t ngates;
	json_t *doc;      /* owned: the effective document, defaults filled in */
	int metrics_closed;
	struct gov_role roles[MAX_ROLES];
	size_t nroles;
	const char *envs[MAX_ENVS];
	size_t nenvs;
	struct gov_prop *props; /* owned array */
	size_t nprops;
	uint32_t dual_kinds;    /* dualControl: bit k set for each kind listed */
	int dual_signers;       /* dualControl.signers; 0 when not declared */
	const char *dual_role;  /* dualControl.role (default "admin") */
	const char *sep[MAX_PAIRS][2]; /* separation pairs */
	size_t nsep;
};

const char *
ml_governance_default_text(void)
{
	return default_text;
}

const char *
ml_governance_text(const struct ml_governance *g)
{
	return g->text;
}

json_t *
ml_governance_json(const struct ml_governance *g)
{
	return g->doc;
}

void
ml_governance_free(struct ml_governance *g)
{
	if (!g)
		return;
	free(g->text);
	free(g->props);
	json_decref(g->doc);
	free(g);
}

/* ---- names and suggestions --------------------------------------------- */

static int
name_ok(const char *s, const char *extra, size_t max, int lower_only)
{
	size_t n = s ? strlen(s) : 0, i;

	if (n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (!lower_only && c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr(extra, c)))
			return 0;
	}
	return 1;
}

/* Levenshtein distance with adjacent transpositions, capped inputs. */
static size_t
distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b), i, j;
	size_t d[65][65];

	if (n > 64 || m > 64)
		return (size_t)-1;
	for (i = 0; i <= n; i++)
		d[i][0] = i;
	for (j = 0; j <= m; j++)
		d[0][j] = j;
	for (i = 1; i <= n; i++)
		for (j = 1; j <= m; j++) {
			size_t cost = a[i - 1] != b[j - 1], best = d[i - 1][j - 1] + cost;
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[n][m];
}

const char *
ml_suggest(const char *word, const char *const *set, size_t n)
{
	const char *best = NULL;
	size_t bd = 3, i, d;

	for (i = 0; i < n; i++)
		if ((d = distance(word, set[i])) < bd && d < strlen(word)) {
			bd = d;
			best = set[i];
		}
	return best;
}

/* The names of an object's members, or of an array's strings, into set
 * (at most cap) and, joined by ", ", into list. */
static size_t
names_of(json_t *v, const char **set, size_t cap, char *list, size_t lcap)
{
	const char *k;
	json_t *x;
	size_t n = 0, i;

	list[0] = '\0';
	if (json_is_object(v)) {
		json_object_foreach(v, k, x)
			if (n < cap)
				set[n++] = k;
	} else {
		json_array_foreach(v, i, x)
			if (n < cap && json_is_string(x))
				set[n++] = json_string_value(x);
	}
	for (i = 0; i < n; i++) {
		size_t len = strlen(list);
		if (len + 4 >= lcap)
			break;
		snprintf(list + len, lcap - len, "%s%s", i ? ", " : "", set[i]);
	}
	return n;
}

/* "X \"word\" is not declared in the ledger's governance (did you mean Y?);
 * declared: ..." */
static int
undeclared(const char *what, const char *word, json_t *declared, struct ml_err *e)
{
	const char *set[MAX_NAMED];
	char list[512];
	size_t n = names_of(declared, set, MAX_NAMED, list, sizeof list);
	const char *hint = ml_suggest(word, set, n);

	if (hint)
		return ml_err_set(e, ML_EINPUT, "%s \"%.64s\" is not declared in the ledger's "
				  "governance; did you mean %s?", what, word, hint);
	return ml_err_set(e, ML_EINPUT, "%s \"%.64s\" is not declared in the ledger's "
			  "governance (declared: %s)", what, word, n ? list : "none");
}

/* ---- validating a document --------------------------------------------- */

static int
only(json_t *o, const char *const *names, const char *what, struct ml_err *e)
{
	const char *k;
	json_t *x;
	size_t i;

	json_object_foreach(o, k, x) {
		for (i = 0; names[i] && strcmp(names[i], k); i++)
			;
		if (!names[i])
			return ml_err_set(e, ML_EINPUT, "governance: %s: unknown member \"%.64s\"",
					  what, k);
	}
	return ML_OK;
}

static int
has_string(json_t *arr, const char *s)
{
	size_t i;
	json_t *x;

	json_array_foreach(arr, i, x)
		if (json_is_string(x) && strcmp(json_string_value(x), s) == 0)
			return 1;
	return 0;
}

/* An array of at most max distinct strings, each accepted by ok. */
static int
check_list(json_t *v, size_t min, size_t max, int (*ok)(const char *),
	   const char *what, struct ml_err *e)
{
	size_t i, j;
	json_t *x;

	if (!json_is_array(v) || json_array_size(v) < min || json_array_size(v) > max)
		return ml_err_set(e, ML_EINPUT, "governance: %s: a list of %zu to %zu names", what,
				  min, max);
	json_array_foreach(v, i, x) {
		if (!json_is_string(x) || !ok(json_string_value(x)))
			return ml_err_set(e, ML_EINPUT, "governance: %s: bad name \"%.64s\"", what,
					  json_is_string(x) ? json_string_value(x) : "");
		for (j = 0; j < i; j++)
			if (!strcmp(json_string_value(x), json_string_value(json_array_get(v, j))))
				return ml_err_set(e, ML_EINPUT, "governance: %s: \"%.64s\" given twice",
						  what, json_string_value(x));
	}
	return ML_OK;
}

static int
signable_kind(const char *s)
{
	enum ml_kind k;

	return ml_kind_parse(s, &k) == 0 && k != ML_KIND_GENESIS;
}

static int
env_name(const char *s)
{
	return name_ok(s, "._:-", 128, 0);
}

static int
text_value(const char *s)
{
	return s && *s && strlen(s) <= 256 && ml_text_valid(s, strlen(s), NULL);
}

static int
check_roles_member(json_t *roles, struct ml_err *e)
{
	static const char *const admin_needs[] = {"key-enrollment", "key-revocation",
						  "governance", NULL};
	json_t *admin;
	const char *k;
	json_t *x;
	size_t i;

	if (!json_is_object(roles) || json_object_size(roles) == 0 ||
	    json_object_size(roles) > MAX_ROLES)
		return ml_err_set(e, ML_EINPUT, "governance: roles: an object of 1 to %d roles",
				  MAX_ROLES);
	json_object_foreach(roles, k, x) {
		char what[64];
		if (!name_ok(k, "-", 32, 1))
			return ml_err_set(e, ML_EINPUT, "governance: roles: bad role name \"%.64s\" "
					  "(1-32 of [a-z0-9-])", k);
		snprintf(what, sizeof what, "roles.%s", k);
		if (check_list(x, 0, ML_KIND_COUNT, signable_kind, what, e))
			return e->code;
	}
	admin = json_object_get(roles, "admin");
	for (i = 0; admin_needs[i]; i++)
		if (!admin || !has_string(admin, admin_needs[i]))
			return ml_err_set(e, ML_EINPUT, "governance: roles: admin must be declared and "
					  "may sign key-enrollment, key-revocation and governance");
	return ML_OK;
}

static int
check_metrics_member(json_t *m, struct ml_err *e)
{
	static const char *const members[] = {"direction", "unit", NULL};
	const char *k;
	json_t *x, *d, *u;

	if (!json_is_object(m) || json_object_size(m) > MAX_NAMED)
		return ml_err_set(e, ML_EINPUT, "governance: metrics: an object of at most %d "
				  "metrics", MAX_NAMED);
	json_object_foreach(m, k, x) {
		if (!name_ok(k, "_.-", 64, 0))
			return ml_err_set(e, ML_EINPUT, "governance: metrics: bad name \"%.64s\"", k);
		if (!json_is_object(x) || only(x, members, "metrics", e))
			return ml_err_set(e, ML_EINPUT, "governance: metrics.%s: must be "
					  "{\"direction\": \"higher\"|\"lower\", \"unit\"?}", k);
		d = json_object_get(x, "direction");
		u = json_object_get(x, "unit");
		if (!json_is_string(d) || (strcmp(json_string_value(d), "higher") &&
					   strcmp(json_string_value(d), "lower")))
			return ml_err_set(e, ML_EINPUT, "governance: metrics.%s.direction: must be "
					  "\"higher\" or \"lower\"", k);
		if (u && (!json_is_string(u) || !text_value(json_string_value(u)) ||
			  json_string_length(u) > 32))
			return ml_err_set(e, ML_EINPUT, "governance: metrics.%s.unit: 1-32 bytes of "
					  "text", k);
	}
	return ML_OK;
}

static int
check_properties_member(json_t *p, struct ml_err *e)
{
	static const char *const members[] = {"type", "values", NULL};
	const char *k, *t;
	json_t *x, *vals;

	if (!json_is_object(p) || json_object_size(p) > MAX_NAMED)
		return ml_err_set(e, ML_EINPUT, "governance: properties: an object of at most %d "
				  "properties", MAX_NAMED);
	json_object_foreach(p, k, x) {
		char what[96];
		if (!name_ok(k, "_.-", 64, 0))
			return ml_err_set(e, ML_EINPUT, "governance: properties: bad name \"%.64s\"",
					  k);
		t = json_string_value(json_object_get(x, "type"));
		if (!json_is_object(x) || only(x, members, "properties", e) || !t ||
		    (strcmp(t, "boolean") && strcmp(t, "string") && strcmp(t, "number")))
			return ml_err_set(e, ML_EINPUT, "governance: properties.%s: must be {\"type\": "
					  "\"boolean\"|\"string\"|\"number\", \"values\"?}", k);
		vals = json_object_get(x, "values");
		snprintf(what, sizeof what, "properties.%s.values", k);
		if (vals && strcmp(t, "string"))
			return ml_err_set(e, ML_EINPUT, "governance: %s: only a string property "
					  "lists values", what);
		if (vals && check_list(vals, 1, MAX_NAMED, text_value, what, e))
			return e->code;
	}
	return ML_OK;
}

static int
policy_id(const char *s)
{
	return name_ok(s, "._/-", 128, 0);
}

/* {ENV: {"policies": [ID, ...], "maxAge": seconds}}, every ENV declared. */
static int
check_gates_member(json_t *gates, json_t *envs, struct ml_err *e)
{
	static const char *const members[] = {"policies", "maxAge", NULL};
	const char *k;
	json_t *x, *age;

	if (!json_is_object(gates) || json_object_size(gates) > MAX_ENVS)
		return ml_err_set(e, ML_EINPUT, "governance: gates: an object of at most %d "
				  "environments", MAX_ENVS);
	json_object_foreach(gates, k, x) {
		char what[160];
		if (!has_string(envs, k))
			return undeclared("gates: environment", k, envs, e);
		snprintf(what, sizeof what, "gates.%.128s.policies", k);
		age = json_object_get(x, "maxAge");
		if (!json_is_object(x) || only(x, members, "gates", e) ||
		    check_list(json_object_get(x, "policies"), 1, 16, policy_id, what, e) ||
		    !json_is_integer(age) || json_integer_value(age) < 1 ||
		    json_integer_value(age) > 366 * 86400)
			return ml_err_set(e, ML_EINPUT, "governance: gates.%.128s: must be "
					  "{\"policies\": [1 to 16 policy ids], \"maxAge\": 1 to "
					  "31622400 seconds}", k);
	}
	return ML_OK;
}

static int
validate(json_t *doc, struct ml_err *e)
{
	static const char *const members[] = {"roles", "environments", "metrics", "properties",
					      "gates", "dualControl", "separation", NULL};
	json_t *x;

	if (!json_is_object(doc))
		return ml_err_set(e, ML_EINPUT, "governance: the document must be a JSON object");
	if (only(doc, members, "document", e))
		return e->code;
	if ((x = json_object_get(doc, "roles")) && check_roles_member(x, e))
		return e->code;
	if ((x = json_object_get(doc, "environments")) &&
	    check_list(x, 1, MAX_ENVS, env_name, "environments", e))
		return e->code;
	if ((x = json_object_get(doc, "metrics")) && check_metrics_member(x, e))
		return e->code;
	if ((x = json_object_get(doc, "properties")) && check_properties_member(x, e))
		return e->code;
	return ML_OK;
}

/* gates after the defaults are in: its environments must be declared. */
static int
validate_gates(json_t *doc, struct ml_err *e)
{
	json_t *x = json_object_get(doc, "gates");

	return x ? check_gates_member(x, json_object_get(doc, "environments"), e) : ML_OK;
}

/* dualControl: {"kinds": [kind, ...], "signers": K, "role": ROLE?}, the
 * role declared (FORMAT.md §2).  After the defaults are in. */
static int
validate_dual(json_t *doc, struct ml_err *e)
{
	static const char *const members[] = {"kinds", "signers", "role", NULL};
	json_t *d = json_object_get(doc, "dualControl"), *k, *r;

	if (!d)
		return ML_OK;
	if (!json_is_object(d) || only(d, members, "dualControl", e))
		return ml_err_set(e, ML_EINPUT, "governance: dualControl: must be {\"kinds\": "
				  "[kind, ...], \"signers\": 1 to %d, \"role\"?: role}",
				  ML_ENVELOPE_MAX_SIGS);
	if (check_list(json_object_get(d, "kinds"), 1, ML_KIND_COUNT, signable_kind,
		       "dualControl.kinds", e))
		return e->code;
	k = json_object_get(d, "signers");
	if (!json_is_integer(k) || json_integer_value(k) < 1 ||
	    json_integer_value(k) > ML_ENVELOPE_MAX_SIGS)
		return ml_err_set(e, ML_EINPUT, "governance: dualControl.signers: an integer from "
				  "1 to %d (distinct persons who must sign)", ML_ENVELOPE_MAX_SIGS);
	r = json_object_get(d, "role");
	if (r && !json_is_string(r))
		return ml_err_set(e, ML_EINPUT, "governance: dualControl.role: a role name");
	if (r && !json_object_get(json_object_get(doc, "roles"), json_string_value(r)))
		return undeclared("dualControl.role", json_string_value(r),
				  json_object_get(doc, "roles"), e);
	return ML_OK;
}

/* separation: [[ROLE, ROLE], ...], 1 to MAX_PAIRS pairs of two distinct
 * declared roles.  After the defaults are in. */
static int
validate_separation(json_t *doc, struct ml_err *e)
{
	json_t *sep = json_object_get(doc, "separation"), *pair, *r;
	size_t i, j;

	if (!sep)
		return ML_OK;
	if (!json_is_array(sep) || json_array_size(sep) < 1 || json_array_size(sep) > MAX_PAIRS)
		return ml_err_set(e, ML_EINPUT, "governance: separation: a list of 1 to %d role "
				  "pairs, like [[\"admin\", \"approver\"]]", MAX_PAIRS);
	json_array_foreach(sep, i, pair) {
		if (!json_is_array(pair) || json_array_size(pair) != 2 ||
		    !json_is_string(json_array_get(pair, 0)) ||
		    !json_is_string(json_array_get(pair, 1)) ||
		    !strcmp(json_string_value(json_array_get(pair, 0)),
			    json_string_value(json_array_get(pair, 1))))
			return ml_err_set(e, ML_EINPUT, "governance: separation[%zu]: must be a pair "
					  "of two different role names", i);
		json_array_foreach(pair, j, r)
			if (!json_object_get(json_object_get(doc, "roles"), json_string_value(r)))
				return undeclared("separation: role", json_string_value(r),
						  json_object_get(doc, "roles"), e);
	}
	return ML_OK;
}

/* The tables of a validated, defaults-filled document.  ML_EIO when out of
 * memory. */
static enum ml_rc
index_doc(struct ml_governance *g)
{
	json_t *props = json_object_get(g->doc, "properties"), *x, *kind;
	const char *k;
	size_t i;
	enum ml_kind kd;

	json_object_foreach(json_object_get(g->doc, "roles"), k, x) {
		struct gov_role *r = &g->roles[g->nroles++];
		r->name = k;
		json_array_foreach(x, i, kind)
			if (ml_kind_parse(json_string_value(kind), &kd) == 0)
				r->kinds |= 1u << kd;
	}
	json_array_foreach(json_object_get(g->doc, "environments"), i, x)
		g->envs[g->nenvs++] = json_string_value(x);
	if ((x = json_object_get(g->doc, "dualControl"))) {
		json_array_foreach(json_object_get(x, "kinds"), i, kind)
			if (ml_kind_parse(json_string_value(kind), &kd) == 0)
				g->dual_kinds |= 1u << kd;
		g->dual_signers = (int)json_integer_value(json_object_get(x, "signers"));
		g->dual_role = json_string_value(json_object_get(x, "role"));
		if (!g->dual_role)
			g->dual_role = "admin";
	}
	json_array_foreach(json_object_get(g->doc, "separation"), i, x) {
		g->sep[g->nsep][0] = json_string_value(json_array_get(x, 0));
		g->sep[g->nsep++][1] = json_string_value(json_array_get(x, 1));
	}
	json_object_foreach(json_object_get(g->doc, "gates"), k, x) {
		struct gov_gate *t = &g->gates[g->ngates++];
		t->env = k;
		t->policies = json_object_get(x, "policies");
		t->max_age_s = json_integer_value(json_object_get(x, "maxAge"));
	}
	if (json_object_size(props) &&
	    !(g->props = calloc(json_object_size(props), sizeof *g->props)))
		return ML_EIO;
	json_object_foreach(props, k, x) {
		g->props[g->nprops].name = k;
		g->props[g->nprops].type = json_string_value(json_object_get(x, "type"));
		g->props[g->nprops++].values = json_object_get(x, "values");
	}
	return ML_OK;
}

static const struct gov_role *
find_role(const struct ml_governance *g, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < g->nroles; i++)
		if (strlen(g->roles[i].name) == len && !memcmp(g->roles[i].name, name, len))
			return &g->roles[i];
	return NULL;
}

int
ml_governance_parse(const char *text, size_t len, struct ml_governance **out,
		    struct ml_err *e)
{
	struct ml_governance *g;
	json_t *doc, *def;
	json_error_t jerr;
	const char *k;
	json_t *x;

	if (len > ML_GOVERNANCE_MAX)
		return ml_err_set(e, ML_EINPUT, "governance: larger than %d bytes",
				  ML_GOVERNANCE_MAX);
	if (!ml_text_valid(text, len, "\n\t\r"))
		return ml_err_set(e, ML_EINPUT, "governance: not valid UTF-8 text");
	if (!(doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)))
		return ml_err_set(e, ML_EINPUT, "governance: bad JSON at line %d: %s", jerr.line,
				  jerr.text);
	if (validate(doc, e)) {
		json_decref(doc);
		return e->code;
	}
	g = calloc(1, sizeof *g);
	def = json_loads(default_text, 0, NULL);
	if (!g || !def || !(g->text = malloc(len + 1))) {
		json_decref(doc);
		json_decref(def);
		ml_governance_free(g);
		return ml_err_set(e, ML_EIO, "out of memory");
	}
	memcpy(g->text, text, len);
	g->text[len] = '\0';
	g->metrics_closed = json_object_get(doc, "metrics") != NULL;
	/* gates are not defaulted: documents written before they existed
	 * require no decision (FORMAT.md §2) */
	json_object_foreach(def, k, x)
		if (!json_object_get(doc, k) && strcmp(k, "gates"))
			json_object_set(doc, k, x);
	json_decref(def);
	g->doc = doc;
	if (validate_gates(doc, e) || validate_dual(doc, e) || validate_separation(doc, e)) {
		ml_governance_free(g);
		return e->code;
	}
	if (index_doc(g)) {
		ml_governance_free(g);
		return ml_err_set(e, ML_EIO, "out of memory");
	}
	*out = g;
	return ML_OK;
}

struct ml_governance *
ml_governance_default(void)
{
	struct ml_governance *g = NULL;
	struct ml_err e;

	ml_err_clear(&e);
	ml_governance_parse(default_text, sizeof default_text - 1, &g, &e);
	return g;
}

/* ---- checks ------------------------------------------------------------ */

bool
ml_governance_role_known(const struct ml_governance *g, const char *role)
{
	return role && find_role(g, role, strlen(role)) != NULL;
}

int
ml_governance_check_signer(const struct ml_governance *g, const char *keyid,
			   const char *roles, enum ml_kind kind, struct ml_err *e)
{
	const char *kname = ml_kind_name(kind), *p = roles;
	const struct gov_role *r;
	char may[512] = "";
	size_t i;

	while (p && *p) {
		size_t n = strcspn(p, ",");
		if ((r = find_role(g, p, n)) && (r->kinds >> kind & 1u))
			return ML_OK;
		p += n + (p[n] == ',');
	}
	for (i = 0; i < g->nroles; i++)
		if (g->roles[i].kinds >> kind & 1u) {
			size_t len = strlen(may);
			snprintf(may + len, sizeof may - len, "%s%s", len ? ", " : "",
				 g->roles[i].name);
		}
	return ml_err_set(e, ML_EKEY, "key %s (role %s) may not sign %s entries; the ledger's "
			  "governance lets %s sign them", keyid, roles, kname,
			  *may ? may : "no role");
}

int
ml_governance_check_roles(const struct ml_governance *g, json_t *roles,
			  struct ml_err *e)
{
	size_t i;
	json_t *r;

	json_array_foreach(roles, i, r)
		if (!ml_governance_role_known(g, json_string_value(r)))
			return undeclared("role", json_string_value(r),
					  json_object_get(g->doc, "roles"), e);
	return ML_OK;
}

int
ml_governance_check_env(const struct ml_governance *g, const char *env, struct ml_err *e)
{
	size_t i;

	for (i = 0; env && i < g->nenvs; i++)
		if (!strcmp(g->envs[i], env))
			return ML_OK;
	return undeclared("environment", env ? env : "",
			  json_object_get(g->doc, "environments"), e);
}

bool
ml_governance_metrics_closed(const struct ml_governance *g)
{
	return g->metrics_closed;
}

int
ml_governance_check_metrics(const struct ml_governance *g, json_t *metrics,
			    struct ml_err *e)
{
	json_t *decl = json_object_get(g->doc, "metrics");
	const char *k;
	json_t *x;

	if (!g->metrics_closed)
		return ML_OK;
	json_object_foreach(metrics, k, x)
		if (!json_object_get(decl, k))
			return undeclared("metric", k, decl, e);
	return ML_OK;
}

static int
check_property(const char *name, const struct gov_prop *decl, json_t *v, struct ml_err *e)
{
	const char *type = decl->type, *set[MAX_NAMED], *hint;
	json_t *vals = decl->values;
	char list[512];
	size_t n;

	if (!strcmp(type, "boolean") && !json_is_boolean(v))
		return ml_err_set(e, ML_EINPUT, "property %s must be true or false (a boolean), "
				  "not %s%.32s%s", name, json_is_string(v) ? "\"" : "",
				  json_is_string(v) ? json_string_value(v) : "a number",
				  json_is_string(v) ? "\"" : "");
	if (!strcmp(type, "number") && !json_is_number(v))
		return ml_err_set(e, ML_EINPUT, "property %s must be a number", name);
	if (!strcmp(type, "string") && !json_is_string(v))
		return ml_err_set(e, ML_EINPUT, "property %s must be text (give it as a string)",
				  name);
	if (!vals || has_string(vals, json_string_value(v)))
		return ML_OK;
	n = names_of(vals, set, MAX_NAMED, list, sizeof list);
	if ((hint = ml_suggest(json_string_value(v), set, n)))
		return ml_err_set(e, ML_EINPUT, "property %s: \"%.64s\" is not a declared value; "
				  "did you mean %s?", name, json_string_value(v), hint);
	return ml_err_set(e, ML_EINPUT, "property %s: \"%.64s\" is not a declared value (%s)",
			  name, json_string_value(v), list);
}

int
ml_governance_check_properties(const struct ml_governance *g, json_t *props,
			       struct ml_err *e)
{
	const char *k;
	json_t *x;
	size_t i;

	json_object_foreach(props, k, x)
		for (i = 0; i < g->nprops; i++)
			if (!strcmp(g->props[i].name, k) && check_property(k, &g->props[i], x, e))
				return e->code;
	return ML_OK;
}

enum ml_direction
ml_governance_direction(const struct ml_governance *g, const char *metric)
{
	const char *d = json_string_value(json_object_get(
		json_object_get(json_object_get(g->doc, "metrics"), metric), "direction"));
	size_t i;

	if (d)
		return strcmp(d, "higher") == 0 ? ML_DIR_HIGHER : ML_DIR_LOWER;
	if (g->metrics_closed)
		return ML_DIR_NONE;
	for (i = 0; i < sizeof default_higher / sizeof *default_higher; i++)
		if (!strcmp(metric, default_higher[i]))
			return ML_DIR_HIGHER;
	for (i = 0; i < sizeof default_lower / sizeof *default_lower; i++)
		if (!strcmp(metric, default_lower[i]))
			return ML_DIR_LOWER;
	return ML_DIR_NONE;
}

const char *
ml_governance_unit(const struct ml_governance *g, const char *metric)
{
	return json_string_value(json_object_get(
		json_object_get(json_object_get(g->doc, "metrics"), metric), "unit"));
}

bool
ml_governance_gate(const struct ml_governance *g, const char *env, struct ml_gate_req *out)
{
	size_t i, j;

	memset(out, 0, sizeof *out);
	for (i = 0; env && i < g->ngates; i++) {
		if (strcmp(g->gates[i].env, env))
			continue;
		out->n = json_array_size(g->gates[i].policies);
		for (j = 0; j < out->n; j++)
			out->policies[j] = json_string_value(json_array_get(g->gates[i].policies, j));
		out->max_age_us = g->gates[i].max_age_s * 1000000LL;
		return true;
	}
	return false;
}

bool
ml_governance_dual(const struct ml_governance *g, enum ml_kind k, int *signers,
		   const char **role)
{
	if (!g->dual_signers)
		return false;
	*signers = g->dual_signers;
	*role = g->dual_role;
	return k == ML_KIND_COUNT || (g->dual_kinds >> k & 1u);
}

bool
ml_governance_separation(const struct ml_governance *g, size_t i, const char **a,
			 const char **b)
{
	if (i >= g->nsep)
		return false;
	*a = g->sep[i][0];
	*b = g->sep[i][1];
	return true;
}
