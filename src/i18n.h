/* gettext wrappers: _() marks text a person reads, nothing else. */
#ifndef I18N_H
#define I18N_H

#ifdef ENABLE_NLS
#include <libintl.h>
#define _(s)	gettext(s)
#else
#define _(s)	(s)
#endif
#define N_(s)	(s)

#endif
