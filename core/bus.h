/* bus.h - range-indexed buses (one for port I/O, one for MMIO): devices see offsets. */
#ifndef MINIVMM_BUS_H
#define MINIVMM_BUS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* Allowed access sizes, as a mask in bus_ops.sizes. */
#define BUS_SIZE_1   (1u << 0)
#define BUS_SIZE_2   (1u << 1)
#define BUS_SIZE_4   (1u << 2)
#define BUS_SIZE_8   (1u << 3)
#define BUS_SIZE_ANY (BUS_SIZE_1 | BUS_SIZE_2 | BUS_SIZE_4 | BUS_SIZE_8)

/*
 * What a device supplies. @offset is relative to the start of the device's range; @data is
 * @len bytes, little-endian as the guest sees them. The bus guarantees that @len is one of
 * the sizes in @sizes and that [offset, offset + len) lies inside the range, so a device
 * never checks either. Either callback may be NULL (reads then return all-ones, writes are
 * dropped). Callbacks run on vcpu threads without the bus lock; a device protects its own
 * state, and may register or unregister ranges (on either bus) from inside a callback.
 */
struct bus_ops {
	void (*read)(void *opaque, uint64_t offset, void *data, unsigned len);
	void (*write)(void *opaque, uint64_t offset, const void *data, unsigned len);
	unsigned sizes;
};

struct bus_range {
	uint64_t base;
	uint64_t len;
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
};

struct bus {
	const char *name; /* "pio" or "mmio", for messages */
	pthread_rwlock_t lock;
	struct bus_range *ranges; /* sorted by base, never overlapping */
	size_t n, cap;
	uint64_t unhandled; /* accesses to no device, or of a refused size (atomic) */
};

/* Result of bus_read/bus_write. */
enum bus_result {
	BUS_OK = 0,
	BUS_UNMAPPED = 1, /* no device covers the whole access */
	BUS_BAD_SIZE = 2, /* a device is there but refuses that access size */
};

/* Initialise an empty bus. Returns 0 or a negative errno. */
int bus_init(struct bus *bus, const char *name) __attribute__((warn_unused_result));

/* Free the range table. No access may be in flight. */
void bus_destroy(struct bus *bus);

/*
 * Add a device at [base, base + len). Refuses (-EINVAL) a zero length, a range that wraps
 * past 2^64, ops with no allowed size; refuses (-EEXIST) any overlap with an existing range.
 * May be called while vcpus run (a PCI BAR moving), at the cost of a write lock, and from
 * inside a bus callback: callbacks run without the bus lock held.
 */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_ops *ops,
		 void *opaque, const char *name) __attribute__((warn_unused_result));

/*
 * Remove the range registered at exactly @base with @opaque. Returns 0 or -ENOENT. Safe from
 * inside a bus callback (callbacks run without the bus lock). It does not wait for an access
 * already dispatched to the range, so @opaque must stay valid until the vcpus have stopped.
 */
int bus_unregister(struct bus *bus, uint64_t base, void *opaque);

/*
 * Dispatch one guest access. On anything but BUS_OK a read fills @data with all-ones and a
 * write is dropped; the access is counted in bus->unhandled and logged (rate-limited, debug).
 * @len must be 1..8.
 */
enum bus_result bus_read(struct bus *bus, uint64_t addr, void *data, unsigned len);
enum bus_result bus_write(struct bus *bus, uint64_t addr, const void *data, unsigned len);

/* Number of unhandled accesses so far. */
uint64_t bus_unhandled(struct bus *bus);

/* Little-endian helpers for device code: the value of @len bytes at @data, and back. */
uint64_t bus_data_get(const void *data, unsigned len);
void bus_data_set(void *data, unsigned len, uint64_t val);

#endif
