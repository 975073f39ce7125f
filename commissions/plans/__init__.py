"""Commission plans: rules, overrides, and the API and admin that edit them."""
