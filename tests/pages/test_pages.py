"""The pages without a browser: untrusted text escaped, MathML and matrices built from the data, the
explain page generic over a derivation's names, the class page's pass-rate rows, and --html refused
where it would overwrite an input or land in the graded folder."""
import re
from types import SimpleNamespace

import numpy as np
import pytest

from mlp_ref.cli.main import main
from mlp_ref.compare import compare
from mlp_ref.grader import classreport
from mlp_ref.packs.dlsp_hw1 import grade
from mlp_ref.grader.verdict import Check
from mlp_ref.pages import classpage, explain, student
from mlp_ref.pages.layout import mathml, matrix
from mlp_ref.tolerances import tolerance

import pictures

RAW = re.compile(r"<(script|img)\b", re.I)


def raw_markup(html):
    """Tags a page did not mean to make: a <script> or an <img> anywhere in it."""
    return RAW.findall(html)


def hostile_report(path=pictures.HOSTILE_NAME):
    check = Check("backward alone", "backward", False, message=pictures.HOSTILE_MESSAGE,
                  error={"outcome": "crashed", "stage": "backward", "type": "ValueError",
                         "message": pictures.HOSTILE_MESSAGE, "line": 67, "source": pictures.HOSTILE_MESSAGE})
    return grade.Report(path, checks=[Check("imports", "interface", True), check], interface="homework",
                        containment=["crashed"], output_head=pictures.HOSTILE_PRINT)


def test_the_raw_markup_finder_finds_markup_negative_control():
    assert raw_markup(f"<p>{pictures.HOSTILE_MESSAGE}</p>") == ["script", "img"]


def test_a_students_page_escapes_the_submissions_messages_output_and_name():
    html = student.page(hostile_report())
    assert raw_markup(html) == []
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html
    assert "&lt;img src=y onerror=" in html and "&amp; &lt;b&gt;not bold" in html
    assert "x&lt;img src=z onerror=window.__pwned=4&gt;.py" in html


def test_the_class_page_escapes_every_students_text():
    r = hostile_report()
    summary = classreport.summarise([r], [0.0], 1.0)
    html = classpage.page(summary, [r], title=f"Class report: {pictures.HOSTILE_NAME}")
    assert raw_markup(html) == []
    assert html.count("x&lt;img src=z onerror=window.__pwned=4&gt;.py") >= 3  # title, diagnosis example, row


def test_a_pass_rate_table_takes_any_rows_so_a_pack_can_give_its_units():
    r = hostile_report("a.py")
    summary = classreport.summarise([r], [1.0], 1.0)
    units = [classpage.Rate("affine_backward", 3, 4), classpage.Rate("<relu_backward>", 0, 4)]
    html = classpage.page(summary, [r], rates=[("by section", "section", classpage.section_rates([r])),
                                               ("by unit", "unit", units)])
    assert "Pass rates by unit" in html and "affine_backward" in html and "75%" in html
    assert "&lt;relu_backward&gt;" in html
    assert classpage.section_rates([r]) == [classpage.Rate("interface", 1, 1),
                                            classpage.Rate("backward alone (known dJdy_hat)", 0, 1)]


def test_mathml_sets_unknown_tokens_as_text():
    out = str(mathml("z1 = <b>x</b> & W1^T"))
    assert "<b>" not in out and "&lt;" in out and "&amp;" in out
    assert "<msubsup><mi>W</mi><mn>1</mn><mi>T</mi></msubsup>" in out
    assert "<mfrac>" in str(mathml("dl/dz1 = dl/dz2 dz2/dz1"))


def test_a_matrix_keeps_every_value_exactly_and_sees_a_diagonal():
    a = np.array([[0.1 + 0.2, 0.0], [0.0, -1e-300]])
    m = matrix("k", "label", a)
    assert [[float(c["exact"]) for c in row] for row in m["rows"]] == a.tolist()
    assert m["diagonal"] and not matrix("k", "l", [[1.0, 2.0], [0.0, 1.0]])["diagonal"]
    marked = matrix("k", "l", a, departs=[[True, False], [False, False]])
    assert [c["cls"] for row in marked["rows"] for c in row] == ["departs", "off", "off", ""]


def _derivation_of_another_chain():
    """A made-up chain x -> z1 -> s -> l (not the MLP's names), as a later derivation would bring."""
    rng = np.random.default_rng(0)
    x, z1, s = rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    samples = [{"dl/ds": rng.standard_normal((1, 3)), "ds/dz1": np.diag(rng.standard_normal(3)),
                "dl/dz1": rng.standard_normal((1, 3))} for _ in range(2)]
    dgamma = rng.standard_normal(3)
    tol = tolerance("float64")
    checks = [compare("ds/dz1 [n=0]", samples[0]["ds/dz1"], samples[0]["ds/dz1"], tol),
              compare("dgamma jacobian", dgamma, dgamma, tol)]
    return SimpleNamespace(
        problem=SimpleNamespace(x=x, y=rng.standard_normal((2, 3)), loss="mse", reduction="sum"),
        forward={"x": x, "z1": z1, "s": s, "loss": np.float64(0.5)}, samples=samples,
        gradients={"dgamma": {"jacobian": dgamma, "torch": dgamma}}, checks=checks, ok=True, failures=lambda: [],
        equations={"z1": "z1 = x W1^T", "s": "s = gamma z1_hat + beta", "loss": "l = sum s", "dgamma": "dgamma = z1_hat"},
        naming={"s": "s"})


def test_the_explain_page_draws_a_derivation_of_other_names_the_same_way():
    d = _derivation_of_another_chain()
    html = explain.page(d)
    # The factors linking neighbours are the diagram's backward arrows; a product spanning two links is not.
    assert [e[2] for e in explain._factor_edges(d)] == ["dl/ds", "ds/dz1"]
    assert ">ds/dz1</text>" in html and ">dl/dz1</text>" not in html
    for name in ("forward.z1", "forward.s", "samples[1].ds/dz1", "samples[0].dl/dz1", "gradients.dgamma.torch"):
        assert f'data-name="{name}"' in html
    assert '<mi>\u03b3</mi>' in html  # its own equations, in MathML
    assert 'data-name="samples[0].ds/dz1" data-shape="(3, 3)" data-diagonal="1"' in html


def test_the_explain_page_of_a_failing_derivation_says_which_disagree():
    d = _derivation_of_another_chain()
    bad = compare("dgamma jacobian", d.gradients["dgamma"]["torch"] + 1, d.gradients["dgamma"]["torch"],
                  tolerance("float64"))
    d.checks[1], d.ok, d.failures = bad, False, (lambda: [bad])
    html = explain.page(d)
    assert "disagreement: dgamma jacobian" in html and "DISAGREES" in html


def test_explain_html_writes_one_self_contained_page(tmp_path, capsys):
    out = tmp_path / "explain.html"
    assert main(["explain", "--html", str(out)]) == 0
    html = out.read_text()
    assert html.startswith("<!doctype html>") and "<math>" in html and "<svg" in html
    assert re.findall(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", html) == []
    assert "explain: tolerance" in capsys.readouterr().out  # the text report still prints
    assert [p.name for p in tmp_path.iterdir()] == ["explain.html"]  # no temporary left behind


@pytest.mark.parametrize("argv, words", [
    (["explain", "--input", "{mine}", "--html", "{mine}"], "--html: expected an output path that is not an input"),
    (["explain", "--write-input", "{mine}", "--html", "{out}"], "--html: --write-input writes the problem"),
    (["explain", "--html", "{folder}"], "--html: expected a file path"),
    (["check", "{sub}", "--html", "{sub}"], "--html: expected an output path that is not an input"),
    (["check", "{folder}", "--html", "{folder}/class.html"], "--html: expected an output path outside the folder"),
])
def test_html_is_refused_by_name_where_it_would_overwrite_an_input(tmp_path, capsys, argv, words):
    folder = tmp_path / "subs"
    folder.mkdir()
    sub = folder / "a.py"
    sub.write_text("x = 1\n")
    mine = tmp_path / "mine.json"
    mine.write_text("{}")
    names = dict(mine=mine, out=tmp_path / "out.html", folder=folder, sub=sub)
    assert main([a.format(**names) for a in argv]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1
    assert sub.read_text() == "x = 1\n" and mine.read_text() == "{}"
