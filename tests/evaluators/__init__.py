"""Evaluation functions for the runtime and CLI tests: importable, so process and Ray workers can unpickle them."""
