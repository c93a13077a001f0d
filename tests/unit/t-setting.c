int dummy_t-setting;
