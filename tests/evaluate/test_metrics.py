"""Quality metrics and the evaluation runner on synthetic, speech-like signals (CPU, ~20 s)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import soundfile as sf

from hifilite.errors import ConfigError
from hifilite.evaluate import metrics as M

SR = 22050


def voiced(seconds: float = 2.0, sr: int = SR, f0: float = 120.0, seed: int = 0) -> np.ndarray:
    """A vowel-like test signal: harmonics of a gliding f0, syllable-rate envelope, faint noise.

    PESQ's utterance detector and STOI's silence removal need speech-like energy bursts; a
    stationary tone would be rejected or score oddly.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    phase = 2 * np.pi * np.cumsum(f0 + 25 * np.sin(2 * np.pi * 0.6 * t)) / sr
    x = sum(np.sin(k * phase) / k for k in range(1, 30))
    x = x * np.clip(np.sin(2 * np.pi * 2.0 * t), 0, None) ** 0.5
    return (0.4 * x / np.abs(x).max() + 1e-3 * rng.standard_normal(t.size)).astype(np.float32)


def noisy(x: np.ndarray, level: float, seed: int = 1) -> np.ndarray:
    return (x + level * np.random.default_rng(seed).standard_normal(x.size)).astype(np.float32)


INTRUSIVE = ["pesq", "stoi", "mcd", "logmel_l1", "mrstft"]


@pytest.fixture(scope="module")
def ref() -> np.ndarray:
    return voiced()


def test_identical_signals_score_perfectly(ref):
    s = M.compute_all(ref, ref.copy(), SR, INTRUSIVE)
    assert s["pesq"] == pytest.approx(4.64, abs=0.05)
    assert s["stoi"] == pytest.approx(1.0, abs=1e-4)
    assert s["mcd"] == pytest.approx(0.0, abs=1e-9)
    assert s["logmel_l1"] == pytest.approx(0.0, abs=1e-9)
    assert s["mrstft"] == pytest.approx(0.0, abs=1e-5)


def test_metrics_get_worse_monotonically_with_noise(ref):
    levels = [0.002, 0.01, 0.05, 0.2]
    scores = [M.compute_all(ref, noisy(ref, lv), SR, INTRUSIVE) for lv in levels]
    for name in INTRUSIVE:
        seq = [s[name] for s in scores]
        steps = np.diff(seq) if M.HIGHER_IS_BETTER[name] else -np.diff(seq)
        assert (steps < 0).all(), f"{name} is not monotonic in the noise level: {seq}"
    assert scores[0]["pesq"] < 4.5  # even faint noise is audible to PESQ
    assert scores[-1]["stoi"] < scores[0]["stoi"] - 0.1


def test_mcd_formula_on_known_cepstra(ref):
    """A gain change moves only c0, which MCD excludes; a spectral tilt moves c1.. and counts."""
    assert M.mcd(ref, 0.5 * ref, SR) == pytest.approx(0.0, abs=0.05)
    tilted = np.diff(ref, prepend=0).astype(np.float32)  # +6 dB/octave
    assert M.mcd(ref, tilted, SR) > 1.0
    c = M.mel_cepstrum(ref, SR)
    assert c.shape[1] == M.MCD_ORDER + 1


def test_length_mismatch_is_trimmed_to_the_shorter(ref):
    est = noisy(ref, 0.01)
    base = M.compute_all(ref, est, SR, INTRUSIVE)
    shorter = M.compute_all(ref, est[:-300], SR, INTRUSIVE)  # vocoder output: frames * hop
    longer = M.compute_all(ref[:-300], est, SR, INTRUSIVE)
    assert shorter == longer
    for name in INTRUSIVE:
        assert math.isfinite(shorter[name])
        assert shorter[name] == pytest.approx(base[name], rel=0.05, abs=0.02)


def test_accepts_torch_tensors_of_shape_1_T(ref):
    import torch

    a = M.compute_all(torch.from_numpy(ref)[None], torch.from_numpy(ref)[None], SR, ["mcd", "logmel_l1"])
    assert a == {"mcd": 0.0, "logmel_l1": 0.0}
    with pytest.raises(ValueError):
        M.compute_all(np.zeros((2, 100)), np.zeros(100), SR, ["mcd"])


def test_too_short_or_silent_gives_nan_with_a_reason(ref):
    short = ref[: int(0.1 * SR)]
    with pytest.warns(M.MetricWarning, match="pesq: signal too short"):
        assert math.isnan(M.pesq_wb(short, short, SR))
    with pytest.warns(M.MetricWarning, match="stoi"):
        assert math.isnan(M.stoi(short, short, SR))
    with pytest.warns(M.MetricWarning, match="mrstft"):
        assert math.isnan(M.mrstft_distance(ref[:800], ref[:800]))
    with pytest.warns(M.MetricWarning, match="pesq: silent"):
        assert math.isnan(M.pesq_wb(ref, np.zeros_like(ref), SR))
    with pytest.warns(M.MetricWarning, match="dnsmos: empty"):
        assert all(math.isnan(v) for v in M.dnsmos(np.zeros(0, np.float32), SR).values())


def test_pesq_no_utterance_is_nan_not_a_crash():
    """A 20 Hz hum has no energy in PESQ's speech band: its detector raises NoUtterancesError."""
    hum = (0.5 * np.sin(2 * np.pi * 20 * np.arange(SR) / SR)).astype(np.float32)
    with pytest.warns(M.MetricWarning, match="pesq: NoUtterancesError"):
        assert math.isnan(M.pesq_wb(hum, hum, SR))


def test_dnsmos_clips_and_prefers_clean_speech(ref):
    clean = M.dnsmos(1.5 * ref, SR)  # out of [-1, 1]: speechmos alone would raise
    assert set(clean) == {"ovrl", "sig", "bak", "p808"}
    assert all(1.0 <= v <= 5.0 for v in clean.values())
    dirty = M.dnsmos(noisy(ref, 0.2), SR)
    assert dirty["bak"] < clean["bak"] and dirty["ovrl"] < clean["ovrl"]


def test_other_sample_rates_and_unknown_metrics(ref):
    from hifilite.audio import resample

    x16 = resample(ref, SR, 16000)
    s = M.compute_all(x16, noisy(x16, 0.01), 16000, ["pesq", "logmel_l1", "mcd"])
    assert all(math.isfinite(v) and v > 0 for v in s.values())
    assert M.frontend_params(16000)["n_fft"] == 1024 and M.frontend_params(44100)["n_fft"] == 2048
    with pytest.raises(ConfigError, match="unknown metric"):
        M.compute_all(ref, ref, SR, ["pesq", "sisdr"])


# ----------------------------------------------------------------------------------- runner


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A folder corpus: 3 test utterances (one of them a corrupt file) and 1 training one."""
    root = tmp_path_factory.mktemp("corpus")
    (root / "spk").mkdir()
    for i, seconds in enumerate([1.2, 1.5, 1.0]):
        sf.write(root / "spk" / f"u{i}.wav", voiced(seconds, f0=100 + 20 * i, seed=i), SR)
    (root / "spk" / "bad.wav").write_bytes(b"RIFF....not audio at all")
    split = {"train": ["spk/u2"], "val": [], "test": ["spk/bad", "spk/u0", "spk/u1"]}
    (root / "splits.json").write_text(json.dumps(split))
    return root


def test_evaluate_models_rows_summary_and_files(corpus, tmp_path):
    from hifilite.evaluate.runner import REFERENCE, evaluate_models

    out = tmp_path / "eval"
    res = evaluate_models(["v3"], corpus, split="test", out_dir=out, save_audio=True,
                          metrics=["pesq", "mcd", "dnsmos"])
    models = [r["model"] for r in res.rows]
    assert models == [REFERENCE] * 3 + ["v3"] * 3
    bad = [r for r in res.rows if r["id"] == "spk/bad"]
    assert all(r["notes"] and math.isnan(r["dnsmos_ovrl"]) for r in bad)  # recorded, not raised
    good = [r for r in res.rows if r["model"] == "v3" and r["id"] != "spk/bad"]
    assert all(1.0 <= r["pesq"] < 2.5 and r["mcd"] > 0 for r in good)  # random weights: poor
    s = res.summary["v3"]
    assert s["n"] == 3 and s["pesq"]["n_nan"] == 1 and s["mcd"]["n_nan"] == 1
    assert s["pesq"]["mean"] == pytest.approx(np.mean([r["pesq"] for r in good]))
    assert set(res.summary[REFERENCE]) == {"n", "dnsmos_ovrl", "dnsmos_sig", "dnsmos_bak", "dnsmos_p808"}

    doc = json.loads((out / "results.json").read_text(), parse_constant=pytest.fail)  # no NaN
    assert doc["info"]["data"]["utterances"] == 3 and doc["info"]["models"][0]["label"] == "v3"
    assert len(doc["utterances"]) == 6
    csv_lines = (out / "results.csv").read_text().splitlines()
    assert csv_lines[0].startswith("model,id,speaker,duration_s,pesq,mcd,dnsmos_ovrl")
    assert len(csv_lines) == 7
    wav, sr = sf.read(out / "audio" / "v3" / "spk" / "u0.wav")
    assert sr == SR and len(wav) == int(1.2 * SR)  # the whole recording: input padded to whole frames, output trimmed
    assert (out / "audio" / REFERENCE / "spk" / "u1.wav").is_file()


def test_evaluate_cli(corpus, tmp_path):
    from typer.testing import CliRunner

    from hifilite.cli import app

    out = tmp_path / "cli"
    r = CliRunner().invoke(app, ["evaluate", "--model", "v2", "--data", str(corpus), "--limit", "2",
                                 "--metric", "mcd", "--out", str(out)])
    assert r.exit_code == 0, r.output
    doc = json.loads((out / "results.json").read_text())
    assert [u["id"] for u in doc["utterances"]] == ["spk/bad", "spk/u0"]
    assert "MCD" in r.output

    r = CliRunner().invoke(app, ["evaluate", "--model", "v2", "--data", str(corpus), "--save-audio"])
    assert r.exit_code != 0 and isinstance(r.exception, ConfigError)
