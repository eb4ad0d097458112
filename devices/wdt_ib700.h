/* wdt_ib700.h - the iBASE IB700 single-board computer's watchdog: two ISA ports, one timer. */
#ifndef MINIVMM_WDT_IB700_H
#define MINIVMM_WDT_IB700_H

#include <pthread.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/request.h"
#include "core/timer.h"

/*
 * Ports, as QEMU's hw/watchdog/wdt_ib700.c decodes them (7.2's source; QEMU 10.0.2 checked
 * from a guest: reads, stop, dword and split word writes) and Linux's
 * drivers/watchdog/ib700wdt.c uses them: a write of anything to 0x441 stops the timer; a
 * write of a time index n to 0x443 (re)starts it with (30 - 2n) seconds, n = low 4 bits.
 * QEMU decodes two bytes at each (0x441-0x442 stop, 0x443-0x444 start), write-only; reads
 * float (all ones). The device therefore takes the four ports from WDT_IB700_BASE.
 */
#define WDT_IB700_STOP_PORT  0x441
#define WDT_IB700_START_PORT 0x443
#define WDT_IB700_BASE	     WDT_IB700_STOP_PORT
#define WDT_IB700_LEN	     4

struct wdt_ib700 {
	pthread_mutex_t lock; /* vcpu writes against the main thread's expiry */
	struct timer timer;   /* on the VM clock */
	struct request_sink sink;
	int initialised;
};

/* The timeout a write of @val to the start port sets: (30 - 2 * (val & 15)) seconds, in ns. */
int64_t wdt_ib700_timeout_ns(uint8_t val);

/* Power-on state (stopped), its timer on @clock; expiry posts VM_REQ_WATCHDOG to @sink.
 * Main thread, before vcpus run. Returns 0 or -errno. */
int wdt_ib700_init(struct wdt_ib700 *d, struct timer_clock *clock, const struct request_sink *sink)
    __attribute__((warn_unused_result));

/* Stop the timer and free it. */
void wdt_ib700_destroy(struct wdt_ib700 *d);

/* Back to power-on state: stopped (machine reset). */
void wdt_ib700_reset(struct wdt_ib700 *d);

/* The four ports at WDT_IB700_BASE (offset 0-1 stop, 2-3 start); opaque = struct wdt_ib700. */
extern const struct bus_ops wdt_ib700_bus_ops;

#endif
