/* fuzz_pvpanic.c - libFuzzer harness: the pvpanic register on its ISA port and in MMIO. */
/*
 * Two instances with event masks from the input, one on a port I/O bus at 0x505, one on an
 * MMIO bus; the input is a sequence of accesses of any size at and around both. Invariants:
 *  - a byte read of the register returns the instance's event mask, always;
 *  - any other size is refused by the bus (all ones, no effect);
 *  - a byte write posts exactly one request for the highest-priority event it names among
 *    those the instance offers (panicked, then crash-loaded, then shutdown), or none; nothing
 *    else ever posts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pvpanic.h"
#include "core/layout.h"
#include "tests/fuzz/fuzz_input.h"

static unsigned posts;
static enum vm_request_kind last_kind;
static enum shutdown_cause last_cause;

static void post(void *ctx, enum vm_request_kind kind, enum shutdown_cause cause)
{
	(void)ctx;
	posts++;
	last_kind = kind;
	last_cause = cause;
}

static void fail(const char *why, unsigned a, unsigned b)
{
	fprintf(stderr, "%s (0x%x, 0x%x)\n", why, a, b);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct request_sink sink = { post, NULL };
	struct pvpanic isa, mmio_dev;
	struct bus pio, mmio;
	unsigned steps = 0;

	posts = 0;
	pvpanic_init(&isa, fin_u8(&in), &sink);
	pvpanic_init(&mmio_dev, fin_u8(&in), &sink);
	if (bus_init(&pio, "pio") || bus_init(&mmio, "mmio") ||
	    bus_register(&pio, PVPANIC_ISA_PORT, PVPANIC_REG_LEN, &pvpanic_bus_ops, &isa,
			 "pvpanic") ||
	    bus_register(&mmio, PVPANIC_MMIO_GPA, PVPANIC_REG_LEN, &pvpanic_bus_ops, &mmio_dev,
			 "pvpanic"))
		abort();
	if ((isa.events | mmio_dev.events) & ~PVPANIC_EVENTS_ALL)
		fail("event mask beyond the known events", isa.events, mmio_dev.events);

	while (in.n && steps++ < 4096) {
		uint8_t op = fin_u8(&in), buf[8];
		int on_mmio = op & 1, write = op & 2;
		unsigned len = 1u << ((op >> 2) & 3), before = posts;
		uint64_t base = on_mmio ? PVPANIC_MMIO_GPA : PVPANIC_ISA_PORT;
		uint64_t addr = base - 4 + (op >> 4) % 8;
		struct pvpanic *p = on_mmio ? &mmio_dev : &isa;
		struct bus *bus = on_mmio ? &mmio : &pio;
		enum bus_result r;

		for (unsigned i = 0; i < len; i++)
			buf[i] = fin_u8(&in);
		r = write ? bus_write(bus, addr, buf, len) : bus_read(bus, addr, buf, len);
		if (addr == base && len == 1) {
			if (r != BUS_OK)
				fail("byte access refused", (unsigned)addr, r);
			if (!write && buf[0] != p->events)
				fail("read is not the event mask", buf[0], p->events);
		} else if (r == BUS_OK) {
			fail("an access other than one byte at the register was taken",
			     (unsigned)addr, len);
		}
		if (write && r == BUS_OK) {
			uint8_t known = buf[0] & p->events;
			enum vm_request_kind want = known & PVPANIC_PANICKED ? VM_REQ_PANIC
						    : known & PVPANIC_CRASH_LOADED
							? VM_REQ_CRASHLOADED
							: VM_REQ_PVSHUTDOWN;

			if (posts != before + !!known)
				fail("requests for a write", posts - before, buf[0]);
			if (known && (last_kind != want || last_cause != (want == VM_REQ_PVSHUTDOWN
									      ? CAUSE_GUEST_SHUTDOWN
									      : CAUSE_GUEST_PANIC)))
				fail("the request is not the highest-priority event", last_kind,
				     buf[0]);
		} else if (posts != before) {
			fail("a request without a write", posts - before, 0);
		}
	}
	bus_destroy(&pio);
	bus_destroy(&mmio);
	return 0;
}
