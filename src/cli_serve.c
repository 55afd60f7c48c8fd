/* cli_serve — `mlledger serve`: options, the ready file, signals.  The
 * server itself is serve.c. */
#include "cli.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <sodium.h>

#include "output.h"
#include "pgstore.h"
#include "sequencer.h"
#include "serve.h"
#include "tiles.h"
#include "witness.h"

/* How long an add-checkpoint request waits for the witness state's lock. */
#define WITNESS_LOCK_SECONDS 10

/* The witness options: all of --witness-key and --witness-log, or none
 * (and no --witness-state).  On success with a witness, *k is the loaded
 * key (caller frees), and w points at logk, k and state (state may be
 * statebuf, the default beside the ledger). */
static int
witness_opts(const struct cli *c, struct ml_witness_config *w, struct ml_seckey **k,
	     struct ml_pubkey *logk, char *statebuf, size_t cap, struct ml_err *e)
{
	const char *state = cli_get(c, "witness-state");
	struct ml_out_rules r;
	int rc;

	if (!cli_get(c, "witness-key") && !cli_get(c, "witness-log")) {
		if (state)
			return ml_err_set(e, ML_EINPUT, "--witness-state needs --witness-key "
					  "and --witness-log");
		return ML_OK;
	}
	if (!cli_get(c, "witness-key") || !cli_get(c, "witness-log"))
		return ml_err_set(e, ML_EINPUT, "--witness-key and --witness-log go together");
	if (!state) {
		if (snprintf(statebuf, cap, "%s.witness.state", c->ledger) >= (int)cap)
			return ml_err_set(e, ML_EINPUT, "--ledger: path too long");
		state = statebuf;
	}
	/* Replacing the state is its use, but never the ledger, its files, the
	 * witness key or another secret key. */
	ml_out_rules_init(&r, 1);
	if ((rc = ml_out_protect_ledger(&r, c->ledger, e)) ||
	    (rc = ml_out_protect(&r, cli_get(c, "witness-key"), "the witness key", e)) ||
	    (rc = ml_out_check(&r, "--witness-state", state, 0, e)))
		return rc;
	if ((rc = ml_pubkey_load(cli_get(c, "witness-log"), logk, e)))
		return ml_err_prefix(e, rc, "--witness-log");
	if ((rc = cli_load_key_opt(c, "witness-key", k, e)))
		return rc;
	w->key = *k;
	w->log = logk;
	w->state = state;
	w->lock_timeout_s = WITNESS_LOCK_SECONDS;
	return ML_OK;
}

static const char serve_usage[] =
	"usage: mlledger serve --listen ADDR:PORT [--ready-file F] [--threads N]\n"
	"                      [--batch-wait MS] [--max-connections N]\n"
	"                      [--queue-max N] [--drain-seconds S]\n"
	"                      [--tls-cert CERT.pem --tls-key KEY.pem]\n"
	"                      [--witness-key W.key --witness-log LOG.pub\n"
	"                       [--witness-state FILE]]\n"
	"                      [--store URL [--min-sync-standbys N] [--read-only]\n"
	"                       [--follow-interval MS] [--log-key FILE]]\n"
	"\n"
	"Serves the ledger (--ledger, opened as 'record' opens it, the log key\n"
	"beside it) over HTTP, as docs/SERVER.md specifies: POST /add (one DSSE\n"
	"envelope; answered with a c2sp.org/tlog-proof once its batch is durable),\n"
	"GET /checkpoint, /tile/<L>/<N>[.p/<W>], /tile/entries/<N>[.p/<W>]\n"
	"(C2SP tlog-tiles), /consistency?old=M&new=N, /healthz and /metrics.\n"
	"\n"
	"  --listen ADDR:PORT     an IPv4 address, or [IPv6]; port 0: the kernel picks\n"
	"  --ready-file F         once listening, F receives the base URL and a newline\n"
	"                         (written atomically)\n"
	"  --threads N            HTTP threads, 1 to 64 (default 2)\n"
	"  --batch-wait MS        extra wait for more envelopes after a batch's first,\n"
	"                         0 to 1000 (default 0: a batch is what arrived while\n"
	"                         the previous one committed); at most 256 a batch\n"
	"  --max-connections N    1 to 100000 (default 10000)\n"
	"  --queue-max N          appends pending at most, 1 to 4096 (default 4096),\n"
	"                         then 503 (smaller: for tests of that 503)\n"
	"  --drain-seconds S      on SIGTERM, first answer /healthz and POST /add 503\n"
	"                         for S seconds, 0 to 60 (default 0), so that a load\n"
	"                         balancer stops sending\n"
	"  --tls-cert/--tls-key   PEM files: serve HTTPS\n"
	"  --witness-key W.key    also be a C2SP tlog-witness of the log LOG.pub:\n"
	"  --witness-log LOG.pub  POST /add-checkpoint cosigns its checkpoints with W\n"
	"                         when they extend the last one W cosigned (W: a key of\n"
	"                         its own, not a log key; encrypted: the passphrase as\n"
	"                         for any key, e.g. MLLEDGER_PASSPHRASE_FILE)\n"
	"  --witness-state FILE   that last checkpoint, as 'cosign --state' keeps it\n"
	"                         (default LEDGER.witness.state; FILE.lock beside it)\n"
	"  --store URL            a PostgreSQL store of record (postgresql://..., libpq\n"
	"                         multi-host with target_session_attrs=read-write to\n"
	"                         follow a failover): --ledger is then this front-end's\n"
	"                         working copy, made from the store when absent; an\n"
	"                         append is answered only once the store holds it\n"
	"                         replicated (README, \"High availability\")\n"
	"  --min-sync-standbys N  synchronous standbys streaming that a store commit\n"
	"                         needs, 0 to 16 (default 1; 0 only for a store\n"
	"                         without replication); fewer: POST /add answers 503\n"
	"  --read-only            serve reads only (e.g. on a hot standby), following\n"
	"                         the store's latest checkpoint; POST /add answers 503\n"
	"  --follow-interval MS   how often the store is read for newer checkpoints,\n"
	"                         10 to 60000 (default 500)\n"
	"  --log-key FILE         the log key, when not beside the working copy\n"
	"\n"
	"SIGTERM or SIGINT: /healthz and POST /add answer 503 (after --drain-seconds:)\n"
	"stop accepting, commit and answer every pending envelope, exit 0.\n"
	"Exit codes: 0 stopped cleanly, 2 usage or bad option, 5 cannot listen or a\n"
	"storage error, 6 the log key is missing or not this ledger's, or the\n"
	"witness key cannot be loaded.";

/* Splits ADDR:PORT ("127.0.0.1:8420", "[::1]:0") into host and port. */
static enum ml_rc
parse_listen(const char *v, char *host, size_t cap, unsigned *port)
{
	const char *colon = strrchr(v, ':');
	const char *h = v;
	size_t hlen;
	char *end;
	unsigned long p;

	if (!colon || !colon[1])
		return ML_EINPUT;
	hlen = (size_t)(colon - v);
	if (hlen >= 2 && v[0] == '[' && v[hlen - 1] == ']') {
		h = v + 1;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= cap)
		return ML_EINPUT;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (*end || errno || p > 65535 || colon[1] == '-' || colon[1] == '+')
		return ML_EINPUT;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (unsigned)p;
	return ML_OK;
}

/* Writes url and a newline to path through a temporary file and rename. */
static int
write_ready(const char *path, const char *url, struct ml_err *e)
{
	char tmp[4200];
	FILE *f;

	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	if (!(f = fopen(tmp, "w")))
		return ml_err_set(e, ML_EIO, "%s: %s", tmp, strerror(errno));
	if (fprintf(f, "%s\n", url) < 0 || fclose(f) != 0) {
		unlink(tmp);
		return ml_err_set(e, ML_EIO, "%s: write failed", tmp);
	}
	if (rename(tmp, path) != 0) {
		int err = errno;
		unlink(tmp);
		return ml_err_set(e, ML_EIO, "%s: %s", path, strerror(err));
	}
	return ML_OK;
}

/* Up to the hard limit of open files: every connection is one. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
cmd_serve(int argc, char **argv)
{
	struct cli c = {.cmd = "serve"};
	struct ml_serve_opts o = {0};
	struct ml_server *srv = NULL;
	struct ml_witness_config wc = {0};
	struct ml_seckey *wkey = NULL;
	struct ml_pubkey wlog;
	struct ml_err e;
	char wstate[4200];
	sigset_t set;
	char host[64], *cert = NULL, *key = NULL;
	size_t certlen = 0, keylen = 0;
	long threads, wait, maxc, qmax, drain, minsync, follow;
	int rc, sig;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv,
			    "listen= ready-file= threads= batch-wait= max-connections= "
			    "tls-cert= tls-key= witness-key= witness-log= witness-state= "
			    "passphrase-file= queue-max= drain-seconds= store= min-sync-standbys= "
			    "read-only follow-interval= log-key=")))
		return rc;
	if (cli_has(&c, "help")) {
		puts(serve_usage);
		return ML_OK;
	}
	if (c.nargs)
		return cli_failf(&c, ML_EINPUT, "unexpected argument \"%.64s\"", c.args[0]);
	if (!cli_get(&c, "listen") ||
	    parse_listen(cli_get(&c, "listen"), host, sizeof host, &o.port))
		return cli_failf(&c, ML_EINPUT, "--listen ADDR:PORT is required (e.g. "
			       "127.0.0.1:8420, [::1]:0)");
	if ((rc = cli_opt_long(&c, "threads", 1, 64, 2, &threads)) ||
	    (rc = cli_opt_long(&c, "batch-wait", 0, 1000, 0, &wait)) ||
	    (rc = cli_opt_long(&c, "max-connections", 1, 100000, ML_SERVE_MAX_CONNECTIONS,
			       &maxc)) ||
	    (rc = cli_opt_long(&c, "queue-max", 1, ML_SEQ_QUEUE_MAX, ML_SEQ_QUEUE_MAX, &qmax)) ||
	    (rc = cli_opt_long(&c, "drain-seconds", 0, ML_SERVE_DRAIN_MAX, 0, &drain)) ||
	    (rc = cli_opt_long(&c, "min-sync-standbys", 0, 16, 1, &minsync)) ||
	    (rc = cli_opt_long(&c, "follow-interval", 10, 60000, 500, &follow)))
		return rc;
	if (!cli_get(&c, "store") &&
	    (cli_get(&c, "min-sync-standbys") || cli_has(&c, "read-only") ||
	     cli_get(&c, "follow-interval") || cli_get(&c, "log-key")))
		return cli_failf(&c, ML_EINPUT, "--min-sync-standbys, --read-only, "
			       "--follow-interval and --log-key go with --store");
	if (cli_get(&c, "store") && !ml_pg_is_url(cli_get(&c, "store")))
		return cli_failf(&c, ML_EINPUT, "--store: \"%.64s\" is not a postgresql:// URL",
			       cli_get(&c, "store"));
	if (!cli_get(&c, "tls-cert") != !cli_get(&c, "tls-key"))
		return cli_failf(&c, ML_EINPUT, "--tls-cert and --tls-key go together");
	if (cli_get(&c, "tls-cert") &&
	    ((rc = ml_read_file(cli_get(&c, "tls-cert"), 1 << 20, &cert, &certlen, &e)) ||
	     (rc = ml_read_file(cli_get(&c, "tls-key"), 1 << 20, &key, &keylen, &e))))
		goto out;
	if ((rc = witness_opts(&c, &wc, &wkey, &wlog, wstate, sizeof wstate, &e)))
		goto out;
	o.witness = wkey ? &wc : NULL;
	o.ledger = c.ledger;
	o.host = host;
	o.threads = (unsigned)threads;
	o.batch_wait_ms = (unsigned)wait;
	o.max_connections = (unsigned)maxc;
	o.queue_max = (unsigned)qmax;
	o.drain_seconds = (unsigned)drain;
	o.tls_cert = cert;
	o.tls_key = key;
	o.store = cli_get(&c, "store");
	o.min_sync = (unsigned)minsync;
	o.read_only = cli_has(&c, "read-only");
	o.follow_ms = (unsigned)follow;
	o.logkey = cli_get(&c, "log-key");
	/* Every thread started from here on inherits the mask: only sigwait
	 * below sees SIGTERM and SIGINT. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	if ((rc = ml_serve_start(&o, &srv, &e)))
		goto out;
	if (cli_get(&c, "ready-file") &&
	    (rc = write_ready(cli_get(&c, "ready-file"), ml_serve_url(srv), &e)))
		goto out;
	fprintf(stderr, "mlledger: serve: listening on %s (ledger %s)\n", ml_serve_url(srv),
		c.ledger);
	if (o.witness)
		fprintf(stderr, "mlledger: serve: witnessing %s at POST /add-checkpoint (state "
			"%s)\n", wlog.name, wc.state);
	while (sigwait(&set, &sig) != 0 || (sig != SIGTERM && sig != SIGINT))
		;
	fprintf(stderr, "mlledger: serve: %s: finishing pending appends\n",
		sig == SIGTERM ? "SIGTERM" : "SIGINT");
out:
	ml_serve_stop(srv);
	ml_seckey_free(wkey);
	if (key) {
		sodium_memzero(key, keylen);
		free(key);
	}
	free(cert);
	if (rc == ML_OK)
		fprintf(stderr, "mlledger: serve: stopped\n");
	return rc ? cli_fail(&c, &e) : ML_OK;
}
