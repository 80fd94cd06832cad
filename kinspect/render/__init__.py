"""Renderers: result values in, text or bytes out. They never open model files and never print."""
