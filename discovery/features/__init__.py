"""Features: GFN2-xTB descriptors, chemical categories, their interactions, and the cache."""

from discovery.features.cache import DescriptorCache
from discovery.features.categories import CATEGORY_NAMES, category_features
from discovery.features.derived import DERIVED, DERIVED_NAMES
from discovery.features.featurize import default_cache_path, featurize
from discovery.features.interactions import InteractionFeatures
from discovery.features.qm import DESCRIPTORS, QMError, descriptor_names
from discovery.features.settings import PRESETS, QMPreset, QMSettings

__all__ = [
    "CATEGORY_NAMES",
    "DERIVED",
    "DERIVED_NAMES",
    "DESCRIPTORS",
    "DescriptorCache",
    "InteractionFeatures",
    "PRESETS",
    "QMError",
    "QMPreset",
    "QMSettings",
    "category_features",
    "default_cache_path",
    "descriptor_names",
    "featurize",
]
