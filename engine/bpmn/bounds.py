"""What one operation of a restricted script may cost. The time limit (engine.bpmn.scripting) is
checked between the lines of a script, never inside one C-level operation, so the operations that
can take seconds or gigabytes in one call (a power, a repetition, a concatenation, a format width,
a text padded, joined or replaced, a value turned into text) go through the checked versions here,
which refuse before the work is done. `rendered_size` also bounds what a value takes as text."""

from __future__ import annotations

import itertools
import operator
import re
from typing import Any, Callable, Iterable

from RestrictedPython.Guards import safer_getattr

from ..errors import ScriptRefused

MAX_INT_BITS = 4096  # about 1,233 digits: far past any amount, far below what slows a step
MAX_LENGTH = 1_000_000  # characters of a text, items of a list: what one operation may build
MAX_FORMAT_WIDTH = 10_000  # a width or precision in a format spec (f-strings, format(), %)
MAX_RANGE_ITEMS = 10_000

_SEQUENCES = (str, bytes, list, tuple)
# [[fill]align][sign][z][#][0][width][grouping][.precision][type]: the standard format spec.
_FORMAT_SPEC = re.compile(r"(?:.?[<>=^])?[-+ ]?z?#?0?(?P<width>\d*)[,_]?(?:\.(?P<precision>\d+))?[a-zA-Z%]?", re.S)
# A conversion of %-formatting: %[(key)][flags][width][.precision][length]type
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?P<width>\*|\d+)?(?:\.(?P<precision>\*|\d*))?[hlL]?(?P<type>.)?")


def _refuse(message: str) -> ScriptRefused:
    return ScriptRefused(message)


def _long_text() -> ScriptRefused:
    return _refuse(f"a text or list of more than {MAX_LENGTH:,} items is not allowed")


def _check_bits(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise _refuse(f"a number of more than {MAX_INT_BITS:,} bits (about 1,233 digits) is not allowed")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def rendered_size(value: Any, limit: int, _memo: dict[int, int] | None = None, _path: tuple = ()) -> int:
    """About how many characters `value` takes as text (repr or JSON), counted only until `limit`
    is passed: a list holding one long text a thousand times is seen as a thousand long texts,
    without building any of them."""
    if not isinstance(value, (list, tuple, set, frozenset, dict)):
        return _scalar_size(value)
    memo = {} if _memo is None else _memo
    key = id(value)
    if key in memo:
        return memo[key]
    if key in _path:
        return 5  # a list inside itself is shown as [...]
    path, total = (*_path, key), 2
    parts = itertools.chain.from_iterable(value.items()) if isinstance(value, dict) else value
    for part in parts:  # inline for texts and numbers: a function call per item is slow when traced
        if isinstance(part, str):
            total += len(part) + 5
        elif type(part) is int:
            total += part.bit_length() * 3 // 10 + 4
        elif isinstance(part, (list, tuple, set, frozenset, dict)):
            total += rendered_size(part, limit, memo, path) + 2
        else:
            total += _scalar_size(part) + 2
        if total > limit:
            break
    memo[key] = total
    return total


def _scalar_size(value: Any) -> int:
    if isinstance(value, (str, bytes)):
        return len(value) + 3
    if _is_int(value):
        return value.bit_length() * 3 // 10 + 2
    return 24  # a float, a date, None: short whatever it is


def _check_rendered(value: Any) -> None:
    if not isinstance(value, (str, bytes)) and rendered_size(value, MAX_LENGTH) > MAX_LENGTH:
        raise _long_text()


def multiply(left: Any, right: Any, operation: Callable = operator.mul) -> Any:
    """`*`: a repetition of a text or a list into more than MAX_LENGTH items, or a product of more
    than MAX_INT_BITS bits, is refused before it is built."""
    for sequence, times in ((left, right), (right, left)):
        if isinstance(sequence, _SEQUENCES) and _is_int(times) and len(sequence) * max(times, 0) > MAX_LENGTH:
            raise _refuse(f"a repetition of more than {MAX_LENGTH:,} items is not allowed")
    if _is_int(left) and _is_int(right) and left and right:
        _check_bits(left.bit_length() + right.bit_length() - 1)
    return operation(left, right)


def add(left: Any, right: Any, operation: Callable = operator.add) -> Any:
    """`+`: joining texts or lists into more than MAX_LENGTH items is refused before it is built."""
    if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES) and len(left) + len(right) > MAX_LENGTH:
        raise _long_text()
    return operation(left, right)


def power(base: Any, exponent: Any, operation: Callable = operator.pow) -> Any:
    """`**`: an integer power of more than MAX_INT_BITS bits is refused before it is computed."""
    if _is_int(base) and _is_int(exponent) and exponent > 0 and abs(base) > 1:
        _check_bits((base.bit_length() - 1) * exponent + 1)
    return operation(base, exponent)


def shift_left(value: Any, bits: Any, operation: Callable = operator.lshift) -> Any:
    if _is_int(value) and _is_int(bits) and value:
        _check_bits(value.bit_length() + bits)
    return operation(value, bits)


def _check_width(width: str | None, precision: str | None) -> None:
    for number in (width, precision):
        if number and int(number) > MAX_FORMAT_WIDTH:
            raise _refuse(f"a format width or precision over {MAX_FORMAT_WIDTH:,} is not allowed")


def modulo(left: Any, right: Any, operation: Callable = operator.mod) -> Any:
    """`%`: for a text, the %-formatting widths, and what the values put in, are bounded first."""
    if not isinstance(left, (str, bytes)):
        return operation(left, right)
    text = left.decode("latin-1") if isinstance(left, bytes) else left
    conversions = [m for m in _PERCENT_SPEC.finditer(text) if m.group("type") != "%"]
    for match in conversions:
        if "*" in (match.group("width") or "") + (match.group("precision") or ""):
            raise _refuse("a * width or precision in %-formatting is not allowed; write the number")
        _check_width(match.group("width"), match.group("precision"))
    if isinstance(right, dict):  # `%(key)s` takes one value; a bare `%s` shows the whole dict
        keyed = all(m.group(0).startswith("%(") for m in conversions)
        values = list(right.values()) if keyed else [right]
    else:
        values = right if isinstance(right, tuple) else (right,)
    largest = max((rendered_size(v, MAX_LENGTH) for v in values), default=0)
    if len(text) + len(conversions) * largest > MAX_LENGTH:
        raise _long_text()
    return operation(left, right)


_CONVERSIONS = {-1: None, ord("s"): str, ord("r"): repr, ord("a"): ascii}


def format_value(value: Any, spec: str = "", conversion: int = -1) -> str:
    """One `{value!conversion:spec}` of an f-string, and `format(value, spec)`: the spec's width and
    precision and the value's own length as text are bounded before it is formatted."""
    _check_rendered(value)
    convert = _CONVERSIONS.get(conversion)
    if convert is not None:
        value = convert(value)
    if not isinstance(spec, str):
        raise TypeError("a format spec must be a text")
    match = _FORMAT_SPEC.fullmatch(spec)
    if match:  # a date's strftime spec, for instance, is not a standard one and is not padded
        _check_width(match.group("width"), match.group("precision"))
    return format(value, spec)


def checked_repr(value: Any) -> str:
    _check_rendered(value)
    return repr(value)


def checked_str(*args: Any, **kwargs: Any) -> str:
    """A call of `str(value)` (the name `str` itself stays the type, for isinstance)."""
    if args and not (len(args) > 1 or kwargs):  # str(data, encoding) decodes bytes: no longer than them
        _check_rendered(args[0])
    return str(*args, **kwargs)


def bounded_range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_RANGE_ITEMS:
        raise _refuse(f"range() of more than {MAX_RANGE_ITEMS} items is not allowed")
    return result


def bounded_sum(values: Iterable, start: Any = 0) -> Any:
    """`sum`: adding up lists is one C-level loop, so their total length is checked first."""
    if not isinstance(start, _SEQUENCES):
        return sum(values, start)
    values = list(values)
    try:
        _within(len(start) + sum(map(len, values)))
    except TypeError:
        pass  # not all sequences: sum() itself says why
    return sum(values, start)


def _within(length: int) -> None:
    if length > MAX_LENGTH:
        raise _long_text()


def _padding(method: str) -> Callable:
    def padded(text, width, *args):
        _within(width if _is_int(width) else 0)
        return getattr(text, method)(width, *args)

    return padded


def _expandtabs(text, tabsize=8):
    _within(len(text) * max(tabsize, 1))
    return text.expandtabs(tabsize)


def _join(separator, parts):
    parts = list(parts)
    try:
        _within(sum(map(len, parts)) + len(separator) * max(len(parts) - 1, 0))
    except TypeError:
        pass  # not all texts: join() itself says why
    return separator.join(parts)


def _replace(text, old, new, count=-1):
    if len(new) > len(old):
        found = (len(text) + 1 if not old else text.count(old)) if count < 0 else count
        _within(len(text) + found * (len(new) - len(old)))
    return text.replace(old, new, count)


def _translate(text, table):
    if isinstance(text, str) and isinstance(table, dict):
        longest = max((len(v) for v in table.values() if isinstance(v, str)), default=1)
        _within(len(text) * longest)
    return text.translate(table)


def _extend(items, more):
    more = list(more)
    _within(len(items) + len(more))
    items.extend(more)


_TEXT_METHODS: dict[str, Callable] = {
    **{name: _padding(name) for name in ("center", "ljust", "rjust", "zfill")},
    "expandtabs": _expandtabs,
    "join": _join,
    "replace": _replace,
    "translate": _translate,
}


def checked_getattr(value: Any, name: str, *default: Any) -> Any:
    """RestrictedPython's safer_getattr, with the methods of texts and lists that can grow them
    without bound in one call replaced by checked ones."""
    found = safer_getattr(value, name, *default)
    if isinstance(value, (str, bytes)) and name in _TEXT_METHODS:
        method = _TEXT_METHODS[name]
        return lambda *args, **kwargs: method(value, *args, **kwargs)
    if isinstance(value, list) and name == "extend":
        return lambda more: _extend(value, more)
    return found


INPLACE = {
    "+=": lambda a, b: add(a, b, operator.iadd),
    "-=": operator.isub,
    "*=": lambda a, b: multiply(a, b, operator.imul),
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": lambda a, b: modulo(a, b, operator.imod),
    "**=": lambda a, b: power(a, b, operator.ipow),
    "<<=": lambda a, b: shift_left(a, b, operator.ilshift),
    ">>=": operator.irshift,
    "|=": operator.ior,
    "&=": operator.iand,
    "^=": operator.ixor,
}
