"""Parity cases: layers and containers a model file subclasses (torchvision's ``LayerNorm2d(nn.LayerNorm)``,
``_DenseBlock(nn.ModuleDict)``, ``_Transition(nn.Sequential)``), with a forward of their own or renamed only. The
torch twin (tests/oracle.py) is the subclass a torch user writes, its forward the file's text run by Python.
Imported by cases.py; each add() is one case."""

from __future__ import annotations

from cases import L, add
from subclass_texts import LAYER_NORM_2D

add("subclass_layernorm2d", {"Sequential": [L("Conv2d", 3, 8, 3),
                                            {**L("LayerNorm", 8, eps=1e-6), "name": "LayerNorm2d",
                                             "forward": LAYER_NORM_2D}]}, (2, 3, 7, 6))
add("subclass_layernorm2d_root", {**L("LayerNorm", 8, eps=1e-6), "name": "LayerNorm2d", "forward": LAYER_NORM_2D},
    (2, 8, 4, 5))

# torchvision's densenet: _DenseLayer (here a user module over a list of tensors), _DenseBlock(nn.ModuleDict) with
# torchvision's forward, _Transition(nn.Sequential) renamed only
DENSE_BLOCK = """\
def forward(self, init_features):
    features = [init_features]
    for name, layer in self.items():
        new_features = layer(features)
        features.append(new_features)
    return torch.cat(features, 1)
"""


def _dense_layer(cin: int, growth: int = 4) -> dict:
    return {"name": "_DenseLayer",
            "modules": {"norm": L("BatchNorm2d", cin), "relu": L("ReLU", inplace=True),
                        "conv": L("Conv2d", cin, growth, 3, padding=1, bias=False)},
            "forward": "def forward(self, input):\n    prev = torch.cat(input, 1)\n"
                       "    return self.conv(self.relu(self.norm(prev)))\n"}


DENSE = {"Sequential": {
    "denseblock1": {"ModuleDict": {f"denselayer{i + 1}": _dense_layer(3 + 4 * i) for i in range(3)},
                    "name": "_DenseBlock", "forward": DENSE_BLOCK},
    "transition1": {"Sequential": {"norm": L("BatchNorm2d", 15), "relu": L("ReLU", inplace=True),
                                   "conv": L("Conv2d", 15, 8, 1, bias=False), "pool": L("AvgPool2d", 2, stride=2)},
                    "name": "_Transition"},
}}
add("subclass_dense_block", DENSE, (2, 3, 8, 8))
add("subclass_dense_block_train", DENSE, (2, 3, 8, 8), train=True)

# renamed only: the base's forward, and (in a plan) the base's kernels and fusions
add("subclass_renamed_layers", {"Sequential": [{**L("Conv2d", 3, 4, 3), "name": "StemConv"},
                                               {**L("BatchNorm2d", 4), "name": "FrozenBN"},
                                               {"type": "ReLU", "name": "Act"},
                                               {**L("Linear", 6, 5), "name": "Head"}]}, (2, 3, 8, 8))
add("subclass_renamed_encoder_layer", {**L("TransformerEncoderLayer", d_model=8, nhead=2, dim_feedforward=16,
                                           batch_first=True), "name": "EncoderBlock"}, (2, 5, 8))
# torchvision's vit: MLPBlock(MLP), MLP a torch.nn.Sequential subclass; a renamed ModuleList beside it
add("subclass_mlp_block", {"name": "Encoder", "modules": {
    "mlp": {"Sequential": [L("Linear", 8, 16), "GELU", L("Dropout", 0.0), L("Linear", 16, 8), L("Dropout", 0.0)],
            "name": "MLPBlock"},
    "heads": {"ModuleList": [L("Linear", 8, 3), L("Linear", 8, 2)], "name": "Heads"}},
    "forward": "def forward(self, x):\n    x = self.mlp(x)\n    out = []\n    for head in self.heads:\n"
               "        out.append(head(x))\n    return torch.cat(out, -1)\n"}, (2, 8))

# a forward of their own reading the layer's hyperparameters (self.in_features), state and the file's attributes
add("subclass_linear_attributes", {
    **L("Linear", 6, 4), "name": "ScaledLinear", "attributes": {"scale": 0.5, "dims": [0, 1]},
    "inputs": ["x"],
    "forward": "x = x.reshape(-1, self.in_features)\nreturn F.linear(x, self.weight, self.bias) * self.scale"},
    (2, 3, 6))
add("subclass_sequential_forward", {
    "Sequential": {"conv": L("Conv2d", 4, 4, 3, padding=1), "act": "ReLU"}, "name": "Residual",
    "attributes": {"use_res_connect": True},
    "forward": "def forward(self, x):\n    y = self.act(self.conv(x))\n"
               "    return x + y if self.use_res_connect else y\n"}, (2, 4, 5, 5))
