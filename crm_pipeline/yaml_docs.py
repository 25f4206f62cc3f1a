"""Reading the YAML files of the project and of a home (roles, settings, header synonyms).

libyaml's C parser when PyYAML has it: the pure-Python one takes a tenth of a second for the
settings file, and a run reads several such files."""

from __future__ import annotations

from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parsed_yaml(text: str | bytes) -> Any:
    """The document in `text`, with the safe loader's types only (no Python objects)."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 (a safe loader)
