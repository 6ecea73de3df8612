"""The API's routes, one router per resource: decisions, partners' reads, operations."""
