"""Deployment: ONNX export with a JSON sidecar, int8 quantisation, streaming, latency measures.

    from hifilite.deploy.export import export_onnx
    export_onnx("lj-v1", "lj-v1.onnx")              # writes lj-v1.onnx and lj-v1.json
    export_onnx(load_acoustic("joe-lightspeech"), "a.onnx")   # an acoustic model: a.onnx and a.json

    from hifilite.runtime import OnnxVocoder         # torch-free inference of the exported file
    voc = OnnxVocoder("lj-v1.onnx")

Importing this package does not import torch: `sidecar` is shared with the
torch-free runtime; `export` (with `graph`, `parity` and `acoustic_export`), `quantize` and
`measure` import torch or onnx when used.
"""
