"""An assignment.toml read with its pack, and one submission graded for a course platform under it.

`[assignment] pack = "cs231n-a2"` (default: the registry's default pack) names the pack, whose sections
the config's [sections.NAME] must be among. The engine's config (mlp_ref.grader.config) parses and checks
the file against the sections it is handed; here the pack is looked up by name and handed over.

The homework (dlsp-hw1) keeps its own sectioned Gradescope tests (headroom, float64 probe, integrity
flags for staff), which say more than its units; every other pack's come from its units
(mlp_ref.grader.results). PrairieLearn's are derived from either.
"""
import time
import traceback
from pathlib import Path

from mlp_ref import packs
from mlp_ref.grader import config, results
from mlp_ref.grader.sandbox import Limits

HOMEWORK = "dlsp-hw1"
TARGETS = ("gradescope", "prairielearn")
# Where each platform puts the student's files, under the root its grader runs in.
SUBMISSION_FOLDER = {"gradescope": "submission", "prairielearn": "student"}


def pack_of(data):
    """The Pack the config's tables name; ConfigError naming assignment.pack and the valid names otherwise."""
    name = config.pack_name(data, packs.DEFAULT)
    try:
        return packs.get(name)
    except (ValueError, TypeError) as e:
        raise config.ConfigError("assignment.pack", str(e).replace("--assignment: ", "")) from None


def load(path):
    """(pack, Assignment) for the config at path (.toml, or the .json copy a built autograder carries);
    ConfigError naming the key for anything malformed, an unknown pack, a section the pack has not, or
    (the homework) points on a section no case of the assignment's dtype can earn."""
    data = config.read(path)
    pack = pack_of(data)
    assignment = config.parse(data, pack.sections)
    if pack.name == HOMEWORK:
        from mlp_ref.packs.dlsp_hw1 import gradescope

        problem = gradescope.unscorable(assignment)
        if problem:
            raise config.ConfigError(*problem)
    return pack, assignment


def grade(root, config_path, target="gradescope"):
    """The platform's results.json (a dict) for the one submission under root (root/submission for
    Gradescope, root/student for PrairieLearn); never raises, whatever breaks."""
    t0 = time.perf_counter()
    assignment, gradable = None, False
    try:
        pack, assignment = load(config_path)
        folder = Path(root) / SUBMISSION_FOLDER[target]
        if pack.name == HOMEWORK:
            from mlp_ref.packs.dlsp_hw1 import gradescope, submission

            try:
                gradable = bool(submission.pick(folder, assignment.file))
            except submission.NoSubmission:
                gradable = False
            out = gradescope.run(root, config_path, folder=folder)
        else:
            found = pack.discover(folder) if folder.is_dir() else []
            gradable = len(found) == 1
            if not gradable:
                out = results.no_submission(f"expected one {pack.name} submission (a folder holding its package, "
                                            f"or a zip of one), found {len(found)}")
            else:
                report = pack.grade(found[0], limits=Limits(timeout_s=assignment.timeout), seed=assignment.seed)
                out = results.gradescope(report, assignment, pack.sections)
    except BaseException:  # noqa: B036  (the platform must always get a file; the traceback goes to staff)
        out = results.grader_failed(traceback.format_exc(), time.perf_counter() - t0)
    if out["tests"] and out["tests"][0]["name"] == results.FAILED_NAME:
        gradable = False  # not the student's doing: PrairieLearn then spends no attempt
    if target == "prairielearn":
        return results.prairielearn(out, assignment.total_points if assignment else 0.0, gradable=gradable)
    return out
