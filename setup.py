"""The one thing pyproject.toml can't say: the command line lives in the top-level folder ``cli/`` and is
installed as the package ``nnspec_cli`` (a folder named for what it is, an import name that claims nothing
generic)."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["nnspec", "nnspec.*"]) + ["nnspec_cli"],
    package_dir={"nnspec_cli": "cli"},
    # nnspec graph's page: its script and style, and the vendored layout library (dagre, MIT)
    package_data={"nnspec.viz": ["*.js", "*.css", "vendor/*"]},
)
