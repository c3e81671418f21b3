"""What the child puts between a submission and the grader: an autograd counter, a refusal to import
the grader's own modules, and (as root) a uid of its own with a process limit.
"""
import os
import resource
import sys


class AutogradGuard:
    """Counts every call into torch's autograd: the reverse-mode engine (Tensor.backward, autograd.grad,
    autograd.functional.*, torch.func.grad), forward mode (make_dual, dual_level) and torch.func's
    transforms, from wherever a submission can reach them as a module attribute.

    Best effort: the originals stay reachable through the wrappers' closures, so a submission that
    digs them out can call them uncounted; one that puts the original engine back is counted (check).
    """

    FUNC_MODULES = ("torch.func", "torch._functorch.eager_transforms", "torch._functorch.apis")
    FUNC_NAMES = ("grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp", "linearize", "vjp")

    def __init__(self):
        from torch.autograd import forward_ad
        from torch.autograd.variable import Variable

        self.calls, self.variable = 0, Variable
        engine = Variable._execution_engine
        guard = self

        class Engine:
            def run_backward(self, *args, **kwargs):
                guard.calls += 1
                return engine.run_backward(*args, **kwargs)

            def __getattr__(self, name):
                return getattr(engine, name)

        self.engine = Variable._execution_engine = Engine()
        # A fresh engine has one use, running autograd past the counted one: making it counts as a
        # call (torch makes its own once, at import, before this guard exists).
        import torch
        import torch.autograd.variable as variable_module

        fresh = torch._C._ImperativeEngine
        torch._C._ImperativeEngine = variable_module.ImperativeEngine = self._counted(fresh)
        for module in [sys.modules.get(m) for m in self.FUNC_MODULES]:
            for name in self.FUNC_NAMES if module is not None else ():
                if callable(getattr(module, name, None)):
                    setattr(module, name, self._counted(getattr(module, name)))
        forward_ad.make_dual = self._counted(forward_ad.make_dual)
        forward_ad.dual_level.__enter__ = self._counted(forward_ad.dual_level.__enter__)

    def _counted(self, fn):
        def counted(*args, **kwargs):
            self.calls += 1
            return fn(*args, **kwargs)
        return counted

    def check(self):
        """The calls so far; an engine swapped back for the original counts as a call, and is undone."""
        if self.variable._execution_engine is not self.engine:
            self.calls += 1
            self.variable._execution_engine = self.engine
        return self.calls


class RefuseGrader:
    """A sys.meta_path finder that keeps the grader's own modules (torch's answers among them) out of reach."""

    def find_spec(self, name, path=None, target=None):
        if name == "mlp_ref" or name.startswith("mlp_ref."):
            raise ImportError("the grader's own modules are not available to a submission")
        return None


def hide_grader():
    sys.meta_path.insert(0, RefuseGrader())
    for name in [n for n in sys.modules if n == "mlp_ref" or n.startswith("mlp_ref.")]:
        del sys.modules[name]


# Processes (threads included) one child's uid may have: torch's few threads, not a fork bomb.
NPROC = 64


CAP_DAC_READ_SEARCH = 2


def drop_privileges(uid):
    """As root: become `uid` (no groups), which owns only the scratch folder; then cap its processes.
    Not root, or refused: carry on as before (the limit would then count all the user's processes).

    The one capability kept is reading any file (CAP_DAC_READ_SEARCH): Python and torch may live under
    a folder only root can enter (a pyenv in root's home), and torch imports parts of itself and the standard
    library lazily, while the submission runs. Writing, signalling, and the process limit are as for
    any unprivileged user.
    """
    if uid is None:
        return
    import ctypes

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(8, 1, 0, 0, 0)  # PR_SET_KEEPCAPS: the permitted set survives setuid
    try:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    except OSError:
        return
    caps = (Data * 2)()
    caps[0].effective = caps[0].permitted = 1 << CAP_DAC_READ_SEARCH
    libc.capset(ctypes.byref(Header(0x20080522, 0)), caps)  # _LINUX_CAPABILITY_VERSION_3
    libc.prctl(8, 0, 0, 0, 0)
    resource.setrlimit(resource.RLIMIT_NPROC, (NPROC, NPROC))


PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def die_with_parent():
    """SIGKILL this process when the grader that started it dies (Linux prctl): a grader killed from
    outside leaves no submission running on. False where refused."""
    import ctypes
    import signal

    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def become_subreaper():
    """Adopt every orphaned descendant (Linux prctl): a process the submission starts that leaves the
    group with setsid() and loses its parent stays below the child, where kill_descendants finds it.
    Without root there is no uid of its own to find such processes by. False where refused."""
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _parents():
    """{pid: parent pid} for every process, from /proc/PID/stat."""
    out = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as f:
                    # The command name may hold spaces and parentheses: the fields start after the last ')'.
                    out[int(entry.name)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    return out


def kill_descendants(pid, rounds=50):
    """SIGKILL every descendant of `pid` (not pid itself), until none is left (a fork storm refills)."""
    import signal

    for _ in range(rounds):
        parents = _parents()
        below, frontier = set(), {pid}
        while frontier:
            frontier = {p for p, parent in parents.items() if parent in frontier and p not in below}
            below |= frontier
        if not below:
            return
        for p in below:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
