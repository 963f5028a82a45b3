"""Copy the demo report's tables into README.md between the `<!-- demo:begin -->` / `<!-- demo:end -->` markers.

    make demo && .venv/bin/python tools/readme_numbers.py demo_out/report.md README.md
"""

import re
import sys
from pathlib import Path

report, readme = Path(sys.argv[1]), Path(sys.argv[2])
body = report.read_text().split("\n", 2)[2]  # drop the report title
body = body.split("## Spectrograms")[0].replace("## ", "### ").strip()
text = readme.read_text()
if "<!-- demo:begin -->" not in text or "<!-- demo:end -->" not in text:
    sys.exit("README.md has no demo markers")
new = re.sub(r"<!-- demo:begin -->.*?<!-- demo:end -->",
             lambda m: f"<!-- demo:begin -->\n{body}\n<!-- demo:end -->", text, flags=re.S)
readme.write_text(new)
