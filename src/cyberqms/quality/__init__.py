"""Quality-record families on the record kit: each package here is a Django app, found by
settings (no central list), declared in its `family.py`."""
