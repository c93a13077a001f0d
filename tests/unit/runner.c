int dummy_runner;
