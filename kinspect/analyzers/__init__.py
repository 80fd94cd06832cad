"""Analyzers: pure functions of a ModelInfo (and of weight statistics a loader read, where values
are needed); they never open files."""
