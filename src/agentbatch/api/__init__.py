"""HTTP only: routes, wire schemas, pagination, error rendering. State changes go through the engine."""
