/* unit.h - the one way the unit-test executables run their Check suite. */
#ifndef MINIVMM_UNIT_H
#define MINIVMM_UNIT_H

#include <check.h>

/* Run every test of @s (forking per test unless CK_FORK=no); exit status 0 iff all passed. */
static inline int unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

#endif
