"""`mlp-ref autograder`: build an autograder zip for Gradescope or PrairieLearn from assignment.toml (its
pack, points and visibility), or grade one submission as the platform's grader does."""
import sys
from pathlib import Path

from mlp_ref.cli.output import FAILED, OK, dumps, refuse
from mlp_ref.grader import autograder, config
from mlp_ref.packs import assignment as course


def add_arguments(p):
    p.add_argument("--config", required=True, metavar="FILE",
                   help="the assignment's config (assignment.toml: its pack, total points, sections, visibility)")
    p.add_argument("--target", choices=course.TARGETS, default="gradescope",
                   help="the course platform: gradescope (default) or prairielearn (an external grader)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--out", metavar="ZIP", help="write the autograder zip (the platform's scripts, the wheel, the "
                      "config) to ZIP")
    what.add_argument("--run-in", metavar="ROOT", help="grade the submission under ROOT as the platform does "
                      "(ROOT/submission for Gradescope, ROOT/student for PrairieLearn) and write "
                      "ROOT/results/results.json (what the zip's run script calls; also a preview for instructors)")


def run(args):
    if args.run_in:
        root = Path(args.run_in)
        results = course.grade(root, args.config, args.target)
        (root / "results").mkdir(parents=True, exist_ok=True)
        # Written here, after the child is gone: a submission cannot write its own verdict.
        (root / "results" / "results.json").write_text(dumps(results))
        score = f"score {results['score']:g}" if "score" in results else "not gradable"
        print(f"mlp-ref autograder: {score}; wrote {root / 'results' / 'results.json'}")
        return OK
    try:
        _, assignment = course.load(args.config)
        built = autograder.build(args.config, args.out, assignment, args.target)
    except config.ConfigError as e:
        return refuse("autograder", f"{args.config}: {e}")
    except (autograder.BuildError, OSError) as e:
        print(f"mlp-ref autograder: {e}", file=sys.stderr)
        return FAILED
    print(f"mlp-ref autograder: wrote {built.path} ({built.size / 1024:.0f} KiB: {', '.join(built.names)}); "
          f"setup.sh installs torch=={built.torch} (CPU) and numpy=={built.numpy}")
    return OK
