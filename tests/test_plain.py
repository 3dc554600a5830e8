"""grading.plain: values written by the kernel encoder come back as exact plain data; anything else is refused.

The round trips run ``plain.KERNEL_ENCODER`` here, in this process, with IPython's ``publish_display_data``
captured, then decode the published JSON with ``plain.decode_probe``: types must survive exactly (a tuple
stays a tuple, ``np.float32`` stays ``np.float32``), tensors arrive as ``TensorData`` and everything that is
not plain data (subclasses, impostors) as ``Opaque``. The boundary tests feed ``decode``/``decode_probe``
hand-written JSON that the student's kernel could send, and expect a ``PlainDataError`` with a clear
message, never another exception.
"""

from __future__ import annotations

import base64
import json
import math

import numpy as np
import pytest
import torch

from grading import plain
from grading.plain import Limits, Opaque, PlainDataError, TensorData, decode, decode_probe, type_names


def qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


@pytest.fixture(scope="module")
def kernel():
    """The kernel side, run here: ``kernel["probe"]`` is ``__probe__``, ``kernel["published"]`` what it sent."""
    published: list[dict] = []
    namespace: dict = {"__name__": "__main__"}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("IPython.display.publish_display_data", lambda data, *args, **kwargs: published.append(data))
        exec(plain.KERNEL_ENCODER, namespace)  # noqa: S102 - the encoder is the code under test
    return {"probe": namespace["__probe__"], "published": published}


def send(kernel, value, *extra, check: int = 0) -> dict:
    """Run ``__probe__(check, value, *extra)`` and decode the message it published."""
    before = len(kernel["published"])
    returned = kernel["probe"](check, value, *extra)
    assert returned is value, "__probe__ must return the value it sends"
    assert len(kernel["published"]) == before + 1, "__probe__ must publish exactly one message"
    data = kernel["published"][-1]
    assert list(data) == [plain.MIME]
    return decode_probe(data[plain.MIME])


def round_trip(kernel, value):
    return send(kernel, value)["value"]


# ---- values the student's code may produce, and what arrives --------------------------------------------
class AlwaysEqualFloat(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


class EqualToEverything:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = object.__hash__


class TaggedArray(np.ndarray):
    pass


class LoudTensor(torch.Tensor):
    pass


class Celsius(int):
    pass


@pytest.mark.parametrize("value", [None, True, False], ids=repr)
def test_singletons_arrive_as_themselves(kernel, value):
    assert round_trip(kernel, value) is value


@pytest.mark.parametrize("value", [0, 1, -7, 2**63 - 1, -(2**63)], ids=repr)
def test_ints_within_64_bits_arrive_as_exact_ints(kernel, value):
    arrived = round_trip(kernel, value)
    assert type(arrived) is int and arrived == value


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30, -(10**40)], ids=repr)
def test_ints_beyond_64_bits_arrive_exactly(kernel, value):
    # an int outside int64 is sent as its digits, {"$int": "..."}, so check_equal sees the exact number
    arrived = round_trip(kernel, value)
    assert type(arrived) is int and arrived == value


@pytest.mark.parametrize("value", [0.0, -0.0, 1.5, -2.25e-300, 1.7976931348623157e308, 5e-324, 0.1 + 0.2], ids=repr)
def test_finite_floats_arrive_bit_for_bit(kernel, value):
    arrived = round_trip(kernel, value)
    assert type(arrived) is float and arrived == value and math.copysign(1.0, arrived) == math.copysign(1.0, value)


@pytest.mark.parametrize("value", [float("inf"), float("-inf")], ids=repr)
def test_infinities_arrive_as_infinities(kernel, value):
    arrived = round_trip(kernel, value)
    assert type(arrived) is float and arrived == value


def test_nan_arrives_as_nan(kernel):
    arrived = round_trip(kernel, float("nan"))
    assert type(arrived) is float and math.isnan(arrived)


@pytest.mark.parametrize("value", ["", "plain text", "héllo ✓ \u2603 \n\t\"quoted\" \\ back", "$tuple", "NaN"], ids=repr)
def test_strings_arrive_unchanged(kernel, value):
    arrived = round_trip(kernel, value)
    assert type(arrived) is str and arrived == value


def test_nested_lists_tuples_and_dicts_keep_their_exact_types(kernel):
    value = [1, (2.5, (3,), []), {"a": [None, True], 7: (8, 9), (1, "x"): {"inner": ()}, None: -1.5, 2.5: "f"}, "s", ()]
    arrived = round_trip(kernel, value)
    assert arrived == value
    assert type(arrived) is list
    assert type(arrived[1]) is tuple and type(arrived[1][1]) is tuple and type(arrived[1][2]) is list
    assert type(arrived[2]) is dict and type(arrived[2][7]) is tuple and type(arrived[2][(1, "x")]["inner"]) is tuple
    assert type(arrived[4]) is tuple


def test_dict_keys_keep_their_order_and_types(kernel):
    value = {3: "three", "b": 2, (1, 2): "pair", 1.5: "float", None: "none", False: "false"}
    arrived = round_trip(kernel, value)
    assert list(arrived) == list(value)
    assert [type(k) for k in arrived] == [type(k) for k in value]


@pytest.mark.parametrize("value", [[], (), {}], ids=["list", "tuple", "dict"])
def test_empty_containers_keep_their_types(kernel, value):
    arrived = round_trip(kernel, value)
    assert type(arrived) is type(value) and len(arrived) == 0


ARRAYS = {
    "float64 2x3": np.arange(6.0).reshape(2, 3) / 7,
    "float32 vector": np.array([1.5, -2.25, np.inf, np.nan], dtype=np.float32),
    "float16": np.array([0.5, 65504.0], dtype=np.float16),
    "int8": np.array([-128, 0, 127], dtype=np.int8),
    "int64 extremes": np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max], dtype=np.int64),
    "uint8 image": np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
    "uint64": np.array([2**64 - 1], dtype=np.uint64),
    "bool": np.array([[True, False], [False, True]]),
    "empty vector": np.zeros(0),
    "empty 2x0x3": np.zeros((2, 0, 3), dtype=np.float32),
    "fortran order": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    "strided view": np.arange(20.0)[::3],
    "transposed": np.arange(6).reshape(2, 3).T,
    "big-endian": np.array([1.0, 2.5], dtype=">f8"),
}


@pytest.mark.parametrize("array", ARRAYS.values(), ids=ARRAYS.keys())
def test_numeric_arrays_arrive_with_their_dtype_shape_and_values(kernel, array):
    arrived = round_trip(kernel, array)
    assert type(arrived) is np.ndarray
    assert arrived.dtype == array.dtype and arrived.shape == array.shape
    np.testing.assert_array_equal(arrived, array)


@pytest.mark.parametrize("value", [np.array(3.25), np.array(-4, dtype=np.int32), torch.tensor(7.5)],
                         ids=["0-d float64", "0-d int32", "0-d tensor"])
def test_zero_dimensional_arrays_and_tensors_keep_their_empty_shape(kernel, value):
    arrived = round_trip(kernel, value)
    array = arrived.array if isinstance(arrived, TensorData) else arrived
    assert array.shape == ()


SCALARS = [np.float64(2.5), np.float32(1.25), np.float16(-0.5), np.int64(-3), np.int8(-128), np.uint8(200),
           np.uint64(2**64 - 1), np.bool_(True), np.bool_(False), np.float32("nan")]


@pytest.mark.parametrize("scalar", SCALARS, ids=lambda s: f"{type(s).__name__}({s})")
def test_numpy_scalars_keep_their_exact_type(kernel, scalar):
    arrived = round_trip(kernel, scalar)
    assert type(arrived) is type(scalar)
    np.testing.assert_array_equal(arrived, scalar)


TENSORS = {
    "float32": (torch.tensor([1.0, -2.5, 3.25]), "torch.float32", "torch.Tensor"),
    "float64 matrix": (torch.arange(6, dtype=torch.float64).reshape(2, 3), "torch.float64", "torch.Tensor"),
    "int64": (torch.tensor([1, -2, 2**62]), "torch.int64", "torch.Tensor"),
    "bool": (torch.tensor([True, False]), "torch.bool", "torch.Tensor"),
    "requires grad": (torch.ones(2, requires_grad=True) * 3, "torch.float32", "torch.Tensor"),
    "float16": (torch.tensor([0.5, 1.0], dtype=torch.float16), "torch.float16", "torch.Tensor"),
    "parameter": (torch.nn.Parameter(torch.tensor([[0.5, -1.0]])), "torch.float32", "torch.nn.parameter.Parameter"),
    "transposed": (torch.arange(6.0).reshape(2, 3).T, "torch.float32", "torch.Tensor"),
}


@pytest.mark.parametrize(("tensor", "dtype", "type_name"), TENSORS.values(), ids=TENSORS.keys())
def test_tensors_arrive_as_tensor_data(kernel, tensor, dtype, type_name):
    arrived = round_trip(kernel, tensor)
    assert type(arrived) is TensorData
    assert arrived.dtype == dtype and arrived.type_name == type_name
    assert type(arrived.array) is np.ndarray and arrived.array.shape == tuple(tensor.shape)
    np.testing.assert_array_equal(arrived.array, tensor.detach().numpy())


IMPOSTORS = {
    "float subclass equal to everything": AlwaysEqualFloat(1.0),
    "object equal to everything": EqualToEverything(),
    "int subclass": Celsius(21),
    "ndarray subclass": np.arange(3.0).view(TaggedArray),
    "masked array": np.ma.masked_array([1.0, 2.0], mask=[False, True]),
    "tensor subclass": torch.ones(2).as_subclass(LoudTensor),
    "complex": 1 + 2j,
    "complex array": np.array([1 + 1j]),
    "object array": np.array([1, "a"], dtype=object),
    "string array": np.array(["a", "b"]),
    "complex tensor": torch.tensor([1 + 1j]),
    "set": {1, 2},
    "longdouble": np.longdouble(1) / 3,   # wider than a double: no plain form holds its digits
    "longdouble array": np.ones(2, dtype=np.longdouble),
    "bytes": b"raw",
    "function": len,
}


@pytest.mark.parametrize("value", IMPOSTORS.values(), ids=IMPOSTORS.keys())
def test_values_that_are_not_plain_data_arrive_as_opaque_with_their_type(kernel, value):
    arrived = round_trip(kernel, value)
    assert type(arrived) is Opaque
    assert arrived.type_name == qualname(type(value))
    assert arrived.mro == [qualname(c) for c in type(value).__mro__]


def test_an_opaque_value_is_neither_equal_to_nor_a_number(kernel):
    arrived = round_trip(kernel, AlwaysEqualFloat(3.0))
    assert arrived != 3.0 and not isinstance(arrived, (int, float, np.number))
    assert repr(arrived) == f"<{qualname(AlwaysEqualFloat)} object>"


def test_impostors_inside_containers_are_opaque_and_the_rest_stays_plain(kernel):
    arrived = round_trip(kernel, [1.0, (EqualToEverything(),), {"k": AlwaysEqualFloat(2.0)}])
    assert arrived[0] == 1.0
    assert type(arrived[1]) is tuple and type(arrived[1][0]) is Opaque
    assert type(arrived[2]["k"]) is Opaque and arrived[2]["k"].type_name == qualname(AlwaysEqualFloat)


def test_a_tensor_numpy_cannot_hold_arrives_as_opaque_naming_the_error(kernel):
    arrived = round_trip(kernel, torch.tensor([1.0], dtype=torch.bfloat16))
    assert type(arrived) is Opaque and arrived.type_name == "TypeError"


def test_nesting_deeper_than_the_decoders_limit_is_refused(kernel):
    shallow, deep = [], []
    for _ in range(Limits().max_depth):
        shallow = [shallow]
    for _ in range(30):
        deep = [deep]
    assert round_trip(kernel, shallow) == shallow
    with pytest.raises(PlainDataError, match="nested deeper than 24 levels"):
        send(kernel, deep)


def test_the_check_id_and_extra_values_are_sent_with_the_value(kernel):
    message = send(kernel, False, "got 3 instead of 4", check=5)
    assert message == {"check": 5, "value": False, "extra": ["got 3 instead of 4"]}


# ---- the boundary: what decode refuses -----------------------------------------------------------------
def envelope(value, check=0, extra=()) -> str:
    return json.dumps({"check": check, "value": value, "extra": list(extra)})


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def ndarray(dtype: str, shape: list, data: bytes) -> dict:
    return {"$ndarray": {"dtype": dtype, "shape": shape, "b64": b64(data)}}


def test_decode_reads_plain_json_and_bytes():
    assert decode("[1, 2.5, \"x\", null, true]") == [1, 2.5, "x", None, True]
    assert decode(b'{"$tuple": [1, 2]}') == (1, 2)


@pytest.mark.parametrize("reader", [decode, decode_probe], ids=["decode", "decode_probe"])
def test_text_over_the_size_limit_is_refused_before_parsing(reader):
    text = envelope("x" * 100)
    with pytest.raises(PlainDataError, match=rf"{len(text)} bytes, over the limit of 50"):
        reader(text, Limits(max_bytes=50))


@pytest.mark.parametrize("depth", [0, 1, 2, 3])
def test_nesting_up_to_the_limit_is_accepted(depth):
    text = "[" * depth + "1" + "]" * depth
    assert decode(text, Limits(max_depth=3)) is not None


@pytest.mark.parametrize("text", ["[[[[1]]]]", '{"$tuple": [{"$tuple": [{"$tuple": [{"$tuple": [1]}]}]}]}',
                                  '{"$dict": [["k", {"$dict": [["k", {"$dict": [["k", {"$dict": [["k", 1]]}]]}]]}]]}'],
                         ids=["lists", "tuples", "dicts"])
def test_nesting_deeper_than_the_limit_is_refused(text):
    with pytest.raises(PlainDataError, match="nested deeper than 3 levels"):
        decode(text, Limits(max_depth=3))


@pytest.mark.parametrize("reader", [decode, decode_probe], ids=["decode", "decode_probe"])
@pytest.mark.parametrize("opener", ["[", '{"a":'], ids=["arrays", "objects"])
def test_json_deep_enough_to_exhaust_the_parser_is_refused(reader, opener):
    closer = "]" if opener == "[" else "}"
    text = opener * 200_000 + "1" + closer * 200_000
    with pytest.raises(PlainDataError, match="not valid JSON"):
        reader(text)


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("reader", [decode, decode_probe], ids=["decode", "decode_probe"])
def test_bare_nan_and_infinity_tokens_are_refused(reader, token):
    text = f'{{"check": 0, "value": [1.0, {token}], "extra": []}}'
    with pytest.raises(PlainDataError, match=f"bare {token} is not allowed"):
        reader(text)


@pytest.mark.parametrize("text", ["", "not json", "[1, 2", "{'single': 'quotes'}", b"\xff\xfe\x00"], ids=repr)
def test_text_that_is_not_json_is_refused(text):
    with pytest.raises(PlainDataError, match="not valid JSON"):
        decode(text)


@pytest.mark.parametrize("tag", ["$set", "$pickle", "$float64", "__reduce__", "$TUPLE"])
def test_unknown_tags_are_refused(tag):
    with pytest.raises(PlainDataError, match="unknown tag"):
        decode(json.dumps({tag: [1]}))


@pytest.mark.parametrize("node", [
    {"$tuple": [1], "x": 1},
    {"$float": "nan", "$tuple": []},
    {},
    {"$ndarray": {"dtype": "<f8", "shape": [1], "b64": b64(bytes(8)), "offset": 0}},
    {"$npscalar": {"dtype": "<f8", "b64": b64(bytes(8)), "shape": []}},
    {"$tensor": {"type": "torch.Tensor", "dtype": "torch.float64", "array": ndarray("<f8", [1], bytes(8)), "grad": None}},
], ids=["tuple", "two tags", "empty object", "ndarray", "npscalar", "tensor"])
def test_objects_with_extra_or_missing_keys_are_refused(node):
    with pytest.raises(PlainDataError, match="unexpected JSON object|must hold"):
        decode(json.dumps(node))


@pytest.mark.parametrize("body", ["1e5; import os", "", "0x10", "nan nan", 1.5, None, ["nan"], "9" * 41])
def test_float_tags_hold_only_number_text(body):
    with pytest.raises(PlainDataError, match=r"\$float holds"):
        decode(json.dumps({"$float": body}))


@pytest.mark.parametrize(("body", "expected"), [("nan", math.nan), ("inf", math.inf), ("-inf", -math.inf), ("1e300", 1e300)])
def test_float_tags_carry_non_finite_and_large_floats(body, expected):
    value = decode(json.dumps({"$float": body}))
    assert type(value) is float and (value == expected or (math.isnan(value) and math.isnan(expected)))


@pytest.mark.parametrize("data", ["not base64!", "AA\nAA", "AAA", 12345, None], ids=repr)
def test_array_data_that_is_not_base64_is_refused(data):
    node = {"$ndarray": {"dtype": "|u1", "shape": [3], "b64": data}}
    with pytest.raises(PlainDataError, match="array data is not base64"):
        decode(json.dumps(node))


@pytest.mark.parametrize(("dtype", "shape", "size"), [("<f8", [3], 16), ("<f8", [3], 32), ("<i4", [2, 2], 12), ("<f8", [], 0),
                                                      ("|b1", [0], 1)])
def test_array_data_of_the_wrong_size_for_its_shape_is_refused(dtype, shape, size):
    with pytest.raises(PlainDataError, match=rf"array data has {size} bytes, shape"):
        decode(json.dumps(ndarray(dtype, shape, bytes(size))))


def test_a_numpy_scalar_of_the_wrong_size_is_refused():
    with pytest.raises(PlainDataError, match="array data has 4 bytes"):
        decode(json.dumps({"$npscalar": {"dtype": "<f8", "b64": b64(bytes(4))}}))


@pytest.mark.parametrize("dtype", ["|O", "<c16", "<c8", "<U3", "|S3", "<M8[s]", "<m8[s]", "|V8", "<f16", "f8,f8", "(2,)f8"])
@pytest.mark.parametrize("tag", ["$ndarray", "$npscalar"])
def test_arrays_of_non_numeric_dtypes_are_refused(tag, dtype):
    itemsize = np.dtype(dtype).itemsize
    body = {"dtype": dtype, "b64": b64(bytes(itemsize))}
    if tag == "$ndarray":
        body["shape"] = [1]
    with pytest.raises(PlainDataError, match=r"dtype .* is not numeric"):
        decode(json.dumps({tag: body}))


@pytest.mark.parametrize("dtype", ["float128x", "i4(", "M8[foo]", "", "S10000000000000", 7, None], ids=repr)
def test_unknown_dtypes_are_refused(dtype):
    with pytest.raises(PlainDataError, match="unknown dtype|is not numeric"):
        decode(json.dumps({"$ndarray": {"dtype": dtype, "shape": [0], "b64": ""}}))


def test_arrays_holding_more_entries_than_the_limit_are_refused_before_their_data_is_read():
    limits = Limits(max_array_entries=10)
    assert decode(json.dumps(ndarray("|u1", [10], bytes(10))), limits).shape == (10,)
    with pytest.raises(PlainDataError, match="arrays hold more than 10 entries"):
        decode(json.dumps(ndarray("|u1", [11], b"")), limits)
    with pytest.raises(PlainDataError, match="arrays hold more than 10 entries"):
        decode(json.dumps([ndarray("|u1", [6], bytes(6)), ndarray("|u1", [6], bytes(6))]), limits)
    with pytest.raises(PlainDataError, match="more than 20000000 entries"):
        decode(json.dumps(ndarray("<f8", [10**6, 10**6], b"")))


def test_more_items_than_the_limit_are_refused():
    assert decode(json.dumps(list(range(4))), Limits(max_items=5)) == [0, 1, 2, 3]
    with pytest.raises(PlainDataError, match="more than 5 items"):
        decode(json.dumps(list(range(5))), Limits(max_items=5))


@pytest.mark.parametrize("shape", [[-1], [2, -3], [1.5], [True], "3", 3, None, {"n": 1}, [1] * 33], ids=repr)
def test_bad_shapes_are_refused(shape):
    with pytest.raises(PlainDataError, match="bad shape"):
        decode(json.dumps({"$ndarray": {"dtype": "<f8", "shape": shape, "b64": ""}}))


@pytest.mark.parametrize("shape", [[0, 10**30], [0, 2**62, 2**62]], ids=["dimension over intp", "size over the maximum"])
def test_an_empty_array_with_an_impossible_shape_is_refused_as_plain_data_error(shape):
    with pytest.raises(PlainDataError):
        decode(json.dumps({"$ndarray": {"dtype": "<f8", "shape": shape, "b64": ""}}))


@pytest.mark.parametrize("body", ["pairs", [["k"]], [["k", 1, 2]], [{"k": 1}], [[[1], 1]], [[{"$object": {"type": "x"}}, 1]]],
                         ids=["not a list", "single", "triple", "object", "list key", "opaque key"])
def test_dict_tags_must_hold_plain_key_value_pairs(body):
    with pytest.raises(PlainDataError, match=r"\$dict must hold|a dict key must be a plain value"):
        decode(json.dumps({"$dict": body}))


@pytest.mark.parametrize("element", [[1], {"$object": {"type": "x", "mro": []}}, ndarray("<f8", [0], b"")],
                         ids=["list", "opaque", "array"])
def test_an_unhashable_tuple_key_is_refused_as_plain_data_error(element):
    with pytest.raises(PlainDataError):
        decode(json.dumps({"$dict": [[{"$tuple": [element]}, 1]]}))


@pytest.mark.parametrize("body", [
    {"type": "evil.Tensor", "dtype": "torch.float64", "array": ndarray("<f8", [1], bytes(8))},
    {"type": "torch.Tensor", "dtype": "torch.float64", "array": [1.0, 2.0]},
    {"type": "torch.Tensor", "dtype": "torch.float64", "array": {"$npscalar": {"dtype": "<f8", "b64": b64(bytes(8))}}},
    "torch.Tensor",
], ids=["foreign type", "list array", "scalar array", "not an object"])
def test_tensor_tags_need_a_tensor_type_and_a_numeric_array(body):
    with pytest.raises(PlainDataError, match=r"\$tensor must hold"):
        decode(json.dumps({"$tensor": body}))


@pytest.mark.parametrize("body", ["numpy.float64", {"mro": []}, {"type": 3}, {"type": "x", "mro": "abc"}], ids=repr)
def test_object_tags_need_a_type_name(body):
    with pytest.raises(PlainDataError, match=r"\$object must hold a type name"):
        decode(json.dumps({"$object": body}))


def test_object_tags_keep_long_names_short():
    arrived = decode(json.dumps({"$object": {"type": "x" * 1000, "mro": ["y" * 1000] * 100}}))
    assert len(arrived.type_name) == 200 and arrived.type_name.endswith("...")
    assert len(arrived.mro) == 64 and all(len(name) == 200 for name in arrived.mro)


@pytest.mark.parametrize("check", ['"0"', "0.0", "true", "null", "[0]", "1e2"])
def test_probe_messages_with_a_check_id_that_is_not_an_int_are_refused(check):
    with pytest.raises(PlainDataError, match="a probe message must be"):
        decode_probe(f'{{"check": {check}, "value": 1, "extra": []}}')


@pytest.mark.parametrize("text", [
    "[0, 1, []]",
    '"message"',
    '{"check": 0, "value": 1}',
    '{"check": 0, "extra": []}',
    '{"check": 0, "value": 1, "extra": [], "note": "x"}',
    '{"check": 0, "value": 1, "extra": {}}',
    '{"check": 0, "value": 1, "extra": "abc"}',
], ids=["list", "string", "no extra", "no value", "extra key", "extra is an object", "extra is a string"])
def test_malformed_probe_envelopes_are_refused(text):
    with pytest.raises(PlainDataError, match=r"a probe message must be \{check: int, value, extra: list\}"):
        decode_probe(text)


def test_a_probe_message_keeps_at_most_four_extra_values():
    message = decode_probe(envelope(1, extra=list(range(10))))
    assert message["extra"] == [0, 1, 2, 3]


def test_a_probe_message_decodes_its_value_and_extras_with_the_limits():
    with pytest.raises(PlainDataError, match="more than 3 items"):
        decode_probe(envelope([1], extra=[[1, 2]]), Limits(max_items=3))
    with pytest.raises(PlainDataError, match="unknown tag"):
        decode_probe(envelope(1, extra=[{"$evil": 1}]))


# ---- type_names ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "names"), [
    (1.5, ["builtins.float", "builtins.object"]),
    (True, ["builtins.bool", "builtins.int", "builtins.object"]),
    (None, ["builtins.NoneType", "builtins.object"]),
    ((1,), ["builtins.tuple", "builtins.object"]),
    (np.zeros(1), ["numpy.ndarray", "builtins.object"]),
    (np.float64(1.0), ["numpy.float64", "numpy.floating", "numpy.inexact", "numpy.number", "numpy.generic", "builtins.float",
                       "builtins.object"]),
    (np.int64(1), ["numpy.int64", "numpy.signedinteger", "numpy.integer", "numpy.number", "numpy.generic", "builtins.object"]),
], ids=repr)
def test_type_names_of_plain_values_are_their_classes_most_specific_first(value, names):
    assert type_names(value) == names


def test_type_names_of_tensor_data_are_those_of_a_tensor():
    assert type_names(TensorData(np.zeros(2), "torch.float32")) == ["torch.Tensor", "torch._C.TensorBase", "builtins.object"]


def test_type_names_of_opaque_values_are_what_the_kernel_stated():
    assert type_names(Opaque("pkg.Thing", ["pkg.Thing", "pkg.Base", "builtins.object"])) == ["pkg.Thing", "pkg.Base", "builtins.object"]
    assert type_names(Opaque("TypeError")) == ["TypeError"]


def test_type_names_after_a_round_trip_match_those_in_the_kernel(kernel):
    for value in [2.5, np.float32(1.0), np.arange(3), (1, 2), AlwaysEqualFloat(1.0), torch.ones(1).as_subclass(LoudTensor)]:
        assert type_names(round_trip(kernel, value)) == [qualname(c) for c in type(value).__mro__]


@pytest.mark.parametrize("body", ['"12a"', '"1' + '0' * 500 + '"', "12", '""'], ids=["not digits", "too long", "not text", "empty"])
def test_an_int_that_is_not_its_digits_is_refused(body):
    with pytest.raises(PlainDataError, match=r"\$int"):
        decode('{"$int": ' + body + '}')
