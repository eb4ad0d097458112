/* json_stream.c - the JSON stream splitter: brace/bracket/string tracking, caps, recovery. */
#include "json_stream.h"
#include "json_compat.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void json_stream_init(struct json_stream *js, const struct json_stream_ops *ops)
{
	memset(js, 0, sizeof(*js));
	js->ops = *ops;
}

void json_stream_destroy(struct json_stream *js)
{
	free(js->val);
	js->val = NULL;
	js->vlen = js->vcap = 0;
}

static void emit_error(struct json_stream *js, const char *desc)
{
	if (js->ops.error && js->ops.error(js->ops.ctx, desc))
		js->stop = 1;
}

/*
 * QEMU 10.0.2's json-lexer outside strings, in its states (qobject/json-lexer.c, read for its
 * behaviour; checked against qemu-system-x86_64 10.0.2). A number is -?(0|[1-9][0-9]*), then
 * .[0-9]+, then [eE][+-]?[0-9]+ (no exponent straight after a lone 0); a keyword is [a-z]+.
 */
enum lex_state {
	LEX_START,	   /* between tokens */
	LEX_ZERO,	   /* 0 */
	LEX_NONZERO,	   /* [1-9][0-9]* */
	LEX_NEG,	   /* - */
	LEX_MANTISSA,	   /* . */
	LEX_MANTISSA_DIGS, /* .[0-9]+ */
	LEX_EXP_E,	   /* e */
	LEX_EXP_SIGN,	   /* e+ or e- */
	LEX_EXP_DIGS,	   /* e[0-9]+ */
	LEX_KEYWORD,	   /* [a-z]+ */
	LEX_RECOVERY,	   /* after a stray byte: skip to a point to resynchronise at */
};

static void value_reset(struct json_stream *js)
{
	js->vlen = 0;
	js->depth = 0;
	js->in_str = js->esc = js->scalar = 0;
	js->lex = LEX_START;
	js->bad_word = 0;
}

static void parse_error(struct json_stream *js, const char *what)
{
	char desc[300];

	snprintf(desc, sizeof(desc), "JSON parse error, %s", what);
	emit_error(js, desc);
}

static void value_complete(struct json_stream *js)
{
	json_error_t jerr;
	json_t *v;
	char what[280], *text;
	size_t tlen;

	if (js->bad_word) {
		snprintf(what, sizeof(what), "invalid keyword '%s'", js->bad);
		parse_error(js, what);
		value_reset(js);
		return;
	}
	/* QEMU's dialect (quotes, big integers) as standard JSON, then jansson. QEMU's parser
	 * refuses a key repeated in any object, with its own words. */
	what[0] = 0;
	if (json_compat_rewrite(js->val, js->vlen, &text, &tlen, what, sizeof(what))) {
		value_reset(js);
		parse_error(js, what[0] ? what : "out of memory");
		return;
	}
	v = json_loadb(text, tlen, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES,
		       &jerr);
	free(text);
	value_reset(js);
	if (!v) {
		if (json_error_code(&jerr) == json_error_duplicate_key)
			snprintf(what, sizeof(what), "duplicate key");
		else
			snprintf(what, sizeof(what), "%s", jerr.text);
		parse_error(js, what);
		return;
	}
	if (js->ops.value && js->ops.value(js->ops.ctx, v))
		js->stop = 1;
	json_decref(v);
}

/* Store one byte of the value: 0, -1 when over the size cap (the rest is then skipped, and
 * the caller hands this byte to discard_byte), or -ENOMEM. */
static int value_append(struct json_stream *js, char ch)
{
	if (js->vlen >= JSON_STREAM_MAX_VALUE) {
		/* Keep the string/depth state: the rest of this value is skipped, not stored. */
		emit_error(js, "JSON token size limit exceeded");
		js->discarding = 1;
		js->vlen = 0;
		js->bad_word = 0;
		return -1;
	}
	if (js->vlen == js->vcap) {
		size_t cap = js->vcap ? js->vcap * 2 : 1024;
		char *p = realloc(js->val, cap);

		if (!p)
			return -ENOMEM;
		js->val = p;
		js->vcap = cap;
	}
	js->val[js->vlen++] = ch;
	return 0;
}

/* A keyword has ended: only the JSON literals are allowed (QEMU's parser says so when the
 * value ends, for the first bad one). */
static void keyword_end(struct json_stream *js)
{
	size_t n = js->vlen - js->tok;

	if (js->bad_word)
		return;
	if ((n == 4 && !memcmp(js->val + js->tok, "true", 4)) ||
	    (n == 5 && !memcmp(js->val + js->tok, "false", 5)) ||
	    (n == 4 && !memcmp(js->val + js->tok, "null", 4)))
		return;
	js->bad_word = 1;
	if (n >= sizeof(js->bad))
		n = sizeof(js->bad) - 1;
	memcpy(js->bad, js->val + js->tok, n);
	js->bad[n] = 0;
}

static int is_word_char(unsigned char ch)
{
	return isalnum(ch) || ch == '-' || ch == '+' || ch == '.';
}

/*
 * A byte no token may hold (@ch, ending the token read so far): QEMU's "stray" error with the
 * token's text and that byte, each byte of it that is no UTF-8 shown as U+FFFD (as QEMU's
 * reply shows it). The value is dropped and the bytes after are skipped until a point to
 * resynchronise at.
 */
static void stray(struct json_stream *js, unsigned char ch)
{
	char what[280];
	size_t w = (size_t)snprintf(what, sizeof(what), "stray '");
	size_t n = js->vlen - js->tok, i = 0;
	const unsigned char *t = n ? (const unsigned char *)js->val + js->tok : NULL;
	unsigned char last = ch;

	while (i <= n && w + 8 < sizeof(what)) {
		const unsigned char *p = i < n ? t + i : &last;
		size_t k = json_compat_utf8_len(p, i < n ? n - i : 1);

		if (!k) {
			memcpy(what + w, "\xef\xbf\xbd", 3);
			w += 3;
			k = 1;
		} else {
			memcpy(what + w, p, k);
			w += k;
		}
		i += k;
	}
	what[w++] = '\'';
	what[w] = 0;
	parse_error(js, what);
	value_reset(js);
	js->lex = LEX_RECOVERY;
}

/* Where QEMU's lexer resynchronises after a stray byte (that byte is then read anew). */
static int resyncs(unsigned char ch)
{
	return ch < 0x20 || ch >= 0xfe || ch == '{' || ch == '}' || ch == '[' || ch == ']' ||
	       ch == ',' || ch == ':';
}

/* Skip the rest of an over-deep or oversized value, tracking only strings and depth. */
static void discard_byte(struct json_stream *js, unsigned char ch)
{
	if (js->in_str) {
		if (js->esc) {
			js->esc = 0;
		} else if (ch == '\\') {
			js->esc = 1;
		} else if (ch == js->quote) {
			js->in_str = 0;
			if (js->scalar && js->depth == 0) { /* a top-level string ended */
				js->discarding = 0;
				value_reset(js);
			}
		}
		return;
	}
	if (js->scalar && js->depth == 0) { /* a top-level number or word */
		if (!is_word_char(ch)) {
			js->discarding = 0;
			value_reset(js);
		}
		return;
	}
	if (ch == '"' || ch == '\'') {
		js->in_str = 1;
		js->quote = (char)ch;
	} else if (ch == '{' || ch == '[') {
		js->depth++;
	} else if ((ch == '}' || ch == ']') && js->depth && --js->depth == 0) {
		js->discarding = 0;
		value_reset(js);
	}
}

/* Store @ch as part of the value: 0, 1 when over the size cap (the byte has been handed to
 * discard_byte: the rest of the value is skipped), or -ENOMEM. */
static int store(struct json_stream *js, unsigned char ch)
{
	int ret = value_append(js, (char)ch);

	if (ret == -1) {
		discard_byte(js, ch);
		return 1;
	}
	return ret;
}

/* A token that ended at depth 0 was a whole value. */
static void token_end(struct json_stream *js)
{
	if (js->lex == LEX_KEYWORD)
		keyword_end(js);
	js->lex = LEX_START;
	if (js->depth == 0)
		value_complete(js);
}

/* One byte outside strings, in QEMU's lexer's states: 0, or -ENOMEM. */
static int lex_byte(struct json_stream *js, unsigned char ch)
{
	int digit = ch >= '0' && ch <= '9', ret;
	unsigned char next;

again:
	switch (js->lex) {
	case LEX_RECOVERY:
		if (!resyncs(ch))
			return 0;
		js->lex = LEX_START;
		/* fall through */
	case LEX_START:
		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
			if (js->vlen == 0)
				return 0; /* between values */
			ret = store(js, ch);
			return ret < 0 ? ret : 0;
		}
		js->tok = js->vlen;
		if (ch == '}' || ch == ']' || ch == ',' || ch == ':') {
			if (js->depth == 0) { /* closes or separates nothing */
				parse_error(js, "expecting value");
				value_reset(js);
				return 0;
			}
			ret = store(js, ch);
			if (ret)
				return ret < 0 ? ret : 0;
			if ((ch == '}' || ch == ']') && --js->depth == 0)
				value_complete(js);
			return 0;
		}
		if (ch == '{' || ch == '[') {
			ret = store(js, ch);
			if (ret)
				return ret < 0 ? ret : 0;
			if (++js->depth > JSON_STREAM_MAX_NESTING) {
				emit_error(js, "JSON nesting depth limit exceeded");
				value_reset(js);
				js->discarding = 1;
				js->depth = JSON_STREAM_MAX_NESTING + 1;
			}
			return 0;
		}
		if (ch == '"' || ch == '\'') {
			js->scalar = js->depth == 0;
			ret = store(js, ch);
			if (ret)
				return ret < 0 ? ret : 0;
			js->in_str = 1;
			js->quote = (char)ch;
			return 0;
		}
		next = ch == '0'		? LEX_ZERO
		       : digit			? LEX_NONZERO
		       : ch == '-'		? LEX_NEG
		       : ch >= 'a' && ch <= 'z' ? LEX_KEYWORD
						: LEX_START;
		if (next == LEX_START) {
			stray(js, ch);
			return 0;
		}
		js->scalar = js->depth == 0;
		break;
	case LEX_ZERO:
		next = digit ? LEX_RECOVERY : ch == '.' ? LEX_MANTISSA : LEX_START;
		break;
	case LEX_NONZERO:
		next = digit			? LEX_NONZERO
		       : ch == '.'		? LEX_MANTISSA
		       : ch == 'e' || ch == 'E' ? LEX_EXP_E
						: LEX_START;
		break;
	case LEX_NEG:
		next = ch == '0' ? LEX_ZERO : digit ? LEX_NONZERO : LEX_RECOVERY;
		break;
	case LEX_MANTISSA:
		next = digit ? LEX_MANTISSA_DIGS : LEX_RECOVERY;
		break;
	case LEX_MANTISSA_DIGS:
		next = digit ? LEX_MANTISSA_DIGS : ch == 'e' || ch == 'E' ? LEX_EXP_E : LEX_START;
		break;
	case LEX_EXP_E:
		next = digit ? LEX_EXP_DIGS : ch == '+' || ch == '-' ? LEX_EXP_SIGN : LEX_RECOVERY;
		break;
	case LEX_EXP_SIGN:
		next = digit ? LEX_EXP_DIGS : LEX_RECOVERY;
		break;
	case LEX_EXP_DIGS:
		next = digit ? LEX_EXP_DIGS : LEX_START;
		break;
	case LEX_KEYWORD:
	default:
		next = ch >= 'a' && ch <= 'z' ? LEX_KEYWORD : LEX_START;
		break;
	}
	if (next == LEX_RECOVERY) { /* not a byte this token may hold */
		stray(js, ch);
		return 0;
	}
	if (next == LEX_START) { /* the token ended before this byte: read it anew */
		token_end(js);
		if (js->stop)
			return 0;
		goto again;
	}
	js->lex = next;
	ret = store(js, ch);
	return ret < 0 ? ret : 0;
}

/* One byte inside a string: 0, or -ENOMEM. QEMU's lexer takes 0x20-0xfd there (and after a
 * backslash); anything else is stray. */
static int string_byte(struct json_stream *js, unsigned char ch)
{
	int ret;

	if (ch < 0x20 || ch > 0xfd) {
		js->in_str = js->esc = 0;
		stray(js, ch);
		return 0;
	}
	ret = store(js, ch);
	if (ret)
		return ret < 0 ? ret : 0;
	if (js->esc) {
		js->esc = 0;
	} else if (ch == '\\') {
		js->esc = 1;
	} else if (ch == (unsigned char)js->quote) {
		js->in_str = 0;
		if (js->depth == 0)
			value_complete(js);
	}
	return 0;
}

/* One byte of input: 0, or -ENOMEM. */
static int feed_byte(struct json_stream *js, unsigned char ch)
{
	if (js->discarding) {
		discard_byte(js, ch);
		return 0;
	}
	if (js->in_str)
		return string_byte(js, ch);
	return lex_byte(js, ch);
}

long json_stream_feed(struct json_stream *js, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i;

	js->stop = 0;
	for (i = 0; i < len && !js->stop; i++)
		if (feed_byte(js, p[i]))
			return -ENOMEM;
	return (long)i;
}
