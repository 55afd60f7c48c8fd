/* policy_test — `mlledger policy test`: runs policy test files
 * (policies/TESTING.md, policies/policy-test.xsd).
 *
 * A test file names a policy, keys, fixture ledgers and cases.  The runner
 * builds each fixture once per run of the file, with the library: keys made
 * fresh in memory, a ledger in a mkdtemp folder (removed afterwards, also on
 * error), the declared keys enrolled by the genesis key "admin" (with their
 * roles, and their person when the test file names one), then each
 * JSONL line turned into a statement (request), signed by the key its "as"
 * member names, and appended in one batch.  Each case builds the verified
 * evidence of its subject (evidence), loads the policy with the case's
 * params and data overrides (ml_policyset_load_ex), evaluates it, and checks
 * the case's expectations against the findings: the outcome of each rule
 * for a subject (pass, fail, waived, indeterminate, or absent: no finding),
 * optionally a substring of its message, and the verdict.  Expectations that
 * hold count towards rule coverage: a rule is covered when an expected
 * pass and an expected fail of it both held.
 *
 * Test files are parsed with ml_policy_xml_read (no DTD, no entities, no
 * network, bounded) and validated against the embedded policy-test.xsd.
 *
 * May call evidence, policy, findings, decision, governance, ledger, tlog,
 * request, statement, keys, util, libxml2 and jansson.  Nothing here prints or exits: results are
 * plain data, formatted by ml_ptest_write.
 */
#ifndef ML_POLICY_TEST_H
#define ML_POLICY_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define ML_PTEST_NS "https://mlledger.dev/policy-test/v1"
#define ML_PTEST_MAX_BYTES (4 * 1024 * 1024)       /* a test file */
#define ML_PTEST_MAX_FIXTURE (16 * 1024 * 1024)    /* a JSONL fixture file */
#define ML_PTEST_MAX_LINES 100000                  /* lines of one fixture */

/* An expectation that did not hold.  Every string is owned by the result. */
struct ml_ptest_failure {
	char *file;      /* the test file, as given */
	long line;       /* of the <expect> element */
	size_t case_no;  /* 1-based, in its file */
	char *rule;      /* NULL for a verdict expectation */
	char *subject;   /* NULL for a verdict expectation */
	char *expected;  /* "fail", "deny", "fail with a message containing \"x\"" */
	char *got;       /* "pass", "absent", ... */
	char *message;   /* the messages of the findings behind got, or NULL */
};

/* Coverage of one policy (by id) over every file run. */
struct ml_ptest_policy {
	char *id;
	char *file;                 /* the first file path it was loaded from */
	char **rules;               /* ids, document order */
	unsigned char *pass, *fail; /* per rule: an expected pass / fail held */
	size_t nrules;
};

/* What ml_ptest_run accumulates.  Zero it before the first run; free with
 * ml_ptest_result_free. */
struct ml_ptest_result {
	size_t files, cases, passed, failed; /* passed/failed count expectations */
	struct ml_ptest_failure *failures;
	size_t nfailures;
	struct ml_ptest_policy *policies;
	size_t npolicies;
};

/* Parses a test time: "now", "now+Nd", "now-Nd" (N days, at most 99999,
 * from now_us), "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM:SSZ".
 * Sets *us and returns ML_OK, or returns ML_EINPUT (then *us is untouched). */
enum ml_rc ml_ptest_time(const char *s, int64_t now_us, int64_t *us);

/* Runs the test file at path and adds its counts, failures and coverage to
 * r.  Returns ML_OK when every case ran (whatever the expectations say:
 * read r->failed); ML_EPOLICY for an invalid test file or policy, a fixture
 * line that cannot be recorded, a case that cannot be evaluated (the
 * message names the file and line, and the case); ML_EINPUT when path
 * cannot be read; ML_EIO for storage errors or when out of memory.  On
 * error r is left as it was, and the temporary folder is removed. */
int ml_ptest_run(const char *path, struct ml_ptest_result *r, struct ml_err *e);

/* Appends r to out: text (one "FAIL file:line case N rule R: expected X,
 * got Y: message" line per failure, a summary line, one "coverage" line per
 * policy) or, with json set, one JSON object (policies/TESTING.md).
 * Values from files are escaped (control characters and invalid UTF-8 as
 * \xHH in text).  ML_OK, or ML_EIO when out of memory. */
int ml_ptest_write(const struct ml_ptest_result *r, int json, struct ml_buf *out);

/* True when every rule of every policy run has both paths covered. */
bool ml_ptest_fully_covered(const struct ml_ptest_result *r);

/* Frees what r owns and zeroes it; NULL is fine. */
void ml_ptest_result_free(struct ml_ptest_result *r);

#endif
