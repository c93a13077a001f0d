/*
 * One Hub and its fork Done Hub.
 * (Being written: the operations are filled in one by one.)
 */
#include "config.h"

#include "adapter.h"

const struct adapter_ops adapter_onehub_ops = {
	.name = "one-hub", .label = "One Hub", .flags = ADAPTER_MANAGED,
};
const struct adapter_ops adapter_donehub_ops = {
	.name = "done-hub", .label = "Done Hub", .flags = ADAPTER_MANAGED,
};
