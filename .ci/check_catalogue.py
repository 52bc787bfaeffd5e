"""Fail if the code has a translatable string that the committed Spanish catalogue does not hold.

Run after `makemessages` has refreshed locale/es/LC_MESSAGES/django.po from the code; compares the
entries (not the text layout, which differs between gettext and polib) with the committed file.
"""

import subprocess
import sys

import polib

PO = "locale/es/LC_MESSAGES/django.po"


def keys(catalogue: polib.POFile) -> set[tuple]:
    return {(e.msgctxt, e.msgid, e.msgid_plural) for e in catalogue if not e.obsolete and e.msgid}


# A fixed git command on our own file.
committed = polib.pofile(subprocess.check_output(["git", "show", f"HEAD:{PO}"], text=True))  # noqa: S603, S607
current = polib.pofile(PO)
missing = keys(current) - keys(committed)
unused = keys(committed) - keys(current)
for msgctxt, msgid, _plural in sorted(missing, key=str):
    print(f"not in the catalogue: {msgid!r}" + (f" (context {msgctxt!r})" if msgctxt else ""))
for _msgctxt, msgid, _plural in sorted(unused, key=str):
    print(f"no longer in the code: {msgid!r}")
if missing or unused:
    print("Run 'make messages', translate the new entries, and run it again to compile.")
    sys.exit(1)
print(f"The catalogue holds all {len(keys(current))} strings of the code.")
