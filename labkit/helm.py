"""Where helm and the pinned charts are found, for the chart tests and the hub benches alike.

Charts: `$OBSFLEET_CHARTS`, else `~/.cache/obsfleet/charts`, holding `<chart>-<version>/` folders as
`helm pull --untar` leaves them (docs/charts.md). helm: on PATH, else where tests/run.sh installs it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Optional

DEFAULT_CACHE = Path.home() / ".cache" / "obsfleet" / "charts"
HELM_CACHE = Path.home() / ".cache" / "obsfleet" / "bin" / "helm"
"""Where tests/run.sh installs helm when it is not on PATH."""


def cache_dir() -> Path:
    return Path(os.environ.get("OBSFLEET_CHARTS") or DEFAULT_CACHE)


def helm_binary() -> Optional[str]:
    return shutil.which("helm") or (str(HELM_CACHE) if HELM_CACHE.is_file() else None)
