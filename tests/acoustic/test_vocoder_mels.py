"""An acoustic model's teacher-forced mels as vocoder input: written, normalised by the model, resumed,
refused when mixed, and trained on by the prior family (`hifilite train --mels npy`)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from hifilite.acoustic.checkpoint import save_acoustic
from hifilite.acoustic.models import AcousticModel, parse_arch
from hifilite.acoustic.task import config_for_corpus, model_stats
from hifilite.acoustic.vocoder_mels import INFO_NAME, write_vocoder_mels
from hifilite.cli import app
from hifilite.data.features import AcousticDataset, collate, read_stats
from hifilite.errors import DataError

ARCH = "sep5,attn2/ffn,sep9;hidden=16;ffn_filter=32;n_bins=8"


def _model(corpus, path, pitch_shift=0.0, seed=1):
    """A random acoustic model of the corpus, saved with its pitch mean moved by `pitch_shift` (as a
    model trained on another corpus of the voice would be)."""
    stats = read_stats(corpus)
    saved = model_stats(stats)
    saved["pitch"] = dict(saved["pitch"], mean=saved["pitch"]["mean"] + pitch_shift)
    torch.manual_seed(seed)
    model = AcousticModel.from_config(config_for_corpus(parse_arch(ARCH), stats)).eval()
    save_acoustic(path, model, symbols=stats["symbols"], stats=saved, mel=stats["mel"], extra={"step": 3})
    return model, saved


def test_mels_are_teacher_forced_with_the_models_statistics_and_resume(corpus, tmp_path):
    model, saved = _model(corpus, tmp_path / "m.safetensors", pitch_shift=0.5)
    info = write_vocoder_mels(tmp_path / "m.safetensors", corpus, splits=("train",), batch_size=2, progress=False)
    stats = read_stats(corpus)
    assert info["utterances"] == len(stats["splits"]["train"]) and info["step"] == 3
    ds = AcousticDataset(corpus, "train", {**stats, "pitch": saved["pitch"]})
    other = AcousticDataset(corpus, "train", stats)
    k = next(i for i in range(len(ds)) if other[i]["pitch"].abs().sum() > 0)  # a voiced utterance
    uid = ds.ids[k]
    with torch.inference_mode():
        item, plain = collate([ds[k]]), collate([other[k]])
        assert not torch.allclose(item["pitch"], plain["pitch"])  # the model's normalisation, not the corpus's
        ref = model(item["ids"], item["src_lens"], durations=item["durations"], pitch=item["pitch"],
                    energy=item["energy"])["mel"][0].numpy()
    mel = np.load(corpus / "wavs" / f"{uid}.npy")
    assert mel.shape == ref.T.shape == (80, ds[k]["mel"].shape[0])  # (n_mels, frames): the --mels npy layout
    np.testing.assert_allclose(mel, ref.T, atol=1e-5)
    # resume: a complete file is kept, a truncated one rewritten; splits accumulate in the manifest
    j = (k + 1) % len(ds)
    first, second = corpus / "wavs" / f"{uid}.npy", corpus / "wavs" / f"{ds.ids[j]}.npy"
    np.save(second, mel[:, :3])
    stamp = first.stat().st_mtime_ns
    info = write_vocoder_mels(tmp_path / "m.safetensors", corpus, splits=("test",), progress=False)
    assert info["splits"] == ["test", "train"]
    write_vocoder_mels(tmp_path / "m.safetensors", corpus, splits=("train",), progress=False)
    assert first.stat().st_mtime_ns == stamp and np.load(second).shape == mel.shape[:1] + (ds[j]["mel"].shape[0],)
    # another model's mels are not mixed in; unknown splits and other pitch extractors are errors
    _model(corpus, tmp_path / "n.safetensors", seed=2)
    with pytest.raises(DataError, match="remove"):
        write_vocoder_mels(tmp_path / "n.safetensors", corpus, progress=False)
    with pytest.raises(DataError, match="no split"):
        write_vocoder_mels(tmp_path / "m.safetensors", corpus, splits=("dev",), progress=False)
    assert json.loads((corpus / INFO_NAME).read_text())["model"] == str((tmp_path / "m.safetensors").resolve())


def test_another_pitch_extractor_is_refused(corpus, tmp_path):
    from hifilite.acoustic.vocoder_mels import model_normalised

    stats = read_stats(corpus)
    with pytest.raises(DataError, match="prepare it with"):
        model_normalised(dict(stats, pitch_backend="pyworld"), {"pitch_backend": "pyin", "pitch": stats["pitch"]},
                         "m")


def test_prior_family_trains_on_the_acoustic_models_mels(tmp_path):
    """`hifilite acoustic vocoder-mels` then `hifilite train --preset prior --mels npy`: the feature
    bank holds the acoustic-model pairs, validation uses them, the run remembers the source; a
    corpus without the mels is a clear error."""
    from hifilite.vocoder.prior_task import npy_features
    from hifilite.config import PriorConfig
    from hifilite.data.features import prepare_features
    from tests.helpers.aligned_corpus import make_aligned_corpus

    corpus = make_aligned_corpus(tmp_path / "c", n=6)
    prepare_features(corpus, progress=False)
    res = CliRunner().invoke(app, ["acoustic", "vocoder-mels", "--model", str(_model_file(corpus, tmp_path)),
                                   "--data", str(corpus)])
    assert res.exit_code == 0, res.output
    (tmp_path / "t.yaml").write_text("batch_size: 2\nvalidation_items: 1\ncheckpoint_interval: 2\nsegment_size: 2048\n")
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["train", "--preset", "prior", "--data", str(corpus), "--out", str(out), "--mels",
                                   "npy", "--versions", "1", "--steps", "2", "--config", str(tmp_path / "t.yaml"),
                                   "--device", "cpu"])
    assert res.exit_code == 0, res.output
    assert json.loads((out / "config.json").read_text())["data"]["mels"] == "npy"
    wav = corpus / "wavs" / f"{read_stats(corpus)['splits']['train'][0]}.wav"
    (mel, tgt), = npy_features([wav], PriorConfig(), None)
    np.testing.assert_allclose(mel.astype(np.float32), np.load(wav.with_suffix(".npy"))[:, :mel.shape[1]], atol=5e-3)
    assert tgt.shape == (513, mel.shape[1])
    wav.with_suffix(".npy").unlink()
    with pytest.raises(DataError, match="vocoder-mels"):
        npy_features([wav], PriorConfig(), None)


def _model_file(corpus, tmp_path):
    path = tmp_path / "tts.safetensors"
    _model(corpus, path)
    return path
