/*
 * The unit test harness: a suite is a function that runs checks. A check
 * counts as one pass or one failure; a failure prints file:line, the case
 * being run and what was expected against what came back. Checks return
 * whether they passed, so a test can stop itself with a visible
 * "if (!CHECK(...)) goto out;".
 */
#ifndef UNIT_H
#define UNIT_H

#include <stddef.h>

struct unit_suite {
	const char	*name;
	void		(*fn)(void);
};

/* The only macros: they add the call site and the text of the check. */
#define CHECK(c)	unit_ok(__FILE__, __LINE__, (c), #c)
#define CHECK_INT(g, w)	unit_int(__FILE__, __LINE__, #g, (g), (w))
#define CHECK_STR(g, w)	unit_str(__FILE__, __LINE__, #g, (g), (w))
#define CHECK_SUB(g, w)	unit_sub(__FILE__, __LINE__, #g, (g), (w))

/*
 * runner.c. The checks return 1 when they pass: unit_ok a condition,
 * unit_int equal numbers, unit_str equal strings (NULL equals only NULL),
 * unit_sub a non-NULL string holding the expected text. unit_case names
 * the case that failures report until unit_case_end. unit_tmpdir makes a
 * private directory under /tmp that unit_rmtree removes with its files.
 * unit_case_files runs a function on each case file of a directory under
 * tests/cases.
 */
int	 unit_ok(const char *, int, int, const char *);
int	 unit_int(const char *, int, const char *, long long, long long);
int	 unit_str(const char *, int, const char *, const char *,
	     const char *);
int	 unit_sub(const char *, int, const char *, const char *,
	     const char *);
void	 unit_case(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 unit_case_end(void);
char	*unit_tmpdir(void);
void	 unit_case_files(const char *, void (*)(const char *, const char *));
void	 unit_rmtree(const char *);

/* t-*.c */
void	 t_proto(void);
void	 t_vault(void);
void	 t_migrate(void);
void	 t_setting(void);
void	 t_misc(void);
void	 t_adapter(void);
void	 t_proxylog(void);
void	 t_sse(void);
void	 t_usage(void);
void	 t_router(void);
void	 t_xform(void);
void	 t_file(void);
void	 t_connect(void);
void	 t_search(void);

#endif
