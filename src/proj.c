/* proj — see proj.h.
 *
 * Strings are interned (one copy of each distinct text, in the arena), so a
 * row holds pointers and two texts are equal when their pointers are.  Rows
 * live in vectors and are named by index + 1 (0: none) in open-addressing
 * hash tables whose hashes are keyed with a random key per projection
 * (SipHash, libsodium's crypto_shorthash), so that no ledger can be built
 * to make the tables collide.
 */
#include "proj.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "arena.h"

struct istr {
	uint32_t h;
	size_t len;
	char s[]; /* NUL-terminated */
};

struct htab {
	struct hslot {
		uint32_t h;
		uint32_t row; /* index + 1; 0: empty */
	} *v;
	size_t cap, n; /* cap a power of two, or 0 */
};

struct krow {
	struct ml_key_row row;
	const struct istr *keyid;
	int matched;
};

struct srow {
	const struct istr *kind, *ref;
	uint8_t digest[ML_SHA256_LEN];
	int64_t seq;
	int matched;
};

struct xrow {
	const struct istr *kind, *name, *version, *keyid;
	uint8_t hash[ML_SHA256_LEN];
	int64_t seq;
	uint32_t gnext; /* the previous row of the same (kind, name, version) */
	int matched;
};

struct irow {
	const struct istr *keyid, *key;
	int64_t seq;
	int matched;
};

struct ml_proj {
	unsigned char hkey[crypto_shorthash_KEYBYTES];
	struct ml_arena *a;
	const struct istr **strs;
	size_t nstrs, capstrs;
	struct htab strtab;
	struct krow *k;
	size_t nk, capk;
	struct htab kbyid;
	struct srow *s;
	size_t ns, caps;
	struct htab sbykey;
	struct xrow *x;
	size_t nx, capx;
	struct htab xbyseq, xbyhash, xbygroup;
	struct irow *i;
	size_t ni, capi;
	struct htab ibykey;
};

/* ---- hashing and tables ------------------------------------------------- */

static uint32_t
hbytes(const struct ml_proj *p, const void *b, size_t n)
{
	uint64_t h;

	crypto_shorthash((unsigned char *)&h, b, n, p->hkey);
	return (uint32_t)h;
}

/* A hash of up to three interned strings (NULL: absent) and 8 more bytes. */
static uint32_t
hmix(const struct ml_proj *p, const struct istr *a, const struct istr *b,
     const struct istr *c, uint64_t more)
{
	uint32_t v[5] = {a ? a->h : 0, b ? b->h : 0, c ? c->h : 0, (uint32_t)more,
			 (uint32_t)(more >> 32)};

	return hbytes(p, v, sizeof v);
}

/* Makes room for one more slot (load at most one half).  -1: out of memory. */
static int
ht_reserve(struct htab *t)
{
	struct hslot *v;
	size_t cap, i, j;

	if ((t->n + 1) * 2 <= t->cap)
		return 0;
	cap = t->cap ? t->cap * 2 : 64;
	if (cap > ((size_t)1 << 31) || !(v = calloc(cap, sizeof *v)))
		return -1;
	for (i = 0; i < t->cap; i++) {
		if (!t->v[i].row)
			continue;
		for (j = t->v[i].h & (cap - 1); v[j].row; j = (j + 1) & (cap - 1))
			;
		v[j] = t->v[i];
	}
	free(t->v);
	t->v = v;
	t->cap = cap;
	return 0;
}

/* Adds a slot (room reserved by ht_reserve). */
static void
ht_put(struct htab *t, uint32_t h, uint32_t row)
{
	size_t j;

	for (j = h & (t->cap - 1); t->v[j].row; j = (j + 1) & (t->cap - 1))
		;
	t->v[j].h = h;
	t->v[j].row = row;
	t->n++;
}

/* Slots of hash h, in probe order: for (j = ht_first(t, h); j != NONE;
 * j = ht_next(t, h, j)). */
#define NONE ((size_t)-1)

static size_t
ht_scan(const struct htab *t, uint32_t h, size_t j)
{
	for (; t->v[j].row; j = (j + 1) & (t->cap - 1))
		if (t->v[j].h == h)
			return j;
	return NONE;
}

static size_t
ht_first(const struct htab *t, uint32_t h)
{
	return t->cap ? ht_scan(t, h, h & (t->cap - 1)) : NONE;
}

static size_t
ht_next(const struct htab *t, uint32_t h, size_t j)
{
	return ht_scan(t, h, (j + 1) & (t->cap - 1));
}

/* Room for one more element in a vector.  -1: out of memory. */
static int
vec_reserve(void **v, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? *cap * 2 : 64;
	void *nv;

	if (n < *cap)
		return 0;
	if (c > UINT32_MAX - 1 || !(nv = realloc(*v, c * size)))
		return -1;
	*v = nv;
	*cap = c;
	return 0;
}

/* ---- interned strings --------------------------------------------------- */

static const struct istr *
str_find_h(const struct ml_proj *p, const char *s, size_t len, uint32_t h)
{
	size_t j;

	for (j = ht_first(&p->strtab, h); j != NONE; j = ht_next(&p->strtab, h, j)) {
		const struct istr *x = p->strs[p->strtab.v[j].row - 1];
		if (x->len == len && memcmp(x->s, s, len) == 0)
			return x;
	}
	return NULL;
}

/* The interned copy of len bytes at s; NULL when there is none. */
static const struct istr *
str_find(const struct ml_proj *p, const char *s, size_t len)
{
	return str_find_h(p, s, len, hbytes(p, s, len));
}

/* The interned copy of the string s, made when new; NULL when out of
 * memory. */
static const struct istr *
str_intern(struct ml_proj *p, const char *s)
{
	size_t len = strlen(s);
	uint32_t h = hbytes(p, s, len);
	const struct istr *x = str_find_h(p, s, len, h);
	struct istr *n;

	if (x)
		return x;
	if (ht_reserve(&p->strtab) ||
	    vec_reserve((void **)&p->strs, &p->capstrs, p->nstrs, sizeof *p->strs) ||
	    !(n = ml_arena_alloc(p->a, sizeof *n + len + 1)))
		return NULL;
	n->h = h;
	n->len = len;
	memcpy(n->s, s, len + 1);
	p->strs[p->nstrs++] = n;
	ht_put(&p->strtab, h, (uint32_t)p->nstrs);
	return n;
}

static int
text_is(const struct istr *x, struct ml_proj_text t)
{
	return x->len == t.len && memcmp(x->s, t.p, t.len) == 0;
}

static int
oom(struct ml_err *e)
{
	return ml_err_set(e, ML_EIO, "out of memory");
}

/* ---- life ----------------------------------------------------------------- */

struct ml_proj *
ml_proj_new(void)
{
	struct ml_proj *p = calloc(1, sizeof *p);

	if (!p)
		return NULL;
	if (!(p->a = ml_arena_new(64 * 1024))) {
		free(p);
		return NULL;
	}
	crypto_shorthash_keygen(p->hkey);
	return p;
}

void
ml_proj_free(struct ml_proj *p)
{
	struct htab *t[] = {p ? &p->strtab : NULL, p ? &p->kbyid : NULL,
			    p ? &p->sbykey : NULL, p ? &p->xbyseq : NULL,
			    p ? &p->xbyhash : NULL, p ? &p->xbygroup : NULL,
			    p ? &p->ibykey : NULL};
	size_t j;

	if (!p)
		return;
	for (j = 0; j < sizeof t / sizeof *t; j++)
		free(t[j]->v);
	free(p->strs);
	free(p->k);
	free(p->s);
	free(p->x);
	free(p->i);
	ml_arena_free(p->a);
	free(p);
}

/* ---- keys ----------------------------------------------------------------- */

static struct krow *
key_of(struct ml_proj *p, const struct istr *id)
{
	size_t j;

	if (!id)
		return NULL;
	for (j = ht_first(&p->kbyid, id->h); j != NONE; j = ht_next(&p->kbyid, id->h, j))
		if (p->k[p->kbyid.v[j].row - 1].keyid == id)
			return &p->k[p->kbyid.v[j].row - 1];
	return NULL;
}

int
ml_proj_key_insert(struct ml_proj *p, const struct ml_key_row *row, struct ml_err *e)
{
	const struct istr *id = str_intern(p, row->keyid);
	struct krow *k;

	if (!id)
		return oom(e);
	if (key_of(p, id))
		return ml_err_set(e, ML_EINTEGRITY, "replay: keys: UNIQUE constraint failed: "
				  "a row for %s exists", id->s);
	if (ht_reserve(&p->kbyid) || vec_reserve((void **)&p->k, &p->capk, p->nk, sizeof *p->k))
		return oom(e);
	k = &p->k[p->nk++];
	memset(k, 0, sizeof *k);
	k->row = *row;
	k->row.revoked_seq = -1; /* inserted active, as the stored table's insert */
	k->keyid = id;
	ht_put(&p->kbyid, id->h, (uint32_t)p->nk);
	return ML_OK;
}

void
ml_proj_key_get(struct ml_proj *p, const char *keyid, struct ml_key_row *row, int *found)
{
	struct krow *k = key_of(p, str_find(p, keyid, strlen(keyid)));

	if ((*found = k != NULL))
		*row = k->row;
}

void
ml_proj_key_active_by_name(struct ml_proj *p, const char *name, struct ml_key_row *row,
			   int *found)
{
	size_t j;

	*found = 0;
	for (j = 0; j < p->nk; j++)
		if (p->k[j].row.revoked_seq == -1 && strcmp(p->k[j].row.name, name) == 0) {
			*row = p->k[j].row;
			*found = 1;
			return;
		}
}

/* The start of the last min(44, length) characters of s (SQL substr(s, -44):
 * a character is a byte not in 0x80..0xbf with the ones of it that follow). */
static const char *
last44(const char *s)
{
	const char *q = s + strlen(s);
	int n = 0;

	while (q > s && n < 44) {
		q--;
		if (((unsigned char)*q & 0xc0) != 0x80)
			n++;
	}
	return q;
}

void
ml_proj_key_by_pubkey_tail(struct ml_proj *p, const char *tail, struct ml_key_row *row,
			   int *found)
{
	size_t j;

	*found = 0;
	for (j = 0; j < p->nk; j++)
		if (strcmp(last44(p->k[j].row.vkey), tail) == 0) {
			*row = p->k[j].row;
			*found = 1;
			return;
		}
}

void
ml_proj_key_revoke(struct ml_proj *p, const char *keyid, int64_t seq)
{
	struct krow *k = key_of(p, str_find(p, keyid, strlen(keyid)));

	if (k && k->row.revoked_seq == -1)
		k->row.revoked_seq = seq;
}

/* Whether ',' roles ',' contains ",admin," (ASCII case-insensitive). */
static int
has_admin(const char *roles)
{
	static const char want[] = "admin";
	const char *p = roles;

	for (;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p), i;
		if (n == sizeof want - 1) {
			for (i = 0; i < n; i++)
				if ((p[i] | 0x20) != want[i])
					break;
			if (i == n)
				return 1;
		}
		if (!end)
			return 0;
		p = end + 1;
	}
}

int64_t
ml_proj_admin_count(struct ml_proj *p)
{
	int64_t n = 0;
	size_t j;

	for (j = 0; j < p->nk; j++)
		n += p->k[j].row.revoked_seq == -1 && has_admin(p->k[j].row.roles);
	return n;
}

int
ml_proj_key_each(struct ml_proj *p, int (*fn)(void *, const struct ml_key_row *), void *ctx,
		 struct ml_err *e)
{
	size_t *ord, j, m;
	int rc = 0;

	if (!p->nk)
		return 0;
	if (!(ord = malloc(p->nk * sizeof *ord)))
		return oom(e);
	for (j = 0; j < p->nk; j++) { /* insertion sort: stable, few keys */
		for (m = j; m > 0 && p->k[ord[m - 1]].row.enrolled_seq > p->k[j].row.enrolled_seq;
		     m--)
			ord[m] = ord[m - 1];
		ord[m] = j;
	}
	for (j = 0; j < p->nk && !rc; j++) {
		struct ml_key_row row = p->k[ord[j]].row; /* fn may insert */
		rc = fn(ctx, &row);
	}
	free(ord);
	return rc;
}

/* ---- subjects ------------------------------------------------------------- */

static struct srow *
subject_of(struct ml_proj *p, const struct istr *kind, const struct istr *ref)
{
	uint32_t h;
	size_t j;

	if (!kind || !ref)
		return NULL;
	h = hmix(p, kind, ref, NULL, 0);
	for (j = ht_first(&p->sbykey, h); j != NONE; j = ht_next(&p->sbykey, h, j)) {
		struct srow *r = &p->s[p->sbykey.v[j].row - 1];
		if (r->kind == kind && r->ref == ref)
			return r;
	}
	return NULL;
}

int
ml_proj_subject_insert(struct ml_proj *p, const char *kind, const char *ref,
		       const uint8_t digest[ML_SHA256_LEN], int64_t seq, struct ml_err *e)
{
	const struct istr *k = str_intern(p, kind), *r = k ? str_intern(p, ref) : NULL;
	struct srow *s;

	if (!r)
		return oom(e);
	if (subject_of(p, k, r))
		return ml_err_set(e, ML_EINTEGRITY, "replay: subjects: UNIQUE constraint failed: "
				  "a row for %s %s exists", k->s, r->s);
	if (ht_reserve(&p->sbykey) || vec_reserve((void **)&p->s, &p->caps, p->ns, sizeof *p->s))
		return oom(e);
	s = &p->s[p->ns++];
	s->kind = k;
	s->ref = r;
	memcpy(s->digest, digest, ML_SHA256_LEN);
	s->seq = seq;
	s->matched = 0;
	ht_put(&p->sbykey, hmix(p, k, r, NULL, 0), (uint32_t)p->ns);
	return ML_OK;
}

void
ml_proj_subject_get(struct ml_proj *p, const char *kind, const char *ref,
		    uint8_t digest[ML_SHA256_LEN], int64_t *seq, int *found)
{
	struct srow *s = subject_of(p, str_find(p, kind, strlen(kind)),
				    str_find(p, ref, strlen(ref)));

	if ((*found = s != NULL)) {
		memcpy(digest, s->digest, ML_SHA256_LEN);
		*seq = s->seq;
	}
}

/* ---- entry_index ---------------------------------------------------------- */

static uint64_t
prefix64(const uint8_t *b)
{
	uint64_t v;

	memcpy(&v, b, sizeof v);
	return v;
}

static struct xrow *
index_by_seq(struct ml_proj *p, int64_t seq)
{
	uint32_t h = hmix(p, NULL, NULL, NULL, (uint64_t)seq);
	size_t j;

	for (j = ht_first(&p->xbyseq, h); j != NONE; j = ht_next(&p->xbyseq, h, j))
		if (p->x[p->xbyseq.v[j].row - 1].seq == seq)
			return &p->x[p->xbyseq.v[j].row - 1];
	return NULL;
}

static struct xrow *
index_by_hash(struct ml_proj *p, const struct istr *keyid, const uint8_t *hash)
{
	uint32_t h;
	size_t j;

	if (!keyid)
		return NULL;
	h = hmix(p, keyid, NULL, NULL, prefix64(hash));
	for (j = ht_first(&p->xbyhash, h); j != NONE; j = ht_next(&p->xbyhash, h, j)) {
		struct xrow *x = &p->x[p->xbyhash.v[j].row - 1];
		if (x->keyid == keyid && memcmp(x->hash, hash, ML_SHA256_LEN) == 0)
			return x;
	}
	return NULL;
}

/* The slot of group (kind, name, version) in xbygroup; NONE when absent. */
static size_t
group_slot(struct ml_proj *p, const struct istr *k, const struct istr *n,
	   const struct istr *v)
{
	uint32_t h;
	size_t j;

	if (!k || !n || !v)
		return NONE;
	h = hmix(p, k, n, v, 0);
	for (j = ht_first(&p->xbygroup, h); j != NONE; j = ht_next(&p->xbygroup, h, j)) {
		const struct xrow *x = &p->x[p->xbygroup.v[j].row - 1];
		if (x->kind == k && x->name == n && x->version == v)
			return j;
	}
	return NONE;
}

int
ml_proj_index_insert(struct ml_proj *p, const struct ml_index_row *row, struct ml_err *e)
{
	struct xrow x = {0};
	size_t g;

	if (!(x.kind = str_intern(p, row->kind)) || !(x.name = str_intern(p, row->name)) ||
	    !(x.version = str_intern(p, row->version)) || !(x.keyid = str_intern(p, row->keyid)))
		return oom(e);
	if (index_by_seq(p, row->seq))
		return ml_err_set(e, ML_EINTEGRITY, "replay: entry_index: UNIQUE constraint "
				  "failed: a row for entry %lld exists", (long long)row->seq);
	if (index_by_hash(p, x.keyid, row->stmt_hash))
		return ml_err_set(e, ML_EINTEGRITY, "replay: entry_index: UNIQUE constraint "
				  "failed: a row for this keyid and statement hash exists");
	if (ht_reserve(&p->xbyseq) || ht_reserve(&p->xbyhash) || ht_reserve(&p->xbygroup) ||
	    vec_reserve((void **)&p->x, &p->capx, p->nx, sizeof *p->x))
		return oom(e);
	x.seq = row->seq;
	memcpy(x.hash, row->stmt_hash, ML_SHA256_LEN);
	g = group_slot(p, x.kind, x.name, x.version);
	x.gnext = g == NONE ? 0 : p->xbygroup.v[g].row;
	p->x[p->nx++] = x;
	ht_put(&p->xbyseq, hmix(p, NULL, NULL, NULL, (uint64_t)x.seq), (uint32_t)p->nx);
	ht_put(&p->xbyhash, hmix(p, x.keyid, NULL, NULL, prefix64(x.hash)), (uint32_t)p->nx);
	if (g == NONE)
		ht_put(&p->xbygroup, hmix(p, x.kind, x.name, x.version, 0), (uint32_t)p->nx);
	else
		p->xbygroup.v[g].row = (uint32_t)p->nx; /* the newest row heads its group */
	return ML_OK;
}

void
ml_proj_index_find(struct ml_proj *p, const char *keyid, const uint8_t hash[ML_SHA256_LEN],
		   int64_t *seq, int *found)
{
	struct xrow *x = index_by_hash(p, str_find(p, keyid, strlen(keyid)), hash);

	if ((*found = x != NULL))
		*seq = x->seq;
}

static int
seq_desc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

int
ml_proj_index_seqs(struct ml_proj *p, const char *kind, const char *name, const char *version,
		   int (*fn)(void *ctx, uint64_t seq), void *ctx, struct ml_err *e)
{
	size_t g = group_slot(p, str_find(p, kind, strlen(kind)), str_find(p, name, strlen(name)),
			      str_find(p, version, strlen(version)));
	int64_t *v = NULL;
	size_t n = 0, cap = 0, j;
	uint32_t r;
	int rc = 0;

	if (g == NONE)
		return 0;
	for (r = p->xbygroup.v[g].row; r; r = p->x[r - 1].gnext) {
		if (vec_reserve((void **)&v, &cap, n, sizeof *v)) {
			free(v);
			return oom(e);
		}
		v[n++] = p->x[r - 1].seq;
	}
	qsort(v, n, sizeof *v, seq_desc); /* rows come newest first; made sure */
	for (j = 0; j < n && !rc; j++)
		rc = fn(ctx, (uint64_t)v[j]);
	free(v);
	return rc;
}

/* ---- idempotency_keys ----------------------------------------------------- */

static struct irow *
idem_of(struct ml_proj *p, const struct istr *keyid, const struct istr *key)
{
	uint32_t h;
	size_t j;

	if (!keyid || !key)
		return NULL;
	h = hmix(p, keyid, key, NULL, 0);
	for (j = ht_first(&p->ibykey, h); j != NONE; j = ht_next(&p->ibykey, h, j)) {
		struct irow *r = &p->i[p->ibykey.v[j].row - 1];
		if (r->keyid == keyid && r->key == key)
			return r;
	}
	return NULL;
}

int
ml_proj_idem_insert(struct ml_proj *p, const char *keyid, const char *key, int64_t seq,
		    struct ml_err *e)
{
	const struct istr *id = str_intern(p, keyid), *k = id ? str_intern(p, key) : NULL;
	struct irow *r;

	if (!k)
		return oom(e);
	if (idem_of(p, id, k))
		return ML_OK; /* the first entry of a (keyid, key) stays the row */
	if (ht_reserve(&p->ibykey) || vec_reserve((void **)&p->i, &p->capi, p->ni, sizeof *p->i))
		return oom(e);
	r = &p->i[p->ni++];
	r->keyid = id;
	r->key = k;
	r->seq = seq;
	r->matched = 0;
	ht_put(&p->ibykey, hmix(p, id, k, NULL, 0), (uint32_t)p->ni);
	return ML_OK;
}

void
ml_proj_idem_find(struct ml_proj *p, const char *keyid, const char *key, int64_t *seq,
		  int *found)
{
	struct irow *r = idem_of(p, str_find(p, keyid, strlen(keyid)),
				 str_find(p, key, strlen(key)));

	if ((*found = r != NULL))
		*seq = r->seq;
}

/* ---- comparison ----------------------------------------------------------- */

static const struct istr *
text_find(const struct ml_proj *p, struct ml_proj_text t)
{
	return t.p || !t.len ? str_find(p, t.p ? t.p : "", t.len) : NULL;
}

int
ml_proj_key_match(struct ml_proj *p, struct ml_proj_text keyid, struct ml_proj_text name,
		  struct ml_proj_text vkey, struct ml_proj_text roles, int64_t enrolled_seq,
		  int revoked, int64_t revoked_seq)
{
	struct krow *k = key_of(p, text_find(p, keyid));
	struct ml_key_row *r = k ? &k->row : NULL;

	if (!k || k->matched || r->enrolled_seq != enrolled_seq ||
	    (r->revoked_seq != -1) != (revoked != 0) ||
	    (revoked && r->revoked_seq != revoked_seq) ||
	    strlen(r->name) != name.len || memcmp(r->name, name.p, name.len) != 0 ||
	    strlen(r->vkey) != vkey.len || memcmp(r->vkey, vkey.p, vkey.len) != 0 ||
	    strlen(r->roles) != roles.len || memcmp(r->roles, roles.p, roles.len) != 0)
		return 0;
	return k->matched = 1;
}

int
ml_proj_subject_match(struct ml_proj *p, struct ml_proj_text kind, struct ml_proj_text ref,
		      const uint8_t *digest, size_t digest_len, int64_t seq)
{
	struct srow *s = subject_of(p, text_find(p, kind), text_find(p, ref));

	if (!s || s->matched || s->seq != seq || digest_len != ML_SHA256_LEN ||
	    memcmp(s->digest, digest, ML_SHA256_LEN) != 0)
		return 0;
	return s->matched = 1;
}

int
ml_proj_index_match(struct ml_proj *p, int64_t seq, struct ml_proj_text kind,
		    struct ml_proj_text name, struct ml_proj_text version,
		    struct ml_proj_text keyid, const uint8_t *hash, size_t hash_len)
{
	struct xrow *x = index_by_seq(p, seq);

	if (!x || x->matched || !text_is(x->kind, kind) || !text_is(x->name, name) ||
	    !text_is(x->version, version) || !text_is(x->keyid, keyid) ||
	    hash_len != ML_SHA256_LEN || memcmp(x->hash, hash, ML_SHA256_LEN) != 0)
		return 0;
	return x->matched = 1;
}

int
ml_proj_idem_match(struct ml_proj *p, struct ml_proj_text keyid, struct ml_proj_text key,
		   int64_t seq)
{
	struct irow *r = idem_of(p, text_find(p, keyid), text_find(p, key));

	if (!r || r->matched || r->seq != seq)
		return 0;
	return r->matched = 1;
}

size_t
ml_proj_count(const struct ml_proj *p, enum ml_proj_table t)
{
	return t == ML_PROJ_KEYS ? p->nk : t == ML_PROJ_SUBJECTS ? p->ns
		: t == ML_PROJ_INDEX ? p->nx : p->ni;
}

int
ml_proj_unmatched(const struct ml_proj *p, enum ml_proj_table t, char *first, size_t cap)
{
	size_t j, n = ml_proj_count(p, t);

	for (j = 0; j < n; j++) {
		if (t == ML_PROJ_KEYS && !p->k[j].matched)
			return snprintf(first, cap, "%s", p->k[j].row.keyid), 1;
		if (t == ML_PROJ_SUBJECTS && !p->s[j].matched)
			return snprintf(first, cap, "%s", p->s[j].ref->s), 1;
		if (t == ML_PROJ_INDEX && !p->x[j].matched)
			return snprintf(first, cap, "%lld", (long long)p->x[j].seq), 1;
		if (t == ML_PROJ_IDEM && !p->i[j].matched)
			return snprintf(first, cap, "%s", p->i[j].keyid->s), 1;
	}
	return 0;
}
