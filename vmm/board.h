/* board.h - the PC board: which devices the VM has, where they sit, their reset/teardown list. */
#ifndef MINIVMM_BOARD_H
#define MINIVMM_BOARD_H

struct vm;

/* A device as the machine sees it: filled by the device's attach function, so reset and
 * teardown iterate this list and a new device touches only its own attach function. */
struct board_device {
	const char *name;
	void (*reset)(void *dev);   /* back to power-on state (VM reset); NULL: no state */
	void (*destroy)(void *dev); /* free it; NULL: nothing to free */
	void *dev;
};

#define BOARD_MAX_DEVICES 16

/*
 * Create the buses and put every device on them (COM1 and its console, ACPI PM, PCI host,
 * pvpanics, the reset ports, the watchdog), filling vm->fw. Needs the KVM VM (interrupts)
 * and the main loop. Returns 0 or -errno; board_detach cleans up either way.
 */
int board_attach(struct vm *vm) __attribute__((warn_unused_result));

/* Every device to power-on state, in attach order. Call with the vcpus stopped, before the
 * KVM VM that owns the irqchip is destroyed (lowering interrupt lines needs it). */
void board_reset(struct vm *vm);

/* Destroy every device in reverse attach order, then the console and the buses. */
void board_detach(struct vm *vm);

#endif
