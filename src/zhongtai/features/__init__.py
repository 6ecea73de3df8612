"""The feature platform: Feast over the marts, the graph and the risk indices."""
