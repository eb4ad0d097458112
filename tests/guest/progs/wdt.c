/* wdt.c - guest-side test tool: drive /dev/watchdog as a watchdog daemon would.
 *
 *   wdt TIMEOUT PINGS INTERVAL_MS hang|magic
 *
 * Opens /dev/watchdog (which starts it), sets TIMEOUT seconds, pings PINGS times every
 * INTERVAL_MS, then either stops pinging and keeps it open forever (hang: the watchdog must
 * fire) or writes the magic 'V' and closes it (magic: the driver disarms it). Prints
 * WDT-PINGING, then WDT-STOPPED-PINGING or WDT-MAGIC-CLOSED, on the console.
 */
#include <fcntl.h>
#include <linux/watchdog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts))
		;
}

int main(int argc, char **argv)
{
	int fd, timeout, pings, got = 0;
	long interval;

	if (argc != 5 || (strcmp(argv[4], "hang") && strcmp(argv[4], "magic"))) {
		fprintf(stderr, "usage: wdt TIMEOUT PINGS INTERVAL_MS hang|magic\n");
		return 2;
	}
	timeout = atoi(argv[1]);
	pings = atoi(argv[2]);
	interval = atol(argv[3]);
	fd = open("/dev/watchdog", O_WRONLY);
	if (fd < 0) {
		perror("wdt: /dev/watchdog");
		return 1;
	}
	if (ioctl(fd, WDIOC_SETTIMEOUT, &timeout) < 0)
		perror("wdt: WDIOC_SETTIMEOUT");
	ioctl(fd, WDIOC_GETTIMEOUT, &got);
	printf("WDT-PINGING timeout=%d\n", got);
	fflush(stdout);
	for (int i = 0; i < pings; i++) {
		sleep_ms(interval);
		if (write(fd, "1", 1) != 1)
			perror("wdt: ping");
	}
	if (!strcmp(argv[4], "magic")) {
		if (write(fd, "V", 1) != 1)
			perror("wdt: magic");
		close(fd);
		printf("WDT-MAGIC-CLOSED\n");
		fflush(stdout);
		return 0;
	}
	printf("WDT-STOPPED-PINGING\n");
	fflush(stdout);
	for (;;)
		pause();
}
