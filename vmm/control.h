/* control.h - the VM's side of the control socket: QMP commands mapped onto the lifecycle. */
#ifndef MINIVMM_CONTROL_H
#define MINIVMM_CONTROL_H

#include "vm.h"

/* Open the event journal and the QMP listeners named in vm->cfg. Returns 0 or -errno. */
int control_create(struct vm *vm) __attribute__((warn_unused_result));

/* Flush what can be flushed and close everything. */
void control_destroy(struct vm *vm);

#endif
