/* lifecycle.h - the one place that decides what a request does: run state, actions, events. */
#ifndef MINIVMM_LIFECYCLE_H
#define MINIVMM_LIFECYCLE_H

#include "vm.h"

/*
 * Handle one request posted by a device, a vcpu, a signal or a QMP command, exactly as QEMU's
 * main loop would: emit the events in QEMU's order, change the run state, pause, reset, or
 * end the VM (vm->done and vm->exit_status). Main thread only.
 */
void lifecycle_handle(struct vm *vm, enum vm_request_kind kind, enum shutdown_cause cause);

/* Start the guest at boot: prelaunch -> running (RESUME), unless --paused (-S). */
int lifecycle_boot(struct vm *vm);

/* QMP stop / cont, which act at once (their STOP / RESUME precede the command's reply). */
void lifecycle_stop(struct vm *vm);
int lifecycle_cont(struct vm *vm, const char **why);

#endif
