"""Layer-level derivations: each layer type written once in index notation, differentiated by SymPy.

Public API: :func:`dense_layer`, :func:`conv_layer`, :func:`pool_layer`, :func:`flatten_layer`,
:func:`softmax_ce_layer`, :func:`dropout_layer`, :func:`activation_layer`, :func:`regularised_layer`,
:func:`minibatch_update`, the :class:`Equation` / :class:`LayerDerivation` data they return, and
:func:`evaluate` to run an equation on NumPy arrays. Nielsen, *NNDL* (2015), ch. 2; CS231n notes.
"""

from chainrule.derive.layers.activation import activation_layer
from chainrule.derive.layers.conv import conv_layer
from chainrule.derive.layers.dense import dense_layer, output_error_for_loss
from chainrule.derive.layers.dropout import dropout_layer
from chainrule.derive.layers.equations import Equation, LayerDerivation
from chainrule.derive.layers.evaluate import evaluate
from chainrule.derive.layers.flatten import flatten_layer
from chainrule.derive.layers.minibatch import minibatch_update
from chainrule.derive.layers.pool import pool_layer
from chainrule.derive.layers.regularisation import regularised_layer
from chainrule.derive.layers.softmax import softmax_ce_layer

__all__ = ["Equation", "LayerDerivation", "activation_layer", "conv_layer", "dense_layer", "dropout_layer",
           "evaluate", "flatten_layer", "minibatch_update", "output_error_for_loss", "pool_layer",
           "regularised_layer", "softmax_ce_layer"]
