# tests/tests.mk — test areas beyond the cmocka units: each folder under
# tests/ that needs build or run steps brings its own <folder>.mk.
#
# Rule prerequisites are expanded when a fragment is read, and fragments are
# read in alphabetical order, so the programs several areas drive are named
# here, before any fragment (tfcore.mk defines how to build it).
TFCORE_BIN := $(BUILD)/tfcore
include $(wildcard tests/*/*.mk)
