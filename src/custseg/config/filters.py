"""The filter language of named customer groups: a small grammar, parsed, never run as code.

A group in the config is a filter over the customer table, such as
``customer_type == 'B2B' and tier == 'high' and market == 'East China'``. The text is parsed
with Python's :mod:`ast` and only a whitelisted grammar is accepted:

- comparisons ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` between a column and a literal,
- ``column in [...]`` and ``column not in [...]`` with a list (or tuple) of literals,
- ``and``, ``or``, ``not`` and parentheses,
- column names (plain identifiers) and string or number literals.

Anything else (calls, attribute access, subscripts, lambdas, names compared with names,
arithmetic) is refused with a :class:`FilterError` that says what is not allowed. The parsed
filter is a tree of the small frozen dataclasses below; :mod:`custseg.segment.groups` turns it
into a boolean mask over the customer table. Parsing lives here, below the segmentation, so the
config can refuse a bad filter when it is loaded.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

#: The comparison operators of the language, by their ast node type.
_COMPARISONS: dict[type, str] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
}

#: Longest filter accepted: a filter is a line in a config, not a program.
MAX_LENGTH = 2000

Literal = str | int | float


class FilterError(ValueError):
    """A filter outside the language, with a message saying what is wrong and where."""


@dataclass(frozen=True)
class Compare:
    """``column <op> value``; `op` one of ``== != < <= > >=``."""

    column: str
    op: str
    value: Literal


@dataclass(frozen=True)
class Member:
    """``column in values`` (or ``not in`` when `negated`)."""

    column: str
    values: tuple[Literal, ...]
    negated: bool = False


@dataclass(frozen=True)
class Not:
    """``not operand``."""

    operand: Node


@dataclass(frozen=True)
class BoolOp:
    """``operands[0] and operands[1] ...`` (`op` ``"and"``) or the same with ``or``."""

    op: str
    operands: tuple[Node, ...]


Node = Compare | Member | Not | BoolOp


def parse_filter(text: str) -> Node:
    """Parse a group filter into its tree.

    Parameters
    ----------
    text
        The filter as written in the config.

    Returns
    -------
    Node
        The filter's tree (:class:`Compare`, :class:`Member`, :class:`Not`, :class:`BoolOp`).

    Raises
    ------
    FilterError
        When the text is not Python syntax or uses anything outside the language; the message
        names the construct refused.
    """
    if not isinstance(text, str) or not text.strip():
        raise FilterError("a group filter must be a non-empty text such as \"tier == 'high'\"")
    if len(text) > MAX_LENGTH:
        raise FilterError(f"a group filter is at most {MAX_LENGTH} characters long")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise FilterError(f"{text!r} is not a valid filter: {error.msg}") from None
    return _node(tree.body, text)


def filter_columns(node: Node) -> set[str]:
    """Every column a parsed filter reads."""
    if isinstance(node, Compare | Member):
        return {node.column}
    if isinstance(node, Not):
        return filter_columns(node.operand)
    return set().union(*(filter_columns(operand) for operand in node.operands))


def _what(node: ast.AST) -> str:
    # the construct in words, for the error message
    names = {
        ast.Call: "a function call", ast.Attribute: "attribute access", ast.Subscript: "a subscript",
        ast.Lambda: "a lambda", ast.BinOp: "arithmetic", ast.UnaryOp: "arithmetic",
        ast.IfExp: "a conditional expression", ast.NamedExpr: "an assignment", ast.Starred: "unpacking",
        ast.Dict: "a dict", ast.Set: "a set", ast.ListComp: "a comprehension",
        ast.GeneratorExp: "a comprehension", ast.SetComp: "a comprehension", ast.DictComp: "a comprehension",
        ast.JoinedStr: "an f-string", ast.Await: "await", ast.Constant: "a literal",
    }
    return names.get(type(node), f"{type(node).__name__!r}")


def _node(node: ast.AST, text: str) -> Node:
    if isinstance(node, ast.BoolOp):
        op = "and" if isinstance(node.op, ast.And) else "or"
        return BoolOp(op, tuple(_node(value, text) for value in node.values))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return Not(_node(node.operand, text))
    if isinstance(node, ast.Compare):
        return _compare(node, text)
    if isinstance(node, ast.Name | ast.Constant):
        raise FilterError(f"{text!r}: a filter is a comparison such as \"tier == 'high'\", "
                          f"not a bare {'column' if isinstance(node, ast.Name) else 'value'}")
    raise FilterError(f"{text!r}: {_what(node)} is not allowed in a filter (only comparisons of "
                      "columns with literals, in / not in lists, and, or, not)")


def _compare(node: ast.Compare, text: str) -> Node:
    # a < b < c is two comparisons joined by and, as in Python
    parts: list[Node] = []
    left = node.left
    for op, right in zip(node.ops, node.comparators):
        parts.append(_one_comparison(left, op, right, text))
        left = right
    return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))


def _one_comparison(left: ast.AST, op: ast.cmpop, right: ast.AST, text: str) -> Node:
    if isinstance(op, ast.In | ast.NotIn):
        column = _column(left, text)
        if not isinstance(right, ast.List | ast.Tuple):
            raise FilterError(f"{text!r}: 'in' needs a list of literals, such as ['B2B', 'B2C']")
        values = tuple(_literal(item, text) for item in right.elts)
        return Member(column, values, negated=isinstance(op, ast.NotIn))
    if type(op) not in _COMPARISONS:
        raise FilterError(f"{text!r}: the comparison {type(op).__name__!r} is not allowed "
                          "(use ==, !=, <, <=, >, >=, in, not in)")
    symbol = _COMPARISONS[type(op)]
    if isinstance(left, ast.Name):
        return Compare(_column(left, text), symbol, _literal(right, text))
    if isinstance(right, ast.Name):  # 'high' == tier reads the same as tier == 'high'
        mirrored = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(symbol, symbol)
        return Compare(_column(right, text), mirrored, _literal(left, text))
    return Compare(_column(left, text), symbol, _literal(right, text))  # refuses what the left is


def _column(node: ast.AST, text: str) -> str:
    if not isinstance(node, ast.Name):
        raise FilterError(f"{text!r}: {_what(node)} is not allowed where a column name is expected")
    if node.id.startswith("__"):
        raise FilterError(f"{text!r}: {node.id!r} is not a column name")
    return node.id


def _literal(node: ast.AST, text: str) -> Literal:
    # a negative number is a unary minus on a constant in the ast
    if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant) and _plain_number(node.operand.value)):
        return -node.operand.value
    if isinstance(node, ast.Constant) and (isinstance(node.value, str) or _plain_number(node.value)):
        return node.value
    if isinstance(node, ast.Name):
        raise FilterError(f"{text!r}: {node.id!r} compared with a column must be a quoted text "
                          f"or a number, e.g. '{node.id}'")
    raise FilterError(f"{text!r}: {_what(node)} is not allowed where a text or number is expected")


def _plain_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
