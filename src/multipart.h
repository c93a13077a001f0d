/* multipart/form-data bodies (RFC 7578), parsed as they stream in. */
#ifndef MULTIPART_H
#define MULTIPART_H

#include <stddef.h>

#include "buf.h"

#define MULTIPART_HEADER_MAX	8192	/* one part's header block */

/* What a part's headers say about it. */
struct multipart_part {
	char	 name[128];	/* the form field */
	char	 filename[256];	/* "" when none was given */
	int	 has_filename;
	char	 type[128];	/* Content-Type without parameters, or "" */
};

/*
 * part is called when a part's headers are complete, data with each
 * piece of its body in order (never an empty one). Either returns 0 to
 * go on or -1 to stop: the feed then fails with *cause left NULL, and
 * the caller knows why.
 */
typedef int	(*multipart_part_cb)(const struct multipart_part *, void *);
typedef int	(*multipart_data_cb)(const char *, size_t, void *);

struct multipart {
	char			 delim[80];	/* CRLF "--" boundary */
	size_t			 dlen;
	int			 state;
	struct buf		 in;		/* bytes not handled yet */
	struct multipart_part	 part;
	multipart_part_cb	 part_cb;
	multipart_data_cb	 data_cb;
	void			*arg;
};

int	 multipart_boundary(const char *, char *, size_t);
int	 multipart_init(struct multipart *, const char *, multipart_part_cb,
	     multipart_data_cb, void *, char **);
int	 multipart_feed(struct multipart *, const void *, size_t, char **);
int	 multipart_finish(struct multipart *, char **);
void	 multipart_free(struct multipart *);

#endif
