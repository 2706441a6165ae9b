"""The retailer conformance suite: every adapter with a `harness_*.py` module here must pass test_conformance."""
