/* qmp_fds.h - a monitor's named file descriptors (QMP getfd/closefd), bounded in number. */
#ifndef MINIVMM_QMP_FDS_H
#define MINIVMM_QMP_FDS_H

/* At most this many names per monitor: a client cannot make minivmm hoard descriptors. */
#define QMP_FDS_MAX 32

/* QEMU's mon->fds: owned by the monitor (a listener), not by one connection, so a client that
 * reconnects finds what it passed before; closed when the monitor goes. */
struct qmp_fds {
	unsigned n;
	struct qmp_named_fd {
		char *name;
		int fd;
	} e[QMP_FDS_MAX];
};

/*
 * Name @fd (consumed either way) @name, as getfd does: a name already present gets the new
 * descriptor and its old one is closed. Returns 0, -ENOSPC when the table is full, -ENOMEM.
 */
int qmp_fds_add(struct qmp_fds *t, const char *name, int fd) __attribute__((warn_unused_result));

/* closefd: close and forget @name. Returns 0, or -ENOENT when there is no such name. */
int qmp_fds_close(struct qmp_fds *t, const char *name);

/* Hand the descriptor named @name to the caller, who now owns it (QEMU's monitor_get_fd, as
 * dump-guest-memory's "fd:NAME" uses it): the name is gone. Returns the fd, or -1. */
int qmp_fds_take(struct qmp_fds *t, const char *name);

/* Close every descriptor (the monitor goes away). */
void qmp_fds_clear(struct qmp_fds *t);

#endif
