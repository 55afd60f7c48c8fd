/* http — see http.h. */
#include "http.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

struct ml_http {
	CURL *curl;
	long connect_ms, total_ms;
	char *cainfo; /* NULL: the system's store */
};

/* Per request: where the callbacks write. */
struct xfer {
	struct ml_http_resp *r;
	size_t max;
	int too_big;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void
global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void
ml_http_resp_free(struct ml_http_resp *r)
{
	if (!r)
		return;
	ml_buf_free(&r->body);
	memset(r, 0, sizeof *r);
}

int
ml_http_new(struct ml_http **out, struct ml_err *e)
{
	struct ml_http *h;

	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return ml_err_set(e, ML_EIO, "libcurl: %s", curl_easy_strerror(global_rc));
	if (!(h = calloc(1, sizeof *h)))
		return ml_err_set(e, ML_EIO, "out of memory");
	if (!(h->curl = curl_easy_init())) {
		free(h);
		return ml_err_set(e, ML_EIO, "libcurl: cannot make a handle");
	}
	h->connect_ms = ML_HTTP_CONNECT_TIMEOUT_MS;
	h->total_ms = ML_HTTP_TOTAL_TIMEOUT_MS;
	*out = h;
	return ML_OK;
}

void
ml_http_free(struct ml_http *h)
{
	if (!h)
		return;
	curl_easy_cleanup(h->curl);
	free(h->cainfo);
	free(h);
}

int
ml_http_cainfo(struct ml_http *h, const char *path, struct ml_err *e)
{
	char *copy = NULL;

	if (path && !(copy = strdup(path)))
		return ml_err_set(e, ML_EIO, "out of memory");
	free(h->cainfo);
	h->cainfo = copy;
	return ML_OK;
}

void
ml_http_timeouts(struct ml_http *h, long connect_ms, long total_ms)
{
	if (connect_ms > 0)
		h->connect_ms = connect_ms;
	if (total_ms > 0)
		h->total_ms = total_ms;
}

bool
ml_http_url_ok(const char *url)
{
	size_t n = strnlen(url, ML_HTTP_URL_MAX + 1), i;

	if (n > ML_HTTP_URL_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
			return false;
	return (strncasecmp(url, "http://", 7) == 0 && n > 7) ||
	       (strncasecmp(url, "https://", 8) == 0 && n > 8);
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct xfer *x = ctx;
	size_t n = size * nmemb;

	if (x->r->body.len + n > x->max) {
		x->too_big = 1;
		return 0; /* libcurl aborts the transfer */
	}
	ml_buf_append(&x->r->body, data, n);
	return x->r->body.oom ? 0 : n;
}

/* "Name: value" of one header line, case-insensitive name; 1 when it is
 * that header, with *v and *vlen its trimmed value. */
static int
header_is(const char *line, size_t len, const char *name, const char **v, size_t *vlen)
{
	size_t nl = strlen(name);

	if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return 0;
	line += nl + 1;
	len -= nl + 1;
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' '))
		len--;
	*v = line;
	*vlen = len;
	return 1;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct xfer *x = ctx;
	size_t n = size * nmemb, vlen, i;
	const char *v;

	if (header_is(data, n, "Retry-After", &v, &vlen)) {
		long s = 0;
		for (i = 0; i < vlen && i < 6 && isdigit((unsigned char)v[i]); i++)
			s = s * 10 + (v[i] - '0');
		x->r->retry_after = (vlen && i == vlen) ? s : -1;
	} else if (header_is(data, n, "Mlledger-Existing", &v, &vlen)) {
		x->r->existing = vlen == 1 && v[0] == '1';
	} else if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* a new response (after a 100 Continue): forget the last's */
		x->r->retry_after = -1;
		x->r->existing = 0;
	}
	return n;
}

/* Sets up the handle for one request to url.  ML_EIO when libcurl refuses
 * an option (the caller fails). */
static enum ml_rc
setup(struct ml_http *h, const char *url, struct xfer *x)
{
	CURL *c = h->curl;

	curl_easy_reset(c); /* keeps the connection cache: keep-alive */
	return (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->connect_ms) != CURLE_OK ||
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, h->total_ms) != CURLE_OK ||
		curl_easy_setopt(c, CURLOPT_USERAGENT, "mlledger/" ML_VERSION) != CURLE_OK ||
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
		curl_easy_setopt(c, CURLOPT_WRITEDATA, x) != CURLE_OK ||
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
		curl_easy_setopt(c, CURLOPT_HEADERDATA, x) != CURLE_OK ||
		curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max) != CURLE_OK ||
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
		(h->cainfo && curl_easy_setopt(c, CURLOPT_CAINFO, h->cainfo) != CURLE_OK))
		       ? ML_EIO : ML_OK;
}

/* Runs the request set up on h; fills *r on success. */
static int
perform(struct ml_http *h, const char *url, struct xfer *x, struct ml_err *e)
{
	struct ml_http_resp *r = x->r;
	CURLcode cc = curl_easy_perform(h->curl);
	char *ct = NULL;

	if (x->too_big || cc == CURLE_FILESIZE_EXCEEDED)
		return ml_err_set(e, ML_EIO, "%s: answer larger than %zu bytes", url, x->max);
	if (r->body.oom)
		return ml_err_set(e, ML_EIO, "out of memory");
	if (cc != CURLE_OK)
		return ml_err_set(e, ML_EIO, "%s: %s", url, curl_easy_strerror(cc));
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &r->status);
	if (curl_easy_getinfo(h->curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
		snprintf(r->ctype, sizeof r->ctype, "%s", ct);
	return ML_OK;
}

static int
request(struct ml_http *h, const char *url, const void *body, size_t len, const char *ctype,
	size_t max, struct ml_http_resp *out, struct ml_err *e)
{
	struct ml_http_resp r;
	struct curl_slist *hdrs = NULL;
	struct xfer x;
	char ct[160];
	int rc;

	if (!ml_http_url_ok(url))
		return ml_err_set(e, ML_EINPUT, "%.200s: not an http:// or https:// URL (at most "
				  "%d bytes, no spaces)", url, ML_HTTP_URL_MAX);
	memset(&r, 0, sizeof r);
	r.retry_after = -1;
	x.r = &r;
	x.max = max;
	x.too_big = 0;
	if (setup(h, url, &x) != 0)
		return ml_err_set(e, ML_EIO, "%s: libcurl refused an option", url);
	if (body) {
		snprintf(ct, sizeof ct, "Content-Type: %s", ctype ? ctype : "application/octet-stream");
		if (!(hdrs = curl_slist_append(NULL, ct)) ||
		    !curl_slist_append(hdrs, "Expect:") || /* no 100-continue round trip */
		    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs) != CURLE_OK ||
		    curl_easy_setopt(h->curl, CURLOPT_POST, 1L) != CURLE_OK ||
		    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) != CURLE_OK ||
		    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body) != CURLE_OK) {
			curl_slist_free_all(hdrs);
			return ml_err_set(e, ML_EIO, "%s: libcurl refused an option", url);
		}
	}
	rc = perform(h, url, &x, e);
	/* the handle must not keep pointers to the list or the body */
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, NULL);
	curl_slist_free_all(hdrs);
	if (rc) {
		ml_buf_free(&r.body);
		return rc;
	}
	*out = r;
	return ML_OK;
}

int
ml_http_get(struct ml_http *h, const char *url, size_t max, struct ml_http_resp *r,
	    struct ml_err *e)
{
	return request(h, url, NULL, 0, NULL, max, r, e);
}

int
ml_http_post(struct ml_http *h, const char *url, const void *body, size_t len,
	     const char *ctype, size_t max, struct ml_http_resp *r, struct ml_err *e)
{
	return request(h, url, body ? body : "", len, ctype, max, r, e);
}
