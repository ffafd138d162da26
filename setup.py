"""Package list only; all metadata lives in pyproject.toml.

Three top-level folders ship inside the wheel under ``scaffold``, which
pyproject's package discovery cannot map from another folder, so the list is
built here: ``templates/`` as ``scaffold.templates``, and the embedded tree's
docs table and examples (``docs/models``, ``tests/models``) as
``scaffold.embedded.docs`` and ``scaffold.embedded.examples``, so that
``scaffold demo`` rebuilds the tree from any folder (``vllm_stub`` ships too).
"""

from __future__ import annotations

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["scaffold", "scaffold.*", "vllm_stub", "vllm_stub.*"]),
        "scaffold.templates",
        "scaffold.embedded.docs",
        "scaffold.embedded.examples",
    ],
    package_dir={
        "scaffold.templates": "templates",
        "scaffold.embedded.docs": "docs/models",
        "scaffold.embedded.examples": "tests/models",
    },
    # Only the example registry: generated parity tests are not part of it.
    exclude_package_data={"scaffold.embedded.examples": ["test_*.py"]},
)
