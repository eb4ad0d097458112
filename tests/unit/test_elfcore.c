/* test_elfcore.c - the ELF core writer against a fake guest memory layout, read back by a parser.
 */
#include <check.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/elfcore.h"
#include "tests/unit/unit.h"

#define LOW_SIZE  (2u << 20) /* 2 MiB at 0 */
#define HIGH_SIZE (1u << 20) /* 1 MiB at 4 GiB */
#define HIGH_GPA  0x100000000ull

static const char info[] = "OSRELEASE=6.12.0\nPAGESIZE=4096\nSYMBOL(init_uts_ns)=ffffffff8\n";

/* A fake guest: two regions like guest_mem's, data on a few pages, the rest zero. */
static void fake_mem(struct guest_mem *gm)
{
	memset(gm, 0, sizeof(*gm));
	gm->regions[0] = (struct guest_region){ 0, LOW_SIZE, NULL };
	gm->regions[1] = (struct guest_region){ HIGH_GPA, HIGH_SIZE, NULL };
	gm->nregions = 2;
	gm->ram_size = LOW_SIZE + HIGH_SIZE;
	for (unsigned i = 0; i < 2; i++) {
		void *p = mmap(NULL, gm->regions[i].size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		ck_assert_ptr_ne(p, MAP_FAILED);
		gm->regions[i].host = p;
	}
	memset(gm->regions[0].host + 0x1000, 0xaa, 0x1000);  /* page 1 */
	memset(gm->regions[0].host + 0x100000, 0x55, 10);    /* a few bytes at 1 MiB */
	gm->regions[0].host[LOW_SIZE - 1] = 0x77;	     /* the very last byte */
	memcpy(gm->regions[1].host + 0x3000, "high ram", 8); /* above 4 GiB */
}

/* Every register of vcpu @i a value of its own: (i + 1) << 8 | the register's number here. */
static void fake_cpus(struct cpu_regs *c, unsigned n)
{
	memset(c, 0, n * sizeof(*c));
	for (unsigned i = 0; i < n; i++) {
		uint64_t *r = (uint64_t *)&c[i];

		for (unsigned k = 0; k < sizeof(c[i]) / sizeof(uint64_t); k++)
			r[k] = (uint64_t)(i + 1) << 8 | k;
	}
}

/* @regs (NT_PRSTATUS's elf_gregset_t) holds @c in user_regs_struct's order, written out here
 * slot by slot so that the test does not reuse the writer's own mapping. */
static void check_gregs(const uint8_t *regs, const struct cpu_regs *c)
{
	const uint64_t want[27] = {
		c->r15,	   c->r14, c->r13, c->r12,     c->rbp,	   c->rbx, c->r11, c->r10, c->r9,
		c->r8,	   c->rax, c->rcx, c->rdx,     c->rsi,	   c->rdi, 0,	   c->rip, c->cs,
		c->rflags, c->rsp, c->ss,  c->fs_base, c->gs_base, c->ds,  c->es,  c->fs,  c->gs,
	};

	for (unsigned k = 0; k < 27; k++) {
		uint64_t v;

		memcpy(&v, regs + 8 * k, 8);
		ck_assert_msg(v == want[k], "gregset slot %u: 0x%llx, want 0x%llx", k,
			      (unsigned long long)v, (unsigned long long)want[k]);
	}
}

static int tmpfile_fd(char *path)
{
	int fd;

	strcpy(path, "/tmp/test_elfcore.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	return fd;
}

static uint8_t *slurp(int fd, size_t *len)
{
	struct stat st;
	uint8_t *buf;

	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
	*len = (size_t)st.st_size;
	return buf;
}

/* Parse @core as a reader would and check it against @gm, @cpus and the VMCOREINFO text. */
static void check_core(const uint8_t *core, size_t len, const struct elfcore_range *r, unsigned nr,
		       const struct cpu_regs *cpus, unsigned ncpus, const char *vmci)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)core;
	const Elf64_Phdr *ph;
	const uint8_t *p, *end;
	unsigned nprs = 0, nvmci = 0;

	ck_assert_uint_ge(len, sizeof(*eh));
	ck_assert_mem_eq(eh->e_ident, ELFMAG, SELFMAG);
	ck_assert_uint_eq(eh->e_ident[EI_CLASS], ELFCLASS64);
	ck_assert_uint_eq(eh->e_ident[EI_DATA], ELFDATA2LSB);
	ck_assert_uint_eq(eh->e_type, ET_CORE);
	ck_assert_uint_eq(eh->e_machine, EM_X86_64);
	ck_assert_uint_eq(eh->e_phentsize, sizeof(Elf64_Phdr));
	ck_assert_uint_eq(eh->e_phnum, 1 + nr);
	ph = (const Elf64_Phdr *)(core + eh->e_phoff);

	ck_assert_uint_eq(ph[0].p_type, PT_NOTE);
	ck_assert_uint_le(ph[0].p_offset + ph[0].p_filesz, len);
	p = core + ph[0].p_offset;
	end = p + ph[0].p_filesz;
	while (p < end) {
		const Elf64_Nhdr *n = (const Elf64_Nhdr *)p;
		const char *name = (const char *)(n + 1);
		const uint8_t *desc = (const uint8_t *)name + ((n->n_namesz + 3) & ~3u);

		ck_assert_uint_le((size_t)(desc - p) + n->n_descsz, (size_t)(end - p));
		if (n->n_type == NT_PRSTATUS && !strcmp(name, "CORE")) {
			uint32_t pid;

			ck_assert_uint_eq(n->n_descsz, ELFCORE_PRSTATUS_SIZE);
			ck_assert_uint_lt(nprs, ncpus);
			memcpy(&pid, desc + ELFCORE_PRSTATUS_PID, 4);
			ck_assert_uint_eq(pid, nprs + 1);
			check_gregs(desc + ELFCORE_PRSTATUS_REGS, &cpus[nprs]);
			nprs++;
		} else if (!strcmp(name, "VMCOREINFO")) {
			ck_assert_ptr_nonnull(vmci);
			ck_assert_uint_eq(n->n_descsz, strlen(vmci));
			ck_assert_mem_eq(desc, vmci, n->n_descsz);
			nvmci++;
		} else {
			ck_abort_msg("unexpected note %s type %u", name, n->n_type);
		}
		p = desc + ((n->n_descsz + 3) & ~3u);
	}
	ck_assert_uint_eq(nprs, ncpus);
	ck_assert_uint_eq(nvmci, vmci ? 1 : 0);

	for (unsigned i = 0; i < nr; i++) {
		const Elf64_Phdr *l = &ph[1 + i];

		ck_assert_uint_eq(l->p_type, PT_LOAD);
		ck_assert_uint_eq(l->p_paddr, r[i].gpa);
		ck_assert_uint_eq(l->p_filesz, r[i].size);
		ck_assert_uint_eq(l->p_memsz, r[i].size);
		ck_assert_uint_ge(l->p_offset, ph[0].p_offset + ph[0].p_filesz);
		ck_assert_uint_le(l->p_offset + l->p_filesz, len);
		ck_assert_msg(!memcmp(core + l->p_offset, r[i].host, r[i].size),
			      "PT_LOAD %u differs from guest RAM", i);
	}
}

START_TEST(test_core_whole)
{
	struct guest_mem gm;
	struct elfcore_range r[ELFCORE_MAX_RANGES];
	struct cpu_regs cpus[3];
	struct elfcore_desc d = { r, 0, cpus, 3, info, strlen(info) };
	char path[64];
	int fd = tmpfile_fd(path), n;
	uint64_t done = 0;
	uint8_t *core;
	size_t len;
	struct stat st;

	fake_mem(&gm);
	fake_cpus(cpus, 3);
	n = elfcore_ranges(&gm, 0, 0, r);
	ck_assert_int_eq(n, 2);
	d.nranges = (unsigned)n;
	ck_assert_int_eq(elfcore_write(fd, &d, &done), 0);
	core = slurp(fd, &len);
	ck_assert_uint_eq(len, elfcore_size(&d));
	ck_assert_uint_eq(done, len);
	check_core(core, len, r, 2, cpus, 3, info);
	/* RAM above 4 GiB is there with its address. */
	ck_assert_uint_eq(r[1].gpa, HIGH_GPA);
	/* Sparse: 3 MiB of mostly zeroes take a few pages of disk, not 3 MiB. */
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_msg(st.st_blocks * 512 < 256 * 1024, "core not sparse: %lld bytes on disk",
		      (long long)st.st_blocks * 512);
	/* The last byte of low RAM, after a long run of zero pages, is data. */
	ck_assert_uint_eq(core[((Elf64_Phdr *)(core + 64))[1].p_offset + LOW_SIZE - 1], 0x77);
	free(core);
	close(fd);
	unlink(path);
}
END_TEST

START_TEST(test_core_no_vmcoreinfo_window)
{
	struct guest_mem gm;
	struct elfcore_range r[ELFCORE_MAX_RANGES];
	struct cpu_regs cpus[1];
	struct elfcore_desc d = { r, 0, cpus, 1, NULL, 0 };
	char path[64];
	int fd = tmpfile_fd(path), n;
	uint8_t *core;
	size_t len;

	fake_mem(&gm);
	fake_cpus(cpus, 1);
	/* begin/length: an unaligned window that covers only part of low RAM. */
	n = elfcore_ranges(&gm, 0x1800, 0x100000, r);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(r[0].gpa, 0x1800);
	ck_assert_uint_eq(r[0].size, 0x100000);
	d.nranges = 1;
	ck_assert_int_eq(elfcore_write(fd, &d, NULL), 0);
	core = slurp(fd, &len);
	check_core(core, len, r, 1, cpus, 1, NULL);
	free(core);
	close(fd);
	unlink(path);
}
END_TEST

START_TEST(test_ranges_bad)
{
	struct guest_mem gm;
	struct elfcore_range r[ELFCORE_MAX_RANGES];

	fake_mem(&gm);
	/* Only in the hole, past the end, overflowing: refused. */
	ck_assert_int_eq(elfcore_ranges(&gm, 0xC0000000, 0x1000, r), -EINVAL);
	ck_assert_int_eq(elfcore_ranges(&gm, HIGH_GPA + HIGH_SIZE, 1, r), -EINVAL);
	ck_assert_int_eq(elfcore_ranges(&gm, ~0ull - 5, 10, r), -EINVAL);
	/* Straddling the hole: both sides, clipped. */
	ck_assert_int_eq(elfcore_ranges(&gm, LOW_SIZE - 0x1000, HIGH_GPA - LOW_SIZE + 0x3000, r),
			 2);
	ck_assert_uint_eq(r[0].size, 0x1000);
	ck_assert_uint_eq(r[1].gpa, HIGH_GPA);
	ck_assert_uint_eq(r[1].size, 0x2000);
}
END_TEST

START_TEST(test_core_pipe)
{
	/* A pipe cannot seek: zero pages are written as zeroes, the core is the same. */
	struct guest_mem gm;
	struct elfcore_range r[ELFCORE_MAX_RANGES];
	struct cpu_regs cpus[2];
	struct elfcore_desc d = { r, 0, cpus, 2, info, strlen(info) };
	int p[2], n;
	uint8_t *core;
	size_t len = 0;
	ssize_t got;

	fake_mem(&gm);
	fake_cpus(cpus, 2);
	n = elfcore_ranges(&gm, 0, 0x40000, r); /* 256 KiB: fits the pipe */
	ck_assert_int_eq(n, 1);
	d.nranges = 1;
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_ge(fcntl(p[1], F_SETPIPE_SZ, 1 << 20), (int)elfcore_size(&d));
	ck_assert_int_eq(elfcore_write(p[1], &d, NULL), 0);
	close(p[1]);
	core = malloc(elfcore_size(&d) + 1);
	while ((got = read(p[0], core + len, elfcore_size(&d) + 1 - len)) > 0)
		len += (size_t)got;
	ck_assert_uint_eq(len, elfcore_size(&d));
	check_core(core, len, r, 1, cpus, 2, info);
	free(core);
	close(p[0]);
}
END_TEST

START_TEST(test_write_error)
{
	struct guest_mem gm;
	struct elfcore_range r[ELFCORE_MAX_RANGES];
	struct elfcore_desc d = { r, 0, NULL, 0, NULL, 0 };
	int fd = open("/dev/full", O_WRONLY);

	fake_mem(&gm);
	d.nranges = (unsigned)elfcore_ranges(&gm, 0, 0, r);
	if (fd < 0)
		return;
	ck_assert_int_eq(elfcore_write(fd, &d, NULL), -ENOSPC);
	close(fd);
	/* A VMCOREINFO larger than any kernel's is refused, not written. */
	d.vmcoreinfo = info;
	d.vmcoreinfo_len = ELFCORE_VMCOREINFO_MAX + 1;
	ck_assert_int_eq(elfcore_write(1, &d, NULL), -EINVAL);
}
END_TEST

START_TEST(test_readelf)
{
	/* binutils reads it as a core with the notes crash and makedumpfile look for. */
	struct guest_mem gm;
	struct elfcore_range r[ELFCORE_MAX_RANGES];
	struct cpu_regs cpus[2];
	struct elfcore_desc d = { r, 0, cpus, 2, info, strlen(info) };
	char path[64], cmd[160], line[256];
	int fd, prs = 0, vmci = 0, core = 0, loads = 0;
	FILE *f;

	if (access("/usr/bin/readelf", X_OK))
		return; /* binutils not installed */
	fd = tmpfile_fd(path);
	fake_mem(&gm);
	fake_cpus(cpus, 2);
	d.nranges = (unsigned)elfcore_ranges(&gm, 0, 0, r);
	ck_assert_int_eq(elfcore_write(fd, &d, NULL), 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "LC_ALL=C readelf -W -h -l -n %s 2>&1", path);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		ck_assert_msg(!strstr(line, "Warning") && !strstr(line, "Error"), "readelf: %s",
			      line);
		core += strstr(line, "CORE (Core file)") != NULL;
		prs += strstr(line, "NT_PRSTATUS") != NULL;
		vmci += strstr(line, "VMCOREINFO") != NULL;
		loads += strstr(line, "LOAD") != NULL && strstr(line, "0x0000000100000000") != NULL;
	}
	ck_assert_int_eq(pclose(f), 0);
	unlink(path);
	ck_assert_int_eq(core, 1);
	ck_assert_int_eq(prs, 2);
	ck_assert_int_eq(vmci, 1);
	ck_assert_int_eq(loads, 1);
}
END_TEST

/* Put a note named @name with @desc at @gpa, as Linux lays out its vmcoreinfo_note. */
static void put_note(struct guest_mem *gm, uint64_t gpa, const char *name, const char *desc,
		     uint32_t descsz)
{
	Elf64_Nhdr h = { (Elf64_Word)strlen(name) + 1, descsz, 0 };
	uint8_t buf[256] = { 0 };

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), name, strlen(name));
	memcpy(buf + sizeof(h) + ((h.n_namesz + 3) & ~3u), desc, strlen(desc));
	ck_assert_int_eq(guest_mem_write(gm, gpa, buf, sizeof(buf)), 0);
}

START_TEST(test_guest_vmcoreinfo)
{
	struct guest_mem gm;
	const char *d;
	size_t len;

	fake_mem(&gm);
	put_note(&gm, 0x8000, "VMCOREINFO", "OSRELEASE=6.12\n", 15);
	ck_assert_int_eq(elfcore_guest_vmcoreinfo(&gm, 0x8000, 4132, &d, &len), 0);
	ck_assert_uint_eq(len, 15);
	ck_assert_mem_eq(d, "OSRELEASE=6.12\n", 15);
	ck_assert_ptr_eq(d, (const char *)gm.regions[0].host + 0x8000 + 24);
	/* What a guest may get wrong or lie about: all refused, nothing read outside RAM. */
	ck_assert_int_eq(elfcore_guest_vmcoreinfo(&gm, 0x8000, 23, &d, &len), -EINVAL);
	ck_assert_int_eq(elfcore_guest_vmcoreinfo(&gm, 0x8000, 30, &d, &len), -EINVAL);
	ck_assert_int_eq(elfcore_guest_vmcoreinfo(&gm, LOW_SIZE - 100, 4132, &d, &len), -EINVAL);
	ck_assert_int_eq(elfcore_guest_vmcoreinfo(&gm, 0xC0000000, 4132, &d, &len), -EINVAL);
	ck_assert_int_eq(elfcore_guest_vmcoreinfo(&gm, ~0ull - 10, 4132, &d, &len), -EINVAL);
	ck_assert_int_eq(elfcore_guest_vmcoreinfo(&gm, 0x8000, 0xffffffff, &d, &len), -EINVAL);
	put_note(&gm, 0x9000, "VMCOREINFX", "A=b\n", 4);
	ck_assert_int_eq(elfcore_guest_vmcoreinfo(&gm, 0x9000, 4132, &d, &len), -EINVAL);
	put_note(&gm, 0x9000, "CORE", "A=b\n", 4);
	ck_assert_int_eq(elfcore_guest_vmcoreinfo(&gm, 0x9000, 4132, &d, &len), -EINVAL);
	put_note(&gm, 0x9000, "VMCOREINFO", "A=b\n", 5000); /* longer than the area */
	ck_assert_int_eq(elfcore_guest_vmcoreinfo(&gm, 0x9000, 4132, &d, &len), -EINVAL);
	put_note(&gm, 0x9000, "VMCOREINFO", "A=b\n", ELFCORE_VMCOREINFO_MAX + 1);
	ck_assert_int_eq(elfcore_guest_vmcoreinfo(&gm, 0x9000, LOW_SIZE - 0x9000, &d, &len),
			 -EINVAL);
	/* Above 4 GiB is RAM too. */
	put_note(&gm, HIGH_GPA + 0x100, "VMCOREINFO", "A=b\n", 4);
	ck_assert_int_eq(elfcore_guest_vmcoreinfo(&gm, HIGH_GPA + 0x100, 4132, &d, &len), 0);
	ck_assert_uint_eq(len, 4);
}
END_TEST

START_TEST(test_find_vmcoreinfo)
{
	struct guest_mem gm;
	uint64_t paddr;
	uint32_t size;

	fake_mem(&gm);
	ck_assert_int_eq(elfcore_find_vmcoreinfo(&gm, &paddr, &size), -ENOENT);
	/* Decoys: not page-aligned, not starting with OSRELEASE=, another name. */
	put_note(&gm, 0x10010, "VMCOREINFO", "OSRELEASE=6.12\n", 15);
	put_note(&gm, 0x11000, "VMCOREINFO", "PAGESIZE=4096\n", 14);
	put_note(&gm, 0x12000, "VMCOREINFX", "OSRELEASE=6.12\n", 15);
	ck_assert_int_eq(elfcore_find_vmcoreinfo(&gm, &paddr, &size), -ENOENT);
	/* The real one, above 4 GiB; then a page-aligned one below, which comes first. */
	put_note(&gm, HIGH_GPA + HIGH_SIZE - 0x1000, "VMCOREINFO", "OSRELEASE=6.12\n", 15);
	ck_assert_int_eq(elfcore_find_vmcoreinfo(&gm, &paddr, &size), 0);
	ck_assert_uint_eq(paddr, HIGH_GPA + HIGH_SIZE - 0x1000);
	ck_assert_uint_eq(size, 0x1000); /* clipped at the end of RAM */
	put_note(&gm, 0x13000, "VMCOREINFO", "OSRELEASE=6.1\n", 14);
	ck_assert_int_eq(elfcore_find_vmcoreinfo(&gm, &paddr, &size), 0);
	ck_assert_uint_eq(paddr, 0x13000);
	ck_assert_uint_eq(size, 0x2000);
}
END_TEST

static Suite *elfcore_suite(void)
{
	Suite *s = suite_create("elfcore");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_core_whole);
	tcase_add_test(tc, test_core_no_vmcoreinfo_window);
	tcase_add_test(tc, test_ranges_bad);
	tcase_add_test(tc, test_core_pipe);
	tcase_add_test(tc, test_write_error);
	tcase_add_test(tc, test_readelf);
	tcase_add_test(tc, test_guest_vmcoreinfo);
	tcase_add_test(tc, test_find_vmcoreinfo);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(elfcore_suite());
}
