"""Which BLAS does the work, with how many threads: for numpy (through threadpoolctl) and torch."""
import re


def numpy_blas():
    """e.g. 'openblas 0.3.31 (Haswell kernel, pthreads), 2 threads'."""
    import numpy as np
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas.get('version', '?')} (install threadpoolctl for kernel and threads)"
    for lib in threadpool_info():
        if lib["user_api"] == "blas" and "numpy" in lib["filepath"]:
            return (f"{lib['internal_api']} {lib['version']} ({lib.get('architecture')} kernel, "
                    f"{lib.get('threading_layer')}), {lib['num_threads']} threads")
    return "no BLAS found in numpy's own libraries"


def torch_blas():
    """e.g. 'MKL 2024.2, 2 threads (AVX2)'."""
    import torch
    config = torch.__config__.show()
    mkl = re.search(r"Math Kernel Library Version ([\d.]+)", config)
    cap = re.search(r"CPU capability usage: (\w+)", config)
    blas = f"MKL {mkl.group(1)}" if mkl else "BLAS " + re.search(r"BLAS_INFO=(\w+)", config).group(1)
    return f"{blas}, {torch.get_num_threads()} threads" + (f" ({cap.group(1)})" if cap else "")


def jax_backend():
    """e.g. 'jax 0.10.2, jaxlib 0.10.2, XLA cpu backend'."""
    import jax
    import jaxlib
    return f"jax {jax.__version__}, jaxlib {jaxlib.__version__}, XLA {jax.default_backend()} backend"
