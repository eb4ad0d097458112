/* wdt_i6300esb.h - the Intel 6300ESB I/O hub's watchdog timer, a PCI function (8086:25ab). */
#ifndef MINIVMM_WDT_I6300ESB_H
#define MINIVMM_WDT_I6300ESB_H

#include <pthread.h>
#include <stdint.h>

#include "devices/pci.h"
#include "core/bus.h"
#include "core/request.h"
#include "core/timer.h"

/* Identity, as QEMU 10.0.2 presents it (hw/watchdog/wdt_i6300esb.c and PCI defaults; read
 * from a guest's config space). */
#define ESB_VENDOR_ID	  0x8086   /* Intel */
#define ESB_DEVICE_ID	  0x25ab   /* 6300ESB watchdog timer (Linux PCI_DEVICE_ID_INTEL_ESB_9) */
#define ESB_CLASS_CODE	  0x088000 /* base system peripheral, other */
#define ESB_REVISION	  0x00
#define ESB_SUBSYS_VENDOR 0x1af4 /* QEMU's default subsystem: Red Hat, Inc. */
#define ESB_SUBSYS_ID	  0x1100 /* "QEMU Virtual Machine" */
#define ESB_BAR0_SIZE	  16	 /* memory BAR with the four registers below */

/* Configuration-space registers (6300ESB datasheet 14.4.15-16; Linux i6300esb.c). */
#define ESB_CONFIG_REG 0x60 /* word: WDT configuration */
#define ESB_LOCK_REG   0x68 /* byte: WDT lock */

/* ESB_CONFIG_REG bits. */
#define ESB_CFG_REBOOT_DISABLE (1u << 5) /* 1: no reboot (WDT_OUTPUT off) when timer 2 ends */
#define ESB_CFG_FREQ_1MHZ      (1u << 2) /* 1: count at PCLK/2^5 (~1 MHz), 0: PCLK/2^15 (~1 kHz) */
/* Interrupt type on timer 1's end. The hardware field is bits 1:0; QEMU masks with 0x11, so a
 * guest writing 3 reads back 1 (7.2, and 10.0.2 as read from a guest; the fix was posted to
 * qemu-devel in August 2025, after 10.0.2). Followed here. */
#define ESB_CFG_INTTYPE 0x11

/* ESB_LOCK_REG bits. */
#define ESB_LOCK_LOCK	  (1u << 0) /* once set, the lock register ignores writes until reset */
#define ESB_LOCK_ENABLE	  (1u << 1) /* counting */
#define ESB_LOCK_FREE_RUN (1u << 2) /* after timer 2 ends, start over at stage 1 */

/* BAR0 registers. */
#define ESB_TIMER1_REG 0x00 /* dword: timer 1 preload, 20 bits */
#define ESB_TIMER2_REG 0x04 /* dword: timer 2 preload, 20 bits */
#define ESB_GINTSR_REG 0x08 /* general interrupt status; reads 0 in QEMU's model */
#define ESB_RELOAD_REG 0x0c /* word: reload and timeout flag; bytes: the unlock sequence */

#define ESB_PRELOAD_MASK 0xfffff
#define ESB_RELOAD	 (1u << 8) /* restart at stage 1 with timer 1's preload */
#define ESB_TIMEOUT_FLAG (1u << 9) /* the previous reset came from the watchdog; 1 clears */
#define ESB_TIMEOUT_FLAG_LINUX                                                                     \
	(1u << 12)	 /* old Linux drivers' idea of that bit; QEMU honours both */
#define ESB_UNLOCK1 0x80 /* write these two to ESB_RELOAD_REG before each preload/reload write */
#define ESB_UNLOCK2 0x86

#define ESB_PCI_CLOCK_NS 30 /* one 33 MHz PCI clock, as QEMU rounds it */
/*
 * Shortest stage minivmm counts (1 ms): QEMU has no floor, so preloads of 0 (or 1 at 1 MHz,
 * 960 ns) with free-run and reboot disabled make its main loop expire the timer without end.
 * A guest may not buy host CPU outside its vcpus that way: with the floor, such a watchdog
 * costs at most 1000 expiries a second. Real watchdog stages are seconds long.
 */
#define ESB_STAGE_MIN_NS 1000000ll

struct wdt_i6300esb {
	pthread_mutex_t lock; /* vcpu accesses against the main thread's expiry */
	struct timer timer;   /* on the VM clock */
	struct request_sink sink;
	int initialised;

	/* Register state, reset by wdt_i6300esb_reset (except prev_reboot). */
	int reboot_enabled;
	int freq_1mhz;
	unsigned int_type;
	int free_run;
	int locked;
	int enabled;
	int unlock_state; /* 0, 1 after ESB_UNLOCK1, 2 after ESB_UNLOCK2: next write counts */
	int stage;	  /* 1 or 2 */
	uint32_t preload[2];
	int prev_reboot; /* survives resets, so the guest can tell it was reset by us */
};

/*
 * How long a stage with @preload lasts, as QEMU computes it (7.2's source; QEMU 10.0.2's
 * expiry under Linux's heartbeat=6 came 6.0 s after the last ping): the preload is scaled by
 * 2^15 (1 kHz) or 2^5 (1 MHz) PCI clocks of 30 ns, but never less than ESB_STAGE_MIN_NS.
 * Linux programs heartbeat N s as preload N << 9 in both timers at 1 kHz: N * 0.5033 s per
 * stage, N * 1.0066 s in total.
 */
int64_t wdt_i6300esb_stage_ns(uint32_t preload, int freq_1mhz);

/* Power-on state, its timer on @clock; expiry posts VM_REQ_WATCHDOG to @sink. Main thread,
 * before vcpus run. Returns 0 or -errno. */
int wdt_i6300esb_init(struct wdt_i6300esb *d, struct timer_clock *clock,
		      const struct request_sink *sink) __attribute__((warn_unused_result));
void wdt_i6300esb_destroy(struct wdt_i6300esb *d);

/* Back to power-on state (machine reset): disabled, unlocked, preloads 0xfffff, 1 kHz. */
void wdt_i6300esb_reset(struct wdt_i6300esb *d);

/* Device-specific configuration registers (the PCI host's cfg_read/cfg_write hooks). Only
 * a word access at ESB_CONFIG_REG and a byte access at ESB_LOCK_REG mean anything. */
uint32_t wdt_i6300esb_cfg_read(void *opaque, unsigned off, unsigned len);
void wdt_i6300esb_cfg_write(void *opaque, unsigned off, uint32_t val, unsigned len);

/* BAR0 (ESB_BAR0_SIZE bytes of memory); opaque = struct wdt_i6300esb. */
extern const struct bus_ops wdt_i6300esb_bar_ops;

/* Describe @d to the PCI host: identity, BAR0, the config hooks. */
void wdt_i6300esb_pci_info(struct wdt_i6300esb *d, struct pci_device_info *info);

#endif
