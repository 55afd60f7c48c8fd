/* serve — `mlledger serve`: one ledger as an HTTP service (docs/SERVER.md)
 * on libmicrohttpd.  POST /add goes through the sequencer (group commit);
 * reads are C2SP tlog-tiles (/checkpoint, /tile/...), /consistency,
 * /healthz and /metrics; with a witness configured, POST /add-checkpoint
 * (C2SP tlog-witness, witness.h).  A thin layer: it turns requests into the calls
 * the CLI makes and maps their results to statuses; it decides no ledger
 * rule.  Routing is one table (serve.c's routes[]).
 *
 * Threads: libmicrohttpd's pool (threads), each taking a read-only ledger
 * handle from a pool per request; one committer (sequencer.h) owning the
 * writable handle.  Never logs or returns the log key.
 * May call sequencer, pgsync, pgstore, migrate, tiles, witness, ledger, tlog, gate, statement, store,
 * keys, note, merkle, util.
 */
#ifndef ML_SERVE_H
#define ML_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "witness.h"

#define ML_SERVE_BODY_MAX 65536        /* POST /add */
#define ML_SERVE_URL_MAX 1024          /* path and query */
#define ML_SERVE_REQUEST_SECONDS 10    /* request line to the body's last byte */
#define ML_SERVE_IDLE_SECONDS 30       /* accept or answer to the next request line */
#define ML_SERVE_DRAIN_MAX 60          /* drain_seconds */
#define ML_SERVE_MAX_CONNECTIONS 10000

struct ml_serve_opts {
	const char *ledger;      /* path of the ledger (its log key beside it) */
	const char *host;        /* an IPv4 or IPv6 literal */
	unsigned port;           /* 0: the kernel picks */
	unsigned threads;        /* 1..64 HTTP threads */
	unsigned batch_wait_ms;  /* 0..1000 */
	unsigned max_connections;
	/* 0: ML_SEQ_QUEUE_MAX; else 1..ML_SEQ_QUEUE_MAX appends pending at
	 * most (then 503).  Smaller for tests of the 503. */
	unsigned queue_max;
	/* 0..ML_SERVE_DRAIN_MAX: on ml_serve_stop, answer /healthz and POST
	 * /add 503 (still accepting, still serving reads) this long first, so
	 * that a load balancer stops sending. */
	unsigned drain_seconds;
	/* PEM text (NUL-terminated), both or neither: TLS.  Borrowed until
	 * ml_serve_stop. */
	const char *tls_cert, *tls_key;
	/* NULL, or the witness POST /add-checkpoint answers as (its key may be
	 * neither this ledger's log key nor the witnessed log's, and the
	 * witnessed log may not be this one: ML_EINPUT).  Borrowed until
	 * ml_serve_stop. */
	const struct ml_witness_config *witness;
	/* NULL, or a PostgreSQL store of record (pgstore.h URL): the ledger is
	 * then its working copy, made from it when the file does not exist,
	 * caught up at start and followed every follow_ms (0: 500) to the
	 * store's latest checkpoint; a writer's batches go through it first
	 * (pgsync.h), and an append it cannot take now is a 503. */
	const char *store;
	unsigned min_sync;   /* synchronous standbys a store commit needs */
	int read_only;       /* with store: serve reads only (POST /add 503) */
	unsigned follow_ms;
	const char *logkey;  /* NULL: the key file beside the ledger */
};

struct ml_server;

/* Opens the ledger, starts the committer and listens.  ML_EINPUT (bad
 * options, no TLS support), ML_EKEY (the log key), ML_EIO (cannot
 * listen).  *out owned by the caller: ml_serve_stop. */
int ml_serve_start(const struct ml_serve_opts *o, struct ml_server **out, struct ml_err *e);
/* "http://HOST:PORT" (https with TLS; IPv6 in brackets), the port the
 * server actually listens on. */
const char *ml_serve_url(const struct ml_server *s);
/* Clean shutdown: /healthz and POST /add answer 503 from now on; after
 * drain_seconds, stops accepting, commits and answers everything queued,
 * waits (at most 5 s) for those answers to be sent, stops the HTTP
 * threads, closes the ledger and frees s.  NULL is fine. */
void ml_serve_stop(struct ml_server *s);

#endif
