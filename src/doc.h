/* Docs printed from the command and setting tables (see doc.c). */
#ifndef DOC_H
#define DOC_H

#include <stdio.h>

void	doc_man_commands(FILE *);
void	doc_man_settings(FILE *);
void	doc_zsh_completion(FILE *);

#endif
