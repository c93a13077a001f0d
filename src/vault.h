/*
 * The secret store: the master key, sealing and opening credentials, keyed
 * hashes of downstream keys, and masked display of secrets.
 */
#ifndef VAULT_H
#define VAULT_H

#include <stddef.h>
#include <stdint.h>

#define VAULT_KEY_LEN	32
#define VAULT_HASH_LEN	32

int	 vault_init(void);
int	 vault_load(const char *, int *, char **);
int	 vault_set_key(const uint8_t *);
int	 vault_parse_key(const char *, uint8_t *);
void	 vault_forget(void);
int	 vault_ready(void);
int	 vault_seal(const char *, const void *, size_t, uint8_t **, size_t *);
char	*vault_unseal(const char *, const void *, size_t, char **);
void	 vault_secret_free(char *);
char	*vault_unseal_plain(const char *, const void *, size_t, char **);
void	 vault_plain_free(char *);
char	*vault_seal_text(const char *, const char *);
char	*vault_unseal_text(const char *, const char *, char **);
char	*vault_secret_dup(const char *);
void	 vault_hash(const char *, uint8_t *);
int	 vault_equal(const uint8_t *, const uint8_t *, size_t);
char	*vault_mask(const char *);
char	*vault_new_api_key(void);
char	*vault_ad(const char *, const char *, long long);

#endif
