"""Use cases: one small module per feature, on storage and core, returning neutral replies."""
