/* board.c - the PC board: which devices the VM has, where they sit, their reset/teardown list. */
#include "board.h"
#include "vm.h"
#include "devices/acpi_pm.h"
#include "devices/fw_cfg.h"
#include "devices/pci.h"
#include "devices/pvpanic.h"
#include "devices/pvpanic_pci.h"
#include "devices/serial_16550.h"
#include "devices/wdt_i6300esb.h"
#include "devices/wdt_ib700.h"
#include "core/layout.h"
#include "core/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Put @dev on the reset and teardown list. */
static int board_add(struct vm *vm, const char *name, void (*reset)(void *),
		     void (*destroy)(void *), void *dev)
{
	if (vm->ndevices == BOARD_MAX_DEVICES) {
		pr_err("%s: too many devices (at most %d)", name, BOARD_MAX_DEVICES);
		if (destroy)
			destroy(dev);
		return -ENOSPC;
	}
	vm->devices[vm->ndevices++] = (struct board_device){ name, reset, destroy, dev };
	return 0;
}

/* Ctrl-A x on the console. */
static void console_quit(void *ctx)
{
	struct vm *vm = ctx;

	lifecycle_handle(&vm->lc, VM_REQ_SHUTDOWN, CAUSE_HOST_UI);
}

static int register_pio(struct vm *vm, uint64_t base, uint64_t len, const struct bus_ops *ops,
			void *opaque, const char *name)
{
	int ret = bus_register(&vm->pio, base, len, ops, opaque, name);

	if (ret)
		pr_err("%s: cannot claim ports 0x%llx-0x%llx: %s", name, (unsigned long long)base,
		       (unsigned long long)(base + len - 1), strerror(-ret));
	return ret;
}

/* Put a device on the PIO bus at every I/O resource its firmware description names. */
static int attach_fw_pio(struct vm *vm, const struct fw_device *dev, const struct bus_ops *ops,
			 void *opaque)
{
	int ret = fw_desc_add(&vm->fw, dev);

	for (unsigned i = 0; !ret && i < dev->nres; i++)
		if (dev->res[i].kind == FW_RES_IO)
			ret = register_pio(vm, dev->res[i].base, dev->res[i].len, ops, opaque,
					   dev->acpi_name);
	return ret;
}

/* Put a device on the bus of each I/O or MMIO resource its firmware description names. */
static int attach_fw(struct vm *vm, const struct fw_device *dev, const struct bus_ops *ops,
		     void *opaque)
{
	int ret = fw_desc_add(&vm->fw, dev);

	for (unsigned i = 0; !ret && i < dev->nres; i++) {
		const struct fw_resource *r = &dev->res[i];

		if (r->kind == FW_RES_IO) {
			ret = register_pio(vm, r->base, r->len, ops, opaque, dev->acpi_name);
		} else if (r->kind == FW_RES_MMIO) {
			ret = bus_register(&vm->mmio, r->base, r->len, ops, opaque, dev->acpi_name);
			if (ret)
				pr_err("%s: cannot claim MMIO 0x%llx-0x%llx: %s", dev->acpi_name,
				       (unsigned long long)r->base,
				       (unsigned long long)(r->base + r->len - 1), strerror(-ret));
		}
	}
	return ret;
}

/* Put a device in the next free slot of the PCI host. */
static int attach_pci_device(struct vm *vm, const struct pci_device_info *info)
{
	int ret = pci_host_add(vm->pci, info);

	if (ret < 0)
		pr_err("%s: cannot add to the PCI host: %s", info->name, strerror(-ret));
	return ret < 0 ? ret : 0;
}

/* The pvpanic instances (--pvpanic, each isa, mmio or pci): one core, glue per bus. */
static int attach_pvpanics(struct vm *vm)
{
	struct fw_device dev;
	int ret = 0;

	for (unsigned i = 0; !ret && i < vm->cfg.npvpanic; i++) {
		const struct pvpanic_opts *o = &vm->cfg.pvpanic[i];
		struct pvpanic *p = calloc(1, sizeof(*p));

		if (!p || board_add(vm, "pvpanic", NULL, free, p))
			return -ENOMEM;
		pvpanic_init(p, o->events, &vm->sink);
		if (o->bus == PVPANIC_BUS_PCI) {
			struct pci_device_info info;

			/* Linux finds it by enumeration: no ACPI or FDT node of its own. */
			pvpanic_pci_info(&info, p);
			ret = attach_pci_device(vm, &info);
			continue;
		}
		pvpanic_fw_device(&dev, o->bus == PVPANIC_BUS_ISA ? FW_RES_IO : FW_RES_MMIO,
				  o->addr, i);
		ret = attach_fw(vm, &dev, &pvpanic_bus_ops, p);
	}
	return ret;
}

static void pci_reset_dev(void *h)
{
	pci_host_reset(h);
}

static void pci_destroy_dev(void *h)
{
	pci_host_destroy(h);
}

/* The PCI host: config ports, ECAM, windows from layout.h; INTx on the in-kernel IOAPIC.
 * Its functions come after it, so teardown frees them first and then the host, which only
 * takes their BARs off the buses. */
static int attach_pci(struct vm *vm)
{
	int ret = pci_host_create(&vm->pio, &vm->mmio, PCI_ECAM_GPA, PCI_IO_WINDOW_PORT,
				  PCI_IO_WINDOW_LEN, (uint32_t)PCI_MEM_WINDOW_GPA,
				  (uint32_t)PCI_MEM_WINDOW_LEN, &vm->pci);

	if (!ret)
		ret = board_add(vm, "pci-host", pci_reset_dev, pci_destroy_dev, vm->pci);
	if (ret) {
		pr_err("cannot create the PCI host: %s", strerror(-ret));
		return ret;
	}
	pci_host_set_irq(vm->pci, kvm_vm_irq_line, &vm->kvm);
	return pci_host_fill_fw(vm->pci, &vm->fw);
}

static void ib700_reset_dev(void *d)
{
	wdt_ib700_reset(d);
}

static void ib700_destroy_dev(void *d)
{
	wdt_ib700_destroy(d);
	free(d);
}

static void esb_reset_dev(void *d)
{
	wdt_i6300esb_reset(d);
}

static void esb_destroy_dev(void *d)
{
	wdt_i6300esb_destroy(d);
	free(d);
}

/* --watchdog: ib700 on its ISA ports, i6300esb as a PCI function; timers on the VM clock. */
static int attach_watchdog(struct vm *vm)
{
	struct pci_device_info info;
	struct wdt_i6300esb *esb;
	struct wdt_ib700 *ib700;
	int ret;

	switch (vm->cfg.watchdog) {
	case WATCHDOG_MODEL_NONE:
		return 0;
	case WATCHDOG_MODEL_IB700:
		ib700 = calloc(1, sizeof(*ib700));
		if (!ib700 || board_add(vm, "ib700", ib700_reset_dev, ib700_destroy_dev, ib700))
			return -ENOMEM;
		ret = wdt_ib700_init(ib700, &vm->vclock, &vm->sink);
		if (!ret)
			ret = register_pio(vm, WDT_IB700_BASE, WDT_IB700_LEN, &wdt_ib700_bus_ops,
					   ib700, "ib700");
		return ret;
	case WATCHDOG_MODEL_I6300ESB:
		esb = calloc(1, sizeof(*esb));
		if (!esb || board_add(vm, "i6300esb", esb_reset_dev, esb_destroy_dev, esb))
			return -ENOMEM;
		ret = wdt_i6300esb_init(esb, &vm->vclock, &vm->sink);
		if (ret)
			return ret;
		wdt_i6300esb_pci_info(esb, &info);
		return attach_pci_device(vm, &info);
	}
	return -EINVAL;
}

/* Typed device functions as the list's void * ones. */
/* THR writes cost no exit of their own while the guest polls the UART (its console): KVM
 * batches them until the guest's next exit, typically its LSR read for the next byte. That
 * halves the exits of a guest's console output. vm.c starts each KVM VM with it on. A guest
 * that never reads LSR after its last write sees that byte leave at its next exit of any kind
 * (Linux's earlyprintk polls before each byte); its console (8250) reads LSR after each line. */
static void serial_tx_polled(void *ctx, int polled)
{
	struct vm *vm = ctx;
	int ret = kvm_vm_coalesce_pio(&vm->kvm, SERIAL_COM1_PORT + SERIAL_THR, 1, polled);

	if (ret && ret != -ENOTSUP)
		pr_debug("serial: coalesced THR writes %s: %s", polled ? "on" : "off",
			 strerror(-ret));
}

static void serial_reset_dev(void *d)
{
	serial_reset(d);
}

static void serial_destroy_dev(void *d)
{
	serial_destroy(d);
}

static void acpi_pm_reset_dev(void *d)
{
	acpi_pm_reset(d);
}

static void acpi_pm_destroy_dev(void *d)
{
	acpi_pm_destroy(d);
}

static void cf9_reset_dev(void *d)
{
	reset_cf9_reset(d);
}

static void fw_cfg_destroy_dev(void *d)
{
	fw_cfg_fini(d);
	free(d);
}

/* fw_cfg at 0x510, as on QEMU's PC machines: the guest's qemu_fw_cfg driver publishes its
 * VMCOREINFO note through it (etc/vmcoreinfo), which crash dumps need. */
static int attach_fw_cfg(struct vm *vm)
{
	struct fw_cfg *fw = calloc(1, sizeof(*fw));
	struct fw_device dev;
	int ret;

	if (!fw)
		return -ENOMEM;
	ret = fw_cfg_init(fw, &vm->mem);
	if (ret) {
		free(fw);
		return ret;
	}
	ret = board_add(vm, "fw_cfg", fw_cfg_reset, fw_cfg_destroy_dev, fw);
	if (ret)
		return ret;
	vm->fw_cfg = fw;
	fw_cfg_fw_device(&dev);
	return attach_fw_pio(vm, &dev, &fw_cfg_bus_ops, fw);
}

int board_attach(struct vm *vm)
{
	struct irq_line irq = { kvm_vm_irq_line, &vm->kvm, SERIAL_COM1_IRQ };
	struct fw_device dev;
	int ret;

	ret = bus_init(&vm->pio, "pio");
	if (!ret)
		ret = bus_init(&vm->mmio, "mmio");
	if (ret)
		return ret;
	vm->fw.ncpus = vm->cfg.ncpus;

	/* COM1 and the host console it is wired to */
	ret = console_init(&vm->console, vm->loop, vm->cfg.serial, vm->cfg.serial_path,
			   console_quit, vm);
	if (ret)
		return ret;
	{
		struct serial_config sc = {
			.out_fd = vm->console.out_fd,
			.irq = irq,
			.rx_space = console_rx_space,
			.tx_polled = serial_tx_polled,
			.tx_ctx = vm,
			.ctx = &vm->console,
		};

		ret = serial_create(&sc, &vm->serial);
		if (!ret)
			ret =
			    board_add(vm, "COM1", serial_reset_dev, serial_destroy_dev, vm->serial);
		if (ret)
			return ret;
	}
	console_attach(&vm->console, vm->serial);
	serial_fw_device(&dev, SERIAL_COM1_PORT, SERIAL_COM1_IRQ, "COM1", 1);
	ret = attach_fw_pio(vm, &dev, &serial_bus_ops, vm->serial);
	if (ret)
		return ret;

	/* Fixed ACPI hardware: PM1 blocks, timer, reset register. */
	{
		struct acpi_pm_config pc = {
			.sink = vm->sink,
			.sci = { kvm_vm_irq_line, &vm->kvm, ACPI_SCI_IRQ },
		};

		ret = acpi_pm_create(&pc, &vm->pm);
		if (!ret)
			ret = board_add(vm, "acpi-pm", acpi_pm_reset_dev, acpi_pm_destroy_dev,
					vm->pm);
		if (ret)
			return ret;
	}
	acpi_pm_fill_fw(&vm->fw, vm->cfg.acpi_s5);
	ret = register_pio(vm, ACPI_PM_BASE, ACPI_PM_LEN, &acpi_pm_bus_ops, vm->pm, "acpi-pm");
	if (!ret)
		ret = register_pio(vm, vm->fw.acpi.reset_port, 1, &acpi_reset_bus_ops, vm->pm,
				   "acpi-reset");

	if (!ret)
		ret = attach_pci(vm);
	if (!ret)
		ret = attach_pvpanics(vm);

	/* The other ways a PC guest resets itself. */
	vm->kbc.sink = vm->sink;
	reset_cf9_init(&vm->cf9, &vm->sink);
	if (!ret)
		ret = board_add(vm, "cf9", cf9_reset_dev, NULL, &vm->cf9);
	if (!ret)
		ret = register_pio(vm, I8042_DATA_PORT, 1, &i8042_data_ops, &vm->kbc, "i8042");
	if (!ret)
		ret =
		    register_pio(vm, I8042_COMMAND_PORT, 1, &i8042_command_ops, &vm->kbc, "i8042");
	/* 0xCF9 lies inside CONFIG_ADDRESS's ports: the PCI host passes byte accesses on. */
	if (!ret)
		ret = pci_host_share_port(vm->pci, RESET_CF9_PORT, &reset_cf9_bus_ops, &vm->cf9);
	if (!ret)
		ret = attach_watchdog(vm);
	if (!ret)
		ret = attach_fw_cfg(vm);
	return ret;
}

void board_reset(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ndevices; i++)
		if (vm->devices[i].reset)
			vm->devices[i].reset(vm->devices[i].dev);
}

void board_detach(struct vm *vm)
{
	while (vm->ndevices > 0) {
		struct board_device *d = &vm->devices[--vm->ndevices];

		if (d->destroy)
			d->destroy(d->dev);
	}
	vm->serial = NULL;
	vm->pm = NULL;
	vm->pci = NULL;
	vm->fw_cfg = NULL;
	console_destroy(&vm->console);
	bus_destroy(&vm->pio);
	bus_destroy(&vm->mmio);
}
