"""Settings variants for `bench/api_create.py --atende-settings …`: measurements of changes
the lead may make in src/, run without touching src/ (each imports the real settings and
changes one thing)."""
