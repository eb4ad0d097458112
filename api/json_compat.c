/*
 * json_compat.c - QEMU's JSON dialect (docs/interop/qmp-spec.rst, qobject/json-lexer.c and
 * json-parser.c, read for their behaviour) carried through jansson, which speaks only RFC 8259:
 * single quotes and \' on the way in; integers as QEMU keeps them (int64, else uint64, else a
 * double) and doubles as it prints them ("%.17g") on the way out.
 */
#include "json_compat.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/random.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * A number jansson cannot hold or print as QEMU does (a uint64 beyond int64; a double, which
 * QEMU prints with "%.17g" where jansson drops the exponent's "+" and zeros) travels through
 * jansson as a string: U+0001, a tag random per process (so that no client can forge one), a
 * colon, the number's text; json_compat_fix_dump turns it back into the bare number.
 */
static char tag[16];	  /* "\x01" + 8 hex digits + ":" */
static char tag_json[24]; /* the same as JSON text: "\u0001xxxxxxxx: */

static void tag_init(void)
{
	unsigned r;

	if (tag[0])
		return;
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	r = 0x5eed0001; /* fuzzer builds: one tag every run, so that a seed replays exactly */
#else
	r = (unsigned)time(NULL) ^ (unsigned)getpid() << 16;
	/* getrandom(2), not /dev/urandom: no file to open (after --chroot, under seccomp). */
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r ^= (unsigned)clock();
#endif
	snprintf(tag, sizeof(tag), "\x01%08x:", r);
	snprintf(tag_json, sizeof(tag_json), "\"\\u0001%08x:", r);
}

struct buf {
	char *p;
	size_t len, cap;
	int oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = realloc(b->p, cap);

		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static int is_num_char(char c)
{
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* A number token: kept, or made what QEMU's parser makes of an integer out of int64 range. */
static void put_number(struct buf *b, const char *t, size_t n)
{
	char tok[64], *end;

	if (n >= sizeof(tok) || memchr(t, '.', n) || memchr(t, 'e', n) || memchr(t, 'E', n)) {
		/* A real, or too long for an int64 or uint64 anyway (then a real, as in QEMU). */
		put(b, t, n);
		if (n >= sizeof(tok) && !memchr(t, '.', n) && !memchr(t, 'e', n) &&
		    !memchr(t, 'E', n))
			put(b, ".0", 2);
		return;
	}
	/* Only JSON's integer syntax, -?(0|[1-9][0-9]*), is rewritten: other text (a leading zero
	 * or '+', a lone '-') goes on as it is, for jansson to refuse; as a tagged string it would
	 * come back bare, and the reply would not be JSON. */
	for (size_t k = t[0] == '-'; k < n; k++)
		if (t[k] < '0' || t[k] > '9' || (t[k] == '0' && k == (t[0] == '-') && k + 1 < n))
			goto as_is;
	memcpy(tok, t, n);
	tok[n] = 0;
	errno = 0;
	(void)strtoll(tok, &end, 10);
	if (errno != ERANGE || *end) {
		put(b, t, n); /* an int64, or not a number at all: jansson says which */
		return;
	}
	errno = 0;
	if (tok[0] != '-') {
		(void)strtoull(tok, &end, 10);
		if (errno != ERANGE) {
			tag_init();
			put(b, tag_json, strlen(tag_json));
			put(b, t, n);
			put(b, "\"", 1);
			return;
		}
	}
	put(b, t, n);
	put(b, ".0", 2); /* beyond both: a double */
	return;
as_is:
	put(b, t, n);
}

static int hex4(const char *p, size_t left)
{
	int v = 0;

	if (left < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * At a \u escape (@p, @left bytes on): its length (12 for a surrogate pair) when it is a
 * character QEMU takes, else -1 with QEMU's message. QEMU pairs a leading surrogate with a
 * trailing one that follows as \u; a surrogate on its own is "not a valid Unicode character",
 * quoted as written (six bytes from the backslash, so also a \u without four hex digits).
 */
static int u_escape(const char *p, size_t left, char quote, char *err, size_t errlen)
{
	int cp = hex4(p + 2, left - 2), lo, shown = 6;

	if (cp >= 0 && (cp < 0xd800 || cp > 0xdfff))
		return 6;
	if (cp <= 0xdbff && left >= 12 && p[6] == '\\' && p[7] == 'u') {
		lo = hex4(p + 8, left - 8);
		if (lo >= 0xdc00 && lo <= 0xdfff)
			return 12;
	}
	/* QEMU quotes its string token: never past the closing quote. */
	for (int k = 2; k < 6 && (size_t)k < left; k++)
		if (p[k] == quote) {
			shown = k + 1;
			break;
		}
	snprintf(err, errlen, "%.*s is not a valid Unicode character", shown, p);
	return -1;
}

size_t json_compat_utf8_len(const unsigned char *p, size_t n)
{
	size_t len = p[0] < 0x80		   ? 1
		     : p[0] >= 0xc2 && p[0] < 0xe0 ? 2
		     : p[0] >= 0xe0 && p[0] < 0xf0 ? 3
		     : p[0] >= 0xf0 && p[0] < 0xf5 ? 4
						   : 0;

	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
		return 0;
	return len;
}

int json_compat_rewrite(const char *in, size_t len, char **out, size_t *outlen, char *err,
			size_t errlen)
{
	struct buf b = { NULL, 0, 0, 0 };
	size_t i = 0;

	while (i < len) {
		char c = in[i];

		if (c == '"' || c == '\'') {
			char q = c;

			put(&b, "\"", 1);
			for (i++; i < len && in[i] != q; i++) {
				if (in[i] == '\\' && i + 1 < len) {
					if (in[i + 1] == 'u') {
						int n = u_escape(in + i, len - i, q, err, errlen);

						if (n < 0) {
							free(b.p);
							return -EINVAL;
						}
						put(&b, in + i, (size_t)n);
						i += (size_t)n - 1;
						continue;
					}
					if (in[i + 1] == '\'')
						put(&b, "'", 1); /* QEMU's escape for ' */
					else
						put(&b, in + i, 2);
					i++;
				} else if (in[i] == '"') {
					put(&b, "\\\"", 2); /* only inside '...' */
				} else if ((unsigned char)in[i] < 0x80) {
					put(&b, in + i, 1);
				} else if ((unsigned char)in[i] == 0xc0 && i + 1 < len &&
					   (unsigned char)in[i + 1] == 0x80) {
					put(&b, "\\u0000", 6); /* modified UTF-8's NUL, as QEMU */
					i++;
				} else {
					size_t n = json_compat_utf8_len(
					    (const unsigned char *)in + i, len - i);

					if (!n) {
						snprintf(err, errlen,
							 "invalid UTF-8 sequence in string");
						free(b.p);
						return -EINVAL;
					}
					put(&b, in + i, n);
					i += n - 1;
				}
			}
			put(&b, "\"", 1);
			i++;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			size_t start = i;

			while (i < len && is_num_char(in[i]))
				i++;
			put_number(&b, in + start, i - start);
		} else {
			put(&b, in + i, 1);
			i++;
		}
	}
	put(&b, "", 0);
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*out = b.p;
	*outlen = b.len;
	return 0;
}

int json_compat_is_u64(const json_t *v)
{
	const char *s = json_string_value(v);

	return s && tag[0] && !strncmp(s, tag, strlen(tag));
}

static int has_real(json_t *v)
{
	json_t *e;

	if (json_is_real(v))
		return 1;
	if (json_is_array(v)) {
		size_t i;

		json_array_foreach(v, i, e) if (has_real(e)) return 1;
	} else if (json_is_object(v)) {
		const char *k;

		json_object_foreach(v, k, e) if (has_real(e)) return 1;
	}
	return 0;
}

static json_t *reals_copy(json_t *v)
{
	if (json_is_real(v)) {
		double d = json_real_value(v);
		char text[64];

		tag_init();
		snprintf(text, sizeof(text), "%s%.17g", tag, d);
		return json_string(text);
	}
	if (json_is_array(v)) {
		json_t *out = json_array(), *e;
		size_t i;

		json_array_foreach(v, i, e) json_array_append_new(out, reals_copy(e));
		return out;
	}
	if (json_is_object(v)) {
		json_t *out = json_object(), *e;
		const char *k;

		json_object_foreach(v, k, e) json_object_set_new(out, k, reals_copy(e));
		return out;
	}
	return json_incref(v);
}

json_t *json_compat_reals(json_t *v)
{
	/* Few messages hold a real (none of the events): no copy then. */
	if (!has_real(v))
		return json_incref(v);
	return reals_copy(v);
}

static size_t digits(const char *s)
{
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

/* The length of the number text at @s as "%llu", "%lld" or "%.17g" print it (inf and nan too,
 * as QEMU prints them), or 0: only such text loses its quotes, so that a string a client made
 * to look tagged still comes back as valid JSON. */
static size_t number_len(const char *s)
{
	size_t n = *s == '-', d;

	if (!strncmp(s + n, "inf", 3) || !strncmp(s + n, "nan", 3))
		return n + 3;
	d = digits(s + n);
	if (!d)
		return 0;
	n += d;
	if (s[n] == '.') {
		d = digits(s + n + 1);
		if (!d)
			return 0;
		n += 1 + d;
	}
	if (s[n] == 'e') {
		size_t sign = s[n + 1] == '+' || s[n + 1] == '-';

		d = digits(s + n + 1 + sign);
		if (!d)
			return 0;
		n += 1 + sign + d;
	}
	return n;
}

void json_compat_fix_dump(char *text)
{
	size_t dl;
	char *p = text, *w;

	if (!tag[0])
		return;
	dl = strlen(tag_json);
	while ((p = strstr(p, tag_json))) {
		char *d = p + dl, *e = d + number_len(d);

		if (e == d || *e != '"') {
			p += dl;
			continue;
		}
		/* Drop the opening quote and tag and the closing quote. */
		w = p;
		memmove(w, d, (size_t)(e - d));
		w += e - d;
		memmove(w, e + 1, strlen(e + 1) + 1);
		p = w;
	}
}
