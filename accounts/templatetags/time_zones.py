"""`{{ zone|zone_label }}`: a time zone as the reader names it ("España — Madrid"), not its IANA id."""

from django import template

from accounts import time_zones

register = template.Library()


@register.filter
def zone_label(zone: str) -> str:
    return time_zones.label(str(zone))
