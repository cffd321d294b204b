"""Which array library a network computes with: NumPy, CuPy, or PyTorch tensors on any device.

The equations of the layers, losses and optimizers are written once, against the array-API
standard, in the idiom array libraries share::

    xp = namespace(x)          # the module of x's library: numpy, or a standard wrapper
    z = x @ W + b              # operators are the same everywhere
    a = xp.maximum(z, 0)       # functions come from xp instead of np

With NumPy arrays ``namespace`` returns NumPy's own namespace (``NUMPY_NAMESPACE``: numpy's
names, with the reductions the equations use called as array methods, ``x.sum(axis=0)`` for
``xp.sum(x, axis=0)``: the same ufunc, bit for bit, a microsecond or two less a call, which is
a tenth of a small training step), so nnscratch needs NumPy alone and runs the code it ran
before. Any other library goes through ``array_api_compat`` (an
optional dependency, installed by the ``torch`` and ``cuda12`` extras), which gives CuPy and
PyTorch the standard's names. ``array_api_strict``, a library that refuses anything outside the
standard, is supported too: the tests run every equation on it to prove they stay inside.

A ``Backend`` is a library and a device, named as ``Sequential.to`` and ``--device`` take them:

    "numpy" (or "cpu")       NumPy on the host, the default
    "cupy", "cupy:1"         CuPy on a CUDA GPU
    "torch:cpu"              PyTorch tensors on the CPU
    "torch:cuda", "torch:cuda:1"
    "cuda", "cuda:1"         CuPy if it is installed, else PyTorch, on the first (or Nth) GPU
    "array_api_strict"       the standard's reference library (for checking code)

Random numbers are never drawn here: weights, dropout masks and shuffles come from the
network's seeded NumPy generator on the host and are copied to the device, so every backend
starts from, and draws, the same numbers.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

LIBRARIES = ("numpy", "cupy", "torch", "array_api_strict")
EXAMPLES = "'numpy', 'cuda[:N]', 'cupy[:N]', 'torch:cpu', 'torch:cuda[:N]' or 'array_api_strict'"


class BackendError(ValueError):
    """A backend that cannot be used here: unknown, not installed, or without its device."""


def _numpy_namespace() -> ModuleType:
    """numpy's names, with sum, mean, max, argmax and astype called as methods (the function
    forms dispatch through Python first, about twice the method's time for a small array)."""
    module = ModuleType("nnscratch.backend.numpy", "NumPy, reductions called as methods")
    module.__dict__.update({name: value for name, value in vars(np).items()
                            if not name.startswith("__")})

    def sum(x, /, *, axis=None, dtype=None, keepdims=False):  # noqa: A001 - the standard's name
        return x.sum(axis=axis, dtype=dtype, keepdims=keepdims)

    def mean(x, /, *, axis=None, keepdims=False):
        return x.mean(axis=axis, keepdims=keepdims)

    def max(x, /, *, axis=None, keepdims=False):  # noqa: A001
        return x.max(axis=axis, keepdims=keepdims)

    def argmax(x, /, *, axis=None, keepdims=False):
        return x.argmax(axis=axis, keepdims=keepdims)

    def astype(x, dtype, /, *, copy=True, device=None):
        return x.astype(dtype, copy=copy)

    for function in (sum, mean, max, argmax, astype):
        setattr(module, function.__name__, function)
    return module


NUMPY_NAMESPACE = _numpy_namespace()


def namespace(array: Any) -> Any:
    """The array-API namespace of ``array``: NUMPY_NAMESPACE for a NumPy array (no other
    import), else array_api_compat's for the array's library."""
    kind = type(array)
    if kind is np.ndarray:
        return NUMPY_NAMESPACE
    xp = _NAMESPACES.get(kind)
    if xp is None:  # an array's namespace depends on its type alone: looked up once per type
        xp = _NAMESPACES[kind] = _array_api_compat().array_namespace(array)
    return xp


_NAMESPACES: dict[type, Any] = {}


def library_of(array: Any) -> str | None:
    """"cupy", "torch" or "array_api_strict" for an array of that library; None for anything
    else (NumPy arrays, lists, data frames: data to read on the host)."""
    module = type(array).__module__.split(".", 1)[0]
    if module == "torch" and type(array).__name__ in ("Tensor", "Parameter"):
        return "torch"
    if module in ("cupy", "array_api_strict") and type(array).__name__ in ("ndarray", "Array"):
        return module
    return None


@dataclass(frozen=True)
class Backend:
    """An array library and a device of it. ``device`` is the library's own device object
    (None for NumPy)."""

    library: str
    device: Any = None

    @property
    def xp(self) -> Any:
        """The array-API namespace of the library."""
        return _namespace_of(self.library)

    @property
    def is_numpy(self) -> bool:
        return self.library == "numpy"

    def asarray(self, array: Any, dtype: Any = None) -> Any:
        """``array`` (NumPy, or any supported library) on this backend; no copy when it is
        already there. ``dtype`` is a NumPy dtype or its name."""
        if self.is_numpy and dtype is None and type(array) is np.ndarray:
            return array  # the common case (NumPy to NumPy, e.g. every dropout mask): as is
        library = library_of(array)
        if library is not None and (library != self.library
                                    or str(_device(array)) != str(self.device)):
            array = to_numpy(array)  # another library or device: through the host
            library = None
        if self.is_numpy:
            array = np.asarray(array)
            return array if dtype is None else array.astype(numpy_dtype(dtype), copy=False)
        xp = self.xp
        library_dtype = None if dtype is None else self.dtype(dtype)
        if library is None:
            array = np.ascontiguousarray(array)
        return xp.asarray(array, dtype=library_dtype, device=self.device)

    def dtype(self, dtype: Any) -> Any:
        """The library's dtype for a NumPy dtype, its name, or the library's own dtype."""
        return getattr(self.xp, numpy_dtype(dtype).name)

    def __str__(self) -> str:
        if self.library in ("numpy", "array_api_strict"):
            return self.library
        if self.library == "cupy":
            return f"cupy:{self.device.id}"
        return f"torch:{self.device}"


NUMPY = Backend("numpy")


def backend_of(array: Any) -> Backend:
    """The backend an array lives on; NUMPY for anything that is not another library's array."""
    if type(array) is np.ndarray:
        return NUMPY
    library = library_of(array)
    if library is None:
        return NUMPY
    return Backend(library, _device(array))


def get_backend(spec: str | Backend) -> Backend:
    """The backend named by ``spec`` (see the module docstring), checked to be usable here."""
    if isinstance(spec, Backend):
        return spec
    if not isinstance(spec, str):
        raise BackendError(f"device must be a name such as {EXAMPLES}; got {spec!r} "
                           f"({type(spec).__name__}).")
    name = spec.strip().lower()
    library, _, device = name.partition(":")
    if name in ("numpy", "cpu"):
        return NUMPY
    if name == "array_api_strict":
        module = _import("array_api_strict", "array-api-strict", name)
        return Backend(name, module.Device("CPU_DEVICE"))
    if library == "cuda":  # "cuda" or "cuda:N"
        if importlib.util.find_spec("cupy") is not None:
            return Backend("cupy", _cupy_device(name, device or "0"))
        if importlib.util.find_spec("torch") is not None:
            return Backend("torch", _torch_device(name, name))
        raise BackendError(f"device {name!r} needs CuPy or PyTorch with CUDA, and neither is "
                           "installed. Install one: pip install 'nnscratch[cuda12]' (CuPy for "
                           "CUDA 12) or pip install 'nnscratch[torch]'; or use device 'cpu'.")
    if library == "cupy":
        return Backend("cupy", _cupy_device(name, device))
    if library == "torch":
        return Backend("torch", _torch_device(name, device or "cpu"))
    raise BackendError(f"device must be one of {EXAMPLES}; got {spec!r}.")


def to_numpy(array: Any) -> np.ndarray:
    """``array`` as a NumPy array on the host (no copy for a NumPy or CPU array)."""
    library = library_of(array)
    if library == "torch":
        return array.detach().cpu().numpy()
    if library == "cupy":
        return array.get()
    if library == "array_api_strict":
        return np.from_dlpack(array)
    return np.asarray(array)


def numpy_dtype(dtype: Any) -> np.dtype:
    """The NumPy dtype of a library's dtype (numpy.float32, torch.float32, ...)."""
    try:
        return np.dtype(dtype)
    except TypeError:  # torch.float32, array_api_strict.float32: named after NumPy's
        return np.dtype(str(dtype).rsplit(".", 1)[-1])


def take_rows(array: Any, rows: Any) -> Any:
    """array[rows] for a slice, or the rows at an array of indices (on the same backend)."""
    if type(array) is np.ndarray:
        return array[rows]
    if isinstance(rows, slice):
        return array[rows, ...]  # the standard wants every axis named
    return namespace(array).take(array, rows, axis=0)


def complete_sparse_rows(values: np.ndarray, rows: np.ndarray, n_rows: int) -> np.ndarray:
    """An array kept on its sparse rows, written out: ``values`` on ``rows``, zero on every
    other of ``n_rows`` rows (NumPy; the sparse rows of _fast.py exist only there)."""
    complete = np.zeros((n_rows, *values.shape[1:]), dtype=values.dtype)
    complete[rows] = values
    return complete


def count_true(mask: Any) -> Any:
    """How many elements of a boolean array are True: an int for NumPy, else a 0-d array on
    the device (read it with int() only where it is reported, so no step waits for the GPU)."""
    if type(mask) is np.ndarray:
        return int(np.count_nonzero(mask))
    xp = namespace(mask)
    return xp.sum(xp.astype(mask, xp.int64))


# ----------------------------------------------------------------------------------------------
# Helpers


@functools.cache
def _namespace_of(library: str) -> Any:
    if library == "numpy":
        return NUMPY_NAMESPACE
    if library == "array_api_strict":
        return _import("array_api_strict", "array-api-strict", library)
    _array_api_compat()
    return importlib.import_module(f"array_api_compat.{library}")


def _array_api_compat() -> ModuleType:
    return _import("array_api_compat", "array-api-compat", "arrays other than NumPy's")


def _device(array: Any) -> Any:
    return getattr(array, "device", None)


def _import(module: str, install: str, what: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise BackendError(f"{what} needs {module}, which is not installed. Install it: "
                           f"pip install {install}") from None


def _cupy_device(name: str, index: str) -> Any:
    cupy = _import("cupy", "'nnscratch[cuda12]'", f"device {name!r}")
    _import("array_api_compat", "'nnscratch[cuda12]'", f"device {name!r}")
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception:  # CuPy raises its own CUDA errors when there is no driver
        count = 0
    number = _device_number(name, index or "0")
    if number >= count:
        raise BackendError(f"device {name!r}: CuPy finds {count} CUDA GPU(s) on this machine. "
                           "Use device 'cpu', or run where a GPU is visible "
                           "(check nvidia-smi and CUDA_VISIBLE_DEVICES).")
    return cupy.cuda.Device(number)


def _torch_device(name: str, device: str) -> Any:
    torch = _import("torch", "'nnscratch[torch]'", f"device {name!r}")
    _import("array_api_compat", "'nnscratch[torch]'", f"device {name!r}")
    kind, _, index = device.partition(":")
    if kind == "cpu" and not index:
        return torch.device("cpu")
    if kind != "cuda":
        raise BackendError(f"device {name!r}: nnscratch runs PyTorch tensors on 'torch:cpu' or "
                           f"'torch:cuda[:N]'; got {device!r}.")
    number = _device_number(name, index or "0")
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if number >= count:
        raise BackendError(f"device {name!r}: PyTorch finds {count} CUDA GPU(s) on this "
                           "machine (torch.cuda.is_available() is "
                           f"{torch.cuda.is_available()}). Use device 'cpu', or a CUDA build of "
                           "PyTorch where a GPU is visible.")
    return torch.device("cuda", number)


def _device_number(name: str, index: str) -> int:
    if not index.isdigit():
        raise BackendError(f"device {name!r}: the GPU number after ':' must be a whole number "
                           f"such as 0; got {index!r}.")
    return int(index)
