/* portio.c - guest-side test tool: read or write an x86 I/O port (needs iopl, i.e. root).
 *
 *   portio r PORT [1|2|4]          print the value read, in hex
 *   portio w PORT VALUE [1|2|4]    write VALUE
 *   portio sweep FIRST LAST        read and write junk to every port in [FIRST, LAST]
 *   portio mark UART PVPANIC       write 'Z' to the UART's THR, then bit 0 to pvpanic: the
 *                                  benchmark times the event against the marker byte
 *   portio panicloop UART PVPANIC N MS
 *                                  N times, MS ms apart: 'Z' to the UART, then bit 0 to
 *                                  pvpanic (with the panic action run, each is one event)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <time.h>

static unsigned long num(const char *s)
{
	return strtoul(s, NULL, 0);
}

int main(int argc, char **argv)
{
	unsigned size = 1;

	if (argc < 3 || iopl(3) < 0) {
		fprintf(stderr, "usage: portio r|w|sweep PORT... (as root)\n");
		return 2;
	}
	if (!strcmp(argv[1], "r")) {
		unsigned port = num(argv[2]);
		unsigned long v;

		if (argc > 3)
			size = num(argv[3]);
		v = size == 4 ? inl(port) : size == 2 ? inw(port) : inb(port);
		printf("0x%lx\n", v);
		return 0;
	}
	if (!strcmp(argv[1], "w") && argc > 3) {
		unsigned port = num(argv[2]);
		unsigned long v = num(argv[3]);

		if (argc > 4)
			size = num(argv[4]);
		if (size == 4)
			outl(v, port);
		else if (size == 2)
			outw(v, port);
		else
			outb(v, port);
		return 0;
	}
	if (!strcmp(argv[1], "mark") && argc > 3) {
		outb('Z', num(argv[2]));
		outb(1, num(argv[3]));
		return 0;
	}
	if (!strcmp(argv[1], "panicloop") && argc > 5) {
		unsigned uart = num(argv[2]), pvpanic = num(argv[3]);
		unsigned long n = num(argv[4]), ms = num(argv[5]);
		struct timespec gap = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

		for (unsigned long i = 0; i < n; i++) {
			outb('Z', uart);
			outb(1, pvpanic);
			nanosleep(&gap, NULL);
		}
		return 0;
	}
	if (!strcmp(argv[1], "sweep") && argc > 3) {
		unsigned first = num(argv[2]), last = num(argv[3]);
		unsigned seed = 12345;

		for (unsigned p = first; p <= last && p <= 0xffff; p++) {
			seed = seed * 1103515245 + 12345;
			(void)inb(p);
			outb(seed >> 16, p);
		}
		printf("swept 0x%x-0x%x\n", first, last);
		return 0;
	}
	fprintf(stderr, "portio: bad arguments\n");
	return 2;
}
