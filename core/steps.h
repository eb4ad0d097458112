/* steps.h - an ordered table of setup steps, run in order and undone in reverse. */
#ifndef MINIVMM_STEPS_H
#define MINIVMM_STEPS_H

struct step {
	const char *name;
	int (*init)(void *ctx); /* 0 or -errno */
	/* Undo init, also one that failed half-way (whatever it did before failing); NULL:
	 * nothing to undo. */
	void (*fini)(void *ctx);
};

/*
 * Run @n steps on @ctx in order, counting in *@done those to undo. On a failure, undo the
 * failed step and those before it, in reverse, and return the step's error (*@done is then
 * 0). Timing goes to the debug log.
 */
int steps_run(const struct step *steps, unsigned n, void *ctx, unsigned *done)
    __attribute__((warn_unused_result));

/* Undo the *@done first steps in reverse order and set *@done to 0. */
void steps_unwind(const struct step *steps, unsigned *done, void *ctx);

#endif
