"""Client tests against the emulator (a package, so that tests share the helpers here)."""
