# tests/tests.mk — test areas beyond the cmocka units: each folder under
# tests/ that needs build or run steps brings its own <folder>.mk.
include $(wildcard tests/*/*.mk)
