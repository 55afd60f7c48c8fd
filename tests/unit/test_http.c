/* Unit tests for http and the wire side of remote: URLs that are not
 * http(s) refused before any connection, a closed port named in the error,
 * a body over the limit an error (not a truncation), Retry-After and
 * Mlledger-Existing read, a keep-alive handle reused, and POST /add retried
 * on 503 up to the bound and then mapped to its exit code, and 4xx mapped
 * without a retry.  A canned server on 127.0.0.1 (a thread) answers. */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <strings.h>
#include <sys/socket.h>

#include "http.h"
#include "keys.h"
#include "remote.h"

/* The canned server: answers every request on every connection with
 * reply (a whole HTTP response), counting requests; stops after max. */
struct canned {
	int fd;
	int port;
	const char *reply;
	int max, requests, connections;
	pthread_t th;
};

/* Reads one request's head (and a body by Content-Length); 0 at EOF. */
static int
read_request(int c)
{
	char buf[8192];
	size_t n = 0;
	long clen = 0;
	char *end = NULL;

	while (!end && n < sizeof buf - 1) {
		ssize_t r = read(c, buf + n, sizeof buf - 1 - n);
		if (r <= 0)
			return 0;
		n += (size_t)r;
		buf[n] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	if (!end)
		return 0;
	{
		char *p;
		for (p = buf; p < end; p++)
			if (strncasecmp(p, "\r\nContent-Length:", 17) == 0)
				clen = strtol(p + 17, NULL, 10);
	}
	clen -= (long)(n - (size_t)(end + 4 - buf));
	while (clen > 0) {
		ssize_t r = read(c, buf, sizeof buf);
		if (r <= 0)
			return 0;
		clen -= r;
	}
	return 1;
}

static void *
serve(void *arg)
{
	struct canned *s = arg;

	while (s->requests < s->max) {
		int c = accept(s->fd, NULL, NULL);
		if (c < 0)
			break;
		s->connections++;
		while (s->requests < s->max && read_request(c)) {
			s->requests++;
			if (write(c, s->reply, strlen(s->reply)) < 0)
				break;
		}
		close(c);
	}
	return NULL;
}

static void
canned_start(struct canned *s, const char *reply, int max)
{
	struct sockaddr_in a;
	socklen_t len = sizeof a;

	memset(s, 0, sizeof *s);
	s->reply = reply;
	s->max = max;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(s->fd, 8), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
}

static void
canned_stop(struct canned *s)
{
	shutdown(s->fd, SHUT_RDWR);
	close(s->fd);
	pthread_join(s->th, NULL);
}

static void
test_urls(void **state)
{
	struct ml_http *h;
	struct ml_http_resp r;
	struct ml_err e;

	(void)state;
	assert_true(ml_http_url_ok("http://127.0.0.1:8420"));
	assert_true(ml_http_url_ok("HTTPS://ledger.example.com/ml"));
	assert_false(ml_http_url_ok("file:///etc/passwd"));
	assert_false(ml_http_url_ok("ftp://x"));
	assert_false(ml_http_url_ok("http://"));
	assert_false(ml_http_url_ok("http://a b"));
	assert_false(ml_http_url_ok("http://a\nb"));
	assert_int_equal(ml_http_new(&h, &e), ML_OK);
	ml_err_clear(&e);
	assert_int_equal(ml_http_get(h, "file:///etc/passwd", 100, &r, &e), ML_EINPUT);
	assert_non_null(strstr(e.msg, "file:///etc/passwd"));
	/* a port nothing listens on: ML_EIO naming the URL */
	ml_err_clear(&e);
	assert_int_equal(ml_http_get(h, "http://127.0.0.1:1/checkpoint", 100, &r, &e), ML_EIO);
	assert_non_null(strstr(e.msg, "http://127.0.0.1:1/checkpoint"));
	ml_http_free(h);
	ml_http_free(NULL);
}

static void
test_headers_and_limit(void **state)
{
	struct canned s;
	struct ml_http *h;
	struct ml_http_resp r;
	struct ml_err e;
	char url[64];

	(void)state;
	canned_start(&s, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
			 "Retry-After: 7\r\nMlledger-Existing: 1\r\nContent-Length: 5\r\n\r\nbusy\n",
		     3);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/add", s.port);
	assert_int_equal(ml_http_new(&h, &e), ML_OK);
	assert_int_equal(ml_http_post(h, url, "x", 1, "application/json", 100, &r, &e), ML_OK);
	assert_int_equal(r.status, 503);
	assert_int_equal(r.retry_after, 7);
	assert_int_equal(r.existing, 1);
	assert_string_equal(r.ctype, "text/plain");
	assert_int_equal(r.body.len, 5);
	ml_http_resp_free(&r);
	/* the same connection again (keep-alive) */
	assert_int_equal(ml_http_get(h, url, 100, &r, &e), ML_OK);
	ml_http_resp_free(&r);
	assert_int_equal(s.connections, 1);
	/* a body over the limit is an error, not a truncated answer */
	ml_err_clear(&e);
	assert_int_equal(ml_http_get(h, url, 4, &r, &e), ML_EIO);
	assert_non_null(strstr(e.msg, "larger than 4 bytes"));
	ml_http_free(h);
	canned_stop(&s);
}

static void
remote_for(int port, struct ml_remote **r)
{
	struct ml_seckey *k;
	struct ml_err e;
	char url[64];

	assert_int_equal(ml_seckey_generate("testlog", &k, &e), ML_OK);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
	assert_int_equal(ml_remote_open(url, ml_seckey_public(k), r, &e), ML_OK);
	ml_seckey_free(k);
}

static void
test_submit_retries_503(void **state)
{
	struct canned s;
	struct ml_remote *r;
	struct ml_remote_added a;
	struct ml_err e;

	(void)state;
	canned_start(&s, "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\n"
			 "Content-Length: 14\r\n\r\nshutting down\n", 3);
	remote_for(s.port, &r);
	ml_err_clear(&e);
	assert_int_equal(ml_remote_submit(r, (const uint8_t *)"{}\n", 3, 3, &a, &e), ML_EIO);
	assert_int_equal(s.requests, 3); /* retried up to the bound, no more */
	assert_non_null(strstr(e.msg, "shutting down"));
	assert_non_null(strstr(e.msg, "HTTP 503"));
	ml_remote_close(r);
	canned_stop(&s);
}

static void
test_submit_refusals(void **state)
{
	static const struct {
		const char *reply;
		int rc;
	} cases[] = {
		{"HTTP/1.1 403 Forbidden\r\nContent-Length: 22\r\n\r\nkey \"ci\" is revoked\r\n\n",
		 ML_EKEY},
		{"HTTP/1.1 409 Conflict\r\nContent-Length: 34\r\n\r\nconflict: idempotency key \"k\" o\n\n\n",
		 ML_ECONFLICT},
		{"HTTP/1.1 409 Conflict\r\nContent-Length: 12\r\n\r\nunknown d@1\n", ML_EINPUT},
		{"HTTP/1.1 400 Bad Request\r\nContent-Length: 4\r\n\r\nbad\n", ML_EINPUT},
		{"HTTP/1.1 500 Internal\r\nContent-Length: 5\r\n\r\ndisk\n", ML_EIO},
		/* a 200 whose body is no proof is an integrity failure */
		{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n", ML_EINTEGRITY},
	};
	struct canned s;
	struct ml_remote *r;
	struct ml_remote_added a;
	struct ml_err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		canned_start(&s, cases[i].reply, 1);
		remote_for(s.port, &r);
		ml_err_clear(&e);
		assert_int_equal(ml_remote_submit(r, (const uint8_t *)"{}", 2, 3, &a, &e),
				 cases[i].rc);
		assert_int_equal(s.requests, 1); /* refusals are not retried */
		ml_remote_close(r);
		canned_stop(&s);
	}
	/* too large for a served ledger: refused before any request */
	remote_for(1, &r);
	{
		size_t n = ML_REMOTE_ATTEMPTS; /* any length over the limit */
		uint8_t *big = calloc(70000, 1);
		assert_non_null(big);
		memset(big, 'x', 70000);
		ml_err_clear(&e);
		assert_int_equal(ml_remote_submit(r, big, 70000, (unsigned)n, &a, &e), ML_EINPUT);
		free(big);
	}
	ml_remote_close(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_headers_and_limit),
		cmocka_unit_test(test_submit_retries_503),
		cmocka_unit_test(test_submit_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
