"""The graph IR of custom forwards: compile (ast -> Graph), print, and interpret."""

from .compiler import compile_forward
from .graph import OPS, Graph, Node
from .interpreter import Interpreter, observe_ops, stop_observing
from .source import ForwardSource

__all__ = ["OPS", "ForwardSource", "Graph", "Interpreter", "Node", "compile_forward", "observe_ops", "stop_observing"]
