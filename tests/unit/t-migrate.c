int dummy_t-migrate;
