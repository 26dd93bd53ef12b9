"""A quicker ``__init__`` for frozen, slotted dataclasses that are built by the hundred thousand.

A frozen dataclass's generated ``__init__`` stores every field with ``object.__setattr__(self, name,
value)`` (the class's own ``__setattr__`` refuses): a global lookup, an attribute lookup and a generic
call per field, four to five times what a plain dataclass's ``self.name = value`` costs. A slotted
class keeps each field in a member descriptor, and that descriptor's ``__set__`` stores the value
directly, at about the plain cost. ``fast_frozen_init`` swaps the generated ``__init__`` for one that
does exactly that: same parameters, defaults and default factories; the instance stays frozen (its
``__setattr__`` still refuses), compares, hashes and prints as before. A 100,000-request batch builds a
``TurnRequest`` and an ``InputMessage`` per request (``benchmarks/overhead.py``, accept).
"""

import dataclasses
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


class _Factory:
    """The default of a parameter whose field has a default factory: call the factory."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()


def fast_frozen_init(cls: type[T]) -> type[T]:
    """Give ``cls`` (a ``@dataclass(frozen=True, slots=True)`` without ``__post_init__`` or ``InitVar``)
    an ``__init__`` that sets its slots through their descriptors."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} must be a frozen dataclass with slots")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has a __post_init__, which this __init__ would not call")
    namespace: dict[str, Any] = {"_FACTORY": _FACTORY}
    positional: list[str] = []
    keyword_only: list[str] = []
    body: list[str] = []
    for index, field in enumerate(dataclasses.fields(cls)):
        if not field.init:
            raise TypeError(f"{cls.__name__}.{field.name} is not an __init__ parameter")
        name = field.name
        setter = f"_set_{index}"
        namespace[setter] = cls.__dict__[name].__set__
        if field.default is not dataclasses.MISSING:
            namespace[f"_default_{index}"] = field.default
            parameter = f"{name}=_default_{index}"
            body.append(f"    {setter}(self, {name})")
        elif field.default_factory is not dataclasses.MISSING:
            namespace[f"_factory_{index}"] = field.default_factory
            parameter = f"{name}=_FACTORY"
            body.append(f"    {setter}(self, _factory_{index}() if {name} is _FACTORY else {name})")
        else:
            parameter = name
            body.append(f"    {setter}(self, {name})")
        (keyword_only if field.kw_only else positional).append(parameter)
    signature = ", ".join(["self", *positional, *(["*", *keyword_only] if keyword_only else [])])
    source = f"def __init__({signature}):\n" + ("\n".join(body) or "    pass") + "\n"
    exec(source, namespace)  # as dataclasses itself builds __init__
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    init.__annotations__ = dict(cls.__init__.__annotations__)
    type.__setattr__(cls, "__init__", init)
    return cls
