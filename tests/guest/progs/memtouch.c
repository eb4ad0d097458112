/*
 * memtouch.c - guest-side benchmark tool: make N MiB of guest RAM resident and non-zero, then
 * wait, so a dump has that much data to write (zero pages may be left out as holes).
 *
 *   memtouch MIB  one non-zero word written to every page of MIB MiB; prints
 *                 "TOUCHED MIB" and sleeps until killed
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 0;
	size_t len = mib << 20;
	uint8_t *p;

	if (!mib) {
		fprintf(stderr, "usage: memtouch MIB\n");
		return 2;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("memtouch: mmap");
		return 1;
	}
	for (size_t off = 0; off < len; off += 4096)
		*(volatile uint64_t *)(p + off) = 0x9E3779B97F4A7C15ull ^ off;
	printf("TOUCHED %lu\n", mib);
	fflush(stdout);
	for (;;)
		pause();
}
