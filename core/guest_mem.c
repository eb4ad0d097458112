/* guest_mem.c - guest RAM regions around the 32-bit hole, and checked access to them. */
#include "guest_mem.h"
#include "layout.h"
#include "log.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

static int region_map(struct guest_region *r, uint64_t gpa, uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return -errno;
	/* Guest RAM stays out of a host core dump of minivmm (QEMU's dump-guest-core=off): it is
	 * the guest's data, and large. dump-guest-memory reads it through the mapping as before. */
	if (madvise(p, size, MADV_DONTDUMP) < 0)
		pr_warn("guest RAM: MADV_DONTDUMP: %s; a host core dump would include it",
			strerror(errno));
	r->gpa = gpa;
	r->size = size;
	r->host = p;
	return 0;
}

int guest_mem_init(struct guest_mem *gm, uint64_t ram_size)
{
	uint64_t low = layout_ram_below_4g(ram_size);
	int ret;

	memset(gm, 0, sizeof(*gm));
	if (ram_size < HIGH_RAM_START * 2)
		return -EINVAL;
	ret = region_map(&gm->regions[0], 0, low);
	if (ret)
		return ret;
	gm->nregions = 1;
	if (ram_size > low) {
		ret = region_map(&gm->regions[1], RAM_ABOVE_4G_START, ram_size - low);
		if (ret) {
			guest_mem_destroy(gm);
			return ret;
		}
		gm->nregions = 2;
	}
	gm->ram_size = ram_size;
	return 0;
}

void guest_mem_discard(const struct guest_mem *gm)
{
	for (unsigned i = 0; i < gm->nregions; i++)
		madvise(gm->regions[i].host, gm->regions[i].size, MADV_DONTNEED);
}

void guest_mem_destroy(struct guest_mem *gm)
{
	for (unsigned i = 0; i < gm->nregions; i++)
		munmap(gm->regions[i].host, gm->regions[i].size);
	gm->nregions = 0;
}

void *guest_mem_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	if (!len)
		return NULL;
	for (unsigned i = 0; i < gm->nregions; i++) {
		const struct guest_region *r = &gm->regions[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}

int guest_mem_write(const struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = guest_mem_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

int guest_mem_read(const struct guest_mem *gm, void *dst, uint64_t gpa, uint64_t len)
{
	const void *p = guest_mem_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

uint64_t guest_mem_low_end(const struct guest_mem *gm)
{
	return gm->nregions ? gm->regions[0].size : 0;
}
