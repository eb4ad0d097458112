/* vm.c - building a VM in order (with unwinding), its main loop, and its lifecycle policy. */
#include "vm.h"
#include "acpi/acpi.h"
#include "boot/fdt.h"
#include "boot/setup_data.h"
#include "boot/x86_cpu.h"
#include "devices/acpi_pm.h"
#include "devices/pci.h"
#include "devices/pvpanic.h"
#include "devices/pvpanic_pci.h"
#include "devices/serial_16550.h"
#include "devices/wdt_i6300esb.h"
#include "devices/wdt_ib700.h"
#include "api/event_log.h"
#include "api/qmp.h"
#include "control.h"
#include "lifecycle.h"
#include "layout.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONSOLE_ESCAPE 0x01 /* Ctrl-A, then 'x' quits */

/* --- checking the inputs ------------------------------------------------------------------ */

static int open_input(const char *what, const char *path, uint64_t *size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		pr_err("cannot open %s '%s': %s", what, path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		pr_err("%s '%s' is not a regular file", what, path);
		close(fd);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

int vm_check(struct vm *vm, const struct vm_config *cfg)
{
	uint64_t ksize;
	char err[256];

	memset(vm, 0, sizeof(*vm));
	vm->cfg = *cfg;
	vm->state = RUNSTATE_PRELAUNCH;
	vm->actions = cfg->actions;
	vm->kernel_fd = vm->initrd_fd = vm->wake_fd = vm->signal_fd = vm->serial_out_fd = -1;
	vm->kvm.sys_fd = vm->kvm.vm_fd = -1;

	if (cfg->ncpus < 1 || cfg->ncpus > VM_MAX_CPUS) {
		pr_err("--cpus must be between 1 and %u", VM_MAX_CPUS);
		return -1;
	}
	vm->kernel_fd = open_input("kernel", cfg->kernel, &ksize);
	if (vm->kernel_fd < 0)
		return -1;
	if (bzimage_probe(vm->kernel_fd, ksize, &vm->kernel, err, sizeof(err))) {
		pr_err("kernel '%s': %s", cfg->kernel, err);
		return -1;
	}
	if (cfg->initrd) {
		vm->initrd_fd = open_input("initrd", cfg->initrd, &vm->initrd_size);
		if (vm->initrd_fd < 0)
			return -1;
		if (!vm->initrd_size) {
			pr_err("initrd '%s' is empty", cfg->initrd);
			return -1;
		}
	}
	/* Memory layout is a pure function of the size: plan against it before allocating. */
	{
		struct guest_mem shape = { .ram_size = cfg->mem_bytes, .nregions = 1 };

		shape.regions[0].size = layout_ram_below_4g(cfg->mem_bytes);
		if (boot_plan_make(&vm->kernel, &shape, vm->initrd_size, strlen(cfg->cmdline),
				   &vm->plan, err, sizeof(err))) {
			pr_err("%s (--memory %llu MiB)", err,
			       (unsigned long long)(cfg->mem_bytes >> 20));
			return -1;
		}
	}
	return 0;
}

/* --- requests from devices and vcpus ------------------------------------------------------- */

static void vm_wake(struct vm *vm)
{
	uint64_t one = 1;

	/* Only fails if the counter would overflow, and then the loop is already woken. */
	if (write(vm->wake_fd, &one, sizeof(one)) < 0)
		return;
}

static void vm_post(void *ctx, enum vm_request_kind kind, enum shutdown_cause cause)
{
	struct vm *vm = ctx;

	struct vcpu *v = vcpu_current();

	pthread_mutex_lock(&vm->req_lock);
	if (vm->nreqs < VM_REQUEST_QUEUE) {
		vm->reqs[vm->nreqs++] = (struct vm_request){ kind, cause, ++vm->req_posted };
		if (v)
			v->wait_req = vm->req_posted;
	} else {
		pr_guest_debug("request queue full, dropping request %d", kind);
	}
	pthread_mutex_unlock(&vm->req_lock);
	vm_wake(vm);
}

static void vm_serial_rx_space(void *ctx)
{
	struct vm *vm = ctx;

	pthread_mutex_lock(&vm->req_lock);
	vm->rx_space = 1;
	pthread_mutex_unlock(&vm->req_lock);
	vm_wake(vm);
}

static void console_watch_stdin(struct vm *vm);

static void vm_on_wake(void *opaque, uint32_t events)
{
	struct vm *vm = opaque;
	struct vm_request reqs[VM_REQUEST_QUEUE];
	unsigned n;
	uint64_t cnt;
	int rx_space;

	(void)events;
	if (read(vm->wake_fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		pr_debug("wake eventfd: %s", strerror(errno));
	pthread_mutex_lock(&vm->req_lock);
	n = vm->nreqs;
	memcpy(reqs, vm->reqs, n * sizeof(reqs[0]));
	vm->nreqs = 0;
	rx_space = vm->rx_space;
	vm->rx_space = 0;
	pthread_mutex_unlock(&vm->req_lock);

	for (unsigned i = 0; i < n; i++) {
		lifecycle_handle(vm, reqs[i].kind, reqs[i].cause);
		/* Let a vcpu waiting for this request go on (vcpu.c, vcpu_wait_request). */
		pthread_mutex_lock(&vm->vcpu_lock);
		vm->req_handled = reqs[i].seq;
		pthread_cond_broadcast(&vm->vcpu_cond);
		pthread_mutex_unlock(&vm->vcpu_lock);
	}
	if (rx_space)
		console_watch_stdin(vm);
}

static void vm_on_signal(void *opaque, uint32_t events)
{
	struct vm *vm = opaque;
	struct signalfd_siginfo si;

	(void)events;
	if (read(vm->signal_fd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return;
	if (vm->done)
		return;
	pr_err("terminating on signal %u (%s)", si.ssi_signo, strsignal((int)si.ssi_signo));
	lifecycle_handle(vm, VM_REQ_SHUTDOWN, CAUSE_HOST_SIGNAL);
}

/* --- console input ------------------------------------------------------------------------ */

static void console_on_stdin(void *opaque, uint32_t events);

static void console_watch_stdin(struct vm *vm)
{
	if (vm->stdin_watched || vm->cfg.serial != SERIAL_MODE_STDIO || !vm->serial)
		return;
	if (loop_add(vm->loop, STDIN_FILENO, EPOLLIN, console_on_stdin, vm) == 0)
		vm->stdin_watched = 1;
}

static void console_unwatch_stdin(struct vm *vm)
{
	if (!vm->stdin_watched)
		return;
	loop_remove(vm->loop, STDIN_FILENO);
	vm->stdin_watched = 0;
}

static void console_on_stdin(void *opaque, uint32_t events)
{
	struct vm *vm = opaque;
	uint8_t buf[64], out[64];
	size_t room = serial_rx_room(vm->serial), n_out = 0;
	ssize_t n;

	(void)events;
	if (!room) {
		/* The guest is not reading; wait for the FIFO to drain (rx_space callback). */
		console_unwatch_stdin(vm);
		return;
	}
	n = read(STDIN_FILENO, buf, room < sizeof(buf) ? room : sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* End of input: the guest keeps running without a keyboard. */
		console_unwatch_stdin(vm);
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		uint8_t c = buf[i];

		if (vm->stdin_is_tty && vm->escape_pending) {
			vm->escape_pending = 0;
			if (c == 'x') {
				pr_err("terminating on console escape (Ctrl-A x)");
				lifecycle_handle(vm, VM_REQ_SHUTDOWN, CAUSE_HOST_UI);
				return;
			}
			if (c != CONSOLE_ESCAPE)
				out[n_out++] = CONSOLE_ESCAPE;
		} else if (vm->stdin_is_tty && c == CONSOLE_ESCAPE) {
			vm->escape_pending = 1;
			continue;
		}
		out[n_out++] = c;
	}
	if (n_out)
		serial_receive(vm->serial, out, n_out);
}

static void console_restore(struct vm *vm)
{
	if (vm->stdin_is_tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &vm->saved_termios);
		vm->stdin_is_tty = 0;
	}
}

/* Raw mode so every key (Ctrl-C included) goes to the guest; Ctrl-A x leaves. */
static void console_raw(struct vm *vm)
{
	struct termios t;

	if (vm->cfg.serial != SERIAL_MODE_STDIO || !isatty(STDIN_FILENO))
		return;
	if (tcgetattr(STDIN_FILENO, &vm->saved_termios) < 0)
		return;
	t = vm->saved_termios;
	cfmakeraw(&t);
	t.c_oflag |= OPOST | ONLCR; /* keep our own stderr lines readable */
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
		vm->stdin_is_tty = 1;
}

/* --- init steps --------------------------------------------------------------------------- */

static int step_memory(struct vm *vm)
{
	int ret = guest_mem_init(&vm->mem, vm->cfg.mem_bytes);

	if (ret)
		pr_err("cannot allocate %llu MiB of guest memory: %s",
		       (unsigned long long)(vm->cfg.mem_bytes >> 20), strerror(-ret));
	return ret;
}

static void unstep_memory(struct vm *vm)
{
	guest_mem_destroy(&vm->mem);
}

static int step_kvm(struct vm *vm)
{
	int ret = kvm_vm_create(&vm->kvm);

	if (ret)
		return ret;
	ret = ioctl(vm->kvm.sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (ret > 0 && vm->cfg.ncpus > (unsigned)ret) {
		pr_err("--cpus %u: this host's KVM allows at most %d", vm->cfg.ncpus, ret);
		kvm_vm_destroy(&vm->kvm);
		return -EINVAL;
	}
	ret = kvm_vm_set_memory(&vm->kvm, &vm->mem);
	if (ret)
		kvm_vm_destroy(&vm->kvm);
	return ret;
}

static void unstep_kvm(struct vm *vm)
{
	kvm_vm_destroy(&vm->kvm);
}

static int step_loop(struct vm *vm)
{
	sigset_t set;
	int ret;

	ret = loop_create(&vm->loop);
	if (ret)
		return ret;
	timer_clock_init(&vm->vclock, vm->loop, 0); /* starts with the guest (lifecycle) */
	pthread_mutex_init(&vm->req_lock, NULL);
	vm->sink = (struct request_sink){ vm_post, vm };
	vm->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	vm->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (vm->wake_fd < 0 || vm->signal_fd < 0) {
		ret = -errno;
		pr_err("eventfd/signalfd: %s", strerror(errno));
		return ret;
	}
	ret = loop_add(vm->loop, vm->wake_fd, EPOLLIN, vm_on_wake, vm);
	if (!ret)
		ret = loop_add(vm->loop, vm->signal_fd, EPOLLIN, vm_on_signal, vm);
	return ret;
}

static void unstep_loop(struct vm *vm)
{
	timer_clock_destroy(&vm->vclock);
	loop_destroy(vm->loop);
	vm->loop = NULL;
	if (vm->wake_fd >= 0)
		close(vm->wake_fd);
	if (vm->signal_fd >= 0)
		close(vm->signal_fd);
	vm->wake_fd = vm->signal_fd = -1;
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

		vm->pvpanic[i] = calloc(1, sizeof(*vm->pvpanic[i]));
		if (!vm->pvpanic[i])
			return -ENOMEM;
		pvpanic_init(vm->pvpanic[i], o->events, &vm->sink);
		if (o->bus == PVPANIC_BUS_PCI) {
			struct pci_device_info info;

			/* Linux finds it by enumeration: no ACPI or FDT node of its own. */
			pvpanic_pci_info(&info, vm->pvpanic[i]);
			ret = attach_pci_device(vm, &info);
			continue;
		}
		pvpanic_fw_device(&dev, o->bus == PVPANIC_BUS_ISA ? FW_RES_IO : FW_RES_MMIO,
				  o->addr, i);
		ret = attach_fw(vm, &dev, &pvpanic_bus_ops, vm->pvpanic[i]);
	}
	return ret;
}

/* The PCI host: config ports, ECAM, windows from layout.h; INTx on the in-kernel IOAPIC. */
static int attach_pci(struct vm *vm)
{
	int ret = pci_host_create(&vm->pio, &vm->mmio, PCI_ECAM_GPA, PCI_IO_WINDOW_PORT,
				  PCI_IO_WINDOW_LEN, (uint32_t)PCI_MEM_WINDOW_GPA,
				  (uint32_t)PCI_MEM_WINDOW_LEN, &vm->pci);

	if (ret) {
		pr_err("cannot create the PCI host: %s", strerror(-ret));
		return ret;
	}
	pci_host_set_irq(vm->pci, kvm_vm_irq_line, &vm->kvm);
	return pci_host_fill_fw(vm->pci, &vm->fw);
}

/* --watchdog: ib700 on its ISA ports, i6300esb as a PCI function; timers on the VM clock. */
static int attach_watchdog(struct vm *vm)
{
	struct pci_device_info info;
	int ret;

	switch (vm->cfg.watchdog) {
	case WATCHDOG_MODEL_NONE:
		return 0;
	case WATCHDOG_MODEL_IB700:
		vm->ib700 = calloc(1, sizeof(*vm->ib700));
		if (!vm->ib700)
			return -ENOMEM;
		ret = wdt_ib700_init(vm->ib700, &vm->vclock, &vm->sink);
		if (!ret)
			ret = register_pio(vm, WDT_IB700_BASE, WDT_IB700_LEN, &wdt_ib700_bus_ops,
					   vm->ib700, "ib700");
		return ret;
	case WATCHDOG_MODEL_I6300ESB:
		vm->esb = calloc(1, sizeof(*vm->esb));
		if (!vm->esb)
			return -ENOMEM;
		ret = wdt_i6300esb_init(vm->esb, &vm->vclock, &vm->sink);
		if (ret)
			return ret;
		wdt_i6300esb_pci_info(vm->esb, &info);
		return attach_pci_device(vm, &info);
	}
	return -EINVAL;
}

static void detach_watchdog(struct vm *vm)
{
	if (vm->ib700)
		wdt_ib700_destroy(vm->ib700);
	if (vm->esb)
		wdt_i6300esb_destroy(vm->esb);
	free(vm->ib700);
	free(vm->esb);
	vm->ib700 = NULL;
	vm->esb = NULL;
}

static int step_devices(struct vm *vm)
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

	/* COM1 */
	if (vm->cfg.serial == SERIAL_MODE_STDIO) {
		vm->serial_out_fd = dup(STDOUT_FILENO);
	} else if (vm->cfg.serial == SERIAL_MODE_FILE) {
		vm->serial_out_fd = open(vm->cfg.serial_path,
					 O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (vm->serial_out_fd < 0) {
			pr_err("cannot open serial output '%s': %s", vm->cfg.serial_path,
			       strerror(errno));
			return -errno;
		}
	}
	{
		struct serial_config sc = {
			.out_fd = vm->serial_out_fd,
			.irq = irq,
			.rx_space = vm_serial_rx_space,
			.ctx = vm,
		};

		ret = serial_create(&sc, &vm->serial);
		if (ret)
			return ret;
	}
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
		ret = register_pio(vm, I8042_DATA_PORT, 1, &i8042_data_ops, &vm->kbc, "i8042");
	if (!ret)
		ret = register_pio(vm, I8042_COMMAND_PORT, 1, &i8042_command_ops, &vm->kbc,
				   "i8042");
	/* 0xCF9 lies inside CONFIG_ADDRESS's ports: the PCI host passes byte accesses on. */
	if (!ret)
		ret = pci_host_share_port(vm->pci, RESET_CF9_PORT, &reset_cf9_bus_ops, &vm->cf9);
	if (!ret)
		ret = attach_watchdog(vm);
	return ret;
}

static void unstep_devices(struct vm *vm)
{
	pci_host_destroy(vm->pci); /* unmaps the BARs of devices freed below */
	vm->pci = NULL;
	if (vm->serial)
		serial_destroy(vm->serial);
	if (vm->pm)
		acpi_pm_destroy(vm->pm);
	for (unsigned i = 0; i < PVPANIC_MAX_INSTANCES; i++) {
		free(vm->pvpanic[i]);
		vm->pvpanic[i] = NULL;
	}
	detach_watchdog(vm);
	vm->serial = NULL;
	vm->pm = NULL;
	if (vm->serial_out_fd >= 0)
		close(vm->serial_out_fd);
	vm->serial_out_fd = -1;
	bus_destroy(&vm->pio);
	bus_destroy(&vm->mmio);
}

/*
 * The device tree, from the same firmware description as the ACPI tables, as the boot
 * protocol's SETUP_DTB entry at BOOT_SETUP_DATA_GPA. Sets *@head to the list head for the
 * zero page.
 */
static int write_dtb(struct vm *vm, uint64_t *head)
{
	static uint8_t dtb[BOOT_SETUP_DATA_MAX - SETUP_DATA_HDR_LEN];
	struct fdt_machine m = {
		.fw = &vm->fw,
		.mem = &vm->mem,
		.cmdline = vm->cfg.cmdline,
		.has_reset = 1, /* ACPI reset register, 0xCF9, i8042: always honoured */
		.has_shutdown = vm->cfg.acpi_s5,
	};
	size_t len;
	int ret;

	for (unsigned i = 0; i < vm->cfg.npvpanic; i++)
		m.has_shutdown |= !!(vm->cfg.pvpanic[i].events & PVPANIC_SHUTDOWN);
	ret = fdt_build(&m, dtb, sizeof(dtb), &len);
	if (!ret)
		ret = boot_setup_data_write(&vm->mem, &vm->kernel, BOOT_SETUP_DATA_GPA, SETUP_DTB,
					    dtb, (uint32_t)len, 0);
	if (ret) {
		pr_err("cannot build the device tree: %s", strerror(-ret));
		return ret;
	}
	*head = BOOT_SETUP_DATA_GPA;
	return 0;
}

int vm_dump_dtb(struct vm *vm, const char *path)
{
	uint8_t hdr[SETUP_DATA_HDR_LEN];
	uint32_t len;
	const void *dtb;
	FILE *f;

	/* What the guest gets: the SETUP_DTB entry's payload, read back from guest RAM. */
	if (guest_mem_read(&vm->mem, hdr, BOOT_SETUP_DATA_GPA, sizeof(hdr)))
		return -EFAULT;
	len = hdr[12] | (uint32_t)hdr[13] << 8 | (uint32_t)hdr[14] << 16 | (uint32_t)hdr[15] << 24;
	dtb = guest_mem_ptr(&vm->mem, BOOT_SETUP_DATA_GPA + SETUP_DATA_HDR_LEN, len);
	if (!dtb)
		return -EFAULT;
	f = fopen(path, "wb");
	if (!f || fwrite(dtb, 1, len, f) != len || fclose(f)) {
		int err = errno;

		pr_err("cannot write the device tree to '%s': %s", path, strerror(err));
		return -err;
	}
	return 0;
}

/* ACPI tables, device tree and boot image, written into guest RAM. Re-run on every reset. */
static int step_firmware_and_boot(struct vm *vm)
{
	uint8_t *acpi = guest_mem_ptr(&vm->mem, ACPI_TABLES_GPA, ACPI_TABLES_SIZE);
	struct acpi_layout layout;
	uint64_t setup_data = 0;
	char err[256];
	int ret;

	if (!acpi)
		return -ENOSPC;
	ret = acpi_build(&vm->fw, acpi, ACPI_TABLES_SIZE, ACPI_TABLES_GPA, &layout);
	if (ret) {
		pr_err("cannot build ACPI tables: %s", strerror(-ret));
		return ret;
	}
	if (x86_boot_tables_write(&vm->mem)) {
		pr_err("cannot write boot page tables");
		return -ENOSPC;
	}
	ret = write_dtb(vm, &setup_data);
	if (ret)
		return ret;
	ret = boot_load(&vm->mem, &vm->kernel, &vm->plan, vm->kernel_fd, vm->initrd_fd,
			vm->cfg.cmdline, layout.rsdp, setup_data, err, sizeof(err));
	if (ret)
		pr_err("%s", err);
	return ret;
}

/* The QMP control socket(s) and the event journal. */
static int step_control(struct vm *vm)
{
	int ret = 0;

	if (!vm->cfg.nqmp && !vm->cfg.event_log)
		return 0;
	ret = control_create(vm);
	return ret;
}

static void unstep_control(struct vm *vm)
{
	control_destroy(vm);
}

static int step_vcpus(struct vm *vm)
{
	pthread_mutex_init(&vm->vcpu_lock, NULL);
	pthread_cond_init(&vm->vcpu_cond, NULL);
	return vcpus_create(vm);
}

static void unstep_vcpus(struct vm *vm)
{
	vcpus_stop(vm);
	vcpus_destroy(vm);
}

static const struct vm_step {
	const char *name;
	int (*init)(struct vm *vm);
	void (*fini)(struct vm *vm);
} vm_steps[] = {
	{ "memory", step_memory, unstep_memory },
	{ "kvm", step_kvm, unstep_kvm },
	{ "main loop", step_loop, unstep_loop },
	{ "devices", step_devices, unstep_devices },
	{ "firmware and boot image", step_firmware_and_boot, NULL },
	{ "vcpus", step_vcpus, unstep_vcpus },
	{ "control socket", step_control, unstep_control },
};

#define VM_NSTEPS (sizeof(vm_steps) / sizeof(vm_steps[0]))

int vm_reset(struct vm *vm)
{
	vcpus_stop(vm);
	vcpus_destroy(vm);
	/* Devices first: lowering their interrupt lines needs the old VM's irqchip. */
	serial_reset(vm->serial);
	acpi_pm_reset(vm->pm);
	reset_cf9_reset(&vm->cf9);
	pci_host_reset(vm->pci);
	if (vm->ib700)
		wdt_ib700_reset(vm->ib700);
	if (vm->esb)
		wdt_i6300esb_reset(vm->esb);
	kvm_vm_destroy(&vm->kvm);
	guest_mem_discard(&vm->mem);
	if (step_kvm(vm) || step_firmware_and_boot(vm) || vcpus_create(vm))
		return -1;
	return vcpus_start(vm, 1) ? -1 : 0;
}

int vm_create(struct vm *vm)
{
	for (vm->steps_done = 0; vm->steps_done < VM_NSTEPS; vm->steps_done++) {
		const struct vm_step *s = &vm_steps[vm->steps_done];
		int64_t t0 = timer_mono_ns();
		int ret = s->init(vm);

		pr_debug("setup step '%s': %.2f ms", s->name, (double)(timer_mono_ns() - t0) / 1e6);
		if (ret) {
			pr_debug("setup step '%s' failed: %s", s->name, strerror(-ret));
			vm_destroy(vm);
			return -1;
		}
	}
	return 0;
}

void vm_destroy(struct vm *vm)
{
	console_restore(vm);
	while (vm->steps_done > 0) {
		const struct vm_step *s = &vm_steps[--vm->steps_done];

		if (s->fini)
			s->fini(vm);
	}
	if (vm->kernel_fd >= 0)
		close(vm->kernel_fd);
	if (vm->initrd_fd >= 0)
		close(vm->initrd_fd);
	vm->kernel_fd = vm->initrd_fd = -1;
}

int vm_run(struct vm *vm)
{
	int ret;

	console_raw(vm);
	console_watch_stdin(vm);
	ret = vcpus_start(vm, 1);
	if (ret || lifecycle_boot(vm)) {
		vcpus_stop(vm);
		return EXIT_VM_INTERNAL;
	}
	while (!vm->done) {
		ret = loop_run_once(vm->loop, -1);
		if (ret) {
			pr_err("main loop: %s", strerror(-ret));
			vm->done = 1;
			vm->exit_status = EXIT_VM_INTERNAL;
		}
	}
	vcpus_stop(vm);
	console_restore(vm);
	return vm->exit_status;
}
