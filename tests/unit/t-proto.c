int dummy_t-proto;
