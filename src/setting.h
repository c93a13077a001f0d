/* Runtime settings: typed, validated, with defaults and help (settings). */
#ifndef SETTING_H
#define SETTING_H

#include <stddef.h>

#include <jansson.h>

#include "db.h"

enum setting_type {
	SETTING_BOOL,
	SETTING_INT,
	SETTING_REAL,
	SETTING_STRING,
	SETTING_ENUM,
	SETTING_CRON,
	SETTING_URL
};

struct setting_entry {
	const char		*name;
	enum setting_type	 type;
	const char		*def;		/* default, as text */
	double			 min, max;	/* for INT and REAL */
	const char		*choices;	/* for ENUM: "a|b|c" */
	int			 restart;	/* takes effect at restart */
	int			 secret;	/* may hold a password: sealed */
	const char		*help;
};

/* How a secret setting's value starts in the settings table or a backup. */
#define SETTING_SEALED	"sealed:"

extern const struct setting_entry setting_table[];
extern const size_t setting_table_count;

/* A loaded set of values, one per setting_table entry, in table order. */
struct settings {
	char	**values;
};

const struct setting_entry *setting_find(const char *);
const char	*setting_type_name(enum setting_type);
int		 setting_validate(const struct setting_entry *, const char *,
		     char **, char **);
json_t		*setting_value_json(const struct setting_entry *,
		     const char *);
json_t		*setting_entry_json(const struct setting_entry *,
		     const char *);
struct settings	*settings_load(struct db *, char **);
void		 settings_free(struct settings *);
const char	*settings_str(const struct settings *, const char *);
long long	 settings_int(const struct settings *, const char *);
double		 settings_real(const struct settings *, const char *);
int		 settings_bool(const struct settings *, const char *);
int		 setting_store(struct db *, const struct setting_entry *,
		     const char *, char **);
char		*setting_open(const struct setting_entry *, const char *,
		     char **);
int		 settings_seal(struct db *, char **);

#endif
