"""Deploy: ONNX export parity and sidecar, streaming equals offline, int8, CLI (CPU, tiny models)."""

from __future__ import annotations

import json
import struct

import numpy as np
import onnx
import pytest
import soundfile as sf
import torch
from typer.testing import CliRunner

from hifilite.cli import app
from hifilite.config import GeneratorConfig, MelConfig, to_dict
from hifilite.deploy.export import export_onnx
from hifilite.measure import stream_latency
from hifilite.deploy.quantize import MelCalibrationReader, module_nodes, quantize_int8
from hifilite.evaluate.int8 import int8_report
from hifilite.runtime.sidecar import read_sidecar
from hifilite.runtime.streaming import MelStreamer, split_frames
from hifilite.errors import ConfigError, DataError, HifiliteError, ModelNotFoundError
from hifilite.runtime import OnnxVocoder
from hifilite.vocoder.api import load_vocoder
from hifilite.vocoder.checkpoint import save_generator
from hifilite.vocoder.generator import Generator

from tests.helpers.corpora import speech_like

SR = 22050
# V2-like at a quarter of the width (upsample_initial_channel 32), and an iSTFT-head student.
TINY = {
    "v2ish": GeneratorConfig(upsample_initial_channel=32),
    "istft": GeneratorConfig(upsample_initial_channel=32, upsample_rates=(8, 8), upsample_kernel_sizes=(16, 16),
                             resblock="2", resblock_kernel_sizes=(3, 5), resblock_dilation_sizes=((1, 2), (2, 6)),
                             istft_n_fft=16, istft_hop=4),
}
CHUNKINGS = [[1], [2], [5], [3, 1, 17, 5, 2], [16], [1000]]


def make_model(tmp_path, kind: str, std: float = 0.05) -> str:
    """A random generator whose weights are large enough that the audio is far from zero."""
    torch.manual_seed(0)
    cfg = TINY[kind]
    gen = Generator.from_config(cfg)
    with torch.no_grad():
        for name, p in gen.named_parameters():
            if "original1" in name or name.endswith("weight"):  # weight-norm direction / plain weights
                p.normal_(0.0, std)
    return str(save_generator(tmp_path / f"{kind}.safetensors", gen, cfg, MelConfig()))


@pytest.fixture(scope="module", params=sorted(TINY))
def exported(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(request.param)
    model = make_model(tmp, request.param)
    onnx_path, side = export_onnx(model, tmp / "m.onnx")
    voc = load_vocoder(model)
    mel = voc.mel(speech_like(2.0))  # (1, 80, 172) from a real waveform
    return {"kind": request.param, "model": model, "onnx": onnx_path, "sidecar": side, "voc": voc, "mel": mel,
            "tmp": tmp}


def test_export_parity_on_real_mels_of_varied_length(exported):
    voc, mel = exported["voc"], exported["mel"]
    ort = OnnxVocoder(exported["onnx"], threads=1)
    for n in (1, 4, 37, 150, mel.shape[-1]):
        ref = voc.infer(mel[..., :n]).numpy()
        got = ort.generate(mel[..., :n].numpy())
        assert got.shape == ref.shape == (1, n * 256)
        assert np.abs(got - ref).max() <= 1e-4
    assert ref.std() > 0.02  # real signal, not a near-zero output that would pass any tolerance
    batch = torch.cat([mel[..., :40], mel[..., 50:90]])  # batch axis is dynamic too
    assert np.abs(ort.generate(batch.numpy()) - voc.infer(batch).numpy()).max() <= 1e-4


def test_export_graph_and_sidecar(exported):
    proto = onnx.load(str(exported["onnx"]))
    assert [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")] == [17]
    (inp,), (out,) = proto.graph.input, proto.graph.output
    assert inp.name == "mel" and out.name == "audio"
    dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    assert dims == ["batch", 80, "frames"]
    assert [d.dim_param for d in out.type.tensor_type.shape.dim] == ["batch", "samples"]
    names = " ".join(i.name for i in proto.graph.initializer)
    assert "weight_g" not in names and "original0" not in names and "parametrizations" not in names
    meta = read_sidecar(exported["sidecar"])
    voc = exported["voc"]
    assert meta["sample_rate"] == SR and meta["hop_length"] == 256 and meta["n_mels"] == 80
    assert meta["mel"] == to_dict(MelConfig())
    assert meta["generator"] == json.loads(json.dumps(to_dict(TINY[exported["kind"]])))
    assert meta["receptive_field_frames"] == voc.generator.receptive_field_frames()
    assert meta["parity_max_abs_diff"] <= 1e-4 and meta["precision"] == "fp32"


def test_export_errors(tmp_path, exported):
    with pytest.raises(ConfigError, match=".onnx"):
        export_onnx(exported["model"], tmp_path / "m.bin")
    with pytest.raises(ModelNotFoundError):
        export_onnx("no-such-model", tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize("sizes", CHUNKINGS, ids=lambda s: "-".join(map(str, s)))
def test_torch_stream_equals_offline(exported, sizes):
    voc, mel = exported["voc"], exported["mel"][..., :90]
    ref = voc.infer(mel)
    chunks = [mel[..., a:b] for a, b in split_frames(mel.shape[-1], sizes)]
    chunks.insert(1, mel[..., :0])  # an empty chunk is allowed
    pieces = list(voc.stream(chunks))
    out = torch.cat(pieces, dim=-1)
    assert out.shape == ref.shape
    assert (out - ref).abs().max().item() <= 1e-4
    assert all(p.shape[-1] > 0 and p.shape[-1] % 256 == 0 for p in pieces)


def test_stream_bounded_calls_and_errors(exported):
    voc, mel = exported["voc"], exported["mel"]
    pieces = list(voc.stream([mel], max_frames=16))  # one big chunk: split into bounded calls
    assert torch.cat(pieces, -1).shape == (1, mel.shape[-1] * 256) and len(pieces) >= mel.shape[-1] // 16
    with pytest.raises(DataError, match="does not continue"):
        list(voc.stream([mel[..., :5], torch.cat([mel[..., 5:9]] * 2)]))  # batch changes mid-stream
    with pytest.raises(DataError, match="no frames"):
        list(voc.stream([]))
    with pytest.raises(DataError, match="NaN"):
        list(voc.stream([mel * float("nan")]))


def test_streamer_is_exact_and_keeps_only_the_context():
    """The core on a known-context function: a moving sum over 2C+1 frames, repeated hop times."""
    rng = np.random.default_rng(0)
    C, hop = 3, 4
    mel = rng.standard_normal((1, 2, 50)).astype(np.float64)

    def run(m):
        padded = np.pad(m, ((0, 0), (0, 0), (C, C)))
        s = sum(padded[..., k:k + m.shape[-1]] for k in range(2 * C + 1)).sum(axis=1)
        return np.repeat(s, hop, axis=-1)

    ref = run(mel)
    for sizes in ([1], [2, 7], [4, 1, 1, 9], [50]):
        st = MelStreamer(run, C, hop, np.concatenate, max_frames=8)
        pieces, longest = [], 0
        for a, b in split_frames(50, sizes):
            pieces += st.push(mel[..., a:b])
            longest = max(longest, st._buf.shape[-1])
        pieces += st.finish()
        np.testing.assert_allclose(np.concatenate(pieces, -1), ref, atol=1e-12)
        assert longest <= 2 * C + max(sizes) + 8  # only the context (and the new chunk) is kept
    # fewer than C frames of look-ahead: nothing can be final yet
    st = MelStreamer(run, C, hop, np.concatenate)
    assert st.push(mel[..., :C]) == [] and st.finish()[0].shape[-1] == C * hop
    with pytest.raises(DataError):
        st.push(mel[..., :1])


def test_runtime_infer_and_stream_match_torch(exported):
    voc, mel = exported["voc"], exported["mel"]
    ort = OnnxVocoder(exported["onnx"], threads=1)
    ref = voc.infer(mel).numpy()
    assert np.abs(ort.infer(mel.numpy(), chunk_frames=20) - ref).max() <= 1e-4
    for sizes in ([1], [3, 11, 2]):
        chunks = [mel[0, :, a:b].numpy() for a, b in split_frames(mel.shape[-1], sizes)]  # (n_mels, f) too
        got = np.concatenate(list(ort.stream(chunks)), -1)
        assert np.abs(got - ref).max() <= 1e-4


def test_stream_latency_measure(exported):
    ort = OnnxVocoder(exported["onnx"], threads=1)
    r = stream_latency(ort, exported["mel"].numpy()[..., :80], 8, repeats=1)
    assert r["context_frames"] == ort.receptive_field_frames and r["chunk_audio_ms"] == pytest.approx(8 * 256 / SR * 1e3)
    assert 0 < r["first_audio_ms"] < 5000 and 0 < r["per_chunk_ms"] < 5000 and r["stream_rtf_x"] > 0
    r2 = stream_latency(exported["voc"], exported["mel"].numpy()[..., :40], 4, repeats=1, to_input=torch.from_numpy)
    assert r2["context_frames"] == exported["voc"].generator.receptive_field_frames()


def test_int8_quantisation_keeps_sensitive_layers_and_stays_close(exported, tmp_path):
    fp32 = OnnxVocoder(exported["onnx"], threads=1)
    calib = [fp32.mel(speech_like(1.0, seed=s)) for s in range(3)]
    q_path, q_side = quantize_int8(exported["onnx"], tmp_path / "q.onnx", calib)
    proto = onnx.load(str(q_path))
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("DequantizeLinear") > 5 and "QuantizeLinear" in ops
    kept = set(module_nodes(q_path, ["conv_pre", "conv_post"]))
    assert kept
    produced_by_dq = {o for n in proto.graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    for n in proto.graph.node:
        if n.name in kept and n.op_type == "Conv":
            assert not set(n.input) & produced_by_dq  # fp32 weights and input
    meta = json.loads(q_side.read_text())
    assert meta["precision"] == "int8" and meta["quantization"]["calibration_mels"] == 3
    assert "conv_pre" in meta["quantization"]["kept_fp32"]
    # the int8 model runs and tracks fp32 on unseen speech-like audio
    mel = fp32.mel(speech_like(1.5, seed=9))
    y32, y8 = fp32(mel), OnnxVocoder(q_path, threads=1)(mel)
    assert y8.shape == y32.shape
    assert np.corrcoef(y8.ravel(), y32.ravel())[0, 1] > 0.9
    wav = tmp_path / "eval.wav"
    sf.write(wav, speech_like(1.5, seed=9), SR)
    rep = int8_report(exported["onnx"], q_path, [wav], threads=1, repeats=1, seconds=0.5)
    assert rep["items"] == 1 and rep["mel_l1_int8_vs_fp32"] >= 0 and rep["speedup"] > 0
    assert np.isfinite(rep["mel_l1_fp32"]) and rep["size_int8_mb"] > 0
    with pytest.raises(ConfigError, match="no layer"):
        quantize_int8(exported["onnx"], tmp_path / "q2.onnx", calib, keep_fp32=("nonexistent",))
    with pytest.raises(ConfigError, match="fp32"):
        quantize_int8(q_path, tmp_path / "q3.onnx", calib)
    with pytest.raises(DataError):
        MelCalibrationReader([])


def test_runtime_errors(exported, tmp_path):
    with pytest.raises(ModelNotFoundError):
        OnnxVocoder(tmp_path / "none.onnx")
    lone = tmp_path / "lone.onnx"
    lone.write_bytes(exported["onnx"].read_bytes())
    with pytest.raises(ModelNotFoundError, match="sidecar"):
        OnnxVocoder(lone)
    (tmp_path / "lone.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ConfigError, match="missing"):
        OnnxVocoder(lone)
    meta = json.loads(exported["sidecar"].read_text())
    meta["hop_length"] = 128
    (tmp_path / "lone.json").write_text(json.dumps(meta))
    with pytest.raises(ConfigError, match="disagree"):
        OnnxVocoder(lone)
    ort = OnnxVocoder(exported["onnx"])
    with pytest.raises(DataError, match="shape"):
        ort(np.zeros((1, 60, 10), np.float32))
    with pytest.raises(HifiliteError, match="too short"):
        ort.mel(np.zeros(100, np.float32))


# ------------------------------------------------------------------------------------ CLI


def test_cli_export_and_int8(tmp_path, exported):
    if exported["kind"] != "v2ish":
        pytest.skip("one model is enough for the CLI")
    runner = CliRunner()
    data = tmp_path / "rec"
    for i in range(3):
        data.mkdir(exist_ok=True)
        sf.write(data / f"u{i}.wav", speech_like(1.0, seed=i), SR)
    out = tmp_path / "o" / "m.onnx"
    r = runner.invoke(app, ["export", exported["model"], "-o", str(out), "--int8", "--calibration", str(data),
                            "--calibration-items", "2", "--eval-items", "1"])
    assert r.exit_code == 0, r.output
    assert out.is_file() and out.with_suffix(".json").is_file()
    q = json.loads((tmp_path / "o" / "m-int8.json").read_text())
    assert q["quality"]["items"] == 1 and q["quality"]["eval_files"] == ["u2.wav"]
    r = runner.invoke(app, ["export", exported["model"], "-o", str(tmp_path / "x.onnx"), "--int8"])
    assert r.exit_code != 0 and "--calibration" in str(r.exception)


def test_cli_vocode_stream_file_and_stdout(tmp_path, exported):
    if exported["kind"] != "istft":
        pytest.skip("one model is enough for the CLI")
    runner = CliRunner()
    wav = tmp_path / "in.wav"
    sf.write(wav, speech_like(1.0, seed=3), SR)
    r = runner.invoke(app, ["vocode", str(wav), "-o", str(tmp_path / "off"), "--model", exported["model"]])
    assert r.exit_code == 0, r.output
    offline, _ = sf.read(tmp_path / "off" / "in.wav", dtype="int16")
    for model in (exported["model"], str(exported["onnx"])):
        r = runner.invoke(app, ["vocode", str(wav), "-o", str(tmp_path / "st"), "--model", model, "--stream",
                                "--stream-frames", "3"])
        assert r.exit_code == 0, r.output
        streamed, sr = sf.read(tmp_path / "st" / "in.wav", dtype="int16")
        assert sr == SR and streamed.shape == offline.shape
        assert np.abs(streamed.astype(int) - offline).max() <= 1
    r = runner.invoke(app, ["vocode", str(wav), "-o", "-", "--model", exported["model"], "--stream-frames", "5"])
    assert r.exit_code == 0
    data = r.stdout_bytes
    assert data[:4] == b"RIFF" and data[36:40] == b"data" and struct.unpack("<I", data[24:28])[0] == SR
    pcm = np.frombuffer(data[44:], dtype="<i2")
    assert pcm.shape == offline.shape and np.abs(pcm.astype(int) - offline).max() <= 1
    r = runner.invoke(app, ["vocode", str(wav), str(wav), "-o", "-", "--model", exported["model"]])
    assert r.exit_code != 0 and "one input" in str(r.exception)


def test_bench_backends_side_by_side(tmp_path):
    from hifilite.evaluate.bench import bench_models, markdown_table

    gen = Generator.from_config(TINY["istft"])
    rows = bench_models([gen], seconds=0.3, repeats=1, warmup=0, isolate=False, backends=("torch", "onnx", "onnx-int8"),
                        thread_counts=[1, 2], long_seconds=3.0, stream_frames=4)
    assert [(r["backend"], r["threads"]) for r in rows] == [
        ("torch", 1), ("torch", 2), ("onnx", 1), ("onnx", 2), ("onnx-int8", 1), ("onnx-int8", 2)]
    for r in rows:
        assert r["x_real_time"] > 0 and r["long_seconds"] == pytest.approx(259 * 256 / SR)
        assert r["long_peak_mb"] > 0 and r["stream"]["first_audio_ms"] > 0
    assert len({r["params"] for r in rows}) == 1
    md = markdown_table(rows)
    assert "| onnx-int8 | 2 |" in md and "first audio ms" in md
    from hifilite.errors import ConfigError as CE

    with pytest.raises(CE, match="backend"):
        bench_models([gen], backends=("tflite",), isolate=False)


def test_bench_cli_backends(tmp_path):
    path = tmp_path / "b.json"
    r = CliRunner().invoke(app, ["bench", "-m", "lite", "--backend", "torch", "--backend", "onnx", "--seconds", "0.3",
                                 "--repeats", "1", "--warmup", "0", "--json", str(path)])
    assert r.exit_code == 0, r.output
    doc = json.loads(path.read_text())
    assert [x["backend"] for x in doc["results"]] == ["torch", "onnx"] and doc["settings"]["backends"] == ["torch", "onnx"]
