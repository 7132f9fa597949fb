"""The error-driven method (arXiv 2412.15652) and the paper's ablations: see `method`."""
