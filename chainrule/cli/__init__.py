"""cli: the typer app. Parses arguments, calls the layers below, renders with rich and matplotlib.

No math lives here.
"""
