/* vcpu.h - the vCPU set: a thread per vCPU running KVM_RUN, parked and ended by the main thread. */
#ifndef MINIVMM_VCPU_H
#define MINIVMM_VCPU_H

#include <pthread.h>
#include <stdint.h>

#include "core/bus.h"
#include "core/cpu_regs.h"
#include "core/request.h"
#include "kvm.h"

/* What the vcpus need of the machine. The pointers must outlive the set. */
struct vcpu_env {
	struct kvm_vm *kvm;
	struct bus *pio, *mmio;		   /* where exits are dispatched */
	const struct request_sink *sink;   /* triple fault, system events, internal errors */
	uint64_t entry_gpa, zero_page_gpa; /* the boot CPU's start (boot_plan) */
	/* KVM_RUN on @fd; NULL means the ioctl. Unit tests put a fake here. */
	int (*run)(int fd, struct kvm_run *run);
};

struct vcpus;

struct vcpu {
	struct vcpus *set;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	int thread_started;
	/* A request this vcpu posted (its reqqueue seq) that the main loop must have handled
	 * before the guest runs on: a guest's panic or power-off takes effect before its next
	 * instruction, as under QEMU, and the event leaves without waiting for a time slice. */
	uint64_t wait_req;
	int io_pending; /* the last exit was I/O: KVM completes it on the next KVM_RUN */
	int tid;	/* its thread's id (gettid), set before vcpus_start returns; set lock */
};

struct vcpus {
	struct vcpu_env env;
	unsigned n;
	struct vcpu *v; /* n of them while created */
	/* Pausing: vcpus park on cond while pause_req is set; parked/alive count them. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stopping; /* vcpus must leave KVM_RUN and end (atomic) */
	int pause_req;
	unsigned parked;
	unsigned alive;
	uint64_t req_handled; /* seq of the last request the main loop handled (under lock) */
	/* KVM's ring of coalesced writes (kvm_vm_coalesce_pio), one per VM; NULL: none. */
	struct kvm_coalesced_mmio_ring *ring;
	pthread_mutex_t ring_lock; /* one vcpu drains it at a time, in order */
};

/* Set up an empty set of @n vcpus in @env's machine. Call once, before vcpus_create. */
int vcpus_init(struct vcpus *vs, const struct vcpu_env *env, unsigned n)
    __attribute__((warn_unused_result));

/* Create the vcpu fds and their boot state (the KVM VM must exist). Returns 0 or -errno. */
int vcpus_create(struct vcpus *vs) __attribute__((warn_unused_result));
/* Start one thread per vcpu; with @paused they park before their first KVM_RUN. Returns once
 * every started thread has recorded its thread id (vcpus_thread_ids). */
int vcpus_start(struct vcpus *vs, int paused) __attribute__((warn_unused_result));
/* Kick every vcpu out of KVM_RUN and wait until all are parked. Main thread only. */
void vcpus_pause(struct vcpus *vs);
/* Let parked vcpus run again. */
void vcpus_resume(struct vcpus *vs);
/* Queue an NMI on every vcpu (KVM_NMI). Call with the vcpus parked. */
void vcpus_nmi(struct vcpus *vs);
/* The host thread id of each vcpu, for a monitor: fills up to @max, returns how many vcpus
 * there are (0 for an id while no thread runs it). Main thread. */
unsigned vcpus_thread_ids(struct vcpus *vs, int *tids, unsigned max);
/* End and join every vcpu thread. */
void vcpus_stop(struct vcpus *vs);
/* Close the vcpu fds (after vcpus_stop). vcpus_create may follow (a reset). */
void vcpus_destroy(struct vcpus *vs);

/* @v's registers into @o; @v must not be in KVM_RUN (parked, or the calling vcpu itself).
 * Returns 0 or -errno. */
int vcpu_read_regs(const struct vcpu *v, struct cpu_regs *o) __attribute__((warn_unused_result));

/* The index of the vcpu whose thread calls this, or -1 on any other thread. */
int vcpu_self_id(void);
/* On a vcpu thread: after this exit, wait until the main loop has handled request @seq. */
void vcpu_wait_for_request(uint64_t seq);
/* Main thread: request @seq is handled; a vcpu waiting for it goes on. */
void vcpus_request_handled(struct vcpus *vs, uint64_t seq);

#endif
