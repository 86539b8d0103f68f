"""Parameter counts per layer, each with the formula that gives it, in two conventions.

``keras`` (the default) counts what Keras' ``model.summary()`` counts: a dense layer has
n_out·(n_in+1) parameters, a convolution F·(K·K·C+1) (every filter sees every input map, so
LeNet-5's C3 is dense), pooling and flatten have none. ``paper`` follows LeCun et al., "Gradient-
based learning applied to document recognition", Proc. IEEE 86 (1998): each subsampling map has one
trainable coefficient and one bias (S2: 6·(1+1) = 12, S4: 16·(1+1) = 32), and LeNet-5's C3 uses the
partial connection table of the paper's Table I (6 maps see 3 of S2's maps, 9 see 4, 1 sees all 6:
(6·3+9·4+1·6)·5·5+16 = 1,516). Seed 003 gives C5 = 48,120 and F6 = 10,164 in both.
"""

from __future__ import annotations

from dataclasses import dataclass

from chainrule.derive.spec import Conv2d, Dense, ModelSpec, Pool2d, Shape, output_shape
from chainrule.errors import ChainruleError

CONVENTIONS: dict[str, str] = {
    "keras": "as Keras counts: a dense layer n_out·(n_in+1), a convolution F·(K·K·C+1), "
             "pooling layers have 0 parameters",
    "paper": "as LeCun et al. (1998): each average-pooling map has a trainable coefficient and "
             "a bias",
}
# What each convention adds for LeNet-5 alone (its C3 and the paper's Table I).
LENET5_NOTES: dict[str, str] = {
    "keras": "; C3 fully connected to S2's maps",
    "paper": "; C3 uses the partial connection table (1,516 parameters)",
}
LENET5_NAMES = ("C1", "S2", "C3", "S4", "C5", "F6", "OUTPUT")
# LeCun et al. (1998), Table I: how many of S2's 6 maps each group of C3's 16 maps reads.
C3_TABLE = ((6, 3), (9, 4), (1, 6))  # (number of C3 maps, S2 maps each one reads)


@dataclass(frozen=True)
class LayerCount:
    """One row of a summary: the layer, its output shape, its parameters and their formula."""

    name: str
    kind: str
    output_shape: Shape
    params: int
    formula: str  # e.g. "120·(5·5·16+1) = 48,120"
    note: str = ""


@dataclass(frozen=True)
class ParamSummary:
    model: str
    convention: str
    input_shape: Shape
    layers: tuple[LayerCount, ...]
    family: str = ""  # the spec's family: the LeNet-5 note is for "lenet5" only

    @property
    def total(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def convention_note(self) -> str:
        lenet = LENET5_NOTES[self.convention] if self.family == "lenet5" else ""
        return CONVENTIONS[self.convention] + lenet


def count_params(spec: ModelSpec, *, convention: str = "keras") -> ParamSummary:
    """Count the parameters of every layer of ``spec`` in ``convention`` ("keras" or "paper")."""
    if convention not in CONVENTIONS:
        raise ChainruleError(f"unknown convention {convention!r}: expected "
                             f"{' or '.join(CONVENTIONS)}")
    lenet = spec.family == "lenet5"
    rows = [_count(layer, name, convention, lenet=lenet)
            for layer, name in zip(spec.layers, layer_names(spec), strict=True)]
    return ParamSummary(spec.text, convention, spec.input_shape, tuple(rows), spec.family)


def layer_names(spec: ModelSpec) -> list[str]:
    """Keras-like names (conv_1, maxpool_1, dense_2, …); LeNet-5's own names (C1 … OUTPUT)."""
    lenet = iter(LENET5_NAMES) if spec.family == "lenet5" else None
    counters: dict[str, int] = {}
    names = []
    for layer in spec.layers:
        kind = layer.display_kind
        if lenet is not None and kind != "flatten":
            names.append(next(lenet))
            continue
        counters[kind] = counters.get(kind, 0) + 1
        names.append(f"{kind}_{counters[kind]}")
    return names




def _count(layer: object, name: str, convention: str, *, lenet: bool) -> LayerCount:
    shape = output_shape(layer)  # type: ignore[arg-type]
    if isinstance(layer, Dense):
        params = layer.n_out * (layer.n_in + 1)
        return LayerCount(name, "dense", shape, params,
                          f"{layer.n_out}·({layer.n_in}+1) = {params:,}")
    if isinstance(layer, Conv2d):
        return _conv(layer, name, convention, lenet=lenet)
    if isinstance(layer, Pool2d):
        if convention == "paper" and layer.mode == "avg":  # LeCun's subsampling is an average
            params = 2 * layer.in_shape[0]
            return LayerCount(name, layer.display_kind, shape, params,
                              f"{layer.in_shape[0]}·(1+1) = {params:,}",
                              "one trainable coefficient and one bias per map")
        return LayerCount(name, layer.display_kind, shape, 0, "0", "no trainable parameters")
    return LayerCount(name, "flatten", shape, 0, "0", "a reshape")


def _conv(layer: Conv2d, name: str, convention: str, *, lenet: bool) -> LayerCount:
    c_in, k, f = layer.in_shape[0], layer.kernel, layer.filters
    note = f"input zero-padded by {layer.padding}" if layer.padding else ""
    if lenet and name == "C1" and layer.padding:
        size = layer.in_shape[1] + 2 * layer.padding
        note = f"the {layer.in_shape[1]}×{layer.in_shape[2]} image padded by {layer.padding} " \
               f"→ {size}×{size}"
    if convention == "paper" and lenet and name == "C3":
        reads = sum(maps * inputs for maps, inputs in C3_TABLE)
        params = reads * k * k + f
        table = "+".join(f"{maps}·{inputs}" for maps, inputs in C3_TABLE)
        return LayerCount(name, "conv", layer.out_shape, params,
                          f"({table})·{k}·{k}+{f} = {params:,}",
                          "LeCun's partial connection table (Table I)")
    params = f * (k * k * c_in + 1)
    return LayerCount(name, "conv", layer.out_shape, params, f"{f}·({k}·{k}·{c_in}+1) = {params:,}",
                      note)
