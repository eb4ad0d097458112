/* qmp.h - the QMP control socket: QEMU's wire protocol, commands and events. */
#ifndef MINIVMM_QMP_H
#define MINIVMM_QMP_H

#include <jansson.h>
#include <stdint.h>

#include "core/event.h"
#include "core/loop.h"

struct qmp_server;
struct qmp_conn;
struct event_log;

/* The dump formats minivmm writes (QAPI DumpGuestMemoryFormat's elf, kdump-zlib, kdump-raw-zlib).
 */
enum qmp_dump_format { QMP_DUMP_ELF, QMP_DUMP_KDUMP_ZLIB, QMP_DUMP_KDUMP_RAW_ZLIB };

/* An error for the client: QMP error class ("GenericError", ...) and QEMU's message. */
struct qmp_error {
	const char *cls;
	char desc[256];
	char *big; /* the message instead of @desc when it is longer (names are quoted whole, as
		    * QEMU does); heap, freed by whoever sends the error */
};

/* query-cpus-fast: one vCPU and the host thread running it. */
struct qmp_cpu_info {
	unsigned index;
	int thread_id; /* gettid() of its thread */
};

/* query-pci: one BAR of a function. */
struct qmp_pci_region {
	unsigned bar;
	int io;	    /* I/O space, else 32-bit non-prefetchable memory */
	int mapped; /* decoded at @addr now (else QEMU reports address -1) */
	uint64_t addr, size;
};

/* query-pci: one function on bus 0, as its config header shows it. */
struct qmp_pci_function {
	unsigned slot, function;
	uint16_t vendor, device, subsys_vendor, subsys;
	uint16_t class_code; /* base class and subclass: 0x0600 for a host bridge */
	uint8_t irq_pin, irq_line;
	struct qmp_pci_region regions[6];
	unsigned nregions;
};

/* query-chardev: one character device. */
struct qmp_chardev_info {
	char label[32];
	char filename[128];
	int frontend_open;
};

#define QMP_MAX_CPUS	 256
#define QMP_MAX_PCI	 32
#define QMP_MAX_CHARDEVS 8

/*
 * What the commands do: the VMM implements these (vmm/control.c), tests fake them. Each
 * returns 0, or fills @err and returns -1. All run on the main thread.
 */
struct qmp_backend {
	void *ctx;
	int (*query_status)(void *ctx, int *running, const char **status, struct qmp_error *err);
	int (*stop)(void *ctx, struct qmp_error *err);
	int (*cont)(void *ctx, struct qmp_error *err);
	int (*system_reset)(void *ctx, struct qmp_error *err);
	int (*system_powerdown)(void *ctx, struct qmp_error *err);
	int (*quit)(void *ctx, struct qmp_error *err);
	/* Each NULL when absent; values are already checked against their enums. */
	int (*set_action)(void *ctx, const char *reboot, const char *shutdown, const char *panic,
			  const char *watchdog, struct qmp_error *err);
	int (*watchdog_set_action)(void *ctx, const char *action, struct qmp_error *err);
	/* __org.minivmm_set-panic-dump: --panic-dump's directory from now on; NULL: off. */
	int (*set_panic_dump)(void *ctx, const char *dir, struct qmp_error *err);
	/* dump-guest-memory once the schema's checks passed (no paging): write @format to
	 * @fd (consumed; "fd:NAME", taken from the monitor's table) or, when @fd is -1, open
	 * @protocol ("file:PATH"), pause, dump (on a thread with @detach); QEMU's errors. */
	int (*dump_guest_memory)(void *ctx, const char *protocol, int fd, int detach,
				 int has_filter, uint64_t begin, uint64_t length,
				 enum qmp_dump_format format, struct qmp_error *err);
	void (*query_dump)(void *ctx, struct dump_result *r);
	/* inject-nmi: an NMI to every vCPU. */
	int (*inject_nmi)(void *ctx, struct qmp_error *err);
	/* The lists behind query-cpus-fast, query-pci and query-chardev (the serial ports; the
	 * server adds its own monitors): fill up to @max, return how many there are. */
	unsigned (*query_cpus)(void *ctx, struct qmp_cpu_info *out, unsigned max);
	unsigned (*query_pci)(void *ctx, struct qmp_pci_function *out, unsigned max);
	unsigned (*query_chardevs)(void *ctx, struct qmp_chardev_info *out, unsigned max);
	/* Identity and limits: --name (NULL: none), --uuid ("xxxxxxxx-xxxx-...", lower case;
	 * NULL: all zero, as QEMU), the most vCPUs the machine takes. */
	const char *name;
	const char *uuid;
	unsigned max_cpus;
	/* Filled by the server, not the VMM: the client whose command runs (getfd, closefd and
	 * "fd:NAME" use its monitor's descriptors; NULL outside a command), and its own monitors
	 * for query-chardev. */
	struct qmp_conn *conn;
	unsigned (*query_monitors)(void *mctx, struct qmp_chardev_info *out, unsigned max);
	void *mctx;
};

/* The QEMU release whose QMP minivmm follows: the greeting and query-version report it (as
 * QEMU-speaking clients gate features on it), with minivmm's own version in "package". */
#define QMP_QEMU_MAJOR 10
#define QMP_QEMU_MINOR 0
#define QMP_QEMU_MICRO 2

/* The version reported in QEMU's shape ({"qemu": {major, minor, micro}, package}). */
struct qmp_version {
	int major, minor, micro;
	const char *package;
};

/* Create a server on @loop. Nothing listens until qmp_server_listen_*. Returns 0 or -errno. */
int qmp_server_create(struct loop *loop, const struct qmp_backend *be,
		      const struct qmp_version *ver, struct qmp_server **out)
    __attribute__((warn_unused_result));

/* Listen on a unix socket at @path (a stale socket file is replaced; mode 0600). */
int qmp_server_listen_unix(struct qmp_server *s, const char *path)
    __attribute__((warn_unused_result));

/* Take over @fd from a supervisor: a listening socket, or one already-connected client. */
int qmp_server_listen_fd(struct qmp_server *s, int fd) __attribute__((warn_unused_result));

/*
 * Serve at most @n clients at once (default QMP_DEFAULT_MAX_CLIENTS, 16); more connections
 * wait unaccepted until one leaves. Call before or after listening.
 */
void qmp_server_set_max_clients(struct qmp_server *s, unsigned n);

/* Serve one connected stream socket (unit tests use a socketpair). */
int qmp_server_add_client_fd(struct qmp_server *s, int fd) __attribute__((warn_unused_result));

/* Journal every event to @log before it is sent (and before the action that follows it). */
void qmp_server_set_event_log(struct qmp_server *s, struct event_log *log);

/*
 * Send @ev to every client that has negotiated, stamped with the time, after writing it to
 * the journal. @data (may be NULL) is consumed. Main thread only. An event with a rate in
 * the schema (WATCHDOG) is throttled as QEMU's monitor does: sent at once if none went out
 * in the last period, else held (replacing any held one) until the period ends.
 */
void qmp_event_emit(struct qmp_server *s, enum qmp_event ev, json_t *data);

/* Number of connected clients (for tests). */
unsigned qmp_server_nclients(struct qmp_server *s);

/* Try briefly to flush pending replies, then close every socket and remove the socket file. */
void qmp_server_destroy(struct qmp_server *s);

#endif
