"""Local model servers that edtune can start itself (for tests, benchmarks and the demo)."""
