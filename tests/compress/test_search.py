"""Latency-aware search: trials run, the Pareto front is written, the study resumes from storage."""

import json

import optuna
import torch

from hifilite.compress.decompose import decompose
from hifilite.compress.search import SearchLimits, rank_choices, run_search
from hifilite.config import GeneratorConfig, MelConfig
from hifilite.vocoder.generator import Generator

SMALL = GeneratorConfig(upsample_initial_channel=32, upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
                        resblock="2", resblock_kernel_sizes=(3, 5), resblock_dilation_sizes=((1, 2), (2, 6)))


def test_rank_choices():
    assert rank_choices([16, 6]) == [[1, 2, 4, 8, 16], [1, 2, 4, 6]]


def test_search_writes_front_and_resumes(tmp_path):
    torch.manual_seed(0)
    teacher = Generator.from_config(SMALL).eval()
    supernet, cfg = decompose(teacher, SMALL, "lowrank")
    mels = [torch.randn(1, 80, 12, generator=torch.Generator().manual_seed(i)) * 2 - 5 for i in range(2)]
    kwargs = dict(supernet=supernet, config=cfg, teacher=teacher, mels=mels, mel_config=MelConfig(),
                  out_dir=tmp_path, progress=False)
    study, front = run_search(trials=3, **kwargs)
    assert len(study.trials) == 3 and front
    assert all(r["x_real_time"] > 0 and r["mel_l1"] >= 0 and len(r["ranks"]) == 3 for r in front)
    # the full-rank path reproduces the teacher, so its distance is ~0 when it was sampled
    study, front = run_search(trials=5, **kwargs)  # resumes: two more trials, same storage
    stored = optuna.load_study(study_name="hifilite-search", storage=f"sqlite:///{tmp_path / 'study.db'}")
    assert len(stored.trials) == 5
    data = json.loads((tmp_path / "pareto.json").read_text())
    assert data["trials"] == 5 and (tmp_path / "pareto.png").stat().st_size > 1000


def test_size_limit_prunes(tmp_path):
    torch.manual_seed(0)
    teacher = Generator.from_config(SMALL).eval()
    supernet, cfg = decompose(teacher, SMALL, "lowrank")
    study, _ = run_search(supernet=supernet, config=cfg, teacher=teacher, mels=[torch.zeros(1, 80, 8) - 5],
                          mel_config=MelConfig(), out_dir=tmp_path, trials=3, progress=False,
                          limits=SearchLimits(max_params=1000))
    assert all(t.state == optuna.trial.TrialState.PRUNED for t in study.trials)


def test_search_and_extract_cli(tmp_path):
    """`compress search` on a tiny corpus writes the front; `compress extract` gives a checkpoint load_vocoder runs."""
    from typer.testing import CliRunner

    import hifilite
    from hifilite.cli import app
    from hifilite.vocoder.checkpoint import save_generator

    from tests.helpers.corpora import make_ljspeech

    torch.manual_seed(0)
    teacher = Generator.from_config(SMALL).eval()
    supernet, cfg = decompose(teacher, SMALL, "lowrank")
    t_path = save_generator(tmp_path / "t.safetensors", teacher, SMALL, MelConfig())
    s_path = save_generator(tmp_path / "s.safetensors", supernet, cfg, MelConfig())
    corpus = make_ljspeech(tmp_path / "lj")
    res = CliRunner().invoke(app, ["compress", "search", "--supernet", str(s_path), "--data", str(corpus),
                                   "-o", str(tmp_path / "srch"), "--teacher", str(t_path), "--trials", "2",
                                   "--utterances", "1", "--max-params", "100000000"])
    assert res.exit_code == 0, res.output
    front = json.loads((tmp_path / "srch" / "pareto.json").read_text())["front"]
    ranks = ",".join(str(r) for r in front[0]["ranks"])
    res = CliRunner().invoke(app, ["compress", "extract", "--supernet", str(s_path), "--ranks", ranks,
                                   "-o", str(tmp_path / "sub.safetensors")])
    assert res.exit_code == 0, res.output
    voc = hifilite.load_vocoder(tmp_path / "sub.safetensors")
    assert list(voc.gen_config.stage_ranks) == front[0]["ranks"]
    assert voc(torch.zeros(1, 80, 4) - 5).shape == (1, 4 * 256)
    bad = CliRunner().invoke(app, ["compress", "extract", "--supernet", str(s_path), "--ranks", "a,b",
                                   "-o", str(tmp_path / "x.safetensors")])
    assert bad.exit_code != 0
