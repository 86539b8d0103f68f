"""Options shared by the commands that build a network from a spec (train, gradcheck, kernels show).

The hidden activation defaults to ReLU (tanh for lenet5) in every command, derive net and derive
neuron included, so the network a derivation shows is the one training runs."""

from __future__ import annotations

import typer

ACTIVATION_OPTION = typer.Option(None, "--activation", "-a",
                                 help="Hidden activation: relu (default, as in every command; "
                                 "tanh for lenet5), sigmoid, tanh, leaky_relu, elu, softplus, linear; "
                                 "leaky_relu:0.1 sets the slope α (default 0.01), elu:0.5 "
                                 "ELU's α (default 1).")
LOSS_OPTION = typer.Option("softmax_ce", "--loss", "-l", help="softmax_ce, bce, mse, half_mse.")
OUTPUT_ACTIVATION_OPTION = typer.Option(None, "--output-activation",
                                        help="Default: softmax for softmax_ce, sigmoid for bce, "
                                        "linear for mse.")
