"""Assignment packs: what one assignment's grading needs, handed to the engine as a small frozen record.

A pack knows one assignment (its interface, units, cases, oracle, bug shapes, templates, variants)
and nothing of Gradescope or the command line. The built-in packs sit in BUILTIN (imported only when
asked for); an instructor's own package adds one without a fork through the entry-point group
`mlp_ref.packs`, each entry point naming a module whose `PACK` is a Pack, or the Pack itself:

    [project.entry-points."mlp_ref.packs"]
    my-course-hw3 = "my_course.hw3_pack"
"""
import importlib
import importlib.metadata
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional

ENTRY_POINT_GROUP = "mlp_ref.packs"
DEFAULT = "dlsp-hw1"

# name -> the module holding its PACK; the first is the default. A pack is added here and in its own
# folder, nowhere else.
BUILTIN = {
    "dlsp-hw1": "mlp_ref.packs.dlsp_hw1",
    "cs231n-a2": "mlp_ref.packs.cs231n_a2",
}


@dataclass(frozen=True)
class Pack:
    """One assignment, as data and plain functions.

    sections: {section: (unit, ...)} in report order.
    grade(path, *, limits, seed, variant=None, only=None) -> a report with `.units` and `.passed`.
    discover(folder) -> [path of each submission under it] (a folder that is one submission gives itself).
    templates: {name: write(folder) -> [written paths]}: a blank submission per variant.
    variants: {name: one line saying what it is}.
    detect_variant(path) -> (variant name, why in words).
    """
    name: str
    title: str
    sections: Mapping[str, tuple]
    grade: Callable
    discover: Callable
    templates: Mapping[str, Callable] = field(default_factory=dict)
    variants: Mapping[str, str] = field(default_factory=dict)
    detect_variant: Optional[Callable] = None

    @property
    def units(self):
        """Every unit, in report order."""
        return tuple(u for units in self.sections.values() for u in units)


def _entry_points():
    return importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)


def _installed():
    """{name: entry point} of the packs other distributions add; a built-in name cannot be taken."""
    return {ep.name: ep for ep in _entry_points() if ep.name not in BUILTIN}


def names():
    """Every pack name: the built-in ones, then the installed ones, sorted."""
    return tuple(BUILTIN) + tuple(sorted(_installed()))


def get(name):
    """The Pack called `name`; ValueError naming the valid names for anything else."""
    if name in BUILTIN:
        return importlib.import_module(BUILTIN[name]).PACK
    installed = _installed()
    if name not in installed:
        raise ValueError(f"--assignment: expected one of {', '.join(names())}, got {name!r}")
    loaded = installed[name].load()
    pack = getattr(loaded, "PACK", loaded)
    if not isinstance(pack, Pack):
        raise TypeError(f"entry point {name!r} in group {ENTRY_POINT_GROUP!r}: expected a "
                        f"mlp_ref.packs.Pack (or a module with PACK), got {type(pack).__name__}")
    return pack


def grade_many(pack, paths, *, jobs=1, on_each=None, **kwargs):
    """pack.grade on each path, `jobs` at a time, in order. Whatever goes wrong grading one submission
    fails that one alone (every unit "crash", the error as its message). on_each(report) as each ends."""
    import concurrent.futures

    from mlp_ref.packs.report import PackReport, Unit

    def one(path):
        try:
            report = pack.grade(path, **kwargs)
        except Exception as e:  # noqa: BLE001  (one unreadable submission must not stop the class)
            problem = f"grading failed: {type(e).__name__}: {e}"[:500]
            report = PackReport(str(path), pack.name, problem=problem,
                                units=[Unit(u, s, "crash", message=problem) for s, us in pack.sections.items()
                                       for u in us])
        if on_each is not None:
            on_each(report)
        return report

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, paths))
