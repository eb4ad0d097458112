/* guest_mem.h - guest RAM and the only way to touch it: bounds-checked accessors. */
#ifndef MINIVMM_GUEST_MEM_H
#define MINIVMM_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MAX_REGIONS 4

struct guest_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
};

struct guest_mem {
	uint64_t ram_size; /* total bytes of RAM */
	unsigned nregions;
	struct guest_region regions[GUEST_MEM_MAX_REGIONS];
};

/*
 * Allocate @ram_size bytes of guest RAM (anonymous, MAP_NORESERVE, untouched until the guest
 * uses it) laid out around the 32-bit MMIO hole: below 3 GiB, the rest from 4 GiB.
 * Returns 0 or a negative errno.
 */
int guest_mem_init(struct guest_mem *gm, uint64_t ram_size) __attribute__((warn_unused_result));

/* Give every page back to the host: the guest next sees zeroes, as after power-on. */
void guest_mem_discard(const struct guest_mem *gm);

/* Unmap everything. */
void guest_mem_destroy(struct guest_mem *gm);

/*
 * Host pointer for [gpa, gpa + len) if the whole range is RAM inside one region, else NULL.
 * Overflowing ranges are rejected. len 0 is refused.
 */
void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* Copy into / out of guest RAM. Return 0 or -EFAULT when the range is not all RAM. */
int guest_mem_write(const struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len);
int guest_mem_read(const struct guest_mem *gm, void *dst, uint64_t gpa, uint64_t len);

/* End of RAM below the hole (exclusive). */
uint64_t guest_mem_low_end(const struct guest_mem *gm);

#endif
