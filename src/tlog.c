/* tlog — see tlog.h. */
#include "tlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "note_cosig.h"
#include "note_proof.h"
#include "store.h"

static int
ledger_size(struct ml_ledger *l, uint64_t *size, struct ml_err *e)
{
	uint8_t last[ML_SHA256_LEN];
	int64_t t;

	return ml_store_head(ml_ledger_store(l), size, last, &t, e);
}

int
ml_tlog_root(struct ml_ledger *l, uint64_t n, uint8_t root[ML_SHA256_LEN], struct ml_err *e)
{
	struct ml_store_nodes ctx = {ml_ledger_store(l), e};
	uint64_t size;
	int rc;

	if ((rc = ledger_size(l, &size, e)))
		return rc;
	if (n > size)
		return ml_err_set(e, ML_EINPUT, "the ledger has %llu entries, not %llu",
				  (unsigned long long)size, (unsigned long long)n);
	if (ml_merkle_root(ml_store_node_read, &ctx, n, root) != 0)
		return e->code ? e->code : ML_EIO;
	return ML_OK;
}

int
ml_tlog_checkpoint(struct ml_ledger *l, int64_t n, uint64_t *size, char **note,
		   struct ml_err *e)
{
	return ml_store_checkpoint_get(ml_ledger_store(l), n, size, note, e);
}

int
ml_tlog_prove(struct ml_ledger *l, uint64_t seq, int64_t n, struct ml_buf *out,
	      struct ml_err *e)
{
	struct ml_store_nodes ctx = {ml_ledger_store(l), e};
	uint8_t proof[ML_PROOF_MAX][ML_SHA256_LEN];
	uint64_t size;
	size_t len;
	char *note = NULL;
	int rc;

	if ((rc = ml_tlog_checkpoint(l, n, &size, &note, e)))
		return rc;
	if (seq >= size) {
		free(note);
		return ml_err_set(e, ML_EINPUT, "entry %llu is not in the tree of size %llu",
				  (unsigned long long)seq, (unsigned long long)size);
	}
	ml_err_clear(e);
	if (ml_merkle_inclusion(ml_store_node_read, &ctx, seq, size, proof, &len) != 0) {
		free(note);
		return e->code ? e->code : ml_err_set(e, ML_EIO, "cannot build the proof");
	}
	ml_tlog_proof_format(seq, NULL, 0, (const uint8_t(*)[ML_SHA256_LEN])proof, len, note,
			     strlen(note), out);
	free(note);
	return out->oom ? ml_err_set(e, ML_EIO, "out of memory") : ML_OK;
}

int
ml_tlog_consistency(struct ml_ledger *l, uint64_t m, int64_t n, uint64_t *to,
		    uint8_t proof[][ML_SHA256_LEN], size_t *len, struct ml_err *e)
{
	struct ml_store_nodes ctx = {ml_ledger_store(l), e};
	uint64_t size;
	int rc;

	if ((rc = ledger_size(l, &size, e)))
		return rc;
	if (n >= 0) {
		if ((uint64_t)n > size)
			return ml_err_set(e, ML_EINPUT, "the ledger has %llu entries, not %lld",
					  (unsigned long long)size, (long long)n);
		size = (uint64_t)n;
	}
	if (m == 0 || m > size)
		return ml_err_set(e, ML_EINPUT, "old size must be 1 to %llu",
				  (unsigned long long)size);
	ml_err_clear(e);
	if (ml_merkle_consistency(ml_store_node_read, &ctx, m, size, proof, len) != 0)
		return e->code ? e->code : ml_err_set(e, ML_EIO, "cannot build the proof");
	*to = size;
	return ML_OK;
}

int
ml_tlog_included(struct ml_ledger *l, uint64_t seq, uint64_t size,
		 const uint8_t leaf[ML_SHA256_LEN], const uint8_t root[ML_SHA256_LEN],
		 struct ml_err *e)
{
	struct ml_store_nodes ctx = {ml_ledger_store(l), e};
	uint8_t proof[ML_PROOF_MAX][ML_SHA256_LEN];
	size_t len;

	ml_err_clear(e);
	if (ml_merkle_inclusion(ml_store_node_read, &ctx, seq, size, proof, &len) != 0) {
		if (e->code && e->code != ML_EINTEGRITY)
			return e->code;
		return ml_err_set(e, ML_EINTEGRITY, "no inclusion proof for entry %llu",
				  (unsigned long long)seq);
	}
	if (!ml_merkle_verify_inclusion(leaf, seq, size,
					(const uint8_t(*)[ML_SHA256_LEN])proof, len, root))
		return ml_err_set(e, ML_EINTEGRITY, "entry %llu is not in the tree of size %llu",
				  (unsigned long long)seq, (unsigned long long)size);
	return ML_OK;
}

static void
report_hashes(struct ml_buf *r, const uint8_t proof[][ML_SHA256_LEN], size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char *b = ml_b64_encode(proof[i], ML_SHA256_LEN);
		ml_buf_printf(r, "%s\n", b ? b : "?");
		free(b);
	}
}

int
ml_tlog_check(struct ml_ledger *l, const char *note, size_t len, struct ml_checkpoint *seen,
	      struct ml_buf *report, struct ml_err *e)
{
	struct ml_pubkey logkey;
	struct ml_note n;
	struct ml_checkpoint c;
	uint8_t root[ML_SHA256_LEN];
	uint64_t size, latest_size;
	char *latest = NULL;
	bool signed_ok;
	int rc;

	if (ml_pubkey_parse(ml_ledger_logkey(l), strlen(ml_ledger_logkey(l)), &logkey, e))
		return ml_err_set(e, ML_EINTEGRITY, "meta log_key is not a verifier key");
	if ((rc = ml_note_parse(note, len, &n, e)))
		return ml_err_prefix(e, ML_EINPUT, "checkpoint");
	rc = ml_checkpoint_parse(n.text, n.text_len, &c, e);
	if (rc) {
		ml_note_clear(&n);
		return ml_err_prefix(e, ML_EINPUT, "checkpoint");
	}
	if (strcmp(c.origin, ml_ledger_origin(l)) != 0) {
		ml_note_clear(&n);
		return ml_err_set(e, ML_EINTEGRITY, "the checkpoint is of another log (origin "
				  "%.100s, this ledger's is %.100s): the log was replaced, or "
				  "the checkpoint is not of this ledger", c.origin,
				  ml_ledger_origin(l));
	}
	signed_ok = ml_note_verify(&n, &logkey);
	ml_note_clear(&n);
	if (seen)
		*seen = c;
	if (!signed_ok)
		return ml_err_set(e, ML_EINTEGRITY, "the checkpoint of size %llu is not signed by "
				  "this ledger's log key: the log was replaced (rebuilt with "
				  "another key), or the checkpoint is forged",
				  (unsigned long long)c.size);
	if ((rc = ledger_size(l, &size, e)) ||
	    (rc = ml_tlog_checkpoint(l, -1, &latest_size, &latest, e)))
		return rc;
	if (c.size > size) {
		if (report) {
			ml_buf_printf(report, "held checkpoint:\n%.*s\nledger's latest checkpoint:\n%s",
				      (int)len, note, latest);
		}
		free(latest);
		ml_err_set(e, ML_EINTEGRITY, "the ledger has %llu entries but a checkpoint "
			   "signed by its log key has %llu: it was truncated or rolled back",
			   (unsigned long long)size, (unsigned long long)c.size);
		e->seq = (long long)size; /* the first entry missing */
		return ML_EINTEGRITY;
	}
	if ((rc = ml_tlog_root(l, c.size, root, e))) {
		free(latest);
		return rc;
	}
	if (memcmp(root, c.root, ML_SHA256_LEN) != 0) {
		if (report) {
			char *mine = NULL;
			uint64_t got;
			uint8_t proof[ML_PROOF_MAX][ML_SHA256_LEN];
			size_t plen = 0;
			uint64_t to;
			struct ml_err e2;
			ml_buf_printf(report, "held checkpoint:\n%.*s\n", (int)len, note);
			if (ml_tlog_checkpoint(l, (int64_t)c.size, &got, &mine, &e2) == ML_OK)
				ml_buf_printf(report, "ledger's checkpoint of the same size:\n%s\n", mine);
			ml_buf_printf(report, "ledger's latest checkpoint:\n%s\n", latest);
			if (c.size > 0 && ml_tlog_consistency(l, c.size, -1, &to, proof, &plen,
							      &e2) == ML_OK) {
				ml_buf_printf(report, "consistency proof from %llu to %llu (it proves "
					      "the ledger's own tree, not the held one):\n",
					      (unsigned long long)c.size, (unsigned long long)to);
				report_hashes(report, (const uint8_t(*)[ML_SHA256_LEN])proof, plen);
			}
			free(mine);
		}
		free(latest);
		return ml_err_set(e, ML_EINTEGRITY, "the ledger's tree of size %llu has another "
				  "root than a checkpoint signed by its log key: the log forked "
				  "(history rewritten)", (unsigned long long)c.size);
	}
	free(latest);
	return ML_OK;
}

int
ml_tlog_verify_proof(const struct ml_pubkey *logkey, const char *bundle, size_t blen,
		     const uint8_t *leaf, size_t leaf_len, uint64_t *index, struct ml_err *e)
{
	struct ml_tlog_proof p;
	struct ml_sha256_ctx *c;
	uint8_t h[ML_SHA256_LEN];
	int rc = ML_OK;

	if (ml_tlog_proof_parse(bundle, blen, &p, e))
		return ml_err_prefix(e, ML_EINPUT, "proof");
	/* C2SP: the log key's name is the log's origin. */
	if (strcmp(p.checkpoint.origin, logkey->name) != 0) {
		rc = ml_err_set(e, ML_EINTEGRITY, "the checkpoint is of log %.100s, not %s",
				p.checkpoint.origin, logkey->name);
		goto out;
	}
	if (!ml_note_verify(&p.note, logkey)) {
		rc = ml_err_set(e, ML_EINTEGRITY, "the checkpoint is not signed by %s",
				logkey->name);
		goto out;
	}
	if (!(c = ml_sha256_new())) {
		rc = ml_err_set(e, ML_EIO, "out of memory");
		goto out;
	}
	ml_sha256_update(c, "\0", 1);
	ml_sha256_update(c, leaf, leaf_len);
	ml_sha256_final(c, h);
	if (!ml_merkle_verify_inclusion(h, p.index, p.checkpoint.size,
					(const uint8_t(*)[ML_SHA256_LEN])p.hashes, p.nhashes,
					p.checkpoint.root)) {
		rc = ml_err_set(e, ML_EINTEGRITY, "the leaf is not entry %llu of the tree of size "
				"%llu", (unsigned long long)p.index,
				(unsigned long long)p.checkpoint.size);
		goto out;
	}
	*index = p.index;
out:
	ml_tlog_proof_clear(&p);
	return rc;
}

int
ml_tlog_hashes_parse(const char *text, size_t len, uint8_t out[][ML_SHA256_LEN], size_t *n,
		     struct ml_err *e)
{
	size_t off = 0, count = 0, lineno = 0;

	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t end;
		lineno++;
		if (!nl)
			return ml_err_set(e, ML_EINPUT, "line %zu: no newline at its end", lineno);
		end = (size_t)(nl - text);
		if (count == ML_PROOF_MAX)
			return ml_err_set(e, ML_EINPUT, "more than %d hashes", ML_PROOF_MAX);
		if (ml_b64_decode_exact(text + off, end - off, out[count], ML_SHA256_LEN) != 0)
			return ml_err_set(e, ML_EINPUT, "line %zu: not a base64 SHA-256 hash",
					  lineno);
		count++;
		off = end + 1;
	}
	*n = count;
	return ML_OK;
}

int
ml_tlog_note_of(const struct ml_pubkey *logkey, const char *bytes, size_t len,
		struct ml_checkpoint *out, struct ml_err *e)
{
	return ml_checkpoint_open(logkey, bytes, len, out, e);
}

/* Short display of a root: the first 12 base64 characters. */
static void
root_show(const uint8_t root[ML_SHA256_LEN], char buf[16])
{
	char *b = ml_b64_encode(root, ML_SHA256_LEN);

	snprintf(buf, 16, "%.12s", b ? b : "?");
	free(b);
}

int
ml_tlog_consistent(const struct ml_checkpoint *old, const struct ml_checkpoint *new,
		   const uint8_t proof[][ML_SHA256_LEN], size_t len, struct ml_err *e)
{
	char ro[16], rn[16];

	root_show(old->root, ro);
	root_show(new->root, rn);
	if (strcmp(old->origin, new->origin) != 0)
		return ml_err_set(e, ML_EINTEGRITY, "the checkpoints are of two logs (%.100s and "
				  "%.100s)", old->origin, new->origin);
	if (new->size < old->size)
		return ml_err_set(e, ML_EINTEGRITY, "size %llu (root %s...) is smaller than size "
				  "%llu (root %s...): a rollback",
				  (unsigned long long)new->size, rn,
				  (unsigned long long)old->size, ro);
	if (new->size == old->size && memcmp(new->root, old->root, ML_SHA256_LEN) != 0)
		return ml_err_set(e, ML_EINTEGRITY, "size %llu has two roots (%s... and %s...): "
				  "the log forked", (unsigned long long)new->size, ro, rn);
	if (!ml_merkle_verify_consistency(old->size, new->size, old->root, new->root, proof,
					  len))
		return ml_err_set(e, ML_EINTEGRITY, "the proof does not show that size %llu "
				  "(root %s...) is a prefix of size %llu (root %s...): a fork, "
				  "or a proof for other sizes", (unsigned long long)old->size,
				  ro, (unsigned long long)new->size, rn);
	return ML_OK;
}

int
ml_tlog_verify_consistency(const struct ml_pubkey *logkey, const char *old, size_t oldlen,
			   const char *new, size_t newlen,
			   const uint8_t proof[][ML_SHA256_LEN], size_t len,
			   struct ml_checkpoint *oldcp, struct ml_checkpoint *newcp,
			   struct ml_err *e)
{
	struct ml_checkpoint o, n;
	int rc;

	if ((rc = ml_tlog_note_of(logkey, old, oldlen, &o, e)))
		return ml_err_prefix(e, rc, "old");
	if ((rc = ml_tlog_note_of(logkey, new, newlen, &n, e)))
		return ml_err_prefix(e, rc, "new");
	if ((rc = ml_tlog_consistent(&o, &n, proof, len, e)))
		return rc;
	if (oldcp)
		*oldcp = o;
	if (newcp)
		*newcp = n;
	return ML_OK;
}

int
ml_tlog_witness_step(const struct ml_checkpoint *state, const struct ml_checkpoint *next,
		     int have_proof, const uint8_t proof[][ML_SHA256_LEN], size_t len,
		     struct ml_err *e)
{
	if (!state)
		return ML_OK;
	if (next->size > state->size && !have_proof)
		return ml_err_set(e, ML_EINPUT, "size %llu is larger than the last cosigned "
				  "size %llu: give --proof FILE (mlledger prove --consistency "
				  "%llu --size %llu)", (unsigned long long)next->size,
				  (unsigned long long)state->size,
				  (unsigned long long)state->size,
				  (unsigned long long)next->size);
	if (next->size == state->size && memcmp(next->root, state->root, ML_SHA256_LEN) == 0)
		return ML_OK; /* the same checkpoint again (any proof is ignored) */
	return ml_tlog_consistent(state, next, proof, len, e);
}

/* The names of a note's cosignature-shaped lines other than the origin's
 * (not checked: without a trust policy nobody knows the witnesses' keys). */
static void
cosig_names(const struct ml_checkpoint *cp, const struct ml_note *n, char *list, size_t cap)
{
	size_t i, used = 0;
	uint64_t ts;

	list[0] = '\0';
	for (i = 0; i < n->nsigs; i++) {
		const struct ml_note_sig *sg = &n->sigs[i];
		if (!strcmp(sg->name, cp->origin) || ml_cosig_timestamp(sg, &ts) != 0 ||
		    !ml_text_valid(sg->name, sg->name_len, ""))
			continue;
		if (used + sg->name_len + 3 < cap)
			used += (size_t)snprintf(list + used, cap - used, "%s%s",
						 used ? ", " : "", sg->name);
	}
}

int
ml_tlog_check_held(struct ml_ledger *l, const char *note, size_t len,
		   const struct ml_trust *pol, const struct ml_trust_clock *clk,
		   struct ml_tlog_held *out, struct ml_buf *report, struct ml_err *e)
{
	struct ml_tlog_held h;
	struct ml_trust_seen ps;
	struct ml_note n;
	char why[512] = "";
	int rc;

	memset(&h, 0, sizeof h);
	if ((rc = ml_tlog_check(l, note, len, &h.cp, report, e)) ||
	    (rc = ml_note_parse(note, len, &n, e)))
		return rc;
	if (pol) {
		if (!ml_trust_check_at(pol, &n, clk, &ps, why, sizeof why)) {
			rc = ml_err_set(e, ML_EINTEGRITY, "the trust policy is not met: %s", why);
		} else {
			snprintf(h.witnesses, sizeof h.witnesses, "%s", ps.names);
			h.newest = ps.newest;
			h.checked = 1;
		}
	} else {
		cosig_names(&h.cp, &n, h.witnesses, sizeof h.witnesses);
	}
	ml_note_clear(&n);
	if (rc == ML_OK)
		*out = h;
	return rc;
}
