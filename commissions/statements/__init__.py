"""Commission statements: generation, the workflow, exports, API and admin."""
