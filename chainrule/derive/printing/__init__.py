"""Printers for derivations: text (Unicode, for rich), LaTeX (a SymPy ``LatexPrinter`` subclass),
Markdown and JSON."""
