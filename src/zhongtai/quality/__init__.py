"""Quality gates between the warehouse layers (Great Expectations, suites in expectations/)."""
