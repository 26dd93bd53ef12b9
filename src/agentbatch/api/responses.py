"""Fast JSON responses (orjson) for bodies built as plain dicts by ``api/views``."""

from typing import Any

import orjson
from fastapi.responses import JSONResponse


class OrjsonResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
