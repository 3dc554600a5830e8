"""Plain data across the boundary of the student's kernel: written there as JSON, read here with limits.

A test cell's probe (see :mod:`grading.probes`) sends each value the student's code produced out of the
sandboxed kernel as a JSON document. The code that writes it, :data:`KERNEL_ENCODER`, runs inside the
student's kernel, so the student can change what it writes: everything that arrives is treated as a
claim, and :func:`decode` accepts only plain data — ``None``, booleans, numbers, strings, lists, tuples,
dicts, numpy arrays and scalars of numeric dtypes, tensors (kept as :class:`TensorData`) — within size and
depth limits, parsed with :mod:`json`, never with pickle. Anything else (an object equal to everything, a
subclass of a number, a tensor subclass) is written as :class:`Opaque`, which no numeric check accepts.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["MIME", "KERNEL_ENCODER", "Limits", "Opaque", "TensorData", "PlainDataError", "decode", "decode_probe", "type_names"]

#: The MIME type of a probe's display message.
MIME = "application/vnd.course.probe+json"


class PlainDataError(ValueError):
    """What came out of the student's kernel is not plain data within the limits."""


@dataclass(frozen=True)
class Limits:
    """How much one value may hold: bytes of JSON, nesting depth, list items and array entries."""

    max_bytes: int = 64 * 2**20
    max_depth: int = 24
    max_items: int = 1_000_000
    max_array_entries: int = 20_000_000


@dataclass(frozen=True)
class TensorData:
    """A torch tensor that left the student's kernel: its values as a numpy array and its dtype's name."""

    array: np.ndarray
    dtype: str
    type_name: str = "torch.Tensor"

    @property
    def mro(self) -> list[str]:
        return list(dict.fromkeys([self.type_name, "torch.Tensor", "torch._C.TensorBase", "builtins.object"]))


@dataclass(frozen=True)
class Opaque:
    """A value that is not plain data: only its type's name (as the student's kernel states it) is kept."""

    type_name: str
    mro: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<{self.type_name} object>"


_NUMERIC_KINDS = set("biuf")

# The kernel side. It is sent as source and run in the student's kernel; it imports numpy and torch only
# when the lesson already has. `__probe__(check_id, value)` publishes one value and returns it.
KERNEL_ENCODER = r'''
def __course_probe_setup__():
    import base64 as _b64, json as _json, math as _math, sys as _sys
    from IPython.display import publish_display_data as _publish

    def qualname(t):
        return f"{t.__module__}.{t.__qualname__}"

    def enc(v, depth=0):
        if depth > 40:
            return {"$object": {"type": "too deep", "mro": []}}
        t = type(v)
        if v is None or t is bool or t is str:
            return v
        if t is int:
            return v if -2**63 <= v < 2**63 else {"$int": str(v)}
        if t is float:
            return v if _math.isfinite(v) else {"$float": repr(v)}
        if t is list:
            return [enc(x, depth + 1) for x in v]
        if t is tuple:
            return {"$tuple": [enc(x, depth + 1) for x in v]}
        if t is dict:
            return {"$dict": [[enc(k, depth + 1), enc(x, depth + 1)] for k, x in v.items()]}
        np = _sys.modules.get("numpy")
        if np is not None and t is np.ndarray and v.dtype.kind in "biuf" and v.dtype.itemsize <= 8:
            a = np.array(v, copy=True, order="C")  # keeps a 0-d array 0-d
            return {"$ndarray": {"dtype": a.dtype.str, "shape": list(a.shape), "b64": _b64.b64encode(a.tobytes()).decode()}}
        if np is not None and isinstance(v, np.generic) and t.__module__ == "numpy" and v.dtype.kind in "biuf" \
                and v.dtype.itemsize <= 8:  # np.longdouble, wider than a double, arrives as an object of its type
            return {"$npscalar": {"dtype": v.dtype.str, "b64": _b64.b64encode(v.tobytes()).decode()}}
        torch = _sys.modules.get("torch")
        if torch is not None and t in (torch.Tensor, torch.nn.Parameter):
            a = v.detach().cpu().contiguous().numpy()
            if a.dtype.kind in "biuf":
                return {"$tensor": {"type": qualname(t), "dtype": str(v.dtype), "array": enc(a, depth + 1)}}
        return {"$object": {"type": qualname(t), "mro": [qualname(c) for c in t.__mro__]}}

    def probe(check_id, value, *extra):
        try:
            body = {"check": check_id, "value": enc(value), "extra": [enc(x) for x in extra]}
        except Exception as error:  # a value that cannot even be looked at
            body = {"check": check_id, "value": {"$object": {"type": type(error).__name__, "mro": []}}, "extra": []}
        _publish({"application/vnd.course.probe+json": _json.dumps(body)})
        return value

    return probe


__probe__ = __course_probe_setup__()
del __course_probe_setup__
'''


def decode(text: str | bytes, limits: Limits = Limits()) -> Any:
    """Parse one probe message from the student's kernel into plain Python data.

    Raises
    ------
    PlainDataError
        When the text is too large, not JSON, too deeply nested, or holds anything but the plain forms.
    """
    document = _parse(text, limits)
    budget = [limits.max_items, limits.max_array_entries]
    return _decode(document, 0, limits, budget)


def decode_probe(text: str | bytes, limits: Limits = Limits()) -> dict:
    """Parse one probe message: ``{"check": int, "value": ..., "extra": [...]}`` with each part decoded.

    Raises
    ------
    PlainDataError
        As :func:`decode`, or when the message is not of that form.
    """
    document = _parse(text, limits)
    if not isinstance(document, dict) or set(document) != {"check", "value", "extra"} or type(document["check"]) is not int \
            or not isinstance(document["extra"], list):
        raise PlainDataError("a probe message must be {check: int, value, extra: list}")
    budget = [limits.max_items, limits.max_array_entries]
    return {"check": document["check"], "value": _decode(document["value"], 0, limits, budget),
            "extra": [_decode(x, 0, limits, budget) for x in document["extra"][:4]]}


def _parse(text: str | bytes, limits: Limits) -> Any:
    """JSON within the size limit, bare NaN/Infinity refused; any failure is a PlainDataError."""
    if len(text) > limits.max_bytes:
        raise PlainDataError(f"{len(text)} bytes, over the limit of {limits.max_bytes}")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise PlainDataError(f"not valid JSON: {str(error)[:200]}") from None


def _reject_constant(name: str) -> None:
    raise ValueError(f"bare {name} is not allowed")


def _decode(node: Any, depth: int, limits: Limits, budget: list[int]) -> Any:
    if depth > limits.max_depth:
        raise PlainDataError(f"nested deeper than {limits.max_depth} levels")
    budget[0] -= 1
    if budget[0] < 0:
        raise PlainDataError(f"more than {limits.max_items} items")
    if node is None or isinstance(node, (bool, str)):
        return node
    if isinstance(node, int):
        return node
    if isinstance(node, float):
        return node
    if isinstance(node, list):
        return [_decode(item, depth + 1, limits, budget) for item in node]
    if not isinstance(node, dict) or len(node) != 1:
        raise PlainDataError(f"unexpected JSON object with keys {sorted(node)[:5] if isinstance(node, dict) else node!r}")
    (tag, body), = node.items()
    if tag == "$int":
        if not isinstance(body, str) or len(body) > 400 or not body.lstrip("-").isdigit():
            raise PlainDataError("$int must hold the digits of an integer (at most 400)")
        return int(body)
    if tag == "$float":
        if body not in ("nan", "inf", "-inf") and not _is_number_text(body):
            raise PlainDataError(f"$float holds {body!r}")
        return float(body)
    if tag == "$tuple":
        if not isinstance(body, list):
            raise PlainDataError("$tuple must hold a list")
        return tuple(_decode(item, depth + 1, limits, budget) for item in body)
    if tag == "$dict":
        if not isinstance(body, list) or not all(isinstance(p, list) and len(p) == 2 for p in body):
            raise PlainDataError("$dict must hold [key, value] pairs")
        result = {}
        for key, value in body:
            key = _decode(key, depth + 1, limits, budget)
            if not isinstance(key, (str, int, float, bool, tuple)) and key is not None:
                raise PlainDataError(f"a dict key must be a plain value, got {type(key).__name__}")
            try:
                result[key] = _decode(value, depth + 1, limits, budget)
            except TypeError:
                raise PlainDataError("a dict key must be hashable plain data") from None
        return result
    if tag == "$ndarray":
        return _array(body, limits, budget)
    if tag == "$npscalar":
        if not isinstance(body, dict) or set(body) != {"dtype", "b64"}:
            raise PlainDataError("$npscalar must hold dtype and b64")
        return _array({"dtype": body["dtype"], "shape": [], "b64": body["b64"]}, limits, budget)[()]
    if tag == "$tensor":
        if not isinstance(body, dict) or set(body) != {"type", "dtype", "array"}:
            raise PlainDataError("$tensor must hold type, dtype and array")
        array = _decode(body["array"], depth + 1, limits, budget)
        if not isinstance(array, np.ndarray) or body["type"] not in ("torch.Tensor", "torch.nn.parameter.Parameter"):
            raise PlainDataError("$tensor must hold a numeric array and a tensor type")
        return TensorData(array, _short(str(body["dtype"]), 40), body["type"])
    if tag == "$object":
        if not isinstance(body, dict) or not isinstance(body.get("type"), str) or not isinstance(body.get("mro", []), list):
            raise PlainDataError("$object must hold a type name")
        mro = [_short(str(name), 200) for name in body.get("mro", [])[:64]]
        return Opaque(_short(body["type"], 200), mro)
    raise PlainDataError(f"unknown tag {_short(str(tag), 40)!r}")


def _array(body: Any, limits: Limits, budget: list[int]) -> np.ndarray:
    if not isinstance(body, dict) or set(body) != {"dtype", "shape", "b64"}:
        raise PlainDataError("$ndarray must hold dtype, shape and b64")
    try:
        dtype = np.dtype(str(body["dtype"]))
    except TypeError:
        raise PlainDataError(f"unknown dtype {_short(str(body['dtype']), 40)!r}") from None
    if dtype.kind not in _NUMERIC_KINDS or dtype.itemsize > 8:
        raise PlainDataError(f"dtype {dtype} is not numeric")
    shape = body["shape"]
    if not isinstance(shape, list) or len(shape) > 32 or not all(type(n) is int and 0 <= n < 2**31 for n in shape):
        raise PlainDataError(f"bad shape {_short(repr(shape), 80)}")
    entries = math.prod(shape)
    budget[1] -= entries
    if budget[1] < 0:
        raise PlainDataError(f"arrays hold more than {limits.max_array_entries} entries")
    try:
        raw = base64.b64decode(body["b64"], validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise PlainDataError("array data is not base64") from None
    if len(raw) != entries * dtype.itemsize:
        raise PlainDataError(f"array data has {len(raw)} bytes, shape {tuple(shape)} of {dtype} needs {entries * dtype.itemsize}")
    try:
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    except ValueError as error:
        raise PlainDataError(f"array data does not fit shape {tuple(shape)}: {error}") from None


def _is_number_text(text: Any) -> bool:
    if not isinstance(text, str) or len(text) > 40:
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def type_names(value: Any) -> list[str]:
    """The qualified names of the classes ``value`` is an instance of (most specific first).

    For :class:`TensorData` and :class:`Opaque`, the names the student's kernel stated.
    """
    if isinstance(value, (TensorData, Opaque)):
        return list(value.mro) or [value.type_name]
    return [f"{c.__module__}.{c.__qualname__}" for c in type(value).__mro__]
