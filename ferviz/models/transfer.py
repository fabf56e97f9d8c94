"""The CS230 transfer-learning backbones (ResNet50, VGG16, SE-ResNet50), for 48x48 grayscale.

Built with ``weights=None``: ImageNet weights cannot be downloaded here, so these train from
scratch. The stems are adapted to one channel and small inputs.
"""

from __future__ import annotations

from torch import nn

from .registry import register_model

_SOURCE = "Stanford CS230 FER project, transfer learning"


@register_model("resnet50", cam_layer="layer4", source=_SOURCE + " (ResNet50)")
def resnet50(num_classes: int = 7) -> nn.Module:
    """torchvision ResNet50 with a 3x3 stride-1 one-channel stem and no stem max-pool."""
    from torchvision.models import resnet50 as build

    net = build(weights=None, num_classes=num_classes)
    net.conv1 = nn.Conv2d(1, 64, 3, padding=1, bias=False)
    net.maxpool = nn.Identity()
    return net


@register_model("vgg16", cam_layer="features.42", source=_SOURCE + " (VGG16)")
def vgg16(num_classes: int = 7) -> nn.Module:
    """torchvision VGG16-BN with a one-channel first conv and a 1x1-pooled 512-d head."""
    from torchvision.models import vgg16_bn as build

    net = build(weights=None)
    net.features[0] = nn.Conv2d(1, 64, 3, padding=1)
    net.avgpool = nn.AdaptiveAvgPool2d(1)
    net.classifier = nn.Sequential(nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.5),
                                   nn.Linear(512, num_classes))
    net.incremental_occlusion = True  # a plain layer chain: see ferviz.explain.incremental
    return net


@register_model("seresnet50", cam_layer="layer4", source=_SOURCE + " (SE-ResNet50)")
def seresnet50(num_classes: int = 7) -> nn.Module:
    """timm SE-ResNet50 with one input channel and a stride-1 stem without max-pool."""
    import timm

    net = timm.create_model("seresnet50", pretrained=False, in_chans=1, num_classes=num_classes)
    net.conv1 = nn.Conv2d(1, 64, 3, padding=1, bias=False)
    net.maxpool = nn.Identity()
    return net
