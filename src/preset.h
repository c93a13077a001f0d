/*
 * Site presets: known direct providers (DeepSeek, Kimi, Zhipu, ...) with
 * their base URL and platform, from data/presets.json embedded at build
 * time.
 */
#ifndef PRESET_H
#define PRESET_H

#include <jansson.h>

extern const char preset_data[];

json_t	*preset_list(void);
json_t	*preset_find(const char *);
char	*preset_names(void);

#endif
