/*
 * json_stream.h - splits a byte stream into top-level JSON values the way QEMU's json-streamer
 * does: a value ends when its braces and brackets balance (outside strings), so values may
 * share a line or span reads. Its tokens are checked as QEMU 10.0.2's json-lexer checks them:
 * a byte no token may hold is a "stray" error, and the stream skips to the next bracket, brace,
 * comma, colon or control character, as QEMU's does. Each value is parsed with jansson and
 * handed on; oversized and over-deep values are reported once and skipped.
 */
#ifndef MINIVMM_JSON_STREAM_H
#define MINIVMM_JSON_STREAM_H

#include <jansson.h>
#include <stddef.h>

/* The caps; tests/fuzz builds json_stream.c with small ones so the discard paths are reached. */
#ifndef JSON_STREAM_MAX_VALUE
#define JSON_STREAM_MAX_VALUE (1u << 20) /* bytes of one value (QEMU allows 64 MiB) */
#endif
#ifndef JSON_STREAM_MAX_NESTING
#define JSON_STREAM_MAX_NESTING 1024 /* as QEMU's json-streamer */
#endif

/*
 * Where the values go. Each callback returns 0 to go on, nonzero to stop feeding (the
 * consumer went away); json_stream_feed then returns after the byte being processed.
 */
struct json_stream_ops {
	/* One complete value (any JSON type), borrowed: json_incref() to keep it. */
	int (*value)(void *ctx, json_t *v);
	/* Bad input, in QEMU's words ("JSON parse error, stray '}'", "JSON token size limit
	 * exceeded", "JSON nesting depth limit exceeded"); the stream resynchronises itself. */
	int (*error)(void *ctx, const char *desc);
	void *ctx;
};

struct json_stream {
	struct json_stream_ops ops;
	int stop; /* a callback asked to stop */

	/* The value being collected. */
	char *val;
	size_t vlen, vcap;
	unsigned depth;
	int in_str, esc, scalar, discarding;
	char quote; /* the quote the string being read opened with: " or ' (QEMU's extension) */
	/* QEMU's lexer outside strings (json_stream.c): the token being read, where it starts in
	 * @val; after a lexical error, the bytes skipped until a point to resynchronise at. */
	unsigned char lex;
	size_t tok;
	int bad_word; /* a keyword that is not true, false or null: said when the value ends */
	char bad[64];
};

/* Start an empty stream. Nothing is allocated until bytes arrive. */
void json_stream_init(struct json_stream *js, const struct json_stream_ops *ops);

/*
 * Feed @len bytes. Returns how many were consumed (fewer than @len when a callback asked to
 * stop), or -ENOMEM when the value buffer could not grow (the stream is then unusable).
 */
long json_stream_feed(struct json_stream *js, const void *buf, size_t len);

/* Free the value buffer. */
void json_stream_destroy(struct json_stream *js);

#endif
