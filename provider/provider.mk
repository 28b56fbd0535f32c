# provider fragment: filled in by its area.
