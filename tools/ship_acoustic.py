"""Ship a trained acoustic model by name: `python tools/ship_acoustic.py RUN NAME --command "..."`.

Loads RUN (a run folder or acoustic.safetensors) and writes src/hifilite/assets/NAME.safetensors
with the exact training command, the step and the data in its metadata; `load_acoustic(NAME)` and
`hifilite tts --model NAME` then find it (see hifilite/registry.py). Refuses files over
--max-mb (default 10).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from hifilite.acoustic.checkpoint import load_acoustic, save_acoustic
from hifilite.registry import ASSETS


def ship(run: str | Path, name: str, *, command: str, data: str = "", assets: Path = ASSETS,
         max_mb: float = 10.0) -> Path:
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name):
        raise SystemExit(f"name {name!r}: use lower-case letters, digits, '.', '_' or '-'")
    loaded = load_acoustic(run)
    extra = {**loaded.extra, "name": name, "command": command, "data": data}
    out = save_acoustic(Path(assets) / f"{name}.safetensors", loaded.model, symbols=loaded.symbols,
                        stats=loaded.stats, mel=loaded.mel, extra=extra)
    size = out.stat().st_size / 1e6
    if size > max_mb:
        out.unlink()
        raise SystemExit(f"{out}: {size:.1f} MB is over the {max_mb} MB limit for shipped models")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("name")
    ap.add_argument("--command", required=True, help="The exact command that trained RUN.")
    ap.add_argument("--data", default="", help="What it was trained on.")
    ap.add_argument("--max-mb", type=float, default=10.0)
    args = ap.parse_args()
    out = ship(args.run, args.name, command=args.command, data=args.data, max_mb=args.max_mb)
    m = load_acoustic(out).model
    print(f"{out}: {m.num_parameters():,} params, {out.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
