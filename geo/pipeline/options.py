"""Command-line values turned into the use cases' arguments (``ROLE=VERSION``, ``FIELD=COLUMN``, ``W,S,E,N`` ...).

Each refuses a malformed value with a :class:`geo.errors.UsageError` that shows the expected form.
"""

from __future__ import annotations

from geo.errors import UsageError

__all__ = ["compare_pairs", "country_codes", "field_mapping", "key_values", "region_box", "xy_columns"]


def compare_pairs(pairs: list[str] | None) -> list[tuple[str, int]]:
    """``--compare ROLE=VERSION`` values as ``(role, version)`` pairs."""
    out = []
    for pair in pairs or []:
        role, sep, version = pair.partition("=")
        if not sep or not role.strip() or not version.strip().isdigit():
            raise UsageError(f"--compare {pair!r} must be ROLE=VERSION, e.g. --compare parks_pol=1.")
        out.append((role.strip(), int(version)))
    return out


def field_mapping(pairs: list[str] | None) -> dict[str, str]:
    """``--map FIELD=COLUMN`` values as ``{field: column}``."""
    out = {}
    for pair in pairs or []:
        field, sep, column = pair.partition("=")
        if not sep or not field or not column:
            raise UsageError(f"--map {pair!r} must be FIELD=COLUMN, e.g. --map name_en=NAME_LAT.")
        out[field.strip()] = column.strip()
    return out


def country_codes(text: str | None) -> list[str]:
    """A comma-separated list of codes (``POL,BLR``) as a list, blanks dropped."""
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def key_values(pairs: list[str] | None, option: str, example: str) -> dict[str, str]:
    """``KEY=VALUE`` values of ``option`` as ``{KEY: value}`` (keys upper-cased); ``example`` goes in the message."""
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise UsageError(f"{option} {pair!r} must be KEY=VALUE, e.g. {option} {example}.")
        out[key.strip().upper()] = value.strip()
    return out


def region_box(text: str | None) -> tuple[float, float, float, float] | None:
    """``--region W,S,E,N`` in degrees as a tuple, checked to be a box on the globe (None if not given)."""
    if text is None:
        return None
    try:
        w, s, e, n = (float(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"--region {text!r} must be W,S,E,N in degrees, e.g. --region 23.4,52.4,24.3,53.0.") from None
    if not (-180 <= w < e <= 180 and -90 <= s < n <= 90):
        raise UsageError(f"--region {text!r}: need -180 <= W < E <= 180 and -90 <= S < N <= 90.")
    return (w, s, e, n)


def xy_columns(x: str | None, y: str | None) -> tuple[str, str] | None:
    """The ``(x, y)`` point columns of a CSV (``--x``, ``--y``): both or neither (None: found by name)."""
    if (x is None) != (y is None):
        raise UsageError("--x and --y go together: name both columns, e.g. --x lon --y lat.")
    return None if x is None or y is None else (x, y)
