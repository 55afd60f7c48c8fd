/* cli — see cli.h.  Dispatch, option parsing, messages, passphrases. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h> /* mallopt */
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "jsonarena.h"
#include "note.h"
#include "note_trust.h"


static const char usage_text[] =
	"usage: mlledger [--ledger PATH] COMMAND [ARGS]\n"
	"\n"
	"Keeps the compliance record of ML models and data: signed in-toto statements\n"
	"in DSSE envelopes, appended to a hash-chained SQLite ledger.\n"
	"\n"
	"Keys and ledger\n"
	"  key new NAME [--dir D] [--encrypt] [--passphrase-file F] [--force]\n"
	"  init --key ADMIN.key [--origin NAME] [--governance FILE]\n"
	"  key possess --key NAME.key --origin ORIGIN [PERSON] --out NAME.pop   (the holder)\n"
	"  key enroll NAME.pub --role ROLE[,ROLE...] (--possession NAME.pop | --holder-key NAME.key)\n"
	"             [PERSON] --key ADMIN.key [--out FILE]   PERSON: --person ID --name --email\n"
	"             --employee-id --x509-sha256 --oidc-issuer --oidc-subject (key --help)\n"
	"  governance set FILE --key ADMIN.key [--out FILE]\n"
	"  governance show [--format json] [--default]\n"
	"  key revoke NAME --reason TEXT --key ADMIN.key [--out FILE]\n"
	"     --out FILE: write the entry for a countersignature (dual control), not append it\n"
	"  key list [--format text|json]\n"
	"  clock-correct --reason TEXT --key ADMIN.key [--from SEQ]   entries dated ahead\n"
	"Recording (one signed entry per call; prints SEQ sha256:LEAFHASH)\n"
	"  record dataset NAME@VERSION (--file PATH | --digest sha256:HEX) [--uri URI] [--set k=v]...\n"
	"  record model NAME@VERSION (--artifact PATH | --digest sha256:HEX) [--dataset N@V]...\n"
	"         [--parent N@V] [--metric k=v]... [--set k=v]...\n"
	"  record evaluation NAME@VERSION --metric k=v... [--dataset N@V] [--set k=v]...\n"
	"  record approval NAME@VERSION --env ENV --decision approve|reject [--comment TEXT]\n"
	"  record deployment NAME@VERSION --env ENV [--set k=v]...\n"
	"  record monitoring NAME@VERSION --env ENV --metric k=v... [--set k=v]...\n"
	"  record waiver NAME@VERSION --rule ID --expires YYYY-MM-DD --reason TEXT [--ticket ID]\n"
	"  record retirement NAME@VERSION --env ENV --reason TEXT\n"
	"  record incident NAME@VERSION --severity low|medium|high|critical --description TEXT\n"
	"     all take --key K.key [--idempotency-key K] [--format text|json]\n"
	"  sign KIND NAME@VERSION [record options] [--origin ORIGIN] --key K.key --out FILE\n"
	"       [--force]\n"
	"                                     (no ledger write)\n"
	"  sign --countersign ENVELOPE --key K.key --out FILE [--pub S.pub]...\n"
	"                                     add a signature (dual control)\n"
	"  submit FILE...                     append envelopes made by 'sign'\n"
	"  import FILE.jsonl --key K.key      many statements, one transaction\n"
	"  digest PATH [--jobs N]             sha256:HEX of a file or folder, as record\n"
	"                                     computes it (no ledger)\n"
	"Reading\n"
	"  log [--kind K] [--subject NAME[@VERSION]] [--since DATE] [--format text|json]\n"
	"  show SEQ [--format text|json|raw]\n"
	"  verify [--decisions] [--jobs N] [--checkpoint FILE]... [--state FILE] [--format text|json]\n"
	"  verify --bundle DIR --log-key LOG.pub|--checkpoint HELD|--trust POLICY\n"
	"                                     an auditor's export, offline (exit 8\n"
	"                                     without an anchor held outside DIR)\n"
	"Transparency (RFC 6962 tree, C2SP checkpoints)\n"
	"  checkpoint [--size N]              the latest (or a stored) signed checkpoint\n"
	"  log-key                            the log's verifier key line\n"
	"  prove SEQ [--size N]               c2sp.org/tlog-proof@v1 bundle for an entry\n"
	"  prove --consistency OLD [--size NEW]\n"
	"  verify-proof --log-key LOG.pub PROOF LEAF   offline, no ledger needed\n"
	"  verify-consistency --log-key LOG.pub OLD.ckpt NEW.ckpt PROOF   offline\n"
	"  cosign --key W.key --log-key LOG.pub --state FILE [--init] [--proof PROOF]\n"
	"         CHECKPOINT [--out FILE [--force]]   witness: checks, cosigns, remembers\n"
	"  witness-key --key W.key            a witness's verifier key for trust policies\n"
	"  export --out DIR --key K [--since HELD]  everything an auditor needs, verified\n"
	"                                     and signed by K (new or empty DIR)\n"
	"  export --store URL --out DIR --key K   the same from the PostgreSQL store\n"
	"Server (docs/SERVER.md)\n"
	"  serve --listen ADDR:PORT [--ready-file F] [--threads N] [--batch-wait MS]\n"
	"        [--max-connections N] [--tls-cert F --tls-key F]   the ledger over HTTP\n"
	"  migrate --from LEDGER|URL --to URL|LEDGER [--log-key LOG.key]   a ledger into\n"
	"                                     the PostgreSQL store of record, or back\n"
	"A ledger server ('mlledger serve', docs/SERVER.md): every answer verified\n"
	"  mirror --server URL --log-key LOG.pub [--state FILE] [--out LEDGER]\n"
	"                                     a local, verified, read-only copy\n"
	"  submit --server URL --log-key LOG.pub [--state FILE] FILE...   POST /add, proofs\n"
	"                                     checked\n"
	"  checkpoint --server URL --log-key LOG.pub [--state FILE]   fork/rollback check\n"
	"  verify --server URL --log-key LOG.pub [--mirror F] [--state FILE]  mirror, verify\n"
	"  record, sign, import, gate, export, log, show, prove, key enroll, key revoke,\n"
	"  governance set, policy record ... --server URL --log-key LOG.pub\n"
	"                                     on the mirror; appends are signed here, posted\n"
	"     --trust POLICY for --log-key (all but verify and export)\n"
	"     URL also from MLLEDGER_SERVER\n"
	"Policy\n"
	"  evidence NAME@VERSION [--env ENV] [--as-of DATE]   the XML the rules read\n"
	"  gate --policy ID|FILE NAME@VERSION... --env ENV [--key K.key]\n"
	"       [--format text|json|junit|sarif|github|gitlab]   decide; --key records one\n"
	"  check --policy ID|FILE [--as-of DATE]  every model version and deployment\n"
	"  policy record ID|FILE [--param NAME=VALUE]... --key K.key   a policy into the ledger\n"
	"  policy lint ID|FILE...                 validate and compile policy files\n"
	"  policy test FILE...                    run policy test files (policies/TESTING.md)\n"
	"Audit reports\n"
	"  report --from DAY --to DAY --format html|md|json|csv --out PATH [--policy ID|FILE]...\n"
	"         [--sign KEY [--record]] [--as-of DATE] [--generated-at TIME] [--allow-unverified]\n"
	"         [--force]          --record: also a report entry (SHA-256, period, policies)\n"
	"  verify-report REPORT|DIR --key NAME.pub [--in-ledger]  its signature and signed scope\n"
	"                                         (REPORT.sig.json, DIR/MANIFEST.sig.json);\n"
	"                                         --in-ledger: its report entries, by whom\n"
	"Audit testing (docs/AUDITING.md)\n"
	"  population [--kind K,...|all] [--from DATE] [--to DATE] [--format csv|json]\n"
	"  sample --population FILE --n N --seed S    a reproducible sample\n"
	"  trace SEQ [--format text|json]          an entry's evidence chain, with proofs\n"
	"  reconcile --deployments FILE.csv [--tolerance 1h] [--format text|json|csv]\n"
	"                                     exit 1 when the platform and ledger differ\n"
	"  live --env ENV [--at TIME] [--format text|json]   what was in production\n"
	"                                     then: deciding entries, inclusion proofs\n"
	"\n"
	"Options: --ledger PATH (or MLLEDGER_LEDGER; default " ML_DEFAULT_LEDGER ").\n"
	"--format json: every command that prints a result (docs/CLI.md lists the\n"
	"members); checkpoint, log-key, witness-key, prove, cosign, evidence refuse it.\n"
	"Passphrases: --passphrase-file F, MLLEDGER_PASSPHRASE_FILE, or the terminal.\n"
	"Outputs: an existing file only with --force; never the ledger, its -wal, -shm,\n"
	"-journal or log key, a secret key or a folder of keys.  Inputs: regular files.\n"
	"\n"
	"Exit codes: 0 ok/pass, 1 policy deny, 2 usage, bad input or a refused output,\n"
	"            3 invalid policy, 4 integrity failure, 5 storage or I/O error,\n"
	"            6 key error, 7 conflict (an idempotency key already names other\n"
	"            content), 8 verified, but nothing outside the bundle anchors it\n"
	"            (verify --bundle without --log-key, --checkpoint or --trust).\n"
	"A retry of what the ledger holds exits 0: \"already recorded at seq N\".\n";

static const struct {
	const char *name;
	int (*fn)(int, char **);
} commands[] = {
	{"init", cmd_init},     {"key", cmd_key},       {"record", cmd_record},
	{"sign", cmd_sign},     {"submit", cmd_submit}, {"import", cmd_import},
	{"log", cmd_log},       {"show", cmd_show},     {"verify", cmd_verify},
	{"checkpoint", cmd_checkpoint}, {"log-key", cmd_log_key}, {"prove", cmd_prove},
	{"verify-proof", cmd_verify_proof}, {"cosign", cmd_cosign},
	{"verify-consistency", cmd_verify_consistency},
	{"witness-key", cmd_witness_key}, {"export", cmd_export},
	{"evidence", cmd_evidence}, {"gate", cmd_gate}, {"check", cmd_check},
	{"policy", cmd_policy}, {"report", cmd_report}, {"live", cmd_live},
	{"verify-report", cmd_verify_report}, {"digest", cmd_digest},
	{"governance", cmd_governance},
	{"clock-correct", cmd_clock_correct},
	{"population", cmd_population}, {"sample", cmd_sample}, {"trace", cmd_trace},
	{"reconcile", cmd_reconcile}, {"mirror", cmd_mirror}, {"serve", cmd_serve},
	{"migrate", cmd_migrate},
};

static const char *global_ledger;

int
cli_main(int argc, char **argv)
{
	int i = 1;
	size_t k;

	if (sodium_init() < 0) {
		fprintf(stderr, "mlledger: libsodium failed to start\n");
		return ML_EIO;
	}
	ml_jsonarena_install(); /* before any thread or tree (jsonarena.h) */
	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_text, stdout);
			return ML_OK;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("mlledger %s (ledger format %d)\n", ML_VERSION, ML_FORMAT_VERSION);
			return ML_OK;
		}
		if (!strcmp(argv[i], "--ledger") && i + 1 < argc) {
			global_ledger = argv[i + 1];
			i += 2;
			continue;
		}
		if (!strncmp(argv[i], "--ledger=", 9)) {
			global_ledger = argv[i] + 9;
			i++;
			continue;
		}
		fprintf(stderr, "mlledger: unknown option %s (see mlledger --help)\n", argv[i]);
		return ML_EINPUT;
	}
	if (i >= argc) {
		fputs(usage_text, stderr);
		return ML_EINPUT;
	}
	if (!strcmp(argv[i], "help")) {
		fputs(usage_text, stdout);
		return ML_OK;
	}
	for (k = 0; k < sizeof commands / sizeof commands[0]; k++)
		if (!strcmp(argv[i], commands[k].name))
			return commands[k].fn(argc - i, argv + i);
	fprintf(stderr, "mlledger: unknown command \"%s\" (see mlledger --help)\n", argv[i]);
	return ML_EINPUT;
}

/* True when name (length n) is in the space-separated spec; *takes is set
 * when it takes a value ("name="). */
static int
spec_find(const char *spec, const char *name, size_t n, int *takes)
{
	const char *p = spec;

	while (*p) {
		size_t len = strcspn(p, " ");
		size_t bare = len && p[len - 1] == '=' ? len - 1 : len;
		if (bare == n && !strncmp(p, name, n)) {
			*takes = bare != len;
			return 1;
		}
		p += len;
		while (*p == ' ')
			p++;
	}
	return 0;
}

bool
cli_ledger_given(const struct cli *c)
{
	return cli_get(c, "ledger") != NULL || global_ledger != NULL;
}

/* The --format values of each command (docs/CLI.md lists the JSON members
 * each prints), the default first; why: what a command that refuses json
 * prints instead.  A command not listed takes "text, json".  gate, check,
 * report, population and reconcile check their own --format values
 * (cli_parse_format or alike), so cli_parse sees "text" for them. */
static const struct {
	const char *cmd;
	const char *allowed; /* ", "-separated, as printed in errors */
	const char *why;     /* NULL when json is allowed */
} cmd_formats[] = {
	{"show", "text, json, raw", NULL},
	{"checkpoint", "text", "its output is a C2SP signed checkpoint"},
	{"log-key", "text", "its output is a C2SP verifier key line"},
	{"witness-key", "text", "its output is a C2SP verifier key line"},
	{"prove", "text", "its output is a c2sp.org/tlog-proof@v1 bundle"},
	{"cosign", "text", "its output is a C2SP cosigned checkpoint"},
	{"evidence", "text", "its output is the evidence XML the rules read"},
	{"serve", "text", "it serves HTTP and prints no result"},
	{"sample", "", "the sample has the population file's format"},
};

/* Checks --format of c against cmd_formats and sets c->json.  ML_EINPUT
 * with a message naming --format and listing the allowed values. */
static int
check_format(struct cli *c)
{
	const char *fmt = cli_get(c, "format"), *allowed = "text, json", *why = NULL, *p;
	size_t i, n;

	for (i = 0; i < sizeof cmd_formats / sizeof cmd_formats[0]; i++)
		if (!strcmp(c->cmd, cmd_formats[i].cmd)) {
			allowed = cmd_formats[i].allowed;
			why = cmd_formats[i].why;
		}
	c->json = 0;
	if (!fmt)
		return ML_OK;
	for (p = allowed; *p; p += n + strspn(p + n, ", ")) {
		n = strcspn(p, ",");
		if (strlen(fmt) == n && !strncmp(p, fmt, n)) {
			c->json = !strcmp(fmt, "json");
			return ML_OK;
		}
	}
	if (!*allowed)
		return cli_failf(c, ML_EINPUT, "--format: not accepted, %s", why);
	if (!strcmp(fmt, "json") && why)
		return cli_failf(c, ML_EINPUT, "--format json: not accepted, %s (allowed: %s)",
				 why, allowed);
	return cli_failf(c, ML_EINPUT, "--format: must be one of %s", allowed);
}

int
cli_parse(struct cli *c, int argc, char **argv, const char *spec)
{
	char full[1024];
	const char *env = getenv("MLLEDGER_LEDGER");
	int i, takes, only_args = 0;

	snprintf(full, sizeof full, "%s ledger= format= help", spec);
	c->nopts = c->nargs = 0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *eq;
		size_t n;
		if (only_args || a[0] != '-' || !strcmp(a, "-")) {
			if (c->nargs == CLI_MAX_OPTS)
				return cli_failf(c, ML_EINPUT, "too many arguments");
			c->args[c->nargs++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_args = 1;
			continue;
		}
		if (a[1] != '-' || !a[2])
			return cli_failf(c, ML_EINPUT, "unknown option %s (see --help)", a);
		a += 2;
		eq = strchr(a, '=');
		n = eq ? (size_t)(eq - a) : strlen(a);
		if (!spec_find(full, a, n, &takes))
			return cli_failf(c, ML_EINPUT, "unknown option --%.*s (see --help)", (int)n,
					 a);
		if (c->nopts == CLI_MAX_OPTS)
			return cli_failf(c, ML_EINPUT, "too many options");
		c->opts[c->nopts].name = a;
		if (takes) {
			if (eq) {
				c->opts[c->nopts].value = eq + 1;
			} else if (i + 1 < argc) {
				c->opts[c->nopts].value = argv[++i];
			} else {
				return cli_failf(c, ML_EINPUT, "--%s needs a value", a);
			}
		} else if (eq) {
			return cli_failf(c, ML_EINPUT, "--%.*s takes no value", (int)n, a);
		} else {
			c->opts[c->nopts].value = NULL;
		}
		/* Store the bare name: point into argv with the '=' cut off. */
		if (eq) {
			static char names[CLI_MAX_OPTS][64];
			snprintf(names[c->nopts], sizeof names[0], "%.*s", (int)n, a);
			c->opts[c->nopts].name = names[c->nopts];
		}
		c->nopts++;
	}
	c->ledger = cli_get(c, "ledger");
	if (!c->ledger)
		c->ledger = global_ledger ? global_ledger : (env && *env ? env : ML_DEFAULT_LEDGER);
	return check_format(c);
}

const char *
cli_get(const struct cli *c, const char *name)
{
	const char *v = NULL;
	int i;

	for (i = 0; i < c->nopts; i++)
		if (!strcmp(c->opts[i].name, name))
			v = c->opts[i].value;
	return v;
}

int
cli_values(const struct cli *c, const char *name, const char **out, size_t cap, size_t *n,
	   struct ml_err *e)
{
	int i;

	*n = 0;
	for (i = 0; i < c->nopts; i++) {
		if (strcmp(c->opts[i].name, name))
			continue;
		if (*n == cap)
			return ml_err_set(e, ML_EINPUT, "more than %zu --%s options", cap, name);
		out[(*n)++] = c->opts[i].value;
	}
	return ML_OK;
}

bool
cli_has(const struct cli *c, const char *name)
{
	int i;

	for (i = 0; i < c->nopts; i++)
		if (!strcmp(c->opts[i].name, name))
			return true;
	return false;
}

int
cli_fail(const struct cli *c, const struct ml_err *e)
{
	cli_progress_done();
	if (e->seq >= 0 && e->code == ML_EINTEGRITY)
		fprintf(stderr, "mlledger: %s: entry %lld: %s\n", c->cmd, e->seq, e->msg);
	else
		fprintf(stderr, "mlledger: %s: %s\n", c->cmd, e->msg);
	return e->code ? e->code : ML_EIO;
}

int
cli_failf(const struct cli *c, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cli_progress_done();
	fprintf(stderr, "mlledger: %s: %s\n", c->cmd, msg);
	return code;
}

/* The one table of which option gives which statement member, for every
 * command that builds a statement from options (record, sign, key enroll,
 * key revoke, clock-correct): copy marks the plain strings record and sign
 * copy into the request as they are.  A member path ("person.email") comes
 * before its prefix ("person"). */
const struct cli_member cli_members[] = {
	{"uri", "uri", 1},         {"env", "environment", 1}, {"decision", "decision", 1},
	{"comment", "comment", 1}, {"rule", "rule", 1},       {"expires", "expires", 1},
	{"reason", "reason", 1},   {"ticket", "ticket", 1},   {"severity", "severity", 1},
	{"description", "description", 1}, {"parent", "parent", 1}, {"digest", "digest", 1},
	{"set", "properties", 0},  {"metric", "metrics", 0},  {"dataset", "datasets", 0},
	{"dataset", "dataset", 0}, {"role", "roles", 0},      {"name", "person.name", 0},
	{"email", "person.email", 0}, {"employee-id", "person.employeeId", 0},
	{"x509-sha256", "person.x509", 0}, {"oidc-issuer, --oidc-subject", "person.oidc", 0},
	{"person", "person", 0},   {NULL, NULL, 0},
};

void
cli_flag_error(struct ml_err *e)
{
	char msg[sizeof e->msg], want[96];
	const char *p;
	size_t i, n;

	snprintf(msg, sizeof msg, "%s", e->msg);
	for (i = 0; cli_members[i].opt; i++) {
		snprintf(want, sizeof want, ": field \"%s\" is required", cli_members[i].member);
		if ((p = strstr(msg, want)) && !strcmp(p, want) &&
		    strcspn(msg, ": ") == (size_t)(p - msg)) { /* "KIND: field ..." */
			ml_err_set(e, e->code, "--%s is required", cli_members[i].opt);
			return;
		}
		n = strlen(cli_members[i].member);
		if (!strncmp(msg, cli_members[i].member, n) &&
		    (msg[n] == ':' || msg[n] == '.' || msg[n] == ' ')) {
			ml_err_set(e, e->code, "--%s%s%s", cli_members[i].opt,
				   msg[n] == ':' ? "" : " ", msg + n + (msg[n] != ':'));
			return;
		}
	}
}

int
cli_print_json(json_t *o, struct ml_err *e)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int bad;

	json_decref(o);
	if (!s)
		return ml_err_set(e, ML_EIO, "out of memory");
	bad = puts(s) == EOF;
	free(s);
	return bad ? ml_err_set(e, ML_EIO, "standard output: write failed") : ML_OK;
}

int
cli_print_written(const struct cli *c, const char *path, struct ml_err *e)
{
	if (c->json)
		return cli_print_json(json_pack("{s:s}", "file", path), e);
	printf("%s\n", path);
	return ML_OK;
}

void
cli_print_appended(const struct cli *c, const struct ml_appended *a, const char *prefix)
{
	char hex[65], t[21];

	ml_hex_encode(a->leaf, sizeof a->leaf, hex);
	if (a->existing)
		fprintf(stderr, "mlledger: %s: %s%salready recorded at seq %llu\n", c->cmd,
			prefix ? prefix : "", prefix ? ": " : "", (unsigned long long)a->seq);
	if (c->json) {
		ml_time_format(a->time_us, t);
		printf("{\"seq\":%llu,\"leafHash\":\"sha256:%s\",\"time\":\"%s\"",
		       (unsigned long long)a->seq, hex, t);
		if (a->existing)
			printf(",\"alreadyRecorded\":true,\"message\":\"already recorded at seq "
			       "%llu\"", (unsigned long long)a->seq);
		printf("}\n");
	} else {
		printf("%llu sha256:%s\n", (unsigned long long)a->seq, hex);
	}
}

/* Reads the first line of a passphrase file into buf. */
static enum ml_rc
passphrase_file(const char *path, char *buf, size_t cap, struct ml_err *e)
{
	char *text = NULL;
	size_t len, n;
	int rc = ml_read_file(path, 4096, &text, &len, e);

	if (rc)
		return ml_err_prefix(e, ML_EKEY, "passphrase file");
	n = strcspn(text, "\r\n");
	if (n == 0 || n >= cap) {
		sodium_memzero(text, len);
		free(text);
		return ml_err_set(e, ML_EKEY, "%s: passphrase file is empty or too long", path);
	}
	memcpy(buf, text, n);
	buf[n] = '\0';
	sodium_memzero(text, len);
	free(text);
	return ML_OK;
}

/* Reads one non-empty line from the terminal without echo.  ML_OK, or
 * ML_EKEY when there is no terminal or no line (the caller says why). */
static enum ml_rc
tty_read(const char *prompt, char *buf, size_t cap)
{
	struct termios old, quiet;
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	size_t n = 0;
	bool ok = false;
	char ch;

	if (fd < 0)
		return ML_EKEY;
	if (write(fd, prompt, strlen(prompt)) < 0 || tcgetattr(fd, &old) != 0) {
		close(fd);
		return ML_EKEY;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	tcsetattr(fd, TCSAFLUSH, &quiet);
	while (read(fd, &ch, 1) == 1) {
		if (ch == '\n' || ch == '\r') {
			ok = true;
			break;
		}
		if (n + 1 < cap)
			buf[n++] = ch;
	}
	buf[n] = '\0';
	ch = 0;
	tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		ok = false;
	close(fd);
	return ok && n > 0 ? ML_OK : ML_EKEY;
}

enum ml_rc
cli_passphrase(const struct cli *c, const char *prompt, int confirm, char *buf,
	       size_t cap, struct ml_err *e)
{
	const char *f = cli_get(c, "passphrase-file");
	char *again;
	int ok;

	if (!f)
		f = getenv("MLLEDGER_PASSPHRASE_FILE");
	if (f && *f)
		return passphrase_file(f, buf, cap, e);
	if (tty_read(prompt, buf, cap) != ML_OK)
		return ml_err_set(e, ML_EKEY, "no passphrase: give --passphrase-file F or set "
				  "MLLEDGER_PASSPHRASE_FILE");
	if (!confirm)
		return ML_OK;
	if (!(again = sodium_malloc(cap)))
		return ml_err_set(e, ML_EIO, "out of memory");
	ok = tty_read("Repeat passphrase: ", again, cap) == ML_OK && !strcmp(again, buf);
	sodium_free(again);
	if (!ok)
		return ml_err_set(e, ML_EKEY, "the passphrases differ");
	return ML_OK;
}

struct pass_ctx {
	const struct cli *c;
	struct ml_err *e;
};

static int
pass_cb(void *ctx, const char *path, char *buf, size_t cap)
{
	struct pass_ctx *p = ctx;
	char prompt[300];

	snprintf(prompt, sizeof prompt, "Passphrase for %s: ", path);
	return cli_passphrase(p->c, prompt, 0, buf, cap, p->e);
}

/* A secret key others may read is still used (refusing would strand CI
 * jobs whose checkout lost the mode), but never silently. */
static void
warn_key_mode(const struct cli *c, const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & 077))
		fprintf(stderr, "mlledger %s: warning: %s is readable by %s (mode %04o): "
			"run 'chmod 600 %s'\n", c->cmd, path,
			(st.st_mode & 007) ? "everyone" : "its group",
			(unsigned)(st.st_mode & 07777), path);
}

int
cli_trust_load(const char *path, struct ml_trust **pol, struct ml_err *e)
{
	char *text = NULL;
	size_t len;
	int rc = ml_read_file(path, ML_TRUST_MAX, &text, &len, e);

	if (rc == ML_OK && (rc = ml_trust_parse(text, len, pol, e)))
		ml_err_prefix(e, rc, path);
	free(text);
	return rc;
}

int
cli_load_key(const struct cli *c, struct ml_seckey **out, struct ml_err *e)
{
	return cli_load_key_opt(c, "key", out, e);
}

int
cli_load_key_opt(const struct cli *c, const char *opt, struct ml_seckey **out,
		 struct ml_err *e)
{
	const char *path = cli_get(c, opt);
	struct ml_err pe;
	struct pass_ctx p = {c, &pe};
	int rc;

	if (!path)
		return ml_err_set(e, ML_EKEY, "--%s KEYFILE is required", opt);
	ml_err_clear(&pe);
	rc = ml_seckey_load(path, pass_cb, &p, out, e);
	if (rc == ML_OK)
		warn_key_mode(c, path);
	if (rc && pe.code)
		*e = pe; /* the passphrase source's own message is more useful */
	else if (rc && !strncmp(e->msg, path, strlen(path)) && e->msg[strlen(path)] == ':') {
		char msg[sizeof e->msg];
		snprintf(msg, sizeof msg, "%s", e->msg);
		ml_err_set(e, rc, "--%s %s", opt, msg); /* "--key /tmp/f: not a regular file" */
	}
	return rc;
}

int
cli_parse_format(struct cli *c, int argc, char **argv, const char *spec, const char **fmt)
{
	int i, rc;

	*fmt = NULL;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--format") && i + 1 < argc) {
			*fmt = argv[i + 1];
			argv[i + 1] = "text";
		} else if (!strncmp(argv[i], "--format=", 9)) {
			*fmt = argv[i] + 9;
			argv[i] = "--format=text";
		}
	}
	rc = cli_parse(c, argc, argv, spec);
	c->json = 0;
	return rc;
}

int
cli_opt_long(struct cli *c, const char *name, long lo, long hi, long dflt, long *out)
{
	const char *v = cli_get(c, name);
	char *end;

	*out = dflt;
	if (!v)
		return ML_OK;
	errno = 0;
	*out = strtol(v, &end, 10);
	if (!*v || *end || errno || *out < lo || *out > hi)
		return cli_failf(c, ML_EINPUT, "--%s: a number from %ld to %ld", name, lo, hi);
	return ML_OK;
}

int
cli_out_rules(const struct cli *c, struct ml_out_rules *r, struct ml_err *e)
{
	ml_out_rules_init(r, cli_has(c, "force"));
	return ml_out_protect_ledger(r, c->ledger, e);
}

int
cli_out_check(const struct cli *c, const char *opt, const char *path, int is_dir,
	      struct ml_err *e)
{
	struct ml_out_rules r;
	int rc;

	if ((rc = cli_out_rules(c, &r, e)) == ML_OK)
		rc = ml_out_check(&r, opt, path, is_dir, e);
	return rc;
}

int
cli_open(const struct cli *c, int writable, struct ml_ledger **out, struct ml_err *e)
{
	return ml_ledger_open(c->ledger, writable, out, e);
}

static int progress_shown;

void
cli_progress(void *ctx, uint64_t done, uint64_t total)
{
	const char *what = ctx;

	if (!isatty(2))
		return;
	/* \033[K after the text: a shorter line (the next phase's) leaves
	 * nothing of the one before. */
	if (total)
		fprintf(stderr, "\r%s: %llu/%llu (%.0f%%)\033[K", what, (unsigned long long)done,
			(unsigned long long)total, 100.0 * (double)done / (double)total);
	else
		fprintf(stderr, "\r%s: %llu\033[K", what, (unsigned long long)done);
	progress_shown = 1;
}

void
cli_progress_done(void)
{
	if (progress_shown)
		fputs("\r\033[K", stderr);
	progress_shown = 0;
}

/* A policy sweep builds and frees millions of small XML and JSON nodes,
 * and each entry read makes a request of about 1 KiB: with glibc's
 * fastbins, that request first merges every small chunk freed since the
 * last one (malloc_consolidate, the largest allocator cost in a profile of
 * check, and of the report's sweep).  Without fastbins, frees beyond the
 * thread cache merge at once, while their neighbours are still in cache:
 * about 5% less CPU for check.  The allocator's results are the same
 * either way. */
void
cli_no_fastbins(void)
{
#if defined(__GLIBC__) && defined(M_MXFAST)
	mallopt(M_MXFAST, 0);
#endif
}

int
cli_time_opts(const struct cli *c, struct ml_timecheck_opts *o)
{
	const char *v = cli_get(c, "time-tolerance");
	char *end;
	long h;

	ml_timecheck_defaults(o);
	if (!v)
		return ML_OK;
	errno = 0;
	h = strtol(v, &end, 10);
	if (!*v || *end || errno || h < 1 || h > 87600)
		return cli_failf(c, ML_EINPUT, "--time-tolerance: hours, from 1 to 87600");
	o->past_us = (int64_t)h * 3600 * 1000000;
	return ML_OK;
}

/* Parses a duration "30d", "12h", "90m", "45s" (a bare number is seconds)
 * into seconds; -1 on error. */
enum ml_rc
cli_duration(const char *v, int64_t *out)
{
	char *end;
	unsigned long long n;
	int64_t unit = 1;

	if (!v || *v < '0' || *v > '9')
		return ML_EINPUT;
	n = strtoull(v, &end, 10);
	if (!strcmp(end, "d"))
		unit = 86400;
	else if (!strcmp(end, "h"))
		unit = 3600;
	else if (!strcmp(end, "m"))
		unit = 60;
	else if (*end && strcmp(end, "s"))
		return ML_EINPUT;
	if (n == 0 || n > (unsigned long long)(INT64_MAX / 86400 / 2))
		return ML_EINPUT;
	*out = (int64_t)n * unit;
	return ML_OK;
}
