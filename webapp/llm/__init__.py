"""Model providers behind one neutral streaming interface (see base.py)."""
