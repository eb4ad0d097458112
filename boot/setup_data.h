/* setup_data.h - the x86 boot protocol's setup_data list (boot protocol 2.09+), e.g. a DTB. */
#ifndef MINIVMM_SETUP_DATA_H
#define MINIVMM_SETUP_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "boot/bzimage.h"
#include "core/guest_mem.h"

/* The protocol version that added boot_params.hdr.setup_data (Documentation/arch/x86/boot.rst). */
#define SETUP_DATA_MIN_VERSION 0x0209
/* struct setup_data's header: u64 next, u32 type, u32 len; the payload follows. */
#define SETUP_DATA_HDR_LEN 16

/*
 * Write one setup_data entry of @type (SETUP_DTB, ...) with @len bytes of @data at @gpa in
 * guest RAM, its next pointing at @next (0: last). The caller passes @gpa as
 * boot_load's setup_data_gpa (or as another entry's @next). Linux reserves every entry of the
 * list early (memblock), so @gpa only has to be RAM the loader itself does not use.
 * Returns 0, -ENOTSUP when the kernel's boot protocol (@info->version) predates setup_data,
 * or -ENOSPC when the entry does not fit in RAM.
 */
int boot_setup_data_write(const struct guest_mem *gm, const struct bzimage_info *info, uint64_t gpa,
			  uint32_t type, const void *data, uint32_t len, uint64_t next)
    __attribute__((warn_unused_result));

#endif
