"""Reads a PyTorch `.pth` state dict into NumPy arrays, without torch.

`torch.save` (since PyTorch 1.6) writes a zip archive: `<name>/data.pkl`,
a protocol-2 pickle of the object, and one raw little-endian file
`<name>/data/<key>` per tensor storage, which the pickle references by
persistent id `("storage", <StorageType>, key, location, numel)`. A state
dict pickles as `collections.OrderedDict` whose values are
`torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
requires_grad, backward_hooks[, metadata])`.

`read_state_dict` unpickles `data.pkl` with a `RestrictedUnpickler` whose
allowlist is what `torch.load(weights_only=True)` admits for a dict of
plain tensors: `collections.OrderedDict`, `torch._utils.
_rebuild_tensor_v2` and the `torch.<Dtype>Storage` types, all resolved to
NumPy stand-ins here (torch is never imported). Any other global (a
`__reduce__` payload such as `os.system`) is refused with one
`pickle.UnpicklingError` naming the file and the global, before anything
runs. Tensor views are bounds-checked against their storage before they
are read.
"""

import collections
import io
import os
import pickle
import zipfile

import numpy as np

from msakeras.data import restricted_unpickler

# torch storage type -> NumPy dtype of its raw bytes (bfloat16 is widened).
STORAGE_DTYPES = {
    "DoubleStorage": "float64",
    "FloatStorage": "float32",
    "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "int64",
    "IntStorage": "int32",
    "ShortStorage": "int16",
    "CharStorage": "int8",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
}


class _StorageType:
    """Stand-in for a `torch.<Dtype>Storage` class in a persistent id."""

    def __init__(self, name):
        self.name = name
        self.dtype = STORAGE_DTYPES[name]


def _rebuild_tensor_v2(
    storage, storage_offset, size, stride, requires_grad, hooks, meta=None
):
    """NumPy twin of `torch._utils._rebuild_tensor_v2` (a strided view)."""
    del requires_grad, hooks, meta  # no autograd here
    size = tuple(int(value) for value in size)
    stride = tuple(int(value) for value in stride)
    storage_offset = int(storage_offset)
    if len(size) != len(stride) or min(size + stride + (0,)) < 0:
        raise ValueError(f"invalid tensor size {size} / stride {stride}")
    if storage_offset < 0:
        raise ValueError(f"invalid tensor offset {storage_offset}")
    count = int(np.prod(size, dtype=np.int64))
    if count == 0:
        return np.zeros(size, storage.dtype)
    last = storage_offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= storage.size:
        raise ValueError(
            f"tensor of size {size}, stride {stride}, offset "
            f"{storage_offset} reads past its storage of {storage.size} "
            "elements"
        )
    itemsize = storage.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(
        storage[storage_offset:],
        shape=size,
        strides=tuple(s * itemsize for s in stride),
        writeable=False,
    )
    return np.array(view)  # a copy: the view's storage is shared


class TorchStateDictUnpickler(restricted_unpickler.RestrictedUnpickler):
    """Unpickles a `torch.save` state dict into NumPy arrays.

    Args:
        file: the binary `data.pkl` stream.
        read_storage: callable `(key) -> bytes`, the raw bytes of
            `data/<key>` in the archive.
        byteorder: `"little"` or `"big"`, the archive's byte order.
    """

    allowed_globals = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
        **{("torch", name): _StorageType(name) for name in STORAGE_DTYPES},
    }
    refusal_reason = (
        "a PyTorch checkpoint may only hold a state dict of plain tensors "
        "(what `torch.load(weights_only=True)` admits); this file calls "
        "other code when unpickled (it may be malicious) and is not read."
    )

    def __init__(self, file, read_storage, byteorder="little"):
        super().__init__(file)
        self._read_storage = read_storage
        self._byteorder = byteorder
        self._storages = {}

    def persistent_load(self, pid):
        if (
            not isinstance(pid, tuple)
            or len(pid) != 5
            or pid[0] != "storage"
            or not isinstance(pid[1], _StorageType)
        ):
            raise pickle.UnpicklingError(
                f"unsupported persistent id {pid!r} (not a tensor storage)"
            )
        _, storage_type, key, _, numel = pid
        key = str(key)
        if key not in self._storages:
            self._storages[key] = self._load_storage(
                key, storage_type.dtype, int(numel)
            )
        return self._storages[key]

    def _load_storage(self, key, dtype, numel):
        raw = self._read_storage(key)
        widened = dtype == "bfloat16"
        dtype = np.dtype("uint16" if widened else dtype)
        if self._byteorder == "big":
            dtype = dtype.newbyteorder(">")
        if len(raw) != numel * dtype.itemsize:
            raise ValueError(
                f"storage '{key}' holds {len(raw)} bytes, expected "
                f"{numel} x {dtype.itemsize}"
            )
        array = np.frombuffer(raw, dtype).astype(dtype.newbyteorder("="))
        if widened:  # bfloat16 is the high half of a float32
            array = (array.astype("uint32") << 16).view("float32")
        return array


def read_state_dict(path):
    """Reads a `torch.save`d state dict as `{key: np.ndarray}`.

    Args:
        path: str or path-like. A `.pth` / `.pt` file written by
            `torch.save` (zip format, PyTorch >= 1.6).

    Returns:
        dict `key -> np.ndarray` in the file's order.

    Raises:
        FileNotFoundError: the file does not exist.
        pickle.UnpicklingError: the pickle names a global outside the
            allowlist (the message names the file and `module.name`).
        ValueError: not a zip-format PyTorch checkpoint, corrupt, or not
            a dict of tensors.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Checkpoint '{path}' does not exist.")
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"File '{path}' is not a zip-format PyTorch checkpoint "
            "(`torch.save` of PyTorch >= 1.6, which MMSA 2.x requires)."
        )
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pickles = [name for name in names if name.endswith("/data.pkl")]
        if len(pickles) != 1 or pickles[0].count("/") != 1:
            raise ValueError(
                f"File '{path}' is a zip archive but not a PyTorch "
                "checkpoint (expected one '<name>/data.pkl')."
            )
        prefix = pickles[0][: -len("data.pkl")]
        byteorder = "little"
        if prefix + "byteorder" in names:
            byteorder = archive.read(prefix + "byteorder").decode().strip()
        if byteorder not in ("little", "big"):
            raise ValueError(
                f"File '{path}': unknown byte order {byteorder!r}."
            )

        def read_storage(key):
            member = f"{prefix}data/{key}"
            if member not in names:
                raise ValueError(f"missing storage '{member}'")
            return archive.read(member)

        with restricted_unpickler.errors_naming(path, "PyTorch checkpoint"):
            state = TorchStateDictUnpickler(
                io.BytesIO(archive.read(pickles[0])),
                read_storage,
                byteorder=byteorder,
            ).load()
    if not isinstance(state, dict) or not all(
        isinstance(key, str) and isinstance(value, np.ndarray)
        for key, value in state.items()
    ):
        raise ValueError(
            f"File '{path}' does not hold a state dict (a dict of tensors "
            f"by name); found {type(state).__name__}."
        )
    return dict(state)
