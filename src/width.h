/* Display width of UTF-8 text in terminal cells (CJK wide = 2). */
#ifndef WIDTH_H
#define WIDTH_H

#include <stddef.h>

size_t	 width_utf8(const char *);
char	*width_fit(const char *, size_t);

#endif
