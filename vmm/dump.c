/* dump.c - guest crash dumps: vCPU registers, the guest's VMCOREINFO, the ELF core, the dump
 * thread. */
#include "dump.h"
#include "vm.h"
#include "seccomp.h"
#include "devices/fw_cfg.h"
#include "core/kdump.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int dump_find_vmcoreinfo(struct vm *vm, const char **desc, size_t *len, char *why, size_t whylen)
{
	uint64_t paddr;
	uint32_t size;

	if (!vm->fw_cfg || fw_cfg_vmcoreinfo(vm->fw_cfg, &paddr, &size)) {
		/* No qemu_fw_cfg in the guest: Linux's note is still somewhere in its RAM. */
		if (elfcore_find_vmcoreinfo(&vm->mem, &paddr, &size)) {
			snprintf(why, whylen,
				 "the guest published no VMCOREINFO (qemu_fw_cfg not loaded?) and "
				 "none was found in its RAM");
			return -ENOENT;
		}
		pr_info("dump: VMCOREINFO found in guest RAM at 0x%llx", (unsigned long long)paddr);
	}
	if (elfcore_guest_vmcoreinfo(&vm->mem, paddr, size, desc, len)) {
		snprintf(
		    why, whylen,
		    "the guest's VMCOREINFO at 0x%llx (%u bytes) is not a VMCOREINFO note in RAM",
		    (unsigned long long)paddr, size);
		return -EINVAL;
	}
	return 0;
}

/* A copy of the guest's VMCOREINFO text for the core, or NULL (logged). */
static char *guest_vmcoreinfo(struct vm *vm, size_t *len)
{
	const char *desc;
	char why[160], *out;

	if (dump_find_vmcoreinfo(vm, &desc, len, why, sizeof(why))) {
		pr_warn("dump: %s; the core has none", why);
		return NULL;
	}
	/* A copy: the guest may run again (cont) while a detached dump is written. */
	out = malloc(*len + 1);
	if (out)
		memcpy(out, desc, *len);
	return out;
}

/* Everything but RAM, taken with the vcpus parked: their registers and the VMCOREINFO. */
static int dump_collect(struct dump *d)
{
	struct vm *vm = d->vm;
	unsigned n = vm->vcpus.n;

	free(d->cpus);
	free(d->vmcoreinfo);
	d->cpus = calloc(n ? n : 1, sizeof(*d->cpus));
	if (!d->cpus)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		int ret = vm->vcpus.v ? vcpu_read_regs(&vm->vcpus.v[i], &d->cpus[i]) : 0;

		if (ret)
			pr_warn("dump: cannot read vcpu %u's registers: %s", i, strerror(-ret));
	}
	d->desc.cpus = d->cpus;
	d->desc.ncpus = n;
	d->vmcoreinfo = guest_vmcoreinfo(vm, &d->desc.vmcoreinfo_len);
	d->desc.vmcoreinfo = d->vmcoreinfo;
	d->desc.ranges = d->ranges;
	d->total = d->format == DUMP_ELF ? elfcore_size(&d->desc) : kdump_total(&d->desc);
	__atomic_store_n(&d->completed, 0, __ATOMIC_RELAXED);
	return 0;
}

static void dump_write(struct dump *d)
{
	if (d->format == DUMP_ELF)
		d->err = elfcore_write(d->fd, &d->desc, &d->completed);
	else
		d->err = kdump_write(d->fd, &d->desc, d->format == DUMP_KDUMP_FLAT, &d->completed);
	if (!d->err && fsync(d->fd) < 0 && errno != EINVAL)
		d->err = -errno;
	close(d->fd);
	d->fd = -1;
	/* QEMU's messages: nothing written yet is the header's failure (/dev/full gives it). */
	if (d->err)
		snprintf(d->error, sizeof(d->error), "dump: failed to %s: %s",
			 __atomic_load_n(&d->completed, __ATOMIC_RELAXED) ? "save memory"
									  : "write elf header",
			 strerror(-d->err));
	__atomic_store_n(&d->status, d->err ? DUMP_STATUS_FAILED : DUMP_STATUS_COMPLETED,
			 __ATOMIC_RELEASE);
}

static void dump_event(struct dump *d, struct vm_event *ev, const char *file)
{
	*ev = (struct vm_event){ .kind = QMP_EVENT_DUMP_COMPLETED, .file = file };
	dump_query(d, &ev->dump);
	ev->error = d->err ? d->error : NULL;
}

static void *dump_thread(void *opaque)
{
	struct dump *d = opaque;
	uint64_t one = 1;

	if (seccomp_enter(SECCOMP_THREAD_DUMP, "dump")) {
		d->err = -EPERM;
		snprintf(d->error, sizeof(d->error), "dump: cannot load the dump thread's filter");
		close(d->fd);
		d->fd = -1;
		__atomic_store_n(&d->status, DUMP_STATUS_FAILED, __ATOMIC_RELEASE);
	} else {
		dump_write(d);
	}
	if (write(d->efd, &one, sizeof(one)) < 0)
		pr_err("dump: cannot wake the main loop: %s", strerror(errno));
	return NULL;
}

/* A detached dump whose thread has ended: join it, DUMP_COMPLETED, and the VM resumes if it
 * ran. From the main loop's wake-up, or first thing when the next dump starts, should the
 * thread have finished just before and its wake-up not been read yet. */
static void dump_reap(struct dump *d)
{
	struct vm_event ev;
	uint64_t v;

	if (!d->thread_live || __atomic_load_n(&d->status, __ATOMIC_ACQUIRE) == DUMP_STATUS_ACTIVE)
		return;
	if (read(d->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_warn("dump: %s", strerror(errno));
	pthread_join(d->thread, NULL);
	d->thread_live = 0;
	dump_event(d, &ev, NULL);
	lifecycle_dump_end(&d->vm->lc, &ev);
}

static void dump_on_done(void *opaque, uint32_t events)
{
	struct dump *d = opaque;
	uint64_t v;

	(void)events;
	if (!d->thread_live) { /* already reaped: the wake-up is stale */
		if (read(d->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			pr_warn("dump: %s", strerror(errno));
		return;
	}
	dump_reap(d);
}

int dump_init(struct dump *d, struct vm *vm)
{
	int ret;

	memset(d, 0, sizeof(*d));
	d->vm = vm;
	d->fd = d->dir_fd = -1;
	if (vm->cfg.panic_dump) {
		d->dir_fd = open(vm->cfg.panic_dump, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (d->dir_fd < 0) {
			ret = -errno;
			pr_err("--panic-dump '%s': %s", vm->cfg.panic_dump, strerror(errno));
			return ret;
		}
		snprintf(d->panic_dir, sizeof(d->panic_dir), "%s", vm->cfg.panic_dump);
	}
	d->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ret = d->efd < 0 ? -errno : loop_add(vm->loop, d->efd, EPOLLIN, dump_on_done, d);
	if (ret) {
		if (d->efd >= 0)
			close(d->efd);
		if (d->dir_fd >= 0)
			close(d->dir_fd);
		d->efd = d->dir_fd = -1;
	}
	return ret;
}

void dump_fini(struct dump *d)
{
	if (d->thread_live)
		pthread_join(d->thread, NULL);
	d->thread_live = 0;
	if (d->efd >= 0) {
		loop_remove(d->vm->loop, d->efd);
		close(d->efd);
	}
	d->efd = -1;
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	if (d->dir_fd >= 0)
		close(d->dir_fd);
	d->dir_fd = -1;
	free(d->cpus);
	free(d->vmcoreinfo);
	d->cpus = NULL;
	d->vmcoreinfo = NULL;
}

int dump_set_panic_dir(struct dump *d, const char *dir, char *why, size_t whylen)
{
	int fd;

	if (!dir) {
		if (d->dir_fd >= 0)
			close(d->dir_fd);
		d->dir_fd = -1;
		d->panic_dir[0] = 0;
		d->vm->lc.panic_dump = 0;
		return 0;
	}
	if (strlen(dir) >= sizeof(d->panic_dir) - 64) {
		snprintf(why, whylen, "'%.64s...' is too long a directory name", dir);
		return -1;
	}
	/* Opened now, as --panic-dump's is at setup (after --chroot the name resolves inside). */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || faccessat(fd, ".", W_OK, 0)) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		/* The reason, or the message says too little (QEMU has no such command). */
		snprintf(why, whylen, "'%s' is not a writable directory: %s", dir, strerror(err));
		return -1;
	}
	if (d->dir_fd >= 0)
		close(d->dir_fd);
	d->dir_fd = fd;
	snprintf(d->panic_dir, sizeof(d->panic_dir), "%s", dir);
	d->vm->lc.panic_dump = 1;
	return 0;
}

void dump_query(struct dump *d, struct dump_result *r)
{
	r->status = (enum dump_status)__atomic_load_n(&d->status, __ATOMIC_ACQUIRE);
	r->completed = __atomic_load_n(&d->completed, __ATOMIC_RELAXED);
	r->total = d->total;
}

/* The RAM ranges of the window; QEMU's errors for an empty or RAM-less one. */
static int dump_ranges(struct dump *d, int has_filter, uint64_t begin, uint64_t length, char *why,
		       size_t whylen)
{
	int n;

	if (has_filter && !length) {
		snprintf(why, whylen, "parameter 'length' expects a non-zero size");
		return -1;
	}
	n = elfcore_ranges(&d->vm->mem, has_filter ? begin : 0, has_filter ? length : 0, d->ranges);
	if (n < 0) {
		snprintf(why, whylen, "dump: no guest memory to dump");
		return -1;
	}
	d->desc.nranges = (unsigned)n;
	return 0;
}

int dump_guest_memory(struct dump *d, const char *protocol, int fd, int detach, int has_filter,
		      uint64_t begin, uint64_t length, int format, char *why, size_t whylen)
{
	struct vm_event ev;
	int ret;

	dump_reap(d);
	if (fd < 0 && strncmp(protocol, "file:", 5)) {
		snprintf(why, whylen, "parameter 'protocol' must start with 'file:' or 'fd:'");
		return -1;
	}
	if (fd < 0)
		fd = open(protocol + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, S_IRUSR);
	if (fd < 0) {
		/* QEMU's qemu_open with O_CREAT says "create". */
		snprintf(why, whylen, "Could not create '%s': %s", protocol + 5, strerror(errno));
		return -1;
	}
	if (format == DUMP_KDUMP_RAW && lseek(fd, 0, SEEK_CUR) < 0) {
		close(fd);
		snprintf(why, whylen, "kdump-raw formats require a seekable file");
		return -1;
	}
	d->format = format;
	if (dump_ranges(d, has_filter, begin, length, why, whylen)) {
		close(fd);
		__atomic_store_n(&d->status, DUMP_STATUS_FAILED, __ATOMIC_RELEASE);
		return -1;
	}
	lifecycle_dump_begin(&d->vm->lc); /* STOP a running guest: the core is one instant */
	ret = dump_collect(d);
	if (ret) {
		close(fd);
		snprintf(why, whylen, "dump: %s", strerror(-ret));
		__atomic_store_n(&d->status, DUMP_STATUS_FAILED, __ATOMIC_RELEASE);
		lifecycle_dump_abort(&d->vm->lc);
		return -1;
	}
	d->fd = fd;
	d->err = 0;
	d->error[0] = 0;
	__atomic_store_n(&d->status, DUMP_STATUS_ACTIVE, __ATOMIC_RELEASE);
	if (detach) {
		ret = pthread_create(&d->thread, NULL, dump_thread, d);
		if (!ret) {
			d->thread_live = 1;
			return 0;
		}
		pr_warn("dump: no thread (%s); dumping now", strerror(ret));
	}
	dump_write(d);
	dump_event(d, &ev, NULL);
	lifecycle_dump_end(&d->vm->lc, &ev);
	if (d->err) { /* QEMU too answers a failed dump with its error, after the event */
		snprintf(why, whylen, "%s", d->error);
		return -1;
	}
	return 0;
}

int dump_panic(struct dump *d, const char *dir, struct vm_event *ev)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32], name[96];
	int ret;

	dump_reap(d);
	if (__atomic_load_n(&d->status, __ATOMIC_ACQUIRE) == DUMP_STATUS_ACTIVE) {
		pr_warn("dump: the guest panicked during a dump; that dump goes on, no panic dump");
		return -1;
	}
	d->format = DUMP_ELF;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	snprintf(name, sizeof(name), "minivmm-%d-%s.%06ldZ.vmcore", (int)getpid(), stamp,
		 ts.tv_nsec / 1000);
	snprintf(d->file, sizeof(d->file), "%s/%s", dir, name);
	d->err = 0;
	d->error[0] = 0;
	d->desc.nranges = (unsigned)elfcore_ranges(&d->vm->mem, 0, 0, d->ranges);
	ret = dump_collect(d);
	/* In the directory opened at setup: the name as given may not resolve after --chroot. */
	d->fd = ret ? -1 : openat(d->dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (d->fd < 0) {
		d->err = ret ? ret : -errno;
		snprintf(d->error, sizeof(d->error), "Could not open '%s': %s", d->file,
			 strerror(-d->err));
		__atomic_store_n(&d->status, DUMP_STATUS_FAILED, __ATOMIC_RELEASE);
	} else {
		__atomic_store_n(&d->status, DUMP_STATUS_ACTIVE, __ATOMIC_RELEASE);
		dump_write(d);
	}
	if (d->err)
		pr_err("panic dump failed: %s", d->error);
	else
		pr_err("guest panicked: core written to %s", d->file);
	dump_event(d, ev, d->file);
	return 0;
}
