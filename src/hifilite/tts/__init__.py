"""Text to speech: text front-end -> acoustic model -> vocoder, sentence by sentence.

`speaker.SentenceSpeaker` holds what does not depend on the engine (sentences, pauses, rate) and
imports no torch; `synthesis.Synthesizer` runs it with PyTorch models, `hifilite.runtime.OnnxTTS`
with ONNX Runtime.
"""
