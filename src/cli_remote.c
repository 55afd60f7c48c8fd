/* cli_remote — what every command with --server URL shares (the pinned log
 * key, the state file, the mirror), and `mlledger mirror`. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "output.h"
#include "remote.h"

const char *
cli_server(const struct cli *c)
{
	const char *s = cli_get(c, "server");

	/* an explicit --ledger outranks the environment's server */
	if (!s && !cli_ledger_given(c) && (s = getenv("MLLEDGER_SERVER")) && !*s)
		s = NULL;
	return s;
}

/* Whether --trust of c names the server's trust policy (verify and export
 * give --trust other meanings). */
static int
remote_trust(const struct cli *c)
{
	return strcmp(c->cmd, "verify") != 0 && strcmp(c->cmd, "export") != 0;
}

/* MLLEDGER_CA_FILE: the PEM certificates an https server is checked
 * against instead of the system's (an organisation's own CA). */
static int
remote_ca(struct ml_remote *r, struct ml_err *e)
{
	const char *ca = getenv("MLLEDGER_CA_FILE");
	int fd, rc;

	if (!ca || !*ca)
		return ML_OK;
	if ((rc = ml_open_input(ca, &fd, e)))
		return ml_err_prefix(e, rc, "MLLEDGER_CA_FILE");
	close(fd);
	return ml_remote_cainfo(r, ca, e);
}

int
cli_remote_open(const struct cli *c, struct ml_remote **out, struct ml_err *e)
{
	const char *url = cli_server(c), *kf = cli_get(c, "log-key");
	const char *tf = remote_trust(c) ? cli_get(c, "trust") : NULL;
	struct ml_trust *pol = NULL;
	struct ml_pubkey k;
	int rc;

	if (!url)
		return ml_err_set(e, ML_EINPUT, "--server URL (or MLLEDGER_SERVER) is needed");
	if (!kf && !tf)
		return ml_err_set(e, ML_EINPUT, "--log-key LOG.pub is needed with --server: the "
				  "log's verifier key ('mlledger log-key' on the server's host), "
				  "which every answer is checked against%s",
				  remote_trust(c) ? " (or --trust POLICY)" : "");
	if (kf && tf)
		return ml_err_set(e, ML_EINPUT, "--log-key and --trust: give one");
	if (kf) {
		if ((rc = ml_pubkey_load(kf, &k, e)))
			return rc;
		rc = ml_remote_open(url, &k, out, e);
		goto ca;
	}
	if ((rc = cli_trust_load(tf, &pol, e)))
		return rc;
	rc = ml_remote_open_policy(url, pol, out, e);
ca:
	if (rc == ML_OK && (rc = remote_ca(*out, e))) {
		ml_remote_close(*out);
		*out = NULL;
	}
	return rc;
}

/* --state FILE of c: a file this command may replace (never the ledger,
 * its files or a secret key). */
static int
state_ok(const struct cli *c, const char *path, struct ml_err *e)
{
	struct ml_out_rules r;
	int rc;

	if ((rc = cli_out_rules(c, &r, e)))
		return rc;
	r.force = 1;
	return ml_out_check(&r, "--state", path, 0, e);
}

int
cli_remote_state(const struct cli *c, struct ml_remote *r, const struct ml_remote_ckpt *ck,
		 int latest, struct ml_err *e)
{
	const char *path = cli_get(c, "state");
	struct ml_remote_state st;
	int rc;

	if (!path)
		return ML_OK;
	if ((rc = state_ok(c, path, e)) ||
	    (rc = ml_remote_state_update(r, path, ck, latest, &st, e)))
		return rc;
	if (!st.existed)
		fprintf(stderr, "mlledger: %s: first use: no earlier state in %s; trusting size "
			"%" PRIu64 "\n", c->cmd, path, ck->cp.size);
	else if (st.moved)
		fprintf(stderr, "mlledger: %s: state %s moved to size %" PRIu64 " (was %" PRIu64
			", consistent)\n", c->cmd, path, ck->cp.size, st.was);
	return ML_OK;
}

int
cli_remote_latest(const struct cli *c, struct ml_remote *r, struct ml_remote_ckpt *ck,
		  struct ml_err *e)
{
	int rc;

	if ((rc = ml_remote_checkpoint(r, ck, e)))
		return rc;
	if ((rc = cli_remote_state(c, r, ck, 1, e)))
		ml_remote_ckpt_free(ck);
	return rc;
}

/* The default mirror of origin: $XDG_CACHE_HOME/mlledger/ORIGIN.db (else
 * ~/.cache/...), the origin's '/' and ':' written as '_'. */
static int
default_mirror(const char *origin, char *buf, size_t cap, struct ml_err *e)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char dir[4096], name[ML_CHECKPOINT_ORIGIN_MAX + 1];
	size_t i;

	if (xdg && *xdg == '/')
		snprintf(dir, sizeof dir, "%s/mlledger", xdg);
	else if (home && *home == '/')
		snprintf(dir, sizeof dir, "%s/.cache/mlledger", home);
	else
		return ml_err_set(e, ML_EINPUT, "no cache folder (neither XDG_CACHE_HOME nor "
				  "HOME is set): give --mirror FILE");
	snprintf(name, sizeof name, "%s", origin);
	for (i = 0; name[i]; i++)
		if (name[i] == '/' || name[i] == ':' || name[i] == '\\' ||
		    (i == 0 && name[i] == '.'))
			name[i] = '_';
	/* the cache folder itself (~/.cache) may be missing: one level up too */
	{
		char parent[4096], *slash;
		snprintf(parent, sizeof parent, "%s", dir);
		if ((slash = strrchr(parent, '/')) && slash != parent) {
			*slash = '\0';
			if (mkdir(parent, 0700) != 0 && errno != EEXIST)
				return ml_err_set(e, ML_EIO, "%s: %s", parent, strerror(errno));
		}
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return ml_err_set(e, ML_EIO, "%s: %s", dir, strerror(errno));
	if ((size_t)snprintf(buf, cap, "%s/%s.db", dir, name) >= cap)
		return ml_err_set(e, ML_EINPUT, "%s: path too long", dir);
	return ML_OK;
}

int
cli_mirror_ok(const char *path, struct ml_err *e)
{
	char key[4200];
	struct stat sb;

	ml_ledger_logkey_path(path, key, sizeof key);
	if (lstat(key, &sb) == 0)
		return ml_err_set(e, ML_EINPUT, "%s: a ledger with its log key beside it, not a "
				  "mirror; refusing to write into it", path);
	if (ml_out_is_seckey_file(path))
		return ml_err_set(e, ML_EINPUT, "%s: a secret key file, not a mirror", path);
	if (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode))
		return ml_err_set(e, ML_EINPUT, "%s: not a regular file", path);
	return ML_OK;
}

int
cli_remote_sync(const struct cli *c, const char *opt, char *path, size_t cap,
		struct ml_remote_mirrored *m, struct ml_err *e)
{
	struct ml_remote *r = NULL;
	struct ml_remote_ckpt ck = {0};
	const char *given = cli_get(c, opt);
	int rc;

	if ((rc = cli_remote_open(c, &r, e)) || (rc = cli_remote_latest(c, r, &ck, e)))
		goto out;
	if (given) {
		if ((size_t)snprintf(path, cap, "%s", given) >= cap) {
			rc = ml_err_set(e, ML_EINPUT, "--%s: path too long", opt);
			goto out;
		}
	} else if ((rc = default_mirror(ck.cp.origin, path, cap, e))) {
		goto out;
	}
	if ((rc = cli_mirror_ok(path, e)))
		goto out;
	ml_remote_progress(r, cli_progress, "mirroring");
	rc = ml_remote_mirror(r, path, &ck, m, e);
	cli_progress_done();
out:
	ml_remote_ckpt_free(&ck);
	ml_remote_close(r);
	return rc;
}

int
cli_use_mirror(struct cli *c, struct ml_remote_mirrored *m, struct ml_err *e)
{
	static char mirror[4200];
	struct ml_remote_mirrored mine;
	int rc;

	if ((rc = cli_remote_sync(c, "mirror", mirror, sizeof mirror, m ? m : &mine, e)))
		return rc;
	c->ledger = mirror;
	return ML_OK;
}

int
cli_open_append(struct cli *c, struct ml_ledger **l, struct ml_err *e)
{
	int rc;

	if (!cli_server(c))
		return cli_open(c, 1, l, e);
	if ((rc = cli_use_mirror(c, NULL, e)))
		return rc;
	return cli_open(c, 0, l, e);
}

int
cli_append(const struct cli *c, struct ml_ledger *l, const struct ml_append_item *item,
	   struct ml_appended *out, struct ml_err *e)
{
	struct ml_remote *r = NULL;
	struct ml_remote_added a;
	int rc;

	if (!cli_server(c))
		return ml_ledger_append(l, item, 1, out, e);
	memset(&a, 0, sizeof a);
	if ((rc = cli_remote_open(c, &r, e)) ||
	    (rc = ml_remote_submit(r, item->envelope, item->len, ML_REMOTE_ATTEMPTS, &a, e)) ||
	    (rc = cli_remote_state(c, r, &a.ck, 0, e)))
		goto out;
	out->seq = a.seq;
	memcpy(out->leaf, a.leaf, ML_SHA256_LEN);
	out->time_us = a.time_us;
	out->existing = a.existing;
	if (a.existing)
		fprintf(stderr, "mlledger: %s: already recorded at seq %llu\n", c->cmd,
			(unsigned long long)a.seq);
out:
	ml_remote_added_free(&a);
	ml_remote_close(r);
	return rc;
}

int
cmd_mirror(int argc, char **argv)
{
	struct cli c = {.cmd = "mirror"};
	struct ml_remote_mirrored m;
	struct ml_err e;
	char path[4200];
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "server= log-key= trust= state= out=")))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger mirror --server URL --log-key LOG.pub|--trust POLICY\n"
		     "                       [--state FILE] [--out LEDGER]\n\n"
		     "Copies the ledger served at URL ('mlledger serve'; or MLLEDGER_SERVER) into\n"
		     "a local, read-only ledger that verify, gate, export, log, show and prove\n"
		     "open with --ledger LEDGER.  The server's checkpoint must be signed by the\n"
		     "log key LOG.pub; the entry bundles and level-0 tiles (C2SP tlog-tiles) from\n"
		     "the copy's size up to it are fetched, every entry's leaf hash checked\n"
		     "against its tile, every entry checked by the ledger's rules at its place\n"
		     "with every signature verified, and the copy's tree root must be the\n"
		     "checkpoint's.  Anything that does not match is refused (exit 4) and the\n"
		     "copy stays as it was (one transaction).  A later run fetches only what is\n"
		     "new.  The copy holds no log key: appends to it are refused.\n\n"
		     "--trust POLICY  instead of --log-key: a C2SP tlog-policy; the log is its\n"
		     "              log named by the server's origin, and every checkpoint the\n"
		     "              server shows must be cosigned by the policy's quorum (exit 4)\n"
		     "              (submit, record, sign, checkpoint and gate take it too)\n"
		     "--out LEDGER  the copy (default: $XDG_CACHE_HOME/mlledger/ORIGIN.db, else\n"
		     "              ~/.cache/mlledger/ORIGIN.db)\n"
		     "--state FILE  the last checkpoint this client accepted from the log: a\n"
		     "              newer one must come with a valid consistency proof; a\n"
		     "              smaller tree, another root at the same size or a bad proof\n"
		     "              is a fork or rollback (exit 4).  Locked with FILE.lock and\n"
		     "              replaced atomically; no FILE yet: first use, said on stderr\n\n"
		     "Prints \"LEDGER: N entries (M new)\".  Exit 0; 2 bad\n"
		     "input or a copy of another log; 4 fork, rollback or a bad entry; 5 network\n"
		     "or storage error.");
		return ML_OK;
	}
	if (c.nargs)
		return cli_failf(&c, ML_EINPUT, "expected --server URL --log-key LOG.pub "
				 "[--out LEDGER]");
	if (cli_get(&c, "out") && (rc = cli_mirror_ok(cli_get(&c, "out"), &e)))
		return cli_fail(&c, &e);
	if ((rc = cli_remote_sync(&c, "out", path, sizeof path, &m, &e)))
		return cli_fail(&c, &e);
	if (c.json)
		return (rc = cli_print_json(json_pack("{s:s, s:I, s:I, s:b}", "mirror", path,
						      "entries", (json_int_t)m.after, "new",
						      (json_int_t)(m.after - m.before), "created",
						      m.created),
					    &e))
			       ? cli_fail(&c, &e)
			       : ML_OK;
	printf("%s: %" PRIu64 " entries (%" PRIu64 " new)%s\n", path, m.after,
	       m.after - m.before, m.created ? ", created" : "");
	return ML_OK;
}
