"""The project's model: :class:`Project`, its :class:`StretchSpec` border stretches, park roles and errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from geo.errors import BigCatsError

__all__ = ["FORMAT", "PROJECT_FILE", "Project", "ProjectError", "StretchSpec", "country_of_role", "park_role"]

#: File name of the project inside a folder store.
PROJECT_FILE = "project.toml"

#: The version of the format this module reads and writes.
FORMAT = 1

_ISO3 = re.compile(r"^[A-Z]{3}$")


class ProjectError(BigCatsError):
    """``project.toml`` is missing, unreadable or describes a project that cannot work (exit 2).

    ``problems`` lists every problem found; the message names them and the fix.
    """

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


def park_role(iso3: str) -> str:
    """The layer role of one country's parks: ``parks_<iso3>`` in lower case (``POL`` -> ``parks_pol``)."""
    return f"parks_{iso3.lower()}"


def country_of_role(role: str) -> str | None:
    """The ISO3 code of a park role (``parks_prk`` -> ``PRK``); None for a role that is not ``parks_<iso3>``."""
    head, sep, code = role.partition("_")
    return code.upper() if head == "parks" and sep and _ISO3.match(code.upper()) and code.islower() else None


@dataclass(frozen=True)
class StretchSpec:
    """A border stretch of the project.

    Attributes
    ----------
    countries : (str, str)
        The two countries whose border it follows, in the order of the border layer's id.
    tripoint : str or None
        It starts where the two countries meet this third one (the vertex of their
        border nearest the first country's border with it).
    point : (float, float) or None
        Or it starts at the end of the border nearest this longitude/latitude.
    length_fact : str or None
        Id of the facts row (unit ``km``) that gives its published length; without
        one, the stretch is the whole shared border of the pair.
    """

    countries: tuple[str, str]
    tripoint: str | None = None
    point: tuple[float, float] | None = None
    length_fact: str | None = None

    @property
    def pair_id(self) -> str:
        """``A-B``: the id of the pair's line in the border layer."""
        return f"{self.countries[0]}-{self.countries[1]}"


@dataclass(frozen=True)
class Project:
    """A transboundary project: what ``project.toml`` says, checked.

    Attributes
    ----------
    name : dict of str to str
        The project's name per language code (``en``, ``ru``, ...).
    countries : tuple of str
        ISO3 codes of the countries whose parks make the proposed park, in order.
    context_countries : tuple of str
        Countries whose land and borders the layers also hold, drawn for context; no parks.
    languages : tuple of str
        Languages of the map, the first one the default.
    country_names : dict of str to dict of str to str
        Names of the countries (and context countries) per language; may be partial.
    stretches : tuple of StretchSpec
        The border stretches of the project.
    park_layer_titles : dict of str to str
        Title of each country's park layer (default "Protected areas of <country>").
    adjectives : dict of str to str
        English adjective of each country ("Russian"), for sentences; default its name.
    proposed_id : str
        Id of the proposed park's feature.
    texts : dict of str to dict of str to str
        The project's own texts of the map, per message key and language (its title, the
        countries' legend labels ...); they take precedence over the message catalogue.
    published : dict of str to str
        Published totals: a country code or ``proposed_park`` -> id of a facts row in hectares.
    region : (float, float, float, float) or None
        The project's region (lon_min, lat_min, lon_max, lat_max): imported layers outside it are warned about.
    facts_file : str
        The facts table, relative to the project file.
    path : Path or None
        Where the project was read from.
    """

    name: Mapping[str, str]
    countries: tuple[str, ...]
    context_countries: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("en",)
    country_names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    stretches: tuple[StretchSpec, ...] = ()
    published: Mapping[str, str] = field(default_factory=dict)
    facts_file: str = "facts.csv"
    park_layer_titles: Mapping[str, str] = field(default_factory=dict)
    region: tuple[float, float, float, float] | None = None
    adjectives: Mapping[str, str] = field(default_factory=dict)
    proposed_id: str = "PROPOSED"
    texts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    path: Path | None = None

    @property
    def park_roles(self) -> tuple[str, ...]:
        """``parks_<iso3>`` for each country, in the project's order."""
        return tuple(park_role(c) for c in self.countries)

    @property
    def role_country(self) -> dict[str, str]:
        """Park role -> ISO3 code."""
        return {park_role(c): c for c in self.countries}

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """Every pair of the project's countries, in the project's order (A before B)."""
        return tuple(combinations(self.countries, 2))

    @property
    def all_countries(self) -> tuple[str, ...]:
        """The countries, then the context countries."""
        return self.countries + self.context_countries

    @property
    def facts_path(self) -> Path | None:
        """The facts table beside the project file (None for a project not read from a file)."""
        return None if self.path is None else self.path.parent / self.facts_file

    def display_name(self, lang: str | None = None) -> str:
        """The project's name in ``lang`` (default: the first language), else in English, else any."""
        for key in (lang, self.languages[0], "en"):
            if key and key in self.name:
                return self.name[key]
        return next(iter(self.name.values()))

    def country_name(self, iso3: str, lang: str = "en") -> str:
        """A country's name in ``lang``, else in English, else its code."""
        names = self.country_names.get(iso3, {})
        return names.get(lang) or names.get("en") or iso3

    def adjective(self, iso3: str) -> str:
        """A country's English adjective ("Russian"), else its English name."""
        return self.adjectives.get(iso3) or self.country_name(iso3)

    def adjectives_text(self, codes=None) -> str:
        """``Russian and Chinese``, ``Polish, Belarusian and Ukrainian``: the countries' adjectives in a sentence."""
        words = [self.adjective(c) for c in (self.countries if codes is None else codes)]
        return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"

    def text(self, key: str, lang: str) -> str | None:
        """The project's own text ``key`` in ``lang`` (else in English), or None when it has none."""
        entry = self.texts.get(key, {})
        return entry.get(lang) or entry.get("en")

    def park_layer_title(self, iso3: str) -> str:
        """The title of a country's park layer."""
        return self.park_layer_titles.get(iso3) or f"Protected areas of {self.country_name(iso3)}"
