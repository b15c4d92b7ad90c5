"""Area totals: the scalable engines (memory, dask) over any polygon layer."""
