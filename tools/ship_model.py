"""Ship a trained vocoder as a named model: `python tools/ship_model.py RUN NAME --command "..."`.

Loads RUN (a run folder or .safetensors), fuses weight norm, and writes
src/hifilite/assets/NAME.safetensors with the producing command, the step and the data recorded in
its metadata; `hifilite.load_vocoder(NAME)` then finds it (see hifilite/registry.py; add a line to
its DESCRIPTIONS).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hifilite.vocoder.api import load_vocoder
from hifilite.registry import ASSETS
from hifilite.vocoder.checkpoint import load_generator, save_generator


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("name")
    ap.add_argument("--command", required=True, help="The exact command that trained RUN.")
    ap.add_argument("--data", default="", help="What it was trained on.")
    args = ap.parse_args()
    src = Path(args.run)
    ckpt = src / "generator.safetensors" if src.is_dir() else src
    trained = load_generator(ckpt)[3]  # the training run's metadata (step, task)
    voc = load_vocoder(ckpt)  # weight norm fused
    out = save_generator(ASSETS / f"{args.name}.safetensors", voc.generator, voc.gen_config, voc.mel_config,
                         extra={"name": args.name, "command": args.command, "data": args.data, **trained})
    print(f"{out}: {voc.num_parameters():,} params, {out.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
