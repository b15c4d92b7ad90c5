"""Writing ``project.toml``: the text of a :class:`~geo.project.model.Project` that reads back the same."""

from __future__ import annotations

import re

from geo.project.model import FORMAT, Project

__all__ = ["project_toml"]


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped)
    return f'"{escaped}"'


def _key(key: str) -> str:
    return key if re.match(r"^[A-Za-z0-9_-]+$", key) else _quote(key)


def _array(values) -> str:
    return "[" + ", ".join(_quote(v) if isinstance(v, str) else repr(float(v)) for v in values) + "]"


def project_toml(project: Project, *, comment: str = "") -> str:
    """The text of ``project.toml`` for ``project`` (reading it back gives the same project)."""
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    lines += [
        "# Read by bigcats (geo/project/). Figures are never typed here: each is the id of a row of",
        f"# {project.facts_file}, which gives the figure with its public source.",
        f"format = {FORMAT}",
        f"countries = {_array(project.countries)}",
        f"context_countries = {_array(project.context_countries)}",
        f"languages = {_array(project.languages)}",
        f"facts = {_quote(project.facts_file)}",
        *([f"region = {_array(project.region)}"] if project.region else []),
        f"proposed_id = {_quote(project.proposed_id)}",
        "",
        "[name]",
        *(f"{_key(k)} = {_quote(v)}" for k, v in project.name.items()),
    ]
    if project.published:
        lines += ["", "[published]", *(f"{_key(k)} = {_quote(v)}" for k, v in project.published.items())]
    if project.park_layer_titles:
        titles = project.park_layer_titles.items()
        lines += ["", "[park_layer_titles]", *(f"{_key(k)} = {_quote(v)}" for k, v in titles)]
    if project.adjectives:
        lines += ["", "[adjectives]", *(f"{_key(k)} = {_quote(v)}" for k, v in project.adjectives.items())]
    for code, names in project.country_names.items():
        if names:
            lines += ["", f"[country_names.{code}]", *(f"{_key(k)} = {_quote(v)}" for k, v in names.items())]
    for key, entry in project.texts.items():
        if entry:
            lines += ["", f"[texts.{_key(key)}]", *(f"{_key(k)} = {_quote(v)}" for k, v in entry.items())]
    for stretch in project.stretches:
        lines += ["", "[[stretches]]", f"countries = {_array(stretch.countries)}"]
        if stretch.tripoint:
            lines.append(f"start = {{ tripoint = {_quote(stretch.tripoint)} }}")
        elif stretch.point:
            lines.append(f"start = {{ point = {_array(stretch.point)} }}")
        if stretch.length_fact:
            lines.append(f"length_fact = {_quote(stretch.length_fact)}")
    return "\n".join(lines) + "\n"
