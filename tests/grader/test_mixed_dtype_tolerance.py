"""A float32 answer in a float64 case is judged by the float32 grading tolerance: its own rounding passes,
an error twice that table's allowance fails."""
import numpy as np

from mlp_ref.grader import verdict


def test_a_float32_answer_in_a_float64_case_gets_the_float32_allowance():
    e = np.random.default_rng(3).standard_normal((4, 5))
    rounded = e.astype(np.float32)  # ~6e-8 relative: 1e5x the float64 table's 1e-9, inside float32's 3e-5
    c, _, note = verdict.compare_one("dW1", rounded, e)
    assert c.ok and note.endswith("compared with the float32 tolerance"), (c.headroom, note)
    assert c.headroom < 0.01
    # The float32 table, not something looser: rtol + scale = 6e-5 of |q| at the largest element.
    i = np.unravel_index(np.argmax(np.abs(e)), e.shape)
    off = rounded.copy()
    off[i] += np.float32(2 * 6e-5 * abs(e[i]))
    c, _, _ = verdict.compare_one("dW1", off, e)
    assert not c.ok and 1.7 < c.headroom < 2.3, c.headroom


def test_negative_control_a_float64_answer_gets_the_float64_allowance():
    e = np.random.default_rng(3).standard_normal((4, 5))
    c, _, note = verdict.compare_one("dW1", e.astype(np.float32).astype(np.float64), e)
    assert not c.ok and note == ""
