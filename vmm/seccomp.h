/* seccomp.h - per-thread seccomp-bpf allowlists (libseccomp), their SIGSYS report, a self-test. */
#ifndef MINIVMM_SECCOMP_H
#define MINIVMM_SECCOMP_H

/* The kinds of thread minivmm runs; each has its own allowlist. */
enum seccomp_thread {
	SECCOMP_THREAD_MAIN, /* the main loop: QMP, the journal, devices' timers, resets */
	SECCOMP_THREAD_VCPU, /* one per vCPU: KVM_RUN and exits dispatched to the devices */
	SECCOMP_THREAD_DUMP, /* a detached dump-guest-memory writer */
	SECCOMP_THREAD__MAX,
};

/*
 * Build the BPF program of every thread kind (nothing is loaded yet) and install the SIGSYS
 * handler that reports a violation. With @enabled 0 only remembers that filtering is off.
 * MINIVMM_SECCOMP_SELFTEST=main|vcpu|dump is read here. Call once, single-threaded, after
 * setup. Returns 0 or -1 (message printed).
 */
int seccomp_prepare(int enabled);

/* The event journal's fd (or -1): a violation appends a line to it from the SIGSYS handler. */
void seccomp_set_journal_fd(int fd);

/*
 * Load the calling thread's allowlist (@kind), naming the thread @name (copied, at most 15
 * characters) in a violation's message. No-op when filtering is off or was never prepared.
 * Then, if the self-test names @kind, make one forbidden syscall (which does not return).
 * Returns 0 or -1 (message printed).
 */
int seccomp_enter(enum seccomp_thread kind, const char *name);

/* Number of syscalls and of ioctl requests in @kind's own allowlist (the README's counts). */
void seccomp_counts(enum seccomp_thread kind, unsigned *nsys, unsigned *nioctl);

#endif
