"""Simulations that drive the real protocol over HTTP: the demo's class and the load test."""
