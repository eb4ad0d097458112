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
 *
 * Each command prints one line "hostile: NAME done: N accesses" when it has finished.
 * The VMM must survive all of it; the test then panics the guest.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(int argc, char **argv)
{
	unsigned long n;

	if (argc < 3 || iopl(3) < 0) {
		fprintf(stderr, "usage: hostile SEED ports|pcicfg|ecam|mmio|holes ... (as root)\n");
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
	else {
		fprintf(stderr, "hostile: bad arguments\n");
		return 2;
	}
	printf("hostile: %s done: %lu accesses\n", argv[2], n);
	return 0;
}
