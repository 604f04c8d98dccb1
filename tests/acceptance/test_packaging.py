"""What installing Rollcall puts into someone else's environment."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_holds_one_import_package_rollcall(tmp_path: Path) -> None:
    # When the wheel is built as pip builds it
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("rollcall-*.whl")
    names = zipfile.ZipFile(wheel).namelist()

    # Then it holds exactly one top-level import package, with every layer,
    # the migrations and the mail templates inside it
    assert {name.split("/")[0] for name in names} - {f"{wheel.name.split('-py')[0]}.dist-info"} == {
        "rollcall"
    }
    for part in (
        "config",
        "models",
        "domain",
        "messaging",
        "intake",
        "workers",
        "scheduler",
        "cli",
    ):
        assert f"rollcall/{part}/__init__.py" in names, part
    assert "rollcall/models/migrations/env.py" in names
    assert "rollcall/config/_templates/email/en/enrollment_confirmed.txt.j2" in names


def test_importing_rollcall_changes_nothing_global_in_sqlalchemy() -> None:
    # Given a fresh interpreter that imports all of Rollcall's rules and models
    probe = (
        "import sqlalchemy.orm as orm\n"
        "from sqlalchemy import create_engine, event\n"
        "import rollcall.domain, rollcall.models\n"
        "from rollcall.domain.calendar.sync import _refresh_calendar_after_flush as hook\n"
        "from rollcall.models.db import make_sessionmaker\n"
        "ours = make_sessionmaker(create_engine('sqlite://'))\n"
        "print(event.contains(orm.Session, 'after_flush', hook),"
        " event.contains(ours, 'after_flush', hook))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    )
    # Then SQLAlchemy's own Session class has no Rollcall listener; Rollcall's
    # own sessionmakers have the calendar-cache one
    assert result.stdout.split() == ["False", "True"]
