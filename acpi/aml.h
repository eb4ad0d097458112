/* aml.h - a small builder for ACPI Machine Language byte code (ACPI 6.x, chapter 20). */
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

/* Opcodes used by the DSDT builder (20.3). */
#define AML_ZERO           0x00
#define AML_ONE            0x01
#define AML_NAME           0x08
#define AML_BYTE_PREFIX    0x0a
#define AML_WORD_PREFIX    0x0b
#define AML_DWORD_PREFIX   0x0c
#define AML_STRING_PREFIX  0x0d
#define AML_QWORD_PREFIX   0x0e
#define AML_SCOPE          0x10
#define AML_BUFFER         0x11
#define AML_PACKAGE        0x12
#define AML_METHOD         0x14
#define AML_LOCAL0         0x60
#define AML_ARG0           0x68
#define AML_STORE          0x70
#define AML_RETURN         0xa4
#define AML_EXT_PREFIX     0x5b
#define AML_EXT_OPREGION   0x80
#define AML_EXT_FIELD      0x81
#define AML_EXT_DEVICE     0x82

#endif
