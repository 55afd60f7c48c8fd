/* note_trust — c2sp.org/tlog-policy trust policies (see note_trust.h).
 *
 * Every parser walks its input with explicit lengths (inputs need not be
 * NUL-terminated), checks a size limit first, and builds its result in
 * locals that are copied to *out only on success.
 */
#include "note_trust.h"
#include "note_checkpoint.h"
#include "note_cosig.h"
#include "note_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLICY_NODES_MAX (ML_TRUST_WITNESSES_MAX + ML_TRUST_GROUPS_MAX)
#define POLICY_TOKENS_MAX (3 + POLICY_NODES_MAX)

/* ---- policies ---- */

struct policy_node {
	char name[ML_TRUST_NAME_MAX + 1];
	size_t name_len;
	int is_group;
	int listed;                        /* already a member of some group */
	struct ml_cosig_key key;           /* witness */
	size_t k, n;                       /* group: threshold and members */
	uint16_t members[POLICY_NODES_MAX];
};

struct ml_trust {
	struct ml_pubkey logs[ML_TRUST_LOGS_MAX];
	size_t nlogs;
	struct policy_node nodes[POLICY_NODES_MAX];
	size_t nnodes, nwitnesses, ngroups;
	int have_quorum;
	int quorum;                        /* node index, or -1 for "none" */
};

struct token {
	const char *s;
	size_t len;
};

static int
tok_is(const struct token *t, const char *word)
{
	return t->len == strlen(word) && memcmp(t->s, word, t->len) == 0;
}

/* Writes a printable rendering of a token (at most 40 bytes, non-printable
 * bytes as \xNN) into buf[200]. */
static const char *
tok_show(const struct token *t, char buf[200])
{
	size_t i, o = 0;

	for (i = 0; i < t->len && i < 40; i++) {
		unsigned char c = (unsigned char)t->s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, 5, "\\x%02x", c);
	}
	if (i < t->len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

static int
find_node(const struct ml_trust *p, const struct token *t)
{
	size_t i;

	for (i = 0; i < p->nnodes; i++)
		if (p->nodes[i].name_len == t->len &&
		    memcmp(p->nodes[i].name, t->s, t->len) == 0)
			return (int)i;
	return -1;
}

/* Checks a new witness or group name: ML_OK, or ML_EINPUT with e set. */
static enum ml_rc
new_name_ok(const struct ml_trust *p, const struct token *t, size_t lineno,
	    struct ml_err *e)
{
	char show[200];

	if (t->len > ML_TRUST_NAME_MAX) {
		ml_err_set(e, ML_EINPUT, "line %zu: name longer than %d bytes", lineno,
			   ML_TRUST_NAME_MAX);
		return ML_EINPUT;
	}
	if (tok_is(t, "none")) {
		ml_err_set(e, ML_EINPUT, "line %zu: \"none\" is predefined", lineno);
		return ML_EINPUT;
	}
	if (find_node(p, t) >= 0) {
		ml_err_set(e, ML_EINPUT, "line %zu: duplicate name %s", lineno,
			   tok_show(t, show));
		return ML_EINPUT;
	}
	return ML_OK;
}

static int
policy_log(struct ml_trust *p, const struct token *tok, size_t ntok, size_t lineno,
	   struct ml_err *e)
{
	struct ml_pubkey k;
	size_t i;

	if (ntok < 2 || ntok > 3)
		return ml_err_set(e, ML_EINPUT, "line %zu: want \"log <vkey> [<url>]\"",
				  lineno);
	if (p->nlogs == ML_TRUST_LOGS_MAX)
		return ml_err_set(e, ML_EINPUT, "line %zu: more than %d logs", lineno,
				  ML_TRUST_LOGS_MAX);
	if (ml_pubkey_parse(tok[1].s, tok[1].len, &k, e) != ML_OK) {
		char old[sizeof e->msg];
		memcpy(old, e->msg, sizeof old);
		return ml_err_set(e, ML_EINPUT, "line %zu: log key: %s", lineno, old);
	}
	for (i = 0; i < p->nlogs; i++)
		if (memcmp(p->logs[i].pk, k.pk, ML_PUBKEY_LEN) == 0)
			return ml_err_set(e, ML_EINPUT,
					  "line %zu: duplicate log (same public key as "
					  "an earlier log)", lineno);
	for (i = 0; i < p->nnodes; i++)
		if (!p->nodes[i].is_group &&
		    memcmp(p->nodes[i].key.pk, k.pk, ML_PUBKEY_LEN) == 0)
			return ml_err_set(e, ML_EINPUT,
					  "line %zu: the log key is also a witness's key (a "
					  "log cannot witness itself)", lineno);
	p->logs[p->nlogs++] = k;
	return ML_OK;
}

static int
policy_witness(struct ml_trust *p, const struct token *tok, size_t ntok,
	       size_t lineno, struct ml_err *e)
{
	struct policy_node *w;
	struct ml_cosig_key k;
	size_t i;

	if (ntok < 3 || ntok > 4)
		return ml_err_set(e, ML_EINPUT,
				  "line %zu: want \"witness <name> <vkey> [<url>]\"",
				  lineno);
	if (p->nwitnesses == ML_TRUST_WITNESSES_MAX)
		return ml_err_set(e, ML_EINPUT, "line %zu: more than %d witnesses",
				  lineno, ML_TRUST_WITNESSES_MAX);
	if (new_name_ok(p, &tok[1], lineno, e) != 0)
		return ML_EINPUT;
	if (ml_cosig_vkey_parse(tok[2].s, tok[2].len, &k, e) != ML_OK) {
		char old[sizeof e->msg];
		memcpy(old, e->msg, sizeof old);
		return ml_err_set(e, ML_EINPUT, "line %zu: %s", lineno, old);
	}
	for (i = 0; i < p->nnodes; i++)
		if (!p->nodes[i].is_group &&
		    memcmp(p->nodes[i].key.pk, k.pk, ML_PUBKEY_LEN) == 0)
			return ml_err_set(e, ML_EINPUT,
					  "line %zu: duplicate witness (same public key "
					  "as an earlier witness)", lineno);
	for (i = 0; i < p->nlogs; i++)
		if (memcmp(p->logs[i].pk, k.pk, ML_PUBKEY_LEN) == 0)
			return ml_err_set(e, ML_EINPUT,
					  "line %zu: witness key is the log key %s (a log "
					  "cannot witness itself)", lineno, p->logs[i].name);
	w = &p->nodes[p->nnodes++];
	memcpy(w->name, tok[1].s, tok[1].len);
	w->name[tok[1].len] = '\0';
	w->name_len = tok[1].len;
	w->key = k;
	p->nwitnesses++;
	return ML_OK;
}

static int
policy_group(struct ml_trust *p, const struct token *tok, size_t ntok, size_t lineno,
	     struct ml_err *e)
{
	struct policy_node *g;
	char show[200];
	uint64_t k = 0;
	size_t i, n;

	if (ntok < 4)
		return ml_err_set(e, ML_EINPUT,
				  "line %zu: want \"group <name> all|any|<k> <name>...\"",
				  lineno);
	if (p->ngroups == ML_TRUST_GROUPS_MAX)
		return ml_err_set(e, ML_EINPUT, "line %zu: more than %d groups", lineno,
				  ML_TRUST_GROUPS_MAX);
	if (new_name_ok(p, &tok[1], lineno, e) != 0)
		return ML_EINPUT;
	n = ntok - 3;
	if (tok_is(&tok[2], "any")) {
		k = 1;
	} else if (tok_is(&tok[2], "all")) {
		k = n;
	} else {
		/* "If k is given numerically, it must be written in decimal" */
		for (i = 0; i < tok[2].len; i++)
			if (tok[2].s[i] < '0' || tok[2].s[i] > '9' || i >= 9)
				return ml_err_set(e, ML_EINPUT,
						  "line %zu: threshold %s is not "
						  "all, any or a decimal number",
						  lineno,
						  tok_show(&tok[2], show));
		for (i = 0; i < tok[2].len; i++)
			k = k * 10 + (uint64_t)(tok[2].s[i] - '0');
		if (k < 1 || k > n)
			return ml_err_set(e, ML_EINPUT,
					  "line %zu: threshold %llu is not between 1 "
					  "and the %zu members", lineno,
					  (unsigned long long)k, n);
	}
	g = &p->nodes[p->nnodes];
	memset(g, 0, sizeof *g);
	for (i = 0; i < n; i++) {
		const struct token *m = &tok[3 + i];
		int idx;
		if (tok_is(m, "none"))
			return ml_err_set(e, ML_EINPUT,
					  "line %zu: \"none\" cannot be a group member",
					  lineno);
		idx = find_node(p, m);
		if (idx < 0)
			return ml_err_set(e, ML_EINPUT,
					  "line %zu: member %s is not a witness or group "
					  "defined on an earlier line", lineno,
					  tok_show(m, show));
		if (p->nodes[idx].listed)
			return ml_err_set(e, ML_EINPUT,
					  "line %zu: %s is already listed as a group "
					  "member (each name at most once)", lineno,
					  tok_show(m, show));
		p->nodes[idx].listed = 1;
		g->members[i] = (uint16_t)idx;
	}
	memcpy(g->name, tok[1].s, tok[1].len);
	g->name[tok[1].len] = '\0';
	g->name_len = tok[1].len;
	g->is_group = 1;
	g->k = (size_t)k;
	g->n = n;
	p->nnodes++;
	p->ngroups++;
	return ML_OK;
}

static int
policy_quorum(struct ml_trust *p, const struct token *tok, size_t ntok,
	      size_t lineno, struct ml_err *e)
{
	char show[200];
	int idx;

	if (ntok != 2)
		return ml_err_set(e, ML_EINPUT, "line %zu: want \"quorum <name>|none\"",
				  lineno);
	if (p->have_quorum)
		return ml_err_set(e, ML_EINPUT, "line %zu: a second quorum line", lineno);
	if (tok_is(&tok[1], "none")) {
		idx = -1;
	} else {
		idx = find_node(p, &tok[1]);
		if (idx < 0)
			return ml_err_set(e, ML_EINPUT,
					  "line %zu: quorum %s is not a witness or group "
					  "defined on an earlier line", lineno,
					  tok_show(&tok[1], show));
	}
	p->have_quorum = 1;
	p->quorum = idx;
	return ML_OK;
}

int
ml_trust_parse(const char *text, size_t len, struct ml_trust **out, struct ml_err *e)
{
	struct ml_trust *p;
	struct token tok[POLICY_TOKENS_MAX];
	size_t off, end, i, ntok, lineno = 0;
	char show[200];
	int rc = ML_OK;

	if (len > ML_TRUST_MAX)
		return ml_err_set(e, ML_EINPUT, "policy: longer than %d bytes",
				  ML_TRUST_MAX);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (!(c == '\t' || c == '\n' || (c >= 0x20 && c != 0x7f)))
			return ml_err_set(e, ML_EINPUT,
					  "policy: byte 0x%02x at offset %zu is not "
					  "allowed (only tab, newline, 0x20-0x7e, "
					  "0x80-0xff)", c, i);
	}
	p = calloc(1, sizeof *p);
	if (!p)
		return ml_err_set(e, ML_EIO, "policy: out of memory");

	/* A last line without its newline is read as a line too. */
	for (off = 0; off < len; off = end + 1) {
		const char *nl = memchr(text + off, '\n', len - off);
		end = nl ? (size_t)(nl - text) : len;
		lineno++;
		ntok = 0;
		for (i = off; i < end;) {
			size_t start;
			while (i < end && (text[i] == ' ' || text[i] == '\t'))
				i++;
			if (i == end)
				break;
			if (ntok == 0 && text[i] == '#')
				break; /* comment line */
			if (ntok == POLICY_TOKENS_MAX) {
				rc = ml_err_set(e, ML_EINPUT, "line %zu: too many items",
						lineno);
				goto out;
			}
			start = i;
			while (i < end && text[i] != ' ' && text[i] != '\t')
				i++;
			tok[ntok].s = text + start;
			tok[ntok].len = i - start;
			ntok++;
		}
		if (ntok == 0)
			continue;
		if (tok_is(&tok[0], "log"))
			rc = policy_log(p, tok, ntok, lineno, e);
		else if (tok_is(&tok[0], "witness"))
			rc = policy_witness(p, tok, ntok, lineno, e);
		else if (tok_is(&tok[0], "group"))
			rc = policy_group(p, tok, ntok, lineno, e);
		else if (tok_is(&tok[0], "quorum"))
			rc = policy_quorum(p, tok, ntok, lineno, e);
		else
			rc = ml_err_set(e, ML_EINPUT, "line %zu: unknown keyword %s",
					lineno, tok_show(&tok[0], show));
		if (rc != ML_OK)
			goto out;
	}
	if (!p->have_quorum) {
		rc = ml_err_set(e, ML_EINPUT, "policy: no quorum line");
		goto out;
	}
	*out = p;
	return ML_OK;
out:
	free(p);
	return rc;
}

void
ml_trust_free(struct ml_trust *p)
{
	free(p);
}

size_t
ml_trust_nlogs(const struct ml_trust *p)
{
	return p->nlogs;
}

const struct ml_pubkey *
ml_trust_log(const struct ml_trust *p, size_t i)
{
	return i < p->nlogs ? &p->logs[i] : NULL;
}

static void
set_why(char *why, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_why(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (!why || !cap)
		return;
	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
}

bool
ml_trust_check(const struct ml_trust *p, const struct ml_note *n, char *why,
		size_t cap)
{
	return ml_trust_check_at(p, n, NULL, NULL, why, cap);
}

/* Appends name to the seen list (", " between names; cut when full). */
static void
seen_add(struct ml_trust_seen *s, const char *name)
{
	size_t used = strlen(s->names);

	if (used + 2 + strlen(name) + 1 > sizeof s->names)
		return;
	snprintf(s->names + used, sizeof s->names - used, "%s%s", used ? ", " : "", name);
}

bool
ml_trust_check_at(const struct ml_trust *p, const struct ml_note *n,
		   const struct ml_trust_clock *clk, struct ml_trust_seen *seen, char *why,
		   size_t cap)
{
	struct ml_checkpoint cp;
	struct ml_err pe;
	char ok[POLICY_NODES_MAX] = {0};
	struct token t;
	char show[200];
	enum ml_note_sig_state st;
	int log_ok = 0, expired = -1;
	uint64_t ts;
	size_t i, j, count;
	char more[300] = "";

	set_why(why, cap, "ok");
	if (seen)
		memset(seen, 0, sizeof *seen);
	ml_err_clear(&pe);
	if (ml_checkpoint_parse(n->text, n->text_len, &cp, &pe) != ML_OK) {
		set_why(why, cap, "%s", pe.msg);
		return false;
	}
	if (p->nlogs == 0) {
		set_why(why, cap, "the policy names no log");
		return false;
	}
	for (i = 0; i < p->nlogs; i++) {
		st = ml_note_sig_status(n, &p->logs[i]);
		if (st == ML_NOTE_SIG_BAD) {
			set_why(why, cap,
				"the signature by log key %s+%08x does not verify",
				p->logs[i].name, (unsigned)p->logs[i].hash);
			return false;
		}
		if (st == ML_NOTE_SIG_VALID && strcmp(p->logs[i].name, cp.origin) == 0)
			log_ok = 1;
	}
	if (!log_ok) {
		t.s = cp.origin;
		t.len = strlen(cp.origin);
		set_why(why, cap,
			"no log of the policy for origin %s signed the checkpoint",
			tok_show(&t, show));
		return false;
	}
	/* Nodes are defined before use, so one pass in order settles groups. */
	for (i = 0; i < p->nnodes; i++) {
		const struct policy_node *nd = &p->nodes[i];
		if (!nd->is_group) {
			st = ml_note_cosig_status(n, &nd->key, &ts);
			if (st == ML_NOTE_SIG_BAD) {
				t.s = nd->name;
				t.len = nd->name_len;
				set_why(why, cap,
					"the cosignature by witness %s does not verify",
					tok_show(&t, show));
				return false;
			}
			t.s = nd->name;
			t.len = nd->name_len;
			if (st == ML_NOTE_SIG_VALID && clk && (int64_t)ts > clk->now + clk->tolerance) {
				set_why(why, cap,
					"the cosignature by witness %s is dated %llu, %lld s "
					"in the future (the witness's clock or ours is wrong)",
					tok_show(&t, show), (unsigned long long)ts,
					(long long)((int64_t)ts - clk->now));
				return false;
			}
			if (st == ML_NOTE_SIG_VALID && clk && clk->max_age > 0 &&
			    (int64_t)ts < clk->now - clk->max_age) {
				/* too old: counts as no cosignature */
				expired = (int)i;
				st = ML_NOTE_SIG_NONE;
			}
			if (st == ML_NOTE_SIG_VALID && seen) {
				seen_add(seen, tok_show(&t, show));
				seen->nwitnesses++;
				if (ts > seen->newest)
					seen->newest = ts;
			}
			ok[i] = st == ML_NOTE_SIG_VALID;
			continue;
		}
		for (j = 0, count = 0; j < nd->n; j++)
			count += ok[nd->members[j]] ? 1 : 0;
		ok[i] = count >= nd->k;
	}
	if (p->quorum >= 0 && !ok[p->quorum]) {
		const struct policy_node *q = &p->nodes[p->quorum];
		if (expired >= 0) {
			t.s = p->nodes[expired].name;
			t.len = p->nodes[expired].name_len;
			snprintf(more, sizeof more,
				 " (the cosignature by witness %s is older than %lld s)",
				 tok_show(&t, show), (long long)clk->max_age);
		}
		t.s = q->name;
		t.len = q->name_len;
		if (q->is_group) {
			for (j = 0, count = 0; j < q->n; j++)
				count += ok[q->members[j]] ? 1 : 0;
			set_why(why, cap,
				"quorum %s not met: %zu of its %zu members witnessed, "
				"%zu needed%s", tok_show(&t, show), count, q->n, q->k, more);
		} else {
			set_why(why, cap,
				"quorum not met: no valid cosignature by witness %s%s",
				tok_show(&t, show), more);
		}
		return false;
	}
	return true;
}
