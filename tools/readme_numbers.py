"""Copy a report's tables into a page (README.md or docs/*.md) between `<!-- NAME:begin -->` / `<!-- NAME:end -->` markers.

    make demo && .venv/bin/python tools/readme_numbers.py demo_out/report.md docs/results.md
    .venv/bin/python tools/readme_numbers.py RUN/report.md docs/compression.md --section compress

Everything of the report up to its first image section (spectrograms, Pareto plot) is copied, with
headings moved one level down.
"""

import argparse
import re
import sys
from pathlib import Path

ap = argparse.ArgumentParser()
ap.add_argument("report", type=Path)
ap.add_argument("readme", type=Path)
ap.add_argument("--section", default="demo")
args = ap.parse_args()
body = args.report.read_text().split("\n", 2)[2]  # drop the report title
body = re.split(r"\n## (?:Spectrograms|Search: Pareto front|Audio)", body)[0].replace("## ", "### ").strip()
text = args.readme.read_text()
begin, end = f"<!-- {args.section}:begin -->", f"<!-- {args.section}:end -->"
if begin not in text or end not in text:
    sys.exit(f"{args.readme} has no {args.section} markers")
new = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda m: f"{begin}\n{body}\n{end}", text, flags=re.S)
args.readme.write_text(new)
