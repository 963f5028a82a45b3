"""Learning curve of a vocoder training run: quality of every kept checkpoint against the CPU time
the run had spent to reach it.

    python benchmarks/vocoder_curve.py RUN --data ktuberling=/work/corpora/ktuberling \\
        --data joe=/work/corpora/joe3k [--limit 40] [--spread] [--every 1000] [--pitch] [--out DIR]

RUN is a `hifilite train` / `hifilite compress distil` folder. Each `RUN/checkpoints/step_*.pt` is
read with `weights_only=True`, its generator weights are put into the run's exported generator
(`RUN/generator.safetensors`, which gives the architecture) and written to a temporary file, and
every checkpoint is scored on the same clips of each data set's test split (`--spread`: taken in
turn from each speaker). The time axis is what the checkpoint recorded: `cpu_seconds` (process CPU
time of the training loop, all its threads, summed across resumes) and `train_seconds` (wall clock).
Checkpoints written before the training loop recorded them have no time and are plotted by step only.
Writes OUT/<run name>_curve.{json,md,png} (default benchmarks/results).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from students import named_sets, spread  # noqa: E402


def checkpoint_generators(run: Path, every: int, workdir: Path) -> list[dict]:
    """[{step, cpu_seconds, train_seconds, path}] for the kept checkpoints whose step is a multiple
    of `every`, each written as a loadable generator file under `workdir`."""
    from hifilite.errors import ConfigError
    from hifilite.train.state import list_checkpoints, load_checkpoint
    from hifilite.vocoder.checkpoint import load_generator, save_generator

    exported = run / "generator.safetensors"
    if not exported.is_file():
        raise ConfigError(f"{run} has no generator.safetensors: not a vocoder training run")
    gen, gen_config, mel, _ = load_generator(exported, keep_weight_norm=True)
    rows = []
    for step, path in list_checkpoints(run):
        if step % every:
            continue
        ckpt = load_checkpoint(path)
        gen.load_state_dict(ckpt["task"]["generator"])
        out = workdir / f"step_{step:08d}.safetensors"
        save_generator(out, gen, gen_config, mel, extra={"step": step})
        rows.append({"step": step, "cpu_seconds": ckpt.get("cpu_seconds"),
                     "train_seconds": ckpt.get("train_seconds"), "path": str(out)})
    if not rows:
        raise ConfigError(f"{run} keeps no checkpoint at a multiple of {every} steps")
    return rows


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    rows = result["checkpoints"]
    timed = all(r["cpu_seconds"] is not None for r in rows)
    xs = [r["cpu_seconds"] / 3600 if timed else r["step"] for r in rows]
    for name, q in result["quality"].items():
        ax.plot(xs, [s["pesq"] for s in q["per_checkpoint"]], marker="o", label=f"{name} ({q['clips']} clips)")
        for ref, value in q.get("references", {}).items():
            ax.axhline(value, linestyle="--", linewidth=0.8, color="grey")
            ax.annotate(f"{ref} ({name})", (xs[0], value), fontsize=7, va="bottom")
    ax.set_xlabel("training CPU-hours" if timed else "training step")
    ax.set_ylabel("PESQ-wb")
    ax.set_title(Path(result["run"]).name)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    from rich.console import Console

    from hifilite.data.corpora import load_split
    from hifilite.measure import machine_info
    from hifilite.evaluate.runner import evaluate_models

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--data", action="append", default=[], metavar="NAME=CORPUS")
    ap.add_argument("--limit", type=int, default=40, help="Test clips per data set.")
    ap.add_argument("--spread", action="store_true", help="Take the clips across speakers.")
    ap.add_argument("--every", type=int, default=1, help="Score checkpoints whose step is a multiple of this.")
    ap.add_argument("--reference", nargs="*", default=[], help="Models scored once as horizontal lines.")
    ap.add_argument("--pitch", action="store_true", help="Also the torchcrepe periodicity RMSE and median pitch "
                    "error (cents) of every checkpoint.")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    args.seen, args.unseen = None, []
    sets = named_sets(args)
    console = Console(stderr=True)
    result: dict = {"run": str(args.run), "machine": machine_info(),
                    "command": "python benchmarks/vocoder_curve.py " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
                    "quality": {}}
    with tempfile.TemporaryDirectory(prefix="hifilite-curve-") as tmp:
        rows = checkpoint_generators(args.run, max(1, args.every), Path(tmp))
        result["checkpoints"] = [{k: v for k, v in r.items() if k != "path"} for r in rows]
        paths = [r["path"] for r in rows]
        for name, corpus in sets.items():
            utts = load_split(corpus, "test")
            chosen = spread(utts, args.limit) if args.spread else utts[: args.limit]
            res = evaluate_models(paths + args.reference, corpus, split="test",
                                  metrics=["pesq", "periodicity"] if args.pitch else ["pesq"],
                                  console=console, utterances=chosen)
            label = {m["spec"]: m["label"] for m in res.info["models"]}  # spec -> the summary's key
            keys = ("pesq", "periodicity", "crepe_cents") if args.pitch else ("pesq",)
            scores = {spec: {k: res.summary[label[spec]][k]["mean"] for k in keys} for spec in label}
            pesq = {spec: v["pesq"] for spec, v in scores.items()}
            result["quality"][name] = {
                "corpus": str(corpus), "clips": len(chosen),
                "per_checkpoint": [{"step": r["step"], **scores[r["path"]]} for r in rows],
                "references": {m: pesq[m] for m in args.reference},
                "reference_scores": {m: scores[m] for m in args.reference},
            }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"{args.run.name}_curve"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2, default=float))
    names = list(result["quality"])
    cols = [(n, k) for n in names for k in ("pesq", "periodicity", "crepe_cents")
            if k in result["quality"][n]["per_checkpoint"][0]]
    heads = {"pesq": "PESQ", "periodicity": "periodicity RMSE", "crepe_cents": "median cents"}
    lines = ["| step | CPU-hours | wall hours | " + " | ".join(f"{heads[k]} {n}" for n, k in cols) + " |",
             "|---:|---:|---:|" + "---:|" * len(cols)]
    for i, r in enumerate(result["checkpoints"]):
        cpu = f"{r['cpu_seconds'] / 3600:.2f}" if r["cpu_seconds"] is not None else "–"
        wall = f"{r['train_seconds'] / 3600:.2f}" if r["train_seconds"] is not None else "–"
        vals = [f"{result['quality'][n]['per_checkpoint'][i][k]:.3f}" for n, k in cols]
        lines.append(f"| {r['step']} | {cpu} | {wall} | " + " | ".join(vals) + " |")
    for n in names:
        for ref, v in result["quality"][n]["reference_scores"].items():
            lines.append(f"\n{ref} on {n}: " + ", ".join(f"{heads[k]} {x:.3f}" for k, x in v.items()))
    lines += ["", f"Machine: {result['machine'].get('cpu', '')}; regenerate with `{result['command']}`."]
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    plot(result, stem.with_suffix(".png"))
    console.print("\n".join(lines))


if __name__ == "__main__":
    main()
