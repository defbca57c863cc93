"""What a network is: descriptors, registry, safe loading, one module per network."""
