"""Names of a package loaded from their modules on first use (PEP 562), so importing it stays cheap."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    package: str, names: Mapping[str, str], namespace: dict[str, Any], public: list[str], hint: str = ""
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module's ``__getattr__`` and ``__dir__`` that import each of ``names`` from its module when first used.

    Parameters
    ----------
    package : str
        The module's name, for the error message.
    names : mapping of str to str
        Each lazily loaded name and the module that defines it.
    namespace : dict
        The module's ``globals()``: a loaded name is stored there, so later lookups skip ``__getattr__``.
    public : list of str
        The module's ``__all__`` (what ``dir()`` lists beside its globals).
    hint : str
        Appended to the ``AttributeError`` of an unknown name.
    """

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}{hint}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *public})

    return __getattr__, __dir__
