"""Quality gates: Great Expectations suites run between the warehouse layers."""
