/* remote — the verifying client of `mlledger serve` (docs/SERVER.md).
 *
 * Everything a server says is checked here with nothing but the log's
 * verifier key the user pinned: checkpoints (signature, origin), the
 * consistency of each new checkpoint with the last one this client
 * accepted (kept per origin in a state file), the inclusion proof of every
 * append, and every entry a mirror copies (leaf hashes against the tiles,
 * the rules and signatures through ledger.h's replica, the root against a
 * signed checkpoint).  A server that shows a smaller tree than the state, a
 * tree with another root at the same size, or a proof that fails is refused
 * with ML_EINTEGRITY (fork or rollback), with a message naming both
 * checkpoints.  Keys never travel: only signed envelopes are sent.
 *
 * Errors: ML_EIO for the wire and for unexpected HTTP statuses (the message
 * names the URL, the status and the server's one-line body); submit maps
 * the statuses of POST /add to exit codes as docs/SERVER.md says.
 * May call http, tiles, tlog, ledger, retry (idempotency), statement, store,
 * note, chain, merkle, output, keys, util.
 */
#ifndef ML_REMOTE_H
#define ML_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "note.h"
#include "note_checkpoint.h"
#include "note_trust.h"
#include "util.h"

struct ml_remote;

/* A client of the server at url (a base URL without a trailing '/'; one is
 * dropped) pinned to logkey (copied).  ML_EINPUT for a URL that is not
 * http(s); ML_EIO.  *out: ml_remote_close. */
int ml_remote_open(const char *url, const struct ml_pubkey *logkey, struct ml_remote **out,
		   struct ml_err *e);
/* The same, pinned to a C2SP tlog-policy instead (ownership of pol passes
 * to the client, whatever the result): the log key is the policy's log
 * whose name is the origin of the first checkpoint the server shows (none:
 * ML_EINTEGRITY), and every checkpoint GET /checkpoint answers must also
 * satisfy the policy's quorum of witnesses (ml_trust_check_at, with this
 * machine's clock and 5 minutes of tolerance). */
int ml_remote_open_policy(const char *url, struct ml_trust *pol, struct ml_remote **out,
			  struct ml_err *e);
void ml_remote_close(struct ml_remote *r);
const char *ml_remote_url(const struct ml_remote *r);
/* https: trust the CA certificates of the PEM file at path (http.h). */
int ml_remote_cainfo(struct ml_remote *r, const char *path, struct ml_err *e);
/* fn (may be NULL) is called from the calling thread after each entry
 * bundle a mirror copies, with the entries copied so far and the target. */
void ml_remote_progress(struct ml_remote *r, void (*fn)(void *ctx, uint64_t done,
							 uint64_t total), void *ctx);

/* A checkpoint checked against the pinned key: note is malloc'd and
 * NUL-terminated (len bytes).  Free with ml_remote_ckpt_free (a zeroed
 * struct is fine). */
struct ml_remote_ckpt {
	char *note;
	size_t len;
	struct ml_checkpoint cp;
};
void ml_remote_ckpt_free(struct ml_remote_ckpt *c);

/* GET /checkpoint: signed by the pinned key, of its origin.
 * ML_EINTEGRITY when it is not (another log, another key). */
int ml_remote_checkpoint(struct ml_remote *r, struct ml_remote_ckpt *out, struct ml_err *e);

/* GET /consistency?old=&new= and RFC 9162 check that old's tree is a prefix
 * of new's (both already checked; old->size <= new->size; equal sizes need
 * no request).  ML_EINTEGRITY naming both when it is not, or when the server
 * cannot give the proof (it signed both sizes, so it must). */
int ml_remote_consistent(struct ml_remote *r, const struct ml_checkpoint *old,
			 const struct ml_checkpoint *new, struct ml_err *e);

/* What a state file update did. */
struct ml_remote_state {
	int existed;    /* the file held a checkpoint before */
	uint64_t was;   /* its size (0 when it did not exist) */
	int moved;      /* the file now holds ck */
};
/* The state file at path (already checked by the caller as a file it may
 * replace): with path.lock held (output.h's ml_state_*), reads the
 * checkpoint held (must be of the pinned log: ML_EINTEGRITY otherwise),
 * and checks ck against it: a larger ck must be consistent with it (then
 * the file is replaced by ck, atomically); the same size must have the same
 * root; a smaller ck is a rollback (ML_EINTEGRITY) when latest is set (ck
 * is the server's latest), else (ck is an older checkpoint a proof was
 * made against) it must be a prefix of the held one, and the file stays.
 * No file yet: ck is trusted on first use and written.  *out may be NULL. */
int ml_remote_state_update(struct ml_remote *r, const char *path, const struct ml_remote_ckpt *ck,
			   int latest, struct ml_remote_state *out, struct ml_err *e);

/* What POST /add answered, verified. */
struct ml_remote_added {
	uint64_t seq;
	uint8_t leaf[ML_SHA256_LEN];
	int64_t time_us;
	int existing;               /* Mlledger-Existing: 1 (a retry, a repeat) */
	unsigned attempts;          /* requests made */
	struct ml_remote_ckpt ck;   /* the checkpoint the proof is against */
};
void ml_remote_added_free(struct ml_remote_added *a);
#define ML_REMOTE_ATTEMPTS 6
/* Posts one envelope (trailing '\r' and '\n' dropped; at most
 * ML_TILE_ENVELOPE_MAX bytes, else ML_EINPUT) and verifies the answer: the
 * leaf bytes rebuilt from the envelope and the proof's extra and index are
 * included in the proof's checkpoint, signed by the pinned key.  503 and
 * connection failures are retried, up to attempts requests in all,
 * honouring Retry-After (at most 30 s a wait).  The server's refusals: 400,
 * 405, 413 -> ML_EINPUT; 403 -> ML_EKEY; 409 -> ML_EINPUT, or ML_ECONFLICT
 * for an idempotency conflict; 500, 503 (after the last attempt) and
 * anything else -> ML_EIO; the message is the server's one line.  A proof
 * that does not verify: ML_EINTEGRITY.  *out is set only on success. */
int ml_remote_submit(struct ml_remote *r, const uint8_t *env, size_t len, unsigned attempts,
		     struct ml_remote_added *out, struct ml_err *e);

/* What a mirror did. */
struct ml_remote_mirrored {
	uint64_t before, after;  /* entries held before and after */
	int created;             /* the mirror file was made now */
};
/* Brings the replica at path (created when absent, with the pinned key's
 * origin and key) up to ck (a checkpoint of the server, verified): fetches
 * the entry bundles and level-0 tiles from the replica's size to ck's,
 * checks every entry's leaf hash against the tile, copies them through
 * ml_replica_* and commits only when the tree's root is ck's.  A replica of
 * another log is ML_EINPUT; one longer than ck, or with another root at
 * ck's size, or any entry that does not check, ML_EINTEGRITY; then the
 * replica is as it was (a new one is removed). */
int ml_remote_mirror(struct ml_remote *r, const char *path, const struct ml_remote_ckpt *ck,
		     struct ml_remote_mirrored *out, struct ml_err *e);

#endif
