/* steps.c - an ordered table of setup steps, run in order and undone in reverse. */
#include "steps.h"
#include "log.h"
#include "timer.h"

#include <string.h>

int steps_run(const struct step *steps, unsigned n, void *ctx, unsigned *done)
{
	for (*done = 0; *done < n; ++*done) {
		const struct step *s = &steps[*done];
		int64_t t0 = timer_mono_ns();
		int ret = s->init(ctx);

		pr_debug("setup step '%s': %.2f ms", s->name, (double)(timer_mono_ns() - t0) / 1e6);
		if (ret) {
			pr_debug("setup step '%s' failed: %s", s->name, strerror(-ret));
			++*done; /* what it did before failing is undone by its own fini */
			steps_unwind(steps, done, ctx);
			return ret;
		}
	}
	return 0;
}

void steps_unwind(const struct step *steps, unsigned *done, void *ctx)
{
	while (*done > 0) {
		const struct step *s = &steps[--*done];

		if (s->fini)
			s->fini(ctx);
	}
}
