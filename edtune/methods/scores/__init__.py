"""Score baselines of the PROGRESS paper: EL2N and perplexity of the pretrained student (`method`, `ranking`,
the pool scored on Ray in `ray`)."""
