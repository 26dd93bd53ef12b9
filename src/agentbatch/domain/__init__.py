"""The vocabulary every layer shares: ids, states and their transitions, the neutral message model."""
