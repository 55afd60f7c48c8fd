/* Unit tests for spool (spool.h): records of odd sizes (empty, one byte,
 * around the write buffer, larger than it, a few MiB) read back whole in
 * any order, from the buffer and from the file; ml_spool_len and
 * ml_spool_size; a record of ML_SPOOL_RECORD_MAX bytes refused and the
 * spool still usable; handles it did not give (0, negative, past its end,
 * straddling what is written and what is buffered) refused, never read;
 * a directory that does not exist named in the error; $TMPDIR honoured and
 * nothing left there under a name; and a write that fails (RLIMIT_FSIZE)
 * reported as ML_EIO naming the directory, every earlier record intact. */
#include "testutil.h"

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>

#include "spool.h"

/* spool.c's write buffer (private there): the sizes below straddle it. */
#define BUF ((size_t)256 << 10)

/* Byte j of record i: differs between records and along each one. */
static unsigned char
pat(size_t i, size_t j)
{
	return (unsigned char)(i * 131 + j * 7 + (j >> 9));
}

static unsigned char *
record(size_t i, size_t len)
{
	unsigned char *p = malloc(len ? len : 1);
	size_t j;

	assert_non_null(p);
	for (j = 0; j < len; j++)
		p[j] = pat(i, j);
	return p;
}

/* Reads back handle h and checks it is record i of len bytes. */
static void
check_record(struct ml_spool *sp, int64_t h, size_t i, size_t len)
{
	struct ml_err e = {0};
	unsigned char *got;
	size_t j;

	assert_true(h > 0);
	assert_int_equal(ml_spool_len(h), len);
	assert_non_null(got = malloc(len ? len : 1));
	assert_int_equal(ml_spool_get(sp, h, got, &e), ML_OK);
	for (j = 0; j < len; j++)
		if (got[j] != pat(i, j))
			fail_msg("record %zu (%zu bytes) differs at byte %zu", i, len, j);
	free(got);
}

/* Files named in dir (not "." or ".."). */
static int
entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* This process's open files whose path starts with dir. */
static int
open_in(const char *dir)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	char link[PATH_MAX], path[PATH_MAX + 32];
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		ssize_t k;
		snprintf(path, sizeof path, "/proc/self/fd/%s", de->d_name);
		if ((k = readlink(path, link, sizeof link - 1)) <= 0)
			continue;
		link[k] = '\0';
		if (!strncmp(link, dir, strlen(dir)) && link[strlen(dir)] == '/')
			n++;
	}
	closedir(d);
	return n;
}

static const size_t sizes[] = {
	0, 1, 2, 3, 100, 0, 4095, 4096, 4097, 65536, BUF - 1, 1, BUF, 0, BUF + 1, 17,
	BUF - 200, 300, (size_t)3 << 20, 5, BUF / 2, BUF / 2, BUF / 2 + 1, 1,
	((size_t)5 << 20) + 3, 0, 1, 2,
};
#define NREC (sizeof sizes / sizeof sizes[0] + 200)

/* Record i's size: the table, then 200 small ones of odd sizes. */
static size_t
size_of(size_t i)
{
	size_t n = sizeof sizes / sizeof sizes[0];
	return i < n ? sizes[i] : (i * 37) % 1500;
}

static void
test_round_trip(void **state)
{
	struct ml_spool *sp;
	struct ml_err e = {0};
	int64_t h[NREC];
	uint64_t total = 0;
	size_t i, order[NREC];

	(void)state;
	srand(20261207);
	assert_int_equal(ml_spool_open(NULL, &sp, &e), ML_OK);
	assert_int_equal(ml_spool_size(sp), 0);
	for (i = 0; i < NREC; i++) {
		unsigned char *p = record(i, size_of(i));
		assert_int_equal(ml_spool_put(sp, p, size_of(i), &h[i], &e), ML_OK);
		free(p);
		total += size_of(i);
		assert_int_equal(ml_spool_size(sp), total);
		/* the newest (often still buffered) and an older one at random */
		check_record(sp, h[i], i, size_of(i));
		order[i] = (size_t)rand() % (i + 1);
		check_record(sp, h[order[i]], order[i], size_of(order[i]));
	}
	/* all of them, in random order, after later puts flushed most */
	for (i = 0; i < NREC; i++)
		order[i] = i;
	for (i = NREC - 1; i > 0; i--) {
		size_t j = (size_t)rand() % (i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < NREC; i++)
		check_record(sp, h[order[i]], order[i], size_of(order[i]));
	for (i = 1; i < NREC; i++) /* distinct handles, also for empty records */
		assert_true(h[i] != h[i - 1]);
	ml_spool_close(sp);
	ml_spool_close(NULL);
}

static void
test_bounds(void **state)
{
	struct ml_spool *sp, *big;
	struct ml_err e = {0};
	unsigned char *max = calloc(1, ML_SPOOL_RECORD_MAX), out[64];
	int64_t h1, h2, h, hb, straddle;
	const int64_t bad[] = {0, -1, -2, INT64_MIN, INT64_MIN + 1};
	size_t i;

	(void)state;
	assert_non_null(max);
	assert_int_equal(ml_spool_open(NULL, &sp, &e), ML_OK);
	assert_int_equal(ml_spool_put(sp, "abc", 3, &h1, &e), ML_OK);
	/* the largest record is one byte short of the limit */
	h = 12345;
	e.msg[0] = '\0';
	assert_int_equal(ml_spool_put(sp, max, ML_SPOOL_RECORD_MAX, &h, &e), ML_EINPUT);
	assert_int_equal(h, 12345); /* not set on failure */
	assert_non_null(strstr(e.msg, "too large"));
	assert_int_equal(ml_spool_size(sp), 3);
	memset(max, 'm', ML_SPOOL_RECORD_MAX);
	assert_int_equal(ml_spool_put(sp, max, ML_SPOOL_RECORD_MAX - 1, &hb, &e), ML_OK);
	assert_int_equal(ml_spool_len(hb), ML_SPOOL_RECORD_MAX - 1);
	memset(max, 0, ML_SPOOL_RECORD_MAX);
	assert_int_equal(ml_spool_get(sp, hb, max, &e), ML_OK);
	for (i = 0; i < ML_SPOOL_RECORD_MAX - 1; i++)
		if (max[i] != 'm')
			fail_msg("byte %zu of the largest record differs", i);
	assert_int_equal(ml_spool_put(sp, "de", 2, &h2, &e), ML_OK);
	assert_int_equal(ml_spool_get(sp, h1, out, &e), ML_OK);
	assert_memory_equal(out, "abc", 3);
	assert_int_equal(ml_spool_get(sp, h2, out, &e), ML_OK);
	assert_memory_equal(out, "de", 2);
	assert_int_equal(ml_spool_size(sp), 3 + ML_SPOOL_RECORD_MAX - 1 + 2);
	free(max);

	/* handles it never gave: refused before any read (out is a canary) */
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(ml_spool_len(bad[i]), 0);
		memset(out, 'c', sizeof out);
		assert_int_equal(ml_spool_get(sp, bad[i], out, &e), ML_EINPUT);
		assert_non_null(strstr(e.msg, "not a record of this spool"));
		assert_int_equal(out[0], 'c');
	}
	ml_spool_close(sp);

	/* a handle from a bigger spool, past this one's end, in the buffer or
	 * in the file; and one that straddles what is written and what is
	 * still buffered (here [50, 150) over a buffer from 100) */
	assert_int_equal(ml_spool_open(NULL, &sp, &e), ML_OK);
	assert_int_equal(ml_spool_open(NULL, &big, &e), ML_OK);
	max = record(0, BUF);
	assert_int_equal(ml_spool_put(sp, max, 100, &h1, &e), ML_OK);
	assert_int_equal(ml_spool_put(sp, max, BUF, &h2, &e), ML_OK); /* flushes 100 */
	assert_int_equal(ml_spool_put(big, max, 50, &h, &e), ML_OK);
	assert_int_equal(ml_spool_put(big, max, 100, &straddle, &e), ML_OK);
	assert_int_equal(ml_spool_get(sp, straddle, out, &e), ML_EINPUT);
	assert_int_equal(ml_spool_put(big, max, BUF, &h, &e), ML_OK);
	assert_int_equal(ml_spool_put(big, max, 10, &h, &e), ML_OK);  /* ends at BUF+160 */
	memset(out, 'c', sizeof out);
	assert_int_equal(ml_spool_get(sp, h, out, &e), ML_EINPUT);
	assert_int_equal(out[0], 'c');
	assert_int_equal(ml_spool_put(big, max, BUF, &h, &e), ML_OK);
	assert_int_equal(ml_spool_put(big, max, 1, &h, &e), ML_OK);   /* big flushed it */
	assert_int_equal(ml_spool_get(sp, h, out, &e), ML_EINPUT);
	/* the spool still reads its own */
	check_record(sp, h1, 0, 100);
	check_record(sp, h2, 0, BUF);
	free(max);
	ml_spool_close(big);
	ml_spool_close(sp);
}

static void
test_dirs(void **state)
{
	struct ml_spool *sp = (struct ml_spool *)&sp;
	struct ml_err e = {0};
	char dir[4096], gone[4200], *was = getenv("TMPDIR");
	char saved[4096];
	unsigned char *p = record(1, BUF);
	int64_t h[4];
	int i;

	(void)state;
	if (was)
		snprintf(saved, sizeof saved, "%s", was);
	tu_tmpdir(dir, sizeof dir);
	snprintf(gone, sizeof gone, "%s/no/such/dir", dir);
	assert_int_equal(ml_spool_open(gone, &sp, &e), ML_EIO);
	assert_null(sp);
	assert_non_null(strstr(e.msg, gone));

	/* $TMPDIR when dir is NULL: a missing one is named, a real one used */
	assert_int_equal(setenv("TMPDIR", gone, 1), 0);
	assert_int_equal(ml_spool_open(NULL, &sp, &e), ML_EIO);
	assert_non_null(strstr(e.msg, gone));
	assert_int_equal(setenv("TMPDIR", dir, 1), 0);
	assert_int_equal(ml_spool_open(NULL, &sp, &e), ML_OK);
	assert_int_equal(open_in(dir), 1);
	for (i = 0; i < 4; i++) /* past the buffer: the file is written */
		assert_int_equal(ml_spool_put(sp, p, BUF - 1, &h[i], &e), ML_OK);
	assert_int_equal(entries(dir), 0); /* unlinked: nothing under a name */
	for (i = 0; i < 4; i++)
		check_record(sp, h[i], 1, BUF - 1);
	ml_spool_close(sp);
	assert_int_equal(open_in(dir), 0);
	assert_int_equal(entries(dir), 0);
	if (was)
		setenv("TMPDIR", saved, 1);
	else
		unsetenv("TMPDIR");
	free(p);
	assert_int_equal(rmdir(dir), 0);
}

static void
test_write_fails(void **state)
{
	struct ml_spool *sp;
	struct ml_err e = {0}, fe = {0}, be = {0};
	char dir[4096];
	struct rlimit was, lim;
	void (*sig)(int);
	unsigned char *p = record(2, BUF + 10);
	int64_t h[64], hbig = 777, hlate;
	size_t n = 0, i, len = 10000, flushed, failed_at = 0;
	uint64_t size_before;
	int rc = ML_OK, brc;

	(void)state;
	tu_tmpdir(dir, sizeof dir);
	assert_int_equal(ml_spool_open(dir, &sp, &e), ML_OK);
	/* written: a few small records, then one larger than the buffer */
	for (n = 0; n < 5; n++)
		assert_int_equal(ml_spool_put(sp, p, len, &h[n], &e), ML_OK);
	assert_int_equal(ml_spool_put(sp, p, BUF + 10, &h[n++], &e), ML_OK);
	flushed = (size_t)ml_spool_size(sp);

	/* writes past flushed + 1000 bytes fail (the first one short) */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &was), 0);
	lim = was;
	lim.rlim_cur = flushed + 1000;
	sig = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	while (n < 60) {
		if ((rc = ml_spool_put(sp, p, len, &h[n], &fe)))
			break;
		n++;
	}
	failed_at = n;
	size_before = ml_spool_size(sp);
	brc = ml_spool_put(sp, p, BUF + 10, &hbig, &be);
	/* the limit goes before any assertion can print */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &was), 0);
	signal(SIGXFSZ, sig);

	/* the put that needed the buffer written failed, not before */
	assert_int_equal(rc, ML_EIO);
	assert_int_equal(failed_at, 6 + BUF / len);
	assert_non_null(strstr(fe.msg, dir));
	assert_non_null(strstr(fe.msg, "cannot write"));
	assert_int_equal(brc, ML_EIO);
	assert_non_null(strstr(be.msg, dir));
	assert_int_equal(hbig, 777);
	assert_int_equal(ml_spool_size(sp), size_before);
	/* every record put before reads back: from the file and the buffer */
	for (i = 0; i < failed_at; i++)
		check_record(sp, h[i], 2, i == 5 ? BUF + 10 : len);
	/* with room again the spool goes on */
	assert_int_equal(ml_spool_put(sp, p, len, &hlate, &e), ML_OK);
	assert_int_equal(ml_spool_put(sp, p, BUF + 10, &hbig, &e), ML_OK);
	for (i = 0; i < failed_at; i++)
		check_record(sp, h[i], 2, i == 5 ? BUF + 10 : len);
	check_record(sp, hlate, 2, len);
	check_record(sp, hbig, 2, BUF + 10);
	ml_spool_close(sp);
	free(p);
	tu_rmtree(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_dirs),
		cmocka_unit_test(test_write_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
