/* pvpanic_pci.h - the pvpanic core as a PCI function (QEMU's pvpanic-pci, 1b36:0011). */
#ifndef MINIVMM_PVPANIC_PCI_H
#define MINIVMM_PVPANIC_PCI_H

#include "devices/pci.h"
#include "devices/pvpanic.h"

/* Guest-visible identity (docs/specs/pvpanic.rst and pci-ids.rst in QEMU). */
#define PVPANIC_PCI_VENDOR    0x1b36 /* Red Hat */
#define PVPANIC_PCI_DEVICE    0x0011
#define PVPANIC_PCI_REVISION  1
#define PVPANIC_PCI_CLASS     0x088000 /* base system peripheral, other */
#define PVPANIC_PCI_SUBVENDOR 0x1af4
#define PVPANIC_PCI_SUBSYS    0x1100
#define PVPANIC_PCI_BAR_SIZE  0x1000 /* BAR0, 32-bit memory; byte 0 is the event register */

/*
 * Describe @p as a PCI function for pci_host_add: BAR0 whose byte 0 reads the supported
 * events and takes event writes; the rest of the BAR reads 0 and ignores writes. @p must
 * outlive the host.
 */
void pvpanic_pci_info(struct pci_device_info *out, struct pvpanic *p);

#endif
