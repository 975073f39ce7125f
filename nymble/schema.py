"""OpenAPI: the JWT authentication documented as a Bearer scheme on every endpoint."""
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class NymbleJWTScheme(SimpleJWTScheme):
    target_class = "nymble.tokens.NymbleJWTAuthentication"
    name = "jwtAuth"
