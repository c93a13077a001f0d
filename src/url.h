/* URL checks for what users type: site addresses and proxies. */
#ifndef URL_H
#define URL_H

#define URL_HTTP	0x1	/* http:// and https:// */
#define URL_PROXY	0x2	/* also socks5://, socks5h://, socks4:// */

int	 url_check(const char *, int, char **);
char	*url_normalize(const char *);
char	*url_redact(const char *);
int	 url_has_userinfo(const char *);

#endif
