"""The marts: engagement, lead scores, lifecycle, segments with history, hygiene and retention
risk (`refresh`), the segment rules (`segments`) and each tenant's settings (`tenant_settings`)."""
