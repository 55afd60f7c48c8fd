/* governance — what a ledger declares about itself: the roles and the
 * entry kinds each may sign, the environments, the metrics with their
 * direction, and the typed properties (ledger/FORMAT.md §2, "Governance
 * documents").
 *
 * Pure functions over a parsed document: no I/O, no ledger state.  Every
 * check returns ML_EINPUT (or ML_EKEY for a role that may not sign a kind)
 * with one line naming the value at fault and, for a near miss, the
 * declared value meant ("did you mean prod?").  May call statement, util,
 * jansson.
 */
#ifndef ML_GOVERNANCE_H
#define ML_GOVERNANCE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "statement.h"
#include "util.h"

#define ML_GOVERNANCE_MAX 65536 /* bytes of document text */

enum ml_direction { ML_DIR_NONE = 0, ML_DIR_HIGHER, ML_DIR_LOWER };

struct ml_governance;

/* The documented default (FORMAT.md §2), as mlledger writes it. */
const char *ml_governance_default_text(void);

/* Parses and validates document text (at most ML_GOVERNANCE_MAX bytes).
 * Absent members take their defaults.  *out is caller-owned
 * (ml_governance_free).  ML_EINPUT naming the member at fault; ML_EIO when
 * out of memory. */
int ml_governance_parse(const char *text, size_t len, struct ml_governance **out,
			struct ml_err *e);
/* The default document; NULL only when out of memory. */
struct ml_governance *ml_governance_default(void);
void ml_governance_free(struct ml_governance *g);
/* The text it was parsed from (the default text for the default). */
const char *ml_governance_text(const struct ml_governance *g);
/* The effective document (defaults filled in), borrowed. */
json_t *ml_governance_json(const struct ml_governance *g);

/* A role declared in g. */
bool ml_governance_role_known(const struct ml_governance *g, const char *role);
/* ML_OK when one of the comma-separated roles may sign kind; else ML_EKEY
 * naming keyid, its roles and the roles that may. */
int ml_governance_check_signer(const struct ml_governance *g, const char *keyid,
			       const char *roles, enum ml_kind kind, struct ml_err *e);
/* Each role of the JSON list is declared. */
int ml_governance_check_roles(const struct ml_governance *g, json_t *roles,
			      struct ml_err *e);
int ml_governance_check_env(const struct ml_governance *g, const char *env,
			    struct ml_err *e);
/* The document declares its metrics: other names are refused. */
bool ml_governance_metrics_closed(const struct ml_governance *g);
/* Metric names of a metrics object are declared (when the set is closed). */
int ml_governance_check_metrics(const struct ml_governance *g, json_t *metrics,
				struct ml_err *e);
/* Declared properties of a properties object have their type and value. */
int ml_governance_check_properties(const struct ml_governance *g, json_t *props,
				   struct ml_err *e);

enum ml_direction ml_governance_direction(const struct ml_governance *g, const char *metric);
/* The declared unit of a metric, or NULL. */
const char *ml_governance_unit(const struct ml_governance *g, const char *metric);

/* A deployment requirement (FORMAT.md §2, "gates"): a passing gate decision
 * for the same artifact digest, naming every policy id of policies[0..n),
 * appended at most max_age_us before the deployment. */
struct ml_gate_req {
	const char *policies[16]; /* borrowed from the document */
	size_t n;
	int64_t max_age_us;
};

/* True and *out filled when g requires a decision before a deployment to
 * env; false (and *out zeroed) when it does not. */
bool ml_governance_gate(const struct ml_governance *g, const char *env, struct ml_gate_req *out);

/* The member of set (n strings) within edit distance 2 of word and closest
 * to it, or NULL.  For "did you mean" hints. */
const char *ml_suggest(const char *word, const char *const *set, size_t n);

/* dualControl (FORMAT.md §2): true when entries of kind k need signatures
 * from *signers distinct persons, each holding *role (borrowed), at the
 * entry's place; false when they do not.  k == ML_KIND_COUNT asks whether the
 * document declares dualControl at all (and fills *signers and *role). */
bool ml_governance_dual(const struct ml_governance *g, enum ml_kind k, int *signers,
		        const char **role);
/* separation (FORMAT.md §2): true and the i-th pair of roles no person may
 * hold both of (borrowed), or false when there is no pair i. */
bool ml_governance_separation(const struct ml_governance *g, size_t i, const char **a,
			      const char **b);

#endif
