/*
 * wdt_ib700.c - the IB700 watchdog. Behaviour as QEMU's model (7.2's, and 10.0.2's, checked
 * from a guest): a start write (re)arms a one-shot timer on the VM clock, a stop write
 * disarms it, and on expiry the device asks the main loop for the watchdog action once and
 * stays stopped until the guest starts it again. The guest cannot read anything back.
 */
#include "wdt_ib700.h"
#include "core/log.h"

#include <string.h>

#define IB700_OFF_STOP	0 /* ports 0x441-0x442 */
#define IB700_OFF_START 2 /* ports 0x443-0x444 */

#define IB700_MAX_SECONDS 30 /* index 0; each index step takes 2 s off, index 15 is 0 s */

int64_t wdt_ib700_timeout_ns(uint8_t val)
{
	return (int64_t)(IB700_MAX_SECONDS - 2 * (val & 0xf)) * TIMER_NS_PER_SEC;
}

static void ib700_expired(void *opaque)
{
	struct wdt_ib700 *d = opaque;

	pthread_mutex_lock(&d->lock);
	/* A vcpu may have restarted or stopped the timer since it fired. */
	if (timer_take_expired(&d->timer))
		request_post(&d->sink, VM_REQ_WATCHDOG, CAUSE_NONE);
	pthread_mutex_unlock(&d->lock);
}

int wdt_ib700_init(struct wdt_ib700 *d, struct timer_clock *clock, const struct request_sink *sink)
{
	int ret;

	memset(d, 0, sizeof(*d));
	d->sink = *sink;
	ret = timer_init(&d->timer, clock, ib700_expired, d);
	if (ret)
		return ret;
	pthread_mutex_init(&d->lock, NULL);
	d->initialised = 1;
	return 0;
}

void wdt_ib700_destroy(struct wdt_ib700 *d)
{
	if (!d->initialised)
		return;
	timer_destroy(&d->timer);
	pthread_mutex_destroy(&d->lock);
	d->initialised = 0;
}

void wdt_ib700_reset(struct wdt_ib700 *d)
{
	pthread_mutex_lock(&d->lock);
	timer_del(&d->timer);
	pthread_mutex_unlock(&d->lock);
}

static void ib700_write_byte(struct wdt_ib700 *d, uint64_t offset, uint8_t val)
{
	pthread_mutex_lock(&d->lock);
	if (offset >= IB700_OFF_START)
		timer_mod(&d->timer, wdt_ib700_timeout_ns(val));
	else
		timer_del(&d->timer);
	pthread_mutex_unlock(&d->lock);
}

static void ib700_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	uint64_t val = bus_data_get(data, len);

	/* QEMU's port I/O ignores dword writes and splits a word into byte writes, the high
	 * byte only when its port belongs to the same pair (0x441-0x442 or 0x443-0x444). */
	if (len == 4) {
		pr_guest_debug("ib700: ignored dword write at offset %llu",
			       (unsigned long long)offset);
		return;
	}
	ib700_write_byte(opaque, offset, (uint8_t)val);
	if (len == 2 && !(offset & 1))
		ib700_write_byte(opaque, offset + 1, (uint8_t)(val >> 8));
}

/* No read callback: the bus returns all ones, as the ports float on real hardware and QEMU. */
const struct bus_ops wdt_ib700_bus_ops = {
	.write = ib700_write,
	.sizes = BUS_SIZE_1 | BUS_SIZE_2 | BUS_SIZE_4,
};
