/* request — turns a record request into an in-toto statement.
 *
 * A request is a JSON object: the `mlledger import` line format, and what
 * the record/sign command options are turned into (README.md, "Import
 * format").  Members:
 *   kind      one of the record kinds, or key-enrollment / key-revocation
 *   subject   NAME@VERSION (not for key kinds)
 *   digest    "sha256:HEX": required for dataset and model; for the kinds
 *             about a model, defaults to the recorded model's digest
 *   time      optional "YYYY-MM-DDTHH:MM:SSZ", default now
 *   datasets  ["NAME@VERSION", ...], parent "NAME@VERSION", dataset
 *             "NAME@VERSION": resolved to {"name", "digest"} references
 *   key       for key kinds: the verifier key line
 *   anything else is copied into the predicate as is and must fit the
 *   kind's schema (statement.c checks it).
 * May call jsonp, statement, keys, util, jansson.
 */
#ifndef ML_REQUEST_H
#define ML_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "statement.h"
#include "util.h"

/* Looks up the digest of a recorded dataset or model version ("dataset" or
 * "model").  Returns ML_OK, or an error with e set (ML_EINPUT "unknown ..."). */
typedef int (*ml_resolve_fn)(void *ctx, const char *kind, const char *ref,
			     uint8_t digest[ML_SHA256_LEN], struct ml_err *e);

/* Parses one import line (len bytes, no newline needed) as a request: a
 * JSON object, duplicate members refused.  *out is set only on success and
 * then owns a reference (json_decref).  ML_EINPUT naming the column on bad
 * JSON.  The parser of `mlledger import` lines, kept here so that it can be
 * fuzzed (tests/fuzz/fuzz_import.c).  Accepts exactly what
 * json_loadb(JSON_REJECT_DUPLICATES) accepts and builds the same tree:
 * jsonp reads the line, json_loadb what jsonp refuses. */
int ml_request_load(const char *line, size_t len, json_t **out, struct ml_err *e);

/* Builds the statement payload for req (borrowed).  resolve may be NULL when
 * nothing needs resolving.  *kind receives the kind.  Errors are ML_EINPUT
 * with a message naming the member at fault. */
int ml_request_build(json_t *req, ml_resolve_fn resolve, void *ctx, int64_t now_us,
		     enum ml_kind *kind, struct ml_buf *payload, struct ml_err *e);
/* The same, also handing over the parsed statement (see
 * ml_statement_encode_parsed); parsed may be NULL. */
int ml_request_build_parsed(json_t *req, ml_resolve_fn resolve, void *ctx, int64_t now_us,
			    enum ml_kind *kind, struct ml_buf *payload,
			    struct ml_statement *parsed, struct ml_err *e);

/* Adds "k=v" to obj: v becomes a JSON integer or real when it parses as a
 * JSON number, true/false as booleans, else a string.  ML_EINPUT on a bad
 * name, a missing '=', invalid UTF-8 or control characters. */
int ml_request_add_kv(json_t *obj, const char *kv, const char *what, struct ml_err *e);

/* Binds req to the ledger named origin (FORMAT.md §2, "Origin"): sets its
 * "origin" member when it has none; ML_EINPUT when it names another
 * ledger (the message says which).  what names the input ("line 3"). */
int ml_request_bind_origin(json_t *req, const char *origin, const char *what,
			   struct ml_err *e);
/* For a key-enrollment request whose "key" is holder's verifier key: adds
 * "possession", holder's proof of possession for origin and the request's
 * "person" (FORMAT.md §2, "Proof of possession").  ML_EKEY when holder is
 * not the key the request enrols. */
int ml_request_add_possession(json_t *req, const char *origin,
			      const struct ml_seckey *holder, struct ml_err *e);

/* Parses "sha256:HEX" (64 lowercase hex digits).  ML_OK, or ML_EINPUT (NULL
 * included). */
enum ml_rc ml_digest_parse(const char *s, uint8_t out[ML_SHA256_LEN]);

#endif
