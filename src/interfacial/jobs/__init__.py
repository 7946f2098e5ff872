"""Jobs shared by the code-agnostic flows."""
