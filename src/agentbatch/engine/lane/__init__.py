"""The provider-batch lane: steps gathered into provider batches, picked up when they end."""
