"""The SHACL shapes registry (being split into one module per idea; import it from here)."""

from .compiled import (
    SHAPE_SETS,
    CompiledShapes,
    ShapeSetSpec,
    ShapesRegistry,
    ValidationReport,
    ValidationResult,
    _compile,
    _triples,
    default_cache_dir,
    full_graph,
    registry,
    validate,
)

__all__ = [
    "SHAPE_SETS",
    "CompiledShapes",
    "ShapeSetSpec",
    "ShapesRegistry",
    "ValidationReport",
    "ValidationResult",
    "_compile",
    "_triples",
    "default_cache_dir",
    "full_graph",
    "registry",
    "validate",
]
