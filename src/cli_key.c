/* cli_key — init and the key commands (new, enroll, revoke, list). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "cli.h"
#include "request.h"
#include "statement.h"
#include "store.h"

#define PASS_MAX 1024

static const char key_usage[] =
	"usage: mlledger key new NAME [--dir DIR] [--encrypt] [--passphrase-file F] [--force]\n"
	"       mlledger key possess --key NAME.key (--origin ORIGIN | --ledger L) [PERSON]\n"
	"                          --out NAME.pop [--force]\n"
	"       mlledger key enroll NAME.pub --role ROLE[,ROLE...]\n"
	"                          (--possession NAME.pop | --holder-key NAME.key) [PERSON]\n"
	"                          --key ADMIN.key [--out FILE [--force]]\n"
	"       mlledger key revoke NAME --reason TEXT --key ADMIN.key [--out FILE [--force]]\n"
	"       mlledger key list [--format text|json]\n"
	"  each takes --format json: one JSON object (key list: an array; docs/CLI.md)\n"
	"  PERSON: [--person ID] [--name TEXT] [--email ADDR] [--employee-id ID]\n"
	"          [--x509-sha256 HEX] [--oidc-issuer https://... --oidc-subject SUB]\n"
	"\n"
	"key new writes NAME.key (0600, never overwritten without --force) and NAME.pub\n"
	"(the C2SP verifier key) into DIR (default: the current folder); even with\n"
	"--force never over the ledger, its -wal, -shm, -journal or log key (exit 2).\n"
	"The key is encrypted under a passphrase when one is given: --passphrase-file,\n"
	"MLLEDGER_PASSPHRASE_FILE, or --encrypt (asks twice); Argon2id with\n"
	"libsodium's moderate limits (256 MiB, about half a second per use).\n"
	"Commands warn when a secret key file is readable by group or others.\n"
	"Roles are those the ledger's governance declares (mlledger governance show);\n"
	"by default admin, engineer, validator, approver, risk-officer, auditor, each\n"
	"allowed to sign its own kinds of entries.  Every key belongs to a person:\n"
	"--person ID (1-64 of [A-Za-z0-9._-]; default: the key's name, so a new key\n"
	"enrolled under a revoked key's name is that person's rotated key), with an\n"
	"optional display --name, --email, --employee-id, the SHA-256 of an X.509\n"
	"certificate (--x509-sha256, 64 hex) and an OIDC identity (--oidc-issuer\n"
	"https URL, --oidc-subject).  Policies count persons, not keys.\n"
	"\n"
	"Proof of possession: the key's holder signs, with the new key, the ledger's\n"
	"origin, the key and the person it is enrolled as (key possess, on the\n"
	"holder's machine; 'mlledger log-key' prints ORIGIN+...), and sends NAME.pub\n"
	"and NAME.pop to the admin, whose key enroll --possession checks and records\n"
	"it: the ceremony.  --holder-key NAME.key signs the proof on the spot, for a\n"
	"one-machine setup where the admin holds the new secret key (demos, tests).\n"
	"A ledger created by this version requires the proof in every enrolment.\n"
	"\n"
	"Under dual control (governance dualControl: K admins, as persons, sign key\n"
	"entries), enroll/revoke --out FILE write the signed entry instead of\n"
	"appending it: a second admin adds a signature with 'mlledger sign\n"
	"--countersign FILE', then 'mlledger submit' appends it.  Alone, one admin is\n"
	"refused (exit 6, naming the persons who signed).\n"
	"Exit codes: 0 ok, 2 bad input, 5 storage error, 6 key error (a proof that\n"
	"does not verify; too few admins under dual control).\n"
	"key enroll and key revoke with --server URL (or MLLEDGER_SERVER) and --log-key\n"
	"LOG.pub|--trust POLICY [--state FILE] [--mirror FILE]: looked up in the\n"
	"mirror ('mlledger mirror --help'), signed here (keys never leave this\n"
	"host) and posted (POST /add), the proof checked.\n";

/* DIR/NAME.key and DIR/NAME.pub may be written: --force replaces a key
 * (that is key new's job), never the ledger's files (output.h). */
static int
check_key_paths(const struct cli *c, const char *dir, const char *name, struct ml_err *e)
{
	static const char *const ext[] = {"key", "pub"};
	struct ml_out_rules r;
	char path[PATH_MAX];
	size_t i;
	int rc;

	if ((rc = cli_out_rules(c, &r, e)))
		return rc;
	r.keys_ok = 1;
	for (i = 0; i < 2 && rc == ML_OK; i++) {
		if (snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext[i]) >= (int)sizeof path)
			return ml_err_set(e, ML_EINPUT, "%.200s...: path too long", dir);
		rc = ml_out_check(&r, NULL, path, 0, e);
	}
	return rc;
}

/* What key new wrote: the two file names and the verifier key, as text
 * or one JSON object (never the secret key itself). */
static int
print_new_key(const struct cli *c, const char *dir, const struct ml_pubkey *pk, int encrypted,
	      struct ml_err *e)
{
	char vkey[ML_VKEY_MAX], kid[ML_KEYID_MAX], sec[PATH_MAX], pub[PATH_MAX];

	ml_pubkey_format(pk, vkey);
	ml_pubkey_keyid(pk, kid);
	snprintf(sec, sizeof sec, "%s/%s.key", dir, c->args[0]);
	snprintf(pub, sizeof pub, "%s/%s.pub", dir, c->args[0]);
	if (c->json)
		return cli_print_json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "name",
						c->args[0], "keyid", kid, "publicKey", vkey,
						"publicKeyFile", pub, "secretKeyFile", sec,
						"encrypted", encrypted),
				      e);
	printf("%s%s\n%s %s\n", sec, encrypted ? " (encrypted)" : "", pub, vkey);
	return ML_OK;
}

static int
key_new(int argc, char **argv)
{
	struct cli c = {.cmd = "key new"};
	struct ml_seckey *k = NULL;
	struct ml_err e;
	char *pass = NULL;
	const char *dir;
	int rc, encrypt;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "dir= encrypt passphrase-file= force")))
		return rc;
	if (cli_has(&c, "help")) {
		fputs(key_usage, stdout);
		return ML_OK;
	}
	if (c.nargs != 1)
		return cli_failf(&c, ML_EINPUT, "expected one NAME (see --help)");
	if (!ml_key_name_simple(c.args[0]))
		return cli_failf(&c, ML_EINPUT, "\"%.64s\": a key name is 1-64 of [A-Za-z0-9._-]",
				 c.args[0]);
	dir = cli_get(&c, "dir") ? cli_get(&c, "dir") : ".";
	if ((rc = check_key_paths(&c, dir, c.args[0], &e)))
		return cli_fail(&c, &e);
	encrypt = cli_has(&c, "encrypt") || cli_get(&c, "passphrase-file") ||
		  (getenv("MLLEDGER_PASSPHRASE_FILE") && *getenv("MLLEDGER_PASSPHRASE_FILE"));
	if (encrypt) {
		if (!(pass = sodium_malloc(PASS_MAX)))
			return cli_failf(&c, ML_EIO, "out of memory");
		if (cli_passphrase(&c, "New passphrase: ", 1, pass, PASS_MAX, &e)) {
			sodium_free(pass);
			return cli_fail(&c, &e);
		}
	}
	rc = ml_seckey_generate(c.args[0], &k, &e);
	if (rc == ML_OK)
		rc = ml_seckey_save(k, dir, pass, cli_has(&c, "force"), &e);
	if (rc == ML_OK)
		rc = print_new_key(&c, dir, ml_seckey_public(k), pass != NULL, &e);
	if (pass)
		sodium_free(pass);
	ml_seckey_free(k);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

/* Signs req with the --key and appends it; prints "SEQ sha256:LEAF". */
static int
sign_append(struct cli *c, struct ml_ledger *l, json_t *req, struct ml_err *e)
{
	struct ml_seckey *k = NULL;
	struct ml_buf payload = {0}, env = {0};
	struct ml_append_item item = {0};
	struct ml_appended out;
	enum ml_kind kind;
	int rc;

	if ((rc = cli_load_key(c, &k, e)) ||
	    (rc = ml_request_bind_origin(req, ml_ledger_origin(l), NULL, e)))
		goto out;
	if ((rc = ml_request_build(req, NULL, NULL, ml_now_us(), &kind, &payload, e))) {
		cli_flag_error(e); /* the members came from options */
		goto out;
	}
	if ((rc = ml_envelope_sign(k, payload.data, payload.len, &env, e)))
		goto out;
	if (cli_get(c, "out")) { /* for a countersignature (dual control) */
		rc = cli_envelope_out(c, l, &env, ml_seckey_public(k), NULL, e);
		goto out;
	}
	item.envelope = env.data;
	item.len = env.len;
	item.signed_by = ml_seckey_public(k);
	item.statement = NULL;
	if ((rc = cli_append(c, l, &item, &out, e)))
		goto out;
	cli_print_appended(c, &out, NULL);
out:
	ml_seckey_free(k);
	ml_buf_free(&payload);
	ml_buf_free(&env);
	return rc;
}

#define PERSON_SPEC "person= name= email= employee-id= x509-sha256= oidc-issuer= oidc-subject="

/* The person the PERSON options describe (FORMAT.md §2, "Persons"), id
 * defaulting to the key's name; *out NULL when no option names one. */
static int
person_from_cli(const struct cli *c, const char *keyname, json_t **out, struct ml_err *e)
{
	static const char *const opts[][2] = {
		{"name", "name"}, {"email", "email"}, {"employee-id", "employeeId"},
	};
	const char *iss = cli_get(c, "oidc-issuer"), *sub = cli_get(c, "oidc-subject");
	const char *x509 = cli_get(c, "x509-sha256");
	json_t *who;
	size_t i;
	int rc;

	*out = NULL;
	if (!cli_get(c, "person") && !cli_get(c, "name") && !cli_get(c, "email") &&
	    !cli_get(c, "employee-id") && !x509 && !iss && !sub)
		return ML_OK;
	if (!iss != !sub)
		return ml_err_set(e, ML_EINPUT, "--oidc-issuer and --oidc-subject go together");
	if (!(who = json_pack("{s:s}", "id", cli_get(c, "person") ? cli_get(c, "person")
								    : keyname)))
		return ml_err_set(e, ML_EINPUT, "--person: invalid UTF-8");
	for (i = 0; i < sizeof opts / sizeof opts[0]; i++)
		if (cli_get(c, opts[i][0]) &&
		    json_object_set_new(who, opts[i][1], json_string(cli_get(c, opts[i][0]))))
			goto bad;
	if (x509) {
		/* the hex as sha256sum or `openssl x509 -fingerprint -sha256`
		 * print it: colons dropped, lowercased; the check below wants 64 */
		char v[80] = "sha256:";
		size_t n = 7;
		if (!strncmp(x509, "sha256:", 7))
			x509 += 7;
		for (; *x509 && n < sizeof v - 1; x509++)
			if (*x509 != ':')
				v[n++] = *x509 >= 'A' && *x509 <= 'F' ? (char)(*x509 + 32) : *x509;
		v[n] = '\0';
		if (json_object_set_new(who, "x509", json_string(v)))
			goto bad;
	}
	if (iss && json_object_set_new(who, "oidc", json_pack("{s:s, s:s}", "iss", iss,
							      "sub", sub)))
		goto bad;
	if ((rc = ml_person_check(who, e))) {
		cli_flag_error(e); /* person.email: -> --email: */
		json_decref(who);
		return rc;
	}
	*out = who;
	return ML_OK;
bad:
	json_decref(who);
	return ml_err_set(e, ML_EINPUT, "person: invalid UTF-8");
}

/* A proof of possession file (key possess --out): one JSON object. */
#define POP_TYPE "mlledger-key-possession/v1"
#define POP_MAX 8192

/* Reads path, checks it is vkey's proof for origin and returns its person
 * (owned) and signature (owned).  Errors name the file. */
static int
pop_load(const char *path, const char *origin, const char *vkey, json_t **person,
	 char **sig, struct ml_err *e)
{
	static const char *const members[] = {"type", "origin", "key", "person", "possession"};
	json_t *o, *x;
	char *text = NULL;
	size_t len, i;
	int rc;

	if ((rc = ml_read_file(path, POP_MAX, &text, &len, e)))
		return rc;
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	free(text);
	if (!json_is_object(o) || json_object_size(o) != 5 ||
	    !json_is_string(json_object_get(o, "type")) ||
	    strcmp(json_string_value(json_object_get(o, "type")), POP_TYPE)) {
		json_decref(o);
		return ml_err_set(e, ML_EINPUT, "%s: not a proof of possession (key possess "
				  "--out writes one)", path);
	}
	for (i = 0; i < 5; i++)
		if (!json_object_get(o, members[i]) ||
		    (i != 3 && !json_is_string(json_object_get(o, members[i])))) {
			json_decref(o);
			return ml_err_set(e, ML_EINPUT, "%s: member \"%s\" missing or not text",
					  path, members[i]);
		}
	if (strcmp(json_string_value(json_object_get(o, "key")), vkey)) {
		rc = ml_err_set(e, ML_EKEY, "%s: the proof is for another key (%.80s)", path,
				json_string_value(json_object_get(o, "key")));
	} else if (strcmp(json_string_value(json_object_get(o, "origin")), origin)) {
		rc = ml_err_set(e, ML_EKEY, "%s: the proof is for the ledger %.128s, not this "
				"one (%s)", path, json_string_value(json_object_get(o, "origin")),
				origin);
	} else if ((rc = ml_possession_verify(origin, vkey, json_object_get(o, "person"),
					      json_string_value(json_object_get(o, "possession")),
					      e))) {
		ml_err_prefix(e, rc, path);
	}
	if (rc == ML_OK) {
		x = json_object_get(o, "person");
		*person = json_incref(x);
		if (!(*sig = strdup(json_string_value(json_object_get(o, "possession"))))) {
			json_decref(x);
			rc = ml_err_set(e, ML_EIO, "out of memory");
		}
	}
	json_decref(o);
	return rc;
}

static int
key_possess(int argc, char **argv)
{
	struct cli c = {.cmd = "key possess"};
	struct ml_ledger *l = NULL;
	struct ml_seckey *k = NULL;
	struct ml_err e;
	struct stat st;
	json_t *who = NULL, *o = NULL;
	char vkey[ML_VKEY_MAX], *sig = NULL, *text = NULL;
	const char *origin, *outp;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "key= passphrase-file= origin= out= force "
			    PERSON_SPEC)))
		return rc;
	if (cli_has(&c, "help")) {
		fputs(key_usage, stdout);
		return ML_OK;
	}
	if (c.nargs)
		return cli_failf(&c, ML_EINPUT, "unexpected argument \"%.64s\"", c.args[0]);
	if (!(outp = cli_get(&c, "out")))
		return cli_failf(&c, ML_EINPUT, "--out NAME.pop is required");
	if ((rc = cli_out_check(&c, "--out", outp, 0, &e)))
		return cli_fail(&c, &e);
	origin = cli_get(&c, "origin");
	if (!origin && stat(c.ledger, &st) == 0) {
		if ((rc = cli_open(&c, 0, &l, &e)))
			goto out;
		origin = ml_ledger_origin(l);
	}
	if (!origin) {
		rc = ml_err_set(&e, ML_EINPUT, "the proof must name the ledger it is for: give "
				"--origin ORIGIN ('mlledger log-key' prints ORIGIN+...)");
		goto out;
	}
	if ((rc = cli_load_key(&c, &k, &e)))
		goto out;
	ml_pubkey_format(ml_seckey_public(k), vkey);
	if ((rc = person_from_cli(&c, ml_seckey_public(k)->name, &who, &e)))
		goto out;
	if (!who && !(who = json_pack("{s:s}", "id", ml_seckey_public(k)->name))) {
		rc = ml_err_set(&e, ML_EIO, "out of memory");
		goto out;
	}
	if ((rc = ml_possession_sign(k, origin, who, &sig, &e)))
		goto out;
	o = json_pack("{s:s, s:s, s:s, s:O, s:s}", "type", POP_TYPE, "origin", origin, "key",
		      vkey, "person", who, "possession", sig);
	if (!o || !(text = json_dumps(o, JSON_COMPACT))) {
		rc = ml_err_set(&e, ML_EIO, "out of memory");
		goto out;
	}
	{
		size_t n = strlen(text);
		char *t2 = realloc(text, n + 2);
		if (!t2) {
			rc = ml_err_set(&e, ML_EIO, "out of memory");
			goto out;
		}
		text = t2;
		text[n] = '\n';
		text[n + 1] = '\0';
	}
	if ((rc = ml_write_file_atomic(outp, text, strlen(text), 0644, !cli_has(&c, "force"),
				       &e)) == ML_OK)
		rc = cli_print_written(&c, outp, &e);
out:
	free(text);
	free(sig);
	json_decref(o);
	json_decref(who);
	ml_seckey_free(k);
	ml_ledger_close(l);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

static int
key_enroll(int argc, char **argv)
{
	struct cli c = {.cmd = "key enroll"};
	struct ml_ledger *l = NULL;
	struct ml_seckey *holder = NULL;
	struct ml_pubkey pk;
	struct ml_err e;
	char vkey[ML_VKEY_MAX], *sig = NULL;
	const char *roles, *p;
	json_t *req = NULL, *arr, *who = NULL, *pop_who = NULL;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "role= key= passphrase-file= possession= "
			    "holder-key= out= force server= log-key= trust= state= mirror= " PERSON_SPEC)))
		return rc;
	if (cli_has(&c, "help")) {
		fputs(key_usage, stdout);
		return ML_OK;
	}
	roles = cli_get(&c, "role");
	if (c.nargs != 1 || !roles)
		return cli_failf(&c, ML_EINPUT, "expected NAME.pub --role ROLE[,ROLE...]");
	if (cli_get(&c, "possession") && cli_get(&c, "holder-key"))
		return cli_failf(&c, ML_EINPUT, "give one of --possession NAME.pop and "
				 "--holder-key NAME.key");
	if ((rc = ml_pubkey_load(c.args[0], &pk, &e)))
		return cli_fail(&c, &e);
	ml_pubkey_format(&pk, vkey);
	if ((rc = person_from_cli(&c, pk.name, &who, &e)))
		return cli_fail(&c, &e);
	arr = json_array();
	for (p = roles; *p;) {
		size_t n = strcspn(p, ",");
		json_array_append_new(arr, json_stringn(p, n));
		p += n;
		if (*p == ',')
			p++;
	}
	req = json_pack("{s:s, s:s, s:o}", "kind", "key-enrollment", "key", vkey, "roles", arr);
	if ((rc = cli_open_append(&c, &l, &e)))
		goto out;
	if (cli_get(&c, "possession")) {
		/* the holder's proof names the person: the admin's options may
		 * only repeat it */
		if ((rc = pop_load(cli_get(&c, "possession"), ml_ledger_origin(l), vkey, &pop_who,
				   &sig, &e)))
			goto out;
		if (who && !json_equal(who, pop_who)) {
			rc = ml_err_set(&e, ML_EINPUT, "%s names another person than the options "
					"give; the holder's proof decides who the key belongs to",
					cli_get(&c, "possession"));
			goto out;
		}
		json_object_set(req, "person", pop_who);
		json_object_set_new(req, "possession", json_string(sig));
	} else {
		if (who)
			json_object_set(req, "person", who);
		if (cli_get(&c, "holder-key")) {
			if ((rc = cli_load_key_opt(&c, "holder-key", &holder, &e)) ||
			    (rc = ml_request_add_possession(req, ml_ledger_origin(l), holder, &e)))
				goto out;
		}
	}
	rc = sign_append(&c, l, req, &e);
out:
	free(sig);
	json_decref(who);
	json_decref(pop_who);
	json_decref(req);
	ml_seckey_free(holder);
	ml_ledger_close(l);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

static int
key_revoke(int argc, char **argv)
{
	struct cli c = {.cmd = "key revoke"};
	struct ml_ledger *l = NULL;
	struct ml_key_row row;
	struct ml_err e;
	json_t *req = NULL;
	int rc, found = 0;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "reason= key= passphrase-file= out= force server= log-key= trust= state= mirror=")))
		return rc;
	if (cli_has(&c, "help")) {
		fputs(key_usage, stdout);
		return ML_OK;
	}
	if (c.nargs != 1 || !cli_get(&c, "reason"))
		return cli_failf(&c, ML_EINPUT, "expected NAME --reason TEXT");
	if ((rc = cli_open_append(&c, &l, &e)))
		return cli_fail(&c, &e);
	rc = ml_store_key_active_by_name(ml_ledger_store(l), ML_DB_MAIN, c.args[0], &row,
					 &found, &e);
	if (rc == ML_OK && !found)
		rc = ml_err_set(&e, ML_EINPUT, "no active key named \"%.64s\"", c.args[0]);
	if (rc == ML_OK) {
		req = json_pack("{s:s, s:s, s:s}", "kind", "key-revocation", "key", row.vkey,
				"reason", cli_get(&c, "reason"));
		rc = req ? sign_append(&c, l, req, &e)
			 : ml_err_set(&e, ML_EINPUT, "--reason: invalid UTF-8");
	}
	json_decref(req);
	ml_ledger_close(l);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

struct list_ctx {
	int json, n;
	struct ml_store *s;
};

/* The person of the key enrolled at seq (FORMAT.md §2, "Persons"), from
 * its enrolment statement (owned; NULL when it names none). */
static json_t *
enrolled_person(struct ml_store *s, int64_t seq)
{
	struct ml_entry en;
	struct ml_envelope env;
	struct ml_statement st;
	uint8_t *bytes = NULL, leaf[ML_SHA256_LEN];
	json_t *who = NULL;

	if (seq < 0 || ml_store_entry_get(s, (uint64_t)seq, &en, &bytes, leaf, NULL))
		return NULL;
	if (ml_envelope_parse(en.envelope, en.envelope_len, &env, NULL) == ML_OK) {
		if (ml_statement_parse(env.payload, env.payload_len, &st, NULL) == ML_OK) {
			who = json_incref(json_object_get(st.predicate, "person"));
			ml_statement_free(&st);
		}
		ml_envelope_clear(&env);
	}
	free(bytes);
	return who;
}

static int
print_key(void *ctx, const struct ml_key_row *r)
{
	struct list_ctx *lc = ctx;
	json_t *who = enrolled_person(lc->s, r->enrolled_seq);

	if (lc->json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:o, s:O}", "keyid", r->keyid,
				      "name", r->name, "key", r->vkey, "roles", r->roles,
				      "enrolledSeq", (json_int_t)r->enrolled_seq, "revokedSeq",
				      r->revoked_seq >= 0 ? json_integer(r->revoked_seq)
							  : json_null(),
				      "person", who ? who : json_null());
		char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
		printf("%s%s", lc->n ? ",\n" : "[\n", s ? s : "null");
		free(s);
		json_decref(o);
	} else {
		char rev[32] = "-";
		json_t *oidc = json_object_get(who, "oidc");
		const char *v;
		if (r->revoked_seq >= 0)
			snprintf(rev, sizeof rev, "%lld", (long long)r->revoked_seq);
		printf("%-24s %-34s %-8lld %-8s %s", r->name, r->keyid,
		       (long long)r->enrolled_seq, rev, r->roles);
		/* the person and the identity claims, when the enrolment names them */
		if (who) {
			printf("  %s", json_string_value(json_object_get(who, "id")));
			if ((v = json_string_value(json_object_get(who, "name"))))
				printf(" \"%s\"", v);
			if ((v = json_string_value(json_object_get(who, "email"))))
				printf(" <%s>", v);
			if ((v = json_string_value(json_object_get(who, "employeeId"))))
				printf(" employee=%s", v);
			if ((v = json_string_value(json_object_get(who, "x509"))))
				printf(" x509=%s", v);
			if (oidc)
				printf(" oidc=%s#%s", json_string_value(json_object_get(oidc, "iss")),
				       json_string_value(json_object_get(oidc, "sub")));
		}
		putchar('\n');
	}
	json_decref(who);
	lc->n++;
	return 0;
}

static int
key_list(int argc, char **argv)
{
	struct cli c = {.cmd = "key list"};
	struct ml_ledger *l;
	struct list_ctx lc = {0, 0, NULL};
	struct ml_err e;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "")))
		return rc;
	if (cli_has(&c, "help")) {
		fputs(key_usage, stdout);
		return ML_OK;
	}
	if ((rc = cli_open(&c, 0, &l, &e)))
		return cli_fail(&c, &e);
	lc.json = c.json;
	lc.s = ml_ledger_store(l);
	if (!c.json)
		printf("%-24s %-34s %-8s %-8s %s  %s\n", "NAME", "KEYID", "ENROLLED", "REVOKED",
		       "ROLES", "PERSON");
	rc = ml_store_key_each(ml_ledger_store(l), print_key, &lc, &e);
	if (c.json)
		printf("%s]\n", lc.n ? "\n" : "[");
	ml_ledger_close(l);
	return rc ? cli_fail(&c, &e) : ML_OK;
}

int
cmd_key(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "new"))
		return key_new(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "enroll"))
		return key_enroll(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "possess"))
		return key_possess(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "revoke"))
		return key_revoke(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return key_list(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))) {
		fputs(key_usage, stdout);
		return ML_OK;
	}
	fputs(key_usage, stderr);
	return ML_EINPUT;
}

int
cmd_init(int argc, char **argv)
{
	struct cli c = {.cmd = "init"};
	struct ml_seckey *k = NULL;
	struct ml_appended g;
	struct ml_err e;
	char hex[72] = "sha256:", keypath[4200], *gov = NULL;
	int rc;

	ml_err_clear(&e);
	if ((rc = cli_parse(&c, argc, argv, "key= origin= passphrase-file= governance=")))
		return rc;
	if (cli_has(&c, "help")) {
		puts("usage: mlledger [--ledger PATH] init --key ADMIN.key [--origin NAME]\n"
		     "                [--governance FILE]\n\n"
		     "Creates the ledger (default " ML_DEFAULT_LEDGER "), its log key PATH.log.key\n"
		     "(0600, signs checkpoints), and the genesis entry enrolling ADMIN as admin.\n"
		     "The origin names the log; default <hostname>/<absolute path>.\n"
		     "--governance FILE sets the ledger's governance document in the genesis\n"
		     "(see mlledger governance --help); without it the documented default governs.");
		return ML_OK;
	}
	if (c.nargs)
		return cli_failf(&c, ML_EINPUT, "unexpected argument \"%s\"", c.args[0]);
	if (cli_get(&c, "governance") &&
	    (rc = cli_governance_file(cli_get(&c, "governance"), &gov, &e)))
		return cli_fail(&c, &e);
	if ((rc = cli_load_key(&c, &k, &e))) {
		free(gov);
		return cli_fail(&c, &e);
	}
	rc = ml_ledger_init_governed(c.ledger, cli_get(&c, "origin"), k, gov, &g, &e);
	free(gov);
	ml_seckey_free(k);
	if (rc)
		return cli_fail(&c, &e);
	ml_hex_encode(g.leaf, sizeof g.leaf, hex + 7);
	ml_ledger_logkey_path(c.ledger, keypath, sizeof keypath);
	if (c.json) {
		char t[21];
		ml_time_format(g.time_us, t);
		rc = cli_print_json(json_pack("{s:s, s:s, s:I, s:s, s:s}", "ledger", c.ledger,
					      "logKeyFile", keypath, "seq", (json_int_t)g.seq,
					      "leafHash", hex, "time", t),
				    &e);
		return rc ? cli_fail(&c, &e) : ML_OK;
	}
	printf("created %s (log key %s)\n0 %s\n", c.ledger, keypath, hex);
	return ML_OK;
}
