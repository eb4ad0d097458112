/*
 * hostile.c - guest-side test tool: a guest that attacks its VMM with junk (needs root,
 * iopl and /dev/mem with iomem=relaxed on the kernel command line).
 *
 *   hostile SEED ports EXCLUDE...   every I/O port 0..0xFFFF: a read and a write of random
 *                                   value and size (1, 2 or 4), skipping accesses that touch
 *                                   an excluded port or range ("0x64", "0x600-0x605")
 *   hostile SEED pcicfg             every function of bus 0 through 0xCF8/0xCFC: every
 *                                   register of its 256-byte header written with junk at a
 *                                   random size and offset, read back; plus junk addresses
 *   hostile SEED ecam BASE LEN      the same through ECAM at BASE, plus misaligned accesses
 *                                   and bytes beyond 256 in each function's 4 KiB
 *   hostile SEED mmio BASE LEN [SKIP_OFF...]   random-size junk writes and reads over the
 *                                   window [BASE, BASE+LEN), except the bytes at BASE+SKIP_OFF
 *   hostile SEED holes              junk at random addresses of the 32-bit MMIO hole above
 *                                   the BARs and below the interrupt controllers
 *   hostile SEED fwcfg [ROUNDS]     fw_cfg (ports 0x510-0x51b): random selectors, data and
 *                                   wrong-size accesses, DMA descriptors outside RAM, and
 *                                   descriptors in a page of its own with random control
 *                                   bits, huge lengths and buffers outside RAM or wrapping;
 *                                   first checks that a good DMA read works and one into a
 *                                   buffer outside RAM sets the error bit; last leaves
 *                                   etc/vmcoreinfo pointing outside RAM. Huge lengths
 *                                   assume a guest with less than 2 GiB of RAM: a VMM
 *                                   that, unlike minivmm, does part of a transfer that
 *                                   runs off RAM would overwrite the guest.
 *
 * Each command prints one line "hostile: NAME done: N accesses" when it has finished.
 * The VMM must survive all of it; the test then panics the guest.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <byteswap.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <unistd.h>

static uint64_t rng_state;

static uint32_t rnd(void)
{
	/* xorshift64*: reproducible from the seed the test prints */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

static unsigned rnd_size(void)
{
	static const unsigned sizes[] = { 1, 2, 4 };
	return sizes[rnd() % 3];
}

static unsigned long num(const char *s)
{
	return strtoul(s, NULL, 0);
}

struct range {
	unsigned first, last;
};

static struct range excl[64];
static unsigned nexcl;

static int excluded(unsigned port, unsigned size)
{
	for (unsigned i = 0; i < nexcl; i++)
		if (port <= excl[i].last && port + size - 1 >= excl[i].first)
			return 1;
	return 0;
}

static void port_write(unsigned port, uint32_t v, unsigned size)
{
	if (size == 4)
		outl(v, port);
	else if (size == 2)
		outw((uint16_t)v, port);
	else
		outb((uint8_t)v, port);
}

static uint32_t port_read(unsigned port, unsigned size)
{
	return size == 4 ? inl(port) : size == 2 ? inw(port) : inb(port);
}

static void mem_write(volatile uint8_t *p, uint32_t v, unsigned size)
{
	if (size == 4)
		*(volatile uint32_t *)p = v;
	else if (size == 2)
		*(volatile uint16_t *)p = (uint16_t)v;
	else
		*p = (uint8_t)v;
}

static uint32_t mem_read(volatile uint8_t *p, unsigned size)
{
	return size == 4 ? *(volatile uint32_t *)p : size == 2 ? *(volatile uint16_t *)p : *p;
}

static unsigned long cmd_ports(int argc, char **argv)
{
	unsigned long n = 0;

	for (int i = 0; i < argc && nexcl < 64; i++) {
		char *dash = strchr(argv[i], '-');
		excl[nexcl].first = num(argv[i]);
		excl[nexcl].last = dash ? num(dash + 1) : excl[nexcl].first;
		nexcl++;
	}
	for (unsigned port = 0; port <= 0xffff; port++) {
		unsigned size = rnd_size();
		if (port + size - 1 > 0xffff || excluded(port, size))
			size = 1;
		if (excluded(port, size))
			continue;
		(void)port_read(port, size);
		port_write(port, rnd(), rnd_size() == 1 ? 1 : size);
		n += 2;
	}
	return n;
}

static void cf8(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
	outl(0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc), 0xcf8);
}

static unsigned long cmd_pcicfg(void)
{
	unsigned long n = 0;

	for (unsigned dev = 0; dev < 32; dev++) {
		for (unsigned fn = 0; fn < 8; fn++) {
			for (unsigned reg = 0; reg < 256; reg += 4) {
				unsigned size = rnd_size();
				unsigned off = (rnd() % 4) & ~(size - 1);
				cf8(0, dev, fn, reg);
				port_write(0xcfc + off, rnd(), size);
				cf8(0, dev, fn, reg);
				(void)port_read(0xcfc + off, size);
				n += 4;
			}
		}
	}
	/* Junk addresses: other buses, the enable bit clear, low bits set. */
	for (unsigned i = 0; i < 4096; i++) {
		outl(rnd(), 0xcf8);
		unsigned size = rnd_size();
		port_write(0xcfc + ((rnd() % 4) & ~(size - 1)), rnd(), size);
		(void)port_read(0xcfc, 4);
		n += 3;
	}
	outl(0, 0xcf8);
	return n;
}

static volatile uint8_t *map_phys(uint64_t base, uint64_t len)
{
	int fd = open("/dev/mem", O_RDWR | O_SYNC);
	if (fd < 0) {
		perror("hostile: /dev/mem");
		exit(1);
	}
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)base);
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, "hostile: cannot map 0x%llx+0x%llx (iomem=relaxed?)\n",
			(unsigned long long)base, (unsigned long long)len);
		exit(1);
	}
	return p;
}

static unsigned long cmd_ecam(uint64_t base, uint64_t len)
{
	volatile uint8_t *m = map_phys(base, len);
	unsigned long n = 0;

	for (uint64_t fn = 0; fn + 4096 <= len; fn += 4096) {
		for (unsigned reg = 0; reg < 256; reg += 4) {
			unsigned size = rnd_size();
			unsigned off = reg + ((rnd() % 4) & ~(size - 1));
			mem_write(m + fn + off, rnd(), size);
			(void)mem_read(m + fn + off, size);
			n += 2;
		}
		/* Beyond the 256-byte header, and misaligned. */
		unsigned far = 256 + rnd() % (4096 - 256 - 4);
		mem_write(m + fn + far, rnd(), 4);
		(void)mem_read(m + fn + far, 4);
		unsigned odd = 1 + 4 * (rnd() % 63);
		mem_write(m + fn + odd, rnd(), 2 + 2 * (rnd() % 2));
		(void)mem_read(m + fn + odd, 4);
		n += 4;
	}
	munmap((void *)m, len);
	return n;
}

static unsigned long cmd_mmio(uint64_t base, uint64_t len, int nskip, char **skip)
{
	volatile uint8_t *m = map_phys(base, len);
	unsigned long n = 0;

	for (uint64_t off = 0; off < len; off += 4) {
		unsigned size = rnd_size();
		int skipped = 0;
		for (int i = 0; i < nskip; i++) {
			uint64_t s = num(skip[i]);
			if (s >= off && s < off + 4)
				skipped = 1;
		}
		if (skipped)
			continue;
		mem_write(m + off, rnd(), size);
		(void)mem_read(m + off, size);
		n += 2;
	}
	munmap((void *)m, len);
	return n;
}

static unsigned long cmd_holes(void)
{
	unsigned long n = 0;

	for (unsigned i = 0; i < 256; i++) {
		/* 0xC100_0000..0xFEAF_FFFF: the hole above where firmware puts the BARs (they
		 * have their own command), ECAM included, pvpanic-mmio's page and the interrupt
		 * controllers left out. */
		uint64_t page = 0xC1000000ull + ((uint64_t)(rnd() % 0x3DB00) << 12);
		if (page >= 0xFEB00000ull && page < 0xFEC00000ull)
			continue;
		volatile uint8_t *m = map_phys(page, 4096);
		for (unsigned k = 0; k < 8; k++) {
			unsigned size = rnd_size();
			unsigned off = (rnd() % 4096) & ~(size - 1);
			mem_write(m + off, rnd(), size);
			(void)mem_read(m + off, size);
			n += 2;
		}
		munmap((void *)m, 4096);
	}
	return n;
}

/* --- fw_cfg ---------------------------------------------------------------------------------- */

#define FWCFG_SEL    0x510
#define FWCFG_DATA   0x511
#define FWCFG_DMA_HI 0x514
#define FWCFG_DMA_LO 0x518
#define FWCFG_ERROR  0x01
#define FWCFG_READ   0x02
#define FWCFG_SKIP   0x04
#define FWCFG_SELECT 0x08
#define FWCFG_WRITE  0x10

/* A page of our own, locked, and its guest-physical address (root reads PFNs in pagemap). */
static uint8_t *own_page(uint64_t *phys)
{
	uint8_t *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t ent = 0;
	int fd;

	if (p == MAP_FAILED || mlock(p, 4096) < 0) {
		perror("hostile: own page");
		exit(1);
	}
	memset(p, 0, 4096);
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0 || pread(fd, &ent, 8, (off_t)((uintptr_t)p / 4096 * 8)) != 8 || !(ent >> 63) ||
	    !(ent & ((1ull << 55) - 1))) {
		fprintf(stderr, "hostile: no physical address for the DMA page\n");
		exit(1);
	}
	close(fd);
	*phys = (ent & ((1ull << 55) - 1)) * 4096;
	return p;
}

/* Start the DMA described at guest-physical @desc: big-endian halves, high first. */
static void dma_kick(uint64_t desc)
{
	/* glibc's outl has no memory clobber: without these barriers the compiler may keep the
	 * descriptor in registers past the kick, or assume the device changed nothing. */
	__asm__ __volatile__("" ::: "memory");
	outl(bswap_32((uint32_t)(desc >> 32)), FWCFG_DMA_HI);
	outl(bswap_32((uint32_t)desc), FWCFG_DMA_LO);
	__asm__ __volatile__("" ::: "memory");
}

static void put_desc(uint8_t *at, uint32_t control, uint32_t length, uint64_t addr)
{
	uint32_t c = bswap_32(control), l = bswap_32(length);
	uint64_t a = bswap_64(addr);

	memcpy(at, &c, 4);
	memcpy(at + 4, &l, 4);
	memcpy(at + 8, &a, 8);
}

static uint32_t desc_control(const uint8_t *at)
{
	uint32_t c;

	memcpy(&c, at, 4);
	return bswap_32(c);
}

/* etc/vmcoreinfo's key, from the file directory read the legacy way; 0 when absent. */
static uint16_t vmcoreinfo_key(void)
{
	uint8_t e[64];
	uint32_t count = 0;

	outw(0x19, FWCFG_SEL);
	for (int i = 0; i < 4; i++)
		count = count << 8 | inb(FWCFG_DATA);
	for (uint32_t f = 0; f < count && f < 256; f++) {
		for (int i = 0; i < 64; i++)
			e[i] = inb(FWCFG_DATA);
		if (!strncmp((char *)e + 8, "etc/vmcoreinfo", 56))
			return (uint16_t)(e[4] << 8 | e[5]);
	}
	return 0;
}

/* Guest-physical addresses that are not RAM (the test guest has far less than 1 TiB). */
static uint64_t not_ram(void)
{
	static const uint64_t fixed[] = { 0xC0000000ull,	 0xFEC00000ull,
					  0xFFFFFFF0ull,	 1ull << 40,
					  0xFFFFFFFFFFFFF000ull, 0xFFFFFFFFFFFFFFF8ull };
	uint64_t r = (uint64_t)rnd() << 32 | rnd();

	return rnd() % 2 ? fixed[rnd() % 6] : (r | 1ull << 40);
}

static unsigned long cmd_fwcfg(unsigned rounds)
{
	uint64_t phys;
	uint8_t *page = own_page(&phys);
	unsigned long n = 0, errors = 0, oks = 0;

	/* What must hold first: a DMA read of the signature lands in our page, and one into a
	 * buffer outside RAM sets the error bit and writes nothing. */
	put_desc(page, FWCFG_SELECT | FWCFG_READ, 4, phys + 64);
	dma_kick(phys);
	if (desc_control(page) != 0 || memcmp(page + 64, "QEMU", 4)) {
		fprintf(stderr, "hostile: fw_cfg DMA read failed (control 0x%x, page 0x%llx)\n",
			desc_control(page), (unsigned long long)phys);
		exit(1);
	}
	put_desc(page, FWCFG_SELECT | FWCFG_READ, 4, 0xFFFFFFFFFFFFFFF0ull);
	dma_kick(phys);
	if (desc_control(page) != FWCFG_ERROR) {
		fprintf(stderr, "hostile: fw_cfg DMA outside RAM gave control 0x%x\n",
			desc_control(page));
		exit(1);
	}
	n += 4;
	for (unsigned i = 0; i < rounds; i++) {
		unsigned what = rnd() % 6, size = rnd_size();

		if (what == 0) { /* a random selector, then data */
			outw((uint16_t)rnd(), FWCFG_SEL);
			for (unsigned k = rnd() % 64; k; k--, n++)
				(void)inb(FWCFG_DATA);
			outb((uint8_t)rnd(), FWCFG_DATA);
			n += 2;
		} else if (what == 1) { /* any register, any size, read and written */
			unsigned port = 0x510 + rnd() % 12;

			if (port + size > 0x51c)
				size = 1;
			(void)port_read(port, size);
			/* Not the DMA address's low half: that starts a transfer described by
			 * whatever RAM the junk points at, which could make the VMM overwrite
			 * the guest's own memory (its right, but the guest must finish). */
			if (port + size <= 0x518)
				port_write(port, rnd(), size);
			n += 2;
		} else if (what == 2) { /* the descriptor itself outside RAM */
			dma_kick(not_ram());
			n += 2;
		} else { /* a descriptor of junk in our page */
			unsigned off = (rnd() % 255) * 16;
			uint32_t control = rnd() & 0xffff001f, length;
			uint64_t addr;

			if (rnd() % 2)
				control = (control & 0x1f) | (uint32_t)(rnd() % 0x22) << 16;
			switch (rnd() % 4) {
			case 0: /* huge, anywhere: never all RAM in a small guest */
				length = 0x80000000u | rnd();
				addr = rnd() % 2 ? phys : not_ram();
				break;
			case 1: /* outside RAM, or wrapping around the top */
				length = rnd() % 8192;
				addr = not_ram();
				break;
			case 2: /* within our page, overlapping the descriptor maybe */
				addr = phys + rnd() % 4096;
				length = (uint32_t)(phys + 4096 - addr);
				length = length ? rnd() % (length + 1) : 0;
				break;
			default: /* a descriptor that crosses our page's end (read only) */
				off = 4096 - 8;
				length = rnd() % 4;
				addr = not_ram();
				break;
			}
			if (off == 4096 - 8) {
				/* Its address is in the next page, not ours: never a read. */
				uint32_t c = bswap_32(control & ~(uint32_t)FWCFG_READ);

				memcpy(page + off, &c, 4);
				memset(page + off + 4, 0xff, 4);
			} else {
				put_desc(page + off, control, length, addr);
			}
			dma_kick(phys + off);
			if (desc_control(page + off) & FWCFG_ERROR)
				errors++;
			else if (desc_control(page + off) == 0)
				oks++;
			n += 2;
		}
	}
	/* Last: etc/vmcoreinfo says the note is outside RAM, with a huge size (the VMM must
	 * check it when it dumps, and leave it out). */
	{
		uint8_t v[16] = { 1, 0, 1, 0 };
		uint32_t sz = 0xffffffffu;
		uint64_t at = 0xFFFFFFFFFFFFF000ull;

		memcpy(v + 4, &sz, 4);
		memcpy(v + 8, &at, 8);
		memcpy(page + 256, v, 16);
		put_desc(page, FWCFG_SELECT | FWCFG_WRITE | (uint32_t)vmcoreinfo_key() << 16, 16,
			 phys + 256);
		dma_kick(phys);
		if (desc_control(page) != 0) {
			fprintf(stderr, "hostile: writing etc/vmcoreinfo failed (0x%x)\n",
				desc_control(page));
			exit(1);
		}
		n += 2;
	}
	printf("hostile: fwcfg DMA: %lu refused, %lu done\n", errors, oks);
	return n;
}

int main(int argc, char **argv)
{
	unsigned long n;

	if (argc < 3 || iopl(3) < 0) {
		fprintf(stderr,
			"usage: hostile SEED ports|pcicfg|ecam|mmio|holes|fwcfg ... (as root)\n");
		return 2;
	}
	rng_state = num(argv[1]) * 0x9E3779B97F4A7C15ull | 1;
	if (!strcmp(argv[2], "ports"))
		n = cmd_ports(argc - 3, argv + 3);
	else if (!strcmp(argv[2], "pcicfg"))
		n = cmd_pcicfg();
	else if (!strcmp(argv[2], "ecam") && argc > 4)
		n = cmd_ecam(num(argv[3]), num(argv[4]));
	else if (!strcmp(argv[2], "mmio") && argc > 4)
		n = cmd_mmio(num(argv[3]), num(argv[4]), argc - 5, argv + 5);
	else if (!strcmp(argv[2], "holes"))
		n = cmd_holes();
	else if (!strcmp(argv[2], "fwcfg"))
		n = cmd_fwcfg(argc > 3 ? (unsigned)num(argv[3]) : 20000);
	else {
		fprintf(stderr, "hostile: bad arguments\n");
		return 2;
	}
	printf("hostile: %s done: %lu accesses\n", argv[2], n);
	return 0;
}
