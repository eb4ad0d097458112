/* fuzz_input.h - the device harnesses' reader of an input as a sequence of operations. */
#ifndef MINIVMM_FUZZ_INPUT_H
#define MINIVMM_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

/* The rest of the input; past its end every read gives zeroes. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fin_u8(struct fuzz_in *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

/* @k bytes, little-endian. */
static inline uint64_t fin_le(struct fuzz_in *f, unsigned k)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < k; i++)
		v |= (uint64_t)fin_u8(f) << (8 * i);
	return v;
}

/* An access size the buses know: 1, 2, 4 or 8. */
static inline unsigned fin_size(struct fuzz_in *f)
{
	return 1u << (fin_u8(f) & 3);
}

#endif
