"""Names of places in Russian and Chinese from language-tagged catalogues, by one documented rule.

The catalogues are GeoNames alternate names grouped by language tag (gettext catalogues keyed
by GeoNames id, as the Debian package ``libgeonames-common`` ships them). For a language the
rule is:

1. A reviewed correction (a row of the project's corrections table, with its public source)
   comes first: it either gives the name or rejects the catalogue's value.
2. Otherwise the language's tags are tried in order (:data:`LANGUAGE_TAGS`; for Chinese only
   the tags of simplified Chinese: ``zh_CN``, ``zh_SG``, then the bare ``zh``; never ``zh_TW``,
   ``zh_HK``, ``yue`` or ``lzh``), and the first value that passes the script check is taken.
3. The script check: Russian names hold only letters of the Russian alphabet (so Serbian,
   Ukrainian or Latin forms fail); Chinese names hold only CJK ideographs, none of them a
   traditional-only or Japanese-only form (from the OpenCC character tables).
4. Where nothing passes, no name in that language (``None``): the map shows the English name,
   marked as English.

A correction may carry a historic name, which follows the modern one in brackets.
Every choice returns its source, so the layer can record it per feature.
"""

from __future__ import annotations

import csv
import gettext
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "LANGUAGE_TAGS",
    "Correction",
    "NameChoice",
    "Simplified",
    "choose_name",
    "in_script",
    "read_corrections",
    "read_mo",
]

#: Catalogue tags tried for each language, in order. Chinese: simplified tags only.
LANGUAGE_TAGS: Mapping[str, tuple[str, ...]] = {"ru": ("ru",), "zh": ("zh_CN", "zh_SG", "zh")}

_RUSSIAN = re.compile(r"[А-Яа-яЁё]+(?:[ \-][А-Яа-яЁё]+)*")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")


def read_mo(data: bytes) -> dict[str, str]:
    """The messages of a compiled gettext catalogue (``.mo``), without its header.

    Parameters
    ----------
    data : bytes
        The ``.mo`` file's bytes.

    Returns
    -------
    dict
        Message id (here a GeoNames id) to translated text.
    """
    # gettext parses the file; its table has no public accessor, so it is read from the instance's attributes.
    catalogue = vars(gettext.GNUTranslations(io.BytesIO(data)))["_catalog"]
    return {str(k): str(v) for k, v in catalogue.items() if k}


@dataclass(frozen=True)
class Simplified:
    """Which CJK characters are not simplified Chinese, from OpenCC's character tables.

    Parameters
    ----------
    traditional : frozenset of str
        Characters that OpenCC converts to another character going traditional to simplified.
    japanese : frozenset of str
        Japanese shinjitai forms that are not also simplified Chinese characters.
    """

    traditional: frozenset[str]
    japanese: frozenset[str]

    @classmethod
    def from_tables(cls, ts_characters: str, jp_shinjitai: str, st_characters: str) -> Simplified:
        """Build from the texts of OpenCC's ``TSCharacters``, ``JPShinjitaiCharacters`` and ``STCharacters``.

        Each table line is ``key<TAB>value value ...``; ``#`` starts a comment.
        """
        ts = _table(ts_characters)
        simplified = {v for values in ts.values() for v in values} | set(_table(st_characters))
        traditional = {k for k, values in ts.items() if k not in values}
        japanese = {k for k in _table(jp_shinjitai) if k not in simplified}
        return cls(frozenset(traditional), frozenset(japanese - traditional))

    def rejects(self, text: str) -> list[str]:
        """The characters of ``text`` that are traditional-only or Japanese-only, in order."""
        return [ch for ch in text if ch in self.traditional or ch in self.japanese]


def _table(text: str) -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#") or "\t" not in line:
            continue
        key, values = line.split("\t", 1)
        rows[key] = values.split()
    return rows


def in_script(text: str, lang: str, simplified: Simplified) -> bool:
    """Whether ``text`` is written in the script of ``lang`` (``ru``: Russian alphabet; ``zh``: simplified).

    Parameters
    ----------
    text : str
        A candidate name.
    lang : str
        ``ru`` or ``zh``.
    simplified : Simplified
        The characters that are not simplified Chinese.

    Returns
    -------
    bool
    """
    if lang == "ru":
        return _RUSSIAN.fullmatch(text) is not None
    if lang == "zh":
        return _CJK.fullmatch(text) is not None and not simplified.rejects(text)
    raise ValueError(f"no script rule for language {lang!r}")


@dataclass(frozen=True)
class Correction:
    """A reviewed correction of one feature's name in one language, with its public source.

    ``name`` empty means: reject the catalogue's value (the English name is shown).
    """

    feature_id: str
    lang: str
    name: str
    historic: str
    rejects: str
    source_title: str
    source_url: str


def read_corrections(text: str) -> dict[tuple[str, str], Correction]:
    """Read the corrections table (CSV: feature_id, lang, name, historic, rejects, source_title, source_url)."""
    rows = csv.DictReader(io.StringIO(text))
    out: dict[tuple[str, str], Correction] = {}
    for row in rows:
        if None in row:  # more fields than the header: an unquoted comma cut a field in two
            raise ValueError(
                f"correction on line {rows.line_num} has more fields than the header: "
                "quote a field that holds a comma (a URL such as .../Tumen,_Jilin)"
            )
        corr = Correction(**{k: (row.get(k) or "").strip() for k in Correction.__dataclass_fields__})
        if not corr.source_title or not corr.source_url:
            raise ValueError(f"correction of {corr.feature_id} [{corr.lang}] has no public source")
        if not corr.source_url.startswith(("https://", "http://")):
            raise ValueError(f"correction of {corr.feature_id} [{corr.lang}]: source_url is not an address")
        out[(corr.feature_id, corr.lang)] = corr
    return out


@dataclass(frozen=True)
class NameChoice:
    """The chosen name (``None``: none passes, the English name is shown) and where it came from."""

    name: str | None
    source: str


def _bracketed(name: str, historic: str, lang: str) -> str:
    if not historic:
        return name
    return f"{name}（{historic}）" if lang == "zh" else f"{name} ({historic})"


def choose_name(
    geonameid: str,
    lang: str,
    english: str,
    catalogues: Mapping[str, Mapping[str, str]],
    *,
    simplified: Simplified,
    corrections: Mapping[tuple[str, str], Correction] | None = None,
    catalogue_label: str = "GeoNames",
) -> NameChoice:
    """The name of one feature in ``lang`` by the module's rule, and its source.

    Parameters
    ----------
    geonameid : str
        The feature's GeoNames id (the catalogues' key).
    lang : str
        ``ru`` or ``zh``.
    english : str
        The English name, named in the source when no name passes.
    catalogues : mapping
        Language tag (``ru``, ``zh_CN`` ...) to GeoNames id to name.
    simplified : Simplified
        The characters that are not simplified Chinese.
    corrections : mapping, optional
        ``(geonameid, lang)`` to a reviewed :class:`Correction`.
    catalogue_label : str
        How the source names the catalogues (package and version).

    Returns
    -------
    NameChoice
    """
    corr = (corrections or {}).get((geonameid, lang))
    if corr is not None and corr.name:
        if not in_script(corr.name, lang, simplified):
            raise ValueError(f"correction of {geonameid} [{lang}] is not in the language's script: {corr.name!r}")
        return NameChoice(_bracketed(corr.name, corr.historic, lang),
                          f"correction: {corr.source_title} ({corr.source_url})")
    refused: list[str] = []
    for tag in LANGUAGE_TAGS[lang]:
        value = catalogues.get(tag, {}).get(geonameid)
        if not value:
            continue
        if corr is not None and value == corr.rejects:
            refused.append(f"{tag} {value!r} rejected by a correction: {corr.source_title} ({corr.source_url})")
        elif in_script(value, lang, simplified):
            return NameChoice(value, f"{catalogue_label} [{tag}]")
        else:
            refused.append(f"{tag} {value!r} not in the script")
    why = "; ".join(refused) if refused else f"no {'/'.join(LANGUAGE_TAGS[lang])} name"
    return NameChoice(None, f"none, the English name {english!r} is shown ({catalogue_label}: {why})")

