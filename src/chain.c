/* chain — see chain.h. */
#include "chain.h"

#include <stdlib.h>
#include <string.h>

static void
leaf_header(const struct ml_entry *en, uint8_t h[ML_LEAF_HEADER])
{
	h[0] = ML_LEAF_VERSION;
	ml_put_be64(h + 1, en->seq);
	memcpy(h + 9, en->prev, ML_SHA256_LEN);
	ml_put_be64(h + 41, (uint64_t)en->time_us);
	ml_put_be32(h + 49, (uint32_t)en->envelope_len);
}

void
ml_leaf_encode(const struct ml_entry *en, struct ml_buf *out)
{
	uint8_t h[ML_LEAF_HEADER];

	leaf_header(en, h);
	ml_buf_append(out, h, sizeof h);
	ml_buf_append(out, en->envelope, en->envelope_len);
}

void
ml_leaf_hash(const struct ml_entry *en, uint8_t out[ML_SHA256_LEN])
{
	uint8_t h[1 + ML_LEAF_HEADER];
	struct ml_sha256_ctx *c;

	h[0] = 0x00;
	leaf_header(en, h + 1);
	if (en->envelope_len <= 4096) {
		/* Small leaves: one-shot hashing is cheaper than a context. */
		uint8_t buf[1 + ML_LEAF_HEADER + 4096];
		memcpy(buf, h, sizeof h);
		memcpy(buf + sizeof h, en->envelope, en->envelope_len);
		ml_sha256(buf, sizeof h + en->envelope_len, out);
		return;
	}
	c = ml_sha256_new();
	if (!c)
		abort();
	ml_sha256_update(c, h, sizeof h);
	ml_sha256_update(c, en->envelope, en->envelope_len);
	ml_sha256_final(c, out);
}

enum ml_rc
ml_leaf_decode(const uint8_t *bytes, size_t len, struct ml_entry *en)
{
	if (len < ML_LEAF_HEADER || bytes[0] != ML_LEAF_VERSION)
		return ML_EINPUT;
	if (ml_get_be32(bytes + 49) != len - ML_LEAF_HEADER)
		return ML_EINPUT;
	en->seq = ml_get_be64(bytes + 1);
	memcpy(en->prev, bytes + 9, ML_SHA256_LEN);
	en->time_us = (int64_t)ml_get_be64(bytes + 41);
	en->envelope = bytes + ML_LEAF_HEADER;
	en->envelope_len = len - ML_LEAF_HEADER;
	return ML_OK;
}
