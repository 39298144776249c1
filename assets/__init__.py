"""Colormap tables and images, installed as the ``delvol.assets`` package (see pyproject.toml)."""
