/* confine.c - least privilege: no_new_privs, --chroot and --user (drop root, all capabilities). */
#include "confine.h"
#include "core/log.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int parse_id(const char *s, const char *end, unsigned long *out)
{
	char *e;

	if (s == end || *s < '0' || *s > '9') /* strtoul would take blanks and signs */
		return -1;
	errno = 0;
	*out = strtoul(s, &e, 10);
	/* (uid_t)-1 means "unchanged" to setresuid: refuse it. */
	return errno || e != end || *out >= UINT_MAX ? -1 : 0;
}

int confine_parse_user(const char *s, uid_t *uid, gid_t *gid)
{
	const char *colon = strchr(s, ':');
	unsigned long u, g;

	if (!colon || parse_id(s, colon, &u) ||
	    parse_id(colon + 1, colon + 1 + strlen(colon + 1), &g))
		return -1;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 0;
}

int confine_no_new_privs(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		pr_err("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int confine_drop(const char *dir, int drop, uid_t uid, gid_t gid)
{
	if (dir && (chroot(dir) < 0 || chdir("/") < 0)) {
		pr_err("--chroot '%s': %s", dir, strerror(errno));
		return -1;
	}
	if (!drop)
		return 0;
	/* The bounding set first, while CAP_SETPCAP is still held (EINVAL: past the last cap). */
	for (int cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL && errno != EPERM)
			break;
	/* Groups next: once the uid is not 0, they can no longer be changed. */
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0) {
		pr_err("--user %u:%u: %s", (unsigned)uid, (unsigned)gid, strerror(errno));
		return -1;
	}
	/* A uid change away from 0 clears the permitted and effective sets already (no
	 * SECBIT_KEEP_CAPS); clear all three and the ambient set anyway, for --user 0:0 too. */
	{
		struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct data[2] = { { 0, 0, 0 }, { 0, 0, 0 } };

		if (syscall(SYS_capset, &hdr, data) < 0 ||
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
			pr_err("--user: cannot drop capabilities: %s", strerror(errno));
			return -1;
		}
	}
	/* Prove it: root must be out of reach now. */
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		pr_err("--user %u:%u: root could be regained; refusing to run", (unsigned)uid,
		       (unsigned)gid);
		return -1;
	}
	if (gid != 0 && uid != 0 && (setgid(0) == 0 || setegid(0) == 0)) {
		pr_err("--user %u:%u: group 0 could be regained; refusing to run", (unsigned)uid,
		       (unsigned)gid);
		return -1;
	}
	return 0;
}
