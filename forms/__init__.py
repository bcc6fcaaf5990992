"""Task forms: JSON Schemas (forms/<key>.json), the validation of submitted data against them,
and (in forms/render.py, with the web UI) their rendering as HTML fields."""
