"""Forward texts the subclass tests share (no side effects: cases_subclass registers parity cases when
imported, so the tests import the text from here)."""

# torchvision's LayerNorm2d(nn.LayerNorm).forward
LAYER_NORM_2D = """\
def forward(self, x: Tensor) -> Tensor:
    x = x.permute(0, 2, 3, 1)
    x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
    x = x.permute(0, 3, 1, 2)
    return x
"""
