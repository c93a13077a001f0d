/*
 * The vault: the only module that sees the master key or calls libsodium's
 * secret APIs. Credentials are sealed with XChaCha20-Poly1305; the
 * associated data names the row and column ("accounts.credential:7") so a
 * ciphertext copied to another row or column fails to open. Downstream
 * keys are found by a keyed BLAKE2b hash. Plaintext secrets handed out
 * live in sodium_malloc'd memory and are wiped by vault_secret_free().
 *
 * Sealed blob: 1 byte version (1), 24 bytes nonce, ciphertext with tag.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "compat.h"
#include "vault.h"
#include "xmalloc.h"

#define VAULT_BLOB_VERSION	1
#define VAULT_NONCE_LEN		crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define VAULT_TAG_LEN		crypto_aead_xchacha20poly1305_ietf_ABYTES
#define VAULT_KEY_ALPHABET \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define VAULT_API_KEY_CHARS	48

/* Subkeys derived from the master key; read-only once loaded. */
struct vault_keys {
	uint8_t	seal[VAULT_KEY_LEN];	/* AEAD key */
	uint8_t	hash[VAULT_KEY_LEN];	/* BLAKE2b key for downstream keys */
};
static struct vault_keys	*vault_keys;

int
vault_init(void)
{
	return (sodium_init() < 0 ? -1 : 0);
}

int
vault_ready(void)
{
	return (vault_keys != NULL);
}

/* Install a master key (32 bytes) and derive the subkeys from it. */
int
vault_set_key(const uint8_t *master)
{
	if (vault_init() != 0)
		return (-1);
	vault_forget();
	vault_keys = sodium_malloc(sizeof *vault_keys);
	if (vault_keys == NULL)
		return (-1);
	crypto_kdf_derive_from_key(vault_keys->seal, VAULT_KEY_LEN, 1,
	    "metapisl", master);
	crypto_kdf_derive_from_key(vault_keys->hash, VAULT_KEY_LEN, 2,
	    "metapihk", master);
	sodium_mprotect_readonly(vault_keys);
	return (0);
}

void
vault_forget(void)
{
	if (vault_keys != NULL) {
		sodium_free(vault_keys);
		vault_keys = NULL;
	}
}

/* A key as text: 64 hex digits or standard base64 of 32 bytes. */
int
vault_parse_key(const char *s, uint8_t *out)
{
	size_t	len, n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' ||
	    s[n - 1] == ' '))
		n--;
	if (sodium_hex2bin(out, VAULT_KEY_LEN, s, n, NULL, &len, NULL) == 0 &&
	    len == VAULT_KEY_LEN && n == 2 * VAULT_KEY_LEN)
		return (0);
	if (sodium_base642bin(out, VAULT_KEY_LEN, s, n, NULL, &len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) == 0 && len == VAULT_KEY_LEN)
		return (0);
	sodium_memzero(out, VAULT_KEY_LEN);
	return (-1);
}

static int
vault_create_keyfile(const char *path, uint8_t *key, char **cause)
{
	char	hex[2 * VAULT_KEY_LEN + 2];
	int	fd;
	size_t	len;

	randombytes_buf(key, VAULT_KEY_LEN);
	sodium_bin2hex(hex, sizeof hex - 1, key, VAULT_KEY_LEN);
	strlcat(hex, "\n", sizeof hex);
	fd = open(path, O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0600);
	if (fd == -1) {
		xasprintf(cause, "cannot create master key %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	len = strlen(hex);
	if (write(fd, hex, len) != (ssize_t)len || fsync(fd) != 0) {
		xasprintf(cause, "cannot write master key %s: %s", path,
		    strerror(errno));
		close(fd);
		unlink(path);
		return (-1);
	}
	close(fd);
	sodium_memzero(hex, sizeof hex);
	return (0);
}

/*
 * Load the master key from $METAPI_MASTER_KEY or the key file, creating the
 * file when it is missing and create is allowed (*created then says so).
 * A key file others can read is refused.
 */
int
vault_load(const char *path, int *created, char **cause)
{
	uint8_t		 key[VAULT_KEY_LEN];
	char		 text[256];
	const char	*env = getenv("METAPI_MASTER_KEY");
	struct stat	 sb;
	ssize_t		 n;
	int		 fd, rv = -1, may_create = *created;

	*created = 0;
	if (vault_init() != 0) {
		*cause = xstrdup("libsodium failed to initialise");
		return (-1);
	}
	if (env != NULL && *env != '\0') {
		if (vault_parse_key(env, key) != 0) {
			*cause = xstrdup("METAPI_MASTER_KEY must be 64 hex "
			    "digits or the base64 of 32 bytes");
			return (-1);
		}
		goto install;
	}
	fd = open(path, O_RDONLY|O_CLOEXEC|O_NOFOLLOW);
	if (fd == -1 && errno == ENOENT) {
		if (!may_create) {
			xasprintf(cause, "master key %s is missing, but the "
			    "database holds secrets sealed with it; restore "
			    "the file or set METAPI_MASTER_KEY", path);
			return (-1);
		}
		if (vault_create_keyfile(path, key, cause) != 0)
			return (-1);
		*created = 1;
		goto install;
	}
	if (fd == -1) {
		xasprintf(cause, "cannot open master key %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	if (fstat(fd, &sb) != 0 || (sb.st_mode & 077) != 0) {
		xasprintf(cause, "master key %s is readable by other users; "
		    "run: chmod 600 %s", path, path);
		close(fd);
		return (-1);
	}
	n = read(fd, text, sizeof text - 1);
	close(fd);
	if (n < 0) {
		xasprintf(cause, "cannot read master key %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	text[n] = '\0';
	if (vault_parse_key(text, key) != 0) {
		xasprintf(cause, "master key %s is damaged (expected 64 hex "
		    "digits or base64 of 32 bytes)", path);
		sodium_memzero(text, sizeof text);
		return (-1);
	}
	sodium_memzero(text, sizeof text);
install:
	if (vault_set_key(key) == 0)
		rv = 0;
	else
		*cause = xstrdup("cannot allocate secure memory");
	sodium_memzero(key, sizeof key);
	return (rv);
}

/* The associated data for one sealed column of one row. */
char *
vault_ad(const char *table, const char *column, long long id)
{
	char	*ad;

	xasprintf(&ad, "%s.%s:%lld", table, column, id);
	return (ad);
}

int
vault_seal(const char *ad, const void *plain, size_t len, uint8_t **out,
    size_t *outlen)
{
	uint8_t			*blob;
	unsigned long long	 clen;

	if (vault_keys == NULL)
		return (-1);
	*outlen = 1 + VAULT_NONCE_LEN + len + VAULT_TAG_LEN;
	blob = xmalloc(*outlen);
	blob[0] = VAULT_BLOB_VERSION;
	randombytes_buf(blob + 1, VAULT_NONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(blob + 1 + VAULT_NONCE_LEN,
	    &clen, plain, len, (const uint8_t *)ad, strlen(ad), NULL,
	    blob + 1, vault_keys->seal);
	*out = blob;
	return (0);
}

/*
 * Open a sealed blob into a NUL-terminated secret in secure memory; free it
 * with vault_secret_free(). Fails on a wrong key, a tampered blob or the
 * wrong associated data, without saying which (all mean "not ours").
 */
static char *
vault_open_with(const char *ad, const void *blob, size_t len,
    void *(*alloc)(size_t), void (*release)(void *), char **cause)
{
	const uint8_t		*b = blob;
	char			*plain;
	unsigned long long	 plen;
	size_t			 max;

	if (vault_keys == NULL) {
		*cause = xstrdup("vault is not open");
		return (NULL);
	}
	if (blob == NULL || len < 1 + VAULT_NONCE_LEN + VAULT_TAG_LEN ||
	    b[0] != VAULT_BLOB_VERSION) {
		*cause = xstrdup("sealed secret is damaged");
		return (NULL);
	}
	max = len - 1 - VAULT_NONCE_LEN - VAULT_TAG_LEN;
	if ((plain = alloc(max + 1)) == NULL) {
		*cause = xstrdup("cannot allocate secure memory");
		return (NULL);
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((uint8_t *)plain, &plen,
	    NULL, b + 1 + VAULT_NONCE_LEN, len - 1 - VAULT_NONCE_LEN,
	    (const uint8_t *)ad, strlen(ad), b + 1, vault_keys->seal) != 0) {
		release(plain);
		*cause = xstrdup("sealed secret does not open with this "
		    "master key");
		return (NULL);
	}
	plain[plen] = '\0';
	return (plain);
}

char *
vault_unseal(const char *ad, const void *blob, size_t len, char **cause)
{
	return (vault_open_with(ad, blob, len, sodium_malloc, sodium_free,
	    cause));
}

/*
 * The same into ordinary memory, for the request path: an upstream key is
 * copied into the request's headers (ordinary memory) anyway, and guarded
 * pages per request cost an mmap, four mprotects, mlock and munmap, whose
 * TLB shootdowns showed up in the proxy's tail latency. Free it with
 * vault_plain_free(), which wipes it first.
 */
char *
vault_unseal_plain(const char *ad, const void *blob, size_t len, char **cause)
{
	return (vault_open_with(ad, blob, len, malloc, free, cause));
}

/*
 * A secret sealed into base64 text, for a secret kept in a TEXT column (a
 * setting's value). NULL when the vault is not open.
 */
char *
vault_seal_text(const char *ad, const char *plain)
{
	uint8_t	*blob;
	size_t	 len, n;
	char	*text;

	if (vault_seal(ad, plain, strlen(plain), &blob, &len) != 0)
		return (NULL);
	n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
	text = xmalloc(n);
	sodium_bin2base64(text, n, blob, len, sodium_base64_VARIANT_ORIGINAL);
	free(blob);
	return (text);
}

/* The reverse, into ordinary memory: free it with vault_plain_free(). */
char *
vault_unseal_text(const char *ad, const char *text, char **cause)
{
	size_t	 n = strlen(text), len;
	uint8_t	*blob;
	char	*plain;

	blob = xmalloc(n + 1);
	if (sodium_base642bin(blob, n + 1, text, n, NULL, &len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0) {
		free(blob);
		*cause = xstrdup("sealed secret is damaged");
		return (NULL);
	}
	plain = vault_unseal_plain(ad, blob, len, cause);
	free(blob);
	return (plain);
}

void
vault_plain_free(char *s)
{
	if (s != NULL) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}

void
vault_secret_free(char *s)
{
	if (s != NULL)
		sodium_free(s);
}

/* Copy a secret into secure memory. */
char *
vault_secret_dup(const char *s)
{
	size_t	 n = strlen(s);
	char	*p;

	if ((p = sodium_malloc(n + 1)) == NULL)
		return (NULL);
	memcpy(p, s, n + 1);
	return (p);
}

void
vault_hash(const char *s, uint8_t *out)
{
	crypto_generichash(out, VAULT_HASH_LEN, (const uint8_t *)s, strlen(s),
	    vault_keys->hash, VAULT_KEY_LEN);
}

int
vault_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	return (sodium_memcmp(a, b, len) == 0);
}

/*
 * "sk-abcdef…wxyz" style: a short prefix up to the first dash plus the last
 * four characters, so a key can be recognised but not reconstructed. Short
 * secrets show only their length class.
 */
char *
vault_mask(const char *s)
{
	size_t		 n = strlen(s), pre = 0;
	const char	*dash;
	char		*m;

	if (n < 12) {
		xasprintf(&m, "…(%zu chars)", n);
		return (m);
	}
	if ((dash = strchr(s, '-')) != NULL && (size_t)(dash - s) < 6)
		pre = dash - s + 1;
	xasprintf(&m, "%.*s…%s", (int)pre, s, s + n - 4);
	return (m);
}

/* A new downstream key: "sk-" and 48 random alphanumerics (~285 bits). */
char *
vault_new_api_key(void)
{
	char	*k;
	size_t	 i, na = strlen(VAULT_KEY_ALPHABET);

	if (vault_init() != 0)
		return (NULL);
	k = xmalloc(3 + VAULT_API_KEY_CHARS + 1);
	memcpy(k, "sk-", 3);
	for (i = 0; i < VAULT_API_KEY_CHARS; i++)
		k[3 + i] = VAULT_KEY_ALPHABET[randombytes_uniform(na)];
	k[3 + VAULT_API_KEY_CHARS] = '\0';
	return (k);
}
