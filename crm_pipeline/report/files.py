"""Writing the report (atomically, as every published file) and its PNG preview."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path

import duckdb

from crm_pipeline.report.render import report_html

PREVIEW_ENV = "CRM_REPORT_PREVIEW"  # "0": no preview (tests that run many pipelines)
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
PREVIEW_SECONDS = 60


def write_report(con: duckdb.DuckDBPyConnection, tenant_id: str, path: Path,
                 as_of: date | None = None) -> Path:
    """The tenant's report written to `path` under a temporary name, then renamed: a reader
    opens the previous report or the new one, never half of one."""
    html = report_html(con, tenant_id, as_of)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(html)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def browser() -> str | None:
    """A headless-capable Chromium on the PATH, if the machine has one."""
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def preview_png(html: Path, png: Path, width: int = 1100, height: int = 1400) -> Path | None:
    """A screenshot of the report's first screen at half scale (a thumbnail for the Dagster
    UI), taken by a headless Chromium; None when there is no browser, it is switched off
    ($CRM_REPORT_PREVIEW=0), or the browser fails: a preview never fails a run."""
    exe = browser()
    if exe is None or os.environ.get(PREVIEW_ENV, "1") == "0":
        return None
    tmp = png.with_name(f".{png.name}.{os.getpid()}-{secrets.token_hex(4)}.png")
    with tempfile.TemporaryDirectory(prefix="crm-preview-") as profile:
        command = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                   "--no-first-run", f"--user-data-dir={profile}",
                   "--force-device-scale-factor=0.5", f"--window-size={width},{height}",
                   "--virtual-time-budget=5000", f"--screenshot={tmp}", html.resolve().as_uri()]
        try:
            subprocess.run(command, capture_output=True, timeout=PREVIEW_SECONDS, check=False)
        except (OSError, subprocess.SubprocessError):
            tmp.unlink(missing_ok=True)
            return None
    if not tmp.is_file() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        return None
    os.replace(tmp, png)
    return png
