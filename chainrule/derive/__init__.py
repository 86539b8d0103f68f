"""derive: pure SymPy. Activations, losses, neurons and layers as expressions; rules; derivations.

This layer imports neither numba nor matplotlib.
"""
