int dummy_t-misc;
