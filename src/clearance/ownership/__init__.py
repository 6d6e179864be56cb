"""Ownership graph, aggregate-share rules (OFAC 50%, BIS affiliates, section 889) and affiliate paths."""
