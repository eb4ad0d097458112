/* kexec-crash.c - guest-side test tool: load a crash kernel with kexec_file_load(2).
 *
 *   kexec-crash KERNEL INITRD "CMDLINE"
 *
 * Uses KEXEC_FILE_ON_CRASH, so the kernel runs only when the running one panics; needs a
 * crashkernel= reservation on the running kernel's command line.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef KEXEC_FILE_ON_CRASH
#define KEXEC_FILE_ON_CRASH 0x00000002
#endif

int main(int argc, char **argv)
{
	int kfd, ifd;
	long ret;

	if (argc != 4) {
		fprintf(stderr, "usage: kexec-crash KERNEL INITRD CMDLINE\n");
		return 2;
	}
	kfd = open(argv[1], O_RDONLY);
	ifd = open(argv[2], O_RDONLY);
	if (kfd < 0 || ifd < 0) {
		perror("kexec-crash: open");
		return 1;
	}
	ret = syscall(SYS_kexec_file_load, kfd, ifd, strlen(argv[3]) + 1, argv[3],
		      (unsigned long)KEXEC_FILE_ON_CRASH);
	if (ret) {
		perror("kexec-crash: kexec_file_load");
		return 1;
	}
	printf("crash kernel loaded\n");
	return 0;
}
