/* cli_migrate — `mlledger migrate`: a ledger from a SQLite file into the
 * PostgreSQL store of record and back (migrate.h); and cli_store_replica,
 * the temporary replica that `export --store` exports from. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "migrate.h"
#include "store.h"
#include "pgstore.h"

static const char migrate_help[] =
	"usage: mlledger migrate --from SRC --to DST [--log-key LOG.key] [--jobs N]\n"
	"       mlledger migrate --from URL --to LEDGER --update\n"
	"\n"
	"Moves a ledger between a SQLite ledger file and the PostgreSQL store of\n"
	"record ('serve --store', docs/SERVER.md): exactly one of SRC and DST is a\n"
	"postgresql:// (or postgres://) URL, the other a ledger file.\n"
	"\n"
	"  --from LEDGER --to URL   the ledger is verified in full first (exit 4,\n"
	"                           nothing written, when it does not verify); the\n"
	"                           database must hold no mlledger ledger (exit 7,\n"
	"                           nothing changed); then its identity, every entry\n"
	"                           with its leaf hash and every checkpoint note are\n"
	"                           copied, and the database's head is compared with\n"
	"                           the ledger's.  The log key stays where it is:\n"
	"                           give it to 'serve --store'.\n"
	"  --from URL --to LEDGER   LEDGER (new) becomes a replica holding the database's\n"
	"                           ledger up to its latest signed checkpoint, every row\n"
	"                           checked as verify checks it, with every stored\n"
	"                           checkpoint note (entries beyond that checkpoint are\n"
	"                           not copied: nothing signs them yet; a note says how\n"
	"                           many).  On any failure nothing is left at LEDGER.\n"
	"  --log-key LOG.key        (to a file) the log's secret key: it must be the key\n"
	"                           of the database's log key line; it is copied beside\n"
	"                           LEDGER (LEDGER.log.key, mode 0600) so the copy is\n"
	"                           appendable.  Without it the copy is a read-only\n"
	"                           replica.\n"
	"  --update                 (from a URL) LEDGER exists, a copy of the database's\n"
	"                           ledger ('migrate' before, or a serve --store working\n"
	"                           copy): brought up to the latest signed checkpoint,\n"
	"                           every row checked.  Exit 4 when LEDGER holds more\n"
	"                           entries than the database, or another entry at its\n"
	"                           last seq (a fork: a failover lost what the copy\n"
	"                           holds), LEDGER unchanged.\n"
	"  --jobs N                 signature threads of the source's verification\n"
	"\n"
	"Progress on stderr when it is a terminal.  Passwords in URLs are never\n"
	"printed (prefer ~/.pgpass or PGPASSFILE).\n"
	"\n"
	"Exit codes: 0 copied; 2 usage (two files, two URLs, a malformed URL, an\n"
	"existing LEDGER, --log-key with a URL target); 4 a row, note or the source\n"
	"does not verify (the entry is named); 5 storage or connection error (the\n"
	"store is named); 6 --log-key is not this log's key; 7 the database already\n"
	"holds a ledger.";

/* SRC and DST: one URL, one file. */
static int
migrate_sides(struct cli *c, const char **from, const char **to, int *to_pg)
{
	*from = cli_get(c, "from");
	*to = cli_get(c, "to");
	if (!*from || !*to || c->nargs)
		return cli_failf(c, ML_EINPUT, "expected --from SRC --to DST (migrate --help)");
	if (ml_pg_is_url(*from) == ml_pg_is_url(*to))
		return cli_failf(c, ML_EINPUT, "%s: one side must be a ledger file and the other "
				 "a postgresql:// URL", ml_pg_is_url(*from) ? "two URLs" :
				 "two ledger files");
	*to_pg = ml_pg_is_url(*to);
	if (cli_has(c, "update") && (*to_pg || cli_get(c, "log-key")))
		return cli_failf(c, ML_EINPUT, "--update: only from a URL to an existing ledger, "
				 "without --log-key");
	if (*to_pg && cli_get(c, "log-key"))
		return cli_failf(c, ML_EINPUT, "--log-key: only when the target is a ledger file "
				 "(serve --store reads the log key itself)");
	return ML_OK;
}

/* The log key file's text, checked to be the key of logline.  *text is
 * sodium_malloc'd (the caller wipes and frees with sodium_free). */
static int
logkey_read(const char *path, const char *logline, char **text, size_t *len,
	    struct ml_err *e)
{
	struct ml_seckey *k = NULL;
	char line[ML_VKEY_MAX], *raw = NULL, *s;
	size_t n;
	int rc;

	if ((rc = ml_read_file(path, 4096, &raw, &n, e)))
		return rc;
	if ((rc = ml_seckey_decode(raw, n, path, NULL, NULL, &k, e)))
		goto out;
	ml_pubkey_format(ml_seckey_public(k), line);
	if (strcmp(line, logline) != 0) {
		rc = ml_err_set(e, ML_EKEY, "%s: not the key of this log (its log key is %.80s)",
				path, logline);
		goto out;
	}
	if (!(s = sodium_malloc(n + 1))) {
		rc = ml_err_set(e, ML_EIO, "out of memory");
		goto out;
	}
	memcpy(s, raw, n + 1);
	*text = s;
	*len = n;
out:
	ml_seckey_free(k);
	sodium_memzero(raw, n);
	free(raw);
	return rc;
}

static int
migrate_to_pg(struct cli *c, const char *from, struct ml_pg *p, struct ml_migrate_opts *o,
	      struct ml_err *e)
{
	struct ml_migrate_result r;
	int rc;

	o->ctx = "copied";
	if ((rc = ml_migrate_to_pg(from, p, o, &r, e)))
		return rc;
	cli_progress_done();
	if (c->json)
		return cli_print_json(json_pack("{s:s, s:s, s:I, s:I}", "to", ml_pg_name(p), "from",
						from, "entries", (json_int_t)r.entries,
						"checkpoints", (json_int_t)r.checkpoints),
				      e);
	printf("%s: %llu entries and %llu checkpoints copied from %s\n", ml_pg_name(p),
	       (unsigned long long)r.entries, (unsigned long long)r.checkpoints, from);
	return ML_OK;
}

static int
migrate_from_pg(struct cli *c, struct ml_pg *p, const char *to, struct ml_migrate_opts *o,
		struct ml_err *e)
{
	char origin[ML_ORIGIN_MAX + 1], logline[ML_VKEY_MAX], keypath[PATH_MAX + 16];
	char *key = NULL;
	size_t klen = 0;
	struct ml_migrate_result r;
	int rc, format;

	if ((rc = cli_out_check(c, "--to", to, 0, e)))
		return rc;
	if (access(to, F_OK) == 0)
		return ml_err_set(e, ML_EINPUT, "%s: exists (the copy is a new ledger)", to);
	if ((rc = ml_pg_identity(p, origin, sizeof origin, logline, sizeof logline, &format, e)))
		return rc;
	if (cli_get(c, "log-key") &&
	    (rc = logkey_read(cli_get(c, "log-key"), logline, &key, &klen, e)))
		return rc;
	o->ctx = "copied";
	if ((rc = ml_migrate_from_pg(p, to, o, &r, e)))
		goto out;
	cli_progress_done();
	if (key) {
		ml_ledger_logkey_path(to, keypath, sizeof keypath);
		if ((rc = ml_write_file_atomic(keypath, key, klen, 0600, 1, e))) {
			ml_store_unlink(to);
			goto out;
		}
	}
	if (c->json)
		rc = cli_print_json(json_pack("{s:s, s:s, s:I, s:I, s:I}", "to", to, "from",
					      ml_pg_name(p), "entries", (json_int_t)r.entries,
					      "checkpoints", (json_int_t)r.checkpoints, "size",
					      (json_int_t)r.size),
				    e);
	else
		printf("%s: %llu entries and %llu checkpoints copied from %s (size %llu)\n", to,
		       (unsigned long long)r.entries, (unsigned long long)r.checkpoints,
		       ml_pg_name(p), (unsigned long long)r.size);
	fflush(stdout); /* the result line before the notes */
	if (r.unsigned_tail)
		fprintf(stderr, "mlledger: migrate: note: %llu entries beyond %s's latest signed "
			"checkpoint were not copied (no checkpoint signs them yet)\n",
			(unsigned long long)r.unsigned_tail, ml_pg_name(p));
	if (!key)
		fprintf(stderr, "mlledger: migrate: note: %s is a read-only replica (no log key); "
			"give --log-key LOG.key to make the copy appendable\n", to);
out:
	if (key) {
		sodium_memzero(key, klen);
		sodium_free(key);
	}
	return rc;
}

/* --update: an existing copy brought up to the database's latest checkpoint. */
static int
migrate_update(struct cli *c, struct ml_pg *p, const char *to, struct ml_err *e)
{
	struct ml_ledger *l = NULL;
	uint64_t before, size;
	int rc;

	if ((rc = ml_ledger_open(to, 1, &l, e)))
		return rc;
	before = 0;
	{
		uint8_t last[ML_SHA256_LEN];
		int64_t lt;
		rc = ml_store_head(ml_ledger_store(l), &before, last, &lt, e);
	}
	if (rc == ML_OK && (rc = ml_migrate_follow(p, l, &size, e)) == ML_OK && c->json)
		rc = cli_print_json(json_pack("{s:s, s:s, s:I, s:I}", "to", to, "from",
					      ml_pg_name(p), "size", (json_int_t)size,
					      "previousSize", (json_int_t)before),
				    e);
	else if (rc == ML_OK)
		printf("%s: size %llu (was %llu), up to %s's latest signed checkpoint\n", to,
		       (unsigned long long)size, (unsigned long long)before, ml_pg_name(p));
	ml_ledger_close(l);
	return rc;
}

int
cmd_migrate(int argc, char **argv)
{
	struct cli c = {.cmd = "migrate"};
	struct ml_migrate_opts o = {cli_progress, NULL, 0, "verified"};
	struct ml_pg *p = NULL;
	struct ml_err e;
	const char *from, *to;
	long jobs;
	int rc, to_pg = 0;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "from= to= log-key= jobs= update")))
		return rc;
	if (cli_has(&c, "help")) {
		puts(migrate_help);
		return ML_OK;
	}
	if ((rc = migrate_sides(&c, &from, &to, &to_pg)) ||
	    (rc = cli_opt_long(&c, "jobs", 1, 64, 0, &jobs)))
		return rc;
	o.jobs = (int)jobs;
	if ((rc = ml_pg_connect(to_pg ? to : from, NULL, &p, &e)))
		return cli_fail(&c, &e);
	if (to_pg)
		rc = migrate_to_pg(&c, from, p, &o, &e);
	else if (cli_has(&c, "update"))
		rc = migrate_update(&c, p, to, &e);
	else
		rc = migrate_from_pg(&c, p, to, &o, &e);
	ml_pg_close(p);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

int
cli_store_replica(const char *url, char *dir, size_t dcap, char *path, size_t pcap,
		  struct ml_err *e)
{
	struct ml_migrate_opts o = {cli_progress, "copied from the store", 0, NULL};
	struct ml_pg *p = NULL;
	const char *tmp = getenv("TMPDIR");
	int rc;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	if ((size_t)snprintf(dir, dcap, "%s/mlledger-store.XXXXXX", tmp) >= dcap)
		return ml_err_set(e, ML_EINPUT, "TMPDIR: too long");
	if (!mkdtemp(dir))
		return ml_err_set(e, ML_EIO, "%s: %s", dir, strerror(errno));
	snprintf(path, pcap, "%s/ledger.db", dir);
	if ((rc = ml_pg_connect(url, NULL, &p, e)) == ML_OK)
		rc = ml_migrate_from_pg(p, path, &o, NULL, e);
	ml_pg_close(p);
	cli_progress_done();
	if (rc)
		rmdir(dir);
	return rc;
}

void
cli_store_replica_remove(const char *dir, const char *path)
{
	ml_store_unlink(path);
	rmdir(dir);
}
