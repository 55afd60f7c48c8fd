/* policy_xpath — finds the names an XPath 1.0 expression uses (variables,
 * namespace prefixes, functions with their argument counts), so that the
 * policy compiler can bind every one of them at load: libxml2 resolves them
 * only when an expression runs.
 *
 * Follows the lexical structure of XPath 1.0 §3.7, including its
 * disambiguation rules: after an operand, '*' multiplies and an NCName is an
 * operator name; an NCName followed by '(' is a function name or node type,
 * one followed by '::' an axis name.  Syntax proper is left to
 * xmlXPathCtxtCompile, which runs first.
 */
#include <stdio.h>
#include <string.h>

#include "policy_int.h"

#define MAX_NESTING 256

enum tok {
	T_NONE,     /* start of expression */
	T_OPEN,     /* ( [ */
	T_CLOSE,    /* ) ] */
	T_COMMA,
	T_AT,
	T_AXIS,     /* :: after an axis name */
	T_OPERATOR, /* / // | + - = != < <= > >= and or mod div * (multiply) */
	T_OPERAND   /* literal, number, variable, name test, . .. */
};

struct frame {
	char kind;            /* '(' or '[' */
	int func;             /* 1: the parentheses of a function call */
	struct ml_xref ref;   /* the call, when func */
	int commas, tokens;
	int arg1;             /* 0 none yet, 1 literal just seen, 2 literal alone, 3 other */
	const char *lit;
	size_t litlen;
};

static int
name_start(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c >= 0x80;
}

static int
name_char(unsigned char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t
skip_space(const char *s, size_t i)
{
	while (is_space(s[i]))
		i++;
	return i;
}

static size_t
ncname_end(const char *s, size_t i)
{
	while (name_char((unsigned char)s[i]))
		i++;
	return i;
}

static int
equals(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(s, word, len) == 0;
}

static int
node_type(const char *s, size_t len)
{
	return equals(s, len, "comment") || equals(s, len, "text") ||
	       equals(s, len, "processing-instruction") || equals(s, len, "node");
}

/* Notes a token in the innermost frame (for argument counting and the
 * literal first argument). */
static void
count_token(struct frame *f, int is_literal, const char *lit, size_t litlen)
{
	if (!f)
		return;
	f->tokens++;
	if (!f->func)
		return;
	if (f->arg1 == 0 && f->commas == 0) {
		if (is_literal) {
			f->arg1 = 1;
			f->lit = lit;
			f->litlen = litlen;
		} else {
			f->arg1 = 3;
		}
	} else if (f->arg1 == 1 && f->commas == 0) {
		f->arg1 = 3; /* the literal is part of a longer first argument */
	}
}

enum ml_rc
ml_xpath_scan(const char *s, int (*cb)(void *ctx, const struct ml_xref *r), void *ctx,
	      char *why, size_t cap)
{
	struct frame stack[MAX_NESTING];
	int depth = 0, rc;
	enum tok prev = T_NONE;
	size_t i = 0;

	for (;;) {
		struct frame *top = depth ? &stack[depth - 1] : NULL;
		unsigned char c;
		int operand_before;

		i = skip_space(s, i);
		c = (unsigned char)s[i];
		if (c == '\0')
			break;
		/* XPath 1.0 §3.7: is the preceding token an operand? */
		operand_before = prev == T_CLOSE || prev == T_OPERAND;
		if (c == '"' || c == '\'') {
			const char *end = strchr(s + i + 1, c);
			if (!end) {
				snprintf(why, cap, "unterminated string literal at offset %zu", i);
				return ML_EPOLICY;
			}
			count_token(top, 1, s + i + 1, (size_t)(end - (s + i + 1)));
			i = (size_t)(end - s) + 1;
			prev = T_OPERAND;
			continue;
		}
		if ((c >= '0' && c <= '9') || (c == '.' && s[i + 1] >= '0' && s[i + 1] <= '9')) {
			while ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')
				i++;
			count_token(top, 0, NULL, 0);
			prev = T_OPERAND;
			continue;
		}
		if (c == '$') {
			struct ml_xref r = {ML_XREF_VAR, NULL, 0, NULL, 0, 0, NULL, 0, i};
			size_t b = i + 1, e;
			if (!name_start((unsigned char)s[b])) {
				snprintf(why, cap, "'$' without a variable name at offset %zu", i);
				return ML_EPOLICY;
			}
			e = ncname_end(s, b);
			if (s[e] == ':' && name_start((unsigned char)s[e + 1])) {
				r.prefix = s + b;
				r.plen = e - b;
				b = e + 1;
				e = ncname_end(s, b);
			}
			r.name = s + b;
			r.nlen = e - b;
			if ((rc = cb(ctx, &r)))
				return rc;
			count_token(top, 0, NULL, 0);
			i = e;
			prev = T_OPERAND;
			continue;
		}
		if (name_start(c)) {
			struct ml_xref r = {ML_XREF_PREFIX, NULL, 0, NULL, 0, 0, NULL, 0, i};
			size_t b = i, e = ncname_end(s, i), after;
			int star = 0;

			if (operand_before) {
				/* an operator name: and, or, mod, div */
				i = e;
				prev = T_OPERATOR;
				count_token(top, 0, NULL, 0);
				continue;
			}
			if (s[e] == ':' && s[e + 1] != ':') {
				r.prefix = s + b;
				r.plen = e - b;
				if (s[e + 1] == '*') {
					star = 1;
					e += 2;
				} else if (name_start((unsigned char)s[e + 1])) {
					b = e + 1;
					e = ncname_end(s, b);
				} else {
					snprintf(why, cap, "stray ':' at offset %zu", e);
					return ML_EPOLICY;
				}
			}
			r.name = star ? s + e - 1 : s + b;
			r.nlen = star ? 1 : e - b;
			after = skip_space(s, e);
			count_token(top, 0, NULL, 0);
			if (!star && s[after] == '(' && !(r.plen == 0 && node_type(r.name, r.nlen))) {
				/* a function call: counted when its ')' closes */
				if (depth == MAX_NESTING) {
					snprintf(why, cap, "nested too deeply");
					return ML_EPOLICY;
				}
				r.kind = ML_XREF_FUNC;
				memset(&stack[depth], 0, sizeof stack[depth]);
				stack[depth].kind = '(';
				stack[depth].func = 1;
				stack[depth].ref = r;
				depth++;
				i = after + 1;
				prev = T_OPEN;
				continue;
			}
			if (!star && s[after] == ':' && s[after + 1] == ':') {
				if (r.plen) {
					snprintf(why, cap, "an axis name has no prefix (offset %zu)", i);
					return ML_EPOLICY;
				}
				i = after + 2;
				prev = T_AXIS;
				continue;
			}
			if (r.plen && (rc = cb(ctx, &r)))
				return rc;
			i = e;
			prev = T_OPERAND;
			continue;
		}
		switch (c) {
		case '(':
		case '[':
			count_token(top, 0, NULL, 0);
			if (depth == MAX_NESTING) {
				snprintf(why, cap, "nested too deeply");
				return ML_EPOLICY;
			}
			memset(&stack[depth], 0, sizeof stack[depth]);
			stack[depth].kind = (char)c;
			depth++;
			i++;
			prev = T_OPEN;
			continue;
		case ')':
		case ']':
			if (!top || top->kind != (c == ')' ? '(' : '[')) {
				snprintf(why, cap, "unbalanced '%c' at offset %zu", c, i);
				return ML_EPOLICY;
			}
			if (top->func) {
				struct ml_xref r = top->ref;
				r.nargs = top->tokens ? top->commas + 1 : 0;
				if (top->arg1 == 1 || top->arg1 == 2) {
					r.arg1 = top->lit;
					r.arg1len = top->litlen;
				}
				if ((rc = cb(ctx, &r)))
					return rc;
			}
			depth--;
			i++;
			prev = T_CLOSE;
			continue;
		case ',':
			if (!top || top->kind != '(' || !top->func) {
				snprintf(why, cap, "',' outside a function call at offset %zu", i);
				return ML_EPOLICY;
			}
			if (top->arg1 == 1 && top->commas == 0)
				top->arg1 = 2;
			top->commas++;
			i++;
			prev = T_COMMA;
			continue;
		case '@':
			count_token(top, 0, NULL, 0);
			i++;
			prev = T_AT;
			continue;
		case '.':
			count_token(top, 0, NULL, 0);
			i += s[i + 1] == '.' ? 2 : 1;
			prev = T_OPERAND;
			continue;
		case '*':
			count_token(top, 0, NULL, 0);
			i++;
			prev = operand_before ? T_OPERATOR : T_OPERAND;
			continue;
		case '/':
		case '|':
		case '+':
		case '-':
		case '=':
		case '<':
		case '>':
			count_token(top, 0, NULL, 0);
			i++;
			if ((c == '/' && s[i] == '/') || ((c == '<' || c == '>') && s[i] == '='))
				i++;
			prev = T_OPERATOR;
			continue;
		case '!':
			if (s[i + 1] != '=') {
				snprintf(why, cap, "stray '!' at offset %zu", i);
				return ML_EPOLICY;
			}
			count_token(top, 0, NULL, 0);
			i += 2;
			prev = T_OPERATOR;
			continue;
		default:
			snprintf(why, cap, "unexpected character '%c' at offset %zu",
				 c >= 0x20 && c < 0x7f ? c : '?', i);
			return ML_EPOLICY;
		}
	}
	if (depth) {
		snprintf(why, cap, "unclosed '%c'", stack[depth - 1].kind);
		return ML_EPOLICY;
	}
	return ML_OK;
}

const char *
ml_xpath_error_text(const xmlError *err)
{
	static const char *const text[] = {
		"ok",
		"number encoding error",
		"unfinished literal",
		"start of literal expected",
		"variable reference expected",
		"undefined variable",
		"invalid predicate",
		"invalid expression",
		"missing closing bracket",
		"unregistered function",
		"invalid operand",
		"invalid type",
		"invalid number of arguments",
		"invalid context size",
		"invalid context position",
		"out of memory",
		"syntax error",
		"resource error",
		"sub-resource error",
		"undefined namespace prefix",
		"encoding error",
		"character error",
		"invalid or incomplete context",
		"stack usage error",
		"forbidden variable",
		"operation limit exceeded",
		"recursion limit exceeded",
	};
	int code;

	if (!err)
		return "invalid expression";
	code = err->code - XML_XPATH_EXPRESSION_OK;
	if (code >= 0 && (size_t)code < sizeof text / sizeof text[0])
		return text[code];
	return "XPath error";
}

/* ---- static types: node-set = node-set ---------------------------------
 *
 * A recursive-descent reading of the XPath 1.0 grammar (§3) that computes
 * only whether each subexpression is surely a node-set: location paths,
 * unions, filter expressions on node-sets, variables the caller says are
 * node-sets, and the functions that return node-sets (id(), ml:key,
 * ml:data, ml:distinct, ml:latest; ml:if when both branches are).  Anything
 * else is "other" or "unknown", never reported: the check is conservative.
 * A node-set of at most one node (ML_XT_NODE: ".", "..", "@name", "/",
 * ml:latest(), and such paths from one of them) compared with another such
 * is no trap (it is a string comparison); one of them against a larger
 * set is.
 * An expression it cannot read (libxml2 compiled it, so that would be a gap
 * here) gives no finding at all. */

#define XT_MAX_DEPTH 200
#define IS_NODES(t) ((t) == ML_XT_NODESET || (t) == ML_XT_NODE)

struct xt {
	const char *s;
	size_t i;
	int err, depth;
	struct ml_xcheck *c;
};

static void
xt_ws(struct xt *p)
{
	p->i = skip_space(p->s, p->i);
}

/* An NCName at p->i: its length (0 when none), without consuming it. */
static size_t
xt_ncname(const struct xt *p, size_t at)
{
	return name_start((unsigned char)p->s[at]) ? ncname_end(p->s, at) - at : 0;
}

/* Consumes the operator name word when it is next (operator position). */
static int
xt_word(struct xt *p, const char *word)
{
	size_t n;

	xt_ws(p);
	n = xt_ncname(p, p->i);
	if (n && equals(p->s + p->i, n, word)) {
		p->i += n;
		return 1;
	}
	return 0;
}

static int xt_expr(struct xt *p);

/* '[' Expr ']' predicates, as many as there are. */
static void
xt_predicates(struct xt *p)
{
	for (;;) {
		xt_ws(p);
		if (p->err || p->s[p->i] != '[')
			return;
		p->i++;
		xt_expr(p);
		xt_ws(p);
		if (p->s[p->i] != ']') {
			p->err = 1;
			return;
		}
		p->i++;
	}
}

/* Step: '.', '..', or (axis:: | @)? node-test predicates.  Returns 1 when
 * it selects at most one node from one node ('.', '..', self::, parent::,
 * an attribute by name). */
static int
xt_step(struct xt *p)
{
	size_t n, after;
	int one = 0;

	xt_ws(p);
	if (p->s[p->i] == '.') {
		p->i += p->s[p->i + 1] == '.' ? 2 : 1;
		xt_predicates(p);
		return 1;
	}
	if (p->s[p->i] == '@') {
		p->i++;
		xt_ws(p);
		one = 2; /* by name only */
	} else if ((n = xt_ncname(p, p->i))) {
		after = skip_space(p->s, p->i + n);
		if (p->s[after] == ':' && p->s[after + 1] == ':') {
			if (equals(p->s + p->i, n, "self") || equals(p->s + p->i, n, "parent"))
				one = 1;
			else if (equals(p->s + p->i, n, "attribute"))
				one = 2;
			p->i = skip_space(p->s, after + 2);
		}
	}
	if (p->s[p->i] == '*') {
		p->i++;
		if (one == 2)
			one = 0;
	} else if ((n = xt_ncname(p, p->i))) {
		size_t b = p->i;
		p->i += n;
		if (p->s[p->i] == ':' && p->s[p->i + 1] == '*') {
			p->i += 2;
		} else if (p->s[p->i] == ':' && name_start((unsigned char)p->s[p->i + 1])) {
			p->i = ncname_end(p->s, p->i + 1);
		} else if (node_type(p->s + b, n)) {
			after = skip_space(p->s, p->i);
			if (p->s[after] == '(') {
				p->i = skip_space(p->s, after + 1);
				if (p->s[p->i] == '"' || p->s[p->i] == '\'') {
					const char *end = strchr(p->s + p->i + 1, p->s[p->i]);
					if (!end) {
						p->err = 1;
						return 0;
					}
					p->i = skip_space(p->s, (size_t)(end - p->s) + 1);
				}
				if (p->s[p->i] != ')') {
					p->err = 1;
					return 0;
				}
				p->i++;
			}
		}
	} else {
		p->err = 1;
		return 0;
	}
	xt_predicates(p);
	return one != 0;
}

/* Steps separated by / or //: 1 when every step keeps at most one node. */
static int
xt_relative_path(struct xt *p)
{
	int one = xt_step(p);

	for (;;) {
		xt_ws(p);
		if (p->err || p->s[p->i] != '/')
			return one;
		if (p->s[p->i + 1] == '/')
			one = 0;
		p->i += p->s[p->i + 1] == '/' ? 2 : 1;
		one &= xt_step(p);
	}
}

/* Whether a step can start at p->i (after a leading '/'). */
static int
xt_step_start(const struct xt *p)
{
	unsigned char c = (unsigned char)p->s[skip_space(p->s, p->i)];

	return c == '.' || c == '@' || c == '*' || name_start(c);
}

/* The static type of a function call's result. */
static int
xt_call_type(const char *prefix, size_t plen, const char *name, size_t nlen, const int *args,
	     int nargs)
{
	if (plen == 0)
		return equals(name, nlen, "id") ? ML_XT_NODESET : ML_XT_OTHER;
	if (!equals(prefix, plen, "ml"))
		return ML_XT_UNKNOWN;
	if (equals(name, nlen, "latest"))
		return ML_XT_NODE;
	if (equals(name, nlen, "key") || equals(name, nlen, "data") ||
	    equals(name, nlen, "distinct"))
		return ML_XT_NODESET;
	if (equals(name, nlen, "if"))
		return nargs == 3 && args[1] == args[2] ? args[1] : ML_XT_UNKNOWN;
	return ML_XT_OTHER;
}

/* PrimaryExpr: variable, (Expr), literal, number or function call. */
static int
xt_primary(struct xt *p)
{
	const char *s = p->s;
	size_t b, e;

	xt_ws(p);
	b = p->i;
	if (s[b] == '$') {
		b++;
		e = ncname_end(s, b);
		if (s[e] == ':' && name_start((unsigned char)s[e + 1])) {
			b = e + 1;
			e = ncname_end(s, b);
		}
		p->i = e;
		return e > b && p->c->var_type ? p->c->var_type(p->c->ctx, s + b, e - b)
					       : ML_XT_UNKNOWN;
	}
	if (s[b] == '(') {
		int t;
		p->i++;
		t = xt_expr(p);
		xt_ws(p);
		if (s[p->i] != ')') {
			p->err = 1;
			return ML_XT_UNKNOWN;
		}
		p->i++;
		return t;
	}
	if (s[b] == '"' || s[b] == '\'') {
		const char *end = strchr(s + b + 1, s[b]);
		if (!end) {
			p->err = 1;
			return ML_XT_UNKNOWN;
		}
		p->i = (size_t)(end - s) + 1;
		return ML_XT_OTHER;
	}
	if ((s[b] >= '0' && s[b] <= '9') || s[b] == '.') {
		while ((s[p->i] >= '0' && s[p->i] <= '9') || s[p->i] == '.')
			p->i++;
		return ML_XT_OTHER;
	}
	{
		/* QName '(' args ')' */
		const char *prefix = NULL, *name = s + b;
		size_t plen = 0, nlen = xt_ncname(p, b);
		int args[3] = {ML_XT_UNKNOWN, ML_XT_UNKNOWN, ML_XT_UNKNOWN}, nargs = 0;

		e = b + nlen;
		if (nlen && s[e] == ':' && name_start((unsigned char)s[e + 1])) {
			prefix = name;
			plen = nlen;
			name = s + e + 1;
			nlen = ncname_end(s, e + 1) - (e + 1);
			e = e + 1 + nlen;
		}
		e = skip_space(s, e);
		if (!nlen || s[e] != '(') {
			p->err = 1;
			return ML_XT_UNKNOWN;
		}
		p->i = skip_space(s, e + 1);
		if (s[p->i] != ')')
			for (;;) {
				int t = xt_expr(p);
				if (nargs < 3)
					args[nargs] = t;
				nargs++;
				xt_ws(p);
				if (p->err)
					return ML_XT_UNKNOWN;
				if (s[p->i] == ',') {
					p->i++;
					continue;
				}
				break;
			}
		if (s[p->i] != ')') {
			p->err = 1;
			return ML_XT_UNKNOWN;
		}
		p->i++;
		return xt_call_type(prefix, plen, name, nlen, args, nargs);
	}
}

/* PathExpr: a location path, or a filter expression and maybe a path. */
static int
xt_path(struct xt *p)
{
	const char *s = p->s;
	size_t b, n, after;
	int t, primary;

	xt_ws(p);
	b = p->i;
	if (s[b] == '/') {
		p->i += s[b + 1] == '/' ? 2 : 1;
		if (s[b + 1] == '/' || xt_step_start(p))
			return xt_relative_path(p) && s[b + 1] != '/' ? ML_XT_NODE : ML_XT_NODESET;
		return ML_XT_NODE; /* the root */
	}
	primary = s[b] == '$' || s[b] == '(' || s[b] == '"' || s[b] == '\'' ||
		  (s[b] >= '0' && s[b] <= '9') || (s[b] == '.' && s[b + 1] >= '0' && s[b + 1] <= '9');
	if (!primary && (n = xt_ncname(p, b))) {
		/* a function call, unless a node type or an axis */
		after = b + n;
		if (s[after] == ':' && name_start((unsigned char)s[after + 1]))
			after = ncname_end(s, after + 1);
		after = skip_space(s, after);
		primary = s[after] == '(' && !node_type(s + b, n);
	}
	if (!primary) /* from the context node: one node */
		return xt_relative_path(p) ? ML_XT_NODE : ML_XT_NODESET;
	t = xt_primary(p);
	xt_predicates(p);
	xt_ws(p);
	if (s[p->i] == '/') {
		int dbl = s[p->i + 1] == '/';
		p->i += dbl ? 2 : 1;
		t = xt_relative_path(p) && !dbl && t == ML_XT_NODE ? ML_XT_NODE : ML_XT_NODESET;
	}
	return t;
}

static int
xt_union(struct xt *p)
{
	int t = xt_path(p);

	for (;;) {
		xt_ws(p);
		if (p->err || p->s[p->i] != '|')
			return t;
		p->i++;
		xt_path(p);
		t = ML_XT_NODESET;
	}
}

static int
xt_unary(struct xt *p)
{
	xt_ws(p);
	if (p->s[p->i] == '-') {
		p->i++;
		xt_unary(p);
		return ML_XT_OTHER;
	}
	return xt_union(p);
}

static int
xt_mul(struct xt *p)
{
	int t = xt_unary(p);

	for (;;) {
		xt_ws(p);
		if (p->err)
			return t;
		if (p->s[p->i] == '*')
			p->i++;
		else if (!xt_word(p, "div") && !xt_word(p, "mod"))
			return t;
		xt_unary(p);
		t = ML_XT_OTHER;
	}
}

static int
xt_add(struct xt *p)
{
	int t = xt_mul(p);

	for (;;) {
		xt_ws(p);
		if (p->err || (p->s[p->i] != '+' && p->s[p->i] != '-'))
			return t;
		p->i++;
		xt_mul(p);
		t = ML_XT_OTHER;
	}
}

static int
xt_rel(struct xt *p)
{
	int t = xt_add(p);

	for (;;) {
		xt_ws(p);
		if (p->err || (p->s[p->i] != '<' && p->s[p->i] != '>'))
			return t;
		p->i += p->s[p->i + 1] == '=' ? 2 : 1;
		xt_add(p);
		t = ML_XT_OTHER;
	}
}

static int
xt_eq(struct xt *p)
{
	int t = xt_rel(p);

	for (;;) {
		size_t at;
		int u;
		xt_ws(p);
		at = p->i;
		if (p->err)
			return t;
		if (p->s[at] == '=')
			p->i++;
		else if (p->s[at] == '!' && p->s[at + 1] == '=')
			p->i += 2;
		else
			return t;
		u = xt_rel(p);
		if (IS_NODES(t) && IS_NODES(u) && !(t == ML_XT_NODE && u == ML_XT_NODE) &&
		    !p->c->found) {
			p->c->found = 1;
			p->c->pos = at;
			p->c->op_ne = p->s[at] == '!';
		}
		t = ML_XT_OTHER;
	}
}

static int
xt_and(struct xt *p)
{
	int t = xt_eq(p);

	while (!p->err && xt_word(p, "and")) {
		xt_eq(p);
		t = ML_XT_OTHER;
	}
	return t;
}

static int
xt_expr(struct xt *p)
{
	int t;

	if (++p->depth > XT_MAX_DEPTH) {
		p->err = 1;
		return ML_XT_UNKNOWN;
	}
	t = xt_and(p);
	while (!p->err && xt_word(p, "or")) {
		xt_and(p);
		t = ML_XT_OTHER;
	}
	p->depth--;
	return t;
}

int
ml_xpath_check(const char *expr, struct ml_xcheck *c)
{
	struct xt p = {expr, 0, 0, 0, c};
	int t;

	c->found = 0;
	c->pos = 0;
	c->op_ne = 0;
	t = xt_expr(&p);
	xt_ws(&p);
	if (p.err || expr[p.i] != '\0') {
		c->found = 0; /* not read to the end: say nothing */
		return ML_XT_UNKNOWN;
	}
	return t;
}
