/* confine.h - least privilege: no_new_privs, --chroot and --user (drop root, all capabilities). */
#ifndef MINIVMM_CONFINE_H
#define MINIVMM_CONFINE_H

#include <sys/types.h>

/* --user UID:GID, both decimal. Returns 0 or -1. */
int confine_parse_user(const char *s, uid_t *uid, gid_t *gid);

/* PR_SET_NO_NEW_PRIVS: nothing this process runs can gain privileges (before seccomp).
 * Returns 0 or -1 (message printed). */
int confine_no_new_privs(void);

/*
 * After every file, device and socket is open: chroot to @dir (NULL: stay) and, with @drop,
 * become @uid:@gid with no supplementary groups and no capabilities, then check that root
 * cannot be regained. Single-threaded only (setresuid acts on the calling thread's creds
 * through glibc's broadcast, and no thread exists yet). Returns 0 or -1 (message printed).
 */
int confine_drop(const char *dir, int drop, uid_t uid, gid_t gid);

#endif
