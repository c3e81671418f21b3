"""The browser tests' set-up: the pages built once per session by the project's own commands, and one
headless Chromium for all of them. Without a browser (or the playwright package) they skip, saying which."""
import importlib.util
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import pictures  # noqa: E402


@pytest.fixture(scope="session")
def built(tmp_path_factory, once_per_run):
    """{name: (page path, the JSON report it was drawn from)} for explain, explain with a slip, a student, a
    class: built once per run, by whichever worker asks first, into its temporary folder."""
    return once_per_run("pages_built", lambda: pictures.build(tmp_path_factory.mktemp("pages")))


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory):
    """Where the screenshots go (pytest's temporary folder, kept for the last three runs)."""
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="session")
def browser():
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("no browser driver: the playwright package is not installed (pip install 'mlp_ref[browser]')")
    if pictures.chromium() is None:
        named = os.environ.get("MLP_REF_CHROMIUM")
        pytest.skip(f"no browser: MLP_REF_CHROMIUM names {named!r}, which does not exist" if named else
                    "no browser: Chromium is not installed (apt-get install chromium, or set MLP_REF_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = pictures.launch(p)
        yield b
        b.close()
