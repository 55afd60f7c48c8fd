/* tiles — C2SP tlog-tiles over the ledger: the paths of hash tiles and
 * entry bundles (strict parse and format), building a tile or bundle from
 * the stored tree, and reading an entry bundle back (for clients).
 *
 *   tile/<L>/<N>[.p/<W>]          hash tile: hash i is the Merkle node at
 *                                 level 8L, index N*256 + i (level 0: the
 *                                 entries' leaf hashes)
 *   tile/entries/<N>[.p/<W>]      entry bundle: per entry N*256 + i, a
 *                                 big-endian uint16 length, then its leaf
 *                                 bytes (ledger/FORMAT.md §4)
 *
 * <N> is written in zero-padded 3-digit groups, all but the last prefixed
 * with 'x' (1234067 -> x001/x234/067); <L> is 0..63 and <W> 1..255, both
 * without leading zeros.  A full tile has width 256 and no ".p/".
 *
 * Parsing and the bundle reader are pure (no I/O) and bounded.
 * May call store, chain, util.
 */
#ifndef ML_TILES_H
#define ML_TILES_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "util.h"

#define ML_TILE_WIDTH 256     /* hashes (entries) in a full tile (bundle) */
#define ML_TILE_HEIGHT 8      /* levels of the tree one tile spans */
#define ML_TILE_LEVEL_MAX 63  /* largest <L> */
#define ML_TILE_PATH_MAX 96   /* bytes of any valid path, NUL included */
/* Largest leaf bytes an entry bundle can carry (uint16 length), and so the
 * largest envelope a served ledger accepts: 65,535 - ML_LEAF_HEADER. */
#define ML_TILE_ENTRY_MAX 65535
#define ML_TILE_ENVELOPE_MAX (ML_TILE_ENTRY_MAX - 53)

/* One tile or entry bundle. */
struct ml_tile {
	int entries;       /* 1: tile/entries/...; 0: a hash tile */
	unsigned level;    /* <L> of a hash tile (0..63); 0 for an entry bundle */
	uint64_t index;    /* <N> */
	unsigned width;    /* 1..256; 256 is a full tile */
};

/* Parses a path relative to the log's base URL, without a leading '/'
 * ("tile/0/x001/234.p/7"), of len bytes (no NUL needed).  ML_OK and *out
 * set, or ML_EINPUT (no message; the server answers 404) for anything not
 * exactly in the form above: leading zeros, groups of other than 3 digits,
 * an N beyond 2^64-1, W 0 or >= 256, L > 63, trailing bytes, ... */
int ml_tile_parse(const char *path, size_t len, struct ml_tile *out);
/* Writes t's path (no leading '/') into buf, NUL-terminated.  ML_EINPUT when
 * t is invalid (width 0 or > 256, level > 63, an entry bundle with level) or
 * cap is too small (ML_TILE_PATH_MAX always suffices). */
int ml_tile_format(const struct ml_tile *t, char *buf, size_t cap);

/* Nodes the tree of the given size has at tile level L (complete subtrees
 * of height 8L): size >> 8L, 0 when 8L >= 64. */
uint64_t ml_tile_nodes(unsigned level, uint64_t size);
/* True when t lies inside the tree of the given size (a full tile: its whole
 * range; a partial one: N*256 + W at most what that tree has at that
 * level), else false. */
bool ml_tile_in_tree(const struct ml_tile *t, uint64_t size);
/* The tile (level L; entries: an entry bundle, level 0) that holds node idx
 * of level 8L in the tree of the given size, with the width that tree gives
 * it.  ML_EINPUT when that node is not in the tree. */
int ml_tile_of(int entries, unsigned level, uint64_t idx, uint64_t size, struct ml_tile *out);

/* Appends the hash tile t (width * 32 bytes) of the tree of the given size
 * to out, from stored nodes.  ML_EINPUT when t is an entry bundle or not
 * inside the tree; ML_EINTEGRITY when a node is missing; ML_EIO otherwise.
 * On error out may hold part of the tile: the caller discards it. */
int ml_tile_hashes(struct ml_store *s, const struct ml_tile *t, uint64_t size,
		   struct ml_buf *out, struct ml_err *e);
/* Appends the entry bundle t of the tree of the given size to out.
 * ML_EINPUT when t is a hash tile or not inside the tree; ML_EINTEGRITY
 * when an entry's leaf bytes exceed ML_TILE_ENTRY_MAX; storage errors as
 * ml_store_entry_get.  On error out may hold part of the bundle. */
int ml_tile_entries(struct ml_store *s, const struct ml_tile *t, uint64_t size,
		    struct ml_buf *out, struct ml_err *e);

/* Reads an entry bundle: each call to ml_bundle_next yields one entry's
 * bytes (pointing into data, which the caller keeps alive). */
struct ml_bundle_iter {
	const uint8_t *data;
	size_t len, off;
	size_t count; /* entries yielded so far */
};
void ml_bundle_iter_init(struct ml_bundle_iter *it, const uint8_t *data, size_t len);
/* ML_OK and *entry, *elen set: the next entry, or *entry NULL (and *elen
 * 0) when the bundle ended cleanly; ML_EINPUT: malformed (a length running
 * past the end, an empty entry, or more than ML_TILE_WIDTH entries); the
 * iterator then stays at ML_EINPUT. */
enum ml_rc ml_bundle_next(struct ml_bundle_iter *it, const uint8_t **entry, size_t *elen);

#endif
