/*
 * reset_cf9.c - Reset Control Register (Intel ICH/PCH datasheets, I/O port 0xCF9).
 *
 * Bit 1 (SYS_RST) picks a full vs. CPU-only reset, bit 2 (RST_CPU) going 0 -> 1 starts it.
 * Linux's reboot=p writes 0x02 then 0x06. A VM has only one kind of reset, so any 0 -> 1
 * transition of RST_CPU asks the main loop for a reset.
 */
#include "reset_cf9.h"

#define CF9_SYS_RST 0x02
#define CF9_RST_CPU 0x04

void reset_cf9_init(struct reset_cf9 *rc, const struct request_sink *sink)
{
	pthread_mutex_init(&rc->lock, NULL);
	rc->value = 0;
	rc->sink = *sink;
}

void reset_cf9_reset(struct reset_cf9 *rc)
{
	pthread_mutex_lock(&rc->lock);
	rc->value = 0;
	pthread_mutex_unlock(&rc->lock);
}

static void cf9_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct reset_cf9 *rc = opaque;

	(void)offset;
	(void)len;
	pthread_mutex_lock(&rc->lock);
	*(uint8_t *)data = rc->value;
	pthread_mutex_unlock(&rc->lock);
}

static void cf9_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct reset_cf9 *rc = opaque;
	uint8_t val = *(const uint8_t *)data & (CF9_SYS_RST | CF9_RST_CPU);
	int fire;

	(void)offset;
	(void)len;
	pthread_mutex_lock(&rc->lock);
	fire = (val & CF9_RST_CPU) && !(rc->value & CF9_RST_CPU);
	rc->value = fire ? 0 : val; /* the bit self-clears once the reset is under way */
	pthread_mutex_unlock(&rc->lock);
	if (fire)
		request_post(&rc->sink, VM_REQ_RESET, CAUSE_GUEST_RESET);
}

const struct bus_ops reset_cf9_bus_ops = {
	.read = cf9_read,
	.write = cf9_write,
	.sizes = BUS_SIZE_1,
};
