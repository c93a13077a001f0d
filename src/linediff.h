/* A unified diff of two texts, line by line, for showing a file change. */
#ifndef LINEDIFF_H
#define LINEDIFF_H

char	*linediff_unified(const char *, const char *, const char *,
	     const char *);

#endif
