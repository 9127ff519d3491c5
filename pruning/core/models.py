"""The small networks the app trains: an MLP and a CNN for images.

Both take flattened inputs of shape (B, D), so one data format serves every model; the CNN
folds them back to (B, C, H, W) itself.

Naming: every prunable weight is reached by its ``named_parameters`` name (``layers.0.weight``
…), and the *output layer* is the last ``nn.Linear`` (``model.output_name``).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from pruning.config import ModelConfig
from pruning.errors import PruningError, check_choice


class MLP(nn.Module):
    """Fully connected net: D -> hidden[0] -> ... -> hidden[-1] -> C, ReLU between layers.

    With the default hidden sizes (300, 100) and D = 784 this is LeNet-300-100
    (266,200 weights); on 8×8 digits (D = 64) it has 64·300 + 300·100 + 100·10 = 50,200.
    """

    def __init__(self, in_features: int, n_classes: int, hidden=(300, 100)):
        super().__init__()
        sizes = [in_features, *hidden, n_classes]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, D) -> logits (B, C)
        x = x.flatten(1)
        *hidden, last = self.layers  # not self.layers[:-1]: slicing builds a new ModuleList per call
        for layer in hidden:
            x = torch.relu(layer(x))
        return last(x)

    @property
    def output_name(self) -> str:
        return f"layers.{len(self.layers) - 1}"


class SmallCNN(nn.Module):
    """conv3x3(C->c1) -> ReLU -> [maxpool] -> conv3x3(c1->c2) -> ReLU -> 4×4 average pool -> linear.

    Pooling only where the image is large enough (28×28 halves, 8×8 keeps its size), so the
    same code serves digits and MNIST. The head reads each channel's average over a
    ``HEAD_GRID`` × ``HEAD_GRID`` grid of regions (``adaptive_avg_pool2d``; 2×2 blocks on 8×8
    digits), so it knows *where* a stroke is: a global average (one number per channel) throws
    that away and tops out near 92 % on digits whatever the training. Head input j·G² + r is
    channel j's average over region r (channel-major, as ``flatten`` lays it out), so removing
    channel j removes the head's columns j·G² … j·G² + G² − 1 (``head_cells`` = G²).
    """

    #: Regions per side of the head's average pooling (G above).
    HEAD_GRID = 4

    def __init__(self, image_shape: tuple[int, int, int], n_classes: int, channels=(8, 16)):
        super().__init__()
        c, h, w = image_shape
        self.image_shape = tuple(image_shape)
        convs = []
        for out in channels:
            convs.append(nn.Conv2d(c, out, kernel_size=3, padding=1))
            c = out
        self.convs = nn.ModuleList(convs)
        self.pool = h >= 16
        self.head = nn.Linear(c * self.head_cells, n_classes)

    @property
    def head_cells(self) -> int:
        """Head inputs per channel of the last conv (G²)."""
        return self.HEAD_GRID ** 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C·H·W) -> (B, classes)
        x = x.reshape(x.shape[0], *self.image_shape)
        for conv in self.convs:
            x = torch.relu(conv(x))
            if self.pool:
                x = torch.max_pool2d(x, 2)
        return self.head(nn.functional.adaptive_avg_pool2d(x, self.HEAD_GRID).flatten(1))

    @property
    def output_name(self) -> str:
        return "head"


def build_model(cfg: ModelConfig, n_features: int, n_classes: int,
                image_shape=None, seed: int = 0) -> nn.Module:
    """A freshly initialised model; the same ``seed`` gives the same initial weights.

    The layers are made on the ``meta`` device (shapes only, no memory, no random draws) and
    then initialised from a generator of their own (``init_weights``): torch's global
    generator is shared by every thread of the server, so two students building models at
    the same moment would otherwise draw from each other's stream.
    """
    check_choice("model", cfg.kind, ("mlp", "cnn"))
    if cfg.kind == "mlp":
        hidden = tuple(int(h) for h in cfg.hidden)
        if any(h < 1 or h > 4096 for h in hidden):
            raise PruningError(f"hidden sizes must be between 1 and 4096, got {hidden}")
        with torch.device("meta"):
            model = MLP(n_features, n_classes, hidden)
    else:
        if image_shape is None:
            raise PruningError("the CNN needs image data (digits, MNIST, Fashion-MNIST); "
                               "use the MLP for this data set")
        channels = tuple(int(c) for c in cfg.channels)
        if not channels or any(c < 1 or c > 256 for c in channels):
            raise PruningError(f"CNN channels must be between 1 and 256, got {channels}")
        with torch.device("meta"):
            model = SmallCNN(tuple(image_shape), n_classes, channels)
    model = model.to_empty(device="cpu")
    init_weights(model, torch.Generator().manual_seed(seed))
    return model


def init_weights(model: nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default initialisation of ``nn.Linear`` (``reset_parameters``), and He
    initialisation of ``nn.Conv2d`` weights, drawn from ``generator`` in the order the layers
    were built.

    With fan_in = inputs per output unit (in_features, or in_channels·kh·kw):
    Linear: W ~ U(−b, b) with b = gain·√(3 / fan_in) for Kaiming-uniform with a = √5, i.e.
    b = √(2 / (1 + 5))·√(3 / fan_in) = 1/√fan_in — the same draws, in the same order, that
    torch's own constructor makes, so a seed gives an MLP the very weights it gave before.
    Conv2d: W ~ U(−b, b) with b = √2·√(3 / fan_in) (He et al. 2015, gain √2 for ReLU), so a
    signal keeps its size through the ReLU convs; torch's 1/√fan_in bound shrinks it by √6
    per conv and the CNN then learns far more slowly at the app's learning rate.
    Every bias ~ U(−1/√fan_in, 1/√fan_in), as torch does.
    """
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_uniform_(module.weight, nonlinearity="relu", generator=generator)
            else:
                nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
            if module.bias is not None:
                bound = 1 / math.sqrt(module.weight[0].numel())
                nn.init.uniform_(module.bias, -bound, bound, generator=generator)


def output_layer_name(model: nn.Module) -> str:
    name = getattr(model, "output_name", None)
    if name is not None:
        return name
    linears = [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    return linears[-1]


def prunable_names(model: nn.Module, include_output: bool = True,
                   include_bias: bool = False) -> list[str]:
    """Names of the parameters pruning may touch, in the model's order.

    Weights of Linear and Conv2d layers; biases only when ``include_bias``; the output
    layer only when ``include_output``.
    """
    out_prefix = output_layer_name(model) + "."
    names = []
    for mod_name, mod in model.named_modules():
        if not isinstance(mod, (nn.Linear, nn.Conv2d)):
            continue
        if not include_output and (mod_name + ".").startswith(out_prefix):
            continue
        names.append(f"{mod_name}.weight")
        if include_bias and mod.bias is not None:
            names.append(f"{mod_name}.bias")
    return names


def layer_label(name: str) -> str:
    """A parameter name as a reader sees the layer: ``"net.0.weight" → "net.0"``."""
    return name.removesuffix(".weight")
