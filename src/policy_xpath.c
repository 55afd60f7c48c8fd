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

int
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
				return -1;
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
				return -1;
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
					return -1;
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
					return -1;
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
					return -1;
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
				return -1;
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
				return -1;
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
				return -1;
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
				return -1;
			}
			count_token(top, 0, NULL, 0);
			i += 2;
			prev = T_OPERATOR;
			continue;
		default:
			snprintf(why, cap, "unexpected character '%c' at offset %zu",
				 c >= 0x20 && c < 0x7f ? c : '?', i);
			return -1;
		}
	}
	if (depth) {
		snprintf(why, cap, "unclosed '%c'", stack[depth - 1].kind);
		return -1;
	}
	return 0;
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
