/* witness — mlledger as a C2SP tlog-witness of one log: the witness's state
 * file (the last checkpoint it cosigned, read, checked and replaced as one
 * compare-and-set under a lock; `cosign --state` and `serve`'s
 * POST /add-checkpoint share it), and the add-checkpoint request handler,
 * which knows nothing of HTTP beyond the status, content type and body it
 * answers (docs/SERVER.md "Witnessing", https://c2sp.org/tlog-witness).
 *
 * Thread- and process-safe: every compare-and-set holds an exclusive
 * flock(2) on "STATE.lock" (a new open file description per call, so two
 * threads of one process exclude each other too), and the state is replaced
 * atomically (temporary file, fsync, rename).  The cosignature is recorded
 * before it is given out.
 *
 * May call tlog, note, merkle, output, keys, util.
 */
#ifndef ML_WITNESS_H
#define ML_WITNESS_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "note.h"
#include "note_checkpoint.h"
#include "note_cosig.h"
#include "util.h"

/* Bytes of an add-checkpoint request body (docs/SERVER.md "Limits"). */
#define ML_WITNESS_BODY_MAX 8192
/* Consistency-proof lines a client may send (tlog-witness: "MUST NOT send
 * more than 63"). */
#define ML_WITNESS_PROOF_LINES_MAX 63

/* A locked state.  Filled by ml_witness_state_open; release with
 * ml_witness_state_close (always, also after a failed commit). */
struct ml_witness_state {
	int lockfd;                 /* the lock; -1 when not held */
	int exists;                 /* the state file exists: cosigned before */
	struct ml_checkpoint held;  /* what it holds (valid when exists) */
};

/* Takes the lock of the state file path (waiting at most timeout_s
 * seconds), then reads what it holds: nothing (first use, exists 0), or a
 * checkpoint note of the log logk (signed by it, its origin) that this
 * witness cosigned.  A symbolic link, folder or other non-regular file,
 * a note of another log or not signed by logk ("was the log replaced?"),
 * or an unreadable file are errors (ML_EINPUT, ML_EINTEGRITY, ML_EIO), as is
 * a lock held longer than timeout_s (ML_EIO "locked by another process").
 * On error nothing is held (*st is closed). */
int ml_witness_state_open(const char *path, const struct ml_pubkey *logk, int timeout_s,
			  struct ml_witness_state *st, struct ml_err *e);
/* Under the lock st holds: cosigns note (len bytes; already checked by the
 * caller against st->held) with witness at now_s (seconds, 1..2^63-1),
 * replaces the state file path with the cosigned note, then appends the
 * cosigned note to out.  The state is written first: a cosignature is never
 * given out unrecorded.  Errors as ml_cosign and ml_write_file_atomic; out
 * is left as it was on failure. */
int ml_witness_state_commit(struct ml_witness_state *st, const char *path,
			    const struct ml_seckey *witness, const char *note, size_t len,
			    uint64_t now_s, struct ml_buf *out, struct ml_err *e);
/* Releases the lock; a closed or zeroed-then-closed state is fine. */
void ml_witness_state_close(struct ml_witness_state *st);

/* One witness: its key, the one log it witnesses and that log's state file.
 * Nothing is owned; all must outlive the calls. */
struct ml_witness_config {
	const struct ml_seckey *key;   /* the witness's secret key */
	const struct ml_pubkey *log;   /* the log's verifier key; origin = its name */
	const char *state;             /* the state file (cosign --state's format) */
	int lock_timeout_s;            /* how long a request waits for the lock */
};

/* What to answer.  content_type is a static string; body is owned
 * (ml_witness_reply_free). */
struct ml_witness_reply {
	int status;
	const char *content_type;
	struct ml_buf body;
	/* Non-empty: a line for the server's log (not for the client), e.g.
	 * that the log signed two roots at one size and where both notes were
	 * kept. */
	char log[256];
	int forked;    /* the log signed another root at the stored size */
};

/* Handles one POST /add-checkpoint body (len bytes, not NUL-terminated
 * necessarily) at now_s (seconds since the epoch, > 0: the cosignature's
 * timestamp).  Always fills *r:
 *   200  text/plain; charset=utf-8: the witness's cosignature line
 *        "— <name> <base64>\n" (C2SP tlog-cosignature, type 0x04), after the
 *        new state was recorded;
 *   400  malformed body or checkpoint, more than 63 proof lines, old size
 *        larger than the checkpoint's;
 *   403  no valid signature of the log key (or one by it that fails);
 *   404  the checkpoint's origin is not the log's;
 *   409  text/x.tlog.size, body "<stored size>\n": old is not the size of
 *        the last cosigned checkpoint (0 on first use);
 *   413  body larger than ML_WITNESS_BODY_MAX;
 *   422  the proof does not verify, a proof where none can be (old 0 or old
 *        equal to the checkpoint's size), another root at the stored size,
 *        a size-0 checkpoint whose root is not the empty tree's; another
 *        root at the stored size is proof that the log forked, so both notes
 *        are kept beside the state as STATE.fork-SIZE.cosigned and
 *        STATE.fork-SIZE.refused (the first pair per size; r->log says so);
 *   500  the state file cannot be read, locked or written (a
 *        misconfiguration the message names; nothing was cosigned).
 * Every status but 200 and 409 carries one line of text (text/plain;
 * charset=utf-8) saying why.  The stored size is compared and replaced under
 * the state's lock: of two requests with the same old size, one wins and the
 * other gets 409. */
void ml_witness_add_checkpoint(const struct ml_witness_config *w, const char *body,
			       size_t len, uint64_t now_s, struct ml_witness_reply *r);
/* Frees the body; NULL is fine. */
void ml_witness_reply_free(struct ml_witness_reply *r);

#endif
