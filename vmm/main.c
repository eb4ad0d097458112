/* main.c - minivmm: parse the command line, check every input, build the VM, confine, run it. */
#include <stdio.h>

#include "api/event_log.h"
#include "cmdline.h"
#include "confine.h"
#include "seccomp.h"
#include "vm.h"

int main(int argc, char **argv)
{
	struct vm_config cfg;
	static struct vm vm;
	int status;

	status = cmdline_parse(argc, argv, &cfg, stdout, stderr);
	if (status != CMDLINE_RUN)
		return status;
	if (vm_check(&vm, &cfg)) {
		vm_destroy(&vm);
		return EXIT_VM_USAGE;
	}
	if (vm_create(&vm))
		return EXIT_VM_INTERNAL;
	if (cfg.dump_dtb) { /* as QEMU's -machine dumpdtb=: write what the guest would get, exit */
		status = vm_dump_dtb(&vm, cfg.dump_dtb) ? EXIT_VM_INTERNAL : EXIT_VM_OK;
		vm_destroy(&vm);
		return status;
	}
	/* Everything is open: confine, then vm_run loads the filters before the guest runs. */
	if (confine_no_new_privs() ||
	    confine_drop(cfg.chroot_dir, cfg.drop_user, cfg.uid, cfg.gid) ||
	    seccomp_prepare(cfg.seccomp)) {
		vm_destroy(&vm);
		return EXIT_VM_INTERNAL;
	}
	if (vm.control.event_log)
		seccomp_set_journal_fd(event_log_fd(vm.control.event_log));
	status = vm_run(&vm);
	vm_destroy(&vm);
	return status;
}
