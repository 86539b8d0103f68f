"""Training: models built from specs, optimisers, data sets, the training loop, checkpoints, metrics."""
