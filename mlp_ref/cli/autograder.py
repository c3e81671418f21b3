"""`mlp-ref autograder`: build a Gradescope autograder zip from assignment.toml, or grade as it does."""
import sys
from pathlib import Path

from mlp_ref.cli.output import FAILED, OK, dumps, refuse
from mlp_ref.grader import autograder
from mlp_ref.packs.dlsp_hw1 import config, gradescope


def add_arguments(p):
    p.add_argument("--config", required=True, metavar="FILE",
                   help="the assignment's config (assignment.toml: total points, sections, visibility)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--out", metavar="ZIP", help="write the autograder zip (setup.sh, run_autograder, the wheel) to ZIP")
    what.add_argument("--run-in", metavar="ROOT", help="grade ROOT/submission as Gradescope does and write "
                      "ROOT/results/results.json (what run_autograder calls; also a preview for instructors)")


def run(args):
    if args.run_in:
        root = Path(args.run_in)
        results = gradescope.run(root, args.config)
        (root / "results").mkdir(parents=True, exist_ok=True)
        # Written here, after the child is gone: a submission cannot write its own verdict.
        (root / "results" / "results.json").write_text(dumps(results))
        print(f"mlp-ref autograder: score {results['score']:g}; wrote {root / 'results' / 'results.json'}")
        return OK
    try:
        assignment = config.load(args.config)
        problem = gradescope.unscorable(assignment)
        if problem:
            raise config.ConfigError(*problem)
        built = autograder.build(args.config, args.out, assignment)
    except config.ConfigError as e:
        return refuse("autograder", f"{args.config}: {e}")
    except (autograder.BuildError, OSError) as e:
        print(f"mlp-ref autograder: {e}", file=sys.stderr)
        return FAILED
    print(f"mlp-ref autograder: wrote {built.path} ({built.size / 1024:.0f} KiB: {', '.join(built.names)}); "
          f"setup.sh installs torch=={built.torch} (CPU) and numpy=={built.numpy}")
    return OK
