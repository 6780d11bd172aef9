"""The model zoo: backbones by name (see `registry`), each family in a module of its own."""

from edgekit.zoo.registry import BackboneSpec, get_backbone, list_backbones, register_backbone

__all__ = ["BackboneSpec", "get_backbone", "list_backbones", "register_backbone"]
