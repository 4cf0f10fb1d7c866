"""Helpers for tests and benchmarks: a tiny GGUF writer and a real llama.cpp server."""
