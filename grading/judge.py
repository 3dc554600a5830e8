"""The decision: a test cell's checks, compared with what the student's kernel sent, outside that kernel.

For each check the reference run recorded (:mod:`grading.reference`), the judge takes the value the
student's probe sent for the same check and occurrence, and applies the same comparison as
:mod:`helpers.checks` (so a failure reads exactly as it does in JupyterLab). A value that never arrived
(the student's code raised, or the kernel died) fails its check. For hidden checks the student is told
only which hidden test failed, its description and its hint: never its code or its expected values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from helpers import checks, reach

from .plain import Opaque, TensorData, type_names
from .source import libraries_in_definition, loops_in_definition

__all__ = ["Verdict", "judge_cell"]


@dataclass
class Verdict:
    """The outcome of one test cell: passed, and if not, the message for the student."""

    passed: bool
    message: str


def _as_checkable(value: Any) -> Any:
    """Values the numeric checks accept stay as they are; a tensor or an object becomes a stand-in that
    every numeric check rejects with its type's name, as a tensor or an object is rejected in JupyterLab."""
    if isinstance(value, (TensorData, Opaque)):
        name = value.type_name.rsplit(".", 1)[-1]
        return type(name, (), {"__repr__": lambda self: f"<{name}>"})()
    return value


def _judge_one(record: dict, sent: Any, earlier_cells: list[str]) -> None:
    """Raise CheckFailed unless ``sent`` passes the check ``record`` describes."""
    kind, args = record["kind"], record["args"]
    what = args.get("what", "")
    if kind == "check_close":
        checks.check_close(what, _as_checkable(sent), args["expected"], rtol=args.get("rtol", 1e-6),
                           atol=args.get("atol", 1e-9), hint=args.get("hint", ""))
    elif kind == "check_shape":
        checks.check_shape(what, _as_checkable(sent), tuple(args["shape"]), hint=args.get("hint", ""))
    elif kind == "check_accuracy":
        checks.check_accuracy(what, _as_checkable(sent), args["expected"], at_least=args["at_least"], hint=args.get("hint", ""))
    elif kind == "check_finite":
        checks.check_finite(what, _as_checkable(sent), hint=args.get("hint", ""))
    elif kind == "check_equal":
        if isinstance(sent, (TensorData, Opaque)):
            raise checks.CheckFailed(f"{what}: expected {args['expected']!r}, got a {sent.type_name}")
        checks.check_equal(what, sent, args["expected"], hint=args.get("hint", ""))
    elif kind == "check_type":
        expected = args["expected"]
        if not set(type_names(sent)) & set(expected):
            names = " or ".join(name.rsplit(".", 1)[-1] for name in expected)
            shown = sent if isinstance(sent, (Opaque, TensorData)) else checks.show(sent)
            got = type_names(sent)[0].rsplit(".", 1)[-1]
            raise checks.CheckFailed(f"{what}: expected {checks.a_or_an(names)} {names}, got {got}: {shown}")
    elif kind == "check_true":
        if not (sent is True or (isinstance(sent, np.bool_) and bool(sent))):
            raise checks.CheckFailed(record.get("message_sent") or "a condition of the test is not met")
    elif kind == "check_loops":
        loops = loops_in_definition(earlier_cells, record["function"])
        if loops is None:
            raise checks.CheckFailed(f"{what}: expected `{record['function']}` defined with `def` in the notebook, "
                                     "found none (or it was bound to something else afterwards)")
        checks.fail_on_loops(what, loops, args.get("at_most", 0), args.get("hint", ""))
    elif kind == "check_libraries":
        found = libraries_in_definition(earlier_cells, record["function"], tuple(args.get("skip", ())))
        if found is None:
            raise checks.CheckFailed(f"{what}: expected `{record['function']}` defined with `def` in the notebook, "
                                     "found none (or it was bound to something else afterwards)")
        allowed, refused = tuple(args.get("allowed", ("numpy",))), tuple(args.get("refused", ()))
        problems = reach.problems(found[0], allowed, refused, unknown=found[1])
        if problems:
            raise checks.CheckFailed(checks.with_hint(reach.message(what, problems, allowed, refused), args.get("hint", "")))
    else:
        raise checks.CheckFailed(f"unknown check {kind}")


def _said(kernel_error: str) -> str:
    """The kernel's ``"Name: message"``, with words where the message is empty (an exercise's stub raises bare)."""
    name, _, text = kernel_error.partition(":")
    if text.strip():
        return kernel_error
    if name.strip() == "NotImplementedError":
        return "NotImplementedError (the exercise's stub still raises it: its answer is not written yet)"
    return f"{name.strip()} (raised with no message)"


def judge_cell(records: list[dict], sent: list[dict], *, exercise: str, kernel_error: str | None = None,
               earlier_cells: list[str] = ()) -> Verdict:
    """Compare one test cell's reference records with the values the student's probe sent.

    Parameters
    ----------
    records : list of dict
        From the reference run, in order: ``{"check", "kind", "hidden", "args", "function"}``.
    sent : list of dict
        What arrived from the student's kernel, in order: ``{"check": id, "value": ..., "extra": [...]}``
        (already decoded; a value that failed to decode is an :class:`~grading.plain.Opaque`).
    exercise : str
        The exercise's name for messages, e.g. ``predict``.
    kernel_error : str, optional
        ``"Name: message"`` of the error the student's code raised in this cell, if any.
    earlier_cells : list of str
        The submission's code cells before this one (to find definitions for ``check_loops``).
    """
    arrived: dict[tuple[int, int], dict] = {}
    seen: dict[int, int] = {}
    for item in sent:
        check_id = item.get("check")
        if type(check_id) is not int:
            continue
        occurrence = seen.get(check_id, 0)
        seen[check_id] = occurrence + 1
        arrived.setdefault((check_id, occurrence), item)
    hidden_total = sum(1 for r in records if r["hidden"])
    hidden_index = 0
    wanted: dict[int, int] = {}
    for record in records:
        occurrence = wanted.get(record["check"], 0)
        wanted[record["check"]] = occurrence + 1
        if record["hidden"]:
            hidden_index += 1
        item = arrived.get((record["check"], occurrence))
        what = record["args"].get("what") or f"the condition on line {record.get('line', '?')} of the test cell"
        if item is None:
            if record["hidden"]:
                reason = f"; your code raised {kernel_error.split(':', 1)[0]}" if kernel_error else ""
                message = f"hidden test {hidden_index} of {hidden_total} did not run: {what}{reason}"
            else:
                reason = f": {_said(kernel_error)}" if kernel_error else " (the cell stopped before it)"
                message = f"{what}: did not run{reason}"
            return Verdict(False, message)
        try:
            value = item["value"]
            if record["kind"] == "check_true":
                extra = item.get("extra") or []
                record = {**record, "message_sent": extra[0] if extra and isinstance(extra[0], str) else ""}
            try:
                _judge_one(record, value, list(earlier_cells))
            except checks.CheckFailed:
                raise
            except Exception as error:  # a value the checks cannot even compare (an int of 400 digits...) fails
                raise checks.CheckFailed(f"{what}: the value sent could not be compared ({type(error).__name__})") from None
        except checks.CheckFailed as failure:
            if record["hidden"]:
                hint = record["args"].get("hint", "")
                shown = what if record["kind"] != "check_true" else "a hidden condition is not met"
                message = checks.with_hint(f"hidden test {hidden_index} of {hidden_total} failed: {shown}", hint)
            else:
                message = str(failure)[:4000]
            return Verdict(False, message)
    return Verdict(True, f"{exercise}: all {len(records)} checks passed ({hidden_total} of them hidden)")
