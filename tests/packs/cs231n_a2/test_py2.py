"""The 2016 assignment's Python 2, read as Python 3 (mlp_ref/packs/cs231n_a2/py2.py): the course's own
`self.params.iteritems()` and a student's print statements run; Python 3 source is left exactly as it is."""
import textwrap

from mlp_ref.packs.cs231n_a2.py2 import modernize

PY2 = textwrap.dedent('''\
    class Net(object):
      def __init__(self, params, seed=None):
        self.params = params
        if seed is not None:
          print 'seeded with', seed
        for k, v in self.params.iteritems():
          self.params[k] = v * 2
        print
        self.note = 'd.iteritems() stays in a string'
    ''')


def run(source):
    namespace, printed = {}, []
    exec(compile(source, "<test>", "exec"), {"print": lambda *a, **k: printed.append(a)}, namespace)
    net = namespace["Net"]({"W1": 1, "b1": 2}, seed=3)
    return net, printed


def test_python2_dict_iterators_and_print_statements_run():
    net, printed = run(modernize(PY2))
    assert net.params == {"W1": 2, "b1": 4}
    assert printed == [("seeded with", 3), ()]
    assert net.note == "d.iteritems() stays in a string"


def test_control_the_python2_source_as_written_does_not_compile():
    try:
        compile(PY2, "<test>", "exec")
    except SyntaxError:
        return
    raise AssertionError("the Python 2 fixture compiles as Python 3: it tests nothing")


def test_python3_source_is_left_exactly_as_it_is():
    py3 = "import numpy as np\n\n\ndef f(d):\n    print('x', end='')\n    return list(d.items())  # comment\n"
    assert modernize(py3) == py3


def test_source_that_is_neither_is_returned_not_raised():
    for broken in ("def f(:\n", "x = '''unterminated\n", "a\0b\n"):
        assert isinstance(modernize(broken), str)
