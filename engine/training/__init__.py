"""Training and evaluation of the detectors (needs the train extra: torch, torchvision, onnx)."""
