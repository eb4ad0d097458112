/* dump.h - crash dumps of the guest: dump-guest-memory (sync or on a thread) and --panic-dump. */
#ifndef MINIVMM_DUMP_H
#define MINIVMM_DUMP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/elfcore.h"
#include "core/event.h"

struct vm;

/* What dump-guest-memory writes; the values of enum qmp_dump_format (api/qmp.h). */
enum { DUMP_ELF, DUMP_KDUMP_FLAT, DUMP_KDUMP_RAW };

/* The one dump at a time (QEMU's dump state): what is written and how far it got. */
struct dump {
	struct vm *vm;
	int status;	    /* enum dump_status (atomic: query-dump reads it during a dump) */
	uint64_t completed; /* bytes written (atomic) */
	uint64_t total;
	int efd; /* the dump thread says it is done; the main loop finishes the dump */
	pthread_t thread;
	int thread_live;
	int fd;
	int dir_fd; /* --panic-dump's directory, opened at setup: a core is created with openat,
		     * so that it lands there even after --chroot; -1 without --panic-dump */
	int format; /* DUMP_ELF, DUMP_KDUMP_FLAT, DUMP_KDUMP_RAW */
	int err;    /* the writer's -errno */
	struct elfcore_range ranges[ELFCORE_MAX_RANGES];
	struct elfcore_desc desc;
	struct cpu_regs *cpus;
	char *vmcoreinfo;
	char error[4200];     /* DUMP_COMPLETED "error" (may name the file) */
	char file[4096];      /* --panic-dump's core */
	char panic_dir[4096]; /* --panic-dump's directory, "" when off */
};

/*
 * The guest's VMCOREINFO text, where the guest keeps it: the note fw_cfg's etc/vmcoreinfo
 * points at, else one found by scanning its RAM. 0 with *@desc (in guest RAM: read it while
 * the vcpus are parked) and *@len, or -errno with the reason in @why.
 */
int dump_find_vmcoreinfo(struct vm *vm, const char **desc, size_t *len, char *why, size_t whylen);

/* Set up @d for @vm (its main loop must exist). Returns 0 or -errno. */
int dump_init(struct dump *d, struct vm *vm) __attribute__((warn_unused_result));

/* Wait for a dump thread still writing, then free everything. Before guest RAM goes. */
void dump_fini(struct dump *d);

/*
 * --panic-dump's directory from now on (__org.minivmm_set-panic-dump): @dir must be a writable
 * directory, NULL turns panic dumps off. Returns 0, or -1 with the reason in @why and nothing
 * changed. Main thread only.
 */
int dump_set_panic_dir(struct dump *d, const char *dir, char *why, size_t whylen);

/* query-dump. */
void dump_query(struct dump *d, struct dump_result *r);

/*
 * dump-guest-memory after the schema's checks: write to @fd (consumed: "fd:NAME" after getfd)
 * or, when @fd is -1, to @protocol's "file:PATH", created; check the @begin/@length window,
 * stop a running VM (lifecycle), write the core here or with @detach on a thread,
 * DUMP_COMPLETED, resume. @format: DUMP_ELF, DUMP_KDUMP_FLAT (makedumpfile's flattened
 * kdump-compressed stream) or DUMP_KDUMP_RAW (that file itself: @fd must be seekable). On a refusal
 * returns -1 with QEMU's message in @why and the VM as it was; a dump without @detach that fails to
 * write returns -1 too, after its DUMP_COMPLETED (as QEMU). Main thread only.
 */
int dump_guest_memory(struct dump *d, const char *protocol, int fd, int detach, int has_filter,
		      uint64_t begin, uint64_t length, int format, char *why, size_t whylen);

/*
 * --panic-dump: write DIR/<name>-<timestamp>.vmcore of the guest (vcpus parked) now and
 * describe it in @ev as a DUMP_COMPLETED with the file. Returns 0, or -1 when a dump is
 * already active (that one goes on; nothing to send). Main thread only.
 */
int dump_panic(struct dump *d, const char *dir, struct vm_event *ev);

#endif
