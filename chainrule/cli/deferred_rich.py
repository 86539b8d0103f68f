"""Stand-ins for ``rich.markdown`` and ``rich.traceback`` until something really uses them.

typer's help formatter (``typer.rich_utils``) imports ``Markdown`` and ``Traceback`` when it
loads, which pulls in markdown-it, pygments and rich.pretty: about 0.07 s of the 0.3 s that
``chainrule --help`` may take (issue 11; measured with ``python -X importtime``). chainrule's
help uses rich markup, never Markdown, and its errors are one line, never a rich traceback, so
the console entry point (:func:`chainrule.cli.main.main`) puts these stand-ins in
``sys.modules`` first. Each stand-in is a class whose construction, or any class attribute
(``Traceback.from_exception``), swaps the real module in and hands the call over, so nothing
changes for code that does use them. Modules already imported are left alone.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

DEFERRED: dict[str, str] = {"rich.markdown": "Markdown", "rich.traceback": "Traceback"}


def _real_class(module_name: str, class_name: str) -> type:
    """Replace the stand-in module by the real one and return its class."""
    if isinstance(sys.modules.get(module_name), _StandInModule):
        del sys.modules[module_name]
    return getattr(importlib.import_module(module_name), class_name)


class _Deferring(type):
    """Metaclass: a class attribute the stand-in lacks comes from the real class."""

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(_real_class(cls._module_name, cls.__name__), name)


def _stand_in_class(module_name: str, class_name: str) -> type:
    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
        return _real_class(module_name, class_name)(*args, **kwargs)

    return _Deferring(class_name, (), {"__new__": __new__, "_module_name": module_name})


class _StandInModule(types.ModuleType):
    """A module holding one stand-in class; any other attribute loads the real module."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system probing (__path__, __spec__...)
            raise AttributeError(name)
        if isinstance(sys.modules.get(self.__name__), _StandInModule):
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), name)


def defer_rich_imports() -> None:
    """Put the stand-ins in ``sys.modules`` for the modules not imported yet."""
    for module_name, class_name in DEFERRED.items():
        if module_name in sys.modules:
            continue
        module = _StandInModule(module_name)
        setattr(module, class_name, _stand_in_class(module_name, class_name))
        sys.modules[module_name] = module
