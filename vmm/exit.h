/* exit.h - the exit statuses of the minivmm process (documented in the README). */
#ifndef MINIVMM_EXIT_H
#define MINIVMM_EXIT_H

#define EXIT_VM_OK	    0 /* guest powered off, quit, or a host signal */
#define EXIT_VM_INTERNAL    1 /* setup failed, or a vcpu hit an internal error */
#define EXIT_VM_USAGE	    2 /* bad command line or input file; no guest ran */
#define EXIT_VM_GUEST_PANIC 3 /* the guest panicked and the panic action is exit-failure */

#endif
