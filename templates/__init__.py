"""The report's Jinja2 templates, stylesheet and script, installed as ``kinspect.templates``.

pyproject.toml maps this folder to the package ``kinspect.templates`` (package data), and
``kinspect.render.html`` reads it with importlib.resources.
"""
