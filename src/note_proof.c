/* note_proof — c2sp.org/tlog-proof@v1 bundles (see note_proof.h).
 *
 * Every parser walks its input with explicit lengths (inputs need not be
 * NUL-terminated), checks a size limit first, and builds its result in
 * locals that are copied to *out only on success.
 */
#include "note_proof.h"
#include "note_int.h"

#include <stdlib.h>
#include <string.h>

#define PROOF_HEADER "c2sp.org/tlog-proof@v1"

/* ---- tlog-proof ---- */

/* Length of the RFC 6962 inclusion proof of index in a tree of size > index:
 * the levels below the point where the paths to index and to the last leaf
 * split, plus one hash for each left sibling above it. */
static size_t
inclusion_proof_len(uint64_t index, uint64_t size)
{
	uint64_t x = index ^ (size - 1), y;
	size_t inner = 0, border = 0;

	while (x) {
		inner++;
		x >>= 1;
	}
	for (y = inner < 64 ? index >> inner : 0; y; y >>= 1)
		border += (size_t)(y & 1);
	return inner + border;
}

void
ml_tlog_proof_clear(struct ml_tlog_proof *p)
{
	if (!p)
		return;
	free(p->extra);
	ml_note_clear(&p->note);
	memset(p, 0, sizeof *p);
}

int
ml_tlog_proof_parse(const char *bytes, size_t len, struct ml_tlog_proof *out,
		    struct ml_err *e)
{
	struct ml_tlog_proof *p;
	size_t off = 0, eol, want, hlen = strlen(PROOF_HEADER);
	int rc = ML_OK;

	if (len > ML_TLOG_PROOF_MAX)
		return ml_err_set(e, ML_EINPUT, "tlog-proof: longer than %d bytes",
				  ML_TLOG_PROOF_MAX);
	if (ml_note_line_end(bytes, len, 0, &eol) != 0 || eol != hlen ||
	    memcmp(bytes, PROOF_HEADER, hlen) != 0)
		return ml_err_set(e, ML_EINPUT,
				  "tlog-proof: first line is not " PROOF_HEADER);
	p = calloc(1, sizeof *p);
	if (!p)
		return ml_err_set(e, ML_EIO, "tlog-proof: out of memory");
	off = eol + 1;
	if (ml_note_line_end(bytes, len, off, &eol) != 0) {
		rc = ml_err_set(e, ML_EINPUT,
				"tlog-proof: truncated before the index line");
		goto out;
	}
	if (eol - off >= 6 && memcmp(bytes + off, "extra ", 6) == 0) {
		if (eol - off == 6 ||
		    ml_b64_decode(bytes + off + 6, eol - off - 6, &p->extra,
				  &p->extra_len) != 0) {
			rc = ml_err_set(e, ML_EINPUT,
					"tlog-proof: extra data is not non-empty base64");
			goto out;
		}
		off = eol + 1;
		if (ml_note_line_end(bytes, len, off, &eol) != 0) {
			rc = ml_err_set(e, ML_EINPUT,
					"tlog-proof: truncated before the index line");
			goto out;
		}
	}
	if (eol - off < 6 || memcmp(bytes + off, "index ", 6) != 0 ||
	    ml_decimal_parse(bytes + off + 6, eol - off - 6, INT63_MAX, &p->index) != 0) {
		rc = ml_err_set(e, ML_EINPUT,
				"tlog-proof: want \"index N\" with N decimal without "
				"leading zeros");
		goto out;
	}
	for (off = eol + 1;; off = eol + 1) {
		if (ml_note_line_end(bytes, len, off, &eol) != 0) {
			rc = ml_err_set(e, ML_EINPUT,
					"tlog-proof: truncated: no empty line before the "
					"checkpoint");
			goto out;
		}
		if (eol == off)
			break;
		if (p->nhashes == ML_TLOG_PROOF_HASHES_MAX) {
			rc = ml_err_set(e, ML_EINPUT, "tlog-proof: more than %d hashes",
					ML_TLOG_PROOF_HASHES_MAX);
			goto out;
		}
		if (ml_note_hash_decode(bytes + off, eol - off, p->hashes[p->nhashes]) != 0) {
			rc = ml_err_set(e, ML_EINPUT,
					"tlog-proof: proof line %zu is not base64 of a "
					"32-byte hash", p->nhashes + 1);
			goto out;
		}
		p->nhashes++;
	}
	off = eol + 1;
	rc = ml_note_parse(bytes + off, len - off, &p->note, e);
	if (rc != ML_OK) {
		ml_err_prefix(e, rc, "tlog-proof");
		goto out;
	}
	rc = ml_checkpoint_parse(p->note.text, p->note.text_len, &p->checkpoint, e);
	if (rc != ML_OK) {
		ml_err_prefix(e, rc, "tlog-proof");
		goto out;
	}
	if (p->index >= p->checkpoint.size) {
		rc = ml_err_set(e, ML_EINPUT,
				"tlog-proof: index %llu is not below the tree size %llu",
				(unsigned long long)p->index,
				(unsigned long long)p->checkpoint.size);
		goto out;
	}
	want = inclusion_proof_len(p->index, p->checkpoint.size);
	if (p->nhashes != want) {
		rc = ml_err_set(e, ML_EINPUT,
				"tlog-proof: %zu hashes, but the inclusion proof of "
				"index %llu in a tree of size %llu has %zu",
				p->nhashes, (unsigned long long)p->index,
				(unsigned long long)p->checkpoint.size, want);
		goto out;
	}
	*out = *p;
	free(p);
	return ML_OK;
out:
	ml_tlog_proof_clear(p);
	free(p);
	return rc;
}

void
ml_tlog_proof_format(uint64_t index, const uint8_t *extra, size_t extra_len,
		     const uint8_t hashes[][ML_SHA256_LEN], size_t n,
		     const char *note, size_t note_len, struct ml_buf *out)
{
	size_t i;

	ml_buf_puts(out, PROOF_HEADER "\n");
	if (extra_len) {
		ml_buf_puts(out, "extra ");
		ml_note_b64_append(out, extra, extra_len);
		ml_buf_puts(out, "\n");
	}
	ml_buf_printf(out, "index %llu\n", (unsigned long long)index);
	for (i = 0; i < n; i++) {
		ml_note_b64_append(out, hashes[i], ML_SHA256_LEN);
		ml_buf_puts(out, "\n");
	}
	ml_buf_puts(out, "\n");
	ml_buf_append(out, note, note_len);
}
