/* Unit tests for artifact: file digests against published SHA-256 vectors,
 * folder manifests against a hand-built manifest and against coreutils,
 * thread-count independence, progress calls, and every refusal. */
#include "testutil.h"

#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "artifact.h"

#define H_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define H_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define H_A "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
#define H_HELLO "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
#define FOX "The quick brown fox jumps over the lazy dog"
#define H_FOX "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"

/* ------------------------------------------------------------------ */
/* Helpers */

static void
put_file(const char *dir, const char *rel, const void *data, size_t len)
{
	char p[8400];
	FILE *f;

	snprintf(p, sizeof p, "%s/%s", dir, rel);
	f = fopen(p, "wb");
	assert_non_null(f);
	if (len)
		assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
put_str(const char *dir, const char *rel, const char *s)
{
	put_file(dir, rel, s, strlen(s));
}

static void
make_dir(const char *dir, const char *rel)
{
	char p[8400];

	snprintf(p, sizeof p, "%s/%s", dir, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void
make_link(const char *target, const char *dir, const char *rel)
{
	char p[8400];

	snprintf(p, sizeof p, "%s/%s", dir, rel);
	assert_int_equal(symlink(target, p), 0);
}

static void
assert_digest(const uint8_t d[ML_SHA256_LEN], const char *hex)
{
	char got[2 * ML_SHA256_LEN + 1];

	ml_hex_encode(d, ML_SHA256_LEN, got);
	assert_string_equal(got, hex);
}

/* Runs ml_artifact_hash and asserts it fails with code and a message that
 * contains needle; also checks *out was left alone. */
static void
assert_refused(const char *path, int jobs, int code, const char *needle)
{
	struct ml_artifact *sentinel = (struct ml_artifact *)&sentinel;
	struct ml_artifact *a = sentinel;
	struct ml_err e;

	ml_err_clear(&e);
	assert_int_equal(ml_artifact_hash(path, jobs, NULL, NULL, &a, &e), code);
	assert_int_equal(e.code, code);
	assert_ptr_equal(a, sentinel);
	if (!strstr(e.msg, needle))
		fail_msg("message \"%s\" does not contain \"%s\"", e.msg, needle);
	assert_null(strchr(e.msg, '\n'));
}

/* Runs `cd dir && <pipeline>` and returns its first 64 characters. */
static void
shell_digest(const char *dir, const char *pipeline, char out[65])
{
	char cmd[16384], line[256];
	FILE *p;

	snprintf(cmd, sizeof cmd, "cd '%s' && %s", dir, pipeline);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof line, p));
	assert_int_equal(pclose(p), 0);
	assert_true(strlen(line) >= 64);
	memcpy(out, line, 64);
	out[64] = '\0';
}

/* The pipeline from the brief: what an outsider runs with coreutils. */
#define COREUTILS_PIPELINE \
	"find . -type f | sed 's|^\\./||' | LC_ALL=C sort | xargs sha256sum | sha256sum"
/* The robust form: xargs splits on newlines only (names with spaces) and
 * "--" keeps a name starting with '-' from being read as an option. */
#define COREUTILS_PIPELINE_NL \
	"find . -type f | sed 's|^\\./||' | LC_ALL=C sort | xargs -d '\\n' sha256sum -- | sha256sum"

static void
assert_same(const struct ml_artifact *x, const struct ml_artifact *y)
{
	size_t i;

	assert_int_equal(x->is_dir, y->is_dir);
	assert_memory_equal(x->digest, y->digest, ML_SHA256_LEN);
	assert_int_equal(x->nfiles, y->nfiles);
	assert_true(x->total_bytes == y->total_bytes);
	for (i = 0; i < x->nfiles; i++) {
		assert_string_equal(x->files[i].path, y->files[i].path);
		assert_true(x->files[i].size == y->files[i].size);
		assert_memory_equal(x->files[i].sha256, y->files[i].sha256,
				    ML_SHA256_LEN);
	}
}

static struct ml_artifact *
must_hash(const char *path, int jobs)
{
	struct ml_artifact *a = NULL;
	struct ml_err e;

	ml_err_clear(&e);
	if (ml_artifact_hash(path, jobs, NULL, NULL, &a, &e) != ML_OK)
		fail_msg("ml_artifact_hash(%s): %s", path, e.msg);
	assert_non_null(a);
	return a;
}

/* ------------------------------------------------------------------ */
/* Single files */

static void
test_single_file_vectors(void **state)
{
	static const struct {
		const char *data, *hex;
	} v[] = {
		{ "abc", H_ABC },
		{ "", H_EMPTY },
		{ "a", H_A },
		{ "hello\n", H_HELLO },
		{ FOX, H_FOX },
	};
	char dir[4096], p[8400];
	size_t i;

	(void)state;
	tu_tmpdir(dir, sizeof dir);
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		struct ml_artifact *a;
		put_str(dir, "f", v[i].data);
		snprintf(p, sizeof p, "%s/f", dir);
		a = must_hash(p, 1);
		assert_int_equal(a->is_dir, 0);
		assert_int_equal(a->nfiles, 0);
		assert_null(a->files);
		assert_true(a->total_bytes == strlen(v[i].data));
		assert_digest(a->digest, v[i].hex);
		ml_artifact_free(a);
	}
	tu_rmtree(dir);
}

/* One million 'a' (FIPS 180-2 appendix B.3): spans the 1 MiB read block. */
static void
test_single_file_million_a(void **state)
{
	char dir[4096], p[8400];
	char *data = malloc(1000000);
	struct ml_artifact *a;

	(void)state;
	assert_non_null(data);
	memset(data, 'a', 1000000);
	tu_tmpdir(dir, sizeof dir);
	put_file(dir, "m", data, 1000000);
	snprintf(p, sizeof p, "%s/m", dir);
	a = must_hash(p, 0);
	assert_digest(a->digest,
		      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	assert_true(a->total_bytes == 1000000);
	ml_artifact_free(a);
	free(data);
	tu_rmtree(dir);
}

/* ------------------------------------------------------------------ */
/* Folders */

/* The nested tree used below; also exercises '-' (0x2d) sorting before
 * '/' (0x2f): "b-c" comes before "b/...", unlike a per-level sort. */
static void
build_tree(const char *dir)
{
	make_dir(dir, "b");
	make_dir(dir, "b/d");
	make_dir(dir, "b/d/deeper");
	make_dir(dir, "empty");
	put_str(dir, "a.txt", "abc");
	put_str(dir, "b-c", "a");
	put_str(dir, "b/c.txt", "");
	put_str(dir, "b/d/e.bin", "hello\n");
	put_str(dir, "b/d/deeper/fox", FOX);
	put_str(dir, ".hidden", "abc");
	put_str(dir, "Z", "a");
}

static void
test_dir_nested_manifest(void **state)
{
	/* Sorted bytewise: ".hidden" < "Z" < "a.txt" < "b-c" < "b/c.txt" <
	 * "b/d/deeper/fox" < "b/d/e.bin". */
	static const char manifest[] =
		H_ABC "  .hidden\n"
		H_A "  Z\n"
		H_ABC "  a.txt\n"
		H_A "  b-c\n"
		H_EMPTY "  b/c.txt\n"
		H_FOX "  b/d/deeper/fox\n"
		H_HELLO "  b/d/e.bin\n";
	static const char *paths[] = { ".hidden", "Z", "a.txt", "b-c", "b/c.txt",
				       "b/d/deeper/fox", "b/d/e.bin" };
	static const uint64_t sizes[] = { 3, 1, 3, 1, 0, 43, 6 };
	static const char *hexes[] = { H_ABC, H_A, H_ABC, H_A, H_EMPTY, H_FOX,
				       H_HELLO };
	char dir[4096], want[65], shell[65];
	uint8_t d[ML_SHA256_LEN];
	struct ml_artifact *a;
	size_t i;

	(void)state;
	tu_tmpdir(dir, sizeof dir);
	build_tree(dir);
	a = must_hash(dir, 2);

	assert_int_equal(a->is_dir, 1);
	assert_int_equal(a->nfiles, 7);
	assert_true(a->total_bytes == 3 + 1 + 3 + 1 + 0 + 43 + 6);
	for (i = 0; i < 7; i++) {
		assert_string_equal(a->files[i].path, paths[i]);
		assert_true(a->files[i].size == sizes[i]);
		assert_digest(a->files[i].sha256, hexes[i]);
	}
	ml_sha256(manifest, strlen(manifest), d);
	ml_hex_encode(d, ML_SHA256_LEN, want);
	assert_digest(a->digest, want);

	/* What an outsider gets from coreutils. */
	shell_digest(dir, COREUTILS_PIPELINE, shell);
	assert_string_equal(shell, want);

	/* A trailing slash names the same folder. */
	{
		char p[8400];
		struct ml_artifact *b;
		snprintf(p, sizeof p, "%s/", dir);
		b = must_hash(p, 1);
		assert_same(a, b);
		ml_artifact_free(b);
	}
	ml_artifact_free(a);
	tu_rmtree(dir);
}

/* Names with spaces, quotes, tabs, UTF-8, invalid UTF-8 and a leading dash:
 * still what coreutils prints (with the robust pipeline). */
static void
test_dir_odd_names_match_coreutils(void **state)
{
	char dir[4096], got[65], shell[65];
	struct ml_artifact *a;

	(void)state;
	tu_tmpdir(dir, sizeof dir);
	make_dir(dir, "with space");
	put_str(dir, "with space/it's \"q\".txt", "abc");
	put_str(dir, "-dash", "x");
	put_str(dir, "caf\xc3\xa9", "coffee");
	put_str(dir, "tab\there", "t");
	put_str(dir, "\xff\xfe", "not utf-8");
	a = must_hash(dir, 3);
	assert_int_equal(a->nfiles, 5);
	ml_hex_encode(a->digest, ML_SHA256_LEN, got);
	shell_digest(dir, COREUTILS_PIPELINE_NL, shell);
	assert_string_equal(got, shell);
	ml_artifact_free(a);
	tu_rmtree(dir);
}

static void
test_dir_creation_order_independent(void **state)
{
	char d1[4096], d2[4096];
	struct ml_artifact *a, *b;

	(void)state;
	tu_tmpdir(d1, sizeof d1);
	tu_tmpdir(d2, sizeof d2);
	build_tree(d1);

	/* Same tree, created in the opposite order. */
	make_dir(d2, "empty");
	put_str(d2, "Z", "a");
	put_str(d2, ".hidden", "abc");
	make_dir(d2, "b");
	put_str(d2, "b/c.txt", "");
	make_dir(d2, "b/d");
	put_str(d2, "b/d/e.bin", "hello\n");
	make_dir(d2, "b/d/deeper");
	put_str(d2, "b/d/deeper/fox", FOX);
	put_str(d2, "b-c", "a");
	put_str(d2, "a.txt", "abc");

	a = must_hash(d1, 1);
	b = must_hash(d2, 4);
	assert_same(a, b);

	/* One byte changed anywhere changes the digest. */
	ml_artifact_free(b);
	put_str(d2, "b/d/e.bin", "hello!");
	b = must_hash(d2, 4);
	assert_memory_not_equal(a->digest, b->digest, ML_SHA256_LEN);
	/* So does a rename with the same bytes. */
	ml_artifact_free(b);
	put_str(d2, "b/d/e.bin", "hello\n");
	{
		char from[8400], to[8400];
		snprintf(from, sizeof from, "%s/Z", d2);
		snprintf(to, sizeof to, "%s/Y", d2);
		assert_int_equal(rename(from, to), 0);
	}
	b = must_hash(d2, 4);
	assert_memory_not_equal(a->digest, b->digest, ML_SHA256_LEN);

	ml_artifact_free(a);
	ml_artifact_free(b);
	tu_rmtree(d1);
	tu_rmtree(d2);
}

/* jobs = 1, 2, 4, 16 and 0 (CPU count) agree; sizes vary so that workers
 * finish out of order. */
static void
test_dir_jobs_independent(void **state)
{
	static const int jobs[] = { 2, 4, 16, 0, -3 };
	char dir[4096], name[64], shell[65], got[65];
	uint8_t *data = malloc(3 * 1024 * 1024);
	struct ml_artifact *ref;
	uint64_t total = 0;
	size_t i;

	(void)state;
	assert_non_null(data);
	for (i = 0; i < 3 * 1024 * 1024; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 13);
	tu_tmpdir(dir, sizeof dir);
	make_dir(dir, "s");
	for (i = 0; i < 40; i++) {
		size_t len = (i % 7 == 0) ? 3 * 1024 * 1024 - i : i * 1000;
		snprintf(name, sizeof name, "%s%02zu.bin", i % 2 ? "s/" : "", i);
		put_file(dir, name, data + i, len - (len ? i % len : 0));
		total += len - (len ? i % len : 0);
	}
	ref = must_hash(dir, 1);
	assert_int_equal(ref->nfiles, 40);
	assert_true(ref->total_bytes == total);
	for (i = 1; i < ref->nfiles; i++)
		assert_true(strcmp(ref->files[i - 1].path, ref->files[i].path) < 0);
	for (i = 0; i < sizeof jobs / sizeof jobs[0]; i++) {
		struct ml_artifact *a = must_hash(dir, jobs[i]);
		assert_same(ref, a);
		ml_artifact_free(a);
	}
	ml_hex_encode(ref->digest, ML_SHA256_LEN, got);
	shell_digest(dir, COREUTILS_PIPELINE, shell);
	assert_string_equal(got, shell);
	ml_artifact_free(ref);
	free(data);
	tu_rmtree(dir);
}

/* ------------------------------------------------------------------ */
/* Symlinks and special files */

static void
test_symlink_to_file_accepted(void **state)
{
	char dir[4096], other[4096], target[8400];
	struct ml_artifact *a;

	(void)state;
	tu_tmpdir(dir, sizeof dir);
	tu_tmpdir(other, sizeof other);
	put_str(other, "real", FOX);
	snprintf(target, sizeof target, "%s/real", other);
	put_str(dir, "a", "abc");
	make_link(target, dir, "link");       /* absolute, outside the root */
	make_link("a", dir, "rel-link");      /* relative, inside */

	a = must_hash(dir, 2);
	assert_int_equal(a->nfiles, 3);
	assert_string_equal(a->files[0].path, "a");
	assert_string_equal(a->files[1].path, "link");
	assert_true(a->files[1].size == strlen(FOX));
	assert_digest(a->files[1].sha256, H_FOX);
	assert_string_equal(a->files[2].path, "rel-link");
	assert_digest(a->files[2].sha256, H_ABC);
	assert_true(a->total_bytes == 3 + strlen(FOX) + 3);
	{
		static const char manifest[] =
			H_ABC "  a\n" H_FOX "  link\n" H_ABC "  rel-link\n";
		uint8_t d[ML_SHA256_LEN];
		ml_sha256(manifest, strlen(manifest), d);
		assert_memory_equal(a->digest, d, ML_SHA256_LEN);
	}
	ml_artifact_free(a);

	/* A symlink given as the path itself is a single file. */
	snprintf(target, sizeof target, "%s/link", dir);
	a = must_hash(target, 1);
	assert_int_equal(a->is_dir, 0);
	assert_digest(a->digest, H_FOX);
	ml_artifact_free(a);
	tu_rmtree(dir);
	tu_rmtree(other);
}

/* The root may itself be a symlink to a folder (like `cd link`). */
static void
test_root_symlink_to_dir_followed(void **state)
{
	char dir[4096], holder[4096], link[8400];
	struct ml_artifact *a, *b;

	(void)state;
	tu_tmpdir(dir, sizeof dir);
	tu_tmpdir(holder, sizeof holder);
	build_tree(dir);
	make_link(dir, holder, "model");
	snprintf(link, sizeof link, "%s/model", holder);
	a = must_hash(dir, 1);
	b = must_hash(link, 1);
	assert_same(a, b);
	ml_artifact_free(a);
	ml_artifact_free(b);
	tu_rmtree(dir);
	tu_rmtree(holder);
}

static void
test_symlink_to_dir_refused(void **state)
{
	char dir[4096], p[8400];

	(void)state;
	tu_tmpdir(dir, sizeof dir);
	put_str(dir, "a", "abc");
	make_dir(dir, "sub");
	put_str(dir, "sub/x", "x");
	make_link("..", dir, "sub/loop");
	snprintf(p, sizeof p, "%s/sub/loop", dir);
	assert_refused(dir, 1, ML_EINPUT, p);
	assert_refused(dir, 1, ML_EINPUT, "symlink to a folder");
	tu_rmtree(dir);
}

static void
test_dangling_symlink_refused(void **state)
{
	char dir[4096], p[8400];

	(void)state;
	tu_tmpdir(dir, sizeof dir);
	put_str(dir, "a", "abc");
	make_link("nowhere", dir, "broken");
	snprintf(p, sizeof p, "%s/broken", dir);
	assert_refused(dir, 2, ML_EINPUT, p);
	assert_refused(dir, 2, ML_EINPUT, "dangling symlink");
	tu_rmtree(dir);
}

static void
test_fifo_refused(void **state)
{
	char dir[4096], other[4096], p[8400], q[8400];
	struct ml_artifact *a;

	(void)state;
	tu_tmpdir(dir, sizeof dir);
	tu_tmpdir(other, sizeof other);
	put_str(dir, "a", "abc");
	make_dir(dir, "sub");
	snprintf(p, sizeof p, "%s/sub/pipe", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	/* Inside a folder and as the path itself: refused without ever
	 * blocking in open(). */
	assert_refused(dir, 2, ML_EINPUT, p);
	assert_refused(dir, 2, ML_EINPUT, "FIFO");
	assert_refused(p, 1, ML_EINPUT, p);
	assert_int_equal(unlink(p), 0);

	/* Through a symlink to a FIFO outside the root. */
	snprintf(q, sizeof q, "%s/pipe", other);
	assert_int_equal(mkfifo(q, 0600), 0);
	assert_int_equal(symlink(q, p), 0);
	assert_refused(dir, 1, ML_EINPUT, "symlink to a FIFO");
	assert_int_equal(unlink(p), 0);

	/* Without the special files the folder is fine. */
	a = must_hash(dir, 1);
	assert_int_equal(a->nfiles, 1);
	ml_artifact_free(a);
	tu_rmtree(dir);
	tu_rmtree(other);
}

static void
test_missing_path_refused(void **state)
{
	char dir[4096], p[8400], want[8500];

	(void)state;
	tu_tmpdir(dir, sizeof dir);
	snprintf(p, sizeof p, "%s/no-such-model", dir);
	snprintf(want, sizeof want, "%s: No such file or directory", p);
	assert_refused(p, 1, ML_EINPUT, want);
	assert_refused("", 1, ML_EINPUT, "empty");
	tu_rmtree(dir);
}

static void
test_empty_dir_refused(void **state)
{
	char dir[4096];

	(void)state;
	tu_tmpdir(dir, sizeof dir);
	assert_refused(dir, 1, ML_EINPUT, "folder has no files");
	/* Folders alone are no better. */
	make_dir(dir, "a");
	make_dir(dir, "a/b");
	assert_refused(dir, 4, ML_EINPUT, "folder has no files");
	tu_rmtree(dir);
}

static void
test_bad_names_refused(void **state)
{
	static const char *bad[] = { "new\nline", "back\\slash", "carriage\rret" };
	char dir[4096];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		tu_tmpdir(dir, sizeof dir);
		put_str(dir, "ok", "abc");
		put_str(dir, bad[i], "x");
		assert_refused(dir, 1, ML_EINPUT, "refused");
		tu_rmtree(dir);

		/* The same in a folder name, with an innocent file below. */
		tu_tmpdir(dir, sizeof dir);
		put_str(dir, "ok", "abc");
		make_dir(dir, bad[i]);
		{
			char rel[64];
			snprintf(rel, sizeof rel, "%s/inner", bad[i]);
			put_str(dir, rel, "x");
		}
		assert_refused(dir, 1, ML_EINPUT, "newline, carriage return or backslash");
		tu_rmtree(dir);
	}
}

static void
test_file_cap(void **state)
{
	char dir[4096], name[64], want[8400];
	struct ml_artifact *a;
	int i;

	(void)state;
	tu_tmpdir(dir, sizeof dir);
	make_dir(dir, "x");
	for (i = 0; i < ML_ARTIFACT_MAX_FILES; i++) {
		snprintf(name, sizeof name, "%s%05d", i % 3 ? "x/" : "", i);
		put_file(dir, name, "", 0);
	}
	a = must_hash(dir, 0);
	assert_int_equal(a->nfiles, ML_ARTIFACT_MAX_FILES);
	assert_true(a->total_bytes == 0);
	ml_artifact_free(a);

	put_file(dir, "x/one-too-many", "", 0);
	snprintf(want, sizeof want, "%s: more than %d files", dir, ML_ARTIFACT_MAX_FILES);
	assert_refused(dir, 0, ML_EINPUT, want);
	tu_rmtree(dir);
}

/* /proc/self/mem looks like an empty regular file but read() at offset 0
 * fails with EIO: a read error that even root cannot avoid. */
static void
test_read_error_is_eio(void **state)
{
	char dir[4096], p[8400];
	struct stat st;

	(void)state;
	if (stat("/proc/self/mem", &st) != 0 || !S_ISREG(st.st_mode)) {
		skip();
		return;
	}
	assert_refused("/proc/self/mem", 1, ML_EIO, "/proc/self/mem: read failed");
	tu_tmpdir(dir, sizeof dir);
	put_str(dir, "a", "abc");
	make_link("/proc/self/mem", dir, "mem");
	snprintf(p, sizeof p, "%s/mem: read failed", dir);
	assert_refused(dir, 2, ML_EIO, p);
	tu_rmtree(dir);
}

/* ------------------------------------------------------------------ */
/* Progress */

struct prog {
	pthread_t caller;
	int calls, wrong_thread, backwards;
	uint64_t last_done, last_total;
};

static void
on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct prog *p = ctx;

	if (!pthread_equal(pthread_self(), p->caller))
		p->wrong_thread++;
	if (done < p->last_done || done > total)
		p->backwards++;
	p->calls++;
	p->last_done = done;
	p->last_total = total;
}

/* Sparse files: big enough to cross the 64 MiB step without disk I/O. */
static void
make_sparse(const char *dir, const char *rel, off_t size)
{
	char p[8400];
	int fd;

	snprintf(p, sizeof p, "%s/%s", dir, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	assert_int_equal(close(fd), 0);
}

static void
test_progress(void **state)
{
	char dir[4096], p[8400], shell[65], got[65];
	struct ml_artifact *a = NULL;
	struct ml_err e;
	struct prog pr;
	const uint64_t big = 150ULL * 1024 * 1024;

	(void)state;
	tu_tmpdir(dir, sizeof dir);
	make_sparse(dir, "big", (off_t)big);

	/* Single file: steps at 64 and 128 MiB, then the final call. */
	memset(&pr, 0, sizeof pr);
	pr.caller = pthread_self();
	snprintf(p, sizeof p, "%s/big", dir);
	assert_int_equal(ml_artifact_hash(p, 1, on_progress, &pr, &a, &e), ML_OK);
	assert_int_equal(pr.calls, 3);
	assert_int_equal(pr.backwards, 0);
	assert_true(pr.last_done == big && pr.last_total == big);
	assert_true(a->total_bytes == big);
	ml_hex_encode(a->digest, ML_SHA256_LEN, got);
	ml_artifact_free(a);
	snprintf(p, sizeof p, "sha256sum big");
	shell_digest(dir, p, shell);
	assert_string_equal(got, shell);

	/* Folder with workers: calls come from the calling thread only. */
	make_sparse(dir, "big2", (off_t)big);
	put_str(dir, "small", "abc");
	memset(&pr, 0, sizeof pr);
	pr.caller = pthread_self();
	a = NULL;
	assert_int_equal(ml_artifact_hash(dir, 3, on_progress, &pr, &a, &e), ML_OK);
	assert_true(pr.calls >= 2 && pr.calls <= 6);
	assert_int_equal(pr.wrong_thread, 0);
	assert_int_equal(pr.backwards, 0);
	assert_true(pr.last_done == 2 * big + 3 && pr.last_total == 2 * big + 3);
	assert_true(a->total_bytes == 2 * big + 3);
	ml_artifact_free(a);

	/* Tiny input: exactly one call, at the end. */
	memset(&pr, 0, sizeof pr);
	pr.caller = pthread_self();
	snprintf(p, sizeof p, "%s/small", dir);
	a = NULL;
	assert_int_equal(ml_artifact_hash(p, 1, on_progress, &pr, &a, &e), ML_OK);
	assert_int_equal(pr.calls, 1);
	assert_true(pr.last_done == 3 && pr.last_total == 3);
	ml_artifact_free(a);
	tu_rmtree(dir);
}

/* Bytes the C library's allocator has handed out and not taken back (all
 * arenas), or 0 when it is not glibc's malloc that serves this process
 * under ASan (valgrind's allocator leaves these counts still; the test
 * sees that): then the leak checker of that run does the counting. */
static size_t
heap_in_use(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return 0;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	return 0;
#else
	return mallinfo2().uordblks;
#endif
#else
	return mallinfo2().uordblks;
#endif
}

/* ml_artifact_free's contract (artifact.h): it takes NULL, as free does, and
 * a failed ml_artifact_hash leaves *out NULL, so a caller frees on every
 * path; on an artifact it returns every byte ml_artifact_hash allocated (the
 * struct, the file list and each path). */
static void
test_free_contract(void **state)
{
	char dir[4096], p[8400];
	struct ml_artifact *a;
	struct ml_err e;
	size_t before, during, after;
	pid_t pid;
	int status = -1;

	(void)state;
	/* NULL in a child, so a broken free is a failed assertion, not a
	 * crash of the whole test binary */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* cmocka's handlers would carry on with the next test in here */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		signal(SIGABRT, SIG_DFL);
		ml_artifact_free(NULL);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	/* a refusal leaves *out NULL */
	tu_tmpdir(dir, sizeof dir);
	snprintf(p, sizeof p, "%s/missing", dir);
	a = NULL;
	assert_int_equal(ml_artifact_hash(p, 1, NULL, NULL, &a, &e), ML_EINPUT);
	assert_null(a);

	/* every byte back: a folder of three files, hashed once beforehand so
	 * one-time allocations (OpenSSL's) are not counted.  Their paths are
	 * over 1,100 bytes, so glibc neither keeps them in its per-thread cache
	 * (which counts a cached block as in use) nor hides a leaked one. */
	{
		char rel[1400] = "d";
		const char *parts = "abcde";
		size_t n;

		make_dir(dir, rel);
		for (n = 0; parts[n]; n++) {
			size_t at = strlen(rel);
			rel[at] = '/';
			memset(rel + at + 1, parts[n], 220);
			rel[at + 221] = '\0';
			make_dir(dir, rel);
		}
		for (n = 0; n < 3; n++) {
			snprintf(p, sizeof p, "%s/file%zu", rel, n);
			put_str(dir, p, "x");
		}
	}
	snprintf(p, sizeof p, "%s/d", dir);
	a = must_hash(p, 1);
	ml_artifact_free(a);
	before = heap_in_use();
	a = must_hash(p, 1);
	assert_int_equal(a->nfiles, 3);
	during = heap_in_use();
	ml_artifact_free(a);
	after = heap_in_use();
	print_message("# heap in use: %zu before, %zu with the artifact, %zu after\n", before, during, after);
	if (during >= before + 3 * 1100) {
		assert_int_equal(after, before);
	} else {
		/* glibc's counts did not move: another allocator serves malloc */
		print_message("# heap counts unavailable (ASan or valgrind allocator): "
			      "its leak checker checks the bytes\n");
	}
	tu_rmtree(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_file_vectors),
		cmocka_unit_test(test_single_file_million_a),
		cmocka_unit_test(test_dir_nested_manifest),
		cmocka_unit_test(test_dir_odd_names_match_coreutils),
		cmocka_unit_test(test_dir_creation_order_independent),
		cmocka_unit_test(test_dir_jobs_independent),
		cmocka_unit_test(test_symlink_to_file_accepted),
		cmocka_unit_test(test_root_symlink_to_dir_followed),
		cmocka_unit_test(test_symlink_to_dir_refused),
		cmocka_unit_test(test_dangling_symlink_refused),
		cmocka_unit_test(test_fifo_refused),
		cmocka_unit_test(test_missing_path_refused),
		cmocka_unit_test(test_empty_dir_refused),
		cmocka_unit_test(test_bad_names_refused),
		cmocka_unit_test(test_file_cap),
		cmocka_unit_test(test_read_error_is_eio),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_free_contract),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
