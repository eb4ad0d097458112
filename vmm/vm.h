/* vm.h - one virtual machine: its configuration and its parts, assembled by vm.c and board.c. */
#ifndef MINIVMM_VM_H
#define MINIVMM_VM_H

#include <pthread.h>
#include <stdint.h>

#include "core/action.h"
#include "core/bus.h"
#include "core/fwdesc.h"
#include "core/guest_mem.h"
#include "core/loop.h"
#include "core/reqqueue.h"
#include "core/request.h"
#include "core/runstate.h"
#include "core/timer.h"
#include "boot/bzimage.h"
#include "devices/i8042.h"
#include "devices/reset_cf9.h"
#include "board.h"
#include "console.h"
#include "control.h"
#include "dump.h"
#include "exit.h"
#include "kvm.h"
#include "lifecycle.h"
#include "panic_report.h"
#include "pvpanic_opts.h"
#include "vcpu.h"

#define VM_MAX_CPUS 254 /* xAPIC ids 0..253 in the MADT; 0xFF is broadcast */

/* --watchdog: QEMU's -watchdog / -device models. */
enum watchdog_model { WATCHDOG_MODEL_NONE, WATCHDOG_MODEL_IB700, WATCHDOG_MODEL_I6300ESB };

struct vm_config {
	const char *kernel;
	const char *initrd; /* NULL: none */
	const char *cmdline;
	uint64_t mem_bytes;
	unsigned ncpus;
	enum serial_mode serial;
	const char *serial_path; /* SERIAL_MODE_FILE */
	int acpi_s5;		 /* describe \_S5 so the guest powers off through ACPI */
	int start_paused;	 /* stay in prelaunch until QMP cont (-S) */
	struct actions actions;
	struct pvpanic_opts pvpanic[PVPANIC_MAX_INSTANCES]; /* --pvpanic, in command-line order */
	unsigned npvpanic;
	const char *dump_dtb; /* --dump-dtb PATH: write the DTB there and exit */
	enum watchdog_model watchdog;
	const char *qmp[4]; /* "unix:PATH" or "fd:N" */
	unsigned nqmp;
	unsigned qmp_max_clients; /* --qmp-max-clients; 0: the default (16) */
	const char *event_log;	  /* journal path, or NULL */
	uint64_t event_log_max;	  /* --event-log-max in bytes; 0: the default (16 MiB) */
	const char *panic_dump;	  /* --panic-dump DIR, or NULL */
	const char *name;	  /* --name, or NULL */
	char uuid[37];		  /* --uuid, lower case; "" when not given */
	int seccomp;		  /* --seccomp on (the default) or off */
	const char *chroot_dir;	  /* --chroot DIR, or NULL */
	int drop_user;		  /* --user given: become uid:gid */
	uid_t uid;
	gid_t gid;
};

struct vm;
struct pci_host;
struct fw_cfg;

struct vm {
	struct vm_config cfg;

	/* The lifecycle lock (QEMU's BQL, in small): the main thread holds it except while its
	 * loop waits; a vcpu takes it to decide a request itself (vm.c: vm_post). */
	pthread_mutex_t lock;

	/* Inputs, opened and checked before anything else. */
	int kernel_fd;
	int initrd_fd;
	uint64_t initrd_size;
	struct bzimage_info kernel;
	struct boot_plan plan;

	struct guest_mem mem;
	struct kvm_vm kvm;
	struct bus pio;
	struct bus mmio;
	struct fw_desc fw;
	struct vcpus vcpus;

	/* Devices. */
	struct serial *serial;
	struct acpi_pm *pm;
	struct i8042 kbc;
	struct reset_cf9 cf9;
	struct pci_host *pci;  /* bus 0: host bridge, --pvpanic pci instances */
	struct fw_cfg *fw_cfg; /* etc/vmcoreinfo, where the guest says its VMCOREINFO is */
	struct board_device devices[BOARD_MAX_DEVICES]; /* reset and teardown list (board.c) */
	unsigned ndevices;
	struct console console; /* COM1's host side */

	struct lifecycle lc;	/* run state, actions, policy */
	struct control control; /* QMP and the journal */
	struct dump dump;	/* dump-guest-memory, --panic-dump */
	int panic_cpu;		/* the vcpu that last wrote a panic to pvpanic, -1 (atomic) */
	struct panic_report_state report; /* the last panic report */

	/* Main loop and the requests devices post to it. */
	struct loop *loop;
	struct timer_clock vclock; /* guest time: runs only while the run state is running */
	int signal_fd;		   /* SIGINT, SIGTERM, SIGHUP */
	struct request_sink sink;  /* posts to reqs */
	struct reqqueue reqs;

	int done;
	int exit_status;
	unsigned steps_done; /* init steps completed, for unwinding */
};

/*
 * Check the configuration and inputs (kernel, initrd, memory, cpus) without touching KVM.
 * Returns 0, or -1 after printing one line: the caller exits with EXIT_VM_USAGE.
 */
int vm_check(struct vm *vm, const struct vm_config *cfg);

/* Build the machine in order (memory, KVM, devices, firmware, boot, vcpus), unwinding on
 * failure. Call after vm_check. Returns 0 or -1 (message printed). */
int vm_create(struct vm *vm);

/* What QMP's query commands read of @vm (vm_query.c). */
void vm_query_ops(struct vm *vm, struct control_machine *m);

/* Start the vcpus and run the main loop until the VM ends. Returns the exit status. */
int vm_run(struct vm *vm);

/*
 * Write the device tree the guest is given (the SETUP_DTB entry in guest RAM) to @path.
 * Call after vm_create. Returns 0 or a negative errno (message printed).
 */
int vm_dump_dtb(struct vm *vm, const char *path);

/* Tear down whatever vm_create built. Safe after a failed vm_create. */
void vm_destroy(struct vm *vm);

/*
 * Power-cycle the machine in place: vcpus and the KVM VM are recreated, RAM is zeroed,
 * devices return to power-on state, firmware and kernel are loaded again. Vcpus come back
 * parked; the caller resumes them. Returns 0 or -1.
 */
int vm_reset(struct vm *vm);

#endif
