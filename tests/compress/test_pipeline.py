"""`hifilite compress run` end to end on tiny data: every stage, then resumes without redoing work."""

import json

import torch

from hifilite.config import GeneratorConfig, MelConfig
from hifilite.vocoder.generator import Generator

TEACHER = GeneratorConfig(upsample_initial_channel=32, upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
                          resblock="2", resblock_kernel_sizes=(3, 5), resblock_dilation_sizes=((1, 2), (2, 6)))


def test_compress_run_one_iteration(tmp_path):
    from typer.testing import CliRunner

    import hifilite
    from hifilite.cli import app
    from hifilite.vocoder.checkpoint import save_generator

    from tests.helpers.corpora import make_ljspeech

    torch.manual_seed(0)
    teacher = save_generator(tmp_path / "teacher.safetensors", Generator.from_config(TEACHER).eval().remove_weight_norm(),
                             TEACHER, MelConfig())
    corpus = make_ljspeech(tmp_path / "lj", seconds=0.3)
    (tmp_path / "train.yaml").write_text("batch_size: 2\nsegment_size: 2048\nnum_workers: 0\n"
                                         "validation_items: 1\ncheckpoint_interval: 1\n")
    out = tmp_path / "run"
    args = ["compress", "run", "--data", str(corpus), "-o", str(out), "--teacher", str(teacher),
            "--family", "decomposed", "--steps", "1", "--trials", "2", "--config", str(tmp_path / "train.yaml"),
            "--baselines", "v3", "--eval-utterances", "1", "--metrics", "logmel_l1,mrstft", "--bench-seconds", "0.2"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    names = [r["model"] for r in summary["table"]]
    assert {"searched", "v3-matched-scratch", "no-distil-mel", "decomposed-untrained", "searched-untuned"} <= set(names)
    params = {r["model"]: r["params"] for r in summary["table"]}  # the baseline is narrowed to the student's size
    assert abs(params["v3-matched-scratch"] - params["searched"]) < 0.35 * params["searched"]
    assert all(r["params"] > 0 and r["x_real_time"] > 0 and r["logmel_l1"] >= 0 for r in summary["table"])
    report = (out / "report.md").read_text()
    assert "Ablation" in report and "Pareto" in report and (out / "pareto.png").is_file()
    searched = hifilite.load_vocoder(out / "models" / "searched.safetensors")
    assert list(searched.gen_config.stage_ranks) == summary["chosen"]["ranks"]
    assert searched(torch.zeros(1, 80, 4) - 5).shape == (1, 1024)


def test_size_matched_baselines_keep_the_architecture():
    from hifilite.compress.pipeline import count_params, size_matched
    from hifilite.config import GENERATOR_PRESETS

    for preset, target in (("v2", 250_000), ("v3", 240_000), ("v1", 1_000_000)):
        full = GENERATOR_PRESETS[preset]
        cfg = size_matched(full, target)
        assert cfg.upsample_initial_channel % 2 ** len(full.upsample_rates) == 0
        assert abs(count_params(cfg) - target) < 0.15 * target, preset
        assert (cfg.upsample_rates, cfg.resblock, cfg.resblock_kernel_sizes) == \
            (full.upsample_rates, full.resblock, full.resblock_kernel_sizes)
        wider = size_matched(full, 2 * target)
        assert wider.upsample_initial_channel > cfg.upsample_initial_channel
