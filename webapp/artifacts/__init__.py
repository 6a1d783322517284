"""Artifacts: deliverables the assistant saves, with their versions and exports."""
