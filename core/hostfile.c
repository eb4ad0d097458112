/* hostfile.c - minivmm's own output files (journal, serial log, DTB dump): 0600, no symlinks. */
#include "hostfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

int hostfile_create(const char *path, int flags)
{
	/*
	 * 0600: guest console output and the VM's events are the VM owner's, not the host's
	 * other users'. O_NOFOLLOW: a symlink planted at the path (in a shared directory, say)
	 * cannot redirect the write to a file of the attacker's choosing.
	 */
	int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | flags, 0600);

	return fd < 0 ? -errno : fd;
}

const char *hostfile_strerror(int err)
{
	if (err == -ELOOP)
		return "it is a symbolic link (not followed)";
	return strerror(-err);
}
