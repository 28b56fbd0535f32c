# gen fragment: filled in by its area.
