"""MAC counting (exact, on hand-computed layers) and the speed/size bench (CPU, ~20 s)."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from hifilite.config import GENERATOR_PRESETS
from hifilite.errors import ConfigError, ModelNotFoundError
from hifilite.evaluate.bench import bench_models, bench_table, markdown_table
from hifilite.evaluate.macs import count_macs, count_macs_by_layer, macs_per_second
from hifilite.vocoder.generator import Generator

# (layer, input shape, MACs worked out by hand)
KNOWN = [
    # out length 8; each output: 4/2 input channels x 3 taps; 6 outputs channels
    (nn.Conv1d(4, 6, 3, groups=2), (1, 4, 10), 6 * 8 * 2 * 3),
    # dilation 2, padding 2: out length 10, still 2 x 3 taps per output
    (nn.Conv1d(2, 3, 3, dilation=2, padding=2), (1, 2, 10), 3 * 10 * 2 * 3),
    # depthwise, batch 2: 8 channels x 20 samples x 5 taps, x2
    (nn.Conv1d(8, 8, 5, padding=2, groups=8), (2, 8, 20), 2 * 8 * 20 * 5),
    # stride 2: out length 4 (=(10-3)//2+1)
    (nn.Conv1d(3, 5, 3, stride=2), (1, 3, 10), 5 * 4 * 3 * 3),
    # transposed, stride 2: every input sample goes through 6 x 4 weights (out length 20)
    (nn.ConvTranspose1d(4, 6, 4, stride=2, padding=1), (1, 4, 10), 4 * 10 * 6 * 4),
    # grouped transposed: 6 / 2 = 3 output channels per input channel
    (nn.ConvTranspose1d(4, 6, 4, stride=2, groups=2), (1, 4, 10), 4 * 10 * 3 * 4),
    # 2-D: out 8 x 8, kernel 3 x 5 over 3 channels, 8 filters
    (nn.Conv2d(3, 8, (3, 5)), (1, 3, 10, 12), 8 * 8 * 8 * 3 * 15),
    # Linear on (2, 5, 10): 70 outputs x 10 inputs
    (nn.Linear(10, 7), (2, 5, 10), 2 * 5 * 7 * 10),
]


@pytest.mark.parametrize("layer,shape,expected", KNOWN, ids=[type(k[0]).__name__ + str(i) for i, k in enumerate(KNOWN)])
@pytest.mark.parametrize("meta", [True, False])
def test_mac_counter_is_exact_on_known_layers(layer, shape, expected, meta):
    assert count_macs(layer, torch.zeros(shape), meta=meta) == expected


def test_mac_counter_follows_the_forward_pass():
    """A layer called twice counts twice; bias, activations and residuals are not counted."""

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(2, 2, 3, padding=1)
            self.unused = nn.Linear(100, 100)

        def forward(self, x):
            return torch.relu(self.conv(self.conv(x)) + x)

    by_layer = count_macs_by_layer(Twice(), torch.zeros(1, 2, 10))
    assert by_layer == {"conv": 2 * (2 * 10 * 2 * 3)}


def test_v1_macs_per_second_matches_the_paper_figure():
    """DESIGN.md: V1 spends ~26.5 GMAC per second of audio, ~97 % of it in the resblocks."""
    gen = Generator.from_config(GENERATOR_PRESETS["v1"])
    mps = macs_per_second(gen, sample_rate=22050, hop_length=gen.hop_length)
    assert mps == pytest.approx(26.5e9, rel=0.02)
    by_layer = count_macs_by_layer(gen, torch.zeros(1, 80, 32))
    share = sum(v for k, v in by_layer.items() if k.startswith("resblocks")) / sum(by_layer.values())
    assert 0.95 < share < 0.99


def test_smaller_presets_cost_less():
    mps = {}
    for name in ("v2", "v3"):
        gen = Generator.from_config(GENERATOR_PRESETS[name])
        mps[name] = macs_per_second(gen, sample_rate=22050, hop_length=gen.hop_length)
    assert 1e9 < mps["v2"] < mps["v3"] < 3e9


def tiny_generator() -> Generator:
    return Generator(upsample_initial_channel=32, upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
                     resblock="2", resblock_kernel_sizes=(3,), resblock_dilation_sizes=((1, 3),))


def test_bench_isolated_process_returns_sane_numbers():
    gen = tiny_generator()
    rows = bench_models([gen], threads=1, seconds=1.0, repeats=2, warmup=1)
    assert len(rows) == 1
    r = rows[0]
    expected_params = sum(p.numel() for p in tiny_generator().remove_weight_norm().parameters())
    assert r["params"] == expected_params
    assert r["isolated"] is True and r["threads"] == 1
    assert r["frames"] == 87 and r["audio_seconds"] == pytest.approx(87 * 256 / 22050)
    assert len(r["times_s"]) == 2 and all(t > 0 for t in r["times_s"])
    assert r["x_real_time"] == pytest.approx(r["audio_seconds"] / r["median_s"])
    assert r["macs_per_second"] == macs_per_second(tiny_generator(), sample_rate=22050, hop_length=256)
    assert r["rss_peak_mb"] > r["infer_peak_mb"] >= 0 and r["rss_loaded_mb"] > 50  # torch is loaded
    # the caller's module is untouched: weight norm still in place
    assert hasattr(gen.conv_pre, "parametrizations")


def test_bench_by_name_in_process_and_tables():
    rows = bench_models(["v3", tiny_generator()], seconds=0.5, repeats=1, warmup=0, isolate=False)
    assert [r["model"] for r in rows] == ["v3", "Generator"]
    assert rows[0]["params"] == pytest.approx(1.46e6, rel=0.01)  # fused weight norm
    assert all(r["isolated"] is False for r in rows)
    md = markdown_table(rows)
    assert md.count("\n") == 4 and "| v3 | 1.46 M |" in md
    assert bench_table(rows).row_count == 2


def test_bench_errors():
    with pytest.raises(ModelNotFoundError):
        bench_models(["no-such-model"], isolate=False)
    with pytest.raises(ConfigError):
        bench_models(["v3"], threads=0)
    with pytest.raises(ConfigError):
        bench_models([])


def test_bench_cli_writes_json(tmp_path):
    from typer.testing import CliRunner

    from hifilite.cli import app

    path = tmp_path / "bench.json"
    r = CliRunner().invoke(app, ["bench", "--model", "v2", "--seconds", "0.5", "--repeats", "1",
                                 "--warmup", "0", "--json", str(path)])
    assert r.exit_code == 0, r.output
    doc = json.loads(path.read_text())
    assert doc["settings"]["threads"] == 1 and doc["machine"]["cpu_count"] >= 1
    assert doc["results"][0]["model"] == "v2" and doc["results"][0]["x_real_time"] > 0
