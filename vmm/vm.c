/* vm.c - the machine: built in order with unwinding, its main loop, reset, the lifecycle's ops. */
#include "vm.h"
#include "acpi/acpi.h"
#include "boot/fdt.h"
#include "boot/setup_data.h"
#include "boot/x86_cpu.h"
#include "devices/acpi_pm.h"
#include "devices/pvpanic.h"
#include "core/hostfile.h"
#include "devices/serial_16550.h"
#include "core/layout.h"
#include "core/log.h"
#include "core/steps.h"
#include "seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- checking the inputs ------------------------------------------------------------------ */

static int open_input(const char *what, const char *path, uint64_t *size)
{
	struct stat st;
	/* O_NONBLOCK: opening a FIFO would otherwise wait for a writer, for ever. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

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

/* --- what the lifecycle asks of the machine ------------------------------------------------ */

static void op_pause(void *ctx)
{
	struct vm *vm = ctx;

	vcpus_pause(&vm->vcpus);
}

static void op_resume(void *ctx)
{
	struct vm *vm = ctx;

	vcpus_resume(&vm->vcpus);
}

static int op_reset(void *ctx)
{
	return vm_reset(ctx);
}

static void op_nmi(void *ctx)
{
	struct vm *vm = ctx;

	vcpus_nmi(&vm->vcpus);
}

static void op_power_button(void *ctx)
{
	struct vm *vm = ctx;

	acpi_pm_press_power_button(vm->pm);
}

static void op_finish(void *ctx, int status)
{
	struct vm *vm = ctx;

	vm->done = 1;
	vm->exit_status = status;
}

static int op_panic_dump(void *ctx, struct vm_event *ev)
{
	struct vm *vm = ctx;

	return dump_panic(&vm->dump, vm->dump.panic_dir, ev);
}

static int op_panic_report(void *ctx, enum panic_action action, const char *vmcore,
			   struct vm_event *ev)
{
	return panic_report_build(ctx, action, vmcore, ev);
}

static const struct machine_ops vm_machine_ops = {
	op_pause,  op_resume, op_reset,	     op_nmi,	      op_power_button,
	op_finish, NULL,      op_panic_dump, op_panic_report,
};

int vm_check(struct vm *vm, const struct vm_config *cfg)
{
	struct machine_ops ops = vm_machine_ops;
	uint64_t ksize;
	char err[256];

	memset(vm, 0, sizeof(*vm));
	pthread_mutex_init(&vm->lock, NULL);
	vm->cfg = *cfg;
	ops.ctx = vm;
	lifecycle_init(&vm->lc, &cfg->actions, cfg->start_paused, &vm->vclock, &ops,
		       &(struct event_sink){ control_emit, &vm->control });
	vm->lc.panic_dump = cfg->panic_dump != NULL;
	vm->panic_cpu = -1;
	vm->report.r.cpu = -1;
	vm->kernel_fd = vm->initrd_fd = vm->reqs.fd = vm->signal_fd = -1;
	vm->console.in_fd = vm->console.out_fd = vm->console.wake_fd = -1;
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

/*
 * The sink devices post to. A request that parks no vcpu (a crash-loaded notice, the
 * GUEST_PANICKED of a panic with action run; its core and report follow from the main loop,
 * this vcpu waiting for them as it panicked) is decided right here on the posting vcpu, under the
 * lifecycle lock, as QEMU's vcpu does under its BQL: no hop to the main thread between the guest's
 * write and the event. The decision is still lifecycle.c's. Everything else, or when the main
 * thread holds the lock (it may be waiting for this vcpu to park, so never block on it), is queued,
 * and the vcpu waits until it is handled.
 */
static void vm_post(void *ctx, enum vm_request_kind kind, enum shutdown_cause cause)
{
	struct vm *vm = ctx;

	/* Which vcpu reported a panic (its pvpanic write is on this thread): the report's. */
	if (kind == VM_REQ_PANIC)
		__atomic_store_n(&vm->panic_cpu, vcpu_self_id(), __ATOMIC_RELEASE);
	if (!pthread_mutex_trylock(&vm->lock)) {
		enum lifecycle_on_vcpu left = lifecycle_handle_on_vcpu(&vm->lc, kind, cause);

		pthread_mutex_unlock(&vm->lock);
		if (left == LC_VCPU_DONE)
			return;
		if (left == LC_VCPU_AFTERMATH) /* this vcpu waits, parked as it panicked */
			kind = VM_REQ_PANIC_AFTERMATH;
	}
	vcpu_wait_for_request(reqqueue_post(&vm->reqs, kind, cause));
}

static void vm_handle_request(void *ctx, enum vm_request_kind kind, enum shutdown_cause cause)
{
	struct vm *vm = ctx;

	lifecycle_handle(&vm->lc, kind, cause);
}

/* Let a vcpu waiting for this request go on. */
static void vm_request_handled(void *ctx, uint64_t seq)
{
	struct vm *vm = ctx;

	vcpus_request_handled(&vm->vcpus, seq);
}

static void vm_on_requests(void *opaque, uint32_t events)
{
	struct vm *vm = opaque;
	const struct reqqueue_handler h = { vm_handle_request, vm_request_handled, vm };

	(void)events;
	reqqueue_drain(&vm->reqs, &h);
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
	lifecycle_handle(&vm->lc, VM_REQ_SHUTDOWN, CAUSE_HOST_SIGNAL);
}

/* --- init steps --------------------------------------------------------------------------- */

static int step_memory(void *ctx)
{
	struct vm *vm = ctx;
	int ret = guest_mem_init(&vm->mem, vm->cfg.mem_bytes);

	if (ret)
		pr_err("cannot allocate %llu MiB of guest memory: %s",
		       (unsigned long long)(vm->cfg.mem_bytes >> 20), strerror(-ret));
	return ret;
}

static void unstep_memory(void *ctx)
{
	struct vm *vm = ctx;

	guest_mem_destroy(&vm->mem);
}

static int step_kvm(void *ctx)
{
	struct vm *vm = ctx;
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
	if (ret) {
		kvm_vm_destroy(&vm->kvm);
		return ret;
	}
	/* COM1 starts (and comes out of a reset) with THRI off: its THR writes are batched
	 * (board.c, serial_tx_polled). Without KVM's support every write simply exits. */
	if (kvm_vm_coalesce_pio(&vm->kvm, SERIAL_COM1_PORT + SERIAL_THR, 1, 1) == 0)
		pr_debug("COM1 THR writes coalesced while polled");
	return 0;
}

static void unstep_kvm(void *ctx)
{
	struct vm *vm = ctx;

	kvm_vm_destroy(&vm->kvm);
}

static int step_loop(void *ctx)
{
	struct vm *vm = ctx;
	sigset_t set;
	int ret;

	ret = loop_create(&vm->loop);
	if (ret)
		return ret;
	loop_set_lock(vm->loop, &vm->lock);
	timer_clock_init(&vm->vclock, vm->loop, 0); /* starts with the guest (lifecycle) */
	vm->sink = (struct request_sink){ vm_post, vm };
	ret = reqqueue_init(&vm->reqs);
	if (ret) {
		pr_err("request eventfd: %s", strerror(-ret));
		return ret;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	vm->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (vm->signal_fd < 0) {
		ret = -errno;
		pr_err("signalfd: %s", strerror(errno));
		return ret;
	}
	ret = loop_add(vm->loop, vm->reqs.fd, EPOLLIN, vm_on_requests, vm);
	if (!ret)
		ret = loop_add(vm->loop, vm->signal_fd, EPOLLIN, vm_on_signal, vm);
	return ret;
}

static void unstep_loop(void *ctx)
{
	struct vm *vm = ctx;

	timer_clock_destroy(&vm->vclock);
	loop_destroy(vm->loop);
	vm->loop = NULL;
	reqqueue_destroy(&vm->reqs);
	if (vm->signal_fd >= 0)
		close(vm->signal_fd);
	vm->signal_fd = -1;
}

static int step_devices(void *ctx)
{
	return board_attach(ctx);
}

static void unstep_devices(void *ctx)
{
	board_detach(ctx);
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
	const uint8_t *dtb;
	size_t off = 0;
	int fd, ret = 0;

	/* What the guest gets: the SETUP_DTB entry's payload, read back from guest RAM. */
	if (guest_mem_read(&vm->mem, hdr, BOOT_SETUP_DATA_GPA, sizeof(hdr)))
		return -EFAULT;
	len = hdr[12] | (uint32_t)hdr[13] << 8 | (uint32_t)hdr[14] << 16 | (uint32_t)hdr[15] << 24;
	dtb = guest_mem_ptr(&vm->mem, BOOT_SETUP_DATA_GPA + SETUP_DATA_HDR_LEN, len);
	if (!dtb)
		return -EFAULT;
	fd = hostfile_create(path, O_TRUNC);
	if (fd < 0) {
		pr_err("cannot write the device tree to '%s': %s", path, hostfile_strerror(fd));
		return fd;
	}
	while (off < len && !ret) {
		ssize_t n = write(fd, dtb + off, len - off);

		if (n < 0 && errno != EINTR)
			ret = -errno;
		else if (n == 0)
			ret = -EIO;
		else if (n > 0)
			off += (size_t)n;
	}
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (ret)
		pr_err("cannot write the device tree to '%s': %s", path, strerror(-ret));
	return ret;
}

/* ACPI tables, device tree and boot image, written into guest RAM. Re-run on every reset. */
static int step_firmware_and_boot(void *ctx)
{
	struct vm *vm = ctx;
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
static int step_dump(void *ctx)
{
	struct vm *vm = ctx;

	return dump_init(&vm->dump, vm);
}

/* Before guest RAM is unmapped: a dump thread still reading it is waited for. */
static void unstep_dump(void *ctx)
{
	struct vm *vm = ctx;

	dump_fini(&vm->dump);
	panic_report_fini(&vm->report);
}

static int step_control(void *ctx)
{
	struct vm *vm = ctx;
	struct control_machine m;

	vm_query_ops(vm, &m);
	return control_create(&vm->control, vm->loop, &vm->lc, &vm->dump, &m, vm->cfg.qmp,
			      vm->cfg.nqmp, vm->cfg.qmp_max_clients, vm->cfg.event_log,
			      vm->cfg.event_log_max);
}

static void unstep_control(void *ctx)
{
	struct vm *vm = ctx;

	control_destroy(&vm->control);
}

static int step_vcpus(void *ctx)
{
	struct vm *vm = ctx;
	const struct vcpu_env env = {
		.kvm = &vm->kvm,
		.pio = &vm->pio,
		.mmio = &vm->mmio,
		.sink = &vm->sink,
		.entry_gpa = vm->plan.entry_gpa,
		.zero_page_gpa = vm->plan.zero_page_gpa,
	};
	int ret = vcpus_init(&vm->vcpus, &env, vm->cfg.ncpus);

	return ret ? ret : vcpus_create(&vm->vcpus);
}

static void unstep_vcpus(void *ctx)
{
	struct vm *vm = ctx;

	vcpus_stop(&vm->vcpus);
	vcpus_destroy(&vm->vcpus);
}

static const struct step vm_steps[] = {
	{ "memory", step_memory, unstep_memory },
	{ "kvm", step_kvm, unstep_kvm },
	{ "main loop", step_loop, unstep_loop },
	{ "devices", step_devices, unstep_devices },
	{ "firmware and boot image", step_firmware_and_boot, NULL },
	{ "vcpus", step_vcpus, unstep_vcpus },
	{ "dump", step_dump, unstep_dump },
	{ "control socket", step_control, unstep_control },
};

#define VM_NSTEPS (sizeof(vm_steps) / sizeof(vm_steps[0]))

int vm_reset(struct vm *vm)
{
	vcpus_stop(&vm->vcpus);
	vcpus_destroy(&vm->vcpus);
	/* From here on the old guest is gone: what it asked and was not done is void. */
	reqqueue_new_epoch(&vm->reqs);
	/* Devices first: lowering their interrupt lines needs the old VM's irqchip. */
	board_reset(vm);
	close(vm->kvm.vm_fd);
	vm->kvm.vm_fd = -1;
	guest_mem_discard(&vm->mem);
	/* The same /dev/kvm fd: after --chroot the device node may not be reachable. */
	if (kvm_vm_recreate(&vm->kvm) || kvm_vm_set_memory(&vm->kvm, &vm->mem) ||
	    step_firmware_and_boot(vm) || vcpus_create(&vm->vcpus))
		return -1;
	return vcpus_start(&vm->vcpus, 1) ? -1 : 0;
}

int vm_create(struct vm *vm)
{
	if (steps_run(vm_steps, VM_NSTEPS, vm, &vm->steps_done)) {
		vm_destroy(vm);
		return -1;
	}
	return 0;
}

void vm_destroy(struct vm *vm)
{
	console_restore(&vm->console);
	steps_unwind(vm_steps, &vm->steps_done, vm);
	if (vm->kernel_fd >= 0)
		close(vm->kernel_fd);
	if (vm->initrd_fd >= 0)
		close(vm->initrd_fd);
	vm->kernel_fd = vm->initrd_fd = -1;
}

int vm_run(struct vm *vm)
{
	int ret;

	pthread_mutex_lock(&vm->lock); /* the main thread's, except while its loop waits */
	console_start(&vm->console);
	/* Setup is over: from here on the main thread may do only what its allowlist says. The
	 * vcpu threads start under it and narrow it to their own. */
	if (seccomp_enter(SECCOMP_THREAD_MAIN, "main")) {
		console_restore(&vm->console);
		return EXIT_VM_INTERNAL;
	}
	ret = vcpus_start(&vm->vcpus, 1);
	if (ret || lifecycle_boot(&vm->lc)) {
		vcpus_stop(&vm->vcpus);
		pthread_mutex_unlock(&vm->lock);
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
	vcpus_stop(&vm->vcpus);
	pthread_mutex_unlock(&vm->lock);
	console_restore(&vm->console);
	return vm->exit_status;
}
