/* pvpanic_opts.c - parsing and checking --pvpanic values; one table row per flavour. */
#include "pvpanic_opts.h"
#include "devices/pvpanic.h"
#include "core/layout.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PVPANIC_MMIO_ALIGN 0x1000ull /* an MMIO instance owns its page */

static int check_port(uint64_t v, char *err, size_t errlen);
static int check_mmio(uint64_t v, char *err, size_t errlen);

/* To add a flavour: a row here, an enum value, and its glue in vm.c. */
static const struct flavour {
	const char *name;
	enum pvpanic_bus bus;
	const char *addr_key; /* "port=" or "addr="; NULL: not placed by the user (PCI) */
	uint64_t addr_default;
	int (*check)(uint64_t v, char *err, size_t errlen);
} flavours[] = {
	{ "isa", PVPANIC_BUS_ISA, "port=", PVPANIC_ISA_PORT, check_port },
	{ "mmio", PVPANIC_BUS_MMIO, "addr=", PVPANIC_MMIO_GPA, check_mmio },
	{ "pci", PVPANIC_BUS_PCI, NULL, 0, NULL },
};

#define NFLAVOURS (sizeof(flavours) / sizeof(flavours[0]))

/* Ranges in the 32-bit hole an MMIO instance may not take. */
static const struct {
	const char *what;
	uint64_t base, len;
} mmio_taken[] = {
	{ "the PCI memory window", PCI_MEM_WINDOW_GPA, PCI_MEM_WINDOW_LEN },
	{ "the PCI ECAM", PCI_ECAM_GPA, PCI_ECAM_LEN },
	{ "the IOAPIC", IOAPIC_GPA, 0x1000 },
	{ "the LAPIC", LAPIC_GPA, 0x1000 },
	{ "KVM's identity map and TSS", KVM_IDMAP_GPA, 4 * 0x1000 },
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int check_port(uint64_t v, char *err, size_t errlen)
{
	if (v == 0 || v > 0xffff)
		return fail(err, errlen, "--pvpanic: port wants 1..0xffff, got 0x%llx",
			    (unsigned long long)v);
	return 0;
}

static int check_mmio(uint64_t v, char *err, size_t errlen)
{
	if (v % PVPANIC_MMIO_ALIGN)
		return fail(err, errlen, "--pvpanic: addr 0x%llx is not page-aligned (4 KiB)",
			    (unsigned long long)v);
	if (v < MMIO_HOLE_START || v > MMIO_HOLE_END - PVPANIC_MMIO_ALIGN)
		return fail(err, errlen,
			    "--pvpanic: addr 0x%llx is outside the 32-bit MMIO hole 0x%llx-0x%llx",
			    (unsigned long long)v, MMIO_HOLE_START, MMIO_HOLE_END - 1);
	for (size_t i = 0; i < sizeof(mmio_taken) / sizeof(mmio_taken[0]); i++)
		if (v < mmio_taken[i].base + mmio_taken[i].len &&
		    mmio_taken[i].base < v + PVPANIC_MMIO_ALIGN)
			return fail(
			    err, errlen, "--pvpanic: addr 0x%llx overlaps %s (0x%llx-0x%llx)",
			    (unsigned long long)v, mmio_taken[i].what,
			    (unsigned long long)mmio_taken[i].base,
			    (unsigned long long)(mmio_taken[i].base + mmio_taken[i].len - 1));
	return 0;
}

static const char *flavour_name(enum pvpanic_bus bus)
{
	for (size_t i = 0; i < NFLAVOURS; i++)
		if (flavours[i].bus == bus)
			return flavours[i].name;
	return "?";
}

static const struct flavour *flavour_find(const char *word)
{
	for (size_t i = 0; i < NFLAVOURS; i++)
		if (!strcmp(word, flavours[i].name))
			return &flavours[i];
	return NULL;
}

/* A whole number (0x.., 0.., decimal) in [0, max]. */
static int parse_num(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

int pvpanic_opts_is_value(const char *word)
{
	/* minivmm takes no positional arguments, so any word that is not an option is ours. */
	return word[0] != '-';
}

int pvpanic_opts_parse(const char *s, struct pvpanic_opts *out, char *err, size_t errlen)
{
	const struct flavour *f = &flavours[0];
	char buf[128], *save = NULL, *tok;
	int first = 1;
	uint64_t v;

	out->bus = f->bus;
	out->addr = f->addr_default;
	out->events = PVPANIC_EVENTS_ALL;
	if (!s)
		return 0;
	if (strlen(s) >= sizeof(buf))
		return fail(err, errlen, "--pvpanic: options too long: '%s'", s);
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), first = 0) {
		const struct flavour *named = strchr(tok, '=') ? NULL : flavour_find(tok);

		if (named && first) {
			f = named;
			out->bus = f->bus;
			out->addr = f->addr_default;
		} else if (!f->addr_key &&
			   (!strncmp(tok, "addr=", 5) || !strncmp(tok, "port=", 5))) {
			return fail(err, errlen,
				    "--pvpanic %s: '%s' not allowed: the BAR is assigned like "
				    "firmware would (only events=)",
				    f->name, tok);
		} else if (f->addr_key && !strncmp(tok, f->addr_key, strlen(f->addr_key))) {
			const char *val = tok + strlen(f->addr_key);

			if (parse_num(val, UINT32_MAX, &v))
				return fail(err, errlen, "--pvpanic: %s wants a number, got '%s'",
					    f->addr_key, val);
			if (f->check(v, err, errlen))
				return -EINVAL;
			out->addr = v;
		} else if (!strncmp(tok, "events=", 7)) {
			if (parse_num(tok + 7, PVPANIC_EVENTS_ALL, &v))
				return fail(
				    err, errlen,
				    "--pvpanic: events wants a mask of 0x1|0x2|0x4, got '%s'",
				    tok + 7);
			out->events = (uint8_t)v;
		} else if (named) {
			return fail(err, errlen, "--pvpanic: flavour '%s' must come first", tok);
		} else if (!strchr(tok, '=') && first) {
			return fail(err, errlen, "--pvpanic: unknown flavour '%s' (isa, mmio, pci)",
				    tok);
		} else {
			return fail(err, errlen, "--pvpanic %s: unknown option '%s' (%sevents=)",
				    f->name, tok, f->addr_key ? f->addr_key : "");
		}
	}
	return 0;
}

int pvpanic_opts_check_set(const struct pvpanic_opts *set, unsigned n, char *err, size_t errlen)
{
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = 0; j < i; j++) {
			uint64_t span = set[i].bus == PVPANIC_BUS_MMIO ? PVPANIC_MMIO_ALIGN : 1;

			if (set[i].bus == PVPANIC_BUS_PCI)
				continue; /* each takes the next free slot */
			if (set[i].bus == set[j].bus && set[i].addr < set[j].addr + span &&
			    set[j].addr < set[i].addr + span)
				return fail(err, errlen, "--pvpanic: two %s instances at 0x%llx",
					    flavour_name(set[i].bus),
					    (unsigned long long)set[i].addr);
		}
	return 0;
}
