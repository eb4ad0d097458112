/* elfcore.c - the ELF64 core writer: headers, PRSTATUS and VMCOREINFO notes, sparse PT_LOADs. */
#include "elfcore.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOTE_ALIGN(x) (((x) + 3) & ~(uint64_t)3)
#define CHUNK	      (1u << 20) /* most bytes handed to one write() */

int elfcore_ranges(const struct guest_mem *gm, uint64_t begin, uint64_t length,
		   struct elfcore_range *out)
{
	uint64_t end = begin + length;
	int n = 0;

	if (length && end < begin)
		return -EINVAL;
	for (unsigned i = 0; i < gm->nregions && n < ELFCORE_MAX_RANGES; i++) {
		const struct guest_region *r = &gm->regions[i];
		uint64_t lo = r->gpa, hi = r->gpa + r->size;

		if (length) {
			lo = lo > begin ? lo : begin;
			hi = hi < end ? hi : end;
		}
		if (lo >= hi)
			continue;
		out[n].gpa = lo;
		out[n].size = hi - lo;
		out[n].host = r->host + (lo - r->gpa);
		n++;
	}
	return n ? n : -EINVAL;
}

int elfcore_guest_vmcoreinfo(const struct guest_mem *gm, uint64_t paddr, uint32_t size,
			     const char **desc, size_t *len)
{
	const uint64_t head = sizeof(Elf64_Nhdr) + NOTE_ALIGN(sizeof("VMCOREINFO"));
	const uint8_t *p = size >= head ? guest_mem_ptr(gm, paddr, size) : NULL;
	Elf64_Nhdr h;

	if (!p)
		return -EINVAL;
	memcpy(&h, p, sizeof(h));
	if (h.n_namesz != sizeof("VMCOREINFO") || memcmp(p + sizeof(h), "VMCOREINFO", 11) ||
	    h.n_descsz > size - head || h.n_descsz > ELFCORE_VMCOREINFO_MAX)
		return -EINVAL;
	*desc = (const char *)p + head;
	*len = h.n_descsz;
	return 0;
}

int elfcore_find_vmcoreinfo(const struct guest_mem *gm, uint64_t *paddr, uint32_t *size)
{
	static const uint8_t head[] = { 11, 0, 0, 0 };

	for (unsigned i = 0; i < gm->nregions; i++) {
		const struct guest_region *r = &gm->regions[i];

		for (uint64_t off = 0; off + ELFCORE_PAGE <= r->size; off += ELFCORE_PAGE) {
			uint64_t left = r->size - off;
			uint32_t n = left < 2 * ELFCORE_PAGE ? (uint32_t)left : 2 * ELFCORE_PAGE;
			const char *desc;
			size_t len;

			/* The cheap test first: n_namesz is 11 and the name follows. */
			if (memcmp(r->host + off, head, sizeof(head)) ||
			    memcmp(r->host + off + sizeof(Elf64_Nhdr), "VMCOREINFO", 11))
				continue;
			if (!elfcore_guest_vmcoreinfo(gm, r->gpa + off, n, &desc, &len) &&
			    len >= 10 && !memcmp(desc, "OSRELEASE=", 10)) {
				*paddr = r->gpa + off;
				*size = n;
				return 0;
			}
		}
	}
	return -ENOENT;
}

static uint64_t note_size(size_t namesz, size_t descsz)
{
	return sizeof(Elf64_Nhdr) + NOTE_ALIGN(namesz) + NOTE_ALIGN(descsz);
}

static uint64_t notes_size(const struct elfcore_desc *d)
{
	uint64_t n = d->ncpus * note_size(sizeof("CORE"), ELFCORE_PRSTATUS_SIZE);

	if (d->vmcoreinfo)
		n += note_size(sizeof("VMCOREINFO"), d->vmcoreinfo_len);
	return n;
}

static uint64_t data_offset(const struct elfcore_desc *d)
{
	uint64_t off = sizeof(Elf64_Ehdr) + (1 + d->nranges) * sizeof(Elf64_Phdr) + notes_size(d);

	return (off + ELFCORE_PAGE - 1) & ~(uint64_t)(ELFCORE_PAGE - 1);
}

uint64_t elfcore_size(const struct elfcore_desc *d)
{
	uint64_t n = data_offset(d);

	for (unsigned i = 0; i < d->nranges; i++)
		n += d->ranges[i].size;
	return n;
}

static int write_all(int fd, const void *buf, uint64_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len < CHUNK ? len : CHUNK);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		p += w;
		len -= (uint64_t)w;
	}
	return 0;
}

static uint8_t *put_note(uint8_t *p, const char *name, uint32_t type, const void *desc,
			 size_t descsz)
{
	Elf64_Nhdr h = { .n_namesz = (Elf64_Word)(strlen(name) + 1),
			 .n_descsz = (Elf64_Word)descsz,
			 .n_type = type };

	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	memcpy(p, name, h.n_namesz); /* the buffer is zeroed: padding stays 0 */
	p += NOTE_ALIGN(h.n_namesz);
	memcpy(p, desc, descsz);
	return p + NOTE_ALIGN(descsz);
}

uint64_t elfcore_notes_size(const struct elfcore_desc *d)
{
	return notes_size(d);
}

void elfcore_prstatus_regs(const struct cpu_regs *c, struct elfcore_regs *o)
{
	*o = (struct elfcore_regs){
		.r15 = c->r15,
		.r14 = c->r14,
		.r13 = c->r13,
		.r12 = c->r12,
		.rbp = c->rbp,
		.rbx = c->rbx,
		.r11 = c->r11,
		.r10 = c->r10,
		.r9 = c->r9,
		.r8 = c->r8,
		.rax = c->rax,
		.rcx = c->rcx,
		.rdx = c->rdx,
		.rsi = c->rsi,
		.rdi = c->rdi,
		.rip = c->rip,
		.cs = c->cs,
		.eflags = c->rflags,
		.rsp = c->rsp,
		.ss = c->ss,
		.fs_base = c->fs_base,
		.gs_base = c->gs_base,
		.ds = c->ds,
		.es = c->es,
		.fs = c->fs,
		.gs = c->gs,
	};
}

uint64_t elfcore_notes(const struct elfcore_desc *d, uint8_t *buf)
{
	uint8_t *p = buf;
	uint64_t vmci = 0;

	for (unsigned i = 0; i < d->ncpus; i++) {
		uint8_t prs[ELFCORE_PRSTATUS_SIZE] = { 0 };
		uint32_t pid = i + 1;
		struct elfcore_regs regs;

		elfcore_prstatus_regs(&d->cpus[i], &regs);
		memcpy(prs + ELFCORE_PRSTATUS_PID, &pid, sizeof(pid));
		memcpy(prs + ELFCORE_PRSTATUS_REGS, &regs, sizeof(regs));
		p = put_note(p, "CORE", NT_PRSTATUS, prs, sizeof(prs));
	}
	if (d->vmcoreinfo) {
		vmci = (uint64_t)(p - buf) + sizeof(Elf64_Nhdr) + NOTE_ALIGN(sizeof("VMCOREINFO"));
		put_note(p, "VMCOREINFO", 0, d->vmcoreinfo, d->vmcoreinfo_len);
	}
	return vmci;
}

/* The headers and notes: everything before the first page of RAM. */
static int write_head(int fd, const struct elfcore_desc *d)
{
	uint64_t head = data_offset(d), off;
	uint8_t *buf = calloc(1, head), *p;
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	Elf64_Phdr *ph = (Elf64_Phdr *)(buf + sizeof(*eh));
	int ret;

	if (!buf)
		return -ENOMEM;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh->e_type = ET_CORE;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = (Elf64_Half)(1 + d->nranges);

	p = (uint8_t *)(ph + 1 + d->nranges);
	ph[0].p_type = PT_NOTE;
	ph[0].p_offset = (uint64_t)(p - buf);
	ph[0].p_filesz = ph[0].p_memsz = notes_size(d);
	elfcore_notes(d, p);

	off = head;
	for (unsigned i = 0; i < d->nranges; i++) {
		Elf64_Phdr *l = &ph[1 + i];

		l->p_type = PT_LOAD;
		l->p_flags = PF_R | PF_W | PF_X;
		l->p_offset = off;
		l->p_paddr = d->ranges[i].gpa;
		l->p_vaddr = 0; /* physical only: no guest page tables are walked */
		l->p_filesz = l->p_memsz = d->ranges[i].size;
		off += d->ranges[i].size;
	}
	ret = write_all(fd, buf, head);
	free(buf);
	return ret;
}

static int page_is_zero(const uint8_t *p, uint64_t len)
{
	const uint64_t *q = (const uint64_t *)p;

	for (uint64_t i = 0; i < len / 8; i++)
		if (q[i])
			return 0;
	for (uint64_t i = len & ~(uint64_t)7; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

static uint64_t page_len(const struct elfcore_range *r, uint64_t at)
{
	return r->size - at < ELFCORE_PAGE ? r->size - at : ELFCORE_PAGE;
}

/* One range: runs of data written as they are, runs of zero pages skipped (sparse) or written. */
static int write_range(int fd, const struct elfcore_range *r, int sparse, uint64_t *done)
{
	static const uint8_t zero[ELFCORE_PAGE];
	uint64_t pos = 0, end;
	int ret = 0;

	while (pos < r->size) {
		for (end = pos; end < r->size && end - pos < CHUNK; end += page_len(r, end))
			if (page_is_zero(r->host + end, page_len(r, end)))
				break;
		if (end > pos) {
			ret = write_all(fd, r->host + pos, end - pos);
		} else {
			for (; end < r->size; end += page_len(r, end))
				if (!page_is_zero(r->host + end, page_len(r, end)))
					break;
			if (sparse && lseek(fd, (off_t)(end - pos), SEEK_CUR) < 0)
				ret = -errno;
			for (uint64_t z = pos; !sparse && !ret && z < end; z += page_len(r, z))
				ret = write_all(fd, zero, page_len(r, z));
		}
		if (ret)
			return ret;
		if (done)
			__atomic_add_fetch(done, end - pos, __ATOMIC_RELAXED);
		pos = end;
	}
	return 0;
}

int elfcore_write(int fd, const struct elfcore_desc *d, uint64_t *done)
{
	struct stat st;
	off_t start;
	int sparse, ret;

	if (d->vmcoreinfo && d->vmcoreinfo_len > ELFCORE_VMCOREINFO_MAX)
		return -EINVAL;
	sparse = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	start = sparse ? lseek(fd, 0, SEEK_CUR) : 0;
	if (start < 0)
		return -errno;
	if (done)
		__atomic_store_n(done, 0, __ATOMIC_RELAXED);
	ret = write_head(fd, d);
	if (ret)
		return ret;
	if (done)
		__atomic_add_fetch(done, data_offset(d), __ATOMIC_RELAXED);
	for (unsigned i = 0; i < d->nranges; i++) {
		ret = write_range(fd, &d->ranges[i], sparse, done);
		if (ret)
			return ret;
	}
	/* Trailing holes: the file must still be as long as the last PT_LOAD says. */
	if (sparse && ftruncate(fd, start + (off_t)elfcore_size(d)) < 0)
		return -errno;
	return 0;
}
