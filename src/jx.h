/* jansson helpers: typed lookups that explain what is wrong. */
#ifndef JX_H
#define JX_H

#include <stdint.h>

#include <jansson.h>

struct buf;

const char	*jx_str(const json_t *, const char *);
int		 jx_int(const json_t *, const char *, long long *);
int		 jx_real(const json_t *, const char *, double *);
int		 jx_bool(const json_t *, const char *);
int		 jx_has(const json_t *, const char *);
void		 jx_set_str(json_t *, const char *, const char *);
void		 jx_set_str_or_null(json_t *, const char *, const char *);
json_t		*jx_items(json_t *);
char		*jx_dump(const json_t *);
void		 jx_wipe(json_t *);
char		*jx_utf8_clean(const char *, size_t);
void		 jx_buf_str(struct buf *, const char *);
void		 jx_buf_int(struct buf *, long long);
json_t		*jx_time(long long);
json_t		*jx_opt_real(int, double);
json_t		*jx_opt_int(int, long long);

#endif
