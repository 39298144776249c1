"""GLSL sources, installed as the ``delvol.shaders`` package (see pyproject.toml)."""
