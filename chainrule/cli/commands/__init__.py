"""One module per command; each registers itself on an app from :mod:`chainrule.cli.apps`."""
