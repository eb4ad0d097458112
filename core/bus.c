/* bus.c - sorted-array range bus with binary search; checks bounds and access sizes. */
#include "bus.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	return -pthread_rwlock_init(&bus->lock, NULL);
}

void bus_destroy(struct bus *bus)
{
	free(bus->ranges);
	bus->ranges = NULL;
	bus->n = bus->cap = 0;
	pthread_rwlock_destroy(&bus->lock);
}

/* Index of the first range whose base is > addr. */
static size_t bus_upper(const struct bus *bus, uint64_t addr)
{
	size_t lo = 0, hi = bus->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (bus->ranges[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_ops *ops,
		 void *opaque, const char *name)
{
	size_t i;
	uint64_t last;
	int ret = 0;

	if (!len || !ops || !(ops->sizes & BUS_SIZE_ANY))
		return -EINVAL;
	if (__builtin_add_overflow(base, len - 1, &last))
		return -EINVAL;

	pthread_rwlock_wrlock(&bus->lock);
	i = bus_upper(bus, base);
	/* The range before must end before @base; the one at i must start after @last. */
	if (i > 0 && bus->ranges[i - 1].base + (bus->ranges[i - 1].len - 1) >= base) {
		ret = -EEXIST;
		goto out;
	}
	if (i < bus->n && bus->ranges[i].base <= last) {
		ret = -EEXIST;
		goto out;
	}
	if (bus->n == bus->cap) {
		size_t cap = bus->cap ? bus->cap * 2 : 16;
		struct bus_range *r = realloc(bus->ranges, cap * sizeof(*r));

		if (!r) {
			ret = -ENOMEM;
			goto out;
		}
		bus->ranges = r;
		bus->cap = cap;
	}
	memmove(&bus->ranges[i + 1], &bus->ranges[i], (bus->n - i) * sizeof(bus->ranges[0]));
	bus->ranges[i] = (struct bus_range){ base, len, ops, opaque, name };
	bus->n++;
out:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int bus_unregister(struct bus *bus, uint64_t base, void *opaque)
{
	size_t i;
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	i = bus_upper(bus, base);
	if (i > 0 && bus->ranges[i - 1].base == base && bus->ranges[i - 1].opaque == opaque) {
		memmove(&bus->ranges[i - 1], &bus->ranges[i],
			(bus->n - i) * sizeof(bus->ranges[0]));
		bus->n--;
		ret = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

/* The range wholly containing [addr, addr + len), or NULL. Caller holds the read lock. */
static const struct bus_range *bus_lookup(const struct bus *bus, uint64_t addr, unsigned len)
{
	size_t i = bus_upper(bus, addr);
	const struct bus_range *r;

	if (i == 0)
		return NULL;
	r = &bus->ranges[i - 1];
	if (addr - r->base > r->len - 1 || len > r->len - (addr - r->base))
		return NULL;
	return r;
}

static int size_allowed(unsigned sizes, unsigned len)
{
	switch (len) {
	case 1:
		return !!(sizes & BUS_SIZE_1);
	case 2:
		return !!(sizes & BUS_SIZE_2);
	case 4:
		return !!(sizes & BUS_SIZE_4);
	case 8:
		return !!(sizes & BUS_SIZE_8);
	default:
		return 0;
	}
}

/*
 * The lock covers the lookup only: the callback runs unlocked, on a copy of the range. A
 * device may therefore add or remove ranges from inside its own callback (a PCI BAR moving
 * when the guest writes the BAR or COMMAND through a config-space access on this very bus)
 * without deadlocking on the write lock, and a slow device never holds up registration.
 * The price is that bus_unregister does not wait for an access already dispatched: the
 * opaque of a removed range must stay valid until the vcpus have stopped (see bus.h).
 */
static enum bus_result bus_access(struct bus *bus, uint64_t addr, void *data, unsigned len,
				  int is_write)
{
	const struct bus_range *r;
	struct bus_range hit;
	enum bus_result res = BUS_OK;

	pthread_rwlock_rdlock(&bus->lock);
	r = bus_lookup(bus, addr, len);
	if (!r)
		res = BUS_UNMAPPED;
	else if (!size_allowed(r->ops->sizes, len))
		res = BUS_BAD_SIZE;
	else
		hit = *r;
	pthread_rwlock_unlock(&bus->lock);

	if (res == BUS_OK) {
		if (is_write) {
			if (hit.ops->write)
				hit.ops->write(hit.opaque, addr - hit.base, data, len);
		} else {
			if (hit.ops->read)
				hit.ops->read(hit.opaque, addr - hit.base, data, len);
			else
				memset(data, 0xff, len);
		}
		return res;
	}

	__atomic_add_fetch(&bus->unhandled, 1, __ATOMIC_RELAXED);
	if (!is_write && len <= 8)
		memset(data, 0xff, len);
	pr_guest_debug("%s: %s %s of size %u at 0x%llx", bus->name,
		       res == BUS_UNMAPPED ? "unmapped" : "refused", is_write ? "write" : "read",
		       len, (unsigned long long)addr);
	return res;
}

enum bus_result bus_read(struct bus *bus, uint64_t addr, void *data, unsigned len)
{
	return bus_access(bus, addr, data, len, 0);
}

enum bus_result bus_write(struct bus *bus, uint64_t addr, const void *data, unsigned len)
{
	return bus_access(bus, addr, (void *)data, len, 1);
}

uint64_t bus_unhandled(struct bus *bus)
{
	return __atomic_load_n(&bus->unhandled, __ATOMIC_RELAXED);
}

uint64_t bus_data_get(const void *data, unsigned len)
{
	const uint8_t *p = data;
	uint64_t v = 0;

	for (unsigned i = 0; i < len && i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void bus_data_set(void *data, unsigned len, uint64_t val)
{
	uint8_t *p = data;

	for (unsigned i = 0; i < len && i < 8; i++)
		p[i] = (uint8_t)(val >> (8 * i));
}
