"""The demo organization and its generators: the `demo` command, the record loaders on a
simulated clock, the synthetic plant that feeds monitoring, and the detection and baseline
quality measurements on it. Not product code: nothing in the product imports it."""
