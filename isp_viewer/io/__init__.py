"""Files to values: RAW decoding, images, datasets, writing outputs."""
