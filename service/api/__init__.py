"""The HTTP API: request/response schemas, dependencies and route modules."""
