/* aml.c - AML encoding: names, integers, strings, EISA ids, package lengths, named objects,
 * resource templates. */
#include "aml.h"
#include "le.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

void aml_init(struct aml *a)
{
	memset(a, 0, sizeof(*a));
}

void aml_free(struct aml *a)
{
	free(a->buf);
	aml_init(a);
}

static int aml_reserve(struct aml *a, size_t n)
{
	if (a->err)
		return -1;
	if (a->len + n > a->cap) {
		size_t cap = a->cap ? a->cap : 256;
		uint8_t *p;

		while (cap < a->len + n)
			cap *= 2;
		p = realloc(a->buf, cap);
		if (!p) {
			a->err = 1;
			return -1;
		}
		a->buf = p;
		a->cap = cap;
	}
	return 0;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (aml_reserve(a, n))
		return;
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

void aml_nameseg(struct aml *a, const char *name)
{
	char seg[4] = { '_', '_', '_', '_' };

	for (int i = 0; i < 4 && name[i]; i++)
		seg[i] = name[i];
	aml_bytes(a, seg, 4);
}

void aml_namestring(struct aml *a, const char *path)
{
	const char *p = path;
	unsigned nseg = 0;

	if (*p == '\\') {
		aml_byte(a, '\\');
		p++;
	}
	for (const char *q = p; *q; q++)
		if (*q == '.')
			nseg++;
	nseg = *p ? nseg + 1 : 0;
	if (nseg == 2)
		aml_byte(a, 0x2e); /* DualNamePrefix */
	else if (nseg > 2) {
		aml_byte(a, 0x2f); /* MultiNamePrefix */
		aml_byte(a, (uint8_t)nseg);
	} else if (nseg == 0) {
		aml_byte(a, 0x00); /* NullName */
		return;
	}
	while (*p) {
		char seg[5] = { 0 };
		size_t n = strcspn(p, ".");

		memcpy(seg, p, n < 4 ? n : 4);
		aml_nameseg(a, seg);
		p += n;
		if (*p == '.')
			p++;
	}
}

void aml_integer(struct aml *a, uint64_t v)
{
	uint8_t le[8];
	int n;

	if (v == 0) {
		aml_byte(a, AML_ZERO);
		return;
	}
	if (v == 1) {
		aml_byte(a, AML_ONE);
		return;
	}
	if (v <= 0xff) {
		aml_byte(a, AML_BYTE_PREFIX);
		n = 1;
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD_PREFIX);
		n = 2;
	} else if (v <= 0xffffffffu) {
		aml_byte(a, AML_DWORD_PREFIX);
		n = 4;
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		n = 8;
	}
	for (int i = 0; i < n; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	aml_bytes(a, le, (size_t)n);
}

void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

static uint8_t hexval(char c)
{
	return isdigit((unsigned char)c) ? c - '0' : (toupper((unsigned char)c) - 'A' + 10) & 0xf;
}

void aml_eisaid(struct aml *a, const char *id)
{
	/* Three letters in 5 bits each ('A' = 1), then four hex digits; stored big-endian. */
	uint8_t b[4];

	b[0] = (uint8_t)(((id[0] & 0x1f) << 2) | ((id[1] & 0x1f) >> 3));
	b[1] = (uint8_t)(((id[1] & 0x07) << 5) | (id[2] & 0x1f));
	b[2] = (uint8_t)(hexval(id[3]) << 4 | hexval(id[4]));
	b[3] = (uint8_t)(hexval(id[5]) << 4 | hexval(id[6]));
	aml_byte(a, AML_DWORD_PREFIX);
	aml_bytes(a, b, 4);
}

size_t aml_pkg_begin(struct aml *a)
{
	return a->len;
}

void aml_pkg_end(struct aml *a, size_t mark)
{
	size_t body = a->len - mark, total;
	uint8_t enc[4];
	int n;

	if (a->err)
		return;
	/* The length includes its own encoding: pick the smallest size that holds it. */
	if (body + 1 < 0x40) {
		n = 1;
	} else if (body + 2 < 0x1000) {
		n = 2;
	} else if (body + 3 < 0x100000) {
		n = 3;
	} else {
		n = 4;
	}
	total = body + (size_t)n;
	if (n == 1) {
		enc[0] = (uint8_t)total;
	} else {
		enc[0] = (uint8_t)(((n - 1) << 6) | (total & 0x0f));
		for (int i = 1; i < n; i++)
			enc[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	}
	if (aml_reserve(a, (size_t)n))
		return;
	memmove(a->buf + mark + n, a->buf + mark, body);
	memcpy(a->buf + mark, enc, (size_t)n);
	a->len += (size_t)n;
}

/* --- named objects ------------------------------------------------------------------------ */

static int looks_like_eisaid(const char *id)
{
	if (strlen(id) != 7)
		return 0;
	for (int i = 0; i < 3; i++)
		if (id[i] < 'A' || id[i] > 'Z')
			return 0;
	for (int i = 3; i < 7; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'A' && id[i] <= 'F')))
			return 0;
	return 1;
}

void aml_name_integer(struct aml *a, const char *name, uint64_t v)
{
	aml_byte(a, AML_NAME);
	aml_nameseg(a, name);
	aml_integer(a, v);
}

void aml_name_id(struct aml *a, const char *name, const char *id)
{
	aml_byte(a, AML_NAME);
	aml_nameseg(a, name);
	if (looks_like_eisaid(id))
		aml_eisaid(a, id);
	else
		aml_string(a, id);
}

size_t aml_device_begin(struct aml *a, const char *name)
{
	size_t mark;

	aml_byte(a, AML_EXT_PREFIX);
	aml_byte(a, AML_EXT_DEVICE);
	mark = aml_pkg_begin(a);
	aml_nameseg(a, name);
	return mark;
}

size_t aml_method_begin(struct aml *a, const char *name, unsigned nargs)
{
	size_t mark;

	aml_byte(a, AML_METHOD);
	mark = aml_pkg_begin(a);
	aml_nameseg(a, name);
	aml_byte(a, (uint8_t)(nargs & 7)); /* MethodFlags: ArgCount in bits 0-2, NotSerialized */
	return mark;
}

/* --- resource templates ------------------------------------------------------------------- */

/* Small resource descriptors (6.4.2) and large ones (6.4.3). */
#define RES_IRQ_NOFLAGS 0x22
#define RES_IO		0x47
#define RES_END		0x79
#define RES_MEM32_FIXED 0x86
#define RES_DWORD_ADDR	0x87 /* 6.4.3.5.2, 26 bytes */
#define RES_WORD_ADDR	0x88 /* 6.4.3.5.3, 16 bytes */
#define RES_ADDR_FIXED	0x0c /* general flags: _MIF, _MAF; producer, positive decode */

void aml_name_resources(struct aml *a, const char *name, struct aml *res)
{
	size_t mark;

	aml_byte(res, RES_END);
	aml_byte(res, 0); /* checksum 0: "treat as correct" */
	aml_byte(a, AML_NAME);
	aml_nameseg(a, name);
	aml_byte(a, AML_BUFFER);
	mark = aml_pkg_begin(a);
	aml_integer(a, res->len);
	aml_bytes(a, res->buf, res->len);
	aml_pkg_end(a, mark);
	if (res->err)
		a->err = 1;
}

void aml_res_io(struct aml *res, uint16_t base, uint64_t len)
{
	uint8_t b[8] = { RES_IO, 1 /* 16-bit decode */ };

	le_put16(b + 2, base); /* minimum */
	le_put16(b + 4, base); /* maximum */
	b[6] = 1;	       /* alignment */
	b[7] = (uint8_t)(len > 0xff ? 0xff : len);
	aml_bytes(res, b, sizeof(b));
}

void aml_res_mem32_fixed(struct aml *res, uint32_t base, uint32_t len)
{
	uint8_t b[12] = { RES_MEM32_FIXED };

	le_put16(b + 1, 9); /* length of what follows */
	b[3] = 1;	    /* read/write */
	le_put32(b + 4, base);
	le_put32(b + 8, len);
	aml_bytes(res, b, sizeof(b));
}

void aml_res_irq_noflags(struct aml *res, uint64_t irq)
{
	uint8_t b[3] = { RES_IRQ_NOFLAGS };

	le_put16(b + 1, (uint16_t)(irq < 16 ? 1u << irq : 0));
	aml_bytes(res, b, sizeof(b));
}

static void put_field(uint8_t *p, unsigned w, uint32_t v)
{
	if (w == 2)
		le_put16(p, (uint16_t)v);
	else
		le_put32(p, v);
}

/* An address space descriptor of 16- or 32-bit fields (6.4.3.5.3, 6.4.3.5.2): after its common
 * head come granularity (0), minimum, maximum, translation offset (0) and length, each `w` bytes.
 */
static void res_addr(struct aml *res, uint8_t tag, unsigned w, uint8_t type, uint8_t type_flags,
		     uint32_t min, uint32_t len)
{
	uint8_t b[26] = { tag };
	size_t size = 6 + 5 * (size_t)w;

	le_put16(b + 1, (uint16_t)(size - 3));
	b[3] = type;
	b[4] = RES_ADDR_FIXED;
	b[5] = type_flags;
	put_field(b + 6 + w, w, min);
	put_field(b + 6 + 2 * w, w, min + len - 1);
	put_field(b + 6 + 4 * w, w, len);
	aml_bytes(res, b, size);
}

void aml_res_word_addr(struct aml *res, uint8_t type, uint8_t type_flags, uint16_t min,
		       uint32_t len)
{
	res_addr(res, RES_WORD_ADDR, 2, type, type_flags, min, len);
}

void aml_res_dword_addr(struct aml *res, uint8_t type, uint8_t type_flags, uint32_t min,
			uint32_t len)
{
	res_addr(res, RES_DWORD_ADDR, 4, type, type_flags, min, len);
}
