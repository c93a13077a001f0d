/*
 * Shared by the fuzz harnesses and their replay main(): the libFuzzer
 * entry point, and the check that stops a run on a broken invariant.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * An invariant the code under test broke: say which and abort, which
 * libFuzzer reports as a crash and saves the input of.
 */
#define FUZZ_CHECK(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #c);					\
		abort();						\
	}								\
} while (0)

#endif
