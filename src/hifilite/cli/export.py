"""`hifilite export`: ONNX (fp32, optionally int8) with a JSON sidecar, usable without hifilite's torch code."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import ConfigError
from ..console import console, stdout_console
from ._app import app
from ._options import CalibrationMethod, opset as opset_option
from ._options import output_file, refuse_overwriting



@app.command("export")
def export_cmd(
    model: str = typer.Argument(..., help="Model name (lj-v1, v1, v2, v3, lite, ...), .safetensors, checkpoint or run folder."),
    out: Path = typer.Option(..., "-o", "--out", help="Output .onnx file; the sidecar goes beside it as .json. "
                             "Checked before exporting; a path that would replace the model's own files is refused."),
    opset: int = typer.Option(17, callback=opset_option, help="ONNX opset (fixed in the file; 17 or later)."),
    check: bool = typer.Option(True, help="Refuse the export if ONNX Runtime and PyTorch differ by more than 1e-4."),
    int8: bool = typer.Option(False, "--int8", help="Also write an int8 model (static QDQ, per-channel) as <out>-int8.onnx."),
    calibration: Optional[Path] = typer.Option(None, help="Folder of recordings (or .npy mels) for int8 calibration and evaluation."),
    calibration_items: int = typer.Option(32, min=1, help="Files (sorted) used for calibration."),
    eval_items: int = typer.Option(8, min=0, help="Following files used to measure the int8 quality drop (0: skip)."),
    keep_fp32: str = typer.Option("conv_pre,ups.0,conv_post,istft", help="Comma-separated layers left in fp32 (empty: quantise all)."),
    method: CalibrationMethod = typer.Option(CalibrationMethod.minmax, help="Calibration: minmax, entropy or percentile."),
    threads: int = typer.Option(1, min=1, help="Threads for the int8 speed comparison."),
) -> None:
    """Export a vocoder to ONNX: weight norm fused, input `mel` (batch, n_mels, frames), output
    `audio` (batch, samples), dynamic time axis, fixed opset, JSON sidecar with the mel settings."""
    if int8 and calibration is None:
        raise ConfigError("--int8 needs --calibration DIR (recordings the int8 ranges are measured on)")
    if calibration is not None and not int8:
        raise ConfigError("--calibration is only used with --int8")
    import torch

    from ..deploy.export import export_onnx
    from ..runtime.sidecar import read_sidecar, sidecar_path
    from ..registry import resolve

    sources = resolve(model, "vocoder").files
    output_file(out, inputs=sources)
    int8_out = out.with_name(out.stem + "-int8.onnx")
    refuse_overwriting([sidecar_path(out), *([int8_out, sidecar_path(int8_out)] if int8 else [])], sources,
                       "choose another output path")
    torch.set_num_threads(threads)
    onnx_path, side = export_onnx(model, out, opset=opset, check=check)
    meta = read_sidecar(side, kind="vocoder")
    diff = meta["parity_max_abs_diff"]
    console.print(f"wrote {onnx_path} and {side} (receptive field {meta['receptive_field_frames']} frames"
                  + (f", ONNX vs PyTorch max diff {diff:.2g})" if diff is not None else ")"), highlight=False)
    if not int8:
        return

    from ..deploy.quantize import audio_files, load_mels, quantize_int8
    from ..evaluate.int8 import int8_report
    from ..runtime.sidecar import write_sidecar
    from ..runtime import OnnxVocoder

    files = audio_files(calibration)
    calib_files = files[:calibration_items]
    eval_files = [f for f in files[calibration_items:calibration_items + eval_items] if f.suffix != ".npy"]
    keep = tuple(k.strip() for k in keep_fp32.split(",") if k.strip())
    voc = OnnxVocoder(onnx_path, threads=threads)
    console.print(f"calibrating on {len(calib_files)} file(s) from {calibration} ...", highlight=False)
    q_path, q_side = quantize_int8(onnx_path, int8_out,
                                   load_mels(calib_files, voc), keep_fp32=keep, method=method.value)
    console.print(f"wrote {q_path} and {q_side}", highlight=False)
    if not eval_files:
        console.print("no evaluation files left after calibration: quality not measured", highlight=False)
        return
    report = int8_report(onnx_path, q_path, eval_files, threads=threads)
    q_meta = read_sidecar(q_side, kind="vocoder")
    q_meta["quality"] = {k: v for k, v in report.items() if k != "per_item"}
    q_meta["quality"]["eval_files"] = [f.name for f in eval_files]
    write_sidecar(q_side, q_meta)
    from rich.table import Table

    table = Table(title=f"int8 vs fp32 on {report['items']} held-out file(s), {threads} thread(s)")
    for col in ("", "PESQ", "log-mel L1", "×real-time", "MB"):
        table.add_column(col, justify="right")
    table.add_row("fp32", f"{report['pesq_fp32']:.3f}", f"{report['mel_l1_fp32']:.3f}",
                  f"{report['fp32_rtf_x']:.1f}", f"{report['size_fp32_mb']:.1f}")
    table.add_row("int8", f"{report['pesq_int8']:.3f}", f"{report['mel_l1_int8']:.3f}",
                  f"{report['int8_rtf_x']:.1f}", f"{report['size_int8_mb']:.1f}")
    stdout_console.print(table)
    stdout_console.print(f"PESQ drop {report['pesq_drop']:+.3f}, speed-up ×{report['speedup']:.2f} "
                    f"(kept fp32: {', '.join(keep) or 'nothing'})", highlight=False)
