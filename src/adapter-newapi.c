/*
 * The New API family: New API, and its relatives AnyRouter, Veloera and
 * the original One API, which differ in headers, paths and quirks.
 * (Being written: the operations are filled in one by one.)
 */
#include "config.h"

#include "adapter.h"

const struct adapter_ops adapter_newapi_ops = {
	.name = "new-api", .label = "New API", .flags = ADAPTER_MANAGED,
};
const struct adapter_ops adapter_anyrouter_ops = {
	.name = "anyrouter", .label = "AnyRouter", .flags = ADAPTER_MANAGED,
};
const struct adapter_ops adapter_veloera_ops = {
	.name = "veloera", .label = "Veloera", .flags = ADAPTER_MANAGED,
};
const struct adapter_ops adapter_oneapi_ops = {
	.name = "one-api", .label = "One API", .flags = ADAPTER_MANAGED,
};
