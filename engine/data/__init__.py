"""Dataset preparation: runs the face pipeline over the shared data once and writes a cache."""
