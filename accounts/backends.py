from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Authenticates by email address, case-insensitively (see UserManager.get_by_natural_key).

    Unconfirmed accounts authenticate, so that the login form can tell the person who knows the password
    to confirm their address first; LoginForm.confirm_login_allowed refuses them.
    """
