# gen/gen.mk — cellgen (filled in by the generator work).
