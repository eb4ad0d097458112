/* i8042.h - the part of the PC keyboard controller a guest uses to reboot (port 0x64, 0xFE). */
#ifndef MINIVMM_I8042_H
#define MINIVMM_I8042_H

#include "core/bus.h"
#include "core/request.h"

#define I8042_DATA_PORT	   0x60
#define I8042_COMMAND_PORT 0x64

struct i8042 {
	struct request_sink sink;
};

/*
 * The two one-byte ports are not adjacent (0x61-0x63 belong to other chips), so the device
 * registers twice: i8042_data_ops at I8042_DATA_PORT and i8042_command_ops at
 * I8042_COMMAND_PORT, both with opaque = struct i8042.
 */
extern const struct bus_ops i8042_data_ops;
extern const struct bus_ops i8042_command_ops;

#endif
