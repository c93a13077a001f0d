/* Careful line-based edits of a TOML document that keep the rest intact. */
#ifndef TOMLEDIT_H
#define TOMLEDIT_H

char	*tomledit_set_key(const char *, const char *, const char *, char **);
char	*tomledit_set_table(const char *, const char *, const char *,
	     char **);

#endif
