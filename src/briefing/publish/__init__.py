"""Writing outputs: atomic, confined writes into out/, and the archive built from them."""
