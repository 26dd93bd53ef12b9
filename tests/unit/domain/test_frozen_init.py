"""``fast_frozen_init`` keeps a frozen dataclass's behaviour: parameters, defaults, fresh default
factories, keyword-only fields, immutability, equality and hashing."""

import dataclasses
import inspect

import pytest

from agentbatch.domain.frozen_init import fast_frozen_init
from agentbatch.domain.turn_requests import TurnRequest


@fast_frozen_init
@dataclasses.dataclass(frozen=True, slots=True)
class Sample:
    required: str
    number: int = 3
    tags: list[str] = dataclasses.field(default_factory=list)
    only_by_name: bool = dataclasses.field(default=False, kw_only=True)


@fast_frozen_init
@dataclasses.dataclass(frozen=True, slots=True)
class Point:
    x: int
    y: int


@dataclasses.dataclass(frozen=True, slots=True)
class Plain:
    required: str
    number: int = 3
    tags: list[str] = dataclasses.field(default_factory=list)
    only_by_name: bool = dataclasses.field(default=False, kw_only=True)


def test_it_builds_the_same_values_as_the_generated_init() -> None:
    pairs = [
        (Sample("a"), Plain("a")),
        (Sample("a", 5, ["x"], only_by_name=True), Plain("a", 5, ["x"], only_by_name=True)),
        (Sample(required="b", number=0), Plain(required="b", number=0)),
    ]
    for fast, plain in pairs:
        assert dataclasses.astuple(fast) == dataclasses.astuple(plain)
    assert str(inspect.signature(Sample)) == str(inspect.signature(Plain))


def test_default_factories_give_each_instance_its_own_value() -> None:
    first, second = Sample("a"), Sample("b")
    assert first.tags == [] and first.tags is not second.tags
    given = ["kept"]
    assert Sample("c", tags=given).tags is given


def test_it_refuses_what_the_generated_init_refuses() -> None:
    with pytest.raises(TypeError):
        Sample()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Sample("a", 1, [], True)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Sample("a", colour="red")  # type: ignore[call-arg]


def test_instances_stay_frozen_comparable_and_hashable() -> None:
    sample = Sample("a", 1, only_by_name=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        sample.number = 2  # type: ignore[misc]
    assert sample == Sample("a", 1, only_by_name=True) != Sample("a", 2)
    assert hash(Point(1, 2)) == hash(Point(1, 2)) != hash(Point(2, 1))
    assert repr(Sample("a")) == "Sample(required='a', number=3, tags=[], only_by_name=False)"


def test_the_turn_request_records_use_it() -> None:
    assert TurnRequest.__init__.__qualname__ == "TurnRequest.__init__"
    assert TurnRequest().extra == {} and TurnRequest().extra is not TurnRequest().extra


def test_only_frozen_slotted_dataclasses_without_post_init_qualify() -> None:
    @dataclasses.dataclass(slots=True)
    class Thawed:
        value: int

    @dataclasses.dataclass(frozen=True)
    class Unslotted:
        value: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        value: int

        def __post_init__(self) -> None:
            pass

    for cls in (Thawed, Unslotted, Checked):
        with pytest.raises(TypeError):
            fast_frozen_init(cls)
