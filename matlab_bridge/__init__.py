"""Exchange of RDMs and results with MATLAB pipelines as .mat files (issue 5; empty for now)."""
