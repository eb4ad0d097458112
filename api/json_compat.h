/* json_compat.h - QEMU's JSON dialect in and out of jansson: quotes, big integers, reals. */
#ifndef MINIVMM_JSON_COMPAT_H
#define MINIVMM_JSON_COMPAT_H

#include <jansson.h>
#include <stddef.h>

/*
 * Rewrite one complete JSON value @in (@len bytes) as QEMU's parser reads it into standard
 * JSON for jansson, in a new buffer (*@out, *@outlen; free it): single-quoted strings become
 * double-quoted ones, the escape \' an apostrophe; an integer beyond int64 that fits uint64
 * becomes a tagged string (json_compat_is_u64) that is printed back as the number, and one
 * beyond both becomes a real, as QEMU makes it a double. Returns 0, -ENOMEM, or -EINVAL with
 * QEMU's message in @err for what QEMU's parser refuses and jansson words otherwise (a lone
 * surrogate escape).
 */
int json_compat_rewrite(const char *in, size_t len, char **out, size_t *outlen, char *err,
			size_t errlen);

/* Whether @v stands for an integer QEMU keeps as uint64 (see above): not a string to QEMU. */
int json_compat_is_u64(const json_t *v);

/*
 * A copy of @v (new reference) with every real replaced by its text as QEMU prints a double,
 * "%.17g" (1e3 is 1000, 1e17 is 1e+17), in a tagged string that json_compat_fix_dump turns
 * back into the bare number after jansson has dumped the whole; @v itself (a new reference)
 * when it holds no real (treat the result as read-only).
 */
json_t *json_compat_reals(json_t *v);

/* Put the numbers back in dumped text @text (in place): each tagged string (a uint64 read in,
 * a real going out) becomes the bare number it stands for. */
void json_compat_fix_dump(char *text);

/* The length of the UTF-8 sequence at @p (@n bytes on) as QEMU's parser takes it, 0 when it
 * is none (a stray continuation, overlong, a surrogate, beyond U+10FFFF, cut short). */
size_t json_compat_utf8_len(const unsigned char *p, size_t n);

#endif
