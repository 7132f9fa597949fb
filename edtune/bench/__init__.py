"""Bundled benchmark worlds that let the whole method run and be measured on a CPU (see `edtune.bench.shapes`)."""
