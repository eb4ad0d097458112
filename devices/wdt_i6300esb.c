/*
 * wdt_i6300esb.c - the 6300ESB watchdog, as QEMU models it (written from 7.2; identity, config
 * register, expiry time and timeout flag checked against 10.0.2 through Linux's driver): two
 * stages counted on the VM clock. Timer 1's preload runs first; when it ends the (unmodelled)
 * stage-1 interrupt would be raised and timer 2's preload runs; when that ends the watchdog
 * action is requested, unless the guest disabled reboots, and the device returns to its
 * power-on state. Every write to the preloads or the reload register must follow the two-byte
 * unlock sequence.
 */
#include "wdt_i6300esb.h"
#include "core/log.h"

#include <string.h>

int64_t wdt_i6300esb_stage_ns(uint32_t preload, int freq_1mhz)
{
	int64_t clocks = (int64_t)preload << (freq_1mhz ? 5 : 15);
	int64_t ns = clocks * ESB_PCI_CLOCK_NS;

	return ns < ESB_STAGE_MIN_NS ? ESB_STAGE_MIN_NS : ns;
}

/* Start counting @stage from its preload. Under d->lock. */
static void esb_restart(struct wdt_i6300esb *d, int stage)
{
	if (!d->enabled)
		return;
	d->stage = stage;
	timer_mod(&d->timer, wdt_i6300esb_stage_ns(d->preload[stage > 1], d->freq_1mhz));
}

/* Under d->lock. */
static void esb_reset_locked(struct wdt_i6300esb *d)
{
	timer_del(&d->timer);
	d->reboot_enabled = 1;
	d->freq_1mhz = 0;
	d->int_type = 0;
	d->free_run = 0;
	d->locked = 0;
	d->enabled = 0;
	d->unlock_state = 0;
	d->preload[0] = d->preload[1] = ESB_PRELOAD_MASK;
	d->stage = 1;
}

static void esb_expired(void *opaque)
{
	struct wdt_i6300esb *d = opaque;

	pthread_mutex_lock(&d->lock);
	/* A vcpu may have reloaded or disabled the watchdog since the timer fired. */
	if (!timer_take_expired(&d->timer)) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	if (d->stage == 1) {
		/* QEMU raises no interrupt (IRQ or SMI) here either; it goes on to stage 2. */
		pr_debug("i6300esb: stage 1 ended (interrupt type %u not delivered)", d->int_type);
		esb_restart(d, 2);
	} else {
		if (d->reboot_enabled) {
			d->prev_reboot = 1;
			request_post(&d->sink, VM_REQ_WATCHDOG, CAUSE_NONE);
			esb_reset_locked(d);
		}
		if (d->free_run)
			esb_restart(d, 1);
	}
	pthread_mutex_unlock(&d->lock);
}

int wdt_i6300esb_init(struct wdt_i6300esb *d, struct timer_clock *clock,
		      const struct request_sink *sink)
{
	int ret;

	memset(d, 0, sizeof(*d));
	d->sink = *sink;
	ret = timer_init(&d->timer, clock, esb_expired, d);
	if (ret)
		return ret;
	pthread_mutex_init(&d->lock, NULL);
	d->initialised = 1;
	esb_reset_locked(d);
	return 0;
}

void wdt_i6300esb_destroy(struct wdt_i6300esb *d)
{
	if (!d->initialised)
		return;
	timer_destroy(&d->timer);
	pthread_mutex_destroy(&d->lock);
	d->initialised = 0;
}

void wdt_i6300esb_reset(struct wdt_i6300esb *d)
{
	pthread_mutex_lock(&d->lock);
	esb_reset_locked(d);
	pthread_mutex_unlock(&d->lock);
}

uint32_t wdt_i6300esb_cfg_read(void *opaque, unsigned off, unsigned len)
{
	struct wdt_i6300esb *d = opaque;
	uint32_t val = 0;

	pthread_mutex_lock(&d->lock);
	if (off == ESB_CONFIG_REG && len == 2)
		val = (d->reboot_enabled ? 0 : ESB_CFG_REBOOT_DISABLE) |
		      (d->freq_1mhz ? ESB_CFG_FREQ_1MHZ : 0) | d->int_type;
	else if (off == ESB_LOCK_REG && len == 1)
		val = (d->free_run ? ESB_LOCK_FREE_RUN : 0) | (d->locked ? ESB_LOCK_LOCK : 0) |
		      (d->enabled ? ESB_LOCK_ENABLE : 0);
	pthread_mutex_unlock(&d->lock);
	return val;
}

void wdt_i6300esb_cfg_write(void *opaque, unsigned off, uint32_t val, unsigned len)
{
	struct wdt_i6300esb *d = opaque;

	pthread_mutex_lock(&d->lock);
	if (off == ESB_CONFIG_REG && len == 2) {
		/* Not covered by the lock bit, in QEMU's model as in the datasheet. */
		d->reboot_enabled = !(val & ESB_CFG_REBOOT_DISABLE);
		d->freq_1mhz = !!(val & ESB_CFG_FREQ_1MHZ);
		d->int_type = val & ESB_CFG_INTTYPE;
	} else if (off == ESB_LOCK_REG && len == 1) {
		if (!d->locked) {
			int was_enabled = d->enabled;

			d->locked = !!(val & ESB_LOCK_LOCK);
			d->free_run = !!(val & ESB_LOCK_FREE_RUN);
			d->enabled = !!(val & ESB_LOCK_ENABLE);
			if (!was_enabled && d->enabled)
				esb_restart(d, 1);
			else if (!d->enabled)
				timer_del(&d->timer);
		}
	} else {
		pr_guest_debug("i6300esb: ignored config write of %u bytes at 0x%x", len, off);
	}
	pthread_mutex_unlock(&d->lock);
}

/* Whether this write is a step of the unlock sequence (which it then advances). */
static int esb_unlock_step(struct wdt_i6300esb *d, uint64_t off, uint32_t val)
{
	if (off != ESB_RELOAD_REG)
		return 0;
	if (val == ESB_UNLOCK1) {
		d->unlock_state = 1;
		return 1;
	}
	if (val == ESB_UNLOCK2 && d->unlock_state == 1) {
		d->unlock_state = 2;
		return 1;
	}
	return 0;
}

static void esb_bar_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct wdt_i6300esb *d = opaque;
	uint32_t val = 0;

	/* Only a word read of the reload register has anything: the timeout flag, reported
	 * at bit 9 and at bit 12 (where old Linux drivers looked), as QEMU does. */
	pthread_mutex_lock(&d->lock);
	if (len == 2 && off == ESB_RELOAD_REG && d->prev_reboot)
		val = ESB_TIMEOUT_FLAG | ESB_TIMEOUT_FLAG_LINUX;
	pthread_mutex_unlock(&d->lock);
	bus_data_set(data, len, val);
}

static void esb_bar_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct wdt_i6300esb *d = opaque;
	uint32_t val = (uint32_t)bus_data_get(data, len);

	pthread_mutex_lock(&d->lock);
	if (esb_unlock_step(d, off, val) || len == 1) {
		/* Bytes only ever take part in the unlock sequence. */
	} else if (d->unlock_state == 2) {
		if (len == 2 && off == ESB_RELOAD_REG) {
			if (val & ESB_RELOAD)
				esb_restart(d, 1); /* the guest's keep-alive ping */
			if (val & (ESB_TIMEOUT_FLAG | ESB_TIMEOUT_FLAG_LINUX))
				d->prev_reboot = 0;
		} else if (len == 4 && (off == ESB_TIMER1_REG || off == ESB_TIMER2_REG)) {
			d->preload[off == ESB_TIMER2_REG] = val & ESB_PRELOAD_MASK;
		}
		/* Any other write after the sequence uses it up, as in QEMU. */
		d->unlock_state = 0;
	} else {
		pr_guest_debug("i6300esb: locked register write of %u bytes at 0x%llx ignored", len,
			       (unsigned long long)off);
	}
	pthread_mutex_unlock(&d->lock);
}

const struct bus_ops wdt_i6300esb_bar_ops = {
	.read = esb_bar_read,
	.write = esb_bar_write,
	.sizes = BUS_SIZE_1 | BUS_SIZE_2 | BUS_SIZE_4,
};

void wdt_i6300esb_pci_info(struct wdt_i6300esb *d, struct pci_device_info *info)
{
	memset(info, 0, sizeof(*info));
	info->name = "i6300esb";
	info->vendor = ESB_VENDOR_ID;
	info->device = ESB_DEVICE_ID;
	info->revision = ESB_REVISION;
	info->class_code = ESB_CLASS_CODE;
	info->subsys_vendor = ESB_SUBSYS_VENDOR;
	info->subsys = ESB_SUBSYS_ID;
	info->bars[0] =
	    (struct pci_bar_info){ PCI_BAR_MEM32, ESB_BAR0_SIZE, &wdt_i6300esb_bar_ops, d };
	info->cfg_read = wdt_i6300esb_cfg_read;
	info->cfg_write = wdt_i6300esb_cfg_write;
	info->opaque = d;
}
