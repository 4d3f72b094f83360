"""`python -m review regions`: the region catalog (components/regions.py) as JSON or a table."""

from __future__ import annotations

import argparse
import json

from components.regions import Cloud, Regime, UnknownRegime, catalog_rows, locate
from review.errors import BadInput, ExitCode

FORMATS = ("json", "table", "text")  # text: the table, under the name every subcommand accepts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cloud",
        choices=[c.value for c in Cloud],
        help="only this cloud's locations (default: both)",
    )
    parser.add_argument(
        "--regime",
        metavar="NAME",
        help="only locations whose every country is inside this regime's default countries "
        f"({', '.join(sorted(r.value for r in Regime))})",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="json",
        help="json: an array of {cloud, region, country, regimes} (dual/multi-regions add kind "
        "and countries); table (or text): aligned columns for people (default: json)",
    )


def _table(rows: list[dict]) -> str:
    # Countries last and unpadded: the EU multi-region's 27 would widen every line.
    header = ("CLOUD", "REGION", "KIND", "REGIMES", "DESCRIPTION", "COUNTRIES")
    lines = [header] + [
        (
            row["cloud"],
            row["region"],
            row.get("kind", "region"),
            ",".join(row["regimes"]) or "-",
            locate(row["cloud"], row["region"]).description,
            row["country"] or ",".join(row["countries"]),
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths)) + "  " + line[-1]
        for line in lines
    )


def run(args: argparse.Namespace) -> int:
    try:
        rows = catalog_rows(cloud=args.cloud, regime=args.regime)
    except UnknownRegime as err:
        raise BadInput(str(err)) from None
    print(json.dumps(rows, indent=2) if args.format == "json" else _table(rows))
    return ExitCode.OK
