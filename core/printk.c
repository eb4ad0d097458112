/* printk.c - the guest kernel's log from its RAM: VMCOREINFO, page-table walk, ring reader. */
#include "printk.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE   4096ull
#define PTE_PRESENT 0x1ull
#define PTE_PSE	    0x80ull /* a 1 GiB page in a PUD entry, 2 MiB in a PMD entry */

/*
 * The ring's descriptor state, in the top two bits of state_var (Linux's
 * kernel/printk/printk_ringbuffer.h): the rest is the descriptor's id.
 */
#define DESC_FLAGS_SHIFT 62
#define DESC_ID_MASK	 (~(3ull << DESC_FLAGS_SHIFT))
#define DESC_COMMITTED	 1
#define DESC_FINALIZED	 2
/* A data block opens with the id of its descriptor (an unsigned long), then the text. */
#define BLK_ID_SIZE 8
/* Most bits either ring's size may have: 2^25 bytes of text (Linux's largest LOG_BUF_SHIFT),
 * 2^21 descriptors. */
#define MAX_SIZE_BITS  25
#define MAX_COUNT_BITS 21

int printk_vmcoreinfo(const char *info, size_t len, const char *key, int base, uint64_t *val)
{
	size_t klen = strlen(key);
	const char *p = info, *end = info + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		if ((size_t)(eol - p) > klen && !memcmp(p, key, klen) && p[klen] == '=') {
			char num[32], *e;
			size_t n = (size_t)(eol - p) - klen - 1;

			if (!n || n >= sizeof(num))
				return -ENOENT;
			memcpy(num, p + klen + 1, n);
			num[n] = 0;
			errno = 0;
			*val = num[0] == '-' ? (uint64_t)strtoll(num, &e, base)
					     : (uint64_t)strtoull(num, &e, base);
			return *e || errno ? -ENOENT : 0;
		}
		p = eol + 1;
	}
	return -ENOENT;
}

int printk_vtop(const struct printk_mmu *m, uint64_t va, uint64_t *pa)
{
	uint64_t table = m->pgd & m->entry_mask, e;

	for (int level = m->la57 ? 5 : 4; level >= 1; level--) {
		unsigned shift = 12 + 9 * (unsigned)(level - 1);

		if (guest_mem_read(m->gm, &e, table + ((va >> shift) & 511) * 8, 8) ||
		    !(e & PTE_PRESENT))
			return -EFAULT;
		if ((level == 3 || level == 2) && (e & PTE_PSE)) {
			uint64_t size = 1ull << shift;

			*pa = (e & m->entry_mask & ~(size - 1)) + (va & (size - 1));
			return 0;
		}
		table = e & m->entry_mask;
	}
	*pa = table + (va & (PAGE_SIZE - 1));
	return 0;
}

int printk_read_virt(const struct printk_mmu *m, void *dst, uint64_t va, uint64_t len)
{
	uint8_t *d = dst;

	while (len) {
		uint64_t pa, n = PAGE_SIZE - (va & (PAGE_SIZE - 1));

		n = n < len ? n : len;
		if (printk_vtop(m, va, &pa) || guest_mem_read(m->gm, d, pa, n))
			return -EFAULT;
		d += n;
		va += n;
		len -= n;
	}
	return 0;
}

int printk_mmu_init(struct printk_mmu *m, const struct guest_mem *gm, const char *info, size_t len,
		    uint64_t cr3, int cr4_la57)
{
	uint64_t top, phys_base = 0, l5 = 0, sme = 0;

	*m = (struct printk_mmu){ .gm = gm, .entry_mask = PRINTK_ENTRY_MASK };
	if (info && !printk_vmcoreinfo(info, len, "NUMBER(sme_mask)", 10, &sme))
		m->entry_mask &= ~sme;
	if (info && !printk_vmcoreinfo(info, len, "SYMBOL(init_top_pgt)", 16, &top) &&
	    top >= PRINTK_START_KERNEL_MAP) {
		printk_vmcoreinfo(info, len, "NUMBER(phys_base)", 10, &phys_base);
		printk_vmcoreinfo(info, len, "NUMBER(pgtable_l5_enabled)", 10, &l5);
		m->pgd = top - PRINTK_START_KERNEL_MAP + phys_base;
		m->la57 = l5 != 0;
		return 0;
	}
	if (!cr3)
		return -ENOENT;
	m->pgd = cr3; /* the low 12 bits (PCID or PWT/PCD) fall to entry_mask */
	m->la57 = cr4_la57;
	return 0;
}

/* --- the output, as makedumpfile's dump_record writes it ----------------------------------- */

struct out {
	int count_only; /* measure, keep nothing */
	char *buf;
	size_t len, cap;
	int err;
};

static void out_put(struct out *o, const char *s, size_t n)
{
	if (o->err)
		return;
	if (o->count_only) {
		o->len += n;
		return;
	}
	if (o->len + n > PRINTK_MAX_OUT) {
		o->err = -E2BIG;
		return;
	}
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 65536;
		char *b;

		while (o->len + n + 1 > cap)
			cap *= 2;
		b = realloc(o->buf, cap);
		if (!b) {
			o->err = -ENOMEM;
			return;
		}
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = 0;
}

/* makedumpfile tests each char with isprint() || isspace() in the C locale. */
static int kept(unsigned char c)
{
	return (c >= 0x20 && c < 0x7f) || c == ' ' || (c >= '\t' && c <= '\r');
}

static void out_record(struct out *o, uint64_t ts_nsec, const uint8_t *text, size_t n)
{
	char pre[64], esc[16];
	int indent =
	    snprintf(pre, sizeof(pre), "[%5lld.%06ld] ", (long long)(ts_nsec / 1000000000ull),
		     (long)(ts_nsec % 1000000000ull / 1000));
	size_t run = 0;

	out_put(o, pre, (size_t)indent);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = text[i];

		if (c != '\n' && kept(c))
			continue;
		out_put(o, (const char *)text + run, i - run);
		run = i + 1;
		if (c == '\n') {
			out_put(o, "\n", 1);
			for (int k = 0; k < indent; k++)
				out_put(o, " ", 1);
		} else {
			/* %02x of the char promoted to int: signed on x86_64, as makedumpfile does
			 */
			int w = snprintf(esc, sizeof(esc), "\\x%02x", (int)(signed char)c);

			out_put(o, esc, (size_t)w);
		}
	}
	out_put(o, (const char *)text + run, n - run);
	out_put(o, "\n", 1);
}

/* --- the ring ----------------------------------------------------------------------------- */

/* The VMCOREINFO values the reader needs, each a key it must find. */
struct layout {
	uint64_t prb, rb_size, desc_ring, text_ring;
	uint64_t count_bits, descs, infos, head_id, tail_id;
	uint64_t desc_size, state_var, text_blk_lpos, lpos_begin, lpos_next;
	uint64_t info_size, ts_nsec, text_len;
	uint64_t size_bits, data, counter;
};

static const struct {
	const char *key;
	size_t off;
	int base;
} layout_keys[] = {
#define K(key, field, base)                                                                        \
	{                                                                                          \
		key, offsetof(struct layout, field), base                                          \
	}
	K("SYMBOL(prb)", prb, 16),
	K("SIZE(printk_ringbuffer)", rb_size, 10),
	K("OFFSET(printk_ringbuffer.desc_ring)", desc_ring, 10),
	K("OFFSET(printk_ringbuffer.text_data_ring)", text_ring, 10),
	K("OFFSET(prb_desc_ring.count_bits)", count_bits, 10),
	K("OFFSET(prb_desc_ring.descs)", descs, 10),
	K("OFFSET(prb_desc_ring.infos)", infos, 10),
	K("OFFSET(prb_desc_ring.head_id)", head_id, 10),
	K("OFFSET(prb_desc_ring.tail_id)", tail_id, 10),
	K("SIZE(prb_desc)", desc_size, 10),
	K("OFFSET(prb_desc.state_var)", state_var, 10),
	K("OFFSET(prb_desc.text_blk_lpos)", text_blk_lpos, 10),
	K("OFFSET(prb_data_blk_lpos.begin)", lpos_begin, 10),
	K("OFFSET(prb_data_blk_lpos.next)", lpos_next, 10),
	K("SIZE(printk_info)", info_size, 10),
	K("OFFSET(printk_info.ts_nsec)", ts_nsec, 10),
	K("OFFSET(printk_info.text_len)", text_len, 10),
	K("OFFSET(prb_data_ring.size_bits)", size_bits, 10),
	K("OFFSET(prb_data_ring.data)", data, 10),
	K("OFFSET(atomic_long_t.counter)", counter, 10),
#undef K
};

static int fail(char *why, size_t whylen, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *why, size_t whylen, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return err;
}

/* A field of @size bytes at @off inside a struct of @total bytes copied to host memory. */
static int field(const uint8_t *base, uint64_t total, uint64_t off, unsigned size, void *v)
{
	if (off > total || size > total - off)
		return -EINVAL;
	memcpy(v, base + off, size);
	return 0;
}

struct ring {
	uint8_t *descs, *infos, *text;
	uint64_t count, size;
};

static void ring_record(const struct layout *l, const struct ring *r, uint64_t id, struct out *o)
{
	const uint8_t *desc = r->descs + (id % r->count) * l->desc_size;
	const uint8_t *inf = r->infos + (id % r->count) * l->info_size;
	uint64_t state, begin, next, ts = 0;
	uint16_t text_len = 0;

	if (field(desc, l->desc_size, l->state_var + l->counter, 8, &state) ||
	    field(desc, l->desc_size, l->text_blk_lpos + l->lpos_begin, 8, &begin) ||
	    field(desc, l->desc_size, l->text_blk_lpos + l->lpos_next, 8, &next))
		return;
	if ((state & DESC_ID_MASK) != id || ((state >> DESC_FLAGS_SHIFT) != DESC_COMMITTED &&
					     (state >> DESC_FLAGS_SHIFT) != DESC_FINALIZED))
		return;
	begin %= r->size;
	next %= r->size;
	if (begin == next) /* a record without text */
		return;
	field(inf, l->info_size, l->text_len, 2, &text_len);
	field(inf, l->info_size, l->ts_nsec, 8, &ts);
	if (begin > next) /* a block that wraps keeps its text at the ring's start */
		begin = 0;
	begin += BLK_ID_SIZE;
	if (next - begin < text_len)
		text_len = (uint16_t)(next - begin);
	/* makedumpfile trusts text_len here; the guest is not trusted: stay inside the ring. */
	if (begin > r->size)
		return;
	if (text_len > r->size - begin)
		text_len = (uint16_t)(r->size - begin);
	out_record(o, ts, r->text + begin, text_len);
}

int printk_read_log(const struct printk_mmu *m, const char *info, size_t len, size_t keep,
		    char **out, size_t *outlen, size_t *total, char *why, size_t whylen)
{
	struct layout l;
	struct ring r = { 0 };
	struct out o = { 0 };
	uint8_t *rb = NULL;
	uint64_t kaddr, head, tail, n;
	uint32_t count_bits, size_bits;
	int ret;

	for (size_t i = 0; i < sizeof(layout_keys) / sizeof(layout_keys[0]); i++)
		if (printk_vmcoreinfo(info, len, layout_keys[i].key, layout_keys[i].base,
				      (uint64_t *)((char *)&l + layout_keys[i].off)))
			return fail(why, whylen, -ENOENT,
				    "VMCOREINFO has no %s (not a Linux >= 5.10 lockless ring "
				    "buffer)",
				    layout_keys[i].key);
	if (!l.rb_size || l.rb_size > 4096 || !l.desc_size || l.desc_size > 4096 || !l.info_size ||
	    l.info_size > 4096)
		return fail(why, whylen, -EINVAL, "VMCOREINFO's ring buffer sizes are not sane");
	if (printk_read_virt(m, &kaddr, l.prb, 8))
		return fail(why, whylen, -EFAULT, "cannot read prb at 0x%llx",
			    (unsigned long long)l.prb);
	rb = malloc(l.rb_size);
	if (!rb)
		return fail(why, whylen, -ENOMEM, "out of memory");
	ret = fail(why, whylen, -EFAULT, "cannot read the printk_ringbuffer at 0x%llx",
		   (unsigned long long)kaddr);
	if (printk_read_virt(m, rb, kaddr, l.rb_size))
		goto out;
	ret = fail(why, whylen, -EINVAL, "the printk_ringbuffer is not sane");
	if (field(rb, l.rb_size, l.desc_ring + l.count_bits, 4, &count_bits) ||
	    field(rb, l.rb_size, l.text_ring + l.size_bits, 4, &size_bits) ||
	    count_bits > MAX_COUNT_BITS || size_bits > MAX_SIZE_BITS ||
	    field(rb, l.rb_size, l.desc_ring + l.head_id + l.counter, 8, &head) ||
	    field(rb, l.rb_size, l.desc_ring + l.tail_id + l.counter, 8, &tail))
		goto out;
	r.count = 1ull << count_bits;
	r.size = 1ull << size_bits;
	if (r.count * l.desc_size > PRINTK_MAX_RING || r.count * l.info_size > PRINTK_MAX_RING)
		goto out;
	r.descs = malloc(r.count * l.desc_size);
	r.infos = malloc(r.count * l.info_size);
	r.text = malloc(r.size);
	ret = fail(why, whylen, -ENOMEM, "out of memory");
	if (!r.descs || !r.infos || !r.text)
		goto out;
	ret = fail(why, whylen, -EFAULT, "cannot read the ring's descriptors, infos or text");
	if (field(rb, l.rb_size, l.desc_ring + l.descs, 8, &kaddr) ||
	    printk_read_virt(m, r.descs, kaddr, r.count * l.desc_size) ||
	    field(rb, l.rb_size, l.desc_ring + l.infos, 8, &kaddr) ||
	    printk_read_virt(m, r.infos, kaddr, r.count * l.info_size) ||
	    field(rb, l.rb_size, l.text_ring + l.data, 8, &kaddr) ||
	    printk_read_virt(m, r.text, kaddr, r.size))
		goto out;
	/* From the tail id to the head id, then the head: makedumpfile's order. A sane ring has
	 * at most count descriptors in between; a guest's claim of more is cut there. First the
	 * length of it all, then (skipping records while what follows them is still @keep bytes
	 * or more) the text itself. */
	for (int pass = 0; pass < 2; pass++) {
		struct out m = { .count_only = 1 };

		n = 0;
		for (uint64_t id = tail & DESC_ID_MASK; n <= r.count;
		     id = (id + 1) & DESC_ID_MASK, n++) {
			if (pass == 0) {
				ring_record(&l, &r, id, &m);
			} else {
				ring_record(&l, &r, id, &m); /* m.len: the log up to this record */
				if (!keep || *total - m.len < keep)
					ring_record(&l, &r, id, &o);
			}
			if (id == (head & DESC_ID_MASK))
				break;
		}
		if (pass == 0)
			*total = m.len;
	}
	ret = fail(why, whylen, -ENOMEM, "out of memory");
	out_put(&o, "", 0);
	if (o.err)
		goto out;
	*out = o.buf;
	*outlen = o.len;
	o.buf = NULL;
	why[0] = 0;
	ret = 0;
out:
	free(o.buf);
	free(r.descs);
	free(r.infos);
	free(r.text);
	free(rb);
	return ret;
}

const char *printk_panic_message(const char *log, size_t len, size_t *n)
{
	static const char key[] = "Kernel panic - not syncing: ";
	const char *found = NULL, *p = log, *end = log + len;

	while ((p = memmem(p, (size_t)(end - p), key, sizeof(key) - 1))) {
		found = p;
		p++;
	}
	if (!found)
		return NULL;
	p = memchr(found, '\n', (size_t)(end - found));
	*n = (size_t)((p ? p : end) - found);
	return found;
}
