"""Reading contact files (`files`, within `limits`, as a `table`) and mapping their headers to
canonical fields (`headers`)."""
