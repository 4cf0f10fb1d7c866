"""An exact calculator and unit converter, so the model never does arithmetic itself.

Why exact: a small model multiplies 1234 × 5678 wrong more often than not,
and floating point makes ``0.1 + 0.2`` print ``0.30000000000000004``. The
expression is parsed with :mod:`ast` and only a whitelist of node types is
evaluated, over :class:`fractions.Fraction` (never ``eval``): rationals stay
exact, and only the functions that have no exact value (``sqrt`` of a
non-square, ``log``, ``sin``...) fall back to floats, which the answer says.
Sizes are bounded (exponents, digits, factorials) so an expression cannot
make the machine work for minutes.

Units are exact too: every factor is the definition (an inch *is* 0.0254 m,
a pound 0.45359237 kg), and temperatures convert affinely.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

from ..models.events import ToolSpec
from .base import FunctionTool, ToolFailure, ToolResult

__all__ = ["calculator_tool", "convert", "evaluate", "format_number", "unit_tool"]

Number = Fraction | float

_MAX_EXPONENT = 10_000
_MAX_DIGITS = 4_000  # below Python's 4,300-digit limit for printing an int
_MAX_FACTORIAL = 2_000
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_SYMBOLS = {"×": "*", "·": "*", "÷": "/", "−": "-", "^": "**", "—": "-", "–": "-"}
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%(?!\s*[\d.(A-Za-z_])")


def _exact_root(x: Fraction) -> Number:
    if x < 0:
        raise ToolFailure("the square root of a negative number is not a real number")
    n, d = math.isqrt(x.numerator), math.isqrt(x.denominator)
    if n * n == x.numerator and d * d == x.denominator:
        return Fraction(n, d)
    return math.sqrt(x)


def _int_arg(x: Number, what: str) -> int:
    if isinstance(x, Fraction) and x.denominator == 1:
        return x.numerator
    if isinstance(x, float) and x.is_integer():
        return int(x)
    raise ToolFailure(f"{what} needs a whole number")


def _factorial(x: Number) -> Number:
    n = _int_arg(x, "factorial")
    if n < 0 or n > _MAX_FACTORIAL:
        raise ToolFailure(f"factorial is limited to 0..{_MAX_FACTORIAL}")
    return Fraction(math.factorial(n))


def _round(x: Number, digits: Number = Fraction(0)) -> Number:
    places = _int_arg(digits, "round's second argument")
    if isinstance(x, float):
        return round(x, places)
    scale = Fraction(10) ** places
    return Fraction(round(x * scale)) / scale


def _float_fn(fn: Callable[..., float]) -> Callable[..., Number]:
    def call(*args: Number) -> Number:
        try:
            return fn(*(float(a) for a in args))
        except (ValueError, OverflowError) as e:
            raise ToolFailure(f"{fn.__name__}: {e}") from None
    return call


_FUNCTIONS: Mapping[str, Callable[..., Number]] = {
    "abs": lambda x: abs(x),
    "sqrt": lambda x: _exact_root(Fraction(x)) if isinstance(x, Fraction) else math.sqrt(x),
    "round": _round,
    "floor": lambda x: Fraction(math.floor(x)),
    "ceil": lambda x: Fraction(math.ceil(x)),
    "factorial": _factorial,
    "gcd": lambda a, b: Fraction(math.gcd(_int_arg(a, "gcd"), _int_arg(b, "gcd"))),
    "lcm": lambda a, b: Fraction(math.lcm(_int_arg(a, "lcm"), _int_arg(b, "lcm"))),
    "min": lambda *a: min(a),
    "max": lambda *a: max(a),
    "log": _float_fn(math.log),  # log(x) natural, log(x, base)
    "ln": _float_fn(math.log),
    "log10": _float_fn(math.log10),
    "log2": _float_fn(math.log2),
    "exp": _float_fn(math.exp),
    "sin": _float_fn(math.sin), "cos": _float_fn(math.cos), "tan": _float_fn(math.tan),
    "asin": _float_fn(math.asin), "acos": _float_fn(math.acos), "atan": _float_fn(math.atan),
}
_CONSTANTS: Mapping[str, Number] = {"pi": math.pi, "e": math.e, "tau": math.tau}


def _digits(x: Fraction) -> int:
    bits = max(abs(x.numerator).bit_length(), x.denominator.bit_length())
    return int(bits * 0.30103) + 1


def _power(a: Number, b: Number) -> Number:
    if isinstance(a, Fraction) and isinstance(b, Fraction) and b.denominator == 1:
        if abs(b.numerator) > _MAX_EXPONENT:
            raise ToolFailure(f"exponents are limited to ±{_MAX_EXPONENT}")
        if a == 0 and b < 0:
            raise ToolFailure("division by zero")
        if a.numerator and abs(b.numerator) * math.log10(max(abs(a.numerator), a.denominator,
                                                              2)) > _MAX_DIGITS:
            raise ToolFailure(f"the result would have more than {_MAX_DIGITS} digits")
        return a ** b.numerator
    try:
        result = float(a) ** float(b)
    except (OverflowError, ZeroDivisionError) as e:
        raise ToolFailure(f"power: {e}") from None
    if isinstance(result, complex):
        raise ToolFailure("the result is not a real number")
    return float(result)


def _binary(op: ast.operator, a: Number, b: Number) -> Number:
    try:
        if isinstance(op, ast.Add):
            return a + b
        if isinstance(op, ast.Sub):
            return a - b
        if isinstance(op, ast.Mult):
            return a * b
        if isinstance(op, ast.Div):
            return a / b
        if isinstance(op, ast.FloorDiv):
            return Fraction(a // b)
        if isinstance(op, ast.Mod):
            return a % b
    except ZeroDivisionError:
        raise ToolFailure("division by zero") from None
    if isinstance(op, ast.Pow):
        return _power(a, b)
    raise ToolFailure(f"the operator {type(op).__name__} is not supported")


def _eval(node: ast.AST) -> Number:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) \
            and not isinstance(node.value, bool):
        return Fraction(node.value) if isinstance(node.value, int) else \
            Fraction(str(node.value))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _eval(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        result = _binary(node.op, _eval(node.left), _eval(node.right))
        if isinstance(result, Fraction) and _digits(result) > _MAX_DIGITS:
            raise ToolFailure(f"the result would have more than {_MAX_DIGITS} digits")
        return result
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise ToolFailure(f"unknown name {node.id!r}")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        fn = _FUNCTIONS.get(node.func.id)
        if fn is None:
            raise ToolFailure(f"unknown function {node.func.id!r}",
                              f"use one of: {', '.join(sorted(_FUNCTIONS))}")
        try:
            return fn(*(_eval(a) for a in node.args))
        except TypeError:
            raise ToolFailure(f"{node.func.id}: wrong number of arguments") from None
    raise ToolFailure(f"this is not arithmetic: {ast.unparse(node)[:60]}",
                      "use only numbers, operators, brackets and the listed functions")


def evaluate(expression: str) -> Number:
    """The exact value of an arithmetic expression (a float when it has no exact value)."""
    text = expression.strip()
    for sym, rep in _SYMBOLS.items():
        text = text.replace(sym, rep)
    text = _THOUSANDS.sub("", text)
    text = re.sub(r"(?<=\d)\s+(?=\d)", "", text)  # "1 234" written with a thin space
    # "17% * 2340" (what models write for "17% of 2,340"): a % that no operand follows is a
    # percentage; "17 % 5" stays the remainder
    text = _PERCENT.sub(r"(\1/100)", text)
    if not text:
        raise ToolFailure("the expression is empty")
    if len(text) > 2000:
        raise ToolFailure("the expression is too long (2000 characters at most)")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        # no runnable example in the hint: a small model evaluates the example instead of
        # its own question (seen with the 0.5B: "(2 + 3) / 7" answered "what is 1234 × 5678")
        raise ToolFailure(f"cannot read {expression!r} as arithmetic",
                          "use only numbers, operators and brackets") from None
    return _eval(tree)


def format_number(value: Number) -> str:
    """``7006652 (7,006,652)``, ``1/3 ≈ 0.333333333333`` or a float's 12 significant digits."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ToolFailure("the result is not a finite number")
        return f"≈ {value:.12g}"
    if value.denominator == 1:
        n = value.numerator
        return f"{n} ({n:,})" if abs(n) >= 10_000 else str(n)
    # a terminating decimal is shown exactly; otherwise the fraction and 12 digits
    d = value.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    if d == 1:
        places = 0
        scaled = value
        while scaled.denominator != 1:
            scaled *= 10
            places += 1
        sign = "-" if scaled < 0 else ""
        digits = str(abs(scaled.numerator)).rjust(places + 1, "0")
        return f"{sign}{digits[:-places]}.{digits[-places:]}"
    return f"{value.numerator}/{value.denominator} ≈ {float(value):.12g}"


# Our own answer format, "7006652 (7,006,652)": a small model sends a result back as a new
# expression; it is read as the number it is, not refused as a function call.
_OWN_RESULT = re.compile(r"^\s*(-?\d+)\s*\((-?\d{1,3}(?:,\d{3})+)\)\s*$")
_PLAIN_NUMBER = re.compile(r"^\s*-?\d+(?:\.\d+)?\s*$")


def _answer(value: str) -> str:
    """The part of a formatted result a reply must hold: its number, commas gone.

    A fraction's decimal form is what people write; a decimal needs its first
    place only, so "about 3.11 miles" holds 3.10685596119.
    """
    head = value.rpartition("≈")[2].split()[0].replace(",", "")
    whole, dot, places = head.partition(".")
    return f"{whole}{dot}{places[:1]}" if dot else head


async def _calculate(args: Mapping[str, Any]) -> str | ToolResult:
    expression = str(args.get("expression", ""))
    own = _OWN_RESULT.match(expression)
    if own and own[1] == own[2].replace(",", ""):
        expression = own[1]
    if _PLAIN_NUMBER.match(_THOUSANDS.sub("", expression)):
        value = format_number(evaluate(expression))
        return f"{value} is already a single number: the calculation is done, answer with it"
    value = format_number(evaluate(expression))
    line = f"{expression.strip()} {value}" if value.startswith("≈") else \
        f"{expression.strip()} = {value}"
    return ToolResult(line, answer=_answer(value))


def calculator_tool() -> FunctionTool:
    return FunctionTool(ToolSpec(
        "calculator",
        "Evaluate an arithmetic expression exactly. Use it for every calculation instead of "
        "working it out yourself. Supports + - * / // % ** ( ), sqrt, abs, round, floor, "
        "ceil, factorial, gcd, lcm, min, max, log, exp, sin, cos, tan, pi, e.",
        {"type": "object", "properties": {"expression": {
            "type": "string", "description": "for example 1234 * 5678 or (3 + 4) / 7"}},
         "required": ["expression"]}), _calculate, timeout=5.0)


# -- units ----------------------------------------------------------------------------

def _f(text: str) -> Fraction:
    return Fraction(text)


_UNITS: dict[str, tuple[str, Fraction]] = {}  # alias -> (dimension, factor to the base unit)


def _define(dimension: str, factor: Fraction, *aliases: str) -> None:
    for a in aliases:
        _UNITS[a.lower()] = (dimension, factor)


for _dim, _table in {
    "length": [(_f("1"), "m", "meter", "meters", "metre", "metres"),
               (_f("1000"), "km", "kilometer", "kilometers", "kilometre", "kilometres"),
               (_f("0.01"), "cm", "centimeter", "centimeters"),
               (_f("0.001"), "mm", "millimeter", "millimeters"),
               (_f("0.0254"), "in", "inch", "inches"),
               (_f("0.3048"), "ft", "foot", "feet"),
               (_f("0.9144"), "yd", "yard", "yards"),
               (_f("1609.344"), "mi", "mile", "miles"),
               (_f("1852"), "nmi", "nautical mile", "nautical miles")],
    "mass": [(_f("1"), "kg", "kilogram", "kilograms"),
             (_f("0.001"), "g", "gram", "grams"),
             (_f("0.000001"), "mg", "milligram", "milligrams"),
             (_f("1000"), "t", "tonne", "tonnes", "metric ton"),
             (_f("0.45359237"), "lb", "lbs", "pound", "pounds"),
             (_f("0.028349523125"), "oz", "ounce", "ounces"),
             (_f("6.35029318"), "st", "stone")],
    "time": [(_f("1"), "s", "sec", "second", "seconds"),
             (_f("60"), "min", "minute", "minutes"),
             (_f("3600"), "h", "hr", "hour", "hours"),
             (_f("86400"), "d", "day", "days"),
             (_f("604800"), "week", "weeks")],
    "volume": [(_f("1"), "l", "liter", "liters", "litre", "litres"),
               (_f("0.001"), "ml", "milliliter", "milliliters", "millilitre"),
               (_f("3.785411784"), "gal", "gallon", "gallons", "us gallon"),
               (_f("4.54609"), "imperial gallon", "uk gallon"),
               (_f("0.946352946"), "qt", "quart", "quarts"),
               (_f("0.473176473"), "pt", "pint", "pints"),
               (_f("0.2365882365"), "cup", "cups"),
               (_f("0.0295735295625"), "floz", "fl oz", "fluid ounce", "fluid ounces"),
               (_f("1000"), "m3", "cubic meter", "cubic meters")],
    "area": [(_f("1"), "m2", "square meter", "square meters", "sq m"),
             (_f("1000000"), "km2", "square kilometer", "square kilometers"),
             (_f("10000"), "ha", "hectare", "hectares"),
             (_f("4046.8564224"), "acre", "acres"),
             (_f("0.09290304"), "ft2", "sq ft", "square foot", "square feet")],
    "speed": [(_f("1"), "m/s", "mps"),
              (Fraction(1000, 3600), "km/h", "kmh", "kph"),
              (Fraction(1609344, 3600000), "mph", "mi/h"),
              (Fraction(1852, 3600), "kn", "knot", "knots")],
    "data": [(_f("1"), "b", "byte", "bytes"),
             (_f("1000"), "kb", "kilobyte", "kilobytes"),
             (_f("1000000"), "mb", "megabyte", "megabytes"),
             (_f("1000000000"), "gb", "gigabyte", "gigabytes"),
             (_f("1000000000000"), "tb", "terabyte", "terabytes"),
             (_f("1024"), "kib"), (_f("1048576"), "mib"), (_f("1073741824"), "gib"),
             (_f("1099511627776"), "tib")],
}.items():
    for _row in _table:
        _define(_dim, Fraction(_row[0]), *(str(a) for a in _row[1:]))

_TEMPERATURE = {"c": "C", "°c": "C", "celsius": "C", "f": "F", "°f": "F", "fahrenheit": "F",
                "k": "K", "kelvin": "K"}


def _to_kelvin(value: Fraction, unit: str) -> Fraction:
    if unit == "C":
        return value + _f("273.15")
    if unit == "F":
        return (value - 32) * Fraction(5, 9) + _f("273.15")
    return value


def _from_kelvin(value: Fraction, unit: str) -> Fraction:
    if unit == "C":
        return value - _f("273.15")
    if unit == "F":
        return (value - _f("273.15")) * Fraction(9, 5) + 32
    return value


def convert(value: Fraction, from_unit: str, to_unit: str) -> Fraction:
    """``value`` in ``from_unit`` expressed in ``to_unit``, exactly."""
    a, b = from_unit.strip().lower(), to_unit.strip().lower()
    if a in _TEMPERATURE and b in _TEMPERATURE:
        return _from_kelvin(_to_kelvin(value, _TEMPERATURE[a]), _TEMPERATURE[b])
    if a not in _UNITS or b not in _UNITS:
        unknown = from_unit if a not in _UNITS else to_unit
        raise ToolFailure(f"unknown unit {unknown!r}",
                          "known: " + ", ".join(sorted({k for k in _UNITS if len(k) <= 4})))
    (dim_a, fa), (dim_b, fb) = _UNITS[a], _UNITS[b]
    if dim_a != dim_b:
        raise ToolFailure(f"cannot convert {dim_a} ({from_unit}) to {dim_b} ({to_unit})")
    return value * fa / fb


async def _convert(args: Mapping[str, Any]) -> ToolResult:
    raw = args.get("value", "")
    value = evaluate(str(raw))
    if isinstance(value, float):
        value = Fraction(str(value))
    src, dst = str(args.get("from_unit", "")), str(args.get("to_unit", ""))
    result = format_number(convert(value, src, dst))
    return ToolResult(f"{format_number(value)} {src} = {result} {dst}", answer=_answer(result))


def unit_tool() -> FunctionTool:
    return FunctionTool(ToolSpec(
        "convert_units",
        "Convert a quantity between units exactly: length, mass, time, volume, area, speed, "
        "data sizes and temperature (C, F, K).",
        {"type": "object", "properties": {
            "value": {"type": "number"},
            "from_unit": {"type": "string", "description": "for example mi, kg, F, GiB"},
            "to_unit": {"type": "string"}},
         "required": ["value", "from_unit", "to_unit"]}), _convert, timeout=5.0)
