/*
 * Challenge pages that sit in front of some relays. It owns the AnyRouter
 * (Aliyun WAF) acw_sc__v2 JS challenge, its solver, the gate that serves
 * the page until the right cookie comes back, and a Cloudflare-like
 * "Just a moment..." page. It reads config under the state lock only.
 *
 * The solver: take the 40 characters of arg1, place character i at the
 * output position j for which waf_pos[j] == i + 1, then XOR the result
 * with waf_key two hex digits at a time. The page carries arg1, the
 * position table (as "for(var m=[...]") and the key (the only other
 * 40-hex string literal), so a client may either extract them or use the
 * well-known constants.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakerelay.h"

static const int waf_pos[40] = {
	15, 35, 29, 24, 33, 16, 1, 38, 10, 9, 19, 31, 40, 27, 22, 23, 25, 13,
	6, 11, 39, 18, 20, 8, 14, 21, 32, 26, 2, 30, 7, 4, 17, 5, 3, 28, 34,
	37, 12, 36
};
static const char waf_key[] = "3000176000856006061501533003690027800375";

static int
waf_hex(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (0);
}

/* The acw_sc__v2 cookie value for arg1 (40 hex characters). */
void
waf_solve(const char *arg1, char *out, size_t len)
{
	char	perm[41];
	size_t	i, j, n = strlen(arg1);
	int	v;

	memset(perm, '0', 40);
	perm[40] = '\0';
	for (i = 0; i < 40 && i < n; i++) {
		for (j = 0; j < 40; j++) {
			if (waf_pos[j] == (int)i + 1)
				perm[j] = arg1[i];
		}
	}
	if (len < 41) {
		if (len > 0)
			out[0] = '\0';
		return;
	}
	for (i = 0; i < 40; i += 2) {
		v = (waf_hex(perm[i]) << 4 | waf_hex(perm[i + 1])) ^
		    (waf_hex(waf_key[i]) << 4 | waf_hex(waf_key[i + 1]));
		snprintf(out + i, 3, "%02x", v);
	}
	out[40] = '\0';
}

void
waf_aliyun_page(struct req *r)
{
	char	 arg1[64], tc[33], cookie[96], *page, pos[256];
	size_t	 i, off = 0;

	state_lock();
	snprintf(arg1, sizeof arg1, "%s", state_cfg_str("waf_arg1"));
	state_unlock();
	for (i = 0; i < 40; i++) {
		off += snprintf(pos + off, sizeof pos - off, "%s0x%x",
		    i == 0 ? "" : ",", waf_pos[i]);
	}
	if (asprintf(&page,
	    "<html><script>\n"
	    "var arg1='%s';\n"
	    "var _0x4818=['%s','acw_sc__v2','cookie'];\n"
	    "function _0x1a(s){var o=[];for(var m=[%s],i=0;i<s.length;i++)"
	    "for(var j=0;j<m.length;j++)if(m[j]==i+1)o[j]=s[i];"
	    "return o.join('');}\n"
	    "function _0x2b(a,k){var r='';for(var i=0;i<a.length&&"
	    "i<k.length;i+=2){var x=(parseInt(a.slice(i,i+2),16)^"
	    "parseInt(k.slice(i,i+2),16)).toString(16);"
	    "if(x.length==1)x='0'+x;r+=x;}return r;}\n"
	    "var arg2=_0x2b(_0x1a(arg1),_0x4818[0]);\n"
	    "document[_0x4818[2]]=_0x4818[1]+'='+arg2+"
	    "';max-age=3600;path=/';\n"
	    "location.reload();\n"
	    "</script></html>\n", arg1, waf_key, pos) == -1)
		abort();
	state_random(tc, sizeof tc, "0123456789abcdef");
	snprintf(cookie, sizeof cookie, "acw_tc=%s;path=/;HttpOnly;"
	    "Max-Age=1800", tc);
	req_reply_text(r, 200, "text/html; charset=utf-8", page);
	req_add_header(r, "Set-Cookie", cookie);
	free(page);
}

void
waf_cloudflare_page(struct req *r)
{
	req_reply_text(r, 403, "text/html; charset=UTF-8",
	    "<!DOCTYPE html><html lang=\"en-US\"><head>"
	    "<title>Just a moment...</title>"
	    "<meta http-equiv=\"refresh\" content=\"390\"></head><body>"
	    "<div class=\"main-wrapper\" role=\"main\"><noscript>"
	    "Enable JavaScript and cookies to continue</noscript></div>"
	    "<script>(function(){window._cf_chl_opt={cvId:'3',"
	    "cZone:'relay.example',cType:'managed',cRay:'8f00fake00000000'};"
	    "var a=document.createElement('script');"
	    "a.src='/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1"
	    "?ray=8f00fake00000000';document.head.appendChild(a);}());"
	    "</script></body></html>\n");
	req_add_header(r, "Server", "cloudflare");
	req_add_header(r, "cf-mitigated", "challenge");
	req_add_header(r, "CF-RAY", "8f00fake00000000-SJC");
}

/*
 * With config "waf" on, every non-control request needs the cookie
 * acw_sc__v2 solved from config "waf_arg1"; otherwise it gets the page.
 * Returns 1 if the page was served.
 */
int
waf_gate(struct req *r)
{
	char	want[64], arg1[64], got[128];
	int	on;

	state_lock();
	on = state_cfg_bool("waf");
	snprintf(arg1, sizeof arg1, "%s", state_cfg_str("waf_arg1"));
	state_unlock();
	if (!on)
		return (0);
	waf_solve(arg1, want, sizeof want);
	if (req_cookie(r, "acw_sc__v2", got, sizeof got) == 0 &&
	    strcmp(got, want) == 0)
		return (0);
	waf_aliyun_page(r);
	return (1);
}
