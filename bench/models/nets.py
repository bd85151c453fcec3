"""disentanglement_lib's conv encoder and deconv decoder (docs/paper.md), for 1- or 3-channel square images.

At 64 x 64: conv 32 4x4 s2, conv 32 4x4 s2, conv 64 2x2 s2, conv 64 2x2 s2, dense 256; the decoder mirrors it
with dense 256, dense 1024 -> 64 x 4 x 4 and four 4x4 stride-2 deconvolutions. TF "same" padding is symmetric
here (one pixel for the 4x4 kernels, none for 2x2), so plain PyTorch padding reproduces it. Smaller images drop
leading stride-2 layers, so the 4 x 4 x 64 bottleneck stays. Weights start as in TF: Glorot-uniform, zero bias.
"""

import math

from torch import nn

ENCODER_CONVS = ((32, 4), (32, 4), (64, 2), (64, 2))  # (channels, kernel), each stride 2
DECODER_DECONVS = (64, 32, 32)  # 4x4 stride 2; a last one maps to the image channels
BOTTLENECK = 4


def _num_stride2(size: int) -> int:
    n = int(math.log2(size // BOTTLENECK))
    if BOTTLENECK * 2**n != size or not 1 <= n <= len(ENCODER_CONVS):
        raise ValueError(f"image size {size} is not 4 x 2^k with 1 <= k <= {len(ENCODER_CONVS)}")
    return n


def glorot_init(module: nn.Module):
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)


class Encoder(nn.Module):
    """Image (B, C, H, W) -> `heads` tensors of size `latent_dim` (mean and log-variance for a VAE)."""

    def __init__(self, channels: int, size: int, latent_dim: int, heads: int = 2):
        super().__init__()
        layers, c_in = [], channels
        for c_out, k in ENCODER_CONVS[-_num_stride2(size):]:
            layers += [nn.Conv2d(c_in, c_out, k, stride=2, padding=(k - 2) // 2), nn.ReLU()]
            c_in = c_out
        self.body = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c_in * BOTTLENECK**2, 256), nn.ReLU())
        self.heads = nn.ModuleList(nn.Linear(256, latent_dim) for _ in range(heads))
        glorot_init(self)

    def forward(self, x):
        h = self.body(x)
        return tuple(head(h) for head in self.heads)


class Decoder(nn.Module):
    """Latent (B, D) -> Bernoulli logits (B, C, H, W)."""

    def __init__(self, channels: int, size: int, latent_dim: int):
        super().__init__()
        n = _num_stride2(size)
        widths = (64, *DECODER_DECONVS[:n - 1])  # mirrors the encoder: the dropped layer is the last
        layers = [nn.Linear(latent_dim, 256), nn.ReLU(), nn.Linear(256, 64 * BOTTLENECK**2), nn.ReLU(),
                  nn.Unflatten(1, (64, BOTTLENECK, BOTTLENECK))]
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1), nn.ReLU()]
        layers.append(nn.ConvTranspose2d(widths[-1], channels, 4, stride=2, padding=1))
        self.net = nn.Sequential(*layers)
        glorot_init(self)

    def forward(self, z):
        return self.net(z)
