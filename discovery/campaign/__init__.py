"""Closed-loop campaign: proposals out to the wet lab, measurements back in."""
