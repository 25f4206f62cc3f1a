"""The Vega, Vega-Lite and vega-embed JavaScript, bundled by vl-convert for pages that must
draw charts offline (no CDN). Bundling takes seconds, so the bundle is kept in a cache folder
per vl-convert version (and in memory for the process)."""

from __future__ import annotations

import os
import secrets
from functools import cache
from pathlib import Path


def cache_dir() -> Path:
    """Where the bundle is kept: $CRM_CACHE_DIR, else $XDG_CACHE_HOME/atlas-crm, else
    ~/.cache/atlas-crm (shared by every home of the user: it depends on the package only)."""
    chosen = os.environ.get("CRM_CACHE_DIR")
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "atlas-crm"


def bundle_name() -> str:
    import vl_convert  # a large native module: loaded when a report is made, not before

    versions = f"{vl_convert.__version__}-vl{vl_convert.get_vegalite_versions()[-1]}"
    return f"vega-bundle-{versions}.js"


@cache
def vega_bundle() -> str:
    """The bundle's text, with `</script` escaped so it can sit inside a script element."""
    path = cache_dir() / bundle_name()
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        pass
    import vl_convert

    text = vl_convert.javascript_bundle().replace("</script", "<\\/script")
    try:  # written under a fresh name and renamed: a concurrent reader sees all or nothing
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache: the bundle is made again by the next process
    return text
