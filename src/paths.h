/* Where metapi keeps its state and its control socket (CLI.md, XDG). */
#ifndef PATHS_H
#define PATHS_H

char	*paths_data_dir(const char *);
char	*paths_socket(const char *);
char	*paths_join(const char *, const char *);
int	 paths_mkdir_private(const char *, char **);
int	 paths_check_private_dir(const char *, char **);

#endif
