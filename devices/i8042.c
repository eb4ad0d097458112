/*
 * i8042.c - a keyboard controller with no keyboard: enough for Linux's reboot=k path.
 *
 * Linux's keyboard reboot waits for the input buffer to drain (status bit 1 clear) and writes
 * command 0xFE, "pulse output line 0" (the CPU reset line). The status register therefore
 * always reads 0 (no data, input buffer empty) and the data port has nothing to give.
 */
#include "i8042.h"
#include "core/log.h"

#define I8042_CMD_PULSE_RESET 0xfe /* pulse output port bit 0 = CPU reset */

static void i8042_read_zero(void *opaque, uint64_t offset, void *data, unsigned len)
{
	(void)opaque;
	(void)offset;
	(void)len;
	*(uint8_t *)data = 0; /* status: nothing pending, input buffer empty; data: 0 */
}

static void i8042_data_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	(void)opaque;
	(void)offset;
	(void)len;
	pr_guest_debug("i8042: ignored data byte 0x%02x", *(const uint8_t *)data);
}

static void i8042_command_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct i8042 *kbc = opaque;
	uint8_t cmd = *(const uint8_t *)data;

	(void)offset;
	(void)len;
	if (cmd == I8042_CMD_PULSE_RESET)
		request_post(&kbc->sink, VM_REQ_RESET, CAUSE_GUEST_RESET);
	else
		pr_guest_debug("i8042: ignored command 0x%02x", cmd);
}

const struct bus_ops i8042_data_ops = {
	.read = i8042_read_zero,
	.write = i8042_data_write,
	.sizes = BUS_SIZE_1,
};

const struct bus_ops i8042_command_ops = {
	.read = i8042_read_zero,
	.write = i8042_command_write,
	.sizes = BUS_SIZE_1,
};
