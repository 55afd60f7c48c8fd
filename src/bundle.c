/* bundle — see bundle.h. */
#include "bundle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys.h"
#include "statement.h"
#include "store.h"
#include "tlog.h"

/* One key an entry enrolled. */
struct bkey {
	char keyid[ML_KEYID_MAX]; /* NAME+hhhhhhhh, from the parsed key */
	char vkey[ML_VKEY_MAX];   /* the verifier key line, as signed */
	int64_t seq;              /* the entry that enrolled it */
	int seen;                 /* check_keys: its file was found */
};

/* The enrolled keys in enrolment order; v is malloc'd (key_list_free). */
struct key_list {
	struct bkey *v;
	size_t n, cap;
};

static void
key_list_free(struct key_list *kl)
{
	free(kl->v);
	kl->v = NULL;
	kl->n = kl->cap = 0;
}

/* Sets e to an integrity failure that is not about one entry (the CLI then
 * prints the message as is) and returns ML_EINTEGRITY. */
static int
bad(struct ml_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
bad(struct ml_err *e, const char *fmt, ...)
{
	va_list ap;

	e->code = ML_EINTEGRITY;
	e->seq = -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return ML_EINTEGRITY;
}

/* Copies untrusted text (a file name from a folder) into out[80] with every
 * byte outside printable ASCII shown as '?', so that an error stays one line. */
static void
shown(const char *in, char out[80])
{
	size_t i;

	for (i = 0; in[i] && i < 76; i++)
		out[i] = (in[i] > 0x20 && in[i] < 0x7f) ? in[i] : '?';
	strcpy(out + i, in[i] ? "..." : "");
}

/* Writes "KEYID.pub" into out[ML_KEYID_MAX + 4] when keyid is NAME+hhhhhhhh
 * with NAME an mlledger key name (FORMAT.md §1) and returns 0; else -1.  The
 * only way a key file name is built: no '/', no "." or "..". */
static int
key_file_name(const char *keyid, char out[ML_KEYID_MAX + 4])
{
	char name[ML_KEYID_MAX];
	const char *plus = strchr(keyid, '+');
	size_t n, i;

	if (!plus || (n = (size_t)(plus - keyid)) >= sizeof name || strlen(plus + 1) != 8)
		return -1;
	memcpy(name, keyid, n);
	name[n] = '\0';
	if (!ml_key_name_simple(name) || !strcmp(name, ".") || !strcmp(name, ".."))
		return -1;
	for (i = 1; i <= 8; i++)
		if (!((plus[i] >= '0' && plus[i] <= '9') || (plus[i] >= 'a' && plus[i] <= 'f')))
			return -1;
	snprintf(out, ML_KEYID_MAX + 4, "%s.pub", keyid);
	return 0;
}

/* Appends the key line vkey (len bytes, from entry seq's signed statement)
 * after checking that it is a verifier key in its canonical form with an
 * mlledger name. */
static int
add_key(struct key_list *kl, const char *vkey, size_t len, int64_t seq, struct ml_err *e)
{
	struct ml_pubkey pk;
	struct bkey *k;
	char line[ML_VKEY_MAX], file[ML_KEYID_MAX + 4];

	if (ml_pubkey_parse_recorded(vkey, len, &pk, e) != ML_OK)
		goto refused;
	ml_pubkey_format(&pk, line);
	if (strlen(line) != len || memcmp(line, vkey, len) != 0 || !ml_key_name_simple(pk.name))
		goto refused;
	if (kl->n == kl->cap) {
		size_t cap = kl->cap ? kl->cap * 2 : 16;
		struct bkey *v = realloc(kl->v, cap * sizeof *v);
		if (!v)
			return ml_err_set(e, ML_EIO, "out of memory");
		kl->v = v;
		kl->cap = cap;
	}
	k = &kl->v[kl->n];
	memset(k, 0, sizeof *k);
	ml_pubkey_keyid(&pk, k->keyid);
	memcpy(k->vkey, line, len + 1);
	k->seq = seq;
	if (key_file_name(k->keyid, file) != 0)
		goto refused;
	kl->n++;
	return ML_OK;
refused:
	ml_err_set(e, ML_EINTEGRITY, "the key it enrols is not an mlledger verifier key");
	e->seq = seq;
	return ML_EINTEGRITY;
}

/* Adds the key that entry en (of the given kind) enrols: genesis' "admin",
 * a key-enrollment's "key", read from the signed statement. */
static int
add_entry_key(struct key_list *kl, const struct ml_entry *en, enum ml_kind kind,
	      struct ml_err *e)
{
	struct ml_envelope env;
	struct ml_statement st;
	json_t *v;
	int rc;

	if (ml_envelope_parse(en->envelope, en->envelope_len, &env, e) != ML_OK)
		goto broken;
	rc = ml_statement_parse(env.payload, env.payload_len, &st, e);
	ml_envelope_clear(&env);
	if (rc != ML_OK)
		goto broken;
	v = st.kind == kind ? json_object_get(st.predicate,
					      kind == ML_KIND_GENESIS ? "admin" : "key") : NULL;
	rc = json_is_string(v) ? add_key(kl, json_string_value(v), json_string_length(v),
					 (int64_t)en->seq, e)
			       : -1;
	ml_statement_free(&st);
	if (rc != -1)
		return rc;
broken:
	ml_err_set(e, ML_EINTEGRITY, "not a %s entry with a key (run 'mlledger verify')",
		   ml_kind_name(kind));
	e->seq = (long long)en->seq;
	return ML_EINTEGRITY;
}

struct walk {
	struct key_list *kl;
	struct ml_err *e;
	size_t row; /* compare_table: the next key expected */
};

static int
enrolment(void *ctx, const struct ml_entry *en, const uint8_t leaf[ML_SHA256_LEN],
	  const struct ml_index_row *ix, int has_ix)
{
	struct walk *w = ctx;

	return add_entry_key(w->kl, en, ML_KIND_KEY_ENROLLMENT, w->e);
}

/* The keys the entries enrolled: entry 0's admin, then every key-enrollment
 * in seq order (found through entry_index, which verify checks against the
 * entries; the key itself is read from the signed statement). */
static int
collect(struct ml_store *s, struct key_list *kl, struct ml_err *e)
{
	struct walk w = {kl, e, 0};
	struct ml_entry en;
	uint8_t *env = NULL, leaf[ML_SHA256_LEN];
	int rc;

	if ((rc = ml_store_entry_get(s, 0, &en, &env, leaf, e)))
		return rc;
	rc = add_entry_key(kl, &en, ML_KIND_GENESIS, e);
	free(env);
	if (rc)
		return rc;
	return ml_store_query(s, ml_kind_name(ML_KIND_KEY_ENROLLMENT), NULL, NULL, -1,
			      enrolment, &w, e);
}

static int
table_row(void *ctx, const struct ml_key_row *row)
{
	struct walk *w = ctx;
	const struct bkey *k = w->row < w->kl->n ? &w->kl->v[w->row] : NULL;
	size_t n = k ? strcspn(k->keyid, "+") : 0;

	if (!k)
		return bad(w->e, "the keys table holds a key no entry enrolled (run "
			   "'mlledger verify')");
	if (strcmp(row->keyid, k->keyid) || strcmp(row->vkey, k->vkey) ||
	    strlen(row->name) != n || strncmp(row->name, k->keyid, n) ||
	    row->enrolled_seq != k->seq) {
		ml_err_set(w->e, ML_EINTEGRITY, "the keys table differs from the enrolment of "
			   "%s (run 'mlledger verify')", k->keyid);
		w->e->seq = k->seq;
		return ML_EINTEGRITY;
	}
	w->row++;
	return 0;
}

/* The keys table must list exactly the collected keys, in the same order. */
static int
compare_table(struct ml_store *s, struct key_list *kl, struct ml_err *e)
{
	struct walk w = {kl, e, 0};
	int rc;

	if ((rc = ml_store_key_each(s, table_row, &w, e)))
		return rc;
	if (w.row != kl->n) {
		ml_err_set(e, ML_EINTEGRITY, "the keys table lacks the key %s (run 'mlledger "
			   "verify')", kl->v[w.row].keyid);
		e->seq = kl->v[w.row].seq;
		return ML_EINTEGRITY;
	}
	return ML_OK;
}

/* collect + compare_table, in the caller's read transaction. */
static int
enrolled_keys(struct ml_ledger *l, struct key_list *kl, struct ml_err *e)
{
	int rc = collect(ml_ledger_store(l), kl, e);

	if (rc == ML_OK)
		rc = compare_table(ml_ledger_store(l), kl, e);
	if (rc)
		key_list_free(kl);
	return rc;
}

/* ---- export ------------------------------------------------------------ */

static const char readme[] =
	"mlledger audit bundle\n"
	"=====================\n"
	"\n"
	"ledger.db      a consistent copy of the ledger (SQLite, format: ledger/FORMAT.md)\n"
	"log.pub        the log's verifier key (C2SP signed-note); it signs checkpoints\n"
	"checkpoint     the ledger's latest signed checkpoint (C2SP tlog-checkpoint)\n"
	"keys/*.pub     every key ever enrolled (revoked ones too), as C2SP verifier keys,\n"
	"               one file NAME+HASH.pub per key (its keyid)\n"
	"\n"
	"Verify everything offline, with no other input:\n"
	"\n"
	"    mlledger verify --bundle THIS-FOLDER\n"
	"\n"
	"and, to require witnesses' cosignatures on the checkpoint (C2SP tlog-policy):\n"
	"\n"
	"    mlledger verify --bundle THIS-FOLDER --trust trust.policy\n"
	"\n"
	"Keep the checkpoint file somewhere the ledger's operators cannot write: a\n"
	"later ledger that does not extend it (truncated, rolled back or rewritten)\n"
	"is caught by:\n"
	"\n"
	"    mlledger --ledger LEDGER verify --checkpoint checkpoint\n";

/* dir must not exist, or be an empty folder.  Creates nothing. */
static int
dir_is_new(const char *dir, struct ml_err *e)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int empty = 1;

	if (lstat(dir, &st) != 0)
		return errno == ENOENT ? ML_OK : ml_err_set(e, ML_EIO, "%s: %s", dir,
							    strerror(errno));
	if (!S_ISDIR(st.st_mode) || !(d = opendir(dir)))
		return ml_err_set(e, ML_EINPUT, "%s: exists and is not a folder", dir);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty ? ML_OK : ml_err_set(e, ML_EINPUT, "%s: not empty (export into a new "
					  "folder)", dir);
}

/* Creates dir/keys in the new folder dir. */
static int
make_dirs(const char *dir, struct ml_err *e)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof path, "%s/keys", dir) >= (int)sizeof path)
		return ml_err_set(e, ML_EINPUT, "%s: path too long", dir);
	if (mkdir(path, 0755) != 0)
		return ml_err_set(e, errno == EEXIST ? ML_EINPUT : ML_EIO, "%s: %s (export "
				  "into a new folder)", path, strerror(errno));
	return ML_OK;
}

/* Writes dir/NAME (new, 0644) holding text. */
static int
write_new(const char *dir, const char *name, const char *text, struct ml_err *e)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
		return ml_err_set(e, ML_EINPUT, "%s: path too long", dir);
	return ml_write_file_atomic(path, text, strlen(text), 0644, 1, e);
}

/* keys/KEYID.pub for each key: its line and "\n". */
static int
write_keys(const char *dir, const struct key_list *kl, struct ml_err *e)
{
	char name[ML_KEYID_MAX + 16], line[ML_VKEY_MAX + 1];
	size_t i;
	int rc;

	for (i = 0; i < kl->n; i++) {
		memcpy(name, "keys/", 5);
		if (key_file_name(kl->v[i].keyid, name + 5) != 0)
			return ml_err_set(e, ML_EINTEGRITY, "refusing the key file name of "
					  "entry %lld", (long long)kl->v[i].seq);
		snprintf(line, sizeof line, "%s\n", kl->v[i].vkey);
		if ((rc = write_new(dir, name, line, e)))
			return rc;
	}
	return ML_OK;
}

/* Removes the folder path and everything in it, links not followed.  Only
 * for the temporary folder export made itself. */
static void
remove_tree(const char *path)
{
	char sub[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(path);

	if (d) {
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) >= (int)sizeof sub)
				continue;
			if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
				remove_tree(sub);
			else
				unlink(sub);
		}
		closedir(d);
	}
	rmdir(path);
}

/* Writes the bundle's files into the new folder dir. */
static int
export_into(struct ml_ledger *l, const char *dir, struct ml_err *e)
{
	struct ml_store *s = ml_ledger_store(l);
	struct key_list kl = {0};
	char path[PATH_MAX], line[ML_VKEY_MAX + 2];
	char *note = NULL;
	uint64_t size;
	int rc;

	if (snprintf(path, sizeof path, "%s/ledger.db", dir) >= (int)sizeof path)
		return ml_err_set(e, ML_EINPUT, "%s: path too long", dir);
	if ((rc = ml_store_begin(s, 0, e)))
		return rc;
	/* Keys and checkpoint from the same snapshot as the copy; the keys are
	 * checked before anything is created. */
	rc = enrolled_keys(l, &kl, e);
	if (rc == ML_OK)
		rc = make_dirs(dir, e);
	if (rc == ML_OK)
		rc = ml_store_backup(s, path, e);
	if (rc == ML_OK)
		rc = ml_tlog_checkpoint(l, -1, &size, &note, e);
	ml_store_rollback(s);
	if (rc == ML_OK)
		rc = write_keys(dir, &kl, e);
	if (rc == ML_OK)
		rc = write_new(dir, "checkpoint", note, e);
	snprintf(line, sizeof line, "%s\n", ml_ledger_logkey(l));
	if (rc == ML_OK)
		rc = write_new(dir, "log.pub", line, e);
	if (rc == ML_OK)
		rc = write_new(dir, "README.txt", readme, e);
	free(note);
	key_list_free(&kl);
	return rc;
}

/* Syncs the folder that holds path (its parent). */
static void
fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path + 1) : 1,
		 slash ? path : ".");
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
}

int
ml_bundle_export(struct ml_ledger *l, const char *dir, struct ml_err *e)
{
	char out[PATH_MAX], tmp[PATH_MAX + 16];
	size_t n;
	mode_t mask;
	int rc;

	if ((rc = dir_is_new(dir, e)))
		return rc;
	if (snprintf(out, sizeof out, "%s", dir) >= (int)sizeof out)
		return ml_err_set(e, ML_EINPUT, "%s: path too long", dir);
	n = strlen(out);
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	/* Built beside dir under a new name, renamed into place at the end:
	 * a failure midway (a full disk) removes everything it made. */
	snprintf(tmp, sizeof tmp, "%s.export-XXXXXX", out);
	if (strlen(tmp) >= PATH_MAX || !mkdtemp(tmp))
		return ml_err_set(e, ML_EIO, "%s: cannot create a folder beside it: %s", out,
				  strlen(tmp) >= PATH_MAX ? "path too long" : strerror(errno));
	mask = umask(0);
	umask(mask);
	if (chmod(tmp, 0755 & ~mask) != 0)
		rc = ml_err_set(e, ML_EIO, "%s: %s", tmp, strerror(errno));
	if (rc == ML_OK)
		rc = export_into(l, tmp, e);
	/* rename() replaces dir only when it is absent or an empty folder. */
	if (rc == ML_OK && rename(tmp, out) != 0)
		rc = ml_err_set(e, errno == EEXIST || errno == ENOTEMPTY ? ML_EINPUT : ML_EIO,
				"%s: %s", out, errno == EEXIST || errno == ENOTEMPTY
				? "not empty (export into a new folder)" : strerror(errno));
	if (rc) {
		remove_tree(tmp);
		return rc;
	}
	fsync_parent(out);
	return ML_OK;
}

/* ---- verify --bundle: keys/ -------------------------------------------- */

static int
by_keyid(const void *a, const void *b)
{
	return strcmp((*(const struct bkey *const *)a)->keyid,
		      (*(const struct bkey *const *)b)->keyid);
}

/* The key whose file is called fname (KEYID.pub), or NULL. */
static struct bkey *
key_of_file(struct bkey **sorted, size_t n, const char *fname)
{
	struct bkey want, *p = &want, **hit;
	size_t len = strlen(fname);

	if (len <= 4 || len - 4 >= sizeof want.keyid || strcmp(fname + len - 4, ".pub"))
		return NULL;
	memcpy(want.keyid, fname, len - 4);
	want.keyid[len - 4] = '\0';
	hit = bsearch(&p, sorted, n, sizeof *sorted, by_keyid);
	return hit ? *hit : NULL;
}

/* keys/ holds regular files only: no symlink (not even to a key file), no
 * folder, FIFO or device. */
static int
regular_file(int dfd, const char *path, const char *fname, struct ml_err *e)
{
	struct stat st;

	if (fstatat(dfd, fname, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return ml_err_set(e, ML_EIO, "%s: %s", path, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return bad(e, "%s: a symbolic link, not a key file", path);
	if (!S_ISREG(st.st_mode))
		return bad(e, "%s: not a regular file", path);
	return ML_OK;
}

/* Reads at most ML_BUNDLE_KEYFILE_MAX + 1 bytes of the regular file fname
 * in folder dfd, without following a symlink or blocking on a FIFO (the file
 * may have been swapped since regular_file looked). */
static int
read_key_file(int dfd, const char *path, const char *fname, char *buf, size_t *len,
	      struct ml_err *e)
{
	struct stat st;
	int fd, err;
	ssize_t n;

	fd = openat(dfd, fname, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		err = fd < 0 ? errno : EINVAL;
		if (fd >= 0)
			close(fd);
		return ml_err_set(e, err == ELOOP || err == EINVAL ? ML_EINTEGRITY : ML_EIO,
				  "%s: cannot open as a regular file: %s", path, strerror(err));
	}
	*len = 0;
	while (*len <= ML_BUNDLE_KEYFILE_MAX &&
	       (n = read(fd, buf + *len, ML_BUNDLE_KEYFILE_MAX + 1 - *len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			close(fd);
			return ml_err_set(e, ML_EIO, "%s: read failed: %s", path, strerror(err));
		}
		*len += (size_t)n;
	}
	close(fd);
	return ML_OK;
}

/* The file's bytes must be exactly k's line and "\n". */
static int
check_content(const struct key_list *kl, const struct bkey *k, const char *path,
	      const char *buf, size_t len, struct ml_err *e)
{
	size_t i, n = strlen(k->vkey);

	if (len > ML_BUNDLE_KEYFILE_MAX)
		return bad(e, "%s: larger than %d bytes (a key file is one line)", path,
			   ML_BUNDLE_KEYFILE_MAX);
	if (len == n + 1 && !memcmp(buf, k->vkey, n) && buf[n] == '\n')
		return ML_OK;
	for (i = 0; i < kl->n; i++) {
		size_t m = strlen(kl->v[i].vkey);
		if (&kl->v[i] != k && (len == m || len == m + 1) &&
		    !memcmp(buf, kl->v[i].vkey, m) && (len == m || buf[m] == '\n'))
			return bad(e, "%s: holds the key %s, not %s", path,
				   kl->v[i].keyid, k->keyid);
	}
	return bad(e, "%s: differs from the key line the ledger enrolled (want "
		   "exactly that line and a newline)", path);
}

/* One name read from keys/: a file of an enrolled key, with its bytes. */
static int
check_entry(int dfd, const char *kdir, const char *fname, struct key_list *kl,
	    struct bkey **sorted, char *buf, struct ml_err *e)
{
	char path[PATH_MAX + 96], show[80];
	struct bkey *k = key_of_file(sorted, kl->n, fname);
	size_t len = 0;
	int rc;

	shown(fname, show);
	snprintf(path, sizeof path, "%s/%s", kdir, show);
	if ((rc = regular_file(dfd, path, fname, e)))
		return rc;
	if (!k)
		return bad(e, "%s: not the file of a key the ledger enrolled (want only "
			   "KEYID.pub of enrolled keys)", path);
	if ((rc = read_key_file(dfd, path, fname, buf, &len, e)))
		return rc;
	if ((rc = check_content(kl, k, path, buf, len, e)))
		return rc;
	k->seen = 1;
	return ML_OK;
}

/* Reads kdir's names (at most ML_BUNDLE_KEYS_MAX) and checks each. */
static int
check_folder(const char *kdir, struct key_list *kl, struct bkey **sorted, struct ml_err *e)
{
	struct dirent *de;
	struct stat st;
	char *buf;
	size_t count = 0;
	DIR *d;
	int rc = ML_OK;

	if (lstat(kdir, &st) != 0)
		return errno == ENOENT ? bad(e, "%s: missing (the bundle must hold the "
					     "enrolled keys)", kdir)
				       : ml_err_set(e, ML_EIO, "%s: %s", kdir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return bad(e, "%s: not a folder (a symbolic link or a file)", kdir);
	if (!(buf = malloc(ML_BUNDLE_KEYFILE_MAX + 1)))
		return ml_err_set(e, ML_EIO, "out of memory");
	if (!(d = opendir(kdir))) {
		free(buf);
		return ml_err_set(e, ML_EIO, "%s: %s", kdir, strerror(errno));
	}
	while (rc == ML_OK && (errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (++count > ML_BUNDLE_KEYS_MAX)
			rc = bad(e, "%s: more than %d files", kdir, ML_BUNDLE_KEYS_MAX);
		else
			rc = check_entry(dirfd(d), kdir, de->d_name, kl, sorted, buf, e);
	}
	if (rc == ML_OK && errno)
		rc = ml_err_set(e, ML_EIO, "%s: %s", kdir, strerror(errno));
	closedir(d);
	free(buf);
	return rc;
}

/* Every key must have been seen: the first missing one, in enrolment order. */
static int
check_missing(const char *kdir, const struct key_list *kl, struct ml_err *e)
{
	size_t i;

	for (i = 0; i < kl->n; i++)
		if (!kl->v[i].seen)
			return bad(e, "%s/%s.pub: missing (the key entry %lld enrolled)", kdir,
				   kl->v[i].keyid, (long long)kl->v[i].seq);
	return ML_OK;
}

int
ml_bundle_check_keys(struct ml_ledger *l, const char *dir, size_t *nkeys, struct ml_err *e)
{
	struct ml_store *s = ml_ledger_store(l);
	struct key_list kl = {0};
	struct bkey **sorted = NULL;
	char kdir[PATH_MAX];
	size_t i;
	int rc;

	if (snprintf(kdir, sizeof kdir, "%s/keys", dir) >= (int)sizeof kdir)
		return ml_err_set(e, ML_EINPUT, "%s: path too long", dir);
	if ((rc = ml_store_begin(s, 0, e)))
		return rc;
	rc = enrolled_keys(l, &kl, e);
	ml_store_rollback(s);
	if (rc)
		return rc;
	if (!(sorted = malloc(kl.n * sizeof *sorted))) {
		key_list_free(&kl);
		return ml_err_set(e, ML_EIO, "out of memory");
	}
	for (i = 0; i < kl.n; i++)
		sorted[i] = &kl.v[i];
	qsort(sorted, kl.n, sizeof *sorted, by_keyid);
	rc = check_folder(kdir, &kl, sorted, e);
	if (rc == ML_OK)
		rc = check_missing(kdir, &kl, e);
	if (rc == ML_OK)
		*nkeys = kl.n;
	free(sorted);
	key_list_free(&kl);
	return rc;
}
