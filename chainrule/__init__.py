"""chainrule: derive neural-network mathematics symbolically, then run the same mathematics.

Layers depend one way: ``cli`` → ``train`` → ``kernels`` → ``derive``.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
