/*
 * The secret store (src/vault.c): sealing and opening, what must refuse to
 * open, key parsing, masking, downstream keys and hashes, and loading the
 * master key file. Files go in a private directory under /tmp only.
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "unit.h"
#include "vault.h"
#include "xmalloc.h"

static const uint8_t t_vault_key1[VAULT_KEY_LEN] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f
};
#define T_VAULT_KEY1_HEX \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define T_VAULT_KEY1_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

static uint8_t	t_vault_key2[VAULT_KEY_LEN];	/* every byte 0xa5 */

static void
t_vault_seal_open(void)
{
	static const char	*plains[] = { "", "x", "sk-secret",
	    "password with spaces\n", "\xe6\xb5\x8b\xe8\xaf\x95",
	    ("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	};
	uint8_t			*blob, *blob2;
	size_t			 i, len, len2;
	char			*ad, *plain, *cause;

	ad = vault_ad("accounts", "credential", 7);
	CHECK_STR(ad, "accounts.credential:7");
	for (i = 0; i < nitems(plains); i++) {
		unit_case("seal \"%s\"", plains[i]);
		blob = blob2 = NULL;
		if (!CHECK_INT(vault_seal(ad, plains[i], strlen(plains[i]),
		    &blob, &len), 0))
			continue;
		CHECK_INT(len, 1 + 24 + strlen(plains[i]) + 16);
		cause = NULL;
		plain = vault_unseal(ad, blob, len, &cause);
		CHECK_STR(plain, plains[i]);
		CHECK_STR(cause, NULL);
		vault_secret_free(plain);

		/* A fresh nonce each time: a secret never seals the same. */
		CHECK_INT(vault_seal(ad, plains[i], strlen(plains[i]), &blob2,
		    &len2), 0);
		CHECK(len2 == len && memcmp(blob, blob2, len) != 0);
		free(blob);
		free(blob2);
	}
	unit_case_end();
	free(ad);
}

/* Flip each byte, then cut the blob short: nothing of it may open. */
static void
t_vault_tamper(void)
{
	uint8_t	*blob;
	size_t	 i, len;
	char	*ad, *plain, *cause;

	ad = vault_ad("sites", "headers", 3);
	if (!CHECK_INT(vault_seal(ad, "sk-secret", 9, &blob, &len), 0)) {
		free(ad);
		return;
	}
	for (i = 0; i < len; i++) {
		unit_case("byte %zu of %zu flipped", i, len);
		blob[i] ^= 0x01;
		cause = NULL;
		plain = vault_unseal(ad, blob, len, &cause);
		CHECK(plain == NULL);
		CHECK(cause != NULL);
		vault_secret_free(plain);
		free(cause);
		blob[i] ^= 0x01;
	}
	for (i = 0; i < len; i++) {
		unit_case("cut to %zu of %zu bytes", i, len);
		cause = NULL;
		plain = vault_unseal(ad, blob, i, &cause);
		CHECK(plain == NULL);
		vault_secret_free(plain);
		free(cause);
	}
	unit_case("untouched blob still opens");
	cause = NULL;
	plain = vault_unseal(ad, blob, len, &cause);
	CHECK_STR(plain, "sk-secret");
	vault_secret_free(plain);
	free(cause);
	unit_case_end();

	/* Another row or column, or another key: "not ours". */
	cause = NULL;
	plain = vault_unseal("sites.headers:4", blob, len, &cause);
	CHECK(plain == NULL);
	CHECK_SUB(cause, "master key");
	vault_secret_free(plain);
	free(cause);
	cause = NULL;
	plain = vault_unseal("accounts.headers:3", blob, len, &cause);
	CHECK(plain == NULL);
	vault_secret_free(plain);
	free(cause);
	cause = NULL;
	plain = vault_unseal("", blob, len, &cause);
	CHECK(plain == NULL);
	vault_secret_free(plain);
	free(cause);

	CHECK_INT(vault_set_key(t_vault_key2), 0);
	cause = NULL;
	plain = vault_unseal(ad, blob, len, &cause);
	CHECK(plain == NULL);
	CHECK(cause != NULL);
	vault_secret_free(plain);
	free(cause);

	CHECK_INT(vault_set_key(t_vault_key1), 0);
	cause = NULL;
	plain = vault_unseal(ad, blob, len, &cause);
	CHECK_STR(plain, "sk-secret");
	vault_secret_free(plain);
	free(cause);

	/* A closed vault neither seals nor opens. */
	vault_forget();
	CHECK_INT(vault_ready(), 0);
	cause = NULL;
	plain = vault_unseal(ad, blob, len, &cause);
	CHECK(plain == NULL);
	CHECK_SUB(cause, "not open");
	vault_secret_free(plain);
	free(cause);
	free(blob);
	blob = NULL;
	CHECK_INT(vault_seal(ad, "x", 1, &blob, &len), -1);
	CHECK(blob == NULL);
	CHECK_INT(vault_set_key(t_vault_key1), 0);
	free(ad);
}

static void
t_vault_parse(void)
{
	static const struct {
		const char	*text;
		int		 ok;	/* and then equal to key1 */
	} cases[] = {
		{ T_VAULT_KEY1_HEX, 1 },
		{ T_VAULT_KEY1_HEX "\n", 1 },
		{ T_VAULT_KEY1_HEX "\r\n", 1 },
		{ "000102030405060708090A0B0C0D0E0F"
		  "101112131415161718191A1B1C1D1E1F", 1 },
		{ T_VAULT_KEY1_B64, 1 },
		{ T_VAULT_KEY1_B64 "\n", 1 },
		{ "", 0 },
		{ "\n", 0 },
		{ "00", 0 },
		{ "000102030405060708090a0b0c0d0e0f"
		  "101112131415161718191a1b1c1d1e1", 0 },	/* 63 */
		{ T_VAULT_KEY1_HEX "2", 0 },			/* 65 */
		{ T_VAULT_KEY1_HEX "20", 0 },			/* 33 bytes */
		{ "000102030405060708090a0b0c0d0e0f"
		  "101112131415161718191a1b1c1d1e1g", 0 },
		{ "0x000102030405060708090a0b0c0d0e0f"
		  "101112131415161718191a1b1c1d1e1f", 0 },
		{ " " T_VAULT_KEY1_HEX, 0 },
		{ "00010203 0405060708090a0b0c0d0e0f"
		  "101112131415161718191a1b1c1d1e1f", 0 },
		{ "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==", 0 },	/* 31 */
		{ "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g", 0 },	/* 33 */
		{ "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", 0 },
		/* The URL-safe alphabet is not the one key files use. */
		{ "yMnKy8zNzs_Q0dLT1NXW19jZ2tvc3d7f4OHi4-Tl5uc=", 0 },
		{ "not a key at all", 0 },
	};
	uint8_t	out[VAULT_KEY_LEN];
	size_t	i;

	for (i = 0; i < nitems(cases); i++) {
		unit_case("parse \"%s\"", cases[i].text);
		memset(out, 0xee, sizeof out);
		CHECK_INT(vault_parse_key(cases[i].text, out),
		    cases[i].ok ? 0 : -1);
		if (cases[i].ok)
			CHECK(memcmp(out, t_vault_key1, sizeof out) == 0);
	}
	unit_case("standard base64 with + and /");
	CHECK_INT(vault_parse_key(
	    "yMnKy8zNzs/Q0dLT1NXW19jZ2tvc3d7f4OHi4+Tl5uc=", out), 0);
	CHECK_INT(out[0], 200);
	CHECK_INT(out[31], 231);
	unit_case_end();
}

/*
 * A mask shows at most a short prefix up to a dash and, for long secrets,
 * the last four characters: no three characters in a row from the middle.
 */
static void
t_vault_mask(void)
{
	static const struct {
		const char	*secret;
		const char	*want;
	} cases[] = {
		{ "sk-abcdefghijklmnopqrstuvwxyz1234",
		  "sk-\xe2\x80\xa6" "1234" },
		{ "abcdefghijkl", "\xe2\x80\xa6" "ijkl" },
		{ "abcdefghij-klmnopqrst", "\xe2\x80\xa6" "qrst" },
		{ "ghp_0123456789ABCDEFGHIJKLMNOP", "\xe2\x80\xa6" "MNOP" },
		{ "abcde-fghijklmnopq", "abcde-\xe2\x80\xa6" "nopq" },
		{ "p4ssw0rd", "\xe2\x80\xa6(8 chars)" },
		{ "hunter2", "\xe2\x80\xa6(7 chars)" },
		{ "", "\xe2\x80\xa6(0 chars)" },
		{ "sk-0123456", "\xe2\x80\xa6(10 chars)" },
	};
	const char	*s, *dash;
	char		*m, win[4];
	size_t		 i, j, n, pre, tail;

	for (i = 0; i < nitems(cases); i++) {
		s = cases[i].secret;
		unit_case("mask \"%s\"", s);
		m = vault_mask(s);
		CHECK_STR(m, cases[i].want);
		n = strlen(s);
		pre = 0;
		tail = 0;
		if (n >= 12) {
			tail = 4;
			if ((dash = strchr(s, '-')) != NULL && dash - s < 6)
				pre = dash - s + 1;
			CHECK(strcmp(m + strlen(m) - 4, s + n - 4) == 0);
		}
		for (j = pre; j + 3 <= n - tail; j++) {
			memcpy(win, s + j, 3);
			win[3] = '\0';
			unit_case("mask \"%s\" hides \"%s\"", s, win);
			CHECK(strstr(m, win) == NULL);
		}
		free(m);
	}
	unit_case_end();
}

static void
t_vault_api_keys(void)
{
	char	*a, *b;
	size_t	 i, alnum;

	a = vault_new_api_key();
	b = vault_new_api_key();
	if (!CHECK(a != NULL && b != NULL))
		goto out;
	CHECK_INT(strlen(a), 3 + 48);
	CHECK(strncmp(a, "sk-", 3) == 0);
	for (i = 3, alnum = 0; a[i] != '\0'; i++)
		if (isalnum((unsigned char)a[i]))
			alnum++;
	CHECK_INT(alnum, 48);
	CHECK(strcmp(a, b) != 0);
out:
	free(a);
	free(b);
}

static void
t_vault_hashes(void)
{
	uint8_t	h1[VAULT_HASH_LEN], h2[VAULT_HASH_LEN], h3[VAULT_HASH_LEN];
	char	*s;

	CHECK_INT(vault_set_key(t_vault_key1), 0);
	vault_hash("sk-abc", h1);
	vault_hash("sk-abc", h2);
	CHECK(vault_equal(h1, h2, VAULT_HASH_LEN));
	vault_hash("sk-abd", h3);
	CHECK(!vault_equal(h1, h3, VAULT_HASH_LEN));
	CHECK_INT(vault_set_key(t_vault_key2), 0);
	vault_hash("sk-abc", h3);
	CHECK(!vault_equal(h1, h3, VAULT_HASH_LEN));
	CHECK_INT(vault_set_key(t_vault_key1), 0);
	vault_hash("sk-abc", h3);
	CHECK(vault_equal(h1, h3, VAULT_HASH_LEN));

	s = vault_secret_dup("secret");
	CHECK_STR(s, "secret");
	vault_secret_free(s);
	vault_secret_free(NULL);
}

static int
t_vault_write(const char *path, const char *text, mode_t mode)
{
	int	fd;
	ssize_t	n;

	unlink(path);
	if ((fd = open(path, O_WRONLY|O_CREAT|O_EXCL, mode)) == -1)
		return (-1);
	n = write(fd, text, strlen(text));
	close(fd);
	if (n != (ssize_t)strlen(text) || chmod(path, mode) != 0)
		return (-1);
	return (0);
}

/* Does the vault open a blob sealed under key1? */
static int
t_vault_has_key1(const uint8_t *blob, size_t len)
{
	char	*plain, *cause = NULL;
	int	 ok;

	plain = vault_unseal("t.k:1", blob, len, &cause);
	ok = plain != NULL && strcmp(plain, "k1") == 0;
	vault_secret_free(plain);
	free(cause);
	return (ok);
}

static void
t_vault_load(void)
{
	static const struct {
		const char	*what;
		const char	*text;		/* NULL: no file */
		mode_t		 mode;
		int		 create;
		int		 ok;
		const char	*cause;
	} cases[] = {
		{ "hex file", T_VAULT_KEY1_HEX "\n", 0600, 0, 1, NULL },
		{ "base64 file", T_VAULT_KEY1_B64 "\n", 0600, 0, 1, NULL },
		{ "0644 file", T_VAULT_KEY1_HEX "\n", 0644, 1, 0, "chmod 600" },
		{ "0640 file", T_VAULT_KEY1_HEX "\n", 0640, 0, 0, "chmod 600" },
		{ "0604 file", T_VAULT_KEY1_HEX "\n", 0604, 0, 0, "chmod 600" },
		{ "garbage", "this is not a key\n", 0600, 1, 0, "damaged" },
		{ "empty", "", 0600, 1, 0, "damaged" },
		{ "63 digits", "000102030405060708090a0b0c0d0e0f"
		  "101112131415161718191a1b1c1d1e1\n", 0600, 1, 0, "damaged" },
		{ "binary", "\x01\x02\xff\xfe", 0400, 1, 0, "damaged" },
		{ "missing, no create", NULL, 0, 0, 0, "missing" },
	};
	struct stat	 sb;
	uint8_t		*blob = NULL, *blob2 = NULL;
	size_t		 i, len, len2;
	char		*dir, *path = NULL, *link = NULL, *deep = NULL;
	char		*cause, *plain, *saved = NULL, text[128];
	const char	*env;
	int		 created, fd;
	ssize_t		 n;

	if ((env = getenv("METAPI_MASTER_KEY")) != NULL)
		saved = xstrdup(env);
	unsetenv("METAPI_MASTER_KEY");
	if (!CHECK((dir = unit_tmpdir()) != NULL))
		goto out;
	xasprintf(&path, "%s/master.key", dir);
	xasprintf(&link, "%s/link.key", dir);
	xasprintf(&deep, "%s/no/such/dir/master.key", dir);

	CHECK_INT(vault_set_key(t_vault_key1), 0);
	CHECK_INT(vault_seal("t.k:1", "k1", 2, &blob, &len), 0);

	for (i = 0; i < nitems(cases); i++) {
		unit_case("load %s", cases[i].what);
		unlink(path);
		if (cases[i].text != NULL &&
		    !CHECK_INT(t_vault_write(path, cases[i].text,
		    cases[i].mode), 0))
			continue;
		vault_forget();
		created = cases[i].create;
		cause = NULL;
		CHECK_INT(vault_load(path, &created, &cause),
		    cases[i].ok ? 0 : -1);
		CHECK_INT(created, 0);
		if (cases[i].ok) {
			CHECK_STR(cause, NULL);
			CHECK(t_vault_has_key1(blob, len));
		} else {
			CHECK_SUB(cause, cases[i].cause);
			CHECK_INT(vault_ready(), 0);
		}
		if (cases[i].text == NULL)
			CHECK(stat(path, &sb) == -1 && errno == ENOENT);
		free(cause);
	}

	unit_case("create when allowed");
	unlink(path);
	vault_forget();
	created = 1;
	cause = NULL;
	CHECK_INT(vault_load(path, &created, &cause), 0);
	CHECK_STR(cause, NULL);
	free(cause);
	CHECK_INT(created, 1);
	CHECK_INT(vault_ready(), 1);
	CHECK(!t_vault_has_key1(blob, len));
	if (CHECK_INT(stat(path, &sb), 0))
		CHECK_INT(sb.st_mode & 07777, 0600);
	n = -1;
	if ((fd = open(path, O_RDONLY)) != -1) {
		n = read(fd, text, sizeof text - 1);
		close(fd);
	}
	if (CHECK_INT(n, 65)) {
		text[n] = '\0';
		CHECK(text[64] == '\n');
		CHECK_INT(strspn(text, "0123456789abcdef"), 64);
	}
	CHECK_INT(vault_seal("t.k:2", "k2", 2, &blob2, &len2), 0);

	unit_case("the created key loads again, unchanged");
	vault_forget();
	created = 1;
	cause = NULL;
	CHECK_INT(vault_load(path, &created, &cause), 0);
	free(cause);
	CHECK_INT(created, 0);
	cause = NULL;
	plain = vault_unseal("t.k:2", blob2, len2, &cause);
	CHECK_STR(plain, "k2");
	vault_secret_free(plain);
	free(cause);

	unit_case("a symlink is not followed");
	if (CHECK_INT(symlink(path, link), 0)) {
		created = 0;
		cause = NULL;
		CHECK_INT(vault_load(link, &created, &cause), -1);
		CHECK_SUB(cause, "cannot open");
		free(cause);
	}

	unit_case("create in a missing directory");
	created = 1;
	cause = NULL;
	CHECK_INT(vault_load(deep, &created, &cause), -1);
	CHECK_SUB(cause, "cannot create");
	CHECK_INT(created, 0);
	free(cause);

	unit_case("METAPI_MASTER_KEY wins over the file");
	unlink(path);
	setenv("METAPI_MASTER_KEY", T_VAULT_KEY1_HEX, 1);
	vault_forget();
	created = 1;
	cause = NULL;
	CHECK_INT(vault_load(path, &created, &cause), 0);
	free(cause);
	CHECK_INT(created, 0);
	CHECK(t_vault_has_key1(blob, len));
	CHECK(stat(path, &sb) == -1 && errno == ENOENT);

	unit_case("bad METAPI_MASTER_KEY");
	setenv("METAPI_MASTER_KEY", "0123", 1);
	created = 1;
	cause = NULL;
	CHECK_INT(vault_load(path, &created, &cause), -1);
	CHECK_SUB(cause, "METAPI_MASTER_KEY");
	free(cause);

	unit_case("empty METAPI_MASTER_KEY is unset");
	setenv("METAPI_MASTER_KEY", "", 1);
	CHECK_INT(t_vault_write(path, T_VAULT_KEY1_HEX, 0600), 0);
	vault_forget();
	created = 0;
	cause = NULL;
	CHECK_INT(vault_load(path, &created, &cause), 0);
	free(cause);
	CHECK(t_vault_has_key1(blob, len));
	unit_case_end();

out:
	unsetenv("METAPI_MASTER_KEY");
	if (saved != NULL)
		setenv("METAPI_MASTER_KEY", saved, 1);
	free(saved);
	unit_rmtree(dir);
	free(dir);
	free(path);
	free(link);
	free(deep);
	free(blob);
	free(blob2);
	vault_set_key(t_vault_key1);
}

void
t_vault(void)
{
	memset(t_vault_key2, 0xa5, sizeof t_vault_key2);
	CHECK_INT(vault_set_key(t_vault_key1), 0);
	CHECK_INT(vault_ready(), 1);
	t_vault_seal_open();
	t_vault_tamper();
	t_vault_parse();
	t_vault_mask();
	t_vault_api_keys();
	t_vault_hashes();
	t_vault_load();
	vault_forget();
}
