"""Options shared by the commands that build a network from a spec (gradcheck, kernels show)."""

from __future__ import annotations

import typer

ACTIVATION_OPTION = typer.Option(None, "--activation", "-a",
                                 help="Hidden activation (default relu; tanh for lenet5); "
                                 "leaky_relu:0.1 sets the slope α (default 0.01), elu:0.5 "
                                 "ELU's α (default 1).")
LOSS_OPTION = typer.Option("softmax_ce", "--loss", "-l", help="softmax_ce, bce, mse, half_mse.")
OUTPUT_ACTIVATION_OPTION = typer.Option(None, "--output-activation",
                                        help="Default: softmax for softmax_ce, sigmoid for bce, "
                                        "linear for mse.")
