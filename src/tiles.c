/* tiles — see tiles.h. */
#include "tiles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"

/* A decimal 0..max (max < 2^32) without leading zeros from p[0..n). */
static enum ml_rc
parse_small(const char *p, size_t n, unsigned max, unsigned *out)
{
	uint64_t v;

	if (ml_decimal_parse(p, n, max, &v) != 0)
		return ML_EINPUT;
	*out = (unsigned)v;
	return ML_OK;
}

/* Parses <N>: groups "xDDD/" then a last "DDD", up to the end or ".p/".
 * *used receives the bytes consumed.  ML_EINPUT when malformed or too large. */
static enum ml_rc
parse_index(const char *p, size_t n, uint64_t *out, size_t *used)
{
	uint64_t v = 0;
	size_t off = 0;
	int groups = 0;

	for (;;) {
		int last = !(off < n && p[off] == 'x');
		size_t i, start = off + (last ? 0 : 1);
		unsigned g = 0;

		if (start + 3 > n)
			return ML_EINPUT;
		for (i = start; i < start + 3; i++) {
			if (p[i] < '0' || p[i] > '9')
				return ML_EINPUT;
			g = g * 10 + (unsigned)(p[i] - '0');
		}
		/* A value fits 7 groups (2^64-1 has 20 digits). */
		if (++groups > 7 || v > (UINT64_MAX - g) / 1000)
			return ML_EINPUT;
		v = v * 1000 + g;
		off = start + 3;
		if (last)
			break;
		if (off >= n || p[off] != '/')
			return ML_EINPUT;
		off++;
	}
	/* No group may be redundant: "x000/..." as the first of several is a
	 * leading zero, so the same tile would have two paths. */
	if (groups > 1 && p[1] == '0' && p[2] == '0' && p[3] == '0')
		return ML_EINPUT;
	*out = v;
	*used = off;
	return ML_OK;
}

int
ml_tile_parse(const char *path, size_t len, struct ml_tile *out)
{
	struct ml_tile t = {0};
	size_t off, used, slash;
	unsigned w;

	if (len < 5 || len >= ML_TILE_PATH_MAX || memcmp(path, "tile/", 5) != 0)
		return ML_EINPUT;
	off = 5;
	if (len - off >= 8 && memcmp(path + off, "entries/", 8) == 0) {
		t.entries = 1;
		off += 8;
	} else {
		for (slash = off; slash < len && path[slash] != '/'; slash++)
			;
		if (slash >= len ||
		    parse_small(path + off, slash - off, ML_TILE_LEVEL_MAX, &t.level))
			return ML_EINPUT;
		off = slash + 1;
	}
	if (parse_index(path + off, len - off, &t.index, &used))
		return ML_EINPUT;
	off += used;
	t.width = ML_TILE_WIDTH;
	if (off < len) {
		if (len - off < 4 || memcmp(path + off, ".p/", 3) != 0 ||
		    parse_small(path + off + 3, len - off - 3, ML_TILE_WIDTH - 1, &w) || w == 0)
			return ML_EINPUT;
		t.width = w;
	}
	/* N*256 + W must be a node index: no overflow. */
	if (t.index > (UINT64_MAX >> 8))
		return ML_EINPUT;
	*out = t;
	return ML_OK;
}

int
ml_tile_format(const struct ml_tile *t, char *buf, size_t cap)
{
	char groups[7][4];
	uint64_t v = t->index;
	size_t n = 0, off = 0, i;
	int w;

	if (t->width == 0 || t->width > ML_TILE_WIDTH || t->level > ML_TILE_LEVEL_MAX ||
	    (t->entries && t->level != 0) || cap == 0)
		return ML_EINPUT;
	do {
		snprintf(groups[n++], sizeof groups[0], "%03u", (unsigned)(v % 1000));
		v /= 1000;
	} while (v);
	if (t->entries)
		w = snprintf(buf, cap, "tile/entries/");
	else
		w = snprintf(buf, cap, "tile/%u/", t->level);
	if (w < 0 || (size_t)w >= cap)
		return ML_EINPUT;
	off = (size_t)w;
	for (i = n; i-- > 0;) {
		w = snprintf(buf + off, cap - off, "%s%s%s", i ? "x" : "", groups[i], i ? "/" : "");
		if (w < 0 || (size_t)w >= cap - off)
			return ML_EINPUT;
		off += (size_t)w;
	}
	if (t->width < ML_TILE_WIDTH) {
		w = snprintf(buf + off, cap - off, ".p/%u", t->width);
		if (w < 0 || (size_t)w >= cap - off)
			return ML_EINPUT;
	}
	return ML_OK;
}

uint64_t
ml_tile_nodes(unsigned level, uint64_t size)
{
	unsigned shift = level * ML_TILE_HEIGHT;

	return shift >= 64 ? 0 : size >> shift;
}

bool
ml_tile_in_tree(const struct ml_tile *t, uint64_t size)
{
	uint64_t have = ml_tile_nodes(t->entries ? 0 : t->level, size);

	if (t->width == 0 || t->width > ML_TILE_WIDTH || t->index > (UINT64_MAX >> 8))
		return false;
	/* N*256 + W <= have, without overflow */
	if (t->index > have / ML_TILE_WIDTH)
		return false;
	return have - t->index * ML_TILE_WIDTH >= t->width;
}

int
ml_tile_of(int entries, unsigned level, uint64_t idx, uint64_t size, struct ml_tile *out)
{
	uint64_t have, start;

	if (level > ML_TILE_LEVEL_MAX || (entries && level))
		return ML_EINPUT;
	have = ml_tile_nodes(level, size);
	if (idx >= have)
		return ML_EINPUT;
	out->entries = entries;
	out->level = level;
	out->index = idx / ML_TILE_WIDTH;
	start = out->index * ML_TILE_WIDTH;
	out->width = have - start >= ML_TILE_WIDTH ? ML_TILE_WIDTH : (unsigned)(have - start);
	return ML_OK;
}

int
ml_tile_hashes(struct ml_store *s, const struct ml_tile *t, uint64_t size,
	       struct ml_buf *out, struct ml_err *e)
{
	uint8_t h[ML_SHA256_LEN];
	unsigned i;
	int rc;

	if (t->entries || !ml_tile_in_tree(t, size))
		return ml_err_set(e, ML_EINPUT, "no such tile in the tree of size %llu",
				  (unsigned long long)size);
	for (i = 0; i < t->width; i++) {
		rc = ml_store_node_get(s, t->level * ML_TILE_HEIGHT,
				       t->index * ML_TILE_WIDTH + i, h, e);
		if (rc)
			return rc;
		ml_buf_append(out, h, sizeof h);
	}
	return out->oom ? ml_err_set(e, ML_EIO, "out of memory") : ML_OK;
}

int
ml_tile_entries(struct ml_store *s, const struct ml_tile *t, uint64_t size,
		struct ml_buf *out, struct ml_err *e)
{
	struct ml_buf leaf = {0};
	unsigned i;
	int rc = ML_OK;

	if (!t->entries || !ml_tile_in_tree(t, size))
		return ml_err_set(e, ML_EINPUT, "no such entry bundle in the tree of size %llu",
				  (unsigned long long)size);
	for (i = 0; i < t->width && rc == ML_OK; i++) {
		uint64_t seq = t->index * ML_TILE_WIDTH + i;
		uint8_t *env = NULL, lh[ML_SHA256_LEN], len[2];
		struct ml_entry en;

		if ((rc = ml_store_entry_get(s, seq, &en, &env, lh, e)))
			break;
		leaf.len = 0;
		ml_leaf_encode(&en, &leaf);
		free(env);
		if (leaf.oom) {
			rc = ml_err_set(e, ML_EIO, "out of memory");
		} else if (leaf.len > ML_TILE_ENTRY_MAX) {
			rc = ml_err_set(e, ML_EINTEGRITY, "entry %llu: %zu leaf bytes do not fit "
					"an entry bundle", (unsigned long long)seq, leaf.len);
		} else {
			len[0] = (uint8_t)(leaf.len >> 8);
			len[1] = (uint8_t)leaf.len;
			ml_buf_append(out, len, 2);
			ml_buf_append(out, leaf.data, leaf.len);
		}
	}
	ml_buf_free(&leaf);
	if (rc == ML_OK && out->oom)
		rc = ml_err_set(e, ML_EIO, "out of memory");
	return rc;
}

void
ml_bundle_iter_init(struct ml_bundle_iter *it, const uint8_t *data, size_t len)
{
	it->data = data;
	it->len = len;
	it->off = 0;
	it->count = 0;
}

enum ml_rc
ml_bundle_next(struct ml_bundle_iter *it, const uint8_t **entry, size_t *elen)
{
	size_t n;

	if (it->off == SIZE_MAX)
		return ML_EINPUT;
	if (it->off == it->len) {
		*entry = NULL;
		*elen = 0;
		return ML_OK;
	}
	if (it->len - it->off < 2 || it->count >= ML_TILE_WIDTH)
		goto bad;
	n = (size_t)it->data[it->off] << 8 | it->data[it->off + 1];
	if (n == 0 || it->len - it->off - 2 < n)
		goto bad;
	*entry = it->data + it->off + 2;
	*elen = n;
	it->off += 2 + n;
	it->count++;
	return ML_OK;
bad:
	it->off = SIZE_MAX;
	return ML_EINPUT;
}
