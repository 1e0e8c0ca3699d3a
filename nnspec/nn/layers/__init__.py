"""The torch.nn layers nnspec implements, one family per file."""

from .activation import LeakyReLU, PReLU, ReLU, ReLU6, Sigmoid, Tanh
from .conv import Conv1d, Conv2d, ConvTranspose1d
from .dropout import Dropout, Dropout2d
from .flatten import Flatten, Identity
from .linear import Bilinear, Linear
from .normalization import BatchNorm1d, BatchNorm2d
from .pooling import AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from .vision import PixelShuffle, Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = [
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AvgPool1d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d",
    "Bilinear", "Conv1d", "Conv2d", "ConvTranspose1d", "Dropout", "Dropout2d", "Flatten", "Identity", "LeakyReLU",
    "Linear", "MaxPool1d", "MaxPool2d", "PReLU", "PixelShuffle", "ReLU", "ReLU6", "Sigmoid", "Tanh", "Upsample", "UpsamplingBilinear2d",
    "UpsamplingNearest2d",
]
