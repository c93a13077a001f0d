/*
 * Platform detection for `site add --platform auto` and `site detect`.
 * (Being written.)
 */
#include "config.h"

#include "adapter.h"
