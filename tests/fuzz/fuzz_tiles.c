/* fuzz_tiles — tlog-tiles paths (ml_tile_parse) and entry bundles
 * (ml_bundle_next), both of which a server or a client reads from the
 * other side.  Input: the first byte picks the parser, the rest is the path
 * or the bundle.  Properties: a parsed path formats back to exactly the
 * bytes parsed (so each tile has one URL) and has a valid width and level;
 * the bundle reader stays inside the input, yields at most 256 non-empty
 * entries whose lengths and prefixes add up to what it consumed, and,
 * once it reports an error, keeps reporting it. */
#include "fuzz.h"

#include "tiles.h"

static void
fuzz_path(const uint8_t *data, size_t size)
{
	struct ml_tile t;
	char buf[ML_TILE_PATH_MAX];

	if (ml_tile_parse((const char *)data, size, &t) != ML_OK)
		return;
	FZ_ASSERT(t.width >= 1 && t.width <= ML_TILE_WIDTH);
	FZ_ASSERT(t.level <= ML_TILE_LEVEL_MAX && (!t.entries || t.level == 0));
	FZ_ASSERT(ml_tile_format(&t, buf, sizeof buf) == ML_OK);
	FZ_ASSERT(strlen(buf) == size && memcmp(buf, data, size) == 0);
}

static void
fuzz_bundle(const uint8_t *data, size_t size)
{
	struct ml_bundle_iter it;
	const uint8_t *entry;
	size_t elen, used = 0, n = 0;
	int r;

	ml_bundle_iter_init(&it, data, size);
	while ((r = ml_bundle_next(&it, &entry, &elen)) == ML_OK && entry) {
		FZ_ASSERT(elen >= 1 && elen <= ML_TILE_ENTRY_MAX);
		FZ_ASSERT(entry >= data + 2 && entry + elen <= data + size);
		FZ_ASSERT(entry == data + used + 2);
		used += 2 + elen;
		n++;
		FZ_ASSERT(n <= ML_TILE_WIDTH);
	}
	if (r == ML_OK)
		FZ_ASSERT(used == size);
	else
		FZ_ASSERT(r == ML_EINPUT && ml_bundle_next(&it, &entry, &elen) == ML_EINPUT);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_bundle(data + 1, size - 1);
	else
		fuzz_path(data + 1, size - 1);
	return 0;
}
