/* pvpanic_opts.h - the --pvpanic option; in the roof, where the command line picks devices. */
#ifndef MINIVMM_PVPANIC_OPTS_H
#define MINIVMM_PVPANIC_OPTS_H

#include <stddef.h>
#include <stdint.h>

#define PVPANIC_MAX_INSTANCES 4

/* Which bus an instance of the one pvpanic core sits on. */
enum pvpanic_bus {
	PVPANIC_BUS_ISA,  /* I/O port (default 0x505) */
	PVPANIC_BUS_MMIO, /* one byte of MMIO in the 32-bit hole (default PVPANIC_MMIO_GPA) */
	PVPANIC_BUS_PCI,  /* a PCI function (1b36:0011); firmware places its BAR, no address */
};

struct pvpanic_opts {
	enum pvpanic_bus bus;
	uint64_t addr;	/* I/O port for ISA, guest-physical address for MMIO, 0 for PCI */
	uint8_t events; /* events the instance offers (subset of PVPANIC_EVENTS_ALL) */
};

/*
 * Parse one --pvpanic value: "[FLAVOUR][,KEY=VALUE...]" where FLAVOUR is isa (the default),
 * mmio or pci; events= applies to every flavour, port= to isa, addr= to mmio, neither to pci
 * (its BAR is assigned like firmware would). @s may be NULL
 * (plain --pvpanic: ISA at 0x505, all events). Returns 0, or -EINVAL with a one-line reason
 * in @err.
 */
int pvpanic_opts_parse(const char *s, struct pvpanic_opts *out, char *err, size_t errlen);

/*
 * Whether @word, the argument after a bare --pvpanic, is meant as its value ("mmio",
 * "port=0x506"): anything but an option. Returns 1 or 0.
 */
int pvpanic_opts_is_value(const char *word);

/*
 * Check that @n instances do not claim the same port or overlapping addresses. Returns 0,
 * or -EINVAL with a reason in @err.
 */
int pvpanic_opts_check_set(const struct pvpanic_opts *set, unsigned n, char *err, size_t errlen);

#endif
