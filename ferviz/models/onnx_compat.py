"""Let onnx2torch read models exported at newer opsets than it knows.

onnx2torch (last released 2024) registers converters per operator version up to about opset
18; torch 2.14 exports opset 19+ by default, where operators such as Constant, Identity,
Reshape and Cast gained only new element types. For each operator onnx2torch converts, the
newest known converter is registered for the operator's later schema versions. Converted
models are checked against the original network in the test suite.
"""

from __future__ import annotations

from functools import cache


@cache
def alias_newer_opsets() -> None:
    from onnx import defs
    from onnx2torch.node_converters.registry import _CONVERTER_REGISTRY, OperationDescription

    newest: dict[tuple[str, str], OperationDescription] = {}
    for d in _CONVERTER_REGISTRY:
        key = (d.domain, d.operation_type)
        if key not in newest or d.version > newest[key].version:
            newest[key] = d
    for schema in defs.get_all_schemas_with_history():
        known = newest.get((schema.domain, schema.name))
        alias = OperationDescription(schema.domain, schema.name, schema.since_version)
        if known and alias.version > known.version and alias not in _CONVERTER_REGISTRY:
            _CONVERTER_REGISTRY[alias] = _CONVERTER_REGISTRY[known]
