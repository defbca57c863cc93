"""One module per network, each written from its paper and reference manifest."""
