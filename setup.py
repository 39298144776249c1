"""Package list for setuptools; everything else is in pyproject.toml.

Code packages are discovered, never listed, so a new folder under ``delvol/`` cannot be
left out of the wheel. The two data folders at the top of the repository are mapped onto
``delvol.shaders`` and ``delvol.assets``; ``[tool.setuptools.packages.find]`` cannot
express that mapping (find walks the file system, and ``shaders/`` does not sit under
``delvol/``), hence this file. tests/test_wheel.py checks the built wheel against the tree.
"""

from setuptools import find_namespace_packages, setup

DATA_PACKAGES = {"delvol.shaders": "shaders", "delvol.assets": "assets"}

setup(
    packages=find_namespace_packages(include=["delvol", "delvol.*"], exclude=["*.__pycache__"]) + list(DATA_PACKAGES),
    package_dir=DATA_PACKAGES,
)
