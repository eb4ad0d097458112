/* fuzz_watchdog.c - libFuzzer harness: the i6300esb and ib700 watchdogs on a manual clock. */
/*
 * The input is a sequence of operations: i6300esb config-space and BAR accesses, ib700 port
 * accesses on a port I/O bus, steps of the VM clock (1 ns to weeks), resets. Invariants after
 * each step:
 *  - ib700 follows its model exactly: a start write arms the one-shot timer for the value's
 *    timeout from now, a stop write disarms it, and a clock step that passes the deadline
 *    gives one watchdog request and leaves it stopped; nothing else requests;
 *  - i6300esb: its timer runs only while it is enabled, never further away than the longest
 *    stage; stage 1 or 2, preloads within 20 bits, the unlock state 0..2; the
 *    lock register ignores writes once locked; a watchdog request comes only from a clock step,
 *    at most one per step, and leaves the device in its power-on state with the timeout flag
 *    set; register accesses never request anything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/wdt_i6300esb.h"
#include "devices/wdt_ib700.h"
#include "tests/fuzz/fuzz_input.h"

static unsigned esb_posts, ib_posts;

static void post(void *ctx, enum vm_request_kind kind, enum shutdown_cause cause)
{
	(void)cause;
	if (kind != VM_REQ_WATCHDOG)
		abort();
	(*(unsigned *)ctx)++;
}

static void fail(const char *why, long long a, long long b)
{
	fprintf(stderr, "%s (%lld, %lld)\n", why, a, b);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct request_sink esb_sink = { post, &esb_posts }, ib_sink = { post, &ib_posts };
	struct timer_clock clock;
	struct wdt_i6300esb esb;
	struct wdt_ib700 ib;
	struct bus pio;
	int ib_armed = 0;
	int64_t ib_deadline = 0;
	unsigned steps = 0;

	esb_posts = ib_posts = 0;
	timer_clock_init(&clock, NULL, 1);
	if (wdt_i6300esb_init(&esb, &clock, &esb_sink) || wdt_ib700_init(&ib, &clock, &ib_sink) ||
	    bus_init(&pio, "pio") ||
	    bus_register(&pio, WDT_IB700_BASE, WDT_IB700_LEN, &wdt_ib700_bus_ops, &ib, "ib700"))
		abort();

	while (in.n && steps++ < 1024) {
		uint8_t op = fin_u8(&in), buf[8];
		unsigned esb_before = esb_posts, ib_before = ib_posts, len;
		int was_locked = esb.locked, was_free_run = esb.free_run, was_enabled = esb.enabled;
		int64_t now = timer_clock_now(&clock), left;

		switch (op % 7) {
		case 0: { /* config space: the two registers, and around them */
			unsigned off = 0x5c + fin_u8(&in) % 0x14;

			len = 1u << (fin_u8(&in) % 3);
			wdt_i6300esb_cfg_write(&esb, off, (uint32_t)fin_le(&in, len), len);
			if (was_locked && off == ESB_LOCK_REG &&
			    (esb.locked != 1 || esb.free_run != was_free_run ||
			     esb.enabled != was_enabled))
				fail("the locked lock register changed", esb.free_run, esb.enabled);
			break;
		}
		case 1:
			wdt_i6300esb_cfg_read(&esb, 0x5c + fin_u8(&in) % 0x14,
					      1u << (fin_u8(&in) % 3));
			break;
		case 2: { /* BAR 0 */
			unsigned off = fin_u8(&in) % ESB_BAR0_SIZE;

			len = 1u << (fin_u8(&in) % 3);
			if (off % len)
				off -= off % len;
			if (fin_u8(&in) & 1) {
				wdt_i6300esb_bar_ops.read(&esb, off, buf, len);
			} else {
				/* bias towards the unlock sequence and the reload bit */
				uint8_t pick = fin_u8(&in);
				uint64_t v = pick == 0xf0   ? ESB_UNLOCK1
					     : pick == 0xf1 ? ESB_UNLOCK2
					     : pick == 0xf2 ? ESB_RELOAD
							    : fin_le(&in, len);

				bus_data_set(buf, len, v);
				wdt_i6300esb_bar_ops.write(&esb, off, buf, len);
			}
			break;
		}
		case 3: { /* ib700 ports, and around them */
			uint64_t port = WDT_IB700_BASE - 1 + fin_u8(&in) % 6;
			uint8_t v;

			len = 1u << (fin_u8(&in) % 3);
			v = fin_u8(&in);
			bus_data_set(buf, len, (uint64_t)v | (uint64_t)fin_u8(&in) << 8);
			if (bus_write(&pio, port, buf, len) != BUS_OK || len == 4)
				break;
			/* the model: each byte to the stop pair stops, to the start pair starts */
			for (unsigned i = 0; i < len; i++) {
				uint64_t p = port + i - WDT_IB700_BASE;

				if (i == 1 && (port - WDT_IB700_BASE) % 2)
					break; /* the high byte crosses into the other pair: dropped
						*/
				if (p >= 2) {
					ib_armed = 1;
					ib_deadline = now + wdt_ib700_timeout_ns(buf[i]);
				} else {
					ib_armed = 0;
				}
			}
			break;
		}
		case 4: { /* the clock moves */
			int64_t ns = (int64_t)(fin_le(&in, 4) + 1) << (fin_u8(&in) % 22);
			int64_t s1 = wdt_i6300esb_stage_ns(esb.preload[0], esb.freq_1mhz);
			int64_t s2 = wdt_i6300esb_stage_ns(esb.preload[1], esb.freq_1mhz);

			/* A free-running watchdog that never resets the VM expires every two
			 * stages; the manual clock runs each expiry in turn, so cap the step at
			 * 4096 rounds (a real clock fires once and restarts from now). Zero-length
			 * stages are left uncapped: the device must not spin on them. */
			if (esb.enabled && esb.free_run && !esb.reboot_enabled && s1 + s2 > 0 &&
			    ns / 4096 > s1 + s2)
				ns = 4096 * (s1 + s2);

			timer_clock_step(&clock, ns); /* nothing moves while the clock is stopped */
			if (clock.running && ib_armed && ib_deadline <= timer_clock_now(&clock)) {
				ib_armed = 0;
				if (ib_posts != ib_before + 1)
					fail("ib700 expiry requests", ib_posts - ib_before, 1);
			}
			if (esb_posts > esb_before + 1)
				fail("i6300esb requested more than once in one step",
				     esb_posts - esb_before, 0);
			if (esb_posts != esb_before &&
			    (esb.enabled || timer_pending(&esb.timer, NULL) || !esb.prev_reboot ||
			     esb.preload[0] != ESB_PRELOAD_MASK || esb.locked))
				fail("i6300esb not back at power-on after its request", esb.enabled,
				     esb.locked);
			break;
		}
		case 5:
			if (fin_u8(&in) & 1) {
				wdt_i6300esb_reset(&esb);
			} else {
				wdt_ib700_reset(&ib);
				ib_armed = 0;
			}
			break;
		case 6: /* the clock stops or runs (a paused VM) */
			if (fin_u8(&in) & 1)
				timer_clock_stop(&clock);
			else
				timer_clock_start(&clock);
			break;
		}

		if (op % 7 != 4 && (esb_posts != esb_before || ib_posts != ib_before))
			fail("a request without the clock moving", op % 7, 0);
		now = timer_clock_now(&clock);
		if (timer_pending(&ib.timer, &left) != ib_armed ||
		    (ib_armed && left != ib_deadline - now))
			fail("ib700 timer differs from the model", ib_armed, ib_deadline - now);
		if (timer_pending(&esb.timer, &left)) {
			if (!esb.enabled)
				fail("i6300esb timer runs while disabled", left, 0);
			/* (a preload or frequency written meanwhile counts from the next restart)
			 */
			if (left > wdt_i6300esb_stage_ns(ESB_PRELOAD_MASK, 0))
				fail("i6300esb timer further than the longest stage", left,
				     esb.stage);
		}
		if ((esb.stage != 1 && esb.stage != 2) || esb.preload[0] > ESB_PRELOAD_MASK ||
		    esb.preload[1] > ESB_PRELOAD_MASK || esb.unlock_state < 0 ||
		    esb.unlock_state > 2)
			fail("i6300esb state", esb.stage, esb.unlock_state);
	}
	bus_unregister(&pio, WDT_IB700_BASE, &ib);
	bus_destroy(&pio);
	wdt_ib700_destroy(&ib);
	wdt_i6300esb_destroy(&esb);
	timer_clock_destroy(&clock);
	return 0;
}
