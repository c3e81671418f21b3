"""The homework's sections as assignment.toml names them, and the engine's config bound to them.

The config's section names are the instructor's spelling of the grader's sections (SECTIONS maps them);
`mlp-ref check -k` takes either spelling, and the probe.
"""
from mlp_ref.grader import config as engine
from mlp_ref.grader.config import DTYPES, VISIBILITIES, Assignment, ConfigError, Section  # noqa: F401

# The config's section name -> the section name the grader's checks carry (battery.SECTIONS plus the
# two the grader adds: the import check's "interface" and the battery-wide "contract" checks).
SECTIONS = {"interface": "interface", "losses": "loss", "backward": "backward", "end_to_end": "end-to-end",
            "edge": "edge", "contract": "contract", "robustness": "robustness"}
# Either spelling names a section on the command line (check -k losses, or -k loss); the probe too.
SELECTABLE = {**SECTIONS, **{v: v for v in SECTIONS.values()}, "probe": "probe"}


def sections_named(names):
    """The grader's section names for names in either spelling, in the battery's order; ValueError for an
    unknown one, naming the valid ones."""
    wanted = []
    for name in names:
        if name not in SELECTABLE:
            raise ValueError(f"unknown section {name!r}; expected one of {', '.join(SECTIONS)}, probe "
                             f"(or {', '.join(v for v in SECTIONS.values() if v not in SECTIONS)})")
        wanted.append(SELECTABLE[name])
    return tuple(s for s in dict.fromkeys(SELECTABLE.values()) if s in wanted)


def parse(data):
    """engine.parse with this homework's sections."""
    return engine.parse(data, SECTIONS)


def load(path):
    """engine.load with this homework's sections."""
    return engine.load(path, SECTIONS)
