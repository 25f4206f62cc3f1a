"""The tenant's report: one self-contained HTML file (charts drawn offline by Vega-Lite, each
beside a table of its numbers), made from the tables of a published snapshot or a shard."""
