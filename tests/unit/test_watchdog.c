/*
 * test_watchdog.c - the VM-clock timers, the IB700 and the 6300ESB watchdogs driven through
 * their bus ops and config hooks against a fake request sink, on a manual clock (no sleeps),
 * plus one short real-time check of timerfd timers stopping with the clock.
 */
#include <check.h>
#include <string.h>
#include <time.h>

#include "devices/wdt_i6300esb.h"
#include "devices/wdt_ib700.h"
#include "core/loop.h"
#include "core/timer.h"
#include "tests/unit/unit.h"

#define SEC TIMER_NS_PER_SEC
#define MS  1000000ll

struct fake_sink {
	int n;
	enum vm_request_kind kind[16];
	enum shutdown_cause cause[16];
	int64_t when[16];
	struct timer_clock *clock;
};

static void fake_post(void *ctx, enum vm_request_kind kind, enum shutdown_cause cause)
{
	struct fake_sink *f = ctx;

	if (f->n < 16) {
		f->kind[f->n] = kind;
		f->cause[f->n] = cause;
		f->when[f->n] = f->clock ? timer_clock_now(f->clock) : 0;
	}
	f->n++;
}

/* --- timers ------------------------------------------------------------------------------- */

static int fired;

static void count_fire(void *opaque)
{
	struct timer *t = opaque;

	if (timer_take_expired(t))
		fired++;
}

START_TEST(test_timer_manual_clock)
{
	struct timer_clock c;
	struct timer t;
	int64_t left = -1;

	fired = 0;
	timer_clock_init(&c, NULL, 1);
	ck_assert_int_eq(timer_init(&t, &c, count_fire, &t), 0);
	ck_assert(!timer_pending(&t, &left));
	timer_mod(&t, 5 * SEC);
	ck_assert(timer_pending(&t, &left));
	ck_assert_int_eq(left, 5 * SEC);
	timer_clock_step(&c, 5 * SEC - 1);
	ck_assert_int_eq(fired, 0);
	timer_clock_step(&c, 1);
	ck_assert_int_eq(fired, 1);
	ck_assert(!timer_pending(&t, NULL)); /* one-shot */
	ck_assert_int_eq(timer_clock_now(&c), 5 * SEC);

	/* Re-arming replaces the deadline; deleting cancels it. */
	timer_mod(&t, 2 * SEC);
	timer_clock_step(&c, SEC);
	timer_mod(&t, 2 * SEC);
	timer_clock_step(&c, SEC + SEC / 2);
	ck_assert_int_eq(fired, 1);
	timer_del(&t);
	timer_clock_step(&c, 10 * SEC);
	ck_assert_int_eq(fired, 1);

	/* A stopped clock does not move: the timer keeps its remaining time. */
	timer_mod(&t, 3 * SEC);
	timer_clock_step(&c, SEC);
	timer_clock_stop(&c);
	timer_clock_step(&c, 100 * SEC);
	ck_assert_int_eq(fired, 1);
	ck_assert(timer_pending(&t, &left));
	ck_assert_int_eq(left, 2 * SEC);
	timer_clock_start(&c);
	timer_clock_step(&c, 2 * SEC);
	ck_assert_int_eq(fired, 2);

	/* An expiry the callback finds stale (the timer was re-armed) is not taken. */
	timer_mod(&t, SEC);
	ck_assert_int_eq(timer_take_expired(&t), 0);
	ck_assert(timer_pending(&t, NULL));
	timer_destroy(&t);
	timer_clock_destroy(&c);
}
END_TEST

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(test_timer_timerfd_pauses_with_clock)
{
	struct loop *loop;
	struct timer_clock c;
	struct timer t;
	int64_t left, start;

	fired = 0;
	ck_assert_int_eq(loop_create(&loop), 0);
	timer_clock_init(&c, loop, 1);
	ck_assert_int_eq(timer_init(&t, &c, count_fire, &t), 0);

	timer_mod(&t, 20 * MS);
	start = mono_ms();
	while (!fired && mono_ms() - start < 2000)
		ck_assert_int_eq(loop_run_once(loop, 100), 0);
	ck_assert_int_eq(fired, 1);

	/* Stopped with 150 ms left, nothing fires for 300 ms; started, it fires ~150 ms later. */
	timer_mod(&t, 150 * MS);
	timer_clock_stop(&c);
	start = mono_ms();
	while (mono_ms() - start < 300)
		ck_assert_int_eq(loop_run_once(loop, 50), 0);
	ck_assert_int_eq(fired, 1);
	ck_assert(timer_pending(&t, &left));
	ck_assert_int_gt(left, 100 * MS); /* slack for a loaded machine */
	ck_assert_int_le(left, 150 * MS);
	timer_clock_start(&c);
	start = mono_ms();
	while (fired < 2 && mono_ms() - start < 2000)
		ck_assert_int_eq(loop_run_once(loop, 100), 0);
	ck_assert_int_eq(fired, 2);
	ck_assert_int_ge(mono_ms() - start, 130);

	/* Re-armed after the fd fired but before the loop ran: the stale wakeup is ignored. */
	timer_mod(&t, 1);
	start = mono_ms();
	while (mono_ms() - start < 20)
		;
	timer_mod(&t, 10 * SEC);
	ck_assert_int_eq(loop_run_once(loop, 50), 0);
	ck_assert_int_eq(fired, 2);
	ck_assert(timer_pending(&t, NULL));

	timer_destroy(&t);
	timer_clock_destroy(&c);
	loop_destroy(loop);
}
END_TEST

/* --- IB700 -------------------------------------------------------------------------------- */

static void ib_out(struct wdt_ib700 *d, uint16_t port, uint8_t v)
{
	wdt_ib700_bus_ops.write(d, port - WDT_IB700_BASE, &v, 1);
}

START_TEST(test_ib700_time_map)
{
	static const int seconds[16] = {
		30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0
	};

	for (unsigned n = 0; n < 16; n++) {
		ck_assert_int_eq(wdt_ib700_timeout_ns(n), seconds[n] * SEC);
		/* Only the low four bits count. */
		ck_assert_int_eq(wdt_ib700_timeout_ns(0xf0 | n), seconds[n] * SEC);
	}
}
END_TEST

START_TEST(test_ib700_each_index_expires_on_time)
{
	for (unsigned n = 0; n < 16; n++) {
		struct timer_clock c;
		struct fake_sink f = { .clock = &c };
		struct request_sink sink = { fake_post, &f };
		struct wdt_ib700 d;
		int64_t t = (30 - 2 * (int64_t)n) * SEC;

		timer_clock_init(&c, NULL, 1);
		ck_assert_int_eq(wdt_ib700_init(&d, &c, &sink), 0);
		ib_out(&d, WDT_IB700_START_PORT, n);
		if (t > 0) {
			timer_clock_step(&c, t - 1);
			ck_assert_int_eq(f.n, 0);
		}
		timer_clock_step(&c, 1);
		ck_assert_int_eq(f.n, 1);
		ck_assert_int_eq(f.kind[0], VM_REQ_WATCHDOG);
		ck_assert_int_eq(f.when[0], t);
		/* One-shot: nothing more until the guest starts it again. */
		timer_clock_step(&c, 100 * SEC);
		ck_assert_int_eq(f.n, 1);
		wdt_ib700_destroy(&d);
		timer_clock_destroy(&c);
	}
}
END_TEST

START_TEST(test_ib700_ping_stop_reset)
{
	struct timer_clock c;
	struct fake_sink f = { .clock = &c };
	struct request_sink sink = { fake_post, &f };
	struct wdt_ib700 d;
	uint8_t b = 0;
	uint16_t w = 0;

	timer_clock_init(&c, NULL, 1);
	ck_assert_int_eq(wdt_ib700_init(&d, &c, &sink), 0);
	/* Linux's ib700wdt with timeout=4: index 13 written to 0x443 on start and every ping. */
	for (int i = 0; i < 10; i++) {
		ib_out(&d, WDT_IB700_START_PORT, 13);
		timer_clock_step(&c, 3 * SEC);
	}
	ck_assert_int_eq(f.n, 0);
	/* A write of anything to 0x441 stops it (Linux writes 0). */
	ib_out(&d, WDT_IB700_STOP_PORT, 0x5a);
	timer_clock_step(&c, 60 * SEC);
	ck_assert_int_eq(f.n, 0);
	/* The second port of each pair decodes the same way. */
	ib_out(&d, WDT_IB700_START_PORT + 1, 14);
	ck_assert(timer_pending(&d.timer, NULL));
	ib_out(&d, WDT_IB700_STOP_PORT + 1, 0);
	ck_assert(!timer_pending(&d.timer, NULL));
	/* A word write is two byte writes (QEMU's port I/O): 0x443 gets 14, 0x444 gets 0. */
	w = 0x000e;
	wdt_ib700_bus_ops.write(&d, WDT_IB700_START_PORT - WDT_IB700_BASE, &w, 2);
	timer_clock_step(&c, 29 * SEC);
	ck_assert_int_eq(f.n, 0);
	timer_clock_step(&c, SEC);
	ck_assert_int_eq(f.n, 1);
	/* A word at 0x442 stops, and its high byte (0x443, the other pair) is dropped. */
	ib_out(&d, WDT_IB700_START_PORT, 0);
	w = 0x0e00;
	wdt_ib700_bus_ops.write(&d, WDT_IB700_STOP_PORT + 1 - WDT_IB700_BASE, &w, 2);
	ck_assert(!timer_pending(&d.timer, NULL));
	/* A dword write does nothing. */
	{
		uint32_t dw = 0x0e0e0e0e;

		wdt_ib700_bus_ops.write(&d, 0, &dw, 4);
		ck_assert(!timer_pending(&d.timer, NULL));
	}
	/* Reset stops it. */
	ib_out(&d, WDT_IB700_START_PORT, 0);
	wdt_ib700_reset(&d);
	timer_clock_step(&c, 60 * SEC);
	ck_assert_int_eq(f.n, 1);
	/* Write-only: reads float; the bus fills all-ones when there is no read callback. */
	ck_assert_ptr_null(wdt_ib700_bus_ops.read);
	(void)b;
	wdt_ib700_destroy(&d);
	timer_clock_destroy(&c);
}
END_TEST

/* --- 6300ESB ------------------------------------------------------------------------------ */

struct esb_fixture {
	struct timer_clock c;
	struct fake_sink f;
	struct request_sink sink;
	struct wdt_i6300esb d;
};

static void esb_setup(struct esb_fixture *x)
{
	memset(x, 0, sizeof(*x));
	timer_clock_init(&x->c, NULL, 1);
	x->f.clock = &x->c;
	x->sink = (struct request_sink){ fake_post, &x->f };
	ck_assert_int_eq(wdt_i6300esb_init(&x->d, &x->c, &x->sink), 0);
}

static void esb_teardown(struct esb_fixture *x)
{
	wdt_i6300esb_destroy(&x->d);
	timer_clock_destroy(&x->c);
}

static void bar_w(struct wdt_i6300esb *d, unsigned off, uint32_t v, unsigned len)
{
	uint8_t buf[4];

	bus_data_set(buf, len, v);
	wdt_i6300esb_bar_ops.write(d, off, buf, len);
}

static uint32_t bar_r(struct wdt_i6300esb *d, unsigned off, unsigned len)
{
	uint8_t buf[4];

	wdt_i6300esb_bar_ops.read(d, off, buf, len);
	return (uint32_t)bus_data_get(buf, len);
}

static void esb_unlock(struct wdt_i6300esb *d)
{
	bar_w(d, ESB_RELOAD_REG, ESB_UNLOCK1, 1);
	bar_w(d, ESB_RELOAD_REG, ESB_UNLOCK2, 1);
}

/* What Linux's i6300esb does: esb_initdevice, set_heartbeat(@hb), then start. */
static void esb_linux_start(struct wdt_i6300esb *d, unsigned hb)
{
	wdt_i6300esb_cfg_write(d, ESB_CONFIG_REG, 0x0003, 2);
	wdt_i6300esb_cfg_write(d, ESB_LOCK_REG, 0x00, 1);
	esb_unlock(d);
	bar_r(d, ESB_RELOAD_REG, 2);
	esb_unlock(d);
	bar_w(d, ESB_RELOAD_REG, ESB_TIMEOUT_FLAG | ESB_RELOAD, 2);
	esb_unlock(d);
	bar_w(d, ESB_TIMER1_REG, hb << 9, 4);
	esb_unlock(d);
	bar_w(d, ESB_TIMER2_REG, hb << 9, 4);
	esb_unlock(d);
	bar_w(d, ESB_RELOAD_REG, ESB_RELOAD, 2);
	/* start: reload, then enable */
	esb_unlock(d);
	bar_w(d, ESB_RELOAD_REG, ESB_RELOAD, 2);
	wdt_i6300esb_cfg_write(d, ESB_LOCK_REG, ESB_LOCK_ENABLE, 1);
}

static void esb_ping(struct wdt_i6300esb *d)
{
	esb_unlock(d);
	bar_w(d, ESB_RELOAD_REG, ESB_RELOAD, 2);
}

START_TEST(test_esb_stage_arithmetic)
{
	/* Hand-computed: preload << 15 (1 kHz) or << 5 (1 MHz) PCI clocks of 30 ns. */
	ck_assert_int_eq(wdt_i6300esb_stage_ns(2, 0), 1966080);	    /* 65536 * 30 */
	ck_assert_int_eq(wdt_i6300esb_stage_ns(2000, 1), 1920000);  /* 64000 * 30 */
	ck_assert_int_eq(wdt_i6300esb_stage_ns(512, 0), 503316480); /* Linux heartbeat=1 */
	ck_assert_int_eq(wdt_i6300esb_stage_ns(0xfffff, 0), 1030791168000ll); /* ~17.2 min */
	ck_assert_int_eq(wdt_i6300esb_stage_ns(0xfffff, 1), 1006632000ll);
	/* Linux's heartbeat N s: N << 9 in both timers, ~N/2 s a stage, within 1% of N s. */
	for (unsigned hb = 1; hb <= 2046; hb++) {
		int64_t total = 2 * wdt_i6300esb_stage_ns(hb << 9, 0);

		ck_assert_int_eq(total, (int64_t)hb * 1006632960);
		ck_assert_int_ge(total, (int64_t)hb * SEC);
		ck_assert_int_le(total, (int64_t)hb * SEC + hb * SEC / 100);
	}
}
END_TEST

START_TEST(test_esb_identity_and_power_on)
{
	struct esb_fixture x;
	struct pci_device_info info;

	esb_setup(&x);
	wdt_i6300esb_pci_info(&x.d, &info);
	ck_assert_uint_eq(info.vendor, 0x8086);
	ck_assert_uint_eq(info.device, 0x25ab);
	ck_assert_uint_eq(info.class_code, 0x088000);
	ck_assert_uint_eq(info.revision, 0);
	ck_assert_int_eq(info.bars[0].type, PCI_BAR_MEM32);
	ck_assert_uint_eq(info.bars[0].size, 16);
	ck_assert_ptr_eq(info.bars[0].ops, &wdt_i6300esb_bar_ops);
	ck_assert_ptr_eq(info.cfg_write, wdt_i6300esb_cfg_write);
	ck_assert_ptr_eq(info.opaque, &x.d);
	/* Power on: reboot enabled, 1 kHz, IRQ type 0; unlocked, disabled, not free-running. */
	ck_assert_uint_eq(wdt_i6300esb_cfg_read(&x.d, ESB_CONFIG_REG, 2), 0);
	ck_assert_uint_eq(wdt_i6300esb_cfg_read(&x.d, ESB_LOCK_REG, 1), 0);
	ck_assert_uint_eq(x.d.preload[0], 0xfffff);
	ck_assert_uint_eq(x.d.preload[1], 0xfffff);
	/* Only a word at 0x60 and a byte at 0x68 are registers; the rest reads 0. */
	wdt_i6300esb_cfg_write(&x.d, ESB_CONFIG_REG, 0x24, 1);
	wdt_i6300esb_cfg_write(&x.d, ESB_CONFIG_REG, 0x24, 4);
	wdt_i6300esb_cfg_write(&x.d, ESB_LOCK_REG, ESB_LOCK_ENABLE, 4);
	ck_assert_uint_eq(wdt_i6300esb_cfg_read(&x.d, ESB_CONFIG_REG, 2), 0);
	ck_assert_uint_eq(wdt_i6300esb_cfg_read(&x.d, ESB_LOCK_REG, 1), 0);
	wdt_i6300esb_cfg_write(&x.d, ESB_CONFIG_REG, 0x0027, 2);
	ck_assert_uint_eq(wdt_i6300esb_cfg_read(&x.d, ESB_CONFIG_REG, 2), 0x0025); /* 0x11 mask */
	ck_assert_uint_eq(wdt_i6300esb_cfg_read(&x.d, ESB_CONFIG_REG, 4), 0);
	ck_assert_uint_eq(wdt_i6300esb_cfg_read(&x.d, 0x64, 4), 0);
	/* Linux's init value 0x0003 reads back as 1 (QEMU's mask, 7.2 and 10.0.2). */
	wdt_i6300esb_cfg_write(&x.d, ESB_CONFIG_REG, 0x0003, 2);
	ck_assert_uint_eq(wdt_i6300esb_cfg_read(&x.d, ESB_CONFIG_REG, 2), 0x0001);
	ck_assert_int_eq(x.f.n, 0);
	esb_teardown(&x);
}
END_TEST

START_TEST(test_esb_unlock_sequence_required)
{
	struct esb_fixture x;

	esb_setup(&x);
	/* Without the sequence, preload and reload writes are ignored. */
	bar_w(&x.d, ESB_TIMER1_REG, 100, 4);
	bar_w(&x.d, ESB_TIMER2_REG, 200, 4);
	ck_assert_uint_eq(x.d.preload[0], 0xfffff);
	ck_assert_uint_eq(x.d.preload[1], 0xfffff);
	/* Half a sequence, or the wrong order, is not enough. */
	bar_w(&x.d, ESB_RELOAD_REG, ESB_UNLOCK2, 1);
	bar_w(&x.d, ESB_TIMER1_REG, 100, 4);
	ck_assert_uint_eq(x.d.preload[0], 0xfffff);
	bar_w(&x.d, ESB_RELOAD_REG, ESB_UNLOCK1, 1);
	bar_w(&x.d, ESB_TIMER1_REG, 100, 4);
	ck_assert_uint_eq(x.d.preload[0], 0xfffff);
	/* The sequence at another offset does not count. */
	bar_w(&x.d, ESB_TIMER1_REG, ESB_UNLOCK1, 1);
	bar_w(&x.d, ESB_TIMER1_REG, ESB_UNLOCK2, 1);
	bar_w(&x.d, ESB_TIMER1_REG, 100, 4);
	ck_assert_uint_eq(x.d.preload[0], 0xfffff);
	/* Unlocked: one write goes through (20 bits kept), then it is locked again. */
	esb_unlock(&x.d);
	bar_w(&x.d, ESB_TIMER1_REG, 0xfff12345, 4);
	ck_assert_uint_eq(x.d.preload[0], 0x12345);
	bar_w(&x.d, ESB_TIMER2_REG, 7, 4);
	ck_assert_uint_eq(x.d.preload[1], 0xfffff);
	esb_unlock(&x.d);
	bar_w(&x.d, ESB_TIMER2_REG, 7, 4);
	ck_assert_uint_eq(x.d.preload[1], 7);
	/* Word or dword writes may also carry the sequence (QEMU accepts them at every size). */
	bar_w(&x.d, ESB_RELOAD_REG, ESB_UNLOCK1, 2);
	bar_w(&x.d, ESB_RELOAD_REG, ESB_UNLOCK2, 4);
	bar_w(&x.d, ESB_TIMER2_REG, 9, 4);
	ck_assert_uint_eq(x.d.preload[1], 9);
	/* A preload needs a dword: a word write uses the unlock up and changes nothing. */
	esb_unlock(&x.d);
	bar_w(&x.d, ESB_TIMER1_REG, 5, 2);
	bar_w(&x.d, ESB_TIMER1_REG, 5, 4);
	ck_assert_uint_eq(x.d.preload[0], 0x12345);
	/* Bytes never consume it. */
	esb_unlock(&x.d);
	bar_w(&x.d, ESB_TIMER1_REG, 5, 1);
	bar_w(&x.d, ESB_TIMER1_REG, 6, 4);
	ck_assert_uint_eq(x.d.preload[0], 6);
	/* Reads of the other registers and sizes give 0. */
	ck_assert_uint_eq(bar_r(&x.d, ESB_TIMER1_REG, 4), 0);
	ck_assert_uint_eq(bar_r(&x.d, ESB_GINTSR_REG, 4), 0);
	ck_assert_uint_eq(bar_r(&x.d, ESB_RELOAD_REG, 2), 0);
	esb_teardown(&x);
}
END_TEST

START_TEST(test_esb_two_stages_and_reload)
{
	struct esb_fixture x;
	int64_t stage = wdt_i6300esb_stage_ns(3 << 9, 0); /* heartbeat=3 */

	esb_setup(&x);
	esb_linux_start(&x.d, 3);
	ck_assert_uint_eq(wdt_i6300esb_cfg_read(&x.d, ESB_LOCK_REG, 1), ESB_LOCK_ENABLE);
	/* Pinged every second for a minute: never expires. */
	for (int i = 0; i < 60; i++) {
		timer_clock_step(&x.c, SEC);
		esb_ping(&x.d);
	}
	ck_assert_int_eq(x.f.n, 0);
	/* A ping without the unlock sequence does not count. */
	bar_w(&x.d, ESB_RELOAD_REG, ESB_RELOAD, 2);
	timer_clock_step(&x.c, stage - 1);
	ck_assert_int_eq(x.d.stage, 1);
	timer_clock_step(&x.c, 1);
	ck_assert_int_eq(x.d.stage, 2); /* stage 1 ended: no request, stage 2 runs */
	ck_assert_int_eq(x.f.n, 0);
	/* A ping in stage 2 starts over at stage 1. */
	timer_clock_step(&x.c, stage / 2);
	esb_ping(&x.d);
	ck_assert_int_eq(x.d.stage, 1);
	int64_t t0 = timer_clock_now(&x.c);
	timer_clock_step(&x.c, 2 * stage - 1);
	ck_assert_int_eq(x.f.n, 0);
	timer_clock_step(&x.c, 1);
	ck_assert_int_eq(x.f.n, 1);
	ck_assert_int_eq(x.f.kind[0], VM_REQ_WATCHDOG);
	ck_assert_int_eq(x.f.when[0] - t0, 2 * stage);
	/* After the action the device is at power-on state, with the timeout flag set. */
	ck_assert_uint_eq(wdt_i6300esb_cfg_read(&x.d, ESB_LOCK_REG, 1), 0);
	ck_assert_uint_eq(x.d.preload[0], 0xfffff);
	ck_assert_uint_eq(bar_r(&x.d, ESB_RELOAD_REG, 2), 0x1200);
	ck_assert_uint_eq(bar_r(&x.d, ESB_RELOAD_REG, 1), 0);
	ck_assert_uint_eq(bar_r(&x.d, ESB_RELOAD_REG, 4), 0);
	timer_clock_step(&x.c, 3600 * SEC);
	ck_assert_int_eq(x.f.n, 1);
	/* Pings to a disabled watchdog do nothing. */
	esb_ping(&x.d);
	ck_assert(!timer_pending(&x.d.timer, NULL));
	/* The flag survives a machine reset; Linux's init clears it by writing bit 9. */
	wdt_i6300esb_reset(&x.d);
	ck_assert_uint_eq(bar_r(&x.d, ESB_RELOAD_REG, 2), 0x1200);
	bar_w(&x.d, ESB_RELOAD_REG, ESB_TIMEOUT_FLAG, 2); /* locked: ignored */
	ck_assert_uint_eq(bar_r(&x.d, ESB_RELOAD_REG, 2), 0x1200);
	esb_unlock(&x.d);
	bar_w(&x.d, ESB_RELOAD_REG, ESB_TIMEOUT_FLAG | ESB_RELOAD, 2);
	ck_assert_uint_eq(bar_r(&x.d, ESB_RELOAD_REG, 2), 0);
	/* Old drivers' bit 12 clears it too. */
	x.d.prev_reboot = 1;
	esb_unlock(&x.d);
	bar_w(&x.d, ESB_RELOAD_REG, ESB_TIMEOUT_FLAG_LINUX, 2);
	ck_assert_uint_eq(bar_r(&x.d, ESB_RELOAD_REG, 2), 0);
	esb_teardown(&x);
}
END_TEST

START_TEST(test_esb_1mhz_scale_and_disable)
{
	struct esb_fixture x;

	esb_setup(&x);
	wdt_i6300esb_cfg_write(&x.d, ESB_CONFIG_REG, ESB_CFG_FREQ_1MHZ, 2);
	esb_unlock(&x.d);
	bar_w(&x.d, ESB_TIMER1_REG, 2000, 4);
	esb_unlock(&x.d);
	bar_w(&x.d, ESB_TIMER2_REG, 3000, 4);
	wdt_i6300esb_cfg_write(&x.d, ESB_LOCK_REG, ESB_LOCK_ENABLE, 1);
	timer_clock_step(&x.c, 1920000 - 1);
	ck_assert_int_eq(x.d.stage, 1);
	timer_clock_step(&x.c, 1);
	ck_assert_int_eq(x.d.stage, 2);
	timer_clock_step(&x.c, 2880000 - 1);
	ck_assert_int_eq(x.f.n, 0);
	timer_clock_step(&x.c, 1);
	ck_assert_int_eq(x.f.n, 1);

	/* Enabling starts stage 1; re-writing enable while enabled does not restart it;
	 * clearing enable stops it. */
	wdt_i6300esb_cfg_write(&x.d, ESB_CONFIG_REG, ESB_CFG_FREQ_1MHZ, 2);
	esb_unlock(&x.d);
	bar_w(&x.d, ESB_TIMER1_REG, 2000, 4);
	wdt_i6300esb_cfg_write(&x.d, ESB_LOCK_REG, ESB_LOCK_ENABLE, 1);
	timer_clock_step(&x.c, 1000000);
	wdt_i6300esb_cfg_write(&x.d, ESB_LOCK_REG, ESB_LOCK_ENABLE, 1);
	timer_clock_step(&x.c, 920000);
	ck_assert_int_eq(x.d.stage, 2);
	wdt_i6300esb_cfg_write(&x.d, ESB_LOCK_REG, 0, 1);
	ck_assert(!timer_pending(&x.d.timer, NULL));
	timer_clock_step(&x.c, 3600 * SEC);
	ck_assert_int_eq(x.f.n, 1);
	esb_teardown(&x);
}
END_TEST

START_TEST(test_esb_lock_bit)
{
	struct esb_fixture x;

	esb_setup(&x);
	esb_unlock(&x.d);
	bar_w(&x.d, ESB_TIMER1_REG, 512, 4);
	esb_unlock(&x.d);
	bar_w(&x.d, ESB_TIMER2_REG, 512, 4);
	/* nowayout: enable + lock. */
	wdt_i6300esb_cfg_write(&x.d, ESB_LOCK_REG, ESB_LOCK_ENABLE | ESB_LOCK_LOCK, 1);
	ck_assert_uint_eq(wdt_i6300esb_cfg_read(&x.d, ESB_LOCK_REG, 1),
			  ESB_LOCK_ENABLE | ESB_LOCK_LOCK);
	/* Locked: the lock register can no longer be changed, so it cannot be disabled. */
	wdt_i6300esb_cfg_write(&x.d, ESB_LOCK_REG, 0, 1);
	wdt_i6300esb_cfg_write(&x.d, ESB_LOCK_REG, ESB_LOCK_FREE_RUN, 1);
	ck_assert_uint_eq(wdt_i6300esb_cfg_read(&x.d, ESB_LOCK_REG, 1),
			  ESB_LOCK_ENABLE | ESB_LOCK_LOCK);
	ck_assert(timer_pending(&x.d.timer, NULL));
	timer_clock_step(&x.c, 2 * wdt_i6300esb_stage_ns(512, 0));
	ck_assert_int_eq(x.f.n, 1);
	/* The action's device reset unlocks it. */
	ck_assert_uint_eq(wdt_i6300esb_cfg_read(&x.d, ESB_LOCK_REG, 1), 0);
	wdt_i6300esb_cfg_write(&x.d, ESB_LOCK_REG, ESB_LOCK_LOCK, 1);
	ck_assert_uint_eq(wdt_i6300esb_cfg_read(&x.d, ESB_LOCK_REG, 1), ESB_LOCK_LOCK);
	/* A machine reset unlocks it too. */
	wdt_i6300esb_reset(&x.d);
	ck_assert_uint_eq(wdt_i6300esb_cfg_read(&x.d, ESB_LOCK_REG, 1), 0);
	esb_teardown(&x);
}
END_TEST

START_TEST(test_esb_reboot_disabled_and_free_run)
{
	struct esb_fixture x;
	int64_t stage = wdt_i6300esb_stage_ns(10, 0);

	esb_setup(&x);
	/* Reboot disabled: stage 2 ends without a request and the timer stops. */
	wdt_i6300esb_cfg_write(&x.d, ESB_CONFIG_REG, ESB_CFG_REBOOT_DISABLE, 2);
	esb_unlock(&x.d);
	bar_w(&x.d, ESB_TIMER1_REG, 10, 4);
	esb_unlock(&x.d);
	bar_w(&x.d, ESB_TIMER2_REG, 10, 4);
	wdt_i6300esb_cfg_write(&x.d, ESB_LOCK_REG, ESB_LOCK_ENABLE, 1);
	timer_clock_step(&x.c, 2 * stage);
	ck_assert_int_eq(x.f.n, 0);
	ck_assert(!timer_pending(&x.d.timer, NULL));
	ck_assert_uint_eq(bar_r(&x.d, ESB_RELOAD_REG, 2), 0);
	/* ... and with free-run it starts over at stage 1, forever, without requests. */
	wdt_i6300esb_cfg_write(&x.d, ESB_LOCK_REG, 0, 1);
	wdt_i6300esb_cfg_write(&x.d, ESB_LOCK_REG, ESB_LOCK_ENABLE | ESB_LOCK_FREE_RUN, 1);
	timer_clock_step(&x.c, 10 * stage);
	ck_assert_int_eq(x.f.n, 0);
	ck_assert(timer_pending(&x.d.timer, NULL));
	/* Reboot enabled + free-run: the action, then the device reset leaves it disabled. */
	wdt_i6300esb_cfg_write(&x.d, ESB_CONFIG_REG, 0, 2);
	timer_clock_step(&x.c, 2 * stage);
	ck_assert_int_eq(x.f.n, 1);
	ck_assert(!timer_pending(&x.d.timer, NULL));
	esb_teardown(&x);
}
END_TEST

START_TEST(test_esb_stage_floor)
{
	struct esb_fixture x;
	int64_t left;

	/* QEMU's arithmetic gives these stages 0 ns and 960 ns; minivmm counts 1 ms. */
	ck_assert_int_eq(wdt_i6300esb_stage_ns(0, 0), ESB_STAGE_MIN_NS);
	ck_assert_int_eq(wdt_i6300esb_stage_ns(0, 1), ESB_STAGE_MIN_NS);
	ck_assert_int_eq(wdt_i6300esb_stage_ns(1, 1), ESB_STAGE_MIN_NS);
	ck_assert_int_eq(wdt_i6300esb_stage_ns(1000, 1), ESB_STAGE_MIN_NS); /* 960 us */

	/* A guest's spinning watchdog: preloads 0, reboot disabled, free-run. Each stage lasts
	 * the floor, so the main loop sees at most one expiry per millisecond. */
	esb_setup(&x);
	wdt_i6300esb_cfg_write(&x.d, ESB_CONFIG_REG, ESB_CFG_REBOOT_DISABLE | ESB_CFG_FREQ_1MHZ, 2);
	esb_unlock(&x.d);
	bar_w(&x.d, ESB_TIMER1_REG, 0, 4);
	esb_unlock(&x.d);
	bar_w(&x.d, ESB_TIMER2_REG, 0, 4);
	wdt_i6300esb_cfg_write(&x.d, ESB_LOCK_REG, ESB_LOCK_ENABLE | ESB_LOCK_FREE_RUN, 1);
	ck_assert(timer_pending(&x.d.timer, &left));
	ck_assert_int_eq(left, ESB_STAGE_MIN_NS);
	timer_clock_step(&x.c, ESB_STAGE_MIN_NS - 1);
	ck_assert_int_eq(x.d.stage, 1);
	timer_clock_step(&x.c, 1);
	ck_assert_int_eq(x.d.stage, 2);
	timer_clock_step(&x.c, 10 * ESB_STAGE_MIN_NS + ESB_STAGE_MIN_NS / 2);
	ck_assert_int_eq(x.d.stage, 2); /* 12 stages have ended: 1, 2, ..., 1 and now 2 again */
	ck_assert(timer_pending(&x.d.timer, &left));
	ck_assert_int_eq(left, ESB_STAGE_MIN_NS / 2);
	ck_assert_int_eq(x.f.n, 0);
	esb_teardown(&x);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("watchdog");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_timer_manual_clock);
	tcase_add_test(tc, test_timer_timerfd_pauses_with_clock);
	tcase_add_test(tc, test_ib700_time_map);
	tcase_add_test(tc, test_ib700_each_index_expires_on_time);
	tcase_add_test(tc, test_ib700_ping_stop_reset);
	tcase_add_test(tc, test_esb_stage_arithmetic);
	tcase_add_test(tc, test_esb_identity_and_power_on);
	tcase_add_test(tc, test_esb_unlock_sequence_required);
	tcase_add_test(tc, test_esb_two_stages_and_reload);
	tcase_add_test(tc, test_esb_1mhz_scale_and_disable);
	tcase_add_test(tc, test_esb_lock_bit);
	tcase_add_test(tc, test_esb_reboot_disabled_and_free_run);
	tcase_add_test(tc, test_esb_stage_floor);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
