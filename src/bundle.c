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

#include <sodium.h>

#include "keys.h"
#include "merkle.h"
#include "note.h"
#include "note_checkpoint.h"
#include "statement.h"
#include "store.h"
#include "tlog.h"
#include "verify.h"

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
 * with NAME an mlledger key name (FORMAT.md §1): ML_OK; else ML_EINPUT.  The
 * only way a key file name is built: no '/', no "." or "..". */
static enum ml_rc
key_file_name(const char *keyid, char out[ML_KEYID_MAX + 4])
{
	char name[ML_KEYID_MAX];
	const char *plus = strchr(keyid, '+');
	size_t n, i;

	if (!plus || (n = (size_t)(plus - keyid)) >= sizeof name || strlen(plus + 1) != 8)
		return ML_EINPUT;
	memcpy(name, keyid, n);
	name[n] = '\0';
	if (!ml_key_name_simple(name) || !strcmp(name, ".") || !strcmp(name, ".."))
		return ML_EINPUT;
	for (i = 1; i <= 8; i++)
		if (!((plus[i] >= '0' && plus[i] <= '9') || (plus[i] >= 'a' && plus[i] <= 'f')))
			return ML_EINPUT;
	snprintf(out, ML_KEYID_MAX + 4, "%s.pub", keyid);
	return ML_OK;
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
	if (!json_is_string(v)) {
		ml_statement_free(&st);
		goto broken;
	}
	rc = add_key(kl, json_string_value(v), json_string_length(v), (int64_t)en->seq, e);
	ml_statement_free(&st);
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

/* ---- names ------------------------------------------------------------- */

/* 1 when name may name a file of policies/ (or the base of one): 1-200
 * bytes of [A-Za-z0-9._:@+-], not starting with '.'.  Never '/', "." or
 * "..". */
static int
file_name_ok(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len > 200 || name[0] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || strchr("._:@+-", ch)) || ch == '\0')
			return 0;
	}
	return 1;
}

/* Writes "policies/SUBJECT.xml" into out[256] when the policy subject
 * (ID@VERSION) passes file_name_ok: ML_OK; else ML_EINPUT (the policy is
 * not extracted). */
static enum ml_rc
policy_file_name(const char *subject, char out[256])
{
	size_t n = strlen(subject);

	if (!file_name_ok(subject, n) || !strchr(subject, '@'))
		return ML_EINPUT;
	snprintf(out, 256, "policies/%s.xml", subject);
	return ML_OK;
}

/* ---- the policies the entries recorded --------------------------------- */

struct bpol {
	char path[256];              /* policies/ID@VERSION.xml */
	char *content;               /* malloc'd, the recorded bytes */
	size_t len;
	uint8_t sha[ML_SHA256_LEN];
	int64_t seq;                 /* the first entry that recorded it */
};

struct pol_list {
	struct bpol *v;
	size_t n, cap;
	struct ml_err *e;
};

static void
pol_list_free(struct pol_list *pl)
{
	size_t i;

	for (i = 0; i < pl->n; i++)
		free(pl->v[i].content);
	free(pl->v);
	pl->v = NULL;
	pl->n = pl->cap = 0;
}

/* One policy entry: its content under its subject's file name, once per
 * name (a version keeps its bytes, FORMAT.md §5 rule 7). */
static int
policy_entry(void *ctx, const struct ml_entry *en, const uint8_t leaf[ML_SHA256_LEN],
	     const struct ml_index_row *ix, int has_ix)
{
	struct pol_list *pl = ctx;
	struct ml_envelope env;
	struct ml_statement st;
	char path[256];
	json_t *v;
	size_t i;
	int rc;

	if (ml_envelope_parse(en->envelope, en->envelope_len, &env, pl->e) != ML_OK)
		goto broken;
	rc = ml_statement_parse(env.payload, env.payload_len, &st, pl->e);
	ml_envelope_clear(&env);
	if (rc != ML_OK)
		goto broken;
	v = json_object_get(st.predicate, "content");
	if (st.kind != ML_KIND_POLICY || !json_is_string(v)) {
		ml_statement_free(&st);
		goto broken;
	}
	rc = ML_OK;
	if (policy_file_name(st.subject, path) == 0) {
		for (i = 0; i < pl->n && strcmp(pl->v[i].path, path); i++)
			;
		if (i == pl->n) {
			struct bpol *p;
			if (pl->n == pl->cap) {
				size_t cap = pl->cap ? pl->cap * 2 : 16;
				struct bpol *nv = realloc(pl->v, cap * sizeof *nv);
				if (!nv) {
					ml_statement_free(&st);
					return ml_err_set(pl->e, ML_EIO, "out of memory");
				}
				pl->v = nv;
				pl->cap = cap;
			}
			p = &pl->v[pl->n];
			memset(p, 0, sizeof *p);
			memcpy(p->path, path, sizeof path);
			p->len = json_string_length(v);
			if (!(p->content = malloc(p->len + 1))) {
				ml_statement_free(&st);
				return ml_err_set(pl->e, ML_EIO, "out of memory");
			}
			memcpy(p->content, json_string_value(v), p->len + 1);
			ml_sha256(p->content, p->len, p->sha);
			p->seq = (int64_t)en->seq;
			pl->n++;
		}
	}
	ml_statement_free(&st);
	return rc;
broken:
	ml_err_set(pl->e, ML_EINTEGRITY, "not a policy entry (run 'mlledger verify')");
	pl->e->seq = (long long)en->seq;
	return ML_EINTEGRITY;
}

/* The recorded policies of l, in the caller's read transaction. */
static int
recorded_policies(struct ml_ledger *l, struct pol_list *pl, struct ml_err *e)
{
	int rc;

	pl->e = e;
	rc = ml_store_query(ml_ledger_store(l), ml_kind_name(ML_KIND_POLICY), NULL, NULL, -1,
			    policy_entry, pl, e);
	if (rc)
		pol_list_free(pl);
	return rc;
}

/* ---- export ------------------------------------------------------------ */

static const char readme[] =
	"mlledger audit bundle\n"
	"=====================\n"
	"\n"
	"ledger.db          a consistent copy of the ledger (SQLite, format: FORMAT.md)\n"
	"log.pub            the log's verifier key (C2SP signed-note); it signs checkpoints\n"
	"checkpoint         the ledger's latest signed checkpoint (C2SP tlog-checkpoint)\n"
	"keys/*.pub         every key ever enrolled (revoked ones too), as C2SP verifier\n"
	"                   keys, one file NAME+HASH.pub per key (its keyid)\n"
	"policies/*.xml     every policy the ledger recorded, as ID@VERSION.xml\n"
	"FORMAT.md          the ledger format this bundle follows, byte for byte\n"
	"trust.policy       (when given to export) the trust policy for checkpoints\n"
	"since.checkpoint   (export --since) the checkpoint the auditor held before\n"
	"consistency.proof  (export --since) the RFC 9162 proof that this checkpoint\n"
	"                   extends since.checkpoint, one base64 hash a line\n"
	"MANIFEST           SHA-256 and size of every file, and the scope, signed by the\n"
	"MANIFEST.sig       exporter's enrolled key (FORMAT.md section 10)\n"
	"\n"
	"Everything here comes from the ledger's operators.  A bundle rebuilt under\n"
	"a new log key verifies against itself, so verifying needs one anchor held\n"
	"OUTSIDE this folder; without one, verify exits 8 (\"nothing outside the\n"
	"bundle was checked\").  Give at least one of:\n"
	"\n"
	"    mlledger verify --bundle THIS-FOLDER --log-key YOUR-COPY-OF-log.pub\n"
	"    mlledger verify --bundle THIS-FOLDER --checkpoint A-CHECKPOINT-YOU-HELD\n"
	"    mlledger verify --bundle THIS-FOLDER --trust YOUR-trust.policy\n"
	"\n"
	"(--trust also requires the witnesses' cosignatures its quorum names.)\n"
	"When the bundle holds since.checkpoint, check the proof against your own\n"
	"copy of the checkpoint you held and the log key you hold:\n"
	"\n"
	"    mlledger verify-consistency since.checkpoint checkpoint consistency.proof \\\n"
	"        --log-key YOUR-COPY-OF-log.pub\n"
	"\n"
	"Keep the checkpoint file somewhere the ledger's operators cannot write: a\n"
	"later ledger that does not extend it (truncated, rolled back or rewritten)\n"
	"is caught by:\n"
	"\n"
	"    mlledger --ledger LEDGER verify --checkpoint checkpoint\n";

/* FORMAT.md, embedded at build time (the Makefile generates it). */
#include "format_md.h"

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

/* Creates dir/sub in the new folder dir. */
static int
make_dir(const char *dir, const char *sub, struct ml_err *e)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof path, "%s/%s", dir, sub) >= (int)sizeof path)
		return ml_err_set(e, ML_EINPUT, "%s: path too long", dir);
	if (mkdir(path, 0755) != 0)
		return ml_err_set(e, errno == EEXIST ? ML_EINPUT : ML_EIO, "%s: %s (export "
				  "into a new folder)", path, strerror(errno));
	return ML_OK;
}

/* One file of the manifest: its path in the bundle, size and SHA-256. */
struct mfile {
	char path[256];
	uint64_t size;
	uint8_t sha[ML_SHA256_LEN];
};

struct mf_list {
	struct mfile *v;
	size_t n, cap;
};

static int
mf_add(struct mf_list *m, const char *path, const void *data, size_t len, struct ml_err *e)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 32;
		struct mfile *v = realloc(m->v, cap * sizeof *v);
		if (!v)
			return ml_err_set(e, ML_EIO, "out of memory");
		m->v = v;
		m->cap = cap;
	}
	memset(&m->v[m->n], 0, sizeof m->v[m->n]);
	snprintf(m->v[m->n].path, sizeof m->v[m->n].path, "%s", path);
	m->v[m->n].size = len;
	if (data)
		ml_sha256(data, len, m->v[m->n].sha);
	m->n++;
	return ML_OK;
}

/* Writes dir/NAME (new, 0644) holding len bytes, and lists it in m. */
static int
write_new(const char *dir, const char *name, const void *data, size_t len,
	  struct mf_list *m, struct ml_err *e)
{
	char path[PATH_MAX];
	int rc;

	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
		return ml_err_set(e, ML_EINPUT, "%s: path too long", dir);
	if ((rc = ml_write_file_atomic(path, data, len, 0644, 1, e)))
		return rc;
	return m ? mf_add(m, name, data, len, e) : ML_OK;
}

/* keys/KEYID.pub for each key: its line and "\n". */
static int
write_keys(const char *dir, const struct key_list *kl, struct mf_list *m, struct ml_err *e)
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
		if ((rc = write_new(dir, name, line, strlen(line), m, e)))
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

/* SHA-256 and size of the regular file path (not following a link). */
static int
hash_file(const char *path, uint8_t sha[ML_SHA256_LEN], uint64_t *size, struct ml_err *e)
{
	struct ml_sha256_ctx *h;
	struct stat st;
	uint8_t buf[65536];
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		err = fd < 0 ? errno : EINVAL;
		if (fd >= 0)
			close(fd);
		return ml_err_set(e, err == ENOENT ? ML_EINTEGRITY : err == ELOOP || err == EINVAL
				  ? ML_EINTEGRITY : ML_EIO, "%s: %s", path,
				  err == ENOENT ? "missing" : err == ELOOP || err == EINVAL
				  ? "not a regular file (a symbolic link, FIFO, device or folder)"
				  : strerror(err));
	}
	if (!(h = ml_sha256_new())) {
		close(fd);
		return ml_err_set(e, ML_EIO, "out of memory");
	}
	*size = 0;
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			ml_sha256_final(h, sha);
			close(fd);
			return ml_err_set(e, ML_EIO, "%s: read failed: %s", path, strerror(err));
		}
		ml_sha256_update(h, buf, (size_t)n);
		*size += (uint64_t)n;
	}
	ml_sha256_final(h, sha);
	close(fd);
	return ML_OK;
}

static int
by_path(const void *a, const void *b)
{
	return strcmp(((const struct mfile *)a)->path, ((const struct mfile *)b)->path);
}

/* MANIFEST's bytes (FORMAT.md §10) for the files in m, sorted by path. */
static int
manifest_text(struct mf_list *m, const struct ml_checkpoint *cp, const char *exporter,
	      struct ml_buf *out, struct ml_err *e)
{
	char t[21], hex[65], *root = ml_b64_encode(cp->root, ML_SHA256_LEN);
	size_t i;

	if (!root)
		return ml_err_set(e, ML_EIO, "out of memory");
	ml_time_format(ml_now_us(), t);
	qsort(m->v, m->n, sizeof *m->v, by_path);
	ml_buf_printf(out, "mlledger bundle manifest v1\norigin %s\nsize %llu\nroot %s\n"
		      "exported %s\ntool mlledger %s\nexporter %s\n", cp->origin,
		      (unsigned long long)cp->size, root, t, ML_VERSION, exporter);
	for (i = 0; i < m->n; i++) {
		ml_hex_encode(m->v[i].sha, ML_SHA256_LEN, hex);
		ml_buf_printf(out, "file %s %llu %s\n", hex, (unsigned long long)m->v[i].size,
			      m->v[i].path);
	}
	free(root);
	return out->oom ? ml_err_set(e, ML_EIO, "out of memory") : ML_OK;
}

/* The exporter's key must be enrolled in the (verified) copy and active. */
static int
check_exporter(struct ml_ledger *c, const struct ml_seckey *k, char keyid[ML_KEYID_MAX],
	       struct ml_err *e)
{
	struct ml_key_row row;
	char line[ML_VKEY_MAX];
	int found = 0, rc;

	ml_pubkey_keyid(ml_seckey_public(k), keyid);
	ml_pubkey_format(ml_seckey_public(k), line);
	if ((rc = ml_store_key_get(ml_ledger_store(c), ML_DB_MAIN, keyid, &row, &found, e)))
		return rc;
	if (!found || strcmp(row.vkey, line))
		return ml_err_set(e, ML_EKEY, "the exporter's key %s is not enrolled in this "
				  "ledger (sign the bundle with your enrolled key)", keyid);
	if (row.revoked_seq >= 0)
		return ml_err_set(e, ML_EKEY, "the exporter's key %s was revoked at entry %lld",
				  keyid, (long long)row.revoked_seq);
	return ML_OK;
}

/* since.checkpoint and consistency.proof: the held note must be one the copy
 * extends; the proof goes from its size to the exported checkpoint's. */
static int
write_since(struct ml_ledger *c, const char *dir, const struct ml_bundle_opts *o,
	    uint64_t size, struct mf_list *m, struct ml_err *e)
{
	uint8_t proof[ML_PROOF_MAX][ML_SHA256_LEN];
	struct ml_checkpoint seen;
	struct ml_buf out = {0};
	uint64_t to;
	size_t len = 0, i;
	int rc;

	if ((rc = ml_tlog_check(c, o->since, o->since_len, &seen, NULL, e)))
		return ml_err_prefix(e, rc, "--since");
	if (seen.size > size)
		return ml_err_set(e, ML_EINTEGRITY, "--since: the held checkpoint (size %llu) is "
				  "ahead of the exported one (size %llu)",
				  (unsigned long long)seen.size, (unsigned long long)size);
	if (seen.size > 0 && (rc = ml_tlog_consistency(c, seen.size, (int64_t)size, &to, proof,
						       &len, e)))
		return rc;
	for (i = 0; i < len; i++) {
		char *b = ml_b64_encode(proof[i], ML_SHA256_LEN);
		if (!b) {
			ml_buf_free(&out);
			return ml_err_set(e, ML_EIO, "out of memory");
		}
		ml_buf_printf(&out, "%s\n", b);
		free(b);
	}
	if (out.oom)
		rc = ml_err_set(e, ML_EIO, "out of memory");
	if (rc == ML_OK)
		rc = write_new(dir, "since.checkpoint", o->since, o->since_len, m, e);
	if (rc == ML_OK)
		rc = write_new(dir, "consistency.proof", out.len ? (const char *)out.data : "",
			       out.len, m, e);
	ml_buf_free(&out);
	return rc;
}

/* Everything but ledger.db, built from the verified copy c only. */
static int
export_from_copy(struct ml_ledger *c, const char *dir, const struct ml_bundle_opts *o,
		 struct mf_list *m, struct ml_checkpoint *cp, char exporter[ML_KEYID_MAX],
		 struct ml_err *e)
{
	struct ml_store *s = ml_ledger_store(c);
	struct key_list kl = {0};
	struct pol_list pl = {0};
	struct ml_note n;
	char line[ML_VKEY_MAX + 2], *note = NULL;
	uint64_t size;
	size_t i;
	int rc;

	if ((rc = ml_store_begin(s, 0, e)))
		return rc;
	rc = check_exporter(c, o->exporter, exporter, e);
	if (rc == ML_OK)
		rc = enrolled_keys(c, &kl, e);
	if (rc == ML_OK)
		rc = recorded_policies(c, &pl, e);
	if (rc == ML_OK)
		rc = ml_tlog_checkpoint(c, -1, &size, &note, e);
	if (rc == ML_OK && o->since)
		rc = write_since(c, dir, o, size, m, e);
	ml_store_rollback(s);
	if (rc == ML_OK && (rc = ml_note_parse(note, strlen(note), &n, e)) == ML_OK) {
		rc = ml_checkpoint_parse(n.text, n.text_len, cp, e);
		ml_note_clear(&n);
	}
	if (rc == ML_OK)
		rc = make_dir(dir, "keys", e);
	if (rc == ML_OK)
		rc = make_dir(dir, "policies", e);
	if (rc == ML_OK)
		rc = write_keys(dir, &kl, m, e);
	for (i = 0; rc == ML_OK && i < pl.n; i++)
		rc = write_new(dir, pl.v[i].path, pl.v[i].content, pl.v[i].len, m, e);
	if (rc == ML_OK)
		rc = write_new(dir, "checkpoint", note, strlen(note), m, e);
	snprintf(line, sizeof line, "%s\n", ml_ledger_logkey(c));
	if (rc == ML_OK)
		rc = write_new(dir, "log.pub", line, strlen(line), m, e);
	if (rc == ML_OK)
		rc = write_new(dir, "README.txt", readme, strlen(readme), m, e);
	if (rc == ML_OK)
		rc = write_new(dir, "FORMAT.md", format_md, sizeof format_md, m, e);
	if (rc == ML_OK && o->trust)
		rc = write_new(dir, "trust.policy", o->trust, o->trust_len, m, e);
	free(note);
	key_list_free(&kl);
	pol_list_free(&pl);
	return rc;
}

/* Writes the bundle's files into the new folder dir. */
static int
export_into(struct ml_ledger *l, const char *dir, const struct ml_bundle_opts *o,
	    struct ml_err *e)
{
	struct ml_store *s = ml_ledger_store(l);
	struct ml_verify_opts vo = {.jobs = o->jobs};
	struct ml_verify_result res;
	struct ml_ledger *c = NULL;
	struct ml_checkpoint cp;
	struct mf_list m = {0};
	struct ml_buf mf = {0};
	char path[PATH_MAX], exporter[ML_KEYID_MAX], sigline[ML_KEYID_MAX + 128];
	uint8_t sig[ML_SIG_LEN];
	char *b64;
	int rc;

	if (snprintf(path, sizeof path, "%s/ledger.db", dir) >= (int)sizeof path)
		return ml_err_set(e, ML_EINPUT, "%s: path too long", dir);
	if ((rc = ml_store_begin(s, 0, e)))
		return rc;
	rc = ml_store_backup(s, path, e);
	ml_store_rollback(s);
	if (rc)
		return rc;
	/* Everything else comes from the copy, and only once it verified. */
	if ((rc = ml_ledger_open(path, 0, &c, e)))
		return rc == ML_EIO ? rc : ml_err_prefix(e, ML_EINTEGRITY, "the copy");
	rc = ml_verify(c, &vo, &res, e);
	if (rc && rc != ML_EIO) {
		char why[sizeof e->msg];
		snprintf(why, sizeof why, "%s", e->msg);
		if (e->seq >= 0)
			ml_err_set(e, ML_EINTEGRITY, "the ledger does not verify (nothing "
				   "exported): entry %lld: %s", (long long)e->seq, why);
		else
			ml_err_set(e, ML_EINTEGRITY, "the ledger does not verify (nothing "
				   "exported): %s", why);
		rc = ML_EINTEGRITY;
	}
	if (rc == ML_OK)
		rc = export_from_copy(c, dir, o, &m, &cp, exporter, e);
	ml_ledger_close(c);
	/* ledger.db is hashed once the copy is closed (no -wal left). */
	if (rc == ML_OK && (rc = mf_add(&m, "ledger.db", NULL, 0, e)) == ML_OK)
		rc = hash_file(path, m.v[m.n - 1].sha, &m.v[m.n - 1].size, e);
	if (rc == ML_OK)
		rc = manifest_text(&m, &cp, exporter, &mf, e);
	if (rc == ML_OK) {
		ml_seckey_sign(o->exporter, mf.data, mf.len, sig);
		if (!(b64 = ml_b64_encode(sig, sizeof sig)))
			rc = ml_err_set(e, ML_EIO, "out of memory");
		else
			snprintf(sigline, sizeof sigline, "%s %s\n", exporter, b64);
		free(b64);
	}
	if (rc == ML_OK)
		rc = write_new(dir, "MANIFEST", mf.data, mf.len, NULL, e);
	if (rc == ML_OK)
		rc = write_new(dir, "MANIFEST.sig", sigline, strlen(sigline), NULL, e);
	sodium_memzero(sig, sizeof sig);
	ml_buf_free(&mf);
	free(m.v);
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
ml_bundle_export(struct ml_ledger *l, const char *dir, const struct ml_bundle_opts *o,
		 struct ml_err *e)
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
		rc = export_into(l, tmp, o, e);
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

/* ---- verify --bundle: the manifest ------------------------------------- */

/* A parsed MANIFEST: the scope lines and the files, in path order. */
struct manifest {
	char origin[ML_CHECKPOINT_ORIGIN_MAX + 1];
	uint64_t size;
	uint8_t root[ML_SHA256_LEN];
	char exporter[ML_KEYID_MAX];
	struct mf_list files;
	int *seen;                    /* check_files: found in the folder */
};

static void
manifest_free(struct manifest *mf)
{
	free(mf->files.v);
	free(mf->seen);
	memset(mf, 0, sizeof *mf);
}

/* 1 when p is a path a manifest may name: NAME, keys/NAME or
 * policies/NAME, NAME passing file_name_ok; never MANIFEST[.sig]. */
static int
manifest_path_ok(const char *p)
{
	const char *slash = strchr(p, '/');

	if (!slash)
		return file_name_ok(p, strlen(p)) && strcmp(p, "MANIFEST") &&
		       strcmp(p, "MANIFEST.sig");
	if (strncmp(p, "keys/", 5) && strncmp(p, "policies/", 9))
		return 0;
	return !strchr(slash + 1, '/') && file_name_ok(slash + 1, strlen(slash + 1));
}

/* Takes the line at *p (up to '\n') into out[cap], after the given prefix. */
static enum ml_rc
take_line(const char **p, const char *end, const char *prefix, char *out, size_t cap)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t pl = strlen(prefix), n;

	if (!nl || (size_t)(nl - *p) < pl || memcmp(*p, prefix, pl))
		return ML_EINPUT;
	n = (size_t)(nl - *p) - pl;
	if (n == 0 || n >= cap || memchr(*p + pl, '\0', n))
		return ML_EINPUT;
	memcpy(out, *p + pl, n);
	out[n] = '\0';
	*p = nl + 1;
	return ML_OK;
}

/* Parses MANIFEST's bytes (FORMAT.md §10). */
static int
manifest_parse(const char *text, size_t len, struct manifest *mf, struct ml_err *e)
{
	const char *p = text, *end = text + len;
	char line[512], *sp, *sp2, *x;
	unsigned long long u;
	size_t i;

	memset(mf, 0, sizeof *mf);
	if (take_line(&p, end, "", line, sizeof line) || strcmp(line, "mlledger bundle manifest v1") ||
	    take_line(&p, end, "origin ", mf->origin, sizeof mf->origin) ||
	    take_line(&p, end, "size ", line, sizeof line) ||
	    (u = strtoull(line, &x, 10), *x || line[0] < '0' || line[0] > '9' || u > INT64_MAX))
		goto malformed;
	mf->size = u;
	if (take_line(&p, end, "root ", line, sizeof line) ||
	    ml_b64_decode_exact(line, strlen(line), mf->root, ML_SHA256_LEN) != 0 ||
	    take_line(&p, end, "exported ", line, sizeof line) ||
	    take_line(&p, end, "tool ", line, sizeof line) ||
	    take_line(&p, end, "exporter ", mf->exporter, sizeof mf->exporter))
		goto malformed;
	while (p < end) {
		struct mfile *f;
		if (take_line(&p, end, "file ", line, sizeof line) || mf->files.n >= 1000000 ||
		    mf_add(&mf->files, "", NULL, 0, e))
			goto malformed;
		f = &mf->files.v[mf->files.n - 1];
		sp = strchr(line, ' ');
		sp2 = sp ? strchr(sp + 1, ' ') : NULL;
		if (!sp2 || sp - line != 64 || sp2 == sp + 1 || sp[1] < '0' || sp[1] > '9')
			goto malformed;
		for (i = 0; i < 32; i++) {
			unsigned hi, lo;
			if (sscanf(line + 2 * i, "%1x%1x", &hi, &lo) != 2 ||
			    (line[2 * i] >= 'A' && line[2 * i] <= 'F') ||
			    (line[2 * i + 1] >= 'A' && line[2 * i + 1] <= 'F'))
				goto malformed;
			f->sha[i] = (uint8_t)(hi << 4 | lo);
		}
		*sp2 = '\0';
		u = strtoull(sp + 1, &x, 10);
		if (*x)
			goto malformed;
		f->size = u;
		if (!manifest_path_ok(sp2 + 1) || strlen(sp2 + 1) >= sizeof f->path) {
			char show[80];
			shown(sp2 + 1, show);
			manifest_free(mf);
			return bad(e, "MANIFEST names \"%s\", not a file of a bundle (only NAME, "
				   "keys/NAME, policies/NAME)", show);
		}
		strcpy(f->path, sp2 + 1);
		if (mf->files.n > 1 && strcmp(mf->files.v[mf->files.n - 2].path, f->path) >= 0)
			goto malformed;
	}
	if (!(mf->seen = calloc(mf->files.n + 1, sizeof *mf->seen)))
		return manifest_free(mf), ml_err_set(e, ML_EIO, "out of memory");
	return ML_OK;
malformed:
	manifest_free(mf);
	return bad(e, "MANIFEST: not a bundle manifest (FORMAT.md section 10), at byte %zu",
		   (size_t)(p - text));
}

static struct mfile *
manifest_find(struct manifest *mf, const char *path)
{
	struct mfile want;

	if (strlen(path) >= sizeof want.path)
		return NULL;
	strcpy(want.path, path);
	return bsearch(&want, mf->files.v, mf->files.n, sizeof want, by_path);
}

/* One name found in the folder (sub: "", "keys/" or "policies/"). */
static int
folder_entry(const char *dir, const char *sub, const char *name, struct manifest *mf,
	     struct ml_err *e)
{
	char path[PATH_MAX], rel[600], show[80];
	struct stat st;
	struct mfile *f;

	shown(name, show);
	snprintf(path, sizeof path, "%s/%s%s", dir, sub, show);
	if (snprintf(rel, sizeof rel, "%s%s", sub, name) >= (int)sizeof rel)
		return bad(e, "%s: a name too long for a bundle", path);
	{
		char full[PATH_MAX];
		if (snprintf(full, sizeof full, "%s/%s", dir, rel) >= (int)sizeof full)
			return bad(e, "%s: path too long", path);
		if (lstat(full, &st) != 0)
			return ml_err_set(e, ML_EIO, "%s: %s", path, strerror(errno));
	}
	if (!*sub && (!strcmp(name, "keys") || !strcmp(name, "policies")) && S_ISDIR(st.st_mode))
		return 1; /* a folder to walk */
	if (S_ISLNK(st.st_mode))
		return bad(e, "%s: a symbolic link (a bundle holds regular files only)", path);
	if (!S_ISREG(st.st_mode))
		return bad(e, "%s: not a regular file (a folder, FIFO, socket or device)", path);
	if (!*sub && (!strcmp(name, "MANIFEST") || !strcmp(name, "MANIFEST.sig")))
		return 0;
	/* SQLite's side files of ledger.db while it is (or was) open: -shm
	 * always, -wal only empty (its frames would change the ledger read). */
	if (!*sub && !strcmp(name, "ledger.db-shm"))
		return 0;
	if (!*sub && !strcmp(name, "ledger.db-wal")) {
		if (st.st_size == 0)
			return 0;
		return bad(e, "%s: holds changes to ledger.db that the manifest does not "
			   "cover", path);
	}
	if (!(f = manifest_find(mf, rel)))
		return bad(e, "%s: not listed in MANIFEST (an extra file)", path);
	mf->seen[f - mf->files.v] = 1;
	return 0;
}

static int
walk_folder(const char *dir, const char *sub, struct manifest *mf, size_t *count,
	    struct ml_err *e)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc = ML_OK, r;

	snprintf(path, sizeof path, "%s/%s", dir, sub);
	if (!(d = opendir(path)))
		return ml_err_set(e, ML_EIO, "%s: %s", path, strerror(errno));
	while (rc == ML_OK && (errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (++*count > 2 * ML_BUNDLE_KEYS_MAX + 100) {
			rc = bad(e, "%s: too many files", dir);
			break;
		}
		r = folder_entry(dir, sub, de->d_name, mf, e);
		if (r < 0 || r > 1)
			rc = r < 0 ? ML_EINTEGRITY : r;
		else if (r == 1) {
			char s2[300];
			snprintf(s2, sizeof s2, "%s/", de->d_name);
			rc = walk_folder(dir, s2, mf, count, e);
		}
	}
	if (rc == ML_OK && errno)
		rc = ml_err_set(e, ML_EIO, "%s: %s", path, strerror(errno));
	closedir(d);
	return rc;
}

int
ml_bundle_check_files(const char *dir, char **manifest, size_t *mlen, struct ml_err *e)
{
	struct manifest mf;
	char path[PATH_MAX], *text = NULL;
	size_t len, i, count = 0;
	uint64_t size;
	uint8_t sha[ML_SHA256_LEN];
	struct stat st;
	int rc;

	if (snprintf(path, sizeof path, "%s/MANIFEST", dir) >= (int)sizeof path)
		return ml_err_set(e, ML_EINPUT, "%s: path too long", dir);
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? bad(e, "%s: missing (a bundle holds a signed "
					     "manifest; export it again)", path)
				       : ml_err_set(e, ML_EIO, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return bad(e, "%s: not a regular file", path);
	if ((rc = ml_read_file(path, ML_BUNDLE_MANIFEST_MAX, &text, &len, e)))
		return rc;
	if ((rc = manifest_parse(text, len, &mf, e))) {
		free(text);
		return rc;
	}
	rc = walk_folder(dir, "", &mf, &count, e);
	for (i = 0; rc == ML_OK && i < mf.files.n; i++) {
		struct mfile *f = &mf.files.v[i];
		snprintf(path, sizeof path, "%s/%s", dir, f->path);
		if (!mf.seen[i])
			rc = bad(e, "%s: missing (MANIFEST lists it)", path);
		else if ((rc = hash_file(path, sha, &size, e)) == ML_OK &&
			 (size != f->size || sodium_memcmp(sha, f->sha, sizeof sha) != 0))
			rc = bad(e, "%s: differs from MANIFEST (%llu bytes, want %llu, or "
				 "another SHA-256)", path, (unsigned long long)size,
				 (unsigned long long)f->size);
	}
	manifest_free(&mf);
	if (rc) {
		free(text);
		return rc;
	}
	*manifest = text;
	*mlen = len;
	return ML_OK;
}

/* The bundle's files the manifest must list, besides keys/ and policies/. */
static const char *const required[] = {"FORMAT.md", "README.txt", "checkpoint",
				       "ledger.db", "log.pub"};

/* since.checkpoint and consistency.proof: the proof from the held size to
 * the manifest's size, checked against the log key. */
static int
check_since(struct ml_ledger *l, const char *dir, const struct manifest *mf,
	    struct ml_err *e)
{
	uint8_t proof[ML_PROOF_MAX][ML_SHA256_LEN];
	struct ml_checkpoint seen;
	struct ml_pubkey logkey;
	struct ml_note n;
	char path[PATH_MAX], *text = NULL, *proofs = NULL, *p, *nl;
	size_t len, plen, np = 0;
	int rc, ok;

	snprintf(path, sizeof path, "%s/since.checkpoint", dir);
	if ((rc = ml_read_file(path, ML_NOTE_MAX, &text, &len, e)))
		return rc;
	if (ml_note_parse(text, len, &n, e) != ML_OK) {
		free(text);
		return bad(e, "%s: not a signed note", path);
	}
	rc = ml_checkpoint_parse(n.text, n.text_len, &seen, e);
	ok = rc == ML_OK &&
	     ml_pubkey_parse(ml_ledger_logkey(l), strlen(ml_ledger_logkey(l)), &logkey, NULL) ==
	     ML_OK && ml_note_verify(&n, &logkey) && !strcmp(seen.origin, mf->origin);
	ml_note_clear(&n);
	free(text);
	if (!ok)
		return bad(e, "%s: not a checkpoint of this log signed by its log key", path);
	snprintf(path, sizeof path, "%s/consistency.proof", dir);
	if ((rc = ml_read_file(path, (ML_PROOF_MAX + 1) * 46, &proofs, &plen, e)))
		return rc;
	for (p = proofs; rc == ML_OK && p < proofs + plen; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(proofs + plen - p))) || np >= ML_PROOF_MAX ||
		    ml_b64_decode_exact(p, (size_t)(nl - p), proof[np], ML_SHA256_LEN) != 0)
			rc = bad(e, "%s: not one base64 hash a line", path);
		np++;
	}
	free(proofs);
	if (rc)
		return rc;
	if (seen.size == 0 ? np != 0
	    : !ml_merkle_verify_consistency(seen.size, mf->size, seen.root, mf->root,
					    (const uint8_t(*)[ML_SHA256_LEN])proof, np))
		return bad(e, "%s: does not prove that the checkpoint (size %llu) extends "
			   "since.checkpoint (size %llu)", path, (unsigned long long)mf->size,
			   (unsigned long long)seen.size);
	return ML_OK;
}

int
ml_bundle_check_manifest(struct ml_ledger *l, const char *dir, const char *manifest,
			 size_t mlen, char exporter[ML_KEYID_MAX], struct ml_err *e)
{
	struct ml_store *s = ml_ledger_store(l);
	struct manifest mf;
	struct key_list kl = {0};
	struct pol_list pl = {0};
	struct ml_key_row row;
	struct ml_pubkey pk;
	struct ml_note n;
	struct ml_checkpoint cp;
	char path[PATH_MAX], *sig = NULL, *note = NULL, *sp;
	uint8_t raw[ML_SIG_LEN], root[ML_SHA256_LEN];
	size_t len, i, npol = 0;
	int rc, found = 0;

	if ((rc = manifest_parse(manifest, mlen, &mf, e)))
		return rc;
	for (i = 0; i < sizeof required / sizeof *required; i++)
		if (!manifest_find(&mf, required[i])) {
			rc = bad(e, "MANIFEST does not list %s", required[i]);
			goto out;
		}
	/* Scope: the bundle's checkpoint and the ledger's own tree. */
	snprintf(path, sizeof path, "%s/checkpoint", dir);
	if ((rc = ml_read_file(path, ML_NOTE_MAX, &note, &len, e)))
		goto out;
	if ((rc = ml_note_parse(note, len, &n, e)) == ML_OK) {
		rc = ml_checkpoint_parse(n.text, n.text_len, &cp, e);
		ml_note_clear(&n);
	}
	if (rc || strcmp(cp.origin, mf.origin) || cp.size != mf.size ||
	    memcmp(cp.root, mf.root, sizeof root)) {
		rc = bad(e, "MANIFEST: its scope (origin, size, root) is not the bundle's "
			 "checkpoint");
		goto out;
	}
	/* The signature: one line "KEYID BASE64\n" by an enrolled, active key. */
	snprintf(path, sizeof path, "%s/MANIFEST.sig", dir);
	if (access(path, F_OK) != 0) {
		rc = bad(e, "%s: missing (the exporter's signature of MANIFEST)", path);
		goto out;
	}
	if ((rc = ml_read_file(path, 4096, &sig, &len, e)))
		goto out;
	if (len < 2 || sig[len - 1] != '\n' || !(sp = memchr(sig, ' ', len)) ||
	    (size_t)(sp - sig) >= ML_KEYID_MAX || memchr(sig, '\0', len) ||
	    ml_b64_decode_exact(sp + 1, (size_t)(sig + len - 1 - (sp + 1)), raw, sizeof raw)) {
		rc = bad(e, "%s: not \"KEYID SIGNATURE\" (FORMAT.md section 10)", path);
		goto out;
	}
	*sp = '\0';
	if (strcmp(sig, mf.exporter)) {
		rc = bad(e, "%s: by %.80s, but MANIFEST names the exporter %s", path, sig,
			 mf.exporter);
		goto out;
	}
	if ((rc = ml_store_begin(s, 0, e)))
		goto out;
	rc = ml_store_key_get(s, ML_DB_MAIN, mf.exporter, &row, &found, e);
	if (rc == ML_OK)
		rc = recorded_policies(l, &pl, e);
	ml_store_rollback(s);
	if (rc)
		goto out;
	if (!found || row.revoked_seq >= 0) {
		rc = bad(e, "%s: the exporter %s is %s in the ledger", path, mf.exporter,
			 found ? "revoked" : "not an enrolled key");
		goto out;
	}
	if (ml_pubkey_parse_recorded(row.vkey, strlen(row.vkey), &pk, e) != ML_OK ||
	    !ml_pubkey_verify(&pk, (const uint8_t *)manifest, mlen, raw)) {
		rc = bad(e, "%s: not a valid signature of MANIFEST by %s", path, mf.exporter);
		goto out;
	}
	/* policies/: exactly the recorded policies, with their bytes. */
	for (i = 0; i < mf.files.n; i++)
		if (!strncmp(mf.files.v[i].path, "policies/", 9))
			npol++;
	for (i = 0; i < pl.n; i++) {
		struct mfile *f = manifest_find(&mf, pl.v[i].path);
		if (!f) {
			rc = bad(e, "%s/%s: missing (entry %lld recorded it)", dir, pl.v[i].path,
				 (long long)pl.v[i].seq);
			goto out;
		}
		if (f->size != pl.v[i].len || memcmp(f->sha, pl.v[i].sha, sizeof f->sha)) {
			rc = bad(e, "%s/%s: differs from the policy entry %lld recorded", dir,
				 pl.v[i].path, (long long)pl.v[i].seq);
			goto out;
		}
	}
	if (npol != pl.n) {
		rc = bad(e, "%s/policies: holds a file of no recorded policy", dir);
		goto out;
	}
	if (manifest_find(&mf, "since.checkpoint") || manifest_find(&mf, "consistency.proof")) {
		if (!manifest_find(&mf, "since.checkpoint") ||
		    !manifest_find(&mf, "consistency.proof"))
			rc = bad(e, "MANIFEST lists one of since.checkpoint and "
				 "consistency.proof without the other");
		else
			rc = check_since(l, dir, &mf, e);
		if (rc)
			goto out;
	}
	snprintf(exporter, ML_KEYID_MAX, "%s", mf.exporter);
out:
	(void)kl;
	free(sig);
	free(note);
	pol_list_free(&pl);
	manifest_free(&mf);
	return rc;
}
