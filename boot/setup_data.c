/* setup_data.c - writing entries of the boot protocol's setup_data list into guest RAM. */
#include "setup_data.h"

#include <errno.h>
#include <string.h>

int boot_setup_data_write(const struct guest_mem *gm, const struct bzimage_info *info, uint64_t gpa,
			  uint32_t type, const void *data, uint32_t len, uint64_t next)
{
	uint8_t *p;

	if (info->version < SETUP_DATA_MIN_VERSION)
		return -ENOTSUP;
	p = guest_mem_ptr(gm, gpa, (uint64_t)SETUP_DATA_HDR_LEN + len);
	if (!p)
		return -ENOSPC;
	/* Little-endian fields, as struct setup_data in asm/bootparam.h lays them out. */
	for (unsigned i = 0; i < 8; i++)
		p[i] = (uint8_t)(next >> (8 * i));
	for (unsigned i = 0; i < 4; i++) {
		p[8 + i] = (uint8_t)(type >> (8 * i));
		p[12 + i] = (uint8_t)(len >> (8 * i));
	}
	memcpy(p + SETUP_DATA_HDR_LEN, data, len);
	return 0;
}
