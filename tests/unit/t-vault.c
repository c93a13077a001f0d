int dummy_t-vault;
