"""Customer lifetime value: BG/NBD (`bgnbd`) x Gamma-Gamma (`gamma_gamma`) fitted on the customers'
summaries (`summary`), with historical averages as the fallback (`model`), and per segment
(`segments`)."""
