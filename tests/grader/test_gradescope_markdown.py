"""Gradescope's Markdown reads as what it says: rendered by a CommonMark renderer, the grader's text survives
literally (no emphasis, no table, no code block it did not ask for); and every visible test carries the cause
of its failure, even when that cause lies in a hidden section."""
import html
import re
from pathlib import Path

import pytest

from mlp_ref.packs.dlsp_hw1 import config, gradescope, report, submission
from mlp_ref.grader.sandbox import Limits

markdown_it = pytest.importorskip("markdown_it")
ZOO = Path(__file__).parent / "zoo"
# end to end visible, backward hidden: an endless loop in forward times out in backward's cases first.
FORMATIVE = config.parse({"assignment": {"name": "HW1", "total_points": 10},
                          "sections": {"losses": {"points": 2}, "backward": {"points": 2, "visibility": "hidden"},
                                       "end_to_end": {"points": 4}, "edge": {"points": 1},
                                       "contract": {"points": 1}}})


def render(md):
    """HTML from CommonMark with GitHub's tables on (a pipe must not build one)."""
    return markdown_it.MarkdownIt("commonmark").enable("table").render(md)


def text_of(rendered):
    return html.unescape(re.sub(r"<[^>]+>", "", rendered))


@pytest.mark.parametrize("plain", [
    "rtol 3e-05*|torch| + 3e-05*max|torch| + 20*noise",
    "a | b | c\n---|---|---\n1 | 2 | 3",
    "- not a list\n1. not numbered\n# not a heading\n> not a quote\n    not code",
    "dJdW1_mean and __init__ and <b>bold</b> &amp; [link](http://x) `tick` ~~strike~~",
])
def test_escaped_text_renders_as_itself(plain):
    rendered = render(gradescope.escape(plain))
    assert not re.search(r"<(em|strong|table|h1|ul|ol|li|blockquote|pre|code|a|b|del)\b", rendered), rendered
    assert " ".join(text_of(rendered).split()) == " ".join(x.strip() for x in plain.split()), rendered
    # Negative control: the same text unescaped is read as markup.
    assert re.search(r"<(em|table|ul|ol|h1|blockquote|pre|code|a|b|del)\b", render(plain))


def test_every_output_of_a_failing_report_keeps_its_text(tmp_path):
    """The tolerance line (with * and |), a check's name and its diagnosis read literally after rendering."""
    r = submission.grade_file(ZOO / "bug_half_mse.py")
    res = gradescope.results(r, FORMATIVE)
    top = text_of(render(res["output"]))
    assert report.tolerance_line(r.dtype) in " ".join(top.split()) and "<em>" not in render(res["output"])
    losses = next(t for t in res["tests"] if t["name"] == "losses")
    rendered = render(losses["output"])
    first = next(c for c in r.checks if c.section == "loss" and c.passed is False)
    for line in report.failure_lines(first):
        words = line.split("]: ", 1)[-1] if line.startswith("diagnosis [") else line
        assert " ".join(words.split()) in " ".join(text_of(rendered).split()), line
    for t in res["tests"]:
        assert "<em>" not in render(t["output"]) and "<table>" not in render(t["output"]), t["name"]


def test_a_visible_test_shows_the_line_of_an_endless_loop_found_in_a_hidden_section(tmp_path):
    """forward loops: backward's (hidden) cases run out of time at the loop's line, the end-to-end cases are
    then 'not run'. The visible end-to-end test names the loop's line, not only 'not run'."""
    source = (ZOO / "correct_vectorised.py").read_text()
    looping = source.replace('        p = self.parameters\n        z1 = x @',
                             '        while True:\n            pass\n        p = self.parameters\n        z1 = x @', 1)
    assert looping != source
    sub = tmp_path / "loops.py"
    sub.write_text(looping)
    loop_line = looping.splitlines().index("        while True:") + 1
    r = submission.grade_file(sub, limits=Limits(timeout_s=20, case_timeout_s=0.3))
    tests = {t["name"]: t for t in gradescope.results(r, FORMATIVE)["tests"]}
    e2e = tests["end to end"]
    assert e2e["visibility"] == "visible" and tests["backward"]["visibility"] == "hidden"
    own = [c for c in r.checks if c.section == "end-to-end" and c.passed is False]
    assert own and all("not run" in (c.message or "") for c in own)  # the section alone holds no cause
    assert f"line {loop_line}" in e2e["output"] and "ran out of time" in e2e["output"]
    assert "The cause, found in the backward checks" in e2e["output"]
