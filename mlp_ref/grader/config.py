"""An assignment's grading config (assignment.toml): its pack, its total, its sections' points and visibility.

    [assignment]                      pack, name, total_points, dtype, strict, timeout, file, seed, stdout_visibility
    [sections.NAME]                   points, visibility

The section names are the pack's (handed to parse by whoever looked the pack up: the engine knows no
assignment); a section left out scores nothing and is still reported, to staff only. Every problem is one
ConfigError naming its key.
"""
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
DTYPES = ("float32", "float64")  # the assignment's dtype first, torch's default; the other is the probe's
ASSIGNMENT_KEYS = {"pack": str, "name": str, "total_points": (int, float), "dtype": str, "strict": bool,
                   "timeout": (int, float), "file": str, "seed": int, "stdout_visibility": str}
SECTION_KEYS = {"points": (int, float), "visibility": str}


class ConfigError(ValueError):
    """A config the grader refuses; str() is one line that names the key."""

    def __init__(self, key, problem):
        super().__init__(f"{key}: {problem}")
        self.key = key


@dataclass(frozen=True)
class Section:
    points: float
    visibility: str = "visible"


@dataclass(frozen=True)
class Assignment:
    name: str
    total_points: float
    sections: dict = field(default_factory=dict)  # config name -> Section, in the file's order
    dtype: str = "float32"  # torch's default; the other dtype is the staff-only probe
    strict: bool = False
    timeout: float = 30.0
    file: str = None
    seed: int = 0
    stdout_visibility: str = "hidden"
    pack: str = None  # the pack's name as the config gives it; None: the default pack

    def to_json(self):
        d = asdict(self)
        d["sections"] = {k: asdict(v) for k, v in self.sections.items()}
        return json.dumps(d, indent=2)


def _typed(table, key, types, where):
    value = table[key]
    # bool is an int in Python; a point count of `true` is a mistake, not 1.
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise ConfigError(f"{where}.{key}", f"expected a number, got {value!r}")
    if not isinstance(value, types):
        want = {str: "a string", bool: "true or false", int: "an integer"}.get(types, "a number")
        raise ConfigError(f"{where}.{key}", f"expected {want}, got {value!r}")
    return value


def _unknown(table, allowed, where):
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{where}.{key}", f"unknown key; expected one of {', '.join(allowed)}")


def pack_name(data, default):
    """The pack the config's tables name ([assignment] pack), else `default`; ConfigError if it is not a string."""
    head = data.get("assignment") if isinstance(data, dict) else None
    if not isinstance(head, dict) or "pack" not in head:
        return default
    return _typed(head, "pack", str, "assignment")


def parse(data, sections):
    """An Assignment from the config's tables (as tomllib or json reads them), its sections among `sections`
    (the pack's names, in order); ConfigError if malformed."""
    valid = tuple(sections)
    if not isinstance(data, dict):
        raise ConfigError("assignment", f"expected a table, got {type(data).__name__}")
    _unknown(data, ("assignment", "sections"), "(top level)")
    head = data.get("assignment")
    if not isinstance(head, dict):
        raise ConfigError("assignment", "missing: expected an [assignment] table with name and total_points")
    _unknown(head, tuple(ASSIGNMENT_KEYS), "assignment")
    for key in ("name", "total_points"):
        if key not in head:
            raise ConfigError(f"assignment.{key}", "missing")
    values = {k: _typed(head, k, t, "assignment") for k, t in ASSIGNMENT_KEYS.items() if k in head}
    if not 0 < values["total_points"] < math.inf:
        raise ConfigError("assignment.total_points", f"expected a positive finite number, got {values['total_points']}")
    if values.get("dtype", "float32") not in DTYPES:
        raise ConfigError("assignment.dtype", f"expected one of {', '.join(DTYPES)}, got {values['dtype']!r}")
    if "timeout" in values and not values["timeout"] > 0:
        raise ConfigError("assignment.timeout", f"expected a positive number of seconds, got {values['timeout']}")
    if values.get("stdout_visibility", "hidden") not in VISIBILITIES:
        raise ConfigError("assignment.stdout_visibility",
                          f"expected one of {', '.join(VISIBILITIES)}, got {values['stdout_visibility']!r}")
    file = values.get("file")
    if file is not None and (Path(file).name != file or Path(file).suffix not in (".py", ".ipynb")):
        raise ConfigError("assignment.file", f"expected a file name ending .py or .ipynb, got {file!r}")
    given = data.get("sections", {})
    if not isinstance(given, dict):
        raise ConfigError("sections", f"expected [sections.NAME] tables, got {type(given).__name__}")
    parsed = {}
    for name, table in given.items():
        where = f"sections.{name}"
        if name not in valid:
            raise ConfigError(where, f"unknown section; expected one of {', '.join(valid)}")
        if not isinstance(table, dict):
            raise ConfigError(where, f"expected a table with points and visibility, got {table!r}")
        _unknown(table, tuple(SECTION_KEYS), where)
        if "points" not in table:
            raise ConfigError(f"{where}.points", "missing")
        points = _typed(table, "points", SECTION_KEYS["points"], where)
        if not 0 <= points < math.inf:
            raise ConfigError(f"{where}.points", f"expected a finite number >= 0, got {points}")
        visibility = _typed(table, "visibility", str, where) if "visibility" in table else "visible"
        if visibility not in VISIBILITIES:
            raise ConfigError(f"{where}.visibility", f"expected one of {', '.join(VISIBILITIES)}, got {visibility!r}")
        parsed[name] = Section(float(points), visibility)
    total = sum(s.points for s in parsed.values())
    if abs(total - values["total_points"]) > 1e-9:
        raise ConfigError("assignment.total_points", f"is {values['total_points']:g} but the sections' points "
                          f"add up to {total:g}")
    values["total_points"] = float(values["total_points"])
    if "timeout" in values:
        values["timeout"] = float(values["timeout"])
    return Assignment(sections=parsed, **values)


def load(path, sections):
    """The Assignment in a .toml file (or the .json one the autograder zip carries), its sections among
    `sections`; ConfigError if malformed."""
    return parse(read(path), sections)


def read(path):
    """The config's tables from a .toml file (or the .json one the autograder zip carries); ConfigError if unreadable."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigError("--config", f"cannot read {str(path)!r}: {e.strerror or e}") from None
    if path.suffix == ".json":
        data = json.loads(text)
        sections = data.pop("sections", {})
        return {"assignment": {k: v for k, v in data.items() if v is not None}, "sections": sections}
    try:
        import tomllib  # the standard library's from Python 3.11
    except ImportError:
        raise ConfigError("--config", "reading TOML needs Python 3.11 or later (or give the .json copy)") from None

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(str(path.name), f"not valid TOML: {e}") from None
    return data
