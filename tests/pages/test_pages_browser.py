"""The three pages in a real browser (headless Chromium), each opened from its file with the network
refused: nothing is fetched, nothing logs an error, the SVG and MathML take up room, the numbers in the
matrices are the JSON report's, a departure is marked, a hostile submission's markup stays text.
Screenshots at a desktop and a phone width go to pytest's temporary folder (the `screenshots` fixture)."""
import json

import pytest

import pictures

pytestmark = pytest.mark.slow

PAGES = ("explain", "explain_mine", "student", "class")


@pytest.fixture(scope="module")
def opened(browser, built):
    """Each page at the desktop width, opened once for the module: {name: (page, log)}."""
    out = {name: pictures.open_offline(browser, built[name][0]) for name in PAGES}
    yield out
    for page, _ in out.values():
        page.context.close()


def matrices(page):
    """{data-name: [[exact value, ...], ...]} for every heat-mapped matrix on the page."""
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('table.mat')].map(t =>
        [t.dataset.name, [...t.tBodies[0].rows].map(r => [...r.cells].filter(c => c.tagName === 'TD')
                                                                   .map(c => Number(c.dataset.value)))]))""")


def rows_of(value):
    """A JSON value as the matrix the page draws: a scalar as [[v]], a vector as one row."""
    if not isinstance(value, list):
        return [[value]]
    return [value] if not value or not isinstance(value[0], list) else value


def json_at(report, name):
    """The JSON value a matrix's data-name points to: 'forward.z1', 'samples[0].dz2/dz1', 'gradients.dW1.torch'."""
    head, _, rest = name.partition(".")
    if head.startswith("samples["):
        return report["samples"][int(head[8:-1])][rest]
    if head == "gradients":
        grad, _, way = rest.partition(".")
        return report["gradients"][grad][way]
    return report[head][rest]


@pytest.mark.parametrize("name", PAGES)
def test_the_page_fetches_nothing_and_logs_no_error(opened, name):
    page, log = opened[name]
    assert log == {"requests": [], "console": [], "errors": [], "dialogs": []}
    # Nothing on the page could fetch if it tried: no script, no external reference.
    assert page.evaluate("""() => document.scripts.length + document.querySelectorAll(
        '[src], link[href], iframe, object, embed').length""") == 0


def test_refusing_the_network_is_seen_negative_control(browser, tmp_path):
    """The check above can fail: a page that asks for a stylesheet and an image is caught doing it."""
    bad = tmp_path / "fetches.html"
    bad.write_text('<!doctype html><link rel="stylesheet" href="https://example.invalid/a.css">'
                   '<img src="http://example.invalid/x.png">')
    page, log = pictures.open_offline(browser, bad)
    page.context.close()
    assert len(log["requests"]) == 2 and all(u.startswith("http") for u in log["requests"])


@pytest.mark.parametrize("name", PAGES)
def test_svg_and_mathml_render_with_a_size(opened, name):
    page, _ = opened[name]
    sizes = page.evaluate("""() => ({svg: [...document.querySelectorAll('svg')].map(e => {
            const r = e.getBoundingClientRect(); return r.width * r.height; }),
        math: [...document.querySelectorAll('math')].map(e => {
            const r = e.getBoundingClientRect(); return r.width * r.height; })})""")
    assert sizes["svg"] and min(sizes["svg"]) > 0
    if name.startswith("explain"):
        # MathML laid out as math: a fraction is taller than a line of text.
        assert sizes["math"] and min(sizes["math"]) > 0
        heights = page.evaluate("""() => [...document.querySelectorAll('mfrac')].map(e =>
            e.getBoundingClientRect().height)""")
        line = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
        assert heights and max(heights) > 1.3 * line


@pytest.mark.parametrize("name", ["explain", "explain_mine"])
def test_every_matrix_of_explain_holds_the_json_reports_numbers(opened, built, name):
    page, _ = opened[name]
    report = built[name][1]
    found = {k: v for k, v in matrices(page).items() if not k.startswith(("mine.", "chain.", "yours."))}
    names = {k.split(".")[0] for k in found}
    assert {"input", "forward", "samples[0]", "samples[1]", "gradients"} <= names
    for key, values in found.items():
        assert values == rows_of(json_at(report, key)), key
    # Every factor and gradient of the report is drawn.
    assert sum(k.startswith("samples[0].") for k in found) == len(report["samples"][0])
    assert sum(k.startswith("gradients.") for k in found) == 12


def test_a_wrong_number_in_a_matrix_is_seen_negative_control(opened, built):
    """The comparison above can fail: one value changed in the JSON no longer matches the page."""
    page, _ = opened["explain"]
    report = json.loads(json.dumps(built["explain"][1]))
    report["gradients"]["dW1"]["torch"][0][0] += 1e-9
    assert matrices(page)["gradients.dW1.torch"] != rows_of(json_at(report, "gradients.dW1.torch"))


def test_a_diagonal_jacobian_is_drawn_as_one(opened):
    page, _ = opened["explain"]
    diagonal = page.evaluate("""() => [...document.querySelectorAll('table.mat[data-diagonal]')]
                                        .map(t => t.dataset.name)""")
    assert "samples[0].dz2/dz1" in diagonal and "samples[0].dy_hat/dz3" in diagonal
    assert "samples[0].dz3/dz2" not in diagonal  # W2 is not square here, and not diagonal


def test_the_students_departure_is_marked_with_its_hint(opened, built):
    page, _ = opened["explain_mine"]
    mine = built["explain_mine"][1]["mine"]
    first = mine["first_departure"]
    assert first == "dz2/dz1 [n=0]"
    comparison = next(c for c in mine["comparisons"] if c["name"] == first)
    marked = page.evaluate("""(name) => [...document.querySelectorAll(`table.mat[data-name="${name}"] td`)]
        .map(c => c.classList.contains('departs'))""", f"mine.{first}")
    assert sum(marked) == comparison["n_mismatched"] == 3
    # Nothing the student got right is marked.
    assert page.locator("td.departs").count() == 3
    given = json.loads(built["explain_mine"][0].with_name("mine.json").read_text())["mine"]
    drawn = matrices(page)
    assert drawn[f"mine.{first}"] == given[first]
    assert drawn[f"chain.{first}"] == built["explain_mine"][1]["samples"][0]["dz2/dz1"]
    # A gradient the student gave sits beside the three ways, unmarked where it agrees.
    assert drawn["yours.dW1"] == given["dW1"]
    assert page.locator('table.mat[data-name="yours.dW1"] td.departs').count() == 0
    hint = page.locator(".departure .hint").inner_text()
    assert "sigmoid' written as s instead of s(1-s)" in hint
    assert page.locator(".departure h3").inner_text() == f"{first} departs"


def test_the_students_heat_map_is_the_grader_first_disagreement(opened, built):
    page, _ = opened["student"]
    report = built["student"][1]
    heat = page.locator(".heat")
    check = next(c for c in report["checks"] if c["name"] == heat.get_attribute("data-check"))
    comparison = check["comparison"]
    values = matrices(page)[f"diff.{comparison['name']}"]
    flat = [v for row in values for v in row]
    assert len(flat) == comparison["n_total"]
    assert max(flat) == pytest.approx(comparison["max_abs"], rel=1e-12)
    i, j = comparison["worst_index"]
    assert values[i][j] == max(flat)
    worst = page.locator(f'table.mat[data-name="diff.{comparison["name"]}"] tbody tr').nth(i).locator("td").nth(j)
    assert "departs" in worst.get_attribute("class")
    # A transposed gradient: its diagonal is torch's, so it is not marked; the rest is.
    rows = page.locator(f'table.mat[data-name="diff.{comparison["name"]}"] tbody tr')
    marks = [["departs" in (rows.nth(a).locator("td").nth(b).get_attribute("class") or "")
              for b in range(len(values))] for a in range(len(values))]
    assert not any(marks[k][k] for k in range(len(values)))
    assert sum(map(sum, marks)) == comparison["n_mismatched"]


def test_the_class_page_counts_what_the_json_report_holds(opened, built):
    page, _ = opened["class"]
    subs = built["class"][1]["submissions"]
    assert page.locator("svg title").first.text_content().startswith("scores (3 submissions)")
    counts = page.evaluate("""() => [...document.querySelectorAll('svg rect.bar title')]
                                    .map(t => t.textContent)""")
    histogram = [int(t.split(" ")[0]) for t in counts if " scored " in t]
    assert sum(histogram) == len(subs) and len(histogram) == 10
    rates = page.evaluate("""() => [...document.querySelectorAll('table.rates tbody tr')].map(r =>
        [r.cells[0].textContent, Number(r.cells[1].textContent), Number(r.cells[2].textContent)])""")
    from mlp_ref.packs.dlsp_hw1 import report as reports
    expected = []
    for section in reports.SECTION_ORDER:
        ran = [c for s in subs for c in s["checks"] if c["section"] == section and c["passed"] is not None]
        if ran:
            expected.append([reports.SECTION_TITLES[section], sum(bool(c["passed"]) for c in ran), len(ran)])
    assert rates == expected
    # Each student's row links to their own report, inside the same file.
    links = page.evaluate("""() => [...document.querySelectorAll('#students + table a')].map(a =>
        [a.textContent, !!document.getElementById(a.getAttribute('href').slice(1))])""")
    assert sorted(t for t, _ in links) == sorted(s["path"] for s in subs) and all(ok for _, ok in links)


def test_a_hostile_submissions_markup_is_text_and_runs_nothing(opened):
    page, log = opened["class"]
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    text = page.locator("body").inner_text()
    assert pictures.HOSTILE_MESSAGE in text
    assert pictures.HOSTILE_PRINT in text
    assert pictures.HOSTILE_NAME in text
    assert page.evaluate("() => [window.__pwned, document.querySelectorAll('img, script, b').length]") == [None, 0]
    assert log["dialogs"] == [] and log["errors"] == []


def test_unescaped_markup_is_seen_negative_control(browser, tmp_path):
    """The check above can fail: the same text put in raw runs its handler and makes elements."""
    raw = tmp_path / "raw.html"
    raw.write_text(f"<!doctype html><body><pre>{pictures.HOSTILE_MESSAGE}</pre></body>")
    page, _ = pictures.open_offline(browser, raw)
    page.wait_for_function("() => window.__pwned !== undefined")
    assert pictures.HOSTILE_MESSAGE not in page.locator("body").inner_text()
    assert page.evaluate("() => document.querySelectorAll('img, script').length") == 2
    page.context.close()


def test_hover_and_focus_show_the_exact_value(opened):
    page, _ = opened["explain"]
    cell = page.locator('table.mat[data-name="gradients.dW1.torch"] td').first
    tip = cell.locator(".tip")
    assert not tip.is_visible()
    cell.focus()
    assert tip.is_visible() and float(tip.inner_text()) == float(cell.get_attribute("data-value"))
    page.locator("h1").click()
    other = page.locator('table.mat[data-name="forward.z1"] td').nth(1)
    other.hover()
    assert other.locator(".tip").is_visible()
    # Every cell and every bar is a tab stop.
    assert page.evaluate("() => [...document.querySelectorAll('table.mat td')].every(c => c.tabIndex === 0)")


def test_every_table_has_headers(opened):
    for name in PAGES:
        page, _ = opened[name]
        assert page.evaluate("""() => [...document.querySelectorAll('table')]
            .every(t => t.querySelector('thead th, th[scope]'))"""), name


def shade(css_colour):
    """'dark' or 'light' for an opaque rgb() colour, else None (a transparent background is neither)."""
    if not css_colour.startswith("rgb("):
        return None
    level = sum(int(x) for x in css_colour[4:-1].split(",")) / 3
    return "dark" if level < 80 else "light" if level > 200 else None


def closed_heights(page):
    """The height of each collapsed <details> holding a student's report (a summary line, unless printed open)."""
    return page.evaluate("""() => [...document.querySelectorAll('details:not([open])')]
        .filter(d => d.querySelector('section.student')).map(d => d.getBoundingClientRect().height)""")


@pytest.mark.parametrize("name", PAGES)
def test_screenshots_at_desktop_and_phone_width_light_and_dark(opened, screenshots, name):
    """For people to look at; at the phone width the page must not scroll sideways."""
    page, log = opened[name]
    try:
        for size, tag, scheme in ((pictures.DESKTOP, "desktop", "light"), (pictures.DESKTOP, "desktop-dark", "dark"),
                                  (pictures.PHONE, "phone", "light")):
            page.set_viewport_size({"width": size[0], "height": size[1]})
            page.emulate_media(color_scheme=scheme)
            path = screenshots / f"{name}-{tag}.png"
            page.screenshot(path=str(path))
            overflow = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
            background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
            assert path.stat().st_size > 1000 and log["errors"] == []
            assert overflow <= 0, f"{name} at {size[0]} px scrolls sideways by {overflow} px"
            assert shade(background) == scheme, background
    finally:
        page.set_viewport_size({"width": pictures.DESKTOP[0], "height": pictures.DESKTOP[1]})
        page.emulate_media(color_scheme="light")


def test_printed_the_tips_are_hidden_and_every_report_is_open(browser, built):
    page, _ = pictures.open_offline(browser, built["class"][0])
    page.emulate_media(media="print")
    shown = page.evaluate("""() => [...document.querySelectorAll('.tip')].some(t =>
        getComputedStyle(t).display !== 'none')""")
    closed = closed_heights(page)
    pdf = page.pdf()
    page.context.close()
    assert not shown and len(closed) == 3 and min(closed) > 100 and len(pdf) > 10000


def test_the_layout_checks_can_fail_negative_control(browser, tmp_path):
    """A page with no dark colours, a box wider than a phone and closed details that stay closed in print
    fails each check above: the measurements see what they claim to."""
    plain = tmp_path / "plain.html"
    plain.write_text('<!doctype html><meta name="viewport" content="width=device-width"><body>'
                     '<div style="width: 900px">wide</div><details><summary>s</summary>'
                     '<section class="student">' + "<p>line</p>" * 20 + "</section></details></body>")
    page, _ = pictures.open_offline(browser, plain, pictures.PHONE, dark=True)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - innerWidth")
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    page.emulate_media(media="print")
    closed = closed_heights(page)
    page.context.close()
    assert overflow > 0 and shade(background) is None and len(closed) == 1 and closed[0] < 40
