# tests fragment: filled in by its area.
