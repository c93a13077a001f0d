/*
 * adapter_table[]: every platform metapi speaks. Specific forks come
 * before the generic endpoints; detect.c decides which one a URL runs.
 */
#include "config.h"

#include <stddef.h>

#include "adapter.h"

const struct adapter_ops *const adapter_table[] = {
	&adapter_anyrouter_ops,
	&adapter_veloera_ops,
	&adapter_donehub_ops,
	&adapter_onehub_ops,
	&adapter_newapi_ops,
	&adapter_oneapi_ops,
	&adapter_sub2api_ops,
	&adapter_openai_ops,
	&adapter_claude_ops,
	NULL
};
