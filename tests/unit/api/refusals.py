"""What a request schema says about a body it refuses: the fields named, as the 422 names them."""

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError


def refused_fields(schema: type[BaseModel], body: Any) -> list[str]:
    """The dotted location of every error; fails the test if the body is accepted."""
    with pytest.raises(ValidationError) as refused:
        schema.model_validate(body)
    return [".".join(str(part) for part in error["loc"]) for error in refused.value.errors()]


def refusal_text(schema: type[BaseModel], body: Any) -> str:
    """Every error message of the refusal, one a line, each with its location."""
    with pytest.raises(ValidationError) as refused:
        schema.model_validate(body)
    return "\n".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in refused.value.errors()
    )
