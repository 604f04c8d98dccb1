"""Every code a client can get back is in the README's Errors section (one place to look)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

from rollcall.domain import errors
from rollcall.intake.errors import STATUS_BY_CATEGORY, STATUS_BY_HTTP_CODE

README = Path(__file__).resolve().parents[2] / "README.md"


def _all_subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _all_subclasses(sub)
    return found


def _codes_a_client_can_get() -> set[str]:
    for module in pkgutil.iter_modules(errors.__path__):
        importlib.import_module(f"{errors.__name__}.{module.name}")
    categories = {category for category, _status in STATUS_BY_CATEGORY}
    coded = {cls.code for cls in _all_subclasses(errors.RollcallError) if cls not in categories}
    return coded | set(STATUS_BY_HTTP_CODE.values())


def _errors_section() -> str:
    text = README.read_text()
    start = text.index("\n## Errors\n")
    return text[start : text.index("\n## ", start + 1)]


def test_every_error_code_is_documented_in_the_readme() -> None:
    documented = set(re.findall(r"`([A-Z][A-Z_]+)`", _errors_section()))
    missing = sorted(_codes_a_client_can_get() - documented)
    assert missing == [], f"add these codes to the README's Errors section: {missing}"
