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

static void value_reset(struct json_stream *js)
{
	js->vlen = 0;
	js->depth = 0;
	js->in_str = js->esc = js->scalar = 0;
	js->wlen = 0;
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
		js->wlen = 0;
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

/* A bare word has ended: only the JSON literals are allowed (numbers start with a digit). */
static void word_end(struct json_stream *js)
{
	if (!js->wlen)
		return;
	js->word[js->wlen < sizeof(js->word) ? js->wlen : sizeof(js->word) - 1] = 0;
	if (isalpha((unsigned char)js->word[0]) && strcmp(js->word, "true") &&
	    strcmp(js->word, "false") && strcmp(js->word, "null") && !js->bad_word) {
		js->bad_word = 1;
		memcpy(js->bad, js->word, sizeof(js->bad));
	}
	js->wlen = 0;
}

static int is_word_char(unsigned char ch)
{
	return isalnum(ch) || ch == '-' || ch == '+' || ch == '.';
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

/* Between values: whitespace is skipped, a value starts, or the byte is stray. */
static int start_value(struct json_stream *js, unsigned char ch)
{
	char what[32];

	if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
		return 0;
	if (ch == '}' || ch == ']') {
		parse_error(js, "expecting value");
		return 0;
	}
	if (ch == '{' || ch == '[') {
		js->depth = 1;
		return value_append(js, (char)ch);
	}
	if (ch == '"' || ch == '\'') {
		js->scalar = 1;
		js->in_str = 1;
		js->quote = (char)ch;
		return value_append(js, (char)ch);
	}
	if (is_word_char(ch)) {
		js->scalar = 1;
		js->word[js->wlen++] = (char)ch;
		return value_append(js, (char)ch);
	}
	if (ch >= 0x20 && ch < 0x7f)
		snprintf(what, sizeof(what), "stray '%c'", ch);
	else
		snprintf(what, sizeof(what), "stray '\xef\xbf\xbd'"); /* U+FFFD */
	parse_error(js, what);
	return 0;
}

/* One byte of input: 0, or -ENOMEM. */
static int feed_byte(struct json_stream *js, unsigned char ch)
{
	int ret;

	if (js->discarding) {
		discard_byte(js, ch);
		return 0;
	}
	if (js->in_str) {
		ret = value_append(js, (char)ch);
		if (ret == -ENOMEM)
			return ret;
		if (ret) { /* over the cap: this byte still counts (it may end the string) */
			discard_byte(js, ch);
			return 0;
		}
		if (js->esc) {
			js->esc = 0;
		} else if (ch == '\\') {
			js->esc = 1;
		} else if (ch == js->quote) {
			js->in_str = 0;
			if (js->scalar && js->depth == 0)
				value_complete(js);
		}
		return 0;
	}
	if (js->scalar && js->depth == 0 && !is_word_char(ch)) {
		/* A top-level number or literal ends at its delimiter; then look at the delimiter.
		 */
		word_end(js);
		value_complete(js);
	}
	if (js->vlen == 0 && js->depth == 0) {
		ret = start_value(js, ch);
		return ret == -ENOMEM ? ret : 0;
	}
	if (is_word_char(ch)) {
		if (js->wlen < sizeof(js->word) - 1)
			js->word[js->wlen++] = (char)ch;
	} else {
		word_end(js);
	}
	ret = value_append(js, (char)ch);
	if (ret == -ENOMEM)
		return ret;
	if (ret) {
		/* Over the cap on a brace, bracket or quote: it still opens or closes, else the
		 * skip ends late and swallows the next value. */
		discard_byte(js, ch);
		return 0;
	}
	if (js->scalar)
		return 0;
	if (ch == '"' || ch == '\'') {
		js->in_str = 1;
		js->quote = (char)ch;
	} else if (ch == '{' || ch == '[') {
		if (++js->depth > JSON_STREAM_MAX_NESTING) {
			emit_error(js, "JSON nesting depth limit exceeded");
			value_reset(js);
			js->discarding = 1;
			js->depth = JSON_STREAM_MAX_NESTING + 1;
		}
	} else if (ch == '}' || ch == ']') {
		if (--js->depth == 0)
			value_complete(js);
	}
	return 0;
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
