/* artifact — see artifact.h.
 *
 * Two phases.  The walk (calling thread) lists every regular file below the
 * root with lstat, refuses what the manifest cannot represent, and sorts the
 * list by path.  The hash phase starts `jobs` workers that take files from
 * a shared atomic index, so one huge file and many small ones balance.  The
 * calling thread meanwhile waits on a condition variable and is the only
 * thread that calls the progress callback, with no lock held.
 */
#include "artifact.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_BLOCK (1024 * 1024)             /* read() size, per worker */
#define PROGRESS_STEP (64ULL * 1024 * 1024)  /* bytes between progress calls */
#define MAX_JOBS 256

/* ------------------------------------------------------------------ */
/* Messages */

/* Copies p into buf (cap bytes, NUL-terminated) with control characters
 * shown as '?', so an error message stays one line whatever the name. */
static const char *
show_path(const char *p, char *buf, size_t cap)
{
	size_t i;

	for (i = 0; p[i] && i + 1 < cap; i++)
		buf[i] = (unsigned char)p[i] < 0x20 || p[i] == 0x7f ? '?' : p[i];
	buf[i] = '\0';
	return buf;
}

/* What a non-regular, non-folder mode is, for messages. */
static const char *
kind_name(mode_t m)
{
	if (S_ISDIR(m))
		return "a folder";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISLNK(m))
		return "a symlink";
	return "not a regular file";
}

/* ------------------------------------------------------------------ */
/* Hashing one file */

/* Called after every read with the byte count; arg is the caller's. */
typedef void (*bytes_fn)(void *arg, size_t n);

/* Hashes the regular file at path with buf (READ_BLOCK bytes) as scratch.
 * Writes the digest and the number of bytes read (which is what counts if
 * the file changes size meanwhile).  on_bytes may be NULL.  Stops early with
 * ML_EIO when stop is non-NULL and becomes nonzero (another worker failed).
 * ML_EINPUT when path is no longer a regular file (swapped after the walk),
 * ML_EIO for open and read errors; the message names the path. */
static int
hash_file(const char *path, uint8_t *buf, bytes_fn on_bytes, void *arg,
	  atomic_int *stop, uint8_t digest[ML_SHA256_LEN], uint64_t *size,
	  struct ml_err *e)
{
	char shown[320];
	struct ml_sha256_ctx *c = NULL;
	struct stat st;
	uint64_t got = 0;
	int fd, rc = ML_OK, flags;

	/* O_NONBLOCK: a FIFO swapped in after the walk must not hang us. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return ml_err_set(e, ML_EIO, "%s: %s",
				  show_path(path, shown, sizeof shown),
				  strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = ml_err_set(e, ML_EIO, "%s: %s",
				show_path(path, shown, sizeof shown), strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = ml_err_set(e, ML_EINPUT, "%s: %s, refused",
				show_path(path, shown, sizeof shown),
				kind_name(st.st_mode));
		goto out;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		(void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	c = ml_sha256_new();
	if (!c) {
		rc = ml_err_set(e, ML_EIO, "%s: out of memory",
				show_path(path, shown, sizeof shown));
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf, READ_BLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ml_err_set(e, ML_EIO, "%s: read failed: %s",
					show_path(path, shown, sizeof shown),
					strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		ml_sha256_update(c, buf, (size_t)n);
		got += (uint64_t)n;
		if (on_bytes)
			on_bytes(arg, (size_t)n);
		if (stop && atomic_load_explicit(stop, memory_order_relaxed)) {
			rc = ml_err_set(e, ML_EIO, "stopped");
			goto out;
		}
	}
	ml_sha256_final(c, digest);
	c = NULL;
	*size = got;
out:
	if (c) {
		uint8_t scrap[ML_SHA256_LEN];
		ml_sha256_final(c, scrap); /* the only way to free it */
	}
	close(fd);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The walk */

struct file_list {
	struct ml_artifact_file *v;
	size_t n, cap;
	uint64_t total; /* sum of sizes seen by stat, for progress */
};

static void
file_list_free(struct file_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* Returns a malloc'd "a/b" (or b when a is empty), or NULL. */
static char *
join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p;
	int slash;

	while (la > 1 && a[la - 1] == '/')
		la--; /* "dir/" gives "dir/x", "/" stays "/" */
	slash = la > 0 && a[la - 1] != '/';
	p = malloc(la + (size_t)slash + lb + 1);
	if (!p)
		return NULL;
	memcpy(p, a, la);
	if (slash)
		p[la] = '/';
	memcpy(p + la + (size_t)slash, b, lb + 1);
	return p;
}

/* Names the manifest line format cannot carry as-is: sha256sum escapes
 * '\n' and '\\' (and, since coreutils 9, '\r') with a leading backslash,
 * which would make our manifest differ from what coreutils prints. */
static int
bad_name(const char *name)
{
	return strpbrk(name, "\n\r\\") != NULL;
}

static int
list_add(struct file_list *l, char *rel, uint64_t size, const char *root,
	 struct ml_err *e)
{
	char shown[320];

	if (l->n >= ML_ARTIFACT_MAX_FILES) {
		free(rel);
		return ml_err_set(e, ML_EINPUT, "%s: more than %d files",
				  show_path(root, shown, sizeof shown),
				  ML_ARTIFACT_MAX_FILES);
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct ml_artifact_file *v = realloc(l->v, cap * sizeof *v);
		if (!v) {
			free(rel);
			return ml_err_set(e, ML_EIO, "out of memory");
		}
		l->v = v;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof l->v[l->n]);
	l->v[l->n].path = rel;
	l->v[l->n].size = size;
	l->n++;
	l->total += size;
	return ML_OK;
}

struct name_list {
	char **v;
	size_t n, cap;
};

static void
name_list_free(struct name_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

/* Takes ownership of s (freed on failure). */
static enum ml_rc
name_list_add(struct name_list *l, char *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		char **v = realloc(l->v, cap * sizeof *v);
		if (!v) {
			free(s);
			return ML_EIO;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = s;
	return ML_OK;
}

/* Lists the regular files below root/rel (rel "" for the root itself) into
 * out.  Keeps one directory open at a time: subfolders are remembered and
 * walked after closedir, so deep trees do not run out of descriptors.
 * Symlinked folders are refused, never followed. */
static int
walk(const char *root, const char *rel, struct file_list *out,
     struct ml_err *e)
{
	char shown[320];
	struct name_list subdirs = { 0 };
	char *dirpath = NULL, *full = NULL, *relpath = NULL;
	struct dirent *de;
	DIR *d = NULL;
	size_t i;
	int rc = ML_OK;

	dirpath = *rel ? join(root, rel) : strdup(root);
	if (!dirpath) {
		rc = ml_err_set(e, ML_EIO, "out of memory");
		goto out;
	}
	d = opendir(dirpath);
	if (!d) {
		rc = ml_err_set(e, ML_EIO, "%s: %s",
				show_path(dirpath, shown, sizeof shown),
				strerror(errno));
		goto out;
	}
	for (;;) {
		struct stat st;
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno) {
				rc = ml_err_set(e, ML_EIO, "%s: %s",
						show_path(dirpath, shown, sizeof shown),
						strerror(errno));
				goto out;
			}
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		relpath = *rel ? join(rel, de->d_name) : strdup(de->d_name);
		full = relpath ? join(root, relpath) : NULL;
		if (!full) {
			rc = ml_err_set(e, ML_EIO, "out of memory");
			goto out;
		}
		if (bad_name(de->d_name)) {
			rc = ml_err_set(e, ML_EINPUT,
					"%s: name contains a newline, carriage "
					"return or backslash, refused",
					show_path(full, shown, sizeof shown));
			goto out;
		}
		if (lstat(full, &st) != 0) {
			rc = ml_err_set(e, ML_EIO, "%s: %s",
					show_path(full, shown, sizeof shown),
					strerror(errno));
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			if (stat(full, &st) != 0) {
				rc = ml_err_set(e, ML_EINPUT,
						"%s: dangling symlink (%s), refused",
						show_path(full, shown, sizeof shown),
						strerror(errno));
				goto out;
			}
			if (!S_ISREG(st.st_mode)) {
				rc = ml_err_set(e, ML_EINPUT,
						"%s: symlink to %s, refused",
						show_path(full, shown, sizeof shown),
						kind_name(st.st_mode));
				goto out;
			}
		} else if (S_ISDIR(st.st_mode)) {
			if (name_list_add(&subdirs, relpath) != 0) {
				relpath = NULL;
				rc = ml_err_set(e, ML_EIO, "out of memory");
				goto out;
			}
			relpath = NULL;
			free(full);
			full = NULL;
			continue;
		} else if (!S_ISREG(st.st_mode)) {
			rc = ml_err_set(e, ML_EINPUT, "%s: %s, refused",
					show_path(full, shown, sizeof shown),
					kind_name(st.st_mode));
			goto out;
		}
		rc = list_add(out, relpath, (uint64_t)st.st_size, root, e);
		relpath = NULL; /* owned by out, or freed */
		if (rc != ML_OK)
			goto out;
		free(full);
		full = NULL;
	}
	closedir(d);
	d = NULL;
	for (i = 0; i < subdirs.n; i++) {
		rc = walk(root, subdirs.v[i], out, e);
		if (rc != ML_OK)
			goto out;
	}
out:
	if (d)
		closedir(d);
	free(relpath);
	free(full);
	free(dirpath);
	name_list_free(&subdirs);
	return rc;
}

static int
cmp_file(const void *a, const void *b)
{
	const struct ml_artifact_file *x = a, *y = b;

	return strcmp(x->path, y->path);
}

/* ------------------------------------------------------------------ */
/* The hash phase */

struct run {
	const char *root;
	struct ml_artifact_file *files;
	size_t nfiles;
	atomic_size_t next;  /* next file index to take */
	atomic_int failed;   /* set once; workers stop early */

	pthread_mutex_t mu;  /* guards everything below */
	pthread_cond_t cv;   /* workers -> calling thread */
	int running;         /* workers not yet finished */
	int track;           /* progress wanted */
	uint64_t done;       /* bytes hashed */
	uint64_t reported;   /* done at the last progress call */
	struct ml_err err;   /* the first failure */
	int rc;
};

static void
run_bytes(void *arg, size_t n)
{
	struct run *r = arg;

	pthread_mutex_lock(&r->mu);
	r->done += n;
	if (r->done - r->reported >= PROGRESS_STEP)
		pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static void *
worker(void *arg)
{
	struct run *r = arg;
	struct ml_err err;
	uint8_t *buf = aligned_alloc(4096, READ_BLOCK);
	int rc = ML_OK;

	ml_err_clear(&err);
	if (!buf)
		rc = ml_err_set(&err, ML_EIO, "out of memory");
	while (rc == ML_OK && !atomic_load(&r->failed)) {
		size_t i = atomic_fetch_add(&r->next, 1);
		struct ml_artifact_file *f;
		char *full;
		if (i >= r->nfiles)
			break;
		f = &r->files[i];
		full = join(r->root, f->path);
		if (!full) {
			rc = ml_err_set(&err, ML_EIO, "out of memory");
			break;
		}
		rc = hash_file(full, buf, r->track ? run_bytes : NULL, r,
			       &r->failed, f->sha256, &f->size, &err);
		free(full);
	}
	free(buf);
	pthread_mutex_lock(&r->mu);
	/* The first real failure wins; "stopped" follows someone else's. */
	if (rc != ML_OK && r->rc == ML_OK) {
		r->rc = rc;
		r->err = err;
		atomic_store(&r->failed, 1);
	}
	r->running--;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* Hashes every file in files[] with nthreads workers.  The calling thread
 * makes the progress calls.  On success the sizes are the bytes read. */
static int
hash_all(const char *root, struct ml_artifact_file *files, size_t nfiles,
	 int nthreads, uint64_t total,
	 void (*progress)(void *, uint64_t, uint64_t), void *ctx,
	 struct ml_err *e)
{
	pthread_t tid[MAX_JOBS];
	struct run r;
	int started = 0, i;

	memset(&r, 0, sizeof r);
	r.root = root;
	r.files = files;
	r.nfiles = nfiles;
	atomic_init(&r.next, 0);
	atomic_init(&r.failed, 0);
	r.track = progress != NULL;
	r.rc = ML_OK;
	ml_err_clear(&r.err);
	if (pthread_mutex_init(&r.mu, NULL) != 0)
		return ml_err_set(e, ML_EIO, "cannot create a mutex");
	if (pthread_cond_init(&r.cv, NULL) != 0) {
		pthread_mutex_destroy(&r.mu);
		return ml_err_set(e, ML_EIO, "cannot create a condition variable");
	}
	pthread_mutex_lock(&r.mu);
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&tid[i], NULL, worker, &r) != 0)
			break; /* fewer workers still finish the job */
		started++;
		r.running++;
	}
	if (started == 0) {
		r.rc = ml_err_set(&r.err, ML_EIO, "cannot start hashing threads");
		goto out;
	}
	while (r.running > 0) {
		if (r.track && r.done - r.reported >= PROGRESS_STEP &&
		    !atomic_load(&r.failed)) {
			uint64_t d = r.done;
			r.reported = d;
			pthread_mutex_unlock(&r.mu);
			progress(ctx, d, total > d ? total : d);
			pthread_mutex_lock(&r.mu);
			continue;
		}
		pthread_cond_wait(&r.cv, &r.mu);
	}
out:
	pthread_mutex_unlock(&r.mu);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	pthread_cond_destroy(&r.cv);
	pthread_mutex_destroy(&r.mu);
	if (r.rc != ML_OK) {
		if (e)
			*e = r.err;
		return r.rc;
	}
	return ML_OK;
}

/* ------------------------------------------------------------------ */
/* Entry points */

struct single_progress {
	void (*fn)(void *, uint64_t, uint64_t);
	void *ctx;
	uint64_t done, reported, total;
};

static void
single_bytes(void *arg, size_t n)
{
	struct single_progress *p = arg;

	p->done += n;
	if (p->done - p->reported >= PROGRESS_STEP) {
		p->reported = p->done;
		p->fn(p->ctx, p->done, p->total > p->done ? p->total : p->done);
	}
}

static int
hash_single(const char *path, const struct stat *st,
	    void (*progress)(void *, uint64_t, uint64_t), void *ctx,
	    struct ml_artifact **out, struct ml_err *e)
{
	struct single_progress sp = { progress, ctx, 0, 0, (uint64_t)st->st_size };
	struct ml_artifact *a = NULL;
	uint8_t *buf = NULL;
	int rc;

	a = calloc(1, sizeof *a);
	buf = aligned_alloc(4096, READ_BLOCK);
	if (!a || !buf) {
		rc = ml_err_set(e, ML_EIO, "out of memory");
		goto out;
	}
	rc = hash_file(path, buf, progress ? single_bytes : NULL, &sp, NULL,
		       a->digest, &a->total_bytes, e);
	if (rc != ML_OK)
		goto out;
	if (progress)
		progress(ctx, a->total_bytes, a->total_bytes);
	*out = a;
	a = NULL;
out:
	free(buf);
	free(a);
	return rc;
}

static int
hash_dir(const char *path, int jobs,
	 void (*progress)(void *, uint64_t, uint64_t), void *ctx,
	 struct ml_artifact **out, struct ml_err *e)
{
	char shown[320], hex[2 * ML_SHA256_LEN + 1];
	struct file_list l = { 0 };
	struct ml_buf manifest = { 0 };
	struct ml_artifact *a = NULL;
	size_t i;
	int rc, nthreads;

	rc = walk(path, "", &l, e);
	if (rc != ML_OK)
		goto out;
	if (l.n == 0) {
		rc = ml_err_set(e, ML_EINPUT, "%s: folder has no files",
				show_path(path, shown, sizeof shown));
		goto out;
	}
	qsort(l.v, l.n, sizeof *l.v, cmp_file);

	if (jobs <= 0) {
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		jobs = ncpu > 0 ? (ncpu > MAX_JOBS ? MAX_JOBS : (int)ncpu) : 1;
	}
	if (jobs > MAX_JOBS)
		jobs = MAX_JOBS;
	nthreads = (size_t)jobs < l.n ? jobs : (int)l.n;
	rc = hash_all(path, l.v, l.n, nthreads, l.total, progress, ctx, e);
	if (rc != ML_OK)
		goto out;

	a = calloc(1, sizeof *a);
	if (!a) {
		rc = ml_err_set(e, ML_EIO, "out of memory");
		goto out;
	}
	for (i = 0; i < l.n; i++) {
		ml_hex_encode(l.v[i].sha256, ML_SHA256_LEN, hex);
		ml_buf_append(&manifest, hex, 2 * ML_SHA256_LEN);
		ml_buf_append(&manifest, "  ", 2);
		ml_buf_puts(&manifest, l.v[i].path);
		ml_buf_append(&manifest, "\n", 1);
		a->total_bytes += l.v[i].size;
	}
	if (manifest.oom) {
		rc = ml_err_set(e, ML_EIO, "out of memory");
		goto out;
	}
	ml_sha256(manifest.data, manifest.len, a->digest);
	a->is_dir = 1;
	a->nfiles = l.n;
	a->files = l.v;
	l.v = NULL;
	l.n = 0;
	if (progress)
		progress(ctx, a->total_bytes, a->total_bytes);
	*out = a;
	a = NULL;
out:
	ml_buf_free(&manifest);
	file_list_free(&l);
	free(a);
	return rc;
}

/* The root itself is followed when it is a symlink (`cd dir` would too);
 * only entries below it are held to the no-symlinked-folders rule. */
int
ml_artifact_hash(const char *path, int jobs,
		 void (*progress)(void *ctx, uint64_t done, uint64_t total),
		 void *ctx, struct ml_artifact **out, struct ml_err *e)
{
	char shown[320];
	struct stat st;

	if (!path || !*path)
		return ml_err_set(e, ML_EINPUT, "empty artifact path");
	if (stat(path, &st) != 0) {
		int err = errno;
		return ml_err_set(e,
				  err == ENOENT || err == ENOTDIR ||
						  err == ELOOP || err == ENAMETOOLONG
					  ? ML_EINPUT
					  : ML_EIO,
				  "%s: %s", show_path(path, shown, sizeof shown),
				  strerror(err));
	}
	if (S_ISREG(st.st_mode))
		return hash_single(path, &st, progress, ctx, out, e);
	if (S_ISDIR(st.st_mode))
		return hash_dir(path, jobs, progress, ctx, out, e);
	return ml_err_set(e, ML_EINPUT, "%s: %s, refused",
			  show_path(path, shown, sizeof shown), kind_name(st.st_mode));
}

void
ml_artifact_free(struct ml_artifact *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->nfiles; i++)
		free(a->files[i].path);
	free(a->files);
	free(a);
}
