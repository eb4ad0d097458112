/* hostfile.h - minivmm's own output files (journal, serial log, DTB dump): 0600, no symlinks. */
#ifndef MINIVMM_HOSTFILE_H
#define MINIVMM_HOSTFILE_H

/*
 * Open @path for writing as one of minivmm's own output files: created with mode 0600 (an
 * existing file keeps its mode), never through a symbolic link at its last component (such a
 * path fails with -ELOOP), close-on-exec. @flags adds O_TRUNC or O_APPEND. Returns the fd or a
 * negative errno.
 */
int hostfile_create(const char *path, int flags);

/* A reason for a failed hostfile_create, for a message ("is a symbolic link (not followed)"
 * for -ELOOP, else strerror). */
const char *hostfile_strerror(int err);

#endif
