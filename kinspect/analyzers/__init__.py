"""Analyzers: pure functions of a ModelInfo (and an ArrayReader where values are needed)."""
