/* vcpu.c - one thread per vCPU running KVM_RUN and dispatching exits to the buses. */
#include "vcpu.h"
#include "seccomp.h"
#include "boot/x86_cpu.h"
#include "core/layout.h"
#include "core/log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define VCPU_KICK_SIGNAL SIGUSR1

/* Local APIC register offsets and LVT delivery modes (SDM vol. 3, "Local Vector Table"). */
#define APIC_LVT_LINT0	   0x350
#define APIC_LVT_LINT1	   0x360
#define APIC_MODE_NMI	   0x4
#define APIC_MODE_EXTINT   0x7
#define APIC_LVT_MODE(m)   ((m) << 8)
#define APIC_LVT_MODE_MASK (0x7u << 8)

#define CPUID_1_ECX_HYPERVISOR (1u << 31)

static void vcpu_kick_handler(int sig)
{
	(void)sig; /* only there to interrupt KVM_RUN with EINTR */
}

/* Give each vcpu its own APIC id in the CPUID leaves that report one. */
static int vcpu_set_cpuid(struct vcpu *v)
{
	const struct kvm_cpuid2 *src = v->set->env.kvm->cpuid;
	size_t sz = sizeof(*src) + src->nent * sizeof(src->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	int ret = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c, src, sz);
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 0x1:
			e->ebx = (e->ebx & 0x00ffffffu) | (v->id << 24);
			e->ecx |= CPUID_1_ECX_HYPERVISOR;
			break;
		case 0xb:
		case 0x1f:
			e->edx = v->id; /* x2APIC id */
			break;
		case 0x8000001e:
			e->eax = v->id; /* AMD extended APIC id */
			break;
		}
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
		ret = -errno;
	free(c);
	return ret;
}

/* Route LINT0 as ExtINT (the PIC) and LINT1 as NMI, as PC firmware leaves them. */
static int vcpu_set_lint(struct vcpu *v)
{
	struct kvm_lapic_state lapic;
	uint32_t *lint0 = (uint32_t *)(lapic.regs + APIC_LVT_LINT0);
	uint32_t *lint1 = (uint32_t *)(lapic.regs + APIC_LVT_LINT1);

	if (ioctl(v->fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	*lint0 = (*lint0 & ~APIC_LVT_MODE_MASK) | APIC_LVT_MODE(APIC_MODE_EXTINT);
	*lint1 = (*lint1 & ~APIC_LVT_MODE_MASK) | APIC_LVT_MODE(APIC_MODE_NMI);
	if (ioctl(v->fd, KVM_SET_LAPIC, &lapic) < 0)
		return -errno;
	return 0;
}

/* The boot CPU starts in long mode at the kernel's 64-bit entry; the others wait for SIPI. */
static int vcpu_set_boot_state(struct vcpu *v)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 }; /* FNINIT/power-on values */

	if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0)
		return -errno;
	if (v->id != 0)
		return 0;
	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	x86_boot_sregs(&sregs);
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	x86_boot_regs(&regs, v->set->env.entry_gpa, v->set->env.zero_page_gpa);
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

int vcpu_read_regs(const struct vcpu *v, struct cpu_regs *o)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	*o = (struct cpu_regs){
		.rax = r.rax,
		.rbx = r.rbx,
		.rcx = r.rcx,
		.rdx = r.rdx,
		.rsi = r.rsi,
		.rdi = r.rdi,
		.rbp = r.rbp,
		.rsp = r.rsp,
		.r8 = r.r8,
		.r9 = r.r9,
		.r10 = r.r10,
		.r11 = r.r11,
		.r12 = r.r12,
		.r13 = r.r13,
		.r14 = r.r14,
		.r15 = r.r15,
		.rip = r.rip,
		.rflags = r.rflags,
		.cs = s.cs.selector,
		.ss = s.ss.selector,
		.ds = s.ds.selector,
		.es = s.es.selector,
		.fs = s.fs.selector,
		.gs = s.gs.selector,
		.fs_base = s.fs.base,
		.gs_base = s.gs.base,
		.cr0 = s.cr0,
		.cr2 = s.cr2,
		.cr3 = s.cr3,
		.cr4 = s.cr4,
		.efer = s.efer,
	};
	return 0;
}

int vcpus_init(struct vcpus *vs, const struct vcpu_env *env, unsigned n)
{
	struct sigaction sa = { .sa_handler = vcpu_kick_handler };

	/* Process-wide, and before any vcpu thread exists that could be kicked: the signal's
	 * default action would end the process. */
	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	memset(vs, 0, sizeof(*vs));
	vs->env = *env;
	vs->n = n;
	pthread_mutex_init(&vs->lock, NULL);
	pthread_mutex_init(&vs->ring_lock, NULL);
	pthread_cond_init(&vs->cond, NULL);
	return 0;
}

int vcpus_create(struct vcpus *vs)
{
	const struct kvm_vm *kvm = vs->env.kvm;
	int ret;

	vs->v = calloc(vs->n, sizeof(*vs->v));
	if (!vs->v)
		return -ENOMEM;
	for (unsigned i = 0; i < vs->n; i++) {
		struct vcpu *v = &vs->v[i];

		v->set = vs;
		v->id = i;
		v->fd = -1;
	}
	for (unsigned i = 0; i < vs->n; i++) {
		struct vcpu *v = &vs->v[i];
		const char *what;

		what = "KVM_CREATE_VCPU";
		v->fd = ioctl(kvm->vm_fd, KVM_CREATE_VCPU, (unsigned long)i);
		if (v->fd < 0) {
			ret = -errno;
			goto fail;
		}
		what = "mmap kvm_run";
		v->run = mmap(NULL, kvm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
		if (v->run == MAP_FAILED) {
			v->run = NULL;
			ret = -errno;
			goto fail;
		}
		if (i == 0 && kvm->coalesced_page)
			vs->ring = (void *)((uint8_t *)v->run + (size_t)kvm->coalesced_page * 4096);
		what = "KVM_SET_CPUID2";
		ret = vcpu_set_cpuid(v);
		if (ret)
			goto fail;
		what = "LAPIC LINT setup";
		ret = vcpu_set_lint(v);
		if (ret)
			goto fail;
		what = "boot register state";
		ret = vcpu_set_boot_state(v);
		if (ret)
			goto fail;
		continue;
	fail:
		pr_err("vcpu %u: %s: %s", i, what, strerror(-ret));
		return ret;
	}
	return 0;
}

static void vcpu_post_error(struct vcpu *v, const char *fmt, const char *detail)
{
	pr_err("vcpu %u: %s%s", v->id, fmt, detail ? detail : "");
	request_post(v->set->env.sink, VM_REQ_INTERNAL_ERROR, CAUSE_HOST_ERROR);
}

static int vcpu_handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint64_t span = (uint64_t)run->io.size * run->io.count;
	uint8_t *p = (uint8_t *)run + run->io.data_offset;

	/* The kernel fills these, but a bad value would make us read past the mapping. */
	uint64_t run_size = (uint64_t)v->set->env.kvm->run_size;

	if (run->io.data_offset > run_size || span > run_size - run->io.data_offset ||
	    run->io.size > 8)
		return -EINVAL;
	for (uint32_t i = 0; i < run->io.count; i++, p += run->io.size) {
		if (run->io.direction == KVM_EXIT_IO_OUT)
			bus_write(v->set->env.pio, run->io.port, p, run->io.size);
		else
			bus_read(v->set->env.pio, run->io.port, p, run->io.size);
	}
	return 0;
}

static void vcpu_handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned len = run->mmio.len > 8 ? 8 : run->mmio.len;

	if (run->mmio.is_write)
		bus_write(v->set->env.mmio, run->mmio.phys_addr, run->mmio.data, len);
	else
		bus_read(v->set->env.mmio, run->mmio.phys_addr, run->mmio.data, len);
}

/*
 * Hand the writes KVM batched (kvm_vm_coalesce_pio) to their devices, oldest first, as if each
 * had exited. Every vcpu does this on every return from KVM_RUN, before its own exit: what the
 * guest wrote before an access that exits is seen before that access (QEMU flushes its
 * coalesced buffer the same way).
 */
static void vcpus_drain_coalesced(struct vcpus *vs)
{
	struct kvm_coalesced_mmio_ring *ring = vs->ring;
	const uint32_t max = (4096 - sizeof(*ring)) / sizeof(ring->coalesced_mmio[0]);

	if (!ring || ring->first == __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&vs->ring_lock);
	while (ring->first != __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE)) {
		struct kvm_coalesced_mmio *m = &ring->coalesced_mmio[ring->first % max];
		unsigned len = m->len > 8 ? 8 : m->len;

		bus_write(m->pio ? vs->env.pio : vs->env.mmio, m->phys_addr, m->data, len);
		__atomic_store_n(&ring->first, (ring->first + 1) % max, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&vs->ring_lock);
}

static __thread struct vcpu *this_vcpu;

static int vcpu_run(struct vcpu *v)
{
	if (v->set->env.run)
		return v->set->env.run(v->fd, v->run);
	return ioctl(v->fd, KVM_RUN, 0);
}

/*
 * KVM finishes an IN or an MMIO read (and a string I/O's remaining iterations) only on the
 * next KVM_RUN: until then the value is in kvm_run, not in the guest's registers. A vcpu
 * about to park enters once with immediate_exit set, so KVM completes the I/O and returns
 * EINTR without running the guest (KVM's api.rst, "immediate_exit"; Cloud Hypervisor does
 * the same before a pause). The parked vcpu is then consistent for KVM_NMI or a register read.
 */
static void vcpu_complete_io(struct vcpu *v)
{
	if (!v->io_pending)
		return;
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
	if (vcpu_run(v) == 0 || errno != EINTR)
		pr_warn("vcpu %u: completing I/O before a pause: unexpected KVM_RUN result", v->id);
	__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELEASE);
	v->io_pending = 0;
}

/* Park while a pause is requested. Returns 0 to run on, -1 when the vcpu must end. */
static int vcpu_park_if_asked(struct vcpu *v)
{
	struct vcpus *vs = v->set;
	int ret = 0;

	/* Fast path on every exit: nothing asked, no lock taken. */
	if (!__atomic_load_n(&vs->pause_req, __ATOMIC_ACQUIRE) &&
	    !__atomic_load_n(&vs->stopping, __ATOMIC_ACQUIRE))
		return 0;
	if (!__atomic_load_n(&vs->stopping, __ATOMIC_ACQUIRE))
		vcpu_complete_io(v);
	pthread_mutex_lock(&vs->lock);
	if (vs->pause_req && !vs->stopping) {
		vs->parked++;
		pthread_cond_broadcast(&vs->cond);
		while (vs->pause_req && !vs->stopping)
			pthread_cond_wait(&vs->cond, &vs->lock);
		vs->parked--;
	}
	if (vs->stopping)
		ret = -1;
	pthread_mutex_unlock(&vs->lock);
	return ret;
}

int vcpu_self_id(void)
{
	return this_vcpu ? (int)this_vcpu->id : -1;
}

void vcpu_wait_for_request(uint64_t seq)
{
	if (this_vcpu)
		this_vcpu->wait_req = seq;
}

void vcpus_request_handled(struct vcpus *vs, uint64_t seq)
{
	pthread_mutex_lock(&vs->lock);
	vs->req_handled = seq;
	pthread_cond_broadcast(&vs->cond);
	pthread_mutex_unlock(&vs->lock);
}

/*
 * After an exit in which this vcpu posted a request: wait until the main loop has handled it,
 * or until the vcpus are asked to pause or stop (the main loop may do that while handling it;
 * the caller then parks as usual).
 */
static void vcpu_wait_request(struct vcpu *v)
{
	struct vcpus *vs = v->set;

	pthread_mutex_lock(&vs->lock);
	while (vs->req_handled < v->wait_req && !vs->pause_req && !vs->stopping)
		pthread_cond_wait(&vs->cond, &vs->lock);
	pthread_mutex_unlock(&vs->lock);
	v->wait_req = 0;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vcpus *vs = v->set;
	sigset_t set;
	char detail[96];
	int err;

	this_vcpu = v;
	pthread_mutex_lock(&vs->lock);
	v->tid = (int)gettid();
	pthread_cond_broadcast(&vs->cond);
	pthread_mutex_unlock(&vs->lock);
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	/* The thread's own allowlist, before the guest runs on it. */
	snprintf(detail, sizeof(detail), "vcpu%u", v->id);
	if (seccomp_enter(SECCOMP_THREAD_VCPU, detail)) {
		vcpu_post_error(v, "seccomp: ", "cannot load the vCPU thread's filter");
		goto out;
	}

	while (vcpu_park_if_asked(v) == 0) {
		v->io_pending = 0;
		err = vcpu_run(v) < 0 ? errno : 0;
		vcpus_drain_coalesced(vs); /* may write the console: errno is kept in err */
		if (err) {
			if (err == EINTR || err == EAGAIN) {
				__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELAXED);
				continue;
			}
			snprintf(detail, sizeof(detail), "%s", strerror(err));
			vcpu_post_error(v, "KVM_RUN failed: ", detail);
			break;
		}
		switch (v->run->exit_reason) {
		case KVM_EXIT_IO:
			if (vcpu_handle_io(v)) {
				vcpu_post_error(v, "malformed port I/O exit", NULL);
				goto out;
			}
			v->io_pending = 1;
			break;
		case KVM_EXIT_MMIO:
			vcpu_handle_mmio(v);
			v->io_pending = 1;
			break;
		case KVM_EXIT_SHUTDOWN:
			/* Triple fault: on a PC this resets the machine. Wait to be reset. */
			request_post(vs->env.sink, VM_REQ_RESET, CAUSE_GUEST_RESET);
			goto out;
		case KVM_EXIT_SYSTEM_EVENT:
			if (v->run->system_event.type == KVM_SYSTEM_EVENT_RESET)
				request_post(vs->env.sink, VM_REQ_RESET, CAUSE_GUEST_RESET);
			else
				request_post(vs->env.sink, VM_REQ_SHUTDOWN, CAUSE_GUEST_SHUTDOWN);
			goto out;
		case KVM_EXIT_HLT:
			/* Only without an in-kernel LAPIC; nothing to do but run again. */
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_FAIL_ENTRY:
			snprintf(
			    detail, sizeof(detail), "0x%llx",
			    (unsigned long long)v->run->fail_entry.hardware_entry_failure_reason);
			vcpu_post_error(v, "KVM entry failed, hardware reason ", detail);
			goto out;
		case KVM_EXIT_INTERNAL_ERROR: {
			struct kvm_regs regs;
			unsigned long long rip = 0;
			if (ioctl(v->fd, KVM_GET_REGS, &regs) == 0)
				rip = regs.rip;
			snprintf(detail, sizeof(detail), "%u at rip 0x%llx",
				 v->run->internal.suberror, rip);
			vcpu_post_error(v, "KVM internal error, suberror ", detail);
			goto out;
		}
		default:
			snprintf(detail, sizeof(detail), "%u", v->run->exit_reason);
			vcpu_post_error(v, "unhandled KVM exit reason ", detail);
			goto out;
		}
		if (v->wait_req)
			vcpu_wait_request(v);
	}
out:
	/* A vcpu that cannot go on counts as parked: the VM is reset or ended from here. */
	pthread_mutex_lock(&vs->lock);
	vs->alive--;
	pthread_cond_broadcast(&vs->cond);
	pthread_mutex_unlock(&vs->lock);
	return NULL;
}

int vcpus_start(struct vcpus *vs, int paused)
{
	sigset_t set, old;
	int ret = 0;

	vs->stopping = 0;
	vs->pause_req = paused;
	vs->parked = 0;
	vs->alive = 0;
	/* Threads inherit this mask; each vcpu thread unblocks only the kick signal. SIGSYS
	 * stays deliverable: a seccomp violation with it blocked would kill the process without
	 * the report (seccomp.c). */
	sigfillset(&set);
	sigdelset(&set, SIGSYS);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (unsigned i = 0; i < vs->n; i++) {
		struct vcpu *v = &vs->v[i];

		pthread_mutex_lock(&vs->lock);
		vs->alive++;
		pthread_mutex_unlock(&vs->lock);
		ret = -pthread_create(&v->thread, NULL, vcpu_thread, v);
		if (ret) {
			pthread_mutex_lock(&vs->lock);
			vs->alive--;
			pthread_mutex_unlock(&vs->lock);
			pr_err("vcpu %u: cannot start thread: %s", i, strerror(-ret));
			break;
		}
		v->thread_started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* Each thread records its id first thing; a monitor may ask for them at once. */
	pthread_mutex_lock(&vs->lock);
	for (unsigned i = 0; i < vs->n; i++)
		while (vs->v[i].thread_started && !vs->v[i].tid)
			pthread_cond_wait(&vs->cond, &vs->lock);
	pthread_mutex_unlock(&vs->lock);
	return ret;
}

unsigned vcpus_thread_ids(struct vcpus *vs, int *tids, unsigned max)
{
	pthread_mutex_lock(&vs->lock);
	for (unsigned i = 0; i < vs->n && i < max; i++)
		tids[i] = vs->v && vs->v[i].thread_started ? vs->v[i].tid : 0;
	pthread_mutex_unlock(&vs->lock);
	return vs->n;
}

static void vcpus_kick(struct vcpus *vs)
{
	for (unsigned i = 0; i < vs->n; i++) {
		struct vcpu *v = &vs->v[i];

		if (!v->thread_started)
			continue;
		/* immediate_exit covers a vcpu between two KVM_RUNs when the signal lands. */
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
		pthread_kill(v->thread, VCPU_KICK_SIGNAL);
	}
}

void vcpus_pause(struct vcpus *vs)
{
	pthread_mutex_lock(&vs->lock);
	__atomic_store_n(&vs->pause_req, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&vs->cond); /* a vcpu in vcpu_wait_request parks instead */
	pthread_mutex_unlock(&vs->lock);
	vcpus_kick(vs);
	pthread_mutex_lock(&vs->lock);
	while (vs->parked < vs->alive)
		pthread_cond_wait(&vs->cond, &vs->lock);
	pthread_mutex_unlock(&vs->lock);
}

void vcpus_resume(struct vcpus *vs)
{
	pthread_mutex_lock(&vs->lock);
	__atomic_store_n(&vs->pause_req, 0, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&vs->cond);
	pthread_mutex_unlock(&vs->lock);
}

void vcpus_nmi(struct vcpus *vs)
{
	for (unsigned i = 0; vs->v && i < vs->n; i++)
		if (vs->v[i].fd >= 0 && ioctl(vs->v[i].fd, KVM_NMI) < 0)
			pr_warn("vcpu %u: KVM_NMI: %s", i, strerror(errno));
}

void vcpus_stop(struct vcpus *vs)
{
	if (!vs->v)
		return;
	pthread_mutex_lock(&vs->lock);
	__atomic_store_n(&vs->stopping, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&vs->cond);
	pthread_mutex_unlock(&vs->lock);
	vcpus_kick(vs);
	for (unsigned i = 0; i < vs->n; i++) {
		struct vcpu *v = &vs->v[i];

		if (v->thread_started)
			pthread_join(v->thread, NULL);
		v->thread_started = 0;
		v->tid = 0;
	}
}

void vcpus_destroy(struct vcpus *vs)
{
	if (!vs->v)
		return;
	for (unsigned i = 0; i < vs->n; i++) {
		struct vcpu *v = &vs->v[i];

		if (v->run)
			munmap(v->run, vs->env.kvm->run_size);
		if (v->fd >= 0)
			close(v->fd);
	}
	free(vs->v);
	vs->v = NULL;
	vs->ring = NULL;
}
