"""Retailers sit behind one adapter interface; `registry.create_retailer` builds the configured one."""
