/* audit — see audit.h.  Populations, samples, traces, reconciliation. */
#include "audit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "chain.h"
#include "keys.h"
#include "note.h"
#include "note_checkpoint.h"
#include "store.h"
#include "tlog.h"
#include "verify.h"

struct person {
	char keyid[ML_KEYID_MAX];
	char *id, *name;
};

struct ml_audit {
	struct ml_audit_item *items;
	size_t n, cap;
	struct person *persons;
	size_t npersons, pcap;
	char origin[ML_CHECKPOINT_ORIGIN_MAX + 1];
	uint64_t size;
	char root[64];
	int verified;
	char why[400];
	struct ml_err *e;
	int64_t limit;
};

static char *
dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

static void
item_clear(struct ml_audit_item *it)
{
	size_t i;

	free(it->subject);
	free(it->name);
	free(it->version);
	free(it->env);
	free(it->person_id);
	free(it->person_name);
	free(it->decision);
	free(it->policies);
	free(it->policy_seqs);
	for (i = 0; i < it->ndatasets; i++)
		free(it->datasets[i]);
	free(it->datasets);
}

void
ml_audit_free(struct ml_audit *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->n; i++)
		item_clear(&a->items[i]);
	free(a->items);
	for (i = 0; i < a->npersons; i++) {
		free(a->persons[i].id);
		free(a->persons[i].name);
	}
	free(a->persons);
	free(a);
}

size_t
ml_audit_count(const struct ml_audit *a)
{
	return a->n;
}

const struct ml_audit_item *
ml_audit_at(const struct ml_audit *a, size_t i)
{
	return i < a->n ? &a->items[i] : NULL;
}

const struct ml_audit_item *
ml_audit_find(const struct ml_audit *a, uint64_t seq)
{
	/* items are in seq order, one per entry from 0 */
	if (seq < a->n && a->items[seq].seq == seq)
		return &a->items[seq];
	return NULL;
}

const char *
ml_audit_origin(const struct ml_audit *a)
{
	return a->origin;
}

uint64_t
ml_audit_size(const struct ml_audit *a)
{
	return a->size;
}

const char *
ml_audit_root(const struct ml_audit *a)
{
	return a->root;
}

bool
ml_audit_verified(const struct ml_audit *a, const char **why)
{
	if (why)
		*why = a->why;
	return a->verified;
}

static const struct person *
person_of(const struct ml_audit *a, const char *keyid)
{
	size_t i;

	for (i = a->npersons; i-- > 0;)
		if (!strcmp(a->persons[i].keyid, keyid))
			return &a->persons[i];
	return NULL;
}

/* Takes the person of the key a genesis or key-enrollment entry enrols. */
static int
take_person(struct ml_audit *a, const struct ml_statement *st)
{
	const char *vk = json_string_value(json_object_get(
		st->predicate, st->kind == ML_KIND_GENESIS ? "admin" : "key"));
	json_t *who = json_object_get(st->predicate, "person");
	struct ml_pubkey pk;
	struct person *p;

	if (!vk || ml_pubkey_parse_recorded(vk, strlen(vk), &pk, NULL) != ML_OK)
		return ML_OK; /* verify judges it; the signer's person stays unknown */
	if (a->npersons == a->pcap) {
		size_t nc = a->pcap ? a->pcap * 2 : 16;
		struct person *np = realloc(a->persons, nc * sizeof *np);
		if (!np)
			return ml_err_set(a->e, ML_EIO, "out of memory");
		a->persons = np;
		a->pcap = nc;
	}
	p = &a->persons[a->npersons];
	ml_pubkey_keyid(&pk, p->keyid);
	p->id = dup_or_empty(who ? json_string_value(json_object_get(who, "id")) : pk.name);
	p->name = dup_or_empty(who ? json_string_value(json_object_get(who, "name")) : "");
	if (!p->id || !p->name) {
		free(p->id);
		free(p->name);
		return ml_err_set(a->e, ML_EIO, "out of memory");
	}
	a->npersons++;
	return ML_OK;
}

static int
fill_item(struct ml_audit *a, struct ml_audit_item *it, const struct ml_statement *st,
	  const char *keyid)
{
	const json_t *p = st->predicate, *v;
	const struct person *who = person_of(a, keyid);
	const char *t, *env = NULL, *dec = NULL;
	char name[129] = "", version[65] = "";
	struct ml_buf pol = {0};
	size_t i;

	it->kind = st->kind;
	memcpy(it->digest, st->digest, ML_SHA256_LEN);
	snprintf(it->keyid, sizeof it->keyid, "%s", keyid);
	if (ml_kind_about_model(st->kind) || st->kind == ML_KIND_MODEL ||
	    st->kind == ML_KIND_DATASET)
		(void)ml_ref_split(st->subject, name, version);
	t = json_string_value(json_object_get(p, st->kind == ML_KIND_GATE ? "timeVerified" : "time"));
	snprintf(it->author_time, sizeof it->author_time, "%s", t ? t : "");
	if (!t || ml_time_parse(t, &it->author_us) != 0)
		it->author_us = 0;
	env = json_string_value(json_object_get(p, "environment"));
	if (st->kind == ML_KIND_APPROVAL)
		dec = json_string_value(json_object_get(p, "decision"));
	if (st->kind == ML_KIND_GATE) {
		dec = json_string_value(json_object_get(p, "verificationResult"));
		v = json_object_get(p, "policies");
		it->policy_seqs = calloc(json_array_size(v) + 1, sizeof *it->policy_seqs);
		if (!it->policy_seqs)
			return ml_err_set(a->e, ML_EIO, "out of memory");
		for (i = 0; i < json_array_size(v); i++) {
			const json_t *d = json_array_get(v, i);
			const char *nm = json_string_value(json_object_get(d, "name"));
			uint64_t ps;
			ml_buf_printf(&pol, "%s%s", i ? ";" : "", nm ? nm : "?");
			if (ml_policy_uri_seq(json_string_value(json_object_get(d, "uri")), &ps) == 0)
				it->policy_seqs[it->npolicy_seqs++] = ps;
		}
	}
	if (st->kind == ML_KIND_MODEL || st->kind == ML_KIND_EVALUATION) {
		json_t *ds = json_object_get(p, st->kind == ML_KIND_MODEL ? "datasets" : "dataset");
		json_t *one = json_array();
		if (!one)
			return ml_err_set(a->e, ML_EIO, "out of memory");
		if (json_is_object(ds))
			json_array_append(one, ds);
		else if (json_is_array(ds))
			json_array_extend(one, ds);
		it->datasets = calloc(json_array_size(one) + 1, sizeof *it->datasets);
		for (i = 0; it->datasets && i < json_array_size(one); i++) {
			const char *r = json_string_value(json_object_get(json_array_get(one, i), "name"));
			if (!(it->datasets[it->ndatasets] = dup_or_empty(r)))
				break;
			it->ndatasets++;
		}
		i = json_array_size(one);
		json_decref(one);
		if (!it->datasets || it->ndatasets != i)
			return ml_err_set(a->e, ML_EIO, "out of memory");
	}
	it->subject = dup_or_empty(st->subject);
	it->name = dup_or_empty(name);
	it->version = dup_or_empty(version);
	it->env = dup_or_empty(env);
	it->decision = dup_or_empty(dec);
	ml_buf_append(&pol, "", 1);
	it->policies = pol.oom ? NULL : strdup((const char *)pol.data);
	ml_buf_free(&pol);
	it->person_id = dup_or_empty(who ? who->id : "");
	it->person_name = dup_or_empty(who ? who->name : "");
	if (!it->subject || !it->name || !it->version || !it->env || !it->decision ||
	    !it->policies || !it->person_id || !it->person_name)
		return ml_err_set(a->e, ML_EIO, "out of memory");
	return ML_OK;
}

static int
read_entry(void *ctx, const struct ml_entry *en, const uint8_t leaf[ML_SHA256_LEN],
	   const struct ml_index_row *ix, int has_ix)
{
	struct ml_audit *a = ctx;
	struct ml_audit_item *it;
	struct ml_envelope env;
	struct ml_statement st;
	struct ml_err pe;
	int rc;

	(void)leaf;
	(void)ix;
	(void)has_ix;
	if ((int64_t)en->seq >= a->limit)
		return -2; /* stop: beyond the checkpoint */
	if (en->seq != a->n)
		return ml_err_set(a->e, ML_EINTEGRITY, "entry %llu is missing",
				  (unsigned long long)a->n);
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 256;
		struct ml_audit_item *ni = realloc(a->items, nc * sizeof *ni);
		if (!ni)
			return ml_err_set(a->e, ML_EIO, "out of memory");
		a->items = ni;
		a->cap = nc;
	}
	ml_err_clear(&pe);
	if (ml_envelope_parse(en->envelope, en->envelope_len, &env, &pe) != ML_OK)
		return ml_err_set(a->e, ML_EINTEGRITY, "entry %llu: %s",
				  (unsigned long long)en->seq, pe.msg);
	if (ml_statement_parse(env.payload, env.payload_len, &st, &pe) != ML_OK) {
		ml_envelope_clear(&env);
		return ml_err_set(a->e, ML_EINTEGRITY, "entry %llu: %s",
				  (unsigned long long)en->seq, pe.msg);
	}
	it = &a->items[a->n];
	memset(it, 0, sizeof *it);
	it->seq = en->seq;
	it->append_us = en->time_us;
	/* the leaf hash recomputed from the bytes read, not the stored column */
	ml_leaf_hash(en, it->leaf);
	a->n++;
	rc = fill_item(a, it, &st, env.keyid);
	if (rc == ML_OK && (st.kind == ML_KIND_GENESIS || st.kind == ML_KIND_KEY_ENROLLMENT))
		rc = take_person(a, &st);
	if (rc == ML_OK && st.kind == ML_KIND_GENESIS) {
		/* the genesis signer is the admin it enrols */
		const struct person *p = person_of(a, it->keyid);
		free(it->person_id);
		free(it->person_name);
		it->person_id = dup_or_empty(p ? p->id : "");
		it->person_name = dup_or_empty(p ? p->name : "");
		if (!it->person_id || !it->person_name)
			rc = ml_err_set(a->e, ML_EIO, "out of memory");
	}
	ml_statement_free(&st);
	ml_envelope_clear(&env);
	return rc;
}

int
ml_audit_open(struct ml_ledger *l, int jobs, int allow_unverified, struct ml_audit **out,
	      struct ml_err *e)
{
	static char label[] = "audit: verify";
	struct ml_verify_opts vo = {.jobs = jobs, .ctx = label};
	struct ml_verify_result res;
	struct ml_checkpoint c;
	struct ml_note note;
	struct ml_audit *a;
	struct ml_err ve;
	uint64_t got;
	char *text = NULL, *root;
	int rc;

	ml_err_clear(&ve);
	memset(&res, 0, sizeof res);
	rc = ml_verify(l, &vo, &res, &ve);
	if (rc == ML_EIO || (rc && !allow_unverified)) {
		*e = ve;
		return rc;
	}
	if (!(a = calloc(1, sizeof *a)))
		return ml_err_set(e, ML_EIO, "out of memory");
	a->e = e;
	a->verified = rc == ML_OK;
	if (rc)
		snprintf(a->why, sizeof a->why, "%s%.360s", ve.seq >= 0 ? "entry " : "", ve.msg);
	/* the checkpoint of the verified size; unverified: the latest */
	rc = ml_tlog_checkpoint(l, a->verified ? (int64_t)res.entries : -1, &got, &text, e);
	if (rc == ML_OK) {
		rc = ml_note_parse(text, strlen(text), &note, e);
		if (rc == ML_OK) {
			rc = ml_checkpoint_parse(note.text, note.text_len, &c, e);
			ml_note_clear(&note);
		}
		if (rc)
			rc = ml_err_set(e, ML_EINTEGRITY, "the checkpoint of size %llu does not parse",
					(unsigned long long)got);
	}
	free(text);
	if (rc == ML_OK) {
		snprintf(a->origin, sizeof a->origin, "%s", c.origin);
		a->size = c.size;
		a->limit = (int64_t)c.size;
		if (!(root = ml_b64_encode(c.root, ML_SHA256_LEN))) {
			rc = ml_err_set(e, ML_EIO, "out of memory");
		} else {
			snprintf(a->root, sizeof a->root, "%s", root);
			free(root);
		}
	}
	if (rc == ML_OK) {
		rc = ml_store_scan(ml_ledger_store(l), 0, read_entry, a, e);
		if (rc == -2)
			rc = ML_OK;
		if (rc == ML_OK && a->n != a->size)
			rc = ml_err_set(e, ML_EINTEGRITY, "the ledger holds %zu entries below its "
					"checkpoint of size %llu", a->n, (unsigned long long)a->size);
	}
	if (rc) {
		ml_audit_free(a);
		return rc;
	}
	a->e = NULL;
	*out = a;
	return ML_OK;
}

/* ---- CSV ---------------------------------------------------------------- */

void
ml_audit_csv_free(char **cells, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(cells[i]);
}

enum ml_rc
ml_audit_csv_record(const char *text, size_t len, size_t *pos, char **cells, size_t cap,
		    size_t *ncells, size_t *lines, const char **why)
{
	enum ml_rc rc = ML_EINPUT; /* ML_EIO once out of memory */
	size_t i = *pos, n = 0, nl = 0;
	struct ml_buf cell = {0};
	int done = 0;

	*why = NULL;
	while (!done) {
		int quoted = 0;
		cell.len = 0;
		if (i < len && text[i] == '"') {
			quoted = 1;
			i++;
			for (;;) {
				if (i >= len) {
					*why = "a quoted cell is not closed";
					goto fail;
				}
				if (text[i] == '"') {
					if (i + 1 < len && text[i + 1] == '"') {
						ml_buf_append(&cell, "\"", 1);
						i += 2;
						continue;
					}
					i++;
					break;
				}
				if (text[i] == '\0') {
					*why = "a NUL byte";
					goto fail;
				}
				if (text[i] == '\n')
					nl++;
				ml_buf_append(&cell, &text[i++], 1);
				if (cell.len > ML_AUDIT_CELL_MAX) {
					*why = "a cell longer than 65536 bytes";
					goto fail;
				}
			}
		}
		while (i < len && text[i] != ',' && text[i] != '\n' &&
		       !(text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')) {
			if (quoted || text[i] == '"') {
				*why = quoted ? "text after a quoted cell" : "a quote inside an unquoted cell";
				goto fail;
			}
			if (text[i] == '\0') {
				*why = "a NUL byte";
				goto fail;
			}
			ml_buf_append(&cell, &text[i++], 1);
			if (cell.len > ML_AUDIT_CELL_MAX) {
				*why = "a cell longer than 65536 bytes";
				goto fail;
			}
		}
		if (n == cap) {
			*why = "too many cells";
			goto fail;
		}
		ml_buf_append(&cell, "", 1);
		if (cell.oom || !(cells[n] = strdup((const char *)cell.data))) {
			*why = "out of memory";
			rc = ML_EIO;
			goto fail;
		}
		n++;
		if (i < len && text[i] == ',') {
			i++;
			continue;
		}
		if (i < len && text[i] == '\r')
			i++;
		if (i < len && text[i] == '\n') {
			i++;
			nl++;
		}
		done = 1;
	}
	ml_buf_free(&cell);
	*pos = i;
	*ncells = n;
	*lines = nl;
	return ML_OK;
fail:
	ml_buf_free(&cell);
	ml_audit_csv_free(cells, n);
	return rc;
}

/* ---- populations ---------------------------------------------------------- */

int
ml_audit_kinds_parse(const char *spec, uint32_t *mask, struct ml_err *e)
{
	char buf[512], *tok, *save = NULL;
	enum ml_kind k;

	if (strlen(spec) >= sizeof buf)
		return ml_err_set(e, ML_EINPUT, "--kind: too long");
	snprintf(buf, sizeof buf, "%s", spec);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all"))
			*mask |= (1u << ML_KIND_COUNT) - 1;
		else if (ml_kind_parse(tok, &k) == 0)
			*mask |= 1u << k;
		else
			return ml_err_set(e, ML_EINPUT, "--kind: unknown kind \"%.40s\"", tok);
	}
	if (!*mask)
		return ml_err_set(e, ML_EINPUT, "--kind: no kind named");
	return ML_OK;
}

void
ml_audit_digest(const struct ml_audit_ref *refs, size_t n, uint8_t out[ML_SHA256_LEN])
{
	struct ml_sha256_ctx *c = ml_sha256_new();
	char line[100], hex[65];
	size_t i;

	if (!c) {
		memset(out, 0, ML_SHA256_LEN);
		return;
	}
	for (i = 0; i < n; i++) {
		int k;
		ml_hex_encode(refs[i].leaf, ML_SHA256_LEN, hex);
		k = snprintf(line, sizeof line, "%llu %s\n", (unsigned long long)refs[i].seq, hex);
		ml_sha256_update(c, line, (size_t)k);
	}
	ml_sha256_final(c, out);
}

static const char *const pop_cols[] = {
	"seq", "leaf_hash", "kind", "subject", "subject_digest", "environment",
	"author_time", "append_time", "signer_keyid", "person_id", "person_name",
	"decision", "policies",
};
#define NPOP_COLS (sizeof pop_cols / sizeof pop_cols[0])

static json_t *
item_json(const struct ml_audit_item *it)
{
	char leaf[65], dg[65], at[21];

	ml_hex_encode(it->leaf, ML_SHA256_LEN, leaf);
	ml_hex_encode(it->digest, ML_SHA256_LEN, dg);
	ml_time_format(it->append_us, at);
	return json_pack("{s:I, s:s+, s:s, s:s, s:s+, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
			 "seq", (json_int_t)it->seq, "leafHash", "sha256:", leaf, "kind",
			 ml_kind_name(it->kind), "subject", it->subject, "subjectDigest",
			 "sha256:", dg, "environment", it->env, "authorTime", it->author_time,
			 "appendTime", at, "signer", it->keyid, "personId", it->person_id,
			 "personName", it->person_name, "decision", it->decision, "policies",
			 it->policies);
}

static void
item_csv(struct ml_buf *b, const struct ml_audit_item *it)
{
	char leaf[72], dg[72], at[21];

	memcpy(leaf, "sha256:", 7);
	ml_hex_encode(it->leaf, ML_SHA256_LEN, leaf + 7);
	memcpy(dg, "sha256:", 7);
	ml_hex_encode(it->digest, ML_SHA256_LEN, dg + 7);
	ml_time_format(it->append_us, at);
	ml_buf_printf(b, "%llu,", (unsigned long long)it->seq);
	ml_csv_cell(b, leaf, 0);
	ml_buf_puts(b, ",");
	ml_csv_cell(b, ml_kind_name(it->kind), 0);
	ml_buf_puts(b, ",");
	ml_csv_cell(b, it->subject, 0);
	ml_buf_puts(b, ",");
	ml_csv_cell(b, dg, 0);
	ml_buf_puts(b, ",");
	ml_csv_cell(b, it->env, 0);
	ml_buf_puts(b, ",");
	ml_csv_cell(b, it->author_time, 0);
	ml_buf_puts(b, ",");
	ml_csv_cell(b, at, 0);
	ml_buf_puts(b, ",");
	ml_csv_cell(b, it->keyid, 0);
	ml_buf_puts(b, ",");
	ml_csv_cell(b, it->person_id, 0);
	ml_buf_puts(b, ",");
	ml_csv_cell(b, it->person_name, 0);
	ml_buf_puts(b, ",");
	ml_csv_cell(b, it->decision, 0);
	ml_buf_puts(b, ",");
	ml_csv_cell(b, it->policies, 0);
	ml_buf_puts(b, "\r\n");
}

int
ml_audit_population(const struct ml_audit *a, uint32_t mask, int64_t from_us, int64_t to_us,
		    const char *kinds, const char *from, const char *to, int csv,
		    struct ml_buf *out, size_t *count, struct ml_err *e)
{
	struct ml_audit_ref *refs;
	uint8_t dg[ML_SHA256_LEN];
	char hex[65];
	json_t *items = NULL, *doc;
	size_t i, n = 0;
	struct ml_buf rows = {0};

	if (!(refs = calloc(a->n + 1, sizeof *refs)))
		return ml_err_set(e, ML_EIO, "out of memory");
	if (!csv && !(items = json_array())) {
		free(refs);
		return ml_err_set(e, ML_EIO, "out of memory");
	}
	for (i = 0; i < a->n; i++) {
		const struct ml_audit_item *it = &a->items[i];
		if (!(mask & (1u << it->kind)) || it->append_us < from_us || it->append_us >= to_us)
			continue;
		refs[n].seq = it->seq;
		memcpy(refs[n].leaf, it->leaf, ML_SHA256_LEN);
		n++;
		if (csv)
			item_csv(&rows, it);
		else if (json_array_append_new(items, item_json(it)))
			rows.oom = 1;
	}
	ml_audit_digest(refs, n, dg);
	free(refs);
	ml_hex_encode(dg, ML_SHA256_LEN, hex);
	if (csv) {
		ml_buf_printf(out, "# mlledger population v1\r\n# origin %s\r\n"
			      "# checkpoint %llu %s\r\n# verified %s\r\n# kinds %s\r\n"
			      "# from %s\r\n# to %s\r\n# count %zu\r\n# digest sha256:%s\r\n",
			      a->origin, (unsigned long long)a->size, a->root,
			      a->verified ? "yes" : "no", kinds, *from ? from : "(none)",
			      *to ? to : "(none)", n, hex);
		for (i = 0; i < NPOP_COLS; i++)
			ml_buf_printf(out, "%s%s", i ? "," : "", pop_cols[i]);
		ml_buf_puts(out, "\r\n");
		if (rows.len)
			ml_buf_append(out, rows.data, rows.len);
		out->oom |= rows.oom;
	} else {
		char *s;
		doc = json_pack("{s:{s:s, s:s, s:{s:I, s:s}, s:b, s:s, s:s?, s:s?, s:s, s:I, s:s+},"
				" s:o}", "population", "format", "mlledger-population/v1",
				"origin", a->origin, "checkpoint", "size", (json_int_t)a->size,
				"root", a->root, "verified", a->verified, "kinds", kinds, "from",
				*from ? from : NULL, "to", *to ? to : NULL, "basis", "appendTime", "count", (json_int_t)n,
				"digest", "sha256:", hex, "items", items);
		s = doc && !rows.oom ? json_dumps(doc, JSON_INDENT(2)) : NULL;
		json_decref(doc);
		if (!s) {
			ml_buf_free(&rows);
			return ml_err_set(e, ML_EIO, "out of memory");
		}
		ml_buf_puts(out, s);
		ml_buf_puts(out, "\n");
		free(s);
	}
	ml_buf_free(&rows);
	if (out->oom)
		return ml_err_set(e, ML_EIO, "out of memory");
	*count = n;
	return ML_OK;
}

/* ---- sampling --------------------------------------------------------------- */

bool
ml_audit_seed_valid(const char *seed)
{
	size_t n = strlen(seed), i;

	if (n < 1 || n > ML_AUDIT_SEED_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)seed[i] < 0x21 || (unsigned char)seed[i] > 0x7e)
			return false;
	return true;
}

void
ml_audit_rank(const char *seed, const uint8_t leaf[ML_SHA256_LEN], uint8_t out[ML_SHA256_LEN])
{
	char buf[ML_AUDIT_SEED_MAX + 1 + 64 + 1];
	char hex[65];
	int k;

	ml_hex_encode(leaf, ML_SHA256_LEN, hex);
	k = snprintf(buf, sizeof buf, "%s:%s", seed, hex);
	ml_sha256(buf, (size_t)k, out);
}

struct ranked {
	uint8_t rank[ML_SHA256_LEN];
	uint64_t seq;
	size_t idx;
};

static int
by_rank(const void *x, const void *y)
{
	const struct ranked *a = x, *b = y;
	int c = memcmp(a->rank, b->rank, ML_SHA256_LEN);

	if (c)
		return c;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int
by_size(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;

	return a < b ? -1 : a > b;
}

int
ml_audit_draw(const struct ml_audit_ref *refs, size_t count, const char *seed, size_t n,
	      size_t *pick, size_t *picked, struct ml_err *e)
{
	struct ranked *r;
	size_t i;

	if (n > count)
		n = count;
	if (!(r = calloc(count + 1, sizeof *r)))
		return ml_err_set(e, ML_EIO, "out of memory");
	for (i = 0; i < count; i++) {
		ml_audit_rank(seed, refs[i].leaf, r[i].rank);
		r[i].seq = refs[i].seq;
		r[i].idx = i;
	}
	qsort(r, count, sizeof *r, by_rank);
	for (i = 0; i < n; i++)
		pick[i] = r[i].idx;
	free(r);
	qsort(pick, n, sizeof *pick, by_size);
	*picked = n;
	return ML_OK;
}

static enum ml_rc
parse_seq(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s < '0' || *s > '9' || (s[0] == '0' && s[1]) || strlen(s) > 19)
		return ML_EINPUT;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end || errno)
		return ML_EINPUT;
	*out = v;
	return ML_OK;
}

static enum ml_rc
parse_leaf(const char *s, uint8_t out[ML_SHA256_LEN])
{
	size_t i;

	if (strncmp(s, "sha256:", 7) || strlen(s) != 71)
		return ML_EINPUT;
	for (i = 7; i < 71; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return ML_EINPUT;
	return ml_hex_decode(s + 7, 64, out, ML_SHA256_LEN);
}

/* Checks refs ascending, count and digest against what the file claims. */
static int
check_claims(const char *path, const struct ml_audit_ref *refs, size_t n, uint64_t claimed_n,
	     const char *claimed, struct ml_err *e)
{
	uint8_t dg[ML_SHA256_LEN], want[ML_SHA256_LEN];

	if (!claimed || parse_leaf(claimed, want) != 0)
		return ml_err_set(e, ML_EINPUT, "%s: no population digest (\"sha256:HEX\"); "
				  "was it written by mlledger population?", path);
	ml_audit_digest(refs, n, dg);
	if (claimed_n != n || memcmp(dg, want, ML_SHA256_LEN))
		return ml_err_set(e, ML_EINTEGRITY, "%s: its %zu items do not match its digest "
				  "line (count %llu, %s): an item was added, removed or changed",
				  path, n, (unsigned long long)claimed_n, claimed);
	return ML_OK;
}

static int
sample_csv(const char *path, const char *text, size_t len, const char *seed, size_t want,
	   struct ml_buf *out, size_t *drawn, size_t *count, struct ml_err *e)
{
	char *cells[64];
	size_t pos = 0, line = 1, nc, nl, ncols = 0, i, n = 0, cap = 0, picked = 0;
	size_t hdr_start, hdr_end, seq_col = SIZE_MAX, leaf_col = SIZE_MAX;
	const char *why;
	char claimed[512] = "", pre[8192] = "";
	uint64_t claimed_n = UINT64_MAX;
	struct ml_audit_ref *refs = NULL;
	size_t (*span)[2] = NULL, *pick = NULL;
	uint8_t dg[ML_SHA256_LEN];
	char hex[65];
	int rc = ML_OK;

	/* the scope lines: "# KEY VALUE" */
	while (pos < len && text[pos] == '#') {
		const char *eol = memchr(text + pos, '\n', len - pos);
		size_t l = eol ? (size_t)(eol - (text + pos)) : len - pos;
		char ln[1024];
		if (l >= sizeof ln)
			return ml_err_set(e, ML_EINPUT, "%s: line %zu: too long", path, line);
		memcpy(ln, text + pos, l);
		ln[l] = '\0';
		if (l && ln[l - 1] == '\r')
			ln[--l] = '\0';
		if (!strncmp(ln, "# digest ", 9))
			snprintf(claimed, sizeof claimed, "%.100s", ln + 9);
		else if (!strncmp(ln, "# count ", 8) && parse_seq(ln + 8, &claimed_n) != 0)
			return ml_err_set(e, ML_EINPUT, "%s: line %zu: bad count", path, line);
		else if (!strncmp(ln, "# origin ", 9) || !strncmp(ln, "# checkpoint ", 13) ||
			 !strncmp(ln, "# verified ", 11) || !strncmp(ln, "# kinds ", 8) ||
			 !strncmp(ln, "# from ", 7) || !strncmp(ln, "# to ", 5)) {
			size_t pl = strlen(pre);
			snprintf(pre + pl, sizeof pre - pl, "%s\r\n", ln);
		}
		pos += l + (eol ? 1 : 0) + (text[pos + l] == '\r' ? 1 : 0);
		line++;
	}
	hdr_start = pos;
	if (ml_audit_csv_record(text, len, &pos, cells, 64, &ncols, &nl, &why) != 0)
		return ml_err_set(e, ML_EINPUT, "%s: line %zu: %s", path, line, why);
	hdr_end = pos;
	for (i = 0; i < ncols; i++) {
		if (!strcmp(cells[i], "seq"))
			seq_col = i;
		if (!strcmp(cells[i], "leaf_hash"))
			leaf_col = i;
	}
	ml_audit_csv_free(cells, ncols);
	if (seq_col == SIZE_MAX || leaf_col == SIZE_MAX)
		return ml_err_set(e, ML_EINPUT, "%s: line %zu: the header row lacks seq or "
				  "leaf_hash", path, line);
	line += nl;
	while (pos < len) {
		size_t start = pos;
		if (ml_audit_csv_record(text, len, &pos, cells, 64, &nc, &nl, &why) != 0) {
			rc = ml_err_set(e, ML_EINPUT, "%s: line %zu: %s", path, line, why);
			goto out;
		}
		if (nc == 1 && !cells[0][0] && pos >= len) {
			ml_audit_csv_free(cells, nc);
			break;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			void *r2, *s2;
			if (ncap > ML_AUDIT_ROWS_MAX + 1)
				ncap = ML_AUDIT_ROWS_MAX + 1;
			if (n >= ML_AUDIT_ROWS_MAX) {
				ml_audit_csv_free(cells, nc);
				rc = ml_err_set(e, ML_EINPUT, "%s: more than %d rows", path,
						ML_AUDIT_ROWS_MAX);
				goto out;
			}
			r2 = realloc(refs, ncap * sizeof *refs);
			if (r2)
				refs = r2;
			s2 = realloc(span, ncap * sizeof *span);
			if (s2)
				span = s2;
			if (!r2 || !s2) {
				ml_audit_csv_free(cells, nc);
				rc = ml_err_set(e, ML_EIO, "out of memory");
				goto out;
			}
			cap = ncap;
		}
		if (nc != ncols || parse_seq(cells[seq_col], &refs[n].seq) != 0 ||
		    parse_leaf(cells[leaf_col], refs[n].leaf) != 0 ||
		    (n && refs[n].seq <= refs[n - 1].seq)) {
			ml_audit_csv_free(cells, nc);
			rc = ml_err_set(e, ML_EINPUT, "%s: line %zu: expected %zu cells with seq "
					"(ascending) and leaf_hash sha256:HEX", path, line, ncols);
			goto out;
		}
		ml_audit_csv_free(cells, nc);
		span[n][0] = start;
		span[n][1] = pos;
		n++;
		line += nl ? nl : 1;
	}
	if ((rc = check_claims(path, refs, n, claimed_n, claimed[0] ? claimed : NULL, e)))
		goto out;
	if (!(pick = calloc(n + 1, sizeof *pick))) {
		rc = ml_err_set(e, ML_EIO, "out of memory");
		goto out;
	}
	if ((rc = ml_audit_draw(refs, n, seed, want, pick, &picked, e)))
		goto out;
	{
		struct ml_audit_ref *sel = calloc(picked + 1, sizeof *sel);
		if (!sel) {
			rc = ml_err_set(e, ML_EIO, "out of memory");
			goto out;
		}
		for (i = 0; i < picked; i++)
			sel[i] = refs[pick[i]];
		ml_audit_digest(sel, picked, dg);
		free(sel);
	}
	ml_hex_encode(dg, ML_SHA256_LEN, hex);
	ml_buf_printf(out, "# mlledger sample v1\r\n# population %s\r\n# population-count %zu\r\n"
		      "# algorithm sha256-rank/v1\r\n# seed %s\r\n# n %zu\r\n",
		      claimed, n, seed, want);
	if (want > n)
		ml_buf_printf(out, "# note n exceeds the population: every item is drawn\r\n");
	ml_buf_printf(out, "%s# count %zu\r\n# digest sha256:%s\r\n", pre, picked, hex);
	ml_buf_append(out, text + hdr_start, hdr_end - hdr_start);
	if (hdr_end == hdr_start || text[hdr_end - 1] != '\n')
		ml_buf_puts(out, "\r\n");
	for (i = 0; i < picked; i++) {
		size_t s = span[pick[i]][0], t = span[pick[i]][1];
		ml_buf_append(out, text + s, t - s);
		if (t == s || text[t - 1] != '\n')
			ml_buf_puts(out, "\r\n");
	}
	if (out->oom)
		rc = ml_err_set(e, ML_EIO, "out of memory");
	*drawn = picked;
	*count = n;
out:
	free(refs);
	free(span);
	free(pick);
	return rc;
}

static int
sample_json(const char *path, const char *text, size_t len, const char *seed, size_t want,
	    struct ml_buf *out, size_t *drawn, size_t *count, struct ml_err *e)
{
	json_error_t je;
	json_t *doc, *pop, *items, *sel = NULL, *res = NULL;
	struct ml_audit_ref *refs = NULL;
	size_t n, i, picked = 0, *pick = NULL;
	uint8_t dg[ML_SHA256_LEN];
	char hex[65];
	json_int_t cn;
	int rc = ML_OK;

	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!doc)
		return ml_err_set(e, ML_EINPUT, "%s: line %d: %s", path, je.line, je.text);
	pop = json_object_get(doc, "population");
	items = json_object_get(doc, "items");
	if (!json_is_object(pop) || !json_is_array(items) ||
	    !json_is_integer(json_object_get(pop, "count"))) {
		rc = ml_err_set(e, ML_EINPUT, "%s: expected {\"population\": {...}, \"items\": "
				"[...]} as mlledger population writes it", path);
		goto out;
	}
	n = json_array_size(items);
	if (n > ML_AUDIT_ROWS_MAX) {
		rc = ml_err_set(e, ML_EINPUT, "%s: more than %d items", path, ML_AUDIT_ROWS_MAX);
		goto out;
	}
	if (!(refs = calloc(n + 1, sizeof *refs)) || !(pick = calloc(n + 1, sizeof *pick))) {
		rc = ml_err_set(e, ML_EIO, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		json_t *it = json_array_get(items, i), *s = json_object_get(it, "seq");
		const char *lh = json_string_value(json_object_get(it, "leafHash"));
		if (!json_is_integer(s) || json_integer_value(s) < 0 || !lh ||
		    parse_leaf(lh, refs[i].leaf) != 0 ||
		    (i && (uint64_t)json_integer_value(s) <= refs[i - 1].seq)) {
			rc = ml_err_set(e, ML_EINPUT, "%s: item %zu: expected seq (ascending) and "
					"leafHash sha256:HEX", path, i);
			goto out;
		}
		refs[i].seq = (uint64_t)json_integer_value(s);
	}
	cn = json_integer_value(json_object_get(pop, "count"));
	if ((rc = check_claims(path, refs, n, cn < 0 ? UINT64_MAX : (uint64_t)cn,
			       json_string_value(json_object_get(pop, "digest")), e)))
		goto out;
	if ((rc = ml_audit_draw(refs, n, seed, want, pick, &picked, e)))
		goto out;
	if (!(sel = json_array())) {
		rc = ml_err_set(e, ML_EIO, "out of memory");
		goto out;
	}
	for (i = 0; i < picked; i++) {
		json_array_append(sel, json_array_get(items, pick[i]));
		refs[i] = refs[pick[i]]; /* pick is ascending: i <= pick[i] */
	}
	ml_audit_digest(refs, picked, dg);
	ml_hex_encode(dg, ML_SHA256_LEN, hex);
	res = json_pack("{s:{s:s, s:O, s:I, s:s, s:s, s:I, s:I, s:s+, s:b}, s:O, s:O}", "sample",
			"format", "mlledger-sample/v1", "population",
			json_object_get(pop, "digest"), "populationCount", (json_int_t)n,
			"algorithm", "sha256-rank/v1", "seed", seed, "n", (json_int_t)want,
			"count", (json_int_t)picked, "digest", "sha256:", hex, "everyItem",
			want >= n, "scope", pop, "items", sel);
	{
		char *s = res ? json_dumps(res, JSON_INDENT(2)) : NULL;
		if (!s) {
			rc = ml_err_set(e, ML_EIO, "out of memory");
			goto out;
		}
		ml_buf_puts(out, s);
		ml_buf_puts(out, "\n");
		free(s);
	}
	*drawn = picked;
	*count = n;
out:
	json_decref(res);
	json_decref(sel);
	json_decref(doc);
	free(refs);
	free(pick);
	return rc;
}

int
ml_audit_sample(const char *path, const char *seed, size_t n, struct ml_buf *out,
		size_t *drawn, size_t *count, struct ml_err *e)
{
	char *text;
	size_t len, i = 0;
	int rc;

	if (!ml_audit_seed_valid(seed))
		return ml_err_set(e, ML_EINPUT, "--seed: 1-128 printable ASCII characters, no "
				  "space");
	if ((rc = ml_read_file(path, ML_AUDIT_FILE_MAX, &text, &len, e)))
		return rc;
	if (memchr(text, '\0', len)) {
		free(text);
		return ml_err_set(e, ML_EINPUT, "%s: holds a NUL byte", path);
	}
	while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t'))
		i++;
	if (i < len && text[i] == '{')
		rc = sample_json(path, text, len, seed, n, out, drawn, count, e);
	else
		rc = sample_csv(path, text, len, seed, n, out, drawn, count, e);
	free(text);
	return rc;
}

/* ---- trace ------------------------------------------------------------------ */

struct chain {
	const struct ml_audit *a;
	struct ml_ledger *l;
	json_t *nodes;
	uint8_t *seen; /* one byte per entry */
	struct ml_err *e;
	int rc;
};

static json_t *
node_of(struct chain *c, const struct ml_audit_item *it, const char *relation)
{
	struct ml_buf proof = {0};
	json_t *o = item_json(it);
	int rc;

	if (!o) {
		c->rc = ml_err_set(c->e, ML_EIO, "out of memory");
		return NULL;
	}
	json_object_set_new(o, "relation", json_string(relation));
	rc = ml_tlog_prove(c->l, it->seq, (int64_t)c->a->size, &proof, c->e);
	if (rc == ML_OK && proof.oom)
		rc = ml_err_set(c->e, ML_EIO, "out of memory");
	if (rc == ML_OK) {
		ml_buf_append(&proof, "", 1);
		json_object_set_new(o, "proof", json_string((const char *)proof.data));
	} else {
		c->rc = rc;
	}
	ml_buf_free(&proof);
	return o;
}

static void
add(struct chain *c, const struct ml_audit_item *it, const char *relation)
{
	json_t *o;

	if (c->rc || c->seen[it->seq])
		return;
	c->seen[it->seq] = 1;
	if ((o = node_of(c, it, relation)) && json_array_append_new(c->nodes, o))
		c->rc = ml_err_set(c->e, ML_EIO, "out of memory");
}

/* Every entry of kind about name@version (in env when env is set), with seq
 * in [lo, hi). */
static void
add_about(struct chain *c, enum ml_kind kind, const struct ml_audit_item *of, const char *env,
	  uint64_t lo, uint64_t hi, const char *relation)
{
	size_t i;

	for (i = lo; i < c->a->n && i < hi && !c->rc; i++) {
		const struct ml_audit_item *it = &c->a->items[i];
		if (it->kind == kind && !strcmp(it->subject, of->subject) &&
		    (!env || !strcmp(it->env, env)))
			add(c, it, relation);
	}
}

static const struct ml_audit_item *
model_of(const struct ml_audit *a, const char *subject, uint64_t before)
{
	size_t i;

	for (i = 0; i < a->n && i < before; i++)
		if (a->items[i].kind == ML_KIND_MODEL && !strcmp(a->items[i].subject, subject))
			return &a->items[i];
	return NULL;
}

static void
add_model(struct chain *c, const struct ml_audit_item *it)
{
	const struct ml_audit_item *m = it->kind == ML_KIND_MODEL ? it
					: model_of(c->a, it->subject, it->seq);
	size_t i, j;

	if (!m)
		return;
	add(c, m, "model");
	for (j = 0; j < m->ndatasets; j++)
		for (i = 0; i < m->seq && !c->rc; i++)
			if (c->a->items[i].kind == ML_KIND_DATASET &&
			    !strcmp(c->a->items[i].subject, m->datasets[j]))
				add(c, &c->a->items[i], "dataset");
}

static void
add_gates(struct chain *c, const struct ml_audit_item *of, const char *env, uint64_t hi)
{
	size_t i, j;

	for (i = 0; i < c->a->n && i < hi && !c->rc; i++) {
		const struct ml_audit_item *g = &c->a->items[i];
		if (g->kind != ML_KIND_GATE || strcmp(g->subject, of->subject) ||
		    (env && strcmp(g->env, env)))
			continue;
		add(c, g, "gate");
		for (j = 0; j < g->npolicy_seqs; j++) {
			const struct ml_audit_item *p = ml_audit_find(c->a, g->policy_seqs[j]);
			if (p && p->kind == ML_KIND_POLICY)
				add(c, p, "policy");
		}
	}
}

int
ml_audit_trace(const struct ml_audit *a, struct ml_ledger *l, uint64_t seq, json_t **out,
	       struct ml_err *e)
{
	const struct ml_audit_item *it = ml_audit_find(a, seq);
	struct chain c = {a, l, NULL, NULL, e, ML_OK};
	json_t *entry, *doc;
	uint64_t all = UINT64_MAX;
	size_t i, j;

	if (!it)
		return ml_err_set(e, ML_EINPUT, "no entry %llu below the checkpoint of size %llu",
				  (unsigned long long)seq, (unsigned long long)a->size);
	if (!(c.nodes = json_array()) || !(c.seen = calloc(a->n + 1, 1))) {
		json_decref(c.nodes);
		return ml_err_set(e, ML_EIO, "out of memory");
	}
	c.seen[seq] = 1;
	entry = node_of(&c, it, "entry");
	switch (it->kind) {
	case ML_KIND_DEPLOYMENT:
		add_model(&c, it);
		add_about(&c, ML_KIND_EVALUATION, it, NULL, 0, seq, "evaluation");
		add_about(&c, ML_KIND_APPROVAL, it, it->env, 0, seq, "approval");
		add_gates(&c, it, it->env, seq);
		add_about(&c, ML_KIND_WAIVER, it, NULL, 0, seq, "waiver");
		add_about(&c, ML_KIND_INCIDENT, it, NULL, 0, all, "incident");
		add_about(&c, ML_KIND_MONITORING, it, it->env, seq, all, "monitoring");
		add_about(&c, ML_KIND_RETIREMENT, it, it->env, seq, all, "retirement");
		break;
	case ML_KIND_MODEL:
		add_model(&c, it);
		add_about(&c, ML_KIND_EVALUATION, it, NULL, 0, all, "evaluation");
		add_about(&c, ML_KIND_APPROVAL, it, NULL, 0, all, "approval");
		add_gates(&c, it, NULL, all);
		add_about(&c, ML_KIND_WAIVER, it, NULL, 0, all, "waiver");
		add_about(&c, ML_KIND_DEPLOYMENT, it, NULL, 0, all, "deployment");
		add_about(&c, ML_KIND_INCIDENT, it, NULL, 0, all, "incident");
		add_about(&c, ML_KIND_MONITORING, it, NULL, 0, all, "monitoring");
		add_about(&c, ML_KIND_RETIREMENT, it, NULL, 0, all, "retirement");
		break;
	case ML_KIND_GATE:
		add_model(&c, it);
		for (j = 0; j < it->npolicy_seqs; j++) {
			const struct ml_audit_item *p = ml_audit_find(a, it->policy_seqs[j]);
			if (p && p->kind == ML_KIND_POLICY)
				add(&c, p, "policy");
		}
		add_about(&c, ML_KIND_EVALUATION, it, NULL, 0, seq, "evaluation");
		add_about(&c, ML_KIND_APPROVAL, it, it->env, 0, seq, "approval");
		add_about(&c, ML_KIND_WAIVER, it, NULL, 0, seq, "waiver");
		add_about(&c, ML_KIND_DEPLOYMENT, it, it->env, seq, all, "deployment");
		break;
	case ML_KIND_DATASET:
		for (i = seq; i < a->n && !c.rc; i++)
			for (j = 0; j < a->items[i].ndatasets; j++)
				if (!strcmp(a->items[i].datasets[j], it->subject))
					add(&c, &a->items[i], a->items[i].kind == ML_KIND_MODEL
							     ? "model" : "evaluation");
		break;
	case ML_KIND_POLICY:
		for (i = seq; i < a->n && !c.rc; i++)
			for (j = 0; j < a->items[i].npolicy_seqs; j++)
				if (a->items[i].policy_seqs[j] == seq)
					add(&c, &a->items[i], "gate");
		break;
	default:
		if (ml_kind_about_model(it->kind))
			add_model(&c, it);
		break;
	}
	free(c.seen);
	if (c.rc) {
		json_decref(entry);
		json_decref(c.nodes);
		return c.rc;
	}
	doc = json_pack("{s:{s:s, s:I, s:{s:I, s:s}, s:b}, s:o, s:o}", "trace", "origin",
			a->origin, "seq", (json_int_t)seq, "checkpoint", "size",
			(json_int_t)a->size, "root", a->root, "verified", a->verified, "entry",
			entry, "chain", c.nodes);
	if (!doc)
		return ml_err_set(e, ML_EIO, "out of memory");
	*out = doc;
	return ML_OK;
}

/* ---- reconcile ------------------------------------------------------------ */

void
ml_audit_deps_free(struct ml_audit_dep *rows, size_t n)
{
	size_t i;

	for (i = 0; rows && i < n; i++) {
		free(rows[i].env);
		free(rows[i].model);
		free(rows[i].version);
		free(rows[i].digest);
		free(rows[i].time);
	}
	free(rows);
}

enum ml_rc
ml_audit_duration_parse(const char *s, int64_t *us)
{
	char *end;
	long long v, mul = 1;

	if (!*s || *s < '0' || *s > '9' || strlen(s) > 12)
		return ML_EINPUT;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno)
		return ML_EINPUT;
	if (!strcmp(end, "s") || !*end)
		mul = 1;
	else if (!strcmp(end, "m"))
		mul = 60;
	else if (!strcmp(end, "h"))
		mul = 3600;
	else if (!strcmp(end, "d"))
		mul = 86400;
	else
		return ML_EINPUT;
	if (v > 366LL * 86400 / mul)
		return ML_EINPUT;
	*us = v * mul * 1000000;
	return ML_OK;
}

static int
version_valid(const char *v)
{
	size_t n = strlen(v), i;

	if (n < 1 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-",
			    v[i]))
			return 0;
	return 1;
}

int
ml_audit_deps_parse(const char *name, const char *text, size_t len, struct ml_audit_dep **rows,
		    size_t *n, struct ml_err *e)
{
	static const char *const hdr[] = {"environment", "model", "version", "digest", "time"};
	struct ml_audit_dep *r = NULL;
	size_t pos = 0, line = 1, nc, nl, cnt = 0, cap = 0, i;
	char *cells[8];
	const char *why;
	int rc = ML_OK;

	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		pos = 3; /* a spreadsheet's byte order mark */
	if (ml_audit_csv_record(text, len, &pos, cells, 8, &nc, &nl, &why) != 0)
		return ml_err_set(e, ML_EINPUT, "%s: line 1: %s", name, why);
	for (i = 0; i < nc && i < 5; i++)
		if (strcmp(cells[i], hdr[i]))
			break;
	ml_audit_csv_free(cells, nc);
	if (nc != 5 || i != 5)
		return ml_err_set(e, ML_EINPUT, "%s: line 1: the header must be "
				  "environment,model,version,digest,time", name);
	line += nl;
	while (pos < len) {
		struct ml_audit_dep d;
		char nm[129], vv[65], ref[300];
		uint8_t dg[ML_SHA256_LEN];
		if (ml_audit_csv_record(text, len, &pos, cells, 8, &nc, &nl, &why) != 0) {
			rc = ml_err_set(e, ML_EINPUT, "%s: line %zu: %s", name, line, why);
			goto fail;
		}
		if (nc == 1 && !cells[0][0]) { /* a blank line */
			ml_audit_csv_free(cells, nc);
			line += nl ? nl : 1;
			continue;
		}
		if (nc != 5) {
			ml_audit_csv_free(cells, nc);
			rc = ml_err_set(e, ML_EINPUT, "%s: line %zu: %zu cells, expected 5", name,
					line, nc);
			goto fail;
		}
		snprintf(ref, sizeof ref, "%s@0", cells[1]);
		why = NULL;
		if (!ml_simple_name(cells[0]))
			why = "environment: 1-64 characters of [A-Za-z0-9._-]";
		else if (strlen(cells[1]) > 128 || ml_ref_split(ref, nm, vv) != 0)
			why = "model: a model NAME ([A-Za-z0-9._/-], 1-128 characters)";
		else if (!cells[2][0] && !cells[3][0])
			why = "version and digest are both empty";
		else if (cells[2][0] && !version_valid(cells[2]))
			why = "version: 1-64 characters of [A-Za-z0-9._+-]";
		else if (cells[3][0] && parse_leaf(cells[3], dg) != 0)
			why = "digest: sha256: and 64 lowercase hex digits";
		else if (strlen(cells[4]) != 20 || cells[4][10] != 'T' ||
			 ml_time_parse(cells[4], &d.time_us) != 0)
			why = "time: YYYY-MM-DDTHH:MM:SSZ (UTC)";
		if (why) {
			ml_audit_csv_free(cells, nc);
			rc = ml_err_set(e, ML_EINPUT, "%s: line %zu: %s", name, line, why);
			goto fail;
		}
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct ml_audit_dep *nr;
			if (cnt >= ML_AUDIT_ROWS_MAX) {
				ml_audit_csv_free(cells, nc);
				rc = ml_err_set(e, ML_EINPUT, "%s: more than %d rows", name,
						ML_AUDIT_ROWS_MAX);
				goto fail;
			}
			if (!(nr = realloc(r, ncap * sizeof *nr))) {
				ml_audit_csv_free(cells, nc);
				rc = ml_err_set(e, ML_EIO, "out of memory");
				goto fail;
			}
			r = nr;
			cap = ncap;
		}
		d.line = line;
		d.env = cells[0];
		d.model = cells[1];
		d.version = cells[2];
		d.digest = cells[3];
		d.time = cells[4];
		r[cnt++] = d;
		line += nl ? nl : 1;
	}
	*rows = r;
	*n = cnt;
	return ML_OK;
fail:
	ml_audit_deps_free(r, cnt);
	return rc;
}

static json_t *
dep_json(const struct ml_audit_dep *d)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "line", (json_int_t)d->line,
			 "environment", d->env, "model", d->model, "version", d->version,
			 "digest", d->digest, "time", d->time);
}

static json_t *
ledger_dep_json(const struct ml_audit_item *it)
{
	json_t *o = item_json(it);
	char dg[72];

	memcpy(dg, "sha256:", 7);
	ml_hex_encode(it->digest, ML_SHA256_LEN, dg + 7);
	if (o) {
		json_object_set_new(o, "model", json_string(it->name));
		json_object_set_new(o, "version", json_string(it->version));
		json_object_set_new(o, "digest", json_string(dg));
	}
	return o;
}

/* Orders deployments by environment, model name, append time, seq. */
static int
key_cmp(const struct ml_audit_item *it, const char *env, const char *name, int64_t t)
{
	int c = strcmp(it->env, env);

	if (!c)
		c = strcmp(it->name, name);
	if (!c)
		c = it->append_us < t ? -1 : it->append_us > t;
	return c;
}

static int
by_env_name_time(const void *x, const void *y)
{
	const struct ml_audit_item *a = *(const struct ml_audit_item *const *)x;
	const struct ml_audit_item *b = *(const struct ml_audit_item *const *)y;
	int c = key_cmp(a, b->env, b->name, b->append_us);

	return c ? c : (a->seq < b->seq ? -1 : a->seq > b->seq);
}

int
ml_audit_reconcile(const struct ml_audit *a, const struct ml_audit_dep *rows, size_t n,
		   int64_t tolerance_us, int64_t from_us, int64_t to_us, json_t **out,
		   size_t *differences, struct ml_err *e)
{
	json_t *matched = json_array(), *pon = json_array(), *lon = json_array(), *doc;
	uint8_t *used = calloc(a->n + 1, 1);
	const struct ml_audit_item **dep = NULL;
	size_t i, j, k, diff = 0, nled = 0, ndep = 0;
	char f[21], t[21];

	if (!matched || !pon || !lon || !used)
		goto oom;
	if (from_us < 0 || to_us < 0) {
		int64_t lo = INT64_MAX, hi = INT64_MIN;
		for (i = 0; i < n; i++) {
			lo = rows[i].time_us < lo ? rows[i].time_us : lo;
			hi = rows[i].time_us > hi ? rows[i].time_us : hi;
		}
		if (from_us < 0)
			from_us = n ? lo - tolerance_us : 0;
		if (to_us < 0)
			to_us = n ? hi + tolerance_us + 1 : 0;
	}
	/* the deployments sorted by (environment, name, append time): each row
	 * looks at its own model's deployments within the tolerance only */
	for (j = 0; j < a->n; j++)
		ndep += a->items[j].kind == ML_KIND_DEPLOYMENT;
	if (!(dep = calloc(ndep + 1, sizeof *dep)))
		goto oom;
	for (j = 0, k = 0; j < a->n; j++)
		if (a->items[j].kind == ML_KIND_DEPLOYMENT)
			dep[k++] = &a->items[j];
	qsort(dep, ndep, sizeof *dep, by_env_name_time);
	for (i = 0; i < n; i++) {
		const struct ml_audit_dep *d = &rows[i];
		const struct ml_audit_item *best = NULL;
		int64_t bestd = INT64_MAX;
		size_t lo = 0, hi = ndep;
		char dg[72];
		while (lo < hi) { /* the first at or after (env, model, time - tolerance) */
			size_t mid = lo + (hi - lo) / 2;
			if (key_cmp(dep[mid], d->env, d->model, d->time_us - tolerance_us) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (j = lo; j < ndep; j++) {
			const struct ml_audit_item *it = dep[j];
			int64_t dt;
			if (strcmp(it->env, d->env) || strcmp(it->name, d->model) ||
			    it->append_us > d->time_us + tolerance_us)
				break;
			if (used[it->seq] || (d->version[0] && strcmp(it->version, d->version)))
				continue;
			memcpy(dg, "sha256:", 7);
			ml_hex_encode(it->digest, ML_SHA256_LEN, dg + 7);
			if (d->digest[0] && strcmp(dg, d->digest))
				continue;
			dt = it->append_us - d->time_us;
			dt = dt < 0 ? -dt : dt;
			if (dt < bestd) {
				best = it;
				bestd = dt;
			}
		}
		if (best) {
			json_t *m = ledger_dep_json(best);
			used[best->seq] = 1;
			if (!m || json_object_set_new(m, "line", json_integer((json_int_t)d->line)) ||
			    json_object_set_new(m, "platformTime", json_string(d->time)) ||
			    json_array_append_new(matched, m))
				goto oom;
		} else {
			diff++;
			if (json_array_append_new(pon, dep_json(d)))
				goto oom;
		}
	}
	for (j = 0; j < a->n; j++) {
		const struct ml_audit_item *it = &a->items[j];
		if (it->kind != ML_KIND_DEPLOYMENT || it->append_us < from_us ||
		    it->append_us >= to_us)
			continue;
		nled++;
		if (used[j])
			continue;
		diff++;
		if (json_array_append_new(lon, ledger_dep_json(it)))
			goto oom;
	}
	free(used);
	free(dep);
	ml_time_format(from_us, f);
	ml_time_format(to_us, t);
	doc = json_pack("{s:{s:s, s:{s:I, s:s}, s:b, s:s, s:s, s:s, s:I, s:I, s:I, s:I}, s:o, "
			"s:o, s:o}", "scope", "origin", a->origin, "checkpoint", "size",
			(json_int_t)a->size, "root", a->root, "verified", a->verified, "from", f,
			"to", t, "basis", "appendTime", "toleranceSeconds",
			(json_int_t)(tolerance_us / 1000000), "platformRows", (json_int_t)n,
			"ledgerDeployments", (json_int_t)nled, "differences", (json_int_t)diff,
			"matched", matched, "platformOnly", pon, "ledgerOnly", lon);
	if (!doc)
		return ml_err_set(e, ML_EIO, "out of memory");
	*out = doc;
	*differences = diff;
	return ML_OK;
oom:
	free(used);
	free(dep);
	json_decref(matched);
	json_decref(pon);
	json_decref(lon);
	return ml_err_set(e, ML_EIO, "out of memory");
}
