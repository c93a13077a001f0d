/*
 * Sub2API: JWT logins under /api/v1, balances already in USD.
 * (Being written: the operations are filled in one by one.)
 */
#include "config.h"

#include "adapter.h"

const struct adapter_ops adapter_sub2api_ops = {
	.name = "sub2api", .label = "Sub2API",
	.flags = ADAPTER_MANAGED | ADAPTER_ANTHROPIC,
};
