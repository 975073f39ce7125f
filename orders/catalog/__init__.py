"""The catalog: products, tier prices with quantity breaks, API and admin."""
