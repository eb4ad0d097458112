/*
 * acpi_pm.c - the ACPI fixed hardware a non-reduced FADT promises: PM1a status/enable
 * (write-1-to-clear status, the power button), PM1a control (SCI_EN, sleep to S5), a 32-bit
 * PM timer at 3.579545 MHz, and the FADT reset register. Sleep and reset become requests.
 */
#include "acpi_pm.h"
#include "core/aml.h"
#include "core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define PM_TIMER_HZ 3579545ull

struct acpi_pm {
	pthread_mutex_t lock;
	struct acpi_pm_config cfg;
	uint16_t sts, en, cnt;
	int sci_level;
};

static void sci_update(struct acpi_pm *pm)
{
	int level = (pm->sts & pm->en) != 0;

	if (level != pm->sci_level) {
		pm->sci_level = level;
		irq_line_set(&pm->cfg.sci, level);
	}
}

int acpi_pm_create(const struct acpi_pm_config *cfg, struct acpi_pm **out)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));

	if (!pm)
		return -ENOMEM;
	pthread_mutex_init(&pm->lock, NULL);
	pm->cfg = *cfg;
	*out = pm;
	return 0;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	if (!pm)
		return;
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

void acpi_pm_reset(struct acpi_pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->sts = pm->en = pm->cnt = 0;
	sci_update(pm);
	pthread_mutex_unlock(&pm->lock);
}

static uint32_t pm_timer_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)(((unsigned __int128)ts.tv_sec * 1000000000ull + ts.tv_nsec) *
			  PM_TIMER_HZ / 1000000000ull);
}

/* The 12-byte block as one little-endian image, so any access size composes naturally. */
static void pm_image(struct acpi_pm *pm, uint8_t img[ACPI_PM_LEN])
{
	uint32_t tmr = pm_timer_now();

	img[0] = (uint8_t)pm->sts;
	img[1] = (uint8_t)(pm->sts >> 8);
	img[2] = (uint8_t)pm->en;
	img[3] = (uint8_t)(pm->en >> 8);
	img[4] = (uint8_t)(pm->cnt | ACPI_PM1_CNT_SCI_EN);
	img[5] = (uint8_t)(pm->cnt >> 8);
	img[6] = img[7] = 0;
	for (int i = 0; i < 4; i++)
		img[8 + i] = (uint8_t)(tmr >> (8 * i));
}

static void pm_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	struct acpi_pm *pm = opaque;
	uint8_t img[ACPI_PM_LEN];

	pthread_mutex_lock(&pm->lock);
	pm_image(pm, img);
	pthread_mutex_unlock(&pm->lock);
	for (unsigned i = 0; i < len; i++)
		((uint8_t *)data)[i] = img[offset + i];
}

static void pm_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct acpi_pm *pm = opaque;
	const uint8_t *b = data;
	int sleep_s5 = 0;

	pthread_mutex_lock(&pm->lock);
	for (unsigned i = 0; i < len; i++) {
		unsigned reg = (unsigned)offset + i;
		unsigned shift = (reg & 1) * 8;
		uint16_t v = (uint16_t)(b[i] << shift);

		switch (reg) {
		case 0:
		case 1: /* status: write 1 to clear */
			pm->sts &= (uint16_t)~v;
			break;
		case 2:
		case 3:
			pm->en = (uint16_t)((pm->en & ~(0xff << shift)) | v);
			break;
		case 4:
		case 5:
			pm->cnt = (uint16_t)((pm->cnt & ~(0xff << shift)) | v);
			break;
		default:
			break; /* padding and the read-only timer */
		}
	}
	/* SLP_EN is write-only: act on it once the whole access has landed. */
	if (pm->cnt & ACPI_PM1_CNT_SLP_EN) {
		unsigned typ = (pm->cnt & ACPI_PM1_CNT_SLP_TYP_MASK) >> ACPI_PM1_CNT_SLP_TYP_SHIFT;

		pm->cnt &= (uint16_t)~ACPI_PM1_CNT_SLP_EN;
		if (typ == ACPI_S5_SLP_TYP)
			sleep_s5 = 1;
		else
			pr_guest_debug("acpi: sleep type %u is not supported, ignored", typ);
	}
	sci_update(pm);
	pthread_mutex_unlock(&pm->lock);
	if (sleep_s5)
		request_post(&pm->cfg.sink, VM_REQ_SHUTDOWN, CAUSE_GUEST_SHUTDOWN);
}

const struct bus_ops acpi_pm_bus_ops = {
	.read = pm_read,
	.write = pm_write,
	.sizes = BUS_SIZE_1 | BUS_SIZE_2 | BUS_SIZE_4,
};

static void reset_read(void *opaque, uint64_t offset, void *data, unsigned len)
{
	(void)opaque;
	(void)offset;
	(void)len;
	*(uint8_t *)data = 0;
}

static void reset_write(void *opaque, uint64_t offset, const void *data, unsigned len)
{
	struct acpi_pm *pm = opaque;
	uint8_t v = *(const uint8_t *)data;

	(void)offset;
	(void)len;
	if (v == ACPI_RESET_VALUE)
		request_post(&pm->cfg.sink, VM_REQ_RESET, CAUSE_GUEST_RESET);
	else
		pr_guest_debug("acpi: reset register write 0x%02x ignored", v);
}

const struct bus_ops acpi_reset_bus_ops = {
	.read = reset_read,
	.write = reset_write,
	.sizes = BUS_SIZE_1,
};

void acpi_pm_press_power_button(struct acpi_pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->sts |= ACPI_PM1_PWRBTN;
	sci_update(pm);
	pthread_mutex_unlock(&pm->lock);
}

/* Name (\_S5, Package (4) { typ, typ, 0, 0 }): the SLP_TYP values for PM1a and PM1b. */
static void acpi_pm_aml(struct aml *a, const struct fw_acpi_hw *hw)
{
	size_t mark;

	if (!hw->has_s5)
		return;
	aml_byte(a, AML_NAME);
	aml_namestring(a, "\\_S5");
	aml_byte(a, AML_PACKAGE);
	mark = aml_pkg_begin(a);
	aml_byte(a, 4);
	aml_integer(a, hw->s5_slp_typ);
	aml_integer(a, hw->s5_slp_typ);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_pkg_end(a, mark);
}

void acpi_pm_fill_fw(struct fw_desc *fw, bool has_s5)
{
	fw->acpi.pm1a_evt = ACPI_PM1_EVT;
	fw->acpi.pm1a_cnt = ACPI_PM1_CNT;
	fw->acpi.pm_tmr = ACPI_PM_TMR;
	fw->acpi.reset_port = ACPI_RESET_PORT;
	fw->acpi.reset_value = ACPI_RESET_VALUE;
	fw->acpi.sci_irq = ACPI_SCI_IRQ;
	fw->acpi.s5_slp_typ = ACPI_S5_SLP_TYP;
	fw->acpi.has_s5 = has_s5;
	fw->acpi.aml = acpi_pm_aml;
}
