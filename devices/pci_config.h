/*
 * pci_config.h - the PCI host's configuration-access front end (internal to devices/pci*.c):
 * CONFIG_ADDRESS/CONFIG_DATA at ports 0xCF8-0xCFF and ECAM, decoded into bus, slot, function
 * and register for the host's config-space read and write.
 */
#ifndef MINIVMM_PCI_CONFIG_H
#define MINIVMM_PCI_CONFIG_H

#include <pthread.h>
#include <stdint.h>

#include "core/bus.h"

/* The config space behind the front end: @reg < 4096, aligned to @len (1, 2 or 4). */
struct pci_config_space {
	uint32_t (*read)(void *host, unsigned bus, unsigned slot, unsigned fn, unsigned reg,
			 unsigned len);
	void (*write)(void *host, unsigned bus, unsigned slot, unsigned fn, unsigned reg,
		      uint32_t val, unsigned len);
	void *host;
};

struct pci_config {
	/* A leaf lock: held only to read or write CONFIG_ADDRESS, never across a config access. */
	pthread_mutex_t lock;
	uint32_t config_address;
	struct pci_config_shared {
		const struct bus_ops *ops;
		void *opaque;
	} shared[4]; /* ports 0xCF8..0xCFB: accesses that are not CONFIG_ADDRESS */
	struct pci_config_space space;
	struct bus *pio, *mmio;
	uint64_t ecam_base;
	int registered; /* bitmask: 1 CF8, 2 CFC, 4 ECAM */
};

/* Claim 0xCF8-0xCFF on @pio and PCI_ECAM_LEN bytes at @ecam_base on @mmio. On failure
 * nothing stays claimed; pci_config_destroy is still needed. Returns 0 or -errno. */
int pci_config_init(struct pci_config *c, struct bus *pio, struct bus *mmio, uint64_t ecam_base,
		    const struct pci_config_space *space) __attribute__((warn_unused_result));

/* Release what pci_config_init claimed. */
void pci_config_destroy(struct pci_config *c);

/* Power-on: CONFIG_ADDRESS 0. */
void pci_config_reset(struct pci_config *c);

/* pci_host_share_port's work (pci.h). */
int pci_config_share_port(struct pci_config *c, unsigned port, const struct bus_ops *ops,
			  void *opaque) __attribute__((warn_unused_result));

#endif
