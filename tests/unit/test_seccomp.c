/* test_seccomp.c - the per-thread allowlists: what they refuse is reported and ends the process. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/unit/unit.h"
#include "vmm/confine.h"
#include "vmm/seccomp.h"

static char out[4096]; /* the child's stderr */
static char journal[1024];
static int journal_pipe[2];

/* Run @fn in a child with filtering prepared (@on) and stderr captured; its exit status. */
static int run_child(int on, const char *selftest, void (*fn)(void))
{
	int errp[2], status;
	size_t n = 0;
	ssize_t r;
	pid_t pid;

	ck_assert_int_eq(pipe(errp), 0);
	ck_assert_int_eq(pipe(journal_pipe), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(errp[1], STDERR_FILENO);
		close(errp[0]);
		close(journal_pipe[0]);
		if (selftest)
			setenv("MINIVMM_SECCOMP_SELFTEST", selftest, 1);
		if (confine_no_new_privs() || seccomp_prepare(on))
			_exit(2);
		seccomp_set_journal_fd(journal_pipe[1]);
		fn();
		_exit(0);
	}
	close(errp[1]);
	close(journal_pipe[1]);
	while (n < sizeof(out) - 1 && (r = read(errp[0], out + n, sizeof(out) - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = 0;
	n = 0;
	while (n < sizeof(journal) - 1 &&
	       (r = read(journal_pipe[0], journal + n, sizeof(journal) - 1 - n)) > 0)
		n += (size_t)r;
	journal[n] = 0;
	close(errp[0]);
	close(journal_pipe[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "child killed by signal %d", WTERMSIG(status));
	return WEXITSTATUS(status);
}

static void enter_main(void)
{
	if (seccomp_enter(SECCOMP_THREAD_MAIN, "main"))
		_exit(3);
}

static void enter_vcpu(void)
{
	if (seccomp_enter(SECCOMP_THREAD_VCPU, "vcpu0"))
		_exit(3);
}

static void enter_dump(void)
{
	if (seccomp_enter(SECCOMP_THREAD_DUMP, "dump"))
		_exit(3);
}

START_TEST(test_selftest_kills_each_thread_kind)
{
	static const struct {
		const char *kind, *name;
		void (*enter)(void);
	} k[] = { { "main", "main", enter_main },
		  { "vcpu", "vcpu0", enter_vcpu },
		  { "dump", "dump", enter_dump } };
	char want[128];

	for (unsigned i = 0; i < 3; i++) {
		ck_assert_int_eq(run_child(1, k[i].kind, k[i].enter), 1);
		snprintf(want, sizeof(want),
			 "minivmm: seccomp: thread %s made forbidden syscall %d (getppid)\n",
			 k[i].name, (int)SYS_getppid);
		ck_assert_msg(strstr(out, want), "no '%s' in '%s'", want, out);
		/* And one journal line naming the same. */
		ck_assert_ptr_nonnull(strstr(journal, "\"event\":\"SECCOMP_VIOLATION\""));
		snprintf(want, sizeof(want),
			 "\"thread\":\"%s\",\"syscall\":%d,\"name\":\"getppid\"", k[i].name,
			 (int)SYS_getppid);
		ck_assert_msg(strstr(journal, want), "no '%s' in '%s'", want, journal);
	}
}
END_TEST

START_TEST(test_selftest_harmless_when_off)
{
	ck_assert_int_eq(run_child(0, "vcpu", enter_vcpu), 0);
	ck_assert_ptr_null(strstr(out, "forbidden"));
	ck_assert_str_eq(journal, "");
}
END_TEST

static void vcpu_allowed_calls(void)
{
	static const char msg[] = "hello\n";
	struct kvm_regs regs;

	enter_vcpu();
	/* Allowed: a write, KVM_RUN and KVM_GET_REGS (on no vcpu: an error, not a kill). */
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(4);
	if (ioctl(-1, KVM_RUN, 0) != -1 || errno != EBADF)
		_exit(5);
	if (ioctl(-1, KVM_GET_REGS, &regs) != -1 || errno != EBADF)
		_exit(6);
	free(malloc(1 << 20)); /* a large block: mmap and munmap */
}

START_TEST(test_vcpu_allowed_calls_pass)
{
	ck_assert_int_eq(run_child(1, NULL, vcpu_allowed_calls), 0);
	ck_assert_str_eq(out, "hello\n");
}
END_TEST

static void vcpu_other_ioctl(void)
{
	struct winsize ws;

	enter_vcpu();
	ioctl(STDIN_FILENO, TIOCGWINSZ, &ws);
}

START_TEST(test_vcpu_ioctl_outside_list_killed)
{
	char want[128];

	ck_assert_int_eq(run_child(1, NULL, vcpu_other_ioctl), 1);
	snprintf(want, sizeof(want),
		 "thread vcpu0 made forbidden syscall %d (ioctl) request 0x%x\n", (int)SYS_ioctl,
		 (unsigned)TIOCGWINSZ);
	ck_assert_msg(strstr(out, want), "no '%s' in '%s'", want, out);
}
END_TEST

static void vcpu_exec_mapping(void)
{
	enter_vcpu();
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

START_TEST(test_executable_mapping_killed)
{
	ck_assert_int_eq(run_child(1, NULL, vcpu_exec_mapping), 1);
	ck_assert_ptr_nonnull(strstr(out, "thread vcpu0 made forbidden syscall 9 (mmap)"));
}
END_TEST

static int thread_forbidden;

static void *vcpu_thread(void *arg)
{
	static const char msg[] = "vcpu thread ran\n";

	(void)arg;
	enter_vcpu();
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(4);
	if (thread_forbidden)
		syscall(SYS_getppid);
	return NULL;
}

/* The main thread's filter lets a thread be started that narrows to the vcpu list. */
static void main_starts_vcpu_thread(void)
{
	pthread_t t;
	sigset_t all;

	enter_main();
	/* As vcpus_start did: the thread starts with every signal blocked. Its report must
	 * still come (a blocked SIGSYS would kill the process without one). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (pthread_create(&t, NULL, vcpu_thread, NULL) || pthread_join(t, NULL))
		_exit(7);
}

START_TEST(test_main_starts_a_vcpu_thread)
{
	thread_forbidden = 0;
	ck_assert_msg(run_child(1, NULL, main_starts_vcpu_thread) == 0, "%s", out);
	ck_assert_str_eq(out, "vcpu thread ran\n");
	thread_forbidden = 1;
	ck_assert_int_eq(run_child(1, NULL, main_starts_vcpu_thread), 1);
	ck_assert_ptr_nonnull(strstr(out, "thread vcpu0 made forbidden syscall"));
}
END_TEST

/* What the main thread may do the vcpu threads may not: open a file. */
static void vcpu_open(void)
{
	enter_vcpu();
	open("/dev/null", O_RDONLY);
}

START_TEST(test_vcpu_cannot_open)
{
	ck_assert_int_eq(run_child(1, NULL, vcpu_open), 1);
	ck_assert_ptr_nonnull(strstr(out, "thread vcpu0 made forbidden syscall 257 (openat)"));
}
END_TEST

START_TEST(test_counts)
{
	/* The README's confinement table states these: change both together. */
	static const unsigned want[3][2] = { { 51, 23 }, { 23, 5 }, { 20, 0 } };
	unsigned ns, ni;

	for (int k = 0; k < SECCOMP_THREAD__MAX; k++) {
		seccomp_counts((enum seccomp_thread)k, &ns, &ni);
		ck_assert_uint_eq(ns, want[k][0]);
		ck_assert_uint_eq(ni, want[k][1]);
	}
}
END_TEST

START_TEST(test_user_parsing)
{
	static const char *bad[] = { "",     "1",    ":1",	     "1:",	     "a:b", "1:2:3",
				     "-1:0", "+1:0", "4294967295:0", "0:4294967295", " 1:2" };
	uid_t u;
	gid_t g;

	ck_assert_int_eq(confine_parse_user("65534:65533", &u, &g), 0);
	ck_assert_uint_eq(u, 65534);
	ck_assert_uint_eq(g, 65533);
	ck_assert_int_eq(confine_parse_user("0:0", &u, &g), 0);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(confine_parse_user(bad[i], &u, &g) == -1, "'%s' accepted", bad[i]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("seccomp");
	TCase *tc = tcase_create("seccomp");

	/* The filters are minivmm's lists, not a sanitizer runtime's: under ASan (the CI's second
	 * unit build) its own calls would be refused, so only the build without it loads them. */
#if !defined(__SANITIZE_ADDRESS__)
	tcase_add_test(tc, test_selftest_kills_each_thread_kind);
	tcase_add_test(tc, test_vcpu_allowed_calls_pass);
	tcase_add_test(tc, test_vcpu_ioctl_outside_list_killed);
	tcase_add_test(tc, test_executable_mapping_killed);
	tcase_add_test(tc, test_main_starts_a_vcpu_thread);
	tcase_add_test(tc, test_vcpu_cannot_open);
#endif
	tcase_add_test(tc, test_selftest_harmless_when_off);
	tcase_add_test(tc, test_counts);
	tcase_add_test(tc, test_user_parsing);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
