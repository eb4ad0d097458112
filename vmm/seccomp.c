/* seccomp.c - per-thread seccomp-bpf allowlists (libseccomp), their SIGSYS report, a self-test. */
#include "seccomp.h"
#include "core/log.h"

#include <errno.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

/*
 * The allowlists. A thread inherits its creator's filter and the kernel runs every filter a
 * thread has (the strictest answer wins), so a thread can only narrow what its creator may do.
 * The main thread starts the vCPU threads (again after each reset) and the dump thread after
 * its own filter is loaded: its loaded filter is therefore its own list plus theirs, and each
 * of those threads then loads its own, narrower one. Everything else is refused with SIGSYS.
 */
enum arg_rule {
	ARG_ANY,
	ARG_NO_EXEC,	    /* arg 2 (prot) without PROT_EXEC: no new executable memory */
	ARG_PR_SET_SECCOMP, /* prctl(PR_SET_SECCOMP, ...) only: a thread loading its filter */
};

struct sys_rule {
	int nr;
	enum arg_rule arg;
	const char *reason;
};

struct ioctl_rule {
	unsigned long req;
	const char *name;
	const char *reason;
};

#define SYS(name, arg, reason)                                                                     \
	{                                                                                          \
		SCMP_SYS(name), arg, reason                                                        \
	}
#define IOC(req, reason)                                                                           \
	{                                                                                          \
		req, #req, reason                                                                  \
	}

/* Every thread: the SIGSYS report, glibc's locks, memory and signal returns. */
#define COMMON_SYSCALLS                                                                            \
	SYS(write, ARG_ANY, "log lines to stderr, eventfd wake-ups, the SIGSYS report"),           \
	    SYS(exit_group, ARG_ANY, "exit(): the end of the process, the SIGSYS report's _exit"), \
	    SYS(exit, ARG_ANY, "the end of a thread (glibc's start_thread)"),                      \
	    SYS(futex, ARG_ANY, "pthread mutexes and condition variables (vcpu set, log, clock)"), \
	    SYS(clock_gettime, ARG_ANY, "guest and log clocks when the vDSO falls back"),          \
	    SYS(mmap, ARG_NO_EXEC, "malloc arenas and large blocks; never executable"),            \
	    SYS(munmap, ARG_ANY, "free of large blocks, a thread's stack"),                        \
	    SYS(mprotect, ARG_NO_EXEC, "malloc growing a thread arena; never executable"),         \
	    SYS(madvise, ARG_ANY, "glibc returning a finished thread's stack and freed heap"),     \
	    SYS(brk, ARG_ANY, "malloc on the main heap"),                                          \
	    SYS(rt_sigprocmask, ARG_ANY,                                                           \
		"pthread_sigmask; glibc blocking signals around threads"),                         \
	    SYS(rt_sigreturn, ARG_ANY, "return from the vCPU kick signal's handler"),              \
	    SYS(restart_syscall, ARG_ANY, "the kernel restarting a call a signal interrupted")

static const struct sys_rule main_syscalls[] = {
	COMMON_SYSCALLS,
	SYS(read, ARG_ANY, "signalfd, eventfds, timerfds, stdin for the console"),
	SYS(writev, ARG_ANY, "stdio writing stderr in pieces"),
	SYS(close, ARG_ANY, "closing QMP connections, dump files, vcpu and VM fds on reset"),
	SYS(openat, ARG_ANY, "dump-guest-memory's file:PATH, --panic-dump's core (openat)"),
	SYS(fstat, ARG_ANY, "stdio and the dump writer checking what a file is"),
	SYS(newfstatat, ARG_ANY, "glibc's fstat(), as above"),
	SYS(lseek, ARG_ANY, "the dump writer leaving holes for zero pages"),
	SYS(pwrite64, ARG_ANY, "the kdump-compressed writer filling in its page descriptors"),
	SYS(ftruncate, ARG_ANY, "the dump writer's trailing hole"),
	SYS(pread64, ARG_ANY, "reloading the kernel and initrd into RAM on a reset"),
	SYS(fsync, ARG_ANY, "a finished dump reaches the disk before DUMP_COMPLETED"),
	SYS(fdatasync, ARG_ANY, "each journal line reaches the disk before it is reported"),
	SYS(epoll_wait, ARG_ANY, "the main loop"),
	SYS(epoll_pwait, ARG_ANY, "the main loop (glibc may use the pwait form)"),
	SYS(epoll_ctl, ARG_ANY, "watching and unwatching fds (QMP clients, stdin, timers)"),
	SYS(accept4, ARG_ANY, "a new QMP client"),
	SYS(recvfrom, ARG_ANY, "recv(): QMP input"),
	SYS(recvmsg, ARG_ANY, "QMP input with getfd's descriptor (SCM_RIGHTS)"),
	SYS(faccessat, ARG_ANY, "__org.minivmm_set-panic-dump checking its directory is writable"),
	SYS(faccessat2, ARG_ANY, "glibc's faccessat(), as above"),
	SYS(sendto, ARG_ANY, "send(): QMP replies and events"),
	SYS(poll, ARG_ANY, "flushing QMP output on the way out; a stalled console"),
	SYS(fcntl, ARG_ANY, "making a QMP connection non-blocking and close-on-exec"),
	SYS(unlink, ARG_ANY, "removing the QMP socket file at exit"),
	SYS(timerfd_create, ARG_ANY, "a device or QMP throttle timer created on first use"),
	SYS(timerfd_settime, ARG_ANY, "arming device timers (watchdogs) and event throttles"),
	SYS(clone3, ARG_ANY, "pthread_create: vCPU threads after a reset, the dump thread"),
	SYS(clone, ARG_ANY, "pthread_create where clone3 is not available"),
	SYS(rt_sigaction, ARG_ANY, "glibc's first pthread_create sets its internal signal handler"),
	SYS(gettid, ARG_ANY, "a new vCPU thread records its id, before it loads its filter"),
	SYS(set_robust_list, ARG_ANY, "a new thread's first call, before it loads its filter"),
	SYS(rseq, ARG_ANY, "a new thread registering rseq, before it loads its filter"),
	SYS(prctl, ARG_PR_SET_SECCOMP, "a new thread loading its own, narrower filter"),
	SYS(getpid, ARG_ANY, "pthread_kill's tgkill; the panic dump's file name"),
	SYS(tgkill, ARG_ANY, "kicking a vCPU out of KVM_RUN (pthread_kill)"),
	SYS(mremap, ARG_ANY, "realloc of a large buffer (QMP output)"),
	SYS(getrandom, ARG_ANY, "glibc's malloc and the JSON tag's random value"),
	SYS(ioctl, ARG_ANY, "only the requests in main_ioctls (a rule per request)"),
};

static const struct ioctl_rule main_ioctls[] = {
	IOC(KVM_CREATE_VM, "a reset creates the VM again on the same /dev/kvm fd"),
	IOC(KVM_SET_TSS_ADDR, "the new VM's TSS (reset)"),
	IOC(KVM_SET_IDENTITY_MAP_ADDR, "the new VM's identity map (reset)"),
	IOC(KVM_CREATE_IRQCHIP, "the new VM's in-kernel irqchip (reset)"),
	IOC(KVM_CREATE_PIT2, "the new VM's PIT (reset)"),
	IOC(KVM_SET_USER_MEMORY_REGION, "guest RAM given to the new VM (reset)"),
	IOC(KVM_CREATE_VCPU, "the vCPUs of the new VM (reset)"),
	IOC(KVM_SET_CPUID2, "a new vCPU's CPUID (reset)"),
	IOC(KVM_GET_LAPIC, "a new vCPU's LINT0/LINT1 set-up, read (reset)"),
	IOC(KVM_SET_LAPIC, "a new vCPU's LINT0/LINT1 set-up, write (reset)"),
	IOC(KVM_SET_FPU, "a new vCPU's boot state (reset)"),
	IOC(KVM_GET_SREGS, "a new vCPU's boot state; a dump's segment registers"),
	IOC(KVM_SET_SREGS, "a new vCPU's boot state (reset)"),
	IOC(KVM_SET_REGS, "a new vCPU's boot state (reset)"),
	IOC(KVM_GET_REGS, "a dump's registers of a parked vCPU"),
	IOC(KVM_NMI, "inject-nmi and the watchdog's inject-nmi action"),
	IOC(KVM_CHECK_EXTENSION, "the new VM's coalesced-I/O capability (reset)"),
	IOC(KVM_GET_TSC_KHZ, "the new VM's TSC frequency for the CPUID timing leaf (reset)"),
	IOC(KVM_REGISTER_COALESCED_MMIO, "COM1's THR batched again in the new VM (reset)"),
	IOC(KVM_UNREGISTER_COALESCED_MMIO, "COM1's THR batching turned off (reset)"),
	IOC(KVM_IRQ_LINE, "device interrupts raised from the main loop (console input, timers)"),
	IOC(TCGETS, "isatty() and tcgetattr() on the console's stdin"),
	IOC(TCSETS, "tcsetattr(): the terminal put back at exit"),
};

static const struct sys_rule vcpu_syscalls[] = {
	COMMON_SYSCALLS,
	SYS(ioctl, ARG_ANY, "only the requests in vcpu_ioctls (a rule per request)"),
	SYS(pwritev2, ARG_ANY, "the UART's byte to the console when that does not block"),
	SYS(poll, ARG_ANY, "the UART waiting (bounded) for a slow console reader"),
	SYS(timerfd_settime, ARG_ANY, "a guest write arming or stopping a watchdog timer"),
	SYS(writev, ARG_ANY, "stdio writing a log line to stderr in pieces"),
	/* A vcpu sends GUEST_PANICKED (action run) and GUEST_CRASHLOADED itself (vm.c, vm_post). */
	SYS(sendto, ARG_ANY, "send(): the vcpu's own GUEST_PANICKED to the QMP clients"),
	SYS(epoll_ctl, ARG_ANY, "watching a QMP client for EPOLLOUT when its output backs up"),
	SYS(close, ARG_ANY, "dropping a QMP client whose unread output passed its bound"),
	SYS(fdatasync, ARG_ANY, "the journal's batched sync, when due at that event"),
	SYS(timerfd_create, ARG_ANY, "the event's throttle timer, created on first use"),
};

static const struct ioctl_rule vcpu_ioctls[] = {
	IOC(KVM_RUN, "running the guest"),
	IOC(KVM_IRQ_LINE, "a device raising or lowering its interrupt during an exit"),
	IOC(KVM_GET_REGS, "the registers in the message of a KVM internal error"),
	IOC(KVM_REGISTER_COALESCED_MMIO,
	    "a guest write to COM1's IER turning THRI off: THR batched"),
	IOC(KVM_UNREGISTER_COALESCED_MMIO,
	    "a guest write to COM1's IER turning THRI on: no batching"),
};

static const struct sys_rule dump_syscalls[] = {
	COMMON_SYSCALLS,
	SYS(fstat, ARG_ANY, "the writer checking that the target is a regular file"),
	SYS(newfstatat, ARG_ANY, "glibc's fstat(), as above"),
	SYS(lseek, ARG_ANY, "holes for zero pages in the core"),
	SYS(pwrite64, ARG_ANY, "the kdump-compressed writer filling in its page descriptors"),
	SYS(ftruncate, ARG_ANY, "the core's trailing hole"),
	SYS(fsync, ARG_ANY, "the core reaches the disk before DUMP_COMPLETED"),
	SYS(close, ARG_ANY, "closing the finished core"),
};

struct thread_list {
	const char *name;
	const struct sys_rule *sys;
	unsigned nsys;
	const struct ioctl_rule *ioc;
	unsigned nioc;
};

#define N(a) (unsigned)(sizeof(a) / sizeof((a)[0]))

static const struct thread_list lists[SECCOMP_THREAD__MAX] = {
	[SECCOMP_THREAD_MAIN] = { "main", main_syscalls, N(main_syscalls), main_ioctls,
				  N(main_ioctls) },
	[SECCOMP_THREAD_VCPU] = { "vcpu", vcpu_syscalls, N(vcpu_syscalls), vcpu_ioctls,
				  N(vcpu_ioctls) },
	[SECCOMP_THREAD_DUMP] = { "dump", dump_syscalls, N(dump_syscalls), NULL, 0 },
};

/* --- state ------------------------------------------------------------------------------- */

#define NAMES_MAX 512 /* syscall numbers the report can name */

static int prepared, enabled;
static struct sock_fprog progs[SECCOMP_THREAD__MAX];
static char *names[NAMES_MAX];
static int journal_fd = -1;
static int selftest = -1; /* MINIVMM_SECCOMP_SELFTEST's thread kind */
static __thread char thread_name[16];

void seccomp_counts(enum seccomp_thread kind, unsigned *nsys, unsigned *nioctl)
{
	*nsys = lists[kind].nsys;
	*nioctl = lists[kind].nioc;
}

void seccomp_set_journal_fd(int fd)
{
	journal_fd = fd;
}

/* --- the SIGSYS report (async-signal-safe: no stdio, no malloc) -------------------------- */

struct sbuf {
	char b[320];
	size_t n;
};

static void put_s(struct sbuf *s, const char *str)
{
	while (*str && s->n < sizeof(s->b) - 1)
		s->b[s->n++] = *str++;
}

static void put_num(struct sbuf *s, unsigned long long v, unsigned base)
{
	char tmp[24];
	int i = 0;

	do {
		tmp[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (i > 0 && s->n < sizeof(s->b) - 1)
		s->b[s->n++] = tmp[--i];
}

static void write_all_raw(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void on_sigsys(int sig, siginfo_t *si, void *ucv)
{
	const ucontext_t *uc = ucv;
	int nr = si->si_syscall;
	const char *name = nr >= 0 && nr < NAMES_MAX && names[nr] ? names[nr] : "unknown";
	const char *who = thread_name[0] ? thread_name : "unnamed";
	unsigned long req = (unsigned long)uc->uc_mcontext.gregs[REG_RSI];
	struct sbuf s = { .n = 0 };
	struct timespec ts;

	(void)sig;
	put_s(&s, "minivmm: seccomp: thread ");
	put_s(&s, who);
	put_s(&s, " made forbidden syscall ");
	put_num(&s, (unsigned)nr, 10);
	put_s(&s, " (");
	put_s(&s, name);
	put_s(&s, ")");
	if (nr == SCMP_SYS(ioctl)) {
		put_s(&s, " request 0x");
		put_num(&s, req & 0xffffffffu, 16);
	}
	put_s(&s, "\n");
	write_all_raw(STDERR_FILENO, s.b, s.n);

	/* The journal line by hand, not with jansson: a signal handler may not allocate. Both
	 * strings are ours (a thread name, a syscall name): nothing needs escaping. */
	if (journal_fd >= 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		s.n = 0;
		put_s(&s, "{\"timestamp\":{\"seconds\":");
		put_num(&s, (unsigned long long)ts.tv_sec, 10);
		put_s(&s, ",\"microseconds\":");
		put_num(&s, (unsigned long long)ts.tv_nsec / 1000, 10);
		put_s(&s, "},\"event\":\"SECCOMP_VIOLATION\",\"data\":{\"thread\":\"");
		put_s(&s, who);
		put_s(&s, "\",\"syscall\":");
		put_num(&s, (unsigned)nr, 10);
		put_s(&s, ",\"name\":\"");
		put_s(&s, name);
		put_s(&s, "\"}}\n");
		write_all_raw(journal_fd, s.b, s.n);
	}
	_exit(1);
}

/* --- building the filters ---------------------------------------------------------------- */

static int add_list(scmp_filter_ctx ctx, const struct thread_list *l, uint8_t *seen)
{
	int ret = 0;

	for (unsigned i = 0; !ret && i < l->nsys; i++) {
		const struct sys_rule *r = &l->sys[i];

		if (r->nr == SCMP_SYS(ioctl) || (r->nr >= 0 && r->nr < NAMES_MAX && seen[r->nr]))
			continue; /* ioctl: one rule per request below */
		if (r->nr >= 0 && r->nr < NAMES_MAX)
			seen[r->nr] = 1;
		switch (r->arg) {
		case ARG_NO_EXEC:
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
					       SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
			break;
		case ARG_PR_SET_SECCOMP:
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
					       SCMP_A0(SCMP_CMP_EQ, PR_SET_SECCOMP));
			break;
		default:
			ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 0);
		}
	}
	for (unsigned i = 0; !ret && i < l->nioc; i++)
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				       SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, l->ioc[i].req));
	return ret;
}

/* Duplicate ioctl rules (a request in two lists) are harmless to libseccomp. */
static int build(enum seccomp_thread kind, struct sock_fprog *prog)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	uint8_t seen[NAMES_MAX] = { 0 };
	struct stat st;
	int fd = -1, ret;

	if (!ctx)
		return -ENOMEM;
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0); /* set once, by confine_* */
	if (!ret)
		ret = add_list(ctx, &lists[kind], seen);
	/* The threads the main thread starts inherit its filter: it must allow their lists. */
	if (!ret && kind == SECCOMP_THREAD_MAIN)
		ret = add_list(ctx, &lists[SECCOMP_THREAD_VCPU], seen);
	if (!ret && kind == SECCOMP_THREAD_MAIN)
		ret = add_list(ctx, &lists[SECCOMP_THREAD_DUMP], seen);
	if (!ret) {
		fd = memfd_create("minivmm-seccomp", MFD_CLOEXEC);
		ret = fd < 0 ? -errno : seccomp_export_bpf(ctx, fd);
	}
	if (!ret && fstat(fd, &st) < 0)
		ret = -errno;
	if (!ret) {
		prog->len = (unsigned short)(st.st_size / (off_t)sizeof(struct sock_filter));
		prog->filter = malloc((size_t)st.st_size);
		if (!prog->filter || pread(fd, prog->filter, (size_t)st.st_size, 0) != st.st_size)
			ret = -EIO;
	}
	if (fd >= 0)
		close(fd);
	seccomp_release(ctx);
	return ret;
}

int seccomp_prepare(int on)
{
	const char *st = getenv("MINIVMM_SECCOMP_SELFTEST");
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	int ret;

	for (int k = 0; st && k < SECCOMP_THREAD__MAX; k++)
		if (!strcmp(st, lists[k].name))
			selftest = k;
	prepared = 1;
	enabled = on;
	if (!on)
		return 0;
	for (int nr = 0; nr < NAMES_MAX; nr++)
		names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	for (int k = 0; k < SECCOMP_THREAD__MAX; k++) {
		ret = build((enum seccomp_thread)k, &progs[k]);
		if (ret) {
			pr_err("seccomp: cannot build the %s thread's filter: %s", lists[k].name,
			       strerror(ret < 0 ? -ret : ret));
			return -1;
		}
	}
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		pr_err("seccomp: SIGSYS handler: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int seccomp_enter(enum seccomp_thread kind, const char *name)
{
	sigset_t sys;

	strncpy(thread_name, name, sizeof(thread_name) - 1);
	if (!prepared)
		return 0;
	/* A violation while SIGSYS is blocked kills the process with no report: never. */
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
	if (enabled && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &progs[kind]) < 0) {
		pr_err("seccomp: cannot load the %s thread's filter: %s", name, strerror(errno));
		return -1;
	}
	if (selftest == (int)kind) {
		/* Not in any list: with filtering on, the SIGSYS report ends the process here. */
		pr_warn("seccomp self-test: thread %s calls getppid()", name);
		syscall(SYS_getppid);
	}
	return 0;
}
