"""One decision: the partner policy, the champion models, features to an answer."""
