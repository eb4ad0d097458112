/* acpi_pm.h - ACPI fixed hardware: PM1a event/control blocks, PM timer, reset register. */
#ifndef MINIVMM_ACPI_PM_H
#define MINIVMM_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/fwdesc.h"
#include "core/request.h"

/* One block of ports: PM1a_EVT at +0 (status, enable: 2 bytes each), PM1a_CNT at +4
 * (2 bytes), PM_TMR at +8 (4 bytes). Same base as QEMU's PIIX4 power management. */
#define ACPI_PM_BASE 0x600
#define ACPI_PM_LEN  12
#define ACPI_PM1_EVT (ACPI_PM_BASE + 0)
#define ACPI_PM1_CNT (ACPI_PM_BASE + 4)
#define ACPI_PM_TMR  (ACPI_PM_BASE + 8)
/* FADT RESET_REG: a port of its own, so an ACPI reset is told apart from 0xCF9 and i8042. */
#define ACPI_RESET_PORT	 0x60c
#define ACPI_RESET_VALUE 0x01
#define ACPI_SCI_IRQ	 9
#define ACPI_S5_SLP_TYP	 5

/* PM1 status/enable bits (ACPI 6.x, 4.8.3.1) and control bits (4.8.3.2). */
#define ACPI_PM1_TMR_STS	   (1u << 0)
#define ACPI_PM1_PWRBTN		   (1u << 8)
#define ACPI_PM1_CNT_SCI_EN	   (1u << 0)
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP_MASK  (7u << 10)
#define ACPI_PM1_CNT_SLP_EN	   (1u << 13)

struct acpi_pm;

struct acpi_pm_config {
	struct request_sink sink; /* S5 -> VM_REQ_SHUTDOWN, reset register -> VM_REQ_RESET */
	struct irq_line sci;	  /* level-triggered, high while (status & enable) */
};

int acpi_pm_create(const struct acpi_pm_config *cfg, struct acpi_pm **out);
void acpi_pm_destroy(struct acpi_pm *pm);

/* Power-on state (VM reset). */
void acpi_pm_reset(struct acpi_pm *pm);

/* The PM block at ACPI_PM_BASE (1, 2 or 4-byte accesses); opaque = struct acpi_pm. */
extern const struct bus_ops acpi_pm_bus_ops;
/* The one-byte reset register at ACPI_RESET_PORT; opaque = struct acpi_pm. */
extern const struct bus_ops acpi_reset_bus_ops;

/* Host side of system_powerdown: set PWRBTN_STS; the SCI fires if the guest enabled it. */
void acpi_pm_press_power_button(struct acpi_pm *pm);

/* Describe this hardware in @fw->acpi (ports, SCI, S5 type, its AML); @has_s5 emits \_S5. */
void acpi_pm_fill_fw(struct fw_desc *fw, bool has_s5);

#endif
