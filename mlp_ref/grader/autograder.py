"""Build an autograder zip for a course platform from an assignment config and this checkout.

Gradescope (the zip is uploaded as it is):
    setup.sh           installs the pinned CPU torch and numpy, then mlp_ref from the wheel below
    run_autograder     grades $AUTOGRADER_ROOT/submission into $AUTOGRADER_ROOT/results/results.json
    assignment.toml    the instructor's config, as given
    assignment.json    the same, as checked when the zip was built (what the run script reads)
    mlp_ref-*.whl      the grader, built from this checkout, so its version is frozen for the term
PrairieLearn (unpacked into the course's serverFilesCourse/mlp_ref/): the same, with
    run.sh             the external-grading entrypoint: grades /grade/student into /grade/results/results.json
    Dockerfile         the grading image: a PrairieLearn Python image with setup.sh run in it (grading
                       containers have no network by default, so everything is installed beforehand)
    info.json          the externalGradingOptions a question's info.json takes to use them
"""
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


FILES = Path(__file__).parent / "autograder_files"
TARGETS = ("gradescope", "prairielearn")
PL_FOLDER = "mlp_ref"  # under serverFilesCourse/
PL_DOCKERFILE = """\
FROM prairielearn/grader-python
COPY . /mlp_ref_setup
RUN /mlp_ref_setup/setup.sh && rm -rf /mlp_ref_setup
"""
CHECKOUT_FILES = ("pyproject.toml", "README.md", "constraints.txt")


class BuildError(RuntimeError):
    """The zip could not be built; str() says which step and why."""


@dataclass
class Built:
    path: Path
    size: int       # bytes of the zip
    wheel: str      # the wheel's file name inside it
    torch: str
    numpy: str
    names: tuple    # every file in the zip


def checkout_root():
    """The source checkout this mlp_ref runs from (an editable install); BuildError for an installed copy."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file():
        raise BuildError(f"the autograder is built from a source checkout of mlp_ref, and {root} has no "
                         "pyproject.toml (install with `pip install -e .` from the checkout)")
    return root


def pins(root):
    """{'torch': '2.13.0', 'numpy': ...} from the checkout's constraints.txt."""
    found = {}
    for line in (root / "constraints.txt").read_text().splitlines():
        m = re.match(r"^\s*(torch|numpy)\s*==\s*([\w.+]+)", line)
        if m:
            found[m.group(1)] = m.group(2)
    for name in ("torch", "numpy"):
        if name not in found:
            raise BuildError(f"constraints.txt: expected a pin `{name}==VERSION`, found none")
    return found


def build_wheel(root, folder):
    """The mlp_ref wheel, built with pip from a copy of the checkout (the checkout itself is not written)."""
    src = Path(folder) / "src"
    shutil.copytree(root / "mlp_ref", src / "mlp_ref", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in CHECKOUT_FILES:
        shutil.copy2(root / name, src / name)
    out = Path(folder) / "wheel"
    # No build isolation: the setuptools already installed builds it, with no index to reach.
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(out),
           str(src)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(out.glob("mlp_ref-*.whl")) if out.exists() else []
    if done.returncode != 0 or not wheels:
        raise BuildError(f"pip wheel failed (exit {done.returncode}): {(done.stderr or done.stdout).strip()[-800:]}")
    return wheels[0]


def _add(zf, name, data, executable=False):
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    zf.writestr(info, data)


def _platform_files(target, timeout):
    """(name, text, executable) of the target's own files."""
    if target == "gradescope":
        return [("run_autograder", (FILES / "run_autograder").read_text(), True)]
    options = {"externalGradingOptions": {"enabled": True, "image": "YOUR_DOCKERHUB_NAME/mlp-ref-grader",
                                          "serverFilesCourse": [f"{PL_FOLDER}/"],
                                          "entrypoint": f"/grade/serverFilesCourse/{PL_FOLDER}/run.sh",
                                          "timeout": int(min(600, max(30, 2 * timeout + 30)))}}
    return [("run.sh", (FILES / "run_prairielearn").read_text(), True), ("Dockerfile", PL_DOCKERFILE, False),
            ("info.json", json.dumps(options, indent=2) + "\n", False)]


def build(config_path, out_path, assignment, target="gradescope"):
    """Build the wheel, write the zip for `target` (gradescope or prairielearn) at out_path; returns what was
    built. `assignment`: the config at config_path as checked against its pack (by the caller: the engine
    knows no pack). BuildError for a failed step."""
    if target not in TARGETS:
        raise ValueError(f"target: expected one of {', '.join(TARGETS)}, got {target!r}")
    root = checkout_root()
    versions = pins(root)
    out_path = Path(out_path)
    with tempfile.TemporaryDirectory(prefix="mlp-ref-autograder-") as tmp:
        wheel = build_wheel(root, tmp)
        setup = (FILES / "setup.sh").read_text()
        for key, value in (("@TORCH@", versions["torch"]), ("@NUMPY@", versions["numpy"]), ("@WHEEL@", wheel.name)):
            setup = setup.replace(key, value)
        partial = out_path.with_name(out_path.name + ".partial")
        with zipfile.ZipFile(partial, "w") as zf:
            _add(zf, "setup.sh", setup, executable=True)
            for name, text, executable in _platform_files(target, assignment.timeout):
                _add(zf, name, text, executable=executable)
            _add(zf, "assignment.toml", Path(config_path).read_bytes())
            _add(zf, "assignment.json", assignment.to_json() + "\n")
            _add(zf, wheel.name, wheel.read_bytes())
        partial.replace(out_path)  # never a half-written zip under the name the instructor uploads
    with zipfile.ZipFile(out_path) as zf:
        names = tuple(zf.namelist())
    return Built(out_path, out_path.stat().st_size, wheel.name, versions["torch"], versions["numpy"], names)
