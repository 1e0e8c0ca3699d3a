"""Vision layers (torch.nn.modules.pixelshuffle, upsampling)."""

from __future__ import annotations

from ...errors import CompileError
from ...runtime import functional as F
from ..module import Module

__all__ = ["PixelShuffle", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]


class PixelShuffle(Module):
    """Depth to space (torch.nn.PixelShuffle). Shape: (*, C*r*r, H, W) -> (*, C, H*r, W*r)."""

    def __init__(self, upscale_factor):
        super().__init__()
        if upscale_factor <= 0:
            raise CompileError(f"upscale_factor must be positive, got {upscale_factor}")
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class Upsample(Module):
    """Resize by size or scale_factor (torch.nn.Upsample). Shape: (N, C, *S) -> (N, C, *S_out), 1 to 3 spatial dims."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        if mode not in F.INTERPOLATE_MODES:
            raise CompileError(f"mode must be one of {', '.join(F.INTERPOLATE_MODES)}, got {mode!r}")
        if size is not None and scale_factor is not None:
            raise CompileError("only one of size or scale_factor should be defined")
        if size is None and scale_factor is None:
            raise CompileError("either size or scale_factor should be defined")
        if align_corners is not None and mode.startswith("nearest"):
            raise CompileError(
                "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear"
            )
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour 2-d upsampling (torch.nn.UpsamplingNearest2d). Shape: (N, C, H, W) -> (N, C, H_out, W_out)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear 2-d upsampling with align_corners=True (torch.nn.UpsamplingBilinear2d). Shape: as Upsample."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
