/* kdump.h - makedumpfile's compressed kdump format (zlib) of guest RAM, as QEMU's kdump-zlib and
 * kdump-raw-zlib dumps are: what makedumpfile and crash read besides ELF. */
#ifndef MINIVMM_KDUMP_H
#define MINIVMM_KDUMP_H

#include <stdint.h>

#include "elfcore.h"

/*
 * Write @d to @fd in the kdump-compressed format: the disk_dump_header, the sub-header with the
 * ELF notes (one NT_PRSTATUS per vCPU, the VMCOREINFO note, whose OSRELEASE and
 * NUMBER(phys_base) also fill the header), the two page bitmaps (every page of every range),
 * one page descriptor per page and the pages, each zlib-compressed when that makes it smaller.
 * Every zero page shares one stored page of zeroes. @flat: makedumpfile's flattened stream
 * (QEMU's "kdump-zlib", for a pipe or socket; `makedumpfile -R` turns it into the file), else
 * the file itself written at its offsets (QEMU's "kdump-raw-zlib"; @fd must be seekable).
 * Guest RAM is read from the mapping a page at a time; the descriptors go out in batches, so
 * memory use does not grow with the guest. @done, if not NULL, counts the guest bytes done
 * (atomically). Returns 0 or a negative errno.
 */
int kdump_write(int fd, const struct elfcore_desc *d, int flat, uint64_t *done)
    __attribute__((warn_unused_result));

/* The guest bytes kdump_write goes through (query-dump's total): the ranges' sizes. */
uint64_t kdump_total(const struct elfcore_desc *d);

#endif
