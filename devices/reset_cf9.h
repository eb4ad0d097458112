/* reset_cf9.h - the PC reset control register at port 0xCF9. */
#ifndef MINIVMM_RESET_CF9_H
#define MINIVMM_RESET_CF9_H

#include <stdint.h>
#include <pthread.h>

#include "core/bus.h"
#include "core/request.h"

#define RESET_CF9_PORT 0xcf9

struct reset_cf9 {
	pthread_mutex_t lock;
	uint8_t value;
	struct request_sink sink;
};

/* Initialise (power-on value 0). */
void reset_cf9_init(struct reset_cf9 *rc, const struct request_sink *sink);

/* Power-on state after a VM reset. */
void reset_cf9_reset(struct reset_cf9 *rc);

/* One byte at RESET_CF9_PORT; opaque = struct reset_cf9. */
extern const struct bus_ops reset_cf9_bus_ops;

#endif
