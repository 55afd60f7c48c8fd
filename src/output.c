/* output — see output.h. */
#include "output.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "keys.h"
#include "ledger.h"

#define SNIFF_LEN 64          /* bytes read to tell a secret key file */
#define SCAN_MAX 100000       /* names read from a folder before giving up */

void
ml_out_rules_init(struct ml_out_rules *r, int force)
{
	memset(r, 0, sizeof *r);
	r->force = force;
}

int
ml_out_protect(struct ml_out_rules *r, const char *path, const char *what,
	       struct ml_err *e)
{
	if (r->n == ML_OUT_GUARDS_MAX)
		return ml_err_set(e, ML_EINPUT, "too many protected files");
	if (snprintf(r->g[r->n].path, sizeof r->g[r->n].path, "%s", path) >=
	    (int)sizeof r->g[r->n].path)
		return ml_err_set(e, ML_EINPUT, "%.200s...: path too long", path);
	snprintf(r->g[r->n].what, sizeof r->g[r->n].what, "%s", what);
	r->n++;
	return ML_OK;
}

int
ml_out_protect_ledger(struct ml_out_rules *r, const char *path, struct ml_err *e)
{
	static const struct {
		const char *suffix, *what;
	} files[] = {
		{"", "the ledger"},
		{"-wal", "the ledger's write-ahead log"},
		{"-shm", "the ledger's shared-memory file"},
		{"-journal", "the ledger's journal"},
	};
	char buf[PATH_MAX];
	size_t i;
	int rc;

	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		if (snprintf(buf, sizeof buf, "%s%s", path, files[i].suffix) >= (int)sizeof buf)
			return ml_err_set(e, ML_EINPUT, "%.200s...: path too long", path);
		if ((rc = ml_out_protect(r, buf, files[i].what, e)))
			return rc;
	}
	ml_ledger_logkey_path(path, buf, sizeof buf);
	return ml_out_protect(r, buf, "the ledger's log key", e);
}

/* A path as the check compares it: its file when it exists, else its
 * resolved folder and its name. */
struct ident {
	int exists;
	struct stat st;
	char dir[PATH_MAX]; /* realpath of the folder; "" when it does not resolve */
	char name[PATH_MAX];
};

/* Splits p (no trailing '/') into its folder (resolved) and last name. */
static void
split_resolve(const char *p, struct ident *id)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(p, '/');

	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == p)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - p), p);
	snprintf(id->name, sizeof id->name, "%s", slash ? slash + 1 : p);
	if (!realpath(dir, id->dir))
		id->dir[0] = '\0';
}

static enum ml_rc
resolve(const char *path, struct ident *id)
{
	char buf[PATH_MAX], real[PATH_MAX];
	size_t n;

	memset(id, 0, sizeof *id);
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return ML_EIO;
	n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	id->exists = stat(buf, &id->st) == 0;
	split_resolve(buf, id);
	/* "x/.." or ".": the name says nothing; resolve the whole path. */
	if (!strcmp(id->name, ".") || !strcmp(id->name, "..") || !strcmp(id->name, "/")) {
		if (id->exists && realpath(buf, real))
			split_resolve(real, id);
		else
			id->dir[0] = '\0';
	}
	return ML_OK;
}

static int
same_file(const struct ident *a, const struct ident *b)
{
	if (a->exists && b->exists)
		return a->st.st_dev == b->st.st_dev && a->st.st_ino == b->st.st_ino;
	if (a->exists || b->exists)
		return 0;
	return a->dir[0] && b->dir[0] && !strcmp(a->dir, b->dir) && !strcmp(a->name, b->name);
}

/* Whether the regular file open at fd starts like a secret key file:
 * ML_OK and *key, or ML_EIO (errno says why; *key false) when it cannot be
 * read. */
static enum ml_rc
sniff_fd(int fd, bool *key)
{
	char buf[SNIFF_LEN];
	size_t len = 0;
	ssize_t n;

	*key = false;
	while (len < sizeof buf && (n = read(fd, buf + len, sizeof buf - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ML_EIO;
		len += (size_t)n;
	}
	*key = ml_seckey_text_like(buf, len);
	return ML_OK;
}

bool
ml_out_is_seckey_file(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	bool key = false;

	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		(void)sniff_fd(fd, &key); /* unreadable: not a key */
	close(fd);
	return key;
}

/* ML_OK when folder dir holds no secret key file (regular files only, links
 * not followed); else ML_EINPUT naming the first one found. */
static int
scan_for_keys(const char *label, const char *dir, struct ml_err *e)
{
	struct dirent *de;
	size_t seen = 0;
	DIR *d = opendir(dir);
	int rc = ML_OK;

	if (!d)
		return ml_err_set(e, ML_EIO, "%s: %s", label, strerror(errno));
	while (rc == ML_OK && (errno = 0, de = readdir(d))) {
		struct stat st;
		bool key = false;
		int fd;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (++seen > SCAN_MAX) {
			rc = ml_err_set(e, ML_EINPUT, "%s: more than %d names in the folder; "
					"give a new folder", label, SCAN_MAX);
			break;
		}
		fd = openat(dirfd(d), de->d_name,
			    O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			continue; /* a link, or unreadable: not a key this tool reads */
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			(void)sniff_fd(fd, &key); /* unreadable: not a key this tool reads */
		close(fd);
		if (key)
			rc = ml_err_set(e, ML_EINPUT, "%s: holds secret keys (%.100s); refusing "
					"to write into a keys folder", label, de->d_name);
	}
	if (rc == ML_OK && errno)
		rc = ml_err_set(e, ML_EIO, "%s: %s", label, strerror(errno));
	closedir(d);
	return rc;
}

int
ml_out_check(const struct ml_out_rules *r, const char *opt, const char *path,
	     int is_dir, struct ml_err *e)
{
	struct ident t, g;
	char label[PATH_MAX + 64];
	size_t i;

	snprintf(label, sizeof label, "%s%s%s", opt ? opt : "", opt ? " " : "",
		 path ? path : "");
	if (!path || !*path)
		return ml_err_set(e, ML_EINPUT, "%s: an empty path", opt ? opt : "output");
	if (resolve(path, &t) != 0)
		return ml_err_set(e, ML_EINPUT, "%.200s...: path too long", label);
	for (i = 0; i < r->n; i++) {
		if (resolve(r->g[i].path, &g) == 0 && same_file(&t, &g))
			return ml_err_set(e, ML_EINPUT, "%s: refusing to overwrite %s", label,
					  r->g[i].what);
	}
	if (!t.exists)
		return ML_OK;
	if (is_dir)
		return !S_ISDIR(t.st.st_mode)
		       ? ml_err_set(e, ML_EINPUT, "%s: exists and is not a folder", label)
		       : scan_for_keys(label, path, e);
	if (S_ISDIR(t.st.st_mode))
		return ml_err_set(e, ML_EINPUT, "%s: is a folder", label);
	if (!S_ISREG(t.st.st_mode))
		return ml_err_set(e, ML_EINPUT, "%s: exists and is not a regular file", label);
	if (!r->keys_ok) {
		int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY), err = 0;
		bool key = false, unreadable = false;
		if (fd < 0) {
			unreadable = true;
			err = errno;
		} else {
			if (sniff_fd(fd, &key) != ML_OK) {
				unreadable = true;
				err = errno;
			}
			close(fd);
		}
		if (key)
			return ml_err_set(e, ML_EINPUT, "%s: refusing to overwrite a secret key",
					  label);
		if (unreadable)
			return ml_err_set(e, ML_EINPUT, "%s: cannot read it to check it is not a "
					  "secret key: %s", label, strerror(err));
	}
	if (!r->force)
		return ml_err_set(e, ML_EINPUT, "%s: exists (use --force to replace it)", label);
	return ML_OK;
}

int
ml_state_lock(const char *path, int timeout_s, int *fd, struct ml_err *e)
{
	char lock[PATH_MAX];
	struct stat st;
	struct timespec nap = {0, 20 * 1000000};
	int f, i;

	if (snprintf(lock, sizeof lock, "%s.lock", path) >= (int)sizeof lock)
		return ml_err_set(e, ML_EINPUT, "%s: path too long", path);
	f = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
	if (f < 0)
		return ml_err_set(e, errno == ELOOP ? ML_EINPUT : ML_EIO, "%s: %s", lock,
				  errno == ELOOP ? "a symbolic link, not a lock file"
						 : strerror(errno));
	if (fstat(f, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(f);
		return ml_err_set(e, ML_EINPUT, "%s: not a regular file", lock);
	}
	for (i = 0; flock(f, LOCK_EX | LOCK_NB) != 0; i++) {
		if ((errno != EWOULDBLOCK && errno != EINTR) || i >= timeout_s * 50) {
			int err = errno;
			close(f);
			return ml_err_set(e, ML_EIO, "%s: %s", lock,
					  err == EWOULDBLOCK ? "locked by another process"
							     : strerror(err));
		}
		nanosleep(&nap, NULL);
	}
	*fd = f;
	return ML_OK;
}

void
ml_state_unlock(int fd)
{
	if (fd >= 0) {
		flock(fd, LOCK_UN);
		close(fd);
	}
}

int
ml_state_stat(const char *path, int *exists, struct ml_err *e)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		if (errno != ENOENT)
			return ml_err_set(e, ML_EIO, "%s: %s", path, strerror(errno));
		*exists = 0;
		return ML_OK;
	}
	if (S_ISLNK(st.st_mode))
		return ml_err_set(e, ML_EINPUT, "%s: a symbolic link (dangling or not), not a "
				  "regular file: give the state file itself", path);
	if (!S_ISREG(st.st_mode))
		return ml_err_set(e, ML_EINPUT, "%s: not a regular file", path);
	*exists = 1;
	return ML_OK;
}
