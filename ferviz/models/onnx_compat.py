"""Let onnx2torch read models exported at newer opsets than it knows.

onnx2torch (last released 2024) registers converters per operator version up to about opset
18; torch 2.14 exports opset 19+ by default, where operators such as Constant, Identity,
Reshape and Cast gained only new element types. For each operator onnx2torch converts, the
newest known converter is registered for the operator's later schema versions, except where
a schema changed its inputs: at opset 18 the Reduce operators (but ReduceSum, moved at 13)
take their axes as a second input, which a converter of its own reads. Converted models are
checked against the original network in the test suite.
"""

from __future__ import annotations

from functools import cache

AXES_AS_INPUT = ("ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax",
                 "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSumSquare")  # since opset 18


def _reduce_axes_input(node, graph):  # type: ignore[no-untyped-def]
    """An opset-18 Reduce node whose axes (a constant second input, or none) are read here."""
    from onnx2torch.node_converters.reduce import OnnxReduceStaticAxes
    from onnx2torch.utils.common import OnnxMapping, OperationConverterResult, get_const_value

    axes = None
    if len(node.input_values) == 2 and node.input_values[1]:
        try:
            axes = [int(a) for a in get_const_value(node.input_values[1], graph).tolist()]
        except KeyError as e:
            raise NotImplementedError(f"{node.operation_type} with axes computed at run time"
                                      ) from e
    if not axes and node.attributes.get("noop_with_empty_axes", 0):
        raise NotImplementedError(f"{node.operation_type} with noop_with_empty_axes")
    return OperationConverterResult(
        torch_module=OnnxReduceStaticAxes(node.operation_type, axes,
                                          node.attributes.get("keepdims", 1)),
        onnx_mapping=OnnxMapping(inputs=(node.input_values[0],), outputs=node.output_values))


@cache
def alias_newer_opsets() -> None:
    from onnx import defs
    from onnx2torch.node_converters.registry import _CONVERTER_REGISTRY, OperationDescription

    for op in AXES_AS_INPUT:
        _CONVERTER_REGISTRY.setdefault(OperationDescription("", op, 18), _reduce_axes_input)

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
