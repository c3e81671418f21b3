#!/usr/bin/env bash
# Gradescope runs this once, as root, in /autograder/source (the zip, unpacked), to build the image (for
# PrairieLearn, the Dockerfile beside it does):
# the pinned CPU torch and numpy, then the grader from the wheel shipped beside this file (frozen for the term).
#   MLP_REF_PYTHON       the interpreter to install into (default: python3)
#   MLP_REF_TORCH_INDEX  where torch comes from (default: PyTorch's CPU index; the default PyPI wheel is
#                        the CUDA build, several GB); empty: pip's own configuration decides
set -euo pipefail
cd "$(dirname "$0")"
PYTHON="${MLP_REF_PYTHON:-python3}"
TORCH_INDEX="${MLP_REF_TORCH_INDEX-https://download.pytorch.org/whl/cpu}"

if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
    apt-get update && apt-get install -y python3 python3-pip
fi

# numpy @NUMPY@ needs Python 3.11 or later: on Gradescope, the Ubuntu 24.04 base image (Python 3.12).
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "setup.sh: $PYTHON is Python $("$PYTHON" -c 'import platform; print(platform.python_version())'); numpy @NUMPY@ needs 3.11 or later (choose the Ubuntu 24.04 base image)" >&2
    exit 1
fi

pip_install() {
    # Ubuntu 24.04's system Python refuses plain installs (PEP 668); a Gradescope image is ours to change.
    "$PYTHON" -m pip install --no-cache-dir "$@" || "$PYTHON" -m pip install --no-cache-dir --break-system-packages "$@"
}

pip_install "numpy==@NUMPY@"
if [ -n "$TORCH_INDEX" ]; then
    pip_install "torch==@TORCH@" --index-url "$TORCH_INDEX"
else
    pip_install "torch==@TORCH@"
fi
pip_install --no-deps --no-index ./@WHEEL@
"$PYTHON" -c "import mlp_ref.packs.assignment, numpy, torch; print('installed: torch', torch.__version__, 'numpy', numpy.__version__)"
