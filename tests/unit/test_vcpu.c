/* test_vcpu.c - the vCPU threads of vmm/vcpu.c against a fake KVM_RUN: kicks and parking. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/vcpu.h"
#include "tests/unit/unit.h"

#define TEST_PORT 0x60

static struct vcpus vs;
static struct kvm_vm kvm = { .sys_fd = -1, .vm_fd = -1, .run_size = 4096 };
static struct bus pio, mmio;

/* The fake KVM_RUN: the first entry exits with an IN from TEST_PORT; later ones "run the
 * guest" until kicked (immediate_exit), as KVM does. */
static struct {
	int entries;
	int io_exits;
	int entries_after_io; /* KVM_RUN calls after the IN exit: KVM completes the IN in one */
	int entries_after_io_at_park;
} fake;

static int fake_run(int fd, struct kvm_run *run)
{
	(void)fd;
	__atomic_add_fetch(&fake.entries, 1, __ATOMIC_SEQ_CST);
	if (fake.io_exits)
		__atomic_add_fetch(&fake.entries_after_io, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&run->immediate_exit, __ATOMIC_ACQUIRE)) {
		errno = EINTR;
		return -1;
	}
	if (!fake.io_exits) {
		fake.io_exits++;
		run->exit_reason = KVM_EXIT_IO;
		run->io.direction = KVM_EXIT_IO_IN;
		run->io.size = 1;
		run->io.port = TEST_PORT;
		run->io.count = 1;
		run->io.data_offset = 1024;
		return 0;
	}
	while (!__atomic_load_n(&run->immediate_exit, __ATOMIC_ACQUIRE))
		usleep(1000);
	errno = EINTR;
	return -1;
}

/* The IN's device: it holds the vcpu until the main thread has asked for a pause, so the vcpu
 * decides to park right after this exit, with the IN's value not yet in the guest's AL. */
static void port_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	(void)opaque;
	(void)off;
	memset(data, 0x42, len);
	while (!__atomic_load_n(&vs.pause_req, __ATOMIC_ACQUIRE))
		usleep(1000);
}

static void port_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	(void)opaque;
	(void)off;
	(void)data;
	(void)len;
}

static const struct bus_ops port_ops = { port_read, port_write, 1 };

static void setup_one_vcpu(void)
{
	const struct vcpu_env env = { .kvm = &kvm, .pio = &pio, .mmio = &mmio, .run = fake_run };

	memset(&fake, 0, sizeof(fake));
	ck_assert_int_eq(bus_init(&pio, "pio"), 0);
	ck_assert_int_eq(bus_init(&mmio, "mmio"), 0);
	ck_assert_int_eq(bus_register(&pio, TEST_PORT, 1, &port_ops, NULL, "test"), 0);
	ck_assert_int_eq(vcpus_init(&vs, &env, 1), 0);
	/* What vcpus_create would do, without KVM. */
	vs.v = calloc(1, sizeof(*vs.v));
	vs.v->set = &vs;
	vs.v->fd = -1;
	vs.v->run = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(vs.v->run, MAP_FAILED);
}

static void teardown_one_vcpu(void)
{
	vcpus_stop(&vs);
	vcpus_destroy(&vs);
	bus_destroy(&pio);
	bus_destroy(&mmio);
}

/* The kick signal must be handled before any vcpu thread exists that could be kicked: its
 * default action would end the process. */
START_TEST(test_vcpu_kick_handler_installed_at_init)
{
	const struct vcpu_env env = { .kvm = &kvm, .pio = &pio, .mmio = &mmio, .run = fake_run };
	struct sigaction sa;

	signal(SIGUSR1, SIG_DFL);
	ck_assert_int_eq(vcpus_init(&vs, &env, 1), 0);
	ck_assert_int_eq(sigaction(SIGUSR1, NULL, &sa), 0);
	ck_assert_ptr_ne((void *)sa.sa_handler, (void *)SIG_DFL);
	ck_assert_ptr_ne((void *)sa.sa_handler, (void *)SIG_IGN);
}
END_TEST

/* A vcpu about to park right after an IN exit enters KVM_RUN once more with immediate_exit
 * set, so KVM completes the IN before anyone looks at (or injects into) the parked vcpu. */
START_TEST(test_vcpu_completes_pending_io_before_parking)
{
	setup_one_vcpu();
	ck_assert_int_eq(vcpus_start(&vs, 0), 0);
	/* query-cpus-fast's thread id is known once vcpus_start returns, and is not ours. */
	{
		int tid = 0;

		ck_assert_uint_eq(vcpus_thread_ids(&vs, &tid, 1), 1);
		ck_assert_int_gt(tid, 0);
		ck_assert_int_ne(tid, (int)gettid());
	}
	while (!__atomic_load_n(&fake.io_exits, __ATOMIC_ACQUIRE))
		usleep(1000);
	vcpus_pause(&vs);
	ck_assert_int_eq(__atomic_load_n(&fake.entries_after_io, __ATOMIC_ACQUIRE), 1);
	/* It runs on normally after the pause: immediate_exit is cleared again. */
	ck_assert_int_eq(vs.v->run->immediate_exit, 0);
	vcpus_resume(&vs);
	while (__atomic_load_n(&fake.entries_after_io, __ATOMIC_ACQUIRE) < 2)
		usleep(1000);
	teardown_one_vcpu();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vcpu");
	TCase *tc = tcase_create("threads");

	tcase_add_test(tc, test_vcpu_kick_handler_installed_at_init);
	tcase_add_test(tc, test_vcpu_completes_pending_io_before_parking);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
