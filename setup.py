"""Package list only; all metadata lives in pyproject.toml.

``templates/`` sits at the top of the tree (DESIGN §2) but ships inside the
wheel as ``scaffold.templates``; pyproject's package discovery cannot add a
package mapped from another folder, so the list is built here.
"""

from __future__ import annotations

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["scaffold", "scaffold.*", "vllm_stub", "vllm_stub.*"]),
        "scaffold.templates",
    ],
    package_dir={"scaffold.templates": "templates"},
)
