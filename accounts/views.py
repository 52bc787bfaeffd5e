from typing import cast
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.template.response import TemplateResponse
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts import ratelimit, services
from accounts.forms import (
    ConfirmForm,
    LoginForm,
    PasswordResetRequestForm,
    ProfileForm,
    ResendConfirmationForm,
    SignUpForm,
)
from accounts.models import User
from outbox.services import absolute_url
from roundtable import page_cache
from roundtable.http import AuthenticatedHttpRequest

# Lazy: the message is shown in the reader's language, which is known only during the request.
TOO_MANY_REQUESTS = gettext_lazy("Too many requests from your network. Wait a little, then try again.")
TOO_MANY_PASSWORDS = gettext_lazy("Too many sign-in attempts. Wait a few minutes, then try again.")


def _safe_next(request: HttpRequest, fallback: str) -> str:
    """The URL to go on to: `next` if it is a path or an http(s) URL on this site, else `fallback` (a URL name).

    The result is a URL, for HttpResponseRedirect: redirect() would take a bare word such as "foo" for a
    URL name and fail with a 500 when there is none.
    """
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    is_url = next_url.startswith("/") or next_url.lower().startswith(("http://", "https://"))
    if is_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return resolve_url(fallback)


def _set_language_cookie(response: HttpResponse, language: str) -> None:
    # As Django's own set_language does; Secure in production (LANGUAGE_COOKIE_SECURE).
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE or "Lax",
    )


@login_not_required
@sensitive_post_parameters("password")
@never_cache
def login(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return HttpResponseRedirect(_safe_next(request, settings.LOGIN_REDIRECT_URL))
    form = LoginForm(request, data=request.POST or None)
    status = 200
    limited: str = ""
    if request.method == "POST":
        keys = ratelimit.login_keys(request, request.POST.get("username", ""))
        if ratelimit.is_limited(keys):
            # Not validated, so no password is checked; the typed address stays in the field.
            form = LoginForm(request, initial={"username": request.POST.get("username", "")})
            limited = str(TOO_MANY_PASSWORDS)
            status = 429
        elif form.is_valid():
            ratelimit.reset(keys)
            auth_login(request, form.get_user())
            return HttpResponseRedirect(_safe_next(request, settings.LOGIN_REDIRECT_URL))
        else:
            ratelimit.record_failure(keys)
    context = {"form": form, "limited": limited, "next": request.POST.get("next") or request.GET.get("next", "")}
    return render(request, "accounts/login.html", context, status=status)


@login_not_required
def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's sign-in page (roundtable/urls.py): the site's own, whose password guesses are limited.

    Django's admin sends readers without access here; one already signed in is refused rather than sent
    to sign in again, which would send them back here.
    """
    next_url = _safe_next(request, "admin:index")
    if request.user.is_authenticated:
        if not admin.site.has_permission(request):
            raise PermissionDenied
        return HttpResponseRedirect(next_url)
    return HttpResponseRedirect(f"{reverse('accounts:login')}?{urlencode({'next': next_url})}")


@login_not_required
@sensitive_post_parameters("password1", "password2")
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.ALLOW_SIGNUP:
        return render(request, "accounts/signup_closed.html", status=403)
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignUpForm(request.POST or None, initial={"language": request.LANGUAGE_CODE})
    if form.is_valid() and not ratelimit.allow_account_request(request):
        form.add_error(None, TOO_MANY_REQUESTS)
        return render(request, "accounts/signup.html", {"form": form}, status=429)
    if form.is_valid():
        services.user_sign_up(
            email=form.cleaned_data["email"],
            display_name=form.cleaned_data["display_name"],
            password=form.cleaned_data["password1"],
            language=form.cleaned_data["language"],
            time_zone=form.cleaned_data["time_zone"],
        )
        request.session["signup_email"] = form.cleaned_data["email"]
        return redirect("accounts:signup_done")
    return render(request, "accounts/signup.html", {"form": form})


@login_not_required
def signup_done(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/signup_done.html", {"email": request.session.get("signup_email", "")})


def _confirmation_invalid(request: HttpRequest, reason: "services.ConfirmationInvalid.Reason") -> HttpResponse:
    context = {"reason": reason, "Reason": services.ConfirmationInvalid.Reason}
    return render(request, "accounts/signup_confirm_invalid.html", context, status=400)


@login_not_required
@sensitive_post_parameters("password")
def signup_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the confirmation email. GET only shows the form: mail scanners open every link."""
    Reason = services.ConfirmationInvalid.Reason
    try:
        user = services.check_confirmation_token(token=token)
    except services.ConfirmationInvalid as exc:
        return _confirmation_invalid(request, exc.reason)
    if user.is_email_confirmed:
        return _confirmation_invalid(request, Reason.USED)
    form = ConfirmForm(request.POST or None)
    status = 200
    if form.is_valid():
        keys = ratelimit.login_keys(request, user.email)
        if ratelimit.is_limited(keys):
            form.add_error(None, _("Too many attempts. Wait a few minutes, then try again."))
            status = 429
        else:
            try:
                user = services.user_confirm_email(token=token, password=form.cleaned_data["password"])
            except services.ConfirmationInvalid as exc:
                if exc.reason != Reason.PASSWORD:
                    return _confirmation_invalid(request, exc.reason)
                ratelimit.record_failure(keys)
                form.add_error("password", exc.reason.label)
            else:
                ratelimit.reset(keys)
                auth_login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
                messages.success(request, _("Your email address is confirmed. Welcome to Round Table!"))
                return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/signup_confirm.html", {"form": form, "email": user.email}, status=status)


@login_not_required
def signup_resend(request: HttpRequest) -> HttpResponse:
    form = ResendConfirmationForm(request.POST or None)
    if form.is_valid() and not ratelimit.allow_account_request(request):
        form.add_error(None, TOO_MANY_REQUESTS)
        return render(request, "accounts/signup_resend.html", {"form": form}, status=429)
    if form.is_valid():
        services.user_resend_confirmation(email=form.cleaned_data["email"])
        request.session["signup_email"] = form.cleaned_data["email"]
        return redirect("accounts:signup_done")
    return render(request, "accounts/signup_resend.html", {"form": form})


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetRequestForm
    template_name = "accounts/password_reset_form.html"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        if not ratelimit.allow_account_request(self.request):
            form.add_error(None, TOO_MANY_REQUESTS)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        # Following the emailed link proves the address, so an unconfirmed account is confirmed too.
        if not form.user.is_email_confirmed:
            form.user.email_confirmed_at = timezone.now()
        return super().form_valid(form)


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    """Asks for the current password, so it is guessed against the same limits as at sign-in: a borrowed
    session must not be a way to try passwords without limit."""

    template_name = "accounts/password_change_form.html"
    success_url = reverse_lazy("accounts:profile")

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # The empty form shows only what the header shows of the reader: that is the copy's whole key (with
        # what every page's key holds). A POST is always built.
        user = cast(User, request.user)

        def build() -> HttpResponse:
            return cast(TemplateResponse, super(PasswordChangeView, self).get(request, *args, **kwargs)).render()

        return page_cache.cached_page(
            request, scope=lambda: f"password-change:{user.pk}:{user.display_name}:{user.is_staff}", build=build
        )

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # Behind LoginRequiredMiddleware: the reader is signed in.
        self.limit_keys = ratelimit.login_keys(request, cast(User, request.user).email)
        if ratelimit.is_limited(self.limit_keys):
            # An unbound form: a bound one would check the current password when rendered.
            context = self.get_context_data(form=self.get_form_class()(user=request.user), limited=TOO_MANY_PASSWORDS)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        ratelimit.reset(self.limit_keys)
        messages.success(self.request, _("Your password has been changed."))
        return super().form_valid(form)

    def form_invalid(self, form):
        if form.has_error("old_password", "password_incorrect"):
            ratelimit.record_failure(self.limit_keys)
        return super().form_invalid(form)


def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if form.is_valid():
        services.user_update_profile(
            user=request.user,
            display_name=form.cleaned_data["display_name"],
            language=form.cleaned_data["language"],
            time_zone=form.cleaned_data["time_zone"],
            nudges_enabled=form.cleaned_data["nudges_enabled"],
        )
        response = redirect("accounts:profile")
        _set_language_cookie(response, form.cleaned_data["language"])
        messages.success(request, _("Your profile has been saved."))
        return response
    user = request.user
    # The page shows only these, so they are the copy's whole key (with what every page's key holds).
    return page_cache.cached_page(
        request,
        scope=lambda: ":".join(
            [
                "profile",
                str(user.pk),
                user.email,
                user.display_name,
                user.language,
                user.time_zone,
                user.calendar_token,
                str(user.nudges_enabled),
            ]
        ),
        build=lambda: render(request, "accounts/profile.html", {"form": form, "calendar_url": calendar_url(user)}),
    )


def calendar_url(user: User) -> str:
    """The address of `user`'s calendar feed, to paste into a calendar app (meetings/feed.py)."""
    return absolute_url(reverse("calendar_feed", args=[user.calendar_token]))


@require_POST
def calendar_link_replace(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The profile's "Replace the link": a new calendar feed URL; the old one answers 404 from now on."""
    services.calendar_link_replace(user=request.user)
    messages.success(
        request,
        _(
            "Your calendar link has been replaced: the old one no longer works. "
            "Subscribe your calendar again with the new link."
        ),
    )
    return redirect(f"{reverse('accounts:profile')}#calendar-feed")


@login_not_required
@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """The language switch: remembered in a cookie, and in the profile of a signed-in reader."""
    language = request.POST.get("language", "")
    response = HttpResponseRedirect(_safe_next(request, "home"))
    if check_for_language(language) and language in dict(settings.LANGUAGES):
        _set_language_cookie(response, language)
        if request.user.is_authenticated:
            services.user_update_profile(
                user=request.user,
                display_name=request.user.display_name,
                language=language,
                time_zone=request.user.time_zone,
            )
    return response
