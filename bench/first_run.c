/*
 * first_run.c - bench.py's stopwatch for "process start to first KVM_RUN", from outside the VMM.
 *
 *   first_run TIMEOUT_S CMD ARGS...
 *
 * Takes CLOCK_MONOTONIC, forks, and in the child installs a seccomp filter that hands any
 * ioctl(..., KVM_RUN, ...) to this process (SECCOMP_RET_USER_NOTIF) before exec'ing CMD. At
 * the first KVM_RUN, with the calling vcpu thread held in the syscall, it prints
 * "WALL_S CPU_S" on its standard output (CMD's goes to /dev/null): the seconds since before the
 * fork and the CPU time of all of CMD's threads (their schedstat run time), then kills CMD. Static
 * and dynamic VMMs alike (an LD_PRELOAD shim sees only the latter), and no stop on any other
 * syscall (strace stops on every one, and in the nested rig that cost would dominate what it
 * measures).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run time of every thread of @pid in seconds (the first field of each task's schedstat). */
static double cpu_seconds(pid_t pid)
{
	char path[64];
	unsigned long long sum = 0;
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		char p[300];
		unsigned long long ns;
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/proc/%d/task/%s/schedstat", pid, d->d_name);
		f = fopen(p, "r");
		if (f && fscanf(f, "%llu", &ns) == 1)
			sum += ns;
		if (f)
			fclose(f);
	}
	closedir(dir);
	return (double)sum / 1e9;
}

static int install_filter(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)KVM_RUN, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(code) / sizeof(code[0]), code };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
			    &prog);
}

static int send_fd(int sock, int fd)
{
	char c = 0, buf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &c, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char c, buf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

int main(int argc, char **argv)
{
	struct seccomp_notif *req;
	struct seccomp_notif_sizes sizes;
	struct pollfd pfd;
	double t0, wall, cpu;
	int sv[2], listener, status;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: first_run TIMEOUT_S CMD ARGS...\n");
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return 1;
	t0 = now();
	pid = fork();
	if (pid < 0)
		return 1;
	if (!pid) {
		int fd = install_filter();

		if (fd < 0 || send_fd(sv[1], fd)) {
			perror("first_run: seccomp");
			_exit(127);
		}
		close(fd);
		fd = open("/dev/null", O_RDWR); /* CMD's console and messages are not wanted here */
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[2], argv + 2);
		perror("first_run: exec");
		_exit(127);
	}
	listener = recv_fd(sv[0]);
	if (listener < 0) {
		waitpid(pid, NULL, 0);
		return 1;
	}
	if (syscall(__NR_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes))
		return 1;
	req = calloc(1, sizes.seccomp_notif > sizeof(*req) ? sizes.seccomp_notif : sizeof(*req));
	pfd = (struct pollfd){ listener, POLLIN, 0 };
	if (poll(&pfd, 1, atoi(argv[1]) * 1000) != 1 || !(pfd.revents & POLLIN) ||
	    ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req)) {
		fprintf(stderr, "first_run: no KVM_RUN within %s s\n", argv[1]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 1;
	}
	wall = now() - t0;
	cpu = cpu_seconds(pid);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	printf("%.6f %.6f\n", wall, cpu);
	return 0;
}
