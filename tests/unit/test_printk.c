/* test_printk.c - the printk ring-buffer reader on a synthetic guest: page tables, a Linux
 * 6.12-shaped lockless ring that wraps, its VMCOREINFO; and makedumpfile on the same memory. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/elfcore.h"
#include "core/printk.h"
#include "tests/unit/unit.h"

#define RAM	  (16u << 20)
#define KMAP	  PRINTK_START_KERNEL_MAP
#define PHYS_BASE 0x200000ull		/* the kernel text map: KMAP + x is PHYS_BASE + x */
#define PAGE_OFF  0xffff888000000000ull /* Linux's direct map (4-level, no KASLR) */
/* Physical pages of the page tables, inside the kernel image as Linux's are. */
#define PGD	(PHYS_BASE + 0x1000)
#define PUD_K	(PHYS_BASE + 0x2000)
#define PMD_K	(PHYS_BASE + 0x3000)
#define PUD_D	(PHYS_BASE + 0x4000)
#define PMD_D	(PHYS_BASE + 0x5000)
#define PTE_D	(PHYS_BASE + 0x6000)
#define SCATTER 0xc00000ull /* where the direct map's pages really are (shuffled) */
/* Kernel variables: prb, the ring buffer struct, the text ring (static, as Linux's are). */
#define SYM_PRB	 (KMAP + 0x10000)
#define SYM_RB	 (KMAP + 0x10100)
#define TEXT_VA	 (KMAP + 0x20000)
#define DESCS_VA (PAGE_OFF + 0x0)    /* descriptors and infos in the direct map (memblock) */
#define INFOS_VA (PAGE_OFF + 0x3ff8) /* straddling pages on purpose */

#define COUNT_BITS 4  /* 16 descriptors */
#define SIZE_BITS  10 /* 1 KiB of text: wraps often */
#define COUNT	   (1u << COUNT_BITS)
#define SIZE	   (1u << SIZE_BITS)
#define DESC_SIZE  24
#define INFO_SIZE  88
#define ID_MASK	   (~(3ull << 62))

static const char vmcoreinfo[] = "OSRELEASE=6.12.0-test\n"
				 "BUILD-ID=0123456789abcdef0123456789abcdef01234567\n"
				 "PAGESIZE=4096\n"
				 "SYMBOL(init_uts_ns)=ffffffff80030000\n"
				 "OFFSET(uts_namespace.name)=0\n"
				 "SYMBOL(node_online_map)=ffffffff80030400\n"
				 "SYMBOL(swapper_pg_dir)=ffffffff80201000\n"
				 "SYMBOL(_stext)=ffffffff80000000\n"
				 "SIZE(nodemask_t)=8\n"
				 "SYMBOL(mem_map)=ffffffff80030c00\n"
				 "SIZE(page)=64\n"
				 "OFFSET(page.flags)=0\n"
				 "OFFSET(page._refcount)=52\n"
				 "OFFSET(page.mapping)=24\n"
				 "SYMBOL(prb)=ffffffff80010000\n"
				 "SYMBOL(printk_rb_static)=ffffffff80010100\n"
				 "SYMBOL(clear_seq)=ffffffff80030800\n"
				 "SIZE(printk_ringbuffer)=88\n"
				 "OFFSET(printk_ringbuffer.desc_ring)=0\n"
				 "OFFSET(printk_ringbuffer.text_data_ring)=48\n"
				 "OFFSET(printk_ringbuffer.fail)=80\n"
				 "SIZE(prb_desc_ring)=48\n"
				 "OFFSET(prb_desc_ring.count_bits)=0\n"
				 "OFFSET(prb_desc_ring.descs)=8\n"
				 "OFFSET(prb_desc_ring.infos)=16\n"
				 "OFFSET(prb_desc_ring.head_id)=24\n"
				 "OFFSET(prb_desc_ring.tail_id)=32\n"
				 "SIZE(prb_desc)=24\n"
				 "OFFSET(prb_desc.state_var)=0\n"
				 "OFFSET(prb_desc.text_blk_lpos)=8\n"
				 "SIZE(prb_data_blk_lpos)=16\n"
				 "OFFSET(prb_data_blk_lpos.begin)=0\n"
				 "OFFSET(prb_data_blk_lpos.next)=8\n"
				 "SIZE(printk_info)=88\n"
				 "OFFSET(printk_info.seq)=0\n"
				 "OFFSET(printk_info.ts_nsec)=8\n"
				 "OFFSET(printk_info.text_len)=16\n"
				 "OFFSET(printk_info.caller_id)=20\n"
				 "OFFSET(printk_info.dev_info)=24\n"
				 "SIZE(prb_data_ring)=32\n"
				 "OFFSET(prb_data_ring.size_bits)=0\n"
				 "OFFSET(prb_data_ring.data)=8\n"
				 "OFFSET(prb_data_ring.head_lpos)=16\n"
				 "OFFSET(prb_data_ring.tail_lpos)=24\n"
				 "SIZE(atomic_long_t)=8\n"
				 "OFFSET(atomic_long_t.counter)=0\n"
				 "NUMBER(phys_base)=2097152\n"
				 "SYMBOL(init_top_pgt)=ffffffff80001000\n"
				 "NUMBER(pgtable_l5_enabled)=0\n"
				 "KERNELOFFSET=0\n"
				 "NUMBER(KERNEL_IMAGE_SIZE)=1073741824\n"
				 "NUMBER(sme_mask)=0\n"
				 "CRASHTIME=1700000000\n";

static struct guest_mem gm;
static uint8_t *ram;

static void put64(uint64_t pa, uint64_t v)
{
	ck_assert_int_eq(guest_mem_write(&gm, pa, &v, 8), 0);
}

/* The page that backs direct-map page @i: shuffled, so a reader that does not walk page by
 * page reads the wrong bytes. */
static uint64_t scatter(unsigned i)
{
	return SCATTER + (uint64_t)((i * 7) % 64) * 4096;
}

static void fake_guest(void)
{
	ram = calloc(1, RAM);
	ck_assert_ptr_nonnull(ram);
	memset(&gm, 0, sizeof(gm));
	gm.regions[0] = (struct guest_region){ 0, RAM, ram };
	gm.nregions = 1;
	gm.ram_size = RAM;
	/* The kernel text map: KMAP .. KMAP + 12 MiB on 2 MiB pages (NX set: masked off). */
	put64(PGD + 511 * 8, PUD_K | 0x63);
	put64(PUD_K + 510 * 8, PMD_K | 0x63);
	for (unsigned i = 0; i < 6; i++)
		put64(PMD_K + i * 8, (PHYS_BASE + i * 0x200000ull) | 0x80000000000000e3ull);
	/* The direct map's first 256 KiB on 4 KiB pages, scattered. */
	put64(PGD + 273 * 8, PUD_D | 0x63);
	put64(PUD_D + 0 * 8, PMD_D | 0x63);
	put64(PMD_D + 0 * 8, PTE_D | 0x63);
	for (unsigned i = 0; i < 64; i++)
		put64(PTE_D + i * 8, scatter(i) | 0x8000000000000063ull);
}

static void put_virt(uint64_t va, const void *src, size_t n)
{
	const struct printk_mmu m = { &gm, PGD, 0, PRINTK_ENTRY_MASK };
	const uint8_t *s = src;

	for (size_t i = 0; i < n; i++) {
		uint64_t pa;

		ck_assert_int_eq(printk_vtop(&m, va + i, &pa), 0);
		ck_assert_int_eq(guest_mem_write(&gm, pa, s + i, 1), 0);
	}
}

static void put_virt64(uint64_t va, uint64_t v)
{
	put_virt(va, &v, 8);
}

/* The writer's side, as Linux's printk_ringbuffer.c lays records out. */
static uint64_t head_id, tail_id, data_head; /* data_head: the next free logical position */
static uint64_t blk_begin[COUNT];

static void set_state(uint64_t id, uint64_t st)
{
	put_virt64(DESCS_VA + (id % COUNT) * DESC_SIZE, (st << 62) | (id & ID_MASK));
}

static void ring_init(void)
{
	put_virt64(SYM_PRB, SYM_RB);
	put_virt(SYM_RB + 0, &(uint32_t){ COUNT_BITS }, 4);
	put_virt64(SYM_RB + 8, DESCS_VA);
	put_virt64(SYM_RB + 16, INFOS_VA);
	put_virt(SYM_RB + 48, &(uint32_t){ SIZE_BITS }, 4);
	put_virt64(SYM_RB + 56, TEXT_VA);
	/* Linux's DESC0_ID: the first record gets id (head + 1), wrapping the id space. */
	head_id = tail_id = (-(uint64_t)(COUNT + 1)) & ID_MASK;
	data_head = 0;
	set_state(head_id, 3);
}

static void ring_sync(void)
{
	put_virt64(SYM_RB + 24, head_id);
	put_virt64(SYM_RB + 32, tail_id);
}

/* Append one record in state @st (2 finalized, 1 committed, 0 reserved). @len 0 is a
 * data-less record (an empty line: begin = next = 3). */
static void ring_add(uint64_t ts, const char *text, size_t len, unsigned st)
{
	uint64_t id = (head_id + 1) & ID_MASK, begin = 3, next = 3,
		 d = DESCS_VA + (id % COUNT) * DESC_SIZE;
	uint64_t inf = INFOS_VA + (id % COUNT) * INFO_SIZE;

	/* The descriptor ring is full: the oldest record goes. */
	if (((id - tail_id) & ID_MASK) >= COUNT)
		tail_id = (tail_id + 1) & ID_MASK;
	if (len) {
		uint64_t size = (8 + len + 7) & ~7ull;

		begin = data_head;
		next = begin + size;
		/* Linux's get_next_lpos: a block that reaches the ring's end (even exactly) wraps,
		 * and its data goes to the start. */
		if (begin / SIZE != next / SIZE)
			next = next / SIZE * SIZE + size;
		put_virt64(TEXT_VA + (next - size) % SIZE, id);
		put_virt(TEXT_VA + (next - size) % SIZE + 8, text, len);
		data_head = next;
		/* Records whose text was overwritten leave the ring (made reusable). */
		while (tail_id != id && blk_begin[tail_id % COUNT] != 3 &&
		       blk_begin[tail_id % COUNT] + SIZE < next) {
			set_state(tail_id, 3);
			tail_id = (tail_id + 1) & ID_MASK;
		}
	}
	blk_begin[id % COUNT] = begin;
	put_virt64(d + 8, begin);
	put_virt64(d + 16, next);
	put_virt64(inf + 0, id); /* seq */
	put_virt64(inf + 8, ts);
	put_virt(inf + 16, &(uint16_t){ (uint16_t)len }, 2);
	set_state(id, st);
	head_id = id;
	ring_sync();
}

static void ring_addz(uint64_t ts, const char *text)
{
	ring_add(ts, text, strlen(text), 2);
}

static char *read_log_keep(size_t keep, size_t *len, size_t *total)
{
	struct printk_mmu m;
	char why[200], *log = NULL;

	ck_assert_int_eq(printk_mmu_init(&m, &gm, vmcoreinfo, sizeof(vmcoreinfo) - 1, 0, 0), 0);
	ck_assert_uint_eq(m.pgd, PGD);
	ck_assert_int_eq(printk_read_log(&m, vmcoreinfo, sizeof(vmcoreinfo) - 1, keep, &log, len,
					 total, why, sizeof(why)),
			 0);
	ck_assert_ptr_nonnull(log);
	ck_assert_uint_eq(strlen(log), *len);
	ck_assert_uint_ge(*total, *len);
	return log;
}

static char *read_log(size_t *len)
{
	size_t total;
	char *log = read_log_keep(0, len, &total);

	ck_assert_uint_eq(total, *len);
	return log;
}

START_TEST(vmcoreinfo_values)
{
	uint64_t v;

	ck_assert_int_eq(
	    printk_vmcoreinfo(vmcoreinfo, sizeof(vmcoreinfo) - 1, "SYMBOL(prb)", 16, &v), 0);
	ck_assert_uint_eq(v, SYM_PRB);
	ck_assert_int_eq(
	    printk_vmcoreinfo(vmcoreinfo, sizeof(vmcoreinfo) - 1, "NUMBER(phys_base)", 10, &v), 0);
	ck_assert_uint_eq(v, PHYS_BASE);
	/* A key that only starts another one is not it. */
	ck_assert_int_eq(printk_vmcoreinfo(vmcoreinfo, sizeof(vmcoreinfo) - 1, "SYMBOL(pr", 16, &v),
			 -ENOENT);
	ck_assert_int_eq(printk_vmcoreinfo("A=-1\nB=zz\n", 10, "A", 10, &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(printk_vmcoreinfo("A=-1\nB=zz\n", 10, "B", 10, &v), -ENOENT);
	ck_assert_int_eq(printk_vmcoreinfo("A=1", 3, "A", 10, &v), 0); /* no final newline */
}
END_TEST

START_TEST(page_walks)
{
	struct printk_mmu m;
	uint64_t pa;

	fake_guest();
	m = (struct printk_mmu){ &gm, PGD, 0, PRINTK_ENTRY_MASK };
	ck_assert_int_eq(printk_vtop(&m, KMAP + 0x234567, &pa), 0); /* 2 MiB page */
	ck_assert_uint_eq(pa, PHYS_BASE + 0x234567);
	ck_assert_int_eq(printk_vtop(&m, PAGE_OFF + 0x5123, &pa), 0); /* 4 KiB page */
	ck_assert_uint_eq(pa, scatter(5) + 0x123);
	ck_assert_int_eq(printk_vtop(&m, PAGE_OFF + 64 * 4096, &pa), -EFAULT); /* not present */
	ck_assert_int_eq(printk_vtop(&m, 0x1000, &pa), -EFAULT);
	/* A 1 GiB page (PUD PSE) with the PAT bit (12) set, and a CR3 with PCID bits. */
	put64(PUD_D + 3 * 8, 0x40000000ull | 0x1000 | 0xe3);
	m.pgd = PGD | 0x5;
	ck_assert_int_eq(printk_vtop(&m, PAGE_OFF + 0xc0123456ull, &pa), 0);
	ck_assert_uint_eq(pa, 0x40123456ull);
	/* A table outside RAM is a fault, not a read past the mapping. */
	put64(PMD_D + 1 * 8, 0x7ffff000ull | 0x63);
	ck_assert_int_eq(printk_vtop(&m, PAGE_OFF + 0x200000, &pa), -EFAULT);
	/* 5-level: one more table on top (la57), index from bits 48-56. */
	put64(PHYS_BASE + 0x7000 + 511 * 8, PGD | 0x63);
	m = (struct printk_mmu){ &gm, PHYS_BASE + 0x7000, 1, PRINTK_ENTRY_MASK };
	ck_assert_int_eq(printk_vtop(&m, KMAP + 0x10, &pa), 0);
	ck_assert_uint_eq(pa, PHYS_BASE + 0x10);
	/* Without init_top_pgt in VMCOREINFO, a vcpu's CR3 is used; without either, nothing. */
	ck_assert_int_eq(printk_mmu_init(&m, &gm, "OSRELEASE=x\n", 12, PGD | 0x800, 1), 0);
	ck_assert_uint_eq(m.pgd, PGD | 0x800);
	ck_assert_int_eq(m.la57, 1);
	ck_assert_int_eq(printk_mmu_init(&m, &gm, "OSRELEASE=x\n", 12, 0, 0), -ENOENT);
	free(ram);
}
END_TEST

/* The scenario both tests below read: the text ring wraps, the descriptor ring wraps, a
 * multi-line record, bytes outside ASCII, a data-less record, a reserved one at the head. */
static void scenario(void)
{
	char big[300];

	fake_guest();
	/* init_uts_ns.name, which makedumpfile checks against OSRELEASE: sysname, nodename and
	 * release, 65 bytes each. */
	put_virt(KMAP + 0x30000, "Linux", 6);
	put_virt(KMAP + 0x30000 + 130, "6.12.0-test", 12);
	/* What else its setup reads: node 0 online, a flat mem_map. */
	put_virt64(KMAP + 0x30400, 1);
	put_virt64(KMAP + 0x30c00, PAGE_OFF + 0x20000);
	ring_init();
	for (unsigned i = 0; i < 12; i++) {
		snprintf(big, sizeof(big), "filler record %u %.*s", i, (int)(i * 9),
			 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstu"
			 "vwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz");
		ring_addz(1000000000ull * i + 123456789ull, big);
	}
	ring_addz(12345678901234ull, "two lines\nsecond line");
	ring_add(12400000000000ull, "caf\xc3\xa9 \x01\x7f\ttab\r", 13, 2);
	ring_add(12500000000000ull, "", 0, 2);
	ring_add(12600000000000ull, "committed, not yet finalized", 28, 1);
	ring_addz(99999999999999999ull, "Kernel panic - not syncing: sysrq triggered crash");
	ring_add(100000000000000000ull, "reserved: never printed", 23, 0);
}

static const char expected_tail[] =
    "[12345.678901] two lines\n"
    "               second line\n"
    "[12400.000000] caf\\xffffffc3\\xffffffa9 \\x01\\x7f\ttab\r\n"
    "[12600.000000] committed, not yet finalized\n"
    "[99999999.999999] Kernel panic - not syncing: sysrq triggered crash\n";

START_TEST(ring_as_makedumpfile_formats_it)
{
	size_t len, n;
	char *log;
	const char *msg;

	scenario();
	log = read_log(&len);
	ck_assert_uint_ge(len, sizeof(expected_tail) - 1);
	ck_assert_str_eq(log + len - (sizeof(expected_tail) - 1), expected_tail);
	/* The oldest records were pushed out of the 1 KiB text ring; a later filler is there,
	 * with its 5-wide seconds. */
	ck_assert_ptr_null(strstr(log, "filler record 0 "));
	ck_assert_ptr_nonnull(strstr(log, "[   11.123456] filler record 11 abc"));
	ck_assert_ptr_eq(strstr(log, "[   "), log); /* it starts at a record */
	msg = printk_panic_message(log, len, &n);
	ck_assert_ptr_nonnull(msg);
	ck_assert_int_eq((int)n, 49);
	ck_assert_int_eq(memcmp(msg, "Kernel panic - not syncing: sysrq triggered crash", n), 0);
	/* Only the end: whole records, the fewest that make @keep bytes, never a continuation
	 * line alone; the total is the whole log's. */
	{
		size_t tlen, total;
		char *t = read_log_keep(20, &tlen, &total);

		ck_assert_uint_eq(total, len);
		ck_assert_str_eq(t, "[99999999.999999] Kernel panic - not syncing: sysrq triggered "
				    "crash\n");
		free(t);
		t = read_log_keep(sizeof(expected_tail) - 1 - 30, &tlen, &total);
		ck_assert_str_eq(t, expected_tail);
		free(t);
		t = read_log_keep(sizeof(expected_tail) - 1, &tlen, &total);
		ck_assert_str_eq(t, expected_tail);
		free(t);
		t = read_log_keep(len + 1000, &tlen, &total);
		ck_assert_str_eq(t, log);
		free(t);
	}
	free(log);
	free(ram);
}
END_TEST

START_TEST(ring_refusals)
{
	struct printk_mmu m = { &gm, PGD, 0, PRINTK_ENTRY_MASK };
	char why[200], *log = NULL, info[sizeof(vmcoreinfo) + 64];
	size_t len, total;

	scenario();
	/* No prb: an older kernel or no printk. */
	ck_assert_int_eq(
	    printk_read_log(&m, "OSRELEASE=5.4\n", 14, 0, &log, &len, &total, why, sizeof(why)),
	    -ENOENT);
	ck_assert_ptr_nonnull(strstr(why, "SYMBOL(prb)"));
	/* prb pointing nowhere. */
	put_virt64(SYM_PRB, 0xffffc90000000000ull);
	ck_assert_int_eq(printk_read_log(&m, vmcoreinfo, sizeof(vmcoreinfo) - 1, 0, &log, &len,
					 &total, why, sizeof(why)),
			 -EFAULT);
	ck_assert_ptr_nonnull(strstr(why, "printk_ringbuffer"));
	put_virt64(SYM_PRB, SYM_RB);
	/* A hostile size: 2^40 descriptors is refused, not allocated. */
	put_virt(SYM_RB + 0, &(uint32_t){ 40 }, 4);
	ck_assert_int_eq(printk_read_log(&m, vmcoreinfo, sizeof(vmcoreinfo) - 1, 0, &log, &len,
					 &total, why, sizeof(why)),
			 -EINVAL);
	put_virt(SYM_RB + 0, &(uint32_t){ COUNT_BITS }, 4);
	/* An offset past its struct. */
	snprintf(info, sizeof(info), "%sOFFSET(prb_desc.state_var)=4000\n", vmcoreinfo);
	*strstr(info, "OFFSET(prb_desc.state_var)=0") = 'X';
	ck_assert_int_eq(
	    printk_read_log(&m, info, strlen(info), 0, &log, &len, &total, why, sizeof(why)), 0);
	ck_assert_uint_eq(len, 0); /* every record's state is unreadable: none printed */
	free(log);
	/* A text length longer than the block, and a begin lpos past the ring: cut, in RAM. */
	put_virt(INFOS_VA + (head_id - 1) % COUNT * INFO_SIZE + 16, &(uint16_t){ 65535 }, 2);
	ck_assert_int_eq(printk_read_log(&m, vmcoreinfo, sizeof(vmcoreinfo) - 1, 0, &log, &len,
					 &total, why, sizeof(why)),
			 0);
	ck_assert_ptr_nonnull(strstr(log, "Kernel panic - not syncing: sysrq triggered crash"));
	free(log);
	free(ram);
}
END_TEST

/* Run @argv; its exit status, or -1 when it could not run. */
static int run(char *const argv[])
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		/* Its messages, for a failure's diagnosis. */
		int log =
		    open("/tmp/test_printk.makedumpfile.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(log, 1);
		dup2(log, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The same memory as an ELF core, read by Debian's makedumpfile --dump-dmesg: byte for byte
 * what printk_read_log gives. */
START_TEST(same_as_makedumpfile)
{
	char core[] = "/tmp/test_printk.core.XXXXXX", out[64], *log, *want;
	struct elfcore_range r;
	struct elfcore_desc d = { 0 };
	struct stat st;
	size_t len;
	FILE *f;
	int fd;

	if (access("/usr/sbin/makedumpfile", X_OK) && access("/usr/bin/makedumpfile", X_OK)) {
		fprintf(stderr, "makedumpfile is not installed: comparison skipped\n");
		return;
	}
	scenario();
	log = read_log(&len);
	fd = mkstemp(core);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(elfcore_ranges(&gm, 0, 0, &r), 1);
	d.ranges = &r;
	d.nranges = 1;
	d.vmcoreinfo = vmcoreinfo;
	d.vmcoreinfo_len = sizeof(vmcoreinfo) - 1;
	ck_assert_int_eq(elfcore_write(fd, &d, NULL), 0);
	close(fd);
	snprintf(out, sizeof(out), "%s.dmesg", core);
	unlink(out);
	char *argv[] = { access("/usr/sbin/makedumpfile", X_OK) ? "/usr/bin/makedumpfile"
								: "/usr/sbin/makedumpfile",
			 "--dump-dmesg", core, out, NULL };
	ck_assert_msg(run(argv) == 0, "makedumpfile failed: see /tmp/test_printk.makedumpfile.log");
	ck_assert_int_eq(stat(out, &st), 0);
	want = calloc(1, (size_t)st.st_size + 1);
	f = fopen(out, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fread(want, 1, (size_t)st.st_size, f), (size_t)st.st_size);
	fclose(f);
	unlink(core);
	unlink(out);
	ck_assert_uint_eq(len, (size_t)st.st_size);
	ck_assert_int_eq(memcmp(log, want, len), 0);
	free(want);
	free(log);
	free(ram);
}
END_TEST

static Suite *printk_suite(void)
{
	Suite *s = suite_create("printk");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, vmcoreinfo_values);
	tcase_add_test(tc, page_walks);
	tcase_add_test(tc, ring_as_makedumpfile_formats_it);
	tcase_add_test(tc, ring_refusals);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, same_as_makedumpfile);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(printk_suite());
}
