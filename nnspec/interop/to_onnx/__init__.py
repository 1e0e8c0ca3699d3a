"""A model as an ONNX model, without torch: ``nnspec.export_onnx`` (``nnspec export``). ``graph`` records the
model and builds the ONNX graph; ``translations`` says what each layer and op becomes."""

from . import translations  # noqa: F401 - registers the translations
from .graph import OPSET, ExportError, export_onnx, run_onnxruntime

__all__ = ["OPSET", "ExportError", "export_onnx", "run_onnxruntime"]
