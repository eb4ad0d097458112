/* test_kdump.c - the kdump-compressed writer: headers, notes, bitmaps, descriptors and pages read
 * back as makedumpfile reads them, raw and flattened alike. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/kdump.h"
#include "tests/unit/unit.h"

#define PAGE 4096

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint8_t *slurp(FILE *f, size_t *len)
{
	uint8_t *buf;

	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	buf = malloc(*len ? *len : 1);
	ck_assert_uint_eq(fread(buf, 1, *len, f), *len);
	return buf;
}

/* What `makedumpfile -R` does: the flattened records laid out at their offsets. */
static uint8_t *unflatten(const uint8_t *flat, size_t len, size_t *outlen)
{
	size_t pos = 4096, size = 0;
	uint8_t *out = NULL;

	ck_assert_mem_eq(flat, "makedumpfile", 12);
	ck_assert_uint_eq(be64(flat + 16), 1);
	ck_assert_uint_eq(be64(flat + 24), 1);
	for (;;) {
		uint64_t off, n;

		ck_assert_uint_le(pos + 16, len);
		off = be64(flat + pos);
		n = be64(flat + pos + 8);
		pos += 16;
		if (off == ~0ull && n == ~0ull)
			break;
		ck_assert_uint_le(pos + n, len);
		if (off + n > size) {
			out = realloc(out, off + n);
			memset(out + size, 0, off + n - size);
			size = off + n;
		}
		memcpy(out + off, flat + pos, n);
		pos += n;
	}
	ck_assert_uint_eq(pos, len); /* the end marker is last */
	*outlen = size;
	return out;
}

/* Two ranges: 64 KiB at 0 and 12 KiB at 4 GiB, pages of a pattern, of zeroes, and one of
 * random bytes (which zlib cannot shrink: stored as it is). */
static uint8_t low[16 * PAGE], high[3 * PAGE];
static const char vmci[] = "OSRELEASE=6.12.0-test\nPAGESIZE=4096\nNUMBER(phys_base)=16777216\n";

static void fill(void)
{
	memset(low, 0, sizeof(low));
	memset(high, 0, sizeof(high));
	for (unsigned i = 0; i < PAGE; i++)
		low[i] = (uint8_t)(i % 7);
	srand(1);
	for (unsigned i = 0; i < PAGE; i++)
		low[5 * PAGE + i] = (uint8_t)rand();
	memset(high + PAGE, 0xab, PAGE);
}

static void check(const uint8_t *f, size_t len, const struct elfcore_desc *d)
{
	uint64_t sub_blocks, bitmap_blocks, mapnr, off_note, note_size, desc_off, bitmap_len;
	const uint8_t *sub = f + PAGE;
	uint64_t pfns[19], n = 0;

	ck_assert_mem_eq(f, "KDUMP   ", 8);
	ck_assert_uint_eq(le(f + 8, 4), 6);
	ck_assert_str_eq((const char *)f + 12, "Linux");
	ck_assert_str_eq((const char *)f + 12 + 130, "6.12.0-test");
	ck_assert_str_eq((const char *)f + 12 + 260, "x86_64");
	ck_assert_uint_eq(le(f + 424, 4), 1); /* zlib */
	ck_assert_uint_eq(le(f + 428, 4), PAGE);
	sub_blocks = le(f + 432, 4);
	bitmap_blocks = le(f + 436, 4);
	mapnr = le(f + 440, 4);
	ck_assert_uint_eq(mapnr, (4ull << 30) / PAGE + 3);
	ck_assert_uint_eq(le(f + 460, 4), 2); /* nr_cpus */
	/* The sub-header: phys_base from VMCOREINFO, the notes, the VMCOREINFO text in them. */
	ck_assert_uint_eq(le(sub, 8), 16777216);
	ck_assert_uint_eq(le(sub + 8, 4), 1);
	off_note = le(sub + 48, 8);
	note_size = le(sub + 56, 8);
	ck_assert_uint_eq(off_note, PAGE + 104);
	ck_assert_uint_eq(note_size, elfcore_notes_size(d));
	ck_assert_uint_le(off_note + note_size, (1 + sub_blocks) * PAGE);
	ck_assert_uint_eq(le(sub + 40, 8), strlen(vmci));
	ck_assert_mem_eq(f + le(sub + 32, 8), vmci, strlen(vmci));
	ck_assert_mem_eq(f + off_note + 12, "CORE", 5);
	ck_assert_uint_eq(le(sub + 96, 8), mapnr);
	/* Both bitmaps: exactly the pages of the ranges. */
	bitmap_len = bitmap_blocks / 2 * PAGE;
	ck_assert_uint_ge(bitmap_len * 8, mapnr);
	for (int b = 0; b < 2; b++) {
		const uint8_t *bm = f + (1 + sub_blocks) * PAGE + b * bitmap_len;

		n = 0;
		for (uint64_t pfn = 0; pfn < bitmap_len * 8; pfn++)
			if (bm[pfn / 8] & (1u << (pfn % 8))) {
				ck_assert_uint_lt(n, 19);
				pfns[n++] = pfn;
			}
		ck_assert_uint_eq(n, 19);
		ck_assert_uint_eq(pfns[15], 15);
		ck_assert_uint_eq(pfns[16], (4ull << 30) / PAGE);
	}
	/* Each page's descriptor gives back its bytes. */
	desc_off = (1 + sub_blocks + bitmap_blocks) * PAGE;
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *desc = f + desc_off + i * 24;
		const uint8_t *want = i < 16 ? low + i * PAGE : high + (i - 16) * PAGE;
		uint64_t off = le(desc, 8);
		uint32_t size = (uint32_t)le(desc + 8, 4), flags = (uint32_t)le(desc + 12, 4);
		uint8_t page[PAGE];
		uLongf plen = PAGE;

		ck_assert_uint_le(off + size, len);
		ck_assert_uint_ge(off, desc_off + n * 24);
		if (flags & 1) {
			ck_assert_int_eq(uncompress(page, &plen, f + off, size), Z_OK);
			ck_assert_uint_eq(plen, PAGE);
		} else {
			ck_assert_uint_eq(size, PAGE);
			memcpy(page, f + off, PAGE);
		}
		ck_assert_mem_eq(page, want, PAGE);
		if (i == 5) /* random: stored raw */
			ck_assert_uint_eq(flags, 0);
		if (i == 1 || i == 2) /* zero pages share one stored page */
			ck_assert_uint_eq(off, le(f + desc_off + 24 + 0, 8));
	}
}

START_TEST(test_raw_and_flat)
{
	struct elfcore_range r[2] = { { 0, sizeof(low), low }, { 4ull << 30, sizeof(high), high } };
	struct cpu_regs cpus[2] = { { .rip = 0x1234 }, { .rip = 0x5678 } };
	struct elfcore_desc d = { r, 2, cpus, 2, vmci, strlen(vmci) };
	FILE *raw = tmpfile(), *flat = tmpfile();
	uint8_t *a, *b, *c;
	size_t alen, blen, clen;
	uint64_t done = 0;

	fill();
	ck_assert_int_eq(kdump_write(fileno(raw), &d, 0, &done), 0);
	ck_assert_uint_eq(done, kdump_total(&d));
	ck_assert_uint_eq(done, sizeof(low) + sizeof(high));
	ck_assert_int_eq(kdump_write(fileno(flat), &d, 1, NULL), 0);
	a = slurp(raw, &alen);
	check(a, alen, &d);
	/* Zero pages are not stored one by one: after the headers, bitmaps and descriptors, at
	 * most the random page and a little for the others. */
	ck_assert_uint_lt(alen, (1 + le(a + 432, 4) + le(a + 436, 4)) * PAGE + 19 * 24 + 2 * PAGE);
	b = slurp(flat, &blen);
	c = unflatten(b, blen, &clen);
	ck_assert_uint_eq(clen, alen);
	memset(a + 408, 0, 16); /* the timestamps */
	memset(c + 408, 0, 16);
	ck_assert_mem_eq(c, a, alen);
	free(a);
	free(b);
	free(c);
	fclose(raw);
	fclose(flat);
}
END_TEST

/* A write error ends the dump with it. */
START_TEST(test_write_error)
{
	struct elfcore_range r[1] = { { 0, sizeof(low), low } };
	struct elfcore_desc d = { r, 1, NULL, 0, NULL, 0 };
	FILE *full = fopen("/dev/full", "w");

	ck_assert_ptr_nonnull(full);
	ck_assert_int_eq(kdump_write(fileno(full), &d, 1, NULL), -ENOSPC);
	fclose(full);
}
END_TEST

static Suite *kdump_suite(void)
{
	Suite *s = suite_create("kdump");
	TCase *tc = tcase_create("kdump");

	tcase_add_test(tc, test_raw_and_flat);
	tcase_add_test(tc, test_write_error);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(kdump_suite());
}
