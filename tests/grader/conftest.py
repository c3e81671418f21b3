"""Shared by the grader's tests: the zoo and its manifest.

The manifest is imported once, as the module `zoo.manifest` (pytest puts this folder on sys.path),
so a test can use it at collection time, for parametrize, as `from zoo import manifest`; the
`manifest` fixture hands the same module to a test body.
"""
from pathlib import Path

import pytest

from zoo import manifest as _manifest

ZOO = Path(__file__).parent / "zoo"


@pytest.fixture(scope="session")
def manifest():
    return _manifest


@pytest.fixture(scope="session")
def zoo():
    return ZOO
