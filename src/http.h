/* http — a small HTTP client on libcurl for the ledger's remote clients.
 *
 * One struct ml_http is one libcurl easy handle, reused across requests so
 * that a keep-alive connection serves many of them; use a handle from one
 * thread at a time (libcurl's rule), any number of handles at once
 * (curl_global_init runs once per process, under pthread_once).  Only
 * http:// and https:// URLs, no redirects followed, no signals (timeouts are
 * safe in threads), a connect and a total timeout, and every response body
 * bounded (a larger one is an error, not a truncation).  Nothing secret is
 * ever sent: bodies are what the caller gives (signed envelopes).
 *
 * Errors: ML_EINPUT for a URL that is not http(s) or too long; ML_EIO for
 * anything on the wire (connect, timeout, a body over the limit), with a
 * one-line message naming the URL.  An HTTP error status is not an error
 * here: the caller reads resp->status.
 * May call util only (and libcurl).
 */
#ifndef ML_HTTP_H
#define ML_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define ML_HTTP_URL_MAX 2048
#define ML_HTTP_CONNECT_TIMEOUT_MS 10000L
#define ML_HTTP_TOTAL_TIMEOUT_MS 60000L

struct ml_http;

/* What a response carried.  body is owned by the struct: release it with
 * ml_http_resp_free (which also accepts a zeroed struct). */
struct ml_http_resp {
	long status;          /* the HTTP status code */
	char ctype[128];      /* Content-Type, "" when absent (cut at 127 bytes) */
	long retry_after;     /* Retry-After in seconds (delta form); -1 when absent */
	int existing;         /* the header "Mlledger-Existing: 1" (docs/SERVER.md) */
	struct ml_buf body;
};
void ml_http_resp_free(struct ml_http_resp *r);

/* A new handle.  ML_EIO when libcurl cannot be initialised.  *out is the
 * caller's (ml_http_free; NULL is fine). */
int ml_http_new(struct ml_http **out, struct ml_err *e);
void ml_http_free(struct ml_http *h);
/* https: trust the certificates in the PEM file at path (copied; NULL: the
 * system's store again) instead of the system's, for the following
 * requests.  Peers and host names are always verified. */
int ml_http_cainfo(struct ml_http *h, const char *path, struct ml_err *e);
/* Overrides the timeouts (milliseconds, > 0) for the following requests. */
void ml_http_timeouts(struct ml_http *h, long connect_ms, long total_ms);

/* True when url starts with http:// or https:// (case-insensitive) and is at
 * most ML_HTTP_URL_MAX bytes without control characters or spaces. */
bool ml_http_url_ok(const char *url);

/* GET url; a body longer than max bytes fails (ML_EIO).  *r is filled on
 * success (ML_OK, whatever the status) and must then be freed; on error it
 * needs nothing. */
int ml_http_get(struct ml_http *h, const char *url, size_t max, struct ml_http_resp *r,
		struct ml_err *e);
/* POST len bytes of body with Content-Type ctype; otherwise as ml_http_get. */
int ml_http_post(struct ml_http *h, const char *url, const void *body, size_t len,
		 const char *ctype, size_t max, struct ml_http_resp *r, struct ml_err *e);

#endif
