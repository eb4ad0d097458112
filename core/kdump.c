/* kdump.c - makedumpfile's compressed kdump format (zlib), flattened or as the file itself. */
#include "kdump.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

/* makedumpfile's diskdump_mod.h and makedumpfile.h (header_version 6, x86_64 layout). */
#define KDUMP_BLOCK	     4096 /* block_size: the guest's page size */
#define KDUMP_HEADER_LEN     464  /* struct disk_dump_header on a 64-bit host */
#define KDUMP_SUB_HEADER_LEN 104  /* struct kdump_sub_header */
#define KDUMP_DESC_LEN	     24	  /* page_desc_t: offset, size, flags, page_flags */
#define KDUMP_ZLIB	     0x1  /* DUMP_DH_COMPRESSED_ZLIB, in status and a page's flags */
#define KDUMP_VERSION	     6
#define KDUMP_DUMP_LEVEL     1 /* as QEMU writes: zero pages are not stored one by one */
#define UTS_LEN		     65
/* The flattened stream: a 4 KiB header, then (be64 offset, be64 size, data) records. */
#define FLAT_HEADER_LEN 4096
#define FLAT_SIGNATURE	"makedumpfile"
#define DESC_BATCH	4096	  /* descriptors per write: 96 KiB */
#define DATA_BATCH	(1 << 20) /* page data per write */

struct out {
	int fd, flat;
};

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t w = pwrite(fd, p, len, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		len -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/* @len bytes that belong at @off of the kdump file. */
static int out_put(struct out *o, uint64_t off, const void *buf, size_t len)
{
	uint8_t rec[16];
	int ret;

	if (!len)
		return 0;
	if (!o->flat)
		return pwrite_all(o->fd, buf, len, off);
	put_be64(rec, off);
	put_be64(rec + 8, len);
	ret = write_all(o->fd, rec, sizeof(rec));
	return ret ? ret : write_all(o->fd, buf, len);
}

/* The value of @key ("OSRELEASE=") in the VMCOREINFO text, copied into @out, or "". */
static void vmcoreinfo_value(const struct elfcore_desc *d, const char *key, char *out,
			     size_t outlen)
{
	const char *p = d->vmcoreinfo, *end = p ? p + d->vmcoreinfo_len : NULL;
	size_t klen = strlen(key);

	out[0] = 0;
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		if ((size_t)(eol - p) > klen && !memcmp(p, key, klen)) {
			size_t n = (size_t)(eol - p) - klen;

			n = n < outlen - 1 ? n : outlen - 1;
			memcpy(out, p + klen, n);
			out[n] = 0;
			return;
		}
		p = eol + 1;
	}
}

static uint64_t max_mapnr(const struct elfcore_desc *d)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < d->nranges; i++) {
		uint64_t end =
		    (d->ranges[i].gpa + d->ranges[i].size + KDUMP_BLOCK - 1) / KDUMP_BLOCK;

		n = end > n ? end : n;
	}
	return n;
}

static uint64_t npages(const struct elfcore_desc *d)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < d->nranges; i++)
		n += (d->ranges[i].size + KDUMP_BLOCK - 1) / KDUMP_BLOCK;
	return n;
}

uint64_t kdump_total(const struct elfcore_desc *d)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < d->nranges; i++)
		n += d->ranges[i].size;
	return n;
}

/* Block 0: the disk_dump_header. */
static void header(const struct elfcore_desc *d, uint8_t *h, uint32_t sub_blocks,
		   uint32_t bitmap_blocks, uint64_t mapnr)
{
	struct timeval tv;
	char release[UTS_LEN];

	memcpy(h, "KDUMP   ", 8);
	put_le32(h + 8, KDUMP_VERSION);
	/* new_utsname at 12: sysname, nodename, release, version, machine, domainname */
	memcpy(h + 12, "Linux", 5);
	vmcoreinfo_value(d, "OSRELEASE=", release, sizeof(release));
	memcpy(h + 12 + 2 * UTS_LEN, release, strlen(release));
	memcpy(h + 12 + 4 * UTS_LEN, "x86_64", 6);
	gettimeofday(&tv, NULL);
	put_le64(h + 408, (uint64_t)tv.tv_sec); /* struct timeval, 8-aligned after utsname */
	put_le64(h + 416, (uint64_t)tv.tv_usec);
	put_le32(h + 424, KDUMP_ZLIB); /* status */
	put_le32(h + 428, KDUMP_BLOCK);
	put_le32(h + 432, sub_blocks);
	put_le32(h + 436, bitmap_blocks);
	put_le32(h + 440, mapnr > UINT32_MAX ? UINT32_MAX : (uint32_t)mapnr);
	put_le32(h + 460, d->ncpus); /* nr_cpus; current_cpu 0 */
}

/* Block 1 on: the kdump_sub_header, then the ELF notes. */
static void sub_header(const struct elfcore_desc *d, uint8_t *s, uint64_t notes_len,
		       uint64_t vmci_off, uint64_t mapnr)
{
	char phys_base[32];
	uint64_t note_off = KDUMP_BLOCK + KDUMP_SUB_HEADER_LEN;

	vmcoreinfo_value(d, "NUMBER(phys_base)=", phys_base, sizeof(phys_base));
	put_le64(s, (uint64_t)strtoll(phys_base, NULL, 0));
	put_le32(s + 8, KDUMP_DUMP_LEVEL);
	if (d->vmcoreinfo) {
		put_le64(s + 32, note_off + vmci_off);
		put_le64(s + 40, d->vmcoreinfo_len);
	}
	put_le64(s + 48, note_off);
	put_le64(s + 56, notes_len);
	put_le64(s + 88, mapnr); /* end_pfn_64 */
	put_le64(s + 96, mapnr); /* max_mapnr_64 */
}

static int page_is_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Everything the page loop carries: the descriptor and data batches and where they go. */
struct pages {
	struct out *o;
	uint8_t *descs, *data, *zbuf;
	unsigned ndescs;
	size_t ndata;
	uint64_t desc_off, data_off; /* the file offset of the batches' first bytes */
	uint64_t zero_off;	     /* the shared page of zeroes */
	uint32_t zero_size;
};

static int flush_descs(struct pages *pg)
{
	int ret = out_put(pg->o, pg->desc_off, pg->descs, (size_t)pg->ndescs * KDUMP_DESC_LEN);

	pg->desc_off += (uint64_t)pg->ndescs * KDUMP_DESC_LEN;
	pg->ndescs = 0;
	return ret;
}

static int flush_data(struct pages *pg)
{
	int ret = out_put(pg->o, pg->data_off, pg->data, pg->ndata);

	pg->data_off += pg->ndata;
	pg->ndata = 0;
	return ret;
}

static void add_desc(struct pages *pg, uint64_t off, uint32_t size, uint32_t flags)
{
	uint8_t *p = pg->descs + (size_t)pg->ndescs++ * KDUMP_DESC_LEN;

	put_le64(p, off);
	put_le32(p + 8, size);
	put_le32(p + 12, flags);
	put_le64(p + 16, 0);
}

/* One page: compressed if that is smaller, else as it is; zeroes point at the shared page. */
static int one_page(struct pages *pg, const uint8_t *page, size_t len)
{
	static const uint8_t pad[KDUMP_BLOCK];
	uLongf zlen = compressBound(KDUMP_BLOCK);
	const uint8_t *src = page;
	uint32_t flags = 0;
	size_t n = KDUMP_BLOCK;
	int ret;

	if (page_is_zero(page, len)) {
		add_desc(pg, pg->zero_off, pg->zero_size, KDUMP_ZLIB);
	} else {
		if (len < KDUMP_BLOCK) { /* a range's partial last page: padded with zeroes */
			memcpy(pg->zbuf, page, len);
			memcpy(pg->zbuf + len, pad, KDUMP_BLOCK - len);
			src = pg->zbuf;
		}
		if (compress2(pg->zbuf + KDUMP_BLOCK, &zlen, src, KDUMP_BLOCK, Z_BEST_SPEED) ==
			Z_OK &&
		    zlen < KDUMP_BLOCK) {
			src = pg->zbuf + KDUMP_BLOCK;
			n = zlen;
			flags = KDUMP_ZLIB;
		}
		if (pg->ndata + n > DATA_BATCH && (ret = flush_data(pg)))
			return ret;
		add_desc(pg, pg->data_off + pg->ndata, (uint32_t)n, flags);
		memcpy(pg->data + pg->ndata, src, n);
		pg->ndata += n;
	}
	return pg->ndescs == DESC_BATCH ? flush_descs(pg) : 0;
}

static int write_pages(struct pages *pg, const struct elfcore_desc *d, uint64_t *done)
{
	static const uint8_t zero[KDUMP_BLOCK];
	uLongf zlen = compressBound(KDUMP_BLOCK);
	int ret;

	/* The one stored page of zeroes, first in the data. */
	if (compress2(pg->zbuf + KDUMP_BLOCK, &zlen, zero, KDUMP_BLOCK, Z_BEST_SPEED) != Z_OK)
		return -EIO;
	memcpy(pg->data, pg->zbuf + KDUMP_BLOCK, zlen);
	pg->zero_off = pg->data_off;
	pg->zero_size = (uint32_t)zlen;
	pg->ndata = zlen;
	for (unsigned i = 0; i < d->nranges; i++) {
		const struct elfcore_range *r = &d->ranges[i];

		for (uint64_t at = 0; at < r->size; at += KDUMP_BLOCK) {
			size_t len =
			    r->size - at < KDUMP_BLOCK ? (size_t)(r->size - at) : KDUMP_BLOCK;

			ret = one_page(pg, r->host + at, len);
			if (ret)
				return ret;
			if (done)
				__atomic_add_fetch(done, len, __ATOMIC_RELAXED);
		}
	}
	ret = flush_descs(pg);
	return ret ? ret : flush_data(pg);
}

/* The two bitmaps: every page of every range is RAM (1st) and is dumped (2nd). */
static int write_bitmaps(struct out *o, const struct elfcore_desc *d, uint64_t off, uint64_t len)
{
	uint8_t *bm = calloc(1, len);
	int ret;

	if (!bm)
		return -ENOMEM;
	for (unsigned i = 0; i < d->nranges; i++) {
		uint64_t first = d->ranges[i].gpa / KDUMP_BLOCK;
		uint64_t end =
		    (d->ranges[i].gpa + d->ranges[i].size + KDUMP_BLOCK - 1) / KDUMP_BLOCK;

		for (uint64_t pfn = first; pfn < end; pfn++)
			bm[pfn / 8] |= (uint8_t)(1u << (pfn % 8));
	}
	ret = out_put(o, off, bm, len);
	if (!ret)
		ret = out_put(o, off + len, bm, len);
	free(bm);
	return ret;
}

int kdump_write(int fd, const struct elfcore_desc *d, int flat, uint64_t *done)
{
	struct out o = { fd, flat };
	uint64_t notes_len = elfcore_notes_size(d), mapnr = max_mapnr(d), vmci_off;
	uint64_t bitmap_len = ((mapnr + 7) / 8 + KDUMP_BLOCK - 1) / KDUMP_BLOCK * KDUMP_BLOCK;
	uint32_t sub_blocks =
	    (uint32_t)((KDUMP_SUB_HEADER_LEN + notes_len + KDUMP_BLOCK - 1) / KDUMP_BLOCK);
	uint64_t bitmap_off = (1 + (uint64_t)sub_blocks) * KDUMP_BLOCK;
	uint64_t desc_off = bitmap_off + 2 * bitmap_len;
	uint8_t *head = calloc(1, (1 + (size_t)sub_blocks) * KDUMP_BLOCK);
	struct pages pg = { .o = &o };
	int ret = -ENOMEM;

	if (done)
		__atomic_store_n(done, 0, __ATOMIC_RELAXED);
	pg.descs = malloc((size_t)DESC_BATCH * KDUMP_DESC_LEN);
	pg.data = malloc(DATA_BATCH + KDUMP_BLOCK);
	pg.zbuf = malloc(KDUMP_BLOCK + compressBound(KDUMP_BLOCK));
	if (!head || !pg.descs || !pg.data || !pg.zbuf)
		goto out;
	if (flat) {
		uint8_t fh[FLAT_HEADER_LEN] = { 0 };

		memcpy(fh, FLAT_SIGNATURE, sizeof(FLAT_SIGNATURE) - 1);
		put_be64(fh + 16, 1); /* TYPE_FLAT_HEADER */
		put_be64(fh + 24, 1); /* VERSION_FLAT_HEADER */
		ret = write_all(fd, fh, sizeof(fh));
		if (ret)
			goto out;
	}
	vmci_off = elfcore_notes(d, head + KDUMP_BLOCK + KDUMP_SUB_HEADER_LEN);
	header(d, head, sub_blocks, (uint32_t)(2 * bitmap_len / KDUMP_BLOCK), mapnr);
	sub_header(d, head + KDUMP_BLOCK, notes_len, vmci_off, mapnr);
	ret = out_put(&o, 0, head, (1 + (size_t)sub_blocks) * KDUMP_BLOCK);
	if (!ret)
		ret = write_bitmaps(&o, d, bitmap_off, bitmap_len);
	pg.desc_off = desc_off;
	pg.data_off = desc_off + npages(d) * KDUMP_DESC_LEN;
	if (!ret)
		ret = write_pages(&pg, d, done);
	if (!ret && flat) {
		uint8_t end[16];

		memset(end, 0xff, sizeof(end)); /* END_FLAG_FLAT_HEADER: offset and size -1 */
		ret = write_all(fd, end, sizeof(end));
	}
out:
	free(head);
	free(pg.descs);
	free(pg.data);
	free(pg.zbuf);
	return ret;
}
