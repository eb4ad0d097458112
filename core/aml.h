/*
 * aml.h - a small builder for ACPI Machine Language byte code (ACPI 6.x, chapter 20): the
 * encodings, named objects and resource templates the DSDT builder and devices' own AML use.
 */
#ifndef MINIVMM_AML_H
#define MINIVMM_AML_H

#include <stddef.h>
#include <stdint.h>

/* A growing byte buffer. Any allocation failure sets err and makes later calls no-ops. */
struct aml {
	uint8_t *buf;
	size_t len, cap;
	int err;
};

void aml_init(struct aml *a);
void aml_free(struct aml *a);

void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);
/* A 4-character NameSeg, padded with '_' ("_S5" -> "_S5_"). */
void aml_nameseg(struct aml *a, const char *name);
/* A NameString: "\\_SB_.COM1" style paths or a single segment; '\\' marks the root. */
void aml_namestring(struct aml *a, const char *path);
/* Integer data objects: ZeroOp, OneOp, or the smallest prefixed form. */
void aml_integer(struct aml *a, uint64_t v);
/* String data object (StringPrefix, bytes, NUL). */
void aml_string(struct aml *a, const char *s);
/* _HID-style EISA id ("PNP0501") as its compressed DWord. */
void aml_eisaid(struct aml *a, const char *id);

/*
 * Package-length scopes: aml_pkg_begin() marks where a PkgLength goes, aml_pkg_end() inserts
 * it once the contents are known (20.2.4: 1-4 bytes, the length counting itself).
 */
size_t aml_pkg_begin(struct aml *a);
void aml_pkg_end(struct aml *a, size_t mark);

/* --- named objects ---------------------------------------------------------------------- */

/* Name (@name, @v) */
void aml_name_integer(struct aml *a, const char *name, uint64_t v);
/* Name (@name, @id): EisaId (@id) when it has that shape ("PNP0501"), else a string. */
void aml_name_id(struct aml *a, const char *name, const char *id);
/* Device (@name) { ... }: aml_device_begin() returns the mark for aml_pkg_end(). */
size_t aml_device_begin(struct aml *a, const char *name);
/* Method (@name, @nargs, NotSerialized) { ... }: returns the mark for aml_pkg_end(). */
size_t aml_method_begin(struct aml *a, const char *name, unsigned nargs);

/* --- resource templates (6.4) ------------------------------------------------------------ */

/*
 * A resource template is built in a struct aml of its own with the aml_res_* calls, then
 * named: Name (@name, Buffer () { @res, EndTag }). An allocation failure in @res marks @a.
 */
void aml_name_resources(struct aml *a, const char *name, struct aml *res);
/* IO (Decode16, @base, @base, 1, @len): @len above 255 is clamped. */
void aml_res_io(struct aml *res, uint16_t base, uint64_t len);
/* Memory32Fixed (ReadWrite, @base, @len) */
void aml_res_mem32_fixed(struct aml *res, uint32_t base, uint32_t len);
/* IRQNoFlags () { @irq }: ISA, edge, active high; an IRQ above 15 gives an empty mask. */
void aml_res_irq_noflags(struct aml *res, uint64_t irq);

/* Address space descriptors (6.4.3.5): resource type and its type-specific flags. */
#define AML_RES_ADDR_MEM  0
#define AML_RES_ADDR_IO	  1
#define AML_RES_ADDR_BUS  2
#define AML_RES_IO_ENTIRE 0x03 /* I/O flags: _RNG, both ISA and non-ISA ranges */
#define AML_RES_MEM_RW	  0x01 /* memory flags: read/write, non-cacheable */
/* Word (16-bit) or DWord (32-bit) address space for [@min, @min + @len), fixed, producer. */
void aml_res_word_addr(struct aml *res, uint8_t type, uint8_t type_flags, uint16_t min,
		       uint32_t len);
void aml_res_dword_addr(struct aml *res, uint8_t type, uint8_t type_flags, uint32_t min,
			uint32_t len);

/* Opcodes (20.3). */
#define AML_ZERO	  0x00
#define AML_ONE		  0x01
#define AML_NAME	  0x08
#define AML_BYTE_PREFIX	  0x0a
#define AML_WORD_PREFIX	  0x0b
#define AML_DWORD_PREFIX  0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_QWORD_PREFIX  0x0e
#define AML_SCOPE	  0x10
#define AML_BUFFER	  0x11
#define AML_PACKAGE	  0x12
#define AML_METHOD	  0x14
#define AML_LOCAL0	  0x60
#define AML_ARG0	  0x68
#define AML_STORE	  0x70
#define AML_RETURN	  0xa4
#define AML_EXT_PREFIX	  0x5b
#define AML_EXT_OPREGION  0x80
#define AML_EXT_FIELD	  0x81
#define AML_EXT_DEVICE	  0x82

/* OperationRegion spaces (19.6.100) and the Field access type ByteAcc (19.6.48). */
#define AML_REGION_SYSTEM_MEMORY 0x00
#define AML_REGION_SYSTEM_IO	 0x01
#define AML_FIELD_BYTE_ACC	 0x01

#endif
