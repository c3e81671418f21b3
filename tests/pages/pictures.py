"""The three pages, made by the project's own commands, and a headless Chromium to look at them.

Used by the browser tests (tests/pages/conftest.py) and, run as a script, to redraw the README's
pictures: `python tests/pages/pictures.py docs/pictures` (or `make pictures`).
"""
import contextlib
import io
import json
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ZOO = HERE.parent / "grader" / "zoo"
# A hostile student: an error message and printed output that are markup, under a file name that is too.
HOSTILE_MESSAGE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
HOSTILE_PRINT = '<img src=y onerror="window.__pwned = 3"> & <b>not bold</b>'
HOSTILE_NAME = "x<img src=z onerror=window.__pwned=4>.py"
DESKTOP, PHONE = (1280, 900), (390, 844)


def chromium():
    """The system Chromium's path, or None (MLP_REF_CHROMIUM names another)."""
    named = os.environ.get("MLP_REF_CHROMIUM")
    if named:
        return named if Path(named).exists() else None
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def hostile_source():
    """hostile_raises.py with markup in its error message and in what it prints when imported."""
    text = (ZOO / "hostile_raises.py").read_text()
    raising = 'raise NotImplementedError("backward: TODO")'
    assert raising in text, "the zoo's hostile_raises.py no longer raises as this test expects"
    return (text.replace(raising, f"raise ValueError({HOSTILE_MESSAGE!r})")
                .replace("import torch\n", f"import torch\nprint({HOSTILE_PRINT!r})\n", 1))


def class_folder(root):
    """Three students: one correct, one with a transposed gradient, one hostile."""
    folder = Path(root) / "class"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ZOO / "correct_vectorised.py", folder / "alice.py")
    shutil.copy(ZOO / "bug_transposed_gradient.py", folder / "bob.py")
    (folder / HOSTILE_NAME).write_text(hostile_source())
    return folder


def _cli(argv):
    """mlp-ref in this process: (exit code, stdout)."""
    from mlp_ref.cli.main import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return code, out.getvalue()


def slipped_input(root):
    """An explain input whose 'mine' is the derivation's own numbers (z1, z2, dl/dy_hat [n=0], dW1) except
    dz2/dz1 [n=0], written with sigmoid' as s instead of s (1 - s): a known slip, so the page marks it and
    names the hint."""
    path = Path(root) / "mine.json"
    code, _ = _cli(["explain", "--f", "sigmoid", "--g", "sigmoid", "--loss", "bce", "--write-input", str(path)])
    assert code == 0
    data = json.loads(path.read_text())
    code, out = _cli(["explain", "--input", str(path), "--json"])
    derivation = json.loads(out)
    n0 = derivation["samples"][0]
    z2 = derivation["forward"]["z2"][0]
    data["mine"].update({"z1": derivation["forward"]["z1"], "z2": derivation["forward"]["z2"],
                         "dl/dy_hat [n=0]": n0["dl/dy_hat"],
                         "dz2/dz1 [n=0]": [[v if i == j else 0.0 for j in range(len(z2))] for i, v in enumerate(z2)],
                         "dW1": derivation["gradients"]["dW1"]["jacobian"]})
    path.write_text(json.dumps(data))
    return path


def build(root):
    """Every page into `root`, with the JSON each was drawn from: {name: (page path, parsed JSON)}. The
    commands run in `root` with relative paths, so the pages name no folder of this machine."""
    root = Path(root).resolve()
    here = os.getcwd()
    os.chdir(root)
    try:
        return _build(root)
    finally:
        os.chdir(here)


def _build(root):
    pages = {}
    shutil.copy(ZOO / "bug_transposed_gradient.py", root / "mlp.py")
    explain_args = ["explain", "--f", "sigmoid", "--g", "sigmoid", "--loss", "bce"]
    code, out = _cli(explain_args + ["--html", str(root / "explain.html"), "--json"])
    assert code == 0, out
    pages["explain"] = (root / "explain.html", json.loads(out))
    mine = slipped_input(root)
    code, out = _cli(["explain", "--input", str(mine), "--html", str(root / "explain_mine.html"), "--json"])
    assert code == 1, out  # the student's numbers depart
    pages["explain_mine"] = (root / "explain_mine.html", json.loads(out))
    code, out = _cli(["check", "mlp.py", "--html", "student.html", "--json"])
    assert code == 1, out
    pages["student"] = (root / "student.html", json.loads(out))
    folder = class_folder(root)
    with contextlib.redirect_stderr(io.StringIO()):
        code, out = _cli(["check", folder.name, "--html", "class.html", "--json", "--quiet", "--jobs", "2"])
    assert code == 1, out
    pages["class"] = (root / "class.html", json.loads(out))
    return pages


def launch(playwright):
    return playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])


def open_offline(browser, path, size=DESKTOP, dark=False):
    """A page opened from its file with every request but that file refused; returns (page, log) where
    log holds 'requests' (refused URLs), 'console' (error messages) and 'errors' (uncaught exceptions)."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, java_script_enabled=True,
                                  color_scheme="dark" if dark else "light")
    log = {"requests": [], "console": [], "errors": [], "dialogs": []}
    url = Path(path).resolve().as_uri()

    def route(r):
        if r.request.url == url:
            r.continue_()
        else:
            log["requests"].append(r.request.url)
            r.abort()
    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and log["console"].append(m.text))
    page.on("pageerror", lambda e: log["errors"].append(str(e)))
    page.on("dialog", lambda d: (log["dialogs"].append(d.message), d.dismiss()))
    page.goto(url)
    page.wait_for_load_state("load")
    return page, log


def pictures(out, root):
    """The README's pictures: the top of each page at a narrow desktop width, small PNGs."""
    from playwright.sync_api import sync_playwright

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pages = build(root)
    with sync_playwright() as p:
        browser = launch(p)
        for name, height in (("explain_mine", 640), ("student", 860), ("class", 640)):
            page, _ = open_offline(browser, pages[name][0], size=(980, height))
            page.screenshot(path=str(out / f"{name}.png"))
            page.context.close()
        browser.close()


if __name__ == "__main__":
    import tempfile

    sys.path.insert(0, str(HERE.parent.parent))
    with tempfile.TemporaryDirectory(prefix="mlp-ref-pictures-") as tmp:
        pictures(sys.argv[1] if len(sys.argv) > 1 else "docs/pictures", tmp)
