"""The pack for the homework: a two-layer MLP's forward, loss and hand-written backward (`MLP` with torch
tensors, or the numpy interface), graded case by case against torch.

battery (the cases), oracle (torch's answers), adapters (its two interfaces), runner (the child's side),
verdict (each case's check), diagnose with evidence, mutants and patterns (its bug shapes), probe (the
float64 run's scan), grade, submission (a .py or a notebook, one or a folder), config (its sections as
assignment.toml names them), report and gradescope (its renderings), templates.
"""
from pathlib import Path

from mlp_ref.packs import Pack
from mlp_ref.packs.dlsp_hw1 import config
from mlp_ref.packs.dlsp_hw1.templates import TEMPLATE_DIR
from mlp_ref.packs.report import PackReport, Unit

# Each config section is one unit: the grader's section that its checks carry.
SECTIONS = {name: (unit,) for name, unit in config.SECTIONS.items()}
TEMPLATES = {"homework": "homework_mlp.py", "numpy": "numpy_mlp.py"}


def units(report):
    """One Unit per section from the homework Report's checks: pass, fail (its first failing check's words and
    diagnosis), crash (an error before any case: the submission did not import), or n/a (nothing graded)."""
    from mlp_ref.packs.dlsp_hw1 import report as text

    out = []
    for name, (unit,) in SECTIONS.items():
        checks = [c for c in report.checks if c.section == unit and c.passed is not None]
        failed = [c for c in checks if not c.passed]
        if not checks:
            out.append(Unit(unit, name, "n/a", message="no check of the assignment's dtype in this section"))
        elif not failed:
            out.append(Unit(unit, name, "pass"))
        else:
            c = failed[0]
            outcome = (c.error or {}).get("outcome") if isinstance(c.error, dict) else None
            status = {"timeout": "timeout", "import_error": "crash", "crashed": "crash", "exited": "crash",
                      "unwritten": "missing"}.get(outcome, "fail")
            out.append(Unit(unit, name, status, diagnosis=c.diagnosis,
                            message=f"{len(failed)}/{len(checks)} checks fail; first: {text.first_failure_text(c)}"))
    return out


def grade_units(path, *, limits=None, seed=0, variant=None, only=None, **kwargs):
    """The homework's grade of one .py or .ipynb, as a PackReport whose units are its sections."""
    from mlp_ref.grader.sandbox import Limits
    from mlp_ref.packs.dlsp_hw1 import submission

    report = submission.grade_file(path, limits=limits or Limits(), seed=seed, only=only, **kwargs)
    return PackReport(str(path), PACK.name, units=units(report), variant=variant or report.interface or "",
                      variant_why="the interface the submission implements", problem=report.problem or "",
                      seconds=report.seconds)


def discover(folder):
    """Every .py and .ipynb under `folder` (one of a pair sharing a name: the .py), or the file itself."""
    from mlp_ref.grader.submission import folder_files

    folder = Path(folder)
    return [folder] if folder.is_file() else [p for p, _ in folder_files(folder)]


def _template(file):
    def write(folder):
        out = Path(folder) / "mlp.py"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text((TEMPLATE_DIR / file).read_text())
        return [out]
    return write


PACK = Pack(
    name="dlsp-hw1",
    title="A two-layer MLP's forward, loss and backward by hand, graded against torch",
    sections=SECTIONS,
    grade=grade_units,
    discover=discover,
    templates={name: _template(file) for name, file in TEMPLATES.items()},
    variants={"homework": "the MLP class on torch tensors", "numpy": "the numpy functions"},
)
